/**
 * The mirror log on SQLite: events (with one event_refs row per entity key they touch), block headers and the
 * checkpoint. commitRange and rollback are each one IMMEDIATE transaction, so they are atomic.
 */
import type { SQLInputValue } from "node:sqlite";

import type { ChainEvent, Checkpoint, Hex, IndexedBlock } from "../../domain/model.ts";
import { checkPageLimit, encodeCursor, pageCursor } from "../cursor.ts";
import type { EventFilter, MirrorLog, PageRequest, RangeCommit, RollbackCommit } from "../port.ts";
import { documentOf, type SqliteConnection } from "./connection.ts";
import { deleteDesignRecordsAboveFork, writeDesignRecords } from "./design-records.ts";
import { deleteDocumentAnchorsAboveFork, writeDocumentAnchors } from "./document-anchors.ts";
import { deleteColdChainAboveFork, writeColdChainChanges } from "./cold-chain.ts";
import { deleteContainers, writeContainer } from "./containers.ts";
import {
  deleteOwnership,
  deleteProjections,
  writeBatch,
  writeClaimRoot,
  writeOrder,
  writeParticipant,
  writeUnitToken,
} from "./projections.ts";
import { batchSourceKey, orderSourceKey, trackRecordWrites } from "./track-records.ts";
import { deleteTransformations, writeTransformation } from "./transformations.ts";

