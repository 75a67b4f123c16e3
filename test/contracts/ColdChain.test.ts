import { expect } from "chai";
import { network } from "hardhat";
import type { Wallet } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import {
  CHILLED,
  NO_HUMIDITY,
  READING_TYPES,
  type Conditions,
  type Reading,
  malleate,
  readingDomain,
  readingRun,
  signReading,
} from "../helpers/cold-chain.ts";
import { signForwardRequest } from "../helpers/forwarder.ts";

const { ethers, networkHelpers } = await network.create();
// eslint-disable-next-line @typescript-eslint/unbound-method -- network helpers are bound to their connection
const { loadFixture } = networkHelpers;
const time = networkHelpers.time;

const GLN = 9_506_000_000_001n;
const GTIN = 9_506_000_134_352n; // 0950600013435 + check digit 2, under the 9506000 prefix
const OTHER_GTIN = 9_506_000_134_369n;
const HOUR = 3_600n;

enum BusinessStep {
  Shipping,
  Receiving,
}

async function deployColdChainFixture() {
  const [admin, manufacturer, carrier, otherCarrier, buyer, stranger, anchorer, relayer] = await ethers.getSigners();
  const forwarder = await ethers.deployContract("ProvenaForwarder");
  const registry = await ethers.deployContract("ProvenanceRegistry", [await forwarder.getAddress(), admin.address, 0]);
  const coldChain = await ethers.deployContract("ColdChain", [await registry.getAddress(), await forwarder.getAddress(), admin.address, 0]);
  await coldChain.connect(admin).grantRole(await coldChain.ANCHORER_ROLE(), anchorer.address);

  const onboard = async (account: string, role: string, name: string) =>
    registry.connect(admin).onboardParticipant(account, role, GLN, name);
  await onboard(manufacturer.address, await registry.MANUFACTURER_ROLE(), "Alpine Dairy");
  await registry.connect(admin).grantCompanyPrefix(manufacturer.address, 9_506_000n, 7);
  await onboard(carrier.address, await registry.CARRIER_ROLE(), "Reefer Lines");
  await onboard(otherCarrier.address, await registry.CARRIER_ROLE(), "Other Freight");
  await onboard(buyer.address, await registry.RETAILER_ROLE(), "Corner Grocer");

  const now = BigInt(await time.latest());
  const registerBatch = async (lot: string, gtin: bigint = GTIN) => {
    await registry
      .connect(manufacturer)
      .registerBatch(gtin, lot, 100n, now - 86_400n, GLN, ethers.id(`doc ${lot}`), ethers.id(`serials ${lot}`));
    return registry.batchIdOf(gtin, lot);
  };
  const batchId = await registerBatch("MILK-1");
  const otherBatchId = await registerBatch("MILK-2");
  await coldChain.connect(manufacturer).setProductConditions(GTIN, CHILLED);

  const device = new ethers.Wallet(ethers.id("reefer sensor 1"), ethers.provider) as unknown as Wallet;
  const otherDevice = new ethers.Wallet(ethers.id("reefer sensor 2"), ethers.provider) as unknown as Wallet;
  await coldChain.connect(carrier).registerDevice(device.address, carrier.address);
  await coldChain.connect(otherCarrier).registerDevice(otherDevice.address, otherCarrier.address);

  const domain = readingDomain((await ethers.provider.getNetwork()).chainId, await coldChain.getAddress());
  return {
    admin,
    manufacturer,
    carrier,
    otherCarrier,
    buyer,
    stranger,
    anchorer,
    relayer,
    forwarder,
    registry,
    coldChain,
    batchId,
    otherBatchId,
    registerBatch,
    device,
    otherDevice,
    domain,
  };
}

type Fixture = Awaited<ReturnType<typeof deployColdChainFixture>>;

async function handTo(fx: Fixture, batchId: string, from: HardhatEthersSigner, to: HardhatEthersSigner) {
  await fx.registry.connect(from).proposeHandoff(batchId, to.address, GLN, BusinessStep.Shipping);
  await fx.registry.connect(to).acceptHandoff(batchId, GLN, BusinessStep.Receiving);
}

/** The batch shipped to the carrier and the carrier's device attached: the leg is open. */
async function openLegFixture() {
  const fx = await deployColdChainFixture();
  await handTo(fx, fx.batchId, fx.manufacturer, fx.carrier);
  const tx = await fx.coldChain.connect(fx.carrier).attachDevice(fx.device.address, fx.batchId);
  const receipt = await tx.wait();
  const attached = receipt!.logs.map((log) => fx.coldChain.interface.parseLog(log)).find((parsed) => parsed?.name === "DeviceAttached");
  const legId = attached!.args.legId as string;
  const attachedAt = attached!.args.attachedAt as bigint;
  await time.increase(6n * HOUR);
  return { ...fx, legId, attachedAt };
}

type LegFixture = Awaited<ReturnType<typeof openLegFixture>>;

async function signAll(fx: Fixture, readings: Reading[], device: Wallet = fx.device): Promise<string[]> {
  return Promise.all(readings.map((reading) => signReading(device, fx.domain, reading)));
}

/** A warm run on the fixture's leg: `count` readings a minute apart from `minutes` after attaching. */
function warmRun(fx: LegFixture, firstSequence: bigint, count: number, minutes = 0n, overrides: Partial<Reading> = {}): Reading[] {
  return readingRun(fx.device.address, fx.batchId, {
    firstSequence,
    count,
    fromTime: fx.attachedAt + 60n * minutes,
  }).map((reading) => ({ ...reading, ...overrides }));
}

async function submit(fx: LegFixture, readings: Reading[], from = fx.stranger) {
  return fx.coldChain.connect(from).submitExcursion(fx.legId, readings, await signAll(fx, readings));
}

