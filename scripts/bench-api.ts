/**
 * API benchmark: `npm run bench:api`.
 *
 * Seeds a store with a realistic supply chain (thousands of batches carried through custody, inspected,
 * split and some recalled, mirrored through the real projection reducers), serves the app from a child
 * process on 127.0.0.1 (so the load generator and the server do not share one event loop), runs autocannon
 * against batch-by-id and list endpoints, and prints requests/s, p50 and p99 with one column per store:
 * SQLite always, MongoDB when MONGODB_URI is set (seeded into a fresh database of its own).
 *
 * Then the passport benchmark (`--passports` runs it alone): a SQLite store seeded with BENCH_PASSPORT_BATCHES
 * (default 1,000,000) batch lives by scripts/fixtures/bulk-store.ts, unit passports (HTML and JSON-LD) of every
 * unit of 4 of its batches with stored serial lists (the products that went viral; each page carries its proof),
 * served by 1 and by 2 API processes sharing one port (node:cluster, each opening the same SQLite file, with rate
 * limits and scan de-duplication counted cluster-wide by the primary, as API_WORKERS does), cold (PASSPORT_CACHE_MB=0: every request renders) and cached (the default cache). The load
 * comes from one client address, so each unit's first page view is its one counted scan and the rest are repeats.
 * Each passport column also gives the server's memory after the measurement (all its processes: private pages and
 * mapped file pages, RssAnon / RssFile from /proc).
 *
 * Environment: BENCH_BATCHES (default 5000), BENCH_DURATION_SECONDS per endpoint (default 5),
 * BENCH_CONNECTIONS (default 10), MONGODB_URI; BENCH_PASSPORT_BATCHES; BENCH_PASSPORT_STORE, a SQLite file kept
 * after the run and reused by the next (seeding a million batches takes minutes); BENCH_PASSPORT_WARMUP_SECONDS of
 * load before each passport measurement (default 2); BENCH_SKIP_API=1 or `--passports` runs only the passport benchmark.
 */
import { fork, type ChildProcess } from "node:child_process";
import cluster, { type Worker } from "node:cluster";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { pino } from "pino";
import { createBenchmarkApp } from "./fixtures/bench-app.ts";
import { createStore, type MirrorStore } from "../backend/store/index.ts";
import type { Hex } from "../backend/domain/model.ts";
import { createPassportModule } from "../backend/passport/passport-module.ts";
import { createReputationService } from "../backend/reputation/reputation-service.ts";
import { createReputationThreadFromConfig } from "../backend/main.ts";
import { DEFAULT_CLONE_THRESHOLDS } from "../backend/passport/passport-service.ts";
import { createClusterScanDeduper, createSeenScanKeys, isScanKey, type ScanKeyAnswer } from "../backend/passport/scan-dedupe.ts";
import { createClusterRateLimitClient, createRateLimitResponder } from "../backend/api/cluster-rate-limit-store.ts";
import { LIMIT_DEFAULTS } from "../backend/config.ts";
import { digitalLinkPath } from "../backend/passport/digital-link.ts";
import { CHAIN_ID, ChainHistory, REGISTRY_ADDRESS, gtin14 } from "./fixtures/chain-history.ts";
import { seedBulkStore, type SampleUnit } from "./fixtures/bulk-store.ts";
import { processTreeMemory } from "./fixtures/resident-memory.ts";
import { addPassportData } from "./fixtures/passport-data.ts";
import { positiveIntFromEnv } from "./fixtures/environment.ts";

interface StoreTarget {
  label: string;
  config: { mongodbUri: string | null; sqlitePath: string };
  /** Where the seeded data stays afterwards, if anywhere. */
  leftover?: string;
}

interface Endpoint {
  name: string;
  path: (pick: () => Hex) => string;
}

