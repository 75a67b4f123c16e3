/**
 * The main job: composes the whole backend and listens.
 *
 *   chain     RPC_URL, or the embedded chain on 127.0.0.1: anvil keeping its state in EMBEDDED_CHAIN_DIR (default),
 *             or Hardhat's in-process chain served as a real JSON-RPC endpoint (EMBEDDED_CHAIN=hardhat; tests)
 *   contracts the deployment file for the chain, or a fresh deployment with the Ignition module
 *   store     MongoDB when MONGODB_URI is set, else the embedded SQLite file
 *   indexer   mirrors every contract event into the store
 *   relayer   submits partners' signed requests and keeper jobs (when it has a key)
 *   keeper    settles escrow orders as soon as the contracts allow
 *   recalls   flags packed batches a recall reaches on LogisticUnits, so their containers stop moving
 *   anchorer  commits each cold-chain leg's readings on chain, one Merkle root per ANCHOR_INTERVAL_MS window
 *   breaches  sends stored out-of-range readings to the cold chain as evidence (with a relayer and a ColdChain)
 *   MQTT      cold-chain readings: an embedded broker on MQTT_HOST:MQTT_PORT, or MQTT_URL's (with a ColdChain deployment)
 *   API       read API, passports, relay endpoints on HOST:PORT (in API_WORKERS processes: backend/api-workers.ts)
 *
 * `startProvena` resolves once everything listens and rejects with one clear line when a configured endpoint
 * cannot be reached. `stop()` shuts down in reverse order: workers, HTTP server, store, chain.
 */
import { readFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type { Server } from "node:http";
import { Wallet, type JsonRpcProvider, type WebSocketProvider } from "ethers";
import { pino, type Logger } from "pino";
import { createApp, type ProvenaApp } from "./api/app.ts";
import type { RateLimitStoreFactory } from "./api/cluster-rate-limit-store.ts";
import { apiWorkerCount, startApiWorkers, type ApiWorkers } from "./api-workers.ts";
import { createHttpServer } from "./api/http-server.ts";
import type { IndexerStatusSource } from "./api/indexer-status.ts";
import { createMetrics } from "./api/metrics.ts";
import type { RouteModule } from "./api/route-module.ts";
import { loadProvenaAbis, type ProvenaAbis } from "./chain/artifacts.ts";
import { assertDeploymentOnChain, readDeployment, resolveDeploymentFile, writeDeployment, type Deployment } from "./chain/deployment.ts";
import { outdatedContracts, type OutdatedContract } from "./chain/deployed-code.ts";
import { EmbeddedAnvilError, embeddedRelayerKey, resolveAnvilBinary, startEmbeddedAnvil } from "./chain/embedded-anvil.ts";
import { connectProvider } from "./chain/provider.ts";
import { redactUrl, type Config } from "./config.ts";
import { deployProvenaWithIgnition, eip1193Of, ignitionJournalDir, type DeployProvenaParameters } from "./deploy/deploy-provena.ts";
import { createIndexer, type Indexer } from "./indexer/index.ts";
import { createKeeper, type Keeper } from "./keeper/keeper.ts";
import { createRecallFlagger } from "./containers/recall-flagger.ts";
import { createInputRecallFlagger } from "./transformations/recall-flagger.ts";
import { createReadingProofs } from "./coldchain/anchor-proofs.ts";
import { startAnchorer } from "./coldchain/anchor-start.ts";
import type { ChainAccess } from "./chain/chain-access.ts";
import { createRelayModule, createRelayService, createRelayerWorker, type RelayerWorker, type RelayService } from "./relayer/index.ts";
import { createAuthModule, viewerOfRequest } from "./auth/auth-routes.ts";
import { createAuthService } from "./auth/auth-service.ts";
import { createSignedTokens } from "./auth/signed-tokens.ts";
import { createEpcisModule } from "./epcis/epcis-routes.ts";
import { createEpcisImportModule } from "./epcis/import-routes.ts";
import { createEpcisImportService } from "./epcis/import-service.ts";
import { createOrderReadGrantModule } from "./finance/order-read-grant-routes.ts";
import { createDocumentModule } from "./documents/document-routes.ts";
import { createBatchDocumentService } from "./documents/document-service.ts";
import { createProductDataModule } from "./product-data/product-data-routes.ts";
import { createProductDataService } from "./product-data/product-data-service.ts";
import { createOrderReadGrantService } from "./finance/order-read-grants.ts";
import { createTradeRecordModule } from "./finance/trade-record-routes.ts";
import { createTradeRecordService } from "./finance/trade-record-service.ts";
import { createRecallDesk } from "./recalls/recall-desk.ts";
import { createTraceModule } from "./trace/trace-routes.ts";
import { createContainerModule } from "./containers/container-routes.ts";
import { createContainerService } from "./containers/container-service.ts";
import { createTraceService } from "./trace/trace-service.ts";
import { createRecallModule } from "./recalls/recall-routes.ts";
import { createRecallDeskPageModule } from "./desk/desk-module.ts";
import { createReputationModule } from "./reputation/reputation-routes.ts";
import { DEFAULT_REPUTATION_POLICY } from "./reputation/reputation.ts";
import { createReputationService } from "./reputation/reputation-service.ts";
import { createReputationThread, type ReputationThread } from "./reputation/reputation-thread.ts";
import { createDesignModule } from "./designs/design-routes.ts";
import { createDesignService } from "./designs/design-service.ts";
import { createPassportModule } from "./passport/passport-module.ts";
import type { ScanDeduper } from "./passport/scan-dedupe.ts";
import { createQrRenderer, type QrRenderer } from "./passport/qr-renderer.ts";
import {
  createBreachSubmitter,
  createColdChainIngest,
  defaultSignatureThreads,
  createColdChainModule,
  createColdChainView,
  startMqttReadingSource,
  type ReadingIngest,
} from "./coldchain/index.ts";
import { createStore } from "./store/index.ts";
import type { MirrorStore } from "./store/port.ts";
import type { Hex } from "./domain/model.ts";

export interface StartProvenaOptions {
  logger?: Logger;
  /** Port of the embedded chain's JSON-RPC server (anvil or the in-process chain); 0 picks a free one (default). */
  embeddedChainPort?: number;
  /** Finds the anvil binary (default: resolveAnvilBinary, from its platform package); tests stand in a missing one. */
  resolveAnvilBinary?: () => string;
  /** Deploy this Ignition module instead of backend/deploy/ignition/ProvenaModule.ts (it must return forwarder, registry, escrow). */
  ignitionModule?: DeployProvenaParameters["ignitionModule"];
}

/** The chain this process runs on: the one chain access (handed to the relayer and the keeper) plus what only main needs. */
export interface ProvenaChain extends ChainAccess {
  /** "anvil" and "in-process" are the embedded chains, whose node signs for funded dev accounts. */
  kind: "anvil" | "in-process" | "rpc";
  /** Where the chain answers JSON-RPC (the embedded chain's local server, or RPC_URL). */
  rpcUrl: string;
  /** True when this start began an empty chain (the in-process one always; anvil without a saved state). */
  startedEmpty: boolean;
  /** One line for logs: which chain this is. */
  description: string;
  /** A JSON-RPC provider: main destroys it on stop and funds the in-process relayer through it. */
  provider: JsonRpcProvider | WebSocketProvider;
  deployment: Deployment;
  /** True when this start deployed the contracts. */
  deployedNow: boolean;
}

/** The chain as opened, before its deployment is known. */
type OpenedChain = Pick<ProvenaChain, "kind" | "chainId" | "rpcUrl" | "startedEmpty" | "description" | "provider">;

export interface RunningProvena {
  /** Base URL of the HTTP API. */
  url: string;
  chain: ProvenaChain;
  store: MirrorStore;
  indexer: Indexer;
  /** Null when no relayer key is configured (on an external chain). */
  relayer: { address: Hex; worker: RelayerWorker } | null;
  keeper: Keeper | null;
  /** The API worker processes when API_WORKERS > 1 (the API is then served by them, not by this process). */
  apiWorkers: ApiWorkers | null;
  /** Where devices publish readings (the embedded broker's URL, or the external one's without credentials); null without MQTT. */
  mqttUrl: string | null;
  stop(): Promise<void>;
}

/** The configured chain, store or deployment is unusable; `message` is the one line to show the operator. */
export class StartupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StartupError";
  }
}

export interface ProvenaHttpDeps {
  config: Config;
  store: MirrorStore;
  logger: Logger;
  chain: Pick<ProvenaChain, "chainId" | "provider" | "deployment">;
  indexerStatus: IndexerStatusSource;
  /** The relay's service, the relayer's account and what to do when it accepts a request; null while no relayer runs. */
  relay: { service: RelayService; relayerAddress?: Hex; onAccepted: () => void } | null;
  /** Draws QR codes on worker threads; its owner closes it (absent: the passport module makes its own). */
  qrRenderer?: QrRenderer;
  /** Where the per-client rate limits count hits (API workers: in the primary); default: in this process. */
  rateLimitStoreFor?: RateLimitStoreFactory;
  /** Which passport scans count (an API worker's asks the primary); absent: the passport module's own. */
  scanDeduper?: ScanDeduper;
  /** The cold-chain ingest the telemetry POST feeds (main's, shared with MQTT); absent: the app makes its own. */
  coldChainIngest?: ReadingIngest | null;
  /** Computes partners' track records off the event loop; its owner closes it (absent: in-process). */
  reputationThread?: ReputationThread | null;
}

/**
 * The HTTP app `npm start` serves: operational endpoints and read API (always), passports and serial-list
 * uploads, and the relay when a relayer runs, each with its limits from the configuration.
 */
