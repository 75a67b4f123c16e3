/**
 * Scale benchmark: `npm run bench:scale [-- --quick] [-- --max-batches=N]`.
 *
 * Grows one store in steps of 10^4, 10^5 and 10^6 registered batches (~10 events each, so up to 10^7 events; split
 * children add ~10% batches) with the bulk seeder (scripts/fixtures/bulk-store.ts: the indexer's write path, run in
 * a child process, scripts/fixtures/bulk-seeder.ts, over a bulk-load SQLite connection that skips fsync), and
 * after each step reopens the store as production does (createStore: same pragmas, indexes, statistics for tables without any)
 * and measures the read paths a user hits, through the real app over HTTP on 127.0.0.1 (routes,
 * validation, services, store, rendering), one request at a time:
 *
 *   list        GET /api/v1/batches?limit=50 first page, a deep cursor page (90% in), and manufacturer+status filtered
 *   lookup      GET /api/v1/batches?gtin&lot (the unique GS1 key) and GET /api/v1/batches/{id}
 *   trace       GET /api/v1/batches/{id} of a split child: the batch-history read model (timeline, parent with its
 *               journey, siblings). There is no dedicated trace API yet; this is the closest existing read. Also
 *               GET /api/v1/batches/{id}/events, the batch's raw event log page.
 *   passport    GET /01/{gtin}/10/{lot}/21/{serial} of a unit with a stored serial set, as JSON-LD and as HTML
 *
 * and prints p50/p99 per query per step, the store's size on disk per event (SQLite file + WAL), and the process's
 * RSS and V8 heaps after each step and their peak while measuring (the server's and serving store's alone: the
 * seeder's memory is its child's).
 * For every SQL statement the measured requests run, it prints SQLite's EXPLAIN QUERY PLAN once (at the largest step)
 * and flags full scans and temporary sort b-trees; the run fails (exit 1) when any is found. With MONGODB_URI set the
 * same steps run against a fresh MongoDB database and explain() of the batch list and lookup queries is printed;
 * otherwise one line says MongoDB is skipped.
 *
 * Options: --quick (steps up to 10^5 batches), --size=N (or --max-batches=N, BENCH_SCALE_MAX_BATCHES; default 10^6),
 * BENCH_SCALE_REQUESTS requests per query per step (default 200), BENCH_SCALE_ONLY (query name prefixes, e.g.
 * "list,lookup,trace": only those), BENCH_SCALE_DIR (where the SQLite file goes;
 * default a temporary directory, removed afterwards unless --keep). A kept store gets its samples beside it
 * (<file>.samples.json), so the passport benchmark can serve it: BENCH_PASSPORT_STORE=<file>
 * BENCH_PASSPORT_BATCHES=<size> npm run bench:api -- --passports, and `--store=<file>` measures it again as it is
 * (no seeding; the file's samples, or batches probed by rowid for files kept before the samples were all saved).
 *
 * The open (createStore, the reputation thread, the app) is timed on its own, apart from any count; memory is split
 * into private pages and mapped file pages (RssAnon / RssFile), with the V8 heaps of the main and worker threads.
 */
import { fork } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { getHeapStatistics } from "node:v8";
import { DatabaseSync, StatementSync, type SQLInputValue } from "node:sqlite";
import { pino } from "pino";
import type { Hex } from "../backend/domain/model.ts";
import { createBenchmarkApp } from "./fixtures/bench-app.ts";
import { createPassportModule } from "../backend/passport/passport-module.ts";
import { createReputationService } from "../backend/reputation/reputation-service.ts";
import { createReputationThreadFromConfig } from "../backend/main.ts";
import { encodeCursor } from "../backend/store/cursor.ts";
import { createStore } from "../backend/store/index.ts";
import type { MirrorStore } from "../backend/store/port.ts";
import { CHAIN_ID, REGISTRY_ADDRESS } from "./fixtures/chain-history.ts";
import { positiveIntFromEnv } from "./fixtures/environment.ts";
import type { BulkSeedProgress, BulkSeedSummary } from "./fixtures/bulk-store.ts";
import type { BulkSeederData, BulkSeederMessage } from "./fixtures/bulk-seeder.ts";
import { residentMemory, trackWorkerThreads, workerHeapMegabytes } from "./fixtures/resident-memory.ts";

interface Query {
  name: string;
  /** Request path and Accept header; `pick` varies the sampled batch or unit between requests. */
  request: (pick: number) => { path: string; accept?: string };
}

