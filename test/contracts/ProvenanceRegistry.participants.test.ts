import { expect } from "chai";
import { network } from "hardhat";
import { id as keccakId, type Interface, ZeroAddress } from "ethers";
import { deployProvena } from "../../scripts/fixtures/provena-deployment.ts";
import { documentHash } from "../helpers/batches.ts";
import { glnFrom } from "../helpers/gs1.ts";
import { IParticipantRegistry__factory, IProvenanceRegistry__factory } from "../../types/ethers-contracts/index.js";

const { ethers, networkHelpers } = await network.create();

/** ERC-165 id of an interface: XOR of the selectors it declares itself (not inherited ones). */
function interfaceIdOf(abi: Interface, inherited: Interface[] = []): string {
  const inheritedSelectors = new Set<string>();
  for (const parent of inherited) parent.forEachFunction((fragment) => inheritedSelectors.add(fragment.selector));
  let id = 0n;
  abi.forEachFunction((fragment) => {
    if (!inheritedSelectors.has(fragment.selector)) id ^= BigInt(fragment.selector);
  });
  return `0x${id.toString(16).padStart(8, "0")}`;
}

describe("ProvenanceRegistry: participants", function () {
  async function deployFixture() {
    return deployProvena(ethers, { escrow: false });
  }

  async function notOnboardedFixture() {
    return deployProvena(ethers, { escrow: false, onboard: false });
  }

  describe("when deployed", function () {
    it("test_constructor_deployed_definesFiveParticipantRoles", async function () {
      const { registry } = await networkHelpers.loadFixture(deployFixture);
      expect(await registry.MANUFACTURER_ROLE()).to.equal(keccakId("MANUFACTURER_ROLE"));
      expect(await registry.CARRIER_ROLE()).to.equal(keccakId("CARRIER_ROLE"));
      expect(await registry.INSPECTOR_ROLE()).to.equal(keccakId("INSPECTOR_ROLE"));
      expect(await registry.RETAILER_ROLE()).to.equal(keccakId("RETAILER_ROLE"));
      expect(await registry.REGULATOR_ROLE()).to.equal(keccakId("REGULATOR_ROLE"));
    });

    it("test_constructor_deployed_setsAdminAndTrustsForwarder", async function () {
      const { registry, forwarder, admin, roles } = await networkHelpers.loadFixture(notOnboardedFixture);
      expect(await registry.hasRole(roles.DEFAULT_ADMIN_ROLE, admin.address)).to.equal(true);
      expect(await registry.defaultAdmin()).to.equal(admin.address);
      expect(await registry.defaultAdminDelay()).to.equal(0n);
      expect(await registry.trustedForwarder()).to.equal(await forwarder.getAddress());
      expect(await registry.isTrustedForwarder(await forwarder.getAddress())).to.equal(true);
      expect(await registry.participantCount()).to.equal(0n);
      expect(await registry.custodyObserver()).to.equal(ZeroAddress);
    });

    it("test_supportsInterface_registryAndAccessControl_true", async function () {
      const { registry } = await networkHelpers.loadFixture(notOnboardedFixture);
      const participantInterface = IParticipantRegistry__factory.createInterface();
      const provenanceInterface = IProvenanceRegistry__factory.createInterface();
      expect(await registry.supportsInterface(interfaceIdOf(participantInterface))).to.equal(true);
      expect(await registry.supportsInterface(interfaceIdOf(provenanceInterface, [participantInterface]))).to.equal(true);
      expect(await registry.supportsInterface("0x01ffc9a7")).to.equal(true); // IERC165
      expect(await registry.supportsInterface("0x7965db0b")).to.equal(true); // IAccessControl
      expect(await registry.supportsInterface("0xffffffff")).to.equal(false);
    });
  });

  describe("onboardParticipant", function () {
    describe("when the admin onboards a new account", function () {
      it("test_onboardParticipant_newAccount_assignsIdStoresGlnGrantsRoleAndEmits", async function () {
        const { registry, admin, roles, signers } = await networkHelpers.loadFixture(notOnboardedFixture);
        const [account, second] = [signers[10], signers[11]];
        const gln = glnFrom("871234599990");

        await expect(registry.connect(admin).onboardParticipant(account.address, roles.CARRIER_ROLE, gln, "Blue Water Shipping"))
          .to.emit(registry, "ParticipantOnboarded")
          .withArgs(account.address, 1n, roles.CARRIER_ROLE, gln, "Blue Water Shipping")
          .and.to.emit(registry, "RoleGranted")
          .withArgs(roles.CARRIER_ROLE, account.address, admin.address);
        expect(await registry.participant(account.address)).to.deep.equal([1n, gln, false]);
        expect(await registry.participantAccount(1n)).to.equal(account.address);
        expect(await registry.hasRole(roles.CARRIER_ROLE, account.address)).to.equal(true);

        await expect(registry.connect(admin).onboardParticipant(second.address, roles.RETAILER_ROLE, gln, "Shop"))
          .to.emit(registry, "ParticipantOnboarded")
          .withArgs(second.address, 2n, roles.RETAILER_ROLE, gln, "Shop");
        expect(await registry.participantCount()).to.equal(2n);
      });

      it("test_onboardParticipant_newAccount_returnsId", async function () {
        const { registry, admin, roles, signers } = await networkHelpers.loadFixture(deployFixture);
        const returned = await registry.connect(admin).onboardParticipant.staticCall(signers[10].address, roles.CARRIER_ROLE, 1n, "x");
        expect(returned).to.equal(7n); // six demo participants before
      });

      it("test_onboardParticipant_largest13DigitGln_accepted", async function () {
        const { registry, admin, roles, signers } = await networkHelpers.loadFixture(notOnboardedFixture);
        await expect(
          registry.connect(admin).onboardParticipant(signers[10].address, roles.INSPECTOR_ROLE, 9_999_999_999_999n, "Lab"),
        ).to.emit(registry, "ParticipantOnboarded");
      });

      it("test_onboardParticipant_demoConsortium_hasIds1To6", async function () {
        const { registry, participants } = await networkHelpers.loadFixture(deployFixture);
        for (const p of Object.values(participants)) {
          expect(await registry.participant(p.address)).to.deep.equal([p.id, p.gln, false]);
          expect(await registry.isActiveParticipant(p.address, p.role)).to.equal(true);
        }
      });
    });

    describe("when the input is invalid", function () {
      it("test_onboardParticipant_notAdmin_reverts", async function () {
        const { registry, manufacturer, roles, signers } = await networkHelpers.loadFixture(deployFixture);
        await expect(registry.connect(manufacturer).onboardParticipant(signers[10].address, roles.CARRIER_ROLE, 1n, "x"))
          .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
          .withArgs(manufacturer.address, roles.DEFAULT_ADMIN_ROLE);
      });

      it("test_onboardParticipant_zeroAddress_reverts", async function () {
        const { registry, admin, roles } = await networkHelpers.loadFixture(deployFixture);
        await expect(registry.connect(admin).onboardParticipant(ZeroAddress, roles.CARRIER_ROLE, 1n, "x")).to.be.revertedWithCustomError(
          registry,
          "ParticipantZeroAddress",
        );
      });

      it("test_onboardParticipant_nonParticipantRole_reverts", async function () {
        const { registry, admin, roles, signers } = await networkHelpers.loadFixture(deployFixture);
        for (const role of [roles.DEFAULT_ADMIN_ROLE, keccakId("ARBITER_ROLE")]) {
          await expect(registry.connect(admin).onboardParticipant(signers[10].address, role, 1n, "x"))
            .to.be.revertedWithCustomError(registry, "ParticipantInvalidRole")
            .withArgs(role);
        }
      });

      it("test_onboardParticipant_invalidGln_reverts", async function () {
        const { registry, admin, roles, signers } = await networkHelpers.loadFixture(deployFixture);
        for (const gln of [0n, 10_000_000_000_000n]) {
          await expect(registry.connect(admin).onboardParticipant(signers[10].address, roles.CARRIER_ROLE, gln, "x"))
            .to.be.revertedWithCustomError(registry, "ParticipantInvalidGln")
            .withArgs(gln);
        }
      });

      it("test_onboardParticipant_alreadyOnboarded_reverts", async function () {
        const { registry, admin, roles, carrier } = await networkHelpers.loadFixture(deployFixture);
        await expect(registry.connect(admin).onboardParticipant(carrier.address, roles.INSPECTOR_ROLE, 1n, "again"))
          .to.be.revertedWithCustomError(registry, "ParticipantAlreadyOnboarded")
          .withArgs(carrier.address);
      });
    });
  });

  describe("updateParticipant", function () {
    it("test_updateParticipant_byAdmin_changesGlnAndEmitsParticipantUpdated", async function () {
      const { registry, admin, carrier, participants } = await networkHelpers.loadFixture(deployFixture);
      const gln = glnFrom("841234577777");
      await expect(registry.connect(admin).updateParticipant(carrier.address, gln, "Mare Nostrum Freight S.A."))
        .to.emit(registry, "ParticipantUpdated")
        .withArgs(carrier.address, gln, "Mare Nostrum Freight S.A.");
      expect(await registry.participant(carrier.address)).to.deep.equal([participants.carrier.id, gln, false]);
    });

    it("test_updateParticipant_notAdmin_reverts", async function () {
      const { registry, carrier, roles } = await networkHelpers.loadFixture(deployFixture);
      await expect(registry.connect(carrier).updateParticipant(carrier.address, 1n, "me"))
        .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
        .withArgs(carrier.address, roles.DEFAULT_ADMIN_ROLE);
    });

    it("test_updateParticipant_neverOnboarded_reverts", async function () {
      const { registry, admin, outsider } = await networkHelpers.loadFixture(deployFixture);
      await expect(registry.connect(admin).updateParticipant(outsider.address, 1n, "x"))
        .to.be.revertedWithCustomError(registry, "ParticipantUnknown")
        .withArgs(outsider.address);
    });

    it("test_updateParticipant_invalidGln_reverts", async function () {
      const { registry, admin, carrier } = await networkHelpers.loadFixture(deployFixture);
      await expect(registry.connect(admin).updateParticipant(carrier.address, 0n, "x"))
        .to.be.revertedWithCustomError(registry, "ParticipantInvalidGln")
        .withArgs(0n);
    });
  });

  describe("suspendParticipant and reinstateParticipant", function () {
    const reason = documentHash("licence withdrawn");

    it("test_suspendParticipant_active_deactivatesAndEmitsParticipantSuspended", async function () {
      const { registry, admin, carrier, participants, roles } = await networkHelpers.loadFixture(deployFixture);
      await expect(registry.connect(admin).suspendParticipant(carrier.address, reason))
        .to.emit(registry, "ParticipantSuspended")
        .withArgs(carrier.address, reason);
      expect(await registry.participant(carrier.address)).to.deep.equal([participants.carrier.id, participants.carrier.gln, true]);
      expect(await registry.isActiveParticipant(carrier.address, roles.CARRIER_ROLE)).to.equal(false);
      // The role itself is kept, so reinstating restores everything.
      expect(await registry.hasRole(roles.CARRIER_ROLE, carrier.address)).to.equal(true);
    });

    it("test_reinstateParticipant_suspended_reactivatesAndEmitsParticipantReinstated", async function () {
      const { registry, admin, carrier, roles } = await networkHelpers.loadFixture(deployFixture);
      await registry.connect(admin).suspendParticipant(carrier.address, reason);
      await expect(registry.connect(admin).reinstateParticipant(carrier.address))
        .to.emit(registry, "ParticipantReinstated")
        .withArgs(carrier.address);
      expect(await registry.isActiveParticipant(carrier.address, roles.CARRIER_ROLE)).to.equal(true);
    });

    it("test_suspendParticipant_alreadySuspended_reverts", async function () {
      const { registry, admin, carrier } = await networkHelpers.loadFixture(deployFixture);
      await registry.connect(admin).suspendParticipant(carrier.address, reason);
      await expect(registry.connect(admin).suspendParticipant(carrier.address, reason))
        .to.be.revertedWithCustomError(registry, "ParticipantIsSuspended")
        .withArgs(carrier.address);
    });

    it("test_reinstateParticipant_notSuspended_reverts", async function () {
      const { registry, admin, carrier } = await networkHelpers.loadFixture(deployFixture);
      await expect(registry.connect(admin).reinstateParticipant(carrier.address))
        .to.be.revertedWithCustomError(registry, "ParticipantNotSuspended")
        .withArgs(carrier.address);
    });

    it("test_suspendOrReinstateParticipant_unknownAccount_reverts", async function () {
      const { registry, admin, outsider } = await networkHelpers.loadFixture(deployFixture);
      await expect(registry.connect(admin).suspendParticipant(outsider.address, reason))
        .to.be.revertedWithCustomError(registry, "ParticipantUnknown")
        .withArgs(outsider.address);
      await expect(registry.connect(admin).reinstateParticipant(outsider.address))
        .to.be.revertedWithCustomError(registry, "ParticipantUnknown")
        .withArgs(outsider.address);
    });

    it("test_suspendOrReinstateParticipant_notAdmin_reverts", async function () {
      const { registry, customs, carrier, roles } = await networkHelpers.loadFixture(deployFixture);
      await expect(registry.connect(customs).suspendParticipant(carrier.address, reason))
        .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
        .withArgs(customs.address, roles.DEFAULT_ADMIN_ROLE);
      await expect(registry.connect(customs).reinstateParticipant(carrier.address))
        .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
        .withArgs(customs.address, roles.DEFAULT_ADMIN_ROLE);
    });
  });

  describe("isActiveParticipant", function () {
    it("test_isActiveParticipant_roleNotHeld_false", async function () {
      const { registry, carrier, roles } = await networkHelpers.loadFixture(deployFixture);
      expect(await registry.isActiveParticipant(carrier.address, roles.MANUFACTURER_ROLE)).to.equal(false);
    });

    it("test_isActiveParticipant_neverOnboarded_false", async function () {
      const { registry, admin, roles, outsider } = await networkHelpers.loadFixture(deployFixture);
      await registry.connect(admin).grantRole(roles.CARRIER_ROLE, outsider.address);
      expect(await registry.isActiveParticipant(outsider.address, roles.CARRIER_ROLE)).to.equal(false);
      expect(await registry.participant(outsider.address)).to.deep.equal([0n, 0n, false]);
    });

    it("test_isActiveParticipant_furtherRoleGranted_true", async function () {
      const { registry, admin, roles, warehouse } = await networkHelpers.loadFixture(deployFixture);
      await expect(registry.connect(admin).grantRole(roles.INSPECTOR_ROLE, warehouse.address))
        .to.emit(registry, "RoleGranted")
        .withArgs(roles.INSPECTOR_ROLE, warehouse.address, admin.address);
      expect(await registry.isActiveParticipant(warehouse.address, roles.INSPECTOR_ROLE)).to.equal(true);
    });
  });

  describe("when the consortium admin is handed over", function () {
    it("test_defaultAdminTransfer_twoStepWithDelay_handsOver", async function () {
      const { registry, admin, signers, roles } = await networkHelpers.loadFixture(deployFixture);
      const newAdmin = signers[12];
      await registry.connect(admin).beginDefaultAdminTransfer(newAdmin.address);
      await networkHelpers.time.increase(1);
      await registry.connect(newAdmin).acceptDefaultAdminTransfer();
      expect(await registry.defaultAdmin()).to.equal(newAdmin.address);
      await expect(registry.connect(newAdmin).onboardParticipant(signers[13].address, roles.RETAILER_ROLE, 1n, "Corner shop")).to.emit(
        registry,
        "ParticipantOnboarded",
      );
      await expect(registry.connect(admin).onboardParticipant(signers[14].address, roles.RETAILER_ROLE, 1n, "x"))
        .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
        .withArgs(admin.address, roles.DEFAULT_ADMIN_ROLE);
    });
  });
});
