/**
 * What the instance holding the indexing lease does, one step at a time: check the checkpoint is still canonical
 * (else roll back to the fork point), then index the next range. It keeps the checkpoint it builds on in memory and
 * goes back to the store's after any failure, since a failed write may or may not have landed.
 */
import type { Logger } from "pino";
import type { Checkpoint } from "../domain/model.ts";
import type { IndexerDependencies } from "./dependencies.ts";
import { indexRange, planRange } from "./index-range.ts";
import type { RangeSize } from "./range-size.ts";
import { discardUncommittedWrites, rollBackToForkPoint } from "./roll-back.ts";
import type { IndexerMetrics, IndexerProgress } from "./status.ts";

export interface CreateIndexingLeaderParameters {
  dependencies: IndexerDependencies;
  progress: IndexerProgress;
  rangeSize: RangeSize;
  confirmations: number;
  log: Logger;
  metrics?: IndexerMetrics;
}

export type LeaderStepOutcome = "progress" | "idle";

export interface IndexingLeader {
  /** Loads the checkpoint on taking the lease; the previous writer may have died mid-commit, so the next step checks. */
  resume(): Promise<void>;
  step(): Promise<LeaderStepOutcome>;
  /** After a failed step: trust the store's checkpoint, not the one in memory. */
  distrustCheckpoint(): void;
}

export function createIndexingLeader({
  dependencies,
  progress,
  rangeSize,
  confirmations,
  log,
  metrics,
}: CreateIndexingLeaderParameters): IndexingLeader {
  const { provider, store, chainId, deployBlock } = dependencies;
  const { status } = progress;
  let checkpoint: Checkpoint | null = null;
  let reloadCheckpoint = false;

  async function reload() {
    // A lost acknowledgement or a half-applied rollback that the store finishes itself: the store knows best.
    checkpoint = await store.getCheckpoint(chainId);
    const discarded = await discardUncommittedWrites(dependencies, checkpoint);
    if (discarded.kind === "discarded") {
      const below = (checkpoint === null ? deployBlock : checkpoint.blockNumber + 1) - 1;
      checkpoint = discarded.checkpoint;
      status.lastCommitAt = Date.now();
      status.eventsIndexed = await store.countEvents(chainId);
      log.warn(
        { checkpoint: below, removedEvents: discarded.removedEvents },
        "removed the writes of an interrupted commit above the checkpoint",
      );
    }
    reloadCheckpoint = false;
    progress.setIndexed(checkpoint?.blockNumber ?? null);
  }

  async function rollBackReorg(reason: string) {
    const stale = checkpoint!;
    log.warn({ reason, checkpoint: stale.blockNumber }, "reorg detected; finding the fork point");
    const rolledBack = await rollBackToForkPoint(dependencies, stale);
    const forkBlock = rolledBack.checkpoint.blockNumber;
    checkpoint = rolledBack.checkpoint;
    status.reorgs += 1;
    status.lastCommitAt = Date.now();
    status.eventsIndexed = await store.countEvents(chainId);
    progress.setIndexed(forkBlock);
    const { depth, removedEvents } = rolledBack;
    metrics?.reorgHandled?.({ forkBlock, depth, removedEvents });
    log.warn({ forkBlock, depth, removedEvents }, "rolled back to the fork point; re-indexing");
  }

  async function step(): Promise<LeaderStepOutcome> {
    if (reloadCheckpoint) await reload();
    const head = await provider.getBlockNumber();
    progress.setHead(head);

    if (checkpoint?.blockHash) {
      const current = await provider.getBlock(checkpoint.blockNumber);
      if (current === null || current.hash?.toLowerCase() !== checkpoint.blockHash) {
        await rollBackReorg(`stored block ${checkpoint.blockNumber} ${checkpoint.blockHash} is now ${current?.hash ?? "missing"}`);
        return "progress";
      }
    }

    const range = rangeSize.current();
    const plan = planRange({ checkpoint, deployBlock, head, confirmations, maxBlocks: range });
    if (plan.kind === "caught-up") {
      status.phase = "live";
      return "idle";
    }
    const { fromBlock, toBlock, target } = plan;
    status.phase = plan.phase;
    const startedAt = Date.now();
    const indexed = await indexRange(dependencies, { checkpoint, fromBlock, toBlock });
    if (indexed.kind === "reorg") {
      await rollBackReorg(indexed.reason);
      return "progress";
    }

    checkpoint = indexed.checkpoint;
    status.lastCommitAt = Date.now();
    status.lastError = null;
    status.lastErrorRetryable = null;
    // Counted at resume, takeover and rollback; a range's events are new above the checkpoint, so they are added
    // rather than recounted (a count walks the chain's whole event index: seconds at 10^7 events).
    status.eventsIndexed += indexed.events;
    progress.setIndexed(toBlock);
    const durationMs = Date.now() - startedAt;
    metrics?.rangeIndexed?.({ fromBlock, toBlock, events: indexed.events, durationMs });
    log.debug({ fromBlock, toBlock, events: indexed.events, durationMs, range }, "range indexed");
    rangeSize.succeeded();
    status.blockRange = rangeSize.current();
    return toBlock >= target ? "idle" : "progress";
  }

  return {
    async resume() {
      reloadCheckpoint = true;
      checkpoint = await store.getCheckpoint(chainId);
      status.eventsIndexed = await store.countEvents(chainId);
      progress.setIndexed(checkpoint?.blockNumber ?? null);
      log.info({ resumeFrom: checkpoint === null ? deployBlock : checkpoint.blockNumber + 1 }, "indexer lease acquired; indexing");
    },
    step,
    distrustCheckpoint() {
      reloadCheckpoint = true;
    },
  };
}
