/**
 * Issue 12, aggregation: batches packed into logistic units identified by an SSCC, nested containers, and a
 * container handoff that moves custody of everything inside in one constant-gas transaction.
 *
 * Who could abuse what (each is a test below):
 * - A third party squatting or front-running a published SSCC: an SSCC under a granted company prefix is only
 *   its holder's; an SSCC is never created twice; a malformed SSCC (check digit) is refused.
 * - A third party packing, unpacking or handing off goods it does not hold: every container action checks the
 *   outermost container's custodian, and packing checks the registry's custodian of each batch.
 * - A former custodian handing off a packed batch on its own: the registry custody is the contract's.
 * - A seller packing a batch its escrow buyer waits for: refused while the custody observer watches it.
 * - Hiding a recalled lot in a container, or moving a container holding one: blocked once flagged, at every
 *   enclosing level, by a permissionless flag that only counts packed batches the registry reports Recalled.
 * - Nesting tricks: packing a container into itself or into one inside it, nesting without bound, handing off
 *   or unpacking a container while it is packed in another.
 * - Suspended participants and non-participants: cannot create, pack, hand off, accept or unpack.
 * - The receiver of an unpack rejecting it: the batch is not stranded (only that receiver may renew the release).
 */
import { expect } from "chai";
import { network } from "hardhat";
import { ZeroAddress, ZeroHash } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import {
  DEMO_DC_GLN,
  DEMO_PORT_GLN,
  deployLogisticUnits,
  deployProvena,
  type ProvenaDeployment,
} from "../../scripts/fixtures/provena-deployment.ts";
import { registerBatch } from "../helpers/batches.ts";
import { signForwardRequest } from "../helpers/forwarder.ts";
import { ssccFrom } from "../helpers/gs1.ts";
import type { LogisticUnits } from "../../types/ethers-contracts/index.js";

const { ethers, networkHelpers } = await network.create();

/** IProvenanceRegistry.BusinessStep values used here. */
const Step = { Shipping: 0, Receiving: 1, Loading: 5, Unloading: 6 } as const;
/** IProvenanceRegistry.BatchStatus values used here. */
const Status = { Registered: 1n, InTransit: 2n, Delivered: 3n, Split: 4n, Recalled: 5n } as const;

/** SSCCs under the manufacturer's granted prefix 8412345 (extension digit 0, then a 9-digit serial reference). */
const manufacturerSscc = (serial: number) => ssccFrom(`08412345${String(serial).padStart(9, "0")}`);
/** SSCCs under 8712345, a prefix the registry has not granted (a logistics provider's own numbering). */
const carrierSscc = (serial: number) => ssccFrom(`18712345${String(serial).padStart(9, "0")}`);

