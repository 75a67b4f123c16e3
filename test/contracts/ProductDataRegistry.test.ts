import { expect } from "chai";
import { network } from "hardhat";
import { ZeroAddress, ZeroHash } from "ethers";
import { DEMO_GTIN, deployProvena } from "../../scripts/fixtures/provena-deployment.ts";
import { documentHash, registerBatch } from "../helpers/batches.ts";
import { signForwardRequest } from "../helpers/forwarder.ts";
import { batchIdOf, glnFrom, gtinFrom } from "../helpers/gs1.ts";

const { ethers, networkHelpers } = await network.create();

/** A GTIN under no granted company prefix (GS1 prefix 590 0000 is granted to nobody in the demo). */
const UNLICENSED_GTIN = gtinFrom("590000000001");

describe("ProductDataRegistry", function () {
  /** The demo consortium, a second manufacturer with no prefix, a registered batch, and the anchors contract. */
  async function productDataFixture() {
    const deployment = await deployProvena(ethers, { escrow: false });
    const { registry, forwarder, admin, roles, signers, manufacturer } = deployment;
    const rivalManufacturer = signers[10];
    await registry
      .connect(admin)
      .onboardParticipant(rivalManufacturer.address, roles.MANUFACTURER_ROLE, glnFrom("590000000010"), "Rival Oils");
    const productData = await ethers.deployContract(
      "ProductDataRegistry",
      [await forwarder.getAddress(), await registry.getAddress()],
      admin,
    );
    const batch = await registerBatch(registry, manufacturer, { lot: "LOT-DPP" });
    return { ...deployment, productData, rivalManufacturer, batchId: batch.batchId };
  }

  describe("publishProductData", function () {
    it("test_publishProductData_prefixHolder_numbersVersionsFromOne", async function () {
      const { productData, manufacturer } = await networkHelpers.loadFixture(productDataFixture);
      const first = documentHash("product data v1");
      const second = documentHash("product data v2");
      await expect(productData.connect(manufacturer).publishProductData(DEMO_GTIN, first))
        .to.emit(productData, "ProductDataPublished")
        .withArgs(DEMO_GTIN, 1n, manufacturer.address, first);
      await expect(productData.connect(manufacturer).publishProductData(DEMO_GTIN, second))
        .to.emit(productData, "ProductDataPublished")
        .withArgs(DEMO_GTIN, 2n, manufacturer.address, second);
      expect(await productData.productDataVersion(DEMO_GTIN)).to.equal(2n);
      expect(await productData.productDataVersion(UNLICENSED_GTIN)).to.equal(0n);
    });

    it("test_publishProductData_zeroHash_reverts", async function () {
      const { productData, manufacturer } = await networkHelpers.loadFixture(productDataFixture);
      await expect(productData.connect(manufacturer).publishProductData(DEMO_GTIN, ZeroHash)).to.be.revertedWithCustomError(
        productData,
        "ProductDataZeroHash",
      );
    });

    it("test_publishProductData_invalidGtin_reverts", async function () {
      const { productData, manufacturer } = await networkHelpers.loadFixture(productDataFixture);
      await expect(productData.connect(manufacturer).publishProductData(DEMO_GTIN + 1n, documentHash("x")))
        .to.be.revertedWithCustomError(productData, "ProductDataInvalidGtin")
        .withArgs(DEMO_GTIN + 1n);
    });

    it("test_publishProductData_anotherManufacturer_revertsNamingTheHolder", async function () {
      const { productData, manufacturer, rivalManufacturer } = await networkHelpers.loadFixture(productDataFixture);
      await expect(productData.connect(rivalManufacturer).publishProductData(DEMO_GTIN, documentHash("fake")))
        .to.be.revertedWithCustomError(productData, "ProductDataNotPrefixHolder")
        .withArgs(DEMO_GTIN, rivalManufacturer.address, manufacturer.address);
    });

    it("test_publishProductData_outsider_reverts", async function () {
      const { productData, manufacturer, outsider } = await networkHelpers.loadFixture(productDataFixture);
      await expect(productData.connect(outsider).publishProductData(DEMO_GTIN, documentHash("fake")))
        .to.be.revertedWithCustomError(productData, "ProductDataNotPrefixHolder")
        .withArgs(DEMO_GTIN, outsider.address, manufacturer.address);
    });

    it("test_publishProductData_unlicensedGtin_revertsWithZeroHolder", async function () {
      const { productData, rivalManufacturer } = await networkHelpers.loadFixture(productDataFixture);
      await expect(productData.connect(rivalManufacturer).publishProductData(UNLICENSED_GTIN, documentHash("claim")))
        .to.be.revertedWithCustomError(productData, "ProductDataNotPrefixHolder")
        .withArgs(UNLICENSED_GTIN, rivalManufacturer.address, ZeroAddress);
    });

    it("test_publishProductData_suspendedHolder_reverts", async function () {
      const { productData, registry, admin, manufacturer } = await networkHelpers.loadFixture(productDataFixture);
      await registry.connect(admin).suspendParticipant(manufacturer.address, ZeroHash);
      await expect(productData.connect(manufacturer).publishProductData(DEMO_GTIN, documentHash("v1")))
        .to.be.revertedWithCustomError(productData, "ProductDataPublisherInactive")
        .withArgs(manufacturer.address);
    });

    it("test_publishProductData_revokedPrefix_reverts", async function () {
      const { productData, registry, admin, manufacturer } = await networkHelpers.loadFixture(productDataFixture);
      await registry.connect(admin).revokeCompanyPrefix(8412345n, 7);
      await expect(productData.connect(manufacturer).publishProductData(DEMO_GTIN, documentHash("v1")))
        .to.be.revertedWithCustomError(productData, "ProductDataNotPrefixHolder")
        .withArgs(DEMO_GTIN, manufacturer.address, ZeroAddress);
    });
  });

  describe("publishBatchData", function () {
    it("test_publishBatchData_manufacturer_numbersVersionsPerBatch", async function () {
      const { productData, manufacturer, batchId, registry } = await networkHelpers.loadFixture(productDataFixture);
      const other = await registerBatch(registry, manufacturer, { lot: "LOT-DPP-2" });
      const hash = documentHash("batch data v1");
      await expect(productData.connect(manufacturer).publishBatchData(batchId, hash))
        .to.emit(productData, "BatchDataPublished")
        .withArgs(batchId, 1n, manufacturer.address, hash);
      await productData.connect(manufacturer).publishBatchData(batchId, documentHash("batch data v2"));
      await expect(productData.connect(manufacturer).publishBatchData(other.batchId, hash))
        .to.emit(productData, "BatchDataPublished")
        .withArgs(other.batchId, 1n, manufacturer.address, hash);
      expect(await productData.batchDataVersion(batchId)).to.equal(2n);
      expect(await productData.batchDataVersion(other.batchId)).to.equal(1n);
    });

    it("test_publishBatchData_splitChild_manufacturerMayPublish", async function () {
      const { productData, registry, manufacturer } = await networkHelpers.loadFixture(productDataFixture);
      const parent = await registerBatch(registry, manufacturer, { lot: "LOT-S", quantity: 10n });
      await registry.connect(manufacturer).splitBatch(parent.batchId, [
        { lot: "LOT-S/1", quantity: 4n, serialRoot: parent.tree.root },
        { lot: "LOT-S/2", quantity: 6n, serialRoot: parent.tree.root },
      ]);
      const child = batchIdOf(DEMO_GTIN, "LOT-S/1");
      await expect(productData.connect(manufacturer).publishBatchData(child, documentHash("child")))
        .to.emit(productData, "BatchDataPublished")
        .withArgs(child, 1n, manufacturer.address, documentHash("child"));
    });

    it("test_publishBatchData_custodianNotManufacturer_reverts", async function () {
      const { productData, registry, manufacturer, carrier, batchId } = await networkHelpers.loadFixture(productDataFixture);
      await registry.connect(manufacturer).proposeHandoff(batchId, carrier.address, glnFrom("841234500001"), 1);
      await registry.connect(carrier).acceptHandoff(batchId, glnFrom("841234500002"), 1);
      await expect(productData.connect(carrier).publishBatchData(batchId, documentHash("forged")))
        .to.be.revertedWithCustomError(productData, "ProductDataNotBatchManufacturer")
        .withArgs(batchId, carrier.address);
    });

    it("test_publishBatchData_anotherManufacturer_reverts", async function () {
      const { productData, rivalManufacturer, batchId } = await networkHelpers.loadFixture(productDataFixture);
      await expect(productData.connect(rivalManufacturer).publishBatchData(batchId, documentHash("forged")))
        .to.be.revertedWithCustomError(productData, "ProductDataNotBatchManufacturer")
        .withArgs(batchId, rivalManufacturer.address);
    });

    it("test_publishBatchData_unknownBatch_reverts", async function () {
      const { productData, manufacturer } = await networkHelpers.loadFixture(productDataFixture);
      const unknown = batchIdOf(DEMO_GTIN, "NEVER");
      await expect(productData.connect(manufacturer).publishBatchData(unknown, documentHash("x")))
        .to.be.revertedWithCustomError(productData, "ProductDataBatchUnknown")
        .withArgs(unknown);
    });

    it("test_publishBatchData_suspendedManufacturer_reverts", async function () {
      const { productData, registry, admin, manufacturer, batchId } = await networkHelpers.loadFixture(productDataFixture);
      await registry.connect(admin).suspendParticipant(manufacturer.address, ZeroHash);
      await expect(productData.connect(manufacturer).publishBatchData(batchId, documentHash("x")))
        .to.be.revertedWithCustomError(productData, "ProductDataPublisherInactive")
        .withArgs(manufacturer.address);
    });

    it("test_publishBatchData_zeroHash_reverts", async function () {
      const { productData, manufacturer, batchId } = await networkHelpers.loadFixture(productDataFixture);
      await expect(productData.connect(manufacturer).publishBatchData(batchId, ZeroHash)).to.be.revertedWithCustomError(
        productData,
        "ProductDataZeroHash",
      );
    });
  });

  describe("anchorBatchDocument", function () {
    it("test_anchorBatchDocument_anyActiveParticipant_emitsWhoAnchoredWhichHash", async function () {
      const { productData, inspector, carrier, batchId } = await networkHelpers.loadFixture(productDataFixture);
      const report = documentHash("inspection report");
      await expect(productData.connect(inspector).anchorBatchDocument(batchId, report))
        .to.emit(productData, "BatchDocumentAnchored")
        .withArgs(batchId, inspector.address, report);
      // The same hash by another account is its own anchor: an earlier one cannot crowd out the honest one.
      await expect(productData.connect(carrier).anchorBatchDocument(batchId, report))
        .to.emit(productData, "BatchDocumentAnchored")
        .withArgs(batchId, carrier.address, report);
      expect(await productData.batchDataVersion(batchId)).to.equal(0n); // documents are no data versions
    });

    it("test_anchorBatchDocument_outsider_reverts", async function () {
      const { productData, outsider, batchId } = await networkHelpers.loadFixture(productDataFixture);
      await expect(productData.connect(outsider).anchorBatchDocument(batchId, documentHash("x")))
        .to.be.revertedWithCustomError(productData, "ProductDataAnchorerInactive")
        .withArgs(outsider.address);
    });

    it("test_anchorBatchDocument_suspendedParticipant_reverts", async function () {
      const { productData, registry, admin, inspector, batchId } = await networkHelpers.loadFixture(productDataFixture);
      await registry.connect(admin).suspendParticipant(inspector.address, ZeroHash);
      await expect(productData.connect(inspector).anchorBatchDocument(batchId, documentHash("x")))
        .to.be.revertedWithCustomError(productData, "ProductDataAnchorerInactive")
        .withArgs(inspector.address);
    });

    it("test_anchorBatchDocument_unknownBatch_reverts", async function () {
      const { productData, inspector } = await networkHelpers.loadFixture(productDataFixture);
      const unknown = batchIdOf(DEMO_GTIN, "NO-SUCH-LOT");
      await expect(productData.connect(inspector).anchorBatchDocument(unknown, documentHash("x")))
        .to.be.revertedWithCustomError(productData, "ProductDataBatchUnknown")
        .withArgs(unknown);
    });

    it("test_anchorBatchDocument_zeroHash_reverts", async function () {
      const { productData, inspector, batchId } = await networkHelpers.loadFixture(productDataFixture);
      await expect(productData.connect(inspector).anchorBatchDocument(batchId, ZeroHash)).to.be.revertedWithCustomError(
        productData,
        "ProductDataZeroHash",
      );
    });

    it("test_execute_anchorBatchDocument_anchorerIsTheSigner", async function () {
      const { productData, forwarder, inspector, relayer, batchId } = await networkHelpers.loadFixture(productDataFixture);
      const hash = documentHash("relayed report");
      const request = await signForwardRequest({
        forwarder,
        signer: inspector,
        target: productData,
        data: productData.interface.encodeFunctionData("anchorBatchDocument", [batchId, hash]),
      });
      await expect(forwarder.connect(relayer).execute(request))
        .to.emit(productData, "BatchDocumentAnchored")
        .withArgs(batchId, inspector.address, hash);
    });
  });

  describe("anchorProductDocument", function () {
    it("test_anchorProductDocument_prefixHolder_emitsWhoAnchoredWhichHash", async function () {
      const { productData, manufacturer } = await networkHelpers.loadFixture(productDataFixture);
      const declaration = documentHash("declaration of conformity");
      await expect(productData.connect(manufacturer).anchorProductDocument(DEMO_GTIN, declaration))
        .to.emit(productData, "ProductDocumentAnchored")
        .withArgs(DEMO_GTIN, manufacturer.address, declaration);
      // Again is again: each anchor is its own record, and documents are no data versions.
      await expect(productData.connect(manufacturer).anchorProductDocument(DEMO_GTIN, declaration)).to.emit(
        productData,
        "ProductDocumentAnchored",
      );
      expect(await productData.productDataVersion(DEMO_GTIN)).to.equal(0n);
    });

    it("test_anchorProductDocument_anotherManufacturer_revertsNamingTheHolder", async function () {
      const { productData, manufacturer, rivalManufacturer } = await networkHelpers.loadFixture(productDataFixture);
      await expect(productData.connect(rivalManufacturer).anchorProductDocument(DEMO_GTIN, documentHash("fake test report")))
        .to.be.revertedWithCustomError(productData, "ProductDataNotPrefixHolder")
        .withArgs(DEMO_GTIN, rivalManufacturer.address, manufacturer.address);
    });

    it("test_anchorProductDocument_custodyPartnerOrInspector_reverts", async function () {
      const { productData, manufacturer, inspector } = await networkHelpers.loadFixture(productDataFixture);
      await expect(productData.connect(inspector).anchorProductDocument(DEMO_GTIN, documentHash("x")))
        .to.be.revertedWithCustomError(productData, "ProductDataNotPrefixHolder")
        .withArgs(DEMO_GTIN, inspector.address, manufacturer.address);
    });

    it("test_anchorProductDocument_unlicensedGtin_revertsWithZeroHolder", async function () {
      const { productData, rivalManufacturer } = await networkHelpers.loadFixture(productDataFixture);
      await expect(productData.connect(rivalManufacturer).anchorProductDocument(UNLICENSED_GTIN, documentHash("x")))
        .to.be.revertedWithCustomError(productData, "ProductDataNotPrefixHolder")
        .withArgs(UNLICENSED_GTIN, rivalManufacturer.address, ZeroAddress);
    });

    it("test_anchorProductDocument_suspendedHolder_reverts", async function () {
      const { productData, registry, admin, manufacturer } = await networkHelpers.loadFixture(productDataFixture);
      await registry.connect(admin).suspendParticipant(manufacturer.address, ZeroHash);
      await expect(productData.connect(manufacturer).anchorProductDocument(DEMO_GTIN, documentHash("x")))
        .to.be.revertedWithCustomError(productData, "ProductDataPublisherInactive")
        .withArgs(manufacturer.address);
    });

    it("test_anchorProductDocument_invalidGtin_reverts", async function () {
      const { productData, manufacturer } = await networkHelpers.loadFixture(productDataFixture);
      await expect(productData.connect(manufacturer).anchorProductDocument(DEMO_GTIN + 1n, documentHash("x")))
        .to.be.revertedWithCustomError(productData, "ProductDataInvalidGtin")
        .withArgs(DEMO_GTIN + 1n);
    });

    it("test_anchorProductDocument_zeroHash_reverts", async function () {
      const { productData, manufacturer } = await networkHelpers.loadFixture(productDataFixture);
      await expect(productData.connect(manufacturer).anchorProductDocument(DEMO_GTIN, ZeroHash)).to.be.revertedWithCustomError(
        productData,
        "ProductDataZeroHash",
      );
    });

    it("test_execute_anchorProductDocument_anchorerIsTheSigner_andForgedFromFails", async function () {
      const { productData, forwarder, manufacturer, outsider, relayer } = await networkHelpers.loadFixture(productDataFixture);
      const hash = documentHash("relayed repair manual");
      const data = productData.interface.encodeFunctionData("anchorProductDocument", [DEMO_GTIN, hash]);
      const request = await signForwardRequest({ forwarder, signer: manufacturer, target: productData, data });
      await expect(forwarder.connect(relayer).execute(request))
        .to.emit(productData, "ProductDocumentAnchored")
        .withArgs(DEMO_GTIN, manufacturer.address, hash);
      const forged = await signForwardRequest({ forwarder, signer: outsider, from: manufacturer.address, target: productData, data });
      await expect(forwarder.connect(relayer).execute(forged)).to.be.revertedWithCustomError(forwarder, "ERC2771ForwarderInvalidSigner");
    });
  });

  describe("when relayed through the ProvenaForwarder", function () {
    it("test_execute_publishBatchData_publisherIsTheSigner", async function () {
      const { productData, forwarder, manufacturer, relayer, batchId } = await networkHelpers.loadFixture(productDataFixture);
      const hash = documentHash("relayed");
      const request = await signForwardRequest({
        forwarder,
        signer: manufacturer,
        target: productData,
        data: productData.interface.encodeFunctionData("publishBatchData", [batchId, hash]),
      });
      await expect(forwarder.connect(relayer).execute(request))
        .to.emit(productData, "BatchDataPublished")
        .withArgs(batchId, 1n, manufacturer.address, hash);
    });

    it("test_execute_forgedFrom_doesNotPublishAsTheManufacturer", async function () {
      const { productData, forwarder, manufacturer, outsider, relayer } = await networkHelpers.loadFixture(productDataFixture);
      const request = await signForwardRequest({
        forwarder,
        signer: outsider,
        from: manufacturer.address,
        target: productData,
        data: productData.interface.encodeFunctionData("publishProductData", [DEMO_GTIN, documentHash("forged")]),
      });
      await expect(forwarder.connect(relayer).execute(request)).to.be.revertedWithCustomError(forwarder, "ERC2771ForwarderInvalidSigner");
      expect(await productData.productDataVersion(DEMO_GTIN)).to.equal(0n);
    });
  });

  it("test_registry_returnsTheProvenanceRegistry", async function () {
    const { productData, registry } = await networkHelpers.loadFixture(productDataFixture);
    expect(await productData.registry()).to.equal(await registry.getAddress());
  });
});