interface StepResult {
  batches: number;
  events: number;
  latencies: Map<string, { p50: number; p99: number; failures: number }>;
  bytesPerEvent: number;
  fileMegabytes: number;
  /** createStore as `npm start` runs it (pragmas, migrations, statistics for tables without any), the thread, the app; no count. */
  openMs: number;
  rssMegabytes: number;
  /** Private memory (heaps, SQLite's page caches, the allocator) and mapped file pages (reclaimable), from /proc. */
  rssAnonMegabytes: number;
  rssFileMegabytes: number;
  heapMegabytes: number;
  /** Of RSS: this thread's V8 heap as resident pages (used or not yet given back). */
  heapResidentMegabytes: number;
  /** The highest private memory and worker threads' resident heaps seen while measuring (sampled each second). */
  peakRssAnonMegabytes: number;
  peakThreadHeapResidentMegabytes: number;
  /** The V8 heaps of the worker threads the serving store and app started (the reputation thread, the readings writer). */
  threadHeapMegabytes: { used: number; resident: number };
  seedEventsPerSecond: number;
  seedRowsPerSecond: number;
  /** 1-minute load average when this step's measurement started and ended. */
  loadBefore: number;
  loadAfter: number;
}

// --- SQL capture, for query plans ---------------------------------------------------------------------------

/**
 * Records the SQL text and parameters of every statement the adapter runs while `recording` is set, by wrapping
 * StatementSync's read methods (the adapter prepares each text once and caches it, so wrapping prepare would miss
 * statements prepared before the measurement).
 */
const captured = new Map<string, SQLInputValue[]>();
let recording = false;
for (const method of ["all", "get", "iterate"] as const) {
  const original = Object.getOwnPropertyDescriptor(StatementSync.prototype, method)!.value as (
    this: StatementSync,
    ...params: SQLInputValue[]
  ) => unknown;
  (StatementSync.prototype as unknown as Record<string, unknown>)[method] = function (this: StatementSync, ...params: SQLInputValue[]) {
    if (recording && !captured.has(this.sourceSQL)) captured.set(this.sourceSQL, params);
    return original.apply(this, params);
  };
}

/**
 * EXPLAIN QUERY PLAN lines of `sql` with `params`, and those that are a full table scan or a temporary b-tree over
 * rows. Sorting the groups of a GROUP BY (the regions of one unit's scans) is bounded by the number of groups, so an
 * ORDER BY b-tree after a GROUP BY that walks an index is not counted; nor is one over rows fetched by primary key
 * from an IN list, or over the participants of one role.
 */
function explainSqlite(db: DatabaseSync, sql: string, params: SQLInputValue[]): { lines: string[]; problems: string[] } {
  const rows = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[];
  const lines = rows.map((row) => row.detail);
  const groupsSortedOnly = /GROUP BY/i.test(sql) && !lines.some((line) => /TEMP B-TREE FOR GROUP BY/.test(line));
  // `WHERE pk IN (SELECT … FROM json_each(?) …) ORDER BY x` fetches by primary key each row of a list the caller
  // passed (the transformations of one page's lots) and sorts only those: bounded by the list, not the table.
  const listedRowsSortedOnly =
    lines.some((line) => /^LIST SUBQUERY/.test(line.trim())) &&
    lines.some((line) => /^SCAN \w+ VIRTUAL TABLE/.test(line.trim())) &&
    lines.some((line) => /^SEARCH \w+ USING (INTEGER )?PRIMARY KEY \(\w+=\?\)$/.test(line.trim()));
  // The participants holding one role (the passport's "who holds this GTIN's company prefix": the manufacturers),
  // fetched by primary key from the role's index range and sorted: bounded by the role's members, not by batches or
  // events (walking participants_in_order instead would read every participant of every role).
  const roleMembersSortedOnly =
    /FROM participant_roles WHERE role = \?/.test(sql) && lines.some((line) => /SEARCH participant_roles .*\(role=\?\)/.test(line));
  const problems = lines.filter((line) => {
    if (/^SCAN \w+( AS \w+)?$/.test(line.trim())) return true;
    if (/USE TEMP B-TREE FOR ORDER BY/.test(line) && (groupsSortedOnly || listedRowsSortedOnly || roleMembersSortedOnly)) return false;
    return /USE TEMP B-TREE/.test(line);
  });
  return { lines, problems };
}

// --- requests -----------------------------------------------------------------------------------------------

