/**
 * Indexer benchmark: `npm run bench:indexer`.
 *
 * On Hardhat's in-process network it deploys Provena and produces BENCH_EVENTS (default 12,000) real contract
 * events (batches registered, handed off and accepted, many transactions per block), then for each store —
 * SQLite always, MongoDB when MONGODB_URI is set — measures:
 *   - backfill: events per second from the deployment block to the head into an empty store;
 *   - live lag: milliseconds from a block being mined to its event being readable from the store, and from the
 *     read API (GET /api/v1/batches/:id served on 127.0.0.1), over BENCH_LIVE_SAMPLES new blocks.
 * Prints one table with a column per store.
 *
 * Environment: BENCH_EVENTS (12000), BENCH_TXS_PER_BLOCK (20; EDR slows down with a large mempool), BENCH_BLOCK_RANGE (2000),
 * BENCH_POLL_MS (indexer poll interval for the live phase, 50), BENCH_LIVE_SAMPLES (30), MONGODB_URI.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { network } from "hardhat";
import { keccak256, toQuantity, toUtf8Bytes } from "ethers";
import { pino } from "pino";
import { createApp } from "../backend/api/app.ts";
import { createMetrics } from "../backend/api/metrics.ts";
import { providerFromEip1193 } from "../backend/chain/provider.ts";
import type { Deployment } from "../backend/chain/deployment.ts";
import { createIndexer } from "../backend/indexer/index.ts";
import type { MirrorStore } from "../backend/store/port.ts";
import { createSqliteStore } from "../backend/store/sqlite/index.ts";
import type { Hex } from "../backend/domain/model.ts";
import { batchIdOf } from "../backend/chain/gs1.ts";
import { DEMO_GTIN, DEMO_ORIGIN_GLN, DEMO_PORT_GLN, deployProvena } from "./fixtures/provena-deployment.ts";
import { BusinessStep } from "./fixtures/registry-enums.ts";
import { positiveIntFromEnv } from "./fixtures/environment.ts";

const TARGET_EVENTS = positiveIntFromEnv("BENCH_EVENTS", 12_000);
const TXS_PER_BLOCK = positiveIntFromEnv("BENCH_TXS_PER_BLOCK", 20);
const BLOCK_RANGE = positiveIntFromEnv("BENCH_BLOCK_RANGE", 2_000);
const POLL_MS = positiveIntFromEnv("BENCH_POLL_MS", 50);
const LIVE_SAMPLES = positiveIntFromEnv("BENCH_LIVE_SAMPLES", 30);
const GAS_LIMIT = 300_000n;

const logger = pino({ level: process.env.LOG_LEVEL ?? "warn" });
// The API logs every 404 of the visibility polls at warn; only its errors matter here.
const apiLogger = pino({ level: "error" });
const connection = await network.create();
const { ethers } = connection;

// --- the chain: deploy and produce events ------------------------------------------------------------------

const deployBlock = (await ethers.provider.getBlockNumber()) + 1;
const deployed = await deployProvena(ethers);
const deployment: Deployment = {
  chainId: Number((await ethers.provider.getNetwork()).chainId),
  forwarder: (await deployed.forwarder.getAddress()).toLowerCase() as Hex,
  registry: (await deployed.registry.getAddress()).toLowerCase() as Hex,
  escrow: (await deployed.escrow!.getAddress()).toLowerCase() as Hex,
  deployBlock,
};
const { registry, manufacturer, carrier } = deployed;
const productionDate = BigInt((await ethers.provider.getBlock("latest"))!.timestamp) - 86_400n;

/** A registry call from `from`, sent straight to the node (no ethers round trips: fee data, polling). */
interface RawCall {
  from: string;
  data: string;
}

/**
 * Sends the calls built by `build` into blocks of TXS_PER_BLOCK, mining each block by hand, and checks that
 * every transaction succeeded.
 */
async function inBlocks(count: number, build: (index: number) => RawCall): Promise<void> {
  const to = await registry.getAddress();
  for (let start = 0; start < count; start += TXS_PER_BLOCK) {
    const hashes: string[] = [];
    for (let index = start; index < Math.min(count, start + TXS_PER_BLOCK); index++) {
      const call = build(index);
      hashes.push(
        (await connection.provider.request({
          method: "eth_sendTransaction",
          params: [{ ...call, to, gas: toQuantity(GAS_LIMIT) }],
        })) as string,
      );
    }
    await connection.provider.request({ method: "evm_mine", params: [] });
    for (const hash of hashes) {
      const receipt = (await connection.provider.request({ method: "eth_getTransactionReceipt", params: [hash] })) as {
        status: string;
      } | null;
      if (receipt?.status !== "0x1") throw new Error(`benchmark transaction ${hash} did not succeed`);
    }
  }
}

