/**
 * `provena ownership …`: the manufacturer's side of unit ownership tokens (contracts/UnitOwnership.sol). For a
 * registered batch it generates one claim key per unit, writes the secrets to print inside the packaging and the
 * claim tree (public: serials and claim-key addresses) the backend needs for claim proofs, and commits the tree's
 * root on chain, once. And the owner's side: `provena ownership transfer <tokenId> <to>` gives a token to another
 * account, gasless through the relayer by default (a shopper holds no ETH).
 */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { Option, type Command } from "commander";
import { ZeroHash } from "ethers";
import { CLAIM_TREE_ENCODING, buildClaimTree, claimSecretsCsv, generateClaimKeys, type ClaimTree } from "../../backend/chain/unit-claim.ts";
import type { SerialListFormat } from "../../backend/passport/serials.ts";
import type { Hex } from "../../backend/domain/model.ts";
import { address, batchRef, tokenId as tokenIdArgument } from "./arguments.ts";
import { CliError, type CliContext, type WithContext } from "./context.ts";
import { readSerialFile } from "./inputs.ts";
import { registerOwnershipClaimCommands } from "./ownership-claim-commands.ts";

/** Where the claim tree goes by default: beside the secrets, `keys.csv` → `keys.claim-tree.json`. */
export function defaultClaimTreeFile(secretsFile: string): string {
  const parsed = path.parse(secretsFile);
  return path.join(parsed.dir, `${parsed.name}.claim-tree.json`);
}

export function registerOwnershipCommands(program: Command, withContext: WithContext): void {
  const ownership = program
    .command("ownership")
    .description("ownership tokens of units: claim keys (manufacturer), claims (shoppers, gasless) and owners");
  registerOwnershipClaimCommands(program, ownership);
  ownership
    .command("keys")
    .argument("<batch>", "the registered batch: id (0x + 64 hex digits) or GTIN/LOT", batchRef)
    .description(
      "generate one claim key per unit of a registered batch, write the secrets (to print inside each unit's packaging) and the claim tree, and commit the tree's root on chain",
    )
    .requiredOption("--serials <file>", "the batch's registered serial list, CSV or JSON (as given to `batch register`)")
    .addOption(new Option("--format <format>", "serial file format (default: by extension)").choices(["csv", "json"]))
    .requiredOption("--out <file>", "where to write the serial,claimSecret CSV (SECRET; never overwritten)")
    .option("--tree <file>", "where to write the claim tree, without secrets (default: <out>.claim-tree.json)")
    .option("--no-commit", "only write the files; commit later with `provena ownership commit`")
    .action(
      withContext(
        async (
          context,
          batchId: Hex,
          options: { serials: string; format?: SerialListFormat; out: string; tree?: string; commit: boolean },
        ) => {
          const treeFile = options.tree ?? defaultClaimTreeFile(options.out);
          const list = await readSerialFile(options.serials, options.format);
          await assertCommittable(context, batchId, { serialRoot: list.root, commit: options.commit });
          const keys = generateClaimKeys(list.serials);
          const tree = buildClaimTree(keys);
          // Files first: a root committed without its secrets on disk could never be claimed, and it never changes.
          await writeNewFile(options.out, claimSecretsCsv(keys), 0o600);
          await writeNewFile(treeFile, `${JSON.stringify(tree.dump())}\n`, 0o644);
          console.error(`… ${keys.length.toLocaleString("en")} claim keys, claim root ${tree.root}`);
          console.error(
            `! ${options.out} holds the claim SECRETS: print each inside its unit's packaging (never on the outside or the QR code), then keep the file offline or destroy it; anyone who reads a secret can claim that unit's token`,
          );
          console.error(`… claim tree (no secrets) written to ${treeFile}: upload it to the backend so shoppers' claims get their proofs`);
          if (options.commit) await commitClaimRoot(context, batchId, tree);
          else console.log(`✓ wrote ${options.out} and ${treeFile}; commit with: provena ownership commit ${batchId} --tree ${treeFile}`);
        },
      ),
    );
  ownership
    .command("commit")
    .argument("<batch>", "the registered batch: id (0x + 64 hex digits) or GTIN/LOT", batchRef)
    .description("commit the root of a claim tree written by `provena ownership keys --no-commit` (once per batch)")
    .requiredOption("--tree <file>", "the claim tree JSON")
    .action(
      withContext(async (context, batchId: Hex, options: { tree: string }) => {
        const tree = await readClaimTree(options.tree);
        await assertCommittable(context, batchId, { commit: true });
        await commitClaimRoot(context, batchId, tree);
      }),
    );
  ownership
    .command("transfer")
    .argument("<tokenId>", "the unit's token id (decimal, as `provena ownership show` prints it, or 0x hex)", tokenIdArgument)
    .argument("<to>", "the account that receives the token", address)
    .option("--direct", "send the transaction from PROVENA_PRIVATE_KEY's account, paying its gas, instead of through the relayer")
    .description("give a unit's ownership token to another account; PROVENA_PRIVATE_KEY must own it (gasless: the relayer pays)")
    .action(
      withContext(async (context, tokenId: bigint, to: string, options: { direct?: boolean }) => {
        const owner = (await context.signer()).address;
        await assertOwnerOf(context, tokenId, owner);
        if (to.toLowerCase() === owner.toLowerCase()) throw new CliError(`${owner} already owns unit token ${tokenId}`);
        // safeTransferFrom: a contract account that cannot hold ERC-721 tokens is refused instead of locking the token away.
        await context.send(
          `unit token ${tokenId} transferred to ${to}`,
          "unitOwnership",
          "safeTransferFrom(address,address,uint256)",
          [owner, to, tokenId],
          {
            relay: !options.direct,
          },
        );
      }),
    );
}

