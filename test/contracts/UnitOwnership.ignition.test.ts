import { expect } from "chai";
import { network } from "hardhat";
import ProvenaModule, { DEFAULT_ADMIN_TRANSFER_DELAY } from "../../backend/deploy/ignition/ProvenaModule.ts";

const { ethers, ignition, networkHelpers } = await network.create();

describe("UnitOwnership: Ignition ProvenaModule", function () {
  async function deployedByIgnition() {
    return ignition.deploy(ProvenaModule);
  }

  it("test_module_deploysUnitOwnershipOverTheRegistryAndForwarder", async function () {
    const { forwarder, registry, unitOwnership } = await networkHelpers.loadFixture(deployedByIgnition);
    const [deployer] = await ethers.getSigners();
    const tokens = await ethers.getContractAt("UnitOwnership", await unitOwnership.getAddress());
    expect(await tokens.registry()).to.equal(await registry.getAddress());
    expect(await tokens.trustedForwarder()).to.equal(await forwarder.getAddress());
    expect(await tokens.defaultAdmin()).to.equal(deployer.address);
    expect(await tokens.defaultAdminDelay()).to.equal(DEFAULT_ADMIN_TRANSFER_DELAY);
    expect([await tokens.name(), await tokens.symbol()]).to.deep.equal(["Provena Unit Ownership", "PROVENA-UNIT"]);
    const { name, version } = await tokens.eip712Domain();
    expect([name, version]).to.deep.equal(["Provena Unit Ownership", "1"]);
  });

  it("test_module_adminParameter_administersUnitOwnership", async function () {
    const [, , , , , , , , , , consortium] = await ethers.getSigners();
    const deployed = await ignition.deploy(ProvenaModule, {
      defaultSender: consortium.address,
      parameters: { ProvenaModule: { admin: consortium.address, adminTransferDelay: 3_600n } },
    });
    const tokens = await ethers.getContractAt("UnitOwnership", await deployed.unitOwnership.getAddress());
    expect(await tokens.defaultAdmin()).to.equal(consortium.address);
    expect(await tokens.defaultAdminDelay()).to.equal(3_600n);
    await expect(tokens.connect(consortium).setBaseURI("https://id.example.com/api/v1/ownership/tokens/")).to.emit(
      tokens,
      "BaseURIChanged",
    );
  });
});
