/**
 * The mirror's writes on MongoDB: range commits and rollbacks, without multi-document transactions, so the same
 * code is right on a standalone server, a replica set and a sharded cluster.
 *
 * Why no transactions: a duplicate key aborts a transaction, and duplicates are the normal case here (a replayed
 * range); and standalone servers have none. Instead every write is idempotent and ordered so that the
 * checkpoint moves last: a crash anywhere in commitRange leaves the checkpoint at the previous range, and the
 * indexer's replay of the range converges on the same data.
 *
 * - events:      unordered insertOne; E11000 (the event is already stored) is the only error ignored.
 * - projections: replaceOne upsert guarded by lastEvent: a stored projection that has seen a later event is
 *                never overwritten by an older one (e.g. a second indexer whose lease ran out mid-range).
 * - blocks, checkpoint: replaceOne upsert by natural key.
 *
 * A rollback is several deletes and replaces, so it is made restartable with a write-ahead marker: the
 * recomputed projections and the deletes are stored first (rollbackitems), then the marker (rollbacks, one per
 * chain) commits the rollback, then it is applied and the marker removed. While a marker exists the rollback
 * counts as done: getCheckpoint answers the rollback's checkpoint and getBlocks hides the blocks above the fork;
 * the next commitRange or rollback finishes it before anything else.
 */
import { randomUUID } from "node:crypto";
import { conflict } from "../../domain/errors.ts";
import type { Model } from "mongoose";
import type { RangeCommit, RollbackCommit } from "../port.ts";
import type { Checkpoint, Hex, IndexedBlock } from "../../domain/model.ts";
import { appliedCount, duplicateKeyFailures, RollbackCompletedError } from "./errors.ts";
import {
  batchToDoc,
  blockFromDoc,
  blockToDoc,
  checkpointCopy,
  checkpointFromDoc,
  checkpointToDoc,
  eventToDoc,
  orderToDoc,
  participantToDoc,
} from "./mapping.ts";
import type {
  BatchDoc,
  BlockDoc,
  EventRefDoc,
  MirrorModels,
  OrderDoc,
  ParticipantDoc,
  ProjectionKind,
  RollbackItemDoc,
  RollbackMarkerDoc,
} from "./models.ts";

/** Operations per bulkWrite: far below the server's 100,000 and small enough to stay one wire batch. */
const EVENT_CHUNK = 1000;
const PROJECTION_CHUNK = 500;
const ROLLBACK_ITEM_CHUNK = 500;
/** How often a write that keeps meeting an insert race is retried before it is reported. */
const MAX_ATTEMPTS = 5;

type AnyDocModel = Model<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type ProjectionDoc = BatchDoc | ParticipantDoc | OrderDoc;

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function checkChainId(what: string, chainId: unknown): number {
  if (typeof chainId !== "number" || !Number.isSafeInteger(chainId) || chainId <= 0) {
    throw new TypeError(`MongoDB store: ${what} needs a positive integer chainId`);
  }
  return chainId;
}

/**
 * Inserts documents, keeping any that already exist (same _id) unchanged. Unordered, so one duplicate does
 * not stop the others; the driver can still stop between wire batches after a write error, so the outcome is
 * counted and the chunk re-sent until every document is either inserted or a duplicate.
 */
