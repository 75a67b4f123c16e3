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

  it("test_init_onAStoreWithoutStatistics_gathersThemBySampling_notByReadingEveryIndexEntry", async function () {
    const path = nextPath();
    const empty = createSqliteStore({ path, readingWriterThread: false });
    await empty.init();
    await empty.close();

    // Events written with no statistics refresh (as the bulk seeder, or an old release, leaves a file): ten times
    // more entries under each name than ANALYSIS_LIMIT.
    const names = 3;
    const rows = names * ANALYSIS_LIMIT * 10;
    const raw = new DatabaseSync(path);
    raw.exec("DELETE FROM sqlite_stat1");
    const insert = raw.prepare(
      "INSERT INTO events (id, chain_id, block_number, transaction_hash, contract, name, doc) VALUES (?, 1, ?, ?, '0xc', ?, '{}')",
    );
    raw.exec("BEGIN");
    for (let i = 0; i < rows; i++) {
      const id = `0x${i.toString(16).padStart(64, "0")}`;
      insert.run(id, Math.floor(i / 10), id, `Name${i % names}`);
    }
    raw.exec("COMMIT");
    // What a full read of the index finds (in a transaction rolled back: the file keeps no statistics).
    raw.exec("BEGIN IMMEDIATE");
    raw.exec("ANALYZE events");
    const exact = raw.prepare("SELECT stat FROM sqlite_stat1 WHERE idx = 'events_by_name'").get() as { stat: string };
    raw.exec("ROLLBACK");
    raw.close();
    expect(exact.stat).to.equal(`${rows} ${rows / names} 1`);

    const reopened = createSqliteStore({ path, readingWriterThread: false });
    await reopened.init();
    await reopened.close();

    const check = new DatabaseSync(path, { readOnly: true });
    try {
      const sampled = check.prepare("SELECT stat FROM sqlite_stat1 WHERE idx = 'events_by_name'").get() as { stat: string } | undefined;
      // The planner has statistics for the index, from a sample of ANALYSIS_LIMIT entries, not from all of them.
      expect(sampled, "init left events_by_name without statistics").to.not.equal(undefined);
      expect(sampled!.stat).to.not.equal(exact.stat);
      const [, perName] = sampled!.stat.split(" ").map(Number);
      expect(perName).to.be.at.most(ANALYSIS_LIMIT + 1);
    } finally {
      check.close();
    }
  });
});
