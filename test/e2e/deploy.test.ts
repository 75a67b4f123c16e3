/**
 * Deploying with the Ignition module through backend/deploy (what `npm start` on an RPC_URL and `provena deploy`
 * use), with Ignition's journal kept on disk as on a real network.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { providerFromEip1193 } from "../../backend/chain/provider.ts";
import type { EIP1193Provider } from "@nomicfoundation/ignition-core";
import { DeploymentFailedError, deployProvenaWithIgnition } from "../../backend/deploy/deploy-provena.ts";

describe("deploying Provena with Ignition", function () {
  this.timeout(60_000);
  let journal: string;

  beforeEach(async function () {
    journal = await mkdtemp(path.join(tmpdir(), "provena-ignition-"));
  });

  afterEach(async function () {
    await rm(journal, { recursive: true, force: true });
  });

  async function deployOnAFreshChain() {
    const connection = await network.create();
    const { provider, chainId } = await providerFromEip1193(connection.provider, 50);
    try {
      const deployment = await deployProvenaWithIgnition({
        eip1193: connection.provider as unknown as EIP1193Provider,
        provider,
        chainId,
        deploymentDir: journal,
      });
      return {
        deployment,
        registryCode: await provider.getCode(deployment.registry),
        designRegistryCode: deployment.designRegistry ? await provider.getCode(deployment.designRegistry) : "0x",
        coldChainCode: deployment.coldChain === undefined ? "0x" : await provider.getCode(deployment.coldChain),
      };
    } finally {
      await connection.close();
    }
  }

  it("test_deploy_journalFromAResetChain_failsNamingTheJournalInsteadOfReturningEmptyAddresses", async function () {
    const first = await deployOnAFreshChain();
    expect(first.registryCode).to.not.equal("0x");
    expect(first.designRegistryCode).to.not.equal("0x");
    expect(first.coldChainCode).to.not.equal("0x");

    // The same chain id, started over (a restarted dev node): the journal still says everything was deployed.
    let failure: unknown = null;
    await deployOnAFreshChain().catch((error) => (failure = error));
    expect(failure).to.be.instanceOf(DeploymentFailedError);
    expect((failure as Error).message)
      .to.contain(journal)
      .and.contain("has no code on chain 31337")
      .and.contain("delete that journal");
  });
});
