import { expect } from "chai";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { pathToFileURL } from "node:url";

import { NO_HUMIDITY, NO_POSITION, type RejectedReading, type StoredReading } from "../../../backend/domain/cold-chain.ts";
import type { Hex } from "../../../backend/domain/model.ts";
import type { MirrorStore } from "../../../backend/store/port.ts";
import { createSqliteStore, type SqliteStoreOptions } from "../../../backend/store/sqlite/index.ts";
import { ReadingWriteError } from "../../../backend/store/sqlite/reading-writer.ts";
import { CHAIN_ID, address, bytes32, rangeCommit, supplyChainScenario } from "./fixtures.ts";
import { rejectionOf } from "../../helpers/rejection.ts";

const BATCH = bytes32("batch:readings");
const LEG = bytes32("leg:readings");
const deviceOf = (index: number) => address(`device-${index}`);

const reading = (device: Hex, sequence: number): StoredReading => ({
  device,
  batchId: BATCH,
  sequence,
  timestamp: 1_767_225_600 + sequence * 60,
  temperature: 450,
  humidity: NO_HUMIDITY,
  latitude: NO_POSITION,
  longitude: NO_POSITION,
  signature: `0x${"11".repeat(65)}` as Hex,
  legId: LEG,
  receivedAt: 1_767_225_600_000 + sequence,
});

const rejected = (receivedAt: number): RejectedReading => ({
  reason: "bad-signature",
  detail: "the signature does not recover to the device",
  device: deviceOf(0),
  sequence: 1,
  source: "mqtt",
  receivedAt,
  payload: "{}",
});

/** `count` readings of device `device`, sequences from `from` on. */
const readingsOf = (device: number, from: number, count: number) =>
  Array.from({ length: count }, (_, index) => reading(deviceOf(device), from + index));

/** The store's change token is `<own connection's changes>:<data_version>`; data_version moves on other connections' commits. */
const ownChanges = (store: MirrorStore) => store.changeToken!().split(":")[0];