export function createProvenaHttpApp(deps: ProvenaHttpDeps): ProvenaApp {
  const { config, store, logger, chain, relay } = deps;
  const { deployment } = chain;
  const auth = createAuthService({
    store,
    tokens: createSignedTokens({
      secret: Buffer.from(config.session.secret, "base64url"),
      nonceTtlMs: config.session.nonceTtlSeconds * 1_000,
    }),
    publicBaseUrl: config.publicBaseUrl,
    chainId: chain.chainId,
    sessionTtlMs: config.session.ttlSeconds * 1_000,
    provider: chain.provider,
  });
  const reputation = createReputationService({ store, chainId: chain.chainId, thread: deps.reputationThread });
  const modules: RouteModule[] = [
    createPassportModule({
      store,
      chain: chain.provider,
      logger,
      config: {
        publicBaseUrl: config.publicBaseUrl,
        publicRpcUrl: config.publicRpcUrl,
        chainId: chain.chainId,
        registryAddress: deployment.registry,
        otherContracts: [
          deployment.escrow,
          deployment.forwarder,
          ...(deployment.unitOwnership ? [deployment.unitOwnership] : []),
          ...(deployment.logisticUnits ? [deployment.logisticUnits] : []),
          ...(deployment.transformations ? [deployment.transformations] : []),
        ],
        ...(deployment.coldChain ? { coldChainAddress: deployment.coldChain } : {}),
        deployBlock: deployment.deployBlock,
        thresholds: config.passportCloneThresholds,
        viewCacheMb: config.passportCacheMb,
      },
      uploadBodyLimit: config.uploadBodyLimit,
      writeRateLimitPerMinute: config.writeRateLimitPerMinute,
      jsonMaxDepth: config.jsonMaxDepth,
      qrRenderer: deps.qrRenderer,
      qrMaxWidth: config.qr.maxWidth,
      rateLimitStoreFor: deps.rateLimitStoreFor,
      scanDeduper: deps.scanDeduper,
      reputation,
      auth,
      // Claims are relayed: without a relayer (or the contract) the passport keeps the database claim.
      ...(deployment.unitOwnership && relay?.relayerAddress
        ? {
            ownership: {
              unitOwnership: deployment.unitOwnership,
              provider: chain.provider,
              relayerAddress: relay.relayerAddress,
              onClaimQueued: relay.onAccepted,
            },
          }
        : {}),
    }),
  ];
  modules.push(createEpcisModule({ store }));
  modules.push(
    createEpcisImportModule({
      service: createEpcisImportService({ store, chain }),
      rateLimitPerMinute: config.writeRateLimitPerMinute,
      jsonMaxDepth: config.jsonMaxDepth,
      rateLimitStoreFor: deps.rateLimitStoreFor,
    }),
  );
  modules.push(createTraceModule({ service: createTraceService({ store }) }));
  modules.push(createContainerModule({ service: createContainerService({ store }) }));
  modules.push(createReputationModule({ service: reputation }));
  modules.push(
    createDesignModule({
      service: createDesignService({ store }),
      verifyRateLimitPerMinute: config.writeRateLimitPerMinute,
      jsonMaxDepth: config.jsonMaxDepth,
      rateLimitStoreFor: deps.rateLimitStoreFor,
    }),
  );
  modules.push(
    createRecallModule({
      desk: createRecallDesk({ store, chainId: chain.chainId }),
      auth,
      chainId: chain.chainId,
      writeRateLimitPerMinute: config.writeRateLimitPerMinute,
      jsonMaxDepth: config.jsonMaxDepth,
      rateLimitStoreFor: deps.rateLimitStoreFor,
    }),
  );
  modules.push(
    createRecallDeskPageModule({
      desk: createRecallDesk({ store, chainId: chain.chainId }),
      auth,
      store,
      productData: createProductDataService({ store }),
    }),
  );
  modules.push(
    createTradeRecordModule({
      service: createTradeRecordService({ store, chain: { provider: chain.provider, deployment, abis: loadProvenaAbis() } }),
      auth,
      writeRateLimitPerMinute: config.writeRateLimitPerMinute,
      jsonMaxDepth: config.jsonMaxDepth,
      rateLimitStoreFor: deps.rateLimitStoreFor,
    }),
  );
  modules.push(
    createOrderReadGrantModule({
      service: createOrderReadGrantService({ store }),
      auth,
      writeRateLimitPerMinute: config.writeRateLimitPerMinute,
      jsonMaxDepth: config.jsonMaxDepth,
      rateLimitStoreFor: deps.rateLimitStoreFor,
    }),
  );
  modules.push(
    createProductDataModule({
      service: createProductDataService({ store }),
      auth,
      writeRateLimitPerMinute: config.writeRateLimitPerMinute,
      jsonMaxDepth: config.jsonMaxDepth,
      rateLimitStoreFor: deps.rateLimitStoreFor,
    }),
  );
  modules.push(
    createDocumentModule({
      service: createBatchDocumentService({ store }),
      auth,
      documentBodyLimit: config.documentBodyLimit,
      writeRateLimitPerMinute: config.writeRateLimitPerMinute,
      rateLimitStoreFor: deps.rateLimitStoreFor,
    }),
  );
  modules.push(
    createAuthModule({
      service: auth,
      secureCookie: config.publicBaseUrl.startsWith("https:"),
      writeRateLimitPerMinute: config.writeRateLimitPerMinute,
      jsonMaxDepth: config.jsonMaxDepth,
      rateLimitStoreFor: deps.rateLimitStoreFor,
    }),
  );
  if (relay) {
    modules.push(
      createRelayModule({
        service: relay.service,
        writeRateLimitPerMinute: config.writeRateLimitPerMinute,
        bodyLimit: config.relayBodyLimit,
        jsonMaxDepth: config.jsonMaxDepth,
        onAccepted: relay.onAccepted,
        rateLimitStoreFor: deps.rateLimitStoreFor,
      }),
    );
  }
  const coldChainIngest = deps.coldChainIngest !== undefined ? deps.coldChainIngest : createColdChainIngest({ store, deployment, logger });
  modules.push(
    createColdChainModule({
      view: createColdChainView(store),
      proofs: createReadingProofs(store),
      ingest: coldChainIngest,
      writeRateLimitPerMinute: config.writeRateLimitPerMinute,
      jsonMaxDepth: config.jsonMaxDepth,
      rateLimitStoreFor: deps.rateLimitStoreFor,
    }),
  );
  const metrics = createMetrics();
  for (const metric of coldChainIngest?.metrics ?? []) metrics.registry.registerMetric(metric);
  return createApp({
    store,
    logger,
    metrics,
    indexerStatus: deps.indexerStatus,
    readyMaxLagBlocks: config.readyMaxLagBlocks,
    modules,
    bodyLimit: config.jsonBodyLimit,
    jsonMaxDepth: config.jsonMaxDepth,
    readLimits: {
      apiPerMinute: config.readRateLimitPerMinute,
      passportPerMinute: config.passportReadRateLimitPerMinute,
      maxClients: config.rateLimitMaxClients,
      rateLimitStoreFor: deps.rateLimitStoreFor,
    },
    trustProxy: config.trustProxy,
    logRequests: config.logRequests,
    viewerOf: (req) => viewerOfRequest(auth, req),
  });
}

