/**
 * Passport records on SQLite: serial sets (gzip-compressed JSON, one row per set), scans and unit claims.
 */
import { gunzipSync, gzipSync } from "node:zlib";

import type { ScanStats, UnitClaim } from "../../domain/model.ts";
import type { PassportRecords } from "../port.ts";
import { documentOf, type SqliteConnection } from "./connection.ts";

export function createPassportRecords(connection: SqliteConnection): PassportRecords {
  const { sql } = connection;
  return {
    async putSerialSet(set) {
      const blob = gzipSync(JSON.stringify(set.serials), { level: 1 });
      sql(
        `INSERT INTO serial_sets (serial_root, serial_count, created_at, serials) VALUES (?, ?, ?, ?)
         ON CONFLICT (serial_root) DO NOTHING`,
      ).run(set.serialRoot, set.serials.length, set.createdAt, blob);
    },

    async getSerialSet(serialRoot) {
      const row = sql("SELECT created_at, serials FROM serial_sets WHERE serial_root = ?").get(serialRoot) as
        { created_at: number; serials: Uint8Array } | undefined;
      if (row === undefined) return null;
      const serials = JSON.parse(gunzipSync(row.serials).toString("utf8")) as string[];
      return { serialRoot, serials, createdAt: row.created_at };
    },

    async recordScan(scan) {
      sql("INSERT INTO scans (batch_id, serial, at, region) VALUES (?, ?, ?, ?)").run(scan.batchId, scan.serial, scan.at, scan.region);
    },

    async scanStats(batchId, serial, recentSinceMs): Promise<ScanStats> {
      return connection.read(() => {
        const totals = sql(
          `SELECT count(*) AS total, min(at) AS first_at, max(at) AS last_at,
                  coalesce(sum(at >= ?), 0) AS recent
           FROM scans WHERE batch_id = ? AND serial IS ?`,
        ).get(recentSinceMs, batchId, serial) as {
          total: number;
          first_at: number | null;
          last_at: number | null;
          recent: number;
        };
        const regions = sql(
          `SELECT region, count(*) AS n FROM scans WHERE batch_id = ? AND serial IS ?
           GROUP BY region ORDER BY n DESC, region ASC`,
        ).all(batchId, serial) as { region: string }[];
        return {
          total: Number(totals.total),
          regions: regions.map((row) => row.region),
          firstAt: totals.first_at,
          lastAt: totals.last_at,
          recent: Number(totals.recent),
        };
      });
    },

    async claimUnit(claim) {
      return connection.write(() => {
        sql("INSERT INTO unit_claims (batch_id, serial, doc) VALUES (?, ?, ?) ON CONFLICT (batch_id, serial) DO NOTHING").run(
          claim.batchId,
          claim.serial,
          JSON.stringify(claim),
        );
        return documentOf<UnitClaim>(
          sql("SELECT doc FROM unit_claims WHERE batch_id = ? AND serial = ?").get(claim.batchId, claim.serial),
        )!;
      });
    },

    async getUnitClaim(batchId, serial) {
      return documentOf<UnitClaim>(sql("SELECT doc FROM unit_claims WHERE batch_id = ? AND serial = ?").get(batchId, serial));
    },
  };
}
