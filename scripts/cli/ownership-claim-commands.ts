/**
 * The manufacturer's upload: `provena ownership upload-tree <batch> <tree.json>` gives the backend the claim tree (written
 * by `provena ownership keys`, ownership-commands.ts) once its root is committed.
 *
 * The shopper's side: `provena ownership claim <GTIN/LOT|batch> <serial> --secret <file|value> [--to address]`: signs the unit's claim
 * locally with the secret printed inside its packaging and sends only the signature to the backend's claim relay
 * (gasless). `provena ownership show <GTIN/LOT|batch> <serial>`: who owns the unit's token, since when, and before whom.
 * Both talk to the backend only (PROVENA_API_URL or --api); no chain connection is needed.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import { Wallet, getAddress } from "ethers";
import type { Hex } from "../../backend/domain/model.ts";
import { buildClaimTree, claimSecretsCsv, generateClaimKeys, signUnitClaim } from "../../backend/chain/unit-claim.ts";
import { readSerialFile } from "./inputs.ts";
import { apiJson } from "./api-client.ts";
import { address, batchRef } from "./arguments.ts";
import { CliError, DEFAULT_API_URL } from "./context.ts";

/** What GET /api/v1/batches/{batchId}/units/{serial}/ownership answers. */
export interface UnitOwnershipAnswer {
  contract: Hex;
  tokenId: string;
  batchId: Hex;
  registeredBatchId: Hex;
  serial: string;
  claimable: boolean;
  owner: Hex | null;
  ownedSince: string | null;
  claimedAt: string | null;
  previousOwners: Hex[];
}

export interface ClaimAnswer {
  tokenId: string;
  batchId: Hex;
  serial: string;
  recipient: Hex;
  relayId: Hex;
  status: string;
  transactionHash: Hex | null;
}

/** The claim secret: the file's content when `value` names a readable file, else the value itself; a 32-byte key. */
export async function readClaimSecret(value: string): Promise<string> {
  let text = value;
  try {
    text = await readFile(value, "utf8");
  } catch {
    // not a file: the secret itself
  }
  const secret = text.trim();
  const key = /^(0x)?[0-9a-fA-F]{64}$/.test(secret) ? (secret.startsWith("0x") ? secret : `0x${secret}`) : null;
  if (key === null) throw new CliError("--secret must be the claim secret printed in the packaging (64 hex digits) or a file holding it");
  return key;
}

/** Signs the claim of a unit for `recipient` with `secret` (locally) and sends the signature to the claim relay. */
export async function claimOwnership(
  apiUrl: string,
  { batchId, serial, secret, recipient }: { batchId: Hex; serial: string; secret: string; recipient: string },
): Promise<ClaimAnswer> {
  const context = { apiUrl };
  const { body: unit } = await apiJson<UnitOwnershipAnswer>(
    context,
    `/api/v1/batches/${batchId}/units/${encodeURIComponent(serial)}/ownership`,
  );
  const { body: signing } = await apiJson<{ domain: { chainId: number; verifyingContract: string } }>(
    context,
    "/api/v1/ownership/claim-domain",
  );
  if (unit.owner !== null) throw new CliError(`this unit is already owned by ${unit.owner} (since ${unit.ownedSince})`);
  const signature = await signUnitClaim(
    new Wallet(secret),
    { chainId: Number(signing.domain.chainId), address: signing.domain.verifyingContract },
    { tokenId: BigInt(unit.tokenId), recipient },
  );
  const { body } = await apiJson<ClaimAnswer>(context, "/api/v1/ownership/claims", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ batchId, serial, recipient, signature }),
  });
  return body;
}

function apiUrlOf(program: Command): string {
  return (program.opts<{ api?: string }>().api ?? process.env.PROVENA_API_URL ?? DEFAULT_API_URL).replace(/\/+$/, "");
}

/**
 * One fresh claim key per serial: `secrets.csv` (serial,claimSecret: to print inside each box, then keep offline or
 * destroy), `claim-tree.json` (the StandardMerkleTree dump of [serial, claim key address]: public) and its root. The
 * same files `provena ownership keys --no-commit` writes, without a chain connection.
 */
