/**
 * The production store: MirrorStore on MongoDB through mongoose 9 (standalone, replica set or sharded cluster).
 *
 *   const store = await createMongoStore({ uri: process.env.MONGODB_URI });
 *   await store.init(); // indexes
 *
 * Each concern of the port lives in its own file, as in the SQLite adapter (../sqlite/index.ts). How documents
 * are stored and indexed is in collections.ts; how writes stay crash-safe without transactions in mirror-log.ts.
 */
import { createAuthNonces } from "./auth-nonces.ts";
import { createBatchDocuments, createProductDocuments } from "./batch-documents.ts";
import { backfillDocumentAnchors, createDocumentAnchorRecords } from "./document-anchors.ts";
import { createOrderReadGrants } from "./order-read-grants.ts";
import { createProductDataDocuments } from "./product-data-documents.ts";
import { createUnitOwnershipRecords } from "./unit-ownership.ts";
import { createRecallAcknowledgements } from "./recall-acknowledgements.ts";
import { createDesignProofRecords } from "./design-records.ts";
import type { MirrorStore } from "../port.ts";
import { createIndexes, openCollections } from "./collections.ts";
import { connectMongo, type MongoStoreOptions } from "./connection.ts";
import { createColdChainReadings, createColdChainReads } from "./cold-chain.ts";
import { createLeases } from "./leases.ts";
import { createMirrorLog } from "./mirror-log.ts";
import { createPassportRecords } from "./passport-records.ts";
import { createReadingAnchorRecords } from "./reading-anchor-records.ts";
import { createProjectionReads } from "./projections.ts";
import { createRelayQueue } from "./relay-queue.ts";
import { createTransformationRecords } from "./transformations.ts";
import { createContainerReads } from "./containers.ts";
import { backfillTrackRecords, createTrackRecordReads } from "./track-records.ts";

export { connectFailure, DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_DATABASE, type MongoStoreOptions } from "./connection.ts";
export { MongoStoreConnectionError, RollbackCompletedError } from "./errors.ts";
export { MongoUriError } from "./uri.ts";

/** Connects (failing within about connectTimeoutMs when no server answers) and returns the store. */
export async function createMongoStore(options: MongoStoreOptions): Promise<MirrorStore> {
  const { connection, db, where } = await connectMongo(options);
  const collections = openCollections(db);
  let closed = false;
  return {
    kind: "mongodb",
    describe: () => `MongoDB at ${where}`,
    async init() {
      await createIndexes(collections);
      await backfillDocumentAnchors(collections);
      await backfillTrackRecords(collections);
    },
    async close() {
      if (closed) return;
      closed = true;
      await connection.close();
    },
    ...createMirrorLog(collections),
    ...createProjectionReads(collections),
    ...createLeases(collections),
    ...createPassportRecords(collections),
    ...createRelayQueue(collections),
    ...createAuthNonces(collections),
    ...createRecallAcknowledgements(collections),
    ...createOrderReadGrants(collections),
    ...createDesignProofRecords(collections),
    ...createColdChainReads(collections),
    ...createColdChainReadings(collections),
    ...createReadingAnchorRecords(collections),
    ...createProductDataDocuments(collections),
    ...createBatchDocuments(collections, db),
    ...createProductDocuments(collections, db),
    ...createDocumentAnchorRecords(collections),
    ...createUnitOwnershipRecords(collections),
    ...createTransformationRecords(collections),
    ...createContainerReads(collections),
    ...createTrackRecordReads(collections),
  };
}
