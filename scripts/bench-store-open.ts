/**
 * How long a SQLite store takes to open as `npm start` opens it, step by step:
 * `node --import tsx scripts/bench-store-open.ts <file.db> [--analyze-cost]`.
 *
 *   open        the connection and its pragmas (openSqlite: WAL, synchronous, cache and mmap caps)
 *   migrate     the schema version check (and any migration the file still needs: a real, committed change)
 *   optimize    what `PRAGMA optimize` would analyse (its debug mode, nothing written), then the open's own
 *               (createSqliteStore's init: only tables without statistics; stale ones are left to the writes)
 *   threads     the reputation thread's connection (the reading writer's opens the same way, at its first batch)
 *   counts      the indexer's events count at resume (`countEvents(chainId)`) and the health check's (`countEvents()`)
 *
 * --analyze-cost also times `ANALYZE` of every table with analysis_limit 1000 and without a limit, each inside a
 * transaction that is rolled back (the statistics stay as they were): what a refresh of stale statistics costs
 * (PRAGMA optimize re-analyses a table that grew tenfold), sampled or not.
 * Prints one line per step, the process's memory (RssAnon private, RssFile mapped file pages) and the load average.
 * Run it on a copy or a benchmark store: it takes the write lock for the migrations and the optimize.
 */
import { loadavg } from "node:os";
import { openSqlite } from "../backend/store/sqlite/connection.ts";
import { createSqliteStore } from "../backend/store/sqlite/index.ts";
import { migrate } from "../backend/store/sqlite/schema.ts";
import { CHAIN_ID } from "./fixtures/chain-history.ts";
import { residentMemory } from "./fixtures/resident-memory.ts";

const path = process.argv.slice(2).find((argument) => !argument.startsWith("--"));
if (path === undefined) {
  console.error("usage: node --import tsx scripts/bench-store-open.ts <file.db> [--analyze-cost]");
  process.exit(2);
}

const rows: [string, number, string][] = [];
function timed<T>(step: string, work: () => T, describe: (result: T) => string = () => ""): T {
  const started = performance.now();
  const result = work();
  rows.push([step, performance.now() - started, describe(result)]);
  return result;
}
async function timedAsync<T>(step: string, work: () => Promise<T>, describe: (result: T) => string = () => ""): Promise<T> {
  const started = performance.now();
  const result = await work();
  rows.push([step, performance.now() - started, describe(result)]);
  return result;
}

console.log(
  `${new Date().toISOString()} opening ${path} (load ${loadavg()
    .map((load) => load.toFixed(1))
    .join(" / ")})`,
);
const connection = timed("open: connection and pragmas", () => openSqlite({ path, readingWriterThread: false }));
const { db } = connection;
timed("migrate: schema version check", () => migrate(db));
const stats = db.prepare("SELECT count(*) AS n FROM sqlite_stat1").get() as { n: number } | undefined;
console.log(`sqlite_stat1 rows: ${stats?.n ?? "none"}`);
timed(
  "optimize: what it would analyse (debug)",
  () => db.prepare("PRAGMA optimize=0x10003").all() as { optimize?: string }[],
  (result) => result.map((row) => Object.values(row)[0]).join("; ") || "nothing",
);

if (process.argv.includes("--analyze-cost")) {
  for (const limit of [1_000, 0]) {
    db.exec(`PRAGMA analysis_limit = ${limit}`);
    timed(`ANALYZE, analysis_limit ${limit} (rolled back)`, () => {
      db.exec("BEGIN IMMEDIATE");
      try {
        db.exec("ANALYZE");
      } finally {
        db.exec("ROLLBACK");
      }
    });
  }
  db.exec("PRAGMA analysis_limit = 0");
}
timed("optimize at open: tables without statistics", () => connection.optimizeAtOpen());
connection.close();

const whole = await timedAsync("createSqliteStore + init, as npm start", async () => {
  const store = createSqliteStore({ path, readingWriterThread: false });
  await store.init();
  return store;
});
const thread = timed("a thread's connection (no init)", () => createSqliteStore({ path, readingWriterThread: false }));
await thread.close();
await timedAsync(
  "indexer resume: countEvents(chainId)",
  () => whole.countEvents(CHAIN_ID),
  (n) => n.toLocaleString("en-US"),
);
await timedAsync(
  "health without indexer: countEvents()",
  () => whole.countEvents(),
  (n) => n.toLocaleString("en-US"),
);
await whole.close();

for (const [step, ms, note] of rows) console.log(`${step.padEnd(52)} ${ms.toFixed(1).padStart(10)} ms  ${note}`);
const memory = residentMemory();
console.log(
  `RssAnon ${memory.rssAnon.toFixed(0)} MB, RssFile ${memory.rssFile.toFixed(0)} MB; load ${loadavg()
    .map((load) => load.toFixed(1))
    .join(" / ")}`,
);
