/**
 * API worker processes: the read API and passports served by `API_WORKERS` processes sharing one port
 * (node:cluster), over the same store, while the process that starts them stays the only one that indexes, relays
 * and keeps. This module is the primary's side; backend/api-worker-process.ts is what each worker runs.
 *
 *   primary                                        worker (×N)
 *     indexer, relayer, keeper                       store (same SQLite file in WAL mode, or the same MongoDB)
 *     ── setup (config, chain, deployment,           JSON-RPC provider to the chain's URL
 *        scan de-duplication key) ──────────▶        HTTP app (createProvenaHttpApp) on HOST:PORT
 *     ── indexer status, every second ──────▶        writes (relay requests, scans, claims, serial lists) go to the store;
 *     ◀── listening / relay-accepted ─────────       an accepted relay request pokes the primary's relayer
 *     ◀── scan-first (id, keyed hash) ────────       "does this scan count?" (passport/scan-dedupe.ts)
 *     ── scan-first (id, first) ────────────▶
 *
 * A worker that dies is started again (after a second); stop() tells every worker to close its server and store
 * and waits for it to exit, killing it after a grace period.
 *
 * Per-client rate limits and scan de-duplication are cluster-wide: the primary holds the rate-limit counters and
 * the one set of scan keys, and workers ask it (api/cluster-rate-limit-store.ts, passport/scan-dedupe.ts; a worker
 * whose question goes unanswered falls back to its own state: 1/N of each rate budget, its own scan keys). Other
 * per-process state stays per worker: the passport view cache and Merkle proof cache.
 */
import cluster, { type Worker } from "node:cluster";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import type { Logger } from "pino";
import { createRateLimitResponder, type RateLimitAnswer, type RateLimitQuestion } from "./api/cluster-rate-limit-store.ts";
import type { IndexerStatusSource, IndexerStatusView } from "./api/indexer-status.ts";
import type { Deployment } from "./chain/deployment.ts";
import type { Config, LogLevel } from "./config.ts";
import type { Hex } from "./domain/model.ts";
import { createSeenScanKeys, isScanKey, type ScanKeyAnswer, type ScanKeyQuestion } from "./passport/scan-dedupe.ts";

/** What a worker needs from the primary to serve: all of it plain data, sent over the IPC channel. */
export interface ApiWorkerSetup {
  config: Config;
  /** Where the primary's chain answers JSON-RPC (the in-process chain's local server, or RPC_URL). */
  rpcUrl: string;
  chainId: number;
  deployment: Deployment;
  /** The relayer's account when a relayer runs (the relay endpoints are served then), else null. */
  relayerAddress: Hex | null;
}

export type PrimaryMessage =
  /** `scanDedupeKey`: the base64url key every worker hashes scans with (the same for all, drawn by the primary). */
  | { type: "setup"; setup: ApiWorkerSetup; scanDedupeKey: string }
  | { type: "indexer-status"; status: IndexerStatusView }
  | ({ type: "scan-first" } & ScanKeyAnswer)
  | { type: "report" }
  | { type: "stop" }
  | RateLimitAnswer;

export type WorkerMessage =
  | { type: "listening"; port: number }
  | { type: "failed"; message: string }
  | { type: "relay-accepted" }
  | ({ type: "scan-first" } & ScanKeyQuestion)
  | { type: "report"; servedRequests: number }
  | RateLimitQuestion;

export interface ApiWorkersOptions {
  count: number;
  setup: ApiWorkerSetup;
  indexerStatus: IndexerStatusSource;
  /** A worker accepted a relay request: the relayer should look at its queue now. */
  onRelayAccepted: () => void;
  /** The primary's logger: workers log at its level (npm start quietens the demo's request lines this way). */
  logger: Pick<Logger, "info" | "warn" | "error" | "level">;
  /** How often the indexer's status is sent to the workers (default 1 s), for /readyz and /metrics. */
  statusIntervalMs?: number;
  /** How long stop() waits for a worker to exit before killing it (default 5 s). */
  stopGraceMs?: number;
}

export interface ApiWorkers {
  /** Base URL the workers serve. */
  url: string;
  /** Process ids of the running workers. */
  pids(): number[];
  /** Requests each running worker has answered so far, by process id. */
  servedRequests(): Promise<Map<number, number>>;
  stop(): Promise<void>;
}

const WORKER_ENTRY = fileURLToPath(new URL("./api-worker-process.ts", import.meta.url));
const RESPAWN_DELAY_MS = 1_000;

/**
 * The primary's Node flags plus tsx, which loads the backend's TypeScript in the worker (Node's own type stripping
 * refuses some of it, e.g. parameter properties); kept when the primary already runs under it.
 */
function workerExecArgv(): string[] {
  const tsx = import.meta.resolve("tsx");
  const hasTsx = process.execArgv.some((flag) => flag === "tsx" || flag === tsx || /[/\\]tsx[/\\]/.test(flag));
  return hasTsx ? process.execArgv : [...process.execArgv, "--import", tsx];
}