/** Fails before anything is signed when `account` does not own the token (or nobody does yet). */
async function assertOwnerOf(context: CliContext, tokenId: bigint, account: string): Promise<void> {
  const unitOwnership = await context.unitOwnership();
  let owner: string;
  try {
    owner = await unitOwnership.ownerOf(tokenId);
  } catch (error) {
    throw new CliError(`unit token ${tokenId}: ${context.decoder.describe(error)}`, { cause: error });
  }
  if (owner.toLowerCase() !== account.toLowerCase()) {
    throw new CliError(
      `unit token ${tokenId} is owned by ${owner}, not by ${account} (PROVENA_PRIVATE_KEY): only its owner can transfer it`,
    );
  }
}

/**
 * Fails before anything is generated when the keys could never be committed: not a registered batch, a serial
 * list other than the one registered, or a claim root already committed.
 */
async function assertCommittable(context: CliContext, batchId: Hex, expected: { serialRoot?: Hex; commit: boolean }): Promise<void> {
  const registry = await context.registry();
  const unitOwnership = await context.unitOwnership();
  let serialRoot: string;
  try {
    [, , , , , , , serialRoot] = await registry.batch(batchId);
  } catch (error) {
    throw new CliError(`batch ${batchId}: ${context.decoder.describe(error)}`, { cause: error });
  }
  if ((await registry.parentOf(batchId)) !== ZeroHash) {
    throw new CliError(`batch ${batchId} was split off another batch: generate the claim keys for the batch its manufacturer registered`);
  }
  if (expected.serialRoot !== undefined && expected.serialRoot.toLowerCase() !== serialRoot.toLowerCase()) {
    throw new CliError(
      `the serial file's Merkle root ${expected.serialRoot} is not batch ${batchId}'s registered serial root ${serialRoot}: use the list the batch was registered with`,
    );
  }
  const committed = await unitOwnership.claimRootOf(batchId);
  if (expected.commit && committed !== ZeroHash) {
    throw new CliError(`batch ${batchId} already has claim root ${committed}; a claim root is committed once and never changes`);
  }
}

async function commitClaimRoot(context: CliContext, batchId: Hex, tree: ClaimTree): Promise<void> {
  await context.send(`committed claim root ${tree.root} for ${tree.length} units of batch ${batchId}`, "unitOwnership", "commitClaimRoot", [
    batchId,
    tree.root,
    tree.length,
  ]);
}

async function readClaimTree(file: string): Promise<ClaimTree> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new CliError(`cannot read the claim tree ${file}: ${(error as Error).message}`, { cause: error });
  }
  try {
    const dump = JSON.parse(text) as Parameters<typeof StandardMerkleTree.load<[string, string]>>[0];
    if (JSON.stringify(dump.leafEncoding) !== JSON.stringify(CLAIM_TREE_ENCODING)) {
      throw new Error(`its leaf encoding is ${JSON.stringify(dump.leafEncoding)}, not ${JSON.stringify(CLAIM_TREE_ENCODING)}`);
    }
    const tree = StandardMerkleTree.load(dump);
    tree.validate();
    return tree;
  } catch (error) {
    throw new CliError(`${file} is not a claim tree written by \`provena ownership keys\`: ${(error as Error).message}`, { cause: error });
  }
}

/** Writes a file that must not exist yet (claim secrets are never overwritten). */
async function writeNewFile(file: string, text: string, mode: number): Promise<void> {
  try {
    await writeFile(file, text, { encoding: "utf8", flag: "wx", mode });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") {
      throw new CliError(`${file} already exists: claim keys are never overwritten (move it away if it is from an abandoned run)`);
    }
    throw new CliError(`cannot write ${file}: ${(error as Error).message}`, { cause: error });
  }
}
