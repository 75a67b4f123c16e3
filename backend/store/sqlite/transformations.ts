/**
 * Transformations (merges) on SQLite: each document whole in `transformations`, and one `transformation_lots` row
 * per input ('i') and output ('o') lot, so "what was this lot consumed in" and "what made this lot" are index
 * lookups. Written by the mirror log's commits (same transaction as the range), read here.
 */
import { invalidInput } from "../../domain/errors.ts";
import type { Hex, Transformation } from "../../domain/model.ts";
import { MAX_TRANSFORMATION_LOTS, type TransformationRecords } from "../port.ts";
import { documentOf, type SqliteConnection } from "./connection.ts";
import { getMany } from "./projections.ts";

/** A range commit keeps a stored document that has seen a later event; a rollback writes as told. */
export function writeTransformation(connection: SqliteConnection, transformation: Transformation, fresherOnly: boolean): void {
  const { sql } = connection;
  const { changes } = sql(
    `INSERT INTO transformations (transformation_id, recorded_event_id, last_event_id, doc) VALUES (?, ?, ?, ?)
     ON CONFLICT (transformation_id) DO UPDATE SET recorded_event_id = excluded.recorded_event_id,
       last_event_id = excluded.last_event_id, doc = excluded.doc
       ${fresherOnly ? "WHERE transformations.last_event_id <= excluded.last_event_id" : ""}`,
  ).run(transformation.transformationId, transformation.recorded.eventId, transformation.lastEvent.eventId, JSON.stringify(transformation));
  if (Number(changes) === 0) return; // a fresher document is stored, with the same lots (they never change)
  sql("DELETE FROM transformation_lots WHERE transformation_id = ?").run(transformation.transformationId);
  const insertLot = sql("INSERT OR IGNORE INTO transformation_lots (batch_id, role, transformation_id) VALUES (?, ?, ?)");
  for (const input of transformation.inputs) insertLot.run(input.batchId, "i", transformation.transformationId);
  for (const outputId of transformation.outputIds) insertLot.run(outputId, "o", transformation.transformationId);
}

/** Removes transformations whose recording a rollback undid. */
export function deleteTransformations(connection: SqliteConnection, transformationIds: readonly string[]): void {
  const { sql } = connection;
  for (const transformationId of transformationIds) {
    sql("DELETE FROM transformation_lots WHERE transformation_id = ?").run(transformationId);
    sql("DELETE FROM transformations WHERE transformation_id = ?").run(transformationId);
  }
}

export function createTransformationRecords(connection: SqliteConnection): TransformationRecords {
  const { sql } = connection;

  function byLots(batchIds: Hex[], role: "i" | "o", what: string): Transformation[] {
    const distinct = [...new Set(batchIds)];
    if (distinct.length > MAX_TRANSFORMATION_LOTS) {
      throw invalidInput(`${what} takes at most ${MAX_TRANSFORMATION_LOTS} lots, got ${distinct.length}`);
    }
    // One statement for the whole list: each lot one primary-key lookup on (batch_id, role), CROSS JOIN keeping the
    // list as the outer loop; then each transformation's document once, however many of the lots it holds (the
    // inputs of a 100-input merge would otherwise copy its document out of SQLite 100 times).
    const rows = sql(
      `SELECT t.doc FROM transformations t WHERE t.transformation_id IN (
         SELECT l.transformation_id FROM json_each(?) j CROSS JOIN transformation_lots l ON l.batch_id = j.value AND l.role = ?)
       ORDER BY t.recorded_event_id`,
    ).all(JSON.stringify(distinct), role);
    return rows.map((row) => documentOf<Transformation>(row)!);
  }

  return {
    async getTransformation(transformationId) {
      return documentOf<Transformation>(sql("SELECT doc FROM transformations WHERE transformation_id = ?").get(transformationId));
    },

    async getTransformations(transformationIds) {
      return getMany<Transformation>(connection, "transformations", "transformation_id", transformationIds);
    },

    async findTransformationsConsuming(batchIds) {
      return byLots(batchIds, "i", "findTransformationsConsuming");
    },

    async findTransformationsProducing(batchIds) {
      return byLots(batchIds, "o", "findTransformationsProducing");
    },
  };
}