interface Measurement {
  requests: number;
  /** Server CPU (all its processes, user + system) per request: steadier than requests/s on a shared machine. */
  serverCpuMicrosPerRequest?: number;
  /** The server's processes' private memory and mapped file pages (MB, /proc) right after the measurement. */
  serverMemory?: { rssAnon: number; rssFile: number };
  requestsPerSecond: number;
  p50: number;
  p99: number;
  failures: number;
}

interface SeedSummary {
  batchIds: Hex[];
  manufacturer: Hex;
  events: number;
  seconds: number;
}

// --- the data set -------------------------------------------------------------------------------------

/**
 * A chain with `batchCount` batches from 20 manufacturers (50 GTINs): every batch is picked up by a carrier and
 * delivered to a warehouse; 60% are inspected, 10% split into two children, 2% recalled.
 */
function buildHistory(batchCount: number): { history: ChainHistory; batchIds: Hex[]; manufacturer: Hex } {
  const history = new ChainHistory();
  const manufacturers = Array.from({ length: 20 }, (_, i) => history.onboard(`manufacturer-${i}`, "MANUFACTURER"));
  const carriers = Array.from({ length: 10 }, (_, i) => history.onboard(`carrier-${i}`, "CARRIER"));
  const warehouses = Array.from({ length: 10 }, (_, i) => history.onboard(`warehouse-${i}`, "RETAILER"));
  const inspectors = Array.from({ length: 5 }, (_, i) => history.onboard(`inspector-${i}`, "INSPECTOR"));
  const regulator = history.onboard("regulator", "REGULATOR");
  const gtins = Array.from({ length: 50 }, (_, i) => gtin14(String(401234500000 + i)));

  const batchIds: Hex[] = [];
  for (let i = 0; i < batchCount; i++) {
    const manufacturer = manufacturers[i % manufacturers.length]!;
    const carrier = carriers[i % carriers.length]!;
    const warehouse = warehouses[(i * 7) % warehouses.length]!;
    const gtin = gtins[i % gtins.length]!;
    const lot = `L${String(i).padStart(7, "0")}`;
    // Several batches share each block, as on a busy chain.
    let batchId!: Hex;
    history.inOneBlock(() => {
      batchId = history.registerBatch({ manufacturer, gtin, lot, quantity: 100 + (i % 900) });
    });
    batchIds.push(batchId);
    history.handOver(batchId, manufacturer, carrier);
    history.handOver(batchId, carrier, warehouse);
    if (i % 5 < 3) history.attest(batchId, inspectors[i % inspectors.length]!, i % 17 !== 0);
    if (i % 10 === 0) {
      batchIds.push(
        ...history.split(batchId, gtin, warehouse, [
          { lot: `${lot}/A`, quantity: 50 },
          { lot: `${lot}/B`, quantity: 50 + (i % 850) },
        ]),
      );
    } else if (i % 50 === 7) {
      history.recall(batchId, regulator);
    }
  }
  return { history, batchIds, manufacturer: manufacturers[0]! };
}

async function seed(store: MirrorStore, batchCount: number): Promise<SeedSummary> {
  const started = performance.now();
  const { history, batchIds, manufacturer } = buildHistory(batchCount);
  await history.mirrorInto(store, { rangeSize: 500 });
  return { batchIds, manufacturer, events: history.events.length, seconds: (performance.now() - started) / 1000 };
}

// --- the server, in a child process ---------------------------------------------------------------------

/** How the child serves: the store, and for passports the number of processes and the view cache size. */
interface ServeOptions {
  store: StoreTarget["config"];
  passports?: { workers: number; cacheMb: number };
}

/**
 * Child: opens the store, serves the app on 127.0.0.1, reports the port, stops when told. With passports and
 * several workers it is a cluster primary: each worker opens the same store and serves on the one shared port.
 */
