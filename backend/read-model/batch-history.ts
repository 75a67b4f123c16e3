/**
 * The one read model of a batch's history and lineage, shared by the read API (api/services/batches.ts) and the
 * passport (passport/passport-service.ts): the batch, its ancestors nearest first with each one's journey before its
 * split, its children, its own events in chain order, the recall that applies (its own or an ancestor's), and the
 * participants all of them mention. Each consumer only formats these events: the API as timeline entries, the
 * passport as the registry events a verifier compares with the chain's logs.
 */
import type { Batch, BatchStatus, CustodyStep, EventRef, Hex, Inspection, Participant, Transformation } from "../domain/model.ts";
import type { MirrorStore } from "../store/port.ts";
import { mayBeConsumed, mayBeMergeOutput, walkLineage } from "./lineage.ts";

/** Longest parent chain followed; real lineages are a few splits deep, this only bounds corrupt data. */
export const MAX_LINEAGE_DEPTH = 64;
/**
 * Most lots read to find a recall that reaches a lot through merges (its inputs, theirs, and their split parents).
 * A lineage wider than this is cut there: a recall beyond it shows once the registry recalls the lot itself
 * (Transformations.flagRecalledInput, which the input recall flagger queues for every mirrored output).
 */
export const MAX_MERGE_LINEAGE_LOTS = 2_000;

export type BatchRecall = NonNullable<Batch["recall"]>;

/** One thing that happened to `batch`, at the chain event `at`. */
export type BatchEvent =
  /** The batch came to exist: registered by its manufacturer, or split from `parent` (null when it is not stored). */
  | { kind: "registered"; at: EventRef; batch: Batch; parent: Batch | null }
  | { kind: "custody"; at: EventRef; batch: Batch; step: CustodyStep }
  | { kind: "inspected"; at: EventRef; batch: Batch; inspection: Inspection }
  /** The batch was split and `child` is one of the lots it became (one event per stored child). */
  | { kind: "split"; at: EventRef; batch: Batch; child: Batch }
  | { kind: "recalled"; at: EventRef; batch: Batch; recall: BatchRecall };

export interface AncestorHistory {
  batch: Batch;
  /** How the ancestor came to exist; its parent is the next ancestor. */
  registration: Extract<BatchEvent, { kind: "registered" }>;
  /**
   * Its custody steps and inspections in chain order: all of them happened before its split, because the registry
   * neither moves nor inspects a split batch. Never its splits into other lots, which are not this batch's history.
   */
  journeyBeforeSplit: BatchEvent[];
}

export interface BatchHistory {
  /** The batch as its own events made it, except `status`: the effective status (see `effectiveStatus`). */
  batch: Batch;
  /** Parent, grandparent, ... (nearest first); stops at a missing parent, a cycle or MAX_LINEAGE_DEPTH. */
  ancestors: AncestorHistory[];
  /** The stored children, in the order of `batch.childIds`. */
  children: Batch[];
  /** The batch's own events in chain order: registration, custody steps, inspections, splits, recall. */
  events: BatchEvent[];
  /**
   * The recall that applies: the batch's own, else the nearest recalled split ancestor's, else the nearest recalled
   * lot it was made from through merges (an input of the transformation that made it or of one of its ancestors).
   */
  recall: { batch: Batch; recall: BatchRecall; inherited: boolean } | null;
  /** The transformation (merge) that made the batch, with its stored input and output lots in the event's order; null when none did. */
  madeFrom: MergeLots | null;
  /** The transformation the batch was consumed in, with its stored input and output lots; null when it was not consumed. */
  usedIn: MergeLots | null;
  /** The merge that made the root of the batch's split chain, when an ancestor (not the batch) is a merge output. */
  ancestorMadeFrom: MergeLots | null;
  /** Every stored participant the batch and its ancestors mention (see `mentionedAddresses`). */
  participants: Map<Hex, Participant>;
}

/** A transformation with the stored lots it consumed and made, in the event's order (lots not stored are left out). */
export interface MergeLots {
  transformation: Transformation;
  inputs: Batch[];
  outputs: Batch[];
}

export type BatchHistoryStore = Pick<
  MirrorStore,
  "getBatch" | "getBatches" | "getParticipants" | "findTransformationsProducing" | "findTransformationsConsuming"
>;

