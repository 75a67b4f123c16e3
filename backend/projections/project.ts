/**
 * Folding events into projections. The per-entity reducers (batches.ts, orders.ts, participants.ts) are pure;
 * this module routes each event to the entities it changes and turns a range of events into the full
 * documents to write, given the documents as they are stored now.
 */
import type { Batch, ChainEvent, ClaimRoot, Container, Hex, Order, Participant, Transformation, UnitToken } from "../domain/model.ts";
import { batchKeysOf, reduceBatch } from "./batches.ts";
import { projectContainers, type LoadCurrentContainers } from "./containers.ts";
import { orderKeyOf, reduceOrder } from "./orders.ts";
import { projectOwnership, type LoadCurrentOwnership, type OwnershipDocuments } from "./ownership.ts";
import { participantKeyOf, reduceParticipant } from "./participants.ts";
import { projectTransformations, type LoadCurrentTransformations } from "./transformations.ts";

/** The projections one or more events change. */
export interface ProjectionKeys {
  batchIds: Hex[];
  orderIds: Hex[];
  participants: Hex[];
}

export function projectionKeysOf(event: ChainEvent): ProjectionKeys {
  const participant = participantKeyOf(event);
  const orderId = orderKeyOf(event);
  return {
    batchIds: batchKeysOf(event),
    orderIds: orderId === null ? [] : [orderId],
    participants: participant === null ? [] : [participant],
  };
}

/** Union of the keys of `events`, each once, in first-seen order. */
export function projectionKeysOfAll(events: Iterable<ChainEvent>): ProjectionKeys {
  const batchIds = new Set<Hex>();
  const orderIds = new Set<Hex>();
  const participants = new Set<Hex>();
  for (const event of events) {
    const keys = projectionKeysOf(event);
    keys.batchIds.forEach((id) => batchIds.add(id));
    keys.orderIds.forEach((id) => orderIds.add(id));
    keys.participants.forEach((address) => participants.add(address));
  }
  return { batchIds: [...batchIds], orderIds: [...orderIds], participants: [...participants] };
}

/**
 * The projections an event may touch, by key. A key maps to null when that entity is known not to exist yet;
 * a key that is missing altogether was never loaded, and applying an event to it is a programming error.
 */
export interface ProjectionSet {
  batches: ReadonlyMap<Hex, Batch | null>;
  participants: ReadonlyMap<Hex, Participant | null>;
  orders: ReadonlyMap<Hex, Order | null>;
}

export const emptyProjectionSet = (): ProjectionSet => ({ batches: new Map(), participants: new Map(), orders: new Map() });

/** The projection state after `event`: pure (the given state is not modified). */
export function applyEvent(state: ProjectionSet, event: ChainEvent): ProjectionSet {
  const batches = new Map(state.batches);
  const participants = new Map(state.participants);
  const orders = new Map(state.orders);
  applyEventInPlace({ batches, participants, orders }, event);
  return { batches, participants, orders };
}

interface MutableProjectionSet {
  batches: Map<Hex, Batch | null>;
  participants: Map<Hex, Participant | null>;
  orders: Map<Hex, Order | null>;
}

function applyEventInPlace(state: MutableProjectionSet, event: ChainEvent): void {
  const keys = projectionKeysOf(event);
  // Reduce every touched batch against the state before this event, so a split's child sees its parent as it
  // was when the split happened.
  const lookup = (batchId: Hex) => loaded(state.batches, batchId, event);
  const nextBatches = keys.batchIds.map(
    (batchId) => [batchId, reduceBatch(loaded(state.batches, batchId, event), event, batchId, lookup)] as const,
  );
  for (const [batchId, batch] of nextBatches) state.batches.set(batchId, batch);
  for (const orderId of keys.orderIds) state.orders.set(orderId, reduceOrder(loaded(state.orders, orderId, event), event, orderId));
  for (const address of keys.participants) {
    state.participants.set(address, reduceParticipant(loaded(state.participants, address, event), event, address));
  }
}

function loaded<T>(map: ReadonlyMap<Hex, T | null>, key: Hex, event: ChainEvent): T | null {
  if (!map.has(key)) throw new Error(`Projection ${key} touched by event ${event.id} was not loaded before applying it`);
  return map.get(key) ?? null;
}

/** Folds events (in chain order) over a projection set; pure. */
export function foldEvents(state: ProjectionSet, events: Iterable<ChainEvent>): ProjectionSet {
  const next: MutableProjectionSet = {
    batches: new Map(state.batches),
    participants: new Map(state.participants),
    orders: new Map(state.orders),
  };
  for (const event of sortedByChainOrder(events)) applyEventInPlace(next, event);
  return next;
}

/** The stored documents of the given keys (unknown keys are left out). */
export type LoadCurrent = (keys: ProjectionKeys) => Promise<{ batches: Batch[]; participants: Participant[]; orders: Order[] }>;

/** Full documents to write after a range of events. */
export interface ProjectedDocuments extends OwnershipDocuments {
  batches: Batch[];
  participants: Participant[];
  orders: Order[];
  /** Merges (projections/transformations.ts): written in the same range commit. */
  transformations: Transformation[];
  /** LogisticUnits containers the range changed. */
  containers: Container[];
}

