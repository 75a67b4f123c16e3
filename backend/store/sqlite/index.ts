/**
 * The embedded store: MirrorStore on Node's built-in `node:sqlite` (no native build, no server).
 * One durable file in WAL mode (readers never block the writer), a busy timeout so several processes can share
 * it, and one IMMEDIATE transaction per write method, which makes commitRange and rollback atomic. Readings are
 * stored from a writer thread with its own connection to the file (reading-writer.ts), off the event loop.
 * Each concern of the port lives in its own file, as in the MongoDB adapter (../mongo/index.ts).
 */
import { createAuthNonces } from "./auth-nonces.ts";
import { createBatchDocuments, createProductDocuments } from "./batch-documents.ts";
import { createDocumentAnchorRecords } from "./document-anchors.ts";
import { createOrderReadGrants } from "./order-read-grants.ts";
import { createProductDataDocuments } from "./product-data-documents.ts";
import { createRecallAcknowledgements } from "./recall-acknowledgements.ts";
import { createDesignProofRecords } from "./design-records.ts";
import type { MirrorStore } from "../port.ts";
import { IN_MEMORY, openSqlite, type SqliteStoreOptions } from "./connection.ts";
import { createColdChainReadings, createColdChainReads } from "./cold-chain.ts";
import { createContainerReads } from "./containers.ts";
import { createLeases } from "./leases.ts";
import { createMirrorLog } from "./mirror-log.ts";
import { readTrackRecordTotals } from "./track-records.ts";
import { createPassportRecords } from "./passport-records.ts";
import { createReadingAnchorRecords } from "./reading-anchor-records.ts";
import { createReadingWriterThread } from "./reading-writer.ts";
import { createProjectionReads } from "./projections.ts";
import { createRelayQueue } from "./relay-queue.ts";
import { migrate } from "./schema.ts";
import { createUnitOwnershipRecords } from "./unit-ownership.ts";
import { createTransformationRecords } from "./transformations.ts";

export { DEFAULT_SQLITE_PATH, type SqliteStoreOptions } from "./connection.ts";

const CHANGE_TOKEN_SQL = "SELECT total_changes() AS own, (SELECT data_version FROM pragma_data_version) AS others";

export function createSqliteStore(options: SqliteStoreOptions = {}): MirrorStore {
  if (options.path === IN_MEMORY && options.readingWriterThread === true) {
    throw new Error('A ":memory:" SQLite store is private to its connection: it cannot store readings from a writer thread');
  }
  const connection = openSqlite(options);
  const readingWriter =
    connection.path !== IN_MEMORY && options.readingWriterThread !== false
      ? createReadingWriterThread({ path: connection.path, busyTimeoutMs: options.busyTimeoutMs, cacheMb: options.cacheMb })
      : undefined;
  return {
    kind: "sqlite",
    describe: () => `SQLite at ${connection.path === IN_MEMORY ? "memory (not persisted)" : connection.path}`,
    async init() {
      migrate(connection.db);
      connection.optimizeAtOpen();
    },
    async close() {
      // The readings already handed to the writer thread are stored before it stops.
      await readingWriter?.close();
      connection.close();
    },
    changeToken() {
      // total_changes() counts this connection's own writes, which data_version leaves out; data_version moves
      // when another connection (another process: the indexer, an API worker) commits.
      const row = connection.sql(CHANGE_TOKEN_SQL).get() as { own: number; others: number };
      return `${row.own}:${row.others}`;
    },
    ...createMirrorLog(connection),
    ...createProjectionReads(connection),
    ...createLeases(connection),
    ...createPassportRecords(connection),
    ...createRelayQueue(connection),
    ...createAuthNonces(connection),
    ...createRecallAcknowledgements(connection),
    ...createOrderReadGrants(connection),
    ...createDesignProofRecords(connection),
    ...createColdChainReads(connection),
    ...createColdChainReadings(connection, readingWriter),
    ...createReadingAnchorRecords(connection),
    ...createProductDataDocuments(connection),
    ...createBatchDocuments(connection),
    ...createProductDocuments(connection),
    ...createDocumentAnchorRecords(connection),
    ...createUnitOwnershipRecords(connection),
    ...createTransformationRecords(connection),
    ...createContainerReads(connection),
    async getTrackRecordTotals(addresses, asOf) {
      return readTrackRecordTotals(connection, addresses, asOf);
    },
  };
}
