/**
 * Liveness and readiness. Ready means this instance can serve fresh reads: the mirror store answers and
 * the mirror trails the chain by no more than `maxLagBlocks`. A load balancer takes a not-ready instance
 * out of rotation until both hold again.
 *
 * Every instance serves reads from the same store, so the lag decides for every instance alike, whichever
 * one indexes: a standby whose store another instance keeps current is ready, and so is one whose indexer's
 * lease has lapsed, until the mirror actually falls behind (the lag is measured against the head this instance
 * reads itself, so it grows while nobody indexes). Taking every instance out during a takeover would turn a
 * few seconds without an indexer into an outage. Not ready whatever the lag: the chain head has not been read
 * (no lag to judge), the indexer stopped on an error that needs an operator (its lag froze where it stopped),
 * or it has been stopped (the process is shutting down).
 */
import type { Logger } from "pino";
import { describeIndexer, type IndexerCondition, type IndexerState } from "../../indexer/status.ts";
import type { MirrorLog, StoreKind, StoreLifecycle } from "../../store/port.ts";
import type { IndexerStatusSource, IndexerStatusView } from "../indexer-status.ts";

/** The indexer as /readyz reports it: what is happening (state, message) and the numbers behind it. */
export type IndexerReadiness = Pick<IndexerCondition, "state" | "message"> &
  Pick<IndexerStatusView, "chainId" | "headBlock" | "indexedBlock" | "lagBlocks"> & {
    maxLagBlocks: number;
  } & Pick<IndexerStatusView, "eventsIndexed" | "isLeader"> &
  Pick<IndexerCondition, "leaseHolder" | "leaseExpiresAt" | "error">;

export interface Readiness {
  ready: boolean;
  /** Why the instance is not ready, one sentence each; empty when ready. */
  reasons: string[];
  store: { kind: StoreKind; answered: boolean };
  indexer: IndexerReadiness | null;
}

export interface Liveness {
  status: "ok";
  uptimeSeconds: number;
  /** What the indexer is doing, for a human reading the probe; it never makes liveness fail. */
  indexer: Pick<IndexerCondition, "state" | "message"> | null;
}

export interface HealthService {
  liveness(): Liveness;
  readiness(): Promise<Readiness>;
}

/** States in which the instance is not ready whatever the lag says. */
const NEVER_READY: ReadonlySet<IndexerState> = new Set(["failed", "stopped", "head-unknown"]);

export interface HealthServiceDeps {
  /** Its kind names it in the reasons; a cheap read of the event log proves it answers. */
  store: Pick<StoreLifecycle, "kind"> & MirrorLog;
  indexerStatus: IndexerStatusSource;
  maxLagBlocks: number;
  logger: Logger;
  /** How long the store may take to answer the probe query. */
  storeTimeoutMs?: number;
}

export function createHealthService({
  store,
  indexerStatus,
  maxLagBlocks,
  logger,
  storeTimeoutMs = 2_000,
}: HealthServiceDeps): HealthService {
  return {
    liveness() {
      let indexer: Liveness["indexer"] = null;
      try {
        const { state, message } = describeIndexer(indexerStatus());
        indexer = { state, message };
      } catch (error) {
        logger.error({ err: error }, "liveness: the indexer status could not be read");
      }
      return { status: "ok", uptimeSeconds: Math.round(process.uptime() * 1000) / 1000, indexer };
    },

    async readiness() {
      const reasons: string[] = [];
      let status: IndexerStatusView | null = null;
      try {
        status = indexerStatus();
      } catch (error) {
        logger.error({ err: error }, "readiness: the indexer status could not be read");
        reasons.push("The indexer status could not be read.");
      }

      let answered = false;
      try {
        // Any cheap read proves the store answers; the checkpoint is the one the indexer keeps current.
        await withTimeout<unknown>(status ? store.getCheckpoint(status.chainId) : store.countEvents(), storeTimeoutMs);
        answered = true;
      } catch (error) {
        // The store's own message may name hosts or credentials: it goes to the log, not to the client.
        logger.error({ err: error }, "readiness: the mirror store did not answer");
        reasons.push(`The mirror store (${store.kind}) did not answer within ${storeTimeoutMs} ms.`);
      }

      const indexer = status ? indexerReadiness(status, maxLagBlocks) : null;
      if (indexer) {
        const { state, message, lagBlocks } = indexer;
        if (NEVER_READY.has(state) || lagBlocks === null) reasons.push(message);
        else if (lagBlocks > maxLagBlocks) {
          reasons.push(
            message,
            `The mirror may be at most ${maxLagBlocks} blocks behind the chain head to be ready (READY_MAX_LAG_BLOCKS) and it is ${lagBlocks} behind.`,
          );
        }
      }

      return { ready: reasons.length === 0, reasons, store: { kind: store.kind, answered }, indexer };
    },
  };
}

/** Only the documented fields, whatever richer object the indexer hands over; no head while it is unread. */
function indexerReadiness(status: IndexerStatusView, maxLagBlocks: number): IndexerReadiness {
  const { state, message, leaseHolder, leaseExpiresAt, error } = describeIndexer(status);
  const { chainId, indexedBlock, eventsIndexed, isLeader } = status;
  const headUnknown = state === "head-unknown";
  return {
    state,
    message,
    chainId,
    headBlock: headUnknown ? null : status.headBlock,
    indexedBlock,
    lagBlocks: headUnknown ? null : status.lagBlocks,
    maxLagBlocks,
    eventsIndexed,
    isLeader,
    leaseHolder,
    leaseExpiresAt,
    error,
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
