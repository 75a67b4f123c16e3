/**
 * The relay queue on SQLite: each request stored whole as JSON next to the columns the queue is read by.
 */
import type { RelayRequest } from "../../domain/model.ts";
import type { RelayQueue } from "../port.ts";
import { documentOf, type SqliteConnection } from "./connection.ts";

export function createRelayQueue(connection: SqliteConnection): RelayQueue {
  const { sql } = connection;
  return {
    async enqueueRelay(request) {
      return connection.write(() => {
        const { changes } = sql("INSERT INTO relays (id, status, created_at, doc) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING").run(
          request.id,
          request.status,
          request.createdAt,
          JSON.stringify(request),
        );
        const stored = documentOf<RelayRequest>(sql("SELECT doc FROM relays WHERE id = ?").get(request.id))!;
        return { request: stored, created: Number(changes) > 0 };
      });
    },

    async getRelay(id) {
      return documentOf<RelayRequest>(sql("SELECT doc FROM relays WHERE id = ?").get(id));
    },

    async listRelays(statuses, limit) {
      if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`listRelays limit must be a positive integer, got ${limit}`);
      if (statuses.length === 0) return [];
      const rows = sql(
        `SELECT doc FROM relays WHERE status IN (${statuses.map(() => "?").join(", ")})
         ORDER BY created_at, id LIMIT ?`,
      ).all(...statuses, limit);
      return rows.map((row) => documentOf<RelayRequest>(row)!);
    },

    async updateRelay(id, expected, patch) {
      return connection.write(() => {
        const row = sql("SELECT status, doc FROM relays WHERE id = ?").get(id) as { status: string; doc: string } | undefined;
        if (row === undefined || row.status !== expected) return false;
        const updated: RelayRequest = { ...(JSON.parse(row.doc) as RelayRequest) };
        for (const [field, value] of Object.entries(patch)) {
          if (value !== undefined && field !== "id") (updated as unknown as Record<string, unknown>)[field] = value;
        }
        sql("UPDATE relays SET status = ?, created_at = ?, doc = ? WHERE id = ?").run(
          updated.status,
          updated.createdAt,
          JSON.stringify(updated),
          id,
        );
        return true;
      });
    },
  };
}
