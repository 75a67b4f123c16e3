import { expect } from "chai";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";

import { createStore, StoreUnavailableError } from "../../../backend/store/index.ts";
import { createSqliteStore } from "../../../backend/store/sqlite/index.ts";
import type { MirrorStore } from "../../../backend/store/port.ts";
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

    it("test_commitRange_failure_leavesNothingOfTheRange", async function () {
      const store = await open(":memory:");
      const scenario = supplyChainScenario();
      await store.commitRange(rangeCommit(scenario, 1, 4));
      const tomatoes = (await store.getBatch(scenario.batchIds.tomatoes))!;
      const failing = { ...rangeCommit(scenario, 5, 8), batches: [...rangeCommit(scenario, 5, 8).batches, { ...tomatoes, batchId: bytes32("clash") }] };
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
