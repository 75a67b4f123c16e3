/**
 * QR rendering for the HTTP routes, off the event loop: codes are drawn by a small pool of worker threads
 * (piscina, qr-render-worker.ts), and kept in a byte-bounded LRU cache (qr-cache.ts). A 2048-pixel PNG takes about
 * half a second to draw; on the main thread, ten at once held every other request (health checks, the indexer,
 * the relayer, the keeper) for five seconds.
 *
 * Work is bounded: at most `threads` tasks run and `queueLimit` wait; beyond that `render` refuses at once with a
 * QrRenderQueueFullError (the routes answer 503 with Retry-After) rather than queueing for ever. One client (the
 * routes name it by address) may hold at most `clientTasks` of those places, so a single client asking for codes never
 * drawn before cannot keep the queue full and starve every other client of new codes. Concurrent requests for one
 * code share one render. The pool starts on the first render, lets idle threads go, and never
 * keeps the process alive on its own; `close` ends it.
 */
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { Piscina } from "piscina";
import { DomainError } from "../domain/errors.ts";
import { createQrCodeCache, type CachedQrCode } from "./qr-cache.ts";
import type { QrRenderRequest } from "./qr.ts";
import { typeScriptThreadExecArgv } from "../thread-exec-argv.ts";

export interface QrRendererOptions {
  /** Worker threads drawing codes (config QR_RENDER_THREADS). */
  threads: number;
  /** Render tasks that may wait for a thread; one more is refused (config QR_QUEUE_LIMIT). */
  queueLimit: number;
  /** Memory for rendered codes, in bytes (config QR_CACHE_BYTES); 0 caches nothing. */
  cacheBytes: number;
  /** Render tasks one client may have running or waiting (default: a quarter of threads + queueLimit, at least 1). */
  clientTasks?: number;
  /** Milliseconds an idle thread is kept before it exits (default 60 s; a new one starts with the next render). */
  idleThreadMs?: number;
}

/** A rendered code: its image bytes and the strong ETag of exactly those bytes. */
export type RenderedQrCode = CachedQrCode;

export interface QrRendererStats {
  /** Codes drawn by the workers since start. */
  rendered: number;
  /** Codes answered from the cache. */
  cacheHits: number;
  cacheBytes: number;
  cacheEntries: number;
  /** Render tasks running or waiting for a thread. */
  pendingTasks: number;
  /** Requests refused because the queue was full (`shed` included). */
  refused: number;
  /** Of those, refused by `refusalFor`, before the route looked anything up. */
  shed: number;
}

export interface QrRenderer {
  /** The ETag the code of `request` is served with, known without drawing it (If-None-Match answers need no render). */
  etagOf(request: QrRenderRequest): string;
  /** `client`: who asks (the routes pass its address); its tasks count against its share of the queue. */
  render(request: QrRenderRequest, client?: string): Promise<RenderedQrCode>;
  /**
   * The refusal a request would get now, decided without drawing, queueing or looking anything up: null while a
   * thread or queue slot is free, or when `known` (the code the request resolved to before, if any) is cached or
   * being drawn. The routes call it before their store lookups, so a saturated server refuses for the price of a
   * map lookup; null is no promise that `render` will not refuse.
   */
  refusalFor(known: QrRenderRequest | undefined, client?: string): QrRenderRefusal | null;
  /** Several codes as one task (a qr-sheet page), in the order asked; cached ones are not drawn again. */
  renderAll(requests: QrRenderRequest[], client?: string): Promise<RenderedQrCode[]>;
  stats(): QrRendererStats;
  /** Waits for running renders (up to 5 s), then ends the threads; later renders fail as unavailable. */
  close(): Promise<void>;
}

/** Why a render would be refused: the whole queue is full ("server") or the client's share of it ("client"). */
export interface QrRenderRefusal {
  whose: "server" | "client";
  retryAfterSeconds: number;
}

/** Every thread is busy and the queue is full: the same request may succeed in `retryAfterSeconds`. */
export class QrRenderQueueFullError extends DomainError {
  readonly retryAfterSeconds: number;

