/**
 * Design and IP proofs (the DesignRegistry):
 *   provena proof create <files…> [--title --licence --licence-file --out]   hash files here, register one root for all
 *   provena proof verify <file> [proof.json]                                  check a file against the chain: who, when
 *   provena proof link <gtin> <root> [--registrant]                           the GTIN's brand references a design
 *   provena proof unlink <gtin> <root> [--registrant]
 * Files never leave this machine: only their SHA-256 goes into the tree, with a random salt per file, so the root
 * on chain reveals nothing. Each file gets a proof JSON (its hash, owner, salt and Merkle path); keep it: the salt is
 * not stored anywhere else, and without it the file cannot be proven.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { access, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import { z } from "zod";
import { addressSchema, bytes32Schema } from "../../backend/chain/schemas.ts";
import { buildDesignTree, designFileProofs, designSalt, type DesignFileProof, type DesignLeaf } from "../../backend/designs/design-tree.ts";
import { DigitalLinkError, normalizeGtin } from "../../backend/passport/digital-link.ts";
import type { Hex } from "../../backend/domain/model.ts";
import { address, hex32 } from "./arguments.ts";
import { CliError, type CliContext, type WithContext } from "./context.ts";

export const DESIGN_PROOF_FORMAT = "provena-design-proof-v1";
/** Longest title or licence the registry takes (DesignRegistry.MAX_METADATA_LENGTH). */
const MAX_METADATA_BYTES = 256;

/** One file's proof as `proof create` writes it. */
const designProofFileSchema = z.object({
  format: z.literal(DESIGN_PROOF_FORMAT),
  file: z.string(),
  chainId: z.number().int().positive(),
  designRegistry: addressSchema,
  registrant: addressSchema,
  root: bytes32Schema,
  leaf: z.object({ fileHash: bytes32Schema, owner: addressSchema, salt: bytes32Schema }),
  proof: z.array(bytes32Schema),
  title: z.string(),
  licence: z.string(),
  transactionHash: bytes32Schema.nullable(),
});
export type DesignProofFile = z.output<typeof designProofFileSchema>;

/** SHA-256 of a file's bytes, streamed (design files can be large). */
export async function sha256File(file: string): Promise<Hex> {
  const hash = createHash("sha256");
  try {
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  return `0x${hash.digest("hex")}`;
}

/** Proof file names in `out`, one per input file; files of the same name get a numbered suffix. */
function proofFileNames(files: string[]): string[] {
  const seen = new Map<string, number>();
  return files.map((file) => {
    const base = path.basename(file);
    const count = (seen.get(base) ?? 0) + 1;
    seen.set(base, count);
    return count === 1 ? `${base}.proof.json` : `${base}.${count}.proof.json`;
  });
}

function metadata(label: string, value: string | undefined): string {
  const text = value ?? "";
  if (Buffer.byteLength(text) > MAX_METADATA_BYTES) throw new CliError(`${label} is longer than ${MAX_METADATA_BYTES} bytes`);
  return text;
}

async function readProofFile(file: string): Promise<DesignProofFile> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new CliError(`cannot read the proof ${file}: ${(error as Error).message}`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CliError(`${file} is not JSON`);
  }
  const parsed = designProofFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new CliError(`${file} is not a ${DESIGN_PROOF_FORMAT} proof: ${issue.path.join(".") || "(root)"} ${issue.message}`);
  }
  return parsed.data;
}

/** The proof beside a file when none is named: proofs/<name>.proof.json, else <file>.proof.json. */
async function defaultProofPath(file: string): Promise<string> {
  const candidates = [path.join("proofs", `${path.basename(file)}.proof.json`), `${file}.proof.json`];
  for (const candidate of candidates) {
    if (
      await access(candidate).then(
        () => true,
        () => false,
      )
    )
      return candidate;
  }
  throw new CliError(`no proof given and none found at ${candidates.join(" or ")}`);
}

/** The participant name the registry logged for `account` (latest onboarding or update), or null. */
async function participantName(context: CliContext, account: string): Promise<string | null> {
  try {
    const registry = await context.registry();
    const logs = [
      ...(await registry.queryFilter(registry.filters.ParticipantOnboarded(account))),
      ...(await registry.queryFilter(registry.filters.ParticipantUpdated(account))),
    ].sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);
    const last = logs[logs.length - 1] as { args?: { name?: string } } | undefined;
    return last?.args?.name ?? null;
  } catch {
    return null; // a node without the logs: say who by address only
  }
}

const dateOf = (seconds: bigint) => new Date(Number(seconds) * 1000).toISOString();

