/**
 * Mirrored document anchors on SQLite: one row per event, written inside commitRange's transaction and deleted
 * above the fork inside rollback's (see mirror-log.ts); read by hash in chain order.
 */
import type { DocumentAnchorRecord } from "../../domain/model.ts";
import { MAX_DOCUMENT_ANCHORS_LISTED, type DocumentAnchorRecords } from "../port.ts";
import { documentOf, type SqliteConnection } from "./connection.ts";

/** Inserts the records unless their eventId is stored (call inside a write transaction). */
export function writeDocumentAnchors(connection: SqliteConnection, records: readonly DocumentAnchorRecord[]): void {
  const insert = connection.sql(
    `INSERT INTO document_anchors (event_id, chain_id, block_number, content_hash, doc) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (event_id) DO NOTHING`,
  );
  for (const record of records) {
    insert.run(record.eventId, record.chainId, record.blockNumber, record.contentHash, JSON.stringify(record));
  }
}

/** Deletes the records of `chainId` above `forkBlock` (call inside rollback's transaction). */
export function deleteDocumentAnchorsAboveFork(connection: SqliteConnection, chainId: number, forkBlock: number): void {
  connection.sql("DELETE FROM document_anchors WHERE chain_id = ? AND block_number > ?").run(chainId, forkBlock);
}

export function createDocumentAnchorRecords(connection: SqliteConnection): DocumentAnchorRecords {
  return {
    async listDocumentAnchors(contentHash) {
      return connection
        .sql("SELECT doc FROM document_anchors WHERE content_hash = ? ORDER BY event_id LIMIT ?")
        .all(String(contentHash).toLowerCase(), MAX_DOCUMENT_ANCHORS_LISTED)
        .map((row) => documentOf<DocumentAnchorRecord>(row)!);
    },
  };
}
