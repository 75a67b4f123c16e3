/**
 * A partner's track record computed on a worker thread (reputation-thread-worker.ts) with its own read connection
 * to the SQLite store's file. A computation pages through the partner's whole history (seconds for a partner of
 * 10^5 lots) and node:sqlite is synchronous: on the store's own connection it holds the event loop, and every
 * request waits behind it, even those the reputation service answers with the last record it computed.
 *
 * The thread computes one record at a time, each at the store's checkpoint when it starts (the record's `asOf`
 * says which block). At most `maxQueued` computations wait; one more is refused with an "unavailable" DomainError.
 * The thread starts with the first computation; one that dies fails its pending computations with an error, and
 * the next computation starts a new thread. close() stops it at once (pending computations fail). A MongoDB store
 * keeps computing in-process: its reads are asynchronous I/O, which does not hold the event loop.
 */
import { Worker } from "node:worker_threads";
import { unavailable } from "../domain/errors.ts";
import type { Hex } from "../domain/model.ts";
import { typeScriptThreadExecArgv } from "../thread-exec-argv.ts";
import type { Reputation, ReputationPolicy } from "./reputation.ts";

export interface ReputationThreadSetup {
  /** The SQLite store's file (never ":memory:", which is private to its connection). */
  path: string;
  chainId: number;
  policy: ReputationPolicy;
  busyTimeoutMs?: number;
  /** The page cache of the thread's connection (SQLITE_CACHE_MB); the store's default when absent. */
  cacheMb?: number;
}

export interface ReputationThreadRequest {
  id: number;
  subject: Hex;
}

/** `reputation` is null when the thread's store has no checkpoint on the chain or does not know the participant. */
export type ReputationThreadReply = { id: number; reputation: Reputation | null } | { id: number; error: string };

export interface ReputationThread {
  /** The participant's record at the store's current checkpoint, computed on the thread. */
  compute(subject: Hex): Promise<Reputation | null>;
  /** Stops the thread at once (its connection only reads); computations not yet answered fail. */
  close(): Promise<void>;
}

/** A computation the thread did not answer: refused (closed), failed in the thread, or lost with it. */
export class ReputationThreadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ReputationThreadError";
  }
}

/** Distinct participants whose records may wait for the thread; each participant has one computation at a time. */
export const DEFAULT_REPUTATION_THREAD_QUEUE = 256;

const THREAD_FILE = new URL("./reputation-thread-worker.ts", import.meta.url);

interface PendingComputation {
  subject: Hex;
  /** The thread asked: only its end fails the computation (a thread that died may exit after the next one started). */
  thread: Worker;
  resolve: (reputation: Reputation | null) => void;
  reject: (error: Error) => void;
}

export function createReputationThread(setup: ReputationThreadSetup, options: { maxQueued?: number } = {}): ReputationThread {
  if (setup.path === ":memory:") throw new Error('A ":memory:" SQLite store is private to its connection: compute in-process');
  const maxQueued = options.maxQueued ?? DEFAULT_REPUTATION_THREAD_QUEUE;
  const pending = new Map<number, PendingComputation>();
  let nextId = 0;
  let worker: Worker | null = null;
  let closed = false;
  let stopped: Promise<void> | null = null;

  const failAllOf = (thread: Worker, describe: (computation: PendingComputation) => string, cause: unknown) => {
    for (const [id, computation] of pending) {
      if (computation.thread !== thread) continue;
      pending.delete(id);
      computation.reject(new ReputationThreadError(describe(computation), { cause }));
    }
  };

  const start = (): Worker => {
    const thread = new Worker(THREAD_FILE, { workerData: setup satisfies ReputationThreadSetup, execArgv: typeScriptThreadExecArgv() });
    // Idle, the thread does not keep the process alive; a pending computation refs it.
    thread.unref();
    thread.on("message", (reply: ReputationThreadReply) => {
      const computation = pending.get(reply.id);
      if (computation === undefined) return;
      pending.delete(reply.id);
      if (pending.size === 0) thread.unref();
      if ("error" in reply) {
        computation.reject(new ReputationThreadError(`Computing the track record of ${computation.subject} failed: ${reply.error}`));
      } else computation.resolve(reply.reputation);
    });
    thread.on("error", (error) => {
      // An uncaught error in the thread (e.g. the store's file cannot be opened); it exits next, so the next
      // computation starts another.
      if (worker === thread) worker = null;
      failAllOf(thread, (computation) => `The reputation thread failed before computing ${computation.subject}: ${error.message}`, error);
    });
    thread.on("exit", (exitCode) => {
      if (worker === thread) worker = null;
      failAllOf(
        thread,
        (computation) =>
          closed
            ? `The reputation thread was closed before computing ${computation.subject}`
            : `The reputation thread stopped (exit code ${exitCode}) before computing ${computation.subject}`,
        undefined,
      );
    });
    return thread;
  };

  return {
    compute(subject) {
      if (closed) return Promise.reject(new ReputationThreadError("The reputation thread is closed"));
      if (pending.size >= maxQueued) {
        // Unavailable (503 on the API): the same request may succeed once the thread has caught up.
        return Promise.reject(
          unavailable(`Too many track records are being computed (${pending.size}); the record of ${subject} was not started`),
        );
      }
      let thread: Worker;
      try {
        thread = worker ??= start();
      } catch (error) {
        return Promise.reject(
          new ReputationThreadError(`The reputation thread could not start: ${(error as Error).message}`, { cause: error }),
        );
      }
      const id = nextId++;
      return new Promise<Reputation | null>((resolve, reject) => {
        pending.set(id, { subject, thread, resolve, reject });
        thread.ref();
        thread.postMessage({ id, subject } satisfies ReputationThreadRequest);
      });
    },
    close() {
      closed = true;
      if (stopped !== null) return stopped;
      const thread = worker;
      if (thread === null) return (stopped = Promise.resolve());
      // Keeps the process alive until the thread is gone (an idle thread is unref'd).
      thread.ref();
      // Not after the queue: a queued computation could take seconds, and nobody waits for its answer now.
      stopped = thread.terminate().then(() => undefined);
      return stopped;
    },
  };
}
