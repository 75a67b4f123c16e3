/**
 * Batches, participants and orders on SQLite: written by the mirror log's commits (writeProjection), read by key
 * and as keyset-paginated lists. Each row holds the document whole as JSON (`doc`) next to the columns that
 * lists filter and sort on; the upserts keep those columns in step with the document.
 */
import type { SQLInputValue } from "node:sqlite";

import type { Batch, ClaimRoot, Hex, Order, Page, Participant, UnitToken } from "../../domain/model.ts";
import { checkPageLimit, encodeCursor, pageCursor, type CursorKind } from "../cursor.ts";
import type { BatchFilter, OrderFilter, PageRequest, ParticipantFilter, ProjectionReads } from "../port.ts";
import { documentOf, type SqliteConnection } from "./connection.ts";

/**
 * A range commit never lets an older document replace one that has seen a later event (`fresherOnly`), so a
 * stale writer (an indexer whose lease ran out mid-range) cannot undo newer state; a rollback writes as told.
 */
const staleGuard = (table: string, fresherOnly: boolean) => (fresherOnly ? ` WHERE ${table}.last_event_id <= excluded.last_event_id` : "");

/** Writes the batch unless a fresher one is stored; whether it was written. */
export function writeBatch(connection: SqliteConnection, batch: Batch, fresherOnly: boolean): boolean {
  const { changes } = connection
    .sql(
      `INSERT INTO batches (batch_id, gtin, lot, manufacturer, custodian, status, parent_id, registered_event_id, last_event_id, doc)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (batch_id) DO UPDATE SET gtin = excluded.gtin, lot = excluded.lot,
         manufacturer = excluded.manufacturer, custodian = excluded.custodian, status = excluded.status,
         parent_id = excluded.parent_id, registered_event_id = excluded.registered_event_id,
         last_event_id = excluded.last_event_id, doc = excluded.doc${staleGuard("batches", fresherOnly)}`,
    )
    .run(
      batch.batchId,
      batch.gtin,
      batch.lot,
      batch.manufacturer,
      batch.custodian,
      batch.status,
      batch.parentId,
      batch.registered.eventId,
      batch.lastEvent.eventId,
      JSON.stringify(batch),
    );
  return Number(changes) > 0;
}

export function writeParticipant(connection: SqliteConnection, participant: Participant, fresherOnly: boolean): void {
  const { sql } = connection;
  const { changes } = sql(
    `INSERT INTO participants (address, suspended, onboarded_event_id, last_event_id, doc) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (address) DO UPDATE SET suspended = excluded.suspended,
       onboarded_event_id = excluded.onboarded_event_id, last_event_id = excluded.last_event_id,
       doc = excluded.doc${staleGuard("participants", fresherOnly)}`,
  ).run(
    participant.address,
    participant.suspended ? 1 : 0,
    participant.onboarded.eventId,
    participant.lastEvent.eventId,
    JSON.stringify(participant),
  );
  if (Number(changes) === 0) return; // a fresher document is stored: keep its roles too
  sql("DELETE FROM participant_roles WHERE address = ?").run(participant.address);
  for (const role of new Set(participant.roles)) {
    sql("INSERT INTO participant_roles (role, address) VALUES (?, ?)").run(role, participant.address);
  }
}

/** Writes the order unless a fresher one is stored; whether it was written. */
export function writeOrder(connection: SqliteConnection, order: Order, fresherOnly: boolean): boolean {
  const { changes } = connection
    .sql(
      `INSERT INTO orders (order_id, buyer, seller, carrier, batch_id, state, opened_event_id, last_event_id, doc)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (order_id) DO UPDATE SET buyer = excluded.buyer, seller = excluded.seller,
         carrier = excluded.carrier, batch_id = excluded.batch_id, state = excluded.state,
         opened_event_id = excluded.opened_event_id, last_event_id = excluded.last_event_id,
         doc = excluded.doc${staleGuard("orders", fresherOnly)}`,
    )
    .run(
      order.orderId,
      order.buyer,
      order.seller,
      order.carrier,
      order.batchId,
      order.state,
      order.opened.eventId,
      order.lastEvent.eventId,
      JSON.stringify(order),
    );
  return Number(changes) > 0;
}