describe("SQLite store: the readings writer thread", function () {
  this.timeout(30_000);
  let directory: string;
  let fileCount = 0;
  const stores: MirrorStore[] = [];
  const raws: DatabaseSync[] = [];

  const open = async (options: SqliteStoreOptions = {}) => {
    const store = createSqliteStore({ path: join(directory, `writer-${++fileCount}.db`), ...options });
    await store.init();
    stores.push(store);
    return store;
  };
  /** Another connection to the store's file, as another process would have. */
  const rawOf = (path: string) => {
    const raw = new DatabaseSync(path, { timeout: 5_000 });
    raws.push(raw);
    return raw;
  };
  const pathOf = (store: MirrorStore) => store.describe().replace(/^SQLite at /, "");

  before(function () {
    directory = mkdtempSync(join(tmpdir(), "provena-reading-writer-"));
  });

  afterEach(async function () {
    for (const raw of raws.splice(0)) {
      if (raw.isTransaction) raw.exec("ROLLBACK");
      raw.close();
    }
    for (const store of stores.splice(0)) await store.close();
  });

  after(function () {
    rmSync(directory, { recursive: true, force: true });
  });

  it("test_storeReadings_onAFile_isWrittenByTheThread_andTheChangeTokenMoves", async function () {
    // The passport cache trusts a rendering while the change token stands: a commit by the writer thread's
    // connection must move it, as another process's commit does.
    const store = await open();
    const before = store.changeToken!();
    expect(store.changeToken!(), "reads leave the token").to.equal(before);

    expect(await store.storeReadings(readingsOf(1, 1, 3), [rejected(1)])).to.deep.equal({ duplicates: [] });
    const after = store.changeToken!();
    expect(after).to.not.equal(before);
    expect(ownChanges(store), "written on the thread's connection, not the store's").to.equal(before.split(":")[0]);
    expect(await store.countReadings({ batchId: BATCH })).to.equal(3);
    expect(await store.rejectionCounts()).to.deep.equal({ "bad-signature": 1 });

    await store.storeReadings([], [rejected(2)]);
    expect(store.changeToken!()).to.not.equal(after);
  });

  it("test_storeReadings_readingWriterThreadOff_writesOnTheStoresConnection", async function () {
    const store = await open({ readingWriterThread: false });
    const before = ownChanges(store);
    await store.storeReadings(readingsOf(1, 1, 3), []);
    expect(ownChanges(store)).to.not.equal(before);
    expect(await store.countReadings({ batchId: BATCH })).to.equal(3);
  });

  it("test_memoryStore_askedForAWriterThread_isRefused", function () {
    expect(() => createSqliteStore({ path: ":memory:", readingWriterThread: true })).to.throw(/private to its connection/);
  });

  it("test_duplicates_areTheVeryReadingsGiven_andTheRestIsStored", async function () {
    // The ingest finds a duplicate's caller by the reading object itself (ingest-service.ts).
    const store = await open();
    await store.storeReadings(readingsOf(1, 1, 2), []);
    const batch = [reading(deviceOf(1), 2), reading(deviceOf(1), 3), reading(deviceOf(1), 1), reading(deviceOf(2), 1)];
    const { duplicates } = await store.storeReadings(batch, []);
    expect(duplicates).to.have.length(2);
    expect(duplicates[0]).to.equal(batch[0]);
    expect(duplicates[1]).to.equal(batch[2]);
    expect(await store.countReadings({ batchId: BATCH })).to.equal(4);
  });

  it("test_readingBatches_interleavedWithIndexerCommits_allStored_noBusyError", async function () {
    // The indexer writes on the store's own connection while the thread writes readings: the write lock
    // (BEGIN IMMEDIATE, busy timeout) serialises them; neither may fail with SQLITE_BUSY nor wait forever.
    const store = await open();
    const scenario = supplyChainScenario();
    const batches: Promise<{ duplicates: StoredReading[] }>[] = [];
    for (let block = 1; block <= scenario.steps.length; block++) {
      for (let device = 0; device < 5; device++) batches.push(store.storeReadings(readingsOf(device, block * 100, 100), [rejected(block)]));
      await store.commitRange(rangeCommit(scenario, block, block));
      await new Promise((resolve) => setImmediate(resolve));
    }
    const results = await Promise.all(batches);
    expect(results.every((result) => result.duplicates.length === 0)).to.equal(true);
    expect(await store.countReadings({ batchId: BATCH })).to.equal(batches.length * 100);
    expect(await store.rejectionCounts()).to.deep.equal({ "bad-signature": batches.length });
    expect((await store.getCheckpoint(CHAIN_ID))?.blockNumber).to.equal(scenario.steps.length);
  });

  it("test_writeLockHeldElsewhere_theBatchWaitsForIt_thenIsStored", async function () {
    const store = await open();
    await store.storeReadings(readingsOf(1, 1, 1), []); // the thread is up
    const other = rawOf(pathOf(store));
    other.exec("BEGIN IMMEDIATE");
    const started = performance.now();
    let settled = false;
    const storing = store.storeReadings(readingsOf(1, 2, 10), []).finally(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(settled, "stored while another connection held the write lock").to.equal(false);
    // The event loop is free meanwhile: the store's own reads answer.
    expect(await store.countReadings({ batchId: BATCH })).to.equal(1);
    other.exec("COMMIT");
    expect(await storing).to.deep.equal({ duplicates: [] });
    expect(performance.now() - started).to.be.at.least(300);
    expect(await store.countReadings({ batchId: BATCH })).to.equal(11);
  });

  it("test_writeLockHeldPastTheBusyTimeout_rejectsThatBatchClearly_theNextIsStored", async function () {
    const store = await open({ busyTimeoutMs: 100 });
    const other = rawOf(pathOf(store));
    other.exec("BEGIN IMMEDIATE");
    const error = await rejectionOf(store.storeReadings(readingsOf(1, 1, 10), [rejected(1)]));
    expect(error).to.be.instanceOf(ReadingWriteError);
    expect(error.message).to.match(/^Storing 11 readings failed \(nothing of the batch was stored\): database is locked/);
    expect((error as ReadingWriteError).errcode).to.equal(5); // SQLITE_BUSY
    other.exec("COMMIT");

    expect(await store.storeReadings(readingsOf(1, 1, 10), [])).to.deep.equal({ duplicates: [] });
    expect(await store.countReadings({ batchId: BATCH })).to.equal(10);
    expect(await store.rejectionCounts()).to.deep.equal({});
  });

  it("test_constraintFailure_rejectsTheWholeBatchClearly_andTheStoreStaysUsable", async function () {
    const store = await open();
    const broken = { ...reading(deviceOf(1), 2), device: null } as unknown as StoredReading;
    const error = await rejectionOf(store.storeReadings([reading(deviceOf(1), 1), broken], [rejected(1)]));
    expect(error).to.be.instanceOf(ReadingWriteError);
    expect(error.message).to.match(/nothing of the batch was stored.*NOT NULL constraint failed: readings\.device/);
    expect(await store.countReadings({ batchId: BATCH })).to.equal(0);
    expect(await store.rejectionCounts()).to.deep.equal({});

    expect(await store.storeReadings(readingsOf(1, 1, 2), [])).to.deep.equal({ duplicates: [] });
    expect(await store.countReadings({ batchId: BATCH })).to.equal(2);
  });

  it("test_batchesQueuedBehindACommit_oneFails_onlyItIsRejected_theOthersStored", async function () {
    // Batches that wait behind a commit are written in one transaction; a failure there must not take the others.
    const store = await open();
    const broken = { ...reading(deviceOf(2), 1), device: null } as unknown as StoredReading;
    const first = store.storeReadings(readingsOf(1, 1, 2_000), []);
    const failing = store.storeReadings([reading(deviceOf(3), 1), broken], [rejected(1)]);
    const last = store.storeReadings(readingsOf(4, 1, 10), [rejected(2)]);
    expect(await first).to.deep.equal({ duplicates: [] });
    expect((await rejectionOf(failing)).message).to.match(/NOT NULL constraint failed: readings\.device/);
    expect(await last).to.deep.equal({ duplicates: [] });
    expect(await store.countReadings({ batchId: BATCH })).to.equal(2_010);
    expect(await store.rejectionCounts()).to.deep.equal({ "bad-signature": 1 });
    expect(await store.hasReading(deviceOf(3), 1)).to.equal(false);
  });

  it("test_batchesQueuedBehindACommit_duplicatesAcrossThem_areTheLatersOwn", async function () {
    const store = await open();
    const batches = [readingsOf(1, 1, 2_000), readingsOf(1, 1_990, 20), readingsOf(1, 2_005, 5)];
    const results = await Promise.all(batches.map((batch) => store.storeReadings(batch, [])));
    expect(results[0]!.duplicates).to.deep.equal([]);
    expect(results[1]!.duplicates).to.have.length(11);
    results[1]!.duplicates.forEach((duplicate, index) => expect(duplicate).to.equal(batches[1]![index]));
    expect(results[2]!.duplicates).to.deep.equal(batches[2]);
    expect(await store.countReadings({ batchId: BATCH })).to.equal(2_009);
  });

  it("test_aValueThatCannotReachTheThread_rejectsClearly_andCloseDoesNotHang", async function () {
    const store = await open();
    const unsendable = { ...reading(deviceOf(1), 1), signature: () => "0x" } as unknown as StoredReading;
    const error = await rejectionOf(store.storeReadings([unsendable], []));
    expect(error).to.be.instanceOf(ReadingWriteError);
    expect(error.message).to.match(/^Storing 1 readings failed \(nothing of the batch was stored\): .*could not be cloned/);
    expect(await store.storeReadings(readingsOf(1, 1, 1), [])).to.deep.equal({ duplicates: [] });
  });

  it("test_close_storesEveryBatchAlreadyGiven_thenRefusesMore", async function () {
    const store = createSqliteStore({ path: join(directory, "closing.db") });
    await store.init();
    const batches = Array.from({ length: 20 }, (_, index) => store.storeReadings(readingsOf(index, 1, 200), []));
    await store.close();
    const results = await Promise.all(batches);
    expect(results.every((result) => result.duplicates.length === 0)).to.equal(true);
    expect((await rejectionOf(store.storeReadings(readingsOf(1, 201, 1), []))).message).to.match(/closed/);

    const reopened = await open({ path: join(directory, "closing.db") });
    expect(await reopened.countReadings({ batchId: BATCH })).to.equal(20 * 200);
  });

  // Started as a script file and as --eval, each with a V8 option (as `npm run bench:ingest` runs): the thread must
  // start under either (--input-type and --expose-gc are not options a worker may be given).
  for (const entry of ["file", "eval"] as const) {
    it(`test_processEndingWithABatchUnderWay_storesItThenExits_andAnIdleThreadKeepsNothingAlive_${entry}`, async function () {
      // An unclosed store must neither hold a process open (an idle thread) nor let it end under a batch.
      const path = join(directory, `unclosed-${entry}.db`);
      const storeModule = pathToFileURL(join(import.meta.dirname, "../../../backend/store/sqlite/index.ts")).href;
      const script = `
        import { createSqliteStore } from ${JSON.stringify(storeModule)};
        const store = createSqliteStore({ path: ${JSON.stringify(path)} });
        await store.init();
        const reading = (sequence) => ({ device: "0x01", batchId: "0x02", sequence, timestamp: 1, temperature: 1, humidity: 1,
          latitude: 1, longitude: 1, signature: "0x03", legId: "0x04", receivedAt: 1 });
        await store.storeReadings([reading(1)], []);
        // Not awaited, never closed: the process must wait for this batch, then end by itself.
        void store.storeReadings(Array.from({ length: 5_000 }, (_, index) => reading(index + 2)), []);`;
      const scriptFile = join(directory, `unclosed-${entry}.mjs`);
      writeFileSync(scriptFile, script);
      const args = entry === "file" ? [scriptFile] : ["--input-type=module", "-e", script];
      const child = spawn(process.execPath, ["--expose-gc", "--no-warnings", ...args], { stdio: ["ignore", "pipe", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (chunk) => (stderr += chunk));
      const exitCode = await new Promise<number | null>((resolve) => {
        const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
        child.once("exit", (code) => {
          clearTimeout(timer);
          resolve(code);
        });
      });
      expect(exitCode, stderr).to.equal(0);
      expect(stderr).to.equal("");
      const raw = rawOf(path);
      expect((raw.prepare("SELECT count(*) AS n FROM readings").get() as { n: number }).n).to.equal(5_001);
    });
  }
});
