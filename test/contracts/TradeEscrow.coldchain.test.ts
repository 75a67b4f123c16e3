import { expect } from "chai";
import type { Wallet } from "ethers";
import { CHILLED, readingDomain, readingRun, signReading } from "../helpers/cold-chain.ts";
import {
  ARBITRATION_PERIOD,
  BreachTerms,
  DISPUTE_WINDOW,
  OrderState,
  RefundReason,
  deployEscrowFixture,
  ethers,
  gtinWithCheckDigit,
  handToBuyer,
  makeOrder,
  networkHelpers,
  openOrder,
  orderIdOf,
  ship,
  signConsent,
  splitOf,
  type EscrowFixture,
  type Order,
} from "./TradeEscrow.fixture.ts";

// eslint-disable-next-line @typescript-eslint/unbound-method -- network helpers are bound to their connection
const { loadFixture } = networkHelpers;
const time = networkHelpers.time;
const GTIN = gtinWithCheckDigit(950_600_013_435n);
const HOUR = 3_600n;

async function deployColdChainEscrowFixture() {
  const fx = await deployEscrowFixture();
  const coldChain = await ethers.deployContract("ColdChain", [
    await fx.registry.getAddress(),
    await fx.forwarder.getAddress(),
    fx.admin.address,
    0,
  ]);
  await fx.escrow.connect(fx.admin).setColdChain(await coldChain.getAddress());
  await coldChain.connect(fx.manufacturer).setProductConditions(GTIN, CHILLED);
  const device = new ethers.Wallet(ethers.id("escrow reefer sensor"), ethers.provider) as unknown as Wallet;
  await coldChain.connect(fx.carrier).registerDevice(device.address, fx.carrier.address);
  const domain = readingDomain((await ethers.provider.getNetwork()).chainId, await coldChain.getAddress());
  return { ...fx, coldChain, device, domain };
}

type Fixture = Awaited<ReturnType<typeof deployColdChainEscrowFixture>>;

/** Ships the batch to the carrier and attaches its sensor; returns the leg and when it started. */
async function shipWithSensor(fx: Fixture): Promise<{ legId: string; attachedAt: bigint }> {
  await ship(fx);
  await fx.coldChain.connect(fx.carrier).attachDevice(fx.device.address, fx.batchId);
  const [, , legId] = await fx.coldChain.device(fx.device.address);
  return { legId, attachedAt: (await fx.coldChain.leg(legId)).attachedAt };
}

/** 40 warm minutes on the leg (30 are allowed), submitted by a stranger: establishes the breach. */
async function establishBreach(fx: Fixture, leg: { legId: string; attachedAt: bigint }, firstSequence = 1n) {
  await time.increase(2n * HOUR);
  const readings = readingRun(fx.device.address, fx.batchId, { firstSequence, count: 41, fromTime: leg.attachedAt + 60n });
  const signatures = await Promise.all(readings.map((reading) => signReading(fx.device, fx.domain, reading)));
  await expect(fx.coldChain.connect(fx.stranger).submitExcursion(leg.legId, readings, signatures)).to.emit(
    fx.coldChain,
    "BreachEstablished",
  );
}

/** The carrier hands the batch to the buyer and the dispute window passes. */
async function arrive(fx: Fixture) {
  await handToBuyer(fx);
  await time.increase(DISPUTE_WINDOW + 1n);
}

async function openWithTerms(fx: Fixture, breachTerms: BreachTerms): Promise<Order> {
  const order = await makeOrder(fx as unknown as EscrowFixture, { breachTerms: BigInt(breachTerms) });
  await openOrder(fx as unknown as EscrowFixture, order);
  return order;
}

