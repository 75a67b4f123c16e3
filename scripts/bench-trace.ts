/**
 * Trace benchmark: `npm run bench:trace`.
 *
 * Builds, in an SQLite store on disk, one lot split generation by generation into a tree (10 children per lot for
 * four generations, then BENCH_TRACE_LAST_FANOUT per lot: 91,111 lots by default), whose leaves are then merged
 * (Transformations) BENCH_TRACE_MERGE_INPUTS at a time into new lots (8,000 merge outputs by default, so the tree is a
 * DAG of 99,111 lots), beside BENCH_TRACE_OTHER_LOTS unrelated lots (9,000), all through the real projections, so the
 * store holds over 100,000 lots; then times the trace service (the API's handler without HTTP) from the root forward
 * (through every merge), from middle lots both ways, from a leaf back and from a merge output back through its inputs,
 * and the JSON encoding of each answer. Median and max of BENCH_TRACE_RUNS runs (default 5).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Hex } from "../backend/domain/model.ts";
import { createSqliteStore } from "../backend/store/sqlite/index.ts";
import { createTraceService, type TraceDirection } from "../backend/trace/trace-service.ts";
import { ChainHistory } from "./fixtures/chain-history.ts";
import { positiveIntFromEnv } from "./fixtures/environment.ts";

const GTIN = "09506000134352";
const lastFanout = positiveIntFromEnv("BENCH_TRACE_LAST_FANOUT", 8);
const otherLots = positiveIntFromEnv("BENCH_TRACE_OTHER_LOTS", 9_000);
const mergeInputs = positiveIntFromEnv("BENCH_TRACE_MERGE_INPUTS", 10);
const MERGED_GTIN = "09506000134369";
const runs = positiveIntFromEnv("BENCH_TRACE_RUNS", 5);

const directory = mkdtempSync(join(tmpdir(), "provena-bench-trace-"));
const store = createSqliteStore({ path: join(directory, "trace.db") });
await store.init();
try {
  const built = performance.now();
  const history = new ChainHistory();
  const acme = history.onboard("acme", "MANUFACTURER");
  const root = history.registerBatch({ manufacturer: acme, gtin: GTIN, lot: "ROOT", quantity: 10_000_000 });
  const generations: Hex[][] = [[root]];
  const fanouts = [10, 10, 10, 10, lastFanout];
  for (const fanout of fanouts) {
    const next: Hex[] = [];
    for (const parent of generations.at(-1)!) {
      const lot = `${parent.slice(2, 10)}`;
      next.push(
        ...history.split(
          parent,
          GTIN,
          acme,
          Array.from({ length: fanout }, (_, index) => ({ lot: `ROOT/${lot}${index}`, quantity: 1 })),
        ),
      );
    }
    generations.push(next);
  }
  // The leaves are merged, mergeInputs at a time, into lots the processor registers: a generation made of merges.
  const leaves = generations.at(-1)!;
  const outputs: Hex[] = [];
  for (let start = 0; start < leaves.length; start += mergeInputs) {
    const output = history.registerBatch({
      manufacturer: acme,
      gtin: MERGED_GTIN,
      lot: `MERGED-${start / mergeInputs}`,
      quantity: mergeInputs,
    });
    history.transform({ processor: acme, inputIds: leaves.slice(start, start + mergeInputs), outputIds: [output] });
    outputs.push(output);
  }
  generations.push(outputs);
  for (let index = 0; index < otherLots; index++)
    history.registerBatch({ manufacturer: acme, gtin: GTIN, lot: `OTHER-${index}`, quantity: 1 });
  await history.mirrorInto(store, { rangeSize: 5_000 });
  const lots = generations.reduce((sum, generation) => sum + generation.length, 0);
  console.log(
    `store: ${lots + otherLots} lots (${lots} in the traced tree, ${outputs.length} of them merge outputs of ${mergeInputs} inputs) built in ${((performance.now() - built) / 1_000).toFixed(1)} s`,
  );

  const service = createTraceService({ store });
  const cases: { name: string; batchId: Hex; direction: TraceDirection }[] = [
    { name: "root, forward (whole tree)", batchId: root, direction: "forward" },
    { name: "generation 2, both ways", batchId: generations[2]![0]!, direction: "both" },
    { name: "generation 4, both ways", batchId: generations[4]![0]!, direction: "both" },
    { name: "leaf, back to the root", batchId: generations.at(-2)!.at(-1)!, direction: "back" },
    { name: "merge output, back through its inputs", batchId: outputs.at(-1)!, direction: "back" },
  ];
  const rows = [];
  for (const { name, batchId, direction } of cases) {
    const traceMs: number[] = [];
    const jsonMs: number[] = [];
    let lotsInTrace = 0;
    let bytes = 0;
    for (let run = 0; run < runs; run++) {
      const started = performance.now();
      const trace = await service.trace(batchId, direction);
      const traced = performance.now();
      bytes = Buffer.byteLength(JSON.stringify(trace));
      jsonMs.push(performance.now() - traced);
      traceMs.push(traced - started);
      lotsInTrace = trace.summary.lots;
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    rows.push({
      trace: name,
      lots: lotsInTrace,
      "trace ms (median)": median(traceMs).toFixed(1),
      "trace ms (max)": Math.max(...traceMs).toFixed(1),
      "JSON ms (median)": median(jsonMs).toFixed(1),
      "answer MB": (bytes / 1e6).toFixed(2),
    });
  }
  console.table(rows);
} finally {
  await store.close();
  rmSync(directory, { recursive: true, force: true });
}
