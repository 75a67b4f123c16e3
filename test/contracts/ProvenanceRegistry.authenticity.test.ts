/**
 * Issue 11, items 1 and 2: a GTIN belongs to the holder of its GS1 company prefix (granted by the consortium
 * admin), registered lots never contain "/", a split child's lot is `<parent lot>/<suffix>`, and a child
 * carries its parent's serial root, so only units the manufacturer registered ever verify.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { ZeroAddress } from "ethers";
import { DEMO_COMPANY_PREFIX, DEMO_GTIN, deployProvena } from "../../scripts/fixtures/provena-deployment.ts";
import { registerBatch, registerBatchArgs, documentHash } from "../helpers/batches.ts";
import { batchIdOf, gtinFrom } from "../helpers/gs1.ts";
import { buildSerialTree, makeSerials, serialProof } from "../helpers/serials.ts";

const { ethers, networkHelpers } = await network.create();

describe("ProvenanceRegistry: authenticity", function () {
  /** The demo deployment plus a rival manufacturer (signer 10) holding its own prefix 5012345. */
  async function rivalFixture() {
    const deployment = await deployProvena(ethers, { escrow: false });
    const rival = deployment.signers[10];
    const { registry, admin, roles } = deployment;
    await registry.connect(admin).onboardParticipant(rival.address, roles.MANUFACTURER_ROLE, 5012345000016n, "Rival Oils Ltd");
    await registry.connect(admin).grantCompanyPrefix(rival.address, 5012345n, 7);
    return { ...deployment, rival };
  }

  async function inputFor(lot: string, gtin = DEMO_GTIN) {
    const latest = await networkHelpers.time.latest();
    return {
      gtin,
      lot,
      quantity: 10n,
      productionDate: BigInt(latest) - 60n,
      originGln: 8412345000010n,
      documentHash: documentHash(lot),
      serialRoot: buildSerialTree(makeSerials(10, `${lot}-`)).root,
    };
  }

  describe("grantCompanyPrefix / revokeCompanyPrefix", function () {
    it("test_grantCompanyPrefix_byAdmin_emitsAndRecordsTheHolder", async function () {
      const { registry, admin, rival } = await networkHelpers.loadFixture(rivalFixture);
      await expect(registry.connect(admin).grantCompanyPrefix(rival.address, 614141n, 7))
        .to.emit(registry, "CompanyPrefixGranted")
        .withArgs(rival.address, 614141n, 7);
      expect(await registry.companyPrefixHolder(614141n, 7)).to.equal(rival.address);
      // 0614141 (7 digits, leading zero) is not 614141 of 6 digits.
      expect(await registry.companyPrefixHolder(614141n, 6)).to.equal(ZeroAddress);
      expect(await registry.companyPrefixOf(gtinFrom("0061414100001"))).to.deep.equal([rival.address, 614141n, 7n]);
    });

    it("test_grantCompanyPrefix_notAdmin_reverts", async function () {
      const { registry, manufacturer, rival, roles } = await networkHelpers.loadFixture(rivalFixture);
      await expect(registry.connect(rival).grantCompanyPrefix(rival.address, 8412345n, 7))
        .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
        .withArgs(rival.address, roles.DEFAULT_ADMIN_ROLE);
      await expect(registry.connect(manufacturer).revokeCompanyPrefix(5012345n, 7))
        .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
        .withArgs(manufacturer.address, roles.DEFAULT_ADMIN_ROLE);
    });

    it("test_grantCompanyPrefix_takenInvalidOrNotAManufacturer_reverts", async function () {
      const { registry, admin, manufacturer, rival, carrier, outsider, roles } = await networkHelpers.loadFixture(rivalFixture);
      await expect(registry.connect(admin).grantCompanyPrefix(rival.address, DEMO_COMPANY_PREFIX.prefix, DEMO_COMPANY_PREFIX.length))
        .to.be.revertedWithCustomError(registry, "CompanyPrefixAlreadyGranted")
        .withArgs(DEMO_COMPANY_PREFIX.prefix, DEMO_COMPANY_PREFIX.length, manufacturer.address);
      for (const [prefix, length] of [
        [123n, 3],
        [1n, 13],
        [12345n, 4],
      ] as const) {
        await expect(registry.connect(admin).grantCompanyPrefix(rival.address, prefix, length))
          .to.be.revertedWithCustomError(registry, "CompanyPrefixInvalid")
          .withArgs(prefix, length);
      }
      await expect(registry.connect(admin).grantCompanyPrefix(outsider.address, 4006381n, 7))
        .to.be.revertedWithCustomError(registry, "ParticipantUnknown")
        .withArgs(outsider.address);
      await expect(registry.connect(admin).grantCompanyPrefix(carrier.address, 4006381n, 7))
        .to.be.revertedWithCustomError(registry, "ParticipantUnauthorized")
        .withArgs(carrier.address, roles.MANUFACTURER_ROLE);
    });

    it("test_grantCompanyPrefix_withinAnotherHoldersPrefix_reverts", async function () {
      const { registry, admin, manufacturer, rival } = await networkHelpers.loadFixture(rivalFixture);
      // The admin cannot carve Acme's GTINs out for a rival by granting a longer prefix inside Acme's 8412345.
      for (const [prefix, length] of [
        [84123450n, 8],
        [841234500001n, 12],
      ] as const) {
        await expect(registry.connect(admin).grantCompanyPrefix(rival.address, prefix, length))
          .to.be.revertedWithCustomError(registry, "CompanyPrefixWithinAnother")
          .withArgs(prefix, length, manufacturer.address);
      }
      // Acme itself may hold a longer one inside its own, and the rival one outside it.
      await expect(registry.connect(admin).grantCompanyPrefix(manufacturer.address, 84123450n, 8)).to.emit(
        registry,
        "CompanyPrefixGranted",
      );
      await expect(registry.connect(admin).grantCompanyPrefix(rival.address, 84123460n, 8)).to.emit(registry, "CompanyPrefixGranted");
    });

    it("test_revokeCompanyPrefix_stopsNewRegistrationsOnly", async function () {
      const { registry, admin, manufacturer } = await networkHelpers.loadFixture(rivalFixture);
      const batch = await registerBatch(registry, manufacturer, { lot: "LOT-KEPT" });
      const { prefix, length } = DEMO_COMPANY_PREFIX;
      await expect(registry.connect(admin).revokeCompanyPrefix(prefix, length))
        .to.emit(registry, "CompanyPrefixRevoked")
        .withArgs(manufacturer.address, prefix, length);
      await expect(registry.connect(admin).revokeCompanyPrefix(prefix, length))
        .to.be.revertedWithCustomError(registry, "CompanyPrefixNotGranted")
        .withArgs(prefix, length);
      await expect(registry.connect(manufacturer).registerBatch(...registerBatchArgs(await inputFor("LOT-NEXT"))))
        .to.be.revertedWithCustomError(registry, "BatchGtinNotLicensed")
        .withArgs(DEMO_GTIN, manufacturer.address, ZeroAddress);
      expect((await registry.batch(batch.batchId))[0]).to.equal(manufacturer.address);
    });
  });

  describe("registerBatch", function () {
    it("test_registerBatch_rivalRegistersAnotherMakersNextLot_reverts", async function () {
      const { registry, manufacturer, rival } = await networkHelpers.loadFixture(rivalFixture);
      await expect(registry.connect(rival).registerBatch(...registerBatchArgs(await inputFor("LOT-2025-002"))))
        .to.be.revertedWithCustomError(registry, "BatchGtinNotLicensed")
        .withArgs(DEMO_GTIN, rival.address, manufacturer.address);
      // The rival registers its own GTINs.
      const own = await inputFor("LOT-2025-002", gtinFrom("501234500001"));
      await expect(registry.connect(rival).registerBatch(...registerBatchArgs(own))).to.emit(registry, "BatchRegistered");
    });

    it("test_registerBatch_longestGrantedPrefixDecides", async function () {
      const { registry, admin, manufacturer, rival } = await networkHelpers.loadFixture(rivalFixture);
      // A shorter prefix around Acme's does not let its holder register Acme's GTINs, nor Acme the others.
      await registry.connect(admin).grantCompanyPrefix(rival.address, 84123n, 5);
      expect(await registry.companyPrefixOf(DEMO_GTIN)).to.deep.equal([manufacturer.address, 8412345n, 7n]);
      await expect(registry.connect(rival).registerBatch(...registerBatchArgs(await inputFor("LOT-X"))))
        .to.be.revertedWithCustomError(registry, "BatchGtinNotLicensed")
        .withArgs(DEMO_GTIN, rival.address, manufacturer.address);
      const elsewhere = gtinFrom("841230000001");
      await expect(registry.connect(manufacturer).registerBatch(...registerBatchArgs(await inputFor("LOT-X", elsewhere))))
        .to.be.revertedWithCustomError(registry, "BatchGtinNotLicensed")
        .withArgs(elsewhere, manufacturer.address, rival.address);
    });

    it("test_registerBatch_lotWithSplitSeparator_reverts", async function () {
      const { registry, manufacturer } = await networkHelpers.loadFixture(rivalFixture);
      for (const lot of ["LOT-1/A", "/", "A/"]) {
        await expect(registry.connect(manufacturer).registerBatch(...registerBatchArgs(await inputFor(lot))))
          .to.be.revertedWithCustomError(registry, "BatchLotReservedForSplits")
          .withArgs(lot);
      }
    });
  });

  describe("splitBatch", function () {
    async function heldByCarrierFixture() {
      const context = await rivalFixture();
      const { registry, manufacturer, carrier } = context;
      const batch = await registerBatch(registry, manufacturer, { lot: "LOT-1", quantity: 100n });
      await registry.connect(manufacturer).proposeHandoff(batch.batchId, carrier.address, 8712345000103n, 0);
      await registry.connect(carrier).acceptHandoff(batch.batchId, 8712345000103n, 1);
      return { ...context, batch };
    }

    it("test_splitBatch_custodianNamesChildAfterManufacturersFutureLot_reverts", async function () {
      const { registry, carrier, batch } = await networkHelpers.loadFixture(heldByCarrierFixture);
      const root = batch.tree.root;
      for (const lot of ["LOT-2", "LOT-1-A", "OTHER/A", "LOT-1/", "/A", "LOT-12/A"]) {
        await expect(
          registry.connect(carrier).splitBatch(batch.batchId, [
            { lot: "LOT-1/A", quantity: 50n, serialRoot: root },
            { lot, quantity: 50n, serialRoot: root },
          ]),
        )
          .to.be.revertedWithCustomError(registry, "SplitLotNotDerived")
          .withArgs(batch.batchId, lot);
      }
    });

    it("test_splitBatch_derivedLots_keepBatchIdOfGtinAndLot", async function () {
      const { registry, carrier, batch } = await networkHelpers.loadFixture(heldByCarrierFixture);
      const root = batch.tree.root;
      await registry.connect(carrier).splitBatch(batch.batchId, [
        { lot: "LOT-1/A", quantity: 50n, serialRoot: root },
        { lot: "LOT-1/B", quantity: 50n, serialRoot: root },
      ]);
      const child = batchIdOf(DEMO_GTIN, "LOT-1/A");
      await registry.connect(carrier).splitBatch(child, [
        { lot: "LOT-1/A/1", quantity: 25n, serialRoot: root },
        { lot: "LOT-1/A/2", quantity: 25n, serialRoot: root },
      ]);
      expect(await registry.parentOf(batchIdOf(DEMO_GTIN, "LOT-1/A/2"))).to.equal(child);
      expect((await registry.batch(batchIdOf(DEMO_GTIN, "LOT-1/A/2")))[7]).to.equal(root);
    });

    it("test_splitBatch_custodianAddsFakeSerialsInAChild_cannotMakeThemVerify", async function () {
      const { registry, carrier, batch } = await networkHelpers.loadFixture(heldByCarrierFixture);
      const forged = buildSerialTree([...batch.serials.slice(0, 50), "FAKE-1"]);
      await expect(
        registry.connect(carrier).splitBatch(batch.batchId, [
          { lot: "LOT-1/A", quantity: 50n, serialRoot: forged.root },
          { lot: "LOT-1/B", quantity: 50n, serialRoot: batch.tree.root },
        ]),
      )
        .to.be.revertedWithCustomError(registry, "SplitSerialRootMismatch")
        .withArgs(batch.batchId, batch.tree.root, forged.root);
      await registry.connect(carrier).splitBatch(batch.batchId, [
        { lot: "LOT-1/A", quantity: 50n, serialRoot: batch.tree.root },
        { lot: "LOT-1/B", quantity: 50n, serialRoot: batch.tree.root },
      ]);
      const child = batchIdOf(DEMO_GTIN, "LOT-1/A");
      expect(await registry.verifyUnit(child, "FAKE-1", serialProof(forged, "FAKE-1"))).to.equal(false);
      const genuine = batch.serials[3];
      expect(await registry.verifyUnit(child, genuine, serialProof(batch.tree, genuine))).to.equal(true);
    });
  });
});
