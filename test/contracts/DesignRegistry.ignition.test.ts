import { expect } from "chai";
import { network } from "hardhat";
import ProvenaModule from "../../backend/deploy/ignition/ProvenaModule.ts";

const { ignition, networkHelpers } = await network.create();

describe("DesignRegistry: Ignition ProvenaModule", function () {
  async function deployedByIgnition() {
    return ignition.deploy(ProvenaModule);
  }

  it("test_provenaModule_deploysDesignRegistryOverTheRegistryAndForwarder", async function () {
    const { forwarder, registry, designRegistry } = await networkHelpers.loadFixture(deployedByIgnition);
    expect(await designRegistry.participantRegistry()).to.equal(await registry.getAddress());
    expect(await designRegistry.trustedForwarder()).to.equal(await forwarder.getAddress());
  });
});
