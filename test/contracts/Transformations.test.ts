/**
 * Issue 12, transformation: a processor consumes input lots (whole; partial = split first) and records that they
 * produced its own new lots; lineage both ways; a recall of an input reaches the outputs once flagged.
 *
 * Who could abuse what (each is a test below):
 * - A processor consuming someone else's lot, or a lot nobody offered: the registry must show the caller as
 *   custodian with a handoff to the contract pending; a lot listed twice is refused the second time.
 * - A seller consuming a lot its escrow buyer waits for: refused while the custody observer watches it.
 * - Consuming a recalled lot: the recall drops the offer, so it is refused.
 * - A third party (or another processor) front-running an output id or attaching inputs to someone else's lot:
 *   only the output's manufacturer and custodian may, once, for a lot never handed off and not split off another.
 * - Laundering a lot already in circulation, or a recalled one, as a fresh output: refused (not Registered).
 * - Outsiders and suspended participants: cannot transform.
 * - Dust inputs: the event records each input's registry quantity; a consumed input never moves again.
 * - flagRecalledInput: permissionless, but only for an input of that output that the registry reports Recalled
 *   (itself or through a split ancestor), and only once; it propagates across generations one call at a time.
 * - Registry admin: suspending the contract stops recall propagation (documented power; it cannot move goods).
 */
import { expect } from "chai";
import { network } from "hardhat";
import { ZeroAddress, ZeroHash, keccak256, toUtf8Bytes } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import {
  DEMO_DC_GLN,
  DEMO_PORT_GLN,
  deployProvena,
  deployTransformations,
  type ProvenaDeployment,
} from "../../scripts/fixtures/provena-deployment.ts";
import { registerBatch } from "../helpers/batches.ts";
import { signForwardRequest } from "../helpers/forwarder.ts";
import { gtinFrom } from "../helpers/gs1.ts";
import type { Transformations } from "../../types/ethers-contracts/index.js";

const { ethers, networkHelpers } = await network.create();

/** IProvenanceRegistry.BusinessStep values used here. */
const Step = { Shipping: 0, Receiving: 1 } as const;
/** IProvenanceRegistry.BatchStatus values used here. */
const Status = { Registered: 1n, InTransit: 2n, Delivered: 3n, Split: 4n, Recalled: 5n } as const;

/** The processor's company prefix (8712345, 7 digits) and the GTIN of its product. */
const PROCESSOR_PREFIX = { prefix: 8712345n, length: 7 } as const;
const PROCESSOR_GTIN = gtinFrom("871234500001");
const RECIPE = keccak256(toUtf8Bytes("batch sheet of the blend"));
const RECALL_REASON = keccak256(toUtf8Bytes("salmonella"));

type Fixture = ProvenaDeployment & {
  transformations: Transformations;
  transformationsAddress: string;
  processor: HardhatEthersSigner;
  inputIds: string[];
};

