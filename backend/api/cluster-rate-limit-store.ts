/**
 * Cluster-wide per-client rate limits for API worker processes (backend/api-workers.ts): the primary holds the hit
 * counters, one bounded store per limiter (rate-limit-store.ts), keyed by the limiter's stable name; each worker's
 * limiters use a store that asks the primary over the cluster IPC channel, so one client has one budget however
 * many workers serve it.
 *
 *   worker                                          primary
 *     ── rate-limit { id, op, limiter, key } ──▶      bounded store of that limiter
 *     ◀── rate-limit-answer { id, hits } ───────
 *
 * Safe failure: when the primary does not answer within `timeoutMs`, the IPC channel is gone, or `maxOutstanding`
 * questions already wait, a worker counts the client in a local bounded store of its own instead, reporting hits
 * multiplied by the number of workers, so that each worker lets through at most 1/N of the budget and the client
 * never gets more than the configured budget in total. It warns once, then asks the primary again after
 * `retryAfterMs`. A request is never held longer than `timeoutMs` and never fails because of the counter.
 */
import type { IncrementResponse, Options, Store } from "express-rate-limit";
import { createBoundedRateLimitStore, type BoundedRateLimitStore } from "./rate-limit-store.ts";

/** Builds the store of the limiter named `name` (stable across processes: "read-api", "write-relay", ...). */
export type RateLimitStoreFactory = (name: string, options: { maxClients: number }) => Store;

/** The default: counts in this process alone. */
export const localRateLimitStore: RateLimitStoreFactory = (_name, { maxClients }) => createBoundedRateLimitStore({ maxClients });

export type RateLimitOperation = "increment" | "decrement" | "resetKey" | "get";

/** Worker → primary. `id` is present when the worker waits for an answer (increment, get). */
export interface RateLimitQuestion {
  type: "rate-limit";
  id?: number;
  op: RateLimitOperation;
  limiter: string;
  key: string;
  windowMs: number;
}

/** Primary → worker: the client's window after the operation, or null when it has none. */
export interface RateLimitAnswer {
  type: "rate-limit-answer";
  id: number;
  window: { totalHits: number; resetTime: number } | null;
}

/** Limiters the primary keeps counters for; the app has four, so more means a bug, not a client. */
const MAX_LIMITERS = 32;
const MAX_KEY_LENGTH = 512;
const MAX_LIMITER_NAME_LENGTH = 64;

/**
 * The primary's side: answers workers' rate-limit questions from one bounded store per limiter name.
 * `answer` returns false for any other message, so the primary's message handler can try it first.
 */
export function createRateLimitResponder({ maxClients, now = Date.now }: { maxClients: number; now?: () => number }) {
  const stores = new Map<string, BoundedRateLimitStore>();

  const storeOf = (limiter: string, windowMs: number): BoundedRateLimitStore | undefined => {
    let store = stores.get(limiter);
    if (!store) {
      if (stores.size >= MAX_LIMITERS) return undefined;
      store = createBoundedRateLimitStore({ maxClients, now });
      void store.init!({ windowMs } as Options);
      stores.set(limiter, store);
    }
    return store;
  };

  return {
    answer(message: unknown, reply: (answer: RateLimitAnswer) => void): boolean {
      if (!isRateLimitQuestion(message)) return false;
      const store = storeOf(message.limiter, message.windowMs);
      let window: IncrementResponse | undefined;
      if (store) {
        if (message.op === "increment") window = store.increment(message.key) as IncrementResponse;
        else if (message.op === "get") window = store.get!(message.key) as IncrementResponse | undefined;
        else if (message.op === "decrement") void store.decrement(message.key);
        else void store.resetKey(message.key);
      }
      // No store (too many limiter names): the worker's question times out and it counts locally.
      if (message.id !== undefined && store) {
        reply({
          type: "rate-limit-answer",
          id: message.id,
          window: window ? { totalHits: window.totalHits, resetTime: window.resetTime!.getTime() } : null,
        });
      }
      return true;
    },
    /** Limiters counted so far, for tests. */
    get limiters(): number {
      return stores.size;
    },
  };
}

function isRateLimitQuestion(message: unknown): message is RateLimitQuestion {
  if (typeof message !== "object" || message === null) return false;
  const m = message as Partial<RateLimitQuestion>;
  return (
    m.type === "rate-limit" &&
    (m.id === undefined || Number.isSafeInteger(m.id)) &&
    (m.op === "increment" || m.op === "decrement" || m.op === "resetKey" || m.op === "get") &&
    typeof m.limiter === "string" &&
    m.limiter.length <= MAX_LIMITER_NAME_LENGTH &&
    typeof m.key === "string" &&
    m.key.length <= MAX_KEY_LENGTH &&
    Number.isSafeInteger(m.windowMs) &&
    m.windowMs! > 0
  );
}

