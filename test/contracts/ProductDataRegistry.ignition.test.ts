import { expect } from "chai";
import { network } from "hardhat";
import type { EIP1193Provider } from "@nomicfoundation/ignition-core";
import { providerFromEip1193 } from "../../backend/chain/provider.ts";
import { deployProvenaWithIgnition } from "../../backend/deploy/deploy-provena.ts";
import ProvenaModule from "../../backend/deploy/ignition/ProvenaModule.ts";

describe("ProductDataRegistry: Ignition ProvenaModule", function () {
  it("test_provenaModule_deploysProductDataOverTheRegistryAndForwarder", async function () {
    const { ignition } = await network.create();
    const { forwarder, registry, productData } = await ignition.deploy(ProvenaModule);
    expect(await productData.registry()).to.equal(await registry.getAddress());
    expect(await productData.trustedForwarder()).to.equal(await forwarder.getAddress());
  });

  it("test_deployProvenaWithIgnition_writesProductDataIntoTheDeployment", async function () {
    const connection = await network.create();
    const { provider, chainId } = await providerFromEip1193(connection.provider, 50);
    try {
      const deployment = await deployProvenaWithIgnition({
        eip1193: connection.provider as unknown as EIP1193Provider,
        provider,
        chainId,
      });
      expect(deployment.productData).to.match(/^0x[0-9a-f]{40}$/);
      expect(await provider.getCode(deployment.productData!)).to.not.equal("0x");
    } finally {
      await connection.close();
    }
  });
});
