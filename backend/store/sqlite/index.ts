/**
 * The embedded store: MirrorStore on Node's built-in `node:sqlite` (no native build, no server).
 * One durable file in WAL mode (readers never block the writer), a busy timeout so several processes can share
 * it, and one IMMEDIATE transaction per write method, which makes commitRange and rollback atomic.
 *
 * node:sqlite is synchronous: each method runs to completion before the next starts, so within a process no two
 * calls interleave; across processes the write lock taken by BEGIN IMMEDIATE serialises them.
 */
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import { gunzipSync, gzipSync } from "node:zlib";

import type { BatchFilter, EventFilter, MirrorStore, OrderFilter, PageRequest, ParticipantFilter, RangeCommit, RollbackCommit } from "../port.ts";
import type { RelayRequest, RelayStatus, ScanRecord, ScanStats, SerialSet, UnitClaim } from "../../domain/model.ts";
import type { Batch, ChainEvent, Checkpoint, Hex, IndexedBlock, Order, Page, Participant } from "../../domain/model.ts";
import { checkPageLimit, encodeCursor, pageCursor, type CursorKind } from "../cursor.ts";
import { migrate } from "./schema.ts";

export const DEFAULT_SQLITE_PATH = "data/provena.db";
const MEMORY = ":memory:";

export interface SqliteStoreOptions {
  /** Database file (directories are created), or ":memory:" for a private in-memory store. */
  path?: string;
  /** How long a write waits for another process's write lock before failing, in ms. */
  busyTimeoutMs?: number;
}

/** How many mirrored events between refreshes of the query planner's statistics. */
const OPTIMIZE_EVERY_EVENTS = 5_000;