export async function insertKeepingExisting(model: AnyDocModel, docs: object[]): Promise<void> {
  for (const chunk of chunks(docs, EVENT_CHUNK)) {
    for (let attempt = 1; ; attempt++) {
      try {
        await model.bulkWrite(
          chunk.map((document) => ({ insertOne: { document } })),
          { ordered: false, throwOnValidationError: true },
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

export interface UpsertPlan<D extends { _id: unknown }> {
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
 *   stored batch's GTIN and lot), a contradiction no retry can fix: after one more try, a 409 problem.
 * The index the server names is not trusted to tell a stale write from a clash: an insert that collides on two
 * unique indexes (_id and gtin_1_lot_1, for a stale batch) may name either.
 */
export async function upsertAll<D extends { _id: unknown; lastEvent?: EventRefDoc }>(
  model: AnyDocModel,
  docs: D[],
  plan: UpsertPlan<D>,
): Promise<void> {
  for (const chunk of chunks(docs, PROJECTION_CHUNK)) {
    let pending = chunk;
    for (let attempt = 1; pending.length > 0; attempt++) {
      const ops = pending.map((doc) => ({ replaceOne: { filter: upsertFilter(plan, doc), replacement: doc, upsert: true } }));
      try {
        await model.bulkWrite(ops, { ordered: false, throwOnValidationError: true });
        pending = [];
      } catch (error) {
        const duplicates = duplicateKeyFailures(error);
        if (duplicates === null) throw error;
        const refused = duplicates.map((failure) => pending[failure.index]);
        const applied = appliedCount(error);
        // If the driver stopped early, the ops it never sent must go again too (all writes here are idempotent).
        const unsent = applied !== null && applied + duplicates.length >= ops.length ? [] : pending.filter((doc) => !refused.includes(doc));
        const stored = await storedLastEvents(model, refused);
        // No document with this _id, yet a duplicate key on another index: another document holds that key.
        // (On "_id_" itself it can only mean the document was deleted meanwhile: simply retried.)
        const clash = duplicates.find((failure) => !stored.has(pending[failure.index]._id) && failure.keyIndex !== "_id_");
        if (clash !== undefined && attempt > 1) {
          const keyIndex = clash.keyIndex ?? "a unique index";
          // A conflict: the data contradicts the mirror, so retrying the same write cannot succeed.
          throw conflict(
            `MongoDB store: ${model.collection.collectionName} document ${String(pending[clash.index]._id)} ` +
              `conflicts with a stored document on ${keyIndex}`,
            { collection: model.collection.collectionName, index: keyIndex },
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
export function upsertFilter<D extends { _id: unknown; lastEvent?: EventRefDoc }>(plan: UpsertPlan<D>, doc: D): Record<string, unknown> {
  return plan.guardByLastEvent ? { ...plan.key(doc), "lastEvent.eventId": { $lte: doc.lastEvent!.eventId } } : plan.key(doc);
}

/** _id -> lastEvent.eventId (undefined for documents without one) of the stored documents with these ids. */
async function storedLastEvents(model: AnyDocModel, docs: Array<{ _id: unknown }>): Promise<Map<unknown, string | undefined>> {
  if (docs.length === 0) return new Map();
  const stored = (await model
    .find({ _id: { $in: docs.map((doc) => doc._id) } }, { _id: 1, ...(model.schema.path("lastEvent") ? { "lastEvent.eventId": 1 } : {}) })
    .lean()) as Array<{ _id: unknown; lastEvent?: { eventId?: string } }>;
  return new Map(stored.map((doc) => [doc._id, doc.lastEvent?.eventId]));
}

export const projectionKeys = {
  // gtin and lot are immutable parts of a batch (its id is their hash) and the batches shard key.
  batch: (doc: BatchDoc) => ({ _id: doc._id, gtin: doc.gtin, lot: doc.lot }),
  participant: (doc: ParticipantDoc) => ({ _id: doc._id }),
  order: (doc: OrderDoc) => ({ _id: doc._id }),
};

function projectionModel(models: MirrorModels, kind: ProjectionKind): AnyDocModel {
  return kind === "batch" ? models.batches : kind === "participant" ? models.participants : models.orders;
}

async function writeProjections(
  models: MirrorModels,
  docs: { batches: BatchDoc[]; participants: ParticipantDoc[]; orders: OrderDoc[] },
  guardByLastEvent: boolean,
): Promise<void> {
  await upsertAll(models.batches, docs.batches, { key: projectionKeys.batch, guardByLastEvent });
  await upsertAll(models.participants, docs.participants, { key: projectionKeys.participant, guardByLastEvent });
  await upsertAll(models.orders, docs.orders, { key: projectionKeys.order, guardByLastEvent });
}

async function writeCheckpoint(models: MirrorModels, checkpoint: Checkpoint): Promise<void> {
  const doc = checkpointToDoc(checkpoint);
  await upsertAll(models.checkpoints, [doc], { key: (d) => ({ _id: d._id }), guardByLastEvent: false });
}

async function writeBlocks(models: MirrorModels, docs: BlockDoc[]): Promise<void> {
  await upsertAll(models.blocks, docs, { key: (d) => ({ _id: d._id }), guardByLastEvent: false });
}

// --- rollback marker -----------------------------------------------------------------------------------------

async function pendingRollback(models: MirrorModels, chainId: number): Promise<RollbackMarkerDoc | null> {
  return (await models.rollbacks.findById(chainId).lean<RollbackMarkerDoc>()) ?? null;
}

/** The items of a marker, in the order they were written, a page at a time. */
async function* rollbackItems(models: MirrorModels, marker: RollbackMarkerDoc): AsyncGenerator<RollbackItemDoc[]> {
  let fromSeq = 0;
  let seen = 0;
  for (;;) {
    const page = await models.rollbackItems
      .find({ chainId: marker._id, token: marker.token, seq: { $gte: fromSeq } })
      .sort({ seq: 1 })
      .limit(ROLLBACK_ITEM_CHUNK)
      .lean<RollbackItemDoc[]>();
    if (page.length === 0) break;
    seen += page.length;
    yield page;
    fromSeq = page[page.length - 1].seq + 1;
  }
  if (seen !== marker.itemCount) {
    throw new Error(
      `MongoDB store: the interrupted rollback of chain ${marker._id} lists ${marker.itemCount} projections but ${seen} are stored`,
    );
  }
}

async function applyRollbackItems(models: MirrorModels, items: RollbackItemDoc[]): Promise<void> {
  for (const kind of ["batch", "participant", "order"] as const) {
    const model = projectionModel(models, kind);
    const ofKind = items.filter((item) => item.kind === kind);
    const replacements = ofKind.filter((item) => item.doc !== null).map((item) => item.doc as unknown as ProjectionDoc);
    // Recomputed projections replace whatever is stored, newer or not: the newer state is what is undone.
    await upsertAll(model, replacements, { key: projectionKeys[kind] as (doc: ProjectionDoc) => Record<string, unknown>, guardByLastEvent: false });
    const deletions = ofKind.filter((item) => item.doc === null).map((item) => item.key);
    if (deletions.length > 0) await model.deleteMany({ _id: { $in: deletions } });
  }
}

/** Applies a committed rollback (marker written) and removes the marker; safe to run again after a crash. */
async function applyRollback(models: MirrorModels, marker: RollbackMarkerDoc, items: AsyncIterable<RollbackItemDoc[]> | RollbackItemDoc[][]): Promise<void> {
  for await (const page of items) await applyRollbackItems(models, page);
  const chainId = marker._id;
  await models.events.deleteMany({ chainId, blockNumber: { $gt: marker.forkBlock } });
  // Blocks after events: while the marker exists getBlocks hides them anyway.
  await models.blocks.deleteMany({ chainId, number: { $gt: marker.forkBlock } });
  await writeCheckpoint(models, marker.checkpoint);
  await models.rollbacks.deleteOne({ _id: chainId, token: marker.token });
  await models.rollbackItems.deleteMany({ chainId, token: marker.token });
}

/** Finishes a rollback a crash interrupted; returns its marker, or null when none was pending. */
async function completePendingRollback(models: MirrorModels, chainId: number): Promise<RollbackMarkerDoc | null> {
  const marker = await pendingRollback(models, chainId);
  if (marker === null) return null;
  await applyRollback(models, marker, rollbackItems(models, marker));
  return marker;
}

// --- the port's mirror methods -------------------------------------------------------------------------------

export async function commitRange(models: MirrorModels, commit: RangeCommit): Promise<void> {
  const chainId = checkChainId("commitRange", commit.chainId);
  // Convert (and check) everything before the first write, so a malformed commit writes nothing.
  const events = commit.events.map(eventToDoc);
  for (const event of events) {
    if (event.chainId !== chainId) throw new TypeError(`MongoDB store: event ${event._id} is not of chain ${chainId}`);
  }
  const projections = {
    batches: commit.batches.map(batchToDoc),
    participants: commit.participants.map(participantToDoc),
    orders: commit.orders.map(orderToDoc),
  };
  const blocks = commit.blocks.map(blockToDoc);
  for (const block of blocks) {
    if (block.chainId !== chainId) throw new TypeError(`MongoDB store: block ${block.number} is not of chain ${chainId}`);
  }
  if (commit.checkpoint?.chainId !== chainId) throw new TypeError(`MongoDB store: the checkpoint is not of chain ${chainId}`);
  checkpointToDoc(commit.checkpoint);

  const interrupted = await completePendingRollback(models, chainId);
  if (interrupted !== null) throw new RollbackCompletedError(chainId, interrupted.forkBlock);

  await insertKeepingExisting(models.events, events);
  await writeBlocks(models, blocks);
  await writeProjections(models, projections, true);
  await writeCheckpoint(models, commit.checkpoint); // last: the range counts as stored only now
}

export async function rollback(models: MirrorModels, commit: RollbackCommit): Promise<void> {
  const chainId = checkChainId("rollback", commit.chainId);
  // Any integer: the indexer rolls back to deployBlock - 1 (which is -1 for a chain deployed at genesis) when
  // no stored block survived.
  if (typeof commit.forkBlock !== "number" || !Number.isSafeInteger(commit.forkBlock)) {
    throw new TypeError("MongoDB store: rollback needs an integer forkBlock");
  }
  if (commit.checkpoint?.chainId !== chainId) throw new TypeError(`MongoDB store: the checkpoint is not of chain ${chainId}`);
  const token = randomUUID();
  const entries: Array<{ kind: ProjectionKind; key: Hex; doc: ProjectionDoc | null }> = [
    ...commit.batches.map((batch) => ({ kind: "batch" as const, key: batch.batchId, doc: batchToDoc(batch) })),
    ...commit.participants.map((p) => ({ kind: "participant" as const, key: p.address, doc: participantToDoc(p) })),
    ...commit.orders.map((order) => ({ kind: "order" as const, key: order.orderId, doc: orderToDoc(order) })),
    ...commit.deleteBatchIds.map((key) => ({ kind: "batch" as const, key, doc: null })),
    ...commit.deleteParticipantAddresses.map((key) => ({ kind: "participant" as const, key, doc: null })),
    ...commit.deleteOrderIds.map((key) => ({ kind: "order" as const, key, doc: null })),
  ];
  const items: RollbackItemDoc[] = entries.map((entry, seq) => ({
    _id: `${chainId}:${token}:${seq}`,
    chainId,
    token,
    seq,
    kind: entry.kind,
    key: entry.key,
    doc: entry.doc as RollbackItemDoc["doc"],
  }));
  const marker: RollbackMarkerDoc = {
    _id: chainId,
    token,
    forkBlock: commit.forkBlock,
    checkpoint: checkpointCopy(commit.checkpoint),
    itemCount: items.length,
    startedAt: Date.now(),
  };

  // An earlier rollback cut short is finished first: its deletes may name projections this one cannot see.
  await completePendingRollback(models, chainId);
  // Items of a rollback that died before its marker was written are unreferenced: clear them.
  await models.rollbackItems.deleteMany({ chainId });
  await insertKeepingExisting(models.rollbackItems, items);
  await models.rollbacks.replaceOne({ _id: chainId }, marker, { upsert: true });
  await applyRollback(models, marker, chunks(items, ROLLBACK_ITEM_CHUNK));
}

export async function getCheckpoint(models: MirrorModels, chainId: number): Promise<Checkpoint | null> {
  const [marker, stored] = await Promise.all([
    pendingRollback(models, chainId),
    models.checkpoints.findById(chainId).lean(),
  ]);
  if (marker !== null) return checkpointCopy(marker.checkpoint);
  return stored === null ? null : checkpointFromDoc(stored);
}

export async function getBlocks(models: MirrorModels, chainId: number, from: number, to: number): Promise<IndexedBlock[]> {
  const marker = await pendingRollback(models, chainId);
  const upTo = marker === null ? to : Math.min(to, marker.forkBlock);
  if (upTo < from) return [];
  const docs = await models.blocks
    .find({ chainId, number: { $gte: from, $lte: upTo } })
    .sort({ number: 1 })
    .lean();
  return docs.map(blockFromDoc);
}