export function writeUnitToken(connection: SqliteConnection, token: UnitToken, fresherOnly: boolean): void {
  connection
    .sql(
      `INSERT INTO unit_tokens (token_id, batch_id, owner, last_event_id, doc) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (token_id) DO UPDATE SET batch_id = excluded.batch_id, owner = excluded.owner,
         last_event_id = excluded.last_event_id, doc = excluded.doc${staleGuard("unit_tokens", fresherOnly)}`,
    )
    .run(token.tokenId, token.batchId, token.owner, token.lastEvent.eventId, JSON.stringify(token));
}

/** A claim root is committed once; a replay writes the same document. */
export function writeClaimRoot(connection: SqliteConnection, root: ClaimRoot): void {
  connection
    .sql(
      `INSERT INTO claim_roots (batch_id, claim_root, doc) VALUES (?, ?, ?)
       ON CONFLICT (batch_id) DO UPDATE SET claim_root = excluded.claim_root, doc = excluded.doc`,
    )
    .run(root.batchId, root.claimRoot, JSON.stringify(root));
}

/** Removes ownership documents whose creating event a rollback undid. */
export function deleteOwnership(connection: SqliteConnection, keys: { tokenIds: string[]; claimRootBatchIds: Hex[] }): void {
  const { sql } = connection;
  for (const tokenId of keys.tokenIds) sql("DELETE FROM unit_tokens WHERE token_id = ?").run(tokenId);
  for (const batchId of keys.claimRootBatchIds) sql("DELETE FROM claim_roots WHERE batch_id = ?").run(batchId);
}

/** Removes projections whose creating event a rollback undid. */
export function deleteProjections(
  connection: SqliteConnection,
  keys: { batchIds: Hex[]; participantAddresses: Hex[]; orderIds: Hex[] },
): void {
  const { sql } = connection;
  for (const batchId of keys.batchIds) sql("DELETE FROM batches WHERE batch_id = ?").run(batchId);
  for (const address of keys.participantAddresses) {
    sql("DELETE FROM participant_roles WHERE address = ?").run(address);
    sql("DELETE FROM participants WHERE address = ?").run(address);
  }
  for (const orderId of keys.orderIds) sql("DELETE FROM orders WHERE order_id = ?").run(orderId);
}

/** A list's WHERE fragments (joined with AND) and their parameters, in the same order. */
class Conditions {
  readonly clauses: string[] = [];
  readonly params: SQLInputValue[] = [];

  /** Adds `clause` when `value` is given (every filter field is optional). */
  add(clause: string, value: SQLInputValue | undefined): this {
    if (value === undefined) return this;
    this.clauses.push(clause);
    this.params.push(value);
    return this;
  }
}

interface ProjectionList<T> {
  kind: Exclude<CursorKind, "events">;
  table: string;
  orderColumn: string;
  keyColumn: string;
  sortKeyOf: (document: T) => [string, string];
}

const BATCHES: ProjectionList<Batch> = {
  kind: "batches",
  table: "batches",
  orderColumn: "registered_event_id",
  keyColumn: "batch_id",
  sortKeyOf: (batch) => [batch.registered.eventId, batch.batchId],
};
const PARTICIPANTS: ProjectionList<Participant> = {
  kind: "participants",
  table: "participants",
  orderColumn: "onboarded_event_id",
  keyColumn: "address",
  sortKeyOf: (participant) => [participant.onboarded.eventId, participant.address],
};
const ORDERS: ProjectionList<Order> = {
  kind: "orders",
  table: "orders",
  orderColumn: "opened_event_id",
  keyColumn: "order_id",
  sortKeyOf: (order) => [order.opened.eventId, order.orderId],
};

