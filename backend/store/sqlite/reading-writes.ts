/**
 * The readings' write transaction, shared by the store's own connection (":memory:" stores, or where no thread is
 * wanted) and the writer thread (reading-writer-thread.ts), so both store exactly the same rows.
 *
 * Loaded in a worker thread too: it and everything it imports must load as plain ESM under Node's type stripping.
 */
import type { RejectedReading, RejectionReason, StoredReading } from "../../domain/cold-chain.ts";
import type { SqliteConnection } from "./connection.ts";

export const READING_COLUMNS =
  "device, sequence, batch_id, leg_id, timestamp, temperature, humidity, latitude, longitude, signature, received_at";

/**
 * Inserts a batch of accepted and rejected readings in one write transaction (nothing of it stays if it throws).
 * Returns the positions in `accepted` of readings whose (device, sequence) was already stored: those are not written.
 */
export function writeReadings(connection: SqliteConnection, accepted: StoredReading[], rejected: RejectedReading[]): number[] {
  return connection.write(() => insertReadings(connection, accepted, rejected));
}

/** writeReadings' inserts, inside a write transaction the caller holds. */
export function insertReadings(connection: SqliteConnection, accepted: StoredReading[], rejected: RejectedReading[]): number[] {
  const { sql } = connection;
  const duplicates: number[] = [];
  const insert = sql(`INSERT INTO readings (${READING_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`);
  accepted.forEach((reading, position) => {
    const { changes } = insert.run(
      reading.device,
      reading.sequence,
      reading.batchId,
      reading.legId,
      reading.timestamp,
      reading.temperature,
      reading.humidity,
      reading.latitude,
      reading.longitude,
      reading.signature,
      reading.receivedAt,
    );
    if (Number(changes) === 0) duplicates.push(position);
  });
  const insertRejected = sql("INSERT INTO rejected_readings (reason, received_at, doc) VALUES (?, ?, ?)");
  const counts = new Map<RejectionReason, number>();
  for (const reading of rejected) {
    insertRejected.run(reading.reason, reading.receivedAt, JSON.stringify(reading));
    counts.set(reading.reason, (counts.get(reading.reason) ?? 0) + 1);
  }
  const count = sql(
    "INSERT INTO rejection_counts (reason, count) VALUES (?, ?) ON CONFLICT (reason) DO UPDATE SET count = count + excluded.count",
  );
  for (const [reason, n] of counts) count.run(reason, n);
  return duplicates;
}
