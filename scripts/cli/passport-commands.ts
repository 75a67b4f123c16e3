/**
 * `provena qr` and `provena verify`: a batch's or unit's passport QR code, and checking a passport against the chain.
 */
import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { isValidLotOrSerial } from "../../backend/chain/gs1.ts";
import { DigitalLinkError, buildDigitalLink, normalizeGtin } from "../../backend/passport/digital-link.ts";
import { qrPng, qrSvg, qrTerminal } from "../../backend/passport/qr.ts";
import {
  ANCHOR_SOURCES,
  PassportFetchError,
  endpointLines,
  exitStatusOf,
  rpcUrlsOf,
  verdictLine,
  verifyPassportUrl,
} from "../../backend/passport/verify-url.ts";
import { address, baseUrl, positiveInteger } from "./arguments.ts";
import { CliError, type GlobalOptions } from "./context.ts";

export function registerPassportCommands(program: Command): void {
  program
    .command("qr <gtin> <lot> [serial]")
    .description("the GS1 Digital Link QR code of a batch or unit: printed, or written as PNG/SVG")
    .option("--base <url>", "passport host (default: PUBLIC_BASE_URL, else http://127.0.0.1:3000)", baseUrl)
    .option("--png <file>", "write a PNG")
    .option("--svg <file>", "write an SVG")
    .option("--width <pixels>", "PNG width", positiveInteger, 320)
    .option("--chain-id <id>", "trust anchor printed in the code: the chain the product is registered on", positiveInteger)
    .option("--registry <address>", "trust anchor printed in the code: the registry's address", address)
    .action(
      async (
        gtin: string,
        lot: string,
        serial: string | undefined,
        options: { base?: string; png?: string; svg?: string; width: number; chainId?: number; registry?: string },
      ) => {
        let uri: string;
        try {
          const gtin14 = normalizeGtin(gtin);
          if (!isValidLotOrSerial(lot)) throw new DigitalLinkError(`lot "${lot}" must be 1-20 characters of GS1 character set 82`);
          if (serial !== undefined && !isValidLotOrSerial(serial))
            throw new DigitalLinkError(`serial "${serial}" must be 1-20 characters of GS1 character set 82`);
          let base = options.base ?? "http://127.0.0.1:3000";
          if (options.base === undefined && process.env.PUBLIC_BASE_URL) {
            try {
              base = baseUrl(process.env.PUBLIC_BASE_URL);
            } catch (error) {
              throw new DigitalLinkError(`PUBLIC_BASE_URL ${(error as Error).message}`);
            }
          }
          if ((options.chainId === undefined) !== (options.registry === undefined)) {
            throw new DigitalLinkError("--chain-id and --registry go together: a printed code names both trust anchors or neither");
          }
          const anchors =
            options.chainId === undefined ? null : { chainId: options.chainId, registry: options.registry!.toLowerCase() as `0x${string}` };
          uri = buildDigitalLink(base, gtin14, lot, serial ?? null, anchors);
        } catch (error) {
          throw new CliError((error as Error).message);
        }
        if (options.png) await writeFile(options.png, await qrPng(uri, { width: options.width }));
        if (options.svg) await writeFile(options.svg, await qrSvg(uri));
        if (options.png || options.svg) console.log(`✓ ${[options.png, options.svg].filter(Boolean).join(" and ")} for ${uri}`);
        else console.log(`${await qrTerminal(uri)}\n${uri}`);
      },
    );

  program
    .command("verify <url>")
    .description(
      "verify a passport against the chain itself, through every --rpc endpoint (repeated or comma-separated; else RPC_URL), compared (exit 0 verified, 1 mismatch, 2 unverifiable)",
    )
    .option("--chain-id <id>", "verify on this chain (the link's ?chain= anchor, when it has one, must agree)", positiveInteger)
    .option("--registry <address>", "verify against this registry (the link's ?registry= anchor, when it has one, must agree)", address)
    .option("--min-endpoints <n>", "at least this many endpoints must answer, and all that answer agree", positiveInteger, 1)
    .option("--json", "machine-readable report", false)
    .action(async (url: string, options: { chainId?: number; registry?: string; minEndpoints: number; json: boolean }) => {
      let result;
      try {
        result = await verifyPassportUrl({
          url,
          rpcUrls: rpcUrlsOf([program.opts<GlobalOptions>().rpc ?? process.env.RPC_URL]),
          minAgreeing: options.minEndpoints,
          expected: {
            ...(options.chainId === undefined ? {} : { chainId: options.chainId }),
            ...(options.registry === undefined ? {} : { registry: options.registry }),
          },
          onProgress: options.json ? undefined : (message) => console.error(`… ${message}`),
        });
      } catch (error) {
        if (error instanceof DigitalLinkError || error instanceof PassportFetchError)
          console.error(`provena: cannot verify: ${error.message}`);
        else console.error(`provena: cannot verify: ${(error as Error).message}`);
        process.exitCode = 2;
        return;
      }
      if (options.json) {
        const { claims, ...report } = result;
        console.log(JSON.stringify({ url, batchId: claims.batchId, serial: claims.serial, ...report }, null, 2));
      } else {
        console.log(verdictLine(result));
        console.log(
          `  chain ${result.anchors.chainId} and registry ${result.anchors.registry}, named by ${ANCHOR_SOURCES[result.anchors.source]}`,
        );
        for (const line of endpointLines(result)) console.log(`  ${line}`);
        if (result.ok) for (const item of result.checked) console.log(`  checked ${item}`);
        for (const mismatch of result.mismatches) console.log(`  - ${mismatch}`);
      }
      if (!options.json) for (const warning of result.warnings) console.log(`  ! ${warning}`);
      process.exitCode = exitStatusOf(result);
    });
}
