import { expect } from "chai";
import { network } from "hardhat";
import { ZeroHash, keccak256, toUtf8Bytes } from "ethers";
import { deployDesignRegistry } from "../../scripts/fixtures/design-registry.ts";
import { DEMO_GTIN, deployProvena } from "../../scripts/fixtures/provena-deployment.ts";
import { buildDesignTree, designFileProofs, designSalt, type DesignLeaf } from "../../backend/designs/design-tree.ts";
import type { Hex } from "../../backend/domain/model.ts";
import { signForwardRequest } from "../helpers/forwarder.ts";

const { ethers, networkHelpers } = await network.create();

const fileHash = (content: string): Hex => ethers.sha256(toUtf8Bytes(content)) as Hex;

/** A GTIN outside the demo manufacturer's prefix (871234 5…, check digit valid). */
const FOREIGN_GTIN = 8712345000011n;

describe("DesignRegistry", function () {
  async function designFixture() {
    const deployment = await deployProvena(ethers, { escrow: false });
    const designs = await deployDesignRegistry(ethers, deployment);
    const designer = deployment.manufacturer;
    const leaves: DesignLeaf[] = ["bottle.step", "label.pdf", "cap.dxf"].map((name) => ({
      fileHash: fileHash(`contents of ${name}`),
      owner: designer.address.toLowerCase() as Hex,
      salt: designSalt(),
    }));
    const tree = buildDesignTree(leaves);
    const proofs = designFileProofs(tree, leaves);
    return { ...deployment, designs, designer, leaves, tree, proofs, root: tree.root as Hex };
  }

  async function registeredFixture() {
    const fixture = await designFixture();
    await (await fixture.designs.connect(fixture.designer).registerDesign(fixture.root, "Bottle 2027", "CC-BY-4.0", ZeroHash)).wait();
    return fixture;
  }

  describe("registerDesign", function () {
    it("test_registerDesign_byParticipant_recordsTimeAndEmitsMetadata", async function () {
      const { designs, designer, root } = await networkHelpers.loadFixture(designFixture);
      const licenceHash = keccak256(toUtf8Bytes("licence text"));
      const tx = designs.connect(designer).registerDesign(root, "Bottle 2027", "https://example.org/licence", licenceHash);
      await expect(tx)
        .to.emit(designs, "DesignRegistered")
        .withArgs(designer.address, root, "Bottle 2027", "https://example.org/licence", licenceHash);
      const block = await ethers.provider.getBlock((await (await tx).wait())!.blockNumber);
      expect(await designs.registeredAt(designer.address, root)).to.equal(BigInt(block!.timestamp));
    });

    it("test_registerDesign_anyRole_isAllowed", async function () {
      const { designs, inspector, root } = await networkHelpers.loadFixture(designFixture);
      await expect(designs.connect(inspector).registerDesign(root, "", "", ZeroHash)).to.emit(designs, "DesignRegistered");
    });

    it("test_registerDesign_twiceBySameRegistrant_reverts_firstTimeStands", async function () {
      const { designs, designer, root } = await networkHelpers.loadFixture(registeredFixture);
      const first = await designs.registeredAt(designer.address, root);
      await networkHelpers.time.increase(3600);
      await expect(designs.connect(designer).registerDesign(root, "later", "", ZeroHash))
        .to.be.revertedWithCustomError(designs, "DesignAlreadyRegistered")
        .withArgs(designer.address, root, first);
      expect(await designs.registeredAt(designer.address, root)).to.equal(first);
    });

    it("test_registerDesign_zeroRoot_reverts", async function () {
      const { designs, designer } = await networkHelpers.loadFixture(designFixture);
      await expect(designs.connect(designer).registerDesign(ZeroHash, "", "", ZeroHash)).to.be.revertedWithCustomError(
        designs,
        "DesignInvalidRoot",
      );
    });

    it("test_registerDesign_byOutsider_reverts_noDustFromStrangers", async function () {
      const { designs, outsider, root } = await networkHelpers.loadFixture(designFixture);
      await expect(designs.connect(outsider).registerDesign(root, "", "", ZeroHash))
        .to.be.revertedWithCustomError(designs, "DesignParticipantInactive")
        .withArgs(outsider.address);
    });

    it("test_registerDesign_bySuspendedParticipant_reverts", async function () {
      const { designs, registry, admin, designer, root } = await networkHelpers.loadFixture(designFixture);
      await registry.connect(admin).suspendParticipant(designer.address, ZeroHash);
      await expect(designs.connect(designer).registerDesign(root, "", "", ZeroHash))
        .to.be.revertedWithCustomError(designs, "DesignParticipantInactive")
        .withArgs(designer.address);
    });

    it("test_registerDesign_oversizedMetadata_reverts", async function () {
      const { designs, designer, root } = await networkHelpers.loadFixture(designFixture);
      const max = await designs.MAX_METADATA_LENGTH();
      await expect(designs.connect(designer).registerDesign(root, "t".repeat(Number(max) + 1), "", ZeroHash))
        .to.be.revertedWithCustomError(designs, "DesignMetadataTooLong")
        .withArgs(max + 1n, max);
      await expect(designs.connect(designer).registerDesign(root, "", "l".repeat(Number(max) + 1), ZeroHash))
        .to.be.revertedWithCustomError(designs, "DesignMetadataTooLong")
        .withArgs(max + 1n, max);
      await expect(designs.connect(designer).registerDesign(root, "t".repeat(Number(max)), "l".repeat(Number(max)), ZeroHash)).to.emit(
        designs,
        "DesignRegistered",
      );
    });

    it("test_registerDesign_throughForwarder_recordsSignerNotRelayer", async function () {
      const { designs, forwarder, designer, relayer, root } = await networkHelpers.loadFixture(designFixture);
      const request = await signForwardRequest({
        forwarder,
        signer: designer,
        target: designs,
        data: designs.interface.encodeFunctionData("registerDesign", [root, "relayed", "", ZeroHash]),
      });
      await expect(forwarder.connect(relayer).execute(request))
        .to.emit(designs, "DesignRegistered")
        .withArgs(designer.address, root, "relayed", "", ZeroHash);
      expect(await designs.registeredAt(designer.address, root)).to.not.equal(0n);
      expect(await designs.registeredAt(relayer.address, root)).to.equal(0n);
    });
  });

  describe("when a copier front-runs a registration", function () {
    it("test_registerDesign_copiedRootFirst_proofStillNamesRealOwner", async function () {
      const { designs, designer, carrier, root, proofs } = await networkHelpers.loadFixture(designFixture);
      // The copier (another participant) sees the designer's transaction and registers the same root first.
      await designs.connect(carrier).registerDesign(root, "Mine now", "", ZeroHash);
      await networkHelpers.time.increase(60);
      await designs.connect(designer).registerDesign(root, "Bottle 2027", "", ZeroHash);

      const { leaf, proof } = proofs[0]!;
      const copierTime = await designs.provenAt(carrier.address, root, proof, leaf.fileHash, leaf.owner, leaf.salt);
      const ownerTime = await designs.provenAt(designer.address, root, proof, leaf.fileHash, leaf.owner, leaf.salt);
      expect(copierTime).to.be.greaterThan(0n);
      expect(ownerTime).to.be.greaterThan(copierTime);
      // The copier's registration only witnesses the file earlier: the leaf still names the designer as owner,
      // and no leaf of this root names the copier.
      expect(leaf.owner).to.equal(designer.address.toLowerCase());
      expect(await designs.provenAt(carrier.address, root, proof, leaf.fileHash, carrier.address, leaf.salt)).to.equal(0n);
    });

    it("test_registerDesign_copiedRootFirst_doesNotBlockOwnersRegistration", async function () {
      const { designs, designer, carrier, root } = await networkHelpers.loadFixture(designFixture);
      await designs.connect(carrier).registerDesign(root, "", "", ZeroHash);
      await expect(designs.connect(designer).registerDesign(root, "", "", ZeroHash)).to.emit(designs, "DesignRegistered");
    });
  });

  describe("provenAt", function () {
    it("test_provenAt_everyFileOfTheTree_returnsRegistrationTime", async function () {
      const { designs, designer, root, proofs } = await networkHelpers.loadFixture(registeredFixture);
      const registered = await designs.registeredAt(designer.address, root);
      for (const { leaf, proof } of proofs) {
        expect(await designs.provenAt(designer.address, root, proof, leaf.fileHash, leaf.owner, leaf.salt)).to.equal(registered);
      }
    });

    it("test_provenAt_alteredFileOrSaltOrUnregisteredRoot_returnsZero", async function () {
      const { designs, designer, root, proofs, carrier } = await networkHelpers.loadFixture(registeredFixture);
      const { leaf, proof } = proofs[1]!;
      expect(await designs.provenAt(designer.address, root, proof, fileHash("tampered"), leaf.owner, leaf.salt)).to.equal(0n);
      expect(await designs.provenAt(designer.address, root, proof, leaf.fileHash, leaf.owner, designSalt())).to.equal(0n);
      expect(await designs.provenAt(carrier.address, root, proof, leaf.fileHash, leaf.owner, leaf.salt)).to.equal(0n);
    });

    it("test_leafHash_equalsStandardMerkleTreeLeaf", async function () {
      const { designs, tree, leaves } = await networkHelpers.loadFixture(designFixture);
      const leaf = leaves[2]!;
      expect(await designs.leafHash(leaf.fileHash, leaf.owner, leaf.salt)).to.equal(tree.leafHash([leaf.fileHash, leaf.owner, leaf.salt]));
    });
  });

  describe("linkDesign", function () {
    it("test_linkDesign_byPrefixHolder_linksAndEmits", async function () {
      const { designs, designer, manufacturer, root } = await networkHelpers.loadFixture(registeredFixture);
      await expect(designs.connect(manufacturer).linkDesign(DEMO_GTIN, designer.address, root))
        .to.emit(designs, "DesignLinked")
        .withArgs(DEMO_GTIN, designer.address, root, manufacturer.address);
      expect(await designs.isLinked(DEMO_GTIN, designer.address, root)).to.equal(true);
    });

    it("test_linkDesign_othersRegisteredDesign_isAllowed", async function () {
      const { designs, manufacturer, inspector, root } = await networkHelpers.loadFixture(registeredFixture);
      await designs.connect(inspector).registerDesign(root, "", "", ZeroHash);
      await expect(designs.connect(manufacturer).linkDesign(DEMO_GTIN, inspector.address, root)).to.emit(designs, "DesignLinked");
    });

    it("test_linkDesign_byNonHolder_reverts", async function () {
      const { designs, designer, carrier, manufacturer, root } = await networkHelpers.loadFixture(registeredFixture);
      await expect(designs.connect(carrier).linkDesign(DEMO_GTIN, designer.address, root))
        .to.be.revertedWithCustomError(designs, "DesignGtinNotLicensed")
        .withArgs(DEMO_GTIN, carrier.address, manufacturer.address);
    });

    it("test_linkDesign_gtinWithoutGrantedPrefix_reverts", async function () {
      const { designs, designer, manufacturer, root } = await networkHelpers.loadFixture(registeredFixture);
      await expect(designs.connect(manufacturer).linkDesign(FOREIGN_GTIN, designer.address, root))
        .to.be.revertedWithCustomError(designs, "DesignGtinNotLicensed")
        .withArgs(FOREIGN_GTIN, manufacturer.address, ethers.ZeroAddress);
    });

    it("test_linkDesign_invalidGtin_reverts", async function () {
      const { designs, designer, manufacturer, root } = await networkHelpers.loadFixture(registeredFixture);
      await expect(designs.connect(manufacturer).linkDesign(DEMO_GTIN + 1n, designer.address, root))
        .to.be.revertedWithCustomError(designs, "DesignInvalidGtin")
        .withArgs(DEMO_GTIN + 1n);
    });

    it("test_linkDesign_suspendedHolder_reverts", async function () {
      const { designs, registry, admin, designer, manufacturer, root } = await networkHelpers.loadFixture(registeredFixture);
      await registry.connect(admin).suspendParticipant(manufacturer.address, ZeroHash);
      await expect(designs.connect(manufacturer).linkDesign(DEMO_GTIN, designer.address, root))
        .to.be.revertedWithCustomError(designs, "DesignParticipantInactive")
        .withArgs(manufacturer.address);
    });

    it("test_linkDesign_unregisteredDesign_reverts", async function () {
      const { designs, carrier, manufacturer, root } = await networkHelpers.loadFixture(registeredFixture);
      await expect(designs.connect(manufacturer).linkDesign(DEMO_GTIN, carrier.address, root))
        .to.be.revertedWithCustomError(designs, "DesignNotRegistered")
        .withArgs(carrier.address, root);
    });

    it("test_linkDesign_twice_reverts", async function () {
      const { designs, designer, manufacturer, root } = await networkHelpers.loadFixture(registeredFixture);
      await designs.connect(manufacturer).linkDesign(DEMO_GTIN, designer.address, root);
      await expect(designs.connect(manufacturer).linkDesign(DEMO_GTIN, designer.address, root))
        .to.be.revertedWithCustomError(designs, "DesignAlreadyLinked")
        .withArgs(DEMO_GTIN, designer.address, root);
    });
  });

  describe("unlinkDesign", function () {
    it("test_unlinkDesign_byHolder_removesLink", async function () {
      const { designs, designer, manufacturer, root } = await networkHelpers.loadFixture(registeredFixture);
      await designs.connect(manufacturer).linkDesign(DEMO_GTIN, designer.address, root);
      await expect(designs.connect(manufacturer).unlinkDesign(DEMO_GTIN, designer.address, root))
        .to.emit(designs, "DesignUnlinked")
        .withArgs(DEMO_GTIN, designer.address, root, manufacturer.address);
      expect(await designs.isLinked(DEMO_GTIN, designer.address, root)).to.equal(false);
    });

    it("test_unlinkDesign_byNonHolder_reverts", async function () {
      const { designs, designer, manufacturer, carrier, root } = await networkHelpers.loadFixture(registeredFixture);
      await designs.connect(manufacturer).linkDesign(DEMO_GTIN, designer.address, root);
      await expect(designs.connect(carrier).unlinkDesign(DEMO_GTIN, designer.address, root)).to.be.revertedWithCustomError(
        designs,
        "DesignGtinNotLicensed",
      );
      expect(await designs.isLinked(DEMO_GTIN, designer.address, root)).to.equal(true);
    });

    it("test_unlinkDesign_notLinked_reverts", async function () {
      const { designs, designer, manufacturer, root } = await networkHelpers.loadFixture(registeredFixture);
      await expect(designs.connect(manufacturer).unlinkDesign(DEMO_GTIN, designer.address, root))
        .to.be.revertedWithCustomError(designs, "DesignNotLinked")
        .withArgs(DEMO_GTIN, designer.address, root);
    });
  });
});
