/**
 * The mirror log on MongoDB: events, block headers and the checkpoint, written without multi-document
 * transactions, so the same code is right on a standalone server, a replica set and a sharded cluster.
 *
 * Why no transactions: a duplicate key aborts a transaction, and duplicates are the normal case here (a replayed
 * range); and standalone servers have none. Instead every write is idempotent and ordered so that the
 * checkpoint moves last: a crash anywhere in commitRange leaves the checkpoint at the previous range, and the
 * indexer's replay of the range converges on the same data.
 *
 * - events:      unordered insertOne; E11000 (the event is already stored) is the only error ignored.
 * - projections: replaceOne upsert guarded by lastEvent (projections.ts): a stored projection that has seen a
 *                later event is never overwritten by an older one (e.g. a second indexer whose lease ran out).
 * - blocks, checkpoint: replaceOne upsert by natural key.
 *
 * A rollback is several deletes and replaces, so it is made restartable with a write-ahead marker: the
 * recomputed projections and the deletes are stored first (rollbackitems), then the marker (rollbacks, one per
 * chain) commits the rollback, then it is applied and the marker removed. While a marker exists the rollback
 * counts as done: getCheckpoint answers the rollback's checkpoint and getBlocks hides the blocks above the fork;
 * the next commitRange or rollback finishes it before anything else.
 */
import { randomUUID } from "node:crypto";

import type { Checkpoint } from "../../domain/model.ts";
import { checkPageLimit, pageCursor, toPage } from "../cursor.ts";
import type { MirrorLog, RangeCommit, RollbackCommit } from "../port.ts";
import { chunks, insertKeepingExisting, upsertAll } from "./bulk-writes.ts";
import { documents, type MongoCollections, type RollbackItem, type RollbackMarker } from "./collections.ts";
import { RollbackCompletedError } from "./errors.ts";
import { deleteDesignRecordsAboveFork, writeDesignRecords } from "./design-records.ts";
import { deleteDocumentAnchorsAboveFork, writeDocumentAnchors } from "./document-anchors.ts";
import { EVENT_SORT, eventFilter } from "./filters.ts";
import { deleteColdChainAboveFork, writeColdChainChanges } from "./cold-chain.ts";
import { applyRollbackItems, writeProjections } from "./projections.ts";

const ROLLBACK_ITEM_CHUNK = 500;

/** A plain number where a query takes one: anything else could be an operator ({ $gt: 0 }). */
function checkNumbers(what: string, ...values: unknown[]): void {
  if (!values.every((value) => typeof value === "number")) throw new TypeError(`MongoDB store: ${what} takes numbers`);
}

function checkChainId(what: string, chainId: unknown): number {
  if (typeof chainId !== "number" || !Number.isSafeInteger(chainId) || chainId <= 0) {
    throw new TypeError(`MongoDB store: ${what} needs a positive integer chainId`);
  }
  return chainId;
}

async function writeCheckpoint(collections: MongoCollections, checkpoint: Checkpoint): Promise<void> {
  await upsertAll(collections.checkpoints, [documents.checkpoint.toDocument(checkpoint)], {
    key: (d) => ({ _id: d._id }),
    guardByLastEvent: false,
  });
}

// --- rollback marker -----------------------------------------------------------------------------------------

async function pendingRollback(collections: MongoCollections, chainId: number): Promise<RollbackMarker | null> {
  return collections.rollbacks.findOne<RollbackMarker>({ _id: chainId });
}

/** The items of a marker, in the order they were written, a page at a time. */
async function* rollbackItems(collections: MongoCollections, marker: RollbackMarker): AsyncGenerator<RollbackItem[]> {
  let fromSeq = 0;
  let seen = 0;
  for (;;) {
    const page = await collections.rollbackItems
      .find<RollbackItem>({ chainId: marker._id, token: marker.token, seq: { $gte: fromSeq } })
      .sort({ seq: 1 })
      .limit(ROLLBACK_ITEM_CHUNK)
      .toArray();
    if (page.length === 0) break;
    seen += page.length;
    yield page;
    fromSeq = page[page.length - 1]!.seq + 1;
  }
  if (seen !== marker.itemCount) {
    throw new Error(
      `MongoDB store: the interrupted rollback of chain ${marker._id} lists ${marker.itemCount} projections but ${seen} are stored`,
    );
  }
}

