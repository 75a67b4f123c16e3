import { expect } from "chai";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { pathToFileURL } from "node:url";

import { createStore, StoreUnavailableError } from "../../../backend/store/index.ts";
import { createSqliteStore } from "../../../backend/store/sqlite/index.ts";
import { MIGRATIONS, SCHEMA_VERSION } from "../../../backend/store/sqlite/schema.ts";
import type { MirrorStore } from "../../../backend/store/port.ts";
import { chainEventId, type ChainEvent } from "../../../backend/domain/model.ts";
import { documentAnchorsOf } from "../../../backend/documents/document-anchors.ts";
import { CHAIN_ID, rangeCommit, relayRequest, serials, bytes32, supplyChainScenario } from "./fixtures.ts";
import { shouldBehaveLikeMirrorStore } from "./store.behavior.ts";

describe("SQLite store", function () {
  let directory: string;
  let fileCount = 0;

  before(function () {
    directory = mkdtempSync(join(tmpdir(), "provena-sqlite-"));
  });

  after(function () {
    rmSync(directory, { recursive: true, force: true });
  });

  describe("in a file", function () {
    shouldBehaveLikeMirrorStore(async () => {
      const store = createSqliteStore({ path: join(directory, `contract-${++fileCount}.db`) });
      await store.init();
      return store;
    });
  });

  describe("in memory", function () {
    shouldBehaveLikeMirrorStore(async () => {
      const store = createSqliteStore({ path: ":memory:" });
      await store.init();
      return store;
    });
  });

  describe("durability and SQLite specifics", function () {
    const stores: MirrorStore[] = [];
    const open = async (path: string) => {
      const store = createSqliteStore({ path });
      await store.init();
      stores.push(store);
      return store;
    };
    afterEach(async function () {
      for (const store of stores.splice(0)) await store.close();
    });

    it("test_file_survivesCloseAndReopen", async function () {
      const path = join(directory, "durable.db");
      const scenario = supplyChainScenario();
      const first = await open(path);
      await first.commitRange(rangeCommit(scenario, 1, 8));
      await first.putSerialSet({ serialRoot: bytes32("root"), serials: serials(1_000), createdAt: 5 });
      await first.enqueueRelay(relayRequest("durable"));
      await first.acquireLease("indexer", "instance-a", 60_000);
      await first.close();
      await first.close(); // a second close is a no-op

      const second = await open(path);
      expect(await second.countEvents(CHAIN_ID)).to.equal(16);
      expect((await second.getCheckpoint(CHAIN_ID))?.blockNumber).to.equal(8);
      expect((await second.listBatches({}, { limit: 10 })).items).to.have.length(5);
      expect((await second.getSerialSet(bytes32("root")))?.serials).to.deep.equal(serials(1_000));
      expect(await second.getRelay(relayRequest("durable").id)).to.deep.equal(relayRequest("durable"));
      expect(await second.acquireLease("indexer", "instance-b", 60_000)).to.equal(false);
    });

    it("test_defaultLayout_createsDirectories_andUsesWal", async function () {
      const path = join(directory, "nested", "deeper", "provena.db");
      const store = await open(path);
      expect(existsSync(path)).to.equal(true);
      expect(store.describe()).to.equal(`SQLite at ${path}`);
      const raw = new DatabaseSync(path, { readOnly: true });
      try {
        expect((raw.prepare("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode).to.equal("wal");
        expect((raw.prepare("PRAGMA user_version").get() as { user_version: number }).user_version).to.be.greaterThan(0);
      } finally {
        raw.close();
      }
    });

    it("test_twoConnectionsOnOneFile_shareLeaseAndQueue", async function () {
      // Two backend instances on one machine share the file; the lease and the relay CAS hold across them.
      const path = join(directory, "shared.db");
      const a = await open(path);
      const b = await open(path);
      expect(await a.acquireLease("indexer", "instance-a", 60_000)).to.equal(true);
      expect(await b.acquireLease("indexer", "instance-b", 60_000)).to.equal(false);
      const request = relayRequest("shared");
      expect((await a.enqueueRelay(request)).created).to.equal(true);
      expect((await b.enqueueRelay(request)).created).to.equal(false);
      expect(await b.updateRelay(request.id, "queued", { status: "submitted" })).to.equal(true);
      expect(await a.updateRelay(request.id, "queued", { status: "submitted" })).to.equal(false);
      await a.commitRange(rangeCommit(supplyChainScenario(), 1, 4));
      expect(await b.countEvents()).to.equal(9);
    });

    it("test_changeToken_movesOnOwnWritesAndOnAnotherConnectionsCommit_notOnReads", async function () {
      // The passport fast path (passport/resolver-routes.ts) trusts a rendering while this token stands: it must move
      // on this process's writes and on another process's (the indexer, another API worker), never stand still.
      const path = join(directory, "change-token.db");
      const a = await open(path);
      const b = await open(path);
      const tokens = () => [a.changeToken!(), b.changeToken!()];
      let [seenByA, seenByB] = tokens();
      await a.countEvents();
      await b.scanStats(bytes32("batch"), "S-1", 0);
      expect(tokens()).to.deep.equal([seenByA, seenByB]);

      await b.recordScan({ batchId: bytes32("batch"), serial: "S-1", at: 1_000, region: "DE" });
      let [nowA, nowB] = tokens();
      expect(nowB, "own write").to.not.equal(seenByB);
      expect(nowA, "another connection's commit").to.not.equal(seenByA);
      [seenByA, seenByB] = [nowA, nowB];

      await a.commitRange(rangeCommit(supplyChainScenario(), 1, 4));
      [nowA, nowB] = tokens();
      expect(nowA).to.not.equal(seenByA);
      expect(nowB).to.not.equal(seenByB);
    });

    it("test_commitRange_failure_leavesNothingOfTheRange", async function () {
      const store = await open(":memory:");
      const scenario = supplyChainScenario();
      await store.commitRange(rangeCommit(scenario, 1, 4));
      const tomatoes = (await store.getBatch(scenario.batchIds.tomatoes))!;
      const failing = {
        ...rangeCommit(scenario, 5, 8),
        batches: [...rangeCommit(scenario, 5, 8).batches, { ...tomatoes, batchId: bytes32("clash") }],
      };
      let failed = false;
      try {
        await store.commitRange(failing);
      } catch {
        failed = true;
      }
      expect(failed).to.equal(true);
      expect(await store.countEvents()).to.equal(9);
      expect(await store.getBlocks(CHAIN_ID, 5, 8)).to.deep.equal([]);
      expect((await store.getBatch(scenario.batchIds.tomatoes))?.custodian).to.equal(scenario.accounts.manufacturer);
      expect(await store.getBatch(scenario.batchIds.olivesEast)).to.equal(null);
      // The store is still usable afterwards.
      await store.commitRange(rangeCommit(scenario, 5, 8));
      expect(await store.countEvents()).to.equal(16);
    });

    it("test_killedMidCommit_reopensWithEveryCheckpointedRangeWhole", async function () {
      this.timeout(60_000);
      // A child process commits 10-event blocks as fast as it can and is SIGKILLed mid-stream; whatever
      // instant the kill lands, the checkpoint and the events must agree after reopening.
      const path = join(directory, "killed.db");
      const storeModule = pathToFileURL(join(import.meta.dirname, "../../../backend/store/sqlite/index.ts")).href;
      const writer = `
        import { createSqliteStore } from ${JSON.stringify(storeModule)};
        const store = createSqliteStore({ path: ${JSON.stringify(path)} });
        await store.init();
        const hex = (n) => "0x" + n.toString(16).padStart(64, "0");
        for (let block = 1; ; block++) {
          const events = Array.from({ length: 10 }, (_, logIndex) => ({
            id: "31337:" + String(block).padStart(12, "0") + ":" + String(logIndex).padStart(6, "0"),
            chainId: 31337, blockNumber: block, blockHash: hex(block), blockTimestamp: block, transactionHash: hex(block * 100 + logIndex),
            transactionIndex: logIndex, logIndex, contract: "ProvenanceRegistry", address: hex(1).slice(0, 42), name: "HandoffAccepted",
            args: {}, batchIds: [hex(block % 7)], orderIds: [], accounts: [hex(logIndex).slice(0, 42)],
          }));
          await store.commitRange({ chainId: 31337, events, blocks: [{ chainId: 31337, number: block, hash: hex(block), parentHash: hex(block - 1), timestamp: block }],
            batches: [], participants: [], orders: [], checkpoint: { chainId: 31337, blockNumber: block, blockHash: hex(block), updatedAt: block } });
          if (block === 20) process.stdout.write("ready\\n");
        }`;
      const child = spawn(process.execPath, ["--input-type=module", "--no-warnings", "-e", writer], { stdio: ["ignore", "pipe", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (chunk) => (stderr += chunk));
      await new Promise<void>((resolve, reject) => {
        child.stdout.once("data", () => resolve());
        child.once("exit", (code) => reject(new Error(`writer exited early (${code}): ${stderr}`)));
      });
      await sleep(150 + Math.floor(Math.random() * 150));
      child.kill("SIGKILL");
      await new Promise((resolve) => child.once("exit", resolve));

      const store = await open(path);
      const checkpoint = (await store.getCheckpoint(CHAIN_ID))!;
      expect(checkpoint.blockNumber).to.be.at.least(20);
      expect(await store.countEvents(CHAIN_ID)).to.equal(checkpoint.blockNumber * 10);
      expect(await store.getBlocks(CHAIN_ID, 0, Number.MAX_SAFE_INTEGER)).to.have.length(checkpoint.blockNumber);
      const raw = new DatabaseSync(path, { readOnly: true });
      try {
        expect(raw.prepare("PRAGMA integrity_check").get()).to.deep.equal({ integrity_check: "ok" });
        const refs = raw.prepare("SELECT count(*) AS n FROM event_refs").get() as { n: number };
        expect(refs.n).to.equal(checkpoint.blockNumber * 20); // one batch and one account per event
      } finally {
        raw.close();
      }
      console.log(`      (writer killed after block ${checkpoint.blockNumber}; reopened consistent)`);
    });

    it("test_migrate_version1File_keepsItsUnitClaims_asWholeDocuments", async function () {
      const path = join(directory, "version1.db");
      const raw = new DatabaseSync(path);
      raw.exec(MIGRATIONS[0] as string);
      raw.exec("PRAGMA user_version = 1");
      raw
        .prepare("INSERT INTO unit_claims (batch_id, serial, owner, claimed_at) VALUES (?, ?, ?, ?)")
        .run(bytes32("b"), "SN-1", "0xowner", 1_767_225_600_123);
      raw.close();
      const store = await open(path);
      const claim = { batchId: bytes32("b"), serial: "SN-1", owner: "0xowner", claimedAt: 1_767_225_600_123 };
      expect(await store.getUnitClaim(bytes32("b"), "SN-1")).to.deep.equal(claim);
      expect(await store.claimUnit({ ...claim, owner: "0xlater", claimedAt: 9 })).to.deep.equal(claim);
      const migrated = new DatabaseSync(path);
      try {
        expect((migrated.prepare("PRAGMA user_version").get() as { user_version: number }).user_version).to.equal(SCHEMA_VERSION);
        const columns = (migrated.prepare("PRAGMA table_info(unit_claims)").all() as { name: string }[]).map((column) => column.name);
        expect(columns).to.deep.equal(["batch_id", "serial", "doc"]);
      } finally {
        migrated.close();
      }
    });

    it("test_migrate_version15File_fillsTheTrackRecordsOfTheDocumentsAlreadyMirrored", async function () {
      const scenario = supplyChainScenario();
      const mirrored = await open(join(directory, "fresh.db"));
      const old = join(directory, "version15.db");
      const before = await open(old);
      for (const [from, to] of [
        [1, 6],
        [7, 12],
      ] as const) {
        await mirrored.commitRange(rangeCommit(scenario, from, to));
        await before.commitRange(rangeCommit(scenario, from, to));
      }
      await before.close();
      // As a release before migration 16 left it: the documents, no track-record tables.
      const raw = new DatabaseSync(old);
      for (const table of ["track_record_sources", "track_records", "track_record_open_deadlines", "track_record_recalls"]) {
        raw.exec(`DROP TABLE ${table}`);
      }
      raw.exec("PRAGMA user_version = 15");
      raw.close();
      const migrated = await open(old);
      const accounts = Object.values(scenario.accounts);
      const totals = await migrated.getTrackRecordTotals(accounts, 4_000_000_000);
      expect(totals).to.deep.equal(await mirrored.getTrackRecordTotals(accounts, 4_000_000_000));
      expect([...totals.values()].some((total) => total.counters.sentAccepted > 0)).to.equal(true);
    });

    it("test_migrate_version12File_indexesTheDocumentAnchorsAlreadyMirrored", async function () {
      const path = join(directory, "version12.db");
      const raw = new DatabaseSync(path);
      for (const migration of MIGRATIONS.slice(0, 12)) raw.exec(migration as string);
      raw.exec("PRAGMA user_version = 12");
      const event: ChainEvent = {
        id: chainEventId(CHAIN_ID, 7, 3),
        chainId: CHAIN_ID,
        blockNumber: 7,
        blockHash: bytes32("block 7"),
        blockTimestamp: 1_767_225_684,
        transactionHash: bytes32("tx 7"),
        transactionIndex: 0,
        logIndex: 3,
        contract: "ProductDataRegistry",
        address: "0x00000000000000000000000000000000000000aa",
        name: "BatchDocumentAnchored",
        args: { batchId: bytes32("batch"), anchoredBy: "0x00000000000000000000000000000000000000bb", contentHash: bytes32("report") },
        batchIds: [bytes32("batch")],
        orderIds: [],
        accounts: ["0x00000000000000000000000000000000000000bb"],
      };
      const published: ChainEvent = { ...event, id: chainEventId(CHAIN_ID, 7, 4), logIndex: 4, name: "BatchDataPublished" };
      const insert = raw.prepare(
        "INSERT INTO events (id, chain_id, block_number, transaction_hash, contract, name, doc) VALUES (?, ?, ?, ?, ?, ?, ?)",
      );
      for (const stored of [event, published]) {
        insert.run(
          stored.id,
          stored.chainId,
          stored.blockNumber,
          stored.transactionHash,
          stored.contract,
          stored.name,
          JSON.stringify(stored),
        );
      }
      raw.close();
      const store = await open(path);
      expect(await store.listDocumentAnchors(bytes32("report"))).to.deep.equal(documentAnchorsOf([event]));
      expect(documentAnchorsOf([event])).to.have.length(1);
    });

    it("test_migrate_version2File_rebuildsTheScanIndexWithRegion_andKeepsTheScans", async function () {
      const path = join(directory, "version2.db");
      const raw = new DatabaseSync(path);
      raw.exec(MIGRATIONS[0] as string);
      raw.exec(MIGRATIONS[1] as string);
      raw.exec("PRAGMA user_version = 2");
      const insert = raw.prepare("INSERT INTO scans (batch_id, serial, at, region) VALUES (?, ?, ?, ?)");
      for (const [at, region] of [
        [1_000, "DE"],
        [2_000, "FR"],
        [3_000, "DE"],
      ] as const)
        insert.run(bytes32("b"), "SN-1", at, region);
      raw.close();
      const store = await open(path);
      expect(await store.scanStats(bytes32("b"), "SN-1", 2_000)).to.deep.equal({
        total: 3,
        regions: ["DE", "FR"],
        firstAt: 1_000,
        lastAt: 3_000,
        recent: 2,
      });
      const migrated = new DatabaseSync(path);
      try {
        const columns = (migrated.prepare("PRAGMA index_info(scans_by_unit)").all() as { name: string }[]).map((column) => column.name);
        expect(columns).to.deep.equal(["batch_id", "serial", "region", "at"]);
      } finally {
        migrated.close();
      }
    });

    // The statements as the adapter writes them (projections.ts pageOf, passport-records.ts scanStats); the scale
    // benchmark (scripts/bench-scale.ts) prints the plans of the statements actually run, on 10^5+ batches.
    it("test_queryPlan_batchesByManufacturerAndStatus_isOneIndexRange_withoutASort", async function () {
      const path = join(directory, "plans-batches.db");
      await open(path);
      const raw = new DatabaseSync(path);
      try {
        const plan = (sql: string) => (raw.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((row) => row.detail);
        const firstPage = plan(
          "SELECT doc FROM batches WHERE manufacturer = '0xm' AND status = 'recalled' ORDER BY registered_event_id, batch_id LIMIT 51",
        );
        expect(firstPage).to.deep.equal(["SEARCH batches USING INDEX batches_by_manufacturer_status (manufacturer=? AND status=?)"]);
        const deepPage = plan(
          `SELECT doc FROM batches WHERE manufacturer = '0xm' AND status = 'recalled' AND (registered_event_id, batch_id) > ('1:1', '0xb')
           ORDER BY registered_event_id, batch_id LIMIT 51`,
        );
        expect(deepPage).to.deep.equal([
          "SEARCH batches USING INDEX batches_by_manufacturer_status (manufacturer=? AND status=? AND (registered_event_id,batch_id)>(?,?))",
        ]);
      } finally {
        raw.close();
      }
    });

    it("test_queryPlan_scanRegionsOfAUnit_groupByWalksTheIndex", async function () {
      const path = join(directory, "plans-scans.db");
      await open(path);
      const raw = new DatabaseSync(path);
      try {
        const plan = (
          raw
            .prepare(
              "EXPLAIN QUERY PLAN SELECT region, count(*) AS n FROM scans WHERE batch_id = '0xb' AND serial IS 'SN-1' GROUP BY region ORDER BY n DESC, region ASC",
            )
            .all() as { detail: string }[]
        ).map((row) => row.detail);
        // Only the per-region counts are sorted (a handful of rows), never the unit's scans.
        expect(plan).to.deep.equal([
          "SEARCH scans USING COVERING INDEX scans_by_unit (batch_id=? AND serial=?)",
          "USE TEMP B-TREE FOR ORDER BY",
        ]);
      } finally {
        raw.close();
      }
    });

    it("test_newerSchemaVersion_isRefusedWithAClearMessage", async function () {
      const path = join(directory, "future.db");
      const raw = new DatabaseSync(path);
      raw.exec("PRAGMA user_version = 999");
      raw.close();
      const store = createSqliteStore({ path });
      stores.push(store);
      let message = "";
      try {
        await store.init();
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).to.match(/schema version 999/);
    });
  });

  describe("createStore", function () {
    it("test_createStore_withoutMongoUri_opensSqliteReadyToUse", async function () {
      const path = join(directory, "factory", "provena.db");
      const store = await createStore({ sqlitePath: path, mongodbUri: null });
      try {
        expect(store.kind).to.equal("sqlite");
        expect(await store.countEvents()).to.equal(0); // init already ran
      } finally {
        await store.close();
      }
    });

    it("test_createStore_unopenableSqlitePath_throwsStoreUnavailable", async function () {
      const path = join(directory, "not-a-dir");
      const blocker = new DatabaseSync(path); // a file where a directory is needed
      blocker.exec("CREATE TABLE t (x)");
      blocker.close();
      let failure: unknown;
      try {
        await createStore({ sqlitePath: join(path, "provena.db") });
      } catch (error) {
        failure = error;
      }
      expect(failure).to.be.instanceOf(StoreUnavailableError);
      expect((failure as Error).message).to.match(/^Cannot open the SQLite store at /);
    });
  });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
