/** The anchorer's plans on SQLite (one row per leg and root, the first kept), and a leg's readings by range. */
import type { ReadingsAnchorPlan } from "../../domain/cold-chain.ts";
import type { ReadingAnchorRecords } from "../port.ts";
import { checkReadingRange } from "../reading-range.ts";
import { READING_COLUMNS, readingOf, type ReadingRow } from "./cold-chain.ts";
import { documentOf, type SqliteConnection } from "./connection.ts";

export function createReadingAnchorRecords(connection: SqliteConnection): ReadingAnchorRecords {
  const { sql } = connection;
  return {
    async putReadingsAnchorPlan(plan) {
      connection.write(() => {
        sql(
          `INSERT INTO reading_anchor_plans (leg_id, root, first_sequence, doc) VALUES (?, ?, ?, ?)
           ON CONFLICT (leg_id, root) DO NOTHING`,
        ).run(plan.legId, plan.root, plan.firstSequence, JSON.stringify(plan));
      });
    },

    async listReadingsAnchorPlans(legId) {
      return sql("SELECT doc FROM reading_anchor_plans WHERE leg_id = ? ORDER BY first_sequence, root")
        .all(legId)
        .map((row) => documentOf<ReadingsAnchorPlan>(row)!);
    },

    async listLegReadingRange(legId, fromSequence, toSequence, limit) {
      checkReadingRange(fromSequence, toSequence, limit);
      const rows = sql(
        `SELECT ${READING_COLUMNS} FROM readings WHERE leg_id = ? AND sequence >= ? AND sequence <= ? ORDER BY sequence LIMIT ?`,
      ).all(legId, fromSequence, toSequence, limit) as unknown as ReadingRow[];
      return rows.map(readingOf);
    },
  };
}