/** The QR renderer an HTTP app serves codes with, sized by the configuration (one per process that serves the API). */
export function createQrRendererFromConfig(config: Config): QrRenderer {
  return createQrRenderer({ threads: config.qr.renderThreads, queueLimit: config.qr.queueLimit, cacheBytes: config.qr.cacheBytes });
}

/**
 * The thread that computes the reputation API's records over its own connection to the SQLite file; null for MongoDB, whose
 * reads are asynchronous I/O and leave the event loop free, and for a ":memory:" store, private to its connection.
 */
export function createReputationThreadFromConfig(
  config: Pick<Config, "mongodbUri" | "sqlitePath"> & Partial<Pick<Config, "sqliteCacheMb">>,
  chainId: number,
): ReputationThread | null {
  if ((config.mongodbUri ?? "") !== "" || config.sqlitePath === ":memory:") return null;
  return createReputationThread({
    path: config.sqlitePath,
    chainId,
    policy: DEFAULT_REPUTATION_POLICY,
    ...(config.sqliteCacheMb === undefined ? {} : { cacheMb: config.sqliteCacheMb }),
  });
}

export async function startProvena(config: Config, options: StartProvenaOptions = {}): Promise<RunningProvena> {
  const logger = options.logger ?? pino({ level: config.logLevel });
  const log = logger.child({ component: "main" });
  const cleanup: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const step of cleanup.splice(0).reverse())
      await step().catch((error) => log.warn({ error: String(error) }, "shutdown step failed"));
  };

  try {
    // Chain and store first, in parallel: each fails fast with its own clear line.
    const [chainResult, storeResult] = await Promise.allSettled([
      openChain(config, options, log, cleanup),
      createStore({ mongodbUri: config.mongodbUri, sqlitePath: config.sqlitePath, sqliteCacheMb: config.sqliteCacheMb }).then((opened) => {
        cleanup.push(() => opened.close());
        return opened;
      }),
    ]);
    if (chainResult.status === "rejected") throw chainResult.reason;
    if (storeResult.status === "rejected") throw storeResult.reason;
    const openedChain = chainResult.value;
    const store = storeResult.value;
    log.info({ chain: openedChain.description }, `chain: ${openedChain.description}`);
    log.info({ store: store.describe() }, `store: ${store.describe()}`);
    if (config.session.secretGenerated) {
      log.info("sign-in: SESSION_SECRET is unset, so a key was drawn for this run; sessions end when Provena stops");
    }

    const { deployment, deployedNow } = await resolveDeployment(config, openedChain, log, options.ignitionModule);
    const abis = loadProvenaAbis();
    const chain = provenaChain(openedChain, deployment, deployedNow, abis);
    log.info({ deployment }, deployedNow ? "contracts deployed with the Ignition module" : "contracts found from the deployment file");

    if (chain.startedEmpty) await retireRequestsOfEarlierChains(store, chain.chainId);

    const indexer = createIndexer({
      provider: chain.provider,
      deployment,
      store,
      config: {
        confirmations: config.confirmations,
        indexerBlockRange: config.indexerBlockRange,
        indexerPollMs: config.indexerPollMs,
        leaseTtlMs: config.leaseTtlMs,
        instanceId: config.instanceId,
      },
      logger,
      abis,
      onFatal: (error) => log.fatal({ error: error.message }, "indexer stopped"),
    });
    indexer.start();
    cleanup.push(() => indexer.stop());

    const coldChainIngest = createColdChainIngest({ store, deployment, logger, signatureThreads: defaultSignatureThreads() });
    let mqttUrl: string | null = null;
    if (coldChainIngest !== null) {
      cleanup.push(() => coldChainIngest.close());
      const mqtt = await startMqttReadingSource({ mqtt: config.mqtt, ingest: coldChainIngest, clientId: config.instanceId, logger });
      if (mqtt !== null) {
        cleanup.push(() => mqtt.close());
        mqttUrl = mqtt.url;
      }
    }

    const { relayer, keeper, relay } = await startRelayerAndKeeper(config, { store, chain, logger, cleanup });

    let url: string;
    let apiWorkers: ApiWorkers | null = null;
    const workers = apiWorkerCount(config);
    if (workers > 1) {
      const api = (apiWorkers = await startApiWorkers({
        count: workers,
        setup: { config, rpcUrl: chain.rpcUrl, chainId: chain.chainId, deployment, relayerAddress: relayer?.address ?? null },
        indexerStatus: () => indexer.status(),
        onRelayAccepted: () => relayer?.worker.poke(),
        logger: log,
      }));
      cleanup.push(() => api.stop());
      url = api.url;
    } else {
      const qrRenderer = createQrRendererFromConfig(config);
      cleanup.push(() => qrRenderer.close());
      const reputationThread = createReputationThreadFromConfig(config, chain.chainId);
      if (reputationThread !== null) cleanup.push(() => reputationThread.close());
      const app = createProvenaHttpApp({
        config,
        store,
        logger,
        chain,
        indexerStatus: () => indexer.status(),
        relay,
        qrRenderer,
        coldChainIngest,
        reputationThread,
      });
      const server = await listen(app, config);
      cleanup.push(() => closeServer(server));
      const address = server.address() as AddressInfo;
      url = `http://${address.family === "IPv6" ? `[${address.address}]` : address.address}:${address.port}`;
    }
    log.info({ url }, `API listening on ${url}`);

    return { url, chain, store, indexer, relayer, keeper, apiWorkers, mqttUrl, stop: closeAll };
  } catch (error) {
    await closeAll();
    throw error instanceof StartupError ? error : new StartupError(oneLine(error), { cause: error });
  }
}

