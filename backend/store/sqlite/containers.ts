/**
 * LogisticUnits containers on SQLite: written by the mirror log's commits, read by SSCC and as keyset-paginated
 * lists. `container_batches` holds one row per batch a container holds directly, kept in step with the document,
 * so "which container holds this batch" is one index lookup however large the containers are.
 */
import type { SQLInputValue } from "node:sqlite";

import type { Container, Page } from "../../domain/model.ts";
import { checkPageLimit, encodeCursor, pageCursor } from "../cursor.ts";
import type { ContainerFilter, ContainerReads, PageRequest } from "../port.ts";
import { documentOf, type SqliteConnection } from "./connection.ts";
import { getMany } from "./projections.ts";

/** Writes a container; with `fresherOnly`, a stored one that has seen a later event stays (and so do its rows). */
export function writeContainer(connection: SqliteConnection, container: Container, fresherOnly: boolean): void {
  const { sql } = connection;
  const { changes } = sql(
    `INSERT INTO containers (sscc, custodian, parent_sscc, created_event_id, last_event_id, doc) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (sscc) DO UPDATE SET custodian = excluded.custodian, parent_sscc = excluded.parent_sscc,
       created_event_id = excluded.created_event_id, last_event_id = excluded.last_event_id,
       doc = excluded.doc${fresherOnly ? " WHERE containers.last_event_id <= excluded.last_event_id" : ""}`,
  ).run(
    container.sscc,
    container.custodian,
    container.parentSscc,
    container.created.eventId,
    container.lastEvent.eventId,
    JSON.stringify(container),
  );
  if (Number(changes) === 0) return;
  sql("DELETE FROM container_batches WHERE sscc = ?").run(container.sscc);
  const insert = sql("INSERT OR IGNORE INTO container_batches (batch_id, sscc) VALUES (?, ?)");
  for (const batchId of container.batchIds) insert.run(batchId, container.sscc);
}

export function deleteContainers(connection: SqliteConnection, ssccs: readonly string[]): void {
  const { sql } = connection;
  for (const sscc of ssccs) {
    sql("DELETE FROM container_batches WHERE sscc = ?").run(sscc);
    sql("DELETE FROM containers WHERE sscc = ?").run(sscc);
  }
}

export function createContainerReads(connection: SqliteConnection): ContainerReads {
  const { sql } = connection;

  const list = (filter: ContainerFilter, page: PageRequest): Page<Container> => {
    const limit = checkPageLimit(page);
    const after = pageCursor("containers", page);
    const where: string[] = [];
    const values: SQLInputValue[] = [];
    if (filter.custodian !== undefined) {
      where.push("custodian = ?");
      values.push(filter.custodian);
    }
    if (filter.parentSscc === null) where.push("parent_sscc IS NULL");
    else if (filter.parentSscc !== undefined) {
      where.push("parent_sscc = ?");
      values.push(filter.parentSscc);
    }
    if (filter.batchId !== undefined) {
      where.push("sscc IN (SELECT sscc FROM container_batches WHERE batch_id = ?)");
      values.push(filter.batchId);
    }
    if (after !== null) {
      where.push("(created_event_id, sscc) > (?, ?)");
      values.push(after[0]!, after[1]!);
    }
    const rows = sql(
      `SELECT doc FROM containers ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
       ORDER BY created_event_id, sscc LIMIT ?`,
    ).all(...values, limit + 1);
    const items = rows.slice(0, limit).map((row) => documentOf<Container>(row)!);
    const last = items[items.length - 1];
    return {
      items,
      nextCursor: rows.length > limit && last !== undefined ? encodeCursor("containers", [last.created.eventId, last.sscc]) : null,
    };
  };

  return {
    async getContainer(sscc) {
      return documentOf<Container>(sql("SELECT doc FROM containers WHERE sscc = ?").get(sscc));
    },
    async getContainers(ssccs) {
      return getMany<Container>(connection, "containers", "sscc", ssccs);
    },
    async listContainers(filter, page) {
      return list(filter, page);
    },
    async findContainerHoldingBatch(batchId) {
      return documentOf<Container>(
        sql(
          `SELECT c.doc FROM container_batches b JOIN containers c ON c.sscc = b.sscc
           WHERE b.batch_id = ? ORDER BY c.last_event_id DESC LIMIT 1`,
        ).get(batchId),
      );
    },
  };
}
