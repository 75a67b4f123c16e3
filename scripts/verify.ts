/**
 * Verifies a Provena passport against the chain, trusting neither the passport server nor its mirror:
 *
 *   node scripts/verify.ts <passport-url> [--rpc <url>]... [--min-endpoints <n>] [--chain-id <id>] [--registry <address>] [--json]
 *
 * The JSON-RPC endpoints are --rpc (repeatable, or comma-separated), else RPC_URL (one URL or a comma-separated
 * list), else the one the passport advertises (with a warning). Several endpoints are all read at the same block and
 * compared: any disagreement is a mismatch, and at least --min-endpoints (default 1) must answer. The chain and
 * registry verified against are the link's own trust anchors ("?chain=…&registry=…", as printed in QR codes), or
 * --chain-id and --registry (which must agree with the link's), and only failing both the passport's word.
 * Exit status: 0 verified, 1 the passport does not match the chain, 2 nothing could be verified.
 */
import { parseArgs } from "node:util";
import { addressSchema } from "../backend/chain/schemas.ts";
import { DigitalLinkError } from "../backend/passport/digital-link.ts";
import {
  ANCHOR_SOURCES,
  PassportFetchError,
  endpointLines,
  exitStatusOf,
  rpcUrlsOf,
  verdictLine,
  verifyPassportUrl,
} from "../backend/passport/verify-url.ts";

const USAGE =
  "Usage: node scripts/verify.ts <passport-url> [--rpc <url>[,<url>...]]... [--min-endpoints <n>] [--chain-id <id>] [--registry <address>] [--json]";

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        rpc: { type: "string", multiple: true },
        "min-endpoints": { type: "string" },
        "chain-id": { type: "string" },
        registry: { type: "string" },
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length !== 1) {
    console.error(USAGE);
    return 2;
  }
  const chainId = values["chain-id"] === undefined ? undefined : Number(values["chain-id"]);
  if (chainId !== undefined && !Number.isSafeInteger(chainId)) {
    console.error(`--chain-id must be an integer (got ${values["chain-id"]})`);
    return 2;
  }
  const registry = values.registry === undefined ? undefined : addressSchema.safeParse(values.registry);
  if (registry !== undefined && !registry.success) {
    console.error(`--registry ${registry.error.issues[0]!.message} (got ${values.registry})`);
    return 2;
  }

  const minAgreeing = values["min-endpoints"] === undefined ? undefined : Number(values["min-endpoints"]);
  if (minAgreeing !== undefined && !(Number.isSafeInteger(minAgreeing) && minAgreeing >= 1)) {
    console.error(`--min-endpoints must be a positive integer (got ${values["min-endpoints"]})`);
    return 2;
  }

  const url = positionals[0]!;
  try {
    const rpcUrls = rpcUrlsOf(values.rpc && values.rpc.length > 0 ? values.rpc : [process.env.RPC_URL]);
    const result = await verifyPassportUrl({
      url,
      rpcUrls,
      ...(minAgreeing === undefined ? {} : { minAgreeing }),
      expected: { ...(chainId === undefined ? {} : { chainId }), ...(values.registry === undefined ? {} : { registry: values.registry }) },
      onProgress: values.json ? undefined : (message) => console.error(`… ${message}`),
    });
    if (values.json) {
      const { claims, ...report } = result;
      console.log(JSON.stringify({ url, batchId: claims.batchId, serial: claims.serial, ...report }, null, 2));
    } else {
      console.log(`Passport ${url}`);
      console.log(
        `  chain ${result.anchors.chainId} and registry ${result.anchors.registry} (named by ${ANCHOR_SOURCES[result.anchors.source]}), RPC ${result.rpcUrls.join(", ")} (named by ${result.rpcSource === "caller" ? "you" : "the passport server"})`,
      );
      console.log(verdictLine(result));
      for (const line of endpointLines(result)) console.log(`  ${line}`);
      if (result.ok) for (const item of result.checked) console.log(`  checked ${item}`);
      for (const mismatch of result.mismatches) console.log(`  - ${mismatch}`);
      for (const warning of result.warnings) console.log(`  ! ${warning}`);
    }
    return exitStatusOf(result);
  } catch (error) {
    if (error instanceof DigitalLinkError || error instanceof PassportFetchError) {
      console.error(`Cannot verify: ${error.message}`);
    } else {
      console.error(`Cannot verify: ${error instanceof Error ? error.message : String(error)}`);
    }
    return 2;
  }
}

process.exitCode = await main(process.argv.slice(2));
