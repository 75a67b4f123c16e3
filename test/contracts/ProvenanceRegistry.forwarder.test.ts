import { expect } from "chai";
import { network } from "hardhat";
import { anyValue } from "@nomicfoundation/hardhat-ethers-chai-matchers/withArgs";
import { Wallet, concat } from "ethers";
import { DEMO_GTIN, DEMO_PORT_GLN, deployProvena } from "../../scripts/fixtures/provena-deployment.ts";
import { BatchStatus, BusinessStep } from "../../scripts/fixtures/registry-enums.ts";
import { documentHash, registerBatch, registerBatchArgs } from "../helpers/batches.ts";
import { signForwardRequest } from "../helpers/forwarder.ts";
import { batchIdOf, glnFrom } from "../helpers/gs1.ts";
import { buildSerialTree } from "../helpers/serials.ts";

const { ethers, networkHelpers } = await network.create();

describe("ProvenanceRegistry: gasless actions through the ProvenaForwarder", function () {
  /** A registered batch, and a carrier whose key holds no ETH at all. */
  async function relayFixture() {
    const deployment = await deployProvena(ethers, { escrow: false });
    const { registry, admin, roles } = deployment;
    const keyOnlyCarrier = Wallet.createRandom().connect(ethers.provider);
    await registry
      .connect(admin)
      .onboardParticipant(keyOnlyCarrier.address, roles.CARRIER_ROLE, glnFrom("841234500099"), "Owner-driver, no ETH");
    const batch = await registerBatch(registry, deployment.manufacturer, { lot: "LOT-RELAY" });
    return { ...deployment, keyOnlyCarrier, batch, batchId: batch.batchId };
  }

  describe("when a relayer submits a participant's signed request", function () {
    it("test_execute_registerBatch_signerPaysNothingRelayerPaysGas", async function () {
      const { registry, forwarder, manufacturer, relayer } = await networkHelpers.loadFixture(relayFixture);
      const latest = BigInt(await networkHelpers.time.latest());
      const input = {
        gtin: DEMO_GTIN,
        lot: "LOT-GASLESS",
        quantity: 10n,
        productionDate: latest - 60n,
        originGln: DEMO_PORT_GLN,
        documentHash: documentHash("doc"),
        serialRoot: buildSerialTree(["U1"]).root,
      };
      const request = await signForwardRequest({
        forwarder,
        signer: manufacturer,
        target: registry,
        data: registry.interface.encodeFunctionData("registerBatch", registerBatchArgs(input)),
      });
      const manufacturerBalance = await ethers.provider.getBalance(manufacturer.address);
      const relayerBalance = await ethers.provider.getBalance(relayer.address);

      const tx = forwarder.connect(relayer).execute(request);
      await expect(tx)
        .to.emit(registry, "BatchRegistered")
        .withArgs(
          batchIdOf(input.gtin, input.lot),
          manufacturer.address,
          input.gtin,
          input.lot,
          input.quantity,
          input.productionDate,
          input.originGln,
          input.documentHash,
          input.serialRoot,
        );
      await expect(tx).to.emit(forwarder, "ExecutedForwardRequest").withArgs(manufacturer.address, 0n, true);
      expect(await ethers.provider.getBalance(manufacturer.address)).to.equal(manufacturerBalance);
      expect(await ethers.provider.getBalance(relayer.address)).to.be.lessThan(relayerBalance);
      expect(await forwarder.nonces(manufacturer.address)).to.equal(1n);
    });

    it("test_execute_handoffForCarrierWithoutEth_succeeds", async function () {
      const { registry, forwarder, manufacturer, relayer, keyOnlyCarrier, batchId } = await networkHelpers.loadFixture(relayFixture);
      expect(await ethers.provider.getBalance(keyOnlyCarrier.address)).to.equal(0n);
      const propose = await signForwardRequest({
        forwarder,
        signer: manufacturer,
        target: registry,
        data: registry.interface.encodeFunctionData("proposeHandoff", [
          batchId,
          keyOnlyCarrier.address,
          DEMO_PORT_GLN,
          BusinessStep.Shipping,
        ]),
      });
      await expect(forwarder.connect(relayer).execute(propose))
        .to.emit(registry, "HandoffProposed")
        .withArgs(batchId, manufacturer.address, keyOnlyCarrier.address, DEMO_PORT_GLN, BusinessStep.Shipping);

      const accept = await signForwardRequest({
        forwarder,
        signer: keyOnlyCarrier,
        target: registry,
        data: registry.interface.encodeFunctionData("acceptHandoff", [batchId, DEMO_PORT_GLN, BusinessStep.Receiving]),
      });
      await expect(forwarder.connect(relayer).execute(accept))
        .to.emit(registry, "HandoffAccepted")
        .withArgs(batchId, manufacturer.address, keyOnlyCarrier.address, DEMO_PORT_GLN, BusinessStep.Receiving);
      const [, custodian, , status] = await registry.batch(batchId);
      expect(custodian).to.equal(keyOnlyCarrier.address);
      expect(status).to.equal(BatchStatus.Delivered);
      expect(await ethers.provider.getBalance(keyOnlyCarrier.address)).to.equal(0n);
    });

    it("test_execute_otherBatchActions_signerIsActor", async function () {
      const { registry, forwarder, manufacturer, carrier, inspector, customs, relayer, batchId } =
        await networkHelpers.loadFixture(relayFixture);
      const relay = async (signer: typeof manufacturer, method: string, args: unknown[]) =>
        forwarder.connect(relayer).execute(
          await signForwardRequest({
            forwarder,
            signer,
            target: registry,
            data: registry.interface.encodeFunctionData(method as any, args as any),
          }),
        );
      const reason = documentHash("reason");

      await registry.connect(manufacturer).proposeHandoff(batchId, carrier.address, DEMO_PORT_GLN, BusinessStep.Shipping);
      await expect(relay(carrier, "rejectHandoff", [batchId, reason]))
        .to.emit(registry, "HandoffRejected")
        .withArgs(batchId, manufacturer.address, carrier.address, reason);

      await registry.connect(manufacturer).proposeHandoff(batchId, carrier.address, DEMO_PORT_GLN, BusinessStep.Shipping);
      await expect(relay(manufacturer, "cancelHandoff", [batchId]))
        .to.emit(registry, "HandoffCancelled")
        .withArgs(batchId, manufacturer.address, carrier.address);

      await expect(relay(inspector, "attestQuality", [batchId, true, reason]))
        .to.emit(registry, "QualityAttested")
        .withArgs(batchId, inspector.address, true, reason);

      const [, , , , , , , serialRoot] = await registry.batch(batchId);
      const children = [
        { lot: "LOT-RELAY/1", quantity: 60n, serialRoot },
        { lot: "LOT-RELAY/2", quantity: 40n, serialRoot },
      ];
      await expect(relay(manufacturer, "splitBatch", [batchId, children]))
        .to.emit(registry, "BatchSplit")
        .withArgs(batchId, batchIdOf(DEMO_GTIN, "LOT-RELAY/1"), manufacturer.address, "LOT-RELAY/1", 60n, serialRoot);

      const childId = batchIdOf(DEMO_GTIN, "LOT-RELAY/2");
      await expect(relay(customs, "recallBatch", [childId, reason]))
        .to.emit(registry, "BatchRecalled")
        .withArgs(childId, customs.address, reason);
    });

    it("test_execute_adminActions_relayed", async function () {
      const { registry, forwarder, admin, relayer, roles, signers } = await networkHelpers.loadFixture(relayFixture);
      const newcomer = signers[12];
      const request = await signForwardRequest({
        forwarder,
        signer: admin,
        target: registry,
        data: registry.interface.encodeFunctionData("onboardParticipant", [newcomer.address, roles.RETAILER_ROLE, 1n, "Relayed shop"]),
      });
      await expect(forwarder.connect(relayer).execute(request))
        .to.emit(registry, "ParticipantOnboarded")
        .withArgs(newcomer.address, 8n, roles.RETAILER_ROLE, 1n, "Relayed shop");
    });

    it("test_execute_nonCustodianRequest_failsAsAWhole", async function () {
      const { registry, forwarder, carrier, relayer, batchId, warehouse } = await networkHelpers.loadFixture(relayFixture);
      const request = await signForwardRequest({
        forwarder,
        signer: carrier,
        target: registry,
        data: registry.interface.encodeFunctionData("proposeHandoff", [batchId, warehouse.address, DEMO_PORT_GLN, BusinessStep.Shipping]),
      });
      // The forwarder reports a failed inner call as FailedCall; the registry's own error is seen by
      // simulating the call as the forwarder would make it (calldata + signer address).
      await expect(forwarder.connect(relayer).execute(request)).to.be.revertedWithCustomError(forwarder, "FailedCall");
      await expect(
        ethers.provider.call({
          from: await forwarder.getAddress(),
          to: await registry.getAddress(),
          data: concat([request.data, carrier.address]),
        }),
      )
        .to.be.revertedWithCustomError(registry, "BatchNotCustodian")
        .withArgs(batchId, carrier.address);
      expect(await forwarder.nonces(carrier.address)).to.equal(0n);
    });
  });

  describe("when the request is not valid", function () {
    async function proposeRequest(
      context: Awaited<ReturnType<typeof relayFixture>>,
      overrides: Partial<Parameters<typeof signForwardRequest>[0]> = {},
    ) {
      const { registry, forwarder, manufacturer, carrier, batchId } = context;
      return signForwardRequest({
        forwarder,
        signer: manufacturer,
        target: registry,
        data: registry.interface.encodeFunctionData("proposeHandoff", [batchId, carrier.address, DEMO_PORT_GLN, BusinessStep.Shipping]),
        ...overrides,
      });
    }

    it("test_execute_expiredRequest_reverts", async function () {
      const context = await networkHelpers.loadFixture(relayFixture);
      const deadline = BigInt(await networkHelpers.time.latest()) + 60n;
      const request = await proposeRequest(context, { deadline });
      await networkHelpers.time.increaseTo(deadline + 1n);
      expect(await context.forwarder.verify(request)).to.equal(false);
      await expect(context.forwarder.connect(context.relayer).execute(request))
        .to.be.revertedWithCustomError(context.forwarder, "ERC2771ForwarderExpiredRequest")
        .withArgs(deadline);
    });

    it("test_execute_replayedRequest_reverts", async function () {
      const context = await networkHelpers.loadFixture(relayFixture);
      const request = await proposeRequest(context);
      expect(await context.forwarder.verify(request)).to.equal(true);
      await context.forwarder.connect(context.relayer).execute(request);
      expect(await context.forwarder.verify(request)).to.equal(false);
      await expect(context.forwarder.connect(context.relayer).execute(request))
        .to.be.revertedWithCustomError(context.forwarder, "ERC2771ForwarderInvalidSigner")
        .withArgs(anyValue, context.manufacturer.address);
    });

    it("test_execute_signerOtherThanFrom_reverts", async function () {
      const context = await networkHelpers.loadFixture(relayFixture);
      const { forwarder, registry, manufacturer, outsider, carrier, batchId, relayer } = context;
      const forged = await signForwardRequest({
        forwarder,
        signer: outsider,
        from: manufacturer.address,
        target: registry,
        data: registry.interface.encodeFunctionData("proposeHandoff", [batchId, carrier.address, DEMO_PORT_GLN, BusinessStep.Shipping]),
      });
      await expect(forwarder.connect(relayer).execute(forged))
        .to.be.revertedWithCustomError(forwarder, "ERC2771ForwarderInvalidSigner")
        .withArgs(outsider.address, manufacturer.address);
    });

    it("test_execute_fieldsChangedAfterSigning_reverts", async function () {
      const context = await networkHelpers.loadFixture(relayFixture);
      const request = await proposeRequest(context);
      const tampered = {
        ...request,
        data: context.registry.interface.encodeFunctionData("proposeHandoff", [
          context.batchId,
          context.outsider.address,
          DEMO_PORT_GLN,
          BusinessStep.Shipping,
        ]),
      };
      await expect(context.forwarder.connect(context.relayer).execute(tampered))
        .to.be.revertedWithCustomError(context.forwarder, "ERC2771ForwarderInvalidSigner")
        .withArgs(anyValue, context.manufacturer.address);
    });

    it("test_execute_signedForOtherChain_reverts", async function () {
      const context = await networkHelpers.loadFixture(relayFixture);
      const request = await proposeRequest(context, { chainId: 1n });
      await expect(context.forwarder.connect(context.relayer).execute(request))
        .to.be.revertedWithCustomError(context.forwarder, "ERC2771ForwarderInvalidSigner")
        .withArgs(anyValue, context.manufacturer.address);
    });

    it("test_execute_targetNotTrustingForwarder_reverts", async function () {
      const context = await networkHelpers.loadFixture(relayFixture);
      const target = await context.forwarder.getAddress();
      const request = await proposeRequest(context, { target });
      await expect(context.forwarder.connect(context.relayer).execute(request))
        .to.be.revertedWithCustomError(context.forwarder, "ERC2771UntrustfulTarget")
        .withArgs(target, target);
    });
  });

  describe("when someone calls the registry directly with an address appended", function () {
    it("test_msgSender_addressAppendedByUntrustedCaller_ignored", async function () {
      const { registry, outsider, carrier, batchId } = await networkHelpers.loadFixture(relayFixture);
      const data = registry.interface.encodeFunctionData("proposeHandoff", [
        batchId,
        carrier.address,
        DEMO_PORT_GLN,
        BusinessStep.Shipping,
      ]);
      const [manufacturerAddress] = await registry.batch(batchId);
      await expect(outsider.sendTransaction({ to: await registry.getAddress(), data: concat([data, manufacturerAddress]) }))
        .to.be.revertedWithCustomError(registry, "BatchNotCustodian")
        .withArgs(batchId, outsider.address);
      expect((await registry.batch(batchId))[3]).to.equal(BatchStatus.Registered);
    });
  });
});
