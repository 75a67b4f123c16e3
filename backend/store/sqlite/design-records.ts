/**
 * DesignRegistry records on SQLite: one row per event, written inside commitRange's transaction and deleted
 * above the fork inside rollback's (see mirror-log.ts); reads in chain order.
 */
import type { DesignLinkChange, DesignRegistration } from "../../domain/model.ts";
import type { DesignProofRecords } from "../port.ts";
import { documentOf, type SqliteConnection } from "./connection.ts";

/** Inserts the records unless their eventId is stored (call inside a write transaction). */
export function writeDesignRecords(
  connection: SqliteConnection,
  registrations: readonly DesignRegistration[],
  linkChanges: readonly DesignLinkChange[],
): void {
  const { sql } = connection;
  const insertRegistration = sql(
    `INSERT INTO design_registrations (event_id, chain_id, block_number, root, doc) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (event_id) DO NOTHING`,
  );
  for (const record of registrations) {
    insertRegistration.run(record.eventId, record.chainId, record.blockNumber, record.root, JSON.stringify(record));
  }
  const insertLinkChange = sql(
    `INSERT INTO design_link_changes (event_id, chain_id, block_number, gtin, doc) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (event_id) DO NOTHING`,
  );
  for (const record of linkChanges) {
    insertLinkChange.run(record.eventId, record.chainId, record.blockNumber, record.gtin, JSON.stringify(record));
  }
}

/** Deletes the records of `chainId` above `forkBlock` (call inside rollback's transaction). */
export function deleteDesignRecordsAboveFork(connection: SqliteConnection, chainId: number, forkBlock: number): void {
  connection.sql("DELETE FROM design_registrations WHERE chain_id = ? AND block_number > ?").run(chainId, forkBlock);
  connection.sql("DELETE FROM design_link_changes WHERE chain_id = ? AND block_number > ?").run(chainId, forkBlock);
}

export function createDesignProofRecords(connection: SqliteConnection): DesignProofRecords {
  const { sql } = connection;
  return {
    async listDesignRegistrations(root) {
      return sql("SELECT doc FROM design_registrations WHERE root = ? ORDER BY event_id")
        .all(root)
        .map((row) => documentOf<DesignRegistration>(row)!);
    },

    async listDesignLinkChanges(gtin) {
      return sql("SELECT doc FROM design_link_changes WHERE gtin = ? ORDER BY event_id")
        .all(gtin)
        .map((row) => documentOf<DesignLinkChange>(row)!);
    },
  };
}
