import { expect } from "chai";
import { network } from "hardhat";
import ProvenaModule, { DEFAULT_TRANSFORMATIONS_GLN, REGULATOR_ROLE } from "../../backend/deploy/ignition/ProvenaModule.ts";

const { ethers, ignition, networkHelpers } = await network.create();

describe("Transformations: Ignition ProvenaModule", function () {
  async function deployedByIgnition() {
    return ignition.deploy(ProvenaModule);
  }

  it("test_module_deploysTransformationsOverTheRegistryAndForwarder", async function () {
    const { forwarder, registry, transformations } = await networkHelpers.loadFixture(deployedByIgnition);
    const deployed = await ethers.getContractAt("Transformations", await transformations.getAddress());
    expect(await deployed.registry()).to.equal(await registry.getAddress());
    expect(await deployed.trustedForwarder()).to.equal(await forwarder.getAddress());
  });

  it("test_module_onboardsTransformationsAsARegistryRegulator", async function () {
    const { registry, transformations } = await networkHelpers.loadFixture(deployedByIgnition);
    const provenance = await ethers.getContractAt("ProvenanceRegistry", await registry.getAddress());
    const address = await transformations.getAddress();
    const [participantId, gln, suspended] = await provenance.participant(address);
    expect(participantId).to.not.equal(0n);
    expect([gln, suspended]).to.deep.equal([DEFAULT_TRANSFORMATIONS_GLN, false]);
    expect(await provenance.isActiveParticipant(address, REGULATOR_ROLE)).to.equal(true);
  });

  it("test_module_transformationsGlnParameter_isTheOnboardedGln", async function () {
    const deployed = await ignition.deploy(ProvenaModule, { parameters: { ProvenaModule: { transformationsGln: 8712345000981n } } });
    const provenance = await ethers.getContractAt("ProvenanceRegistry", await deployed.registry.getAddress());
    const [, gln] = await provenance.participant(await deployed.transformations.getAddress());
    expect(gln).to.equal(8712345000981n);
  });
});
