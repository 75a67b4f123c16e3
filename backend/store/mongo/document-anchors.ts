/**
 * Mirrored document anchors on MongoDB: one document per event with its eventId as `_id`, so inserting a replayed
 * range keeps what is stored (commitRange writes them before the checkpoint), and sorting by `_id` is chain order.
 * A rollback deletes them above the fork with their events (mirror-log.ts).
 */
import type { DocumentAnchorRecord } from "../../domain/model.ts";
import { MAX_DOCUMENT_ANCHORS_LISTED, type DocumentAnchorRecords } from "../port.ts";
import { insertKeepingExisting } from "./bulk-writes.ts";
import { documents, type MongoCollections } from "./collections.ts";

export async function writeDocumentAnchors(collections: MongoCollections, records: readonly DocumentAnchorRecord[]): Promise<void> {
  if (records.length === 0) return;
  await insertKeepingExisting(
    collections.documentAnchors,
    records.map((record) => documents.documentAnchor.toDocument(record)),
  );
}

export async function deleteDocumentAnchorsAboveFork(collections: MongoCollections, chainId: number, forkBlock: number): Promise<void> {
  await collections.documentAnchors.deleteMany({ chainId, blockNumber: { $gt: forkBlock } });
}

/**
 * Indexes the batch document anchors mirrored before this index existed (ProductDocumentAnchored is newer than it):
 * one server-side pass over the events by name, keeping any record already stored, so running it at every start is
 * harmless.
 */
export async function backfillDocumentAnchors(collections: MongoCollections): Promise<void> {
  await collections.events
    .aggregate([
      { $match: { name: "BatchDocumentAnchored", contract: "ProductDataRegistry" } },
      {
        $project: {
          _id: 1,
          chainId: 1,
          blockNumber: 1,
          transactionHash: 1,
          contentHash: { $toLower: "$args.contentHash" },
          subject: { kind: { $literal: "batch" }, batchId: { $toLower: "$args.batchId" } },
          anchoredBy: { $toLower: "$args.anchoredBy" },
          anchoredAt: "$blockTimestamp",
        },
      },
      { $merge: { into: collections.documentAnchors.collectionName, on: "_id", whenMatched: "keepExisting", whenNotMatched: "insert" } },
    ])
    .toArray();
}

export function createDocumentAnchorRecords(collections: MongoCollections): DocumentAnchorRecords {
  return {
    async listDocumentAnchors(contentHash) {
      if (typeof contentHash !== "string") throw new TypeError("MongoDB store: listDocumentAnchors takes a string");
      const stored = await collections.documentAnchors
        .find({ contentHash: contentHash.toLowerCase() })
        .sort({ contentHash: 1, _id: 1 })
        .limit(MAX_DOCUMENT_ANCHORS_LISTED)
        .toArray();
      return stored.map((doc) => documents.documentAnchor.fromDocument(doc));
    },
  };
}
