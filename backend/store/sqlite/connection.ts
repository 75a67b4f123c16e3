/**
 * One open SQLite file and the three things every concern of the adapter needs from it: cached prepared
 * statements, a write transaction and a read transaction.
 *
 * node:sqlite is synchronous: each method runs to completion before the next starts, so within a process no two
 * calls interleave; across processes the write lock taken by BEGIN IMMEDIATE serialises them.
 */
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";

export const DEFAULT_SQLITE_PATH = "data/provena.db";
export const IN_MEMORY = ":memory:";

export interface SqliteStoreOptions {
  /** Database file (directories are created), or ":memory:" for a private in-memory store. */
  path?: string;
  /** How long a write waits for another process's (or connection's) write lock before failing, in ms. */
  busyTimeoutMs?: number;
  /**
   * The most memory this connection's page cache holds, in MB (SQLITE_CACHE_MB; default DEFAULT_SQLITE_CACHE_MB).
   * Each connection has its own: the store's and its readings writer thread's take this one.
   */
  cacheMb?: number;
  /**
   * Store readings from a worker thread with its own connection (reading-writer.ts), off the event loop. Default:
   * yes for a file; a ":memory:" store is private to its connection, so it always writes them in-process.
   */
  readingWriterThread?: boolean;
  /**
   * For seeding a benchmark store only, never for a store that serves: commits skip fsync (synchronous OFF: an OS
   * crash or power loss can corrupt the file), a 1 GiB page cache and memory-mapped reads keep the large random
   * index inserts in memory, and the planner statistics wait for `optimize()` (an open gathers only missing ones).
   * The WAL stays (node:sqlite's defensive mode refuses journal_mode OFF).
   */
  bulkLoad?: boolean;
}

export interface SqliteConnection {
  readonly db: DatabaseSync;
  /** The file, or ":memory:". */
  readonly path: string;
  /** The prepared statement of `text`, prepared once per connection. */
  sql: (text: string) => StatementSync;
  /** Runs `work` as one write transaction; nothing of it stays if it throws. */
  write: <T>(work: () => T) => T;
  /** Runs `work` in one read transaction, so a multi-statement read sees one snapshot. */
  read: <T>(work: () => T) => T;
  /** Counts mirrored events and refreshes the planner's statistics when enough have been written. */
  eventsWritten: (count: number) => void;
  /** Refreshes the planner's statistics now: of tables without any, and of tables that grew or shrank tenfold. */
  optimize: () => void;
  /**
   * At open: gathers statistics for tables that have none (a new store; a bulk-loaded one), leaving stale ones to
   * `eventsWritten`, which refreshes them as the writes that make them stale arrive. A refresh reads every page of
   * every index of the table: one to two minutes for a 10^7-event store, which an open must not wait for.
   */
  optimizeAtOpen: () => void;
  close: () => void;
}

/** How many mirrored events between refreshes of the query planner's statistics. */
const OPTIMIZE_EVERY_EVENTS = 5_000;

/** The page cache of each connection, in MB, unless SQLITE_CACHE_MB says otherwise. */
export const DEFAULT_SQLITE_CACHE_MB = 16;

/** Opens (creating directories) in WAL mode with a busy timeout, so several processes can share the file. */
export function openSqlite(options: SqliteStoreOptions = {}): SqliteConnection {
  const path = options.path ?? DEFAULT_SQLITE_PATH;
  const inMemory = path === IN_MEMORY;
  if (!inMemory) mkdirSync(dirname(resolve(path)), { recursive: true });

  const db = new DatabaseSync(path, { timeout: options.busyTimeoutMs ?? 5_000 });
  if (!inMemory) db.exec("PRAGMA journal_mode = WAL");
  // FULL: a commit survives power loss too; the relay queue promises durability before it answers 202.
  db.exec("PRAGMA synchronous = FULL");
  // Bounded memory: the page cache is capped (negative: KiB), and pages are read, not memory-mapped, so the file's
  // pages live in the OS's file cache (reclaimable) rather than in this process.
  db.exec(`PRAGMA cache_size = ${-Math.round((options.cacheMb ?? DEFAULT_SQLITE_CACHE_MB) * 1024)}`);
  db.exec("PRAGMA mmap_size = 0");
  // No analysis_limit: a bounded ANALYZE still reads every index page (it counts the entries) and its per-key
  // estimates stop at the limit, so `custodian = ? AND status = ?` took the status index, thousands of rows a page.
  const bulkLoad = options.bulkLoad === true;
  if (bulkLoad) {
    db.exec("PRAGMA synchronous = OFF");
    db.exec("PRAGMA cache_size = -1048576");
    db.exec("PRAGMA mmap_size = 68719476736");
  }

  const statements = statementCache(db);
  // The planner chooses among the per-column indexes (e.g. manufacturer vs status) by table statistics, which
  // SQLite gathers only when asked: refresh them at open and as the mirror grows, as SQLite recommends for
  // long-lived connections. PRAGMA optimize re-analyses only tables without statistics or whose size changed
  // tenfold; at open only the former (optimizeAtOpen).
  let eventsSinceOptimize = 0;

  const connection: SqliteConnection = {
    db,
    path,
    sql: statements.sql,
    write(work) {
      db.exec("BEGIN IMMEDIATE");
      try {
        const result = work();
        db.exec("COMMIT");
        return result;
      } catch (error) {
        if (db.isTransaction) db.exec("ROLLBACK");
        throw error;
      }
    },
    read(work) {
      db.exec("BEGIN");
      try {
        return work();
      } finally {
        if (db.isTransaction) db.exec("COMMIT");
      }
    },
    eventsWritten(count) {
      eventsSinceOptimize += count;
      if (!bulkLoad && eventsSinceOptimize >= OPTIMIZE_EVERY_EVENTS) connection.optimize();
    },
    optimize() {
      db.exec("PRAGMA optimize=0x10002");
      eventsSinceOptimize = 0;
    },
    optimizeAtOpen() {
      // optimize's debug bit lists the ANALYZE statements it would run without running them.
      const candidates = (db.prepare("PRAGMA optimize=0x10003").all() as Record<string, string>[]).map((row) => Object.values(row)[0]!);
      const analysed = db.prepare("SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_stat1'").get()
        ? db.prepare("SELECT 1 FROM sqlite_stat1 WHERE tbl = ? LIMIT 1")
        : null;
      for (const statement of candidates) {
        const table = /^ANALYZE "main"\."((?:[^"]|"")+)"$/.exec(statement)?.[1]?.replaceAll('""', '"');
        if (table !== undefined && analysed?.get(table) === undefined) db.exec(statement);
      }
    },
    close() {
      if (db.isOpen) {
        statements.clear();
        db.close();
      }
    },
  };
  return connection;
}

/** Each statement of `db` prepared once, on first use. */
export function statementCache(db: DatabaseSync): { sql: (text: string) => StatementSync; clear: () => void } {
  const statements = new Map<string, StatementSync>();
  return {
    sql(text) {
      let statement = statements.get(text);
      if (statement === undefined) {
        statement = db.prepare(text);
        statements.set(text, statement);
      }
      return statement;
    },
    clear: () => statements.clear(),
  };
}

/** The document stored whole in a row's `doc` column. */
export function documentOf<T>(row: unknown): T | null {
  return row === undefined ? null : (JSON.parse((row as { doc: string }).doc) as T);
}
