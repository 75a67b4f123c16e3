/**
 * Liveness and readiness. Ready means this instance can serve fresh reads: the mirror store answers and
 * the mirror trails the chain by no more than `maxLagBlocks`. A load balancer takes a not-ready instance
 * out of rotation until both hold again.
 */
import type { Logger } from "pino";
import type { MirrorLog, StoreKind, StoreLifecycle } from "../../store/port.ts";
import type { IndexerStatusSource, IndexerStatusView } from "../indexer-status.ts";

export interface Readiness {
  ready: boolean;
  /** Why the instance is not ready; empty when ready. */
  reasons: string[];
  store: { kind: StoreKind; answered: boolean };
  indexer: (IndexerStatusView & { maxLagBlocks: number }) | null;
}

export interface HealthService {
  readiness(): Promise<Readiness>;
}

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
    async readiness() {
      const reasons: string[] = [];
      let status: IndexerStatusView | null = null;
      try {
        status = indexerStatus();
      } catch (error) {
        logger.error({ err: error }, "readiness: the indexer status could not be read");
        reasons.push("the indexer status could not be read");
      }

      let answered = false;
      try {
        // Any cheap read proves the store answers; the checkpoint is the one the indexer keeps current.
        await withTimeout<unknown>(status ? store.getCheckpoint(status.chainId) : store.countEvents(), storeTimeoutMs);
        answered = true;
      } catch (error) {
        // The store's own message may name hosts or credentials: it goes to the log, not to the client.
        logger.error({ err: error }, "readiness: the mirror store did not answer");
        reasons.push(`the mirror store (${store.kind}) did not answer within ${storeTimeoutMs} ms`);
      }

      if (status?.phase === "failed") {
        // Its head and lag freeze where it stopped, so the lag alone would go on reporting ready.
        reasons.push("the indexer stopped on an error that needs an operator (see the logs)");
      } else if (status) {
        if (status.lagBlocks === null) reasons.push("the indexer has not read the chain head yet");
        else if (status.lagBlocks > maxLagBlocks) {
          reasons.push(`the mirror is ${status.lagBlocks} blocks behind the chain head (at most ${maxLagBlocks} allowed)`);
        }
      }

      return {
        ready: reasons.length === 0,
        reasons,
        store: { kind: store.kind, answered },
        indexer: status ? { ...pickStatus(status), maxLagBlocks } : null,
      };
    },
  };
}

/** Only the documented fields, whatever richer object the indexer hands over. */
function pickStatus({ chainId, headBlock, indexedBlock, lagBlocks, eventsIndexed, isLeader }: IndexerStatusView): IndexerStatusView {
  return { chainId, headBlock, indexedBlock, lagBlocks, eventsIndexed, isLeader };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