const batchCount = Math.ceil(TARGET_EVENTS / 3);
const lotOf = (index: number) => `BENCH-${index}`;
const generationStartedAt = performance.now();
process.stdout.write(`Producing ${batchCount * 3} events (${batchCount} batches registered, proposed, accepted)... `);
await connection.provider.request({ method: "evm_setAutomine", params: [false] });
try {
  const calls = registry.interface;
  await inBlocks(batchCount, (index) => ({
    from: manufacturer.address,
    data: calls.encodeFunctionData("registerBatch", [
      DEMO_GTIN,
      lotOf(index),
      10n,
      productionDate,
      DEMO_ORIGIN_GLN,
      keccak256(toUtf8Bytes(lotOf(index))),
      keccak256(toUtf8Bytes(`root ${index}`)),
    ]),
  }));
  await inBlocks(batchCount, (index) => ({
    from: manufacturer.address,
    data: calls.encodeFunctionData("proposeHandoff", [
      batchIdOf(String(DEMO_GTIN), lotOf(index)),
      carrier.address,
      DEMO_PORT_GLN,
      BusinessStep.Shipping,
    ]),
  }));
  await inBlocks(batchCount, (index) => ({
    from: carrier.address,
    data: calls.encodeFunctionData("acceptHandoff", [batchIdOf(String(DEMO_GTIN), lotOf(index)), DEMO_PORT_GLN, BusinessStep.Receiving]),
  }));
} finally {
  await connection.provider.request({ method: "evm_setAutomine", params: [true] });
}
const chainHead = await ethers.provider.getBlockNumber();
console.log(`done in ${((performance.now() - generationStartedAt) / 1000).toFixed(1)} s (blocks ${deployBlock}-${chainHead}).`);

// --- measuring one store -----------------------------------------------------------------------------------

interface StoreResult {
  events: number;
  backfillSeconds: number;
  eventsPerSecond: number;
  storeLagMs: number[];
  apiLagMs: number[];
}

interface StoreTarget {
  label: string;
  open(): Promise<MirrorStore>;
  cleanUp(): Promise<void>;
}

let liveSampleCount = 0;

async function measure(target: StoreTarget): Promise<StoreResult> {
  const store = await target.open();
  const { provider } = await providerFromEip1193(connection.provider, POLL_MS);
  const indexer = createIndexer({
    provider,
    deployment,
    store,
    config: {
      confirmations: 0,
      indexerBlockRange: BLOCK_RANGE,
      indexerPollMs: POLL_MS,
      leaseTtlMs: 15_000,
      instanceId: `bench-${target.label}`,
    },
    logger,
  });
  const server = createApp({
    store,
    logger: apiLogger,
    metrics: createMetrics({ processMetrics: false }),
    indexerStatus: () => indexer.status(),
    readyMaxLagBlocks: 10,
  }).listen(0, "127.0.0.1");
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const apiBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;

  try {
    const head = await ethers.provider.getBlockNumber();
    const startedAt = performance.now();
    indexer.start();
    await indexer.waitForBlock(head, { timeoutMs: 30 * 60_000 });
    const backfillSeconds = (performance.now() - startedAt) / 1000;
    const events = await store.countEvents(deployment.chainId);

    const storeLagMs: number[] = [];
    const apiLagMs: number[] = [];
    for (let sample = 0; sample < LIVE_SAMPLES; sample++) {
      // Land at a random point of the poll cycle, as real blocks do.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * POLL_MS));
      const lot = `LIVE-${++liveSampleCount}`;
      const batchId = batchIdOf(String(DEMO_GTIN), lot);
      const tx = await registry
        .connect(manufacturer)
        .registerBatch(
          DEMO_GTIN,
          lot,
          1n,
          productionDate,
          DEMO_ORIGIN_GLN,
          keccak256(toUtf8Bytes(lot)),
          keccak256(toUtf8Bytes(`root ${lot}`)),
          { gasLimit: GAS_LIMIT },
        );
      // With automine the block exists once the transaction is accepted.
      const minedAt = performance.now();
      const [storeLag, apiLag] = await Promise.all([
        pollUntil(async () => (await store.getBatch(batchId)) !== null, minedAt),
        pollUntil(async () => (await fetch(`${apiBase}/batches/${batchId}`)).status === 200, minedAt),
      ]);
      await tx.wait();
      storeLagMs.push(storeLag);
      apiLagMs.push(apiLag);
    }
    return { events, backfillSeconds, eventsPerSecond: events / backfillSeconds, storeLagMs, apiLagMs };
  } finally {
    await indexer.stop();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    provider.destroy();
    await store.close();
    await target.cleanUp();
  }
}

