/**
 * QR benchmark: `npm run bench:qr`.
 *
 * Serves the app with the passport module from a child process on 127.0.0.1, seeded with a few batches, and
 * saturates the unit QR endpoint with autocannon in four scenarios: small (320 px) and large (2048 px) PNGs, cold
 * (every request a code never drawn before) and cached (a small set of codes drawn during a warm-up). Three processes
 * besides this coordinating one, so that no measurement times another's event loop: the server, the QR load
 * generator, and a /healthz prober. The prober is open-loop: it sends a probe every 1/BENCH_HEALTH_RATE s whether or
 * not earlier ones have been answered (a slow answer does not delay the next probe, so stalls are not hidden), and
 * reports exact percentiles of every probe's latency. Its latency is what the rest of the server (health checks, and
 * in production the indexer, relayer and keeper on the same thread) sees while codes are drawn. A baseline measures
 * /healthz with no QR load. The server reports its own event-loop delay (perf_hooks monitorEventLoopDelay) and
 * garbage-collection pauses per scenario.
 *
 * "QR 200/s" counts codes served; "503" counts requests refused because every render thread was busy and the queue
 * (QR_QUEUE_LIMIT) was full: that is the server protecting itself, not a failure. "QR p99" covers every QR response,
 * refusals included.
 *
 * On one machine the load generator competes with the server for the same cores, which real clients (on other
 * machines) do not. BENCH_LOADGEN_NICE=N runs the QR load generator at nice N (lower CPU priority; the server and the
 * prober stay at the default) to model that; the table's header says which it was. Nothing else changes.
 *
 * Environment: QR_RENDER_THREADS, QR_QUEUE_LIMIT, QR_CACHE_BYTES (the server's own settings, see README),
 * BENCH_DURATION_SECONDS per scenario (default 10), BENCH_CONNECTIONS for the QR load (default 50: more than
 * the default threads + queue, so the bound is exercised), BENCH_HEALTH_RATE health probes per second (default 50),
 * BENCH_LOADGEN_NICE (default 0: the load generator at the server's priority), BENCH_SERVER_CPU_PROF (a directory: write
 * a V8 CPU profile of the server process there) and BENCH_QR_SCENARIOS (e.g. "1,2": run only those of the four).
 */
