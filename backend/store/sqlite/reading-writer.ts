/**
 * The readings' writer thread: stores batches of readings from a worker thread with its own connection to the
 * store's file, so the inserts and the commit (a disk sync, synchronous = FULL) run while the event loop takes the
 * next MQTT messages and verifies the next batch. node:sqlite is synchronous: on the store's own connection a batch
 * holds the event loop for the whole transaction.
 *
 * Batches are written in the order they were given, and a batch's promise settles once the transaction holding it
 * has committed (or failed, with nothing of the batch stored). Batches given while the thread waits for a commit's
 * disk sync are written together in the next transaction: one sync for them all (a failure there is retried batch
 * by batch, so only the batch at fault fails). The store's other
 * writes (the indexer's commitRange) go through the store's own connection: SQLite's write lock (BEGIN IMMEDIATE)
 * serialises the two connections, and each waits up to the busy timeout for the other, as two processes would.
 * Neither holds the lock while waiting for the other, so they cannot deadlock.
 *
 * The thread starts with the first batch (a store that never stores readings never starts it); a thread that dies
 * fails its batches with an error and the next batch starts a new one. close() lets the thread finish the batches
 * it was given, then stops it.
 */
import { Worker } from "node:worker_threads";
import type { RejectedReading, StoredReading } from "../../domain/cold-chain.ts";
import { typeScriptThreadExecArgv } from "../../thread-exec-argv.ts";

export interface ReadingWriterSetup {
  path: string;
  busyTimeoutMs: number | undefined;
  cacheMb?: number;
}

export type ReadingWriterRequest =
  { kind: "write"; id: number; accepted: StoredReading[]; rejected: RejectedReading[] } | { kind: "close" };

/** What went wrong in the thread: the message and node:sqlite's codes, which do not survive a postMessage on an Error. */
export interface ReadingWriterFailure {
  message: string;
  code: string | undefined;
  errcode: number | undefined;
  errstr: string | undefined;
}

export type ReadingWriterReply = { id: number; duplicates: number[] } | { id: number; error: ReadingWriterFailure };

export interface ReadingWriter {
  /** Stores the batch in one transaction; resolves to the positions in `accepted` that were already stored. */
  write(accepted: StoredReading[], rejected: RejectedReading[]): Promise<number[]>;
  /** Stores every batch already given, then stops the thread. */
  close(): Promise<void>;
}

/** A batch that failed in the writer thread; node:sqlite's `code`, `errcode` and `errstr` are carried over. */
export class ReadingWriteError extends Error {
  readonly code: string | undefined;
  readonly errcode: number | undefined;
  readonly errstr: string | undefined;

  constructor(message: string, failure?: Partial<ReadingWriterFailure>, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ReadingWriteError";
    this.code = failure?.code;
    this.errcode = failure?.errcode;
    this.errstr = failure?.errstr;
  }
}

const THREAD_FILE = new URL("./reading-writer-thread.ts", import.meta.url);

interface PendingBatch {
  /** The thread the batch was sent to. */
  thread: Worker;
  size: number;
  resolve: (duplicates: number[]) => void;
  reject: (error: Error) => void;
}

export function createReadingWriterThread(setup: ReadingWriterSetup): ReadingWriter {
  const pending = new Map<number, PendingBatch>();
  let nextId = 0;
  let worker: Worker | null = null;
  let stopped: Promise<void> | null = null;
  let closed = false;

  // Only the batches sent to `thread`: a replacement started between a dying thread's error and exit has its own.
  const failAllOf = (thread: Worker, describe: (batch: PendingBatch) => string, cause: unknown) => {
    for (const [id, batch] of pending) {
      if (batch.thread !== thread) continue;
      pending.delete(id);
      batch.reject(new ReadingWriteError(describe(batch), undefined, { cause }));
    }
  };

  const start = (): Worker => {
    const thread = new Worker(THREAD_FILE, { workerData: setup satisfies ReadingWriterSetup, execArgv: typeScriptThreadExecArgv() });
    // Idle, the thread does not keep the process alive (an unclosed store does not either); a batch refs it.
    thread.unref();
    thread.on("message", (reply: ReadingWriterReply) => {
      const batch = pending.get(reply.id);
      if (batch === undefined) return;
      pending.delete(reply.id);
      if (pending.size === 0) thread.unref();
      if ("duplicates" in reply) batch.resolve(reply.duplicates);
      else {
        batch.reject(
          new ReadingWriteError(
            `Storing ${batch.size} readings failed (nothing of the batch was stored): ${reply.error.message}`,
            reply.error,
          ),
        );
      }
    });
    thread.on("error", (error) => {
      // An uncaught error in the thread; it exits next, so the next batch starts another.
      if (worker === thread) worker = null;
      failAllOf(
        thread,
        (batch) => `The readings writer thread failed before storing ${batch.size} readings (they may not be stored): ${error.message}`,
        error,
      );
    });
    thread.on("exit", (exitCode) => {
      if (worker === thread) worker = null;
      failAllOf(
        thread,
        (batch) =>
          `The readings writer thread stopped (exit code ${exitCode}) before storing ${batch.size} readings (they may not be stored)`,
        undefined,
      );
    });
    return thread;
  };

  return {
    write(accepted, rejected) {
      if (closed) return Promise.reject(new ReadingWriteError("The SQLite store is closed: readings cannot be stored"));
      let thread: Worker;
      try {
        thread = worker ??= start();
      } catch (error) {
        return Promise.reject(
          new ReadingWriteError(`The readings writer thread could not start: ${(error as Error).message}`, undefined, { cause: error }),
        );
      }
      const id = nextId++;
      return new Promise<number[]>((resolve, reject) => {
        try {
          // Throws (DataCloneError) on a value that cannot be sent to a thread; then nothing was sent.
          thread.postMessage({ kind: "write", id, accepted, rejected } satisfies ReadingWriterRequest);
        } catch (error) {
          reject(
            new ReadingWriteError(
              `Storing ${accepted.length + rejected.length} readings failed (nothing of the batch was stored): ${(error as Error).message}`,
              undefined,
              { cause: error },
            ),
          );
          return;
        }
        pending.set(id, { thread, size: accepted.length + rejected.length, resolve, reject });
        thread.ref();
      });
    },
    close() {
      closed = true;
      if (stopped !== null) return stopped;
      const thread = worker;
      if (thread === null) return (stopped = Promise.resolve());
      stopped = new Promise<void>((resolve) => {
        thread.ref();
        thread.once("exit", () => resolve());
        // Messages are handled in order: the batches given before this are stored first.
        thread.postMessage({ kind: "close" } satisfies ReadingWriterRequest);
      });
      return stopped;
    },
  };
}
