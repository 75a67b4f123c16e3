/**
 * Issue 15, section 1: ownership certificates bound to the physical unit. The manufacturer commits a claim root
 * per registered batch; a shopper claims a unit's token with the claim secret printed inside the packaging,
 * through anyone (the relayer) who submits the claim. Every test below is an abuse someone could try.
 */
import { expect } from "chai";
import { artifacts, network } from "hardhat";
import { Interface, Signature, Wallet, ZeroAddress, ZeroHash, getBytes, hexlify, toBeHex, type HDNodeWallet } from "ethers";
import { deployProvena, deployUnitOwnership } from "../../scripts/fixtures/provena-deployment.ts";
import { registerBatch } from "../helpers/batches.ts";
import { signForwardRequest } from "../helpers/forwarder.ts";
import { batchIdOf } from "../helpers/gs1.ts";
import { serialProof } from "../helpers/serials.ts";
import { buildClaimTree, claimProofOf, signUnitClaim, unitTokenId, type ClaimTree } from "../../backend/chain/unit-claim.ts";
import type { UnitOwnership } from "../../types/ethers-contracts/index.js";

const { ethers, networkHelpers } = await network.create();

/** secp256k1's group order: s and n - s are both valid for ECDSA, only the low one for OpenZeppelin. */
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