async function timeRequest(
  baseUrl: string,
  request: { path: string; accept?: string },
  retry = true,
): Promise<{ ms: number; ok: boolean }> {
  const started = performance.now();
  try {
    const response = await fetch(`${baseUrl}${request.path}`, { headers: { accept: request.accept ?? "application/json" } });
    await response.arrayBuffer();
    return { ms: performance.now() - started, ok: response.ok };
  } catch (error) {
    // A pooled connection the server closed while the store was being seeded: retry once on a fresh one.
    if (retry && error instanceof TypeError) return timeRequest(baseUrl, request, false);
    throw error;
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function measureQuery(baseUrl: string, query: Query, requests: number): Promise<{ p50: number; p99: number; failures: number }> {
  for (let i = 0; i < Math.min(20, requests); i++) await timeRequest(baseUrl, query.request(i)); // warm caches and JIT
  const times: number[] = [];
  let failures = 0;
  for (let i = 0; i < requests; i++) {
    const { ms, ok } = await timeRequest(baseUrl, query.request(i));
    times.push(ms);
    if (!ok) failures++;
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99), failures };
}

/** The queries, over samples spread across everything seeded so far. */
async function queriesOf(store: MirrorStore, samples: BulkSeedSummary["samples"]): Promise<Query[]> {
  const batches = (await store.getBatches(samples.batchIds)).filter((batch) => batch.parentId === null);
  const deep = batches[Math.floor(batches.length * 0.9)]!;
  const deepCursor = encodeCursor("batches", [deep.registered.eventId, deep.batchId]);
  const parents = await store.getBatches(samples.splitParents);
  const children = parents.flatMap((parent) => parent.childIds);
  const at = <T>(list: T[], i: number) => list[i % list.length]!;
  const unitPath = (i: number) => {
    const unit = at(samples.units, i);
    return `/01/${unit.gtin}/10/${encodeURIComponent(unit.lot)}/21/${encodeURIComponent(unit.serial)}`;
  };
  const manufacturer = samples.manufacturer;
  return [
    { name: "list: first page", request: () => ({ path: "/api/v1/batches?limit=50" }) },
    { name: "list: deep cursor page (90%)", request: () => ({ path: `/api/v1/batches?limit=50&cursor=${deepCursor}` }) },
    {
      name: "list: manufacturer+status",
      request: () => ({ path: `/api/v1/batches?manufacturer=${manufacturer}&status=delivered&limit=50` }),
    },
    {
      name: "list: manufacturer+status (rare)",
      request: () => ({ path: `/api/v1/batches?manufacturer=${manufacturer}&status=recalled&limit=50` }),
    },
    {
      name: "list: manufacturer+status, deep",
      request: () => ({ path: `/api/v1/batches?manufacturer=${manufacturer}&status=delivered&limit=50&cursor=${deepCursor}` }),
    },
    {
      name: "lookup: gtin+lot",
      request: (i) => {
        const batch = at(batches, i);
        return { path: `/api/v1/batches?gtin=${batch.gtin}&lot=${encodeURIComponent(batch.lot)}&limit=1` };
      },
    },
    { name: "lookup: batch by id", request: (i) => ({ path: `/api/v1/batches/${at(batches, i).batchId}` }) },
    { name: "trace: split child (history+lineage)", request: (i) => ({ path: `/api/v1/batches/${at(children, i)}` }) },
    { name: "trace: batch events page", request: (i) => ({ path: `/api/v1/batches/${at(batches, i).batchId}/events?limit=50` }) },
    { name: "passport: unit JSON-LD", request: (i) => ({ path: unitPath(i), accept: "application/ld+json" }) },
    { name: "passport: unit HTML", request: (i) => ({ path: unitPath(i), accept: "text/html" }) },
  ];
}

// --- one store, grown step by step ----------------------------------------------------------------------------

interface Target {
  label: string;
  config: { mongodbUri: string | null; sqlitePath: string };
  sqlitePath: string | null;
}

/**
 * Seeds one step in a child process (scripts/fixtures/bulk-seeder.ts): SQLite through a connection of its own in
 * bulk-load mode (no fsync, a large page cache, statistics refreshed at the next open), closed before any request
 * is measured; MongoDB through the normal store. Its memory stays out of this process's RSS and heap figures.
 */
async function seedStep(
  target: Target,
  options: BulkSeederData["options"],
  onProgress: (progress: BulkSeedProgress) => void,
): Promise<BulkSeedSummary> {
  // fork inherits process.execArgv, so the child runs under the same TypeScript loader (tsx) as this script.
  const child = fork(new URL("./fixtures/bulk-seeder.ts", import.meta.url), { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const data: BulkSeederData = { config: target.config, sqlitePath: target.sqlitePath, options };
  child.send(data);
  return new Promise<BulkSeedSummary>((resolve, reject) => {
    let settled = false;
    child.on("message", (message: BulkSeederMessage) => {
      if (message.kind === "progress") onProgress(message.progress);
      else if (message.kind === "done") {
        settled = true;
        resolve(message.summary);
      } else {
        settled = true;
        reject(new Error(`the seeder failed: ${message.error}`));
      }
    });
    child.once("exit", (code) => {
      if (!settled) reject(new Error(`the seeder exited (code ${code}) before it finished`));
    });
  });
}

/**
 * The app over a store opened exactly as `npm start` and the API workers open it (createStore: production pragmas,
 * migrations, statistics for tables without any), listening on 127.0.0.1.
 */
async function serve(target: Target): Promise<{ store: MirrorStore; baseUrl: string; close: () => Promise<void> }> {
  const store = await createStore(target.config);
  // As `npm start`: the reputation API's full records computed on the reputation thread over the SQLite file
  // (passports read the partners' kept track records, not these).
  const reputationThread = createReputationThreadFromConfig(target.config, CHAIN_ID);
  const passports = createPassportModule({
    store,
    reputation: createReputationService({ store, chainId: CHAIN_ID, thread: reputationThread }),
    config: {
      publicBaseUrl: "http://127.0.0.1",
      publicRpcUrl: "http://127.0.0.1:8545",
      chainId: CHAIN_ID,
      registryAddress: REGISTRY_ADDRESS,
    },
    chain: { request: () => Promise.reject(new Error("no chain in the scale benchmark")) } as never,
    logger: pino({ level: "silent" }),
    writeRateLimitPerMinute: 1_000_000,
  });
  const app = createBenchmarkApp({
    store,
    logger: pino({ level: "silent" }),
    modules: [passports],
  });
  const server = app.listen(0, "127.0.0.1");
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    store,
    baseUrl,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await reputationThread?.close();
      await store.close();
    },
  };
}

const loadAverages = (): string =>
  loadavg()
    .map((load) => load.toFixed(1))
    .join(" / ");

const minutes = (ms: number): string => `${Math.floor(ms / 60_000)}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, "0")}s`;

/** A store an earlier run kept (`--store=<file>`): measured as it is, nothing seeded. */
interface KeptStore {
  batches: number;
  events: number;
  samples: BulkSeedSummary["samples"];
}

async function runTarget(
  target: Target,
  steps: number[],
  requests: number,
  kept: KeptStore | null = null,
): Promise<{ results: StepResult[]; planProblems: number }> {
  const results: StepResult[] = [];
  let planProblems = 0;
  let seeded = 0;
  let eventsSeeded = kept?.events ?? 0;
  let samples: BulkSeedSummary["samples"] | null = kept?.samples ?? null;
  for (const [stepIndex, step] of steps.entries()) {
    const summary = kept === null ? await seedStepReporting(target, seeded, step) : null;
    if (summary !== null) {
      seeded = step;
      eventsSeeded += summary.events;
      samples = samples === null ? summary.samples : mergeSamples(samples, summary.samples, seeded - summary.registeredBatches, seeded);
    }

    const openedAt = performance.now();
    const served = await serve(target);
    const openMs = performance.now() - openedAt;
    let result: StepResult;
    try {
      const { store, baseUrl } = served;
      // The seeder's own count: counting 10^7 rows at every step is the benchmark's cost, not the store's.
      const events = eventsSeeded;
      console.log(
        `  ${events.toLocaleString("en-US")} events stored; store opened as in production in ${(openMs / 1000).toFixed(2)} s; measuring (load ${loadAverages()})...`,
      );
      const queries = onlyQueries(await queriesOf(store, samples!));
      const latencies = new Map<string, { p50: number; p99: number; failures: number }>();
      const isLast = stepIndex === steps.length - 1;
      const loadBefore = loadavg();
      const peaks = samplePeaks();
      for (const query of queries) {
        // At the last step every statement the measured requests run is captured, not only those of one request:
        // a cached answer runs none, and the misses (a first rendering) are the slow ones.
        const capturing = isLast && target.sqlitePath !== null;
        captured.clear();
        recording = capturing;
        try {
          latencies.set(query.name, await measureQuery(baseUrl, query, requests));
        } finally {
          recording = false;
        }
        if (capturing) planProblems += printSqlitePlans(target.sqlitePath!, query.name);
      }
      const loadAfter = loadavg();
      const peak = await peaks.stop();
      if (isLast && target.config.mongodbUri !== null) await printMongoPlans(target.config.mongodbUri, samples!);
      if (isLast && target.sqlitePath !== null && keepsStore() && kept === null) {
        // What bench-api's passport benchmark needs to reuse this store (BENCH_PASSPORT_STORE) instead of seeding its
        // own, and what `--store=<file>` needs to measure it again.
        writeFileSync(`${target.sqlitePath}.samples.json`, JSON.stringify({ batches: step, events, units: samples!.units, samples }));
      }

      globalThis.gc?.();
      const memory = process.memoryUsage();
      const resident = residentMemory();
      const fileBytes = target.sqlitePath === null ? 0 : fileSize(target.sqlitePath) + fileSize(`${target.sqlitePath}-wal`);
      result = {
        batches: step,
        events,
        latencies,
        bytesPerEvent: target.sqlitePath === null ? Number.NaN : fileBytes / events,
        fileMegabytes: fileBytes / 1e6,
        openMs,
        rssMegabytes: memory.rss / 1e6,
        rssAnonMegabytes: resident.rssAnon,
        rssFileMegabytes: resident.rssFile,
        heapMegabytes: memory.heapUsed / 1e6,
        heapResidentMegabytes: getHeapStatistics().total_physical_size / 1e6,
        peakRssAnonMegabytes: peak.rssAnon,
        peakThreadHeapResidentMegabytes: peak.threadHeapResident,
        threadHeapMegabytes: await workerHeapMegabytes(),
        seedEventsPerSecond: summary === null ? Number.NaN : (summary.events / summary.elapsedMs) * 1000,
        seedRowsPerSecond: summary === null ? Number.NaN : summary.rowsPerSecond,
        loadBefore: loadBefore[0]!,
        loadAfter: loadAfter[0]!,
      };
    } finally {
      await served.close();
    }
    results.push(result);
    printTable(target.label, results);
  }
  return { results, planProblems };
}

/** Samples private memory and the worker threads' resident heaps every second until stopped; resolves to the highest. */
function samplePeaks(): { stop: () => Promise<{ rssAnon: number; threadHeapResident: number }> } {
  const peak = { rssAnon: 0, threadHeapResident: 0 };
  let sampling: Promise<void> = Promise.resolve();
  const sample = () => {
    sampling = sampling.then(async () => {
      peak.rssAnon = Math.max(peak.rssAnon, residentMemory().rssAnon);
      peak.threadHeapResident = Math.max(peak.threadHeapResident, (await workerHeapMegabytes()).resident);
    });
  };
  sample();
  const timer = setInterval(sample, 1_000);
  return {
    stop: async () => {
      clearInterval(timer);
      sample();
      await sampling;
      return peak;
    },
  };
}

async function seedStepReporting(target: Target, seeded: number, step: number): Promise<BulkSeedSummary> {
  const stepBatches = step - seeded;
  console.log(
    `[${target.label}] ${new Date().toISOString()} seeding up to ${step.toLocaleString("en-US")} batches (load ${loadAverages()})...`,
  );
  let lastReport = { ms: 0, events: 0 };
  const summary = await seedStep(target, { batches: stepBatches, firstBatch: seeded, chunkBatches: SEED_CHUNK_BATCHES }, (progress) => {
    if (progress.elapsedMs - lastReport.ms < 30_000) return;
    const recent = ((progress.events - lastReport.events) / (progress.elapsedMs - lastReport.ms)) * 1000;
    lastReport = { ms: progress.elapsedMs, events: progress.events };
    const remainingMs = ((stepBatches - progress.batches) / progress.batches) * progress.elapsedMs;
    console.log(
      `  ${(seeded + progress.batches).toLocaleString("en-US")} batches, ${progress.events.toLocaleString("en-US")} events this step,` +
        ` ${Math.round(recent).toLocaleString("en-US")} events/s (last 30 s), ${Math.round(progress.eventsPerSecond).toLocaleString("en-US")} events/s (step),` +
        ` ${minutes(progress.elapsedMs)} elapsed, ETA ${minutes(remainingMs)}, load ${loadAverages()}`,
    );
  });
  console.log(
    `  seeded ${summary.events.toLocaleString("en-US")} events in ${minutes(summary.elapsedMs)}: ${Math.round(summary.eventsPerSecond).toLocaleString("en-US")} events/s, ${Math.round(summary.rowsPerSecond).toLocaleString("en-US")} rows/s`,
  );
  return summary;
}

/**
 * The samples of a kept store (<file>.samples.json). Files written before they held every kind of sample have units
 * only: batches are then probed by rowid, evenly over the table (index lookups, not a scan).
 */
function keptStoreOf(file: string): KeptStore {
  const kept = JSON.parse(readFileSync(`${file}.samples.json`, "utf8")) as {
    batches: number;
    events: number;
    units: BulkSeedSummary["samples"]["units"];
    samples?: BulkSeedSummary["samples"];
  };
  if (kept.samples !== undefined) return { batches: kept.batches, events: kept.events, samples: kept.samples };
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    const { last } = db.prepare("SELECT max(rowid) AS last FROM batches").get() as { last: number };
    const probe = db.prepare("SELECT batch_id, parent_id, manufacturer FROM batches WHERE rowid = ?");
    const probed = Array.from(
      { length: 3_000 },
      (_, i) =>
        probe.get(Math.floor(((i + 0.5) * last) / 3_000)) as { batch_id: Hex; parent_id: Hex | null; manufacturer: Hex } | undefined,
    ).filter((row) => row !== undefined);
    return {
      batches: kept.batches,
      events: kept.events,
      samples: {
        batchIds: probed.filter((row) => row.parent_id === null).map((row) => row.batch_id),
        units: kept.units,
        splitParents: [...new Set(probed.flatMap((row) => (row.parent_id === null ? [] : [row.parent_id])))],
        recalled: [],
        manufacturer: probed[0]!.manufacturer,
      },
    };
  } finally {
    db.close();
  }
}