/** One keyset page of a projection list sorted by (orderColumn, keyColumn). */
function pageOf<T>(connection: SqliteConnection, list: ProjectionList<T>, conditions: Conditions, page: PageRequest): Page<T> {
  const limit = checkPageLimit(page);
  const after = pageCursor(list.kind, page);
  const where = [...conditions.clauses];
  const values = [...conditions.params];
  if (after !== null) {
    where.push(`(${list.orderColumn}, ${list.keyColumn}) > (?, ?)`);
    values.push(after[0]!, after[1]!);
  }
  const rows = connection
    .sql(
      `SELECT doc FROM ${list.table} ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
       ORDER BY ${list.orderColumn}, ${list.keyColumn} LIMIT ?`,
    )
    .all(...values, limit + 1);
  const items = rows.slice(0, limit).map((row) => documentOf<T>(row)!);
  const last = items[items.length - 1];
  return {
    items,
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(list.kind, list.sortKeyOf(last)) : null,
  };
}

/** Documents by key, once each, in the order of first occurrence in `keys`; unknown keys are left out. */
export function getMany<T>(connection: SqliteConnection, table: string, keyColumn: string, keys: readonly string[]): T[] {
  const found: T[] = [];
  const statement = connection.sql(`SELECT doc FROM ${table} WHERE ${keyColumn} = ?`);
  connection.read(() => {
    for (const key of new Set(keys)) {
      const document = documentOf<T>(statement.get(key));
      if (document !== null) found.push(document);
    }
  });
  return found;
}

export function createProjectionReads(connection: SqliteConnection): ProjectionReads {
  const { sql } = connection;
  return {
    async getBatch(batchId) {
      return documentOf<Batch>(sql("SELECT doc FROM batches WHERE batch_id = ?").get(batchId));
    },

    async getBatches(batchIds) {
      return getMany<Batch>(connection, "batches", "batch_id", batchIds);
    },

    async listBatches(filter: BatchFilter, page: PageRequest) {
      const conditions = new Conditions()
        .add("gtin = ?", filter.gtin)
        .add("lot = ?", filter.lot)
        .add("manufacturer = ?", filter.manufacturer)
        .add("custodian = ?", filter.custodian)
        .add("status = ?", filter.status)
        .add("parent_id = ?", filter.parentId);
      return pageOf(connection, BATCHES, conditions, page);
    },

    async findBatchByGtinLot(gtin, lot) {
      return documentOf<Batch>(sql("SELECT doc FROM batches WHERE gtin = ? AND lot = ?").get(gtin, lot));
    },

    async getParticipant(address) {
      return documentOf<Participant>(sql("SELECT doc FROM participants WHERE address = ?").get(address));
    },

    async getParticipants(addresses) {
      return getMany<Participant>(connection, "participants", "address", addresses);
    },

    async listParticipants(filter: ParticipantFilter, page: PageRequest) {
      const conditions = new Conditions()
        .add("address IN (SELECT address FROM participant_roles WHERE role = ?)", filter.role)
        .add("suspended = ?", filter.suspended === undefined ? undefined : filter.suspended ? 1 : 0);
      return pageOf(connection, PARTICIPANTS, conditions, page);
    },

    async getOrder(orderId) {
      return documentOf<Order>(sql("SELECT doc FROM orders WHERE order_id = ?").get(orderId));
    },

    async getOrders(orderIds) {
      return getMany<Order>(connection, "orders", "order_id", orderIds);
    },

    async listOrders(filter: OrderFilter, page: PageRequest) {
      const conditions = new Conditions()
        .add("buyer = ?", filter.buyer)
        .add("seller = ?", filter.seller)
        .add("carrier = ?", filter.carrier)
        .add("batch_id = ?", filter.batchId)
        .add("state = ?", filter.state);
      return pageOf(connection, ORDERS, conditions, page);
    },
  };
}
