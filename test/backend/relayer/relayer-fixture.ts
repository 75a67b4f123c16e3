/**
 * A Provena deployment on Hardhat's in-process chain with the relayer's pieces around it: the embedded
 * SQLite store, the relay service and its HTTP module inside the real app, a funded relayer account, and
 * helpers to sign forward requests the way a partner would.
 */
import { network } from "hardhat";
import { Wallet, type Signer } from "ethers";
import { pino } from "pino";
import { createApp } from "../../../backend/api/app.ts";
import { createMetrics } from "../../../backend/api/metrics.ts";
import { loadProvenaAbis } from "../../../backend/chain/artifacts.ts";
import type { ChainAccess } from "../../../backend/chain/chain-access.ts";
import { providerFromEip1193 } from "../../../backend/chain/provider.ts";
import {
  createRelayModule,
  createRelayService,
  createRelayerWorker,
  forwarderDomain,
  signForwardRequest,
  type ForwardRequestInput,
  type RelayerWorkerOptions,
} from "../../../backend/relayer/index.ts";
import { createStore } from "../../../backend/store/index.ts";
import type { MirrorStore } from "../../../backend/store/port.ts";
import type { Hex } from "../../../backend/domain/model.ts";
import { deployDesignRegistry } from "../../../scripts/fixtures/design-registry.ts";
import { deployProvena, deployUnitOwnership } from "../../../scripts/fixtures/provena-deployment.ts";

export const silentLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });

export async function createRelayerFixture() {
  const connection = await network.create();
  const { ethers, networkHelpers } = connection;
  const deployment = await deployProvena(ethers);
  const { forwarder, registry, escrow, admin } = deployment;
  if (!escrow) throw new Error("TradeEscrow is not compiled");
  const designRegistry = await deployDesignRegistry(ethers, deployment);
  const unitOwnership = await deployUnitOwnership(ethers, deployment);

  const { provider, chainId } = await providerFromEip1193(connection.provider, 50);
  const abis = loadProvenaAbis();
  const chain: ChainAccess = {
    provider,
    chainId,
    addresses: {
      forwarder: (await forwarder.getAddress()).toLowerCase() as Hex,
      registry: (await registry.getAddress()).toLowerCase() as Hex,
      escrow: (await escrow.getAddress()).toLowerCase() as Hex,
      designRegistry: (await designRegistry.getAddress()).toLowerCase() as Hex,
      unitOwnership: (await unitOwnership.getAddress()).toLowerCase() as Hex,
    },
    abis: {
      forwarder: abis.ProvenaForwarder,
      registry: abis.ProvenanceRegistry,
      escrow: abis.TradeEscrow,
      designRegistry: abis.DesignRegistry,
    },
  };

  // The relayer's own key, funded by the admin: it pays gas for partners who hold no ETH.
  const relayerWallet = Wallet.createRandom().connect(provider);
  await (await admin.sendTransaction({ to: relayerWallet.address, value: ethers.parseEther("100") })).wait();

  const store: MirrorStore = await createStore({ sqlitePath: ":memory:" });
  /** The relay service and the app around it, for the chain's addresses as they are now (a test may add a contract). */
  function relayApp() {
    const relayService = createRelayService({ store, chain, relayerAddress: relayerWallet.address.toLowerCase() as Hex });
    const relayHttpApp = createApp({
      store,
      logger: silentLogger,
      metrics: createMetrics({ processMetrics: false }),
      indexerStatus: () => ({ chainId, headBlock: null, indexedBlock: null, lagBlocks: null, eventsIndexed: 0, isLeader: false }),
      readyMaxLagBlocks: 10,
      modules: [createRelayModule({ service: relayService, writeRateLimitPerMinute: 1_000 })],
    });
    return { service: relayService, app: relayHttpApp };
  }
  const { service, app } = relayApp();

  const domain = forwarderDomain(chainId, chain.addresses.forwarder);

  /** Signs `data` for `target` as `signer` (nonce: the forwarder's current one unless given). */
  async function signedRequest(
    signer: Signer,
    target: "registry" | "escrow" | "designRegistry" | "unitOwnership",
    data: string,
    overrides: Partial<{ nonce: bigint; deadline: number; gas: bigint; from: string; value: bigint; to: string }> = {},
  ): Promise<ForwardRequestInput> {
    const from = (overrides.from ?? (await signer.getAddress())).toLowerCase() as Hex;
    const latest = await provider.getBlock("latest");
    const message = {
      from,
      to: (overrides.to ?? chain.addresses[target]!) as Hex,
      value: overrides.value ?? 0n,
      gas: overrides.gas ?? 500_000n,
      nonce: overrides.nonce ?? (await forwarder.nonces(from)),
      deadline: overrides.deadline ?? latest!.timestamp + 3600,
      data: data as Hex,
    };
    const signature = await signForwardRequest(signer, domain, message);
    return {
      from: message.from,
      to: message.to,
      value: message.value.toString(),
      gas: message.gas.toString(),
      nonce: message.nonce.toString(),
      deadline: message.deadline,
      data: message.data,
      signature,
    };
  }

  function worker(options: Partial<RelayerWorkerOptions> = {}) {
    return createRelayerWorker({
      store,
      chain,
      signer: relayerWallet,
      logger: silentLogger,
      holder: options.holder ?? "test-relayer",
      pollMs: 20,
      ...options,
    });
  }

  return {
    connection,
    ethers,
    networkHelpers,
    deployment,
    designRegistry,
    unitOwnership,
    chain,
    provider,
    store,
    service,
    app,
    relayApp,
    relayerWallet,
    domain,
    signedRequest,
    worker,
  };
}

export type RelayerFixture = Awaited<ReturnType<typeof createRelayerFixture>>;