describe("Transformations", function () {
  /** The manufacturer's three lots are with the processor (a second MANUFACTURER with its own prefix). */
  async function deployFixture(): Promise<Fixture> {
    const deployment = await deployProvena(ethers, { escrow: false });
    const { registry, admin, manufacturer, roles, signers } = deployment;
    const transformations = await deployTransformations(ethers, deployment);
    const processor = signers[10];
    await (await registry.connect(admin).onboardParticipant(processor.address, roles.MANUFACTURER_ROLE, DEMO_DC_GLN, "Processor")).wait();
    await (await registry.connect(admin).grantCompanyPrefix(processor.address, PROCESSOR_PREFIX.prefix, PROCESSOR_PREFIX.length)).wait();
    const inputIds = [];
    for (const [lot, quantity] of [
      ["LOT-IN-1", 40n],
      ["LOT-IN-2", 60n],
      ["LOT-IN-3", 5n],
    ] as const) {
      const { batchId } = await registerBatch(registry, manufacturer, { lot, quantity });
      await (await registry.connect(manufacturer).proposeHandoff(batchId, processor.address, DEMO_PORT_GLN, Step.Shipping)).wait();
      await (await registry.connect(processor).acceptHandoff(batchId, DEMO_DC_GLN, Step.Receiving)).wait();
      inputIds.push(batchId);
    }
    return { ...deployment, transformations, transformationsAddress: await transformations.getAddress(), processor, inputIds };
  }

  /** `custodian` offers `batchIds` to the transformations contract in the registry. */
  async function offer(fx: Fixture, custodian: HardhatEthersSigner, batchIds: string[]) {
    for (const batchId of batchIds) {
      await (await fx.registry.connect(custodian).proposeHandoff(batchId, fx.transformationsAddress, DEMO_DC_GLN, Step.Shipping)).wait();
    }
  }

  /** The processor registers an output lot of its own GTIN. */
  async function registerOutput(fx: Fixture, lot: string, quantity = 100n) {
    return registerBatch(fx.registry, fx.processor, { gtin: PROCESSOR_GTIN, lot, quantity });
  }

  /** The processor consumed inputs 0 and 1 into output BLEND-1 (transformation 1). */
  async function transformedFixture() {
    const fx = await deployFixture();
    const output = await registerOutput(fx, "BLEND-1");
    const inputs = fx.inputIds.slice(0, 2);
    await offer(fx, fx.processor, inputs);
    await (await fx.transformations.connect(fx.processor).transform(inputs, [output.batchId], DEMO_DC_GLN, RECIPE)).wait();
    return { ...fx, output, inputs };
  }

  describe("transform", function () {
    it("test_transform_consumesTheInputsForGoodAndRecordsLineageBothWays", async function () {
      const fx = await networkHelpers.loadFixture(deployFixture);
      const { transformations, registry, processor, transformationsAddress } = fx;
      const output = await registerOutput(fx, "BLEND-1");
      const inputs = fx.inputIds.slice(0, 2);
      await offer(fx, processor, inputs);
      await expect(transformations.connect(processor).transform(inputs, [output.batchId], DEMO_DC_GLN, RECIPE))
        .to.emit(transformations, "TransformationRecorded")
        .withArgs(1n, processor.address, DEMO_DC_GLN, inputs, [40n, 60n], [output.batchId], RECIPE);

      for (const inputId of inputs) {
        const [, custodian, pending, status] = await registry.batch(inputId);
        expect([custodian, pending, status]).to.deep.equal([transformationsAddress, ZeroAddress, Status.Delivered]);
        expect(await transformations.consumedIn(inputId)).to.equal(1n);
        // Consumed for good: the processor no longer holds it, and no code path of the contract hands it on.
        await expect(
          registry.connect(processor).proposeHandoff(inputId, fx.retailer.address, DEMO_DC_GLN, Step.Shipping),
        ).to.be.revertedWithCustomError(registry, "BatchNotCustodian");
      }
      expect(await transformations.producedBy(output.batchId)).to.equal(1n);
      expect(await transformations.consumedIn(fx.inputIds[2])).to.equal(0n);
      expect(await transformations.transformationCount()).to.equal(1n);
      // The output moves and sells as usual.
      await (await registry.connect(processor).proposeHandoff(output.batchId, fx.retailer.address, DEMO_DC_GLN, Step.Shipping)).wait();
    });

    it("test_transform_partialConsumption_isASplitFirstThenTheChildIsConsumed", async function () {
      const fx = await networkHelpers.loadFixture(deployFixture);
      const { transformations, registry, processor } = fx;
      const parent = fx.inputIds[1];
      const [, , , , , , , root] = await registry.batch(parent);
      const children = [
        { lot: "LOT-IN-2/A", quantity: 15n, serialRoot: root },
        { lot: "LOT-IN-2/B", quantity: 45n, serialRoot: root },
      ];
      await (await registry.connect(processor).splitBatch(parent, children)).wait();
      const [used, kept] = [await registry.batchIdOf(8412345000102n, "LOT-IN-2/A"), await registry.batchIdOf(8412345000102n, "LOT-IN-2/B")];
      const output = await registerOutput(fx, "BLEND-2");
      await offer(fx, processor, [used]);
      await expect(transformations.connect(processor).transform([used], [output.batchId], DEMO_DC_GLN, RECIPE))
        .to.emit(transformations, "TransformationRecorded")
        .withArgs(1n, processor.address, DEMO_DC_GLN, [used], [15n], [output.batchId], RECIPE);
      const [, keptCustodian, , keptStatus] = await registry.batch(kept);
      expect([keptCustodian, keptStatus]).to.deep.equal([processor.address, Status.Registered]);
    });

    it("test_transform_canProduceSeveralOutputs", async function () {
      const fx = await networkHelpers.loadFixture(deployFixture);
      const cream = await registerOutput(fx, "CREAM-1");
      const skim = await registerOutput(fx, "SKIM-1");
      await offer(fx, fx.processor, [fx.inputIds[0]]);
      await (
        await fx.transformations.connect(fx.processor).transform([fx.inputIds[0]], [cream.batchId, skim.batchId], DEMO_DC_GLN, RECIPE)
      ).wait();
      expect(await fx.transformations.producedBy(cream.batchId)).to.equal(1n);
      expect(await fx.transformations.producedBy(skim.batchId)).to.equal(1n);
    });

    it("test_transform_revertsForALotSomeoneElseHoldsOrNobodyOffered", async function () {
      const fx = await networkHelpers.loadFixture(deployFixture);
      const { transformations, registry, manufacturer, processor, transformationsAddress } = fx;
      const output = await registerOutput(fx, "BLEND-1");
      // The manufacturer's own lot, offered by the manufacturer: the processor cannot consume it.
      const { batchId: theirs } = await registerBatch(registry, manufacturer, { lot: "LOT-THEIRS", quantity: 10n });
      await offer(fx, manufacturer, [theirs]);
      await expect(transformations.connect(processor).transform([theirs], [output.batchId], DEMO_DC_GLN, RECIPE))
        .to.be.revertedWithCustomError(transformations, "InputNotOffered")
        .withArgs(theirs, manufacturer.address, transformationsAddress);
      // The processor's lot that it never offered.
      await expect(transformations.connect(processor).transform([fx.inputIds[0]], [output.batchId], DEMO_DC_GLN, RECIPE))
        .to.be.revertedWithCustomError(transformations, "InputNotOffered")
        .withArgs(fx.inputIds[0], processor.address, ZeroAddress);
    });

    it("test_transform_revertsForALotListedTwice", async function () {
      const fx = await networkHelpers.loadFixture(deployFixture);
      const output = await registerOutput(fx, "BLEND-1");
      await offer(fx, fx.processor, [fx.inputIds[0]]);
      await expect(
        fx.transformations.connect(fx.processor).transform([fx.inputIds[0], fx.inputIds[0]], [output.batchId], DEMO_DC_GLN, RECIPE),
      )
        .to.be.revertedWithCustomError(fx.transformations, "InputNotOffered")
        .withArgs(fx.inputIds[0], fx.transformationsAddress, ZeroAddress);
    });

    it("test_transform_revertsForALotAnEscrowBuyerWaitsFor", async function () {
      const fx = await networkHelpers.loadFixture(deployFixture);
      const { transformations, registry, admin, outsider, processor } = fx;
      // Stand-in custody observer (the escrow, when an order is open on the lot).
      await (await registry.connect(admin).setCustodyObserver(outsider.address)).wait();
      await (await registry.connect(outsider).setBatchWatched(fx.inputIds[0], true)).wait();
      const output = await registerOutput(fx, "BLEND-1");
      await offer(fx, processor, [fx.inputIds[0]]);
      await expect(transformations.connect(processor).transform([fx.inputIds[0]], [output.batchId], DEMO_DC_GLN, RECIPE))
        .to.be.revertedWithCustomError(transformations, "InputWatchedByObserver")
        .withArgs(fx.inputIds[0]);
    });

    it("test_transform_revertsForARecalledInput", async function () {
      const fx = await networkHelpers.loadFixture(deployFixture);
      const { transformations, registry, manufacturer, processor } = fx;
      const output = await registerOutput(fx, "BLEND-1");
      await offer(fx, processor, [fx.inputIds[0]]);
      await (await registry.connect(manufacturer).recallBatch(fx.inputIds[0], RECALL_REASON)).wait();
      await expect(transformations.connect(processor).transform([fx.inputIds[0]], [output.batchId], DEMO_DC_GLN, RECIPE))
        .to.be.revertedWithCustomError(transformations, "InputNotOffered")
        .withArgs(fx.inputIds[0], processor.address, ZeroAddress);
    });

    it("test_transform_revertsWhenAThirdPartyNamesSomeoneElsesOutput", async function () {
      const fx = await networkHelpers.loadFixture(deployFixture);
      const { transformations, registry, manufacturer, processor } = fx;
      const output = await registerOutput(fx, "BLEND-1");
      // The manufacturer front-runs: it offers its own lot and names the processor's output.
      const { batchId: theirs } = await registerBatch(registry, manufacturer, { lot: "LOT-THEIRS", quantity: 10n });
      await offer(fx, manufacturer, [theirs]);
      await expect(transformations.connect(manufacturer).transform([theirs], [output.batchId], DEMO_DC_GLN, RECIPE))
        .to.be.revertedWithCustomError(transformations, "OutputNotFresh")
        .withArgs(output.batchId, processor.address, processor.address, Status.Registered);
      // And the processor cannot claim the manufacturer's lot as its output.
      await offer(fx, processor, [fx.inputIds[0]]);
      const { batchId: manufacturersLot } = await registerBatch(registry, manufacturer, { lot: "LOT-M-OUT", quantity: 10n });
      await expect(transformations.connect(processor).transform([fx.inputIds[0]], [manufacturersLot], DEMO_DC_GLN, RECIPE))
        .to.be.revertedWithCustomError(transformations, "OutputNotFresh")
        .withArgs(manufacturersLot, manufacturer.address, manufacturer.address, Status.Registered);
    });

    it("test_transform_revertsForAnOutputInCirculationSplitOffRecalledOrAlreadyProduced", async function () {
      const fx = await transformedFixture();
      const { transformations, registry, processor, retailer } = fx;
      await offer(fx, processor, [fx.inputIds[2]]);
      const input = fx.inputIds[2];
      const attempt = (outputId: string) => transformations.connect(processor).transform([input], [outputId], DEMO_DC_GLN, RECIPE);

      await expect(attempt(fx.output.batchId))
        .to.be.revertedWithCustomError(transformations, "OutputAlreadyProduced")
        .withArgs(fx.output.batchId, 1n);

      const shipped = await registerOutput(fx, "BLEND-SHIPPED");
      await (await registry.connect(processor).proposeHandoff(shipped.batchId, retailer.address, DEMO_DC_GLN, Step.Shipping)).wait();
      await expect(attempt(shipped.batchId))
        .to.be.revertedWithCustomError(transformations, "OutputNotFresh")
        .withArgs(shipped.batchId, processor.address, processor.address, Status.InTransit);

      const recalled = await registerOutput(fx, "BLEND-RECALLED");
      await (await registry.connect(processor).recallBatch(recalled.batchId, RECALL_REASON)).wait();
      await expect(attempt(recalled.batchId))
        .to.be.revertedWithCustomError(transformations, "OutputNotFresh")
        .withArgs(recalled.batchId, processor.address, processor.address, Status.Recalled);

      const whole = await registerOutput(fx, "BLEND-WHOLE", 10n);
      const children = [
        { lot: "BLEND-WHOLE/1", quantity: 4n, serialRoot: whole.tree.root },
        { lot: "BLEND-WHOLE/2", quantity: 6n, serialRoot: whole.tree.root },
      ];
      await (await registry.connect(processor).splitBatch(whole.batchId, children)).wait();
      const child = await registry.batchIdOf(PROCESSOR_GTIN, "BLEND-WHOLE/1");
      await expect(attempt(child))
        .to.be.revertedWithCustomError(transformations, "OutputNotFresh")
        .withArgs(child, processor.address, processor.address, Status.Registered);
    });

    it("test_transform_revertsForOutsidersAndSuspendedParticipants", async function () {
      const fx = await networkHelpers.loadFixture(deployFixture);
      const { transformations, registry, admin, outsider, processor } = fx;
      const output = await registerOutput(fx, "BLEND-1");
      await offer(fx, processor, [fx.inputIds[0]]);
      await expect(transformations.connect(outsider).transform([fx.inputIds[0]], [output.batchId], DEMO_DC_GLN, RECIPE))
        .to.be.revertedWithCustomError(transformations, "TransformationParticipantInactive")
        .withArgs(outsider.address);
      await (await registry.connect(admin).suspendParticipant(processor.address, ZeroHash)).wait();
      await expect(transformations.connect(processor).transform([fx.inputIds[0]], [output.batchId], DEMO_DC_GLN, RECIPE))
        .to.be.revertedWithCustomError(transformations, "TransformationParticipantInactive")
        .withArgs(processor.address);
    });

    it("test_transform_revertsForEmptyOrOversizedListsAndABadGln", async function () {
      const fx = await networkHelpers.loadFixture(deployFixture);
      const { transformations, processor } = fx;
      const output = await registerOutput(fx, "BLEND-1");
      await expect(transformations.connect(processor).transform([], [output.batchId], DEMO_DC_GLN, RECIPE))
        .to.be.revertedWithCustomError(transformations, "TransformationInvalidSize")
        .withArgs(0n, 1n);
      await expect(transformations.connect(processor).transform([fx.inputIds[0]], [], DEMO_DC_GLN, RECIPE))
        .to.be.revertedWithCustomError(transformations, "TransformationInvalidSize")
        .withArgs(1n, 0n);
      const tooMany = Array.from({ length: 101 }, () => fx.inputIds[0]);
      await expect(transformations.connect(processor).transform(tooMany, [output.batchId], DEMO_DC_GLN, RECIPE))
        .to.be.revertedWithCustomError(transformations, "TransformationInvalidSize")
        .withArgs(101n, 1n);
      await expect(transformations.connect(processor).transform([fx.inputIds[0]], [output.batchId], 0n, RECIPE))
        .to.be.revertedWithCustomError(transformations, "ParticipantInvalidGln")
        .withArgs(0n);
    });

    it("test_transform_relayedThroughTheForwarder_makesTheSignerTheProcessor", async function () {
      const fx = await networkHelpers.loadFixture(deployFixture);
      const { transformations, forwarder, relayer, processor } = fx;
      const output = await registerOutput(fx, "BLEND-1");
      await offer(fx, processor, [fx.inputIds[0]]);
      const data = transformations.interface.encodeFunctionData("transform", [[fx.inputIds[0]], [output.batchId], DEMO_DC_GLN, RECIPE]);
      const request = await signForwardRequest({ forwarder, signer: processor, target: transformations, data });
      await expect(forwarder.connect(relayer).execute(request))
        .to.emit(transformations, "TransformationRecorded")
        .withArgs(1n, processor.address, DEMO_DC_GLN, [fx.inputIds[0]], [40n], [output.batchId], RECIPE);
    });

    it("test_transform_unitsOfTheOutputVerifyOnlyAgainstItsOwnRegistration", async function () {
      const fx = await transformedFixture();
      const { registry, output } = fx;
      const proof = output.tree.getProof(0);
      expect(await registry.verifyUnit(output.batchId, output.serials[0], proof)).to.equal(true);
      const inputRegistration = await registerBatch(registry, fx.manufacturer, { lot: "LOT-OTHER", quantity: 3n });
      const foreignProof = inputRegistration.tree.getProof(0);
      expect(await registry.verifyUnit(output.batchId, inputRegistration.serials[0], foreignProof)).to.equal(false);
    });
  });

  describe("flagRecalledInput", function () {
    it("test_flagRecalledInput_recallsTheOutputSoItNoLongerMoves", async function () {
      const fx = await transformedFixture();
      const { transformations, registry, manufacturer, processor, outsider, output, inputs, transformationsAddress } = fx;
      // Before the flag the output still moves: the documented gap.
      await (await registry.connect(manufacturer).recallBatch(inputs[0], RECALL_REASON)).wait();
      expect((await registry.batchStatus(output.batchId))[0]).to.equal(Status.Registered);

      await expect(transformations.connect(outsider).flagRecalledInput(output.batchId, inputs[0]))
        .to.emit(transformations, "RecalledInputFlagged")
        .withArgs(output.batchId, inputs[0], 1n, outsider.address)
        .and.to.emit(registry, "BatchRecalled")
        .withArgs(output.batchId, transformationsAddress, inputs[0]);
      expect((await registry.batchStatus(output.batchId))[0]).to.equal(Status.Recalled);
      await expect(registry.connect(processor).proposeHandoff(output.batchId, fx.retailer.address, DEMO_DC_GLN, Step.Shipping))
        .to.be.revertedWithCustomError(registry, "BatchInvalidStatus")
        .withArgs(output.batchId, Status.Recalled);

      await expect(transformations.connect(outsider).flagRecalledInput(output.batchId, inputs[0]))
        .to.be.revertedWithCustomError(transformations, "OutputAlreadyRecalled")
        .withArgs(output.batchId);
    });

    it("test_flagRecalledInput_followsARecalledSplitAncestorOfTheInput", async function () {
      const fx = await networkHelpers.loadFixture(deployFixture);
      const { transformations, registry, manufacturer, processor } = fx;
      const parent = fx.inputIds[1];
      const [, , , , , , , root] = await registry.batch(parent);
      const children = [
        { lot: "LOT-IN-2/A", quantity: 15n, serialRoot: root },
        { lot: "LOT-IN-2/B", quantity: 45n, serialRoot: root },
      ];
      await (await registry.connect(processor).splitBatch(parent, children)).wait();
      const used = await registry.batchIdOf(8412345000102n, "LOT-IN-2/A");
      const output = await registerOutput(fx, "BLEND-1");
      await offer(fx, processor, [used]);
      await (await transformations.connect(processor).transform([used], [output.batchId], DEMO_DC_GLN, RECIPE)).wait();
      await (await registry.connect(manufacturer).recallBatch(parent, RECALL_REASON)).wait();
      await (await transformations.flagRecalledInput(output.batchId, used)).wait();
      expect((await registry.batchStatus(output.batchId))[0]).to.equal(Status.Recalled);
    });

    it("test_flagRecalledInput_reachesTheOutputsSplitChildrenAndLaterGenerations", async function () {
      const fx = await transformedFixture();
      const { transformations, registry, manufacturer, processor, output, inputs } = fx;
      // The output is split; one child is consumed into a second-generation product.
      const children = [
        { lot: "BLEND-1/1", quantity: 30n, serialRoot: output.tree.root },
        { lot: "BLEND-1/2", quantity: 70n, serialRoot: output.tree.root },
      ];
      await (await registry.connect(processor).splitBatch(output.batchId, children)).wait();
      const [first, second] = [
        await registry.batchIdOf(PROCESSOR_GTIN, "BLEND-1/1"),
        await registry.batchIdOf(PROCESSOR_GTIN, "BLEND-1/2"),
      ];
      const product = await registerOutput(fx, "BAR-1");
      await offer(fx, processor, [first]);
      await (await transformations.connect(processor).transform([first], [product.batchId], DEMO_DC_GLN, RECIPE)).wait();

      await (await registry.connect(manufacturer).recallBatch(inputs[1], RECALL_REASON)).wait();
      // The second generation cannot be flagged before the first: its input does not read Recalled yet.
      await expect(transformations.flagRecalledInput(product.batchId, first))
        .to.be.revertedWithCustomError(transformations, "InputNotRecalled")
        .withArgs(first);
      await (await transformations.flagRecalledInput(output.batchId, inputs[1])).wait();
      expect((await registry.batchStatus(second))[0]).to.equal(Status.Recalled);
      await (await transformations.flagRecalledInput(product.batchId, first)).wait();
      expect((await registry.batchStatus(product.batchId))[0]).to.equal(Status.Recalled);
    });

    it("test_flagRecalledInput_revertsForAnInputOfAnotherOutputOrAnUnknownOutput", async function () {
      const fx = await transformedFixture();
      const { transformations, registry, manufacturer, processor, output } = fx;
      // A recalled lot consumed in another transformation cannot recall BLEND-1.
      const other = await registerOutput(fx, "BLEND-2");
      await offer(fx, processor, [fx.inputIds[2]]);
      await (await transformations.connect(processor).transform([fx.inputIds[2]], [other.batchId], DEMO_DC_GLN, RECIPE)).wait();
      await (await registry.connect(manufacturer).recallBatch(fx.inputIds[2], RECALL_REASON)).wait();
      await expect(transformations.flagRecalledInput(output.batchId, fx.inputIds[2]))
        .to.be.revertedWithCustomError(transformations, "InputNotOfOutput")
        .withArgs(output.batchId, fx.inputIds[2]);
      // A lot no transformation produced (consumedIn of an unconsumed lot is 0 too).
      const loose = await registerOutput(fx, "LOOSE");
      await expect(transformations.flagRecalledInput(loose.batchId, ZeroHash))
        .to.be.revertedWithCustomError(transformations, "InputNotOfOutput")
        .withArgs(loose.batchId, ZeroHash);
      expect((await registry.batchStatus(output.batchId))[0]).to.equal(Status.Registered);
    });

    it("test_flagRecalledInput_revertsWhileTheInputIsNotRecalled", async function () {
      const fx = await transformedFixture();
      await expect(fx.transformations.flagRecalledInput(fx.output.batchId, fx.inputs[0]))
        .to.be.revertedWithCustomError(fx.transformations, "InputNotRecalled")
        .withArgs(fx.inputs[0]);
    });

    it("test_flagRecalledInput_isStoppedWhenTheAdminSuspendsTheContract", async function () {
      const fx = await transformedFixture();
      const { transformations, registry, admin, manufacturer, output, inputs, transformationsAddress } = fx;
      await (await registry.connect(manufacturer).recallBatch(inputs[0], RECALL_REASON)).wait();
      await (await registry.connect(admin).suspendParticipant(transformationsAddress, ZeroHash)).wait();
      await expect(transformations.flagRecalledInput(output.batchId, inputs[0]))
        .to.be.revertedWithCustomError(registry, "ParticipantIsSuspended")
        .withArgs(transformationsAddress);
    });
  });
});