export async function loadBatchHistory(store: BatchHistoryStore, batch: Batch): Promise<BatchHistory> {
  const [ancestors, children, consumedIn] = await Promise.all([
    loadAncestors(store, batch),
    batch.childIds.length > 0 ? store.getBatches(batch.childIds) : Promise.resolve([]),
    mayBeConsumed(batch) ? store.findTransformationsConsuming([batch.batchId]) : Promise.resolve([]),
  ]);
  // The merge that made the batch or a split ancestor of it (only the chain's root can be a merge output): one lookup.
  const chainRoots = [batch, ...ancestors].filter(mayBeMergeOutput).map((lot) => lot.batchId);
  const merges = chainRoots.length > 0 ? await store.findTransformationsProducing(chainRoots) : [];
  const producedBy = merges.find((merge) => merge.outputIds.includes(batch.batchId)) ?? null;
  const ancestorProducedBy = merges.find((merge) => merge !== producedBy) ?? null;
  const usedIn = consumedIn[0] ?? null;
  // Both merges' lots (at most the contract's 100 inputs and 20 outputs each): one read.
  const lotsOf = (merge: Transformation | null) =>
    merge === null ? [] : [...merge.inputs.map((input) => input.batchId), ...merge.outputIds];
  const linkedIds = [...lotsOf(producedBy), ...lotsOf(usedIn), ...lotsOf(ancestorProducedBy)].filter((id) => id !== batch.batchId);
  const linked = new Map((linkedIds.length > 0 ? await store.getBatches(linkedIds) : []).map((lot) => [lot.batchId, lot]));
  linked.set(batch.batchId, batch);
  const stored = (ids: Hex[]) => ids.flatMap((id) => (linked.has(id) ? [linked.get(id)!] : []));
  const mergeLots = (merge: Transformation | null): MergeLots | null =>
    merge === null
      ? null
      : { transformation: merge, inputs: stored(merge.inputs.map((input) => input.batchId)), outputs: stored(merge.outputIds) };
  // The pending custodian first (a split ancestor never has one), then each lot's own, the batch's first.
  const addresses = new Set<Hex>();
  if (batch.pendingCustodian) addresses.add(batch.pendingCustodian);
  for (const lot of [batch, ...ancestors]) for (const address of mentionedAddresses(lot)) addresses.add(address);
  // The merges' processors and the manufacturers of their lots (whose company prefixes name the lots' GTINs).
  for (const merge of [producedBy, usedIn, ancestorProducedBy]) if (merge) addresses.add(merge.processor);
  for (const lot of linked.values()) addresses.add(lot.manufacturer);
  const participants = new Map((await store.getParticipants([...addresses])).map((participant) => [participant.address, participant]));

  const recalled =
    [batch, ...ancestors].find((candidate) => candidate.recall) ?? (await recalledThroughMerges(store, merges, [batch, ...ancestors]));
  const recall = recalled ? { batch: recalled, recall: recalled.recall!, inherited: recalled !== batch } : null;

  return {
    batch: { ...batch, status: recall ? "recalled" : batch.status },
    ancestors: ancestors.map((ancestor, index) => ({
      batch: ancestor,
      registration: registrationEvent(ancestor, ancestors[index + 1] ?? null),
      journeyBeforeSplit: custodyAndInspections(ancestor).sort(byChainOrder),
    })),
    children,
    events: eventsOf(batch, ancestors[0] ?? null, children),
    recall,
    madeFrom: mergeLots(producedBy),
    usedIn: mergeLots(usedIn),
    ancestorMadeFrom: mergeLots(ancestorProducedBy),
    participants,
  };
}

/**
 * The nearest recalled lot that `merges` (the transformations that made some of `lots`) were made from: their inputs,
 * then the inputs' parents and the inputs of the merges that made those, generation by generation, stopping at the
 * first generation holding a recalled lot. Bounded by MAX_MERGE_LINEAGE_LOTS and MAX_LINEAGE_DEPTH.
 */
export async function recalledThroughMerges(
  store: Pick<BatchHistoryStore, "getBatches" | "findTransformationsProducing" | "findTransformationsConsuming">,
  merges: readonly Transformation[],
  lots: readonly Batch[],
): Promise<Batch | null> {
  const known = new Set(lots.map((lot) => lot.batchId));
  const inputIds = [...new Set(merges.flatMap((merge) => merge.inputs.map((input) => input.batchId)))].filter((id) => !known.has(id));
  if (inputIds.length === 0) return null;
  const inputs = await store.getBatches(inputIds.slice(0, MAX_MERGE_LINEAGE_LOTS));
  const recalledInput = inputs.find((input) => input.recall);
  if (recalledInput) return recalledInput;
  const walk = await walkLineage(store, inputs, "back", {
    maxLots: MAX_MERGE_LINEAGE_LOTS - inputs.length,
    maxGenerations: MAX_LINEAGE_DEPTH,
    known,
    stop: (generation) => generation.some((lot) => lot.recall),
  });
  return walk.lots.find((lot) => lot.batch.recall)?.batch ?? null;
}

/**
 * The status the registry reports for the batch (batch() and batchStatus()): "recalled" when the batch or any
 * ancestor was recalled, because a recall reaches every descendant on chain although only the recalled batch's
 * BatchRecalled event names it; otherwise the status its own events gave it.
 */
export function effectiveStatus(batch: Batch, ancestors: readonly Batch[]): BatchStatus {
  return batch.recall || ancestors.some((ancestor) => ancestor.recall) ? "recalled" : batch.status;
}

/**
 * The batches with their effective status (see `effectiveStatus`, and a recall reaching them through merges, as
 * `loadBatchHistory` finds it); each ancestor is read once, and the merges of the whole page are one lookup.
 */
