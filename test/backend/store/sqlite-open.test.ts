import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";

import { ANALYSIS_LIMIT, DEFAULT_SQLITE_CACHE_MB, openSqlite } from "../../../backend/store/sqlite/connection.ts";
import { createSqliteStore } from "../../../backend/store/sqlite/index.ts";

/** What opening a store costs in memory and at start: the pragmas every connection gets, and what init reads. */
describe("SQLite store: opening", function () {
  let directory: string;
  let fileCount = 0;
  const nextPath = () => join(directory, `open-${++fileCount}.db`);

  before(function () {
    directory = mkdtempSync(join(tmpdir(), "provena-sqlite-open-"));
  });

  after(function () {
    rmSync(directory, { recursive: true, force: true });
  });

  const pragma = (db: DatabaseSync, name: string): number => Number(Object.values(db.prepare(`PRAGMA ${name}`).get()!)[0]);

  /** Writes events straight into the file, as a bulk load (or an older release) does: no statistics refresh. */
  function insertEvents(path: string, from: number, count: number, names: number): void {
    const raw = new DatabaseSync(path);
    const insert = raw.prepare(
      "INSERT INTO events (id, chain_id, block_number, transaction_hash, contract, name, doc) VALUES (?, 1, ?, ?, '0xc', ?, '{}')",
    );
    raw.exec("BEGIN");
    for (let i = from; i < from + count; i++) {
      const id = `0x${i.toString(16).padStart(64, "0")}`;
      insert.run(id, Math.floor(i / 10), id, `Name${i % names}`);
    }
    raw.exec("COMMIT");
    raw.close();
  }

  const eventsByNameStatistics = (path: string): string | undefined => {
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      const exists = db.prepare("SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_stat1'").get() !== undefined;
      return exists
        ? (db.prepare("SELECT stat FROM sqlite_stat1 WHERE idx = 'events_by_name'").get() as { stat: string } | undefined)?.stat
        : undefined;
    } finally {
      db.close();
    }
  };

  async function openAsNpmStartDoes(path: string): Promise<void> {
    const store = createSqliteStore({ path, readingWriterThread: false });
    await store.init();
    await store.close();
  }

  it("test_open_capsThePageCacheAtTheConfiguredSize_andMapsNothing", function () {
    const configured = openSqlite({ path: nextPath(), cacheMb: 8 });
    const byDefault = openSqlite({ path: nextPath() });
    try {
      // Negative cache_size is KiB: the cap holds whatever the page size.
      expect(pragma(configured.db, "cache_size")).to.equal(-8 * 1024);
      expect(pragma(byDefault.db, "cache_size")).to.equal(-DEFAULT_SQLITE_CACHE_MB * 1024);
      expect(pragma(configured.db, "mmap_size")).to.equal(0);
      expect(pragma(byDefault.db, "mmap_size")).to.equal(0);
    } finally {
      configured.close();
      byDefault.close();
    }
  });

  it("test_open_boundsWhatAnalyzeReads_onEveryConnection", function () {
    const file = openSqlite({ path: nextPath() });
    const memory = openSqlite({ path: ":memory:" });
    try {
      expect(pragma(file.db, "analysis_limit")).to.equal(ANALYSIS_LIMIT);
      expect(pragma(memory.db, "analysis_limit")).to.equal(ANALYSIS_LIMIT);
    } finally {
      file.close();
      memory.close();
    }
  });

  it("test_init_onAStoreWithoutStatistics_gathersThemBySampling_notByComparingEveryIndexEntry", async function () {
    const path = nextPath();
    await openAsNpmStartDoes(path);
    // Ten times more entries under each name than ANALYSIS_LIMIT, and no statistics.
    const names = 3;
    const rows = names * ANALYSIS_LIMIT * 10;
    insertEvents(path, 0, rows, names);
    expect(eventsByNameStatistics(path)).to.equal(undefined);

    await openAsNpmStartDoes(path);

    // The planner has statistics for the index, from ANALYSIS_LIMIT entries under a name: a full ANALYZE would
    // have found each name's 10,000.
    expect(eventsByNameStatistics(path)).to.equal(`${rows} ${ANALYSIS_LIMIT + 1} 1`);
  });

  it("test_init_onAStoreWithStaleStatistics_leavesThemToTheWritesThatMadeThemStale", async function () {
    const path = nextPath();
    await openAsNpmStartDoes(path);
    insertEvents(path, 0, 2_000, 2);
    await openAsNpmStartDoes(path);
    const gathered = eventsByNameStatistics(path);
    expect(gathered?.split(" ")[0]).to.equal("2000");

    // The table grows fifteenfold behind the statistics' back: PRAGMA optimize would re-analyse it...
    insertEvents(path, 2_000, 28_000, 2);
    // ...but the open does not: a refresh reads every index page, minutes on a large store.
    await openAsNpmStartDoes(path);
    expect(eventsByNameStatistics(path)).to.equal(gathered);

    // The refresh the mirror's writes run (eventsWritten, every OPTIMIZE_EVERY_EVENTS) does.
    const writer = openSqlite({ path });
    try {
      writer.optimize();
    } finally {
      writer.close();
    }
    expect(eventsByNameStatistics(path)?.split(" ")[0]).to.equal("30000");
  });
});