// --- relayer and keeper --------------------------------------------------------------------------------

interface RelayerAndKeeper {
  relayer: RunningProvena["relayer"];
  keeper: Keeper | null;
  relay: ProvenaHttpDeps["relay"];
}

/** Starts the relayer worker and the keeper when a relayer key is configured (always on the embedded chain). */
async function startRelayerAndKeeper(
  config: Config,
  { store, chain, logger, cleanup }: { store: MirrorStore; chain: ProvenaChain; logger: Logger; cleanup: (() => Promise<void>)[] },
): Promise<RelayerAndKeeper> {
  const log = logger.child({ component: "main" });
  const relayerWallet = await relayerSigner(config, chain);
  if (!relayerWallet) {
    log.warn("relayer: off (set RELAYER_PRIVATE_KEY or RELAYER_KEYSTORE to relay partners' signed requests and run the keeper)");
    return { relayer: null, keeper: null, relay: null };
  }
  const address = relayerWallet.address.toLowerCase() as Hex;
  const worker = createRelayerWorker({
    store,
    chain,
    signer: relayerWallet,
    logger,
    holder: config.instanceId,
    leaseTtlMs: config.leaseTtlMs,
    confirmations: Math.max(1, config.confirmations),
    pollMs: chain.kind === "rpc" ? 1_000 : 250,
  });
  worker.start();
  cleanup.push(() => worker.stop());
  const keeper = createKeeper({
    store,
    chain,
    relayerAddress: address,
    logger,
    intervalMs: config.keeperIntervalMs,
    onJobQueued: () => worker.poke(),
  });
  keeper.start();
  cleanup.push(() => keeper.stop());
  const recallFlagger = createRecallFlagger({
    store,
    chain,
    relayerAddress: address,
    logger,
    intervalMs: config.keeperIntervalMs,
    onJobQueued: () => worker.poke(),
  });
  if (recallFlagger !== null) {
    recallFlagger.start();
    cleanup.push(() => recallFlagger.stop());
  }
  const inputRecallFlagger = createInputRecallFlagger({
    store,
    chain,
    relayerAddress: address,
    logger,
    intervalMs: config.keeperIntervalMs,
    onJobQueued: () => worker.poke(),
  });
  if (inputRecallFlagger !== null) {
    inputRecallFlagger.start();
    cleanup.push(() => inputRecallFlagger.stop());
  }
  const anchorer = await startAnchorer({
    store,
    chain,
    relayerAddress: address,
    logger,
    windowMs: config.anchorIntervalMs,
    // The embedded chain's node signs for the deploying admin; the relayer's key was made after the deployment.
    grantFrom: chain.kind === "rpc" ? null : await chain.provider.getSigner(),
    onJobQueued: () => worker.poke(),
  });
  if (anchorer !== null) cleanup.push(() => anchorer.stop());
  if (chain.addresses.coldChain !== undefined) {
    const breachSubmitter = createBreachSubmitter({
      store,
      chain,
      relayerAddress: address,
      logger,
      intervalMs: config.keeperIntervalMs,
      onJobQueued: () => worker.poke(),
    });
    breachSubmitter.start();
    cleanup.push(() => breachSubmitter.stop());
  }
  log.info({ relayer: address }, `relayer: ${address}`);
  return {
    relayer: { address, worker },
    keeper,
    relay: {
      service: createRelayService({ store, chain, relayerAddress: address }),
      relayerAddress: address,
      onAccepted: () => worker.poke(),
    },
  };
}

