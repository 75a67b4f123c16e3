/**
 * The worker thread of the readings' writer (reading-writer.ts): its own connection to the store's file, opened
 * as the store opens its own (WAL, synchronous = FULL, the same busy timeout), runs each batch's inserts and
 * commit, one batch after another in the order they were sent, and answers each with its duplicates or its error.
 *
 * Started by reading-writer.ts with `new Worker(...)`: it and everything it imports must load as plain ESM under
 * Node's type stripping, or under tsx where Node cannot strip types.
 */
import { parentPort, workerData } from "node:worker_threads";
import { openSqlite, type SqliteConnection } from "./connection.ts";
import { writeReadings } from "./reading-writes.ts";
import type { ReadingWriterReply, ReadingWriterRequest, ReadingWriterSetup } from "./reading-writer.ts";

const setup = workerData as ReadingWriterSetup;
const port = parentPort!;
let connection: SqliteConnection | null = null;

port.on("message", (request: ReadingWriterRequest) => {
  if (request.kind === "close") {
    connection?.close();
    connection = null;
    port.close();
    return;
  }
  let reply: ReadingWriterReply;
  try {
    // Opened at the first batch (and again after a failed open), so an open error is that batch's error.
    connection ??= openSqlite({ path: setup.path, busyTimeoutMs: setup.busyTimeoutMs });
    reply = { id: request.id, duplicates: writeReadings(connection, request.accepted, request.rejected) };
  } catch (error) {
    const { message, code, errcode, errstr } = error as { message?: unknown; code?: unknown; errcode?: unknown; errstr?: unknown };
    reply = {
      id: request.id,
      error: {
        message: typeof message === "string" ? message : String(error),
        code: typeof code === "string" ? code : undefined,
        errcode: typeof errcode === "number" ? errcode : undefined,
        errstr: typeof errstr === "string" ? errstr : undefined,
      },
    };
  }
  port.postMessage(reply);
});
