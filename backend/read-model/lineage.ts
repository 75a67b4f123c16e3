/**
 * The lineage graph of lots: split edges (a child's `parentId`) and merge edges (a transformation's inputs to each of
 * its outputs), walked one generation at a time. Each generation costs one transformation lookup and one batch read
 * per chunk of READ_CHUNK lots, never one round trip per lot, and each lot is read once however many paths reach it
 * (a diamond: two inputs of one merge split from the same lot). The walk is bounded by lots and generations, so a
 * huge fan-in or corrupt data (a cycle, which the contracts cannot produce) cannot make it run away.
 */
import type { Batch, Hex, Transformation } from "../domain/model.ts";
import { MAX_TRANSFORMATION_LOTS, type MirrorStore } from "../store/port.ts";

/** Lots per store read; at most MAX_TRANSFORMATION_LOTS, the store's limit for lookups by lot. */
export const READ_CHUNK = Math.min(1_000, MAX_TRANSFORMATION_LOTS);

export type LineageStore = Pick<MirrorStore, "getBatches" | "findTransformationsProducing" | "findTransformationsConsuming">;

export type LineageDirection = "back" | "forward";

/** One lot the walk reached, `generation` steps from the start (1 for the start's parents/inputs or children/outputs). */
export interface LineageLot {
  batch: Batch;
  generation: number;
}

/** An edge of the walked graph, always from the older lot to the newer: a split (parent to child) or a merge (input to output). */
export interface LineageEdge {
  from: Hex;
  to: Hex;
  /** The transformation of a merge edge; null for a split. */
  transformationId: string | null;
}

export interface LineageWalk {
  /** Generation by generation, each lot once, at the generation it was first reached. */
  lots: LineageLot[];
  /** Every edge between the start and the lots reached (also edges into a lot reached earlier by another path). */
  edges: LineageEdge[];
  /** The transformations crossed, in the order first met. */
  transformations: Transformation[];
  /** The limit the walk stopped at with lots still unread, or null when it read everything (`stop` is not a limit). */
  limit: "lots" | "generations" | null;
}

export interface WalkLineageOptions {
  /** Most lots to read besides the start; the walk stops (limit "lots") rather than read more. */
  maxLots: number;
  /** Most generations to follow. */
  maxGenerations: number;
  /** Lots that count as already read (not read again, not returned): the start, and any the caller holds. */
  known?: Iterable<Hex>;
  /** Called with each generation read; returning true ends the walk there (limit stays null). */
  stop?: (generation: readonly Batch[]) => boolean;
}

/**
 * Whether a merge may have made `batch`: Transformations only takes as outputs lots registered fresh (never split from
 * another), so a split child is never one and needs no lookup.
 */
export function mayBeMergeOutput(batch: Batch): boolean {
  return batch.parentId === null;
}

/**
 * Whether a merge may have consumed `batch`: Transformations consumes a lot by accepting its registry handoff, after
 * which the lot never moves again, so a consumed lot's last custody step is an accepted handoff. Lots never handed
 * over (most split children) need no lookup.
 */
export function mayBeConsumed(batch: Batch): boolean {
  return batch.custody.at(-1)?.kind === "accepted";
}