export async function withEffectiveStatus(
  store: Pick<MirrorStore, "getBatch" | "getBatches" | "findTransformationsProducing" | "findTransformationsConsuming">,
  batches: readonly Batch[],
): Promise<Batch[]> {
  const known = new Map<Hex, Batch | null>(batches.map((batch) => [batch.batchId, batch]));
  const load = async (batchId: Hex) => {
    if (!known.has(batchId)) known.set(batchId, await store.getBatch(batchId));
    return known.get(batchId) ?? null;
  };
  const chains = await Promise.all(
    batches.map(async (batch) => {
      const ancestors: Batch[] = [];
      const seen = new Set<Hex>([batch.batchId]);
      let parentId = batch.parentId;
      while (parentId !== null && !seen.has(parentId) && ancestors.length < MAX_LINEAGE_DEPTH) {
        seen.add(parentId);
        const parent = await load(parentId);
        if (!parent) break;
        ancestors.push(parent);
        parentId = parent.parentId;
      }
      return { batch, ancestors };
    }),
  );
  // Lots not recalled through splits may be through merges: find which of their chains a merge made, at once.
  const open = chains.filter(({ batch, ancestors }) => effectiveStatus(batch, ancestors) !== "recalled");
  const chainIds = [
    ...new Set(open.flatMap(({ batch, ancestors }) => [batch, ...ancestors].filter(mayBeMergeOutput).map((lot) => lot.batchId))),
  ];
  const merges: Transformation[] = [];
  for (let start = 0; start < chainIds.length; start += 1_000)
    merges.push(...(await store.findTransformationsProducing(chainIds.slice(start, start + 1_000))));
  const mergedInto = new Map<Hex, Transformation>();
  for (const merge of merges) for (const outputId of merge.outputIds) mergedInto.set(outputId, merge);
  return Promise.all(
    chains.map(async ({ batch, ancestors }) => {
      let status = effectiveStatus(batch, ancestors);
      const chainMerges = [batch, ...ancestors].flatMap((lot) => (mergedInto.has(lot.batchId) ? [mergedInto.get(lot.batchId)!] : []));
      if (status !== "recalled" && chainMerges.length > 0 && (await recalledThroughMerges(store, chainMerges, [batch, ...ancestors]))) {
        status = "recalled";
      }
      return status === batch.status ? batch : { ...batch, status };
    }),
  );
}

/** Parent first, up to the root; stops at a missing parent or a cycle (which only corrupt data could hold). */
export async function loadAncestors(store: Pick<MirrorStore, "getBatch">, batch: Batch): Promise<Batch[]> {
  const ancestors: Batch[] = [];
  const seen = new Set<Hex>([batch.batchId]);
  let parentId = batch.parentId;
  while (parentId !== null && !seen.has(parentId) && ancestors.length < MAX_LINEAGE_DEPTH) {
    seen.add(parentId);
    const parent = await store.getBatch(parentId);
    if (!parent) break;
    ancestors.push(parent);
    parentId = parent.parentId;
  }
  return ancestors;
}

/** The batch's own participants: manufacturer, custodian, pending custodian, custody parties, inspectors, recaller. */
export function mentionedAddresses(batch: Batch): Hex[] {
  const addresses = new Set<Hex>([batch.manufacturer, batch.custodian]);
  if (batch.pendingCustodian) addresses.add(batch.pendingCustodian);
  for (const step of batch.custody) addresses.add(step.from).add(step.to);
  for (const inspection of batch.inspections) addresses.add(inspection.inspector);
  if (batch.recall) addresses.add(batch.recall.by);
  return [...addresses];
}

function registrationEvent(batch: Batch, parent: Batch | null): AncestorHistory["registration"] {
  return { kind: "registered", at: batch.registered, batch, parent };
}

function eventsOf(batch: Batch, parent: Batch | null, children: Batch[]): BatchEvent[] {
  const events: BatchEvent[] = [registrationEvent(batch, parent), ...custodyAndInspections(batch)];
  // A split has no event of its own on the parent: each child's registration is the split into it.
  for (const child of children) events.push({ kind: "split", at: child.registered, batch, child });
  if (batch.recall) events.push({ kind: "recalled", at: batch.recall.at, batch, recall: batch.recall });
  return events.sort(byChainOrder);
}

function custodyAndInspections(batch: Batch): BatchEvent[] {
  return [
    ...batch.custody.map((step): BatchEvent => ({ kind: "custody", at: step.at, batch, step })),
    ...batch.inspections.map((inspection): BatchEvent => ({ kind: "inspected", at: inspection.at, batch, inspection })),
  ];
}

/** Event ids sort in chain order (block, then log index); the sort is stable, so one event's entries keep their order. */
function byChainOrder(a: BatchEvent, b: BatchEvent): number {
  return a.at.eventId < b.at.eventId ? -1 : a.at.eventId > b.at.eventId ? 1 : 0;
}
