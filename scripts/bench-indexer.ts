/**
 * Indexer benchmark: `npm run bench:indexer`.
 *
 * By default it runs the way users run the indexer: it starts a real anvil node (the @foundry-rs/anvil binary,
 * 127.0.0.1 on a free port, --silent), deploys Provena there and produces BENCH_EVENTS (default 12,000) real
 * contract events of a realistic mix (batches registered, handed off and accepted, some handoffs rejected first,
 * quality attestations; many transactions per block), then, for each store (SQLite always, MongoDB when
 * MONGODB_URI is set), indexes them through the production path (connectProvider, an HTTP JSON-RPC endpoint) and
 * measures:
 *   - backfill: events per second from the deployment block to the head into an empty store;
 *   - live lag: milliseconds from a block being mined to its event being readable from the store, and from the
 *     read API (GET /api/v1/batches/:id served on 127.0.0.1), over BENCH_LIVE_SAMPLES new blocks.
 * BENCH_CHAIN=in-process measures against Hardhat's in-process network (EIP-1193, no HTTP) instead;
 * BENCH_CHAIN=anvil,in-process measures both. Prints one table, a row per chain transport and store, and with
 * BENCH_PROFILE=1 where the backfill's CPU time went (a V8 CPU profile grouped by module).
 *
 * Environment: BENCH_EVENTS (12000), BENCH_TXS_PER_BLOCK (20), BENCH_BLOCK_RANGE (2000), BENCH_POLL_MS (indexer poll
 * interval for the live phase, 50), BENCH_LIVE_SAMPLES (30), BENCH_CHAIN (anvil), BENCH_PROFILE, MONGODB_URI.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { network } from "hardhat";
import { keccak256, toQuantity, toUtf8Bytes, type AbstractProvider } from "ethers";
import { pino } from "pino";
import { createBenchmarkApp } from "./fixtures/bench-app.ts";
import { createMetrics } from "../backend/api/metrics.ts";
import { connectProvider, providerFromEip1193 } from "../backend/chain/provider.ts";
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
const PROFILE = process.env.BENCH_PROFILE !== undefined && process.env.BENCH_PROFILE !== "" && process.env.BENCH_PROFILE !== "0";
const GAS_LIMIT = 300_000n;
const ANVIL_BINARY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil");

type ChainKind = "anvil" | "in-process";
const CHAIN_KINDS: ChainKind[] = (process.env.BENCH_CHAIN ?? "anvil").split(",").map((raw) => {
  const kind = raw.trim();
  if (kind !== "anvil" && kind !== "in-process") throw new Error(`BENCH_CHAIN must list anvil and/or in-process, got "${raw}"`);
  return kind;
});
const TRANSPORT: Record<ChainKind, string> = {
  anvil: "anvil, HTTP JSON-RPC",
  "in-process": "Hardhat in-process, EIP-1193",
};

const logger = pino({ level: process.env.LOG_LEVEL ?? "warn" });
// The API logs every 404 of the visibility polls at warn; only its errors matter here.
const apiLogger = pino({ level: "error" });

// --- the chains ----------------------------------------------------------------------------------------------

interface BenchChain {
  connection: Awaited<ReturnType<typeof network.create>>;
  /** A provider for the indexer, made the way the backend makes it for this kind of chain. */
  indexerProvider(): Promise<AbstractProvider>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function startAnvil(): Promise<{ url: string; process: ChildProcess }> {
  const port = await freePort();
  const child = spawn(ANVIL_BINARY, ["--host", "127.0.0.1", "--port", String(port), "--silent"], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`anvil exited with ${child.exitCode}: ${stderr.trim()}`);
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      });
      if (response.ok) return { url, process: child };
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill();
      throw new Error(`anvil did not answer on ${url} within 30 s: ${stderr.trim()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function openChain(kind: ChainKind): Promise<BenchChain> {
  if (kind === "in-process") {
    const connection = await network.create();
    return {
      connection,
      indexerProvider: async () => (await providerFromEip1193(connection.provider, POLL_MS)).provider,
      stop: async () => connection.close(),
    };
  }
  const anvil = await startAnvil();
  // Hardhat's built-in "localhost" network is an HTTP network; point it at this anvil (same default accounts).
  const connection = await network.create({ network: "localhost", override: { url: anvil.url } });
  return {
    connection,
    indexerProvider: async () => (await connectProvider({ rpcUrl: anvil.url, timeoutMs: 30_000, pollingIntervalMs: POLL_MS })).provider,
    async stop() {
      await connection.close();
      anvil.process.kill();
    },
  };
}

// --- the events ----------------------------------------------------------------------------------------------

interface SeededChain {
  deployment: Deployment;
  deployed: Awaited<ReturnType<typeof deployProvena>>;
  productionDate: bigint;
}

/** A registry call from `from`, sent straight to the node (no ethers round trips: fee data, polling). */
interface RawCall {
  from: string;
  data: string;
}

async function seed(chain: BenchChain): Promise<SeededChain> {
  const { connection } = chain;
  const { ethers } = connection;
  const deployBlock = (await ethers.provider.getBlockNumber()) + 1;
  const deployed = await deployProvena(ethers);
  const deployment: Deployment = {
    chainId: Number((await ethers.provider.getNetwork()).chainId),
    forwarder: (await deployed.forwarder.getAddress()).toLowerCase() as Hex,
    registry: (await deployed.registry.getAddress()).toLowerCase() as Hex,
    escrow: (await deployed.escrow!.getAddress()).toLowerCase() as Hex,
    deployBlock,
  };
  const { registry, manufacturer, carrier, inspector } = deployed;
  const productionDate = BigInt((await ethers.provider.getBlock("latest"))!.timestamp) - 86_400n;
  const to = await registry.getAddress();

  /** Sends the calls into blocks of TXS_PER_BLOCK, mining each block by hand, and checks every transaction succeeded. */
  async function inBlocks(calls: RawCall[]): Promise<void> {
    for (let start = 0; start < calls.length; start += TXS_PER_BLOCK) {
      const hashes: string[] = [];
      for (const call of calls.slice(start, start + TXS_PER_BLOCK)) {
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

  // Per batch: registered, proposed, accepted; every 4th also proposed and rejected first; every 2nd attested.
  const eventsPerFour = 4 * 3 + 2 + 2;
  const batchCount = Math.ceil((TARGET_EVENTS * 4) / eventsPerFour);
  const lotOf = (index: number) => `BENCH-${index}`;
  const batchId = (index: number) => batchIdOf(String(DEMO_GTIN), lotOf(index));
  const indexes = Array.from({ length: batchCount }, (_, index) => index);
  const calls = registry.interface;
  const propose = (index: number): RawCall => ({
    from: manufacturer.address,
    data: calls.encodeFunctionData("proposeHandoff", [batchId(index), carrier.address, DEMO_PORT_GLN, BusinessStep.Shipping]),
  });
  const startedAt = performance.now();
  process.stdout.write(`[${TRANSPORT[kindOf(chain)]}] producing ~${TARGET_EVENTS} events over ${batchCount} batches... `);
  await connection.provider.request({ method: "evm_setAutomine", params: [false] });
  try {
    await inBlocks(
      indexes.map((index) => ({
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
      })),
    );
    const rejected = indexes.filter((index) => index % 4 === 0);
    await inBlocks(rejected.map(propose));
    await inBlocks(
      rejected.map((index) => ({
        from: carrier.address,
        data: calls.encodeFunctionData("rejectHandoff", [batchId(index), keccak256(toUtf8Bytes(`paperwork ${index}`))]),
      })),
    );
    await inBlocks(indexes.map(propose));
    await inBlocks(
      indexes.map((index) => ({
        from: carrier.address,
        data: calls.encodeFunctionData("acceptHandoff", [batchId(index), DEMO_PORT_GLN, BusinessStep.Receiving]),
      })),
    );
    await inBlocks(
      indexes
        .filter((index) => index % 2 === 0)
        .map((index) => ({
          from: inspector.address,
          data: calls.encodeFunctionData("attestQuality", [batchId(index), true, keccak256(toUtf8Bytes(`report ${index}`))]),
        })),
    );
  } finally {
    await connection.provider.request({ method: "evm_setAutomine", params: [true] });
  }
  const head = await ethers.provider.getBlockNumber();
  console.log(`done in ${((performance.now() - startedAt) / 1000).toFixed(1)} s (blocks ${deployBlock}-${head}).`);
  return { deployment, deployed, productionDate };
}

const chainKinds = new WeakMap<BenchChain, ChainKind>();
const kindOf = (chain: BenchChain) => chainKinds.get(chain)!;

// --- measuring one store -----------------------------------------------------------------------------------

interface StoreResult {
  events: number;
  backfillSeconds: number;
  eventsPerSecond: number;
  storeLagMs: number[];
  apiLagMs: number[];
  /** Self CPU time of the backfill by where it ran, milliseconds (BENCH_PROFILE). */
  cpuByArea: Map<string, number> | null;
}

interface StoreTarget {
  label: string;
  open(): Promise<MirrorStore>;
  cleanUp(): Promise<void>;
}

let liveSampleCount = 0;

async function measure(chain: BenchChain, seeded: SeededChain, target: StoreTarget): Promise<StoreResult> {
  const { ethers } = chain.connection;
  const { deployment, deployed, productionDate } = seeded;
  const { registry, manufacturer } = deployed;
  const store = await target.open();
  const provider = await chain.indexerProvider();
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
  const server = createBenchmarkApp({
    store,
    logger: apiLogger,
    metrics: createMetrics({ processMetrics: false }),
    indexerStatus: () => indexer.status(),
  }).listen(0, "127.0.0.1");
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const apiBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;

  try {
    const head = await ethers.provider.getBlockNumber();
    const profiler = PROFILE ? await startProfiler() : null;
    const startedAt = performance.now();
    indexer.start();
    await indexer.waitForBlock(head, { timeoutMs: 30 * 60_000 });
    const backfillSeconds = (performance.now() - startedAt) / 1000;
    const cpuByArea = profiler === null ? null : await profiler.stop();
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
    return { events, backfillSeconds, eventsPerSecond: events / backfillSeconds, storeLagMs, apiLagMs, cpuByArea };
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

// --- where the CPU time went (BENCH_PROFILE) -----------------------------------------------------------------

/** Areas of the code, matched on a profile node's script URL or function name, first match wins. */
const AREAS: [string, RegExp][] = [
  ["ethers", /node_modules\/ethers\//],
  ["logging (pino)", /node_modules\/(pino|thread-stream|sonic-boom)/],
  ["SQLite store", /backend\/store\/sqlite|node:sqlite/],
  ["MongoDB store", /backend\/store\/mongo|node_modules\/(mongoose|mongodb|bson)\//],
  ["event decoding", /backend\/chain\/(events|abi-decode)\.ts/],
  ["JSON-RPC client", /backend\/chain\/json-rpc-/],
  ["projections", /backend\/projections\//],
  ["indexer", /backend\/indexer\//],
  ["HTTP (undici, streams)", /undici|node:internal\/(deps|streams|http|net|webstreams)/],
  ["Hardhat / EDR (in-process chain)", /node_modules\/(hardhat|@nomicfoundation)\//],
  ["garbage collection", /^\(garbage collector\)$/],
  ["idle (waiting for I/O)", /^\((idle|program)\)$/],
  ["profiler start-up (not the indexer)", /^node:inspector$/],
];

let profileCount = 0;

async function startProfiler(): Promise<{ stop(): Promise<Map<string, number>> }> {
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 500 });
  await session.post("Profiler.start");
  return {
    async stop() {
      const { profile } = await session.post("Profiler.stop");
      session.disconnect();
      writeFileSync(path.join(tmpdir(), `bench-indexer-${process.pid}-${++profileCount}.cpuprofile`), JSON.stringify(profile));
      const byId = new Map(profile.nodes.map((node) => [node.id, node]));
      const parentOf = new Map<number, number>();
      for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
      /** Where a sample ran: its script, or for a native function (JSON.parse, SQLite) the script that called it. */
      const placeOf = (id: number): string => {
        const { callFrame } = byId.get(id)!;
        if (callFrame.url !== "" || /^\((garbage collector|idle|program)\)$/.test(callFrame.functionName)) {
          return callFrame.url === "" ? callFrame.functionName : callFrame.url;
        }
        const parent = parentOf.get(id);
        return parent === undefined ? callFrame.functionName : placeOf(parent);
      };
      const byArea = new Map<string, number>();
      const timeDeltas = profile.timeDeltas ?? [];
      (profile.samples ?? []).forEach((id, index) => {
        const place = placeOf(id);
        const area = AREAS.find(([, pattern]) => pattern.test(place))?.[0] ?? `other (${place.replace(/^.*\/(node_modules\/)?/, "")})`;
        byArea.set(area, (byArea.get(area) ?? 0) + (timeDeltas[index] ?? 0) / 1000);
      });
      return byArea;
    },
  };
}

// --- the stores --------------------------------------------------------------------------------------------

function sqliteTarget(): StoreTarget {
  const dir = mkdtempSync(path.join(tmpdir(), "provena-bench-indexer-"));
  return {
    label: "SQLite",
    async open() {
      const store = createSqliteStore({ path: path.join(dir, "mirror.db") });
      await store.init();
      return store;
    },
    async cleanUp() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const mongoUri = process.env.MONGODB_URI;
function mongoTarget(uri: string): StoreTarget {
  const dbName = `provena_bench_indexer_${randomBytes(4).toString("hex")}`;
  return {
    label: "MongoDB",
    async open() {
      const { createMongoStore } = await import("../backend/store/mongo/index.ts");
      const store = await createMongoStore({ uri, dbName });
      await store.init();
      return store;
    },
    async cleanUp() {
      const mongoose = (await import("mongoose")).default;
      const dropper = await mongoose.createConnection(uri, { serverSelectionTimeoutMS: 5_000 }).asPromise();
      await dropper.useDb(dbName, { useCache: false }).dropDatabase();
      await dropper.close();
    },
  };
}
const mongoSkipped = mongoUri === undefined || mongoUri === "" ? "skipped, MONGODB_URI is not set (no MongoDB server to measure)" : null;

interface Row {
  transport: string;
  store: string;
  result: StoreResult | null;
  note?: string;
}
const rows: Row[] = [];

for (const kind of CHAIN_KINDS) {
  const chain = await openChain(kind);
  chainKinds.set(chain, kind);
  try {
    const seeded = await seed(chain);
    const targets = [sqliteTarget(), ...(mongoSkipped === null ? [mongoTarget(mongoUri!)] : [])];
    for (const target of targets) {
      process.stdout.write(`[${TRANSPORT[kind]}] measuring ${target.label}... `);
      let opened = false;
      try {
        const result = await measure(chain, seeded, {
          ...target,
          open: async () => {
            const store = await target.open();
            opened = true;
            return store;
          },
        });
        rows.push({ transport: TRANSPORT[kind], store: target.label, result });
        console.log(`${result.events} events in ${result.backfillSeconds.toFixed(2)} s.`);
      } catch (error) {
        // A MONGODB_URI that names no reachable server skips its row; any failure after the store opened is real.
        if (target.label !== "MongoDB" || opened) throw error;
        const note = `skipped, MONGODB_URI is set but the store did not open: ${(error as Error).message}`;
        rows.push({ transport: TRANSPORT[kind], store: target.label, result: null, note });
        console.log(note);
      }
    }
    if (mongoSkipped !== null) rows.push({ transport: TRANSPORT[kind], store: "MongoDB", result: null, note: mongoSkipped });
  } finally {
    await chain.stop();
  }
}

// --- the table ---------------------------------------------------------------------------------------------

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
};
const columns: [string, (result: StoreResult) => string][] = [
  ["events", (r) => r.events.toLocaleString("en-US")],
  ["backfill s", (r) => r.backfillSeconds.toFixed(2)],
  ["events/s", (r) => Math.round(r.eventsPerSecond).toLocaleString("en-US")],
  ["lag store p50/p95 ms", (r) => `${percentile(r.storeLagMs, 50).toFixed(0)} / ${percentile(r.storeLagMs, 95).toFixed(0)}`],
  ["lag API p50/p95 ms", (r) => `${percentile(r.apiLagMs, 50).toFixed(0)} / ${percentile(r.apiLagMs, 95).toFixed(0)}`],
];
const table: string[][] = rows.map((row) => [
  row.transport,
  row.store,
  ...(row.result === null ? ["skipped", ...columns.slice(1).map(() => "-")] : columns.map(([, cell]) => cell(row.result!))),
]);
const headings = ["chain, transport", "store", ...columns.map(([name]) => name)];
const widths = headings.map((heading, index) => Math.max(heading.length, ...table.map((cells) => cells[index]!.length)));
const line = (cells: string[]) =>
  `| ${cells.map((cell, index) => (index < 2 || cell === "" || !/^[\d ,./]+$/.test(cell) ? cell.padEnd(widths[index]!) : cell.padStart(widths[index]!))).join(" | ")} |`;

console.log("");
console.log(
  `Indexer benchmark: ~${TARGET_EVENTS.toLocaleString("en-US")} events (register, propose, reject, accept, attest), ` +
    `eth_getLogs range ${BLOCK_RANGE}, ${TXS_PER_BLOCK} tx/block; live: poll ${POLL_MS} ms, ${LIVE_SAMPLES} samples, 0 confirmations`,
);
console.log(line(headings));
console.log(`|${widths.map((width) => "-".repeat(width + 2)).join("|")}|`);
for (const cells of table) console.log(line(cells));
for (const row of rows) if (row.note !== undefined) console.log(`${row.store} (${row.transport}): ${row.note}.`);
console.log("Live lag is bounded by the poll interval (INDEXER_POLL_MS; the default is 1000 ms) plus the range's processing.");

for (const row of rows) {
  const cpu = row.result?.cpuByArea;
  if (cpu === null || cpu === undefined) continue;
  const total = [...cpu.values()].reduce((sum, ms) => sum + ms, 0);
  console.log("");
  console.log(
    `Backfill CPU profile, ${row.transport}, ${row.store} (self time by area, ${(total / 1000).toFixed(2)} s sampled; ` +
      `the raw profile is in ${tmpdir()}/bench-indexer-${process.pid}-*.cpuprofile for Chrome DevTools):`,
  );
  const sorted = [...cpu.entries()].sort((a, b) => b[1] - a[1]);
  const shown = sorted.filter(([area], index) => !area.startsWith("other") || index < 12);
  const rest = sorted.filter((entry) => !shown.includes(entry)).reduce((sum, [, ms]) => sum + ms, 0);
  if (rest > 0) shown.push(["other (the rest)", rest]);
  for (const [area, ms] of shown) {
    console.log(`  ${area.padEnd(36)} ${(ms / 1000).toFixed(2).padStart(6)} s  ${((100 * ms) / total).toFixed(1).padStart(5)}%`);
  }
}
