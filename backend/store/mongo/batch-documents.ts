/**
 * Documents on MongoDB, about batches and about product models (GTINs): the bytes in GridFS (buckets
 * "batchdocuments" and "productdocuments", through mongoose's driver), the metadata in the collection of the same
 * name, keyed by "subject:contentHash" and naming its GridFS file.
 *
 * Bytes first, metadata last: the metadata insert decides which upload of the same document wins (the unique
 * `_id`), the loser deletes its own GridFS file, and readers only ever follow metadata to a finished file. A crash
 * between the two leaves an orphaned GridFS file, never a document without bytes.
 */
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { mongo } from "mongoose";
import type { BatchDocument, Hex, ProductDocument } from "../../domain/model.ts";
import { MAX_BATCH_DOCUMENTS_LISTED, type BatchDocuments, type ProductDocuments } from "../port.ts";
import { withoutUndefined, type MongoCollection, type MongoCollections } from "./collections.ts";
import { isDuplicateKeyError } from "./errors.ts";

export const BATCH_DOCUMENT_BUCKET = "batchdocuments";
export const PRODUCT_DOCUMENT_BUCKET = "productdocuments";

/** One kind of document: its metadata collection, GridFS bucket, and the field naming its subject. */
interface DocumentBucket<T> {
  metadata: MongoCollection;
  bucketName: string;
  subjectField: "batchId" | "gtin";
  subjectOf: (document: T) => string;
}

/** A plain string where a query takes one: anything else could be an operator ({ $ne: null }). */
function checkString(what: string, value: unknown): string {
  if (typeof value !== "string") throw new TypeError(`MongoDB store: ${what} takes a string`);
  return value;
}

function documentBucket<T extends { contentHash: Hex }>(db: mongo.Db, spec: DocumentBucket<T>) {
  const { metadata, subjectField } = spec;
  const bucket = new mongo.GridFSBucket(db, { bucketName: spec.bucketName });
  const keyOf = (subject: string, contentHash: string) =>
    `${checkString(subjectField, subject)}:${checkString("contentHash", contentHash)}`;
  const fromStored = (stored: mongo.Document): T => {
    const { _id, file: _file, ...document } = stored;
    return document as T;
  };
  const find = async (subject: string, contentHash: string) => metadata.findOne({ _id: keyOf(subject, contentHash) });

  return {
    put: async (document: T, content: Uint8Array): Promise<T> => {
      const subject = spec.subjectOf(document);
      const existing = await find(subject, document.contentHash);
      if (existing !== null) return fromStored(existing);
      const key = keyOf(subject, document.contentHash);
      const upload = bucket.openUploadStream(key, { metadata: { [subjectField]: subject, contentHash: document.contentHash } });
      await pipeline(Readable.from([Buffer.from(content)]), upload);
      const file = upload.id;
      try {
        await metadata.insertOne({ _id: key, ...withoutUndefined(document), file });
        return document;
      } catch (error) {
        await bucket.delete(file).catch(() => {});
        if (!isDuplicateKeyError(error)) throw error;
      }
      const winner = await find(subject, document.contentHash);
      if (winner === null) throw new Error(`MongoDB store: a document refused as a duplicate is not in ${spec.bucketName}`);
      return fromStored(winner);
    },

    get: async (subject: string, contentHash: Hex): Promise<T | null> => {
      const found = await find(subject, contentHash);
      return found === null ? null : fromStored(found);
    },

    open: async (subject: string, contentHash: Hex): Promise<Readable | null> => {
      const found = await metadata.findOne({ _id: keyOf(subject, contentHash) }, { projection: { file: 1 } });
      return found === null ? null : bucket.openDownloadStream((found as unknown as { file: mongo.ObjectId }).file);
    },

    list: async (subject: string): Promise<T[]> => {
      const found = await metadata
        .find({ [subjectField]: checkString(subjectField, subject) })
        .sort({ [subjectField]: 1, uploadedAt: 1, contentHash: 1 })
        .limit(MAX_BATCH_DOCUMENTS_LISTED)
        .toArray();
      return found.map(fromStored);
    },

    fromStored,
  };
}

export function createBatchDocuments(collections: MongoCollections, db: mongo.Db): BatchDocuments {
  const documents = documentBucket<BatchDocument>(db, {
    metadata: collections.batchDocuments,
    bucketName: BATCH_DOCUMENT_BUCKET,
    subjectField: "batchId",
    subjectOf: (document) => document.batchId,
  });
  return {
    putBatchDocument: documents.put,
    getBatchDocument: documents.get,
    openBatchDocumentContent: documents.open,
    listBatchDocuments: documents.list,

    async findBatchDocumentsByHash(contentHash) {
      const found = await collections.batchDocuments
        .find({ contentHash: checkString("contentHash", contentHash) })
        .sort({ contentHash: 1, uploadedAt: 1, batchId: 1 })
        .limit(MAX_BATCH_DOCUMENTS_LISTED)
        .toArray();
      return found.map(documents.fromStored);
    },
  };
}

export function createProductDocuments(collections: MongoCollections, db: mongo.Db): ProductDocuments {
  const documents = documentBucket<ProductDocument>(db, {
    metadata: collections.productDocuments,
    bucketName: PRODUCT_DOCUMENT_BUCKET,
    subjectField: "gtin",
    subjectOf: (document) => document.gtin,
  });
  return {
    putProductDocument: documents.put,
    getProductDocument: documents.get,
    openProductDocumentContent: documents.open,
    listProductDocuments: documents.list,
  };
}