// --- chain -----------------------------------------------------------------------------------------------

async function openChain(
  config: Config,
  options: StartProvenaOptions,
  log: Logger,
  cleanup: (() => Promise<void>)[],
): Promise<OpenedChain> {
  if (config.rpcUrl !== null) {
    const { provider, chainId } = await connectProvider({
      rpcUrl: config.rpcUrl,
      timeoutMs: config.rpcTimeoutMs,
      pollingIntervalMs: 1_000,
    });
    cleanup.push(async () => provider.destroy());
    return {
      kind: "rpc",
      chainId,
      rpcUrl: config.rpcUrl,
      startedEmpty: false,
      provider,
      description: `JSON-RPC at ${redactUrl(config.rpcUrl)} (chain ${chainId})`,
    };
  }
  if (config.embeddedChain === "anvil") {
    let binary: string | null = null;
    try {
      binary = (options.resolveAnvilBinary ?? resolveAnvilBinary)();
    } catch (error) {
      if (!(error instanceof EmbeddedAnvilError)) throw error;
      log.warn(
        `${error.message}: falling back to Hardhat's in-process chain, which will NOT persist (the chain starts empty on every start)`,
      );
    }
    if (binary !== null) return openEmbeddedAnvil(config, binary, options, cleanup);
  }
  return openInProcessChain(config, options, cleanup);
}

/** anvil as a child process keeping its state in EMBEDDED_CHAIN_DIR: the same chain on every start. */
async function openEmbeddedAnvil(
  config: Config,
  binary: string,
  options: StartProvenaOptions,
  cleanup: (() => Promise<void>)[],
): Promise<OpenedChain> {
  let anvil;
  try {
    anvil = await startEmbeddedAnvil({ binary, dir: config.embeddedChainDir, port: options.embeddedChainPort ?? 0 });
  } catch (error) {
    throw new StartupError(`Cannot start the embedded chain: ${(error as Error).message}`, { cause: error });
  }
  // Pushed first, so it runs last: anvil writes its state once every worker has stopped.
  cleanup.push(() => anvil.stop());
  const { provider, chainId } = await connectProvider({ rpcUrl: anvil.rpcUrl, timeoutMs: config.rpcTimeoutMs, pollingIntervalMs: 250 });
  cleanup.push(async () => provider.destroy());
  return {
    kind: "anvil",
    chainId,
    rpcUrl: anvil.rpcUrl,
    startedEmpty: !anvil.resumed,
    provider,
    description: `anvil dev chain ${chainId}, JSON-RPC at ${anvil.rpcUrl} (${anvil.resumed ? "resumed from" : "new, kept in"} ${anvil.stateFile})`,
  };
}

