/**
 * The indexer's status as probes and metrics read it, what that status means in one sentence (describeIndexer),
 * and the progress it reports to those waiting on a block.
 */
import type { LeaseView } from "../coordination/lease-loop.ts";
import type { IndexerError } from "./errors.ts";

export type IndexerPhase = "starting" | "backfill" | "live" | "following" | "stopped" | "failed";

/** What the indexer keeps current as it runs. */
export interface IndexerProgressStatus {
  chainId: number;
  instanceId: string;
  /** True when this instance holds the indexing lease and writes; the others only serve reads. */
  isLeader: boolean;
  phase: IndexerPhase;
  /** Latest block the RPC node reported. */
  headBlock: number | null;
  /** Highest block whose events and projections are stored (the checkpoint). */
  indexedBlock: number | null;
  /** Blocks not yet mirrored: headBlock - indexedBlock, or headBlock - (deployBlock - 1) while the store is empty. */
  lagBlocks: number | null;
  /** First block of the deployment: where backfill starts on an empty store. */
  deployBlock: number;
  /** Blocks the indexer stays behind the head (CONFIRMATIONS). */
  confirmations: number;
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

/** What /readyz and /metrics read (a superset of backend/api/indexer-status.ts IndexerStatusView). */
export interface IndexerStatus extends IndexerProgressStatus, IndexerCondition {
  /** Who holds the indexing lease, as this instance knows it at the time of asking. */
  lease: LeaseView;
}

/**
 * Which instance indexes, if any, and how far the mirror is:
 * - `indexing`: this instance holds the lease and indexes (caught up, or lagBlocks behind);
 * - `backfill-started`: this instance holds the lease, the store is empty and backfill began at the deploy block;
 * - `standby`: another instance holds the lease and renews it; this one serves reads from the store it keeps current;
 * - `lease-lapsed`: no instance is indexing: the holder let its lease expire or stopped renewing it (or nobody holds
 *   it), and this instance takes it over as soon as the store lets it;
 * - `failed`: this instance's indexer stopped on an error that needs an operator;
 * - `head-unknown`: the chain head has not been read yet (headBlock is null);
 * - `stopped`: the indexer was stopped because the process is shutting down.
 */
export const INDEXER_STATES = ["indexing", "backfill-started", "standby", "lease-lapsed", "failed", "head-unknown", "stopped"] as const;
export type IndexerState = (typeof INDEXER_STATES)[number];

export interface IndexerCondition {
  state: IndexerState;
  /** One plain sentence saying what is happening, with the numbers. */
  message: string;
  /** Who holds the indexing lease (this instance's id when it does), null when unknown or nobody. */
  leaseHolder: string | null;
  /** When that lease expires (ISO 8601), null when unknown or nobody holds it. */
  leaseExpiresAt: string | null;
  /** The error that stopped the indexer (state `failed`), with any credentials in URLs masked. */
  error: string | null;
}

/** What describeIndexer reads: the fields every status source has, and those only the indexer itself knows. */
export type IndexerConditionInput = Pick<IndexerStatus, "isLeader" | "headBlock" | "indexedBlock" | "lagBlocks"> &
  Partial<Pick<IndexerStatus, "phase" | "instanceId" | "deployBlock" | "confirmations" | "lastError" | "lease">>;

/** Says which IndexerState holds and puts it in one sentence. Pure; `lease` must have been judged just now. */
export function describeIndexer(status: IndexerConditionInput): IndexerCondition {
  const { isLeader, headBlock, indexedBlock, lagBlocks, phase, instanceId, deployBlock, confirmations = 0, lastError } = status;
  const lease: LeaseView = status.lease ?? { kind: "unknown" };
  const holding = leaseHolding(lease, instanceId);
  const condition = (state: IndexerState, message: string, error: string | null = null): IndexerCondition => ({
    state,
    message,
    ...holding,
    error,
  });

  if (phase === "failed") {
    const error = lastError ? publicErrorText(lastError) : null;
    return condition(
      "failed",
      error
        ? `The indexer stopped on an error that needs an operator: ${error}.`
        : "The indexer stopped on an error that needs an operator (see the logs).",
      error,
    );
  }
  if (phase === "stopped") return condition("stopped", "The indexer has stopped because this instance is shutting down.");

  if (isLeader) {
    if (headBlock === null) {
      const lastAttempt = lastError ? `; the last attempt failed: ${publicErrorText(lastError)}` : "";
      return condition("head-unknown", `This instance holds the indexing lease but has not read the chain head yet${lastAttempt}.`);
    }
    // A failed step is retried with the same checkpoint; say so until one succeeds.
    const retrying = lastError ? `; its last step failed and is being retried: ${publicErrorText(lastError)}` : "";
    if (indexedBlock === null) {
      const from = deployBlock === undefined ? "the deploy block" : `the deploy block ${deployBlock}`;
      return condition(
        "backfill-started",
        `The store is empty and this instance has begun backfilling from ${from}${behindHead(lagBlocks, headBlock)}${retrying}.`,
      );
    }
    const lag = lagBlocks ?? Math.max(0, headBlock - indexedBlock);
    if (lag === 0) {
      return condition("indexing", `This instance is indexing and is caught up with the chain head at block ${headBlock}${retrying}.`);
    }
    if (lag <= confirmations) {
      return condition(
        "indexing",
        `This instance is indexing and is caught up: the mirror is at block ${indexedBlock}, ${blocks(lag)} behind the chain head at block ${headBlock}, within the ${confirmations} confirmations it waits for${retrying}.`,
      );
    }
    return condition(
      "indexing",
      `This instance is indexing: the mirror is at block ${indexedBlock}, ${blocks(lag)} behind the chain head at block ${headBlock}${retrying}.`,
    );
  }

  const mirror = mirrorProgress(status);
  switch (lease.kind) {
    case "held-elsewhere":
      return condition(
        "standby",
        `Another instance (${lease.holder}) holds the indexing lease until ${iso(lease.expiresAt)} and this instance is standing by; ${mirror}.`,
      );
    case "lapsed": {
      const until = iso(lease.expiresAt);
      if (lease.holder === instanceId) {
        return condition(
          "lease-lapsed",
          `No instance is indexing: this instance could not renew its lease in time (it expired at ${until}) and writes again only once it renews it; ${mirror}.`,
        );
      }
      if (lease.reason === "expired") {
        return condition(
          "lease-lapsed",
          `No instance is indexing: the lease of ${lease.holder} expired at ${until} and this instance is taking it over; ${mirror}.`,
        );
      }
      return condition(
        "lease-lapsed",
        `No instance is indexing: ${lease.holder} has stopped renewing its lease, which expires at ${until}, when this instance takes it over; ${mirror}.`,
      );
    }
    case "free":
      return condition("lease-lapsed", `No instance is indexing: nobody holds the lease and this instance is taking it; ${mirror}.`);
    case "held-here":
    case "unknown":
      if (headBlock === null && (phase === undefined || phase === "starting")) {
        return condition("head-unknown", "The indexer has not read the chain head yet.");
      }
      return condition("standby", `This instance does not hold the indexing lease and has not learnt who does; ${mirror}.`);
  }
}

function leaseHolding(lease: LeaseView, instanceId: string | undefined): Pick<IndexerCondition, "leaseHolder" | "leaseExpiresAt"> {
  switch (lease.kind) {
    case "held-here":
      return { leaseHolder: instanceId ?? null, leaseExpiresAt: iso(lease.expiresAt) };
    case "held-elsewhere":
    case "lapsed":
      return { leaseHolder: lease.holder, leaseExpiresAt: iso(lease.expiresAt) };
    case "free":
    case "unknown":
      return { leaseHolder: null, leaseExpiresAt: null };
  }
}

/** The mirror's position for a sentence about another instance's indexing (never shows an unread head). */
function mirrorProgress({ headBlock, indexedBlock, lagBlocks, deployBlock }: IndexerConditionInput): string {
  if (headBlock === null) {
    return indexedBlock === null
      ? "the store is empty and this instance has not read the chain head yet"
      : `the mirror is at block ${indexedBlock} and this instance has not read the chain head yet`;
  }
  if (indexedBlock === null) {
    const from = deployBlock === undefined ? "" : ` (backfill starts at the deploy block ${deployBlock})`;
    return `the store is still empty${behindHead(lagBlocks, headBlock)}${from}`;
  }
  return `the mirror is at block ${indexedBlock}${behindHead(lagBlocks ?? Math.max(0, headBlock - indexedBlock), headBlock)}`;
}

function behindHead(lagBlocks: number | null, headBlock: number): string {
  return lagBlocks === null
    ? `, with the chain head at block ${headBlock}`
    : `, ${blocks(lagBlocks)} behind the chain head at block ${headBlock}`;
}

const blocks = (n: number) => (n === 1 ? "1 block" : `${n} blocks`);
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * An error message fit for a public probe: one line, credentials in URLs masked (a store or node URL may carry
 * them), at most 300 characters, without a closing full stop (the sentence adds its own).
 */
export function publicErrorText(message: string): string {
  const text = message
    .replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@]*@/gi, "$1***@")
    .replace(/\s+/g, " ")
    .trim();
  const short = text.length > 300 ? `${text.slice(0, 299)}…` : text;
  return short.replace(/[.\s]+$/, "");
}

