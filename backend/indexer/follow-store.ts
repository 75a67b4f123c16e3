/** What an instance without the lease reports: the progress the leader stored, against the head it sees itself. */
import type { IndexerDependencies } from "./dependencies.ts";
import type { IndexerProgress } from "./status.ts";

/**
 * Refreshes `progress` from the leader's checkpoint and the head. Counting events can be costly on a large
 * collection, so they are counted only when the checkpoint moved since `countedAt` (or none were counted yet).
 * Returns the checkpoint time the count now reflects.
 */
export async function followStoredProgress(
  { store, provider, chainId }: Pick<IndexerDependencies, "store" | "provider" | "chainId">,
  progress: IndexerProgress,
  countedAt: number | null,
): Promise<number | null> {
  const [checkpoint, head] = await Promise.all([store.getCheckpoint(chainId), provider.getBlockNumber()]);
  progress.setHead(head);
  const checkpointAt = checkpoint?.updatedAt ?? null;
  if (progress.status.eventsIndexed === 0 || checkpointAt !== countedAt) {
    progress.status.eventsIndexed = await store.countEvents(chainId);
    countedAt = checkpointAt;
  }
  progress.setIndexed(checkpoint?.blockNumber ?? null);
  return countedAt;
}
