/**
 * The idempotent write loops of the MongoDB store, shared by its concerns: unordered bulk inserts that keep
 * existing documents, and replace-upserts that a stale writer cannot win. Without multi-document transactions
 * (a duplicate key aborts one, and standalone servers have none), these are what make a replayed write harmless.
 */
import { conflict } from "../../domain/errors.ts";
import type { DocumentId, MongoCollection, MongoDocument } from "./collections.ts";
import { appliedCount, duplicateKeyFailures } from "./errors.ts";

/** Operations per bulkWrite: far below the server's 100,000 and small enough to stay one wire batch. */
const EVENT_CHUNK = 1000;
const PROJECTION_CHUNK = 500;
/** How often a write that keeps meeting an insert race is retried before it is reported. */
const MAX_ATTEMPTS = 5;

export function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Inserts documents, keeping any that already exist (same _id) unchanged. Unordered, so one duplicate does
 * not stop the others; the driver can still stop between wire batches after a write error, so the outcome is
 * counted and the chunk re-sent until every document is either inserted or a duplicate.
 */
export async function insertKeepingExisting(collection: MongoCollection, docs: MongoDocument[]): Promise<void> {
  for (const chunk of chunks(docs, EVENT_CHUNK)) {
    for (let attempt = 1; ; attempt++) {
      try {
        await collection.bulkWrite(
          chunk.map((document) => ({ insertOne: { document } })),
          { ordered: false },
        );
        break;
      } catch (error) {
        const duplicates = duplicateKeyFailures(error);
        if (duplicates === null) throw error;
        const applied = appliedCount(error);
        if (applied !== null && applied + duplicates.length >= chunk.length) break;
        if (attempt >= MAX_ATTEMPTS) throw error;
      }
    }
  }
}

export interface UpsertPlan<D extends { _id: DocumentId }> {
  /** The filter that identifies the stored document (natural key, plus the shard key where it differs). */
  key: (doc: D) => Record<string, unknown>;
  /** When set, a stored document with a later lastEvent wins and the write is skipped. */
  guardByLastEvent: boolean;
}

/**
 * Replaces (or inserts) each document by its key. With the lastEvent guard the filter also requires the stored
 * document to be no newer, so the upsert of a stale projection turns into an insert that a unique index refuses
 * (E11000) instead of an overwrite. E11000 can therefore mean three things, told apart by reading the stored
 * document with the same _id:
 * - it exists and has seen a later event: the write is stale, skip it;
 * - it exists and is not newer: another writer inserted it between our filter and our insert, retry (the
 *   replace now finds it);
 * - it does not exist: the document clashes with ANOTHER document on a unique index (a second batch with a
 *   stored batch's GTIN and lot), a contradiction no retry can fix: after one more try, a "conflict" DomainError.
 * The index the server names is not trusted to tell a stale write from a clash: an insert that collides on two
 * unique indexes (_id and gtin_1_lot_1, for a stale batch) may name either.
 */
export async function upsertAll<D extends { _id: DocumentId; lastEvent?: { eventId: string } }>(
  collection: MongoCollection,
  docs: D[],
  plan: UpsertPlan<D>,
): Promise<void> {
  for (const chunk of chunks(docs, PROJECTION_CHUNK)) {
    let pending = chunk;
    for (let attempt = 1; pending.length > 0; attempt++) {
      const ops = pending.map((doc) => ({ replaceOne: { filter: upsertFilter(plan, doc), replacement: doc, upsert: true } }));
      try {
        await collection.bulkWrite(ops, { ordered: false });
        pending = [];
      } catch (error) {
        const duplicates = duplicateKeyFailures(error);
        if (duplicates === null) throw error;
        const refused = duplicates.map((failure) => pending[failure.index]);
        const applied = appliedCount(error);
        // If the driver stopped early, the ops it never sent must go again too (all writes here are idempotent).
        const unsent = applied !== null && applied + duplicates.length >= ops.length ? [] : pending.filter((doc) => !refused.includes(doc));
        const stored = await storedLastEvents(collection, refused);
        // No document with this _id, yet a duplicate key on another index: another document holds that key.
        // (On "_id_" itself it can only mean the document was deleted meanwhile: simply retried.)
        const clash = duplicates.find((failure) => !stored.has(pending[failure.index]._id) && failure.keyIndex !== "_id_");
        if (clash !== undefined && attempt > 1) {
          const keyIndex = clash.keyIndex ?? "a unique index";
          // A conflict: the data contradicts the mirror, so retrying the same write cannot succeed.
          throw conflict(
            `MongoDB store: ${collection.collectionName} document ${String(pending[clash.index]._id)} ` +
              `conflicts with a stored document on ${keyIndex}`,
            { collection: collection.collectionName, index: keyIndex },
          );
        }
        const retry = refused.filter((doc) => {
          if (!stored.has(doc._id)) return true; // a clash (decided by one more try) or a document deleted meanwhile
          const eventId = stored.get(doc._id);
          return !plan.guardByLastEvent || eventId === undefined || eventId <= doc.lastEvent!.eventId;
        });
        pending = [...retry, ...unsent];
        if (pending.length > 0 && attempt >= MAX_ATTEMPTS) throw error;
      }
    }
  }
}

/** The replaceOne filter of a document: its key, and with the guard "stored lastEvent no later than mine". */
export function upsertFilter<D extends { _id: DocumentId; lastEvent?: { eventId: string } }>(
  plan: UpsertPlan<D>,
  doc: D,
): Record<string, unknown> {
  return plan.guardByLastEvent ? { ...plan.key(doc), "lastEvent.eventId": { $lte: doc.lastEvent!.eventId } } : plan.key(doc);
}

/** _id -> lastEvent.eventId (undefined for documents without one) of the stored documents with these ids. */
async function storedLastEvents(collection: MongoCollection, docs: Array<{ _id: DocumentId }>): Promise<Map<unknown, string | undefined>> {
  if (docs.length === 0) return new Map();
  const stored = (await collection
    .find({ _id: { $in: docs.map((doc) => doc._id) } }, { projection: { _id: 1, "lastEvent.eventId": 1 } })
    .toArray()) as Array<{ _id: DocumentId; lastEvent?: { eventId?: string } }>;
  return new Map(stored.map((doc) => [doc._id, doc.lastEvent?.eventId]));
}