export async function writeClaimKeys(serialFile: string, outDir: string): Promise<{ root: Hex; units: number; files: string[] }> {
  const { serials } = await readSerialFile(serialFile);
  const keys = generateClaimKeys(serials);
  const tree = buildClaimTree(keys);
  await mkdir(outDir, { recursive: true });
  const secretsFile = path.join(outDir, "secrets.csv");
  const treeFile = path.join(outDir, "claim-tree.json");
  await writeFile(secretsFile, claimSecretsCsv(keys), { mode: 0o600 });
  await writeFile(treeFile, `${JSON.stringify(tree.dump())}\n`);
  return { root: tree.root as Hex, units: serials.length, files: [secretsFile, treeFile] };
}

/** The shopper's and the backend's side of `provena ownership`: upload-tree, claim and show, on the `ownership` command. */
export function registerOwnershipClaimCommands(program: Command, ownership: Command): void {
  ownership
    .command("upload-tree")
    .argument("<batch>", "the registered batch: batch id (0x…) or GTIN/LOT", batchRef)
    .argument("<tree-file>", "the claim tree from `provena ownership keys` (its --tree file)")
    .description("give the backend a batch's claim tree (after its root is committed), so shoppers' claims can be relayed")
    .action(async (batchId: Hex, treeFile: string) => {
      let tree: unknown;
      try {
        tree = JSON.parse(await readFile(treeFile, "utf8"));
      } catch (error) {
        throw new CliError(`cannot read the claim tree ${treeFile}: ${(error as Error).message}`);
      }
      const { status, body } = await apiJson<{ claimRoot: Hex; units: number }>(
        { apiUrl: apiUrlOf(program) },
        "/api/v1/ownership/claim-trees",
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ batchId, tree }),
        },
      );
      console.log(`claim tree ${body.claimRoot} of ${body.units} units ${status === 201 ? "stored" : "was already stored"}`);
    });
  ownership
    .command("claim")
    .argument("<batch>", "the unit's lot: batch id (0x…) or GTIN/LOT", batchRef)
    .argument("<serial>", "the unit's serial")
    .requiredOption("--secret <file-or-value>", "the claim secret printed inside the packaging, or a file holding it")
    .option("--to <address>", "who receives the token (default: the address of PROVENA_PRIVATE_KEY)", address)
    .option("--json", "print the backend's JSON")
    .description("claim a unit's ownership token, gasless: the secret signs here and never leaves this machine")
    .action(async (batchId: Hex, serial: string, options: { secret: string; to?: string; json?: boolean }) => {
      const secret = await readClaimSecret(options.secret);
      const key = process.env.PROVENA_PRIVATE_KEY;
      const recipient = options.to ?? (key ? new Wallet(key).address : undefined);
      if (recipient === undefined) throw new CliError("give --to <address> (or set PROVENA_PRIVATE_KEY): who receives the token");
      const answer = await claimOwnership(apiUrlOf(program), { batchId, serial, secret, recipient: getAddress(recipient) });
      if (options.json) return void console.log(JSON.stringify(answer, null, 2));
      console.log(
        `claim of ${serial} for ${answer.recipient}: ${answer.status} (token ${answer.tokenId}, relay request ${answer.relayId})`,
      );
    });
  ownership
    .command("show")
    .argument("<batch>", "the unit's lot: batch id (0x…) or GTIN/LOT", batchRef)
    .argument("<serial>", "the unit's serial")
    .option("--json", "print the backend's JSON")
    .description("who owns a unit's token, since when, and how many owners it had before")
    .action(async (batchId: Hex, serial: string, options: { json?: boolean }) => {
      const { body } = await apiJson<UnitOwnershipAnswer>(
        { apiUrl: apiUrlOf(program) },
        `/api/v1/batches/${batchId}/units/${encodeURIComponent(serial)}/ownership`,
      );
      if (options.json) return void console.log(JSON.stringify(body, null, 2));
      if (body.owner === null) {
        console.log(
          `${serial}: not yet claimed${body.claimable ? "" : " (the manufacturer has not enabled claims for it yet)"}; token ${body.tokenId}`,
        );
        return;
      }
      const previous = body.previousOwners.length;
      console.log(
        `${serial}: owned by ${body.owner} since ${body.ownedSince} · ${previous} previous owner${previous === 1 ? "" : "s"}${previous > 0 ? ` (${body.previousOwners.join(" → ")})` : ""}; token ${body.tokenId}`,
      );
    });
}