describe("TradeEscrow: cold-chain breach terms", function () {
  describe("setColdChain", function () {
    it("test_setColdChain_onceByTheAdmin", async function () {
      const fx = await loadFixture(deployEscrowFixture);
      const coldChain = ethers.Wallet.createRandom().address;
      await expect(fx.escrow.connect(fx.stranger).setColdChain(coldChain)).to.be.revertedWithCustomError(
        fx.escrow,
        "AccessControlUnauthorizedAccount",
      );
      await expect(fx.escrow.connect(fx.admin).setColdChain(ethers.ZeroAddress))
        .to.be.revertedWithCustomError(fx.escrow, "EscrowInvalidParty")
        .withArgs(ethers.ZeroAddress);
      await expect(fx.escrow.connect(fx.admin).setColdChain(coldChain)).to.emit(fx.escrow, "ColdChainSet").withArgs(coldChain);
      expect(await fx.escrow.coldChain()).to.equal(coldChain);
      await expect(fx.escrow.connect(fx.admin).setColdChain(fx.stranger.address))
        .to.be.revertedWithCustomError(fx.escrow, "EscrowColdChainAlreadySet")
        .withArgs(coldChain);
    });

    it("test_openOrder_breachTermsWithoutAColdChain_reverts", async function () {
      const fx = await loadFixture(deployEscrowFixture);
      const order = await makeOrder(fx, { breachTerms: BigInt(BreachTerms.RefundFreight) });
      await expect(openOrder(fx, order)).to.be.revertedWithCustomError(fx.escrow, "EscrowColdChainNotSet");
      await expect(openOrder(fx, { ...order, breachTerms: 0n })).to.emit(fx.escrow, "OrderOpened");
    });

    it("test_openOrder_consentCoversTheBreachTerms", async function () {
      const fx = (await loadFixture(deployColdChainEscrowFixture)) as unknown as EscrowFixture;
      const lenient = await makeOrder(fx);
      const consent = await signConsent(fx, lenient, fx.manufacturer);
      const strict = { ...lenient, breachTerms: BigInt(BreachTerms.RejectGoods) };
      await expect(openOrder(fx, strict, fx.buyer, consent))
        .to.be.revertedWithCustomError(fx.escrow, "EscrowInvalidSellerConsent")
        .withArgs(orderIdOf(strict), fx.manufacturer.address);
    });
  });

  describe("when the carrier kept the conditions", function () {
    it("test_release_refundFreightWithoutBreach_paysTheCarrier", async function () {
      const fx = await loadFixture(deployColdChainEscrowFixture);
      const order = await openWithTerms(fx, BreachTerms.RefundFreight);
      await shipWithSensor(fx);
      await arrive(fx);
      const split = splitOf(order);
      const tx = fx.escrow.connect(fx.stranger).release(order);
      await expect(tx).to.emit(fx.escrow, "OrderReleased").withArgs(orderIdOf(order), split.seller, split.carrier, split.platform);
      await expect(tx).to.changeEtherBalances(ethers, [fx.carrier, fx.manufacturer], [split.carrier, split.seller]);
    });

    it("test_release_breachBeforeTheOrderOpened_doesNotCount", async function () {
      const fx = await loadFixture(deployColdChainEscrowFixture);
      const leg = await shipWithSensor(fx);
      await establishBreach(fx, leg);
      // The carrier returns the batch; the manufacturer then sells it with breach terms.
      await handToBuyer(fx, fx.batchId, fx.manufacturer);
      const order = await openWithTerms(fx, BreachTerms.RejectGoods);
      await ship(fx);
      await arrive(fx);
      const split = splitOf(order);
      await expect(fx.escrow.release(order)).to.changeEtherBalances(ethers, [fx.carrier], [split.carrier]);
      expect((await fx.escrow.orderState(order)).state).to.equal(BigInt(OrderState.Released));
    });
  });

  describe("when the carrier breached the conditions", function () {
    it("test_release_refundFreight_freightGoesToTheBuyer", async function () {
      const fx = await loadFixture(deployColdChainEscrowFixture);
      const order = await openWithTerms(fx, BreachTerms.RefundFreight);
      await establishBreach(fx, await shipWithSensor(fx));
      await arrive(fx);
      const split = splitOf(order);
      const tx = fx.escrow.connect(fx.stranger).release(order);
      await expect(tx).to.emit(fx.escrow, "OrderBreachApplied").withArgs(orderIdOf(order), BreachTerms.RefundFreight, split.carrier);
      await expect(tx).to.emit(fx.escrow, "OrderReleased").withArgs(orderIdOf(order), split.seller, 0n, split.platform);
      await expect(tx).to.changeEtherBalances(
        ethers,
        [fx.carrier, fx.buyer, fx.manufacturer, fx.escrow],
        [0n, split.carrier, split.seller, -(split.carrier + split.seller)],
      );
      expect(await fx.escrow.creditOf(fx.platform.address, ethers.ZeroAddress)).to.equal(split.platform);
    });

    it("test_release_rejectGoods_refundsTheBuyerInFull", async function () {
      const fx = await loadFixture(deployColdChainEscrowFixture);
      const order = await openWithTerms(fx, BreachTerms.RejectGoods);
      await establishBreach(fx, await shipWithSensor(fx));
      await arrive(fx);
      const tx = fx.escrow.connect(fx.stranger).release(order);
      await expect(tx).to.emit(fx.escrow, "OrderRefunded").withArgs(orderIdOf(order), RefundReason.ConditionsBreached, order.amount);
      await expect(tx).to.changeEtherBalances(ethers, [fx.buyer, fx.carrier, fx.manufacturer], [order.amount, 0n, 0n]);
      expect((await fx.escrow.orderState(order)).state).to.equal(BigInt(OrderState.Refunded));
    });

    it("test_release_dispute_opensADisputeThatNeverPaysTheCarrier", async function () {
      const fx = await loadFixture(deployColdChainEscrowFixture);
      const order = await openWithTerms(fx, BreachTerms.Dispute);
      await establishBreach(fx, await shipWithSensor(fx));
      await arrive(fx);
      await expect(fx.escrow.connect(fx.stranger).release(order))
        .to.emit(fx.escrow, "OrderDisputed")
        .withArgs(orderIdOf(order), fx.stranger.address, ethers.ZeroHash);
      expect((await fx.escrow.orderState(order)).state).to.equal(BigInt(OrderState.Disputed));

      // The arbiter gives the buyer nothing of the goods' price; the freight still goes to the buyer.
      const split = splitOf(order);
      await expect(fx.escrow.connect(fx.arbiter).resolveDispute(order, 0)).to.changeEtherBalances(
        ethers,
        [fx.carrier, fx.buyer, fx.manufacturer],
        [0n, split.carrier, split.seller],
      );
    });

    it("test_resolveExpiredDispute_buyersOwnDispute_forfeitsTheFreight", async function () {
      const fx = await loadFixture(deployColdChainEscrowFixture);
      const order = await openWithTerms(fx, BreachTerms.RefundFreight);
      await establishBreach(fx, await shipWithSensor(fx));
      await handToBuyer(fx);
      await fx.escrow.connect(fx.buyer).dispute(order, ethers.id("warm on arrival"));
      await time.increase(ARBITRATION_PERIOD);
      const buyerAmount = (order.amount * order.fallbackBuyerBps) / 10_000n;
      const rest = splitOf(order, order.amount - buyerAmount);
      await expect(fx.escrow.resolveExpiredDispute(order)).to.changeEtherBalances(
        ethers,
        [fx.carrier, fx.buyer],
        [0n, buyerAmount + rest.carrier],
      );
    });

    it("test_release_noBreachTerms_ignoresTheColdChain", async function () {
      const fx = await loadFixture(deployColdChainEscrowFixture);
      const order = await openWithTerms(fx, BreachTerms.None);
      await establishBreach(fx, await shipWithSensor(fx));
      await arrive(fx);
      await expect(fx.escrow.release(order)).to.changeEtherBalances(ethers, [fx.carrier], [splitOf(order).carrier]);
    });
  });
});
