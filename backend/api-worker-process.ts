/**
 * One API worker process (started by backend/api-workers.ts through node:cluster): waits for its setup from the
 * primary, opens the store and a JSON-RPC provider to the primary's chain, and serves the HTTP app on the shared
 * port. It never indexes, relays or keeps; an accepted relay request is passed on to the primary's relayer, and
 * whether a passport scan counts is asked of the primary's cluster-wide set (passport/scan-dedupe.ts).
 */
import cluster from "node:cluster";
import type { Server } from "node:http";
import { pino } from "pino";
import type { IndexerStatusView } from "./api/indexer-status.ts";
import { apiWorkerCount, type ApiWorkerSetup, type PrimaryMessage, type WorkerMessage } from "./api-workers.ts";
import { createClusterRateLimitClient } from "./api/cluster-rate-limit-store.ts";
import { createHttpServer } from "./api/http-server.ts";
import { loadProvenaAbis } from "./chain/artifacts.ts";
import { connectProvider } from "./chain/provider.ts";
import { createProvenaHttpApp, createQrRendererFromConfig, createReputationThreadFromConfig } from "./main.ts";
import { createClusterScanDeduper, type ClusterScanDeduper } from "./passport/scan-dedupe.ts";
import { createRelayService } from "./relayer/index.ts";
import { createStore } from "./store/index.ts";

if (!cluster.isWorker) throw new Error("backend/api-worker-process.ts runs as an API worker only (see backend/api-workers.ts)");

const report = (message: WorkerMessage) => process.send?.(message);

let indexerStatus: IndexerStatusView = {
  chainId: 0,
  headBlock: null,
  indexedBlock: null,
  lagBlocks: null,
  eventsIndexed: 0,
  isLeader: false,
};
let stop: () => Promise<void> = async () => process.exit(0);
let servedRequests = 0;
let rateLimits: ReturnType<typeof createClusterRateLimitClient> | null = null;
let scanDeduper: ClusterScanDeduper | null = null;

async function serve(setup: ApiWorkerSetup, scanDedupeKey: string): Promise<void> {
  const { config } = setup;
  const logger = pino({ level: config.logLevel }).child({ component: "api-worker" });
  scanDeduper = createClusterScanDeduper({
    windowMs: config.passportCloneThresholds.recentWindowMs,
    secret: Buffer.from(scanDedupeKey, "base64url"),
    // With a callback, a closed channel is reported to it rather than thrown as an 'error' event on the process.
    ask: (question, undelivered) =>
      process.connected &&
      process.send!({ type: "scan-first", ...question } satisfies WorkerMessage, undefined, {}, (error: Error | null) => {
        if (error) undelivered();
      }),
    logger,
  });
  indexerStatus = { ...indexerStatus, chainId: setup.chainId };
  const store = await createStore({ mongodbUri: config.mongodbUri, sqlitePath: config.sqlitePath, sqliteCacheMb: config.sqliteCacheMb });
  const { provider } = await connectProvider({ rpcUrl: setup.rpcUrl, timeoutMs: config.rpcTimeoutMs, pollingIntervalMs: 1_000 });
  const abis = loadProvenaAbis();
  const chain = {
    chainId: setup.chainId,
    provider,
    deployment: setup.deployment,
    addresses: {
      forwarder: setup.deployment.forwarder,
      registry: setup.deployment.registry,
      escrow: setup.deployment.escrow,
      ...(setup.deployment.designRegistry ? { designRegistry: setup.deployment.designRegistry } : {}),
      ...(setup.deployment.coldChain ? { coldChain: setup.deployment.coldChain } : {}),
      ...(setup.deployment.productData ? { productData: setup.deployment.productData } : {}),
    },
    abis: {
      forwarder: abis.ProvenaForwarder,
      registry: abis.ProvenanceRegistry,
      escrow: abis.TradeEscrow,
      designRegistry: abis.DesignRegistry,
      productData: abis.ProductDataRegistry,
    },
  };
  const relay =
    setup.relayerAddress === null
      ? null
      : {
          service: createRelayService({ store, chain, relayerAddress: setup.relayerAddress }),
          relayerAddress: setup.relayerAddress,
          onAccepted: () => report({ type: "relay-accepted" }),
        };
  const qrRenderer = createQrRendererFromConfig(config);
  const reputationThread = createReputationThreadFromConfig(config, setup.chainId);
  // Per-client budgets are counted by the primary, across every worker.
  rateLimits = createClusterRateLimitClient({
    // The callback keeps a send racing the channel's close from becoming an uncaught 'error' event.
    send: (question) => process.send!(question, undefined, {}, () => undefined),
    connected: () => process.connected,
    workers: apiWorkerCount(config),
    logger,
  });
  const app = createProvenaHttpApp({
    config,
    store,
    logger,
    chain,
    indexerStatus: () => indexerStatus,
    relay,
    qrRenderer,
    rateLimitStoreFor: rateLimits.storeFor,
    scanDeduper,
    reputationThread,
  });
  // The same server limits (header size, slow-client timeouts) as a single-process API.
  const server = await new Promise<Server>((resolve, reject) => {
    const listening = createHttpServer(app, config);
    listening.once("error", reject);
    listening.listen(config.port, config.host, () => resolve(listening));
  });
  server.on("request", () => servedRequests++);
  stop = async () => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
      setTimeout(() => server.closeAllConnections(), 2_000).unref();
    });
    await qrRenderer.close();
    await reputationThread?.close();
    void provider.destroy();
    await store.close();
    process.exit(0);
  };
  const address = server.address();
  report({ type: "listening", port: typeof address === "object" && address ? address.port : config.port });
}

process.on("message", (message: PrimaryMessage) => {
  if (rateLimits?.receive(message)) return;
  if (message.type === "setup") {
    serve(message.setup, message.scanDedupeKey).catch((error: Error) => {
      report({ type: "failed", message: `API worker ${process.pid}: ${error.message.split("\n")[0]}` });
      // Let the message reach the primary first.
      setTimeout(() => process.exit(1), 100);
    });
  } else if (message.type === "indexer-status") {
    indexerStatus = message.status;
  } else if (message.type === "scan-first") {
    scanDeduper?.answer(message);
  } else if (message.type === "report") {
    report({ type: "report", servedRequests });
  } else if (message.type === "stop") {
    void stop();
  }
});
// The primary went away without a word: nothing would ever stop this worker.
process.on("disconnect", () => {
  scanDeduper?.disconnected();
  void stop();
});
// Ctrl-C in a terminal reaches the whole process group: the primary stops the workers in order (api-workers.ts).
process.on("SIGINT", () => undefined);
