/**
 * Undoing what the chain no longer has: after a reorg, back to the fork point; after an interrupted commit, back to
 * the checkpoint. Both plan the rollback from the event log (backend/projections/rollback.ts) and write it in one step.
 */
import type { Checkpoint, Hex } from "../domain/model.ts";
import { planRollback } from "../projections/rollback.ts";
import type { IndexerDependencies } from "./dependencies.ts";
import { fetchHeader } from "./fetch-range.ts";

export type RollbackDependencies = Pick<IndexerDependencies, "provider" | "store" | "chainId" | "deployBlock" | "confirmWriter">;

/** The highest stored block the chain still has (its hash null below the genesis block). */
export interface ForkPoint {
  number: number;
  hash: Hex | null;
}

/** Headers read from the store per query, and checked against the chain per batch of requests. */
const STORED_HEADER_WINDOW = 512;
const CANONICAL_CHECK_BATCH = 32;

/** Walks the stored headers down from `fromBlock`; the first whose hash the chain still has is the fork point. */
export async function findForkPoint(
  { provider, store, chainId, deployBlock }: Pick<RollbackDependencies, "provider" | "store" | "chainId" | "deployBlock">,
  fromBlock: number,
): Promise<ForkPoint> {
  for (let high = fromBlock; high >= deployBlock; high -= STORED_HEADER_WINDOW) {
    const low = Math.max(deployBlock, high - STORED_HEADER_WINDOW + 1);
    const stored = (await store.getBlocks(chainId, low, high)).reverse();
    for (let start = 0; start < stored.length; start += CANONICAL_CHECK_BATCH) {
      const chunk = stored.slice(start, start + CANONICAL_CHECK_BATCH);
      const canonical = await Promise.all(chunk.map((block) => provider.getBlock(block.number)));
      const match = chunk.findIndex((block, index) => canonical[index]?.hash?.toLowerCase() === block.hash);
      if (match !== -1) return { number: chunk[match]!.number, hash: chunk[match]!.hash };
    }
  }
  // Nothing stored survived: start over from the deployment block.
  const below = deployBlock - 1;
  return { number: below, hash: below >= 0 ? (await fetchHeader(provider, chainId, below)).hash : null };
}

export interface RollBackToForkPointResult {
  /** The new checkpoint: the fork point. */
  checkpoint: Checkpoint;
  /** Blocks rolled back. */
  depth: number;
  removedEvents: number;
}

/** Finds the highest stored block still on the canonical chain below `stale` and rolls the mirror back to it. */
export async function rollBackToForkPoint(deps: RollbackDependencies, stale: Checkpoint): Promise<RollBackToForkPointResult> {
  const { store, chainId } = deps;
  const fork = await findForkPoint(deps, stale.blockNumber);
  const checkpoint: Checkpoint = { chainId, blockNumber: fork.number, blockHash: fork.hash, updatedAt: Date.now() };
  const plan = await planRollback({ store, chainId, forkBlock: fork.number, checkpoint });
  await deps.confirmWriter();
  await store.rollback(plan.commit);
  return { checkpoint, depth: stale.blockNumber - fork.number, removedEvents: plan.removedEvents };
}

export type DiscardUncommittedWritesResult = { kind: "clean" } | { kind: "discarded"; checkpoint: Checkpoint; removedEvents: number };

/**
 * A commit cut short (a crash, or a connection lost mid-commit on MongoDB, whose commitRange is not atomic) can
 * leave events and projections above the checkpoint. Replaying the range converges on them only if the chain
 * did not change meanwhile; if those blocks were reorganised away, the replay would keep the stale events (same
 * ids) and skip events their projections seem to reflect. So roll back to the checkpoint before indexing on.
 */
export async function discardUncommittedWrites(
  deps: RollbackDependencies,
  checkpoint: Checkpoint | null,
): Promise<DiscardUncommittedWritesResult> {
  const { provider, store, chainId } = deps;
  const from = checkpoint === null ? deps.deployBlock : checkpoint.blockNumber + 1;
  const leftover = await store.listEvents({ chainId, fromBlock: from }, { limit: 1 });
  if (leftover.items.length === 0) return { kind: "clean" };
  const below = from - 1;
  const keep: Checkpoint = checkpoint ?? {
    chainId,
    blockNumber: below,
    blockHash: below >= 0 ? (await fetchHeader(provider, chainId, below)).hash : null,
    updatedAt: Date.now(),
  };
  const plan = await planRollback({ store, chainId, forkBlock: below, checkpoint: { ...keep, updatedAt: Date.now() } });
  await deps.confirmWriter();
  await store.rollback(plan.commit);
  return { kind: "discarded", checkpoint: plan.commit.checkpoint, removedEvents: plan.removedEvents };
}
