/** What an instance without the lease reports: the progress the leader stored, against the head it sees itself. */
import type { Checkpoint } from "../domain/model.ts";
import type { IndexerDependencies } from "./dependencies.ts";

export interface StoredProgress {
  head: number;
  checkpoint: Checkpoint | null;
  /** Events stored for the chain; null when the checkpoint did not move since `countedAt` (counting can be costly). */
  eventsIndexed: number | null;
}

/** Reads the leader's checkpoint and the head; counts the events only when the checkpoint moved since `countedAt`. */
export async function readStoredProgress(
  { store, provider, chainId }: Pick<IndexerDependencies, "store" | "provider" | "chainId">,
  { countedAt, forceCount }: { countedAt: number | null; forceCount: boolean },
): Promise<StoredProgress> {
  const [checkpoint, head] = await Promise.all([store.getCheckpoint(chainId), provider.getBlockNumber()]);
  const moved = (checkpoint?.updatedAt ?? null) !== countedAt;
  const eventsIndexed = forceCount || moved ? await store.countEvents(chainId) : null;
  return { head, checkpoint, eventsIndexed };
}
