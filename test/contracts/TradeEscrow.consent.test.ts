/**
 * Issue 11 item 5: no one can grief a batch out of escrow. An order opens only with the seller's EIP-712
 * consent to exactly its terms (ERC-1271 for contract wallets), in an allowlisted token, with a bounded
 * delivery deadline and dispute window; every order can then be cleared by anyone in bounded time.
 */
import { expect } from "chai";
import {
  BusinessStep,
  DISPUTE_WINDOW,
  ETH,
  GLN,
  OrderState,
  RefundReason,
  deployEscrowFixture,
  ethers,
  makeOrder,
  networkHelpers,
  openOrder,
  orderIdOf,
  registerBatch,
  sellerConsent,
  ship,
  signConsent,
} from "./TradeEscrow.fixture.ts";

// eslint-disable-next-line @typescript-eslint/unbound-method -- network helpers are bound to their connection
const { loadFixture } = networkHelpers;
const time = networkHelpers.time;
const DAY = 24n * 3600n;

describe("TradeEscrow seller consent and order bounds", function () {
  describe("seller consent", function () {
    it("test_openOrder_revertsWithoutTheSellersConsent", async function () {
      const fx = await loadFixture(deployEscrowFixture);
      const order = await makeOrder(fx);
      await expect(openOrder(fx, order, fx.buyer, "0x"))
        .to.be.revertedWithCustomError(fx.escrow, "EscrowInvalidSellerConsent")
        .withArgs(orderIdOf(order), fx.manufacturer.address);
      const signedByTheBuyer = await signConsent(fx, order, fx.buyer);
      await expect(openOrder(fx, order, fx.buyer, signedByTheBuyer)).to.be.revertedWithCustomError(fx.escrow, "EscrowInvalidSellerConsent");
    });

    it("test_openOrder_revertsForAThirdPartyOrderOnAnInTransitBatch", async function () {
      const fx = await loadFixture(deployEscrowFixture);
      await ship(fx);
      // A stranger names the carrier holding the batch as seller, for one unit, and signs for it.
      const order = await makeOrder(fx, { buyer: fx.otherBuyer.address, seller: fx.carrier.address, amount: 1n });
      await expect(openOrder(fx, order, fx.otherBuyer, await signConsent(fx, order, fx.otherBuyer)))
        .to.be.revertedWithCustomError(fx.escrow, "EscrowInvalidSellerConsent")
        .withArgs(orderIdOf(order), fx.carrier.address);
      expect(await fx.registry.isBatchWatched(fx.batchId)).to.equal(false);
    });

    it("test_openOrder_revertsWhenAConsentIsReplayedForOtherTerms", async function () {
      const fx = await loadFixture(deployEscrowFixture);
      const order = await makeOrder(fx);
      const consent = await sellerConsent(fx, order);
      const otherBatch = await registerBatch(fx);
      const variants = [
        { amount: 1n },
        { salt: ethers.id("another order") },
        { batchId: otherBatch },
        { buyer: fx.otherBuyer.address },
        { deliveryDeadline: order.deliveryDeadline + 1n },
      ];
      for (const change of variants) {
        const other = { ...order, ...change };
        const from = other.buyer === fx.otherBuyer.address ? fx.otherBuyer : fx.buyer;
        await expect(openOrder(fx, other, from, consent), JSON.stringify(Object.keys(change))).to.be.revertedWithCustomError(
          fx.escrow,
          "EscrowInvalidSellerConsent",
        );
      }
    });

    it("test_openOrder_revertsWhenAConsentIsReplayedFromAnotherChainOrEscrow", async function () {
      const fx = await loadFixture(deployEscrowFixture);
      const order = await makeOrder(fx);
      const chainId = (await ethers.provider.getNetwork()).chainId;
      await expect(
        openOrder(fx, order, fx.buyer, await signConsent(fx, order, fx.manufacturer, chainId + 1n)),
      ).to.be.revertedWithCustomError(fx.escrow, "EscrowInvalidSellerConsent");
      const otherEscrow = await ethers.deployContract("TradeEscrow", [
        fx.registry,
        fx.forwarder,
        fx.admin.address,
        0,
        fx.platform.address,
        250,
        3600,
      ]);
      const consentForTheOther = await signConsent({ ...fx, escrow: otherEscrow }, order, fx.manufacturer);
      await expect(openOrder(fx, order, fx.buyer, consentForTheOther)).to.be.revertedWithCustomError(
        fx.escrow,
        "EscrowInvalidSellerConsent",
      );
    });

    it("test_openOrder_revertsWhenAThirdPartyFrontRunsTheBuyersConsent", async function () {
      const fx = await loadFixture(deployEscrowFixture);
      const order = await makeOrder(fx);
      const consent = await sellerConsent(fx, order);
      // Seen in the mempool, the buyer's order and the seller's consent are of no use to anyone else.
      await expect(fx.escrow.connect(fx.otherBuyer).openOrder(order, consent, { value: order.amount }))
        .to.be.revertedWithCustomError(fx.escrow, "EscrowUnauthorized")
        .withArgs(orderIdOf(order), fx.otherBuyer.address);
      await expect(openOrder(fx, order, fx.buyer, consent)).to.emit(fx.escrow, "OrderOpened");
    });

    it("test_openOrder_cannotReopenTheSameConsentedOrderAfterTheSellerDeclinedIt", async function () {
      const fx = await loadFixture(deployEscrowFixture);
      const order = await makeOrder(fx);
      const consent = await sellerConsent(fx, order);
      await openOrder(fx, order, fx.buyer, consent);
      await fx.escrow.connect(fx.manufacturer).declineOrder(order);
      await expect(openOrder(fx, order, fx.buyer, consent))
        .to.be.revertedWithCustomError(fx.escrow, "EscrowOrderExists")
        .withArgs(orderIdOf(order));
    });

    it("test_openOrder_acceptsAContractWalletSellersConsentThroughERC1271", async function () {
      const fx = await loadFixture(deployEscrowFixture);
      const wallet = await ethers.deployContract("ERC1271Wallet", [fx.carrier.address]);
      const walletAddress = await wallet.getAddress();
      await fx.registry.connect(fx.admin).onboardParticipant(walletAddress, await fx.registry.CARRIER_ROLE(), GLN, "Wallet carrier");
      await fx.registry.connect(fx.manufacturer).proposeHandoff(fx.batchId, walletAddress, GLN, BusinessStep.Shipping);
      const accept = fx.registry.interface.encodeFunctionData("acceptHandoff", [fx.batchId, GLN, BusinessStep.Receiving]);
      await wallet.connect(fx.carrier).execute(fx.registry, accept);

      const order = await makeOrder(fx, { seller: walletAddress, carrier: ethers.ZeroAddress, carrierBps: 0n, sellerBps: 9_750n });
      await expect(openOrder(fx, order, fx.buyer, await signConsent(fx, order, fx.stranger))).to.be.revertedWithCustomError(
        fx.escrow,
        "EscrowInvalidSellerConsent",
      );
      await expect(openOrder(fx, order, fx.buyer, await signConsent(fx, order, fx.carrier))).to.emit(fx.escrow, "OrderOpened");
    });
  });

  describe("deadline limits", function () {
    it("test_openOrder_revertsWhenTheDeliveryDeadlineIsBeyondTheLimit", async function () {
      const fx = await loadFixture(deployEscrowFixture);
      const [maxDeliveryWindow] = await fx.escrow.orderLimits();
      expect(maxDeliveryWindow).to.equal(90n * DAY);
      const now = BigInt(await time.latest());
      // The next block is one second later; a deadline one second past its limit is refused.
      const far = await makeOrder(fx, { deliveryDeadline: now + 1n + maxDeliveryWindow + 1n });
      await time.setNextBlockTimestamp(now + 1n);
      await expect(openOrder(fx, far))
        .to.be.revertedWithCustomError(fx.escrow, "EscrowDeadlineTooFar")
        .withArgs(far.deliveryDeadline, now + 1n + maxDeliveryWindow);
      const atTheLimit = await makeOrder(fx, { deliveryDeadline: BigInt(await time.latest()) + 1n + maxDeliveryWindow });
      await time.setNextBlockTimestamp(BigInt(await time.latest()) + 1n);
      await expect(openOrder(fx, atTheLimit)).to.emit(fx.escrow, "OrderOpened");
    });

    it("test_openOrder_revertsWhenTheDisputeWindowIsTooLong", async function () {
      const fx = await loadFixture(deployEscrowFixture);
      const [, maxDisputeWindow] = await fx.escrow.orderLimits();
      expect(maxDisputeWindow).to.equal(30n * DAY);
      await expect(openOrder(fx, await makeOrder(fx, { disputeWindow: maxDisputeWindow + 1n })))
        .to.be.revertedWithCustomError(fx.escrow, "EscrowDisputeWindowTooLong")
        .withArgs(maxDisputeWindow + 1n, maxDisputeWindow);
    });

    it("test_setOrderLimits_adminOnlyBoundedAndAnnounced", async function () {
      const fx = await loadFixture(deployEscrowFixture);
      await expect(fx.escrow.connect(fx.stranger).setOrderLimits(DAY, DAY)).to.be.revertedWithCustomError(
        fx.escrow,
        "AccessControlUnauthorizedAccount",
      );
      for (const [delivery, dispute] of [
        [0n, DAY],
        [366n * DAY, DAY],
        [DAY, 366n * DAY],
      ]) {
        await expect(fx.escrow.connect(fx.admin).setOrderLimits(delivery, dispute))
          .to.be.revertedWithCustomError(fx.escrow, "EscrowInvalidOrderLimits")
          .withArgs(delivery, dispute);
      }
      await expect(fx.escrow.connect(fx.admin).setOrderLimits(60n * DAY, DAY))
        .to.emit(fx.escrow, "OrderLimitsChanged")
        .withArgs(60n * DAY, DAY);
      await expect(openOrder(fx, await makeOrder(fx, { disputeWindow: DAY + 1n }))).to.be.revertedWithCustomError(
        fx.escrow,
        "EscrowDisputeWindowTooLong",
      );
    });
  });

  describe("token allowlist", function () {
    it("test_openOrder_revertsForADustTokenNotOnTheAllowlist", async function () {
      const fx = await loadFixture(deployEscrowFixture);
      const dust = await ethers.deployContract("MockStablecoin");
      await dust.mint(fx.buyer.address, 1n);
      await dust.connect(fx.buyer).approve(fx.escrow, 1n);
      const order = await makeOrder(fx, { token: await dust.getAddress(), amount: 1n });
      await expect(openOrder(fx, order))
        .to.be.revertedWithCustomError(fx.escrow, "EscrowTokenNotAllowed")
        .withArgs(await dust.getAddress());
    });

    it("test_setTokenAllowed_adminOnlyAnnouncedAndEthAllowedByDefault", async function () {
      const fx = await loadFixture(deployEscrowFixture);
      expect(await fx.escrow.isTokenAllowed(ETH)).to.equal(true);
      expect(await fx.escrow.isTokenAllowed(fx.stablecoin)).to.equal(true);
      await expect(fx.escrow.connect(fx.stranger).setTokenAllowed(fx.stablecoin, false)).to.be.revertedWithCustomError(
        fx.escrow,
        "AccessControlUnauthorizedAccount",
      );
      await expect(fx.escrow.connect(fx.admin).setTokenAllowed(ETH, false)).to.emit(fx.escrow, "TokenAllowedChanged").withArgs(ETH, false);
      await expect(openOrder(fx, await makeOrder(fx)))
        .to.be.revertedWithCustomError(fx.escrow, "EscrowTokenNotAllowed")
        .withArgs(ETH);
      await expect(fx.escrow.connect(fx.admin).setTokenAllowed(fx.escrow, true)).to.be.revertedWithCustomError(
        fx.escrow,
        "EscrowInvalidParty",
      );
    });

    it("test_refund_stillSettlesAnOpenOrderInATokenTheAdminDisallowedSince", async function () {
      const fx = await loadFixture(deployEscrowFixture);
      const order = await makeOrder(fx, { token: await fx.stablecoin.getAddress() });
      await openOrder(fx, order);
      await fx.escrow.connect(fx.admin).setTokenAllowed(fx.stablecoin, false);
      await time.increaseTo(order.deliveryDeadline + 1n);
      await expect(fx.escrow.connect(fx.stranger).refund(order))
        .to.emit(fx.escrow, "OrderRefunded")
        .withArgs(orderIdOf(order), RefundReason.DeadlinePassed, order.amount);
    });
  });

  describe("no stale order blocks a batch", function () {
    it("test_refund_anyoneClearsAnInTransitOrderPastItsBoundedDeadlineAndTheBatchSellsAgain", async function () {
      const fx = await loadFixture(deployEscrowFixture);
      const order = await makeOrder(fx);
      await openOrder(fx, order);
      await ship(fx);
      const [maxDeliveryWindow] = await fx.escrow.orderLimits();
      expect(order.deliveryDeadline).to.be.at.most(BigInt(await time.latest()) + maxDeliveryWindow);
      await time.increaseTo(order.deliveryDeadline + 1n);
      await fx.escrow.connect(fx.stranger).refund(order);
      expect((await fx.escrow.orderState(order))[0]).to.equal(OrderState.Refunded);

      // The carrier now holds the batch and sells it through escrow with its own consent.
      const resale = await makeOrder(fx, { buyer: fx.otherBuyer.address, seller: fx.carrier.address, disputeWindow: DISPUTE_WINDOW });
      await expect(openOrder(fx, resale, fx.otherBuyer)).to.emit(fx.escrow, "OrderOpened");
    });
  });
});