async function serve(options: ServeOptions): Promise<void> {
  const workers = options.passports?.workers ?? 1;
  if (workers > 1 && cluster.isPrimary) {
    await serveAsClusterPrimary(workers);
    return;
  }
  const store = await createStore(options.store);
  const logger = pino({ level: "warn" });
  // A cluster worker counts rate limits and scans cluster-wide, through the primary, as API_WORKERS does
  // (backend/api-worker-process.ts); a single process counts them itself.
  const clustered = cluster.isWorker;
  const rateLimits = clustered
    ? createClusterRateLimitClient({
        send: (question) => process.send!(question, undefined, {}, () => undefined),
        connected: () => process.connected,
        workers,
        logger,
      })
    : null;
  const scanDeduper = clustered
    ? createClusterScanDeduper({
        windowMs: DEFAULT_CLONE_THRESHOLDS.recentWindowMs,
        secret: Buffer.from(process.env.BENCH_SCAN_DEDUPE_KEY!, "base64url"),
        ask: (question, undelivered) =>
          process.connected &&
          process.send!({ type: "scan-first", ...question }, undefined, {}, (error: Error | null) => {
            if (error) undelivered();
          }),
        logger,
      })
    : null;
  // As `npm start` and its API workers: the reputation API's records computed on the reputation thread (SQLite files).
  const reputationThread = options.passports ? createReputationThreadFromConfig(options.store, CHAIN_ID) : null;
  const modules = options.passports
    ? [
        createPassportModule({
          store,
          logger,
          reputation: createReputationService({ store, chainId: CHAIN_ID, thread: reputationThread }),
          chain: { send: async () => Promise.reject(new Error("no chain in the benchmark")) },
          config: {
            publicBaseUrl: "http://127.0.0.1",
            publicRpcUrl: "http://127.0.0.1/rpc",
            chainId: CHAIN_ID,
            registryAddress: REGISTRY_ADDRESS,
            viewCacheMb: options.passports.cacheMb,
          },
          ...(rateLimits ? { rateLimitStoreFor: rateLimits.storeFor } : {}),
          ...(scanDeduper ? { scanDeduper } : {}),
        }),
      ]
    : [];
  const app = createBenchmarkApp({
    store,
    logger,
    modules,
    ...(rateLimits ? { rateLimitStoreFor: rateLimits.storeFor } : {}),
  });
  const server = app.listen(0, "127.0.0.1", () => {
    const address = server.address();
    process.send?.({ port: typeof address === "object" && address ? address.port : 0 });
  });
  process.on("message", (message: unknown) => {
    if (rateLimits?.receive(message as never)) return;
    if (typeof message === "object" && message !== null && (message as { type?: unknown }).type === "scan-first") {
      scanDeduper?.answer(message as ScanKeyAnswer);
    } else if (message === "cpu") {
      const { user, system } = process.cpuUsage();
      process.send?.({ cpuMicros: user + system });
    } else if (message === "stop") {
      server.close(
        () =>
          void Promise.resolve(reputationThread?.close())
            .then(() => store.close())
            .then(() => process.exit(0)),
      );
    }
  });
}

/**
 * The primary of the 2-process setup: forks the workers (which serve on one shared port) and, as backend/api-workers.ts
 * does, holds the cluster-wide rate-limit counters and scan keys the workers ask about.
 */