/** Optional hooks for metrics; the indexer calls them after the fact and never awaits them. */
export interface IndexerMetrics {
  rangeIndexed?(range: { fromBlock: number; toBlock: number; events: number; durationMs: number }): void;
  reorgHandled?(reorg: { forkBlock: number; depth: number; removedEvents: number }): void;
  errorOccurred?(error: IndexerError): void;
}

export interface IndexerProgress {
  /** The live status; the indexer updates its fields in place. */
  readonly status: IndexerProgressStatus;
  setHead(head: number): void;
  /** Moves the indexed block and wakes everyone waiting on it. */
  setIndexed(blockNumber: number | null): void;
  /** Wakes the waiters to check the phase (stopped or failed ends their wait). */
  notify(): void;
  /** Resolves once `indexedBlock` reaches `blockNumber`; rejects when the indexer stops first or the time runs out. */
  waitForBlock: (blockNumber: number, options?: { timeoutMs?: number }) => Promise<void>;
}

export function createIndexerProgress(
  initial: Pick<IndexerProgressStatus, "chainId" | "instanceId" | "blockRange" | "deployBlock" | "confirmations">,
): IndexerProgress {
  const status: IndexerProgressStatus = {
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
  // An empty store is behind by every block from the deploy block on.
  const lagOf = (head: number | null, indexed: number | null) =>
    head === null ? null : Math.max(0, head - (indexed ?? status.deployBlock - 1));
  const notify = () => {
    for (const listener of listeners) listener();
  };

  return {
    status,
    notify,

    setHead(head) {
      status.headBlock = head;
      status.lagBlocks = lagOf(head, status.indexedBlock);
    },

    setIndexed(blockNumber) {
      status.indexedBlock = blockNumber;
      status.lagBlocks = lagOf(status.headBlock, blockNumber);
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
