/** The indexer's status as probes and metrics read it, and the progress it reports to those waiting on a block. */
import type { IndexerError } from "./errors.ts";

export type IndexerPhase = "starting" | "backfill" | "live" | "following" | "stopped" | "failed";

/** What /readyz and /metrics read (a superset of backend/api/indexer-status.ts IndexerStatusView). */
export interface IndexerStatus {
  chainId: number;
  instanceId: string;
  /** True when this instance holds the indexing lease and writes; the others only serve reads. */
  isLeader: boolean;
  phase: IndexerPhase;
  /** Latest block the RPC node reported. */
  headBlock: number | null;
  /** Highest block whose events and projections are stored (the checkpoint). */
  indexedBlock: number | null;
  /** headBlock - indexedBlock. */
  lagBlocks: number | null;
  /** Events stored in the mirror for this chain. */
  eventsIndexed: number;
  /** Current eth_getLogs range, in blocks. */
  blockRange: number;
  reorgs: number;
  /** Last error, cleared by the next successful step. */
  lastError: string | null;
  lastErrorRetryable: boolean | null;
  /** Unix ms of the last committed range or rollback. */
  lastCommitAt: number | null;
}

/** Optional hooks for metrics; the indexer calls them after the fact and never awaits them. */
export interface IndexerMetrics {
  rangeIndexed?(range: { fromBlock: number; toBlock: number; events: number; durationMs: number }): void;
  reorgHandled?(reorg: { forkBlock: number; depth: number; removedEvents: number }): void;
  errorOccurred?(error: IndexerError): void;
}

export interface IndexerProgress {
  /** The live status; the indexer updates its fields in place. */
  readonly status: IndexerStatus;
  setHead(head: number): void;
  /** Moves the indexed block and wakes everyone waiting on it. */
  setIndexed(blockNumber: number | null): void;
  /** Wakes the waiters to check the phase (stopped or failed ends their wait). */
  notify(): void;
  /** Resolves once `indexedBlock` reaches `blockNumber`; rejects when the indexer stops first or the time runs out. */
  waitForBlock: (blockNumber: number, options?: { timeoutMs?: number }) => Promise<void>;
}

export function createIndexerProgress(initial: Pick<IndexerStatus, "chainId" | "instanceId" | "blockRange">): IndexerProgress {
  const status: IndexerStatus = {
    ...initial,
    isLeader: false,
    phase: "starting",
    headBlock: null,
    indexedBlock: null,
    lagBlocks: null,
    eventsIndexed: 0,
    reorgs: 0,
    lastError: null,
    lastErrorRetryable: null,
    lastCommitAt: null,
  };
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const listener of listeners) listener();
  };

  return {
    status,
    notify,

    setHead(head) {
      status.headBlock = head;
      status.lagBlocks = status.indexedBlock === null ? null : Math.max(0, head - status.indexedBlock);
    },

    setIndexed(blockNumber) {
      status.indexedBlock = blockNumber;
      status.lagBlocks = status.headBlock === null || blockNumber === null ? null : Math.max(0, status.headBlock - blockNumber);
      notify();
    },

    waitForBlock(blockNumber, { timeoutMs = 30_000 } = {}) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (status.indexedBlock !== null && status.indexedBlock >= blockNumber) finish();
          else if (status.phase === "failed" || status.phase === "stopped") {
            finish(new Error(`indexer ${status.phase} before block ${blockNumber}: ${status.lastError ?? "stopped"}`));
          }
        };
        const timer = setTimeout(
          () =>
            finish(new Error(`indexer did not reach block ${blockNumber} within ${timeoutMs} ms (at ${status.indexedBlock ?? "none"})`)),
          timeoutMs,
        );
        function finish(error?: Error) {
          clearTimeout(timer);
          listeners.delete(check);
          if (error) reject(error);
          else resolve();
        }
        listeners.add(check);
        check();
      });
    },
  };
}