export function registerProofCommands(program: Command, withContext: WithContext): void {
  const proof = program.command("proof").description("design and IP proofs: register file hashes on chain, verify files against them");

  proof
    .command("create")
    .argument("<files...>", "the files to prove (they stay on this machine: only their SHA-256 is used)")
    .option("--title <title>", "a short title for the set of files")
    .option("--licence <licence>", "the licence, as a short text or a URI")
    .option("--licence-file <file>", "the licence document: its SHA-256 is registered with the root")
    .option("--owner <address>", "the owner each leaf names (default: the caller, who registers)", address)
    .option("--out <dir>", "where to write one proof JSON per file", "proofs")
    .description("hash files locally, register their Merkle root as the caller, and write a proof JSON per file")
    .action(
      withContext(
        async (
          context,
          files: string[],
          options: { title?: string; licence?: string; licenceFile?: string; owner?: string; out: string },
        ) => {
          const title = metadata("--title", options.title);
          const licence = metadata("--licence", options.licence);
          const licenceHash = options.licenceFile ? await sha256File(options.licenceFile) : (`0x${"00".repeat(32)}` as Hex);
          const signer = await context.signer();
          const registrant = signer.address.toLowerCase() as Hex;
          const owner = (options.owner ?? signer.address).toLowerCase() as Hex;
          const designRegistry = (await (await context.designRegistry()).getAddress()).toLowerCase() as Hex;

          const leaves: DesignLeaf[] = [];
          for (const file of files) leaves.push({ fileHash: await sha256File(file), owner, salt: designSalt() });
          const tree = buildDesignTree(leaves);
          const proofs = designFileProofs(tree, leaves);
          const names = proofFileNames(files);
          const proofFile = (index: number, transactionHash: Hex | null): DesignProofFile => {
            const { root, leaf, proof: merklePath } = proofs[index] as DesignFileProof;
            return {
              format: DESIGN_PROOF_FORMAT,
              file: files[index]!,
              chainId: context.chainId,
              designRegistry,
              registrant,
              root,
              leaf,
              proof: merklePath,
              title,
              licence,
              transactionHash,
            };
          };
          const write = async (transactionHash: Hex | null) => {
            await mkdir(options.out, { recursive: true });
            for (const [index, name] of names.entries()) {
              await writeFile(path.join(options.out, name), `${JSON.stringify(proofFile(index, transactionHash), null, 2)}\n`, "utf8");
            }
          };
          // The salts exist nowhere else: write the proofs before registering, so a crash after the transaction
          // cannot leave a registered root that nothing can prove.
          await write(null);
          console.error(`… ${files.length} file(s) hashed; root ${tree.root}; proofs written to ${options.out}/`);
          const { transactionHash } = await context.send(
            `registered design root ${tree.root} (${files.length} file(s))`,
            "designRegistry",
            "registerDesign",
            [tree.root, title, licence, licenceHash],
          );
          await write(transactionHash.toLowerCase() as Hex);
          for (const name of names) console.log(`  ${path.join(options.out, name)}`);
        },
      ),
    );

  proof
    .command("verify")
    .argument("<file>", "the file to check")
    .argument("[proof]", "its proof JSON (default: proofs/<name>.proof.json, else <file>.proof.json)")
    .description("check a file against its registration on chain: that it existed, since when, registered by whom, owned by whom")
    .action(
      withContext(async (context, file: string, proofPath: string | undefined) => {
        const proofFile = await readProofFile(proofPath ?? (await defaultProofPath(file)));
        if (proofFile.chainId !== context.chainId)
          throw new CliError(`the proof is for chain ${proofFile.chainId}, but the RPC endpoint serves chain ${context.chainId}`);
        const fileHash = await sha256File(file);
        if (fileHash !== proofFile.leaf.fileHash)
          throw new CliError(`${file} (sha256 ${fileHash}) is not the file this proof is for (sha256 ${proofFile.leaf.fileHash})`);
        const designs = await context.designRegistry();
        if ((await designs.getAddress()).toLowerCase() !== proofFile.designRegistry)
          throw new CliError(`the proof names design registry ${proofFile.designRegistry}, not this deployment's`);
        const { leaf, root, registrant } = proofFile;
        const registeredAt = await designs.provenAt(registrant, root, proofFile.proof, leaf.fileHash, leaf.owner, leaf.salt);
        if (registeredAt === 0n) {
          const registered = await designs.registeredAt(registrant, root);
          throw new CliError(
            registered === 0n
              ? `${registrant} has not registered root ${root} on chain ${context.chainId}`
              : `the proof's Merkle path does not lead from this file to root ${root}`,
          );
        }
        const registrantName = await participantName(context, registrant);
        console.log(`✓ ${file} (sha256 ${fileHash}) existed on ${dateOf(registeredAt)}`);
        console.log(`  registered by ${registrantName ? `${registrantName} (${registrant})` : registrant}, root ${root}`);
        if (leaf.owner === registrant) {
          console.log(`  owned by the registrant`);
        } else {
          const ownerName = await participantName(context, leaf.owner);
          const ownersOwn = await designs.provenAt(leaf.owner, root, proofFile.proof, leaf.fileHash, leaf.owner, leaf.salt);
          console.log(
            `  owned by ${ownerName ? `${ownerName} (${leaf.owner})` : leaf.owner}, not by the registrant: this registration only witnesses it`,
          );
          if (ownersOwn !== 0n) console.log(`  the owner registered the same root on ${dateOf(ownersOwn)}`);
        }
        if (proofFile.title) console.log(`  title: ${proofFile.title}`);
        if (proofFile.licence) console.log(`  licence: ${proofFile.licence}`);
      }),
    );

  for (const [name, method, verb] of [
    ["link", "linkDesign", "linked"],
    ["unlink", "unlinkDesign", "unlinked"],
  ] as const) {
    proof
      .command(name)
      .argument("<gtin>", "GTIN-8/12/13/14 whose company prefix the caller holds")
      .argument("<root>", "the registered design root (0x + 64 hex)", hex32)
      .option("--registrant <address>", "who registered the root (default: the caller)", address)
      .description(`${name === "link" ? "reference" : "stop referencing"} a registered design from a product (GTIN holders only)`)
      .action(
        withContext(async (context, gtinText: string, root: Hex, options: { registrant?: string }) => {
          let gtin: string;
          try {
            gtin = normalizeGtin(gtinText);
          } catch (error) {
            if (error instanceof DigitalLinkError) throw new CliError(`<gtin>: ${error.message}`);
            throw error;
          }
          const registrant = options.registrant ?? (await context.signer()).address;
          await context.send(
            `${verb} design ${root} of ${registrant} ${name === "link" ? "to" : "from"} GTIN ${gtin}`,
            "designRegistry",
            method,
            [BigInt(gtin), registrant, root],
          );
        }),
      );
  }
}
