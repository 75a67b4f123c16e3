/**
 * The indexer: follows one chain through an ethers provider and mirrors every Provena event into the store.
 *
 * - Backfills from the deployment block in block ranges, adapting the range to what the node accepts
 *   (halves on refusal, doubles back on success), then tails new blocks by polling, CONFIRMATIONS behind the head.
 * - Each range is committed as one unit (events, headers, projections, checkpoint last). Writes are idempotent
 *   and projections skip events they already reflect, so a crash anywhere followed by a restart converges on
 *   the data of an uninterrupted run.
 * - Before building on the checkpoint it checks the checkpoint block is still canonical; when not, it finds the
 *   fork point by walking back the stored headers, rolls the mirror back to it and re-indexes.
 * - Exactly one instance writes at a time: the holder of the store lease `indexer:<chainId>`. The others keep
 *   reporting status from the store and take over when the holder stops renewing.
 *
 * The stages live beside it: index-range.ts (forward), roll-back.ts (reorgs, interrupted commits), leader.ts (one
 * step of the lease holder), follow-store.ts (the others), range-size.ts, status.ts, errors.ts (retry or stop).
 */
import type { Logger } from "pino";
import { loadProvenaAbis, type ProvenaAbis } from "../chain/artifacts.ts";
import type { Deployment } from "../chain/deployment.ts";
import { createEventDecoder } from "../chain/events.ts";
import { indexerChainReaderOf } from "../chain/json-rpc-chain-reader.ts";
import { createLeaseLoop } from "../coordination/lease-loop.ts";
import type {
  ColdChainReads,
  ContainerReads,
  Leases,
  MirrorLog,
  ProjectionReads,
  TransformationRecords,
  UnitOwnershipRecords,
} from "../store/port.ts";
import type { IndexerDependencies } from "./dependencies.ts";
import { LeaseLostError, recoveryFor, type NonRetryableIndexerError } from "./errors.ts";
import type { ChainReader } from "../chain/chain-access.ts";
import { followStoredProgress, type FollowerCount } from "./follow-store.ts";
import { createInterruptibleSleep } from "./interruptible-sleep.ts";
import { createIndexingLeader } from "./leader.ts";
import { createRangeSize } from "./range-size.ts";
import { createIndexerProgress, describeIndexer, type IndexerMetrics, type IndexerStatus } from "./status.ts";

export type { IndexerMetrics, IndexerPhase, IndexerState, IndexerStatus } from "./status.ts";

export interface IndexerConfig {
  confirmations: number;
  indexerBlockRange: number;
  indexerPollMs: number;
  leaseTtlMs: number;
  instanceId: string;
}

export interface CreateIndexerParameters {
  /**
   * An ethers provider; use one without response caching (backend/chain/provider.ts rpcProviderOptions). Logs and
   * headers are read past it (backend/chain/json-rpc-chain-reader.ts): over HTTP with a fetch-based JSON-RPC client.
   */
  provider: ChainReader;
  deployment: Deployment;
  store: MirrorLog &
    ProjectionReads &
    ColdChainReads &
    Leases &
    Pick<UnitOwnershipRecords, "getUnitTokens" | "getClaimRoots"> &
    Pick<TransformationRecords, "getTransformations"> &
    Pick<ContainerReads, "getContainers">;
  config: IndexerConfig;
  logger: Logger;
  metrics?: IndexerMetrics;
  /** Defaults to the compiled artifacts. */
  abis?: ProvenaAbis;
  /** Called once when a non-retryable error stops the indexer. */
  onFatal?: (error: NonRetryableIndexerError) => void;
}

export interface Indexer {
  /** Starts the loop in the background; idempotent. */
  start(): void;
  /** Stops after the step in flight, then gives up the lease so another instance takes over at once. */
  stop(): Promise<void>;
  /** Cheap snapshot for probes and metrics. */
  status(): IndexerStatus;
  /** Resolves once the mirror holds every block up to `blockNumber` (as seen by this instance). */
  waitForBlock(blockNumber: number, options?: { timeoutMs?: number }): Promise<void>;
}

const MAX_BACKOFF_MS = 30_000;

/** Pause before the next attempt after `failures` retryable failures in a row. */
export function retryDelayMs(failures: number): number {
  return Math.min(MAX_BACKOFF_MS, 100 * 2 ** Math.min(failures, 9));
}

