/**
 * Reading signatures checked on worker threads: elliptic-curve arithmetic in JavaScript is the ingest's heaviest
 * step (a few hundred microseconds a reading on this class of machine; tens with libsecp256k1, where the pool is
 * rarely worth its messages), so a batch's signatures are split into chunks
 * checked in parallel, a device's always in the same thread so its cached key is reused.
 */
import { Piscina } from "piscina";
import type { Hex } from "../domain/model.ts";

export interface SignatureCheckItem {
  digest: Hex;
  signature: Hex;
  device: Hex;
}

export interface SignaturePool {
  check(items: SignatureCheckItem[]): Promise<boolean[]>;
  close(): Promise<void>;
}

const WORKER_FILE = new URL("./signature-worker.ts", import.meta.url).href;

/** As qr-renderer.ts: Node strips the worker's types itself where it can, else tsx's loader is passed on. */
function workerExecArgv(): string[] | undefined {
  if ((process.features as { typescript?: unknown }).typescript) return undefined;
  return process.execArgv.some((argument) => argument.includes("tsx")) ? undefined : [...process.execArgv, "--import", "tsx"];
}

export function createSignaturePool({ threads }: { threads: number }): SignaturePool {
  // One pool per thread: piscina hands a task to any idle worker, and a device's key is cached in one of them.
  const pools = Array.from(
    { length: threads },
    () => new Piscina({ filename: WORKER_FILE, minThreads: 1, maxThreads: 1, execArgv: workerExecArgv(), closeTimeout: 5_000 }),
  );
  const threadOf = (device: Hex) => Number.parseInt(device.slice(-4), 16) % threads;
  return {
    async check(items) {
      const chunks: { positions: number[]; items: SignatureCheckItem[] }[] = pools.map(() => ({ positions: [], items: [] }));
      items.forEach((item, position) => {
        const chunk = chunks[threadOf(item.device)]!;
        chunk.positions.push(position);
        chunk.items.push(item);
      });
      const results: boolean[] = new Array<boolean>(items.length).fill(false);
      await Promise.all(
        chunks.map(async (chunk, thread) => {
          if (chunk.items.length === 0) return;
          const answers = (await pools[thread]!.run(chunk.items)) as boolean[];
          answers.forEach((answer, index) => (results[chunk.positions[index]!] = answer));
        }),
      );
      return results;
    },
    async close() {
      await Promise.all(pools.map((pool) => pool.destroy()));
    },
  };
}
