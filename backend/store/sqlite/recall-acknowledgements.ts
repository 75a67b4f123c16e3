/**
 * Recall acknowledgements on SQLite: one whole document per (batch, holder); the first one stays.
 */
import type { RecallAcknowledgement } from "../../domain/model.ts";
import type { RecallAcknowledgements } from "../port.ts";
import { documentOf, type SqliteConnection } from "./connection.ts";

export function createRecallAcknowledgements(connection: SqliteConnection): RecallAcknowledgements {
  const { sql } = connection;
  return {
    async putRecallAcknowledgement(acknowledgement) {
      if (
        typeof acknowledgement?.batchId !== "string" ||
        typeof acknowledgement.holder !== "string" ||
        !Number.isFinite(acknowledgement.acknowledgedAt)
      ) {
        throw new TypeError("SQLite store: a recall acknowledgement needs batchId, holder and a finite acknowledgedAt");
      }
      return connection.write(() => {
        sql(
          `INSERT INTO recall_acknowledgements (batch_id, holder, acknowledged_at, doc) VALUES (?, ?, ?, ?)
           ON CONFLICT (batch_id, holder) DO NOTHING`,
        ).run(acknowledgement.batchId, acknowledgement.holder, acknowledgement.acknowledgedAt, JSON.stringify(acknowledgement));
        return documentOf<RecallAcknowledgement>(
          sql("SELECT doc FROM recall_acknowledgements WHERE batch_id = ? AND holder = ?").get(
            acknowledgement.batchId,
            acknowledgement.holder,
          ),
        )!;
      });
    },

    async listRecallAcknowledgements(batchId) {
      return sql("SELECT doc FROM recall_acknowledgements WHERE batch_id = ? ORDER BY acknowledged_at, holder")
        .all(batchId)
        .map((row) => documentOf<RecallAcknowledgement>(row)!);
    },
  };
}
