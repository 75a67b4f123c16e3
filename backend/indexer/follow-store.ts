/** What an instance without the lease reports: the progress the leader stored, against the head it sees itself. */
import type { IndexerDependencies } from "./dependencies.ts";
import type { IndexerProgress } from "./status.ts";

/** Counting a large chain's events walks its whole index (seconds at 10^7 events): at most this often. */
export const FOLLOWER_COUNT_EVERY_MS = 60_000;

/** When the follower last counted: the checkpoint time the count reflects, and the clock then. */
export interface FollowerCount {
  checkpointAt: number | null;
  countedAt: number;
}

/**
 * Refreshes `progress` from the leader's checkpoint and the head. Counting events can be costly on a large
 * collection, so they are counted when none were counted yet, or when the checkpoint moved since the last count and
 * FOLLOWER_COUNT_EVERY_MS have passed. Returns the count's record for the next call.
 */
export async function followStoredProgress(
  { store, provider, chainId }: Pick<IndexerDependencies, "store" | "provider" | "chainId">,
  progress: IndexerProgress,
  last: FollowerCount | null,
  now: () => number = Date.now,
): Promise<FollowerCount | null> {
  const [checkpoint, head] = await Promise.all([store.getCheckpoint(chainId), provider.getBlockNumber()]);
  progress.setHead(head);
  const checkpointAt = checkpoint?.updatedAt ?? null;
  const due = last === null || (checkpointAt !== last.checkpointAt && now() - last.countedAt >= FOLLOWER_COUNT_EVERY_MS);
  if (progress.status.eventsIndexed === 0 || due) {
    progress.status.eventsIndexed = await store.countEvents(chainId);
    last = { checkpointAt, countedAt: now() };
  }
  progress.setIndexed(checkpoint?.blockNumber ?? null);
  return last;
}
