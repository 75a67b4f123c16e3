/**
 * `provena trace <batch>`: every lot a lot came from and every lot that came from it, with who holds each now and
 * where, from the backend's trace API (PROVENA_API_URL or --api).
 */
import type { Command } from "commander";
import type { Hex } from "../../backend/domain/model.ts";
import type { Trace, TracedLot } from "../../backend/trace/trace-service.ts";
import { apiJson } from "./api-client.ts";
import { batchRef } from "./arguments.ts";
import { CliError, type WithContext } from "./context.ts";

function lotLine(trace: Trace, lot: TracedLot): string {
  const name = (address: Hex) => trace.participants[address]?.name ?? address;
  const indent = "  ".repeat(Math.max(0, lot.generation));
  const status = lot.recalledVia === null ? lot.status : lot.recalledVia === lot.batchId ? "RECALLED" : "RECALLED (via its parent lot)";
  const pending = lot.pendingCustodian === null ? "" : `, on its way to ${name(lot.pendingCustodian)}`;
  return `${indent}${lot.gtin}/${lot.lot} (${lot.quantity}) ${status}: held by ${name(lot.custodian)} at ${lot.location}${pending}; held before by ${lot.holders.slice(0, -1).map(name).join(" → ") || "nobody"}`;
}

export function registerTraceCommands(program: Command, withContext: WithContext): void {
  program
    .command("trace")
    .argument("<batch>", "a lot: batch id (0x…) or GTIN/LOT", batchRef)
    .option("--direction <direction>", "back, forward or both", "both")
    .option("--json", "print the backend's JSON")
    .description("trace a lot back to its origins and forward to every lot made from it: who holds each now, where, and who held it")
    .action(
      withContext(async (context, batchId: Hex, options: { direction: string; json?: boolean }) => {
        if (!["back", "forward", "both"].includes(options.direction)) {
          throw new CliError(`--direction must be back, forward or both (got ${options.direction})`);
        }
        const { body } = await apiJson<Trace>(context, `/api/v1/batches/${batchId}/trace?direction=${options.direction}`);
        if (options.json) return void console.log(JSON.stringify(body, null, 2));
        for (const ancestor of [...body.ancestors].reverse()) console.log(`from ${lotLine(body, ancestor)}`);
        console.log(`▶ ${lotLine(body, body.lot)}`);
        for (const lot of body.descendants) console.log(lotLine(body, lot));
        console.log(`${body.summary.lots} lots, ${body.summary.holdersNow} holders now, ${body.summary.recalledLots} recalled`);
      }),
    );
}
