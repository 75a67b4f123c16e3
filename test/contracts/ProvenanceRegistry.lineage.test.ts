/**
 * Issue 11, items 4, 9 and 10: a watched batch cannot be split, a recall reaches every descendant of a lot
 * (status checks follow the lineage, at most MAX_LINEAGE_DEPTH generations), and every change of the watched
 * flag is an event. Each test here fails on the registry before the fix.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { DEMO_GTIN, DEMO_PORT_GLN, deployProvena } from "../../scripts/fixtures/provena-deployment.ts";
import { BatchStatus, BusinessStep } from "../../scripts/fixtures/registry-enums.ts";
import { documentHash, registerBatch } from "../helpers/batches.ts";
import { batchIdOf } from "../helpers/gs1.ts";

const { ethers, networkHelpers } = await network.create();

const reason = documentHash("contamination");

describe("ProvenanceRegistry: lineage", function () {
  /** A batch of 100 units held by the manufacturer and an EOA as custody observer (not yet watching). */
  async function registeredFixture() {
    const deployment = await deployProvena(ethers, { escrow: false });
    const { batchId, tree } = await registerBatch(deployment.registry, deployment.manufacturer, { lot: "LOT-P", quantity: 100n });
    const observer = deployment.signers[15];
    await deployment.registry.connect(deployment.admin).setCustodyObserver(observer.address);
    return { ...deployment, batchId, observer, root: tree.root };
  }

  /** LOT-P split into LOT-P/1 and LOT-P/2, and LOT-P/1 into LOT-P/1/A and LOT-P/1/B (all held by the manufacturer). */
  async function twoGenerationsFixture() {
    const context = await registeredFixture();
    const { registry, manufacturer, batchId, root } = context;
    await registry.connect(manufacturer).splitBatch(batchId, [
      { lot: "LOT-P/1", quantity: 60n, serialRoot: root },
      { lot: "LOT-P/2", quantity: 40n, serialRoot: root },
    ]);
    const child = batchIdOf(DEMO_GTIN, "LOT-P/1");
    const sibling = batchIdOf(DEMO_GTIN, "LOT-P/2");
    await registry.connect(manufacturer).splitBatch(child, [
      { lot: "LOT-P/1/A", quantity: 30n, serialRoot: root },
      { lot: "LOT-P/1/B", quantity: 30n, serialRoot: root },
    ]);
    const grandchild = batchIdOf(DEMO_GTIN, "LOT-P/1/A");
    return { ...context, child, sibling, grandchild };
  }

  describe("splitBatch", function () {
    it("test_splitBatch_revertsWhileTheObserverWatchesTheBatch", async function () {
      const { registry, manufacturer, observer, batchId, root } = await networkHelpers.loadFixture(registeredFixture);
      await registry.connect(observer).setBatchWatched(batchId, true);
      const children = [
        { lot: "LOT-P/1", quantity: 50n, serialRoot: root },
        { lot: "LOT-P/2", quantity: 50n, serialRoot: root },
      ];
      await expect(registry.connect(manufacturer).splitBatch(batchId, children))
        .to.be.revertedWithCustomError(registry, "SplitBatchWatched")
        .withArgs(batchId);
      await registry.connect(observer).setBatchWatched(batchId, false);
      await expect(registry.connect(manufacturer).splitBatch(batchId, children)).to.emit(registry, "BatchSplit");
    });

    it("test_splitBatch_recordsTheParentOfEachChild", async function () {
      const { registry, batchId, child, grandchild } = await networkHelpers.loadFixture(twoGenerationsFixture);
      expect(await registry.parentOf(child)).to.equal(batchId);
      expect(await registry.parentOf(grandchild)).to.equal(child);
      expect(await registry.parentOf(batchId)).to.equal(ethers.ZeroHash);
    });

    it("test_splitBatch_revertsBeyondMaxLineageDepth", async function () {
      const { registry, manufacturer, batchId, root } = await networkHelpers.loadFixture(registeredFixture);
      const maxDepth = await registry.MAX_LINEAGE_DEPTH();
      let parent = batchId;
      let lot = "LOT-P";
      for (let depth = 1n; depth <= maxDepth; ++depth) {
        const quantity = (await registry.batch(parent))[5];
        const half = quantity / 2n;
        await registry.connect(manufacturer).splitBatch(parent, [
          { lot: `${lot}/A`, quantity: half, serialRoot: root },
          { lot: `${lot}/B`, quantity: quantity - half, serialRoot: root },
        ]);
        lot = `${lot}/B`;
        parent = batchIdOf(DEMO_GTIN, lot);
      }
      await expect(
        registry.connect(manufacturer).splitBatch(parent, [
          { lot: `${lot}/A`, quantity: 1n, serialRoot: root },
          { lot: `${lot}/B`, quantity: 1n, serialRoot: root },
        ]),
      )
        .to.be.revertedWithCustomError(registry, "SplitLineageTooDeep")
        .withArgs(parent, maxDepth);
    });
  });

  describe("recallBatch", function () {
    it("test_recallBatch_recallsASplitLotAndEveryDescendant", async function () {
      const { registry, customs, batchId, child, sibling, grandchild } = await networkHelpers.loadFixture(twoGenerationsFixture);
      await expect(registry.connect(customs).recallBatch(batchId, reason))
        .to.emit(registry, "BatchRecalled")
        .withArgs(batchId, customs.address, reason);
      for (const id of [batchId, child, sibling, grandchild]) {
        expect((await registry.batchStatus(id))[0]).to.equal(BatchStatus.Recalled);
        expect((await registry.batch(id))[3]).to.equal(BatchStatus.Recalled);
      }
    });

    it("test_recallBatch_ofAChildLeavesItsSiblingAndParentAlone", async function () {
      const { registry, manufacturer, batchId, child, sibling, grandchild } = await networkHelpers.loadFixture(twoGenerationsFixture);
      await registry.connect(manufacturer).recallBatch(child, reason);
      expect((await registry.batchStatus(grandchild))[0]).to.equal(BatchStatus.Recalled);
      expect((await registry.batchStatus(sibling))[0]).to.equal(BatchStatus.Registered);
      expect((await registry.batchStatus(batchId))[0]).to.equal(BatchStatus.Split);
    });

    it("test_recallBatch_stopsDescendantsFromChangingHands", async function () {
      const { registry, manufacturer, carrier, customs, batchId, sibling, grandchild, root } =
        await networkHelpers.loadFixture(twoGenerationsFixture);
      await registry.connect(manufacturer).proposeHandoff(sibling, carrier.address, DEMO_PORT_GLN, BusinessStep.Shipping);
      await registry.connect(customs).recallBatch(batchId, reason);
      await expect(registry.connect(carrier).acceptHandoff(sibling, DEMO_PORT_GLN, BusinessStep.Receiving))
        .to.be.revertedWithCustomError(registry, "BatchInvalidStatus")
        .withArgs(sibling, BatchStatus.Recalled);
      await expect(registry.connect(manufacturer).proposeHandoff(grandchild, carrier.address, DEMO_PORT_GLN, BusinessStep.Shipping))
        .to.be.revertedWithCustomError(registry, "BatchInvalidStatus")
        .withArgs(grandchild, BatchStatus.Recalled);
      await expect(
        registry.connect(manufacturer).splitBatch(grandchild, [
          { lot: "LOT-P/1/A/1", quantity: 15n, serialRoot: root },
          { lot: "LOT-P/1/A/2", quantity: 15n, serialRoot: root },
        ]),
      )
        .to.be.revertedWithCustomError(registry, "BatchInvalidStatus")
        .withArgs(grandchild, BatchStatus.Recalled);
      // The sender can still take back its offer.
      await expect(registry.connect(manufacturer).cancelHandoff(sibling)).to.emit(registry, "HandoffCancelled");
    });
  });

  describe("watched flag", function () {
    it("test_setBatchWatched_emitsBatchWatchChangedOnlyOnAChange", async function () {
      const { registry, observer, batchId } = await networkHelpers.loadFixture(registeredFixture);
      await expect(registry.connect(observer).setBatchWatched(batchId, true))
        .to.emit(registry, "BatchWatchChanged")
        .withArgs(batchId, true);
      expect(await registry.watchedBatchCount()).to.equal(1n);
      await expect(registry.connect(observer).setBatchWatched(batchId, true)).not.to.emit(registry, "BatchWatchChanged");
      expect(await registry.watchedBatchCount()).to.equal(1n);
      await expect(registry.connect(observer).setBatchWatched(batchId, false))
        .to.emit(registry, "BatchWatchChanged")
        .withArgs(batchId, false);
      expect(await registry.watchedBatchCount()).to.equal(0n);
    });

    it("test_watchBatch_emitsBatchWatchChangedOnce", async function () {
      const { registry, observer, batchId } = await networkHelpers.loadFixture(registeredFixture);
      await expect(registry.connect(observer).watchBatch(batchId, observer.address))
        .to.emit(registry, "BatchWatchChanged")
        .withArgs(batchId, true);
      await expect(registry.connect(observer).watchBatch(batchId, observer.address)).not.to.emit(registry, "BatchWatchChanged");
      expect(await registry.watchedBatchCount()).to.equal(1n);
    });

    it("test_watchBatch_reportsTheRecallOfAnAncestor", async function () {
      const { registry, observer, customs, batchId, sibling } = await networkHelpers.loadFixture(twoGenerationsFixture);
      await registry.connect(customs).recallBatch(batchId, reason);
      expect((await registry.connect(observer).watchBatch.staticCall(sibling, observer.address))[2]).to.equal(BatchStatus.Recalled);
    });
  });
});