/** Applies a committed rollback (marker written) and removes the marker; safe to run again after a crash. */
async function applyRollback(
  collections: MongoCollections,
  marker: RollbackMarker,
  items: AsyncIterable<RollbackItem[]> | RollbackItem[][],
): Promise<void> {
  for await (const page of items) await applyRollbackItems(collections, page);
  const chainId = marker._id;
  await collections.events.deleteMany({ chainId, blockNumber: { $gt: marker.forkBlock } });
  await deleteDesignRecordsAboveFork(collections, chainId, marker.forkBlock);
  await deleteDocumentAnchorsAboveFork(collections, chainId, marker.forkBlock);
  await deleteColdChainAboveFork(collections, chainId, marker.forkBlock);
  // Blocks after events: while the marker exists getBlocks hides them anyway.
  await collections.blocks.deleteMany({ chainId, number: { $gt: marker.forkBlock } });
  await writeCheckpoint(collections, marker.checkpoint);
  await collections.rollbacks.deleteOne({ _id: chainId, token: marker.token });
  await collections.rollbackItems.deleteMany({ chainId, token: marker.token });
}

/** Finishes a rollback a crash interrupted; returns its marker, or null when none was pending. */
async function completePendingRollback(collections: MongoCollections, chainId: number): Promise<RollbackMarker | null> {
  const marker = await pendingRollback(collections, chainId);
  if (marker === null) return null;
  await applyRollback(collections, marker, rollbackItems(collections, marker));
  return marker;
}

/** The write-ahead items of a rollback: recomputed projections to replace, then keys to delete. */
export function rollbackItemsOf(commit: RollbackCommit, token: string): RollbackItem[] {
  const entries: Array<Pick<RollbackItem, "kind" | "key" | "doc">> = [
    ...commit.batches.map((batch) => ({ kind: "batch" as const, key: batch.batchId, doc: documents.batch.toDocument(batch) })),
    ...commit.participants.map((p) => ({
      kind: "participant" as const,
      key: p.address,
      doc: documents.participant.toDocument(p),
    })),
    ...commit.orders.map((order) => ({ kind: "order" as const, key: order.orderId, doc: documents.order.toDocument(order) })),
    ...commit.deleteBatchIds.map((key) => ({ kind: "batch" as const, key, doc: null })),
    ...commit.deleteParticipantAddresses.map((key) => ({ kind: "participant" as const, key, doc: null })),
    ...commit.deleteOrderIds.map((key) => ({ kind: "order" as const, key, doc: null })),
    ...(commit.unitTokens ?? []).map((token) => ({
      kind: "unitToken" as const,
      key: token.tokenId,
      doc: documents.unitToken.toDocument(token),
    })),
    ...(commit.deleteUnitTokenIds ?? []).map((key) => ({ kind: "unitToken" as const, key, doc: null })),
    ...(commit.deleteClaimRootBatchIds ?? []).map((key) => ({ kind: "claimRoot" as const, key, doc: null })),
    ...(commit.transformations ?? []).map((transformation) => ({
      kind: "transformation" as const,
      key: transformation.transformationId,
      doc: documents.transformation.toDocument(transformation),
    })),
    ...(commit.deleteTransformationIds ?? []).map((key) => ({ kind: "transformation" as const, key, doc: null })),
    ...(commit.containers ?? []).map((container) => ({
      kind: "container" as const,
      key: container.sscc,
      doc: documents.container.toDocument(container),
    })),
    ...(commit.deleteContainerSsccs ?? []).map((key) => ({ kind: "container" as const, key, doc: null })),
  ];
  return entries.map((entry, seq) => ({
    _id: `${commit.chainId}:${token}:${seq}`,
    chainId: commit.chainId,
    token,
    seq,
    ...entry,
  }));
}

// --- the port's mirror-log methods ---------------------------------------------------------------------------

