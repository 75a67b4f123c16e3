import { expect } from "chai";
import { network } from "hardhat";
import ProvenaModule, { DEFAULT_ADMIN_TRANSFER_DELAY } from "../../backend/deploy/ignition/ProvenaModule.ts";

const { ethers, ignition, networkHelpers } = await network.create();

describe("ProvenanceRegistry: Ignition ProvenaModule", function () {
  async function deployedByIgnition() {
    return ignition.deploy(ProvenaModule);
  }

  it("test_provenaModule_defaults_deploysForwarderAndRegistryWithDeployerAdmin", async function () {
    const { forwarder, registry } = await networkHelpers.loadFixture(deployedByIgnition);
    const [deployer] = await ethers.getSigners();
    expect(await registry.trustedForwarder()).to.equal(await forwarder.getAddress());
    expect(await registry.defaultAdmin()).to.equal(deployer.address);
    expect(await registry.defaultAdminDelay()).to.equal(DEFAULT_ADMIN_TRANSFER_DELAY);
    const { name, version } = await forwarder.eip712Domain();
    expect([name, version]).to.deep.equal(["ProvenaForwarder", "1"]);
  });

  it("test_provenaModule_adminAndDelayParameters_applied", async function () {
    const [, , , , , , , , , , consortium] = await ethers.getSigners();
    // Deployed from the consortium's account: the module's last step (registry.setCustodyObserver(escrow))
    // is an admin call sent by the deploying account.
    const deployed = await ignition.deploy(ProvenaModule, {
      defaultSender: consortium.address,
      parameters: { ProvenaModule: { admin: consortium.address, adminTransferDelay: 3_600n } },
    });
    const registry = await ethers.getContractAt("ProvenanceRegistry", await deployed.registry.getAddress());
    expect(await registry.defaultAdmin()).to.equal(consortium.address);
    expect(await registry.defaultAdminDelay()).to.equal(3_600n);
    await expect(
      registry.connect(consortium).onboardParticipant(consortium.address, await registry.CARRIER_ROLE(), 1n, "Consortium fleet"),
    ).to.emit(registry, "ParticipantOnboarded");
  });
});
