/**
 * Single-writer leases on SQLite: one statement each, so the compare and the set cannot be separated.
 */
import type { Leases } from "../port.ts";
import type { SqliteConnection } from "./connection.ts";

export function createLeases(connection: SqliteConnection): Leases {
  const { sql } = connection;
  return {
    async acquireLease(name, holder, ttlMs) {
      if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new RangeError(`Lease ttlMs must be a positive number, got ${ttlMs}`);
      const now = Date.now();
      const { changes } = sql(
        `INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
         WHERE leases.holder = excluded.holder OR leases.expires_at <= ?`,
      ).run(name, holder, now + ttlMs, now);
      return Number(changes) > 0;
    },

    async releaseLease(name, holder) {
      sql("DELETE FROM leases WHERE name = ? AND holder = ?").run(name, holder);
    },

    async readLease(name) {
      const row = sql("SELECT holder, expires_at FROM leases WHERE name = ?").get(name) as
        { holder: string; expires_at: number | bigint } | undefined;
      return row === undefined ? null : { holder: row.holder, expiresAt: Number(row.expires_at) };
    },
  };
}