describe("ColdChain", function () {
  describe("deployment", function () {
    it("test_constructor_wiresRegistryForwarderAdminAndDomain", async function () {
      const fx = await loadFixture(deployColdChainFixture);
      expect(await fx.coldChain.registry()).to.equal(await fx.registry.getAddress());
      expect(await fx.coldChain.trustedForwarder()).to.equal(await fx.forwarder.getAddress());
      expect(await fx.coldChain.owner()).to.equal(fx.admin.address);
      const domain = await fx.coldChain.eip712Domain();
      expect(domain.name).to.equal("Provena ColdChain");
      expect(domain.version).to.equal("1");
    });

    it("test_readingDigest_matchesTheTypedDataADeviceSigns", async function () {
      const fx = await loadFixture(deployColdChainFixture);
      const [reading] = readingRun(fx.device.address, fx.batchId, { firstSequence: 7n, count: 1, fromTime: 1_700_000_000n });
      const digest = ethers.TypedDataEncoder.hash(fx.domain, READING_TYPES, reading);
      expect(await fx.coldChain.readingDigest(reading)).to.equal(digest);
      expect(await fx.coldChain.hashReading(reading)).to.equal(ethers.TypedDataEncoder.hashStruct("Reading", READING_TYPES, reading));
    });
  });

  describe("registerDevice", function () {
    it("test_registerDevice_byTheCarrierOrTheAdmin", async function () {
      const fx = await loadFixture(deployColdChainFixture);
      expect(await fx.coldChain.device(fx.device.address)).to.deep.equal([fx.carrier.address, false, ethers.ZeroHash]);
      const adminRegistered = ethers.Wallet.createRandom().address;
      await expect(fx.coldChain.connect(fx.admin).registerDevice(adminRegistered, fx.carrier.address))
        .to.emit(fx.coldChain, "DeviceRegistered")
        .withArgs(adminRegistered, fx.carrier.address);
    });

    it("test_registerDevice_relayedForTheCarrier", async function () {
      const fx = await loadFixture(deployColdChainFixture);
      const newDevice = ethers.Wallet.createRandom().address;
      const data = fx.coldChain.interface.encodeFunctionData("registerDevice", [newDevice, fx.carrier.address]);
      const request = await signForwardRequest({ forwarder: fx.forwarder, signer: fx.carrier, target: fx.coldChain, data });
      await expect(fx.forwarder.connect(fx.relayer).execute(request))
        .to.emit(fx.coldChain, "DeviceRegistered")
        .withArgs(newDevice, fx.carrier.address);
    });

    it("test_registerDevice_zeroAddress_reverts", async function () {
      const fx = await loadFixture(deployColdChainFixture);
      await expect(fx.coldChain.connect(fx.carrier).registerDevice(ethers.ZeroAddress, fx.carrier.address)).to.be.revertedWithCustomError(
        fx.coldChain,
        "DeviceZeroAddress",
      );
    });

    it("test_registerDevice_forAnotherCarrier_reverts", async function () {
      const fx = await loadFixture(deployColdChainFixture);
      const newDevice = ethers.Wallet.createRandom().address;
      await expect(fx.coldChain.connect(fx.otherCarrier).registerDevice(newDevice, fx.carrier.address))
        .to.be.revertedWithCustomError(fx.coldChain, "DeviceUnauthorized")
        .withArgs(newDevice, fx.otherCarrier.address);
    });

    it("test_registerDevice_notAnActiveCarrier_reverts", async function () {
      const fx = await loadFixture(deployColdChainFixture);
      const newDevice = ethers.Wallet.createRandom().address;
      await expect(fx.coldChain.connect(fx.buyer).registerDevice(newDevice, fx.buyer.address))
        .to.be.revertedWithCustomError(fx.coldChain, "DeviceCarrierInactive")
        .withArgs(newDevice, fx.buyer.address);
      await fx.registry.connect(fx.admin).suspendParticipant(fx.carrier.address, ethers.ZeroHash);
      await expect(fx.coldChain.connect(fx.carrier).registerDevice(newDevice, fx.carrier.address))
        .to.be.revertedWithCustomError(fx.coldChain, "DeviceCarrierInactive")
        .withArgs(newDevice, fx.carrier.address);
      await expect(fx.coldChain.connect(fx.admin).registerDevice(newDevice, fx.carrier.address))
        .to.be.revertedWithCustomError(fx.coldChain, "DeviceCarrierInactive")
        .withArgs(newDevice, fx.carrier.address);
    });

    it("test_registerDevice_takenByAnotherCarrier_reverts", async function () {
      const fx = await loadFixture(deployColdChainFixture);
      await expect(fx.coldChain.connect(fx.otherCarrier).registerDevice(fx.device.address, fx.otherCarrier.address))
        .to.be.revertedWithCustomError(fx.coldChain, "DeviceAlreadyRegistered")
        .withArgs(fx.device.address, fx.carrier.address);
    });
  });

  describe("retireDevice", function () {
    it("test_retireDevice_attached_detachesThenRetiresForGood", async function () {
      const fx = await loadFixture(openLegFixture);
      const tx = fx.coldChain.connect(fx.carrier).retireDevice(fx.device.address);
      await expect(tx).to.emit(fx.coldChain, "DeviceDetached");
      await expect(tx).to.emit(fx.coldChain, "DeviceRetired").withArgs(fx.device.address, fx.carrier.address);
      expect(await fx.coldChain.device(fx.device.address)).to.deep.equal([fx.carrier.address, true, ethers.ZeroHash]);
      await expect(fx.coldChain.connect(fx.carrier).attachDevice(fx.device.address, fx.batchId))
        .to.be.revertedWithCustomError(fx.coldChain, "DeviceRetiredAlready")
        .withArgs(fx.device.address);
      await expect(fx.coldChain.connect(fx.admin).retireDevice(fx.device.address))
        .to.be.revertedWithCustomError(fx.coldChain, "DeviceRetiredAlready")
        .withArgs(fx.device.address);
    });

    it("test_retireDevice_byTheAdmin", async function () {
      const fx = await loadFixture(deployColdChainFixture);
      await expect(fx.coldChain.connect(fx.admin).retireDevice(fx.device.address))
        .to.emit(fx.coldChain, "DeviceRetired")
        .withArgs(fx.device.address, fx.carrier.address);
    });

    it("test_retireDevice_strangerOrUnknown_reverts", async function () {
      const fx = await loadFixture(deployColdChainFixture);
      await expect(fx.coldChain.connect(fx.stranger).retireDevice(fx.device.address))
        .to.be.revertedWithCustomError(fx.coldChain, "DeviceUnauthorized")
        .withArgs(fx.device.address, fx.stranger.address);
      await expect(fx.coldChain.connect(fx.otherCarrier).retireDevice(fx.device.address))
        .to.be.revertedWithCustomError(fx.coldChain, "DeviceUnauthorized")
        .withArgs(fx.device.address, fx.otherCarrier.address);
      await expect(fx.coldChain.connect(fx.carrier).retireDevice(fx.stranger.address))
        .to.be.revertedWithCustomError(fx.coldChain, "DeviceUnknown")
        .withArgs(fx.stranger.address);
    });

    it("test_retireDevice_keepsTheBreachItsLegRecorded", async function () {
      const fx = await loadFixture(openLegFixture);
      await submit(fx, warmRun(fx, 1n, 40));
      await fx.coldChain.connect(fx.carrier).retireDevice(fx.device.address);
      expect(await fx.coldChain.breachedSince(fx.batchId, fx.carrier.address, 0)).to.equal(true);
    });
  });

  describe("attachDevice", function () {
    it("test_attachDevice_startsALegAndFreezesTheProductConditions", async function () {
      const fx = await loadFixture(deployColdChainFixture);
      await handTo(fx, fx.batchId, fx.manufacturer, fx.carrier);
      const tx = fx.coldChain.connect(fx.carrier).attachDevice(fx.device.address, fx.batchId);
      await expect(tx).to.emit(fx.coldChain, "ConditionsFrozenFor").withArgs(fx.batchId, Object.values(CHILLED));
      await expect(tx).to.emit(fx.coldChain, "DeviceAttached");
      const [, , currentLeg] = await fx.coldChain.device(fx.device.address);
      const leg = await fx.coldChain.leg(currentLeg);
      expect(leg.legDevice).to.equal(fx.device.address);
      expect(leg.batchId).to.equal(fx.batchId);
      expect(leg.carrier).to.equal(fx.carrier.address);
      expect(leg.detachedAt).to.equal(0n);
      expect(await fx.coldChain.conditionsOf(fx.batchId)).to.deep.equal([Object.values(CHILLED), true, true]);

      // Neither the manufacturer's batch conditions nor new product conditions change a frozen batch.
      await expect(fx.coldChain.connect(fx.manufacturer).setBatchConditions(fx.batchId, CHILLED))
        .to.be.revertedWithCustomError(fx.coldChain, "ConditionsFrozen")
        .withArgs(fx.batchId);
      const lax: Conditions = { ...CHILLED, maxTemperature: 3_000 };
      await fx.coldChain.connect(fx.manufacturer).setProductConditions(GTIN, lax);
      expect(await fx.coldChain.conditionsOf(fx.batchId)).to.deep.equal([Object.values(CHILLED), true, true]);
      expect(await fx.coldChain.conditionsOf(fx.otherBatchId)).to.deep.equal([Object.values(lax), true, false]);
    });

    it("test_attachDevice_sameBatchAgain_givesADistinctLeg", async function () {
      const fx = await loadFixture(openLegFixture);
      await fx.coldChain.connect(fx.carrier).detachDevice(fx.device.address);
      await fx.coldChain.connect(fx.carrier).attachDevice(fx.device.address, fx.batchId);
      const [, , currentLeg] = await fx.coldChain.device(fx.device.address);
      expect(currentLeg).to.not.equal(fx.legId);
    });

    it("test_attachDevice_someoneElsesDevice_reverts", async function () {
      const fx = await loadFixture(deployColdChainFixture);
      await handTo(fx, fx.batchId, fx.manufacturer, fx.otherCarrier);
      await expect(fx.coldChain.connect(fx.otherCarrier).attachDevice(fx.device.address, fx.batchId))
        .to.be.revertedWithCustomError(fx.coldChain, "DeviceUnauthorized")
        .withArgs(fx.device.address, fx.otherCarrier.address);
      await expect(fx.coldChain.connect(fx.stranger).attachDevice(fx.device.address, fx.batchId))
        .to.be.revertedWithCustomError(fx.coldChain, "DeviceUnauthorized")
        .withArgs(fx.device.address, fx.stranger.address);
    });

    it("test_attachDevice_unknownDevice_reverts", async function () {
      const fx = await loadFixture(deployColdChainFixture);
      await expect(fx.coldChain.connect(fx.carrier).attachDevice(fx.stranger.address, fx.batchId))
        .to.be.revertedWithCustomError(fx.coldChain, "DeviceUnknown")
        .withArgs(fx.stranger.address);
    });

    it("test_attachDevice_notTheCustodian_reverts", async function () {
      const fx = await loadFixture(deployColdChainFixture);
      await expect(fx.coldChain.connect(fx.carrier).attachDevice(fx.device.address, fx.batchId))
        .to.be.revertedWithCustomError(fx.coldChain, "DeviceNotCustodian")
        .withArgs(fx.batchId, fx.carrier.address);
      await expect(
        fx.coldChain.connect(fx.carrier).attachDevice(fx.device.address, ethers.id("no such batch")),
      ).to.be.revertedWithCustomError(fx.registry, "BatchUnknown");
    });

    it("test_attachDevice_suspendedCarrier_reverts", async function () {
      const fx = await loadFixture(deployColdChainFixture);
      await handTo(fx, fx.batchId, fx.manufacturer, fx.carrier);
      await fx.registry.connect(fx.admin).suspendParticipant(fx.carrier.address, ethers.ZeroHash);
      await expect(fx.coldChain.connect(fx.carrier).attachDevice(fx.device.address, fx.batchId))
        .to.be.revertedWithCustomError(fx.coldChain, "DeviceCarrierInactive")
        .withArgs(fx.device.address, fx.carrier.address);
    });

    it("test_attachDevice_alreadyAttached_reverts", async function () {
      const fx = await loadFixture(openLegFixture);
      await expect(fx.coldChain.connect(fx.carrier).attachDevice(fx.device.address, fx.batchId))
        .to.be.revertedWithCustomError(fx.coldChain, "DeviceAlreadyAttached")
        .withArgs(fx.device.address, fx.legId);
    });

    it("test_attachDevice_noConditionsAtFirstLeg_staysWithout", async function () {
      const fx = await loadFixture(deployColdChainFixture);
      const bare = await fx.registerBatch("BARE-1", OTHER_GTIN);
      await handTo(fx, bare, fx.manufacturer, fx.carrier);
      await expect(fx.coldChain.connect(fx.carrier).attachDevice(fx.device.address, bare)).to.not.emit(fx.coldChain, "ConditionsFrozenFor");
      await expect(fx.coldChain.connect(fx.manufacturer).setBatchConditions(bare, CHILLED))
        .to.be.revertedWithCustomError(fx.coldChain, "ConditionsFrozen")
        .withArgs(bare);
      const [, , legId] = await fx.coldChain.device(fx.device.address);
      await time.increase(HOUR);
      const attachedAt = (await fx.coldChain.leg(legId)).attachedAt;
      const readings = readingRun(fx.device.address, bare, { firstSequence: 1n, count: 2, fromTime: attachedAt });
      await expect(fx.coldChain.submitExcursion(legId, readings, await signAll(fx, readings)))
        .to.be.revertedWithCustomError(fx.coldChain, "NoConditions")
        .withArgs(bare);
    });
  });

  describe("detachDevice", function () {
    it("test_detachDevice_byTheCarrier", async function () {
      const fx = await loadFixture(openLegFixture);
      const tx = await fx.coldChain.connect(fx.carrier).detachDevice(fx.device.address);
      const now = BigInt((await tx.getBlock())!.timestamp);
      await expect(tx).to.emit(fx.coldChain, "DeviceDetached").withArgs(fx.legId, fx.device.address, fx.batchId, now);
      expect((await fx.coldChain.leg(fx.legId)).detachedAt).to.equal(now);
      expect((await fx.coldChain.device(fx.device.address)).currentLeg).to.equal(ethers.ZeroHash);
    });

    it("test_detachDevice_strangerWhileTheCarrierHoldsTheBatch_reverts", async function () {
      const fx = await loadFixture(openLegFixture);
      await expect(fx.coldChain.connect(fx.stranger).detachDevice(fx.device.address))
        .to.be.revertedWithCustomError(fx.coldChain, "DeviceUnauthorized")
        .withArgs(fx.device.address, fx.stranger.address);
      await expect(fx.coldChain.connect(fx.otherCarrier).detachDevice(fx.device.address))
        .to.be.revertedWithCustomError(fx.coldChain, "DeviceUnauthorized")
        .withArgs(fx.device.address, fx.otherCarrier.address);
    });

    it("test_detachDevice_anyoneOnceHandedOver_endsTheLegAtTheHandoff", async function () {
      const fx = await loadFixture(openLegFixture);
      await handTo(fx, fx.batchId, fx.carrier, fx.buyer);
      const handedAt = BigInt(await time.latest());
      await time.increase(5n * HOUR);
      await expect(fx.coldChain.connect(fx.stranger).detachDevice(fx.device.address))
        .to.emit(fx.coldChain, "DeviceDetached")
        .withArgs(fx.legId, fx.device.address, fx.batchId, handedAt);
      // Readings after the handoff are no evidence against the carrier, however late the detach.
      const afterHandoff = readingRun(fx.device.address, fx.batchId, { firstSequence: 1n, count: 2, fromTime: handedAt + 1n });
      await expect(fx.coldChain.submitExcursion(fx.legId, afterHandoff, await signAll(fx, afterHandoff)))
        .to.be.revertedWithCustomError(fx.coldChain, "EvidenceOutsideLeg")
        .withArgs(fx.legId, 0);
    });

    it("test_detachDevice_notAttachedOrUnknown_reverts", async function () {
      const fx = await loadFixture(deployColdChainFixture);
      await expect(fx.coldChain.connect(fx.carrier).detachDevice(fx.device.address))
        .to.be.revertedWithCustomError(fx.coldChain, "DeviceNotAttached")
        .withArgs(fx.device.address);
      await expect(fx.coldChain.connect(fx.carrier).detachDevice(fx.stranger.address))
        .to.be.revertedWithCustomError(fx.coldChain, "DeviceUnknown")
        .withArgs(fx.stranger.address);
    });
  });

  describe("conditions", function () {
    it("test_setBatchConditions_byTheManufacturer_overridesTheProduct", async function () {
      const fx = await loadFixture(deployColdChainFixture);
      const frozen: Conditions = { ...CHILLED, minTemperature: -2_500, maxTemperature: -1_800 };
      await expect(fx.coldChain.connect(fx.manufacturer).setBatchConditions(fx.batchId, frozen))
        .to.emit(fx.coldChain, "BatchConditionsSet")
        .withArgs(fx.batchId, fx.manufacturer.address, Object.values(frozen));
      expect(await fx.coldChain.conditionsOf(fx.batchId)).to.deep.equal([Object.values(frozen), true, false]);
      expect(await fx.coldChain.conditionsOf(fx.otherBatchId)).to.deep.equal([Object.values(CHILLED), true, false]);
    });

    it("test_setBatchConditions_thirdParty_reverts", async function () {
      const fx = await loadFixture(deployColdChainFixture);
      for (const account of [fx.stranger, fx.carrier, fx.admin]) {
        await expect(fx.coldChain.connect(account).setBatchConditions(fx.batchId, CHILLED))
          .to.be.revertedWithCustomError(fx.coldChain, "ConditionsUnauthorized")
          .withArgs(fx.batchId, account.address);
      }
      await fx.registry.connect(fx.admin).suspendParticipant(fx.manufacturer.address, ethers.ZeroHash);
      await expect(fx.coldChain.connect(fx.manufacturer).setBatchConditions(fx.batchId, CHILLED))
        .to.be.revertedWithCustomError(fx.coldChain, "ConditionsUnauthorized")
        .withArgs(fx.batchId, fx.manufacturer.address);
    });

    it("test_setProductConditions_notThePrefixHolder_reverts", async function () {
      const fx = await loadFixture(deployColdChainFixture);
      for (const account of [fx.stranger, fx.carrier, fx.admin]) {
        await expect(fx.coldChain.connect(account).setProductConditions(GTIN, CHILLED))
          .to.be.revertedWithCustomError(fx.coldChain, "ProductConditionsUnauthorized")
          .withArgs(GTIN, account.address);
      }
      const unlicensed = 4_006_381_333_931n;
      await expect(fx.coldChain.connect(fx.manufacturer).setProductConditions(unlicensed, CHILLED))
        .to.be.revertedWithCustomError(fx.coldChain, "ProductConditionsUnauthorized")
        .withArgs(unlicensed, fx.manufacturer.address);
    });

    it("test_setConditions_invalidRanges_revert", async function () {
      const fx = await loadFixture(deployColdChainFixture);
      const invalid: Conditions[] = [
        { ...CHILLED, minTemperature: 800, maxTemperature: 800 },
        { ...CHILLED, minTemperature: 900, maxTemperature: 800 },
        { ...CHILLED, minHumidity: 6_000, maxHumidity: 5_000 },
        { ...CHILLED, maxHumidity: 10_001 },
      ];
      for (const conditions of invalid) {
        await expect(fx.coldChain.connect(fx.manufacturer).setProductConditions(GTIN, conditions)).to.be.revertedWithCustomError(
          fx.coldChain,
          "ConditionsInvalid",
        );
        await expect(fx.coldChain.connect(fx.manufacturer).setBatchConditions(fx.batchId, conditions)).to.be.revertedWithCustomError(
          fx.coldChain,
          "ConditionsInvalid",
        );
      }
    });
  });

  describe("anchorReadings", function () {
    const root = ethers.id("merkle root of readings 1..600");

    it("test_anchorReadings_byTheCarrierAndTheAnchorer_eachOnItsOwnCursor", async function () {
      const fx = await loadFixture(openLegFixture);
      const toTime = fx.attachedAt + 600n;
      await expect(fx.coldChain.connect(fx.anchorer).anchorReadings(fx.legId, root, 600, 1n, 600n, fx.attachedAt, toTime))
        .to.emit(fx.coldChain, "ReadingsAnchored")
        .withArgs(fx.legId, root, fx.anchorer.address, 600, 1n, 600n, fx.attachedAt, toTime);
      expect(await fx.coldChain.anchorCursor(fx.legId, fx.anchorer.address)).to.deep.equal([601n, toTime]);
      // The carrier anchoring a huge range does not block the anchorer's next window.
      await fx.coldChain.connect(fx.carrier).anchorReadings(fx.legId, root, 1, 1n, 2n ** 63n, fx.attachedAt, toTime);
      await fx.coldChain.connect(fx.anchorer).anchorReadings(fx.legId, root, 10, 601n, 610n, toTime, toTime + 10n);
    });

    it("test_anchorReadings_relayedForTheCarrier", async function () {
      const fx = await loadFixture(openLegFixture);
      const data = fx.coldChain.interface.encodeFunctionData("anchorReadings", [
        fx.legId,
        root,
        10,
        1n,
        10n,
        fx.attachedAt,
        fx.attachedAt + 600n,
      ]);
      const request = await signForwardRequest({ forwarder: fx.forwarder, signer: fx.carrier, target: fx.coldChain, data });
      await expect(fx.forwarder.connect(fx.relayer).execute(request))
        .to.emit(fx.coldChain, "ReadingsAnchored")
        .withArgs(fx.legId, root, fx.carrier.address, 10, 1n, 10n, fx.attachedAt, fx.attachedAt + 600n);
    });

    it("test_anchorReadings_thirdParty_reverts", async function () {
      const fx = await loadFixture(openLegFixture);
      for (const account of [fx.stranger, fx.otherCarrier, fx.manufacturer, fx.admin]) {
        await expect(fx.coldChain.connect(account).anchorReadings(fx.legId, root, 1, 1n, 1n, fx.attachedAt, fx.attachedAt))
          .to.be.revertedWithCustomError(fx.coldChain, "AnchorUnauthorized")
          .withArgs(fx.legId, account.address);
      }
    });

    it("test_anchorReadings_suspendedCarrier_reverts", async function () {
      const fx = await loadFixture(openLegFixture);
      await fx.registry.connect(fx.admin).suspendParticipant(fx.carrier.address, ethers.ZeroHash);
      await expect(fx.coldChain.connect(fx.carrier).anchorReadings(fx.legId, root, 1, 1n, 1n, fx.attachedAt, fx.attachedAt))
        .to.be.revertedWithCustomError(fx.coldChain, "DeviceCarrierInactive")
        .withArgs(fx.device.address, fx.carrier.address);
    });

    it("test_anchorReadings_unknownLeg_reverts", async function () {
      const fx = await loadFixture(openLegFixture);
      const unknown = ethers.id("no such leg");
      await expect(fx.coldChain.connect(fx.anchorer).anchorReadings(unknown, root, 1, 1n, 1n, 0n, 0n))
        .to.be.revertedWithCustomError(fx.coldChain, "LegUnknown")
        .withArgs(unknown);
    });

    it("test_anchorReadings_insaneRanges_revert", async function () {
      const fx = await loadFixture(openLegFixture);
      const start = fx.attachedAt;
      const now = BigInt(await time.latest());
      await fx.coldChain.connect(fx.anchorer).anchorReadings(fx.legId, root, 100, 1n, 100n, start, start + 100n);
      const insane: [string, number, bigint, bigint, bigint, bigint][] = [
        [ethers.ZeroHash, 1, 101n, 101n, start + 100n, start + 101n], // no root
        [root, 0, 101n, 101n, start + 100n, start + 101n], // no readings
        [root, 3, 101n, 102n, start + 100n, start + 101n], // more readings than sequences
        [root, 1, 102n, 101n, start + 100n, start + 101n], // backwards sequences
        [root, 1, 100n, 101n, start + 100n, start + 101n], // overlaps the previous anchor
        [root, 1, 50n, 60n, start + 100n, start + 101n], // before the previous anchor
        [root, 1, 101n, 101n, start + 99n, start + 101n], // earlier than the previous anchor's end
        [root, 1, 101n, 101n, start + 101n, start + 100n], // backwards times
        [root, 1, 101n, 101n, start + 101n, now + 3_600n], // in the future
        [root, 1, 2n ** 64n - 1n, 2n ** 64n - 1n, start + 101n, start + 101n], // the last sequence
      ];
      for (const [anchorRoot, count, first, last, from, to] of insane) {
        await expect(fx.coldChain.connect(fx.anchorer).anchorReadings(fx.legId, anchorRoot, count, first, last, from, to))
          .to.be.revertedWithCustomError(fx.coldChain, "AnchorInvalid")
          .withArgs(fx.legId);
      }
      await expect(
        fx.coldChain.connect(fx.carrier).anchorReadings(fx.legId, root, 1, 1n, 1n, start - 1n, start),
      ).to.be.revertedWithCustomError(fx.coldChain, "AnchorInvalid"); // before the leg
    });

    it("test_anchorReadings_gasDoesNotDependOnTheReadingCount", async function () {
      const fx = await loadFixture(openLegFixture);
      const few = await fx.coldChain
        .connect(fx.anchorer)
        .anchorReadings.estimateGas(fx.legId, root, 10, 1n, 10n, fx.attachedAt, fx.attachedAt + 10n);
      const many = await fx.coldChain
        .connect(fx.anchorer)
        .anchorReadings.estimateGas(fx.legId, root, 10_000, 1n, 10_000n, fx.attachedAt, fx.attachedAt + 10_000n);
      // Only the calldata of the larger numbers differs (a few non-zero bytes at 16 gas each).
      expect(many - few).to.be.lessThan(100n);
    });
  });

  describe("submitExcursion", function () {
    describe("when the evidence is valid", function () {
      it("test_submitExcursion_countsTheRunAndEstablishesTheBreachOnce", async function () {
        const fx = await loadFixture(openLegFixture);
        // 20 readings a minute apart: 19 minutes, within the 30 allowed.
        const first = warmRun(fx, 1n, 20);
        await expect(submit(fx, first))
          .to.emit(fx.coldChain, "ExcursionRecorded")
          .withArgs(fx.legId, 1n, 20n, first[0].timestamp, first[19].timestamp, 1_140n)
          .and.not.to.emit(fx.coldChain, "BreachEstablished");
        expect(await fx.coldChain.breachedSince(fx.batchId, fx.carrier.address, 0)).to.equal(false);

        // The next run shares reading 20: 12 more minutes, 31 in all.
        const second = warmRun(fx, 20n, 13, 19n);
        await expect(submit(fx, second))
          .to.emit(fx.coldChain, "BreachEstablished")
          .withArgs(fx.batchId, fx.legId, fx.carrier.address, second[12].timestamp, 1_860n);
        const leg = await fx.coldChain.leg(fx.legId);
        expect(leg.excursionSeconds).to.equal(1_860n);
        expect(leg.breached).to.equal(true);

        // Later evidence on the breached leg adds time but establishes nothing again.
        const third = warmRun(fx, 40n, 3, 60n);
        await expect(submit(fx, third)).to.not.emit(fx.coldChain, "BreachEstablished");
        const breachEnd = third[2].timestamp;
        expect(await fx.coldChain.breachedSince(fx.batchId, fx.carrier.address, breachEnd)).to.equal(true);
        expect(await fx.coldChain.breachedSince(fx.batchId, fx.carrier.address, breachEnd + 1n)).to.equal(false);
        expect(await fx.coldChain.breachedSince(fx.batchId, fx.otherCarrier.address, 0)).to.equal(false);
        expect(await fx.coldChain.breachedSince(fx.otherBatchId, fx.carrier.address, 0)).to.equal(false);
      });

      it("test_submitExcursion_humidityOutOfRangeCounts_noHumidityIsIgnored", async function () {
        const fx = await loadFixture(deployColdChainFixture);
        await fx.coldChain.connect(fx.manufacturer).setBatchConditions(fx.batchId, { ...CHILLED, minHumidity: 3_000, maxHumidity: 6_000 });
        await handTo(fx, fx.batchId, fx.manufacturer, fx.carrier);
        await fx.coldChain.connect(fx.carrier).attachDevice(fx.device.address, fx.batchId);
        const [, , legId] = await fx.coldChain.device(fx.device.address);
        const attachedAt = (await fx.coldChain.leg(legId)).attachedAt;
        await time.increase(HOUR);
        const lf = { ...fx, legId, attachedAt };
        const humid = warmRun(lf, 1n, 3, 0n, { temperature: 500, humidity: 9_000 });
        await expect(submit(lf, humid)).to.emit(fx.coldChain, "ExcursionRecorded");
        const noHumidity = warmRun(lf, 10n, 3, 10n, { temperature: 500, humidity: NO_HUMIDITY });
        await expect(submit(lf, noHumidity)).to.be.revertedWithCustomError(fx.coldChain, "EvidenceInRange").withArgs(0);
        const implausible = warmRun(lf, 10n, 3, 10n, { temperature: 500, humidity: 10_001 });
        await expect(submit(lf, implausible)).to.be.revertedWithCustomError(fx.coldChain, "EvidenceInRange").withArgs(0);
      });

      it("test_submitExcursion_piecesInAnyOrder_countTheSameAsTheWholeRun", async function () {
        const fx = await loadFixture(openLegFixture);
        const whole = warmRun(fx, 1n, 31); // 30 minutes
        // A later piece first, then dust-free pieces around it: every interval counts exactly once.
        await submit(fx, whole.slice(20, 31));
        await submit(fx, whole.slice(0, 5));
        await submit(fx, whole.slice(4, 21));
        expect((await fx.coldChain.leg(fx.legId)).excursionSeconds).to.equal(1_800n);
        expect(await fx.coldChain.excursionCounted(fx.legId, 30n)).to.equal(true);
        expect(await fx.coldChain.excursionCounted(fx.legId, 31n)).to.equal(false);
      });

      it("test_submitExcursion_relayedOrDirect_byAnyone", async function () {
        const fx = await loadFixture(openLegFixture);
        const readings = warmRun(fx, 1n, 2);
        const data = fx.coldChain.interface.encodeFunctionData("submitExcursion", [fx.legId, readings, await signAll(fx, readings)]);
        const request = await signForwardRequest({ forwarder: fx.forwarder, signer: fx.buyer, target: fx.coldChain, data });
        await expect(fx.forwarder.connect(fx.relayer).execute(request)).to.emit(fx.coldChain, "ExcursionRecorded");
      });

      it("test_submitExcursion_spansSequenceWords", async function () {
        const fx = await loadFixture(openLegFixture);
        await submit(
          fx,
          warmRun(fx, 250n, 300, 0n, {}).map((reading, index) => ({ ...reading, timestamp: fx.attachedAt + BigInt(index) })),
        );
        expect((await fx.coldChain.leg(fx.legId)).excursionSeconds).to.equal(299n);
        await expect(
          submit(
            fx,
            warmRun(fx, 511n, 3, 0n).map((r, i) => ({ ...r, timestamp: fx.attachedAt + 400n + BigInt(i) })),
          ),
        )
          .to.be.revertedWithCustomError(fx.coldChain, "EvidenceAlreadyCounted")
          .withArgs(fx.legId, 511n);
        await expect(
          submit(
            fx,
            warmRun(fx, 548n, 3, 0n).map((r, i) => ({ ...r, timestamp: fx.attachedAt + 400n + BigInt(i) })),
          ),
        )
          .to.be.revertedWithCustomError(fx.coldChain, "EvidenceAlreadyCounted")
          .withArgs(fx.legId, 548n);
      });
    });

    describe("when the evidence is malformed", function () {
      it("test_submitExcursion_emptyMismatchedOrDust_reverts", async function () {
        const fx = await loadFixture(openLegFixture);
        await expect(fx.coldChain.submitExcursion(fx.legId, [], [])).to.be.revertedWithCustomError(fx.coldChain, "EvidenceEmpty");
        const two = warmRun(fx, 1n, 2);
        const signatures = await signAll(fx, two);
        await expect(fx.coldChain.submitExcursion(fx.legId, two, signatures.slice(0, 1)))
          .to.be.revertedWithCustomError(fx.coldChain, "EvidenceLengthMismatch")
          .withArgs(2, 1);
        await expect(fx.coldChain.submitExcursion(fx.legId, two.slice(0, 1), signatures.slice(0, 1))).to.be.revertedWithCustomError(
          fx.coldChain,
          "EvidenceTooShort",
        );
      });

      it("test_submitExcursion_unknownLeg_reverts", async function () {
        const fx = await loadFixture(openLegFixture);
        const unknown = ethers.id("no such leg");
        const two = warmRun(fx, 1n, 2);
        await expect(fx.coldChain.submitExcursion(unknown, two, await signAll(fx, two)))
          .to.be.revertedWithCustomError(fx.coldChain, "LegUnknown")
          .withArgs(unknown);
      });

      it("test_submitExcursion_suspendedCarrier_isNoEvidence", async function () {
        const fx = await loadFixture(openLegFixture);
        await fx.registry.connect(fx.admin).suspendParticipant(fx.carrier.address, ethers.ZeroHash);
        await expect(submit(fx, warmRun(fx, 1n, 40)))
          .to.be.revertedWithCustomError(fx.coldChain, "DeviceCarrierInactive")
          .withArgs(fx.device.address, fx.carrier.address);
      });

      it("test_submitExcursion_anotherLegsDeviceOrBatch_reverts", async function () {
        const fx = await loadFixture(openLegFixture);
        const otherBatch = warmRun(fx, 1n, 2, 0n, { batchId: fx.otherBatchId });
        await expect(submit(fx, otherBatch)).to.be.revertedWithCustomError(fx.coldChain, "EvidenceNotOneLeg").withArgs(fx.legId, 0);
        const mixed = warmRun(fx, 1n, 3);
        mixed[2] = { ...mixed[2], device: fx.otherDevice.address };
        const signatures = await signAll(fx, mixed);
        signatures[2] = await signReading(fx.otherDevice, fx.domain, mixed[2]);
        await expect(fx.coldChain.submitExcursion(fx.legId, mixed, signatures))
          .to.be.revertedWithCustomError(fx.coldChain, "EvidenceNotOneLeg")
          .withArgs(fx.legId, 2);
      });

      it("test_submitExcursion_gappedOrReordered_reverts", async function () {
        const fx = await loadFixture(openLegFixture);
        const run = warmRun(fx, 1n, 4);
        const gapped = [run[0], run[1], run[3]];
        await expect(submit(fx, gapped)).to.be.revertedWithCustomError(fx.coldChain, "EvidenceNotConsecutive").withArgs(2);
        const reordered = [run[1], run[0], run[2]];
        await expect(submit(fx, reordered)).to.be.revertedWithCustomError(fx.coldChain, "EvidenceNotConsecutive").withArgs(1);
        // Consecutive sequences whose times run backwards (a stretched run).
        const backwards = run.map((reading, index) => ({ ...reading, timestamp: fx.attachedAt + 600n - BigInt(index) }));
        await expect(submit(fx, backwards)).to.be.revertedWithCustomError(fx.coldChain, "EvidenceNotConsecutive").withArgs(1);
      });

      it("test_submitExcursion_outsideTheLegsTime_reverts", async function () {
        const fx = await loadFixture(openLegFixture);
        const before = warmRun(fx, 1n, 2).map((reading) => ({ ...reading, timestamp: reading.timestamp - 61n }));
        await expect(submit(fx, before)).to.be.revertedWithCustomError(fx.coldChain, "EvidenceOutsideLeg").withArgs(fx.legId, 0);
        const now = BigInt(await time.latest());
        const future = readingRun(fx.device.address, fx.batchId, { firstSequence: 1n, count: 2, fromTime: now - 30n });
        await expect(submit(fx, future)).to.be.revertedWithCustomError(fx.coldChain, "EvidenceOutsideLeg").withArgs(fx.legId, 1);

        await fx.coldChain.connect(fx.carrier).detachDevice(fx.device.address);
        const detachedAt = (await fx.coldChain.leg(fx.legId)).detachedAt;
        await time.increase(HOUR);
        const afterDetach = readingRun(fx.device.address, fx.batchId, { firstSequence: 1n, count: 2, fromTime: detachedAt - 30n });
        await expect(submit(fx, afterDetach)).to.be.revertedWithCustomError(fx.coldChain, "EvidenceOutsideLeg").withArgs(fx.legId, 1);
      });

      it("test_submitExcursion_aReadingInRange_reverts", async function () {
        const fx = await loadFixture(openLegFixture);
        const run = warmRun(fx, 1n, 3);
        run[1] = { ...run[1], temperature: 800 }; // exactly the upper bound: in range
        await expect(submit(fx, run)).to.be.revertedWithCustomError(fx.coldChain, "EvidenceInRange").withArgs(1);
        const cold = warmRun(fx, 1n, 2, 0n, { temperature: 199 });
        await expect(submit(fx, cold)).to.emit(fx.coldChain, "ExcursionRecorded");
      });
    });

    describe("when the signatures are not the device's", function () {
      it("test_submitExcursion_forgedByAnotherKey_reverts", async function () {
        const fx = await loadFixture(openLegFixture);
        const run = warmRun(fx, 1n, 3);
        const signatures = await signAll(fx, run);
        signatures[1] = await signReading(fx.otherDevice, fx.domain, run[1]);
        await expect(fx.coldChain.submitExcursion(fx.legId, run, signatures))
          .to.be.revertedWithCustomError(fx.coldChain, "EvidenceBadSignature")
          .withArgs(1);
      });

      it("test_submitExcursion_alteredReading_reverts", async function () {
        const fx = await loadFixture(openLegFixture);
        // The device signed an in-range reading; the submitter claims it was warm.
        const signed = warmRun(fx, 1n, 2, 0n, { temperature: 500 });
        const signatures = await signAll(fx, signed);
        const altered = signed.map((reading) => ({ ...reading, temperature: 1_500 }));
        await expect(fx.coldChain.submitExcursion(fx.legId, altered, signatures))
          .to.be.revertedWithCustomError(fx.coldChain, "EvidenceBadSignature")
          .withArgs(0);
      });

      it("test_submitExcursion_anotherChainOrContract_reverts", async function () {
        const fx = await loadFixture(openLegFixture);
        const run = warmRun(fx, 1n, 2);
        const elsewhere = { ...fx.domain, verifyingContract: fx.stranger.address };
        const signatures = await Promise.all(run.map((reading) => signReading(fx.device, elsewhere, reading)));
        await expect(fx.coldChain.submitExcursion(fx.legId, run, signatures))
          .to.be.revertedWithCustomError(fx.coldChain, "EvidenceBadSignature")
          .withArgs(0);
      });

      it("test_submitExcursion_malleableOrShortSignature_reverts", async function () {
        const fx = await loadFixture(openLegFixture);
        const run = warmRun(fx, 1n, 2);
        const signatures = await signAll(fx, run);
        await expect(fx.coldChain.submitExcursion(fx.legId, run, [signatures[0], malleate(signatures[1])]))
          .to.be.revertedWithCustomError(fx.coldChain, "EvidenceBadSignature")
          .withArgs(1);
        await expect(fx.coldChain.submitExcursion(fx.legId, run, [signatures[0], signatures[1].slice(0, 130)]))
          .to.be.revertedWithCustomError(fx.coldChain, "EvidenceBadSignature")
          .withArgs(1);
      });
    });

    describe("when the evidence was counted already", function () {
      it("test_submitExcursion_replayedOrOverlapping_reverts", async function () {
        const fx = await loadFixture(openLegFixture);
        const run = warmRun(fx, 1n, 10);
        await submit(fx, run);
        await expect(submit(fx, run)).to.be.revertedWithCustomError(fx.coldChain, "EvidenceAlreadyCounted").withArgs(fx.legId, 1n);
        await expect(submit(fx, warmRun(fx, 9n, 3, 8n)))
          .to.be.revertedWithCustomError(fx.coldChain, "EvidenceAlreadyCounted")
          .withArgs(fx.legId, 9n);
        await expect(submit(fx, run.slice(4, 6)))
          .to.be.revertedWithCustomError(fx.coldChain, "EvidenceAlreadyCounted")
          .withArgs(fx.legId, 5n);
        expect((await fx.coldChain.leg(fx.legId)).excursionSeconds).to.equal(540n);
      });

      it("test_submitExcursion_theSameReadingsOnAnotherLeg_reverts", async function () {
        const fx = await loadFixture(openLegFixture);
        const run = warmRun(fx, 1n, 2);
        const signatures = await signAll(fx, run);
        await fx.coldChain.submitExcursion(fx.legId, run, signatures);
        // The device's next leg, on another batch: the old readings name the old batch and time.
        await fx.coldChain.connect(fx.carrier).detachDevice(fx.device.address);
        await handTo(fx, fx.otherBatchId, fx.manufacturer, fx.carrier);
        await fx.coldChain.connect(fx.carrier).attachDevice(fx.device.address, fx.otherBatchId);
        const [, , nextLeg] = await fx.coldChain.device(fx.device.address);
        await expect(fx.coldChain.submitExcursion(nextLeg, run, signatures))
          .to.be.revertedWithCustomError(fx.coldChain, "EvidenceNotOneLeg")
          .withArgs(nextLeg, 0);
      });
    });
  });

  describe("supportsInterface", function () {
    it("test_supportsInterface_coldChainAndAccessControl", async function () {
      const fx = await loadFixture(deployColdChainFixture);
      const iface = (await ethers.getContractAt("IColdChain", await fx.coldChain.getAddress())).interface;
      let id = 0n;
      iface.forEachFunction((fragment) => {
        id ^= BigInt(fragment.selector);
      });
      expect(await fx.coldChain.supportsInterface(ethers.toBeHex(id, 4))).to.equal(true);
      expect(await fx.coldChain.supportsInterface("0x7965db0b")).to.equal(true); // IAccessControl
      expect(await fx.coldChain.supportsInterface("0xffffffff")).to.equal(false);
    });
  });
});
