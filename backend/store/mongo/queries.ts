/**
 * The read side of the mirror on MongoDB: events and projections, by key and as keyset-paginated lists.
 * Every list reads limit + 1 documents in index order, so `nextCursor` is null exactly when nothing follows.
 */
import type { BatchFilter, EventFilter, OrderFilter, PageRequest, ParticipantFilter } from "../port.ts";
import type { Batch, ChainEvent, Hex, Order, Page, Participant } from "../../domain/model.ts";
import { checkPageLimit, pageCursor, toPage } from "../cursor.ts";
import {
  BATCH_SORT,
  batchFilter,
  distinctInOrder,
  EVENT_SORT,
  eventFilter,
  inKeyOrder,
  ORDER_SORT,
  orderFilter,
  PARTICIPANT_SORT,
  participantFilter,
} from "./filters.ts";
import { batchFromDoc, eventFromDoc, orderFromDoc, participantFromDoc } from "./mapping.ts";
import type { BatchDoc, EventDoc, MirrorModels, OrderDoc, ParticipantDoc } from "./models.ts";

function keyList(what: string, keys: unknown): Hex[] {
  if (!Array.isArray(keys) || !keys.every((key) => typeof key === "string")) {
    throw new TypeError(`MongoDB store: ${what} takes an array of strings`);
  }
  return distinctInOrder(keys as Hex[]);
}

export async function listEvents(models: MirrorModels, filter: EventFilter, page: PageRequest): Promise<Page<ChainEvent>> {
  const limit = checkPageLimit(page);
  const query = eventFilter(filter, pageCursor("events", page));
  const docs = await models.events.find(query).sort(EVENT_SORT).limit(limit + 1).lean<EventDoc[]>();
  return toPage(docs, limit, "events", (doc) => [doc._id], eventFromDoc);
}

export async function countEvents(models: MirrorModels, chainId?: number): Promise<number> {
  // countDocuments, not estimatedDocumentCount: the count must be exact (replays must not change it).
  return models.events.countDocuments(chainId === undefined ? {} : { chainId });
}

export async function getBatch(models: MirrorModels, batchId: Hex): Promise<Batch | null> {
  const doc = await models.batches.findById(batchId).lean<BatchDoc>();
  return doc === null ? null : batchFromDoc(doc);
}

export async function getBatches(models: MirrorModels, batchIds: Hex[]): Promise<Batch[]> {
  const keys = keyList("getBatches", batchIds);
  if (keys.length === 0) return [];
  const docs = await models.batches.find({ _id: { $in: keys } }).lean<BatchDoc[]>();
  return inKeyOrder(keys, docs, (doc) => doc._id).map(batchFromDoc);
}

export async function listBatches(models: MirrorModels, filter: BatchFilter, page: PageRequest): Promise<Page<Batch>> {
  const limit = checkPageLimit(page);
  const query = batchFilter(filter, pageCursor("batches", page));
  const docs = await models.batches.find(query).sort(BATCH_SORT).limit(limit + 1).lean<BatchDoc[]>();
  return toPage(docs, limit, "batches", (doc) => [doc.registered.eventId, doc._id], batchFromDoc);
}

export async function findBatchByGtinLot(models: MirrorModels, gtin: string, lot: string): Promise<Batch | null> {
  if (typeof gtin !== "string" || typeof lot !== "string") throw new TypeError("MongoDB store: gtin and lot are strings");
  const doc = await models.batches.findOne({ gtin, lot }).lean<BatchDoc>();
  return doc === null ? null : batchFromDoc(doc);
}

export async function getParticipant(models: MirrorModels, address: Hex): Promise<Participant | null> {
  const doc = await models.participants.findById(address).lean<ParticipantDoc>();
  return doc === null ? null : participantFromDoc(doc);
}

export async function getParticipants(models: MirrorModels, addresses: Hex[]): Promise<Participant[]> {
  const keys = keyList("getParticipants", addresses);
  if (keys.length === 0) return [];
  const docs = await models.participants.find({ _id: { $in: keys } }).lean<ParticipantDoc[]>();
  return inKeyOrder(keys, docs, (doc) => doc._id).map(participantFromDoc);
}

export async function listParticipants(
  models: MirrorModels,
  filter: ParticipantFilter,
  page: PageRequest,
): Promise<Page<Participant>> {
  const limit = checkPageLimit(page);
  const query = participantFilter(filter, pageCursor("participants", page));
  const docs = await models.participants.find(query).sort(PARTICIPANT_SORT).limit(limit + 1).lean<ParticipantDoc[]>();
  return toPage(docs, limit, "participants", (doc) => [doc.onboarded.eventId, doc._id], participantFromDoc);
}

export async function getOrder(models: MirrorModels, orderId: Hex): Promise<Order | null> {
  const doc = await models.orders.findById(orderId).lean<OrderDoc>();
  return doc === null ? null : orderFromDoc(doc);
}

export async function getOrders(models: MirrorModels, orderIds: Hex[]): Promise<Order[]> {
  const keys = keyList("getOrders", orderIds);
  if (keys.length === 0) return [];
  const docs = await models.orders.find({ _id: { $in: keys } }).lean<OrderDoc[]>();
  return inKeyOrder(keys, docs, (doc) => doc._id).map(orderFromDoc);
}

export async function listOrders(models: MirrorModels, filter: OrderFilter, page: PageRequest): Promise<Page<Order>> {
  const limit = checkPageLimit(page);
  const query = orderFilter(filter, pageCursor("orders", page));
  const docs = await models.orders.find(query).sort(ORDER_SORT).limit(limit + 1).lean<OrderDoc[]>();
  return toPage(docs, limit, "orders", (doc) => [doc.opened.eventId, doc._id], orderFromDoc);
}
