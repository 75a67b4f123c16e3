/**
 * The production path over a real HTTP JSON-RPC endpoint: Hardhat's network served on 127.0.0.1, contracts
 * deployed through plain ethers signers, the deployment file written and read back, the provider from
 * connectProvider, and the indexer mirroring into SQLite.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { type Contract, ContractFactory, keccak256, toUtf8Bytes, type JsonRpcSigner } from "ethers";
import { loadArtifact } from "../../../backend/chain/artifacts.ts";
import {
  DeploymentMismatchError,
  assertDeploymentOnChain,
  readDeployment,
  writeDeployment,
  type Deployment,
} from "../../../backend/chain/deployment.ts";
import { connectProvider, type ConnectedProvider } from "../../../backend/chain/provider.ts";
import { createIndexer } from "../../../backend/indexer/index.ts";
import { createSqliteStore } from "../../../backend/store/sqlite/index.ts";
import type { Hex } from "../../../backend/domain/model.ts";
import { indexerConfig, silentLogger } from "./harness.ts";

async function deployContract(name: string, signer: JsonRpcSigner, args: unknown[]): Promise<Contract> {
  const artifact = loadArtifact(name);
  const contract = await new ContractFactory(artifact.abi, artifact.bytecode, signer).deploy(...args);
  await contract.waitForDeployment();
  return contract as Contract;
}

describe("indexer over HTTP JSON-RPC", function () {
  let server: Awaited<ReturnType<typeof network.createServer>>;
  let connected: ConnectedProvider;
  let dir: string;

  before(async function () {
    server = await network.createServer(undefined, "127.0.0.1", 0);
    const { address, port } = await server.listen();
    connected = await connectProvider({
      rpcUrl: `http://${address}:${port}`,
      timeoutMs: 5_000,
      expectedChainId: 31337,
      pollingIntervalMs: 50,
    });
    dir = await mkdtemp(path.join(tmpdir(), "provena-jsonrpc-"));
  });

  after(async function () {
    await connected?.provider.destroy();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("test_indexer_overHttp_fromDeploymentFileToStore", async function () {
    const { provider, chainId } = connected;
    const [admin, manufacturer, platform] = await Promise.all([0, 1, 2].map((index) => provider.getSigner(index)));
    const deployBlock = (await provider.getBlockNumber()) + 1;
    const forwarder = await deployContract("ProvenaForwarder", admin!, []);
    const registry = await deployContract("ProvenanceRegistry", admin!, [await forwarder.getAddress(), admin!.address, 0]);
    const escrow = await deployContract("TradeEscrow", admin!, [
      await registry.getAddress(),
      await forwarder.getAddress(),
      admin!.address,
      0,
      platform!.address,
      100,
      86_400,
    ]);
    await (await registry.getFunction("setCustodyObserver")(await escrow.getAddress())).wait();

    const file = path.join(dir, `${chainId}.json`);
    await writeDeployment(file, {
      chainId,
      forwarder: (await forwarder.getAddress()) as Hex,
      registry: (await registry.getAddress()) as Hex,
      escrow: (await escrow.getAddress()) as Hex,
      deployBlock,
    });
    const deployment = (await readDeployment(file, chainId)) as Deployment;
    await assertDeploymentOnChain(provider, deployment);

    const manufacturerRole = keccak256(toUtf8Bytes("MANUFACTURER_ROLE"));
    await (await registry.getFunction("onboardParticipant")(manufacturer!.address, manufacturerRole, 8_412_345_000_019n, "Acme")).wait();
    await (await registry.getFunction("grantCompanyPrefix")(manufacturer!.address, 8_412_345n, 7)).wait();
    const lot = "HTTP-1";
    const gtin = 8_412_345_000_102n;
    await (
      await (registry.connect(manufacturer!) as Contract).getFunction("registerBatch")(
        gtin,
        lot,
        12n,
        1_700_000_000n,
        8_412_345_000_019n,
        keccak256(toUtf8Bytes("doc")),
        keccak256(toUtf8Bytes("root")),
      )
    ).wait();
    const batchId = ((await registry.getFunction("batchIdOf")(gtin, lot)) as string).toLowerCase() as Hex;

    const store = createSqliteStore({ path: ":memory:" });
    await store.init();
    const indexer = createIndexer({ provider, deployment, store, config: indexerConfig({ instanceId: "http" }), logger: silentLogger() });
    indexer.start();
    try {
      await indexer.waitForBlock(await provider.getBlockNumber());
      expect(await store.getBatch(batchId)).to.deep.include({
        lot,
        gtin: "08412345000102",
        quantity: "12",
        manufacturer: manufacturer!.address.toLowerCase(),
        status: "registered",
      });
      expect(await store.getParticipant(manufacturer!.address.toLowerCase() as Hex)).to.deep.include({
        participantId: 1,
        name: "Acme",
        gln: "8412345000019",
        roles: ["MANUFACTURER"],
      });
      expect(indexer.status()).to.deep.include({ isLeader: true, lagBlocks: 0 });
    } finally {
      await indexer.stop();
      await store.close();
    }
  });

  it("test_assertDeploymentOnChain_staleFile_failsWithOneLine", async function () {
    const stale: Deployment = {
      chainId: connected.chainId,
      forwarder: "0x00000000000000000000000000000000000000f0",
      registry: "0x00000000000000000000000000000000000000a1",
      escrow: "0x00000000000000000000000000000000000000e5",
      deployBlock: 0,
    };
    try {
      await assertDeploymentOnChain(connected.provider, stale);
      expect.fail("accepted a deployment without code");
    } catch (error) {
      expect(error).to.be.instanceOf(DeploymentMismatchError);
      expect((error as Error).message).to.match(
        /No contract code on chain 31337 at ProvenanceRegistry \(0x0+a1\), TradeEscrow .*, ProvenaForwarder .*: the deployment file is stale/,
      );
    }
    // The unit ownership contract is checked when the deployment names it.
    try {
      await assertDeploymentOnChain(connected.provider, { ...stale, unitOwnership: "0x00000000000000000000000000000000000000c7" });
      expect.fail("accepted a deployment without code");
    } catch (error) {
      expect((error as Error).message).to.match(/ProvenaForwarder .*, UnitOwnership \(0x0+c7\): the deployment file is stale/);
    }
    try {
      await assertDeploymentOnChain(connected.provider, { ...stale, chainId: 1 });
      expect.fail("accepted a deployment of another chain");
    } catch (error) {
      expect((error as Error).message).to.equal("Deployment is for chain 1, but the provider serves chain 31337");
    }
  });
});