/** Walks from `start` back (parents and inputs) or forward (children and outputs), generation by generation. */
export async function walkLineage(
  store: LineageStore,
  start: readonly Batch[],
  direction: LineageDirection,
  { maxLots, maxGenerations, known = [], stop }: WalkLineageOptions,
): Promise<LineageWalk> {
  const seen = new Set<Hex>([...start.map((batch) => batch.batchId), ...known]);
  const lots: LineageLot[] = [];
  const edges: LineageEdge[] = [];
  const transformationsById = new Map<string, Transformation>();
  let generation: readonly Batch[] = start;
  for (let depth = 1; generation.length > 0; depth++) {
    if (depth > maxGenerations) return { lots, edges, transformations: [...transformationsById.values()], limit: "generations" };
    const ids = generation.map((batch) => batch.batchId);
    const next: Hex[] = [];
    const reach = (edge: LineageEdge, target: Hex) => {
      edges.push(edge);
      if (seen.has(target)) return;
      seen.add(target);
      next.push(target);
    };
    const candidates = generation.filter(direction === "back" ? mayBeMergeOutput : mayBeConsumed).map((batch) => batch.batchId);
    const merges = await inChunks(candidates, (chunk) =>
      direction === "back" ? store.findTransformationsProducing(chunk) : store.findTransformationsConsuming(chunk),
    );
    for (const batch of generation) {
      if (direction === "back") {
        if (batch.parentId !== null) reach({ from: batch.parentId, to: batch.batchId, transformationId: null }, batch.parentId);
      } else {
        for (const childId of batch.childIds) reach({ from: batch.batchId, to: childId, transformationId: null }, childId);
      }
    }
    const inGeneration = new Set(ids);
    for (const transformation of merges) {
      if (!transformationsById.has(transformation.transformationId))
        transformationsById.set(transformation.transformationId, transformation);
      const edge = (from: Hex, to: Hex): LineageEdge => ({ from, to, transformationId: transformation.transformationId });
      if (direction === "back") {
        for (const outputId of transformation.outputIds.filter((id) => inGeneration.has(id)))
          for (const input of transformation.inputs) reach(edge(input.batchId, outputId), input.batchId);
      } else {
        for (const input of transformation.inputs.filter((item) => inGeneration.has(item.batchId)))
          for (const outputId of transformation.outputIds) reach(edge(input.batchId, outputId), outputId);
      }
    }
    if (next.length === 0) break;
    if (lots.length + next.length > maxLots) return { lots, edges, transformations: [...transformationsById.values()], limit: "lots" };
    const batches = await inChunks(next, (chunk) => store.getBatches(chunk));
    for (const batch of batches) lots.push({ batch, generation: depth });
    generation = batches;
    if (stop?.(batches)) break;
  }
  return { lots, edges, transformations: [...transformationsById.values()], limit: null };
}

async function inChunks<T>(ids: readonly Hex[], read: (chunk: Hex[]) => Promise<T[]>): Promise<T[]> {
  const found: T[] = [];
  for (let start = 0; start < ids.length; start += READ_CHUNK) found.push(...(await read(ids.slice(start, start + READ_CHUNK))));
  return found;
}

/**
 * The recalled lot whose recall reaches each lot: itself when recalled, else the one reaching its nearest
 * predecessor (parent or input) that has one. `edges` go from older to newer lots; lots without a recalled
 * predecessor in `lots` map to null. Fixpoint over the DAG, so the order of `lots` does not matter.
 */
export function recalledViaOf(lots: readonly Batch[], edges: readonly LineageEdge[]): Map<Hex, Hex | null> {
  // Most traces hold no recall at all: nothing to carry.
  if (!lots.some((batch) => batch.recall)) return new Map(lots.map((batch) => [batch.batchId, null]));
  const byId = new Map(lots.map((batch) => [batch.batchId, batch]));
  const predecessors = new Map<Hex, Hex[]>();
  for (const { from, to } of edges) {
    if (!byId.has(from) || !byId.has(to)) continue;
    const list = predecessors.get(to) ?? [];
    if (!list.includes(from)) list.push(from);
    predecessors.set(to, list);
  }
  const via = new Map<Hex, Hex | null>(lots.map((batch) => [batch.batchId, batch.recall ? batch.batchId : null]));
  // Each pass carries recalls one more edge down; a DAG needs at most as many passes as its longest path.
  for (let pass = 0; pass <= lots.length; pass++) {
    let changed = false;
    for (const batch of lots) {
      if (via.get(batch.batchId) !== null) continue;
      for (const from of predecessors.get(batch.batchId) ?? []) {
        const inherited = via.get(from) ?? null;
        if (inherited !== null) {
          via.set(batch.batchId, inherited);
          changed = true;
          break;
        }
      }
    }
    if (!changed) break;
  }
  return via;
}