async function serveAsClusterPrimary(workers: number): Promise<void> {
  const rateLimits = createRateLimitResponder({ maxClients: LIMIT_DEFAULTS.rateLimitMaxClients });
  const seenScans = createSeenScanKeys();
  const scanDedupeKey = randomBytes(32).toString("base64url");
  const cpuReplies = new Map<Worker, (micros: number) => void>();
  const forked = Array.from({ length: workers }, () => cluster.fork({ BENCH_SCAN_DEDUPE_KEY: scanDedupeKey }));
  const ports = await Promise.all(
    forked.map(
      (worker) =>
        new Promise<number>((resolve) => {
          worker.on("message", (message: Record<string, unknown>) => {
            if (rateLimits.answer(message, (answer) => worker.send(answer))) return;
            if (message.type === "scan-first" && Number.isSafeInteger(message.id) && isScanKey(message.key)) {
              worker.send({ type: "scan-first", id: message.id, first: seenScans.firstTime(message.key) });
            } else if (typeof message.port === "number") {
              resolve(message.port);
            } else if (typeof message.cpuMicros === "number") {
              cpuReplies.get(worker)?.(message.cpuMicros);
            }
          });
        }),
    ),
  );
  process.send?.({ port: ports[0] });
  process.on("message", (message) => {
    if (message === "cpu") {
      // The CPU time of every worker and of this primary, summed: what the server spent, whatever else shares the machine.
      const own = process.cpuUsage();
      void Promise.all(
        forked.map(
          (worker) =>
            new Promise<number>((resolve) => {
              cpuReplies.set(worker, resolve);
              worker.send("cpu");
            }),
        ),
      ).then((micros) => process.send?.({ cpuMicros: micros.reduce((sum, each) => sum + each, own.user + own.system) }));
      return;
    }
    if (message !== "stop") return;
    for (const worker of forked) worker.send("stop");
    cluster.on("exit", () => {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
    });
  });
}

/** CPU time (user + system, µs) the server child and its workers have used so far. */
async function serverCpuMicros(child: ChildProcess): Promise<number> {
  return new Promise<number>((resolve) => {
    child.once("message", (reply) => resolve((reply as { cpuMicros: number }).cpuMicros));
    child.send("cpu");
  });
}

async function startServer(options: ServeOptions): Promise<{ child: ChildProcess; port: number }> {
  // fork inherits process.execArgv, so the child runs under the same TypeScript loader (tsx) as this script.
  const child = fork(fileURLToPath(import.meta.url), ["--serve", JSON.stringify(options)], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once("message", (message) => resolve((message as { port: number }).port));
    child.once("exit", (code) => reject(new Error(`the API server exited (code ${code}) before listening`)));
  });
  return { child, port };
}

async function stopServer(child: ChildProcess): Promise<void> {
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.send("stop");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

// --- load ------------------------------------------------------------------------------------------------

async function measure(
  port: number,
  path: () => string,
  duration: number,
  connections: number,
  headers: Record<string, string> = {},
): Promise<Measurement> {
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    duration,
    headers,
    requests: [{ method: "GET", setupRequest: (request) => ({ ...request, path: path() }) }],
  });
  return {
    requests: result.requests.total,
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failures: result.errors + result.timeouts + result.non2xx,
  };
}