async function openInProcessChain(config: Config, options: StartProvenaOptions, cleanup: (() => Promise<void>)[]): Promise<OpenedChain> {
  // Imported only here: with RPC_URL or anvil the backend runs without a Hardhat runtime.
  const { network } = await import("hardhat");
  const server = await network.createServer(undefined, "127.0.0.1", options.embeddedChainPort ?? 0);
  const { port } = await server.listen();
  cleanup.push(() => server.close());
  const rpcUrl = `http://127.0.0.1:${port}`;
  const { provider, chainId } = await connectProvider({ rpcUrl, timeoutMs: config.rpcTimeoutMs, pollingIntervalMs: 250 });
  cleanup.push(async () => provider.destroy());
  return {
    kind: "in-process",
    chainId,
    rpcUrl,
    startedEmpty: true,
    provider,
    description: `Hardhat in-process chain ${chainId}, JSON-RPC at ${rpcUrl} (it starts empty and vanishes on exit)`,
  };
}

async function resolveDeployment(
  config: Config,
  chain: OpenedChain,
  log: Logger,
  ignitionModule: DeployProvenaParameters["ignitionModule"],
): Promise<{ deployment: Deployment; deployedNow: boolean }> {
  // The in-process chain is new on every start: deploy, and keep the deployment in memory only.
  if (chain.kind === "in-process") {
    const deployment = await deployProvenaWithIgnition({
      eip1193: eip1193Of(chain.provider),
      provider: chain.provider,
      chainId: chain.chainId,
      ignitionModule,
    });
    return { deployment, deployedNow: true };
  }
  if (chain.kind === "anvil") return resolveEmbeddedDeployment(config, chain, log, ignitionModule);
  const file = resolveDeploymentFile(config.deploymentFile, chain.chainId);
  const existing = await readDeployment(file, chain.chainId);
  if (existing) {
    await assertDeploymentOnChain(chain.provider, existing);
    return { deployment: existing, deployedNow: false };
  }
  log.info({ file }, `no deployment for chain ${chain.chainId} at ${file}: deploying with the Ignition module`);
  const deployment = await deployProvenaWithIgnition({
    eip1193: eip1193Of(chain.provider),
    provider: chain.provider,
    chainId: chain.chainId,
    ignitionModule,
    // The same journal `hardhat ignition deploy` keeps, so an interrupted deployment resumes either way.
    deploymentDir: ignitionJournalDir(chain.chainId),
  });
  await writeDeployment(file, deployment);
  return { deployment, deployedNow: true };
}

/**
 * The embedded anvil chain's deployment lives beside its state (EMBEDDED_CHAIN_DIR/deployment.json, or
 * DEPLOYMENT_FILE): written once the contracts are deployed, read on every later start. A chain that started empty,
 * or lost the deployment's blocks in a crash (anvil saves its state every few seconds), gets a fresh deployment.
 * No Ignition journal: an interrupted deployment is simply redone, since the file is written only once it completed.
 */
async function resolveEmbeddedDeployment(
  config: Config,
  chain: OpenedChain,
  log: Logger,
  ignitionModule: DeployProvenaParameters["ignitionModule"],
): Promise<{ deployment: Deployment; deployedNow: boolean }> {
  const file =
    config.deploymentFile === null ? path.resolve(config.embeddedChainDir, "deployment.json") : path.resolve(config.deploymentFile);
  const existing = chain.startedEmpty ? null : await readDeployment(file, chain.chainId);
  if (existing) {
    const codes = await Promise.all([existing.forwarder, existing.registry, existing.escrow].map((a) => chain.provider.getCode(a)));
    if (codes.every((code) => code !== "0x")) {
      const outdated = await outdatedContracts(chain.provider, existing);
      if (outdated.length === 0) return { deployment: existing, deployedNow: false };
      throw new StartupError(outdatedChainMessage(config, file, outdated));
    }
    log.warn(
      { file },
      `the embedded chain has no contract code at the addresses in ${file} (its state was saved before the deployment): deploying again`,
    );
  }
  const deployment = await deployProvenaWithIgnition({
    eip1193: eip1193Of(chain.provider),
    provider: chain.provider,
    chainId: chain.chainId,
    ignitionModule,
  });
  await writeDeployment(file, deployment);
  return { deployment, deployedNow: true };
}

/**
 * Why an embedded chain kept from an older Provena cannot run this one, and how to start anew without losing it: a
 * deployed contract cannot be replaced in place, and redeploying beside it would leave the mirror holding the old
 * contracts' history under the new ones' names.
 */
function outdatedChainMessage(config: Config, deploymentFile: string, outdated: OutdatedContract[]): string {
  const changed = outdated.filter((entry) => entry.reason === "changed").map((entry) => entry.contract);
  const missing = outdated.filter((entry) => entry.reason === "missing").map((entry) => entry.contract);
  const what = [
    ...(changed.length > 0 ? [`${changed.join(", ")} changed since`] : []),
    ...(missing.length > 0 ? [`${missing.join(", ")} not deployed there (newer than the chain)`] : []),
  ].join("; ");
  const chainDir = path.resolve(config.embeddedChainDir);
  const moveStore = config.mongodbUri
    ? "point MONGODB_URI at a new database"
    : `mv ${path.resolve(config.sqlitePath)} ${path.resolve(config.sqlitePath)}.old`;
  return (
    `The embedded chain in ${chainDir} (deployment ${deploymentFile}) was deployed from older contracts than this ` +
    `build's: ${what}. Deployed contracts cannot be upgraded in place. To start a new chain, move the old one and its ` +
    `mirror aside (nothing is deleted): mv ${chainDir} ${chainDir}.old and ${moveStore}; or run the Provena version that deployed it.`
  );
}