import { fork, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { Agent, get } from "node:http";
import { availableParallelism, setPriority, tmpdir } from "node:os";
import { monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { pino } from "pino";
import { createBenchmarkApp } from "./fixtures/bench-app.ts";
import { loadConfig, type Config } from "../backend/config.ts";
import type { Hex } from "../backend/domain/model.ts";
import { createPassportModule } from "../backend/passport/passport-module.ts";
import { createQrRenderer } from "../backend/passport/qr-renderer.ts";
import { createStore } from "../backend/store/index.ts";
import { CHAIN_ID, ChainHistory, gtin14, REGISTRY_ADDRESS } from "./fixtures/chain-history.ts";
import { positiveIntFromEnv } from "./fixtures/environment.ts";

interface Scenario {
  name: string;
  width: number;
  /** Distinct codes cycled through after a warm-up; null: every request asks for a code never drawn before. */
  cachedCodes: number | null;
}

interface LoadResult {
  perSecond: number;
  p50: number;
  p99: number;
  served: number;
  refused: number;
  /** Errors, timeouts and statuses other than 200 and 503. */
  failed: number;
}

/** Exact percentiles of every /healthz probe's latency, in milliseconds. */
interface ProbeResult {
  probes: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** Probes that failed or answered other than 200. */
  failed: number;
}

/** What the server's own event loop went through during a scenario, in milliseconds. */
interface ServerLoopStats {
  /** Event-loop delay: how late a 1 ms timer fired. */
  delayP99: number;
  delayMax: number;
  gcCount: number;
  gcTotal: number;
  gcMax: number;
  /** V8 heap in use at the end of the scenario. */
  heapMiB: number;
}

interface Row {
  scenario: string;
  qr: LoadResult | null;
  health: ProbeResult;
  server: ServerLoopStats;
}

/** The QR load of one scenario, as the load generator's process rebuilds it. */
interface LoadPlan {
  base: string;
  batchIds: Hex[];
  width: number;
  /** Distinct codes cycled through; null: a fresh serial per request, from `offset` on. */
  cachedCodes: number | null;
  offset: number;
  connections: number;
  duration: number;
  nice: number;
}

const BATCHES = 5;

// --- the server, in a child process ---------------------------------------------------------------------

/** Child: the app with the passport module and a QR renderer configured from the environment, on 127.0.0.1. */
async function serve(sqlitePath: string): Promise<void> {
  const config = loadConfig(process.env);
  // Silent: the request log writes one error line per 503, and thousands of them would measure the terminal.
  const logger = pino({ level: "silent" });
  const store = await createStore({ mongodbUri: null, sqlitePath });
  const qrRenderer = createQrRenderer({
    threads: config.qr.renderThreads,
    queueLimit: config.qr.queueLimit,
    cacheBytes: config.qr.cacheBytes,
    // The load generator is one address standing for many clients: like the rate limits, its share is lifted.
    clientTasks: config.qr.renderThreads + config.qr.queueLimit,
  });
  const passports = createPassportModule({
    store,
    config: {
      publicBaseUrl: "https://id.provena.example",
      publicRpcUrl: "https://id.provena.example/rpc",
      chainId: CHAIN_ID,
      registryAddress: REGISTRY_ADDRESS,
    },
    chain: { send: () => Promise.reject(new Error("no chain in the QR benchmark")) },
    logger,
    qrRenderer,
    qrMaxWidth: config.qr.maxWidth,
  });
  const app = createBenchmarkApp({
    store,
    logger,
    modules: [passports],
  });
  const server = app.listen(0, "127.0.0.1", () => {
    const address = server.address();
    process.send?.({ port: typeof address === "object" && address ? address.port : 0, qr: config.qr });
  });
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  let gc = { count: 0, total: 0, max: 0 };
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gc.count += 1;
      gc.total += entry.duration;
      gc.max = Math.max(gc.max, entry.duration);
    }
  }).observe({ entryTypes: ["gc"] });
  process.on("message", (message) => {
    if (message === "measure") {
      loopDelay.reset();
      gc = { count: 0, total: 0, max: 0 };
    } else if (message === "measured") {
      const stats: ServerLoopStats = {
        delayP99: loopDelay.percentile(99) / 1e6,
        delayMax: loopDelay.max / 1e6,
        gcCount: gc.count,
        gcTotal: gc.total,
        gcMax: gc.max,
        heapMiB: process.memoryUsage().heapUsed / 1024 ** 2,
      };
      process.send?.({ stats });
    } else if (message === "stop") {
      server.closeAllConnections();
      server.close(() => void Promise.all([qrRenderer.close(), store.close()]).then(() => process.exit(0)));
    }
  });
}

async function startServer(sqlitePath: string): Promise<{ child: ChildProcess; port: number; qr: Config["qr"] }> {
  // fork inherits process.execArgv, so the child runs under the same TypeScript loader (tsx) as this script.
  // BENCH_SERVER_CPU_PROF=dir: a V8 CPU profile of the server alone (load generator and prober excluded).
  const profileDir = process.env.BENCH_SERVER_CPU_PROF;
  const child = fork(fileURLToPath(import.meta.url), ["--serve", sqlitePath], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    execArgv: [...process.execArgv, ...(profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [])],
  });
  return new Promise((resolve, reject) => {
    child.once("message", (message) => resolve({ child, ...(message as { port: number; qr: Config["qr"] }) }));
    child.once("exit", (code) => reject(new Error(`the server exited (code ${code}) before listening`)));
  });
}

/** Runs `body` and returns what the server's event loop went through meanwhile. */
async function measuringServer<T>(server: ChildProcess, body: () => Promise<T>): Promise<[T, ServerLoopStats]> {
  server.send("measure");
  const result = await body();
  const stats = new Promise<ServerLoopStats>((resolve) => {
    const onMessage = (message: unknown) => {
      if (typeof message === "object" && message !== null && "stats" in message) {
        server.off("message", onMessage);
        resolve((message as { stats: ServerLoopStats }).stats);
      }
    };
    server.on("message", onMessage);
  });
  server.send("measured");
  return [result, await stats];
}

