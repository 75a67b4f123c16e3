/**
 * Cold-chain ingest benchmark: `npm run bench:ingest` (throughput), `npm run bench:ingest -- --readings 1000000`
 * (memory over a long run).
 *
 * Signed readings per second verified and stored over MQTT on SQLite (a file in WAL mode, as `npm start` uses), and
 * the reading-to-store latency. This process runs what `npm start` runs for readings: the embedded aedes broker on
 * 127.0.0.1, the ingest queue, the verifier (EIP-712 digest, signature check, device, leg, carrier and sequence
 * checks; digests and signatures on the signature pool's worker threads, sized as `npm start` sizes it) and batched
 * store writes (from the SQLite store's readings writer thread, as `npm start` stores them). Child processes play
 * the devices and publish with QoS 1, each keeping BENCH_INGEST_WINDOW readings unacknowledged at once. The broker sends PUBACK only after the reading's verdict is stored, so publish→PUBACK is
 * reading-to-store latency. Memory figures are this process's alone (the devices are other processes).
 *
 * Throughput runs sign every reading before the clock starts. With `--readings N` (a total) the devices sign as
 * they go instead (they could not hold a million signed readings), so their signing shares the machine, and a row
 * of RSS and V8 heap is printed every tenth of the run: the memory run. Nothing is asserted; the tables are read.
 *
 * Prints a table: the machine's load average as the clock starts (other work shares the cores), readings, seconds,
 * readings/s, event loop busy, CPU of this process and of the publishers (they share the machine's cores),
 * p50/p99/max latency, RSS and V8 heap before/after and at peak, and what was rejected (must be nothing).
 *
 * Sizes: BENCH_INGEST_DEVICES (default 200), BENCH_INGEST_READINGS per device (default 200),
 * BENCH_INGEST_PUBLISHERS processes (default 1), BENCH_INGEST_CONNECTIONS per publisher process (default one per
 * device, as sensors connect on their own; fewer models gateways relaying several devices over one connection,
 * which aedes serves a read at a time: it takes a connection's next chunk only once the last chunk's publishes are
 * authorised, and authorisation waits for the verdict to be stored), BENCH_INGEST_WINDOW (default 1000). BENCH_INGEST_SIGNATURE_THREADS
 * (default as `npm start`: one less than the cores, at least 1; 0 checks on the event loop).
 * BENCH_INGEST_WRITER_THREAD (default 1, as `npm start`: readings stored from the SQLite store's writer thread; 0
 * stores them on the event loop). The target is 5,000 readings/s on SQLite on a 2-core machine. Signatures are
 * checked by libsecp256k1 when the optional `secp256k1` package is installed, else in JavaScript
 * (reading-signature.ts); the table says which.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fork, type ChildProcess } from "node:child_process";
import { parseArgs } from "node:util";
import { Wallet } from "ethers";
import { pino } from "pino";
import { defaultSignatureThreads } from "../backend/coldchain/index.ts";
import { INGEST_BATCH_SIZE, createReadingIngest, type ReadingIngest } from "../backend/coldchain/ingest-service.ts";
import { startEmbeddedBroker } from "../backend/coldchain/mqtt-transport.ts";
import { readingDomain } from "../backend/coldchain/reading-codec.ts";
import { createReadingVerifier } from "../backend/coldchain/reading-verifier.ts";
import { nativeSecp256k1 } from "../backend/coldchain/reading-signature.ts";
import { createSignaturePool } from "../backend/coldchain/signature-pool.ts";
import type { ColdChainDevice, ColdChainLeg } from "../backend/domain/cold-chain.ts";
import type { EventRef, Hex } from "../backend/domain/model.ts";
import { createSqliteStore } from "../backend/store/sqlite/index.ts";
import { positiveIntFromEnv } from "./fixtures/environment.ts";
import type { PublisherData, PublisherMessage } from "./fixtures/ingest-publisher.ts";

const CHAIN_ID = 31337;
const COLD_CHAIN: Hex = "0x00000000000000000000000000000000000000cc";
const CARRIER: Hex = "0x1000000000000000000000000000000000000003";
const LEG_START = Math.floor(Date.now() / 1000) - 30 * 86_400;

const { values: options } = parseArgs({ options: { readings: { type: "string" } } });
const devices = positiveIntFromEnv("BENCH_INGEST_DEVICES", 200);
/** The memory run: a total, signed as the devices go. */
const memoryRun = options.readings !== undefined;
const readingsPerDevice = memoryRun ? Math.ceil(Number(options.readings) / devices) : positiveIntFromEnv("BENCH_INGEST_READINGS", 200);
if (!Number.isInteger(readingsPerDevice) || readingsPerDevice <= 0) throw new Error("--readings takes a positive integer");
const publishers = positiveIntFromEnv("BENCH_INGEST_PUBLISHERS", 1);
const window = positiveIntFromEnv("BENCH_INGEST_WINDOW", 1_000);
/** MQTT connections per publisher process, its devices spread over them: one per device unless set. */
const connections = positiveIntFromEnv("BENCH_INGEST_CONNECTIONS", Math.ceil(devices / publishers));
/** Readings verified and stored together at most (one store transaction); the ingest's default unless set. */
const batchSize = process.env.BENCH_INGEST_BATCH === undefined ? undefined : positiveIntFromEnv("BENCH_INGEST_BATCH", 1);
/** As npm start sizes the pool; 0 checks signatures on the event loop. */
const signatureThreads = Number(process.env.BENCH_INGEST_SIGNATURE_THREADS ?? defaultSignatureThreads());
/** As npm start: readings stored from the store's writer thread; 0 stores them on the event loop (the A/B). */
const readingWriterThread = process.env.BENCH_INGEST_WRITER_THREAD !== "0";