describe("LogisticUnits", function () {
  async function deployFixture() {
    const deployment = await deployProvena(ethers, { escrow: false });
    const logisticUnits = await deployLogisticUnits(ethers, deployment);
    const lots = [];
    for (const lot of ["LOT-PACK-1", "LOT-PACK-2", "LOT-PACK-3"]) {
      lots.push((await registerBatch(deployment.registry, deployment.manufacturer, { lot, quantity: 10n })).batchId);
    }
    return { ...deployment, logisticUnits, unitsAddress: await logisticUnits.getAddress(), batchIds: lots };
  }

  type Fixture = ProvenaDeployment & { logisticUnits: LogisticUnits; unitsAddress: string; batchIds: string[] };

  /** `custodian` offers `batchIds` to the contract in the registry, then packs them into `sscc`. */
  async function pack(fx: Fixture, custodian: HardhatEthersSigner, sscc: bigint, batchIds: string[]) {
    for (const batchId of batchIds) {
      await (await fx.registry.connect(custodian).proposeHandoff(batchId, fx.unitsAddress, DEMO_PORT_GLN, Step.Shipping)).wait();
    }
    return fx.logisticUnits.connect(custodian).packBatches(sscc, batchIds, DEMO_PORT_GLN);
  }

  /** The manufacturer holds container PALLET with the three batches in it. */
  async function packedFixture() {
    const fx = await deployFixture();
    const pallet = manufacturerSscc(1);
    await (await fx.logisticUnits.connect(fx.manufacturer).createContainer(pallet, DEMO_PORT_GLN)).wait();
    await (await pack(fx, fx.manufacturer, pallet, fx.batchIds)).wait();
    return { ...fx, pallet };
  }

  /** `from` hands outermost container `sscc` to `to`, who accepts. */
  async function handOver(fx: Fixture, sscc: bigint, from: HardhatEthersSigner, to: HardhatEthersSigner) {
    await (await fx.logisticUnits.connect(from).proposeContainerHandoff(sscc, to.address, DEMO_PORT_GLN, Step.Shipping)).wait();
    await (await fx.logisticUnits.connect(to).acceptContainerHandoff(sscc, DEMO_DC_GLN, Step.Receiving)).wait();
  }

  describe("createContainer", function () {
    it("test_createContainer_makesTheCallerCustodianOfAnEmptyContainer", async function () {
      const { logisticUnits, manufacturer } = await networkHelpers.loadFixture(deployFixture);
      const sscc = manufacturerSscc(7);
      await expect(logisticUnits.connect(manufacturer).createContainer(sscc, DEMO_PORT_GLN))
        .to.emit(logisticUnits, "ContainerCreated")
        .withArgs(sscc, manufacturer.address, DEMO_PORT_GLN);
      expect(await logisticUnits.container(sscc)).to.deep.equal([manufacturer.address, ZeroAddress, 0n, 0n, 0n, 0n]);
      expect(await logisticUnits.outermostContainer(sscc)).to.deep.equal([sscc, manufacturer.address]);
    });

    it("test_createContainer_revertsOnAMalformedSscc", async function () {
      const { logisticUnits, manufacturer } = await networkHelpers.loadFixture(deployFixture);
      const valid = manufacturerSscc(7);
      const wrongCheckDigit = valid - (valid % 10n) + ((valid + 1n) % 10n);
      for (const sscc of [0n, wrongCheckDigit, 10n ** 18n + 7n]) {
        await expect(logisticUnits.connect(manufacturer).createContainer(sscc, DEMO_PORT_GLN))
          .to.be.revertedWithCustomError(logisticUnits, "ContainerInvalidSscc")
          .withArgs(sscc);
      }
    });

    it("test_createContainer_revertsForAnSsccAlreadyCreated", async function () {
      const { logisticUnits, carrier, warehouse } = await networkHelpers.loadFixture(deployFixture);
      const sscc = carrierSscc(1);
      await (await logisticUnits.connect(carrier).createContainer(sscc, DEMO_PORT_GLN)).wait();
      await expect(logisticUnits.connect(warehouse).createContainer(sscc, DEMO_PORT_GLN))
        .to.be.revertedWithCustomError(logisticUnits, "ContainerAlreadyExists")
        .withArgs(sscc);
    });

    it("test_createContainer_revertsWhenAnotherParticipantHoldsTheSsccCompanyPrefix", async function () {
      const { logisticUnits, manufacturer, carrier } = await networkHelpers.loadFixture(deployFixture);
      const sscc = manufacturerSscc(2);
      await expect(logisticUnits.connect(carrier).createContainer(sscc, DEMO_PORT_GLN))
        .to.be.revertedWithCustomError(logisticUnits, "ContainerSsccNotLicensed")
        .withArgs(sscc, carrier.address, manufacturer.address);
    });

    it("test_createContainer_revertsForOutsidersAndSuspendedParticipants", async function () {
      const { logisticUnits, registry, admin, carrier, outsider } = await networkHelpers.loadFixture(deployFixture);
      await expect(logisticUnits.connect(outsider).createContainer(carrierSscc(3), DEMO_PORT_GLN))
        .to.be.revertedWithCustomError(logisticUnits, "ContainerParticipantInactive")
        .withArgs(outsider.address);
      await (await registry.connect(admin).suspendParticipant(carrier.address, ZeroHash)).wait();
      await expect(logisticUnits.connect(carrier).createContainer(carrierSscc(3), DEMO_PORT_GLN))
        .to.be.revertedWithCustomError(logisticUnits, "ContainerParticipantInactive")
        .withArgs(carrier.address);
    });

    it("test_createContainer_relayedThroughTheForwarder_makesTheSignerCustodian", async function () {
      const { logisticUnits, forwarder, relayer, carrier } = await networkHelpers.loadFixture(deployFixture);
      const sscc = carrierSscc(4);
      const data = logisticUnits.interface.encodeFunctionData("createContainer", [sscc, DEMO_PORT_GLN]);
      const request = await signForwardRequest({ forwarder, signer: carrier, target: logisticUnits, data });
      await (await forwarder.connect(relayer).execute(request)).wait();
      expect((await logisticUnits.container(sscc))[0]).to.equal(carrier.address);
    });
  });

  describe("packBatches", function () {
    it("test_packBatches_movesRegistryCustodyToTheContract", async function () {
      const fx = await networkHelpers.loadFixture(deployFixture);
      const pallet = manufacturerSscc(1);
      await (await fx.logisticUnits.connect(fx.manufacturer).createContainer(pallet, DEMO_PORT_GLN)).wait();
      const tx = pack(fx, fx.manufacturer, pallet, fx.batchIds);
      await expect(tx).to.emit(fx.logisticUnits, "BatchPacked").withArgs(pallet, fx.batchIds[0], fx.manufacturer.address, DEMO_PORT_GLN);
      await expect(tx)
        .to.emit(fx.registry, "HandoffAccepted")
        .withArgs(fx.batchIds[2], fx.manufacturer.address, fx.unitsAddress, DEMO_PORT_GLN, Step.Loading);
      for (const batchId of fx.batchIds) {
        const [, custodian, pending, status] = await fx.registry.batch(batchId);
        expect([custodian, pending, status]).to.deep.equal([fx.unitsAddress, ZeroAddress, Status.Delivered]);
        expect(await fx.logisticUnits.packedBatch(batchId)).to.deep.equal([pallet, false, ZeroAddress]);
      }
      expect((await fx.logisticUnits.container(pallet))[3]).to.equal(3n);
    });

    it("test_packBatches_revertsForABatchTheCallerDoesNotHold", async function () {
      const fx = await networkHelpers.loadFixture(deployFixture);
      const { logisticUnits, registry, manufacturer, carrier, unitsAddress, batchIds } = fx;
      const crate = carrierSscc(1);
      await (await logisticUnits.connect(carrier).createContainer(crate, DEMO_PORT_GLN)).wait();
      // The manufacturer offered its batch to the contract, for its own container: the carrier cannot grab it.
      await (await registry.connect(manufacturer).proposeHandoff(batchIds[0], unitsAddress, DEMO_PORT_GLN, Step.Shipping)).wait();
      await expect(logisticUnits.connect(carrier).packBatches(crate, [batchIds[0]], DEMO_PORT_GLN))
        .to.be.revertedWithCustomError(logisticUnits, "BatchNotOfferedForPacking")
        .withArgs(batchIds[0], manufacturer.address, unitsAddress);
    });

    it("test_packBatches_revertsForABatchNotOfferedToTheContract", async function () {
      const { logisticUnits, manufacturer, batchIds } = await networkHelpers.loadFixture(deployFixture);
      const pallet = manufacturerSscc(1);
      await (await logisticUnits.connect(manufacturer).createContainer(pallet, DEMO_PORT_GLN)).wait();
      await expect(logisticUnits.connect(manufacturer).packBatches(pallet, [batchIds[0]], DEMO_PORT_GLN))
        .to.be.revertedWithCustomError(logisticUnits, "BatchNotOfferedForPacking")
        .withArgs(batchIds[0], manufacturer.address, ZeroAddress);
    });

    it("test_packBatches_revertsIntoAContainerOfSomeoneElse", async function () {
      const fx = await networkHelpers.loadFixture(deployFixture);
      const crate = carrierSscc(1);
      await (await fx.logisticUnits.connect(fx.carrier).createContainer(crate, DEMO_PORT_GLN)).wait();
      await expect(pack(fx, fx.manufacturer, crate, [fx.batchIds[0]]))
        .to.be.revertedWithCustomError(fx.logisticUnits, "ContainerNotCustodian")
        .withArgs(crate, fx.manufacturer.address);
    });

    it("test_packBatches_revertsWithNoBatches", async function () {
      const { logisticUnits, manufacturer } = await networkHelpers.loadFixture(deployFixture);
      const pallet = manufacturerSscc(1);
      await (await logisticUnits.connect(manufacturer).createContainer(pallet, DEMO_PORT_GLN)).wait();
      await expect(logisticUnits.connect(manufacturer).packBatches(pallet, [], DEMO_PORT_GLN))
        .to.be.revertedWithCustomError(logisticUnits, "ContainerNothingToMove")
        .withArgs(pallet);
    });

    it("test_packBatches_revertsForABatchTheCustodyObserverWatches", async function () {
      const fx = await networkHelpers.loadFixture(deployFixture);
      const observer = fx.signers[13];
      await (await fx.registry.connect(fx.admin).setCustodyObserver(observer.address)).wait();
      await (await fx.registry.connect(observer).setBatchWatched(fx.batchIds[0], true)).wait();
      const pallet = manufacturerSscc(1);
      await (await fx.logisticUnits.connect(fx.manufacturer).createContainer(pallet, DEMO_PORT_GLN)).wait();
      await expect(pack(fx, fx.manufacturer, pallet, [fx.batchIds[0]]))
        .to.be.revertedWithCustomError(fx.logisticUnits, "BatchWatchedByObserver")
        .withArgs(fx.batchIds[0]);
    });

    it("test_packBatches_revertsForABatchRecalledAfterItWasOffered", async function () {
      const fx = await networkHelpers.loadFixture(deployFixture);
      const pallet = manufacturerSscc(1);
      await (await fx.logisticUnits.connect(fx.manufacturer).createContainer(pallet, DEMO_PORT_GLN)).wait();
      await (
        await fx.registry.connect(fx.manufacturer).proposeHandoff(fx.batchIds[0], fx.unitsAddress, DEMO_PORT_GLN, Step.Shipping)
      ).wait();
      await (await fx.registry.connect(fx.manufacturer).recallBatch(fx.batchIds[0], ZeroHash)).wait();
      await expect(fx.logisticUnits.connect(fx.manufacturer).packBatches(pallet, [fx.batchIds[0]], DEMO_PORT_GLN))
        .to.be.revertedWithCustomError(fx.logisticUnits, "BatchNotOfferedForPacking")
        .withArgs(fx.batchIds[0], fx.manufacturer.address, ZeroAddress);
    });

    it("test_packedBatch_cannotBeHandedOffOrSplitByItsFormerCustodian", async function () {
      const { registry, manufacturer, carrier, batchIds } = await networkHelpers.loadFixture(packedFixture);
      await expect(registry.connect(manufacturer).proposeHandoff(batchIds[0], carrier.address, DEMO_PORT_GLN, Step.Shipping))
        .to.be.revertedWithCustomError(registry, "BatchNotCustodian")
        .withArgs(batchIds[0], manufacturer.address);
      await expect(registry.connect(manufacturer).splitBatch(batchIds[0], [])).to.be.revertedWithCustomError(registry, "BatchNotCustodian");
    });
  });

  describe("container handoff", function () {
    it("test_acceptContainerHandoff_movesCustodyOfEverythingInside", async function () {
      const fx = await networkHelpers.loadFixture(packedFixture);
      const { logisticUnits, manufacturer, carrier, pallet } = fx;
      await expect(logisticUnits.connect(manufacturer).proposeContainerHandoff(pallet, carrier.address, DEMO_PORT_GLN, Step.Shipping))
        .to.emit(logisticUnits, "ContainerHandoffProposed")
        .withArgs(pallet, manufacturer.address, carrier.address, DEMO_PORT_GLN, Step.Shipping);
      await expect(logisticUnits.connect(carrier).acceptContainerHandoff(pallet, DEMO_DC_GLN, Step.Receiving))
        .to.emit(logisticUnits, "ContainerHandoffAccepted")
        .withArgs(pallet, manufacturer.address, carrier.address, DEMO_DC_GLN, Step.Receiving);
      expect(await logisticUnits.outermostContainer(pallet)).to.deep.equal([pallet, carrier.address]);
    });

    it("test_acceptContainerHandoff_revertsForAnyoneButTheReceiver", async function () {
      const { logisticUnits, manufacturer, carrier, warehouse, pallet } = await networkHelpers.loadFixture(packedFixture);
      await expect(logisticUnits.connect(carrier).acceptContainerHandoff(pallet, DEMO_DC_GLN, Step.Receiving))
        .to.be.revertedWithCustomError(logisticUnits, "ContainerNoHandoffPending")
        .withArgs(pallet);
      await (
        await logisticUnits.connect(manufacturer).proposeContainerHandoff(pallet, carrier.address, DEMO_PORT_GLN, Step.Shipping)
      ).wait();
      await expect(logisticUnits.connect(warehouse).acceptContainerHandoff(pallet, DEMO_DC_GLN, Step.Receiving))
        .to.be.revertedWithCustomError(logisticUnits, "ContainerNotReceiver")
        .withArgs(pallet, warehouse.address);
      await expect(logisticUnits.connect(warehouse).rejectContainerHandoff(pallet, ZeroHash))
        .to.be.revertedWithCustomError(logisticUnits, "ContainerNotReceiver")
        .withArgs(pallet, warehouse.address);
    });

    it("test_proposeContainerHandoff_revertsForANonCustodianSelfOrOutsider", async function () {
      const { logisticUnits, manufacturer, carrier, outsider, pallet } = await networkHelpers.loadFixture(packedFixture);
      await expect(logisticUnits.connect(carrier).proposeContainerHandoff(pallet, carrier.address, DEMO_PORT_GLN, Step.Shipping))
        .to.be.revertedWithCustomError(logisticUnits, "ContainerNotCustodian")
        .withArgs(pallet, carrier.address);
      await expect(logisticUnits.connect(manufacturer).proposeContainerHandoff(pallet, manufacturer.address, DEMO_PORT_GLN, Step.Shipping))
        .to.be.revertedWithCustomError(logisticUnits, "ContainerHandoffToSelf")
        .withArgs(pallet);
      await expect(logisticUnits.connect(manufacturer).proposeContainerHandoff(pallet, outsider.address, DEMO_PORT_GLN, Step.Shipping))
        .to.be.revertedWithCustomError(logisticUnits, "ContainerParticipantInactive")
        .withArgs(outsider.address);
      await expect(logisticUnits.connect(manufacturer).proposeContainerHandoff(pallet, carrier.address, 0n, Step.Shipping))
        .to.be.revertedWithCustomError(logisticUnits, "ParticipantInvalidGln")
        .withArgs(0n);
    });

    it("test_acceptContainerHandoff_revertsForASuspendedReceiver", async function () {
      const { logisticUnits, registry, admin, manufacturer, carrier, pallet } = await networkHelpers.loadFixture(packedFixture);
      await (
        await logisticUnits.connect(manufacturer).proposeContainerHandoff(pallet, carrier.address, DEMO_PORT_GLN, Step.Shipping)
      ).wait();
      await (await registry.connect(admin).suspendParticipant(carrier.address, ZeroHash)).wait();
      await expect(logisticUnits.connect(carrier).acceptContainerHandoff(pallet, DEMO_DC_GLN, Step.Receiving))
        .to.be.revertedWithCustomError(logisticUnits, "ContainerParticipantInactive")
        .withArgs(carrier.address);
    });

    it("test_rejectAndCancel_leaveTheContainerWithItsCustodian", async function () {
      const { logisticUnits, manufacturer, carrier, pallet } = await networkHelpers.loadFixture(packedFixture);
      await (
        await logisticUnits.connect(manufacturer).proposeContainerHandoff(pallet, carrier.address, DEMO_PORT_GLN, Step.Shipping)
      ).wait();
      const reason = ethers.id("damaged shrink wrap");
      await expect(logisticUnits.connect(carrier).rejectContainerHandoff(pallet, reason))
        .to.emit(logisticUnits, "ContainerHandoffRejected")
        .withArgs(pallet, manufacturer.address, carrier.address, reason);
      await (
        await logisticUnits.connect(manufacturer).proposeContainerHandoff(pallet, carrier.address, DEMO_PORT_GLN, Step.Shipping)
      ).wait();
      await expect(logisticUnits.connect(carrier).cancelContainerHandoff(pallet))
        .to.be.revertedWithCustomError(logisticUnits, "ContainerNotCustodian")
        .withArgs(pallet, carrier.address);
      await expect(logisticUnits.connect(manufacturer).cancelContainerHandoff(pallet))
        .to.emit(logisticUnits, "ContainerHandoffCancelled")
        .withArgs(pallet, manufacturer.address, carrier.address);
      expect(await logisticUnits.container(pallet)).to.deep.equal([manufacturer.address, ZeroAddress, 0n, 3n, 0n, 0n]);
    });

    it("test_pendingHandoff_freezesTheContents", async function () {
      const fx = await networkHelpers.loadFixture(packedFixture);
      await (
        await fx.logisticUnits.connect(fx.manufacturer).proposeContainerHandoff(fx.pallet, fx.carrier.address, DEMO_PORT_GLN, Step.Shipping)
      ).wait();
      await expect(fx.logisticUnits.connect(fx.manufacturer).unpackBatches(fx.pallet, [fx.batchIds[0]], DEMO_PORT_GLN))
        .to.be.revertedWithCustomError(fx.logisticUnits, "ContainerHandoffPending")
        .withArgs(fx.pallet);
      const extra = await registerBatch(fx.registry, fx.manufacturer, { lot: "LOT-LATE", quantity: 1n });
      await expect(pack(fx, fx.manufacturer, fx.pallet, [extra.batchId]))
        .to.be.revertedWithCustomError(fx.logisticUnits, "ContainerHandoffPending")
        .withArgs(fx.pallet);
    });
  });

  describe("unpackBatches", function () {
    it("test_unpackBatches_proposesEachBatchToTheCurrentCustodian", async function () {
      const fx = await networkHelpers.loadFixture(packedFixture);
      const { logisticUnits, registry, manufacturer, carrier, warehouse, unitsAddress, batchIds, pallet } = fx;
      await handOver(fx, pallet, manufacturer, carrier);
      await expect(logisticUnits.connect(manufacturer).unpackBatches(pallet, [batchIds[0]], DEMO_DC_GLN))
        .to.be.revertedWithCustomError(logisticUnits, "ContainerNotCustodian")
        .withArgs(pallet, manufacturer.address);

      const tx = logisticUnits.connect(carrier).unpackBatches(pallet, [batchIds[0], batchIds[1]], DEMO_DC_GLN);
      await expect(tx).to.emit(logisticUnits, "BatchUnpacked").withArgs(pallet, batchIds[0], carrier.address, DEMO_DC_GLN, true);
      await expect(tx)
        .to.emit(registry, "HandoffProposed")
        .withArgs(batchIds[1], unitsAddress, carrier.address, DEMO_DC_GLN, Step.Unloading);
      expect((await logisticUnits.container(pallet))[3]).to.equal(1n);

      await (await registry.connect(carrier).acceptHandoff(batchIds[0], DEMO_DC_GLN, Step.Receiving)).wait();
      expect((await registry.batch(batchIds[0]))[1]).to.equal(carrier.address);
      // Out of the container, the batch moves on its own again, by its custodian only.
      await (await registry.connect(carrier).proposeHandoff(batchIds[0], warehouse.address, DEMO_DC_GLN, Step.Shipping)).wait();
    });

    it("test_unpackBatches_revertsForABatchOfAnotherContainer", async function () {
      const fx = await networkHelpers.loadFixture(packedFixture);
      const other = manufacturerSscc(2);
      await (await fx.logisticUnits.connect(fx.manufacturer).createContainer(other, DEMO_PORT_GLN)).wait();
      await expect(fx.logisticUnits.connect(fx.manufacturer).unpackBatches(other, [fx.batchIds[0]], DEMO_PORT_GLN))
        .to.be.revertedWithCustomError(fx.logisticUnits, "BatchNotInContainer")
        .withArgs(other, fx.batchIds[0]);
    });

    it("test_renewBatchRelease_letsOnlyTheRejectingReceiverAskAgain", async function () {
      const fx = await networkHelpers.loadFixture(packedFixture);
      const { logisticUnits, registry, manufacturer, carrier, batchIds, pallet } = fx;
      await (await logisticUnits.connect(manufacturer).unpackBatches(pallet, [batchIds[0]], DEMO_PORT_GLN)).wait();
      await expect(logisticUnits.connect(manufacturer).renewBatchRelease(batchIds[0], DEMO_PORT_GLN))
        .to.be.revertedWithCustomError(logisticUnits, "BatchNotReleasedTo")
        .withArgs(batchIds[0], manufacturer.address);
      await (await registry.connect(manufacturer).rejectHandoff(batchIds[0], ZeroHash)).wait();
      await expect(logisticUnits.connect(carrier).renewBatchRelease(batchIds[0], DEMO_PORT_GLN))
        .to.be.revertedWithCustomError(logisticUnits, "BatchNotReleasedTo")
        .withArgs(batchIds[0], carrier.address);
      await expect(logisticUnits.connect(manufacturer).renewBatchRelease(batchIds[0], DEMO_PORT_GLN))
        .to.emit(logisticUnits, "BatchReleaseRenewed")
        .withArgs(batchIds[0], manufacturer.address, DEMO_PORT_GLN);
      await (await registry.connect(manufacturer).acceptHandoff(batchIds[0], DEMO_PORT_GLN, Step.Receiving)).wait();
      expect((await registry.batch(batchIds[0]))[1]).to.equal(manufacturer.address);
    });
  });

  describe("nested containers", function () {
    /** Two cartons (one batch each, the third loose on the pallet) on a pallet inside a shipping container. */
    async function nestedFixture() {
      const fx = await deployFixture();
      const [cartonA, cartonB, pallet, box] = [1, 2, 3, 4].map(manufacturerSscc);
      for (const sscc of [cartonA, cartonB, pallet, box]) {
        await (await fx.logisticUnits.connect(fx.manufacturer).createContainer(sscc, DEMO_PORT_GLN)).wait();
      }
      await (await pack(fx, fx.manufacturer, cartonA, [fx.batchIds[0]])).wait();
      await (await pack(fx, fx.manufacturer, cartonB, [fx.batchIds[1]])).wait();
      await (await pack(fx, fx.manufacturer, pallet, [fx.batchIds[2]])).wait();
      await (await fx.logisticUnits.connect(fx.manufacturer).packContainer(pallet, cartonA, DEMO_PORT_GLN)).wait();
      await (await fx.logisticUnits.connect(fx.manufacturer).packContainer(pallet, cartonB, DEMO_PORT_GLN)).wait();
      await (await fx.logisticUnits.connect(fx.manufacturer).packContainer(box, pallet, DEMO_PORT_GLN)).wait();
      return { ...fx, cartonA, cartonB, pallet, box };
    }

    it("test_handoffOfTheOutermostContainer_movesEveryLevel", async function () {
      const fx = await networkHelpers.loadFixture(nestedFixture);
      await handOver(fx, fx.box, fx.manufacturer, fx.carrier);
      expect(await fx.logisticUnits.outermostContainer(fx.cartonA)).to.deep.equal([fx.box, fx.carrier.address]);
      expect(await fx.logisticUnits.container(fx.box)).to.deep.equal([fx.carrier.address, ZeroAddress, 0n, 1n, 0n, 2n]);
    });

    it("test_packedContainer_cannotBeHandedOffPackedIntoOrUnpacked", async function () {
      const { logisticUnits, manufacturer, carrier, cartonA, pallet, box, batchIds } = await networkHelpers.loadFixture(nestedFixture);
      await expect(logisticUnits.connect(manufacturer).proposeContainerHandoff(cartonA, carrier.address, DEMO_PORT_GLN, Step.Shipping))
        .to.be.revertedWithCustomError(logisticUnits, "ContainerIsPacked")
        .withArgs(cartonA, pallet);
      await expect(logisticUnits.connect(manufacturer).unpackBatches(cartonA, [batchIds[0]], DEMO_PORT_GLN))
        .to.be.revertedWithCustomError(logisticUnits, "ContainerIsPacked")
        .withArgs(cartonA, pallet);
      await expect(logisticUnits.connect(manufacturer).packContainer(pallet, cartonA, DEMO_PORT_GLN))
        .to.be.revertedWithCustomError(logisticUnits, "ContainerIsPacked")
        .withArgs(pallet, box);
    });

    it("test_packContainer_cannotMakeACycle", async function () {
      const { logisticUnits, manufacturer, pallet, box } = await networkHelpers.loadFixture(nestedFixture);
      await expect(logisticUnits.connect(manufacturer).packContainer(box, box, DEMO_PORT_GLN))
        .to.be.revertedWithCustomError(logisticUnits, "ContainerPackedIntoItself")
        .withArgs(box);
      // The box holds the pallet: packing the box into the pallet needs the pallet outermost, which it is not.
      await expect(logisticUnits.connect(manufacturer).packContainer(pallet, box, DEMO_PORT_GLN))
        .to.be.revertedWithCustomError(logisticUnits, "ContainerIsPacked")
        .withArgs(pallet, box);
    });

    it("test_packContainer_revertsBeyondMaxNestingLevels", async function () {
      const { logisticUnits, manufacturer, box } = await networkHelpers.loadFixture(nestedFixture);
      // carton (1) < pallet (2) < box (3): a fourth level fits, a fifth does not.
      const [hold, ship] = [5, 6].map(manufacturerSscc);
      for (const sscc of [hold, ship]) await (await logisticUnits.connect(manufacturer).createContainer(sscc, DEMO_PORT_GLN)).wait();
      await (await logisticUnits.connect(manufacturer).packContainer(hold, box, DEMO_PORT_GLN)).wait();
      await expect(logisticUnits.connect(manufacturer).packContainer(ship, hold, DEMO_PORT_GLN))
        .to.be.revertedWithCustomError(logisticUnits, "ContainerNestingTooDeep")
        .withArgs(ship, hold, 4n);
    });

    it("test_packContainer_revertsForAContainerOfSomeoneElse", async function () {
      const { logisticUnits, carrier, box } = await networkHelpers.loadFixture(nestedFixture);
      const crate = carrierSscc(1);
      await (await logisticUnits.connect(carrier).createContainer(crate, DEMO_PORT_GLN)).wait();
      // Dust griefing: the carrier cannot push its (empty) crate into the manufacturer's box, nor take the box.
      await expect(logisticUnits.connect(carrier).packContainer(box, crate, DEMO_PORT_GLN))
        .to.be.revertedWithCustomError(logisticUnits, "ContainerNotCustodian")
        .withArgs(box, carrier.address);
      await expect(logisticUnits.connect(carrier).packContainer(crate, box, DEMO_PORT_GLN))
        .to.be.revertedWithCustomError(logisticUnits, "ContainerNotCustodian")
        .withArgs(box, carrier.address);
    });

    it("test_unpackContainer_givesTheInnerContainerToTheCurrentCustodian", async function () {
      const fx = await networkHelpers.loadFixture(nestedFixture);
      const { logisticUnits, manufacturer, carrier, warehouse, pallet, cartonA, box } = fx;
      await handOver(fx, box, manufacturer, carrier);
      await expect(logisticUnits.connect(carrier).unpackContainer(box, cartonA, DEMO_DC_GLN))
        .to.be.revertedWithCustomError(logisticUnits, "ContainerNotInside")
        .withArgs(box, cartonA);
      await expect(logisticUnits.connect(carrier).unpackContainer(box, pallet, DEMO_DC_GLN))
        .to.emit(logisticUnits, "ContainerUnpacked")
        .withArgs(box, pallet, carrier.address, DEMO_DC_GLN);
      await (await logisticUnits.connect(carrier).unpackContainer(pallet, cartonA, DEMO_DC_GLN)).wait();
      await handOver(fx, cartonA, carrier, warehouse);
      expect(await logisticUnits.outermostContainer(cartonA)).to.deep.equal([cartonA, warehouse.address]);
      expect(await logisticUnits.outermostContainer(fx.cartonB)).to.deep.equal([pallet, carrier.address]);
    });

    describe("when a packed lot is recalled", function () {
      it("test_flagRecalledBatch_blocksEveryEnclosingContainer", async function () {
        const fx = await networkHelpers.loadFixture(nestedFixture);
        const { logisticUnits, registry, manufacturer, carrier, batchIds, cartonA, pallet, box } = fx;
        await (await registry.connect(manufacturer).recallBatch(batchIds[0], ZeroHash)).wait();
        await expect(logisticUnits.connect(fx.outsider).flagRecalledBatch(batchIds[0]))
          .to.emit(logisticUnits, "PackedBatchRecallFlagged")
          .withArgs(batchIds[0], cartonA, box);
        for (const sscc of [cartonA, pallet, box]) expect((await logisticUnits.container(sscc))[4]).to.equal(1n);
        await expect(logisticUnits.connect(manufacturer).proposeContainerHandoff(box, carrier.address, DEMO_PORT_GLN, Step.Shipping))
          .to.be.revertedWithCustomError(logisticUnits, "ContainerHoldsRecalled")
          .withArgs(box, 1n);
        await expect(logisticUnits.connect(fx.outsider).flagRecalledBatch(batchIds[0]))
          .to.be.revertedWithCustomError(logisticUnits, "BatchRecallAlreadyFlagged")
          .withArgs(batchIds[0]);
      });

      it("test_flagRecalledBatch_revertsForABatchNotRecalledOrNotPacked", async function () {
        const fx = await networkHelpers.loadFixture(nestedFixture);
        await expect(fx.logisticUnits.connect(fx.outsider).flagRecalledBatch(fx.batchIds[0]))
          .to.be.revertedWithCustomError(fx.logisticUnits, "BatchNotRecalled")
          .withArgs(fx.batchIds[0]);
        const loose = await registerBatch(fx.registry, fx.manufacturer, { lot: "LOT-LOOSE", quantity: 1n });
        await (await fx.registry.connect(fx.manufacturer).recallBatch(loose.batchId, ZeroHash)).wait();
        await expect(fx.logisticUnits.connect(fx.outsider).flagRecalledBatch(loose.batchId))
          .to.be.revertedWithCustomError(fx.logisticUnits, "BatchNotInContainer")
          .withArgs(0n, loose.batchId);
      });

      it("test_acceptContainerHandoff_revertsWhenARecallIsFlaggedAfterTheProposal", async function () {
        const fx = await networkHelpers.loadFixture(nestedFixture);
        await (
          await fx.logisticUnits.connect(fx.manufacturer).proposeContainerHandoff(fx.box, fx.carrier.address, DEMO_PORT_GLN, Step.Shipping)
        ).wait();
        await (await fx.registry.connect(fx.customs).recallBatch(fx.batchIds[1], ZeroHash)).wait();
        await (await fx.logisticUnits.flagRecalledBatch(fx.batchIds[1])).wait();
        await expect(fx.logisticUnits.connect(fx.carrier).acceptContainerHandoff(fx.box, DEMO_DC_GLN, Step.Receiving))
          .to.be.revertedWithCustomError(fx.logisticUnits, "ContainerHoldsRecalled")
          .withArgs(fx.box, 1n);
      });

      it("test_flagRecalledBatch_countsARecallOfTheParentLot", async function () {
        const fx = await networkHelpers.loadFixture(deployFixture);
        const parent = await registerBatch(fx.registry, fx.manufacturer, { lot: "LOT-P", quantity: 10n });
        await (
          await fx.registry.connect(fx.manufacturer).splitBatch(parent.batchId, [
            { lot: "LOT-P/A", quantity: 4n, serialRoot: parent.tree.root },
            { lot: "LOT-P/B", quantity: 6n, serialRoot: parent.tree.root },
          ])
        ).wait();
        const child = await fx.registry.batchIdOf(parent.input.gtin, "LOT-P/A");
        const carton = manufacturerSscc(9);
        await (await fx.logisticUnits.connect(fx.manufacturer).createContainer(carton, DEMO_PORT_GLN)).wait();
        await (await pack(fx, fx.manufacturer, carton, [child])).wait();
        await (await fx.registry.connect(fx.manufacturer).recallBatch(parent.batchId, ZeroHash)).wait();
        await (await fx.logisticUnits.flagRecalledBatch(child)).wait();
        expect((await fx.logisticUnits.container(carton))[4]).to.equal(1n);
      });

      it("test_unpackingTheRecalledLot_unblocksTheContainersAndKeepsItOutOfCirculation", async function () {
        const fx = await networkHelpers.loadFixture(nestedFixture);
        const { logisticUnits, registry, manufacturer, carrier, unitsAddress, batchIds, cartonA, pallet, box } = fx;
        await (await registry.connect(manufacturer).recallBatch(batchIds[0], ZeroHash)).wait();
        await (await logisticUnits.flagRecalledBatch(batchIds[0])).wait();
        // A container holding a recalled lot cannot be hidden inside another one either.
        await (await logisticUnits.connect(manufacturer).unpackContainer(box, pallet, DEMO_PORT_GLN)).wait();
        expect((await logisticUnits.container(box))[4]).to.equal(0n);
        await expect(logisticUnits.connect(manufacturer).packContainer(box, pallet, DEMO_PORT_GLN))
          .to.be.revertedWithCustomError(logisticUnits, "ContainerHoldsRecalled")
          .withArgs(pallet, 1n);

        await (await logisticUnits.connect(manufacturer).unpackContainer(pallet, cartonA, DEMO_PORT_GLN)).wait();
        await expect(logisticUnits.connect(manufacturer).unpackBatches(cartonA, [batchIds[0]], DEMO_PORT_GLN))
          .to.emit(logisticUnits, "BatchUnpacked")
          .withArgs(cartonA, batchIds[0], manufacturer.address, DEMO_PORT_GLN, false);
        for (const sscc of [cartonA, pallet]) expect((await logisticUnits.container(sscc))[4]).to.equal(0n);
        const [, custodian, pending, status] = await registry.batch(batchIds[0]);
        expect([custodian, pending, status]).to.deep.equal([unitsAddress, ZeroAddress, Status.Recalled]);
        await handOver(fx, pallet, manufacturer, carrier);
      });
    });
  });
});