export interface ClusterRateLimitClientOptions {
  /**
   * Sends a question to the primary; throws when the channel is gone. (process.send's false only means a backlog:
   * the message still goes.)
   */
  send: (question: RateLimitQuestion) => void;
  /** Is the channel to the primary open? */
  connected: () => boolean;
  /** Worker processes sharing the budget: the fallback lets each through 1/workers of it. */
  workers: number;
  logger: { warn: (details: object, message: string) => void };
  /** How long a request waits for the primary's count (default 250 ms). */
  timeoutMs?: number;
  /** Questions waiting at once before new ones count locally (default 1,000). */
  maxOutstanding?: number;
  /** After a timeout, how long to count locally before asking the primary again (default 5 s). */
  retryAfterMs?: number;
}

/**
 * The worker's side: `storeFor` is the app's RateLimitStoreFactory; `receive` takes the primary's messages and
 * returns false for those that are not rate-limit answers.
 */
export function createClusterRateLimitClient(options: ClusterRateLimitClientOptions) {
  const { send, connected, workers, logger } = options;
  const timeoutMs = options.timeoutMs ?? 250;
  const maxOutstanding = options.maxOutstanding ?? 1_000;
  const retryAfterMs = options.retryAfterMs ?? 5_000;
  if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`workers must be a positive integer (got ${workers})`);

  const waiting = new Map<number, { resolve: (answer: RateLimitAnswer["window"]) => void; timer: NodeJS.Timeout }>();
  let nextId = 1;
  let localUntil = 0;
  let warned = false;

  const fallBack = (reason: string, pauseIpc: boolean) => {
    if (pauseIpc) localUntil = Date.now() + retryAfterMs;
    if (warned) return;
    warned = true;
    logger.warn(
      { reason, workers },
      `rate limits counted in this worker alone (each worker allows 1/${workers} of every per-client budget): ${reason}`,
    );
  };

  const trySend = (question: RateLimitQuestion): boolean => {
    try {
      if (!connected()) return false;
      send(question);
      return true;
    } catch {
      return false;
    }
  };

  /** The primary's answer, or "local" when the worker must count on its own. */
  const ask = (question: Omit<RateLimitQuestion, "id">): Promise<RateLimitAnswer["window"] | "local"> => {
    if (Date.now() < localUntil) return Promise.resolve("local");
    if (waiting.size >= maxOutstanding) {
      fallBack(`more than ${maxOutstanding} rate-limit questions waiting for the primary`, false);
      return Promise.resolve("local");
    }
    const id = nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        waiting.delete(id);
        fallBack(`the primary did not answer within ${timeoutMs} ms`, true);
        resolve("local");
      }, timeoutMs);
      waiting.set(id, { resolve, timer });
      if (!trySend({ ...question, id })) {
        clearTimeout(timer);
        waiting.delete(id);
        fallBack("the IPC channel to the primary is closed", true);
        resolve("local");
      }
    });
  };

  const storeFor: RateLimitStoreFactory = (name, { maxClients }) => {
    const local = createBoundedRateLimitStore({ maxClients });
    let windowMs = 60_000;
    const scaled = (window: IncrementResponse): IncrementResponse => ({
      totalHits: window.totalHits * workers,
      resetTime: window.resetTime,
    });
    const fromAnswer = (window: NonNullable<RateLimitAnswer["window"]>): IncrementResponse => ({
      totalHits: window.totalHits,
      resetTime: new Date(window.resetTime),
    });
    return {
      localKeys: true,
      prefix: name,
      init(limiterOptions: Options) {
        windowMs = limiterOptions.windowMs;
        void local.init!(limiterOptions);
      },
      async increment(key) {
        const answer = await ask({ type: "rate-limit", op: "increment", limiter: name, key, windowMs });
        if (answer === "local" || answer === null) return scaled(local.increment(key) as IncrementResponse);
        return fromAnswer(answer);
      },
      async get(key) {
        const answer = await ask({ type: "rate-limit", op: "get", limiter: name, key, windowMs });
        if (answer === "local") {
          const window = local.get!(key) as IncrementResponse | undefined;
          return window && scaled(window);
        }
        return answer === null ? undefined : fromAnswer(answer);
      },
      decrement(key) {
        void local.decrement(key);
        trySend({ type: "rate-limit", op: "decrement", limiter: name, key, windowMs });
      },
      resetKey(key) {
        void local.resetKey(key);
        trySend({ type: "rate-limit", op: "resetKey", limiter: name, key, windowMs });
      },
    };
  };

  return {
    storeFor,
    receive(message: unknown): boolean {
      if (typeof message !== "object" || message === null || (message as RateLimitAnswer).type !== "rate-limit-answer") return false;
      const { id, window } = message as RateLimitAnswer;
      const pending = waiting.get(id);
      if (pending) {
        waiting.delete(id);
        clearTimeout(pending.timer);
        pending.resolve(window);
      }
      return true;
    },
    /** Questions waiting for the primary, for tests. */
    get outstanding(): number {
      return waiting.size;
    },
  };
}