async function commitRange(collections: MongoCollections, commit: RangeCommit): Promise<void> {
  const chainId = checkChainId("commitRange", commit.chainId);
  // Check everything before the first write, so a malformed commit writes nothing.
  for (const event of commit.events) {
    if (event.chainId !== chainId) throw new TypeError(`MongoDB store: event ${event.id} is not of chain ${chainId}`);
  }
  for (const block of commit.blocks) {
    if (block.chainId !== chainId) throw new TypeError(`MongoDB store: block ${block.number} is not of chain ${chainId}`);
  }
  if (commit.checkpoint?.chainId !== chainId) throw new TypeError(`MongoDB store: the checkpoint is not of chain ${chainId}`);
  const events = commit.events.map((event) => documents.event.toDocument(event));
  const blocks = commit.blocks.map((block) => documents.block.toDocument(block));

  const interrupted = await completePendingRollback(collections, chainId);
  if (interrupted !== null) throw new RollbackCompletedError(chainId, interrupted.forkBlock);

  await insertKeepingExisting(collections.events, events);
  await upsertAll(collections.blocks, blocks, { key: (d) => ({ _id: d._id }), guardByLastEvent: false });
  await writeProjections(collections, commit, true);
  await writeDesignRecords(collections, commit.designRegistrations ?? [], commit.designLinkChanges ?? []);
  await writeDocumentAnchors(collections, commit.documentAnchors ?? []);
  if (commit.coldChain !== undefined) await writeColdChainChanges(collections, chainId, commit.coldChain);
  await writeCheckpoint(collections, commit.checkpoint); // last: the range counts as stored only now
}

async function rollback(collections: MongoCollections, commit: RollbackCommit): Promise<void> {
  const chainId = checkChainId("rollback", commit.chainId);
  // Any integer: the indexer rolls back to deployBlock - 1 (which is -1 for a chain deployed at genesis) when
  // no stored block survived.
  if (typeof commit.forkBlock !== "number" || !Number.isSafeInteger(commit.forkBlock)) {
    throw new TypeError("MongoDB store: rollback needs an integer forkBlock");
  }
  if (commit.checkpoint?.chainId !== chainId) throw new TypeError(`MongoDB store: the checkpoint is not of chain ${chainId}`);
  const token = randomUUID();
  const items = rollbackItemsOf(commit, token);
  const marker: RollbackMarker = {
    _id: chainId,
    token,
    forkBlock: commit.forkBlock,
    checkpoint: { ...commit.checkpoint },
    itemCount: items.length,
    startedAt: Date.now(),
  };

  // An earlier rollback cut short is finished first: its deletes may name projections this one cannot see.
  await completePendingRollback(collections, chainId);
  // Items of a rollback that died before its marker was written are unreferenced: clear them.
  await collections.rollbackItems.deleteMany({ chainId });
  await insertKeepingExisting(collections.rollbackItems, items);
  await collections.rollbacks.replaceOne({ _id: chainId }, marker, { upsert: true });
  await applyRollback(collections, marker, chunks(items, ROLLBACK_ITEM_CHUNK));
}

export function createMirrorLog(collections: MongoCollections): MirrorLog {
  return {
    commitRange: (commit) => commitRange(collections, commit),
    rollback: (commit) => rollback(collections, commit),

    async getCheckpoint(chainId) {
      checkNumbers("getCheckpoint", chainId);
      const [marker, stored] = await Promise.all([
        pendingRollback(collections, chainId),
        collections.checkpoints.findOne({ _id: chainId }),
      ]);
      if (marker !== null) return { ...marker.checkpoint };
      return stored === null ? null : documents.checkpoint.fromDocument(stored);
    },

    async getBlocks(chainId, from, to) {
      checkNumbers("getBlocks", chainId, from, to);
      const marker = await pendingRollback(collections, chainId);
      const upTo = marker === null ? to : Math.min(to, marker.forkBlock);
      if (upTo < from) return [];
      const stored = await collections.blocks
        .find({ chainId, number: { $gte: from, $lte: upTo } })
        .sort({ number: 1 })
        .toArray();
      return stored.map((doc) => documents.block.fromDocument(doc));
    },

    async listEvents(filter, page) {
      const limit = checkPageLimit(page);
      const query = eventFilter(filter, pageCursor("events", page));
      const stored = await collections.events
        .find(query)
        .sort(EVENT_SORT)
        .limit(limit + 1)
        .toArray();
      return toPage(
        stored,
        limit,
        "events",
        (doc) => [doc._id as string],
        (doc) => documents.event.fromDocument(doc),
      );
    },

    async countEvents(chainId) {
      if (chainId !== undefined) checkNumbers("countEvents", chainId);
      // countDocuments, not estimatedDocumentCount: the count must be exact (replays must not change it).
      return collections.events.countDocuments(chainId === undefined ? {} : { chainId });
    },
  };
}
