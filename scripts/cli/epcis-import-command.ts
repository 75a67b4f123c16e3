/**
 * `provena epcis import <file.jsonld>`: a partner's EPCIS 2.0 events onto the chain without chain code. Asks the
 * backend for the plan (POST /api/v1/epcis/import-plans), shows it, then signs each planned call as a forward request
 * and relays it (the partner needs no ETH), in order, waiting for each to be mined before the next; prints one
 * result line per event. `--dry-run` shows the plan only. The key comes from PROVENA_PRIVATE_KEY or a keystore, as
 * for every command that signs; the signer's address is the importing partner.
 */
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { getAddress } from "ethers";
import { createRelayClient, RelayFailedError, RelayRefusedError, RelayUnreachableError } from "../../backend/relayer/relay-client.ts";
import type { ImportPlan, PlannedEvent } from "../../backend/epcis/import-plan.ts";
import type { Hex } from "../../backend/domain/model.ts";
import { CliError, DEFAULT_API_URL, createCliContext, loadSigner, type GlobalOptions } from "./context.ts";
import { uploadSerials } from "./inputs.ts";

interface ImportOptions {
  dryRun?: boolean;
  partner?: string;
  upload: boolean;
}

/** The outcome of one event of the import, as the result table shows it. */
interface EventResult {
  event: PlannedEvent;
  outcome: string;
  transactions: string[];
}

export function registerEpcisImportCommand(epcis: Command, program: Command): void {
  epcis
    .command("import")
    .argument("<file>", "an EPCIS 2.0 EPCISDocument (JSON-LD)")
    .option("--dry-run", "show the plan only: nothing is signed or sent")
    .option("--partner <address>", "with --dry-run and no key: plan for this partner's address")
    .option("--no-upload", "do not upload commissioned lots' serial lists to the backend")
    .description("record a partner's EPCIS 2.0 events on chain through the relayer (gasless), each event once")
    .action(async (file: string, options: ImportOptions) => {
      const global = program.opts<GlobalOptions>();
      const apiUrl = (global.api ?? process.env.PROVENA_API_URL ?? DEFAULT_API_URL).replace(/\/+$/, "");
      let text: string;
      try {
        text = await readFile(file, "utf8");
      } catch (error) {
        throw new CliError(`cannot read ${file}: ${(error as Error).message}`);
      }
      const signer = options.dryRun && options.partner ? null : await loadSigner();
      const partner = partnerAddress(options.partner, signer?.address);
      const plan = await fetchPlan(apiUrl, partner, text);
      printPlan(plan);
      if (options.dryRun) return;
      const toSend = plan.events.filter((event) => event.status === "planned");
      if (toSend.length === 0) {
        console.log("nothing to send: every event is already recorded or refused");
        printResults(plan.events.map((event) => ({ event, outcome: untouched(event), transactions: [] })));
        return;
      }

      const context = await createCliContext(global);
      try {
        const relay = createRelayClient({ apiUrl, provider: context.provider });
        const results: EventResult[] = [];
        let failed = false;
        for (const event of plan.events) {
          if (event.status !== "planned" || failed) {
            results.push({
              event,
              outcome: failed && event.status === "planned" ? "not sent (an earlier call failed)" : untouched(event),
              transactions: [],
            });
            continue;
          }
          const transactions: string[] = [];
          try {
            if (event.serials && options.upload) {
              const register = event.calls.find((call) => call.function === "registerBatch")!;
              await uploadSerials(apiUrl, JSON.stringify(event.serials), "json", (register.args[6] as string).toLowerCase() as Hex);
            }
            for (const call of event.calls) {
              const accepted = await relay.submit(signer!, call.to, call.data);
              console.error(`… event ${event.index}: ${call.function} relayed as ${accepted.id}; waiting for it to be mined`);
              const mined = await relay.waitForMined(accepted.id, { timeoutMs: 300_000, pollMs: 500 });
              transactions.push(mined.transactionHash!);
            }
            results.push({ event, outcome: "recorded", transactions });
          } catch (error) {
            failed = true;
            const message =
              error instanceof RelayRefusedError ||
              error instanceof RelayFailedError ||
              error instanceof RelayUnreachableError ||
              error instanceof CliError
                ? error.message
                : String(error);
            results.push({ event, outcome: `failed: ${message}`, transactions });
          }
        }
        printResults(results);
        if (failed)
          throw new CliError(
            "the import stopped at a failed call; fix the cause and import the same file again (recorded events are skipped)",
          );
      } finally {
        await context.close();
      }
    });
}

function partnerAddress(option: string | undefined, signerAddress: string | undefined): Hex {
  if (option !== undefined) {
    let address: string;
    try {
      address = getAddress(option);
    } catch {
      throw new CliError(`--partner ${option} is not an address`);
    }
    if (signerAddress !== undefined && address !== getAddress(signerAddress))
      throw new CliError(`--partner ${address} is not the signer ${signerAddress}: the partner signs its own calls`);
    return address.toLowerCase() as Hex;
  }
  return signerAddress!.toLowerCase() as Hex;
}

async function fetchPlan(apiUrl: string, partner: Hex, document: string): Promise<ImportPlan> {
  let response: Response;
  try {
    response = await fetch(`${apiUrl}/api/v1/epcis/import-plans?partner=${partner}`, {
      method: "POST",
      headers: { "content-type": "application/ld+json", accept: "application/json" },
      body: document,
      signal: AbortSignal.timeout(120_000),
    });
  } catch (error) {
    throw new CliError(`no Provena backend at ${apiUrl} (${(error as Error).message}); set PROVENA_API_URL or --api`);
  }
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok) {
    const violations = Array.isArray(body.violations)
      ? (body.violations as { path: string; message: string }[]).map((v) => `\n  ${v.path}: ${v.message}`).join("")
      : "";
    throw new CliError(
      `the backend refused the import (${response.status}): ${typeof body.detail === "string" ? body.detail : "no detail"}${violations}`,
    );
  }
  return body as unknown as ImportPlan;
}

function untouched(event: PlannedEvent): string {
  return event.status === "already-recorded" ? "already recorded" : `refused ${event.code}: ${event.reason}`;
}

function printPlan(plan: ImportPlan): void {
  const { planned, alreadyRecorded, refused, calls } = plan.summary;
  console.log(`plan for ${plan.partner}: ${planned} to record (${calls} calls), ${alreadyRecorded} already recorded, ${refused} refused`);
  for (const event of plan.events) {
    console.log(`  #${event.index} ${event.type} ${event.status}${event.code ? ` ${event.code}` : ""}: ${event.reason}`);
    console.log(`     ${event.eventHash ?? "(no event hash)"}`);
    for (const call of event.calls)
      console.log(`     -> ${call.target}.${call.function}(${call.args.map((arg) => JSON.stringify(arg)).join(", ")})`);
  }
}

function printResults(results: EventResult[]): void {
  console.log("results:");
  for (const { event, outcome, transactions } of results) {
    console.log(
      `  #${event.index} ${event.eventHash ?? "(no event hash)"} ${outcome}${transactions.length > 0 ? ` (tx ${transactions.join(", ")})` : ""}`,
    );
  }
}
