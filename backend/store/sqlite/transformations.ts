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
    // One statement for the whole list (json_each), each lot an index lookup on (batch_id, role).
    const rows = sql(
      `SELECT t.transformation_id, t.recorded_event_id, t.doc FROM transformation_lots l
       JOIN transformations t ON t.transformation_id = l.transformation_id
       WHERE l.batch_id IN (SELECT value FROM json_each(?)) AND l.role = ?`,
    ).all(JSON.stringify(distinct), role) as { transformation_id: string; recorded_event_id: string; doc: string }[];
    // A merge reached through several of its lots is parsed once.
    const found = new Map<string, { recorded: string; document: Transformation }>();
    for (const row of rows) {
      if (!found.has(row.transformation_id))
        found.set(row.transformation_id, { recorded: row.recorded_event_id, document: documentOf<Transformation>(row)! });
    }
    return [...found.values()]
      .sort((a, b) => (a.recorded < b.recorded ? -1 : a.recorded > b.recorded ? 1 : 0))
      .map((entry) => entry.document);
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
