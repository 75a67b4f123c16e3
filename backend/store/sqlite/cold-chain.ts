/**
 * The cold chain on SQLite: versioned projection documents and facts (written inside commitRange's transaction,
 * deleted above the fork by rollback's), and the readings time series.
 */
import type { SQLInputValue } from "node:sqlite";

import type {
  BatchColdChainConditions,
  ColdChainBreach,
  ColdChainChanges,
  ColdChainDevice,
  ColdChainLeg,
  ProductColdChainConditions,
  ReadingsAnchor,
  RejectionReason,
  StoredReading,
} from "../../domain/cold-chain.ts";
import type { Hex } from "../../domain/model.ts";
import { checkReadingFilter, cursorNumber } from "../reading-keys.ts";
import { checkPageLimit, encodeCursor, pageCursor } from "../cursor.ts";
import type { ColdChainReadings, ColdChainReads, StoredRejectedReading } from "../port.ts";
import { documentOf, type SqliteConnection } from "./connection.ts";
import type { ReadingWriter } from "./reading-writer.ts";
import { READING_COLUMNS, writeReadings } from "./reading-writes.ts";

export { READING_COLUMNS } from "./reading-writes.ts";

/** Inserts the versions and facts of one range; call inside the range's write transaction. */
export function writeColdChainChanges(connection: SqliteConnection, chainId: number, changes: ColdChainChanges): void {
  const { sql } = connection;
  for (const device of changes.devices) {
    sql(
      `INSERT INTO cold_devices (address, event_id, chain_id, block_number, doc) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT DO NOTHING`,
    ).run(device.address, device.lastEvent.eventId, chainId, device.lastEvent.blockNumber, JSON.stringify(device));
  }
  for (const leg of changes.legs) {
    sql(
      `INSERT INTO cold_legs (leg_id, event_id, chain_id, block_number, batch_id, device, attached_event_id, doc)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    ).run(
      leg.legId,
      leg.lastEvent.eventId,
      chainId,
      leg.lastEvent.blockNumber,
      leg.batchId,
      leg.device,
      leg.attached.eventId,
      JSON.stringify(leg),
    );
  }
  const insertConditions = sql(
    `INSERT INTO cold_conditions (subject, event_id, chain_id, block_number, doc) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  );
  for (const conditions of changes.batchConditions) {
    insertConditions.run(
      `b:${conditions.batchId}`,
      conditions.lastEvent.eventId,
      chainId,
      conditions.lastEvent.blockNumber,
      JSON.stringify(conditions),
    );
  }
  for (const conditions of changes.productConditions) {
    insertConditions.run(
      `g:${conditions.gtin}`,
      conditions.lastEvent.eventId,
      chainId,
      conditions.lastEvent.blockNumber,
      JSON.stringify(conditions),
    );
  }
  for (const anchor of changes.anchors) {
    sql(`INSERT INTO cold_anchors (event_id, chain_id, block_number, leg_id, doc) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`).run(
      anchor.at.eventId,
      chainId,
      anchor.at.blockNumber,
      anchor.legId,
      JSON.stringify(anchor),
    );
  }
  for (const breach of changes.breaches) {
    sql(
      `INSERT INTO cold_breaches (event_id, chain_id, block_number, batch_id, leg_id, doc) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT DO NOTHING`,
    ).run(breach.at.eventId, chainId, breach.at.blockNumber, breach.batchId, breach.legId, JSON.stringify(breach));
  }
}

const COLD_CHAIN_TABLES = ["cold_devices", "cold_legs", "cold_conditions", "cold_anchors", "cold_breaches"] as const;

/** Deletes what events above the fork made; call inside the rollback's write transaction. */
export function deleteColdChainAboveFork(connection: SqliteConnection, chainId: number, forkBlock: number): void {
  for (const table of COLD_CHAIN_TABLES)
    connection.sql(`DELETE FROM ${table} WHERE chain_id = ? AND block_number > ?`).run(chainId, forkBlock);
}

export function createColdChainReads(connection: SqliteConnection): ColdChainReads {
  const { sql } = connection;
  const latest = <T>(text: string, keys: readonly string[], prefix = ""): T[] =>
    connection.read(() => {
      const found: T[] = [];
      for (const key of new Set(keys)) {
        const document = documentOf<T>(sql(text).get(`${prefix}${key}`));
        if (document !== null) found.push(document);
      }
      return found;
    });
  return {
    async getColdChainDevices(addresses) {
      return latest<ColdChainDevice>("SELECT doc FROM cold_devices WHERE address = ? ORDER BY event_id DESC LIMIT 1", addresses);
    },
    async getColdChainLegs(legIds) {
      return latest<ColdChainLeg>("SELECT doc FROM cold_legs WHERE leg_id = ? ORDER BY event_id DESC LIMIT 1", legIds);
    },
    async listColdChainLegs(filter) {
      const where: string[] = ["l.event_id = (SELECT max(m.event_id) FROM cold_legs m WHERE m.leg_id = l.leg_id)"];
      const values: SQLInputValue[] = [];
      if (filter.batchId !== undefined) {
        where.push("l.batch_id = ?");
        values.push(filter.batchId);
      }
      if (filter.device !== undefined) {
        where.push("l.device = ?");
        values.push(filter.device);
      }
      return sql(`SELECT l.doc FROM cold_legs l WHERE ${where.join(" AND ")} ORDER BY l.attached_event_id, l.leg_id`)
        .all(...values)
        .map((row) => documentOf<ColdChainLeg>(row)!);
    },
    async getBatchConditions(batchIds) {
      return latest<BatchColdChainConditions>(
        "SELECT doc FROM cold_conditions WHERE subject = ? ORDER BY event_id DESC LIMIT 1",
        batchIds,
        "b:",
      );
    },
    async getProductConditions(gtins) {
      return latest<ProductColdChainConditions>(
        "SELECT doc FROM cold_conditions WHERE subject = ? ORDER BY event_id DESC LIMIT 1",
        gtins,
        "g:",
      );
    },
    async listReadingsAnchors(legId) {
      return sql("SELECT doc FROM cold_anchors WHERE leg_id = ? ORDER BY event_id")
        .all(legId)
        .map((row) => documentOf<ReadingsAnchor>(row)!);
    },
    async listColdChainBreaches(filter) {
      const where: string[] = [];
      const values: SQLInputValue[] = [];
      if (filter.batchId !== undefined) {
        where.push("batch_id = ?");
        values.push(filter.batchId);
      }
      if (filter.legId !== undefined) {
        where.push("leg_id = ?");
        values.push(filter.legId);
      }
      return sql(`SELECT doc FROM cold_breaches ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY event_id`)
        .all(...values)
        .map((row) => documentOf<ColdChainBreach>(row)!);
    },
  };
}

export interface ReadingRow {
  device: string;
  sequence: number;
  batch_id: string;
  leg_id: string;
  timestamp: number;
  temperature: number;
  humidity: number;
  latitude: number;
  longitude: number;
  signature: string;
  received_at: number;
}

export function readingOf(row: ReadingRow): StoredReading {
  return {
    device: row.device as Hex,
    batchId: row.batch_id as Hex,
    sequence: Number(row.sequence),
    timestamp: Number(row.timestamp),
    temperature: Number(row.temperature),
    humidity: Number(row.humidity),
    latitude: Number(row.latitude),
    longitude: Number(row.longitude),
    signature: row.signature as Hex,
    legId: row.leg_id as Hex,
    receivedAt: Number(row.received_at),
  };
}

/** `writer`: the readings' writer thread; absent, batches are written on `connection` (holding the event loop). */
export function createColdChainReadings(connection: SqliteConnection, writer?: ReadingWriter): ColdChainReadings {
  const { sql } = connection;
  return {
    async storeReadings(accepted, rejected) {
      if (accepted.length === 0 && rejected.length === 0) return { duplicates: [] };
      const positions = writer === undefined ? writeReadings(connection, accepted, rejected) : await writer.write(accepted, rejected);
      return { duplicates: positions.map((position) => accepted[position]!) };
    },

    async hasReading(device, sequence) {
      return sql("SELECT 1 AS found FROM readings WHERE device = ? AND sequence = ?").get(device, sequence) !== undefined;
    },

    async lastReadingSequences(devices) {
      const result = new Map<Hex, number>();
      const statement = sql("SELECT max(sequence) AS sequence FROM readings WHERE device = ?");
      for (const device of new Set(devices)) {
        const row = statement.get(device) as { sequence: number | null } | undefined;
        if (row?.sequence !== null && row?.sequence !== undefined) result.set(device, Number(row.sequence));
      }
      return result;
    },

    async listReadings(filter, page) {
      checkReadingFilter(filter);
      const limit = checkPageLimit(page);
      if (filter.batchId !== undefined) {
        const after = pageCursor("batchReadings", page);
        const rows = (after === null
          ? sql(`SELECT ${READING_COLUMNS} FROM readings WHERE batch_id = ? ORDER BY timestamp, device, sequence LIMIT ?`).all(
              filter.batchId,
              limit + 1,
            )
          : sql(
              `SELECT ${READING_COLUMNS} FROM readings WHERE batch_id = ? AND (timestamp, device, sequence) > (?, ?, ?)
                 ORDER BY timestamp, device, sequence LIMIT ?`,
            ).all(filter.batchId, cursorNumber(after[0]!), after[1]!, cursorNumber(after[2]!), limit + 1)) as unknown as ReadingRow[];
        const items = rows.slice(0, limit).map(readingOf);
        const last = items.at(-1);
        return {
          items,
          nextCursor:
            rows.length > limit && last !== undefined
              ? encodeCursor("batchReadings", [String(last.timestamp), last.device, String(last.sequence)])
              : null,
        };
      }
      const after = pageCursor("legReadings", page);
      const rows = sql(`SELECT ${READING_COLUMNS} FROM readings WHERE leg_id = ? AND sequence > ? ORDER BY sequence LIMIT ?`).all(
        filter.legId!,
        after === null ? -1 : cursorNumber(after[0]!),
        limit + 1,
      ) as unknown as ReadingRow[];
      const items = rows.slice(0, limit).map(readingOf);
      const last = items.at(-1);
      return {
        items,
        nextCursor: rows.length > limit && last !== undefined ? encodeCursor("legReadings", [String(last.sequence)]) : null,
      };
    },

    async countReadings(filter) {
      checkReadingFilter(filter);
      const row = (
        filter.batchId !== undefined
          ? sql("SELECT count(*) AS n FROM readings WHERE batch_id = ?").get(filter.batchId)
          : sql("SELECT count(*) AS n FROM readings WHERE leg_id = ?").get(filter.legId!)
      ) as { n: number };
      return Number(row.n);
    },

    async rejectionCounts() {
      const rows = sql("SELECT reason, count FROM rejection_counts ORDER BY reason").all() as { reason: RejectionReason; count: number }[];
      return Object.fromEntries(rows.map((row) => [row.reason, Number(row.count)]));
    },

    async listRejectedReadings(filter, page) {
      const limit = checkPageLimit(page);
      const after = pageCursor("rejectedReadings", page);
      const afterId = after === null ? 0 : cursorNumber(after[0]!);
      const rows = (
        filter.reason === undefined
          ? sql("SELECT id, doc FROM rejected_readings WHERE id > ? ORDER BY id LIMIT ?").all(afterId, limit + 1)
          : sql("SELECT id, doc FROM rejected_readings WHERE reason = ? AND id > ? ORDER BY id LIMIT ?").all(
              filter.reason,
              afterId,
              limit + 1,
            )
      ) as { id: number; doc: string }[];
      const items: StoredRejectedReading[] = rows
        .slice(0, limit)
        .map((row) => ({ ...documentOf(row)!, id: String(row.id) }) as StoredRejectedReading);
      const last = items.at(-1);
      return { items, nextCursor: rows.length > limit && last !== undefined ? encodeCursor("rejectedReadings", [last.id]) : null };
    },
  };
}