const NO_OWNERSHIP: LoadCurrentOwnership = async () => ({ unitTokens: [], claimRoots: [] });
/** For callers without a transformations store: each range starts from none stored (a later flag then has no document). */
const NO_TRANSFORMATIONS: LoadCurrentTransformations = async () => [];
const NO_CONTAINERS: LoadCurrentContainers = async () => [];

/**
 * Folds a range's events into the full documents to write: loads the current documents of every entity the
 * events touch, applies the events in chain order and returns each changed document. Events already reflected
 * in a stored document (id <= its lastEvent) change nothing, so re-projecting a range after a crash is harmless.
 */
export async function project(
  events: readonly ChainEvent[],
  loadCurrent: LoadCurrent,
  loadCurrentOwnership: LoadCurrentOwnership = NO_OWNERSHIP,
  loadCurrentTransformations: LoadCurrentTransformations = NO_TRANSFORMATIONS,
  loadCurrentContainers: LoadCurrentContainers = NO_CONTAINERS,
): Promise<ProjectedDocuments> {
  const [registryAndEscrow, ownership, transformations, containers] = await Promise.all([
    projectRegistryAndEscrow(events, loadCurrent),
    projectOwnership(events, loadCurrentOwnership),
    projectTransformations(events, loadCurrentTransformations),
    projectContainers(events, loadCurrentContainers),
  ]);
  return { ...registryAndEscrow, ...ownership, ...transformations, containers };
}

async function projectRegistryAndEscrow(
  events: readonly ChainEvent[],
  loadCurrent: LoadCurrent,
): Promise<{ batches: Batch[]; participants: Participant[]; orders: Order[] }> {
  const keys = projectionKeysOfAll(events);
  if (keys.batchIds.length + keys.orderIds.length + keys.participants.length === 0) return { batches: [], participants: [], orders: [] };
  const current = await loadCurrent(keys);
  const initial = projectionSetOf(keys, current);
  const final = foldEvents(initial, events);
  return changedDocuments(initial, final);
}

/** A projection set holding every key: the loaded document, or null for keys not stored yet. */
export function projectionSetOf(
  keys: ProjectionKeys,
  documents: { batches: Batch[]; participants: Participant[]; orders: Order[] },
): ProjectionSet {
  const batches = new Map<Hex, Batch | null>(keys.batchIds.map((id) => [id, null]));
  const participants = new Map<Hex, Participant | null>(keys.participants.map((address) => [address, null]));
  const orders = new Map<Hex, Order | null>(keys.orderIds.map((id) => [id, null]));
  for (const batch of documents.batches) batches.set(batch.batchId, batch);
  for (const participant of documents.participants) participants.set(participant.address, participant);
  for (const order of documents.orders) orders.set(order.orderId, order);
  return { batches, participants, orders };
}

/** Documents in `final` that differ (by identity: reducers return the same object when nothing changed) from `initial`. */
export function changedDocuments(
  initial: ProjectionSet,
  final: ProjectionSet,
): { batches: Batch[]; participants: Participant[]; orders: Order[] } {
  const changed = <T>(before: ReadonlyMap<Hex, T | null>, after: ReadonlyMap<Hex, T | null>): T[] => {
    const result: T[] = [];
    for (const [key, document] of after) if (document !== null && document !== before.get(key)) result.push(document);
    return result;
  };
  return {
    batches: changed(initial.batches, final.batches),
    participants: changed(initial.participants, final.participants),
    orders: changed(initial.orders, final.orders),
  };
}

export function sortedByChainOrder(events: Iterable<ChainEvent>): ChainEvent[] {
  return [...events].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** A LoadCurrent reading from the store port. */
export function loadCurrentFromStore(store: {
  getBatches(ids: Hex[]): Promise<Batch[]>;
  getParticipants(addresses: Hex[]): Promise<Participant[]>;
  getOrders(ids: Hex[]): Promise<Order[]>;
}): LoadCurrent {
  return async (keys) => {
    const [batches, participants, orders] = await Promise.all([
      keys.batchIds.length > 0 ? store.getBatches(keys.batchIds) : [],
      keys.participants.length > 0 ? store.getParticipants(keys.participants) : [],
      keys.orderIds.length > 0 ? store.getOrders(keys.orderIds) : [],
    ]);
    return { batches, participants, orders };
  };
}

/** A LoadCurrentOwnership reading from the store port. */
export function loadCurrentOwnershipFromStore(store: {
  getUnitTokens(tokenIds: string[]): Promise<UnitToken[]>;
  getClaimRoots(batchIds: Hex[]): Promise<ClaimRoot[]>;
}): LoadCurrentOwnership {
  return async (keys) => {
    const [unitTokens, claimRoots] = await Promise.all([
      keys.tokenIds.length > 0 ? store.getUnitTokens(keys.tokenIds) : [],
      keys.claimRootBatchIds.length > 0 ? store.getClaimRoots(keys.claimRootBatchIds) : [],
    ]);
    return { unitTokens, claimRoots };
  };
}

/** A LoadCurrentContainers reading from the store port. */
export function loadCurrentContainersFromStore(store: { getContainers(ssccs: string[]): Promise<Container[]> }): LoadCurrentContainers {
  return async (ssccs) => (ssccs.length > 0 ? store.getContainers(ssccs) : []);
}
