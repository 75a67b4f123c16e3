/**
 * Issue 11 items 7 and 8. The escrow keeps each order's full id, so no order can be acted on with terms that
 * only share a prefix of its hash; and an order names its inspector, whose attestations alone (made while the
 * order awaits settlement) decide release, the inspection refund and the late dispute. Every other inspector's
 * result, and any result attested before the order opened, changes nothing for the order.
 */
import { expect } from "chai";
import {
  ETH,
  GLN,
  InspectionResult,
  OrderState,
  RefundReason,
  deliver,
  deployEscrowFixture,
  ethers,
  handToBuyer,
  makeOrder,
  networkHelpers,
  openOrder,
  orderIdOf,
  ship,
  type EscrowFixture,
  type Order,
} from "./TradeEscrow.fixture.ts";

// eslint-disable-next-line @typescript-eslint/unbound-method -- network helpers are bound to their connection
const { loadFixture } = networkHelpers;
const time = networkHelpers.time;
const DAY = 24n * 3600n;

/** The fixture plus a second, rival inspector (the stranger, onboarded as INSPECTOR). */
async function twoInspectorsFixture() {
  const fx = await deployEscrowFixture();
  await fx.registry.connect(fx.admin).onboardParticipant(fx.stranger.address, await fx.registry.INSPECTOR_ROLE(), GLN, "Rival Labs");
  return { ...fx, rival: fx.stranger };
}

/** An order naming the fixture's inspector, opened and funded. */
async function inspectedOrderFixture() {
  const fx = await twoInspectorsFixture();
  const order = await makeOrder(fx, { inspector: fx.inspector.address });
  await openOrder(fx, order);
  return { ...fx, order, orderId: orderIdOf(order) };
}

async function attest(fx: EscrowFixture, by: EscrowFixture["inspector"], passed: boolean) {
  return fx.registry.connect(by).attestQuality(fx.batchId, passed, ethers.id(`report ${by.address} ${passed}`));
}

/** The storage slot of the escrow's record for `batchId` holding `orderId` (found by scanning mapping slots). */
async function orderIdSlotOf(fx: EscrowFixture, batchId: string, orderId: string): Promise<bigint> {
  const escrow = await fx.escrow.getAddress();
  for (let mappingSlot = 0n; mappingSlot < 64n; mappingSlot += 1n) {
    const slot = BigInt(ethers.keccak256(ethers.AbiCoder.defaultAbiCoder().encode(["bytes32", "uint256"], [batchId, mappingSlot])));
    if ((await ethers.provider.getStorage(escrow, slot)) === orderId) return slot;
  }
  throw new Error("the escrow keeps no slot holding the full order id");
}

