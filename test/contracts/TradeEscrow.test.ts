import { expect } from "chai";
import type { Addressable, ContractTransactionResponse } from "ethers";
import {
  ARBITRATION_PERIOD,
  ASSETS,
  BPS,
  DISPUTE_WINDOW,
  ETH,
  GLN,
  InspectionResult,
  OrderState,
  PLATFORM_FEE_BPS,
  RefundReason,
  BusinessStep,
  deliver,
  deployEscrowFixture,
  ethers,
  handToBuyer,
  makeOrder,
  networkHelpers,
  openOrder,
  sellerConsent,
  NO_ORDER,
  orderIdOf,
  orderTuple,
  registerBatch,
  ship,
  splitOf,
  timestampOf,
  tokenOf,
  type EscrowFixture,
  lotOfBatch,
  type Order,
} from "./TradeEscrow.fixture.ts";

// eslint-disable-next-line @typescript-eslint/unbound-method -- network helpers are bound to their connection
const { loadFixture } = networkHelpers;
const time = networkHelpers.time;

async function expectPaid(
  fx: EscrowFixture,
  token: string,
  tx: ContractTransactionResponse,
  accounts: (string | Addressable)[],
  deltas: bigint[],
) {
  if (token === ETH) await expect(tx).to.changeEtherBalances(ethers, accounts, deltas);
  else await expect(tx).to.changeTokenBalances(ethers, fx.stablecoin, accounts, deltas);
}