function printTable(endpoints: { name: string }[], labels: string[], results: Map<string, Map<string, Measurement>>): void {
  const rows: string[][] = [["endpoint", "metric", ...labels]];
  for (const endpoint of endpoints) {
    const cells = (format: (m: Measurement) => string) =>
      labels.map((label) => {
        const m = results.get(label)?.get(endpoint.name);
        if (!m) return "n/a";
        return m.failures > 0 ? `${format(m)} (${m.failures} failed)` : format(m);
      });
    rows.push([endpoint.name, "requests/s", ...cells((m) => Math.round(m.requestsPerSecond).toLocaleString("en-US"))]);
    rows.push(["", "p50 (ms)", ...cells((m) => m.p50.toFixed(1))]);
    rows.push(["", "p99 (ms)", ...cells((m) => m.p99.toFixed(1))]);
    if (labels.some((label) => results.get(label)?.get(endpoint.name)?.serverCpuMicrosPerRequest !== undefined)) {
      rows.push(["", "server CPU µs/req", ...cells((m) => (m.serverCpuMicrosPerRequest ?? Number.NaN).toFixed(0))]);
    }
    if (labels.some((label) => results.get(label)?.get(endpoint.name)?.serverMemory !== undefined)) {
      rows.push([
        "",
        "server RssAnon/File MB",
        ...cells((m) => (m.serverMemory ? `${m.serverMemory.rssAnon.toFixed(0)} / ${m.serverMemory.rssFile.toFixed(0)}` : "n/a")),
      ]);
    }
  }
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const line = (row: string[]) =>
    row.map((cell, column) => (column < 2 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join("  ");
  console.log(line(rows[0]!));
  console.log(widths.map((width) => "-".repeat(width)).join("  "));
  for (const row of rows.slice(1)) console.log(line(row));
}

/** The configured MongoDB URI pointed at a database of its own, so the benchmark never mixes with real data. */
function benchmarkMongoUri(uri: string): { uri: string; database: string } {
  const database = `provena_bench_${Date.now()}`;
  const match = /^(mongodb(?:\+srv)?:\/\/[^/?]+)(?:\/[^?]*)?(\?.*)?$/.exec(uri);
  if (!match) throw new Error("MONGODB_URI is not a mongodb:// or mongodb+srv:// URI");
  return { uri: `${match[1]}/${database}${match[2] ?? ""}`, database };
}

async function runApiBenchmark(): Promise<void> {
  const batchCount = positiveIntFromEnv("BENCH_BATCHES", 5_000);
  const duration = positiveIntFromEnv("BENCH_DURATION_SECONDS", 5);
  const connections = positiveIntFromEnv("BENCH_CONNECTIONS", 10);

  const workDir = mkdtempSync(join(tmpdir(), "provena-bench-api-"));
  const targets: StoreTarget[] = [{ label: "sqlite", config: { mongodbUri: null, sqlitePath: join(workDir, "provena.db") } }];
  if (process.env.MONGODB_URI) {
    const { uri, database } = benchmarkMongoUri(process.env.MONGODB_URI);
    targets.push({
      label: "mongodb",
      config: { mongodbUri: uri, sqlitePath: "" },
      leftover: `MongoDB database ${database} (drop it when done)`,
    });
  } else {
    console.log("MONGODB_URI not set: benchmarking the embedded SQLite store only.");
  }

  let manufacturer: Hex | null = null;
  const endpoints: Endpoint[] = [
    { name: "GET /api/v1/batches/{batchId}", path: (pick) => `/api/v1/batches/${pick()}` },
    { name: "GET /api/v1/batches?limit=50", path: () => "/api/v1/batches?limit=50" },
    {
      name: "GET /api/v1/batches?manufacturer&status",
      path: () => `/api/v1/batches?manufacturer=${manufacturer}&status=delivered&limit=50`,
    },
    { name: "GET /api/v1/batches/{batchId}/events", path: (pick) => `/api/v1/batches/${pick()}/events` },
  ];

  const results = new Map<string, Map<string, Measurement>>();
  try {
    for (const target of targets) {
      const store = await createStore(target.config);
      console.log(`Seeding ${store.describe()} with ${batchCount} batches...`);
      const seeded = await seed(store, batchCount).finally(() => store.close());
      manufacturer = seeded.manufacturer;
      console.log(`  ${seeded.batchIds.length} batches, ${seeded.events} events mirrored in ${seeded.seconds.toFixed(1)} s`);

      const { child, port } = await startServer({ store: target.config });
      try {
        const byEndpoint = new Map<string, Measurement>();
        for (const endpoint of endpoints) {
          // A short warm-up fills caches and JIT paths so the measurement is of steady state.
          const pick = () => seeded.batchIds[Math.floor(Math.random() * seeded.batchIds.length)]!;
          await measure(port, () => endpoint.path(pick), 1, connections);
          const measurement = await measure(port, () => endpoint.path(pick), duration, connections);
          byEndpoint.set(endpoint.name, measurement);
          console.log(`  ${target.label} ${endpoint.name}: ${Math.round(measurement.requestsPerSecond)} req/s`);
        }
        results.set(target.label, byEndpoint);
      } finally {
        await stopServer(child);
      }
      if (target.leftover) console.log(`  benchmark data left in ${target.leftover}`);
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }

  console.log(
    `\nAPI benchmark: ${batchCount} registered batches, ${connections} connections, ${duration} s per endpoint, server on 127.0.0.1\n`,
  );
  printTable(
    endpoints,
    targets.map((target) => target.label),
    results,
  );
}

// --- passports at scale ------------------------------------------------------------------------------------

interface PassportSeed {
  batches: number;
  events: number;
  units: SampleUnit[];
}

/** The seeded store at `file`, seeding it first unless an earlier run left it there (with its samples beside it). */
async function passportStore(file: string, batches: number): Promise<PassportSeed> {
  const samplesFile = `${file}.samples.json`;
  if (existsSync(file) && existsSync(samplesFile)) {
    const seed = JSON.parse(readFileSync(samplesFile, "utf8")) as PassportSeed;
    if (seed.batches === batches) {
      console.log(`Reusing ${file}: ${batches.toLocaleString("en-US")} batches, ${seed.events.toLocaleString("en-US")} events.`);
      return seed;
    }
    throw new Error(`${file} holds ${seed.batches} batches, not ${batches}: delete it or set BENCH_PASSPORT_BATCHES=${seed.batches}`);
  }
  const store = await createStore({ mongodbUri: null, sqlitePath: file });
  try {
    console.log(`Seeding ${store.describe()} with ${batches.toLocaleString("en-US")} batches (scripts/fixtures/bulk-store.ts)...`);
    let reported = 0;
    const summary = await seedBulkStore(store, {
      batches,
      onProgress: (progress) => {
        if (progress.batches - reported < batches / 10 && progress.batches < batches) return;
        reported = progress.batches;
        console.log(
          `  ${progress.batches.toLocaleString("en-US")} batches, ${progress.events.toLocaleString("en-US")} events, ${Math.round(progress.eventsPerSecond).toLocaleString("en-US")} events/s`,
        );
      },
    });
    const seed = { batches, events: summary.events, units: summary.samples.units };
    writeFileSync(samplesFile, JSON.stringify(seed));
    console.log(`  seeded in ${(summary.elapsedMs / 1000).toFixed(0)} s`);
    return seed;
  } finally {
    await store.close();
  }
}

/**
 * The products that went viral: a few batches (no more than the proof cache's 8 Merkle trees), all of their units.
 * Each batch's serial list is in the store, so every page carries the unit's Merkle proof.
 */
const HOT_BATCHES = 4;

async function hotUnits(file: string, samples: SampleUnit[]): Promise<SampleUnit[]> {
  const store = await createStore({ mongodbUri: null, sqlitePath: file });
  try {
    const units: SampleUnit[] = [];
    for (const sample of samples) {
      const batch = await store.getBatch(sample.batchId);
      const set = batch && (await store.getSerialSet(batch.serialRoot));
      if (!set) throw new Error(`the seeded batch ${sample.batchId} has no stored serial list`);
      units.push(...set.serials.map((serial) => ({ ...sample, serial })));
    }
    return units;
  } finally {
    await store.close();
  }
}

/**
 * The hot batches as real passports carry them: DPP data with a footprint, and three anchored documents each
 * (scripts/fixtures/passport-data.ts); added once, so a kept store is not given them twice.
 */
async function withPassportData(file: string, samples: SampleUnit[]): Promise<void> {
  const store = await createStore({ mongodbUri: null, sqlitePath: file });
  try {
    const bare: Hex[] = [];
    for (const { batchId } of samples) {
      if ((await store.listProductDataDocuments(`batch:${batchId}`)).length === 0) bare.push(batchId);
    }
    if (bare.length > 0)
      console.log(`  DPP data and 3 documents added to ${bare.length} batches (${await addPassportData(store, bare)} events)`);
  } finally {
    await store.close();
  }
}
const BROWSER_ACCEPT_ENCODING = "gzip, deflate, br, zstd";

async function runPassportBenchmark(): Promise<void> {
  const batches = positiveIntFromEnv("BENCH_PASSPORT_BATCHES", 1_000_000);
  const duration = positiveIntFromEnv("BENCH_DURATION_SECONDS", 5);
  const connections = positiveIntFromEnv("BENCH_CONNECTIONS", 10);
  const warmup = positiveIntFromEnv("BENCH_PASSPORT_WARMUP_SECONDS", 2);
  const keptFile = process.env.BENCH_PASSPORT_STORE;
  const workDir = keptFile ? null : mkdtempSync(join(tmpdir(), "provena-bench-passports-"));
  const file = keptFile ?? join(workDir!, "provena.db");

  const representations = [
    { name: "unit passport, HTML", accept: "text/html" },
    { name: "unit passport, JSON-LD", accept: "application/ld+json" },
  ];
  const setups = [
    { label: "1 proc cold", workers: 1, cacheMb: 0 },
    { label: "1 proc cached", workers: 1, cacheMb: 64 },
    { label: "2 procs cold", workers: 2, cacheMb: 0 },
    { label: "2 procs cached", workers: 2, cacheMb: 64 },
  ];
  const results = new Map<string, Map<string, Measurement>>();
  try {
    const seed = await passportStore(file, batches);
    await withPassportData(file, seed.units.slice(0, HOT_BATCHES));
    const units = await hotUnits(file, seed.units.slice(0, HOT_BATCHES));
    const paths = units.map((unit) => digitalLinkPath(unit.gtin, unit.lot, unit.serial));
    const pick = () => paths[Math.floor(Math.random() * paths.length)]!;
    for (const setup of setups) {
      const { child, port } = await startServer({
        store: { mongodbUri: null, sqlitePath: file },
        passports: { workers: setup.workers, cacheMb: setup.cacheMb },
      });
      try {
        const byRepresentation = new Map<string, Measurement>();
        for (const representation of representations) {
          // What a phone's browser sends: every one of them accepts gzip.
          const headers = { accept: representation.accept, "accept-encoding": BROWSER_ACCEPT_ENCODING };
          // Warm-up: every unit seen once (its one counted scan, which changes its page), then JIT paths and caches.
          for (const path of paths) await (await fetch(`http://127.0.0.1:${port}${path}`, { headers })).arrayBuffer();
          await measure(port, pick, warmup, connections, headers);
          const cpuBefore = await serverCpuMicros(child);
          const measurement = await measure(port, pick, duration, connections, headers);
          measurement.serverCpuMicrosPerRequest = ((await serverCpuMicros(child)) - cpuBefore) / measurement.requests;
          measurement.serverMemory = processTreeMemory(child.pid!);
          byRepresentation.set(representation.name, measurement);
          console.log(
            `  ${setup.label} ${representation.name}: ${Math.round(measurement.requestsPerSecond)} req/s, p99 ${measurement.p99} ms, ` +
              `${Math.round(measurement.serverCpuMicrosPerRequest!)} µs server CPU per request`,
          );
        }
        results.set(setup.label, byRepresentation);
      } finally {
        await stopServer(child);
      }
    }
    console.log(
      `\nPassport benchmark: ${batches.toLocaleString("en-US")} batches (${seed.events.toLocaleString("en-US")} events) in SQLite, ` +
        `${paths.length} units (their batches with DPP data, a footprint and 3 anchored documents), ${connections} connections, ${duration} s each, one client address, Accept-Encoding "${BROWSER_ACCEPT_ENCODING}", server on 127.0.0.1\n`,
    );
    printTable(
      representations,
      setups.map((setup) => setup.label),
      results,
    );
  } finally {
    if (workDir) rmSync(workDir, { recursive: true, force: true });
    else console.log(`\nThe seeded store stays at ${file} (BENCH_PASSPORT_STORE) for the next run.`);
  }
}

if (process.argv[2] === "--serve") {
  // The --serve child, or (cluster re-runs this script with the same arguments) one of its workers.
  await serve(JSON.parse(process.argv[3]!) as ServeOptions);
} else {
  if (process.argv[2] !== "--passports" && process.env.BENCH_SKIP_API !== "1") await runApiBenchmark();
  await runPassportBenchmark();
}