const hex32 = (n: number) => `0x${n.toString(16).padStart(64, "0")}` as Hex;
const megabytes = (bytes: number) => (bytes / 1024 ** 2).toFixed(0);

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "provena-bench-ingest-"));
  const store = createSqliteStore({ path: join(dir, "provena.db"), readingWriterThread });
  await store.init();

  // The mirror as the indexer would leave it: each device registered to the carrier and attached to its own batch.
  const fleet = Array.from({ length: devices }, (_, index) => {
    const privateKey = hex32(0x1000 + index);
    return { privateKey, address: new Wallet(privateKey).address.toLowerCase() as Hex, batchId: hex32(0xb000 + index) };
  });
  const ref: EventRef = {
    eventId: `${CHAIN_ID}:000000000001:000000`,
    blockNumber: 1,
    blockTimestamp: LEG_START,
    transactionHash: hex32(1),
  };
  const deviceDocs: ColdChainDevice[] = fleet.map((device, index) => ({
    address: device.address,
    carrier: CARRIER,
    retired: false,
    currentLegId: hex32(0x1e6000 + index),
    registered: ref,
    lastEvent: ref,
  }));
  const legs: ColdChainLeg[] = fleet.map((device, index) => ({
    legId: hex32(0x1e6000 + index),
    device: device.address,
    batchId: device.batchId,
    carrier: CARRIER,
    attachedAt: LEG_START - 60,
    detachedAt: null,
    excursionSeconds: 0,
    breached: false,
    attached: ref,
    lastEvent: ref,
  }));
  await store.commitRange({
    chainId: CHAIN_ID,
    events: [],
    blocks: [],
    batches: [],
    participants: [],
    orders: [],
    coldChain: { devices: deviceDocs, legs, batchConditions: [], productConditions: [], anchors: [], breaches: [] },
    checkpoint: { chainId: CHAIN_ID, blockNumber: 1, blockHash: hex32(1), updatedAt: Date.now() },
  });

  const domain = readingDomain(CHAIN_ID, COLD_CHAIN);
  const signaturePool = signatureThreads > 0 ? createSignaturePool({ threads: signatureThreads }) : undefined;
  const verifier = createReadingVerifier({ store, domain, signaturePool });
  const ingest = createReadingIngest({ store, verifier, maxQueued: 1_000_000, batchSize });
  let stored = 0;
  const counting: ReadingIngest = {
    submit: (message, source, topicDevice) =>
      ingest.submit(message, source, topicDevice).then((outcome) => {
        stored++;
        return outcome;
      }),
    drain: () => ingest.drain(),
    close: () => ingest.close(),
    metrics: ingest.metrics,
    get queued() {
      return ingest.queued;
    },
    get parked() {
      return ingest.parked;
    },
  };
  const broker = await startEmbeddedBroker({ ingest: counting, host: "127.0.0.1", port: 0, logger: pino({ level: "silent" }) });

  const total = devices * readingsPerDevice;
  console.log(
    `${memoryRun ? "Publishing" : "Signing"} ${total.toLocaleString("en")} readings of ${devices} devices in ${publishers} process(es)` +
      `${memoryRun ? ", signed as they go" : ""}…`,
  );
  const children: ChildProcess[] = Array.from({ length: publishers }, (_, index) => {
    const data: PublisherData = {
      url: broker.url,
      devices: fleet.filter((_, position) => position % publishers === index),
      readingsPerDevice,
      legStart: LEG_START,
      domain: domain as PublisherData["domain"],
      window: Math.ceil(window / publishers),
      connections,
      presign: !memoryRun,
    };
    const child = fork(new URL("./fixtures/ingest-publisher.ts", import.meta.url), {
      execArgv: ["--import", "tsx"],
      serialization: "advanced",
    });
    child.send(data);
    return child;
  });
  const nextMessage = (child: ChildProcess, kind: PublisherMessage["kind"]) =>
    new Promise<PublisherMessage>((resolve, reject) => {
      const onMessage = (message: PublisherMessage) => {
        if (message.kind !== kind) return;
        child.off("message", onMessage);
        resolve(message);
      };
      child.on("message", onMessage);
      child.once("error", reject);
      child.once("exit", (code) => reject(new Error(`a publisher exited with ${code}`)));
    });
  await Promise.all(children.map((child) => nextMessage(child, "signed")));

  global.gc?.();
  // Other work on the machine shares its cores: the table says how busy it was as the clock started.
  const loadBefore = loadavg();
  const before = process.memoryUsage();
  let peakRss = before.rss;
  let peakHeap = before.heapUsed;
  const cpuBefore = process.cpuUsage();
  const loopBefore = performance.eventLoopUtilization();
  const started = performance.now();
  const memoryRows: string[][] = [];
  let nextRow = Math.ceil(total / 10);
  let lastRow = { at: started, stored: 0 };
  const sampler = setInterval(() => {
    const usage = process.memoryUsage();
    peakRss = Math.max(peakRss, usage.rss);
    peakHeap = Math.max(peakHeap, usage.heapUsed);
    if (memoryRun && stored >= nextRow) {
      const at = performance.now();
      memoryRows.push([
        stored.toLocaleString("en"),
        ((at - started) / 1000).toFixed(0),
        Math.round(((stored - lastRow.stored) * 1000) / (at - lastRow.at)).toLocaleString("en"),
        megabytes(usage.rss),
        megabytes(usage.heapUsed),
        megabytes(usage.external + usage.arrayBuffers),
      ]);
      console.log(`  ${memoryRows.at(-1)!.join("  ")}`);
      lastRow = { at, stored };
      nextRow += Math.ceil(total / 10);
    }
  }, 100);

  const results = children.map((child) => nextMessage(child, "published"));
  for (const child of children) child.send("go");
  const published = (await Promise.all(results)) as Extract<PublisherMessage, { kind: "published" }>[];
  const latencies = published.flatMap((result) => Array.from(result.latencies));
  const publisherCpuSeconds = published.reduce((sum, result) => sum + result.cpuSeconds, 0);
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const loop = performance.eventLoopUtilization(loopBefore);
  clearInterval(sampler);
  await ingest.drain();
  global.gc?.();
  const after = process.memoryUsage();

  const counts = await store.rejectionCounts();
  const storedOfFive = (await Promise.all(fleet.slice(0, 5).map((device) => store.countReadings({ batchId: device.batchId })))).reduce(
    (a, b) => a + b,
    0,
  );
  latencies.sort((a, b) => a - b);
  const quantile = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;

  const rows: [string, string][] = [
    ["readings (signed, over MQTT QoS 1)", `${total.toLocaleString("en")}${memoryRun ? " (signed as published)" : ""}`],
    ["machine load average before the run (1 / 5 / 15 min)", loadBefore.map((load) => load.toFixed(2)).join(" / ")],
    ["devices / publisher processes / MQTT connections each / window", `${devices} / ${publishers} / ${connections} / ${window}`],
    ["signature threads (0: on the event loop)", String(signatureThreads)],
    ["readings stored from", readingWriterThread ? "the store's writer thread" : "the event loop"],
    ["batch (readings per store transaction, at most)", String(batchSize ?? INGEST_BATCH_SIZE)],
    ["signature check", nativeSecp256k1() !== null ? "libsecp256k1 (secp256k1 package)" : "JavaScript (table walk)"],
    ["seconds", seconds.toFixed(2)],
    ["readings/s verified and stored", Math.round(total / seconds).toLocaleString("en")],
    ["event loop busy (s, share of the run)", `${(loop.active / 1000).toFixed(2)} (${(loop.utilization * 100).toFixed(0)} %)`],
    ["CPU of this process, all threads (s)", cpuSeconds.toFixed(2)],
    ["readings per CPU-second of this process", Math.round(total / cpuSeconds).toLocaleString("en")],
    [
      "CPU of the publisher process(es) (s, share of one core)",
      `${publisherCpuSeconds.toFixed(2)} (${((publisherCpuSeconds / seconds) * 100).toFixed(0)} %)`,
    ],
    ["reading-to-store latency p50 (ms)", quantile(0.5).toFixed(1)],
    ["reading-to-store latency p99 (ms)", quantile(0.99).toFixed(1)],
    ["reading-to-store latency max (ms)", latencies.at(-1)!.toFixed(1)],
    ["rejected", JSON.stringify(counts)],
    ["stored (first 5 devices)", `${storedOfFive} of ${5 * readingsPerDevice}`],
    ["RSS before / peak / after (MB)", `${megabytes(before.rss)} / ${megabytes(peakRss)} / ${megabytes(after.rss)}`],
    ["V8 heap before / peak / after (MB)", `${megabytes(before.heapUsed)} / ${megabytes(peakHeap)} / ${megabytes(after.heapUsed)}`],
  ];
  if (memoryRun) {
    const header = ["readings", "s", "readings/s", "RSS MB", "heap MB", "external MB"];
    const widths = header.map((title, column) => Math.max(title.length, ...memoryRows.map((row) => row[column]!.length)));
    console.log(`\nMemory over the run (this process: broker, ingest, verifier, store)\n`);
    for (const row of [header, ...memoryRows]) console.log(row.map((cell, column) => cell.padStart(widths[column]!)).join("  "));
  }
  const width = Math.max(...rows.map(([label]) => label.length));
  console.log(`\nCold-chain ingest on SQLite (${join(dir, "provena.db")})\n`);
  for (const [label, value] of rows) console.log(`${label.padEnd(width)}  ${value}`);
  console.log(`\nTarget: 5,000 readings/s. ${total / seconds >= 5_000 ? "Met." : "Not met."}`);

  for (const child of children) child.kill();
  await broker.close();
  await signaturePool?.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  if (Object.keys(counts).length > 0) process.exitCode = 1;
}

await main();
