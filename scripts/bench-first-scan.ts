/**
 * First-scan passport benchmark: `node --import tsx scripts/bench-first-scan.ts <store.db> [<store.db> ...]`.
 *
 * Serves kept SQLite stores (`npm run bench:scale -- --size=N --keep`, which writes `<file>.samples.json` beside
 * each) through the real app over HTTP on 127.0.0.1, one request at a time, and times the passport of sampled units:
 *
 *   HTML, first scan    a new client each request (X-Forwarded-For, the app trusting one proxy hop): the scan is
 *                       recorded (a durable write) and the page rendered afresh
 *   HTML, repeat        the same client again: nothing recorded, the page answered from the view cache
 *   JSON-LD             never a scan; the rendering key is resolved afresh after every scan moved the store
 *
 * (after one cold rendering of each sampled unit, timed on its own row: nothing is cached for it yet)
 * and, for the first-scan HTML requests, the SQLite time spent per statement (summed over the requests; the
 * statements' EXPLAIN QUERY PLAN with --plans), so a statement whose cost grows with the store shows by name.
 * The load average is printed with each table: the machine may be shared, so compare runs taken together.
 *
 * Each row also gives the longest the event loop was held while it ran.
 *
 * Options: BENCH_FIRST_SCAN_REQUESTS requests per row (default 300), --plans.
 */