async function pollUntil(visible: () => Promise<boolean>, since: number, timeoutMs = 30_000): Promise<number> {
  while (!(await visible())) {
    if (performance.now() - since > timeoutMs) throw new Error(`not visible within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return performance.now() - since;
}

// --- the stores --------------------------------------------------------------------------------------------

const targets: StoreTarget[] = [];
const sqliteDir = mkdtempSync(path.join(tmpdir(), "provena-bench-indexer-"));
targets.push({
  label: "SQLite",
  async open() {
    const store = createSqliteStore({ path: path.join(sqliteDir, "mirror.db") });
    await store.init();
    return store;
  },
  async cleanUp() {
    rmSync(sqliteDir, { recursive: true, force: true });
  },
});
const mongoUri = process.env.MONGODB_URI;
if (mongoUri !== undefined && mongoUri !== "") {
  const dbName = `provena_bench_indexer_${randomBytes(4).toString("hex")}`;
  targets.push({
    label: "MongoDB",
    async open() {
      const { createMongoStore } = await import("../backend/store/mongo/index.ts");
      const store = await createMongoStore({ uri: mongoUri, dbName });
      await store.init();
      return store;
    },
    async cleanUp() {
      const mongoose = (await import("mongoose")).default;
      const dropper = await mongoose.createConnection(mongoUri, { serverSelectionTimeoutMS: 5_000 }).asPromise();
      await dropper.useDb(dbName, { useCache: false }).dropDatabase();
      await dropper.close();
    },
  });
} else {
  console.log("MongoDB column skipped: MONGODB_URI is not set.");
}

const results = new Map<string, StoreResult>();
for (const target of targets) {
  process.stdout.write(`Measuring ${target.label}... `);
  const result = await measure(target);
  results.set(target.label, result);
  console.log(`${result.events} events in ${result.backfillSeconds.toFixed(2)} s.`);
}

// --- the table ---------------------------------------------------------------------------------------------

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
};
const rows: [string, (result: StoreResult) => string][] = [
  ["events backfilled", (r) => r.events.toLocaleString("en-US")],
  ["backfill time (s)", (r) => r.backfillSeconds.toFixed(2)],
  ["backfill events/s", (r) => Math.round(r.eventsPerSecond).toLocaleString("en-US")],
  ["live lag block -> store p50 (ms)", (r) => percentile(r.storeLagMs, 50).toFixed(0)],
  ["live lag block -> store p95 (ms)", (r) => percentile(r.storeLagMs, 95).toFixed(0)],
  ["live lag block -> API p50 (ms)", (r) => percentile(r.apiLagMs, 50).toFixed(0)],
  ["live lag block -> API p95 (ms)", (r) => percentile(r.apiLagMs, 95).toFixed(0)],
];
const labels = targets.map((target) => target.label);
const firstWidth = Math.max(...rows.map(([name]) => name.length), "metric".length);
const widths = labels.map((label) => Math.max(label.length, ...rows.map(([, cell]) => cell(results.get(label)!).length)));
const line = (cells: string[]) =>
  `| ${cells[0]!.padEnd(firstWidth)} | ${cells
    .slice(1)
    .map((cell, index) => cell.padStart(widths[index]!))
    .join(" | ")} |`;

console.log("");
console.log(
  `Indexer benchmark: ${TARGET_EVENTS.toLocaleString("en-US")}+ events on Hardhat's in-process network (EIP-1193 provider), ` +
    `eth_getLogs range ${BLOCK_RANGE}, ${TXS_PER_BLOCK} tx/block; live: poll ${POLL_MS} ms, ${LIVE_SAMPLES} samples, 0 confirmations`,
);
console.log(line(["metric", ...labels]));
console.log(`|${"-".repeat(firstWidth + 2)}|${widths.map((width) => "-".repeat(width + 2)).join("|")}|`);
for (const [name, cell] of rows) console.log(line([name, ...labels.map((label) => cell(results.get(label)!))]));
console.log("Live lag is bounded by the poll interval (INDEXER_POLL_MS; the default is 1000 ms) plus the range's processing.");
