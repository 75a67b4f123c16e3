/**
 * Picks the mirror store from configuration: MongoDB when a URI is set (the production store), else the
 * embedded SQLite file. The MongoDB adapter is imported only when asked for, so SQLite users never load mongoose.
 */
import { redactUrl } from "../config.ts";
import type { MirrorStore } from "./port.ts";
import { createSqliteStore } from "./sqlite/index.ts";

export type { Leases, MirrorLog, MirrorStore, PassportRecords, ProjectionReads, RelayQueue, StoreKind, StoreLifecycle } from "./port.ts";

export interface StoreConfig {
  /** null or absent = the embedded SQLite store at `sqlitePath`. */
  mongodbUri?: string | null;
  sqlitePath: string;
  /** The page cache of each SQLite connection, in MB (SQLITE_CACHE_MB). */
  sqliteCacheMb?: number;
}

/** The configured store cannot be opened or reached; `message` is one line fit for the operator, `cause` has the rest. */
export class StoreUnavailableError extends Error {
  readonly storeKind: MirrorStore["kind"];

  constructor(storeKind: MirrorStore["kind"], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StoreUnavailableError";
    this.storeKind = storeKind;
  }
}

interface MongoAdapterModule {
  createMongoStore(options: { uri: string }): MirrorStore | Promise<MirrorStore>;
}

/** Opens the configured store and prepares its tables/indexes (`init`), ready for use. */
export async function createStore(config: StoreConfig): Promise<MirrorStore> {
  const uri = config.mongodbUri ?? undefined;
  if (uri !== undefined && uri !== "") return openMongoStore(uri);

  let store: MirrorStore;
  try {
    store = createSqliteStore({ path: config.sqlitePath, cacheMb: config.sqliteCacheMb });
    await store.init();
  } catch (error) {
    throw new StoreUnavailableError("sqlite", `Cannot open the SQLite store at ${config.sqlitePath}: ${reason(error)}`, {
      cause: error,
    });
  }
  return store;
}

async function openMongoStore(uri: string): Promise<MirrorStore> {
  // A variable specifier keeps mongoose out of the module graph until a MongoDB URI is configured.
  const adapterPath = "./mongo/index.ts";
  const adapter = (await import(adapterPath)) as MongoAdapterModule;
  let store: MirrorStore | undefined;
  try {
    store = await adapter.createMongoStore({ uri });
    await store.init();
    return store;
  } catch (error) {
    await store?.close().catch(() => undefined);
    // The adapter's own connection and URI errors are already one line naming the host without credentials.
    const message = ADAPTER_CLEAR_ERRORS.has((error as Error)?.name)
      ? (error as Error).message
      : `Cannot ${store === undefined ? "reach" : "use"} MongoDB at ${redactUrl(uri)}: ${reason(error)}`;
    throw new StoreUnavailableError("mongodb", message, { cause: error });
  }
}

const ADAPTER_CLEAR_ERRORS = new Set(["MongoStoreConnectionError", "MongoUriError"]);

function reason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0]!.trim() || "unknown error";
}