async function stopServer(child: ChildProcess): Promise<void> {
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.send("stop");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

// --- load ------------------------------------------------------------------------------------------------

async function load(options: autocannon.Options): Promise<LoadResult> {
  const result = await autocannon(options);
  const statuses = result.statusCodeStats as unknown as Record<string, { count: number } | undefined>;
  const served = statuses["200"]?.count ?? 0;
  const refused = statuses["503"]?.count ?? 0;
  return {
    perSecond: served / Number(options.duration),
    p50: result.latency.p50,
    p99: result.latency.p99,
    served,
    refused,
    failed: result.errors + result.timeouts + (result.requests.total - served - refused - result.errors - result.timeouts),
  };
}

/** A child process of this script running `role`; resolves with the first message that `isResult` accepts. */
async function startChild<T>(role: string, argument: unknown, isResult: (message: unknown) => boolean): Promise<() => Promise<T>> {
  const child = fork(fileURLToPath(import.meta.url), [role, JSON.stringify(argument)], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const result = new Promise<T>((resolve, reject) => {
    child.on("message", (message: unknown) => isResult(message) && resolve(message as T));
    child.once("exit", (code) => reject(new Error(`the ${role} child exited (code ${code}) without a result`)));
  });
  await new Promise<void>((resolve, reject) => {
    child.on("message", (message: unknown) => message === "ready" && resolve());
    child.once("exit", (code) => reject(new Error(`the ${role} child exited (code ${code}) before it was ready`)));
  });
  return () => {
    child.send("go");
    return result;
  };
}

/** Child: waits for "go", runs `work`, sends its result and leaves. */
function runChild(work: () => Promise<object>): void {
  process.once("message", () => {
    void work().then((result) => process.send!(result, undefined, {}, () => process.disconnect()));
  });
  process.send!("ready");
}

const nearestRank = (sorted: number[], percent: number) => sorted[Math.max(0, Math.ceil((percent / 100) * sorted.length) - 1)] ?? 0;

/**
 * Open-loop /healthz probes: one every 1/rate s for `duration` s, each on a kept-alive connection (a few, so a slow
 * answer does not hold the next probe), timed from its send to the end of its body.
 */
async function probeHealth({ base, duration, rate }: { base: string; duration: number; rate: number }): Promise<ProbeResult> {
  // Idle connections are closed after 1 s, before the server's keep-alive timeout (5 s) could close one under a probe.
  const agent = new Agent({ keepAlive: true, maxSockets: 16, timeout: 1_000 });
  const latencies: number[] = [];
  let failed = 0;
  const probe = () =>
    new Promise<void>((resolve) => {
      const started = performance.now();
      get(`${base}/healthz`, { agent }, (res) => {
        res.resume();
        res.once("end", () => {
          if (res.statusCode === 200) latencies.push(performance.now() - started);
          else failed += 1;
          resolve();
        });
      }).once("error", () => {
        failed += 1;
        resolve();
      });
    });
  const total = duration * rate;
  const started = performance.now();
  const probes: Promise<void>[] = [];
  for (let n = 0; n < total; n++) {
    // Scheduled against the start, so a late timer does not shift every later probe.
    const wait = started + (n * 1000) / rate - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    probes.push(probe());
  }
  await Promise.all(probes);
  agent.destroy();
  latencies.sort((x, y) => x - y);
  return {
    probes: total,
    p50: nearestRank(latencies, 50),
    p95: nearestRank(latencies, 95),
    p99: nearestRank(latencies, 99),
    max: latencies.at(-1) ?? 0,
    failed,
  };
}

const isProbeResult = (message: unknown) => typeof message === "object" && message !== null && "probes" in message;
const isLoadResult = (message: unknown) => typeof message === "object" && message !== null && "perSecond" in message;

/** The QR load, from the load generator's own process (at nice `plan.nice`). */
async function qrLoad(plan: LoadPlan): Promise<LoadResult> {
  if (plan.nice !== 0) setPriority(plan.nice);
  const { base, batchIds, width, cachedCodes, offset } = plan;
  let next = 0;
  const path =
    cachedCodes === null ? () => unitQrPath(batchIds, offset + next++, width) : () => unitQrPath(batchIds, next++ % cachedCodes, width);
  return load({
    url: base,
    connections: plan.connections,
    duration: plan.duration,
    // A large code waits for the codes queued ahead of it: a slow answer is latency, not a failure.
    timeout: 60,
    requests: [{ method: "GET", setupRequest: (request) => ({ ...request, path: path() }) }],
  });
}

/** The unit QR path for the n-th code of a batch at `width`: serials differ, so every n is a distinct code. */
const unitQrPath = (batchIds: Hex[], n: number, width: number) =>
  `/api/v1/batches/${batchIds[n % batchIds.length]}/units/U${Math.floor(n / batchIds.length)}/qr?width=${width}`;

let drains = 0;

/** GETs a code, waiting out 503s as their Retry-After asks. */
async function fetchCode(base: string, path: string): Promise<void> {
  for (;;) {
    const res = await fetch(`${base}${path}`);
    await res.arrayBuffer();
    if (res.status === 200) return;
    if (res.status !== 503) throw new Error(`GET ${path} answered ${res.status}`);
    await new Promise((resolve) => setTimeout(resolve, Number(res.headers.get("retry-after") ?? 1) * 1000));
  }
}

/**
 * Waits until the renders a previous scenario left queued are done: the render queue is first in, first out, so a
 * code never drawn before comes back only after all of them.
 */
const drainRenderQueue = (base: string, batchIds: Hex[]) => fetchCode(base, unitQrPath(batchIds, 999_000_000 + drains++, 64));

interface RunSettings {
  base: string;
  server: ChildProcess;
  batchIds: Hex[];
  duration: number;
  connections: number;
  healthRate: number;
  nice: number;
}

async function runScenario(settings: RunSettings, scenario: Scenario): Promise<Row> {
  const { base, server, batchIds, duration, connections, healthRate, nice } = settings;
  // A fresh serial range per scenario, so no code was drawn by an earlier one.
  const offset = (scenario.width + 1) * 1_000_000;
  if (scenario.cachedCodes !== null) {
    for (let n = 0; n < scenario.cachedCodes; n++) await fetchCode(base, unitQrPath(batchIds, n, scenario.width));
  }
  const plan: LoadPlan = { base, batchIds, width: scenario.width, cachedCodes: scenario.cachedCodes, offset, connections, duration, nice };
  const [loadGo, probeGo] = await Promise.all([
    startChild<LoadResult>("--load", plan, isLoadResult),
    startChild<ProbeResult>("--probe", { base, duration, rate: healthRate }, isProbeResult),
  ]);
  const [[qr, health], serverLoop] = await measuringServer(server, () => Promise.all([loadGo(), probeGo()]));
  return { scenario: scenario.name, qr, health, server: serverLoop };
}

function printTable(rows: Row[]): void {
  const number = (value: number, digits = 0) =>
    value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
  const table: string[][] = [
    ["", "", "", "", "", "/healthz", "", "", "", "server", "loop delay", "GC pauses", "", "heap"],
    ["scenario", "QR 200/s", "QR p99", "503", "failed", "p50", "p95", "p99", "max", "p99", "max", "total", "max", "MiB"],
  ];
  for (const { scenario, qr, health, server } of rows) {
    table.push([
      scenario,
      qr ? number(qr.perSecond) : "-",
      qr ? number(qr.p99, 1) : "-",
      qr ? number(qr.refused) : "-",
      number((qr ? qr.failed : 0) + health.failed),
      number(health.p50, 1),
      number(health.p95, 1),
      number(health.p99, 1),
      number(health.max, 1),
      number(server.delayP99, 1),
      number(server.delayMax, 1),
      number(server.gcTotal),
      number(server.gcMax, 1),
      number(server.heapMiB),
    ]);
  }
  const widths = table[1]!.map((_, column) => Math.max(...table.map((row) => row[column]!.length)));
  const line = (row: string[]) =>
    row
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
      .join("  ")
      .trimEnd();
  console.log("All times in milliseconds; the server's loop delay is how late a 1 ms timer fired in its event loop.");
  console.log(line(table[0]!));
  console.log(line(table[1]!));
  console.log(widths.map((width) => "-".repeat(width)).join("  "));
  for (const row of table.slice(2)) console.log(line(row));
}

async function main(): Promise<void> {
  const duration = positiveIntFromEnv("BENCH_DURATION_SECONDS", 10);
  const connections = positiveIntFromEnv("BENCH_CONNECTIONS", 50);
  const healthRate = positiveIntFromEnv("BENCH_HEALTH_RATE", 50);
  const nice = Number(process.env.BENCH_LOADGEN_NICE || 0);
  if (!Number.isInteger(nice) || nice < 0 || nice > 19) throw new Error(`BENCH_LOADGEN_NICE must be an integer 0-19, got "${nice}"`);
  const scenarios: Scenario[] = [
    { name: "unit QR 320 px, cold", width: 320, cachedCodes: null },
    { name: "unit QR 320 px, cached", width: 320, cachedCodes: 200 },
    { name: "unit QR 2048 px, cold", width: 2048, cachedCodes: null },
    { name: "unit QR 2048 px, cached", width: 2048, cachedCodes: 20 },
  ];

  const only = process.env.BENCH_QR_SCENARIOS?.split(",").map(Number);
  if (only) scenarios.splice(0, scenarios.length, ...scenarios.filter((_, index) => only.includes(index + 1)));

  const workDir = mkdtempSync(join(tmpdir(), "provena-bench-qr-"));
  const sqlitePath = join(workDir, "provena.db");
  try {
    // Batches without serial lists: any serial is a unit, so every request can name a code never drawn before.
    const history = new ChainHistory();
    const manufacturer = history.onboard("manufacturer", "MANUFACTURER");
    const batchIds = Array.from({ length: BATCHES }, (_, i) =>
      history.registerBatch({ manufacturer, gtin: gtin14(String(401234500000 + i)), lot: `QR-${i}` }),
    );
    const store = await createStore({ mongodbUri: null, sqlitePath });
    await history.mirrorInto(store).finally(() => store.close());

    const { child, port, qr } = await startServer(sqlitePath);
    const base = `http://127.0.0.1:${port}`;
    const rows: Row[] = [];
    try {
      // One code first, so the render thread's start-up is not part of the first scenario.
      await drainRenderQueue(base, batchIds);
      const settings: RunSettings = { base, server: child, batchIds, duration, connections, healthRate, nice };
      const probeGo = await startChild<ProbeResult>("--probe", { base, duration, rate: healthRate }, isProbeResult);
      const [health, server] = await measuringServer(child, probeGo);
      rows.push({ scenario: "/healthz alone (baseline)", qr: null, health, server });
      for (const scenario of scenarios) {
        await drainRenderQueue(base, batchIds);
        const row = await runScenario(settings, scenario);
        console.log(`  ${scenario.name}: ${Math.round(row.qr!.perSecond)} codes/s, healthz p99 ${row.health.p99.toFixed(1)} ms`);
        rows.push(row);
      }
    } finally {
      await stopServer(child);
    }

    console.log(
      `\nQR benchmark: ${duration} s per scenario, ${connections} QR connections from a load generator at ` +
        `${nice === 0 ? "the server's CPU priority" : `nice ${nice} (lower CPU priority than the server)`}, ` +
        `/healthz probed ${healthRate}/s open-loop (${duration * healthRate} probes per scenario), ` +
        `server on 127.0.0.1 with ${qr.renderThreads} render thread(s), queue limit ${qr.queueLimit}, ` +
        `cache ${(qr.cacheBytes / 1024 ** 2).toFixed(0)} MiB; ${availableParallelism()} CPU(s)\n`,
    );
    printTable(rows);
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

if (process.argv[2] === "--serve") {
  await serve(process.argv[3]!);
} else if (process.argv[2] === "--probe") {
  runChild(() => probeHealth(JSON.parse(process.argv[3]!) as { base: string; duration: number; rate: number }));
} else if (process.argv[2] === "--load") {
  runChild(() => qrLoad(JSON.parse(process.argv[3]!) as LoadPlan));
} else {
  await main();
}