export function createSqliteStore(options: SqliteStoreOptions = {}): MirrorStore {
  const path = options.path ?? DEFAULT_SQLITE_PATH;
  const inMemory = path === MEMORY;
  if (!inMemory) mkdirSync(dirname(resolve(path)), { recursive: true });

  const db = new DatabaseSync(path, { timeout: options.busyTimeoutMs ?? 5_000 });
  if (!inMemory) db.exec("PRAGMA journal_mode = WAL");
  // FULL: a commit survives power loss too; the relay queue promises durability before it answers 202.
  db.exec("PRAGMA synchronous = FULL");

  const statements = new Map<string, StatementSync>();
  const sql = (text: string): StatementSync => {
    let statement = statements.get(text);
    if (statement === undefined) {
      statement = db.prepare(text);
      statements.set(text, statement);
    }
    return statement;
  };

  /** Runs `work` as one write transaction; nothing of it stays if it throws. */
  const write = <T>(work: () => T): T => {
    db.exec("BEGIN IMMEDIATE");
    try {
      const result = work();
      db.exec("COMMIT");
      return result;
    } catch (error) {
      if (db.isTransaction) db.exec("ROLLBACK");
      throw error;
    }
  };

  /** Runs `work` in one read transaction, so a multi-statement read sees one snapshot. */
  const read = <T>(work: () => T): T => {
    db.exec("BEGIN");
    try {
      return work();
    } finally {
      if (db.isTransaction) db.exec("COMMIT");
    }
  };

  // --- projections: upserts keep the indexed columns in step with the JSON document ---
  // A range commit never lets an older document replace one that has seen a later event (`fresherOnly`), so a
  // stale writer (an indexer whose lease ran out mid-range) cannot undo newer state; a rollback writes as told.

  const staleGuard = (table: string, fresherOnly: boolean) =>
    fresherOnly ? ` WHERE ${table}.last_event_id <= excluded.last_event_id` : "";

  const putBatch = (batch: Batch, fresherOnly: boolean) => {
    sql(
      `INSERT INTO batches (batch_id, gtin, lot, manufacturer, custodian, status, parent_id, registered_event_id, last_event_id, doc)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (batch_id) DO UPDATE SET gtin = excluded.gtin, lot = excluded.lot,
         manufacturer = excluded.manufacturer, custodian = excluded.custodian, status = excluded.status,
         parent_id = excluded.parent_id, registered_event_id = excluded.registered_event_id,
         last_event_id = excluded.last_event_id, doc = excluded.doc${staleGuard("batches", fresherOnly)}`,
    ).run(
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
  };

  const putParticipant = (participant: Participant, fresherOnly: boolean) => {
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
  };

  const putOrder = (order: Order, fresherOnly: boolean) => {
    sql(
      `INSERT INTO orders (order_id, buyer, seller, carrier, batch_id, state, opened_event_id, last_event_id, doc)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (order_id) DO UPDATE SET buyer = excluded.buyer, seller = excluded.seller,
         carrier = excluded.carrier, batch_id = excluded.batch_id, state = excluded.state,
         opened_event_id = excluded.opened_event_id, last_event_id = excluded.last_event_id,
         doc = excluded.doc${staleGuard("orders", fresherOnly)}`,
    ).run(
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
  };

  const putBlock = (block: IndexedBlock) => {
    sql(
      `INSERT INTO blocks (chain_id, number, hash, parent_hash, timestamp) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (chain_id, number) DO UPDATE SET hash = excluded.hash, parent_hash = excluded.parent_hash,
         timestamp = excluded.timestamp`,
    ).run(block.chainId, block.number, block.hash, block.parentHash, block.timestamp);
  };

  const putCheckpoint = (chainId: number, checkpoint: Checkpoint) => {
    sql(
      `INSERT INTO checkpoints (chain_id, block_number, block_hash, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (chain_id) DO UPDATE SET block_number = excluded.block_number,
         block_hash = excluded.block_hash, updated_at = excluded.updated_at`,
    ).run(chainId, checkpoint.blockNumber, checkpoint.blockHash, checkpoint.updatedAt);
  };

  const insertEvent = (event: ChainEvent) => {
    const { changes } = sql(
      `INSERT INTO events (id, chain_id, block_number, transaction_hash, contract, name, doc)
       VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
    ).run(
      event.id,
      event.chainId,
      event.blockNumber,
      event.transactionHash,
      event.contract,
      event.name,
      JSON.stringify(event),
    );
    if (Number(changes) === 0) return; // already mirrored: the natural key makes a replay a no-op
    const insertRef = sql("INSERT OR IGNORE INTO event_refs (kind, key, event_id) VALUES (?, ?, ?)");
    for (const batchId of event.batchIds) insertRef.run("b", batchId, event.id);
    for (const orderId of event.orderIds) insertRef.run("o", orderId, event.id);
    for (const account of event.accounts) insertRef.run("a", account, event.id);
  };

  /** Documents by key, once each, in the order of first occurrence in `keys`; unknown keys are left out. */
  const getMany = <T>(table: string, keyColumn: string, keys: readonly string[]): T[] => {
    const found: T[] = [];
    const statement = sql(`SELECT doc FROM ${table} WHERE ${keyColumn} = ?`);
    read(() => {
      for (const key of new Set(keys)) {
        const row = statement.get(key) as { doc: string } | undefined;
        if (row !== undefined) found.push(JSON.parse(row.doc) as T);
      }
    });
    return found;
  };

  /**
   * One keyset page of a projection list sorted by (orderColumn, keyColumn). `conditions` are SQL fragments
   * joined with AND, with their parameters in `params`.
   */
  const pageOf = <T>(
    kind: Exclude<CursorKind, "events">,
    table: string,
    orderColumn: string,
    keyColumn: string,
    conditions: string[],
    params: SQLInputValue[],
    page: PageRequest,
    sortKeyOf: (document: T) => [string, string],
  ): Page<T> => {
    const limit = checkPageLimit(page);
    const after = pageCursor(kind, page);
    const where = [...conditions];
    const values = [...params];
    if (after !== null) {
      where.push(`(${orderColumn}, ${keyColumn}) > (?, ?)`);
      values.push(after[0]!, after[1]!);
    }
    const rows = sql(
      `SELECT doc FROM ${table} ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
       ORDER BY ${orderColumn}, ${keyColumn} LIMIT ?`,
    ).all(...values, limit + 1) as { doc: string }[];
    const items = rows.slice(0, limit).map((row) => JSON.parse(row.doc) as T);
    const last = items[items.length - 1];
    return {
      items,
      nextCursor: rows.length > limit && last !== undefined ? encodeCursor(kind, sortKeyOf(last)) : null,
    };
  };

  // The planner chooses among the per-column indexes (e.g. manufacturer vs status) by table statistics, which
  // SQLite gathers only when asked: refresh them at open and as the mirror grows, as SQLite recommends for
  // long-lived connections. PRAGMA optimize re-analyses only tables whose size changed a lot, so it is cheap.
  let eventsSinceOptimize = 0;
  const optimize = () => {
    db.exec("PRAGMA optimize=0x10002");
    eventsSinceOptimize = 0;
  };

  const relayFromRow = (row: { doc: string } | undefined): RelayRequest | null =>
    row === undefined ? null : (JSON.parse(row.doc) as RelayRequest);

  const store: MirrorStore = {
    kind: "sqlite",

    describe: () => `SQLite at ${inMemory ? "memory (not persisted)" : path}`,

    async init() {
      migrate(db);
      optimize();
    },

    async close() {
      if (db.isOpen) {
        statements.clear();
        db.close();
      }
    },

    // --- mirror ---

    async commitRange(commit: RangeCommit) {
      write(() => {
        for (const event of commit.events) insertEvent(event);
        for (const block of commit.blocks) putBlock(block);
        for (const batch of commit.batches) putBatch(batch, true);
        for (const participant of commit.participants) putParticipant(participant, true);
        for (const order of commit.orders) putOrder(order, true);
        putCheckpoint(commit.chainId, commit.checkpoint);
      });
      eventsSinceOptimize += commit.events.length;
      if (eventsSinceOptimize >= OPTIMIZE_EVERY_EVENTS) optimize();
    },

    async rollback(commit: RollbackCommit) {
      write(() => {
        sql(
          `DELETE FROM event_refs WHERE event_id IN
             (SELECT id FROM events WHERE chain_id = ? AND block_number > ?)`,
        ).run(commit.chainId, commit.forkBlock);
        sql("DELETE FROM events WHERE chain_id = ? AND block_number > ?").run(commit.chainId, commit.forkBlock);
        sql("DELETE FROM blocks WHERE chain_id = ? AND number > ?").run(commit.chainId, commit.forkBlock);
        for (const batchId of commit.deleteBatchIds) sql("DELETE FROM batches WHERE batch_id = ?").run(batchId);
        for (const address of commit.deleteParticipantAddresses) {
          sql("DELETE FROM participant_roles WHERE address = ?").run(address);
          sql("DELETE FROM participants WHERE address = ?").run(address);
        }
        for (const orderId of commit.deleteOrderIds) sql("DELETE FROM orders WHERE order_id = ?").run(orderId);
        for (const batch of commit.batches) putBatch(batch, false);
        for (const participant of commit.participants) putParticipant(participant, false);
        for (const order of commit.orders) putOrder(order, false);
        putCheckpoint(commit.chainId, commit.checkpoint);
      });
    },

    async getCheckpoint(chainId) {
      const row = sql("SELECT block_number, block_hash, updated_at FROM checkpoints WHERE chain_id = ?").get(chainId) as
        | { block_number: number; block_hash: string | null; updated_at: number }
        | undefined;
      if (row === undefined) return null;
      return {
        chainId,
        blockNumber: row.block_number,
        blockHash: row.block_hash as Hex | null,
        updatedAt: row.updated_at,
      };
    },

    async getBlocks(chainId, from, to) {
      const rows = sql(
        `SELECT number, hash, parent_hash, timestamp FROM blocks
         WHERE chain_id = ? AND number BETWEEN ? AND ? ORDER BY number`,
      ).all(chainId, from, to) as { number: number; hash: string; parent_hash: string; timestamp: number }[];
      return rows.map((row) => ({
        chainId,
        number: row.number,
        hash: row.hash as Hex,
        parentHash: row.parent_hash as Hex,
        timestamp: row.timestamp,
      }));
    },

    async listEvents(filter: EventFilter, page: PageRequest) {
      const limit = checkPageLimit(page);
      const after = pageCursor("events", page);
      // Entity filters go through event_refs, whose primary key ends with the event id: the first one drives
      // the scan in id order, so a batch's page costs as much as the page, however many events there are.
      const refs: [kind: string, key: string][] = [];
      if (filter.batchId !== undefined) refs.push(["b", filter.batchId]);
      if (filter.orderId !== undefined) refs.push(["o", filter.orderId]);
      if (filter.account !== undefined) refs.push(["a", filter.account]);
      const joins: string[] = [];
      const joinValues: SQLInputValue[] = [];
      const where: string[] = [];
      const whereValues: SQLInputValue[] = [];
      refs.forEach(([kind, key], index) => {
        if (index === 0) {
          where.push("r0.kind = ? AND r0.key = ?");
          whereValues.push(kind, key);
        } else {
          joins.push(`JOIN event_refs r${index} ON r${index}.kind = ? AND r${index}.key = ? AND r${index}.event_id = e.id`);
          joinValues.push(kind, key);
        }
      });
      const idColumn = refs.length > 0 ? "r0.event_id" : "e.id";
      const condition = (clause: string, value: SQLInputValue | undefined) => {
        if (value !== undefined) where.push(clause), whereValues.push(value);
      };
      condition("e.chain_id = ?", filter.chainId);
      condition("e.transaction_hash = ?", filter.transactionHash);
      condition("e.contract = ?", filter.contract);
      condition("e.name = ?", filter.name);
      condition("e.block_number >= ?", filter.fromBlock);
      condition("e.block_number <= ?", filter.toBlock);
      condition(`${idColumn} > ?`, after?.[0]);
      const rows = sql(
        `SELECT e.doc FROM ${refs.length > 0 ? "event_refs r0 JOIN events e ON e.id = r0.event_id" : "events e"}
         ${joins.join(" ")}
         ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
         ORDER BY ${idColumn} LIMIT ?`,
      ).all(...joinValues, ...whereValues, limit + 1) as { doc: string }[];
      const items = rows.slice(0, limit).map((row) => JSON.parse(row.doc) as ChainEvent);
      const last = items[items.length - 1];
      return {
        items,
        nextCursor: rows.length > limit && last !== undefined ? encodeCursor("events", [last.id]) : null,
      };
    },

    async countEvents(chainId) {
      const row = (
        chainId === undefined
          ? sql("SELECT count(*) AS n FROM events").get()
          : sql("SELECT count(*) AS n FROM events WHERE chain_id = ?").get(chainId)
      ) as { n: number };
      return Number(row.n);
    },

    // --- projections ---

    async getBatch(batchId) {
      const row = sql("SELECT doc FROM batches WHERE batch_id = ?").get(batchId) as { doc: string } | undefined;
      return row === undefined ? null : (JSON.parse(row.doc) as Batch);
    },

    async getBatches(batchIds) {
      return getMany<Batch>("batches", "batch_id", batchIds);
    },

    async listBatches(filter: BatchFilter, page: PageRequest) {
      const conditions: string[] = [];
      const params: SQLInputValue[] = [];
      if (filter.gtin !== undefined) conditions.push("gtin = ?"), params.push(filter.gtin);
      if (filter.lot !== undefined) conditions.push("lot = ?"), params.push(filter.lot);
      if (filter.manufacturer !== undefined) conditions.push("manufacturer = ?"), params.push(filter.manufacturer);
      if (filter.custodian !== undefined) conditions.push("custodian = ?"), params.push(filter.custodian);
      if (filter.status !== undefined) conditions.push("status = ?"), params.push(filter.status);
      if (filter.parentId !== undefined) conditions.push("parent_id = ?"), params.push(filter.parentId);
      return pageOf<Batch>("batches", "batches", "registered_event_id", "batch_id", conditions, params, page, (batch) => [
        batch.registered.eventId,
        batch.batchId,
      ]);
    },

    async findBatchByGtinLot(gtin, lot) {
      const row = sql("SELECT doc FROM batches WHERE gtin = ? AND lot = ?").get(gtin, lot) as { doc: string } | undefined;
      return row === undefined ? null : (JSON.parse(row.doc) as Batch);
    },

    async getParticipant(address) {
      const row = sql("SELECT doc FROM participants WHERE address = ?").get(address) as { doc: string } | undefined;
      return row === undefined ? null : (JSON.parse(row.doc) as Participant);
    },

    async getParticipants(addresses) {
      return getMany<Participant>("participants", "address", addresses);
    },

    async listParticipants(filter: ParticipantFilter, page: PageRequest) {
      const conditions: string[] = [];
      const params: SQLInputValue[] = [];
      if (filter.role !== undefined) {
        conditions.push("address IN (SELECT address FROM participant_roles WHERE role = ?)");
        params.push(filter.role);
      }
      if (filter.suspended !== undefined) conditions.push("suspended = ?"), params.push(filter.suspended ? 1 : 0);
      return pageOf<Participant>(
        "participants",
        "participants",
        "onboarded_event_id",
        "address",
        conditions,
        params,
        page,
        (participant) => [participant.onboarded.eventId, participant.address],
      );
    },

    async getOrder(orderId) {
      const row = sql("SELECT doc FROM orders WHERE order_id = ?").get(orderId) as { doc: string } | undefined;
      return row === undefined ? null : (JSON.parse(row.doc) as Order);
    },

    async getOrders(orderIds) {
      return getMany<Order>("orders", "order_id", orderIds);
    },

    async listOrders(filter: OrderFilter, page: PageRequest) {
      const conditions: string[] = [];
      const params: SQLInputValue[] = [];
      if (filter.buyer !== undefined) conditions.push("buyer = ?"), params.push(filter.buyer);
      if (filter.seller !== undefined) conditions.push("seller = ?"), params.push(filter.seller);
      if (filter.carrier !== undefined) conditions.push("carrier = ?"), params.push(filter.carrier);
      if (filter.batchId !== undefined) conditions.push("batch_id = ?"), params.push(filter.batchId);
      if (filter.state !== undefined) conditions.push("state = ?"), params.push(filter.state);
      return pageOf<Order>("orders", "orders", "opened_event_id", "order_id", conditions, params, page, (order) => [
        order.opened.eventId,
        order.orderId,
      ]);
    },

    // --- lease: one statement, so the compare and the set cannot be separated ---

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

    // --- passports ---

    async putSerialSet(set: SerialSet) {
      const blob = gzipSync(JSON.stringify(set.serials), { level: 1 });
      sql(
        `INSERT INTO serial_sets (serial_root, serial_count, created_at, serials) VALUES (?, ?, ?, ?)
         ON CONFLICT (serial_root) DO NOTHING`,
      ).run(set.serialRoot, set.serials.length, set.createdAt, blob);
    },

    async getSerialSet(serialRoot) {
      const row = sql("SELECT created_at, serials FROM serial_sets WHERE serial_root = ?").get(serialRoot) as
        | { created_at: number; serials: Uint8Array }
        | undefined;
      if (row === undefined) return null;
      const serials = JSON.parse(gunzipSync(row.serials).toString("utf8")) as string[];
      return { serialRoot, serials, createdAt: row.created_at };
    },

    async recordScan(scan: ScanRecord) {
      sql("INSERT INTO scans (batch_id, serial, at, region) VALUES (?, ?, ?, ?)").run(
        scan.batchId,
        scan.serial,
        scan.at,
        scan.region,
      );
    },

    async scanStats(batchId, serial, recentSinceMs): Promise<ScanStats> {
      return read(() => {
        const totals = sql(
          `SELECT count(*) AS total, min(at) AS first_at, max(at) AS last_at,
                  coalesce(sum(at >= ?), 0) AS recent
           FROM scans WHERE batch_id = ? AND serial IS ?`,
        ).get(recentSinceMs, batchId, serial) as { total: number; first_at: number | null; last_at: number | null; recent: number };
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

    async claimUnit(claim: UnitClaim) {
      return write(() => {
        sql(
          `INSERT INTO unit_claims (batch_id, serial, owner, claimed_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (batch_id, serial) DO NOTHING`,
        ).run(claim.batchId, claim.serial, claim.owner, claim.claimedAt);
        return claimFromRow(sql("SELECT * FROM unit_claims WHERE batch_id = ? AND serial = ?").get(claim.batchId, claim.serial))!;
      });
    },

    async getUnitClaim(batchId, serial) {
      return claimFromRow(sql("SELECT * FROM unit_claims WHERE batch_id = ? AND serial = ?").get(batchId, serial));
    },

    // --- relay queue ---

    async enqueueRelay(request: RelayRequest) {
      return write(() => {
        const { changes } = sql(
          "INSERT INTO relays (id, status, created_at, doc) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
        ).run(request.id, request.status, request.createdAt, JSON.stringify(request));
        const stored = relayFromRow(sql("SELECT doc FROM relays WHERE id = ?").get(request.id) as { doc: string })!;
        return { request: stored, created: Number(changes) > 0 };
      });
    },

    async getRelay(id) {
      return relayFromRow(sql("SELECT doc FROM relays WHERE id = ?").get(id) as { doc: string } | undefined);
    },

    async listRelays(statuses: RelayStatus[], limit: number) {
      if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`listRelays limit must be a positive integer, got ${limit}`);
      if (statuses.length === 0) return [];
      const rows = sql(
        `SELECT doc FROM relays WHERE status IN (${statuses.map(() => "?").join(", ")})
         ORDER BY created_at, id LIMIT ?`,
      ).all(...statuses, limit) as { doc: string }[];
      return rows.map((row) => JSON.parse(row.doc) as RelayRequest);
    },

    async updateRelay(id, expected, patch) {
      return write(() => {
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
  return store;
}

function claimFromRow(row: unknown): UnitClaim | null {
  if (row === undefined) return null;
  const { batch_id, serial, owner, claimed_at } = row as { batch_id: string; serial: string; owner: string; claimed_at: number };
  return { batchId: batch_id as Hex, serial, owner, claimedAt: claimed_at };
}
