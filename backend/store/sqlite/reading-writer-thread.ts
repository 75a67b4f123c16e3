/**
 * The worker thread of the readings' writer (reading-writer.ts): its own connection to the store's file, opened
 * as the store opens its own (WAL, synchronous = FULL, the same busy timeout and page cache cap), runs the batches' inserts and
 * commits in the order they were sent, and answers each with its duplicates or its error. Batches that queued up
 * while a commit waited for the disk are written together, in one transaction.
 *
 * Started by reading-writer.ts with `new Worker(...)`: it and everything it imports must load as plain ESM under
 * Node's type stripping, or under tsx where Node cannot strip types.
 */
import { parentPort, receiveMessageOnPort, workerData } from "node:worker_threads";
import { openSqlite, type SqliteConnection } from "./connection.ts";
import { insertReadings, writeReadings } from "./reading-writes.ts";
import type { ReadingWriterFailure, ReadingWriterReply, ReadingWriterRequest, ReadingWriterSetup } from "./reading-writer.ts";

const setup = workerData as ReadingWriterSetup;
const port = parentPort!;
let connection: SqliteConnection | null = null;

type WriteRequest = Extract<ReadingWriterRequest, { kind: "write" }>;

const failureOf = (error: unknown): ReadingWriterFailure => {
  const { message, code, errcode, errstr } = error as { message?: unknown; code?: unknown; errcode?: unknown; errstr?: unknown };
  return {
    message: typeof message === "string" ? message : String(error),
    code: typeof code === "string" ? code : undefined,
    errcode: typeof errcode === "number" ? errcode : undefined,
    errstr: typeof errstr === "string" ? errstr : undefined,
  };
};

const reply = (message: ReadingWriterReply) => port.postMessage(message);

/** Opened at the first batch (and again after a failed open), so an open error is that batch's error. */
const connected = () => (connection ??= openSqlite({ path: setup.path, busyTimeoutMs: setup.busyTimeoutMs, cacheMb: setup.cacheMb }));

/**
 * The batches waiting together share one transaction, so one disk sync (the commit's cost) stores them all; each is
 * answered only once that transaction has committed. If it fails, each batch is written on its own, so only the
 * batch at fault fails.
 */
function store(requests: WriteRequest[]): void {
  try {
    const sqlite = connected();
    const duplicates = sqlite.write(() => requests.map((request) => insertReadings(sqlite, request.accepted, request.rejected)));
    requests.forEach((request, index) => reply({ id: request.id, duplicates: duplicates[index]! }));
    return;
  } catch (error) {
    if (requests.length === 1) {
      reply({ id: requests[0]!.id, error: failureOf(error) });
      return;
    }
  }
  for (const request of requests) {
    try {
      reply({ id: request.id, duplicates: writeReadings(connected(), request.accepted, request.rejected) });
    } catch (error) {
      reply({ id: request.id, error: failureOf(error) });
    }
  }
}

port.on("message", (first: ReadingWriterRequest) => {
  // Whatever else was sent meanwhile, in order: written with this batch.
  const requests = [first];
  for (let next = receiveMessageOnPort(port); next !== undefined; next = receiveMessageOnPort(port)) {
    requests.push(next.message as ReadingWriterRequest);
  }
  const writes = requests.filter((request): request is WriteRequest => request.kind === "write");
  if (writes.length > 0) store(writes);
  if (requests.some((request) => request.kind === "close")) {
    connection?.close();
    connection = null;
    port.close();
  }
});
