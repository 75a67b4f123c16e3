/**
 * What the CLI reads besides its arguments: files (serial lists, orders, Ignition parameters, documents to hash)
 * and the running backend (serial-list uploads, orders by id).
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { id as keccakText, keccak256 } from "ethers";
import { orderStruct, type OrderStruct } from "../../backend/chain/contracts.ts";
import { bytes32Schema } from "../../backend/chain/schemas.ts";
import { signInWithKey } from "../../backend/auth/sign-in-client.ts";
import { buildSerialTree, parseSerialList, type SerialListFormat } from "../../backend/passport/serials.ts";
import type { Hex, Order } from "../../backend/domain/model.ts";
import { CliError, type CliContext } from "./context.ts";

/** Hash of a reason or report: a 0x…32-byte hash as is, a readable file's bytes, else the text itself. */
export async function contentHash(value: string | undefined): Promise<string> {
  if (value === undefined || value === "") return `0x${"00".repeat(32)}`;
  const hash = bytes32Schema.safeParse(value);
  if (hash.success) return hash.data;
  try {
    return keccak256(await readFile(value));
  } catch {
    return keccakText(value);
  }
}

export async function readSerialFile(
  file: string,
  format?: SerialListFormat,
): Promise<{ serials: string[]; root: Hex; text: string; format: SerialListFormat }> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new CliError(`cannot read the serial file ${file}: ${(error as Error).message}`);
  }
  const resolvedFormat: SerialListFormat = format ?? (path.extname(file).toLowerCase() === ".json" ? "json" : "csv");
  const parsed = parseSerialList(text, resolvedFormat);
  if (!parsed.ok) {
    const lines = parsed.errors.map(
      (issue) => `  ${issue.line !== undefined ? `line ${issue.line}` : `entry ${issue.entry}`}: ${issue.message}`,
    );
    throw new CliError(
      `${file}: ${parsed.errorCount} invalid row${parsed.errorCount === 1 ? "" : "s"}, nothing registered:\n${lines.join("\n")}${parsed.errorCount > parsed.errors.length ? "\n  …" : ""}`,
    );
  }
  const tree = await buildSerialTree(parsed.serials);
  return { serials: parsed.serials, root: tree.root, text, format: resolvedFormat };
}

/** Uploads a serial list to the backend (POST /api/v1/serial-sets), so passports can prove units later. */
export async function uploadSerials(apiUrl: string, text: string, format: SerialListFormat, expectedRoot: Hex): Promise<void> {
  let response: Response;
  try {
    response = await fetch(`${apiUrl}/api/v1/serial-sets`, {
      method: "POST",
      headers: { "content-type": format === "csv" ? "text/csv" : "application/json", accept: "application/json" },
      body: text,
    });
  } catch (error) {
    throw new CliError(
      `cannot upload the serial list to ${apiUrl}: ${(error as Error).message} (start the backend, set --api, or pass --no-upload)`,
    );
  }
  const body = (await response.json().catch(() => ({}))) as {
    serialRoot?: string;
    detail?: string;
    errors?: { line?: number; message: string }[];
  };
  if (!response.ok) {
    const rows = (body.errors ?? [])
      .slice(0, 20)
      .map((e) => `\n  line ${e.line ?? "?"}: ${e.message}`)
      .join("");
    throw new CliError(`the backend refused the serial list (HTTP ${response.status}): ${body.detail ?? "no detail"}${rows}`);
  }
  if (body.serialRoot?.toLowerCase() !== expectedRoot)
    throw new CliError(`the backend computed root ${body.serialRoot}, but the file gives ${expectedRoot}`);
}

/** Ignition parameters for `deploy --parameters`: a JSON object of modules, each an object of parameters. */
export async function readIgnitionParameters(file: string): Promise<Record<string, Record<string, unknown>>> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new CliError(`cannot read the Ignition parameters file ${file}: ${(error as Error).message}`);
  }
  const isObject = (value: unknown): value is Record<string, unknown> =>
    typeof value === "object" && value !== null && !Array.isArray(value);
  if (!isObject(json) || !Object.values(json).every(isObject)) {
    throw new CliError(
      `the Ignition parameters file ${file} must be a JSON object of modules, e.g. { "ProvenaModule": { "adminTransferDelay": 0 } }`,
    );
  }
  return json as Record<string, Record<string, unknown>>;
}

/**
 * An order from a JSON file written by `order open --out`, or by id from the backend's mirror, which shows an order
 * only to its parties and regulators: the CLI signs in with the caller's key (EIP-4361) to ask.
 */
export async function readOrder(context: Pick<CliContext, "apiUrl" | "signer">, reference: string): Promise<OrderStruct> {
  if (bytes32Schema.safeParse(reference).success) {
    const token = await signInWithKey(context.apiUrl, await context.signer()).catch((error: Error) => {
      throw new CliError(`${error.message} (or pass the order JSON file written by \`order open --out\`)`);
    });
    const response = await fetch(`${context.apiUrl}/api/v1/orders/${reference.toLowerCase()}`, {
      headers: { accept: "application/json", authorization: `Bearer ${token}` },
    }).catch((error) => {
      throw new CliError(
        `cannot reach the backend at ${context.apiUrl} to look up order ${reference}: ${(error as Error).message} (or pass the order JSON file)`,
      );
    });
    if (!response.ok)
      throw new CliError(
        `the backend shows no order ${reference} to ${(await context.signer()).address} (HTTP ${response.status}): only its parties and ` +
          "regulators see an order; pass the order JSON file written by `order open --out`",
      );
    return orderStruct((await response.json()) as Order);
  }
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(await readFile(reference, "utf8"));
  } catch (error) {
    throw new CliError(`cannot read order file ${reference}: ${(error as Error).message}`);
  }
  const order = (json.order ?? json) as Order;
  if (!("inspector" in order)) {
    throw new CliError(`order file ${reference} has no inspector field: it was written for an older escrow; draft the order again`);
  }
  return orderStruct(order);
}