/** Keeps samples spread over everything seeded: each call's samples weighted by the share of batches it added. */
function mergeSamples(
  before: BulkSeedSummary["samples"],
  added: BulkSeedSummary["samples"],
  previousBatches: number,
  totalBatches: number,
): BulkSeedSummary["samples"] {
  const mix = <T>(a: T[], b: T[]) => {
    const keepOld = Math.max(1, Math.round((a.length * previousBatches) / totalBatches));
    return [...a.filter((_, i) => i % Math.ceil(a.length / keepOld) === 0), ...b];
  };
  return {
    batchIds: mix(before.batchIds, added.batchIds),
    units: mix(before.units, added.units),
    splitParents: mix(before.splitParents, added.splitParents),
    recalled: mix(before.recalled, added.recalled),
    manufacturer: before.manufacturer,
  };
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Prints the plan of every statement captured for `queryName`; returns how many full scans / temp sorts it found. */
function printSqlitePlans(path: string, queryName: string): number {
  const db = new DatabaseSync(path, { readOnly: true });
  let problems = 0;
  try {
    console.log(`\nEXPLAIN QUERY PLAN for "${queryName}" (${captured.size} statement${captured.size === 1 ? "" : "s"}):`);
    for (const [sql, params] of captured) {
      const plan = explainSqlite(db, sql, params);
      problems += plan.problems.length;
      console.log(`  ${sql.replace(/\s+/g, " ").trim()}`);
      for (const line of plan.lines) console.log(`    ${plan.problems.includes(line) ? "!! " : ""}${line}`);
    }
  } finally {
    db.close();
  }
  return problems;
}

/** explain() of the batch queries the list and lookup rows run, on the same filters and sort as the adapter. */
async function printMongoPlans(uri: string, samples: BulkSeedSummary["samples"]): Promise<void> {
  const { MongoClient } = (await import("mongoose")).default.mongo; // the driver mongoose ships, as the adapter uses
  const client = new MongoClient(uri);
  try {
    await client.connect();
    const batches = client.db().collection("batches");
    const order = { "registered.eventId": 1, _id: 1 } as const;
    const probe = await batches.findOne({ _id: samples.batchIds[0] as never });
    const plans: [string, () => Promise<unknown>][] = [
      ["list: first page", () => batches.find({}).sort(order).limit(51).explain("executionStats")],
      [
        "list: manufacturer+status",
        () => batches.find({ manufacturer: samples.manufacturer, status: "delivered" }).sort(order).limit(51).explain("executionStats"),
      ],
      ["lookup: gtin+lot", () => batches.find({ gtin: probe?.gtin, lot: probe?.lot }).limit(2).explain("executionStats")],
      ["lookup: batch by id", () => batches.find({ _id: samples.batchIds[0] as never }).explain("executionStats")],
    ];
    for (const [name, explain] of plans) {
      const result = (await explain()) as {
        queryPlanner: { winningPlan: unknown };
        executionStats: { totalDocsExamined: number; totalKeysExamined: number };
      };
      const stages =
        JSON.stringify(result.queryPlanner.winningPlan)
          .match(/"stage":"\w+"/g)
          ?.map((stage) => stage.slice(9, -1)) ?? [];
      const { totalDocsExamined, totalKeysExamined } = result.executionStats;
      const flag = stages.includes("COLLSCAN") || stages.includes("SORT") ? "!! " : "";
      console.log(`  ${flag}mongodb ${name}: ${stages.join(" <- ")} (keys ${totalKeysExamined}, docs ${totalDocsExamined})`);
    }
  } finally {
    await client.close();
  }
}

function printTable(label: string, results: StepResult[]): void {
  const names = [...results[0]!.latencies.keys()];
  const header = ["", ...results.map((result) => `${result.batches.toLocaleString("en-US")} batches`)];
  const rows: string[][] = [
    ["events stored", ...results.map((result) => result.events.toLocaleString("en-US"))],
    ...names.map((name) => [
      `${name} p50/p99 ms`,
      ...results.map((result) => {
        const latency = result.latencies.get(name)!;
        return `${latency.p50.toFixed(1)} / ${latency.p99.toFixed(1)}${latency.failures > 0 ? ` (${latency.failures} failed)` : ""}`;
      }),
    ]),
    ["store on disk (MB)", ...results.map((result) => (result.fileMegabytes > 0 ? result.fileMegabytes.toFixed(0) : "n/a"))],
    ["bytes per event", ...results.map((result) => (Number.isNaN(result.bytesPerEvent) ? "n/a" : result.bytesPerEvent.toFixed(0)))],
    ["store open as npm start (s)", ...results.map((result) => (result.openMs / 1000).toFixed(2))],
    ["RSS after step (MB)", ...results.map((result) => result.rssMegabytes.toFixed(0))],
    [
      "  private / file-backed (RssAnon / RssFile)",
      ...results.map((result) => `${result.rssAnonMegabytes.toFixed(0)} / ${result.rssFileMegabytes.toFixed(0)}`),
    ],
    ["V8 heap after step (MB)", ...results.map((result) => result.heapMegabytes.toFixed(0))],
    ["  V8 heap resident (MB)", ...results.map((result) => result.heapResidentMegabytes.toFixed(0))],
    [
      "peak while measuring: RssAnon / threads' heaps (MB)",
      ...results.map((result) => `${result.peakRssAnonMegabytes.toFixed(0)} / ${result.peakThreadHeapResidentMegabytes.toFixed(0)}`),
    ],
    [
      "  worker threads' V8 heaps used / resident (MB)",
      ...results.map((result) => `${result.threadHeapMegabytes.used.toFixed(0)} / ${result.threadHeapMegabytes.resident.toFixed(0)}`),
    ],
    ["seeding events/s (this step)", ...results.map((result) => perSecond(result.seedEventsPerSecond))],
    ["seeding rows/s (this step)", ...results.map((result) => perSecond(result.seedRowsPerSecond))],
    ["load average (1 min) measuring", ...results.map((result) => `${result.loadBefore.toFixed(1)} -> ${result.loadAfter.toFixed(1)}`)],
  ];
  const all = [header, ...rows];
  const widths = header.map((_, column) => Math.max(...all.map((row) => row[column]!.length)));
  const line = (row: string[]) =>
    row.map((cell, column) => (column === 0 ? cell.padEnd(widths[0]!) : cell.padStart(widths[column]!))).join("  ");
  console.log(`\n${label}, ${new Date().toISOString()}, one request at a time over HTTP on 127.0.0.1 (${cpus().length} cores):`);
  console.log(line(header));
  console.log(widths.map((width) => "-".repeat(width)).join("  "));
  for (const row of rows) console.log(line(row));
}

/** BENCH_SCALE_ONLY=list,trace (name prefixes): measures only those queries, e.g. to see memory without passports. */
function onlyQueries(queries: Query[]): Query[] {
  const prefixes = (process.env.BENCH_SCALE_ONLY ?? "")
    .split(",")
    .map((prefix) => prefix.trim())
    .filter((prefix) => prefix !== "");
  return prefixes.length === 0 ? queries : queries.filter((query) => prefixes.some((prefix) => query.name.startsWith(prefix)));
}

const perSecond = (value: number): string => (Number.isNaN(value) ? "n/a" : Math.round(value).toLocaleString("en-US"));

/** --keep or BENCH_SCALE_DIR: the seeded SQLite file stays after the run. */
const keepsStore = (): boolean => process.argv.includes("--keep") || Boolean(process.env.BENCH_SCALE_DIR);

/** Batches per range commit while seeding (~50,000 events): fewer, larger commits write each hot page once. */
const SEED_CHUNK_BATCHES = 5_000;

/** Below this the samples may hold no split batch or stored serial set to trace and render. */
const MIN_BATCHES = 1_000;

function maxBatchesOf(argv: string[]): number {
  const flag = argv.find((arg) => arg.startsWith("--max-batches=") || arg.startsWith("--size="));
  const value =
    flag !== undefined
      ? Number(flag.slice(flag.indexOf("=") + 1))
      : argv.includes("--quick")
        ? 100_000
        : positiveIntFromEnv("BENCH_SCALE_MAX_BATCHES", 1_000_000);
  if (!Number.isInteger(value) || value < MIN_BATCHES) {
    throw new Error(`the largest step must be an integer of at least ${MIN_BATCHES} batches, got ${flag ?? value}`);
  }
  return value;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const requests = positiveIntFromEnv("BENCH_SCALE_REQUESTS", 200);
  trackWorkerThreads();
  const keptFile = argv.find((arg) => arg.startsWith("--store="))?.slice("--store=".length);
  if (keptFile !== undefined) {
    await measureKeptStore(keptFile, requests);
    return;
  }
  const maxBatches = maxBatchesOf(argv);
  const steps = [10_000, 100_000, 1_000_000].filter((step) => step < maxBatches);
  steps.push(maxBatches);

  const directory = process.env.BENCH_SCALE_DIR || mkdtempSync(join(tmpdir(), "provena-bench-scale-"));
  const sqlitePath = join(directory, `scale-${Date.now()}.db`);
  const targets: Target[] = [{ label: "SQLite", config: { mongodbUri: null, sqlitePath }, sqlitePath }];
  if (process.env.MONGODB_URI) {
    const match = /^(mongodb(?:\+srv)?:\/\/[^/?]+)(?:\/[^?]*)?(\?.*)?$/.exec(process.env.MONGODB_URI);
    if (!match) throw new Error("MONGODB_URI is not a mongodb:// or mongodb+srv:// URI");
    const database = `provena_scale_${Date.now()}`;
    targets.push({
      label: `MongoDB (database ${database}, left for inspection)`,
      config: { mongodbUri: `${match[1]}/${database}${match[2] ?? ""}`, sqlitePath: "" },
      sqlitePath: null,
    });
  }

  console.log(
    `Scale benchmark: steps ${steps.map((step) => step.toLocaleString("en-US")).join(" -> ")} batches, ${requests} requests per query per step.`,
  );
  let planProblems = 0;
  try {
    for (const target of targets) planProblems += (await runTarget(target, steps, requests)).planProblems;
  } finally {
    if (!keepsStore()) rmSync(directory, { recursive: true, force: true });
    else console.log(`SQLite file kept at ${sqlitePath}`);
  }
  if (!process.env.MONGODB_URI)
    console.log("\nMongoDB: skipped, MONGODB_URI is not set (set it to run the same steps and explain() against a fresh database).");
  if (planProblems > 0) {
    console.log(`\n${planProblems} query plan line(s) show a full scan or a temporary b-tree (marked !! above).`);
    process.exitCode = 1;
  } else {
    console.log("\nEvery measured statement uses an index: no full scans, no temporary sort b-trees.");
  }
}

/** `--store=<file>`: one measurement of a store an earlier `--keep` run left, served as `npm start` serves it. */
async function measureKeptStore(file: string, requests: number): Promise<void> {
  if (!existsSync(file) || !existsSync(`${file}.samples.json`))
    throw new Error(`${file} is not a kept store (no ${file}.samples.json beside it)`);
  const kept = keptStoreOf(file);
  console.log(
    `Scale benchmark on the kept store ${file}: ${kept.batches.toLocaleString("en-US")} batches, ${requests} requests per query.`,
  );
  const target: Target = { label: "SQLite (kept store)", config: { mongodbUri: null, sqlitePath: file }, sqlitePath: file };
  const { planProblems } = await runTarget(target, [kept.batches], requests, kept);
  if (planProblems > 0) {
    console.log(`\n${planProblems} query plan line(s) show a full scan or a temporary b-tree (marked !! above).`);
    process.exitCode = 1;
  } else {
    console.log("\nEvery measured statement uses an index: no full scans, no temporary sort b-trees.");
  }
}

await main();
