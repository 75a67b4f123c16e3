import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";

import { DEFAULT_SQLITE_CACHE_MB, openSqlite } from "../../../backend/store/sqlite/connection.ts";
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

  const statisticsOf = (path: string, index: string): string | undefined => {
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      const exists = db.prepare("SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_stat1'").get() !== undefined;
      return exists
        ? (db.prepare("SELECT stat FROM sqlite_stat1 WHERE idx = ?").get(index) as { stat: string } | undefined)?.stat
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

  it("test_init_onAStoreWithoutStatistics_gathersExactOnes_soTheMoreSelectiveIndexIsChosen", async function () {
    const path = nextPath();
    await openAsNpmStartDoes(path);
    // Batches written with no statistics refresh: 2,000 per custodian, 12,000 per status.
    const raw = new DatabaseSync(path);
    const insert = raw.prepare(
      `INSERT INTO batches (batch_id, gtin, lot, manufacturer, custodian, status, parent_id, registered_event_id, last_event_id, doc)
       VALUES (?, '09506000000001', ?, '0xm', ?, ?, NULL, ?, ?, '{}')`,
    );
    raw.exec("BEGIN");
    for (let i = 0; i < 24_000; i++) {
      const id = `0x${i.toString(16).padStart(64, "0")}`;
      insert.run(id, `L${i}`, `0xc${i % 12}`, i % 2 === 0 ? "delivered" : "in_transit", id, id);
    }
    raw.exec("COMMIT");
    raw.close();
    expect(statisticsOf(path, "batches_by_custodian")).to.equal(undefined);

    await openAsNpmStartDoes(path);

    // Exact per-key counts: a sample bounded by analysis_limit (1,000) would count both as ~1,000 a key and could
    // walk the status index, filtering 12,000 rows for a page.
    expect(statisticsOf(path, "batches_by_custodian")).to.equal("24000 2000 1 1");
    expect(statisticsOf(path, "batches_by_status")).to.equal("24000 12000 1 1");
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      const plan = db
        .prepare(
          "EXPLAIN QUERY PLAN SELECT doc FROM batches WHERE custodian = ? AND status = ? ORDER BY registered_event_id, batch_id LIMIT 51",
        )
        .all("0xc1", "delivered") as { detail: string }[];
      expect(plan.map((row) => row.detail)).to.deep.include("SEARCH batches USING INDEX batches_by_custodian (custodian=?)");
    } finally {
      db.close();
    }
  });

  it("test_init_onAStoreWithStaleStatistics_leavesThemToTheWritesThatMadeThemStale", async function () {
    const path = nextPath();
    await openAsNpmStartDoes(path);
    insertEvents(path, 0, 2_000, 2);
    await openAsNpmStartDoes(path);
    const gathered = statisticsOf(path, "events_by_name");
    expect(gathered).to.equal("2000 1000 1");

    // The table grows fifteenfold behind the statistics' back: PRAGMA optimize would re-analyse it...
    insertEvents(path, 2_000, 28_000, 2);
    // ...but the open does not: a refresh reads every index page, minutes on a large store.
    await openAsNpmStartDoes(path);
    expect(statisticsOf(path, "events_by_name")).to.equal(gathered);

    // The refresh the mirror's writes run (eventsWritten, every OPTIMIZE_EVERY_EVENTS) does.
    const writer = openSqlite({ path });
    try {
      writer.optimize();
    } finally {
      writer.close();
    }
    expect(statisticsOf(path, "events_by_name")).to.equal("30000 15000 1");
  });
});