import { existsSync, readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { loadavg } from "node:os";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { DatabaseSync, StatementSync, type SQLInputValue } from "node:sqlite";
import { pino } from "pino";
import { createApp } from "../backend/api/app.ts";
import { createMetrics } from "../backend/api/metrics.ts";
import { createPassportModule } from "../backend/passport/passport-module.ts";
import { createReputationService } from "../backend/reputation/reputation-service.ts";
import { createStore } from "../backend/store/index.ts";
import { BENCHMARK_READ_LIMITS } from "./fixtures/bench-app.ts";
import { CHAIN_ID, REGISTRY_ADDRESS } from "./fixtures/chain-history.ts";
import { positiveIntFromEnv } from "./fixtures/environment.ts";

interface Samples {
  batches: number;
  events: number;
  units: { batchId: string; gtin: string; lot: string; serial: string }[];
}

// --- time spent per SQL statement -----------------------------------------------------------------------------

const statementTimes = new Map<string, { ms: number; calls: number; params: SQLInputValue[] }>();
let timing = false;
for (const method of ["all", "get", "iterate", "run"] as const) {
  const original = Object.getOwnPropertyDescriptor(StatementSync.prototype, method)!.value as (
    this: StatementSync,
    ...params: SQLInputValue[]
  ) => unknown;
  (StatementSync.prototype as unknown as Record<string, unknown>)[method] = function (this: StatementSync, ...params: SQLInputValue[]) {
    if (!timing) return original.apply(this, params);
    const started = performance.now();
    try {
      return original.apply(this, params);
    } finally {
      const spent = performance.now() - started;
      const entry = statementTimes.get(this.sourceSQL);
      if (entry) {
        entry.ms += spent;
        entry.calls++;
      } else {
        statementTimes.set(this.sourceSQL, { ms: spent, calls: 1, params });
      }
    }
  };
}

// --- requests -------------------------------------------------------------------------------------------------

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function timeRequest(url: string, headers: Record<string, string>): Promise<number> {
  const started = performance.now();
  const response = await fetch(url, { headers });
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return performance.now() - started;
}

interface Row {
  name: string;
  p50: number;
  p99: number;
  max: number;
  /** CPU of this process (server and client) per request: steadier than latency on a shared machine. */
  cpuMs?: number;
  /** The longest the event loop was held while the row ran, in ms. */
  stallMs?: number;
}

/** Runs `work` and adds to its row the longest event-loop delay seen meanwhile. */
async function withStall(work: () => Promise<Row>): Promise<Row> {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  try {
    const row = await work();
    // A delay is recorded when the held timer finally runs.
    await new Promise((resolve) => setTimeout(resolve, 20));
    return { ...row, stallMs: delay.max / 1e6 };
  } finally {
    delay.disable();
  }
}

async function measure(name: string, requests: number, request: (i: number) => Promise<number>): Promise<Row> {
  for (let i = 0; i < 20; i++) await request(i); // warm caches and JIT
  const times: number[] = [];
  const cpu = process.cpuUsage();
  for (let i = 0; i < requests; i++) times.push(await request(i));
  const { user, system } = process.cpuUsage(cpu);
  times.sort((a, b) => a - b);
  return { name, p50: percentile(times, 50), p99: percentile(times, 99), max: times.at(-1)!, cpuMs: (user + system) / 1000 / requests };
}

let clientCounter = 0;
/** A client address never seen before (10.x.y.z), so its scan of any unit counts. */
function newClient(): string {
  const n = ++clientCounter;
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
}

async function benchStore(
  path: string,
  requests: number,
  options: { plans: boolean },
): Promise<{ label: string; rows: Row[]; load: string }> {
  const { plans } = options;
  const samples = JSON.parse(readFileSync(`${path}.samples.json`, "utf8")) as Samples;
  const store = await createStore({ mongodbUri: null, sqlitePath: path });
  const passports = createPassportModule({
    store,
    config: {
      publicBaseUrl: "http://127.0.0.1",
      publicRpcUrl: "http://127.0.0.1:8545",
      chainId: CHAIN_ID,
      registryAddress: REGISTRY_ADDRESS,
    },
    chain: { request: () => Promise.reject(new Error("no chain in this benchmark")) } as never,
    logger: pino({ level: "silent" }),
    writeRateLimitPerMinute: 1_000_000,
    reputation: createReputationService({ store, chainId: CHAIN_ID }),
  });
  const app = createApp({
    store,
    logger: pino({ level: "silent" }),
    metrics: createMetrics(),
    indexerStatus: () => ({ chainId: CHAIN_ID, headBlock: 0, indexedBlock: 0, lagBlocks: 0, eventsIndexed: 0, isLeader: false }),
    readyMaxLagBlocks: 10,
    readLimits: BENCHMARK_READ_LIMITS,
    modules: [passports],
    trustProxy: 1,
  });
  const server = app.listen(0, "127.0.0.1");
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const unitUrl = (i: number) => {
    const unit = samples.units[i % samples.units.length]!;
    return `${base}/01/${unit.gtin}/10/${encodeURIComponent(unit.lot)}/21/${encodeURIComponent(unit.serial)}`;
  };
  const html = { accept: "text/html" };
  const rows: Row[] = [];
  const load = loadavg()
    .map((value) => value.toFixed(2))
    .join(" ");
  try {
    // Each sampled unit once, before anything is measured: its first rendering (nothing cached for it, its statements
    // not yet prepared) would otherwise land in whichever row runs first.
    rows.push(
      await withStall(async () => {
        const cold: number[] = [];
        for (let i = 0; i < samples.units.length; i++) cold.push(await timeRequest(unitUrl(i), { accept: "application/ld+json" }));
        cold.sort((a, b) => a - b);
        return { name: "JSON-LD, each unit's first rendering", p50: percentile(cold, 50), p99: percentile(cold, 99), max: cold.at(-1)! };
      }),
    );
    const repeatClient = newClient();
    rows.push(
      await withStall(() =>
        measure("HTML, repeat scan", requests, (i) => timeRequest(unitUrl(i), { ...html, "x-forwarded-for": repeatClient })),
      ),
    );
    statementTimes.clear();
    timing = true;
    let firstScans = 0;
    rows.push(
      await withStall(() =>
        measure("HTML, first scan", requests, (i) => {
          firstScans++;
          return timeRequest(unitUrl(i), { ...html, "x-forwarded-for": newClient() });
        }),
      ),
    );
    timing = false;
    rows.push(await withStall(() => measure("JSON-LD", requests, (i) => timeRequest(unitUrl(i), { accept: "application/ld+json" }))));
    // JSON-LD after each scan: the scan moves the store's change token, so the JSON-LD key is resolved afresh.
    rows.push(
      await withStall(() =>
        measure("JSON-LD after a scan", requests, async (i) => {
          await timeRequest(unitUrl(i + 1), { ...html, "x-forwarded-for": newClient() });
          return timeRequest(unitUrl(i), { accept: "application/ld+json" });
        }),
      ),
    );

    console.log(`\n${path} (${samples.batches.toLocaleString("en-US")} batches): SQLite time per first-scan HTML request, by statement`);
    const sorted = [...statementTimes].sort((a, b) => b[1].ms - a[1].ms).slice(0, 12);
    const db = plans ? new DatabaseSync(path, { readOnly: true }) : null;
    for (const [sql, { ms, calls, params }] of sorted) {
      console.log(
        `  ${(ms / firstScans).toFixed(3).padStart(7)} ms  ${(calls / firstScans).toFixed(1).padStart(4)} calls  ${sql.replace(/\s+/g, " ").trim().slice(0, 150)}`,
      );
      if (db && /^\s*(SELECT|WITH)/i.test(sql)) {
        const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[];
        for (const line of plan) console.log(`                              ${line.detail}`);
      }
    }
    db?.close();
  } finally {
    server.close();
    await passports.close();
    await store.close();
  }
  const label = `${samples.batches.toLocaleString("en-US")} batches`;
  return { label, rows, load };
}

async function main(): Promise<void> {
  const paths = process.argv.slice(2).filter((arg) => !arg.startsWith("--"));
  if (paths.length === 0 || paths.some((path) => !existsSync(`${path}.samples.json`))) {
    throw new Error("usage: bench-first-scan <store.db> [...], each kept by bench:scale with its <store.db>.samples.json");
  }
  const requests = positiveIntFromEnv("BENCH_FIRST_SCAN_REQUESTS", 300);
  const results: Awaited<ReturnType<typeof benchStore>>[] = [];
  const options = { plans: process.argv.includes("--plans") };
  for (const path of paths) results.push(await benchStore(path, requests, options));
  console.log(
    `\nPassport of sampled units, ${requests} requests per row, one at a time over HTTP on 127.0.0.1 (p50 / p99 / max ms, this process's CPU ms per request, the longest event-loop stall in ms):`,
  );
  const names = results[0]!.rows.map((row) => row.name);
  const table = [
    ["", ...results.map((result) => result.label)],
    ...names.map((name) => [
      name,
      ...results.map((result) => {
        const row = result.rows.find((candidate) => candidate.name === name)!;
        const cpu = row.cpuMs === undefined ? "" : `, CPU ${row.cpuMs.toFixed(2)}`;
        const stall = row.stallMs === undefined ? "" : `, stall ${row.stallMs.toFixed(0)}`;
        return `${row.p50.toFixed(2)} / ${row.p99.toFixed(2)} / ${row.max.toFixed(1)}${cpu}${stall}`;
      }),
    ]),
    ["load average (1, 5, 15 min) at start", ...results.map((result) => result.load)],
  ];
  const widths = table[0]!.map((_, column) => Math.max(...table.map((row) => row[column]!.length)));
  for (const row of table)
    console.log(row.map((cell, column) => (column === 0 ? cell.padEnd(widths[0]!) : cell.padStart(widths[column]!))).join("  "));
}

await main();
