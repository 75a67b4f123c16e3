/**
 * Rollback planning after a reorg. Projections are functions of the event log, so undoing the events above the
 * fork block means recomputing, from the events that remain, every projection a removed event touched; those
 * that no remaining event creates are deleted.
 */
import type { EventFilter, PageRequest, RollbackCommit } from "../store/port.ts";
import type {
  Batch,
  ChainEvent,
  Checkpoint,
  ClaimRoot,
  Container,
  Hex,
  Order,
  Page,
  Participant,
  Transformation,
  UnitToken,
} from "../domain/model.ts";
import { containerKeysOfAll, rollBackContainers } from "./containers.ts";
import { ownershipKeysOfAll, rollBackOwnership } from "./ownership.ts";
import { rollBackTransformations, transformationKeysOfAll } from "./transformations.ts";
import {
  foldEvents,
  loadCurrentFromStore,
  projectionKeysOfAll,
  projectionSetOf,
  sortedByChainOrder,
  type ProjectionKeys,
} from "./project.ts";

/** What the planner reads from the store: the event log and the current documents. */
export interface RollbackSource {
  listEvents(filter: EventFilter, page: PageRequest): Promise<Page<ChainEvent>>;
  getBatches(batchIds: Hex[]): Promise<Batch[]>;
  getParticipants(addresses: Hex[]): Promise<Participant[]>;
  getOrders(orderIds: Hex[]): Promise<Order[]>;
  /** The ownership section; a source without it has no ownership documents to roll back. */
  getUnitTokens?(tokenIds: string[]): Promise<UnitToken[]>;
  getClaimRoots?(batchIds: Hex[]): Promise<ClaimRoot[]>;
  /** The transformations section; a source without it has no transformations to roll back. */
  getTransformations?(transformationIds: string[]): Promise<Transformation[]>;
  /** The containers section; a source without it has no containers to roll back. */
  getContainers?(ssccs: string[]): Promise<Container[]>;
}

export interface RecomputedProjections {
  batches: Batch[];
  participants: Participant[];
  orders: Order[];
  deleteBatchIds: Hex[];
  deleteParticipantAddresses: Hex[];
  deleteOrderIds: Hex[];
}

/**
 * Pure core of the rollback: rebuilds each `affected` projection from scratch out of `remaining` (the events at
 * or below the fork that touch any affected entity, in any order). `unaffected` holds stored documents that
 * those events also touch but the rollback leaves alone (the parent of a split child); they are read, not
 * returned.
 */
export function recomputeProjections(
  affected: ProjectionKeys,
  remaining: readonly ChainEvent[],
  unaffected: { batches: Batch[]; participants: Participant[]; orders: Order[] },
): RecomputedProjections {
  const touched = projectionKeysOfAll(remaining);
  const all: ProjectionKeys = {
    batchIds: [...new Set([...affected.batchIds, ...touched.batchIds])],
    orderIds: [...new Set([...affected.orderIds, ...touched.orderIds])],
    participants: [...new Set([...affected.participants, ...touched.participants])],
  };
  const affectedBatches = new Set(affected.batchIds);
  const affectedOrders = new Set(affected.orderIds);
  const affectedParticipants = new Set(affected.participants);
  // Affected entities start from nothing; the others as stored (their lastEvent makes replays no-ops).
  const initial = projectionSetOf(all, {
    batches: unaffected.batches.filter((batch) => !affectedBatches.has(batch.batchId)),
    participants: unaffected.participants.filter((participant) => !affectedParticipants.has(participant.address)),
    orders: unaffected.orders.filter((order) => !affectedOrders.has(order.orderId)),
  });
  const final = foldEvents(initial, remaining);

  const result: RecomputedProjections = {
    batches: [],
    participants: [],
    orders: [],
    deleteBatchIds: [],
    deleteParticipantAddresses: [],
    deleteOrderIds: [],
  };
  for (const batchId of affected.batchIds) {
    const batch = final.batches.get(batchId) ?? null;
    if (batch === null) result.deleteBatchIds.push(batchId);
    else result.batches.push(batch);
  }
  for (const address of affected.participants) {
    const participant = final.participants.get(address) ?? null;
    if (participant === null) result.deleteParticipantAddresses.push(address);
    else result.participants.push(participant);
  }
  for (const orderId of affected.orderIds) {
    const order = final.orders.get(orderId) ?? null;
    if (order === null) result.deleteOrderIds.push(orderId);
    else result.orders.push(order);
  }
  return result;
}

