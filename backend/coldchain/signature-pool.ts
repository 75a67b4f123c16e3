/**
 * Reading signatures checked on worker threads: elliptic-curve arithmetic is the ingest's heaviest step (a few
 * hundred microseconds a reading in JavaScript on this class of machine, tens with libsecp256k1) and the EIP-712
 * digest (two keccaks in JavaScript) the next, so a batch's readings are digested and checked on other cores while
 * the event loop takes the next publishes and writes the last batch. A batch is split into chunks checked in
 * parallel, a device's always in the same thread so its cached key is reused.
 */
import type { TypedDataDomain } from "ethers";
import { Piscina } from "piscina";
import type { SignedReading } from "../domain/cold-chain.ts";
import type { Hex } from "../domain/model.ts";
import type { SignatureTask } from "./signature-worker.ts";
import { typeScriptThreadExecArgv } from "../thread-exec-argv.ts";

export interface SignatureCheckItem {
  digest: Hex;
  signature: Hex;
  device: Hex;
}

export interface SignaturePool {
  check(items: SignatureCheckItem[]): Promise<boolean[]>;
  /** Whether each reading is signed by its device, its digest (in `domain`) computed on the workers too. */
  checkReadings(domain: TypedDataDomain, readings: SignedReading[]): Promise<boolean[]>;
  close(): Promise<void>;
}

const WORKER_FILE = new URL("./signature-worker.ts", import.meta.url).href;

export function createSignaturePool({ threads }: { threads: number }): SignaturePool {
  // One pool per thread: piscina hands a task to any idle worker, and a device's key is cached in one of them.
  const pools = Array.from(
    { length: threads },
    () => new Piscina({ filename: WORKER_FILE, minThreads: 1, maxThreads: 1, execArgv: typeScriptThreadExecArgv(), closeTimeout: 5_000 }),
  );
  const threadOf = (device: Hex) => Number.parseInt(device.slice(-4), 16) % threads;
  const inChunks = async <T extends { device: Hex }>(items: T[], task: (chunk: T[]) => SignatureTask): Promise<boolean[]> => {
    const chunks: { positions: number[]; items: T[] }[] = pools.map(() => ({ positions: [], items: [] }));
    items.forEach((item, position) => {
      const chunk = chunks[threadOf(item.device)]!;
      chunk.positions.push(position);
      chunk.items.push(item);
    });
    const results: boolean[] = new Array<boolean>(items.length).fill(false);
    await Promise.all(
      chunks.map(async (chunk, thread) => {
        if (chunk.items.length === 0) return;
        const answers = (await pools[thread]!.run(task(chunk.items))) as boolean[];
        answers.forEach((answer, index) => (results[chunk.positions[index]!] = answer));
      }),
    );
    return results;
  };
  return {
    check: (items) => inChunks(items, (chunk) => ({ kind: "digests", items: chunk })),
    checkReadings: (domain, readings) => inChunks(readings, (chunk) => ({ kind: "readings", domain, readings: chunk })),
    async close() {
      await Promise.all(pools.map((pool) => pool.destroy()));
    },
  };
}