export function createIndexer({ provider, deployment, store, config, logger, metrics, abis, onFatal }: CreateIndexerParameters): Indexer {
  const chainId = deployment.chainId;
  const log = logger.child({ component: "indexer", chainId, instanceId: config.instanceId });
  const rangeSize = createRangeSize(config.indexerBlockRange);
  const progress = createIndexerProgress({
    chainId,
    instanceId: config.instanceId,
    blockRange: config.indexerBlockRange,
    deployBlock: deployment.deployBlock,
    confirmations: config.confirmations,
  });
  const { status } = progress;
  const lease = createLeaseLoop({
    store,
    name: `indexer:${chainId}`,
    holder: config.instanceId,
    ttlMs: config.leaseTtlMs,
    logger: log,
    onLost: loseLeadership,
  });
  const dependencies: IndexerDependencies = {
    provider,
    chainReader: indexerChainReaderOf(provider),
    store,
    decoder: createEventDecoder({ deployment, abis: abis ?? loadProvenaAbis() }),
    chainId,
    deployBlock: deployment.deployBlock,
    async confirmWriter() {
      if (!status.isLeader) throw new LeaseLostError("this instance is not the indexer");
      if (!(await lease.confirm())) {
        loseLeadership("another instance holds the lease");
        throw new LeaseLostError("the indexer lease passed to another instance before the write");
      }
    },
  };
  const leader = createIndexingLeader({ dependencies, progress, rangeSize, confirmations: config.confirmations, log, metrics });
  const pauses = createInterruptibleSleep();
  let followerCount: FollowerCount | null = null;
  let loop: Promise<void> | null = null;
  let stopping = false;

  function loseLeadership(reason: string) {
    if (!status.isLeader) return;
    status.isLeader = false;
    status.phase = "following";
    log.warn({ reason }, "indexer lease lost; following the instance that holds it");
  }

  async function followStoreProgress() {
    try {
      followerCount = await followStoredProgress(dependencies, progress, followerCount);
    } catch (error) {
      log.debug({ err: error }, "follower could not refresh the indexer status");
    }
  }

  /** Records a failed step; returns the pause before the next one, 0 for at once, or null to stop for good. */
  function recoverFrom(raw: unknown, failures: number): number | null {
    const recovery = recoveryFor(raw);
    const { error } = recovery;
    leader.distrustCheckpoint();
    status.lastError = error.message;
    status.lastErrorRetryable = error.retryable;
    metrics?.errorOccurred?.(error);
    switch (recovery.kind) {
      case "follow":
        loseLeadership(error.message);
        return 0;
      case "stop":
        status.phase = "failed";
        log.fatal({ err: error }, "indexer stopped: this error needs an operator");
        onFatal?.(recovery.error);
        return null;
      case "shrink-range": {
        const { fromBlock, toBlock } = recovery.error;
        rangeSize.refused(fromBlock, toBlock);
        status.blockRange = rangeSize.current();
        log.info({ fromBlock, toBlock, range: status.blockRange }, "node refused the block range; halving it");
        return 0;
      }
      case "back-off": {
        const delay = retryDelayMs(failures);
        log.warn({ err: error, attempt: failures, retryInMs: delay }, "indexer step failed; retrying");
        return delay;
      }
    }
  }

  async function run() {
    let failures = 0;
    while (!stopping) {
      try {
        if (!status.isLeader) {
          if ((await lease.acquire()) === "refused") {
            status.phase = "following";
            await followStoreProgress();
            await pauses.sleep(Math.min(config.indexerPollMs, Math.max(100, Math.floor(config.leaseTtlMs / 3))));
            continue;
          }
          status.isLeader = true;
          await leader.resume();
        }
        const outcome = await leader.step();
        failures = 0;
        status.lastError = null;
        status.lastErrorRetryable = null;
        if (outcome === "idle") await pauses.sleep(config.indexerPollMs);
      } catch (raw) {
        if (stopping) break;
        const pause = recoverFrom(raw, failures + 1);
        if (pause === null) break;
        if (pause > 0) {
          failures += 1;
          await pauses.sleep(pause);
        }
      }
    }
  }

  return {
    start() {
      if (loop !== null) return;
      stopping = false;
      pauses.reset();
      log.info(
        { deployBlock: deployment.deployBlock, confirmations: config.confirmations, blockRange: config.indexerBlockRange },
        "indexer starting",
      );
      lease.start();
      loop = run().catch((error: unknown) => {
        status.phase = "failed";
        log.fatal({ err: error }, "indexer loop crashed");
      });
    },

    async stop() {
      stopping = true;
      pauses.interrupt();
      await loop;
      loop = null;
      status.isLeader = false;
      await lease.stop();
      if (status.phase !== "failed") status.phase = "stopped";
      progress.notify();
      log.info("indexer stopped");
    },

    status() {
      // A leader that could not renew in time (the store unreachable) may have been replaced already.
      const snapshot = { ...status, isLeader: status.isLeader && lease.isHeld(), lease: lease.view() };
      return { ...snapshot, ...describeIndexer(snapshot) };
    },

    waitForBlock: progress.waitForBlock,
  };
}