function insertEvent(connection: SqliteConnection, event: ChainEvent): void {
  const { sql } = connection;
  const { changes } = sql(
    `INSERT INTO events (id, chain_id, block_number, transaction_hash, contract, name, doc)
     VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
  ).run(event.id, event.chainId, event.blockNumber, event.transactionHash, event.contract, event.name, JSON.stringify(event));
  if (Number(changes) === 0) return; // already mirrored: the natural key makes a replay a no-op
  const insertRef = sql("INSERT OR IGNORE INTO event_refs (kind, key, event_id) VALUES (?, ?, ?)");
  for (const batchId of event.batchIds) insertRef.run("b", batchId, event.id);
  for (const orderId of event.orderIds) insertRef.run("o", orderId, event.id);
  for (const account of event.accounts) insertRef.run("a", account, event.id);
}

function writeBlock(connection: SqliteConnection, block: IndexedBlock): void {
  connection
    .sql(
      `INSERT INTO blocks (chain_id, number, hash, parent_hash, timestamp) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (chain_id, number) DO UPDATE SET hash = excluded.hash, parent_hash = excluded.parent_hash,
         timestamp = excluded.timestamp`,
    )
    .run(block.chainId, block.number, block.hash, block.parentHash, block.timestamp);
}

function writeCheckpoint(connection: SqliteConnection, chainId: number, checkpoint: Checkpoint): void {
  connection
    .sql(
      `INSERT INTO checkpoints (chain_id, block_number, block_hash, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (chain_id) DO UPDATE SET block_number = excluded.block_number,
         block_hash = excluded.block_hash, updated_at = excluded.updated_at`,
    )
    .run(chainId, checkpoint.blockNumber, checkpoint.blockHash, checkpoint.updatedAt);
}

function deleteAboveFork(connection: SqliteConnection, chainId: number, forkBlock: number): void {
  const { sql } = connection;
  sql("DELETE FROM event_refs WHERE event_id IN (SELECT id FROM events WHERE chain_id = ? AND block_number > ?)").run(chainId, forkBlock);
  sql("DELETE FROM events WHERE chain_id = ? AND block_number > ?").run(chainId, forkBlock);
  sql("DELETE FROM blocks WHERE chain_id = ? AND number > ?").run(chainId, forkBlock);
}

/**
 * The SELECT of one page of events. Entity filters go through event_refs, whose primary key ends with the event
 * id: the first one drives the scan in id order, so a batch's page costs as much as the page, however many
 * events there are.
 *
 * With `drive: "name"` the scan runs the other way, along events_by_name (also in id order), each event checked
 * against the entity keys by primary key. listEvents picks it when the name has fewer events than the first entity
 * key has refs: an account's refs grow with everything it ever did (a manufacturer's lots), and a rare event of
 * it (ProductDataPublished) would otherwise cost a walk over all of them when no page fills.
 */
function eventPageQuery(
  filter: EventFilter,
  after: string[] | null,
  drive: "refs" | "name" = "refs",
): { text: string; params: SQLInputValue[] } {
  const refs = entityRefsOf(filter);
  const byName = drive === "name" && refs.length > 0 && filter.name !== undefined;
  const joins: string[] = [];
  const joinValues: SQLInputValue[] = [];
  const where: string[] = [];
  const whereValues: SQLInputValue[] = [];
  refs.forEach(([kind, key], index) => {
    if (index === 0 && !byName) {
      where.push("r0.kind = ? AND r0.key = ?");
      whereValues.push(kind, key);
    } else {
      joins.push(
        `${byName ? "CROSS JOIN" : "JOIN"} event_refs r${index} ON r${index}.kind = ? AND r${index}.key = ? AND r${index}.event_id = e.id`,
      );
      joinValues.push(kind, key);
    }
  });
  const idColumn = refs.length > 0 && !byName ? "r0.event_id" : "e.id";
  const condition = (clause: string, value: SQLInputValue | undefined) => {
    if (value === undefined) return;
    where.push(clause);
    whereValues.push(value);
  };
  condition("e.chain_id = ?", filter.chainId);
  condition("e.transaction_hash = ?", filter.transactionHash);
  condition("e.contract = ?", filter.contract);
  condition("e.name = ?", filter.name);
  condition("e.block_number >= ?", filter.fromBlock);
  condition("e.block_number <= ?", filter.toBlock);
  condition(`${idColumn} > ?`, after?.[0]);
  // CROSS JOIN keeps the events as the outer loop (SQLite never reorders it), INDEXED BY keeps them on the name.
  const from = byName
    ? "events e INDEXED BY events_by_name"
    : refs.length > 0
      ? "event_refs r0 JOIN events e ON e.id = r0.event_id"
      : "events e";
  const text = `SELECT e.doc FROM ${from}
     ${joins.join(" ")}
     ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
     ORDER BY ${idColumn} LIMIT ?`;
  return { text, params: [...joinValues, ...whereValues] };
}

/** The entity keys of a filter as event_refs (kind, key) pairs, the first one driving the page by default. */
function entityRefsOf(filter: EventFilter): [kind: string, key: string][] {
  const refs: [kind: string, key: string][] = [];
  if (filter.batchId !== undefined) refs.push(["b", filter.batchId]);
  if (filter.orderId !== undefined) refs.push(["o", filter.orderId]);
  if (filter.account !== undefined) refs.push(["a", filter.account]);
  return refs;
}

/**
 * Events of a name counted, at most, when listEvents weighs the name against an entity key: both counts walk a
 * covering index, the name's up to this many entries and the key's refs up to one more than the name has, so
 * deciding costs at most about twice this many index entries (well under a millisecond).
 */
export const EVENT_DRIVE_PROBE_ROWS = 1_000;

/** Whether a page of `filter` is cheaper walked along its event name than along its first entity key's refs. */
function drivesByName(connection: SqliteConnection, filter: EventFilter): boolean {
  const [first] = entityRefsOf(filter);
  if (first === undefined || filter.name === undefined) return false;
  const { sql } = connection;
  const named = Number(
    (
      sql("SELECT count(*) AS n FROM (SELECT 1 FROM events WHERE name = ? LIMIT ?)").get(filter.name, EVENT_DRIVE_PROBE_ROWS) as {
        n: number;
      }
    ).n,
  );
  if (named >= EVENT_DRIVE_PROBE_ROWS) return false;
  const referenced = Number(
    (
      sql("SELECT count(*) AS n FROM (SELECT 1 FROM event_refs WHERE kind = ? AND key = ? LIMIT ?)").get(first[0], first[1], named + 1) as {
        n: number;
      }
    ).n,
  );
  return referenced > named;
}

export function createMirrorLog(connection: SqliteConnection): MirrorLog {
  const { sql } = connection;
  return {
    async commitRange(commit: RangeCommit) {
      connection.write(() => {
        for (const event of commit.events) insertEvent(connection, event);
        for (const block of commit.blocks) writeBlock(connection, block);
        const trackRecords = trackRecordWrites(sql);
        for (const batch of commit.batches) if (writeBatch(connection, batch, true)) trackRecords.lot(batch);
        for (const participant of commit.participants) writeParticipant(connection, participant, true);
        for (const order of commit.orders) if (writeOrder(connection, order, true)) trackRecords.order(order);
        trackRecords.flush();
        writeDesignRecords(connection, commit.designRegistrations ?? [], commit.designLinkChanges ?? []);
        writeDocumentAnchors(connection, commit.documentAnchors ?? []);
        if (commit.coldChain !== undefined) writeColdChainChanges(connection, commit.chainId, commit.coldChain);
        for (const token of commit.unitTokens ?? []) writeUnitToken(connection, token, true);
        for (const root of commit.claimRoots ?? []) writeClaimRoot(connection, root);
        for (const transformation of commit.transformations ?? []) writeTransformation(connection, transformation, true);
        for (const container of commit.containers ?? []) writeContainer(connection, container, true);
        writeCheckpoint(connection, commit.chainId, commit.checkpoint);
      });
      connection.eventsWritten(commit.events.length);
    },

    async rollback(commit: RollbackCommit) {
      connection.write(() => {
        deleteAboveFork(connection, commit.chainId, commit.forkBlock);
        deleteDesignRecordsAboveFork(connection, commit.chainId, commit.forkBlock);
        deleteDocumentAnchorsAboveFork(connection, commit.chainId, commit.forkBlock);
        deleteColdChainAboveFork(connection, commit.chainId, commit.forkBlock);
        deleteProjections(connection, {
          batchIds: commit.deleteBatchIds,
          participantAddresses: commit.deleteParticipantAddresses,
          orderIds: commit.deleteOrderIds,
        });
        const trackRecords = trackRecordWrites(sql);
        for (const batchId of commit.deleteBatchIds) trackRecords.forget(batchSourceKey(batchId));
        for (const orderId of commit.deleteOrderIds) trackRecords.forget(orderSourceKey(orderId));
        for (const batch of commit.batches) if (writeBatch(connection, batch, false)) trackRecords.lot(batch);
        for (const participant of commit.participants) writeParticipant(connection, participant, false);
        for (const order of commit.orders) if (writeOrder(connection, order, false)) trackRecords.order(order);
        trackRecords.flush();
        deleteOwnership(connection, { tokenIds: commit.deleteUnitTokenIds ?? [], claimRootBatchIds: commit.deleteClaimRootBatchIds ?? [] });
        for (const token of commit.unitTokens ?? []) writeUnitToken(connection, token, false);
        deleteTransformations(connection, commit.deleteTransformationIds ?? []);
        for (const transformation of commit.transformations ?? []) writeTransformation(connection, transformation, false);
        deleteContainers(connection, commit.deleteContainerSsccs ?? []);
        for (const container of commit.containers ?? []) writeContainer(connection, container, false);
        writeCheckpoint(connection, commit.chainId, commit.checkpoint);
      });
    },

    async getCheckpoint(chainId) {
      const row = sql("SELECT block_number, block_hash, updated_at FROM checkpoints WHERE chain_id = ?").get(chainId) as
        { block_number: number; block_hash: string | null; updated_at: number } | undefined;
      if (row === undefined) return null;
      return { chainId, blockNumber: row.block_number, blockHash: row.block_hash as Hex | null, updatedAt: row.updated_at };
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
      const query = eventPageQuery(filter, pageCursor("events", page), drivesByName(connection, filter) ? "name" : "refs");
      const rows = sql(query.text).all(...query.params, limit + 1);
      const items = rows.slice(0, limit).map((row) => documentOf<ChainEvent>(row)!);
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
  };
}
