/**
 * Batches, participants and orders on MongoDB: written by the mirror log's commits (writeProjections), read by
 * key and as keyset-paginated lists. Every list reads limit + 1 documents in index order, so `nextCursor` is null
 * exactly when nothing follows.
 */
import type { Hex } from "../../domain/model.ts";
import { checkPageLimit, pageCursor, toPage } from "../cursor.ts";
import type { ProjectionReads, RangeCommit } from "../port.ts";
import { upsertAll } from "./bulk-writes.ts";
import { documents, type MongoCollection, type MongoCollections, type MongoDocument } from "./collections.ts";
import type { ProjectionKind, RollbackItem } from "./collections.ts";
import {
  BATCH_SORT,
  batchFilter,
  distinctInOrder,
  inKeyOrder,
  ORDER_SORT,
  orderFilter,
  PARTICIPANT_SORT,
  participantFilter,
} from "./filters.ts";

/** The replace filter of each projection's document: its _id, plus the shard key where it differs. */
export const projectionKeys: Record<ProjectionKind, (doc: MongoDocument) => Record<string, unknown>> = {
  // gtin and lot are immutable parts of a batch (its id is their hash) and the batches shard key.
  batch: (doc) => ({ _id: doc._id, gtin: doc.gtin, lot: doc.lot }),
  participant: (doc) => ({ _id: doc._id }),
  order: (doc) => ({ _id: doc._id }),
  unitToken: (doc) => ({ _id: doc._id }),
  claimRoot: (doc) => ({ _id: doc._id }),
  transformation: (doc) => ({ _id: doc._id }),
  container: (doc) => ({ _id: doc._id }),
};

function projectionCollection(collections: MongoCollections, kind: ProjectionKind): MongoCollection {
  const byKind: Record<ProjectionKind, MongoCollection> = {
    batch: collections.batches,
    participant: collections.participants,
    order: collections.orders,
    unitToken: collections.unitTokens,
    claimRoot: collections.claimRoots,
    transformation: collections.transformations,
    container: collections.containers,
  };
  return byKind[kind];
}

/** Writes a range's projections; with `guardByLastEvent`, a stored document that has seen a later event stays. */
export async function writeProjections(
  collections: MongoCollections,
  commit: Pick<RangeCommit, "batches" | "participants" | "orders" | "unitTokens" | "claimRoots" | "transformations" | "containers">,
  guardByLastEvent: boolean,
): Promise<void> {
  const unitTokens = (commit.unitTokens ?? []).map((token) => documents.unitToken.toDocument(token));
  // A claim root is written once (its event is its only one): a replay replaces it with the same document.
  const claimRoots = (commit.claimRoots ?? []).map((root) => documents.claimRoot.toDocument(root));
  const batches = commit.batches.map((batch) => documents.batch.toDocument(batch));
  const participants = commit.participants.map((participant) => documents.participant.toDocument(participant));
  const orders = commit.orders.map((order) => documents.order.toDocument(order));
  await upsertAll(collections.batches, batches, { key: projectionKeys.batch, guardByLastEvent });
  await upsertAll(collections.participants, participants, { key: projectionKeys.participant, guardByLastEvent });
  await upsertAll(collections.orders, orders, { key: projectionKeys.order, guardByLastEvent });
  await upsertAll(collections.unitTokens, unitTokens, { key: projectionKeys.unitToken, guardByLastEvent });
  await upsertAll(collections.claimRoots, claimRoots, { key: projectionKeys.claimRoot, guardByLastEvent: false });
  const transformations = (commit.transformations ?? []).map((transformation) => documents.transformation.toDocument(transformation));
  await upsertAll(collections.transformations, transformations, { key: projectionKeys.transformation, guardByLastEvent });
  const containers = (commit.containers ?? []).map((container) => documents.container.toDocument(container));
  await upsertAll(collections.containers, containers, { key: projectionKeys.container, guardByLastEvent });
}

