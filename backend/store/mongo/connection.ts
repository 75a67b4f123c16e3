/**
 * The MongoDB connection of the store: its own (never mongoose's global one), with a short server-selection
 * timeout, so an unreachable or misconfigured server fails start-up within seconds with one line that names the
 * host and never the credentials.
 */
import mongoose from "mongoose";
import type { ConnectOptions, Connection, mongo } from "mongoose";
import { MongoStoreConnectionError } from "./errors.ts";
import { parseMongoUri, redactedMongoUri, scrubCredentials } from "./uri.ts";
import type { MongoUriParts } from "./uri.ts";

export interface MongoStoreOptions {
  /** mongodb:// or mongodb+srv:// connection string (MONGODB_URI). */
  uri: string;
  /** Database name; default: the URI's path, else "provena". */
  dbName?: string;
  /** How long to wait for a server before giving up, at start-up and per operation (default 5000 ms). */
  connectTimeoutMs?: number;
}

export const DEFAULT_DATABASE = "provena";
export const DEFAULT_CONNECT_TIMEOUT_MS = 5000;

export interface MongoConnection {
  connection: Connection;
  db: mongo.Db;
  /** The URI without credentials or options, for logs: "mongodb://host/provena". */
  where: string;
}

/** Connects, failing within about connectTimeoutMs when no server answers. */
export async function connectMongo(options: MongoStoreOptions): Promise<MongoConnection> {
  const uri = typeof options.uri === "string" ? options.uri.trim() : options.uri;
  const parts = parseMongoUri(uri);
  const dbName = options.dbName ?? parts.database ?? DEFAULT_DATABASE;
  if (dbName === "" || Buffer.byteLength(dbName) > 63 || /[/\\. "$\0]/.test(dbName)) {
    throw new MongoStoreConnectionError(`Invalid MongoDB database name ${JSON.stringify(dbName)}`);
  }
  const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new TypeError("connectTimeoutMs must be a positive integer");
  const where = redactedMongoUri(parts, dbName);

  const connectOptions: ConnectOptions = {
    dbName,
    // Opening a socket may take longer than selecting a server may (TLS to a distant cluster); start-up is
    // still bounded by serverSelectionTimeoutMS.
    connectTimeoutMS: Math.max(timeoutMs, 10_000),
    // A filter value left undefined must not turn into a null that matches every document lacking the field.
    ignoreUndefined: true,
    // Fail fast instead of queueing operations while disconnected: the driver already waits up to the
    // server-selection timeout for a primary (which covers a replica-set election) before an operation fails.
    bufferCommands: false,
  };
  // An explicit serverSelectionTimeoutMS in the URI (e.g. a longer one for slow elections) is respected.
  if (!/[?&]serverSelectionTimeoutMS=/i.test(uri)) connectOptions.serverSelectionTimeoutMS = timeoutMs;

  const connection = mongoose.createConnection(uri, connectOptions);
  // Errors after start-up reach the operation that hits them; without a listener, an 'error' event would
  // crash the process instead.
  connection.on("error", () => {});
  try {
    await withDeadline(connection.asPromise(), timeoutMs + 5000);
  } catch (error) {
    await connection.close(true).catch(() => {});
    throw new MongoStoreConnectionError(connectFailure(error, where, timeoutMs, parts), { cause: error });
  }
  return { connection, db: connection.getClient().db(dbName), where };
}

/** One line saying why the connection failed, naming the host and never the credentials. */
export function connectFailure(
  error: unknown,
  where: string,
  timeoutMs: number,
  parts: Pick<MongoUriParts, "username" | "password">,
): string {
  const name = (error as { name?: unknown })?.name;
  const code = (error as { code?: unknown })?.code;
  const reason = scrubCredentials(error instanceof Error ? error.message : String(error), parts);
  if (error instanceof DeadlineError) {
    return `Cannot reach MongoDB at ${where}: no answer within ${error.ms} ms`;
  }
  if (code === 18 || /authentication failed/i.test(reason)) {
    return `MongoDB at ${where} refused the credentials in MONGODB_URI (authentication failed)`;
  }
  if (name === "MongooseServerSelectionError" || name === "MongoServerSelectionError") {
    return `Cannot reach MongoDB at ${where}: no server answered within ${timeoutMs} ms (${reason})`;
  }
  // DNS and socket failures outside server selection (e.g. the SRV lookup of mongodb+srv://).
  if (typeof code === "string" && /^E[A-Z]+$/.test(code)) {
    return `Cannot reach MongoDB at ${where}: ${reason}`;
  }
  if (name === "MongoParseError" || name === "MongoInvalidArgumentError" || name === "MongoAPIError") {
    return `Invalid MONGODB_URI for ${where}: ${reason}`;
  }
  return `Cannot use MongoDB at ${where}: ${reason}`;
}

class DeadlineError extends Error {
  readonly ms: number;
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
    this.ms = ms;
  }
}

/** Guards against a connect that never settles (e.g. a DNS lookup hanging longer than the driver's timeouts). */
async function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(ms)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
