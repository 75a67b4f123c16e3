/**
 * The leader's forward step: choose the next block range behind the head, read it, project it, and commit it as
 * one unit (events, headers, projections, checkpoint last).
 */
import type { Checkpoint } from "../domain/model.ts";
import { designRecordsOf } from "../designs/design-records.ts";
import { documentAnchorsOf } from "../documents/document-anchors.ts";
import { loadColdChainFromStore, projectColdChainRange } from "../projections/cold-chain.ts";
import { loadCurrentContainersFromStore, loadCurrentFromStore, loadCurrentOwnershipFromStore, project } from "../projections/project.ts";
import { loadCurrentTransformationsFromStore } from "../projections/transformations.ts";
import type { IndexerDependencies } from "./dependencies.ts";
import { fetchRange } from "./fetch-range.ts";

/** While more blocks than this remain behind a range, the indexer reports it is backfilling rather than live. */
export const LIVE_RANGE_BLOCKS = 64;

export interface PlanRangeParameters {
  checkpoint: Checkpoint | null;
  deployBlock: number;
  head: number;
  confirmations: number;
  /** Most blocks to take at once. */
  maxBlocks: number;
}

export type RangePlan =
  /** Everything up to `target` (head minus confirmations) is indexed. */
  | { kind: "caught-up"; target: number }
  /** `phase` is "backfill" while more than a live tail's worth of blocks remains behind the range. */
  | { kind: "range"; fromBlock: number; toBlock: number; target: number; phase: "backfill" | "live" };

export function planRange({ checkpoint, deployBlock, head, confirmations, maxBlocks }: PlanRangeParameters): RangePlan {
  const target = head - confirmations;
  const fromBlock = checkpoint === null ? deployBlock : checkpoint.blockNumber + 1;
  if (fromBlock > target) return { kind: "caught-up", target };
  const toBlock = Math.min(fromBlock + maxBlocks - 1, target);
  return { kind: "range", fromBlock, toBlock, target, phase: target - toBlock > LIVE_RANGE_BLOCKS ? "backfill" : "live" };
}

export type IndexRangeResult =
  | { kind: "committed"; checkpoint: Checkpoint; events: number }
  /** The range does not build on the checkpoint: the chain reorganised below `fromBlock`; nothing was written. */
  | { kind: "reorg"; reason: string };

/** Reads blocks `fromBlock`-`toBlock` on top of `checkpoint` and commits them with their projections. */
export async function indexRange(
  { chainReader, store, decoder, chainId, confirmWriter }: IndexerDependencies,
  { checkpoint, fromBlock, toBlock }: { checkpoint: Checkpoint | null; fromBlock: number; toBlock: number },
): Promise<IndexRangeResult> {
  const fetched = await fetchRange({
    chain: chainReader,
    decoder,
    fromBlock,
    toBlock,
    parent: checkpoint?.blockHash ? { number: checkpoint.blockNumber, hash: checkpoint.blockHash } : null,
  });
  if (fetched.kind === "reorg") {
    return { kind: "reorg", reason: `block ${fromBlock} builds on ${fetched.actual}, not on the stored ${fetched.expected}` };
  }
  const { events } = fetched;
  const documents = await project(
    events,
    loadCurrentFromStore(store),
    loadCurrentOwnershipFromStore(store),
    loadCurrentTransformationsFromStore(store),
    loadCurrentContainersFromStore(store),
  );
  const coldChain = await projectColdChainRange(events, loadColdChainFromStore(store));
  const next: Checkpoint = { chainId, blockNumber: toBlock, blockHash: fetched.last.hash, updatedAt: Date.now() };
  await confirmWriter();
  const designs = designRecordsOf(events);
  await store.commitRange({
    chainId,
    events,
    blocks: fetched.blocks,
    ...documents,
    designRegistrations: designs.registrations,
    designLinkChanges: designs.linkChanges,
    documentAnchors: documentAnchorsOf(events),
    coldChain,
    checkpoint: next,
  });
  return { kind: "committed", checkpoint: next, events: events.length };
}