export interface PlanRollbackParameters {
  store: RollbackSource;
  chainId: number;
  /** Highest block that stays; everything above it is undone. */
  forkBlock: number;
  /** The checkpoint to set: the fork block and its (canonical) hash. */
  checkpoint: Checkpoint;
  /** Page size for reading events. */
  pageSize?: number;
}

export interface RollbackPlan {
  commit: RollbackCommit;
  /** Events that the rollback deletes (above the fork). */
  removedEvents: number;
}

/** Reads the events above the fork and the remaining history of what they touched; returns the RollbackCommit. */
export async function planRollback({
  store,
  chainId,
  forkBlock,
  checkpoint,
  pageSize = 500,
}: PlanRollbackParameters): Promise<RollbackPlan> {
  const removed = await listAllEvents(store, { chainId, fromBlock: forkBlock + 1 }, pageSize);
  const affected = projectionKeysOfAll(removed);

  const remainingById = new Map<string, ChainEvent>();
  const collect = async (filter: EventFilter) => {
    for (const event of await listAllEvents(store, { ...filter, chainId, toBlock: forkBlock }, pageSize))
      remainingById.set(event.id, event);
  };
  for (const batchId of affected.batchIds) await collect({ batchId });
  for (const orderId of affected.orderIds) await collect({ orderId });
  for (const account of affected.participants) await collect({ account });
  const remaining = sortedByChainOrder(remainingById.values());

  // Stored documents of entities the remaining events also touch but the rollback does not recompute.
  const touched = projectionKeysOfAll(remaining);
  const affectedSet = new Set<Hex>([...affected.batchIds, ...affected.orderIds, ...affected.participants]);
  const unaffectedKeys: ProjectionKeys = {
    batchIds: touched.batchIds.filter((id) => !affectedSet.has(id)),
    orderIds: touched.orderIds.filter((id) => !affectedSet.has(id)),
    participants: touched.participants.filter((address) => !affectedSet.has(address)),
  };
  const unaffected = await loadCurrentFromStore(store)(unaffectedKeys);
  const recomputed = recomputeProjections(affected, remaining, unaffected);

  // Ownership documents hold their own history: cut it at the fork rather than refold it from the log.
  const ownershipKeys = ownershipKeysOfAll(removed);
  const ownership = rollBackOwnership(
    {
      unitTokens: ownershipKeys.tokenIds.length > 0 ? ((await store.getUnitTokens?.(ownershipKeys.tokenIds)) ?? []) : [],
      claimRoots: ownershipKeys.claimRootBatchIds.length > 0 ? ((await store.getClaimRoots?.(ownershipKeys.claimRootBatchIds)) ?? []) : [],
    },
    forkBlock,
  );

  // Transformations likewise hold their history (the recall flags): delete or cut at the fork.
  const transformationIds = transformationKeysOfAll(removed);
  const transformations = rollBackTransformations(
    transformationIds.length > 0 ? ((await store.getTransformations?.(transformationIds)) ?? []) : [],
    forkBlock,
  );

  // Containers hold their own history too: cut at the fork and refolded.
  const containerKeys = containerKeysOfAll(removed);
  const containers = rollBackContainers(containerKeys.length > 0 ? ((await store.getContainers?.(containerKeys)) ?? []) : [], forkBlock);

  return {
    commit: { chainId, forkBlock, ...recomputed, ...ownership, ...transformations, ...containers, checkpoint },
    removedEvents: removed.length,
  };
}

/** Every event matching `filter`, following the cursor to the end. */
export async function listAllEvents(store: Pick<RollbackSource, "listEvents">, filter: EventFilter, pageSize = 500): Promise<ChainEvent[]> {
  const events: ChainEvent[] = [];
  let cursor: string | null = null;
  do {
    const page: Page<ChainEvent> = await store.listEvents(filter, { limit: pageSize, cursor });
    events.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return events;
}