  constructor(retryAfterSeconds: number, whose: "server" | "client" = "server") {
    super(
      "unavailable",
      whose === "server"
        ? `QR rendering is at capacity; retry in ${retryAfterSeconds} s`
        : `This client's share of QR rendering is in use; retry in ${retryAfterSeconds} s`,
      { retryAfterSeconds },
    );
    this.name = "QrRenderQueueFullError";
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

const WORKER_FILE = new URL("./qr-render-worker.ts", import.meta.url).href;

// The ETag names the bytes: the same request drawn by another version of `qrcode` may differ.
const RENDER_VERSION = `qrcode@${(createRequire(import.meta.url)("qrcode/package.json") as { version: string }).version}`;

/** Cache key of a request: every field that changes the image, unambiguously joined. */
const keyOf = (request: QrRenderRequest) =>
  JSON.stringify([request.format, request.width, request.margin, request.errorCorrectionLevel, request.content]);

const etagOfKey = (key: string) => `"${createHash("sha256").update(`${RENDER_VERSION}\n${key}`).digest("base64url").slice(0, 32)}"`;

export function createQrRenderer(options: QrRendererOptions): QrRenderer {
  const { threads, queueLimit } = options;
  const clientTasks = options.clientTasks ?? Math.max(1, Math.floor((threads + queueLimit) / 4));
  const tasksOfClient = new Map<string, number>();
  const cache = createQrCodeCache(options.cacheBytes);
  const inFlight = new Map<string, Promise<RenderedQrCode>>();
  let pool: Piscina | undefined;
  let pendingTasks = 0;
  let closed = false;
  let rendered = 0;
  let cacheHits = 0;
  let refused = 0;
  let shed = 0;
  // Moving average of a task's duration, for the Retry-After estimate.
  let averageTaskMs = 100;

  const poolOf = (): Piscina =>
    (pool ??= new Piscina({
      filename: WORKER_FILE,
      minThreads: 0,
      maxThreads: threads,
      // Our own bound (pendingTasks) refuses before piscina's queue could grow.
      maxQueue: queueLimit + threads,
      idleTimeout: options.idleThreadMs ?? 60_000,
      closeTimeout: 5_000,
      execArgv: typeScriptThreadExecArgv(),
    }));

  /** When a refused client may try again: the time the queue ahead of it takes to drain, 1-60 s. */
  const retryAfterSeconds = () => Math.min(60, Math.max(1, Math.ceil((averageTaskMs * (pendingTasks + 1)) / threads / 1000)));

  /** Runs one task drawing `requests` (all keys not cached and not in flight); each key resolves on its own. */
  function submit(requests: { key: string; request: QrRenderRequest }[], client: string | undefined): void {
    const started = performance.now();
    pendingTasks += 1;
    if (client !== undefined) tasksOfClient.set(client, (tasksOfClient.get(client) ?? 0) + 1);
    const task = (poolOf().run(requests.map(({ request }) => request)) as Promise<Uint8Array[]>).finally(() => {
      pendingTasks -= 1;
      if (client !== undefined) {
        const left = tasksOfClient.get(client)! - 1;
        if (left === 0) tasksOfClient.delete(client);
        else tasksOfClient.set(client, left);
      }
      averageTaskMs = averageTaskMs * 0.8 + (performance.now() - started) * 0.2;
    });
    requests.forEach(({ key }, index) => {
      const code = task.then((images) => {
        const image = images[index]!;
        const renderedCode = { body: Buffer.from(image.buffer, image.byteOffset, image.byteLength), etag: etagOfKey(key) };
        rendered += 1;
        cache.set(key, renderedCode);
        return renderedCode;
      });
      inFlight.set(key, code);
      // Removed whether it succeeds or not: a failed render is not remembered, the next request tries again.
      void code.then(
        () => inFlight.delete(key),
        () => inFlight.delete(key),
      );
    });
  }

  /** Why a new task for `client` would be refused now, or null. */
  const saturation = (client: string | undefined): "server" | "client" | null =>
    pendingTasks >= threads + queueLimit
      ? "server"
      : client !== undefined && (tasksOfClient.get(client) ?? 0) >= clientTasks
        ? "client"
        : null;

  function renderAll(requests: QrRenderRequest[], client?: string): Promise<RenderedQrCode[]> {
    if (closed) return Promise.reject(new DomainError("unavailable", "QR rendering has shut down"));
    const keys = requests.map(keyOf);
    const toDraw = new Map<string, QrRenderRequest>();
    for (const [index, key] of keys.entries()) {
      if (!inFlight.has(key) && cache.get(key) === undefined) toDraw.set(key, requests[index]!);
    }
    if (toDraw.size > 0) {
      const whose = saturation(client);
      if (whose !== null) {
        refused += 1;
        return Promise.reject(new QrRenderQueueFullError(retryAfterSeconds(), whose));
      }
      submit(
        [...toDraw].map(([key, request]) => ({ key, request })),
        client,
      );
    }
    return Promise.all(
      keys.map((key) => {
        const cached = cache.get(key);
        if (cached !== undefined && !toDraw.has(key)) {
          cacheHits += 1;
          return Promise.resolve(cached);
        }
        return inFlight.get(key)!;
      }),
    );
  }

  // A plain record, not an Error: a saturated server refuses thousands of requests a second this way.
  function refusalFor(known: QrRenderRequest | undefined, client?: string): QrRenderRefusal | null {
    const whose = closed ? null : saturation(client);
    if (whose === null) return null;
    if (known !== undefined) {
      const key = keyOf(known);
      if (inFlight.has(key) || cache.get(key) !== undefined) return null;
    }
    refused += 1;
    shed += 1;
    return { whose, retryAfterSeconds: retryAfterSeconds() };
  }

  return {
    etagOf: (request) => etagOfKey(keyOf(request)),
    refusalFor,
    async render(request, client) {
      const [code] = await renderAll([request], client);
      return code!;
    },
    renderAll,
    stats: () => ({ rendered, cacheHits, cacheBytes: cache.bytes, cacheEntries: cache.entries, pendingTasks, refused, shed }),
    async close() {
      closed = true;
      await pool?.close();
    },
  };
}