describe("TradeEscrow", function () {
  describe("deployment", function () {
    it("test_constructor_wiresRegistryForwarderFeeAndArbitrationPeriod", async function () {
      const fx = await loadFixture(deployEscrowFixture);
      expect(await fx.escrow.registry()).to.equal(await fx.registry.getAddress());
      expect(await fx.escrow.trustedForwarder()).to.equal(await fx.forwarder.getAddress());
      expect(await fx.escrow.platformFee()).to.deep.equal([fx.platform.address, PLATFORM_FEE_BPS]);
      expect(await fx.escrow.arbitrationPeriod()).to.equal(ARBITRATION_PERIOD);
      expect(await fx.escrow.owner()).to.equal(fx.admin.address);
      expect(await fx.escrow.hasRole(await fx.escrow.ARBITER_ROLE(), fx.arbiter.address)).to.equal(true);
      expect(await fx.registry.custodyObserver()).to.equal(await fx.escrow.getAddress());
    });

    it("test_supportsInterface_tradeEscrowCustodyObserverAndAccessControl", async function () {
      const fx = await loadFixture(deployEscrowFixture);
      const selector = (signature: string) => BigInt(ethers.id(signature).slice(0, 10));
      const hooks = selector("onCustodyAccepted(bytes32,address,address)") ^ selector("onQualityAttested(bytes32,address,bool)");
      const custodyObserverId = ethers.toBeHex(hooks, 4);
      expect(await fx.escrow.supportsInterface(custodyObserverId)).to.equal(true);
      expect(await fx.escrow.supportsInterface("0x7965db0b")).to.equal(true); // IAccessControl
      expect(await fx.escrow.supportsInterface("0xffffffff")).to.equal(false);
    });

    describe("when the parameters are invalid", function () {
      it("test_constructor_revertsOnZeroRegistry", async function () {
        const fx = await loadFixture(deployEscrowFixture);
        const factory = await ethers.getContractFactory("TradeEscrow");
        await expect(factory.deploy(ethers.ZeroAddress, fx.forwarder, fx.admin, 0, fx.platform, 0, ARBITRATION_PERIOD))
          .to.be.revertedWithCustomError(fx.escrow, "EscrowInvalidParty")
          .withArgs(ethers.ZeroAddress);
      });

      it("test_constructor_revertsOnZeroArbitrationPeriod", async function () {
        const fx = await loadFixture(deployEscrowFixture);
        const factory = await ethers.getContractFactory("TradeEscrow");
        await expect(factory.deploy(fx.registry, fx.forwarder, fx.admin, 0, fx.platform, 0, 0))
          .to.be.revertedWithCustomError(fx.escrow, "EscrowInvalidArbitrationPeriod")
          .withArgs(0);
      });

      it("test_constructor_revertsOnFeeAboveMaximum", async function () {
        const fx = await loadFixture(deployEscrowFixture);
        const factory = await ethers.getContractFactory("TradeEscrow");
        await expect(factory.deploy(fx.registry, fx.forwarder, fx.admin, 0, fx.platform, 1_001, ARBITRATION_PERIOD))
          .to.be.revertedWithCustomError(fx.escrow, "EscrowPlatformFeeTooHigh")
          .withArgs(1_001, 1_000);
      });
    });
  });

  describe("setPlatformFee", function () {
    it("test_setPlatformFee_appliesToNewOrdersAndEmits", async function () {
      const fx = await loadFixture(deployEscrowFixture);
      await expect(fx.escrow.connect(fx.admin).setPlatformFee(fx.stranger.address, 100))
        .to.emit(fx.escrow, "PlatformFeeChanged")
        .withArgs(fx.stranger.address, 100);
      expect(await fx.escrow.platformFee()).to.deep.equal([fx.stranger.address, 100n]);

      const stale = await makeOrder(fx);
      await expect(openOrder(fx, stale))
        .to.be.revertedWithCustomError(fx.escrow, "EscrowInvalidPlatformFee")
        .withArgs(PLATFORM_FEE_BPS, 100);
      await expect(openOrder(fx, await makeOrder(fx, { sellerBps: 8_900n, platformBps: 100n }))).to.emit(fx.escrow, "OrderOpened");
    });

    it("test_setPlatformFee_openOrdersKeepTheirRateAndPayTheCurrentRecipient", async function () {
      const fx = await loadFixture(deployEscrowFixture);
      const order = await makeOrder(fx);
      await openOrder(fx, order);
      await fx.escrow.connect(fx.admin).setPlatformFee(fx.stranger.address, 0);
      await deliver(fx);
      const tx = await fx.escrow.connect(fx.buyer).release(order);
      const split = splitOf(order);
      // Credited to the recipient in force at settlement, not pushed.
      await expectPaid(fx, ETH, tx, [fx.stranger, fx.platform], [0n, 0n]);
      expect(await fx.escrow.creditOf(fx.stranger.address, ETH)).to.equal(split.platform);
      expect(await fx.escrow.creditOf(fx.platform.address, ETH)).to.equal(0n);
    });

    describe("when the caller or the values are invalid", function () {
      it("test_setPlatformFee_revertsForNonAdmin", async function () {
        const fx = await loadFixture(deployEscrowFixture);
        await expect(fx.escrow.connect(fx.stranger).setPlatformFee(fx.stranger.address, 0))
          .to.be.revertedWithCustomError(fx.escrow, "AccessControlUnauthorizedAccount")
          .withArgs(fx.stranger.address, ethers.ZeroHash);
      });

      it("test_setPlatformFee_revertsAboveMaximum", async function () {
        const fx = await loadFixture(deployEscrowFixture);
        await expect(fx.escrow.connect(fx.admin).setPlatformFee(fx.platform.address, 1_001))
          .to.be.revertedWithCustomError(fx.escrow, "EscrowPlatformFeeTooHigh")
          .withArgs(1_001, 1_000);
      });

      it("test_setPlatformFee_revertsOnZeroOrEscrowRecipient", async function () {
        const fx = await loadFixture(deployEscrowFixture);
        await expect(fx.escrow.connect(fx.admin).setPlatformFee(ethers.ZeroAddress, 0))
          .to.be.revertedWithCustomError(fx.escrow, "EscrowInvalidParty")
          .withArgs(ethers.ZeroAddress);
        await expect(fx.escrow.connect(fx.admin).setPlatformFee(fx.escrow, 0))
          .to.be.revertedWithCustomError(fx.escrow, "EscrowInvalidParty")
          .withArgs(await fx.escrow.getAddress());
      });
    });
  });

  describe("openOrder", function () {
    for (const asset of ASSETS) {
      describe(`when funding in ${asset}`, function () {
        it("test_openOrder_holdsDepositWatchesBatchAndEmitsTheWholeOrder", async function () {
          const fx = await loadFixture(deployEscrowFixture);
          const token = await tokenOf(fx, asset);
          const order = await makeOrder(fx, { token });
          const orderId = orderIdOf(order);
          expect(await fx.escrow.orderIdOf(order)).to.equal(orderId);

          const tx = await openOrder(fx, order);
          await expect(tx).to.emit(fx.escrow, "OrderOpened").withArgs(orderId, fx.buyer.address, fx.batchId, orderTuple(order));
          await expectPaid(fx, token, tx, [fx.buyer, fx.escrow], [-order.amount, order.amount]);
          expect(await fx.escrow.orderState(order)).to.deep.equal([OrderState.Funded, 0n, 0n]);
          expect(await fx.escrow.openOrderOf(fx.batchId)).to.equal(orderId);
          expect(await fx.registry.isBatchWatched(fx.batchId)).to.equal(true);
        });
      });
    }

    describe("when the asset transfer does not match the order", function () {
      it("test_openOrder_revertsWhenEthValueDiffers", async function () {
        const fx = await loadFixture(deployEscrowFixture);
        const order = await makeOrder(fx);
        await expect(fx.escrow.connect(fx.buyer).openOrder(order, await sellerConsent(fx, order), { value: order.amount - 1n }))
          .to.be.revertedWithCustomError(fx.escrow, "EscrowInvalidAmount")
          .withArgs(order.amount, order.amount - 1n);
      });

      it("test_openOrder_revertsWhenEthSentWithTokenOrder", async function () {
        const fx = await loadFixture(deployEscrowFixture);
        const order = await makeOrder(fx, { token: await fx.stablecoin.getAddress() });
        await expect(fx.escrow.connect(fx.buyer).openOrder(order, await sellerConsent(fx, order), { value: 1n }))
          .to.be.revertedWithCustomError(fx.escrow, "EscrowInvalidAmount")
          .withArgs(0, 1);
      });

      it("test_openOrder_revertsWhenTokenDeliversLessThanAsked", async function () {
        const fx = await loadFixture(deployEscrowFixture);
        const feeToken = await ethers.deployContract("FeeOnTransferToken");
        await fx.escrow.connect(fx.admin).setTokenAllowed(feeToken, true);
        await feeToken.mint(fx.buyer.address, 10_000n);
        await feeToken.connect(fx.buyer).approve(fx.escrow, 10_000n);
        const order = await makeOrder(fx, { token: await feeToken.getAddress(), amount: 10_000n });
        await expect(openOrder(fx, order)).to.be.revertedWithCustomError(fx.escrow, "EscrowInvalidAmount").withArgs(10_000n, 9_900n);
      });

      it("test_openOrder_revertsWithoutAllowance", async function () {
        const fx = await loadFixture(deployEscrowFixture);
        await fx.stablecoin.connect(fx.buyer).approve(fx.escrow, 0);
        const order = await makeOrder(fx, { token: await fx.stablecoin.getAddress() });
        await expect(openOrder(fx, order))
          .to.be.revertedWithCustomError(fx.stablecoin, "ERC20InsufficientAllowance")
          .withArgs(await fx.escrow.getAddress(), 0, order.amount);
      });

      it("test_openOrder_revertsForTokenWithoutCode", async function () {
        const fx = await loadFixture(deployEscrowFixture);
        const order = await makeOrder(fx, { token: fx.stranger.address });
        await expect(openOrder(fx, order)).to.be.revert(ethers);
      });
    });

    describe("when the terms are invalid", function () {
      it("test_openOrder_revertsWhenCallerIsNotTheBuyer", async function () {
        const fx = await loadFixture(deployEscrowFixture);
        const order = await makeOrder(fx);
        await expect(openOrder(fx, order, fx.stranger))
          .to.be.revertedWithCustomError(fx.escrow, "EscrowUnauthorized")
          .withArgs(orderIdOf(order), fx.stranger.address);
      });

      it("test_openOrder_revertsOnZeroAmount", async function () {
        const fx = await loadFixture(deployEscrowFixture);
        await expect(openOrder(fx, await makeOrder(fx, { amount: 0n }))).to.be.revertedWithCustomError(fx.escrow, "EscrowZeroAmount");
      });

      it("test_openOrder_revertsOnInvalidParties", async function () {
        const fx = await loadFixture(deployEscrowFixture);
        const escrowAddress = await fx.escrow.getAddress();
        const cases: [Partial<Order>, string][] = [
          [{ seller: ethers.ZeroAddress }, ethers.ZeroAddress],
          [{ seller: fx.buyer.address }, fx.buyer.address],
          [{ seller: escrowAddress }, escrowAddress],
          [{ carrier: ethers.ZeroAddress }, ethers.ZeroAddress],
          [{ carrier: escrowAddress }, escrowAddress],
        ];
        for (const [overrides, party] of cases) {
          await expect(openOrder(fx, await makeOrder(fx, overrides)))
            .to.be.revertedWithCustomError(fx.escrow, "EscrowInvalidParty")
            .withArgs(party);
        }
      });

      it("test_openOrder_acceptsNoCarrierWhenCarrierShareIsZero", async function () {
        const fx = await loadFixture(deployEscrowFixture);
        const order = await makeOrder(fx, { carrier: ethers.ZeroAddress, carrierBps: 0n, sellerBps: 9_750n });
        await expect(openOrder(fx, order)).to.emit(fx.escrow, "OrderOpened");
      });

      it("test_openOrder_revertsWhenSplitDoesNotAddUp", async function () {
        const fx = await loadFixture(deployEscrowFixture);
        await expect(openOrder(fx, await makeOrder(fx, { sellerBps: 8_000n })))
          .to.be.revertedWithCustomError(fx.escrow, "EscrowInvalidSplit")
          .withArgs(9_250n);
      });

      it("test_openOrder_revertsWhenPlatformFeeIsNotTheFeeInForce", async function () {
        const fx = await loadFixture(deployEscrowFixture);
        await expect(openOrder(fx, await makeOrder(fx, { platformBps: 0n, sellerBps: 9_000n })))
          .to.be.revertedWithCustomError(fx.escrow, "EscrowInvalidPlatformFee")
          .withArgs(0, PLATFORM_FEE_BPS);
      });

      it("test_openOrder_revertsWhenFallbackShareExceedsWhole", async function () {
        const fx = await loadFixture(deployEscrowFixture);
        await expect(openOrder(fx, await makeOrder(fx, { fallbackBuyerBps: 10_001n })))
          .to.be.revertedWithCustomError(fx.escrow, "EscrowInvalidSplit")
          .withArgs(10_001n);
      });

      it("test_openOrder_revertsWhenDeadlineIsNotInTheFuture", async function () {
        const fx = await loadFixture(deployEscrowFixture);
        const now = BigInt(await time.latest());
        await expect(openOrder(fx, await makeOrder(fx, { deliveryDeadline: now })))
          .to.be.revertedWithCustomError(fx.escrow, "EscrowInvalidDeadline")
          .withArgs(now);
      });
    });

    describe("when the batch cannot be sold", function () {
      it("test_openOrder_revertsWhenOrderAlreadyExists", async function () {
        const fx = await loadFixture(deployEscrowFixture);
        const order = await makeOrder(fx);
        await openOrder(fx, order);
        await expect(openOrder(fx, order)).to.be.revertedWithCustomError(fx.escrow, "EscrowOrderExists").withArgs(orderIdOf(order));
      });

      it("test_openOrder_revertsWhenBatchHasAnOpenOrder", async function () {
        const fx = await loadFixture(deployEscrowFixture);
        const first = await makeOrder(fx);
        await openOrder(fx, first);
        await expect(openOrder(fx, await makeOrder(fx, { buyer: fx.otherBuyer.address }), fx.otherBuyer))
          .to.be.revertedWithCustomError(fx.escrow, "EscrowBatchBusy")
          .withArgs(fx.batchId, orderIdOf(first));
      });

      it("test_openOrder_allowsANewOrderOnceThePreviousEnded", async function () {
        const fx = await loadFixture(deployEscrowFixture);
        const first = await makeOrder(fx);
        await openOrder(fx, first);
        await fx.escrow.connect(fx.manufacturer).declineOrder(first);
        const second = await makeOrder(fx, { buyer: fx.otherBuyer.address });
        await expect(openOrder(fx, second, fx.otherBuyer)).to.emit(fx.escrow, "OrderOpened");
        expect(await fx.escrow.openOrderOf(fx.batchId)).to.equal(orderIdOf(second));
      });

      it("test_openOrder_revertsForUnknownBatch", async function () {
        const fx = await loadFixture(deployEscrowFixture);
        const unknown = ethers.id("no such batch");
        await expect(openOrder(fx, await makeOrder(fx, { batchId: unknown })))
          .to.be.revertedWithCustomError(fx.escrow, "EscrowBatchNotAvailable")
          .withArgs(unknown);
      });

      it("test_openOrder_revertsForRecalledBatch", async function () {
        const fx = await loadFixture(deployEscrowFixture);
        await fx.registry.connect(fx.regulator).recallBatch(fx.batchId, ethers.id("contamination"));
        await expect(openOrder(fx, await makeOrder(fx)))
          .to.be.revertedWithCustomError(fx.escrow, "EscrowBatchNotAvailable")
          .withArgs(fx.batchId);
      });

      it("test_openOrder_revertsForSplitBatch", async function () {
        const fx = await loadFixture(deployEscrowFixture);
        const lot = lotOfBatch.get(fx.batchId);
        const serialRoot = (await fx.registry.batch(fx.batchId))[7];
        await fx.registry.connect(fx.manufacturer).splitBatch(fx.batchId, [
          { lot: `${lot}/A`, quantity: 400n, serialRoot },
          { lot: `${lot}/B`, quantity: 600n, serialRoot },
        ]);
        await expect(openOrder(fx, await makeOrder(fx)))
          .to.be.revertedWithCustomError(fx.escrow, "EscrowBatchNotAvailable")
          .withArgs(fx.batchId);
      });

      it("test_openOrder_revertsWhenSellerDoesNotHoldTheBatch", async function () {
        const fx = await loadFixture(deployEscrowFixture);
        await ship(fx);
        await expect(openOrder(fx, await makeOrder(fx)))
          .to.be.revertedWithCustomError(fx.escrow, "EscrowSellerNotCustodian")
          .withArgs(fx.batchId, fx.manufacturer.address, fx.carrier.address);
      });
    });
  });

  describe("onCustodyAccepted", function () {
    it("test_onCustodyAccepted_recordsDeliveryToTheBuyerInTheAcceptingTransaction", async function () {
      const fx = await loadFixture(deployEscrowFixture);
      const order = await makeOrder(fx);
      await openOrder(fx, order);
      await ship(fx);
      expect((await fx.escrow.orderState(order))[0]).to.equal(OrderState.Funded);

      const tx = await handToBuyer(fx);
      const deliveredAt = await timestampOf(tx);
      await expect(tx).to.emit(fx.escrow, "OrderDelivered").withArgs(orderIdOf(order), order.batchId, deliveredAt);
      expect(await fx.escrow.orderState(order)).to.deep.equal([OrderState.Delivered, deliveredAt, 0n]);
      // Delivery is all the escrow needs to see; later handoffs no longer call it.
      expect(await fx.registry.isBatchWatched(fx.batchId)).to.equal(false);
    });

    it("test_onCustodyAccepted_ignoresHandoffsToAnyoneButTheBuyer", async function () {
      const fx = await loadFixture(deployEscrowFixture);
      const order = await makeOrder(fx);
      await openOrder(fx, order);
      const tx = await fx.registry
        .connect(fx.manufacturer)
        .proposeHandoff(fx.batchId, fx.carrier.address, GLN, BusinessStep.Shipping)
        .then(() => fx.registry.connect(fx.carrier).acceptHandoff(fx.batchId, GLN, BusinessStep.Receiving));
      await expect(tx).not.to.emit(fx.escrow, "OrderDelivered");
      expect((await fx.escrow.orderState(order))[0]).to.equal(OrderState.Funded);
      expect(await fx.registry.isBatchWatched(fx.batchId)).to.equal(true);
    });

    it("test_onCustodyAccepted_deliveryStandsWhenTheBuyerPassesTheGoodsOn", async function () {
      const fx = await loadFixture(deployEscrowFixture);
      const order = await makeOrder(fx);
      await openOrder(fx, order);
      await deliver(fx);
      await fx.registry.connect(fx.buyer).proposeHandoff(fx.batchId, fx.otherBuyer.address, GLN, BusinessStep.Shipping);
      await fx.registry.connect(fx.otherBuyer).acceptHandoff(fx.batchId, GLN, BusinessStep.Receiving);
      await time.increase(DISPUTE_WINDOW);
      await expect(fx.escrow.connect(fx.stranger).release(order)).to.emit(fx.escrow, "OrderReleased");
    });

    it("test_onCustodyAccepted_lateDeliveryCountsUntilSomeoneRefunds", async function () {
      const fx = await loadFixture(deployEscrowFixture);
      const order = await makeOrder(fx);
      await openOrder(fx, order);
      await time.increaseTo(order.deliveryDeadline + 1n);
      await expect(deliver(fx)).to.emit(fx.escrow, "OrderDelivered");
      await expect(fx.escrow.refund(order))
        .to.be.revertedWithCustomError(fx.escrow, "EscrowInvalidState")
        .withArgs(orderIdOf(order), OrderState.Delivered);
    });

    it("test_onCustodyAccepted_revertsForAnyCallerButTheRegistry", async function () {
      const fx = await loadFixture(deployEscrowFixture);
      await openOrder(fx, await makeOrder(fx));
      await expect(fx.escrow.connect(fx.buyer).onCustodyAccepted(fx.batchId, fx.carrier.address, fx.buyer.address))
        .to.be.revertedWithCustomError(fx.escrow, "EscrowNotRegistry")
        .withArgs(fx.buyer.address);
    });
  });

  for (const asset of ASSETS) {
    describe(`settlement in ${asset}`, function () {
      async function fundedFixture() {
        const fx = await deployEscrowFixture();
        const token = await tokenOf(fx, asset);
        const order = await makeOrder(fx, { token });
        await openOrder(fx, order);
        return { ...fx, token, order, orderId: orderIdOf(order) };
      }

      async function deliveredFixture() {
        const fx = await fundedFixture();
        const deliveredAt = await timestampOf(await deliver(fx));
        return { ...fx, deliveredAt };
      }

      async function disputedFixture() {
        const fx = await deliveredFixture();
        const disputedAt = await timestampOf(await fx.escrow.connect(fx.buyer).dispute(fx.order, ethers.id("damaged on arrival")));
        return { ...fx, disputedAt };
      }

      describe("release", function () {
        it("test_release_buyerReleasesAtOnceAndThe3WaySplitIsPaid", async function () {
          const fx = await loadFixture(deliveredFixture);
          const split = splitOf(fx.order);
          const tx = await fx.escrow.connect(fx.buyer).release(fx.order);
          await expect(tx).to.emit(fx.escrow, "OrderReleased").withArgs(fx.orderId, split.seller, split.carrier, split.platform);
          await expectPaid(
            fx,
            fx.token,
            tx,
            [fx.manufacturer, fx.carrier, fx.platform, fx.escrow],
            [split.seller, split.carrier, 0n, split.platform - fx.order.amount],
          );
          expect(await fx.escrow.creditOf(fx.platform.address, fx.token)).to.equal(split.platform);
          expect(await fx.escrow.orderState(fx.order)).to.deep.equal([OrderState.Released, fx.deliveredAt, 0n]);
          expect(await fx.escrow.openOrderOf(fx.batchId)).to.equal(NO_ORDER);
        });

        it("test_release_anyoneReleasesOnceTheDisputeWindowPassed", async function () {
          const fx = await loadFixture(deliveredFixture);
          await time.increaseTo(fx.deliveredAt + DISPUTE_WINDOW);
          await expect(fx.escrow.connect(fx.stranger).release(fx.order)).to.emit(fx.escrow, "OrderReleased");
        });

        it("test_release_roundingDustGoesToTheSeller", async function () {
          const fx = await loadFixture(deployEscrowFixture);
          const token = await tokenOf(fx, asset);
          const order = await makeOrder(fx, { token, amount: 10_007n, carrierBps: 3_333n, sellerBps: 6_417n });
          await openOrder(fx, order);
          await deliver(fx);
          const split = splitOf(order);
          expect(split.carrier + split.platform + split.seller).to.equal(order.amount);
          expect(split.seller).to.equal(10_007n - 3_335n - 250n);
          await expect(fx.escrow.connect(fx.buyer).release(order))
            .to.emit(fx.escrow, "OrderReleased")
            .withArgs(orderIdOf(order), split.seller, split.carrier, split.platform);
        });

        it("test_release_withPassingInspectionWhenRequired", async function () {
          const fx = await loadFixture(deployEscrowFixture);
          const token = await tokenOf(fx, asset);
          const order = await makeOrder(fx, { token, inspector: fx.inspector.address });
          await openOrder(fx, order);
          await deliver(fx);
          await expect(fx.escrow.connect(fx.buyer).release(order))
            .to.be.revertedWithCustomError(fx.escrow, "EscrowInspectionNotPassed")
            .withArgs(orderIdOf(order), InspectionResult.None);
          await fx.registry.connect(fx.inspector).attestQuality(fx.batchId, false, ethers.id("report 1"));
          await expect(fx.escrow.connect(fx.buyer).release(order))
            .to.be.revertedWithCustomError(fx.escrow, "EscrowInspectionNotPassed")
            .withArgs(orderIdOf(order), InspectionResult.Failed);
          await fx.registry.connect(fx.inspector).attestQuality(fx.batchId, true, ethers.id("report 2"));
          await expect(fx.escrow.connect(fx.buyer).release(order)).to.emit(fx.escrow, "OrderReleased");
        });

        describe("when release is not allowed", function () {
          it("test_release_revertsForStrangerInsideTheWindow", async function () {
            const fx = await loadFixture(deliveredFixture);
            await expect(fx.escrow.connect(fx.stranger).release(fx.order))
              .to.be.revertedWithCustomError(fx.escrow, "EscrowTooEarly")
              .withArgs(fx.orderId, fx.deliveredAt + DISPUTE_WINDOW);
          });

          it("test_release_revertsBeforeDelivery", async function () {
            const fx = await loadFixture(fundedFixture);
            await expect(fx.escrow.connect(fx.buyer).release(fx.order))
              .to.be.revertedWithCustomError(fx.escrow, "EscrowInvalidState")
              .withArgs(fx.orderId, OrderState.Funded);
          });

          it("test_release_revertsForUnknownOrTamperedOrder", async function () {
            const fx = await loadFixture(deliveredFixture);
            const tampered = { ...fx.order, amount: fx.order.amount * 2n };
            await expect(fx.escrow.connect(fx.buyer).release(tampered))
              .to.be.revertedWithCustomError(fx.escrow, "EscrowUnknownOrder")
              .withArgs(orderIdOf(tampered));
          });

          it("test_release_revertsWhenTheBatchWasRecalled", async function () {
            const fx = await loadFixture(deliveredFixture);
            await fx.registry.connect(fx.regulator).recallBatch(fx.batchId, ethers.id("recall"));
            await expect(fx.escrow.connect(fx.buyer).release(fx.order))
              .to.be.revertedWithCustomError(fx.escrow, "EscrowNotDeliverable")
              .withArgs(fx.orderId);
          });

          it("test_release_settlesOnlyOnce", async function () {
            const fx = await loadFixture(deliveredFixture);
            await fx.escrow.connect(fx.buyer).release(fx.order);
            await expect(fx.escrow.connect(fx.buyer).release(fx.order))
              .to.be.revertedWithCustomError(fx.escrow, "EscrowInvalidState")
              .withArgs(fx.orderId, OrderState.Released);
            await expect(fx.escrow.refund(fx.order))
              .to.be.revertedWithCustomError(fx.escrow, "EscrowInvalidState")
              .withArgs(fx.orderId, OrderState.Released);
          });
        });
      });

      describe("refund", function () {
        it("test_refund_anyoneRefundsAfterTheDeliveryDeadline", async function () {
          const fx = await loadFixture(fundedFixture);
          await time.increaseTo(fx.order.deliveryDeadline + 1n);
          const tx = await fx.escrow.connect(fx.stranger).refund(fx.order);
          await expect(tx).to.emit(fx.escrow, "OrderRefunded").withArgs(fx.orderId, RefundReason.DeadlinePassed, fx.order.amount);
          await expectPaid(fx, fx.token, tx, [fx.buyer, fx.escrow], [fx.order.amount, -fx.order.amount]);
          expect((await fx.escrow.orderState(fx.order))[0]).to.equal(OrderState.Refunded);
          expect(await fx.registry.isBatchWatched(fx.batchId)).to.equal(false);
          expect(await fx.escrow.openOrderOf(fx.batchId)).to.equal(NO_ORDER);
        });

        it("test_refund_revertsUntilTheDeadlinePassed", async function () {
          const fx = await loadFixture(fundedFixture);
          await time.increaseTo(fx.order.deliveryDeadline - 1n);
          await expect(fx.escrow.refund(fx.order))
            .to.be.revertedWithCustomError(fx.escrow, "EscrowTooEarly")
            .withArgs(fx.orderId, fx.order.deliveryDeadline + 1n);
        });

        describe("when a handoff to the buyer awaits the buyer's answer", function () {
          async function offeredToBuyerFixture() {
            const fx = await fundedFixture();
            await ship(fx);
            await fx.registry.connect(fx.carrier).proposeHandoff(fx.batchId, fx.buyer.address, GLN, BusinessStep.Shipping);
            return fx;
          }

          it("test_refund_revertsPastTheDeadlineUntilTheBuyerRejectsTheGoods", async function () {
            const fx = await loadFixture(offeredToBuyerFixture);
            await time.increaseTo(fx.order.deliveryDeadline + 1n);
            // Otherwise the buyer could take the deposit back and then accept the goods (or both at once,
            // in one forwarder batch): the hook stops watching at the refund, so the delivery would go unpaid.
            for (const caller of [fx.stranger, fx.buyer]) {
              await expect(fx.escrow.connect(caller).refund(fx.order))
                .to.be.revertedWithCustomError(fx.escrow, "EscrowAlreadyShipped")
                .withArgs(fx.orderId);
            }
            await fx.registry.connect(fx.buyer).rejectHandoff(fx.batchId, ethers.id("too late"));
            const tx = await fx.escrow.connect(fx.stranger).refund(fx.order);
            await expect(tx).to.emit(fx.escrow, "OrderRefunded").withArgs(fx.orderId, RefundReason.DeadlinePassed, fx.order.amount);
            await expectPaid(fx, fx.token, tx, [fx.buyer], [fx.order.amount]);
          });

          it("test_refund_revertsForFailedInspectionUntilTheBuyerRejectsTheGoods", async function () {
            const fx = await loadFixture(deployEscrowFixture);
            const token = await tokenOf(fx, asset);
            const order = await makeOrder(fx, { token, inspector: fx.inspector.address });
            await openOrder(fx, order);
            await ship(fx);
            await fx.registry.connect(fx.carrier).proposeHandoff(fx.batchId, fx.buyer.address, GLN, BusinessStep.Shipping);
            await fx.registry.connect(fx.inspector).attestQuality(fx.batchId, false, ethers.id("failed"));
            await expect(fx.escrow.connect(fx.buyer).refund(order))
              .to.be.revertedWithCustomError(fx.escrow, "EscrowAlreadyShipped")
              .withArgs(orderIdOf(order));
            await fx.registry.connect(fx.buyer).rejectHandoff(fx.batchId, ethers.id("failed inspection"));
            await expect(fx.escrow.connect(fx.buyer).refund(order))
              .to.emit(fx.escrow, "OrderRefunded")
              .withArgs(orderIdOf(order), RefundReason.InspectionFailed, order.amount);
          });

          it("test_refund_recalledBatchRefundsAlthoughAHandoffWasPending", async function () {
            const fx = await loadFixture(offeredToBuyerFixture);
            // The recall drops the pending handoff, so the buyer can no longer take the goods.
            await fx.registry.connect(fx.manufacturer).recallBatch(fx.batchId, ethers.id("recall"));
            await expect(fx.escrow.connect(fx.stranger).refund(fx.order))
              .to.emit(fx.escrow, "OrderRefunded")
              .withArgs(fx.orderId, RefundReason.BatchRecalled, fx.order.amount);
          });

          it("test_refund_pendingHandoffToSomeoneElseDoesNotBlockIt", async function () {
            const fx = await loadFixture(fundedFixture);
            await fx.registry.connect(fx.manufacturer).proposeHandoff(fx.batchId, fx.carrier.address, GLN, BusinessStep.Shipping);
            await time.increaseTo(fx.order.deliveryDeadline + 1n);
            await expect(fx.escrow.connect(fx.stranger).refund(fx.order))
              .to.emit(fx.escrow, "OrderRefunded")
              .withArgs(fx.orderId, RefundReason.DeadlinePassed, fx.order.amount);
          });
        });

        it("test_refund_revertsAfterDeliveryUnlessRecalled", async function () {
          const fx = await loadFixture(deliveredFixture);
          await time.increaseTo(fx.order.deliveryDeadline + 1n);
          await expect(fx.escrow.refund(fx.order))
            .to.be.revertedWithCustomError(fx.escrow, "EscrowInvalidState")
            .withArgs(fx.orderId, OrderState.Delivered);
        });

        it("test_refund_recalledBatchRefundsTheBuyerBeforeDelivery", async function () {
          const fx = await loadFixture(fundedFixture);
          await fx.registry.connect(fx.manufacturer).recallBatch(fx.batchId, ethers.id("recall"));
          const tx = await fx.escrow.connect(fx.stranger).refund(fx.order);
          await expect(tx).to.emit(fx.escrow, "OrderRefunded").withArgs(fx.orderId, RefundReason.BatchRecalled, fx.order.amount);
          await expectPaid(fx, fx.token, tx, [fx.buyer], [fx.order.amount]);
          expect((await fx.escrow.orderState(fx.order))[0]).to.equal(OrderState.Refunded);
        });

        // Issue 11 item 6: the buyer holds the goods, so a recall (here by the manufacturer, who is not party
        // to the sale) must not hand it the deposit back as well; it goes to dispute.
        for (const stage of ["delivered", "disputed"] as const) {
          it(`test_refund_recallAfterDeliveryDoesNotRefundWhen_${stage}`, async function () {
            const fixture = { delivered: deliveredFixture, disputed: disputedFixture }[stage];
            const fx = await loadFixture(fixture);
            await fx.registry.connect(fx.manufacturer).recallBatch(fx.batchId, ethers.id("recall"));
            const state = stage === "delivered" ? OrderState.Delivered : OrderState.Disputed;
            await expect(fx.escrow.connect(fx.stranger).refund(fx.order))
              .to.be.revertedWithCustomError(fx.escrow, "EscrowInvalidState")
              .withArgs(fx.orderId, state);
          });
        }

        it("test_dispute_recallAfterDeliveryLetsEitherPartyDisputeAtOnceAndTheArbiterDecides", async function () {
          const fx = await loadFixture(deliveredFixture);
          await fx.registry.connect(fx.manufacturer).recallBatch(fx.batchId, ethers.id("recall"));
          await time.increaseTo(fx.deliveredAt + fx.order.disputeWindow + 1n);
          await expect(fx.escrow.connect(fx.manufacturer).dispute(fx.order, ethers.id("recalled")))
            .to.emit(fx.escrow, "OrderDisputed")
            .withArgs(fx.orderId, fx.manufacturer.address, ethers.id("recalled"));
          await expect(fx.escrow.connect(fx.arbiter).resolveDispute(fx.order, 10_000)).to.emit(fx.escrow, "DisputeResolved");
        });

        it("test_refund_buyerTakesTheDepositBackWhenRequiredInspectionFailedBeforeDelivery", async function () {
          const fx = await loadFixture(deployEscrowFixture);
          const token = await tokenOf(fx, asset);
          const order = await makeOrder(fx, { token, inspector: fx.inspector.address });
          await openOrder(fx, order);
          await fx.registry.connect(fx.inspector).attestQuality(fx.batchId, false, ethers.id("failed"));
          await expect(fx.escrow.connect(fx.stranger).refund(order))
            .to.be.revertedWithCustomError(fx.escrow, "EscrowTooEarly")
            .withArgs(orderIdOf(order), order.deliveryDeadline + 1n);
          await expect(fx.escrow.connect(fx.buyer).refund(order))
            .to.emit(fx.escrow, "OrderRefunded")
            .withArgs(orderIdOf(order), RefundReason.InspectionFailed, order.amount);
        });
      });

      describe("dispute", function () {
        it("test_dispute_buyerDisputesInsideTheWindow", async function () {
          const fx = await loadFixture(deliveredFixture);
          const reason = ethers.id("short shipment");
          const tx = await fx.escrow.connect(fx.buyer).dispute(fx.order, reason);
          await expect(tx).to.emit(fx.escrow, "OrderDisputed").withArgs(fx.orderId, fx.buyer.address, reason);
          expect(await fx.escrow.orderState(fx.order)).to.deep.equal([OrderState.Disputed, fx.deliveredAt, await timestampOf(tx)]);
          await expect(fx.escrow.connect(fx.buyer).release(fx.order))
            .to.be.revertedWithCustomError(fx.escrow, "EscrowInvalidState")
            .withArgs(fx.orderId, OrderState.Disputed);
        });

        describe("when a dispute is not allowed", function () {
          it("test_dispute_revertsOnceTheWindowClosed", async function () {
            const fx = await loadFixture(deliveredFixture);
            await time.increaseTo(fx.deliveredAt + DISPUTE_WINDOW);
            await expect(fx.escrow.connect(fx.buyer).dispute(fx.order, ethers.ZeroHash))
              .to.be.revertedWithCustomError(fx.escrow, "EscrowTooLate")
              .withArgs(fx.orderId, fx.deliveredAt + DISPUTE_WINDOW);
          });

          it("test_dispute_revertsForStrangerAndForSellerWithoutPendingInspection", async function () {
            const fx = await loadFixture(deliveredFixture);
            await expect(fx.escrow.connect(fx.stranger).dispute(fx.order, ethers.ZeroHash))
              .to.be.revertedWithCustomError(fx.escrow, "EscrowUnauthorized")
              .withArgs(fx.orderId, fx.stranger.address);
            await time.increaseTo(fx.deliveredAt + DISPUTE_WINDOW);
            await expect(fx.escrow.connect(fx.manufacturer).dispute(fx.order, ethers.ZeroHash))
              .to.be.revertedWithCustomError(fx.escrow, "EscrowUnauthorized")
              .withArgs(fx.orderId, fx.manufacturer.address);
          });

          it("test_dispute_revertsBeforeDelivery", async function () {
            const fx = await loadFixture(fundedFixture);
            await expect(fx.escrow.connect(fx.buyer).dispute(fx.order, ethers.ZeroHash))
              .to.be.revertedWithCustomError(fx.escrow, "EscrowInvalidState")
              .withArgs(fx.orderId, OrderState.Funded);
          });
        });

        describe("when the order's required inspection has not passed", function () {
          async function uninspectedFixture() {
            const fx = await deployEscrowFixture();
            const token = await tokenOf(fx, asset);
            const order = await makeOrder(fx, { token, inspector: fx.inspector.address });
            await openOrder(fx, order);
            const deliveredAt = await timestampOf(await deliver(fx));
            return { ...fx, order, orderId: orderIdOf(order), deliveredAt };
          }

          it("test_dispute_sellerMayEscalateOnlyAfterTheWindow", async function () {
            const fx = await loadFixture(uninspectedFixture);
            await expect(fx.escrow.connect(fx.manufacturer).dispute(fx.order, ethers.ZeroHash))
              .to.be.revertedWithCustomError(fx.escrow, "EscrowTooEarly")
              .withArgs(fx.orderId, fx.deliveredAt + DISPUTE_WINDOW);
            await time.increaseTo(fx.deliveredAt + DISPUTE_WINDOW);
            await expect(fx.escrow.connect(fx.manufacturer).dispute(fx.order, ethers.id("no inspector came")))
              .to.emit(fx.escrow, "OrderDisputed")
              .withArgs(fx.orderId, fx.manufacturer.address, ethers.id("no inspector came"));
          });

          it("test_dispute_buyerMayDisputeAFailedInspectionAfterTheWindow", async function () {
            const fx = await loadFixture(uninspectedFixture);
            await fx.registry.connect(fx.inspector).attestQuality(fx.batchId, false, ethers.id("mould"));
            await time.increaseTo(fx.deliveredAt + DISPUTE_WINDOW + 100n);
            await expect(fx.escrow.connect(fx.buyer).dispute(fx.order, ethers.id("mould"))).to.emit(fx.escrow, "OrderDisputed");
          });

          it("test_dispute_windowStaysClosedOnceInspectionPassed", async function () {
            const fx = await loadFixture(uninspectedFixture);
            await fx.registry.connect(fx.inspector).attestQuality(fx.batchId, true, ethers.id("ok"));
            await time.increaseTo(fx.deliveredAt + DISPUTE_WINDOW);
            await expect(fx.escrow.connect(fx.buyer).dispute(fx.order, ethers.ZeroHash))
              .to.be.revertedWithCustomError(fx.escrow, "EscrowTooLate")
              .withArgs(fx.orderId, fx.deliveredAt + DISPUTE_WINDOW);
          });
        });
      });

      describe("resolveDispute", function () {
        it("test_resolveDispute_arbiterSplitsBuyerShareAndTheRestByTheOrderRatios", async function () {
          const fx = await loadFixture(disputedFixture);
          const buyerBps = 3_000n;
          const buyerAmount = (fx.order.amount * buyerBps) / BPS;
          const split = splitOf(fx.order, fx.order.amount - buyerAmount);
          const tx = await fx.escrow.connect(fx.arbiter).resolveDispute(fx.order, buyerBps);
          await expect(tx)
            .to.emit(fx.escrow, "DisputeResolved")
            .withArgs(fx.orderId, fx.arbiter.address, true, buyerBps, buyerAmount, split.seller, split.carrier, split.platform);
          await expectPaid(
            fx,
            fx.token,
            tx,
            [fx.buyer, fx.manufacturer, fx.carrier, fx.platform, fx.escrow],
            [buyerAmount, split.seller, split.carrier, 0n, split.platform - fx.order.amount],
          );
          expect(await fx.escrow.creditOf(fx.platform.address, fx.token)).to.equal(split.platform);
          expect((await fx.escrow.orderState(fx.order))[0]).to.equal(OrderState.Resolved);
        });

        it("test_resolveDispute_wholeDepositToTheBuyer", async function () {
          const fx = await loadFixture(disputedFixture);
          const tx = await fx.escrow.connect(fx.arbiter).resolveDispute(fx.order, BPS);
          await expect(tx)
            .to.emit(fx.escrow, "DisputeResolved")
            .withArgs(fx.orderId, fx.arbiter.address, true, BPS, fx.order.amount, 0n, 0n, 0n);
          await expectPaid(fx, fx.token, tx, [fx.buyer, fx.manufacturer], [fx.order.amount, 0n]);
        });

        describe("when the resolution is not allowed", function () {
          it("test_resolveDispute_revertsForNonArbiter", async function () {
            const fx = await loadFixture(disputedFixture);
            await expect(fx.escrow.connect(fx.stranger).resolveDispute(fx.order, 0))
              .to.be.revertedWithCustomError(fx.escrow, "AccessControlUnauthorizedAccount")
              .withArgs(fx.stranger.address, await fx.escrow.ARBITER_ROLE());
          });

          it("test_resolveDispute_revertsForArbiterWhoIsAParty", async function () {
            const fx = await loadFixture(disputedFixture);
            // The carrier too: its freight is a share of what the buyer does not get back.
            for (const party of [fx.buyer, fx.manufacturer, fx.carrier]) {
              await fx.escrow.connect(fx.admin).grantRole(await fx.escrow.ARBITER_ROLE(), party.address);
              await expect(fx.escrow.connect(party).resolveDispute(fx.order, 0))
                .to.be.revertedWithCustomError(fx.escrow, "EscrowUnauthorized")
                .withArgs(fx.orderId, party.address);
            }
          });

          it("test_resolveDispute_revertsForShareAboveWhole", async function () {
            const fx = await loadFixture(disputedFixture);
            await expect(fx.escrow.connect(fx.arbiter).resolveDispute(fx.order, 10_001))
              .to.be.revertedWithCustomError(fx.escrow, "EscrowInvalidSplit")
              .withArgs(10_001);
          });

          it("test_resolveDispute_revertsAfterTheArbitrationPeriod", async function () {
            const fx = await loadFixture(disputedFixture);
            await time.increaseTo(fx.disputedAt + ARBITRATION_PERIOD);
            await expect(fx.escrow.connect(fx.arbiter).resolveDispute(fx.order, 0))
              .to.be.revertedWithCustomError(fx.escrow, "EscrowTooLate")
              .withArgs(fx.orderId, fx.disputedAt + ARBITRATION_PERIOD);
          });

          it("test_resolveDispute_revertsWhenNotDisputed", async function () {
            const fx = await loadFixture(deliveredFixture);
            await expect(fx.escrow.connect(fx.arbiter).resolveDispute(fx.order, 0))
              .to.be.revertedWithCustomError(fx.escrow, "EscrowInvalidState")
              .withArgs(fx.orderId, OrderState.Delivered);
          });
        });
      });

      describe("resolveExpiredDispute", function () {
        it("test_resolveExpiredDispute_fallbackRuleDecidesAfterTheArbitrationPeriod", async function () {
          const fx = await loadFixture(disputedFixture);
          await expect(fx.escrow.connect(fx.stranger).resolveExpiredDispute(fx.order))
            .to.be.revertedWithCustomError(fx.escrow, "EscrowTooEarly")
            .withArgs(fx.orderId, fx.disputedAt + ARBITRATION_PERIOD);
          await time.increaseTo(fx.disputedAt + ARBITRATION_PERIOD);

          const buyerAmount = (fx.order.amount * fx.order.fallbackBuyerBps) / BPS;
          const split = splitOf(fx.order, fx.order.amount - buyerAmount);
          const tx = await fx.escrow.connect(fx.stranger).resolveExpiredDispute(fx.order);
          await expect(tx)
            .to.emit(fx.escrow, "DisputeResolved")
            .withArgs(
              fx.orderId,
              ethers.ZeroAddress,
              false,
              fx.order.fallbackBuyerBps,
              buyerAmount,
              split.seller,
              split.carrier,
              split.platform,
            );
          await expectPaid(fx, fx.token, tx, [fx.buyer, fx.manufacturer], [buyerAmount, split.seller]);
          await expect(fx.escrow.connect(fx.stranger).resolveExpiredDispute(fx.order))
            .to.be.revertedWithCustomError(fx.escrow, "EscrowInvalidState")
            .withArgs(fx.orderId, OrderState.Resolved);
        });
      });

      describe("approveCancellation", function () {
        it("test_approveCancellation_bothPartiesCancelBeforeShipmentAndTheBuyerIsRefunded", async function () {
          const fx = await loadFixture(fundedFixture);
          await expect(fx.escrow.connect(fx.buyer).approveCancellation(fx.order))
            .to.emit(fx.escrow, "CancellationApproved")
            .withArgs(fx.orderId, fx.buyer.address)
            .and.not.to.emit(fx.escrow, "OrderCancelled");
          expect(await fx.escrow.cancellationApprovals(fx.order)).to.deep.equal([true, false]);

          const tx = await fx.escrow.connect(fx.manufacturer).approveCancellation(fx.order);
          await expect(tx).to.emit(fx.escrow, "CancellationApproved").withArgs(fx.orderId, fx.manufacturer.address);
          await expect(tx).to.emit(fx.escrow, "OrderCancelled").withArgs(fx.orderId, fx.order.amount);
          await expectPaid(fx, fx.token, tx, [fx.buyer, fx.escrow], [fx.order.amount, -fx.order.amount]);
          expect((await fx.escrow.orderState(fx.order))[0]).to.equal(OrderState.Cancelled);
          expect(await fx.registry.isBatchWatched(fx.batchId)).to.equal(false);
        });

        describe("when cancellation is not allowed", function () {
          it("test_approveCancellation_revertsOnSecondApprovalBySameParty", async function () {
            const fx = await loadFixture(fundedFixture);
            await fx.escrow.connect(fx.manufacturer).approveCancellation(fx.order);
            await expect(fx.escrow.connect(fx.manufacturer).approveCancellation(fx.order))
              .to.be.revertedWithCustomError(fx.escrow, "EscrowCancellationAlreadyApproved")
              .withArgs(fx.orderId, fx.manufacturer.address);
          });

          it("test_approveCancellation_revertsForStranger", async function () {
            const fx = await loadFixture(fundedFixture);
            await expect(fx.escrow.connect(fx.carrier).approveCancellation(fx.order))
              .to.be.revertedWithCustomError(fx.escrow, "EscrowUnauthorized")
              .withArgs(fx.orderId, fx.carrier.address);
          });

          it("test_approveCancellation_revertsOnceAHandoffIsPendingOrDone", async function () {
            const fx = await loadFixture(fundedFixture);
            await fx.escrow.connect(fx.buyer).approveCancellation(fx.order);
            await fx.registry.connect(fx.manufacturer).proposeHandoff(fx.batchId, fx.carrier.address, GLN, BusinessStep.Shipping);
            await expect(fx.escrow.connect(fx.manufacturer).approveCancellation(fx.order))
              .to.be.revertedWithCustomError(fx.escrow, "EscrowAlreadyShipped")
              .withArgs(fx.orderId);
            await fx.registry.connect(fx.carrier).acceptHandoff(fx.batchId, GLN, BusinessStep.Receiving);
            await expect(fx.escrow.connect(fx.manufacturer).approveCancellation(fx.order))
              .to.be.revertedWithCustomError(fx.escrow, "EscrowAlreadyShipped")
              .withArgs(fx.orderId);
          });

          it("test_approveCancellation_revertsAfterDelivery", async function () {
            const fx = await loadFixture(deliveredFixture);
            await expect(fx.escrow.connect(fx.buyer).approveCancellation(fx.order))
              .to.be.revertedWithCustomError(fx.escrow, "EscrowInvalidState")
              .withArgs(fx.orderId, OrderState.Delivered);
          });
        });
      });

      describe("declineOrder", function () {
        it("test_declineOrder_sellerDeclinesBeforeShipmentAndTheBuyerIsRefunded", async function () {
          const fx = await loadFixture(fundedFixture);
          const tx = await fx.escrow.connect(fx.manufacturer).declineOrder(fx.order);
          await expect(tx).to.emit(fx.escrow, "OrderCancelled").withArgs(fx.orderId, fx.order.amount);
          await expectPaid(fx, fx.token, tx, [fx.buyer], [fx.order.amount]);
          expect((await fx.escrow.orderState(fx.order))[0]).to.equal(OrderState.Cancelled);
        });

        it("test_declineOrder_revertsForAnyoneButTheSellerAndAfterShipment", async function () {
          const fx = await loadFixture(fundedFixture);
          await expect(fx.escrow.connect(fx.buyer).declineOrder(fx.order))
            .to.be.revertedWithCustomError(fx.escrow, "EscrowUnauthorized")
            .withArgs(fx.orderId, fx.buyer.address);
          await ship(fx);
          await expect(fx.escrow.connect(fx.manufacturer).declineOrder(fx.order))
            .to.be.revertedWithCustomError(fx.escrow, "EscrowAlreadyShipped")
            .withArgs(fx.orderId);
        });

        it("test_declineOrder_revertsOnceTheOrderIsNoLongerFunded", async function () {
          const fx = await loadFixture(fundedFixture);
          await fx.escrow.connect(fx.manufacturer).declineOrder(fx.order);
          await expect(fx.escrow.connect(fx.manufacturer).declineOrder(fx.order))
            .to.be.revertedWithCustomError(fx.escrow, "EscrowInvalidState")
            .withArgs(fx.orderId, OrderState.Cancelled);
        });
      });
    });
  }

  // Issue 11 item 6: the admin cannot swap the custody observer while the escrow watches a batch, so a
  // delivery of an open order can never go unrecorded (and the buyer be refunded holding the goods).
  describe("when the registry admin tries to move the observer role", function () {
    it("test_setCustodyObserver_revertsWhileAnOrderIsFunded", async function () {
      const fx = await loadFixture(deployEscrowFixture);
      const order = await makeOrder(fx);
      await openOrder(fx, order);
      await expect(fx.registry.connect(fx.admin).setCustodyObserver(fx.stranger.address))
        .to.be.revertedWithCustomError(fx.registry, "CustodyObserverBusy")
        .withArgs(await fx.escrow.getAddress(), 1n);
      await expect(deliver(fx)).to.emit(fx.escrow, "OrderDelivered");
    });

    it("test_setCustodyObserver_succeedsOnceNoOrderAwaitsDelivery", async function () {
      const fx = await loadFixture(deployEscrowFixture);
      const order = await makeOrder(fx);
      await openOrder(fx, order);
      await fx.escrow.connect(fx.manufacturer).declineOrder(order);
      expect(await fx.registry.isBatchWatched(fx.batchId)).to.equal(false);
      expect(await fx.registry.watchedBatchCount()).to.equal(0n);
      await expect(fx.registry.connect(fx.admin).setCustodyObserver(fx.stranger.address)).to.emit(fx.registry, "CustodyObserverChanged");
    });
  });

  describe("platform fees", function () {
    it("test_withdraw_platformWithdrawsTheEthFeesOfSeveralSettlements", async function () {
      const fx = await loadFixture(deployEscrowFixture);
      const first = await makeOrder(fx);
      await openOrder(fx, first);
      await deliver(fx);
      await fx.escrow.connect(fx.buyer).release(first);
      const secondBatch = await registerBatch(fx);
      const second = await makeOrder(fx, { batchId: secondBatch });
      await openOrder(fx, second);
      await deliver(fx, secondBatch);
      await fx.escrow.connect(fx.buyer).release(second);
      const owed = splitOf(first).platform + splitOf(second).platform;
      expect(await fx.escrow.creditOf(fx.platform.address, ETH)).to.equal(owed);
      expect(await ethers.provider.getBalance(fx.escrow)).to.equal(owed);

      const tx = await fx.escrow.connect(fx.platform).withdraw(ETH);
      await expect(tx).to.emit(fx.escrow, "Withdrawn").withArgs(fx.platform.address, ETH, owed);
      await expect(tx).to.changeEtherBalances(ethers, [fx.platform, fx.escrow], [owed, -owed], { includeFee: false });
      expect(await fx.escrow.creditOf(fx.platform.address, ETH)).to.equal(0n);
      await expect(fx.escrow.connect(fx.platform).withdraw(ETH))
        .to.be.revertedWithCustomError(fx.escrow, "EscrowNothingToWithdraw")
        .withArgs(fx.platform.address, ETH);
    });

    it("test_setPlatformFee_feesAccruedBeforeARecipientChangeStayWithThePreviousRecipient", async function () {
      const fx = await loadFixture(deployEscrowFixture);
      const order = await makeOrder(fx);
      await openOrder(fx, order);
      await deliver(fx);
      await fx.escrow.connect(fx.buyer).release(order);
      const fee = splitOf(order).platform;
      await fx.escrow.connect(fx.admin).setPlatformFee(fx.stranger.address, Number(PLATFORM_FEE_BPS));
      expect(await fx.escrow.creditOf(fx.platform.address, ETH)).to.equal(fee);
      expect(await fx.escrow.creditOf(fx.stranger.address, ETH)).to.equal(0n);
      await expect(fx.escrow.connect(fx.platform).withdraw(ETH)).to.changeEtherBalance(ethers, fx.escrow, -fee);
      await expect(fx.escrow.connect(fx.stranger).withdraw(ETH)).to.be.revertedWithCustomError(fx.escrow, "EscrowNothingToWithdraw");
    });
  });

  describe("one order record per batch", function () {
    it("test_openOrder_refusesTheIdenticalOrderAgainAfterItSettled", async function () {
      const fx = await loadFixture(deployEscrowFixture);
      const order = await makeOrder(fx);
      await openOrder(fx, order);
      await fx.escrow.connect(fx.manufacturer).declineOrder(order);
      await expect(openOrder(fx, order)).to.be.revertedWithCustomError(fx.escrow, "EscrowOrderExists").withArgs(orderIdOf(order));
    });

    it("test_orderState_isNoneOnceALaterOrderTookTheBatch", async function () {
      const fx = await loadFixture(deployEscrowFixture);
      const first = await makeOrder(fx);
      await openOrder(fx, first);
      await fx.escrow.connect(fx.manufacturer).declineOrder(first);
      expect((await fx.escrow.orderState(first))[0]).to.equal(OrderState.Cancelled);
      const second = await makeOrder(fx, { buyer: fx.otherBuyer.address });
      await openOrder(fx, second, fx.otherBuyer);
      expect((await fx.escrow.orderState(first))[0]).to.equal(OrderState.None);
      expect((await fx.escrow.orderState(second))[0]).to.equal(OrderState.Funded);
      await expect(fx.escrow.refund(first)).to.be.revertedWithCustomError(fx.escrow, "EscrowUnknownOrder").withArgs(orderIdOf(first));
    });

    it("test_release_refusesAnOrderWithOtherTermsOnTheSameBatch", async function () {
      const fx = await loadFixture(deployEscrowFixture);
      const order = await makeOrder(fx);
      await openOrder(fx, order);
      await deliver(fx);
      const forged = { ...order, amount: order.amount * 2n };
      await expect(fx.escrow.connect(fx.buyer).release(forged))
        .to.be.revertedWithCustomError(fx.escrow, "EscrowUnknownOrder")
        .withArgs(orderIdOf(forged));
      expect(await fx.escrow.cancellationApprovals(forged)).to.deep.equal([false, false]);
    });

    it("test_openOrder_revertsWhenTheBuyerIsNotAParticipant", async function () {
      const fx = await loadFixture(deployEscrowFixture);
      const order = await makeOrder(fx, { buyer: fx.stranger.address });
      await expect(openOrder(fx, order, fx.stranger))
        .to.be.revertedWithCustomError(fx.escrow, "EscrowBuyerNotParticipant")
        .withArgs(fx.stranger.address);
    });

    it("test_openOrder_revertsWhileTheBuyerIsSuspended", async function () {
      const fx = await loadFixture(deployEscrowFixture);
      const order = await makeOrder(fx);
      await fx.registry.connect(fx.admin).suspendParticipant(fx.buyer.address, ethers.id("sanctions"));
      await expect(openOrder(fx, order)).to.be.revertedWithCustomError(fx.escrow, "EscrowBuyerNotParticipant").withArgs(fx.buyer.address);
      await fx.registry.connect(fx.admin).reinstateParticipant(fx.buyer.address);
      await expect(openOrder(fx, order)).to.emit(fx.escrow, "OrderOpened");
    });
  });

  describe("with several batches", function () {
    it("test_openOrder_ordersOnDifferentBatchesSettleIndependently", async function () {
      const fx = await loadFixture(deployEscrowFixture);
      const secondBatch = await registerBatch(fx);
      const first = await makeOrder(fx);
      const second = await makeOrder(fx, { batchId: secondBatch, token: await fx.stablecoin.getAddress() });
      await openOrder(fx, first);
      await openOrder(fx, second);
      await deliver(fx, secondBatch);
      expect((await fx.escrow.orderState(first))[0]).to.equal(OrderState.Funded);
      expect((await fx.escrow.orderState(second))[0]).to.equal(OrderState.Delivered);
      await fx.escrow.connect(fx.buyer).release(second);
      await time.increaseTo(first.deliveryDeadline + 1n);
      await fx.escrow.refund(first);
      // All the escrow still holds is the platform's credited share of the released order.
      expect(await ethers.provider.getBalance(fx.escrow)).to.equal(0n);
      expect(await fx.stablecoin.balanceOf(fx.escrow)).to.equal(splitOf(second).platform);
      expect(await fx.escrow.creditOf(fx.platform.address, await fx.stablecoin.getAddress())).to.equal(splitOf(second).platform);
    });
  });
});
