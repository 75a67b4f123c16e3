/**
 * The bulk seeder the scale benchmark fills stores with (scripts/fixtures/bulk-store.ts): what it writes must be a
 * history the mirror could hold (projections consistent with the events, registry batch ids, serial roots that are
 * the Merkle roots of the stored serials), reproducible from its seed, and growable in steps.
 */
import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";

import { batchIdOf } from "../../../backend/chain/gs1.ts";
import { buildSerialTree } from "../../../backend/passport/serial-tree.ts";
import type { MirrorStore } from "../../../backend/store/port.ts";
import { createSqliteStore } from "../../../backend/store/sqlite/index.ts";
import { CHAIN_ID } from "../../../scripts/fixtures/chain-history.ts";
import { seedBulkStore } from "../../../scripts/fixtures/bulk-store.ts";

describe("Bulk store seeder", function () {
  const stores: MirrorStore[] = [];
  const openStore = async () => {
    const store = createSqliteStore({ path: ":memory:" });
    await store.init();
    stores.push(store);
    return store;
  };
  afterEach(async function () {
    for (const store of stores.splice(0)) await store.close();
  });

  it("test_seedBulkStore_writesBatchLives_consistentWithTheirEvents", async function () {
    const store = await openStore();
    const summary = await seedBulkStore(store, { batches: 300, chunkBatches: 70, serialSetEvery: 50 });

    expect(await store.countEvents()).to.equal(summary.events);
    // ~10 events per batch on average, onboarding on top.
    expect(summary.events).to.be.within(300 * 9.5, 300 * 10.5 + 1_000);
    const checkpoint = await store.getCheckpoint(CHAIN_ID);
    expect(checkpoint?.blockNumber).to.equal(summary.lastBlock);
    expect(summary.childBatches).to.equal(2 * summary.samples.splitParents.length);

    for (const batchId of summary.samples.batchIds) {
      const batch = (await store.getBatch(batchId))!;
      expect(batch.batchId).to.equal(batchIdOf(batch.gtin, batch.lot));
      expect(batch.custody.filter((step) => step.kind === "accepted").length).to.be.greaterThanOrEqual(2);
      const events = await store.listEvents({ batchId }, { limit: 500 });
      // Escrow events name the batch too, but only registry events change it.
      expect(batch.lastEvent.eventId).to.equal(events.items.filter((event) => event.contract === "ProvenanceRegistry").at(-1)!.id);
    }
    for (const parentId of summary.samples.splitParents) {
      const parent = (await store.getBatch(parentId))!;
      expect(parent.childIds).to.have.length(2);
      const children = await store.getBatches(parent.childIds);
      expect(children.map((child) => child.parentId)).to.deep.equal([parentId, parentId]);
    }
    for (const batchId of summary.samples.recalled) expect((await store.getBatch(batchId))!.status).to.equal("recalled");
  });

  it("test_seedBulkStore_sampleUnits_haveStoredSerialSets_whoseRootTheBatchRegistered", async function () {
    const store = await openStore();
    const summary = await seedBulkStore(store, { batches: 120, serialSetEvery: 40, unitsPerSerialSet: 5 });
    expect(summary.serialSets).to.equal(3);
    expect(summary.samples.units).to.have.length(3);
    for (const unit of summary.samples.units) {
      const batch = (await store.getBatch(unit.batchId))!;
      expect([batch.gtin, batch.lot]).to.deep.equal([unit.gtin, unit.lot]);
      const set = (await store.getSerialSet(batch.serialRoot))!;
      expect(set.serials).to.include(unit.serial);
      expect((await buildSerialTree(set.serials)).root).to.equal(batch.serialRoot);
    }
  });

  it("test_seedBulkStore_sameSeed_sameStore_otherSeed_otherIds", async function () {
    const [first, second, other] = [await openStore(), await openStore(), await openStore()];
    const a = await seedBulkStore(first, { batches: 60, seed: 7 });
    const b = await seedBulkStore(second, { batches: 60, seed: 7 });
    const c = await seedBulkStore(other, { batches: 60, seed: 8 });
    expect(b.samples).to.deep.equal(a.samples);
    expect(await second.listEvents({}, { limit: 500 })).to.deep.equal(await first.listEvents({}, { limit: 500 }));
    expect(c.samples.batchIds[0]).to.not.equal(a.samples.batchIds[0]);
  });

  it("test_seedBulkStore_inSteps_continuesAfterTheCheckpoint_withoutReplacingEarlierBatches", async function () {
    const store = await openStore();
    const first = await seedBulkStore(store, { batches: 50 });
    const firstBatch = (await store.getBatch(first.samples.batchIds[0]!))!;
    const second = await seedBulkStore(store, { batches: 50, firstBatch: first.nextBatch });

    expect(await store.countEvents()).to.equal(first.events + second.events);
    expect(second.lastBlock).to.be.greaterThan(first.lastBlock);
    expect(second.samples.batchIds).to.not.include(first.samples.batchIds[0]);
    expect(await store.getBatch(first.samples.batchIds[0]!)).to.deep.equal(firstBatch);
    expect((await store.listBatches({}, { limit: 500 })).items).to.have.length(100 + first.childBatches + second.childBatches);
  });

  it("test_seedBulkStore_throughABulkLoadConnection_isTheSameStore_onceReopenedAsProductionOpensIt", async function () {
    const directory = mkdtempSync(join(tmpdir(), "provena-bulk-load-"));
    try {
      const [bulkPath, normalPath] = [join(directory, "bulk.db"), join(directory, "normal.db")];
      const bulk = createSqliteStore({ path: bulkPath, bulkLoad: true });
      await bulk.init();
      const seeded = await seedBulkStore(bulk, { batches: 80, chunkBatches: 30 });
      await bulk.close();
      const normal = createSqliteStore({ path: normalPath });
      await normal.init();
      stores.push(normal);
      expect(await seedBulkStore(normal, { batches: 80, chunkBatches: 30 })).to.deep.include({ samples: seeded.samples });

      const reopened = createSqliteStore({ path: bulkPath });
      await reopened.init();
      stores.push(reopened);
      expect(await reopened.countEvents()).to.equal(await normal.countEvents());
      const lastBatchId = seeded.samples.batchIds.at(-1)!;
      expect(await reopened.listEvents({ batchId: lastBatchId }, { limit: 500 })).to.deep.equal(
        await normal.listEvents({ batchId: lastBatchId }, { limit: 500 }),
      );
      expect(await reopened.listBatches({}, { limit: 500 })).to.deep.equal(await normal.listBatches({}, { limit: 500 }));
      // The file itself is left in WAL mode, as every other process expects it.
      const file = new DatabaseSync(bulkPath, { readOnly: true });
      try {
        expect((file.prepare("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode).to.equal("wal");
        expect(file.prepare("PRAGMA integrity_check").get()).to.deep.equal({ integrity_check: "ok" });
      } finally {
        file.close();
      }
    } finally {
      for (const store of stores.splice(0)) await store.close();
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it("test_seedBulkStore_badOptions_areRefused", async function () {
    const store = await openStore();
    for (const options of [{ batches: -1 }, { batches: 1.5 }, { batches: 10, eventsPerBatch: 4 }, { batches: 10, chunkBatches: 0 }]) {
      let message = "";
      try {
        await seedBulkStore(store, options);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message, JSON.stringify(options)).to.match(/must be/);
    }
    expect(await store.countEvents()).to.equal(0);
  });
});
