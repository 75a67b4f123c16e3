import { expect } from "chai";
import { network } from "hardhat";
import { ZeroAddress, ZeroHash } from "ethers";
import { DEMO_DC_GLN, DEMO_GTIN, DEMO_PORT_GLN, deployProvena } from "../../scripts/fixtures/provena-deployment.ts";
import { BatchStatus, BusinessStep, InspectionResult } from "../../scripts/fixtures/registry-enums.ts";
import { documentHash, registerBatch, registerBatchArgs, type BatchInput } from "../helpers/batches.ts";
import { batchIdOf, gtinFrom } from "../helpers/gs1.ts";
import { buildSerialTree, makeSerials, serialProof } from "../helpers/serials.ts";

const { ethers, networkHelpers } = await network.create();

describe("ProvenanceRegistry: batches", function () {
  async function deployFixture() {
    return deployProvena(ethers, { escrow: false });
  }

  /** One batch of 100 units registered by the manufacturer. */
  async function registeredFixture() {
    const deployment = await deployProvena(ethers, { escrow: false });
    const batch = await registerBatch(deployment.registry, deployment.manufacturer, { lot: "LOT-2025-001", quantity: 100n });
    return { ...deployment, batch, batchId: batch.batchId };
  }

  /** The batch proposed by the manufacturer to the carrier. */
  async function inTransitFixture() {
    const context = await registeredFixture();
    await context.registry
      .connect(context.manufacturer)
      .proposeHandoff(context.batchId, context.carrier.address, DEMO_PORT_GLN, BusinessStep.Shipping);
    return context;
  }

  /** The batch delivered to the carrier. */
  async function deliveredFixture() {
    const context = await inTransitFixture();
    await context.registry.connect(context.carrier).acceptHandoff(context.batchId, DEMO_PORT_GLN, BusinessStep.Receiving);
    return context;
  }

  async function batchOf(registry: Awaited<ReturnType<typeof deployFixture>>["registry"], batchId: string) {
    const [manufacturer, custodian, pendingCustodian, status, inspection, quantity, custodySince, serialRoot] =
      await registry.batch(batchId);
    return { manufacturer, custodian, pendingCustodian, status, inspection, quantity, custodySince, serialRoot };
  }

  const unknownBatchId = batchIdOf(DEMO_GTIN, "NO-SUCH-LOT");

  // ---------------------------------------------------------------------------------------------
  describe("registerBatch", function () {
    async function inputFor(lot: string): Promise<BatchInput> {
      return {
        gtin: DEMO_GTIN,
        lot,
        quantity: 1_000n,
        productionDate: BigInt(await networkHelpers.time.latest()) - 3_600n,
        originGln: DEMO_DC_GLN,
        documentHash: documentHash("certificate of analysis"),
        serialRoot: buildSerialTree(makeSerials(5)).root,
      };
    }

    describe("when an active manufacturer registers a new GTIN + lot", function () {
      it("test_registerBatch_newGtinLot_emitsBatchRegisteredAndStoresState", async function () {
        const { registry, manufacturer } = await networkHelpers.loadFixture(deployFixture);
        const input = await inputFor("LOT-A");
        const batchId = batchIdOf(input.gtin, input.lot);

        await expect(registry.connect(manufacturer).registerBatch(...registerBatchArgs(input)))
          .to.emit(registry, "BatchRegistered")
          .withArgs(
            batchId,
            manufacturer.address,
            input.gtin,
            input.lot,
            input.quantity,
            input.productionDate,
            input.originGln,
            input.documentHash,
            input.serialRoot,
          );

        expect(await batchOf(registry, batchId)).to.deep.equal({
          manufacturer: manufacturer.address,
          custodian: manufacturer.address,
          pendingCustodian: ZeroAddress,
          status: BatchStatus.Registered,
          inspection: InspectionResult.None,
          quantity: input.quantity,
          custodySince: BigInt(await networkHelpers.time.latest()),
          serialRoot: input.serialRoot,
        });
        expect(await registry.batchStatus(batchId)).to.deep.equal([BatchStatus.Registered, InspectionResult.None]);
      });

      it("test_registerBatch_newGtinLot_returnsIdDerivedOffChain", async function () {
        const { registry, manufacturer } = await networkHelpers.loadFixture(deployFixture);
        const input = await inputFor("LOT-B");
        const expected = batchIdOf(input.gtin, input.lot);
        expect(await registry.connect(manufacturer).registerBatch.staticCall(...registerBatchArgs(input))).to.equal(expected);
        expect(await registry.batchIdOf(input.gtin, input.lot)).to.equal(expected);
      });

      it("test_registerBatch_gtin8To14_accepted", async function () {
        const { registry, admin, manufacturer } = await networkHelpers.loadFixture(deployFixture);
        const gtins = [gtinFrom("9638507"), gtinFrom("03600029145"), gtinFrom("400638133393"), gtinFrom("1084123450001")];
        expect(gtins).to.deep.equal([96385074n, 36000291452n, 4006381333931n, 10841234500013n]);
        // The company prefixes of their GTIN-13s: 00000963 (GTIN-8, zero-padded), 0036000, 4006381, 0841234.
        for (const [prefix, length] of [
          [963n, 8],
          [36000n, 7],
          [4006381n, 7],
          [841234n, 7],
        ] as const) {
          await registry.connect(admin).grantCompanyPrefix(manufacturer.address, prefix, length);
        }
        for (const gtin of gtins) {
          const input = { ...(await inputFor("LOT-G")), gtin };
          await expect(registry.connect(manufacturer).registerBatch(...registerBatchArgs(input))).to.emit(registry, "BatchRegistered");
        }
      });

      it("test_registerBatch_20CharacterSet82Lot_accepted", async function () {
        const { registry, manufacturer } = await networkHelpers.loadFixture(deployFixture);
        for (const lot of ["AZaz09!\"%&'()*+,-.._", ":;<=>?", "x"]) {
          await expect(registry.connect(manufacturer).registerBatch(...registerBatchArgs(await inputFor(lot)))).to.emit(
            registry,
            "BatchRegistered",
          );
        }
      });

      it("test_registerBatch_sameLotOtherGtin_accepted", async function () {
        const { registry, manufacturer } = await networkHelpers.loadFixture(registeredFixture);
        const input = { ...(await inputFor("LOT-2025-001")), gtin: gtinFrom("0841234500020") };
        expect(input.gtin).to.equal(8412345000201n); // same company prefix 8412345
        await expect(registry.connect(manufacturer).registerBatch(...registerBatchArgs(input))).to.emit(registry, "BatchRegistered");
      });
    });

    describe("when the caller may not register", function () {
      it("test_registerBatch_withoutManufacturerRole_reverts", async function () {
        const { registry, carrier, roles } = await networkHelpers.loadFixture(deployFixture);
        await expect(registry.connect(carrier).registerBatch(...registerBatchArgs(await inputFor("LOT-X"))))
          .to.be.revertedWithCustomError(registry, "ParticipantUnauthorized")
          .withArgs(carrier.address, roles.MANUFACTURER_ROLE);
      });

      it("test_registerBatch_roleButNeverOnboarded_reverts", async function () {
        const { registry, admin, outsider, roles } = await networkHelpers.loadFixture(deployFixture);
        await registry.connect(admin).grantRole(roles.MANUFACTURER_ROLE, outsider.address);
        await expect(registry.connect(outsider).registerBatch(...registerBatchArgs(await inputFor("LOT-X"))))
          .to.be.revertedWithCustomError(registry, "ParticipantUnauthorized")
          .withArgs(outsider.address, roles.MANUFACTURER_ROLE);
      });

      it("test_registerBatch_suspendedManufacturer_reverts", async function () {
        const { registry, admin, manufacturer } = await networkHelpers.loadFixture(deployFixture);
        await registry.connect(admin).suspendParticipant(manufacturer.address, ZeroHash);
        await expect(registry.connect(manufacturer).registerBatch(...registerBatchArgs(await inputFor("LOT-X"))))
          .to.be.revertedWithCustomError(registry, "ParticipantIsSuspended")
          .withArgs(manufacturer.address);
      });

      it("test_registerBatch_revokedRole_reverts", async function () {
        const { registry, admin, manufacturer, roles } = await networkHelpers.loadFixture(deployFixture);
        await registry.connect(admin).revokeRole(roles.MANUFACTURER_ROLE, manufacturer.address);
        await expect(registry.connect(manufacturer).registerBatch(...registerBatchArgs(await inputFor("LOT-X"))))
          .to.be.revertedWithCustomError(registry, "ParticipantUnauthorized")
          .withArgs(manufacturer.address, roles.MANUFACTURER_ROLE);
      });
    });

    describe("when the input is invalid", function () {
      it("test_registerBatch_invalidGtin_reverts", async function () {
        const { registry, manufacturer } = await networkHelpers.loadFixture(deployFixture);
        const valid = gtinFrom("0841234500010");
        for (const gtin of [0n, valid + 1n, valid - 1n, 100_000_000_000_000n, 18_446_744_073_709_551_615n]) {
          const input = { ...(await inputFor("LOT-X")), gtin };
          await expect(registry.connect(manufacturer).registerBatch(...registerBatchArgs(input)))
            .to.be.revertedWithCustomError(registry, "BatchInvalidGtin")
            .withArgs(gtin);
        }
      });

      it("test_registerBatch_invalidLot_reverts", async function () {
        const { registry, manufacturer } = await networkHelpers.loadFixture(deployFixture);
        for (const lot of ["", "A".repeat(21), "LOT 1", "LOT#1", "LOT@1", "LOT$", "LOT~", "lot\n", "LÖT", "[1]", "a{b}"]) {
          await expect(registry.connect(manufacturer).registerBatch(...registerBatchArgs(await inputFor(lot))))
            .to.be.revertedWithCustomError(registry, "BatchInvalidLot")
            .withArgs(lot);
        }
      });

      it("test_registerBatch_zeroQuantity_reverts", async function () {
        const { registry, manufacturer } = await networkHelpers.loadFixture(deployFixture);
        const input = { ...(await inputFor("LOT-X")), quantity: 0n };
        await expect(registry.connect(manufacturer).registerBatch(...registerBatchArgs(input)))
          .to.be.revertedWithCustomError(registry, "BatchInvalidQuantity")
          .withArgs(0n);
      });

      it("test_registerBatch_zeroOrFutureProductionDate_reverts", async function () {
        const { registry, manufacturer } = await networkHelpers.loadFixture(deployFixture);
        const future = BigInt(await networkHelpers.time.latest()) + 3_600n;
        for (const productionDate of [0n, future]) {
          const input = { ...(await inputFor("LOT-X")), productionDate };
          await expect(registry.connect(manufacturer).registerBatch(...registerBatchArgs(input)))
            .to.be.revertedWithCustomError(registry, "BatchInvalidProductionDate")
            .withArgs(productionDate);
        }
      });

      it("test_registerBatch_invalidOriginGln_reverts", async function () {
        const { registry, manufacturer } = await networkHelpers.loadFixture(deployFixture);
        for (const originGln of [0n, 10_000_000_000_000n]) {
          const input = { ...(await inputFor("LOT-X")), originGln };
          await expect(registry.connect(manufacturer).registerBatch(...registerBatchArgs(input)))
            .to.be.revertedWithCustomError(registry, "ParticipantInvalidGln")
            .withArgs(originGln);
        }
      });

      it("test_registerBatch_zeroSerialRoot_reverts", async function () {
        const { registry, manufacturer } = await networkHelpers.loadFixture(deployFixture);
        const input = { ...(await inputFor("LOT-X")), serialRoot: ZeroHash };
        await expect(registry.connect(manufacturer).registerBatch(...registerBatchArgs(input))).to.be.revertedWithCustomError(
          registry,
          "BatchInvalidSerialRoot",
        );
      });

      it("test_registerBatch_alreadyRegistered_reverts", async function () {
        const { registry, admin, manufacturer, roles, signers, batchId } = await networkHelpers.loadFixture(registeredFixture);
        const input = await inputFor("LOT-2025-001");
        await expect(registry.connect(manufacturer).registerBatch(...registerBatchArgs(input)))
          .to.be.revertedWithCustomError(registry, "BatchAlreadyRegistered")
          .withArgs(batchId);
        const rival = signers[10];
        await registry.connect(admin).onboardParticipant(rival.address, roles.MANUFACTURER_ROLE, 1n, "Rival");
        // A rival manufacturer does not hold the GTIN's company prefix at all (issue 11, item 2).
        await expect(registry.connect(rival).registerBatch(...registerBatchArgs(input)))
          .to.be.revertedWithCustomError(registry, "BatchGtinNotLicensed")
          .withArgs(input.gtin, rival.address, manufacturer.address);
      });
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe("proposeHandoff", function () {
    describe("when the custodian proposes to an active participant", function () {
      it("test_proposeHandoff_activeReceiver_emitsHandoffProposedAndMarksInTransit", async function () {
        const { registry, manufacturer, carrier, batchId } = await networkHelpers.loadFixture(registeredFixture);
        await expect(registry.connect(manufacturer).proposeHandoff(batchId, carrier.address, DEMO_PORT_GLN, BusinessStep.Shipping))
          .to.emit(registry, "HandoffProposed")
          .withArgs(batchId, manufacturer.address, carrier.address, DEMO_PORT_GLN, BusinessStep.Shipping);
        const state = await batchOf(registry, batchId);
        expect(state.status).to.equal(BatchStatus.InTransit);
        expect(state.pendingCustodian).to.equal(carrier.address);
        expect(state.custodian).to.equal(manufacturer.address);
      });

      it("test_proposeHandoff_everyEpcisStep_accepted", async function () {
        const { registry, manufacturer, carrier, batchId } = await networkHelpers.loadFixture(registeredFixture);
        for (const step of Object.values(BusinessStep)) {
          await expect(registry.connect(manufacturer).proposeHandoff(batchId, carrier.address, DEMO_PORT_GLN, step))
            .to.emit(registry, "HandoffProposed")
            .withArgs(batchId, manufacturer.address, carrier.address, DEMO_PORT_GLN, step);
          await registry.connect(manufacturer).cancelHandoff(batchId);
        }
      });
    });

    describe("when the handoff is not allowed", function () {
      it("test_proposeHandoff_unknownBatch_reverts", async function () {
        const { registry, manufacturer, carrier } = await networkHelpers.loadFixture(registeredFixture);
        await expect(registry.connect(manufacturer).proposeHandoff(unknownBatchId, carrier.address, DEMO_PORT_GLN, BusinessStep.Shipping))
          .to.be.revertedWithCustomError(registry, "BatchUnknown")
          .withArgs(unknownBatchId);
      });

      it("test_proposeHandoff_notCustodian_reverts", async function () {
        const { registry, manufacturer, carrier, warehouse, outsider, batchId } = await networkHelpers.loadFixture(deliveredFixture);
        for (const caller of [manufacturer, warehouse, outsider]) {
          await expect(
            registry
              .connect(caller)
              .proposeHandoff(
                batchId,
                warehouse.address === caller.address ? carrier.address : warehouse.address,
                DEMO_PORT_GLN,
                BusinessStep.Shipping,
              ),
          )
            .to.be.revertedWithCustomError(registry, "BatchNotCustodian")
            .withArgs(batchId, caller.address);
        }
      });

      it("test_proposeHandoff_suspendedCustodian_reverts", async function () {
        const { registry, admin, manufacturer, carrier, batchId } = await networkHelpers.loadFixture(registeredFixture);
        await registry.connect(admin).suspendParticipant(manufacturer.address, ZeroHash);
        await expect(registry.connect(manufacturer).proposeHandoff(batchId, carrier.address, DEMO_PORT_GLN, BusinessStep.Shipping))
          .to.be.revertedWithCustomError(registry, "ParticipantIsSuspended")
          .withArgs(manufacturer.address);
      });

      it("test_proposeHandoff_handoffPending_reverts", async function () {
        const { registry, manufacturer, warehouse, batchId } = await networkHelpers.loadFixture(inTransitFixture);
        await expect(registry.connect(manufacturer).proposeHandoff(batchId, warehouse.address, DEMO_PORT_GLN, BusinessStep.Shipping))
          .to.be.revertedWithCustomError(registry, "BatchInvalidStatus")
          .withArgs(batchId, BatchStatus.InTransit);
      });

      it("test_proposeHandoff_receiverNeverOnboarded_reverts", async function () {
        const { registry, manufacturer, outsider, batchId } = await networkHelpers.loadFixture(registeredFixture);
        for (const receiver of [outsider.address, ZeroAddress]) {
          await expect(registry.connect(manufacturer).proposeHandoff(batchId, receiver, DEMO_PORT_GLN, BusinessStep.Shipping))
            .to.be.revertedWithCustomError(registry, "ParticipantUnknown")
            .withArgs(receiver);
        }
      });

      it("test_proposeHandoff_toCustodianItself_reverts", async function () {
        const { registry, manufacturer, batchId } = await networkHelpers.loadFixture(registeredFixture);
        await expect(registry.connect(manufacturer).proposeHandoff(batchId, manufacturer.address, DEMO_PORT_GLN, BusinessStep.Shipping))
          .to.be.revertedWithCustomError(registry, "HandoffToSelf")
          .withArgs(batchId);
      });

      it("test_proposeHandoff_suspendedReceiver_reverts", async function () {
        const { registry, admin, manufacturer, carrier, batchId } = await networkHelpers.loadFixture(registeredFixture);
        await registry.connect(admin).suspendParticipant(carrier.address, ZeroHash);
        await expect(registry.connect(manufacturer).proposeHandoff(batchId, carrier.address, DEMO_PORT_GLN, BusinessStep.Shipping))
          .to.be.revertedWithCustomError(registry, "ParticipantIsSuspended")
          .withArgs(carrier.address);
      });

      it("test_proposeHandoff_invalidLocationGln_reverts", async function () {
        const { registry, manufacturer, carrier, batchId } = await networkHelpers.loadFixture(registeredFixture);
        await expect(registry.connect(manufacturer).proposeHandoff(batchId, carrier.address, 0n, BusinessStep.Shipping))
          .to.be.revertedWithCustomError(registry, "ParticipantInvalidGln")
          .withArgs(0n);
      });

      it("test_proposeHandoff_stepOutsideEpcisList_revertsWithoutReason", async function () {
        const { registry, manufacturer, carrier, batchId } = await networkHelpers.loadFixture(registeredFixture);
        await expect(
          registry.connect(manufacturer).proposeHandoff(batchId, carrier.address, DEMO_PORT_GLN, 12n),
        ).to.be.revertedWithoutReason(ethers);
      });
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe("acceptHandoff", function () {
    describe("when the receiver accepts", function () {
      it("test_acceptHandoff_byReceiver_emitsHandoffAcceptedAndDelivers", async function () {
        const { registry, manufacturer, carrier, batchId } = await networkHelpers.loadFixture(inTransitFixture);
        await expect(registry.connect(carrier).acceptHandoff(batchId, DEMO_PORT_GLN, BusinessStep.Receiving))
          .to.emit(registry, "HandoffAccepted")
          .withArgs(batchId, manufacturer.address, carrier.address, DEMO_PORT_GLN, BusinessStep.Receiving);
        const state = await batchOf(registry, batchId);
        expect(state.custodian).to.equal(carrier.address);
        expect(state.pendingCustodian).to.equal(ZeroAddress);
        expect(state.status).to.equal(BatchStatus.Delivered);
        expect(state.custodySince).to.equal(BigInt(await networkHelpers.time.latest()));
        expect(state.manufacturer).to.equal(manufacturer.address);
      });

      it("test_acceptHandoff_wholeChain_followsEveryCustodian", async function () {
        const { registry, manufacturer, carrier, customs, warehouse, retailer, batchId } =
          await networkHelpers.loadFixture(registeredFixture);
        const chain = [manufacturer, carrier, customs, warehouse, retailer];
        for (let i = 1; i < chain.length; i++) {
          await registry.connect(chain[i - 1]).proposeHandoff(batchId, chain[i].address, DEMO_PORT_GLN, BusinessStep.Shipping);
          await expect(registry.connect(chain[i]).acceptHandoff(batchId, DEMO_DC_GLN, BusinessStep.Receiving))
            .to.emit(registry, "HandoffAccepted")
            .withArgs(batchId, chain[i - 1].address, chain[i].address, DEMO_DC_GLN, BusinessStep.Receiving);
        }
        expect((await batchOf(registry, batchId)).custodian).to.equal(retailer.address);
      });
    });

    describe("when the acceptance is not allowed", function () {
      it("test_acceptHandoff_unknownBatch_reverts", async function () {
        const { registry, carrier } = await networkHelpers.loadFixture(inTransitFixture);
        await expect(registry.connect(carrier).acceptHandoff(unknownBatchId, DEMO_PORT_GLN, BusinessStep.Receiving))
          .to.be.revertedWithCustomError(registry, "BatchUnknown")
          .withArgs(unknownBatchId);
      });

      it("test_acceptHandoff_noPendingHandoff_reverts", async function () {
        const { registry, carrier, batchId } = await networkHelpers.loadFixture(registeredFixture);
        await expect(registry.connect(carrier).acceptHandoff(batchId, DEMO_PORT_GLN, BusinessStep.Receiving))
          .to.be.revertedWithCustomError(registry, "BatchInvalidStatus")
          .withArgs(batchId, BatchStatus.Registered);
      });

      it("test_acceptHandoff_notReceiver_reverts", async function () {
        const { registry, manufacturer, warehouse, outsider, batchId } = await networkHelpers.loadFixture(inTransitFixture);
        for (const caller of [manufacturer, warehouse, outsider]) {
          await expect(registry.connect(caller).acceptHandoff(batchId, DEMO_PORT_GLN, BusinessStep.Receiving))
            .to.be.revertedWithCustomError(registry, "HandoffNotReceiver")
            .withArgs(batchId, caller.address);
        }
      });

      it("test_acceptHandoff_receiverSuspendedAfterProposal_reverts", async function () {
        const { registry, admin, carrier, batchId } = await networkHelpers.loadFixture(inTransitFixture);
        await registry.connect(admin).suspendParticipant(carrier.address, ZeroHash);
        await expect(registry.connect(carrier).acceptHandoff(batchId, DEMO_PORT_GLN, BusinessStep.Receiving))
          .to.be.revertedWithCustomError(registry, "ParticipantIsSuspended")
          .withArgs(carrier.address);
      });

      it("test_acceptHandoff_invalidLocationGln_reverts", async function () {
        const { registry, carrier, batchId } = await networkHelpers.loadFixture(inTransitFixture);
        await expect(registry.connect(carrier).acceptHandoff(batchId, 10_000_000_000_000n, BusinessStep.Receiving))
          .to.be.revertedWithCustomError(registry, "ParticipantInvalidGln")
          .withArgs(10_000_000_000_000n);
      });
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe("rejectHandoff", function () {
    const reason = documentHash("seal broken on arrival");

    it("test_rejectHandoff_neverMovedBatch_emitsHandoffRejectedAndReturnsToRegistered", async function () {
      const { registry, manufacturer, carrier, batchId } = await networkHelpers.loadFixture(inTransitFixture);
      await expect(registry.connect(carrier).rejectHandoff(batchId, reason))
        .to.emit(registry, "HandoffRejected")
        .withArgs(batchId, manufacturer.address, carrier.address, reason);
      const state = await batchOf(registry, batchId);
      expect(state.status).to.equal(BatchStatus.Registered);
      expect(state.custodian).to.equal(manufacturer.address);
      expect(state.pendingCustodian).to.equal(ZeroAddress);
    });

    it("test_rejectHandoff_deliveredBatch_returnsToDelivered", async function () {
      const { registry, carrier, warehouse, batchId } = await networkHelpers.loadFixture(deliveredFixture);
      await registry.connect(carrier).proposeHandoff(batchId, warehouse.address, DEMO_DC_GLN, BusinessStep.Shipping);
      await expect(registry.connect(warehouse).rejectHandoff(batchId, reason))
        .to.emit(registry, "HandoffRejected")
        .withArgs(batchId, carrier.address, warehouse.address, reason);
      const state = await batchOf(registry, batchId);
      expect(state.status).to.equal(BatchStatus.Delivered);
      expect(state.custodian).to.equal(carrier.address);
    });

    it("test_rejectHandoff_unknownBatch_reverts", async function () {
      const { registry, carrier } = await networkHelpers.loadFixture(inTransitFixture);
      await expect(registry.connect(carrier).rejectHandoff(unknownBatchId, reason))
        .to.be.revertedWithCustomError(registry, "BatchUnknown")
        .withArgs(unknownBatchId);
    });

    it("test_rejectHandoff_noPendingHandoff_reverts", async function () {
      const { registry, carrier, batchId } = await networkHelpers.loadFixture(deliveredFixture);
      await expect(registry.connect(carrier).rejectHandoff(batchId, reason))
        .to.be.revertedWithCustomError(registry, "BatchInvalidStatus")
        .withArgs(batchId, BatchStatus.Delivered);
    });

    it("test_rejectHandoff_notReceiver_reverts", async function () {
      const { registry, manufacturer, outsider, batchId } = await networkHelpers.loadFixture(inTransitFixture);
      for (const caller of [manufacturer, outsider]) {
        await expect(registry.connect(caller).rejectHandoff(batchId, reason))
          .to.be.revertedWithCustomError(registry, "HandoffNotReceiver")
          .withArgs(batchId, caller.address);
      }
    });

    it("test_rejectHandoff_suspendedReceiver_reverts", async function () {
      const { registry, admin, carrier, batchId } = await networkHelpers.loadFixture(inTransitFixture);
      await registry.connect(admin).suspendParticipant(carrier.address, ZeroHash);
      await expect(registry.connect(carrier).rejectHandoff(batchId, reason))
        .to.be.revertedWithCustomError(registry, "ParticipantIsSuspended")
        .withArgs(carrier.address);
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe("cancelHandoff", function () {
    it("test_cancelHandoff_pendingHandoff_emitsHandoffCancelledAndRestoresStatus", async function () {
      const { registry, manufacturer, carrier, batchId } = await networkHelpers.loadFixture(inTransitFixture);
      await expect(registry.connect(manufacturer).cancelHandoff(batchId))
        .to.emit(registry, "HandoffCancelled")
        .withArgs(batchId, manufacturer.address, carrier.address);
      const state = await batchOf(registry, batchId);
      expect(state.status).to.equal(BatchStatus.Registered);
      expect(state.pendingCustodian).to.equal(ZeroAddress);
      // The receiver can no longer accept.
      await expect(registry.connect(carrier).acceptHandoff(batchId, DEMO_PORT_GLN, BusinessStep.Receiving))
        .to.be.revertedWithCustomError(registry, "BatchInvalidStatus")
        .withArgs(batchId, BatchStatus.Registered);
    });

    it("test_cancelHandoff_deliveredBatch_returnsToDelivered", async function () {
      const { registry, carrier, warehouse, batchId } = await networkHelpers.loadFixture(deliveredFixture);
      await registry.connect(carrier).proposeHandoff(batchId, warehouse.address, DEMO_DC_GLN, BusinessStep.Shipping);
      await expect(registry.connect(carrier).cancelHandoff(batchId))
        .to.emit(registry, "HandoffCancelled")
        .withArgs(batchId, carrier.address, warehouse.address);
      expect((await batchOf(registry, batchId)).status).to.equal(BatchStatus.Delivered);
    });

    it("test_cancelHandoff_unknownBatch_reverts", async function () {
      const { registry, manufacturer } = await networkHelpers.loadFixture(inTransitFixture);
      await expect(registry.connect(manufacturer).cancelHandoff(unknownBatchId))
        .to.be.revertedWithCustomError(registry, "BatchUnknown")
        .withArgs(unknownBatchId);
    });

    it("test_cancelHandoff_notCustodian_reverts", async function () {
      const { registry, carrier, outsider, batchId } = await networkHelpers.loadFixture(inTransitFixture);
      for (const caller of [carrier, outsider]) {
        await expect(registry.connect(caller).cancelHandoff(batchId))
          .to.be.revertedWithCustomError(registry, "BatchNotCustodian")
          .withArgs(batchId, caller.address);
      }
    });

    it("test_cancelHandoff_noPendingHandoff_reverts", async function () {
      const { registry, manufacturer, batchId } = await networkHelpers.loadFixture(registeredFixture);
      await expect(registry.connect(manufacturer).cancelHandoff(batchId))
        .to.be.revertedWithCustomError(registry, "BatchInvalidStatus")
        .withArgs(batchId, BatchStatus.Registered);
    });

    it("test_cancelHandoff_suspendedCustodian_reverts", async function () {
      const { registry, admin, manufacturer, batchId } = await networkHelpers.loadFixture(inTransitFixture);
      await registry.connect(admin).suspendParticipant(manufacturer.address, ZeroHash);
      await expect(registry.connect(manufacturer).cancelHandoff(batchId))
        .to.be.revertedWithCustomError(registry, "ParticipantIsSuspended")
        .withArgs(manufacturer.address);
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe("attestQuality", function () {
    const report = documentHash("lab report 2025-117: acidity 0.2%");

    describe("when an active inspector attests", function () {
      it("test_attestQuality_activeInspector_emitsQualityAttestedLatestWins", async function () {
        const { registry, inspector, batchId } = await networkHelpers.loadFixture(registeredFixture);
        await expect(registry.connect(inspector).attestQuality(batchId, true, report))
          .to.emit(registry, "QualityAttested")
          .withArgs(batchId, inspector.address, true, report);
        expect((await batchOf(registry, batchId)).inspection).to.equal(InspectionResult.Passed);

        await expect(registry.connect(inspector).attestQuality(batchId, false, report))
          .to.emit(registry, "QualityAttested")
          .withArgs(batchId, inspector.address, false, report);
        expect(await registry.batchStatus(batchId)).to.deep.equal([BatchStatus.Registered, InspectionResult.Failed]);
      });

      it("test_attestQuality_inTransitDeliveredOrRecalled_leavesCustodyAlone", async function () {
        const { registry, inspector, customs, carrier, batchId } = await networkHelpers.loadFixture(inTransitFixture);
        await registry.connect(inspector).attestQuality(batchId, true, report);
        expect(await batchOf(registry, batchId)).to.include({
          status: BatchStatus.InTransit,
          pendingCustodian: carrier.address,
          inspection: InspectionResult.Passed,
        });
        await registry.connect(carrier).acceptHandoff(batchId, DEMO_PORT_GLN, BusinessStep.Receiving);
        await registry.connect(inspector).attestQuality(batchId, false, report);
        expect(await batchOf(registry, batchId)).to.include({
          status: BatchStatus.Delivered,
          custodian: carrier.address,
          inspection: InspectionResult.Failed,
        });
        await registry.connect(customs).recallBatch(batchId, report);
        await expect(registry.connect(inspector).attestQuality(batchId, false, report)).to.emit(registry, "QualityAttested");
      });

      it("test_attestQuality_inspectorRoleOnTopOfAnother_accepted", async function () {
        const { registry, admin, roles, customs, batchId } = await networkHelpers.loadFixture(registeredFixture);
        await registry.connect(admin).grantRole(roles.INSPECTOR_ROLE, customs.address);
        await expect(registry.connect(customs).attestQuality(batchId, true, report))
          .to.emit(registry, "QualityAttested")
          .withArgs(batchId, customs.address, true, report);
      });

      it("test_attestQuality_laterHandoffs_keepInspection", async function () {
        const { registry, inspector, carrier, batchId } = await networkHelpers.loadFixture(inTransitFixture);
        await registry.connect(inspector).attestQuality(batchId, true, report);
        await registry.connect(carrier).acceptHandoff(batchId, DEMO_PORT_GLN, BusinessStep.Receiving);
        expect((await batchOf(registry, batchId)).inspection).to.equal(InspectionResult.Passed);
      });
    });

    describe("when the attestation is not allowed", function () {
      it("test_attestQuality_withoutInspectorRole_reverts", async function () {
        const { registry, manufacturer, outsider, roles, batchId } = await networkHelpers.loadFixture(registeredFixture);
        for (const caller of [manufacturer, outsider]) {
          await expect(registry.connect(caller).attestQuality(batchId, true, report))
            .to.be.revertedWithCustomError(registry, "ParticipantUnauthorized")
            .withArgs(caller.address, roles.INSPECTOR_ROLE);
        }
      });

      it("test_attestQuality_suspendedInspector_reverts", async function () {
        const { registry, admin, inspector, batchId } = await networkHelpers.loadFixture(registeredFixture);
        await registry.connect(admin).suspendParticipant(inspector.address, ZeroHash);
        await expect(registry.connect(inspector).attestQuality(batchId, true, report))
          .to.be.revertedWithCustomError(registry, "ParticipantIsSuspended")
          .withArgs(inspector.address);
      });

      it("test_attestQuality_unknownBatch_reverts", async function () {
        const { registry, inspector } = await networkHelpers.loadFixture(registeredFixture);
        await expect(registry.connect(inspector).attestQuality(unknownBatchId, true, report))
          .to.be.revertedWithCustomError(registry, "BatchUnknown")
          .withArgs(unknownBatchId);
      });

      it("test_attestQuality_splitParent_reverts", async function () {
        const { registry, manufacturer, inspector, batch, batchId } = await networkHelpers.loadFixture(registeredFixture);
        await registry.connect(manufacturer).splitBatch(batchId, [
          { lot: "LOT-2025-001/A", quantity: 60n, serialRoot: batch.tree.root },
          { lot: "LOT-2025-001/B", quantity: 40n, serialRoot: batch.tree.root },
        ]);
        await expect(registry.connect(inspector).attestQuality(batchId, true, report))
          .to.be.revertedWithCustomError(registry, "BatchInvalidStatus")
          .withArgs(batchId, BatchStatus.Split);
      });
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe("splitBatch", function () {
    /** The serial root registerBatch gives the fixture batch (its default serials). */
    const parentRoot = buildSerialTree(makeSerials(100, "LOT-2025-001-SN-")).root;
    /** Children of the registered fixture batch: `<suffix>` becomes the lot `LOT-2025-001/<suffix>`; a child
     * carries the parent's serial root. */
    function childrenOf(lots: [string, bigint][], parentLot = "LOT-2025-001", serialRoot = parentRoot) {
      return lots.map(([suffix, quantity]) => ({ lot: `${parentLot}/${suffix}`, quantity, serialRoot }));
    }

    describe("when the custodian splits into children adding up to the parent", function () {
      it("test_splitBatch_childrenAddUp_emitsBatchSplitAndMarksParentSplit", async function () {
        const { registry, manufacturer, batchId } = await networkHelpers.loadFixture(registeredFixture);
        const children = childrenOf([
          ["A", 70n],
          ["B", 20n],
          ["C", 10n],
        ]);
        const childIds = children.map((child) => batchIdOf(DEMO_GTIN, child.lot));

        expect(await registry.connect(manufacturer).splitBatch.staticCall(batchId, children)).to.deep.equal(childIds);
        const tx = registry.connect(manufacturer).splitBatch(batchId, children);
        for (const [i, child] of children.entries()) {
          await expect(tx)
            .to.emit(registry, "BatchSplit")
            .withArgs(batchId, childIds[i], manufacturer.address, child.lot, child.quantity, child.serialRoot);
        }
        const splitAt = BigInt(await networkHelpers.time.latest());
        for (const [i, child] of children.entries()) {
          expect(await batchOf(registry, childIds[i])).to.deep.equal({
            manufacturer: manufacturer.address,
            custodian: manufacturer.address,
            pendingCustodian: ZeroAddress,
            status: BatchStatus.Registered,
            inspection: InspectionResult.None,
            quantity: child.quantity,
            custodySince: splitAt,
            serialRoot: child.serialRoot,
          });
        }
        const parent = await batchOf(registry, batchId);
        expect(parent.status).to.equal(BatchStatus.Split);
        expect(parent.quantity).to.equal(100n);
      });

      it("test_splitBatch_childrenAddUp_custodianHoldsChildrenManufacturerKept", async function () {
        const { registry, manufacturer, carrier, warehouse, batchId } = await networkHelpers.loadFixture(deliveredFixture);
        const children = childrenOf([
          ["1", 50n],
          ["2", 50n],
        ]);
        await registry.connect(carrier).splitBatch(batchId, children);
        const childId = batchIdOf(DEMO_GTIN, children[0].lot);
        expect(await batchOf(registry, childId)).to.include({
          manufacturer: manufacturer.address,
          custodian: carrier.address,
          status: BatchStatus.Registered,
        });
        // Children move on independently; the parent never moves again.
        await expect(registry.connect(carrier).proposeHandoff(childId, warehouse.address, DEMO_DC_GLN, BusinessStep.Shipping)).to.emit(
          registry,
          "HandoffProposed",
        );
        await expect(registry.connect(carrier).proposeHandoff(batchId, warehouse.address, DEMO_DC_GLN, BusinessStep.Shipping))
          .to.be.revertedWithCustomError(registry, "BatchInvalidStatus")
          .withArgs(batchId, BatchStatus.Split);
        // The original manufacturer may still recall a child.
        await expect(registry.connect(manufacturer).recallBatch(childId, ZeroHash)).to.emit(registry, "BatchRecalled");
      });
    });

    describe("when the split is not allowed", function () {
      it("test_splitBatch_unknownBatch_reverts", async function () {
        const { registry, manufacturer } = await networkHelpers.loadFixture(registeredFixture);
        await expect(
          registry.connect(manufacturer).splitBatch(
            unknownBatchId,
            childrenOf([
              ["A", 1n],
              ["B", 1n],
            ]),
          ),
        )
          .to.be.revertedWithCustomError(registry, "BatchUnknown")
          .withArgs(unknownBatchId);
      });

      it("test_splitBatch_notCustodian_reverts", async function () {
        const { registry, manufacturer, outsider, batchId } = await networkHelpers.loadFixture(deliveredFixture);
        for (const caller of [manufacturer, outsider]) {
          await expect(
            registry.connect(caller).splitBatch(
              batchId,
              childrenOf([
                ["A", 50n],
                ["B", 50n],
              ]),
            ),
          )
            .to.be.revertedWithCustomError(registry, "BatchNotCustodian")
            .withArgs(batchId, caller.address);
        }
      });

      it("test_splitBatch_suspendedCustodian_reverts", async function () {
        const { registry, admin, manufacturer, batchId } = await networkHelpers.loadFixture(registeredFixture);
        await registry.connect(admin).suspendParticipant(manufacturer.address, ZeroHash);
        await expect(
          registry.connect(manufacturer).splitBatch(
            batchId,
            childrenOf([
              ["A", 50n],
              ["B", 50n],
            ]),
          ),
        )
          .to.be.revertedWithCustomError(registry, "ParticipantIsSuspended")
          .withArgs(manufacturer.address);
      });

      it("test_splitBatch_pendingHandoffRecalledOrSplit_reverts", async function () {
        const { registry, manufacturer, customs, batchId } = await networkHelpers.loadFixture(inTransitFixture);
        const children = childrenOf([
          ["A", 50n],
          ["B", 50n],
        ]);
        await expect(registry.connect(manufacturer).splitBatch(batchId, children))
          .to.be.revertedWithCustomError(registry, "BatchInvalidStatus")
          .withArgs(batchId, BatchStatus.InTransit);
        await registry.connect(manufacturer).cancelHandoff(batchId);
        await registry.connect(manufacturer).splitBatch(batchId, children);
        await expect(
          registry.connect(manufacturer).splitBatch(
            batchId,
            childrenOf([
              ["C", 50n],
              ["D", 50n],
            ]),
          ),
        )
          .to.be.revertedWithCustomError(registry, "BatchInvalidStatus")
          .withArgs(batchId, BatchStatus.Split);
        const childId = batchIdOf(DEMO_GTIN, "LOT-2025-001/A");
        await registry.connect(customs).recallBatch(childId, ZeroHash);
        await expect(
          registry.connect(manufacturer).splitBatch(
            childId,
            childrenOf(
              [
                ["1", 25n],
                ["2", 25n],
              ],
              "LOT-2025-001/A",
            ),
          ),
        )
          .to.be.revertedWithCustomError(registry, "BatchInvalidStatus")
          .withArgs(childId, BatchStatus.Recalled);
      });

      it("test_splitBatch_quantitiesMismatchOrOneChild_reverts", async function () {
        const { registry, manufacturer, batchId } = await networkHelpers.loadFixture(registeredFixture);
        const cases: [[string, bigint][], bigint][] = [
          [
            [
              ["A", 60n],
              ["B", 30n],
            ],
            90n,
          ],
          [
            [
              ["A", 60n],
              ["B", 50n],
            ],
            110n,
          ],
          [[["A", 100n]], 100n],
          [[], 0n],
          [
            [
              ["A", 18_446_744_073_709_551_615n],
              ["B", 18_446_744_073_709_551_615n],
            ],
            18_446_744_073_709_551_615n,
          ],
        ];
        for (const [lots, reported] of cases) {
          await expect(registry.connect(manufacturer).splitBatch(batchId, childrenOf(lots)))
            .to.be.revertedWithCustomError(registry, "SplitInvalid")
            .withArgs(batchId, 100n, reported, BigInt(lots.length));
        }
      });

      it("test_splitBatch_invalidChild_reverts", async function () {
        const { registry, manufacturer, batchId } = await networkHelpers.loadFixture(registeredFixture);
        await expect(
          registry.connect(manufacturer).splitBatch(
            batchId,
            childrenOf([
              ["A", 100n],
              ["B", 0n],
            ]),
          ),
        )
          .to.be.revertedWithCustomError(registry, "BatchInvalidQuantity")
          .withArgs(0n);
        for (const lot of ["", "LOT-2025-001/B B", "LOT-2025-001/" + "X".repeat(8)]) {
          await expect(
            registry
              .connect(manufacturer)
              .splitBatch(batchId, [...childrenOf([["A", 50n]]), { lot, quantity: 50n, serialRoot: parentRoot }]),
          )
            .to.be.revertedWithCustomError(registry, "BatchInvalidLot")
            .withArgs(lot);
        }
      });

      it("test_splitBatch_duplicateOrExistingChildLot_reverts", async function () {
        const { registry, manufacturer, batchId } = await networkHelpers.loadFixture(registeredFixture);
        const cases: [[string, bigint][], string][] = [
          [
            [
              ["A", 50n],
              ["A", 50n],
            ],
            batchIdOf(DEMO_GTIN, "LOT-2025-001/A"),
          ],
        ];
        for (const [lots, duplicate] of cases) {
          await expect(registry.connect(manufacturer).splitBatch(batchId, childrenOf(lots)))
            .to.be.revertedWithCustomError(registry, "BatchAlreadyRegistered")
            .withArgs(duplicate);
        }
      });
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe("recallBatch", function () {
    const reason = documentHash("recall notice 2025-04: undeclared allergen");

    describe("when the manufacturer or a regulator recalls", function () {
      it("test_recallBatch_byManufacturer_emitsBatchRecalled", async function () {
        const { registry, manufacturer, batchId } = await networkHelpers.loadFixture(registeredFixture);
        await expect(registry.connect(manufacturer).recallBatch(batchId, reason))
          .to.emit(registry, "BatchRecalled")
          .withArgs(batchId, manufacturer.address, reason);
        expect((await batchOf(registry, batchId)).status).to.equal(BatchStatus.Recalled);
      });

      it("test_recallBatch_byRegulatorAnywhere_dropsPendingHandoff", async function () {
        const { registry, customs, manufacturer, carrier, batchId } = await networkHelpers.loadFixture(inTransitFixture);
        await expect(registry.connect(customs).recallBatch(batchId, reason))
          .to.emit(registry, "BatchRecalled")
          .withArgs(batchId, customs.address, reason);
        const state = await batchOf(registry, batchId);
        expect(state).to.include({ status: BatchStatus.Recalled, custodian: manufacturer.address, pendingCustodian: ZeroAddress });
        await expect(registry.connect(carrier).acceptHandoff(batchId, DEMO_PORT_GLN, BusinessStep.Receiving))
          .to.be.revertedWithCustomError(registry, "BatchInvalidStatus")
          .withArgs(batchId, BatchStatus.Recalled);
      });

      it("test_recallBatch_recalled_freezesBatch", async function () {
        const { registry, customs, carrier, warehouse, batchId } = await networkHelpers.loadFixture(deliveredFixture);
        await registry.connect(customs).recallBatch(batchId, reason);
        await expect(registry.connect(carrier).proposeHandoff(batchId, warehouse.address, DEMO_DC_GLN, BusinessStep.Shipping))
          .to.be.revertedWithCustomError(registry, "BatchInvalidStatus")
          .withArgs(batchId, BatchStatus.Recalled);
        await expect(registry.connect(carrier).cancelHandoff(batchId))
          .to.be.revertedWithCustomError(registry, "BatchInvalidStatus")
          .withArgs(batchId, BatchStatus.Recalled);
        await expect(
          registry.connect(carrier).splitBatch(batchId, [
            { lot: "LOT-2025-001/1", quantity: 50n, serialRoot: documentHash("x1") },
            { lot: "LOT-2025-001/2", quantity: 50n, serialRoot: documentHash("x2") },
          ]),
        )
          .to.be.revertedWithCustomError(registry, "BatchInvalidStatus")
          .withArgs(batchId, BatchStatus.Recalled);
        expect((await batchOf(registry, batchId)).custodian).to.equal(carrier.address);
      });
    });

    describe("when the recall is not allowed", function () {
      it("test_recallBatch_unknownBatch_reverts", async function () {
        const { registry, customs } = await networkHelpers.loadFixture(registeredFixture);
        await expect(registry.connect(customs).recallBatch(unknownBatchId, reason))
          .to.be.revertedWithCustomError(registry, "BatchUnknown")
          .withArgs(unknownBatchId);
      });

      it("test_recallBatch_unauthorizedCaller_reverts", async function () {
        const { registry, admin, roles, carrier, inspector, outsider, signers, batchId } =
          await networkHelpers.loadFixture(deliveredFixture);
        const otherManufacturer = signers[10];
        await registry.connect(admin).onboardParticipant(otherManufacturer.address, roles.MANUFACTURER_ROLE, 1n, "Other");
        for (const caller of [carrier, inspector, outsider, otherManufacturer]) {
          await expect(registry.connect(caller).recallBatch(batchId, reason))
            .to.be.revertedWithCustomError(registry, "RecallUnauthorized")
            .withArgs(batchId, caller.address);
        }
      });

      it("test_recallBatch_regulatorRoleNeverOnboarded_reverts", async function () {
        const { registry, admin, roles, outsider, batchId } = await networkHelpers.loadFixture(registeredFixture);
        await registry.connect(admin).grantRole(roles.REGULATOR_ROLE, outsider.address);
        await expect(registry.connect(outsider).recallBatch(batchId, reason))
          .to.be.revertedWithCustomError(registry, "RecallUnauthorized")
          .withArgs(batchId, outsider.address);
      });

      it("test_recallBatch_suspendedRegulatorOrManufacturer_reverts", async function () {
        const { registry, admin, customs, manufacturer, batchId } = await networkHelpers.loadFixture(registeredFixture);
        for (const caller of [customs, manufacturer]) {
          await registry.connect(admin).suspendParticipant(caller.address, ZeroHash);
          await expect(registry.connect(caller).recallBatch(batchId, reason))
            .to.be.revertedWithCustomError(registry, "ParticipantIsSuspended")
            .withArgs(caller.address);
        }
      });

      it("test_recallBatch_revertsForABatchAlreadyRecalledItselfOrThroughAnAncestor", async function () {
        const { registry, manufacturer, customs, batchId } = await networkHelpers.loadFixture(registeredFixture);
        const other = await registerBatch(registry, manufacturer, { lot: "LOT-OTHER" });
        await registry.connect(customs).recallBatch(batchId, reason);
        await expect(registry.connect(customs).recallBatch(batchId, reason))
          .to.be.revertedWithCustomError(registry, "BatchInvalidStatus")
          .withArgs(batchId, BatchStatus.Recalled);
        await registry.connect(manufacturer).splitBatch(other.batchId, [
          { lot: "LOT-OTHER/1", quantity: 50n, serialRoot: other.tree.root },
          { lot: "LOT-OTHER/2", quantity: 50n, serialRoot: other.tree.root },
        ]);
        await registry.connect(manufacturer).recallBatch(other.batchId, reason);
        const child = batchIdOf(DEMO_GTIN, "LOT-OTHER/1");
        await expect(registry.connect(customs).recallBatch(child, reason))
          .to.be.revertedWithCustomError(registry, "BatchInvalidStatus")
          .withArgs(child, BatchStatus.Recalled);
      });
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe("custody observer", function () {
    it("test_setCustodyObserver_byAdmin_setsClearsAndEmits", async function () {
      const { registry, admin, signers } = await networkHelpers.loadFixture(deployFixture);
      const observer = signers[15];
      await expect(registry.connect(admin).setCustodyObserver(observer.address))
        .to.emit(registry, "CustodyObserverChanged")
        .withArgs(ZeroAddress, observer.address);
      expect(await registry.custodyObserver()).to.equal(observer.address);
      await expect(registry.connect(admin).setCustodyObserver(ZeroAddress))
        .to.emit(registry, "CustodyObserverChanged")
        .withArgs(observer.address, ZeroAddress);
    });

    it("test_setCustodyObserver_notAdmin_reverts", async function () {
      const { registry, manufacturer, roles } = await networkHelpers.loadFixture(deployFixture);
      await expect(registry.connect(manufacturer).setCustodyObserver(manufacturer.address))
        .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
        .withArgs(manufacturer.address, roles.DEFAULT_ADMIN_ROLE);
    });

    describe("when the observer watches a batch", function () {
      async function watchedFixture() {
        const context = await registeredFixture();
        const observer = context.signers[15];
        await context.registry.connect(context.admin).setCustodyObserver(observer.address);
        await context.registry.connect(observer).setBatchWatched(context.batchId, true);
        return { ...context, observer };
      }

      it("test_setBatchWatched_byObserver_togglesWatched", async function () {
        const { registry, observer, batchId } = await networkHelpers.loadFixture(watchedFixture);
        expect(await registry.isBatchWatched(batchId)).to.equal(true);
        await registry.connect(observer).setBatchWatched(batchId, false);
        expect(await registry.isBatchWatched(batchId)).to.equal(false);
      });

      it("test_setBatchWatched_throughProposals_keepsFlagAndOtherState", async function () {
        const { registry, manufacturer, carrier, batchId } = await networkHelpers.loadFixture(watchedFixture);
        await registry.connect(manufacturer).proposeHandoff(batchId, carrier.address, DEMO_PORT_GLN, BusinessStep.Shipping);
        await registry.connect(manufacturer).cancelHandoff(batchId);
        expect(await registry.isBatchWatched(batchId)).to.equal(true);
        expect(await batchOf(registry, batchId)).to.include({ status: BatchStatus.Registered, custodian: manufacturer.address });
      });

      it("test_acceptHandoff_watchedBatch_callsObserverWhoseFailureBlocks", async function () {
        // The observer here is an account without code: the call fails and the acceptance reverts
        // with it (a delivery must never go unrecorded). With no observer set, acceptance goes ahead.
        const { registry, admin, observer, manufacturer, carrier, batchId } = await networkHelpers.loadFixture(watchedFixture);
        await registry.connect(manufacturer).proposeHandoff(batchId, carrier.address, DEMO_PORT_GLN, BusinessStep.Shipping);
        await expect(registry.connect(carrier).acceptHandoff(batchId, DEMO_PORT_GLN, BusinessStep.Receiving)).to.be.revertedWithoutReason(
          ethers,
        );
        // The admin cannot take the observer away while it watches the batch; only the observer lets go.
        await expect(registry.connect(admin).setCustodyObserver(ZeroAddress))
          .to.be.revertedWithCustomError(registry, "CustodyObserverBusy")
          .withArgs(observer.address, 1n);
        await registry.connect(observer).setBatchWatched(batchId, false);
        await registry.connect(admin).setCustodyObserver(ZeroAddress);
        await expect(registry.connect(carrier).acceptHandoff(batchId, DEMO_PORT_GLN, BusinessStep.Receiving)).to.emit(
          registry,
          "HandoffAccepted",
        );
      });

      it("test_setBatchWatched_notObserver_reverts", async function () {
        const { registry, admin, manufacturer, batchId } = await networkHelpers.loadFixture(watchedFixture);
        for (const caller of [admin, manufacturer]) {
          await expect(registry.connect(caller).setBatchWatched(batchId, false))
            .to.be.revertedWithCustomError(registry, "CustodyObserverUnauthorized")
            .withArgs(caller.address);
        }
      });

      it("test_watchBatch_watchesAndReturnsTheCustodianPendingReceiverStatusAndReceiverRecord", async function () {
        const { registry, observer, manufacturer, carrier, batchId } = await networkHelpers.loadFixture(watchedFixture);
        await registry.connect(observer).setBatchWatched(batchId, false);
        expect(await registry.connect(observer).watchBatch.staticCall(batchId, carrier.address)).to.deep.equal([
          manufacturer.address,
          ZeroAddress,
          BatchStatus.Registered,
          2n,
          false,
        ]);
        await registry.connect(observer).watchBatch(batchId, carrier.address);
        expect(await registry.isBatchWatched(batchId)).to.equal(true);
        await registry.connect(manufacturer).proposeHandoff(batchId, carrier.address, DEMO_PORT_GLN, BusinessStep.Shipping);
        expect(await registry.connect(observer).watchBatch.staticCall(batchId, observer.address)).to.deep.equal([
          manufacturer.address,
          carrier.address,
          BatchStatus.InTransit,
          0n,
          false,
        ]);
        expect(await batchOf(registry, batchId)).to.include({ status: BatchStatus.InTransit, custodian: manufacturer.address });
      });

      it("test_watchBatch_notObserverOrUnknownBatch_reverts", async function () {
        const { registry, observer, manufacturer, batchId } = await networkHelpers.loadFixture(watchedFixture);
        await expect(registry.connect(manufacturer).watchBatch(batchId, manufacturer.address))
          .to.be.revertedWithCustomError(registry, "CustodyObserverUnauthorized")
          .withArgs(manufacturer.address);
        await expect(registry.connect(observer).watchBatch(unknownBatchId, manufacturer.address))
          .to.be.revertedWithCustomError(registry, "BatchUnknown")
          .withArgs(unknownBatchId);
      });

      it("test_setBatchWatched_unknownBatch_reverts", async function () {
        const { registry, observer } = await networkHelpers.loadFixture(watchedFixture);
        await expect(registry.connect(observer).setBatchWatched(unknownBatchId, true))
          .to.be.revertedWithCustomError(registry, "BatchUnknown")
          .withArgs(unknownBatchId);
      });
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe("views", function () {
    it("test_batch_unknownBatch_revertsAndStatusIsNone", async function () {
      const { registry } = await networkHelpers.loadFixture(registeredFixture);
      await expect(registry.batch(unknownBatchId)).to.be.revertedWithCustomError(registry, "BatchUnknown").withArgs(unknownBatchId);
      expect(await registry.batchStatus(unknownBatchId)).to.deep.equal([BatchStatus.None, InspectionResult.None]);
      expect(await registry.isBatchWatched(unknownBatchId)).to.equal(false);
    });

    it("test_batchIdOf_anyGtinLot_matchesOffChainHash", async function () {
      const { registry } = await networkHelpers.loadFixture(deployFixture);
      for (const [gtin, lot] of [
        [DEMO_GTIN, "LOT-1"],
        [96385074n, "A"],
        [gtinFrom("1084123450001"), "x".repeat(20)],
      ] as const) {
        expect(await registry.batchIdOf(gtin, lot)).to.equal(batchIdOf(gtin, lot));
      }
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe("verifyUnit", function () {
    async function serialsFixture() {
      const deployment = await deployProvena(ethers, { escrow: false });
      const serials = makeSerials(1_000, "08412345000102-");
      const batch = await registerBatch(deployment.registry, deployment.manufacturer, { lot: "LOT-SER", quantity: 1_000n, serials });
      const single = await registerBatch(deployment.registry, deployment.manufacturer, {
        lot: "LOT-ONE",
        quantity: 1n,
        serials: ["ONLY-ONE"],
      });
      return { ...deployment, batch, single };
    }

    it("test_verifyUnit_everyUnitWithProof_true", async function () {
      const { registry, batch } = await networkHelpers.loadFixture(serialsFixture);
      for (const serial of [batch.serials[0], batch.serials[1], batch.serials[499], batch.serials[998], batch.serials[999]]) {
        expect(await registry.verifyUnit(batch.batchId, serial, serialProof(batch.tree, serial))).to.equal(true);
      }
    });

    it("test_verifyUnit_oneUnitBatchEmptyProof_true", async function () {
      const { registry, single } = await networkHelpers.loadFixture(serialsFixture);
      expect(await registry.verifyUnit(single.batchId, "ONLY-ONE", [])).to.equal(true);
      expect(await registry.verifyUnit(single.batchId, "ONLY-TWO", [])).to.equal(false);
    });

    it("test_verifyUnit_wrongSerialProofOrBatch_false", async function () {
      const { registry, batch, single } = await networkHelpers.loadFixture(serialsFixture);
      const proof = serialProof(batch.tree, batch.serials[7]);
      expect(await registry.verifyUnit(batch.batchId, "08412345000102-999999", proof)).to.equal(false);
      expect(await registry.verifyUnit(batch.batchId, batch.serials[8], proof)).to.equal(false);
      expect(await registry.verifyUnit(single.batchId, batch.serials[7], proof)).to.equal(false);
      expect(await registry.verifyUnit(batch.batchId, batch.serials[7], [])).to.equal(false);
    });

    it("test_verifyUnit_splitChildren_verifyTheManufacturersUnitsOnly", async function () {
      const { registry, manufacturer, batch } = await networkHelpers.loadFixture(serialsFixture);
      await registry.connect(manufacturer).splitBatch(batch.batchId, [
        { lot: "LOT-SER/L", quantity: 600n, serialRoot: batch.tree.root },
        { lot: "LOT-SER/R", quantity: 400n, serialRoot: batch.tree.root },
      ]);
      const serial = batch.serials[650];
      const child = batchIdOf(DEMO_GTIN, "LOT-SER/R");
      expect(await registry.verifyUnit(batch.batchId, serial, serialProof(batch.tree, serial))).to.equal(true);
      expect(await registry.verifyUnit(child, serial, serialProof(batch.tree, serial))).to.equal(true);
      const fake = buildSerialTree([...batch.serials.slice(600), "FAKE-1"]);
      expect(await registry.verifyUnit(child, "FAKE-1", serialProof(fake, "FAKE-1"))).to.equal(false);
    });

    it("test_splitBatch_childWithAnotherSerialRoot_reverts", async function () {
      const { registry, manufacturer, batch } = await networkHelpers.loadFixture(serialsFixture);
      // A custodian holding the lot tries to slip counterfeit serials into a child.
      const fake = buildSerialTree([...batch.serials.slice(600), "FAKE-1"]);
      await expect(
        registry.connect(manufacturer).splitBatch(batch.batchId, [
          { lot: "LOT-SER/L", quantity: 600n, serialRoot: batch.tree.root },
          { lot: "LOT-SER/R", quantity: 400n, serialRoot: fake.root },
        ]),
      )
        .to.be.revertedWithCustomError(registry, "SplitSerialRootMismatch")
        .withArgs(batch.batchId, batch.tree.root, fake.root);
    });

    it("test_verifyUnit_unknownBatch_reverts", async function () {
      const { registry } = await networkHelpers.loadFixture(serialsFixture);
      await expect(registry.verifyUnit(unknownBatchId, "X", []))
        .to.be.revertedWithCustomError(registry, "BatchUnknown")
        .withArgs(unknownBatchId);
    });
  });
});