/** Applies a page of a rollback's items: replaces the recomputed projections, deletes the undone ones. */
export async function applyRollbackItems(collections: MongoCollections, items: RollbackItem[]): Promise<void> {
  for (const kind of ["batch", "participant", "order", "unitToken", "claimRoot", "transformation", "container"] as const) {
    const collection = projectionCollection(collections, kind);
    const ofKind = items.filter((item) => item.kind === kind);
    const replacements = ofKind.flatMap((item) => (item.doc === null ? [] : [item.doc]));
    // Recomputed projections replace whatever is stored, newer or not: the newer state is what is undone.
    await upsertAll(collection, replacements, { key: projectionKeys[kind], guardByLastEvent: false });
    const deletions = ofKind.filter((item) => item.doc === null).map((item) => item.key);
    if (deletions.length > 0) await collection.deleteMany({ _id: { $in: deletions } });
  }
}

/** A key where a lookup takes one: a string, never an object that MongoDB would read as an operator. */
function checkKey(what: string, key: unknown): void {
  if (typeof key !== "string") throw new TypeError(`MongoDB store: ${what} takes a string key`);
}

function keyList(what: string, keys: unknown): Hex[] {
  if (!Array.isArray(keys) || !keys.every((key) => typeof key === "string")) {
    throw new TypeError(`MongoDB store: ${what} takes an array of strings`);
  }
  return distinctInOrder(keys as Hex[]);
}

export function createProjectionReads(collections: MongoCollections): ProjectionReads {
  const { batches, participants, orders } = collections;
  const batchOf = (doc: MongoDocument) => documents.batch.fromDocument(doc);
  const participantOf = (doc: MongoDocument) => documents.participant.fromDocument(doc);
  const orderOf = (doc: MongoDocument) => documents.order.fromDocument(doc);

  /** Documents by key, once each, in the order of first occurrence in `keys`; unknown keys are left out. */
  const getMany = async (collection: MongoCollection, what: string, keys: Hex[]): Promise<MongoDocument[]> => {
    const distinct = keyList(what, keys);
    if (distinct.length === 0) return [];
    const found = await collection.find({ _id: { $in: distinct } }).toArray();
    return inKeyOrder(distinct, found, (doc) => doc._id as Hex);
  };

  return {
    async getBatch(batchId) {
      checkKey("getBatch", batchId);
      const doc = await batches.findOne({ _id: batchId });
      return doc === null ? null : batchOf(doc);
    },

    async getBatches(batchIds) {
      return (await getMany(batches, "getBatches", batchIds)).map(batchOf);
    },

    async listBatches(filter, page) {
      const limit = checkPageLimit(page);
      const query = batchFilter(filter, pageCursor("batches", page));
      const found = await batches
        .find(query)
        .sort(BATCH_SORT)
        .limit(limit + 1)
        .toArray();
      return toPage(found, limit, "batches", (doc) => [doc.registered.eventId, doc._id], batchOf);
    },

    async findBatchByGtinLot(gtin, lot) {
      if (typeof gtin !== "string" || typeof lot !== "string") throw new TypeError("MongoDB store: gtin and lot are strings");
      const doc = await batches.findOne({ gtin, lot });
      return doc === null ? null : batchOf(doc);
    },

    async getParticipant(address) {
      checkKey("getParticipant", address);
      const doc = await participants.findOne({ _id: address });
      return doc === null ? null : participantOf(doc);
    },

    async getParticipants(addresses) {
      return (await getMany(participants, "getParticipants", addresses)).map(participantOf);
    },

    async listParticipants(filter, page) {
      const limit = checkPageLimit(page);
      const query = participantFilter(filter, pageCursor("participants", page));
      const found = await participants
        .find(query)
        .sort(PARTICIPANT_SORT)
        .limit(limit + 1)
        .toArray();
      return toPage(found, limit, "participants", (doc) => [doc.onboarded.eventId, doc._id], participantOf);
    },

    async getOrder(orderId) {
      checkKey("getOrder", orderId);
      const doc = await orders.findOne({ _id: orderId });
      return doc === null ? null : orderOf(doc);
    },

    async getOrders(orderIds) {
      return (await getMany(orders, "getOrders", orderIds)).map(orderOf);
    },

    async listOrders(filter, page) {
      const limit = checkPageLimit(page);
      const query = orderFilter(filter, pageCursor("orders", page));
      const found = await orders
        .find(query)
        .sort(ORDER_SORT)
        .limit(limit + 1)
        .toArray();
      return toPage(found, limit, "orders", (doc) => [doc.opened.eventId, doc._id], orderOf);
    },
  };
}
