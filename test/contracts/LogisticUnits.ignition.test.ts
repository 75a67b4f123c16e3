import { expect } from "chai";
import { network } from "hardhat";
import ProvenaModule, { CARRIER_ROLE, DEFAULT_LOGISTIC_UNITS_GLN } from "../../backend/deploy/ignition/ProvenaModule.ts";

const { ethers, ignition, networkHelpers } = await network.create();

describe("LogisticUnits: Ignition ProvenaModule", function () {
  async function deployedByIgnition() {
    return ignition.deploy(ProvenaModule);
  }

  it("test_module_deploysLogisticUnitsOverTheRegistryAndForwarder", async function () {
    const { forwarder, registry, logisticUnits } = await networkHelpers.loadFixture(deployedByIgnition);
    const units = await ethers.getContractAt("LogisticUnits", await logisticUnits.getAddress());
    expect(await units.registry()).to.equal(await registry.getAddress());
    expect(await units.trustedForwarder()).to.equal(await forwarder.getAddress());
  });

  it("test_module_onboardsLogisticUnitsAsARegistryCarrier", async function () {
    const { registry, logisticUnits } = await networkHelpers.loadFixture(deployedByIgnition);
    const provenance = await ethers.getContractAt("ProvenanceRegistry", await registry.getAddress());
    const unitsAddress = await logisticUnits.getAddress();
    const [participantId, gln, suspended] = await provenance.participant(unitsAddress);
    expect(participantId).to.not.equal(0n);
    expect([gln, suspended]).to.deep.equal([DEFAULT_LOGISTIC_UNITS_GLN, false]);
    expect(await provenance.isActiveParticipant(unitsAddress, CARRIER_ROLE)).to.equal(true);
  });

  it("test_module_logisticUnitsGlnParameter_isTheOnboardedGln", async function () {
    const deployed = await ignition.deploy(ProvenaModule, { parameters: { ProvenaModule: { logisticUnitsGln: 8712345000998n } } });
    const provenance = await ethers.getContractAt("ProvenanceRegistry", await deployed.registry.getAddress());
    const [, gln] = await provenance.participant(await deployed.logisticUnits.getAddress());
    expect(gln).to.equal(8712345000998n);
  });
});
