/**
 * Track records on SQLite (backend/reputation/track-record.ts): each written order's and lot's contribution is kept in
 * `track_record_sources`, and the difference a write makes is added to the participants' totals in `track_records`
 * within the same transaction as the document itself, so totals and documents never disagree, whatever writes,
 * replays or rollbacks came before. Open orders' deadlines and recalled lots are rows counted at read time.
 */
import type { DatabaseSync } from "node:sqlite";

import type { Batch, Hex, Order } from "../../domain/model.ts";
import {
  addCounters,
  contributionDelta,
  decodeContribution,
  encodeContribution,
  lotContribution,
  noContribution,
  orderContribution,
  splitRootOf,
  zeroCounters,
  type TrackRecordContribution,
  type TrackRecordCounters,
  type TrackRecordTotals,
} from "../../reputation/track-record.ts";
import { statementCache, type SqliteConnection } from "./connection.ts";

type Statement = (text: string) => ReturnType<DatabaseSync["prepare"]>;

const EMPTY = encodeContribution(noContribution());

export const batchSourceKey = (batchId: Hex) => `b:${batchId}`;
export const orderSourceKey = (orderId: Hex) => `o:${orderId}`;

/** A stored lot's contribution, its split root read from the batches already stored. */
function lotContributionFrom(sql: Statement, batch: Batch): TrackRecordContribution {
  const rootId =
    batch.recall === null
      ? null
      : splitRootOf(batch, (batchId) => {
          const row = sql("SELECT parent_id FROM batches WHERE batch_id = ?").get(batchId) as { parent_id: Hex | null } | undefined;
          return row === undefined ? undefined : row.parent_id;
        });
  return lotContribution(batch, rootId);
}

/**
 * The track-record writes of one transaction: sources, open deadlines and recalls are written at once, the totals'
 * differences are summed and written by `flush` (one row per participant, however many documents named it).
 */
export interface TrackRecordWrites {
  /** After a batch document was written. */
  lot(batch: Batch): void;
  /** After an order document was written. */
  order(order: Order): void;
  /** After a batch or order document was deleted (a rollback). */
  forget(key: string): void;
  /** Adds the summed differences to the totals; call before the transaction commits. */
  flush(): void;
}

export function trackRecordWrites(sql: Statement): TrackRecordWrites {
  const pending = new Map<Hex, Partial<TrackRecordCounters>>();

  function set(key: string, contribution: TrackRecordContribution): void {
    const encoded = encodeContribution(contribution);
    const stored = sql("SELECT contribution FROM track_record_sources WHERE key = ?").get(key) as { contribution: string } | undefined;
    if ((stored?.contribution ?? EMPTY) === encoded) return;
    const previous = decodeContribution(stored?.contribution);
    for (const [participant, delta] of contributionDelta(previous, contribution)) {
      const sum = pending.get(participant) ?? {};
      for (const [counter, value] of Object.entries(delta) as [keyof TrackRecordCounters, number][])
        sum[counter] = (sum[counter] ?? 0) + value;
      pending.set(participant, sum);
    }
    if (previous.openDeadlines.length > 0) sql("DELETE FROM track_record_open_deadlines WHERE source_key = ?").run(key);
    for (const { participant, role, deadline } of contribution.openDeadlines) {
      sql("INSERT OR IGNORE INTO track_record_open_deadlines (participant, role, deadline, source_key) VALUES (?, ?, ?, ?)").run(
        participant,
        role,
        deadline,
        key,
      );
    }
    if (previous.recall !== null) sql("DELETE FROM track_record_recalls WHERE source_key = ?").run(key);
    if (contribution.recall !== null) {
      sql("INSERT INTO track_record_recalls (source_key, manufacturer, root_id) VALUES (?, ?, ?)").run(
        key,
        contribution.recall.manufacturer,
        contribution.recall.rootId,
      );
    }
    if (encoded === EMPTY) sql("DELETE FROM track_record_sources WHERE key = ?").run(key);
    else {
      sql(
        "INSERT INTO track_record_sources (key, contribution) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET contribution = excluded.contribution",
      ).run(key, encoded);
    }
  }

  return {
    lot: (batch) => set(batchSourceKey(batch.batchId), lotContributionFrom(sql, batch)),
    order: (order) => set(orderSourceKey(order.orderId), orderContribution(order)),
    forget: (key) => set(key, noContribution()),
    flush() {
      for (const [participant, delta] of pending) {
        if (Object.values(delta).every((value) => value === 0)) continue;
        const row = sql("SELECT counters FROM track_records WHERE participant = ?").get(participant) as { counters: string } | undefined;
        const counters = addCounters(storedCounters(row?.counters), delta);
        sql(
          "INSERT INTO track_records (participant, counters) VALUES (?, ?) ON CONFLICT (participant) DO UPDATE SET counters = excluded.counters",
        ).run(participant, JSON.stringify(counters));
      }
      pending.clear();
    },
  };
}

function storedCounters(encoded: string | undefined): TrackRecordCounters {
  return encoded === undefined ? zeroCounters() : { ...zeroCounters(), ...(JSON.parse(encoded) as Partial<TrackRecordCounters>) };
}

/** The totals of each of `addresses` (zeros for one with no record), with open orders counted as of `asOf`. */
export function readTrackRecordTotals(connection: SqliteConnection, addresses: readonly Hex[], asOf: number): Map<Hex, TrackRecordTotals> {
  const { sql } = connection;
  return connection.read(() => {
    const totals = new Map<Hex, TrackRecordTotals>();
    for (const address of addresses) {
      const row = sql("SELECT counters FROM track_records WHERE participant = ?").get(address) as { counters: string } | undefined;
      const lateAs = (role: "seller" | "carrier") =>
        Number(
          (
            sql("SELECT count(*) AS n FROM track_record_open_deadlines WHERE participant = ? AND role = ? AND deadline < ?").get(
              address,
              role,
              asOf,
            ) as { n: number }
          ).n,
        );
      const recalled = sql("SELECT count(DISTINCT root_id) AS n FROM track_record_recalls WHERE manufacturer = ?").get(address) as {
        n: number;
      };
      totals.set(address, {
        counters: storedCounters(row?.counters),
        lateOpenOrders: { seller: lateAs("seller"), carrier: lateAs("carrier") },
        recalledLots: Number(recalled.n),
      });
    }
    return totals;
  });
}

/**
 * Fills the track-record tables from the documents already stored (migration 16 on a store mirrored before it):
 * the same contributions a fresh mirror would have written, so a store keeps one rule for old and new documents.
 */
export function backfillTrackRecords(db: DatabaseSync): void {
  const writes = trackRecordWrites(statementCache(db).sql);
  for (const row of db.prepare("SELECT doc FROM batches").iterate() as Iterable<{ doc: string }>) writes.lot(JSON.parse(row.doc) as Batch);
  for (const row of db.prepare("SELECT doc FROM orders").iterate() as Iterable<{ doc: string }>) writes.order(JSON.parse(row.doc) as Order);
  writes.flush();
}
