/**
 * ReputationFacts from the mirror: a participant's orders (as buyer, seller, carrier), the lots it made, and the
 * lots its registry events name (handoffs to or from it, splits into its custody), all through the store port's
 * existing reads. The block the facts are as of is the mirror's checkpoint.
 */
import type { Batch, Hex, Order, Page } from "../domain/model.ts";
import type { MirrorStore, PageRequest } from "../store/port.ts";
import type { LotEventFact, LotFact, OrderFact, ReputationAsOf, ReputationFacts } from "./reputation.ts";

export type ReputationStore = Pick<
  MirrorStore,
  | "getCheckpoint"
  | "getBlocks"
  | "getParticipant"
  | "getParticipants"
  | "listOrders"
  | "listBatches"
  | "listEvents"
  | "getBatches"
  | "getTrackRecordTotals"
>;

const PAGE_LIMIT = 500;
const TERMINAL_STATES = new Set<Order["state"]>(["released", "refunded", "resolved", "cancelled"]);

/**
 * The block the mirror has fully indexed on `chainId` with its timestamp, and the block's hash (a rollback and
 * re-index can reach the same number with other contents); null before the first commit.
 */
export async function mirrorAsOf(
  store: ReputationStore,
  chainId: number,
): Promise<{ asOf: ReputationAsOf; blockHash: string | null } | null> {
  const checkpoint = await store.getCheckpoint(chainId);
  if (checkpoint === null) return null;
  const { blockNumber, blockHash } = checkpoint;
  const [block] = await store.getBlocks(chainId, blockNumber, blockNumber);
  if (block !== undefined) return { asOf: { chainId, blockNumber, timestamp: block.timestamp }, blockHash };
  // The indexer stores every range's last block header; fall back to the latest header it kept below.
  const below = await store.getBlocks(chainId, Math.max(0, blockNumber - 10_000), blockNumber);
  return { asOf: { chainId, blockNumber, timestamp: below.at(-1)?.timestamp ?? 0 }, blockHash };
}

export async function loadReputationFacts(store: ReputationStore, address: Hex): Promise<ReputationFacts> {
  const [asBuyer, asSeller, asCarrier, made, registryEvents] = await Promise.all([
    everyPage((page) => store.listOrders({ buyer: address }, page)),
    everyPage((page) => store.listOrders({ seller: address }, page)),
    everyPage((page) => store.listOrders({ carrier: address }, page)),
    everyPage((page) => store.listBatches({ manufacturer: address }, page)),
    everyPage((page) => store.listEvents({ account: address, contract: "ProvenanceRegistry" }, page)),
  ]);
  const madeIds = new Set(made.map((batch) => batch.batchId));
  const otherIds = [...new Set(registryEvents.flatMap((event) => event.batchIds))].filter((batchId) => !madeIds.has(batchId));
  const others: Batch[] = [];
  for (let start = 0; start < otherIds.length; start += PAGE_LIMIT)
    others.push(...(await store.getBatches(otherIds.slice(start, start + PAGE_LIMIT))));
  return {
    orders: [...asBuyer, ...asSeller, ...asCarrier].map(orderFact),
    lots: [...made, ...others].map(lotFact),
  };
}

export function orderFact(order: Order): OrderFact {
  const resolved = order.state === "resolved" && order.payouts !== null;
  return {
    orderId: order.orderId,
    buyer: order.buyer,
    seller: order.seller,
    carrier: order.carrier,
    token: order.token,
    amount: order.amount,
    deliveryDeadline: order.deliveryDeadline,
    openedAt: order.opened.blockTimestamp,
    state: order.state,
    deliveredAt: order.deliveredAt,
    disputedBy: order.disputedBy,
    disputedAt: order.disputedAt,
    // A terminal order's last event is the one that closed it: nothing changes an order afterwards.
    closedAt: TERMINAL_STATES.has(order.state) ? order.lastEvent.blockTimestamp : null,
    disputeBuyerAmount: resolved ? order.payouts!.buyer : null,
  };
}

export function lotFact(batch: Batch): LotFact {
  const events: LotEventFact[] = [];
  for (const step of batch.custody) {
    if (step.kind === "accepted" || step.kind === "rejected") {
      events.push({ kind: step.kind, eventId: step.at.eventId, at: step.at.blockTimestamp, from: step.from, to: step.to });
    }
  }
  for (const inspection of batch.inspections) {
    events.push({
      kind: "inspected",
      eventId: inspection.at.eventId,
      at: inspection.at.blockTimestamp,
      inspector: inspection.inspector,
      passed: inspection.passed,
    });
  }
  return {
    batchId: batch.batchId,
    parentId: batch.parentId,
    manufacturer: batch.manufacturer,
    // Only the custodian proposes a handoff, so the first step's sender held the lot from its start.
    firstCustodian: batch.custody[0]?.from ?? batch.custodian,
    registeredAt: batch.registered.blockTimestamp,
    recalledAt: batch.recall?.at.blockTimestamp ?? null,
    events: events.sort((a, b) => (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0)),
  };
}

async function everyPage<T>(read: (page: PageRequest) => Promise<Page<T>>): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const page = await read({ limit: PAGE_LIMIT, cursor });
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return items;
}