describe("UnitOwnership", function () {
  /** A registered batch of 5 units whose claim root is committed, a shopper and a thief with no roles. */
  async function committedFixture() {
    const deployment = await deployProvena(ethers, { escrow: false });
    const { registry, manufacturer, signers } = deployment;
    const unitOwnership = await deployUnitOwnership(ethers, deployment);
    const batch = await registerBatch(registry, manufacturer, { lot: "LOT-OWN", quantity: 5n });
    const keys = new Map<string, HDNodeWallet>(batch.serials.map((serial) => [serial, Wallet.createRandom()]));
    const claimTree = buildClaimTree(batch.serials.map((serial) => ({ serial, claimKey: keys.get(serial)!.address })));
    await (await unitOwnership.connect(manufacturer).commitClaimRoot(batch.batchId, claimTree.root, 5)).wait();
    const chainId = (await ethers.provider.getNetwork()).chainId;
    return {
      ...deployment,
      unitOwnership,
      batch,
      keys,
      claimTree,
      chainId,
      shopper: signers[10],
      thief: signers[11],
      secondOwner: signers[12],
    };
  }

  type Fixture = Awaited<ReturnType<typeof committedFixture>>;

  interface ClaimOptions {
    serial?: string;
    recipient?: string;
    /** The key that signs (default: the unit's own). */
    signer?: HDNodeWallet;
    /** The claim key named in the call (default: the unit's committed key). */
    claimKey?: string;
    /** The token id the signature names (default: the unit's). */
    signedTokenId?: bigint;
    chainId?: bigint;
    verifyingContract?: string;
    claimTree?: ClaimTree;
    batchId?: string;
  }

  /** The arguments of `claim` for one unit of the fixture's batch, signed as the options say. */
  async function claimArgs(fixture: Fixture, options: ClaimOptions = {}) {
    const serial = options.serial ?? fixture.batch.serials[0];
    const batchId = options.batchId ?? fixture.batch.batchId;
    const recipient = options.recipient ?? fixture.shopper.address;
    const committed = claimProofOf(options.claimTree ?? fixture.claimTree, serial);
    const claimKey = options.claimKey ?? committed?.claimKey ?? ZeroAddress;
    const signer = options.signer ?? fixture.keys.get(serial)!;
    const signature = await signUnitClaim(
      signer,
      {
        chainId: options.chainId ?? fixture.chainId,
        address: options.verifyingContract ?? (await fixture.unitOwnership.getAddress()),
      },
      { tokenId: options.signedTokenId ?? unitTokenId(batchId, serial), recipient },
    );
    return [batchId, serial, claimKey, serialProof(fixture.batch.tree, serial), committed?.proof ?? [], recipient, signature] as const;
  }

  describe("commitClaimRoot", function () {
    it("test_commitClaimRoot_byManufacturer_storesTheRootAndEmits", async function () {
      const deployment = await networkHelpers.loadFixture(committedFixture);
      const { registry, manufacturer } = deployment;
      const unitOwnership = await deployUnitOwnership(ethers, deployment);
      const batch = await registerBatch(registry, manufacturer, { lot: "LOT-NEW", quantity: 3n });
      const root = buildClaimTree(batch.serials.map((serial) => ({ serial, claimKey: Wallet.createRandom().address }))).root;
      expect(await unitOwnership.claimRootOf(batch.batchId)).to.equal(ZeroHash);
      await expect(unitOwnership.connect(manufacturer).commitClaimRoot(batch.batchId, root, 3))
        .to.emit(unitOwnership, "ClaimRootCommitted")
        .withArgs(batch.batchId, manufacturer.address, root, 3);
      expect(await unitOwnership.claimRootOf(batch.batchId)).to.equal(root);
    });

    it("test_commitClaimRoot_zeroRoot_reverts", async function () {
      const { registry, manufacturer, unitOwnership } = await networkHelpers.loadFixture(committedFixture);
      const batch = await registerBatch(registry, manufacturer, { lot: "LOT-ZERO", quantity: 3n });
      await expect(unitOwnership.connect(manufacturer).commitClaimRoot(batch.batchId, ZeroHash, 3)).to.be.revertedWithCustomError(
        unitOwnership,
        "ClaimRootZero",
      );
    });

    it("test_commitClaimRoot_secondCommitmentByAnyone_revertsAndKeepsTheRoot", async function () {
      const { unitOwnership, manufacturer, admin, batch, claimTree } = await networkHelpers.loadFixture(committedFixture);
      const otherRoot = toBeHex(1n, 32);
      for (const caller of [manufacturer, admin]) {
        await expect(unitOwnership.connect(caller).commitClaimRoot(batch.batchId, otherRoot, 5))
          .to.be.revertedWithCustomError(unitOwnership, "ClaimRootAlreadyCommitted")
          .withArgs(batch.batchId);
      }
      expect(await unitOwnership.claimRootOf(batch.batchId)).to.equal(claimTree.root);
    });

    it("test_commitClaimRoot_notTheManufacturer_reverts", async function () {
      const { registry, manufacturer, admin, carrier, thief, unitOwnership } = await networkHelpers.loadFixture(committedFixture);
      const batch = await registerBatch(registry, manufacturer, { lot: "LOT-OTHERS", quantity: 3n });
      // The admin of both contracts, a participant holding the batch, a stranger: none is its manufacturer.
      await (await registry.connect(manufacturer).proposeHandoff(batch.batchId, carrier.address, 8412345000010n, 0)).wait();
      await (await registry.connect(carrier).acceptHandoff(batch.batchId, 8412345000010n, 1)).wait();
      for (const caller of [admin, carrier, thief]) {
        await expect(unitOwnership.connect(caller).commitClaimRoot(batch.batchId, toBeHex(1n, 32), 3))
          .to.be.revertedWithCustomError(unitOwnership, "NotBatchManufacturer")
          .withArgs(batch.batchId, caller.address);
      }
      expect(await unitOwnership.claimRootOf(batch.batchId)).to.equal(ZeroHash);
    });

    it("test_commitClaimRoot_unknownBatchOrSplitChild_reverts", async function () {
      const { registry, manufacturer, unitOwnership, batch } = await networkHelpers.loadFixture(committedFixture);
      const unknown = batchIdOf(8412345000102n, "LOT-NEVER");
      await expect(unitOwnership.connect(manufacturer).commitClaimRoot(unknown, toBeHex(1n, 32), 1))
        .to.be.revertedWithCustomError(unitOwnership, "BatchNotRegisteredLot")
        .withArgs(unknown);
      await (
        await registry.connect(manufacturer).splitBatch(batch.batchId, [
          { lot: "LOT-OWN/A", quantity: 3n, serialRoot: batch.tree.root },
          { lot: "LOT-OWN/B", quantity: 2n, serialRoot: batch.tree.root },
        ])
      ).wait();
      const child = batchIdOf(8412345000102n, "LOT-OWN/A");
      // The child's manufacturer is the same account, so only the lineage check stops a second root for its units.
      await expect(unitOwnership.connect(manufacturer).commitClaimRoot(child, toBeHex(1n, 32), 3))
        .to.be.revertedWithCustomError(unitOwnership, "BatchNotRegisteredLot")
        .withArgs(child);
    });

    it("test_commitClaimRoot_suspendedManufacturer_reverts", async function () {
      const { registry, manufacturer, admin, unitOwnership } = await networkHelpers.loadFixture(committedFixture);
      const batch = await registerBatch(registry, manufacturer, { lot: "LOT-SUSP", quantity: 3n });
      await (await registry.connect(admin).suspendParticipant(manufacturer.address, ZeroHash)).wait();
      await expect(unitOwnership.connect(manufacturer).commitClaimRoot(batch.batchId, toBeHex(1n, 32), 3))
        .to.be.revertedWithCustomError(unitOwnership, "ClaimRootCommitterSuspended")
        .withArgs(manufacturer.address);
    });

    it("test_commitClaimRoot_throughTheForwarder_actsForTheSigningManufacturer", async function () {
      const { registry, manufacturer, forwarder, relayer, unitOwnership } = await networkHelpers.loadFixture(committedFixture);
      const batch = await registerBatch(registry, manufacturer, { lot: "LOT-FWD", quantity: 3n });
      const root = toBeHex(7n, 32);
      const request = await signForwardRequest({
        forwarder,
        signer: manufacturer,
        target: unitOwnership,
        data: unitOwnership.interface.encodeFunctionData("commitClaimRoot", [batch.batchId, root, 3]),
      });
      await expect(forwarder.connect(relayer).execute(request))
        .to.emit(unitOwnership, "ClaimRootCommitted")
        .withArgs(batch.batchId, manufacturer.address, root, 3);
    });
  });

  describe("claim", function () {
    it("test_claim_submittedByTheRelayer_mintsToTheSignedRecipient", async function () {
      const fixture = await networkHelpers.loadFixture(committedFixture);
      const { unitOwnership, relayer, shopper, batch } = fixture;
      const serial = batch.serials[2];
      const tokenId = unitTokenId(batch.batchId, serial);
      expect(await unitOwnership.tokenIdOf(batch.batchId, serial)).to.equal(tokenId);
      const tx = unitOwnership.connect(relayer).claim(...(await claimArgs(fixture, { serial })));
      await expect(tx).to.emit(unitOwnership, "UnitClaimed").withArgs(tokenId, batch.batchId, shopper.address, serial);
      await expect(tx).to.emit(unitOwnership, "Transfer").withArgs(ZeroAddress, shopper.address, tokenId);
      expect(await unitOwnership.ownerOf(tokenId)).to.equal(shopper.address);
      expect(await unitOwnership.unitOf(tokenId)).to.deep.equal([batch.batchId, serial]);
      expect(await unitOwnership.balanceOf(shopper.address)).to.equal(1n);
    });

    it("test_claim_digestMatchesTheTypedDataTheKeySigns", async function () {
      const fixture = await networkHelpers.loadFixture(committedFixture);
      const { unitOwnership, batch, shopper, keys } = fixture;
      const serial = batch.serials[0];
      const tokenId = unitTokenId(batch.batchId, serial);
      const [, , , , , , signature] = await claimArgs(fixture, { serial });
      const digest = await unitOwnership.claimDigest(tokenId, shopper.address);
      expect(Signature.from(signature).v).to.be.oneOf([27, 28]);
      expect(ethers.recoverAddress(digest, signature)).to.equal(keys.get(serial)!.address);
    });

    it("test_claim_copiedFromTheMempool_mintsOnlyToTheSignedRecipient", async function () {
      const fixture = await networkHelpers.loadFixture(committedFixture);
      const { unitOwnership, thief, shopper, batch } = fixture;
      const args = await claimArgs(fixture);
      const tokenId = unitTokenId(batch.batchId, batch.serials[0]);
      // The thief redirects the watched claim to itself: the signature binds the shopper.
      const redirected = [...args] as unknown as Parameters<UnitOwnership["claim"]>;
      redirected[5] = thief.address;
      await expect(unitOwnership.connect(thief).claim(...redirected))
        .to.be.revertedWithCustomError(unitOwnership, "ClaimSignatureInvalid")
        .withArgs(args[2]);
      // The thief front-runs with an exact copy: the token still goes to the shopper.
      await expect(unitOwnership.connect(thief).claim(...args))
        .to.emit(unitOwnership, "Transfer")
        .withArgs(ZeroAddress, shopper.address, tokenId);
      // The relayer's original submission, mined afterwards, fails without effect.
      await expect(unitOwnership.connect(fixture.relayer).claim(...args))
        .to.be.revertedWithCustomError(unitOwnership, "UnitAlreadyClaimed")
        .withArgs(tokenId);
      expect(await unitOwnership.ownerOf(tokenId)).to.equal(shopper.address);
    });

    it("test_claim_secondClaimEvenWithTheSecret_reverts", async function () {
      const fixture = await networkHelpers.loadFixture(committedFixture);
      const { unitOwnership, thief, batch } = fixture;
      await (await unitOwnership.claim(...(await claimArgs(fixture)))).wait();
      // Whoever reads the secret later (a returned item, a photographed card) cannot take the token.
      const tokenId = unitTokenId(batch.batchId, batch.serials[0]);
      await expect(unitOwnership.connect(thief).claim(...(await claimArgs(fixture, { recipient: thief.address }))))
        .to.be.revertedWithCustomError(unitOwnership, "UnitAlreadyClaimed")
        .withArgs(tokenId);
    });

    it("test_claim_signatureForAnotherTokenChainOrContract_reverts", async function () {
      const fixture = await networkHelpers.loadFixture(committedFixture);
      const { unitOwnership, batch } = fixture;
      const claimKey = fixture.keys.get(batch.serials[0])!.address;
      const variants: ClaimOptions[] = [
        { signedTokenId: unitTokenId(batch.batchId, batch.serials[1]) },
        { chainId: fixture.chainId + 1n },
        { verifyingContract: Wallet.createRandom().address },
      ];
      for (const variant of variants) {
        await expect(unitOwnership.claim(...(await claimArgs(fixture, variant))))
          .to.be.revertedWithCustomError(unitOwnership, "ClaimSignatureInvalid")
          .withArgs(claimKey);
      }
    });

    it("test_claim_secretOfAnotherUnit_reverts", async function () {
      const fixture = await networkHelpers.loadFixture(committedFixture);
      const { unitOwnership, batch, keys, thief } = fixture;
      const [target, owned] = batch.serials;
      const ownedKey = keys.get(owned)!;
      // The thief bought unit `owned` and signs for `target` with its own secret, naming its own key...
      await expect(
        unitOwnership.claim(
          ...(await claimArgs(fixture, { serial: target, signer: ownedKey, claimKey: ownedKey.address, recipient: thief.address })),
        ),
      )
        .to.be.revertedWithCustomError(unitOwnership, "ClaimKeyNotCommitted")
        .withArgs(batch.batchId, target, ownedKey.address);
      // ...or naming the target's committed key.
      await expect(unitOwnership.claim(...(await claimArgs(fixture, { serial: target, signer: ownedKey, recipient: thief.address }))))
        .to.be.revertedWithCustomError(unitOwnership, "ClaimSignatureInvalid")
        .withArgs(keys.get(target)!.address);
    });

    it("test_claim_unitNotInTheManufacturersSerials_reverts", async function () {
      const fixture = await networkHelpers.loadFixture(committedFixture);
      const { unitOwnership, registry, manufacturer } = fixture;
      // A counterfeit serial the claim tree lists (a careless or forged claim tree) but the serial root does not.
      const counterfeit = "LOT-OWN-SN-999999";
      const counterfeitKey = Wallet.createRandom();
      const lot = "LOT-FAKE";
      const genuine = await registerBatch(registry, manufacturer, { lot, quantity: 3n });
      const tree = buildClaimTree([
        ...genuine.serials.map((serial) => ({ serial, claimKey: Wallet.createRandom().address })),
        { serial: counterfeit, claimKey: counterfeitKey.address },
      ]);
      await (await unitOwnership.connect(manufacturer).commitClaimRoot(genuine.batchId, tree.root, 4)).wait();
      const committed = claimProofOf(tree, counterfeit)!;
      const tokenId = unitTokenId(genuine.batchId, counterfeit);
      const signature = await signUnitClaim(
        counterfeitKey,
        { chainId: fixture.chainId, address: await unitOwnership.getAddress() },
        { tokenId, recipient: fixture.shopper.address },
      );
      // Its best serial proof is a genuine unit's: it does not prove the counterfeit.
      await expect(
        unitOwnership.claim(
          genuine.batchId,
          counterfeit,
          counterfeitKey.address,
          serialProof(genuine.tree, genuine.serials[0]),
          committed.proof,
          fixture.shopper.address,
          signature,
        ),
      )
        .to.be.revertedWithCustomError(unitOwnership, "UnitNotRegistered")
        .withArgs(genuine.batchId, counterfeit);
      expect(await unitOwnership.balanceOf(fixture.shopper.address)).to.equal(0n);
    });

    it("test_claim_beforeTheRootIsCommittedOrOnASplitChild_reverts", async function () {
      const fixture = await networkHelpers.loadFixture(committedFixture);
      const { unitOwnership, registry, manufacturer, batch } = fixture;
      const uncommitted = await registerBatch(registry, manufacturer, { lot: "LOT-LATER", quantity: 3n });
      await expect(unitOwnership.claim(...(await claimArgs(fixture, { batchId: uncommitted.batchId }))))
        .to.be.revertedWithCustomError(unitOwnership, "ClaimRootMissing")
        .withArgs(uncommitted.batchId);
      await (
        await registry.connect(manufacturer).splitBatch(batch.batchId, [
          { lot: "LOT-OWN/A", quantity: 4n, serialRoot: batch.tree.root },
          { lot: "LOT-OWN/B", quantity: 1n, serialRoot: batch.tree.root },
        ])
      ).wait();
      const child = batchIdOf(8412345000102n, "LOT-OWN/A");
      await expect(unitOwnership.claim(...(await claimArgs(fixture, { batchId: child }))))
        .to.be.revertedWithCustomError(unitOwnership, "ClaimRootMissing")
        .withArgs(child);
      // A unit that travelled in the child is claimed on its registered batch.
      await expect(unitOwnership.claim(...(await claimArgs(fixture)))).to.emit(unitOwnership, "UnitClaimed");
    });

    it("test_claim_recalledBatch_stillMints", async function () {
      const fixture = await networkHelpers.loadFixture(committedFixture);
      const { unitOwnership, registry, manufacturer, batch, shopper } = fixture;
      await (await registry.connect(manufacturer).recallBatch(batch.batchId, ZeroHash)).wait();
      // The owner of a recalled unit is exactly whom the recall must reach.
      await (await unitOwnership.claim(...(await claimArgs(fixture)))).wait();
      expect(await unitOwnership.ownerOf(unitTokenId(batch.batchId, batch.serials[0]))).to.equal(shopper.address);
    });

    it("test_claim_zeroRecipient_reverts", async function () {
      const fixture = await networkHelpers.loadFixture(committedFixture);
      await expect(fixture.unitOwnership.claim(...(await claimArgs(fixture, { recipient: ZeroAddress })))).to.be.revertedWithCustomError(
        fixture.unitOwnership,
        "RecipientZero",
      );
    });

    it("test_claim_malleatedOrMalformedSignature_reverts", async function () {
      const fixture = await networkHelpers.loadFixture(committedFixture);
      const { unitOwnership } = fixture;
      const args = await claimArgs(fixture);
      const signature = Signature.from(args[6]);
      // (r, n - s, flipped v) recovers the same key on raw ecrecover; OpenZeppelin's ECDSA rejects it.
      const highS = hexlify(
        new Uint8Array([
          ...getBytes(signature.r),
          ...getBytes(toBeHex(SECP256K1_N - BigInt(signature.s), 32)),
          signature.v === 27 ? 28 : 27,
        ]),
      );
      for (const bad of [highS, "0x", hexlify(new Uint8Array(65))]) {
        const tampered = [...args] as unknown as Parameters<UnitOwnership["claim"]>;
        tampered[6] = bad;
        await expect(unitOwnership.claim(...tampered))
          .to.be.revertedWithCustomError(unitOwnership, "ClaimSignatureInvalid")
          .withArgs(args[2]);
      }
    });
  });

  describe("after a claim", function () {
    async function claimedFixture() {
      const fixture = await committedFixture();
      await (await fixture.unitOwnership.connect(fixture.relayer).claim(...(await claimArgs(fixture)))).wait();
      return { ...fixture, tokenId: unitTokenId(fixture.batch.batchId, fixture.batch.serials[0]) };
    }

    it("test_transferFrom_byTheOwner_isRecorded", async function () {
      const { unitOwnership, shopper, secondOwner, tokenId } = await networkHelpers.loadFixture(claimedFixture);
      await expect(unitOwnership.connect(shopper).transferFrom(shopper.address, secondOwner.address, tokenId))
        .to.emit(unitOwnership, "Transfer")
        .withArgs(shopper.address, secondOwner.address, tokenId);
      expect(await unitOwnership.ownerOf(tokenId)).to.equal(secondOwner.address);
      await expect(unitOwnership.connect(secondOwner).transferFrom(secondOwner.address, shopper.address, tokenId))
        .to.emit(unitOwnership, "Transfer")
        .withArgs(secondOwner.address, shopper.address, tokenId);
      expect(await unitOwnership.ownerOf(tokenId)).to.equal(shopper.address);
    });

    it("test_transferFrom_throughTheForwarder_needsNoEthFromTheOwner", async function () {
      const { unitOwnership, forwarder, relayer, secondOwner, tokenId, shopper } = await networkHelpers.loadFixture(claimedFixture);
      const request = await signForwardRequest({
        forwarder,
        signer: shopper,
        target: unitOwnership,
        data: unitOwnership.interface.encodeFunctionData("transferFrom", [shopper.address, secondOwner.address, tokenId]),
      });
      await expect(forwarder.connect(relayer).execute(request))
        .to.emit(unitOwnership, "Transfer")
        .withArgs(shopper.address, secondOwner.address, tokenId);
    });

    it("test_transferFrom_adminOrManufacturerOrRelayer_reverts", async function () {
      const { unitOwnership, admin, manufacturer, relayer, shopper, tokenId } = await networkHelpers.loadFixture(claimedFixture);
      for (const caller of [admin, manufacturer, relayer]) {
        await expect(unitOwnership.connect(caller).transferFrom(shopper.address, caller.address, tokenId))
          .to.be.revertedWithCustomError(unitOwnership, "ERC721InsufficientApproval")
          .withArgs(caller.address, tokenId);
      }
      expect(await unitOwnership.ownerOf(tokenId)).to.equal(shopper.address);
    });

    it("test_tokenURI_isTheAdminsBaseFollowedByTheDecimalId", async function () {
      const { unitOwnership, admin, tokenId } = await networkHelpers.loadFixture(claimedFixture);
      expect(await unitOwnership.tokenURI(tokenId)).to.equal("");
      const base = "https://id.example.com/api/v1/ownership/tokens/";
      await expect(unitOwnership.connect(admin).setBaseURI(base)).to.emit(unitOwnership, "BaseURIChanged").withArgs(base);
      expect(await unitOwnership.baseURI()).to.equal(base);
      expect(await unitOwnership.tokenURI(tokenId)).to.equal(`${base}${tokenId.toString()}`);
    });

    it("test_setBaseURI_notAdmin_reverts", async function () {
      const { unitOwnership, manufacturer, shopper } = await networkHelpers.loadFixture(claimedFixture);
      const adminRole = await unitOwnership.DEFAULT_ADMIN_ROLE();
      for (const caller of [manufacturer, shopper]) {
        await expect(unitOwnership.connect(caller).setBaseURI("https://evil.example/"))
          .to.be.revertedWithCustomError(unitOwnership, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, adminRole);
      }
    });

    it("test_unitOf_unknownToken_reverts", async function () {
      const { unitOwnership, batch } = await networkHelpers.loadFixture(claimedFixture);
      const unclaimed = unitTokenId(batch.batchId, batch.serials[1]);
      await expect(unitOwnership.unitOf(unclaimed))
        .to.be.revertedWithCustomError(unitOwnership, "ERC721NonexistentToken")
        .withArgs(unclaimed);
    });
  });

  it("test_supportsInterface_erc721AndIUnitOwnership", async function () {
    const { unitOwnership } = await networkHelpers.loadFixture(committedFixture);
    const iface = new Interface((await artifacts.readArtifact("IUnitOwnership")).abi);
    let interfaceId = 0n;
    iface.forEachFunction((fragment) => {
      interfaceId ^= BigInt(fragment.selector);
    });
    expect(await unitOwnership.supportsInterface(toBeHex(interfaceId, 4))).to.equal(true);
    expect(await unitOwnership.supportsInterface("0x80ac58cd")).to.equal(true); // ERC-721
    expect(await unitOwnership.supportsInterface("0x5b5e139f")).to.equal(true); // ERC-721 metadata
    expect(await unitOwnership.supportsInterface("0xffffffff")).to.equal(false);
  });
});
