/**
 * Batch documents on MongoDB: the bytes in GridFS (bucket "batchdocuments", through mongoose's driver), the metadata
 * in the collection of the same name, keyed by "batchId:contentHash" and naming its GridFS file.
 *
 * Bytes first, metadata last: the metadata insert decides which upload of the same document wins (the unique
 * `_id`), the loser deletes its own GridFS file, and readers only ever follow metadata to a finished file. A crash
 * between the two leaves an orphaned GridFS file, never a document without bytes.
 */
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { mongo } from "mongoose";
import type { BatchDocument, Hex } from "../../domain/model.ts";
import { MAX_BATCH_DOCUMENTS_LISTED, type BatchDocuments } from "../port.ts";
import { withoutUndefined, type MongoCollections } from "./collections.ts";
import { isDuplicateKeyError } from "./errors.ts";

export const BATCH_DOCUMENT_BUCKET = "batchdocuments";

const keyOf = (batchId: Hex, contentHash: Hex) => `${batchId}:${contentHash}`;

type StoredBatchDocument = BatchDocument & { _id: string; file: mongo.ObjectId };

function fromStored(stored: mongo.Document): BatchDocument {
  const { _id, file: _file, ...document } = stored as StoredBatchDocument;
  return document;
}

export function createBatchDocuments(collections: MongoCollections, db: mongo.Db): BatchDocuments {
  const metadata = collections.batchDocuments;
  const bucket = new mongo.GridFSBucket(db, { bucketName: BATCH_DOCUMENT_BUCKET });
  const find = async (batchId: Hex, contentHash: Hex) => metadata.findOne({ _id: keyOf(batchId, contentHash) });

  return {
    async putBatchDocument(document, content) {
      const existing = await find(document.batchId, document.contentHash);
      if (existing !== null) return fromStored(existing);
      const key = keyOf(document.batchId, document.contentHash);
      const upload = bucket.openUploadStream(key, { metadata: { batchId: document.batchId, contentHash: document.contentHash } });
      await pipeline(Readable.from([Buffer.from(content)]), upload);
      const file = upload.id;
      try {
        await metadata.insertOne({ _id: key, ...withoutUndefined(document), file });
        return document;
      } catch (error) {
        await bucket.delete(file).catch(() => {});
        if (!isDuplicateKeyError(error)) throw error;
      }
      const winner = await find(document.batchId, document.contentHash);
      if (winner === null) throw new Error("MongoDB store: a batch document refused as a duplicate is not there");
      return fromStored(winner);
    },

    async getBatchDocument(batchId, contentHash) {
      const found = await find(batchId, contentHash);
      return found === null ? null : fromStored(found);
    },

    async openBatchDocumentContent(batchId, contentHash) {
      const found = await metadata.findOne({ _id: keyOf(batchId, contentHash) }, { projection: { file: 1 } });
      return found === null ? null : bucket.openDownloadStream((found as unknown as { file: mongo.ObjectId }).file);
    },

    async listBatchDocuments(batchId) {
      const found = await metadata
        .find({ batchId })
        .sort({ batchId: 1, uploadedAt: 1, contentHash: 1 })
        .limit(MAX_BATCH_DOCUMENTS_LISTED)
        .toArray();
      return found.map(fromStored);
    },

    async findBatchDocumentsByHash(contentHash) {
      const found = await metadata
        .find({ contentHash })
        .sort({ contentHash: 1, uploadedAt: 1, batchId: 1 })
        .limit(MAX_BATCH_DOCUMENTS_LISTED)
        .toArray();
      return found.map(fromStored);
    },
  };
}
