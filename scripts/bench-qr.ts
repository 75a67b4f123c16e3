/**
 * QR benchmark: `npm run bench:qr`.
 *
 * Serves the app with the passport module from a child process on 127.0.0.1 (so the load generator does not share
 * the server's event loop), seeded with a few batches, and saturates the unit QR endpoint with autocannon in four
 * scenarios: small (320 px) and large (2048 px) PNGs, cold (every request a code never drawn before) and cached (a
 * small set of codes drawn during a warm-up). While each runs, a second autocannon, in a process of its own (the QR
 * load saturates this one's event loop, which would delay the probe's own timing), probes /healthz at a steady rate:
 * its latency is what the rest of the server (health checks, and in production the indexer, relayer and keeper on
 * the same thread) sees while codes are drawn. A baseline measures /healthz with no QR load.
 *
 * "QR 200/s" counts codes served; "503" counts requests refused because every render thread was busy and the queue
 * (QR_QUEUE_LIMIT) was full: that is the server protecting itself, not a failure. "QR p99" covers every QR response,
 * refusals included.
 *
 * Environment: QR_RENDER_THREADS, QR_QUEUE_LIMIT, QR_CACHE_BYTES (the server's own settings, see README),
 * BENCH_DURATION_SECONDS per scenario (default 10), BENCH_CONNECTIONS for the QR load (default 50: more than
 * the default threads + queue, so the bound is exercised),
 * BENCH_HEALTH_RATE health probes per second (default 20).
 */
import { fork, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
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

interface Row {
  scenario: string;
  qr: LoadResult | null;
  health: LoadResult;
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
  process.on("message", (message) => {
    if (message === "stop") {
      server.closeAllConnections();
      server.close(() => void Promise.all([qrRenderer.close(), store.close()]).then(() => process.exit(0)));
    }
  });
}

async function startServer(sqlitePath: string): Promise<{ child: ChildProcess; port: number; qr: Config["qr"] }> {
  // fork inherits process.execArgv, so the child runs under the same TypeScript loader (tsx) as this script.
  const child = fork(fileURLToPath(import.meta.url), ["--serve", sqlitePath], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  return new Promise((resolve, reject) => {
    child.once("message", (message) => resolve({ child, ...(message as { port: number; qr: Config["qr"] }) }));
    child.once("exit", (code) => reject(new Error(`the server exited (code ${code}) before listening`)));
  });
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

const healthLoad = (base: string, duration: number, rate: number) =>
  load({ url: `${base}/healthz`, connections: 1, overallRate: rate, duration });

/**
 * The /healthz probe from a process of its own, started once it is ready. The QR load generator saturates this
 * process's event loop; a probe sharing it would time that loop as much as the server's.
 */
async function startHealthProbe(base: string, duration: number, rate: number): Promise<() => Promise<LoadResult>> {
  const child = fork(fileURLToPath(import.meta.url), ["--probe", base, String(duration), String(rate)], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const result = new Promise<LoadResult>((resolve, reject) => {
    child.on("message", (message: unknown) => {
      if (typeof message === "object" && message !== null && "p99" in message) resolve(message as LoadResult);
    });
    child.once("exit", (code) => reject(new Error(`the /healthz probe exited (code ${code}) without a result`)));
  });
  await new Promise<void>((resolve, reject) => {
    child.on("message", (message: unknown) => message === "ready" && resolve());
    child.once("exit", (code) => reject(new Error(`the /healthz probe exited (code ${code}) before it was ready`)));
  });
  return () => {
    child.send("go");
    return result;
  };
}

async function runHealthProbe(base: string, duration: number, rate: number): Promise<void> {
  process.once("message", () => {
    void healthLoad(base, duration, rate).then((result) => {
      process.send!(result, undefined, {}, () => process.disconnect());
    });
  });
  process.send!("ready");
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

async function runScenario(
  base: string,
  batchIds: Hex[],
  scenario: Scenario,
  duration: number,
  connections: number,
  healthRate: number,
): Promise<Row> {
  let next = 0;
  let path: () => string;
  if (scenario.cachedCodes === null) {
    // A fresh serial range per scenario, so no code was drawn by an earlier one.
    const offset = (scenario.width + 1) * 1_000_000;
    path = () => unitQrPath(batchIds, offset + next++, scenario.width);
  } else {
    const codes = scenario.cachedCodes;
    for (let n = 0; n < codes; n++) await fetchCode(base, unitQrPath(batchIds, n, scenario.width));
    path = () => unitQrPath(batchIds, next++ % codes, scenario.width);
  }
  const probe = await startHealthProbe(base, duration, healthRate);
  const [qr, health] = await Promise.all([
    load({
      url: base,
      connections,
      duration,
      // A large code waits for the codes queued ahead of it: a slow answer is latency, not a failure.
      timeout: 60,
      requests: [{ method: "GET", setupRequest: (request) => ({ ...request, path: path() }) }],
    }),
    probe(),
  ]);
  return { scenario: scenario.name, qr, health };
}

function printTable(rows: Row[]): void {
  const number = (value: number, digits = 0) =>
    value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
  const table: string[][] = [["scenario", "QR 200/s", "QR p99 (ms)", "503", "failed", "healthz p50 (ms)", "healthz p99 (ms)"]];
  for (const { scenario, qr, health } of rows) {
    table.push([
      scenario,
      qr ? number(qr.perSecond) : "-",
      qr ? number(qr.p99, 1) : "-",
      qr ? number(qr.refused) : "-",
      qr ? number(qr.failed + health.failed) : number(health.failed),
      number(health.p50, 1),
      number(health.p99, 1),
    ]);
  }
  const widths = table[0]!.map((_, column) => Math.max(...table.map((row) => row[column]!.length)));
  const line = (row: string[]) =>
    row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join("  ");
  console.log(line(table[0]!));
  console.log(widths.map((width) => "-".repeat(width)).join("  "));
  for (const row of table.slice(1)) console.log(line(row));
}

async function main(): Promise<void> {
  const duration = positiveIntFromEnv("BENCH_DURATION_SECONDS", 10);
  const connections = positiveIntFromEnv("BENCH_CONNECTIONS", 50);
  const healthRate = positiveIntFromEnv("BENCH_HEALTH_RATE", 20);
  const scenarios: Scenario[] = [
    { name: "unit QR 320 px, cold", width: 320, cachedCodes: null },
    { name: "unit QR 320 px, cached", width: 320, cachedCodes: 200 },
    { name: "unit QR 2048 px, cold", width: 2048, cachedCodes: null },
    { name: "unit QR 2048 px, cached", width: 2048, cachedCodes: 20 },
  ];

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
      const baseline = await startHealthProbe(base, duration, healthRate);
      rows.push({ scenario: "/healthz alone (baseline)", qr: null, health: await baseline() });
      for (const scenario of scenarios) {
        await drainRenderQueue(base, batchIds);
        const row = await runScenario(base, batchIds, scenario, duration, connections, healthRate);
        console.log(`  ${scenario.name}: ${Math.round(row.qr!.perSecond)} codes/s, healthz p99 ${row.health.p99} ms`);
        rows.push(row);
      }
    } finally {
      await stopServer(child);
    }

    console.log(
      `\nQR benchmark: ${duration} s per scenario, ${connections} QR connections, /healthz probed ${healthRate}/s on 1 connection, ` +
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
  await runHealthProbe(process.argv[3]!, Number(process.argv[4]), Number(process.argv[5]));
} else {
  await main();
}