/**
 * How many API processes to run: API_WORKERS, except that a private in-memory SQLite store cannot be shared, so
 * it is served by the primary alone.
 */
export function apiWorkerCount(config: Pick<Config, "apiWorkers" | "mongodbUri" | "sqlitePath">): number {
  if (config.mongodbUri === null && config.sqlitePath === ":memory:") return 1;
  return config.apiWorkers;
}

/** Forks `count` workers and resolves once every one listens; rejects (after stopping them) when one fails to. */
export async function startApiWorkers(options: ApiWorkersOptions): Promise<ApiWorkers> {
  const { count, setup, logger } = options;
  if (!cluster.isPrimary) throw new Error("API workers are started from the primary process only");
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be a positive integer, got ${count}`);
  cluster.setupPrimary({ exec: WORKER_ENTRY, args: [], execArgv: workerExecArgv(), silent: false });

  const workerSetup: ApiWorkerSetup = { ...setup, config: { ...setup.config, logLevel: logger.level as LogLevel } };
  const running = new Set<Worker>();
  const rateLimits = createRateLimitResponder({ maxClients: setup.config.rateLimitMaxClients });
  // The one scan-key set of the cluster (passport/scan-dedupe.ts); workers send keyed hashes only, never addresses.
  const scanDedupeKey = randomBytes(32).toString("base64url");
  const seenScans = createSeenScanKeys();
  let stopping = false;
  let port: number;

  const send = (worker: Worker, message: PrimaryMessage) => {
    if (worker.isConnected()) worker.send(message);
  };

  function fork(): { worker: Worker; listening: Promise<number> } {
    const worker = cluster.fork({ PROVENA_API_WORKER: "1" });
    running.add(worker);
    const listening = new Promise<number>((resolve, reject) => {
      worker.on("message", (message: WorkerMessage) => {
        if (rateLimits.answer(message, (answer) => send(worker, answer))) return;
        if (message.type === "listening") resolve(message.port);
        else if (message.type === "failed") reject(new Error(message.message));
        else if (message.type === "relay-accepted") options.onRelayAccepted();
        else if (message.type === "scan-first" && Number.isSafeInteger(message.id) && isScanKey(message.key)) {
          send(worker, { type: "scan-first", id: message.id, first: seenScans.firstTime(message.key) });
        }
      });
      worker.once("exit", (code, signal) => {
        running.delete(worker);
        reject(new Error(`API worker ${worker.process.pid} exited (${signal ?? `code ${code}`}) before listening`));
        if (stopping) return;
        logger.warn({ pid: worker.process.pid, code, signal }, "API worker exited; starting another");
        setTimeout(() => {
          if (stopping) return;
          fork().listening.catch((error: Error) => logger.error({ error: error.message }, "API worker failed to start"));
        }, RESPAWN_DELAY_MS).unref();
      });
    });
    // Every worker asks for the configured port as is: cluster hands them all one listening socket (port 0 included,
    // which picks one port for all of them), whereas a worker asking for that port by number would collide with it.
    worker.once("online", () => send(worker, { type: "setup", setup: workerSetup, scanDedupeKey }));
    return { worker, listening };
  }

  const statusTimer = setInterval(() => {
    const status = options.indexerStatus();
    for (const worker of running) send(worker, { type: "indexer-status", status });
  }, options.statusIntervalMs ?? 1_000);
  statusTimer.unref();

  async function stop(): Promise<void> {
    stopping = true;
    clearInterval(statusTimer);
    await Promise.all(
      [...running].map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (worker.isDead()) return resolve();
            const kill = setTimeout(() => worker.process.kill("SIGKILL"), options.stopGraceMs ?? 5_000);
            worker.once("exit", () => {
              clearTimeout(kill);
              resolve();
            });
            send(worker, { type: "stop" });
          }),
      ),
    );
  }

  try {
    port = await fork().listening;
    await Promise.all(Array.from({ length: count - 1 }, () => fork().listening));
  } catch (error) {
    await stop();
    throw error;
  }
  const status = options.indexerStatus();
  for (const worker of running) send(worker, { type: "indexer-status", status });
  const host = setup.config.host.includes(":") ? `[${setup.config.host}]` : setup.config.host;
  logger.info({ workers: count, port }, `API served by ${count} worker processes`);

  return {
    url: `http://${host}:${port}`,
    pids: () => [...running].map((worker) => worker.process.pid!),
    async servedRequests() {
      const reports = [...running].map(
        (worker) =>
          new Promise<[number, number]>((resolve) => {
            const onMessage = (message: WorkerMessage) => {
              if (message.type !== "report") return;
              worker.off("message", onMessage);
              resolve([worker.process.pid!, message.servedRequests]);
            };
            worker.on("message", onMessage);
            send(worker, { type: "report" });
          }),
      );
      return new Map(await Promise.all(reports));
    },
    stop,
  };
}
