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
  const status =
    lot.recalledVia === null
      ? lot.status
      : lot.recalledVia === lot.batchId
        ? "RECALLED"
        : `RECALLED (via ${lotName(trace, lot.recalledVia)})`;
  const pending = lot.pendingCustodian === null ? "" : `, on its way to ${name(lot.pendingCustodian)}`;
  const merges = [
    ...(lot.producedBy === null ? [] : [`made in merge #${lot.producedBy}`]),
    ...(lot.consumedIn === null ? [] : [`consumed in merge #${lot.consumedIn}`]),
  ];
  return `${indent}${lot.gtin}/${lot.lot} (${lot.quantity}) ${status}: held by ${name(lot.custodian)} at ${lot.location}${pending}; held before by ${lot.holders.slice(0, -1).map(name).join(" → ") || "nobody"}${merges.length > 0 ? ` [${merges.join(", ")}]` : ""}`;
}

/** GTIN/LOT of a lot in the trace, else its id (an input of a merge that is not upstream of the traced lot). */
function lotName(trace: Trace, batchId: Hex): string {
  const lot = [...trace.ancestors, trace.lot, ...trace.descendants].find((item) => item.batchId === batchId);
  return lot === undefined ? batchId : `${lot.gtin}/${lot.lot}`;
}

/** The trace as the CLI prints it: ancestors oldest first, the lot, descendants, the merges crossed, a summary. */
export function traceLines(trace: Trace): string[] {
  const name = (address: Hex) => trace.participants[address]?.name ?? address;
  return [
    ...[...trace.ancestors].reverse().map((ancestor) => `from ${lotLine(trace, ancestor)}`),
    `▶ ${lotLine(trace, trace.lot)}`,
    ...trace.descendants.map((lot) => lotLine(trace, lot)),
    ...trace.transformations.map(
      (merge) =>
        `merge #${merge.transformationId} by ${name(merge.processor)} at ${merge.locationGln}: ` +
        `${merge.inputs.map((input) => lotName(trace, input.batchId)).join(" + ")} → ${merge.outputIds.map((id) => lotName(trace, id)).join(", ")}`,
    ),
    `${trace.summary.lots} lots, ${trace.summary.holdersNow} holders now, ${trace.summary.recalledLots} recalled`,
  ];
}

export function registerTraceCommands(program: Command, withContext: WithContext): void {
  program
    .command("trace")
    .argument("<batch>", "a lot: batch id (0x…) or GTIN/LOT", batchRef)
    .option("--direction <direction>", "back, forward or both", "both")
    .option("--json", "print the backend's JSON")
    .description(
      "trace a lot back to its origins and forward to every lot made from it (through splits and merges): who holds each now, where, and who held it",
    )
    .action(
      withContext(async (context, batchId: Hex, options: { direction: string; json?: boolean }) => {
        if (!["back", "forward", "both"].includes(options.direction)) {
          throw new CliError(`--direction must be back, forward or both (got ${options.direction})`);
        }
        const { body } = await apiJson<Trace>(context, `/api/v1/batches/${batchId}/trace?direction=${options.direction}`);
        if (options.json) return void console.log(JSON.stringify(body, null, 2));
        for (const line of traceLines(body)) console.log(line);
      }),
    );
}