/** The opened chain with its deployment: the addresses and ABIs the relayer and the keeper call through. */
function provenaChain(opened: OpenedChain, deployment: Deployment, deployedNow: boolean, abis: ProvenaAbis): ProvenaChain {
  return {
    ...opened,
    addresses: {
      forwarder: deployment.forwarder,
      registry: deployment.registry,
      escrow: deployment.escrow,
      ...(deployment.designRegistry ? { designRegistry: deployment.designRegistry } : {}),
      ...(deployment.coldChain ? { coldChain: deployment.coldChain } : {}),
      ...(deployment.productData ? { productData: deployment.productData } : {}),
      ...(deployment.unitOwnership ? { unitOwnership: deployment.unitOwnership } : {}),
      ...(deployment.logisticUnits ? { logisticUnits: deployment.logisticUnits } : {}),
      ...(deployment.transformations ? { transformations: deployment.transformations } : {}),
    },
    abis: {
      forwarder: abis.ProvenaForwarder,
      registry: abis.ProvenanceRegistry,
      escrow: abis.TradeEscrow,
      designRegistry: abis.DesignRegistry,
      productData: abis.ProductDataRegistry,
      ...(abis.LogisticUnits ? { logisticUnits: abis.LogisticUnits } : {}),
      ...(abis.Transformations ? { transformations: abis.Transformations } : {}),
    },
    deployment,
    deployedNow,
  };
}

/**
 * The relayer's key: configured; on the embedded anvil chain a dev account funded at genesis (the same on every
 * start, so the relayer's address and nonce carry over with the chain); on the in-process chain a fresh key
 * funded by the chain itself.
 */
async function relayerSigner(config: Config, chain: ProvenaChain): Promise<Wallet | null> {
  const key = config.relayerKey;
  if (key?.kind === "privateKey") return new Wallet(key.privateKey, chain.provider);
  if (key?.kind === "keystore") {
    let json: string;
    try {
      json = await readFile(key.path, "utf8");
    } catch (error) {
      throw new StartupError(`Cannot read the relayer keystore at ${key.path}: ${(error as Error).message}`, { cause: error });
    }
    try {
      return (await Wallet.fromEncryptedJson(json, key.password)).connect(chain.provider) as Wallet;
    } catch (error) {
      throw new StartupError(
        `Cannot decrypt the relayer keystore at ${key.path}: ${(error as Error).message} (check RELAYER_KEYSTORE_PASSWORD)`,
        { cause: error },
      );
    }
  }
  if (chain.kind === "anvil") return new Wallet(embeddedRelayerKey(), chain.provider);
  if (chain.kind !== "in-process") return null;
  const wallet = Wallet.createRandom().connect(chain.provider);
  await chain.provider.send("hardhat_setBalance", [wallet.address, "0x3635c9adc5dea00000"]); // 1,000 ETH
  return wallet as unknown as Wallet;
}

/**
 * An embedded chain that started empty (the in-process one on every run) while the store persists: requests still
 * pending from an earlier run can never be sent on this chain, so they are closed with a reason instead of hanging.
 */
async function retireRequestsOfEarlierChains(store: MirrorStore, chainId: number): Promise<void> {
  const stale = await store.listRelays(["queued", "submitted"], 10_000);
  for (const request of stale.filter((r) => r.chainId === chainId)) {
    await store.updateRelay(request.id, request.status, {
      status: "failed",
      error: "the embedded chain started over before this request was mined; sign it again",
      updatedAt: Date.now(),
    });
  }
}

// --- HTTP --------------------------------------------------------------------------------------------------

/** Listens with the header-size and slow-client limits of the configuration (README "Limits"). */
function listen(
  app: ProvenaApp,
  config: Pick<Config, "host" | "port" | "maxHeaderSize" | "headersTimeoutMs" | "requestTimeoutMs">,
): Promise<Server> {
  const { host, port } = config;
  return new Promise((resolve, reject) => {
    const server = createHttpServer(app, config);
    server.once("error", (error: NodeJS.ErrnoException) => {
      reject(
        new StartupError(
          `Cannot listen on ${host}:${port}: ${error.code === "EADDRINUSE" ? "the port is in use (set PORT)" : error.message}`,
          { cause: error },
        ),
      );
    });
    server.listen(port, host, () => resolve(server));
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
    // Keep-alive clients must not hold shutdown hostage.
    setTimeout(() => server.closeAllConnections(), 2_000).unref();
  });
}

function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0]!.trim() || "unknown error";
}
