import { expect } from "chai";
import {
  BusinessStep,
  DISPUTE_WINDOW,
  ETH,
  GLN,
  OrderState,
  RefundReason,
  deliver,
  deployEscrowFixture,
  ethers,
  makeOrder,
  networkHelpers,
  openOrder,
  sellerConsent,
  orderIdOf,
  orderTuple,
  signForwardRequest,
  splitOf,
  timestampOf,
} from "./TradeEscrow.fixture.ts";

// eslint-disable-next-line @typescript-eslint/unbound-method -- network helpers are bound to their connection
const { loadFixture } = networkHelpers;
const time = networkHelpers.time;

const REENTRANT_CALL = ethers.id("ReentrancyGuardReentrantCall()").slice(0, 10);

/** MaliciousToken.TransferMode */
enum TransferMode {
  Normal,
  Revert,
  ReturnFalse,
}

describe("TradeEscrow payments", function () {
  describe("when a payee cannot take ETH", function () {
    async function rejectingCarrierFixture() {
      const fx = await deployEscrowFixture();
      const receiver = await ethers.deployContract("EthRejectingReceiver");
      const order = await makeOrder(fx, { carrier: await receiver.getAddress() });
      await openOrder(fx, order);
      await deliver(fx);
      return { ...fx, receiver, order, orderId: orderIdOf(order) };
    }

    it("test_release_creditsTheRejectingPayeeAndPaysTheOthers", async function () {
      const fx = await loadFixture(rejectingCarrierFixture);
      const split = splitOf(fx.order);
      const tx = await fx.escrow.connect(fx.buyer).release(fx.order);
      await expect(tx).to.emit(fx.escrow, "PaymentCredited").withArgs(fx.receiver, ETH, split.carrier);
      await expect(tx).to.changeEtherBalances(
        ethers,
        [fx.manufacturer, fx.platform, fx.receiver, fx.escrow],
        [split.seller, 0n, 0n, -split.seller],
      );
      expect(await fx.escrow.creditOf(fx.receiver, ETH)).to.equal(split.carrier);
      expect(await fx.escrow.creditOf(fx.platform, ETH)).to.equal(split.platform);
      // What the escrow still holds is exactly what it owes (the carrier's credit and the platform fee).
      expect(await ethers.provider.getBalance(fx.escrow)).to.equal(split.carrier + split.platform);
    });

    it("test_release_boundsTheGasAGasBurningPayeeCanTake", async function () {
      const fx = await loadFixture(rejectingCarrierFixture);
      await fx.receiver.setBurnGas(true);
      const tx = await fx.escrow.connect(fx.buyer).release(fx.order, { gasLimit: 1_000_000n });
      await expect(tx).to.emit(fx.escrow, "PaymentCredited");
      const receipt = await tx.wait();
      // The push forwards at most ETH_PUSH_GAS (30,000): the settlement stays cheap whatever the payee does.
      expect(receipt!.gasUsed).to.be.lessThan(150_000n);
    });

    it("test_withdrawTo_paysTheCreditToAnotherAddress", async function () {
      const fx = await loadFixture(rejectingCarrierFixture);
      await fx.escrow.connect(fx.buyer).release(fx.order);
      const { carrier: credit } = splitOf(fx.order);

      const withdrawSelf = fx.escrow.interface.encodeFunctionData("withdraw", [ETH]);
      await expect(fx.receiver.execute(fx.escrow, withdrawSelf)).to.be.revertedWithCustomError(
        fx.receiver,
        "EthRejectingReceiverCallFailed",
      );
      expect(await fx.escrow.creditOf(fx.receiver, ETH)).to.equal(credit);

      const withdrawTo = fx.escrow.interface.encodeFunctionData("withdrawTo", [ETH, fx.stranger.address]);
      const tx = await fx.receiver.execute(fx.escrow, withdrawTo);
      await expect(tx).to.emit(fx.escrow, "Withdrawn").withArgs(fx.receiver, ETH, credit);
      await expect(tx).to.changeEtherBalances(ethers, [fx.stranger, fx.escrow], [credit, -credit]);
      expect(await fx.escrow.creditOf(fx.receiver, ETH)).to.equal(0n);
    });

    it("test_withdraw_revertsWithNothingToWithdraw", async function () {
      const fx = await loadFixture(deployEscrowFixture);
      await expect(fx.escrow.connect(fx.stranger).withdraw(ETH))
        .to.be.revertedWithCustomError(fx.escrow, "EscrowNothingToWithdraw")
        .withArgs(fx.stranger.address, ETH);
      const token = await fx.stablecoin.getAddress();
      await expect(fx.escrow.connect(fx.stranger).withdrawTo(token, fx.stranger.address))
        .to.be.revertedWithCustomError(fx.escrow, "EscrowNothingToWithdraw")
        .withArgs(fx.stranger.address, token);
    });

    it("test_withdrawTo_revertsForZeroRecipient", async function () {
      const fx = await loadFixture(deployEscrowFixture);
      await expect(fx.escrow.connect(fx.stranger).withdrawTo(ETH, ethers.ZeroAddress))
        .to.be.revertedWithCustomError(fx.escrow, "EscrowInvalidParty")
        .withArgs(ethers.ZeroAddress);
    });
  });

  describe("when a payee re-enters on receipt of ETH", function () {
    it("test_release_reentryFromAPayeeIsBlockedAndEachShareIsPaidOnce", async function () {
      const fx = await loadFixture(deployEscrowFixture);
      const attacker = await ethers.deployContract("ReentrantReceiver");
      const order = await makeOrder(fx, { carrier: await attacker.getAddress() });
      await openOrder(fx, order);
      await deliver(fx);
      await attacker.arm(fx.escrow, fx.escrow.interface.encodeFunctionData("withdraw", [ETH]));

      const split = splitOf(order);
      const tx = await fx.escrow.connect(fx.buyer).release(order);
      await expect(tx).to.emit(attacker, "ReentryAttempted").withArgs(fx.escrow, false, REENTRANT_CALL);
      await expect(tx).not.to.emit(fx.escrow, "PaymentCredited");
      await expect(tx).to.changeEtherBalances(ethers, [attacker, fx.escrow], [split.carrier, split.platform - order.amount]);
      expect((await fx.escrow.orderState(order))[0]).to.equal(OrderState.Released);
    });

    it("test_refund_reentryFromTheBuyerIsBlocked", async function () {
      const fx = await loadFixture(deployEscrowFixture);
      const attacker = await ethers.deployContract("ReentrantReceiver");
      const order = await makeOrder(fx, { buyer: await attacker.getAddress() });
      // A buyer must be an onboarded participant (it takes custody on delivery).
      await fx.registry.connect(fx.admin).onboardParticipant(attacker, await fx.registry.RETAILER_ROLE(), GLN, "Contract buyer");
      const open = fx.escrow.interface.encodeFunctionData("openOrder", [order, await sellerConsent(fx, order)]);
      await attacker.execute(fx.escrow, open, { value: order.amount });
      await time.increaseTo(order.deliveryDeadline + 1n);
      await attacker.arm(fx.escrow, fx.escrow.interface.encodeFunctionData("withdraw", [ETH]));

      const tx = await fx.escrow.connect(fx.stranger).refund(order);
      await expect(tx).to.emit(attacker, "ReentryAttempted").withArgs(fx.escrow, false, REENTRANT_CALL);
      await expect(tx).to.changeEtherBalances(ethers, [attacker, fx.escrow], [order.amount, -order.amount]);
    });

    it("test_withdraw_reentryDuringWithdrawalIsBlocked", async function () {
      const fx = await loadFixture(deployEscrowFixture);
      const attacker = await ethers.deployContract("ReentrantReceiver");
      const order = await makeOrder(fx, { carrier: await attacker.getAddress() });
      await openOrder(fx, order);
      await deliver(fx);
      await attacker.setRefusing(true);
      await fx.escrow.connect(fx.buyer).release(order);
      const { carrier: credit } = splitOf(order);
      expect(await fx.escrow.creditOf(attacker, ETH)).to.equal(credit);

      await attacker.setRefusing(false);
      const withdraw = fx.escrow.interface.encodeFunctionData("withdraw", [ETH]);
      await attacker.arm(fx.escrow, withdraw);
      const tx = await attacker.execute(fx.escrow, withdraw);
      await expect(tx).to.emit(attacker, "ReentryAttempted").withArgs(fx.escrow, false, REENTRANT_CALL);
      await expect(tx).to.changeEtherBalances(ethers, [attacker, fx.escrow], [credit, -credit]);
      expect(await fx.escrow.creditOf(attacker, ETH)).to.equal(0n);
    });
  });

  describe("with a malicious token", function () {
    async function maliciousTokenFixture() {
      const fx = await deployEscrowFixture();
      const token = await ethers.deployContract("MaliciousToken");
      await fx.escrow.connect(fx.admin).setTokenAllowed(token, true);
      await token.mint(fx.buyer.address, 1_000_000n);
      await token.connect(fx.buyer).approve(fx.escrow, ethers.MaxUint256);
      const order = await makeOrder(fx, { token: await token.getAddress(), amount: 1_000_000n });
      return { ...fx, token, order, orderId: orderIdOf(order) };
    }

    it("test_openOrder_tokenReentryDuringFundingIsBlocked", async function () {
      const fx = await loadFixture(maliciousTokenFixture);
      await fx.token.arm(fx.escrow, fx.escrow.interface.encodeFunctionData("refund", [fx.order]));
      const tx = await openOrder(fx, fx.order);
      await expect(tx).to.emit(fx.token, "ReentryAttempted").withArgs(fx.escrow, false, REENTRANT_CALL);
      await expect(tx).to.emit(fx.escrow, "OrderOpened");
      expect(await fx.token.balanceOf(fx.escrow)).to.equal(fx.order.amount);
    });

    it("test_release_tokenReentryDuringPayoutIsBlockedAndPaysOnce", async function () {
      const fx = await loadFixture(maliciousTokenFixture);
      await openOrder(fx, fx.order);
      await deliver(fx);
      await fx.token.arm(fx.escrow, fx.escrow.interface.encodeFunctionData("release", [fx.order]));
      const split = splitOf(fx.order);
      const tx = await fx.escrow.connect(fx.buyer).release(fx.order);
      await expect(tx).to.emit(fx.token, "ReentryAttempted").withArgs(fx.escrow, false, REENTRANT_CALL);
      await expect(tx).to.changeTokenBalances(
        ethers,
        fx.token,
        [fx.manufacturer, fx.carrier, fx.platform, fx.escrow],
        [split.seller, split.carrier, 0n, split.platform - fx.order.amount],
      );
    });

    it("test_release_creditsPayeesTheTokenRefusesOrFailsSilentlyFor", async function () {
      const fx = await loadFixture(maliciousTokenFixture);
      await openOrder(fx, fx.order);
      await deliver(fx);
      const tokenAddress = await fx.token.getAddress();
      const split = splitOf(fx.order);

      await fx.token.setTransferMode(fx.carrier.address, TransferMode.Revert);
      const tx = await fx.escrow.connect(fx.buyer).release(fx.order);
      await expect(tx).to.emit(fx.escrow, "PaymentCredited").withArgs(fx.carrier.address, tokenAddress, split.carrier);
      await expect(tx).to.changeTokenBalances(
        ethers,
        fx.token,
        [fx.manufacturer, fx.carrier, fx.escrow],
        [split.seller, 0n, -split.seller],
      );

      // Still blocked: the withdrawal reverts and the credit stays.
      await expect(fx.escrow.connect(fx.carrier).withdraw(tokenAddress))
        .to.be.revertedWithCustomError(fx.token, "MaliciousTokenBlocked")
        .withArgs(fx.carrier.address);
      expect(await fx.escrow.creditOf(fx.carrier, tokenAddress)).to.equal(split.carrier);

      await fx.token.setTransferMode(fx.carrier.address, TransferMode.Normal);
      await expect(fx.escrow.connect(fx.carrier).withdraw(tokenAddress))
        .to.emit(fx.escrow, "Withdrawn")
        .withArgs(fx.carrier.address, tokenAddress, split.carrier);
      // Left: the platform's credited share.
      expect(await fx.token.balanceOf(fx.escrow)).to.equal(split.platform);
      expect(await fx.escrow.creditOf(fx.platform, tokenAddress)).to.equal(split.platform);
    });

    it("test_refund_creditsTheBuyerWhenTheTokenReturnsFalse", async function () {
      const fx = await loadFixture(maliciousTokenFixture);
      await openOrder(fx, fx.order);
      await fx.token.setTransferMode(fx.buyer.address, TransferMode.ReturnFalse);
      await time.increaseTo(fx.order.deliveryDeadline + 1n);
      const tx = await fx.escrow.refund(fx.order);
      await expect(tx).to.emit(fx.escrow, "OrderRefunded").withArgs(fx.orderId, RefundReason.DeadlinePassed, fx.order.amount);
      await expect(tx)
        .to.emit(fx.escrow, "PaymentCredited")
        .withArgs(fx.buyer.address, await fx.token.getAddress(), fx.order.amount);
      expect(await fx.token.balanceOf(fx.escrow)).to.equal(fx.order.amount);
    });

    it("test_openOrder_revertsWhenTheTokenRefusesThePull", async function () {
      const fx = await loadFixture(maliciousTokenFixture);
      await fx.token.setTransferMode(fx.buyer.address, TransferMode.ReturnFalse);
      await expect(openOrder(fx, fx.order))
        .to.be.revertedWithCustomError(fx.escrow, "SafeERC20FailedOperation")
        .withArgs(await fx.token.getAddress());
    });
  });

  describe("through the ERC-2771 forwarder", function () {
    it("test_openOrder_relayedEthOrderCarriesTheValueAndTheBuyerIsTheSigner", async function () {
      const fx = await loadFixture(deployEscrowFixture);
      const order = await makeOrder(fx);
      const data = fx.escrow.interface.encodeFunctionData("openOrder", [order, await sellerConsent(fx, order)]);
      const request = await signForwardRequest(fx, fx.buyer, fx.escrow, data, order.amount);

      const tx = await fx.forwarder.connect(fx.relayer).execute(request, { value: order.amount });
      await expect(tx).to.emit(fx.escrow, "OrderOpened").withArgs(orderIdOf(order), fx.buyer.address, fx.batchId, orderTuple(order));
      await expect(tx).to.changeEtherBalances(ethers, [fx.relayer, fx.buyer, fx.escrow], [-order.amount, 0n, order.amount]);

      // The deposit belongs to the buyer, not to the relayer that fronted it.
      await time.increaseTo(order.deliveryDeadline + 1n);
      await expect(fx.escrow.refund(order)).to.changeEtherBalances(ethers, [fx.buyer, fx.relayer], [order.amount, 0n]);
    });

    it("test_openOrder_relayedTokenOrderIsGaslessForTheBuyer", async function () {
      const fx = await loadFixture(deployEscrowFixture);
      const order = await makeOrder(fx, { token: await fx.stablecoin.getAddress() });
      const data = fx.escrow.interface.encodeFunctionData("openOrder", [order, await sellerConsent(fx, order)]);
      const request = await signForwardRequest(fx, fx.buyer, fx.escrow, data);
      const tx = await fx.forwarder.connect(fx.relayer).execute(request);
      await expect(tx).to.emit(fx.escrow, "OrderOpened");
      await expect(tx).to.changeEtherBalance(ethers, fx.buyer, 0n);
      await expect(tx).to.changeTokenBalances(ethers, fx.stablecoin, [fx.buyer, fx.escrow], [-order.amount, order.amount]);
    });

    it("test_dispute_relayedDisputeAndArbitrationActForTheirSigners", async function () {
      const fx = await loadFixture(deployEscrowFixture);
      const order = await makeOrder(fx);
      await openOrder(fx, order);
      await deliver(fx);

      const reason = ethers.id("relayed dispute");
      const disputeData = fx.escrow.interface.encodeFunctionData("dispute", [order, reason]);
      await expect(fx.forwarder.connect(fx.relayer).execute(await signForwardRequest(fx, fx.buyer, fx.escrow, disputeData)))
        .to.emit(fx.escrow, "OrderDisputed")
        .withArgs(orderIdOf(order), fx.buyer.address, reason); // the signer, not the relayer

      const resolveData = fx.escrow.interface.encodeFunctionData("resolveDispute", [order, 10_000]);
      await expect(fx.forwarder.connect(fx.relayer).execute(await signForwardRequest(fx, fx.arbiter, fx.escrow, resolveData)))
        .to.emit(fx.escrow, "DisputeResolved")
        .withArgs(orderIdOf(order), fx.arbiter.address, true, 10_000, order.amount, 0n, 0n, 0n);
    });

    it("test_openOrder_relayedRequestSignedBySomeoneElseIsRefused", async function () {
      const fx = await loadFixture(deployEscrowFixture);
      const order = await makeOrder(fx);
      const data = fx.escrow.interface.encodeFunctionData("openOrder", [order, await sellerConsent(fx, order)]);
      const request = await signForwardRequest(fx, fx.stranger, fx.escrow, data, order.amount);
      // The escrow sees the stranger as caller and refuses (EscrowUnauthorized); the forwarder reports FailedCall.
      await expect(fx.forwarder.connect(fx.relayer).execute(request, { value: order.amount })).to.be.revertedWithCustomError(
        fx.forwarder,
        "FailedCall",
      );
      expect((await fx.escrow.orderState(order))[0]).to.equal(OrderState.None);
    });
  });

  describe("when the buyer takes custody and hands it on at once", function () {
    it("test_release_sellerIsPaidAlthoughTheBatchLeftTheBuyer", async function () {
      const fx = await loadFixture(deployEscrowFixture);
      const order = await makeOrder(fx);
      await openOrder(fx, order);
      const deliveredAt = await timestampOf(await deliver(fx));
      await fx.registry.connect(fx.buyer).proposeHandoff(fx.batchId, fx.carrier.address, GLN, BusinessStep.Shipping);
      await fx.registry.connect(fx.carrier).acceptHandoff(fx.batchId, GLN, BusinessStep.Receiving);
      await time.increaseTo(deliveredAt + DISPUTE_WINDOW);
      await expect(fx.escrow.connect(fx.stranger).release(order)).to.changeEtherBalance(ethers, fx.manufacturer, splitOf(order).seller);
    });
  });
});