describe("TradeEscrow full order ids and named inspectors", function () {
  describe("full order id (item 7)", function () {
    it("test_openOrder_storesTheWholeOrderId", async function () {
      const fx = await loadFixture(deployEscrowFixture);
      const order = await makeOrder(fx);
      await openOrder(fx, order);
      expect(await fx.escrow.openOrderOf(fx.batchId)).to.equal(orderIdOf(order));
      await orderIdSlotOf(fx, fx.batchId, orderIdOf(order));
    });

    it("test_release_termsAgreeingOnlyOnTheTop160BitsOfTheId_refused", async function () {
      // What a 2^80 collision search would give the author of two orders: a stored id that agrees with another
      // order's id on its top 160 bits. Planted directly in storage, it must not let that other order settle.
      const fx = await loadFixture(deployEscrowFixture);
      const cheap = await makeOrder(fx, { amount: 1n });
      await openOrder(fx, cheap);
      await deliver(fx);
      const rich: Order = { ...cheap, amount: ethers.parseEther("1"), salt: ethers.id("the other order") };
      const richId = orderIdOf(rich);
      const slot = await orderIdSlotOf(fx, fx.batchId, orderIdOf(cheap));
      const samePrefix = richId.slice(0, 42) + (BigInt(`0x${richId.slice(42)}`) ^ 1n).toString(16).padStart(24, "0");
      await networkHelpers.setStorageAt(await fx.escrow.getAddress(), slot, samePrefix);

      await expect(fx.escrow.connect(fx.buyer).release(rich))
        .to.be.revertedWithCustomError(fx.escrow, "EscrowUnknownOrder")
        .withArgs(richId);
      await expect(fx.escrow.connect(fx.buyer).dispute(rich, ethers.ZeroHash)).to.be.revertedWithCustomError(
        fx.escrow,
        "EscrowUnknownOrder",
      );
      expect((await fx.escrow.orderState(rich))[0]).to.equal(OrderState.None);
    });
  });

  describe("opening with a named inspector (item 8)", function () {
    it("test_openOrder_inspectorIsAPartyToTheOrder_reverts", async function () {
      const fx = await loadFixture(twoInspectorsFixture);
      for (const party of [fx.buyer, fx.manufacturer, fx.carrier]) {
        const order = await makeOrder(fx, { inspector: party.address });
        await expect(openOrder(fx, order)).to.be.revertedWithCustomError(fx.escrow, "EscrowInvalidParty").withArgs(party.address);
      }
    });

    it("test_openOrder_inspectorNotAnActiveInspector_reverts", async function () {
      const fx = await loadFixture(twoInspectorsFixture);
      // Not onboarded at all; onboarded without the INSPECTOR role; an inspector under suspension.
      const candidates = [ethers.Wallet.createRandom().address, fx.otherBuyer.address, fx.rival.address];
      await fx.registry.connect(fx.admin).suspendParticipant(fx.rival.address, ethers.id("licence lapsed"));
      for (const candidate of candidates) {
        const order = await makeOrder(fx, { inspector: candidate });
        await expect(openOrder(fx, order)).to.be.revertedWithCustomError(fx.escrow, "EscrowInvalidInspector").withArgs(candidate);
      }
      expect(await fx.registry.isBatchWatched(fx.batchId)).to.equal(false);
    });
  });

  describe("whose attestation counts", function () {
    it("test_onQualityAttested_rivalInspectorPasses_releaseStillRefused", async function () {
      const fx = await loadFixture(inspectedOrderFixture);
      await deliver(fx);
      await expect(attest(fx, fx.rival, true)).not.to.emit(fx.escrow, "OrderInspected");
      // The registry's latest result is the rival's pass; the order's is still none.
      expect((await fx.registry.batchStatus(fx.batchId))[1]).to.equal(InspectionResult.Passed);
      expect(await fx.escrow.orderInspection(fx.order)).to.equal(InspectionResult.None);
      await expect(fx.escrow.connect(fx.buyer).release(fx.order))
        .to.be.revertedWithCustomError(fx.escrow, "EscrowInspectionNotPassed")
        .withArgs(fx.orderId, InspectionResult.None);
    });

    it("test_onQualityAttested_rivalFailsAfterTheNamedPass_releasePaysOut", async function () {
      const fx = await loadFixture(inspectedOrderFixture);
      await deliver(fx);
      await expect(attest(fx, fx.inspector, true))
        .to.emit(fx.escrow, "OrderInspected")
        .withArgs(fx.orderId, true);
      await attest(fx, fx.rival, false);
      expect((await fx.registry.batchStatus(fx.batchId))[1]).to.equal(InspectionResult.Failed);
      expect(await fx.escrow.orderInspection(fx.order)).to.equal(InspectionResult.Passed);
      await expect(fx.escrow.connect(fx.buyer).release(fx.order)).to.emit(fx.escrow, "OrderReleased");
    });

    it("test_refund_rivalInspectorFails_noInspectionRefund_namedFails_refunds", async function () {
      const fx = await loadFixture(inspectedOrderFixture);
      await attest(fx, fx.rival, false);
      await expect(fx.escrow.connect(fx.buyer).refund(fx.order)).to.be.revertedWithCustomError(fx.escrow, "EscrowTooEarly");
      await attest(fx, fx.inspector, false);
      await expect(fx.escrow.connect(fx.buyer).refund(fx.order))
        .to.emit(fx.escrow, "OrderRefunded")
        .withArgs(fx.orderId, RefundReason.InspectionFailed, fx.order.amount);
      expect(await fx.registry.isBatchWatched(fx.batchId)).to.equal(false);
    });

    it("test_dispute_afterTheWindow_rivalsPassDoesNotSettleAPendingInspection", async function () {
      const fx = await loadFixture(inspectedOrderFixture);
      await deliver(fx);
      await attest(fx, fx.rival, true);
      await time.increase(4n * DAY);
      // The named inspector never came: the seller may take the order to arbitration despite the rival's pass.
      await expect(fx.escrow.connect(fx.manufacturer).dispute(fx.order, ethers.id("no inspection")))
        .to.emit(fx.escrow, "OrderDisputed")
        .withArgs(fx.orderId, fx.manufacturer.address, ethers.id("no inspection"));
    });

    it("test_onQualityAttested_attestedBeforeTheOrderOpened_doesNotCount", async function () {
      const fx = await loadFixture(twoInspectorsFixture);
      await attest(fx, fx.inspector, true);
      const order = await makeOrder(fx, { inspector: fx.inspector.address });
      await openOrder(fx, order);
      await deliver(fx);
      expect(await fx.escrow.orderInspection(order)).to.equal(InspectionResult.None);
      await expect(fx.escrow.connect(fx.buyer).release(order)).to.be.revertedWithCustomError(fx.escrow, "EscrowInspectionNotPassed");
    });

    it("test_onQualityAttested_namedInspectorAtArrival_countsAndWatchingEndsAtRelease", async function () {
      const fx = await loadFixture(inspectedOrderFixture);
      await deliver(fx);
      // Delivered, but the inspection at arrival is still to come: the registry keeps reporting.
      expect(await fx.registry.isBatchWatched(fx.batchId)).to.equal(true);
      await attest(fx, fx.inspector, false);
      await expect(attest(fx, fx.inspector, true))
        .to.emit(fx.escrow, "OrderInspected")
        .withArgs(fx.orderId, true);
      await expect(fx.escrow.connect(fx.buyer).release(fx.order)).to.emit(fx.escrow, "OrderReleased");
      expect(await fx.registry.isBatchWatched(fx.batchId)).to.equal(false);
      expect(await fx.registry.watchedBatchCount()).to.equal(0n);
      // After settlement nothing is recorded any more.
      await expect(attest(fx, fx.inspector, false)).not.to.emit(fx.escrow, "OrderInspected");
    });

    it("test_resolveDispute_inspectedOrder_stopsWatching", async function () {
      const fx = await loadFixture(inspectedOrderFixture);
      await deliver(fx);
      await fx.escrow.connect(fx.buyer).dispute(fx.order, ethers.id("damaged"));
      expect(await fx.registry.isBatchWatched(fx.batchId)).to.equal(true);
      await fx.escrow.connect(fx.arbiter).resolveDispute(fx.order, 5_000);
      expect(await fx.registry.isBatchWatched(fx.batchId)).to.equal(false);
    });

    it("test_onQualityAttested_calledByAnyoneButTheRegistry_reverts", async function () {
      const fx = await loadFixture(inspectedOrderFixture);
      await expect(fx.escrow.connect(fx.inspector).onQualityAttested(fx.batchId, fx.inspector.address, true))
        .to.be.revertedWithCustomError(fx.escrow, "EscrowNotRegistry")
        .withArgs(fx.inspector.address);
      expect(await fx.escrow.orderInspection(fx.order)).to.equal(InspectionResult.None);
    });

    it("test_onCustodyAccepted_orderWithoutInspector_stopsWatchingAtDelivery", async function () {
      const fx = await loadFixture(twoInspectorsFixture);
      const order = await makeOrder(fx, { token: ETH });
      await openOrder(fx, order);
      await ship(fx);
      await handToBuyer(fx);
      expect(await fx.registry.isBatchWatched(fx.batchId)).to.equal(false);
      // Attestations of an unwatched batch never reach the escrow.
      await expect(attest(fx, fx.inspector, true)).not.to.emit(fx.escrow, "OrderInspected");
    });
  });
});
