/**
 * The SQLite schema, versioned with `PRAGMA user_version` so later releases can migrate a file in place.
 * Each document is stored whole as JSON (`doc`) next to the columns that queries filter and sort on; the
 * indexes end with the list's sort key so every filtered page is one index range scan.
 */
import type { DatabaseSync } from "node:sqlite";

import { backfillTrackRecords } from "./track-records.ts";

/** SQL, or SQL and then code that fills the new tables from what is stored (in the same transaction). */
export type Migration = string | { sql: string; fill: (db: DatabaseSync) => void };

export const MIGRATIONS: readonly Migration[] = [
  /* 1: the mirror, passports and the relay queue */ `
  CREATE TABLE events (
    id TEXT PRIMARY KEY,
    chain_id INTEGER NOT NULL,
    block_number INTEGER NOT NULL,
    transaction_hash TEXT NOT NULL,
    contract TEXT NOT NULL,
    name TEXT NOT NULL,
    doc TEXT NOT NULL
  );
  CREATE INDEX events_by_block ON events (chain_id, block_number);
  CREATE INDEX events_by_chain ON events (chain_id, id);
  CREATE INDEX events_by_transaction ON events (transaction_hash, id);
  CREATE INDEX events_by_name ON events (name, id);

  -- The entity keys an event touches (kind: 'b' batch id, 'o' order id, 'a' account), one row each.
  CREATE TABLE event_refs (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    event_id TEXT NOT NULL,
    PRIMARY KEY (kind, key, event_id)
  ) WITHOUT ROWID;
  CREATE INDEX event_refs_by_event ON event_refs (event_id);

  CREATE TABLE blocks (
    chain_id INTEGER NOT NULL,
    number INTEGER NOT NULL,
    hash TEXT NOT NULL,
    parent_hash TEXT NOT NULL,
    timestamp INTEGER NOT NULL,
    PRIMARY KEY (chain_id, number)
  ) WITHOUT ROWID;

  CREATE TABLE checkpoints (
    chain_id INTEGER PRIMARY KEY,
    block_number INTEGER NOT NULL,
    block_hash TEXT,
    updated_at INTEGER NOT NULL
  );

  CREATE TABLE batches (
    batch_id TEXT PRIMARY KEY,
    gtin TEXT NOT NULL,
    lot TEXT NOT NULL,
    manufacturer TEXT NOT NULL,
    custodian TEXT NOT NULL,
    status TEXT NOT NULL,
    parent_id TEXT,
    registered_event_id TEXT NOT NULL,
    last_event_id TEXT NOT NULL,
    doc TEXT NOT NULL
  );
  CREATE UNIQUE INDEX batches_by_gtin_lot ON batches (gtin, lot);
  CREATE INDEX batches_in_order ON batches (registered_event_id, batch_id);
  CREATE INDEX batches_by_gtin ON batches (gtin, registered_event_id, batch_id);
  CREATE INDEX batches_by_manufacturer ON batches (manufacturer, registered_event_id, batch_id);
  CREATE INDEX batches_by_custodian ON batches (custodian, registered_event_id, batch_id);
  CREATE INDEX batches_by_status ON batches (status, registered_event_id, batch_id);
  CREATE INDEX batches_by_parent ON batches (parent_id, registered_event_id, batch_id);

  CREATE TABLE participants (
    address TEXT PRIMARY KEY,
    suspended INTEGER NOT NULL,
    onboarded_event_id TEXT NOT NULL,
    last_event_id TEXT NOT NULL,
    doc TEXT NOT NULL
  );
  CREATE INDEX participants_in_order ON participants (onboarded_event_id, address);
  CREATE TABLE participant_roles (
    role TEXT NOT NULL,
    address TEXT NOT NULL,
    PRIMARY KEY (role, address)
  ) WITHOUT ROWID;
  CREATE INDEX participant_roles_by_address ON participant_roles (address);

  CREATE TABLE orders (
    order_id TEXT PRIMARY KEY,
    buyer TEXT NOT NULL,
    seller TEXT NOT NULL,
    carrier TEXT NOT NULL,
    batch_id TEXT NOT NULL,
    state TEXT NOT NULL,
    opened_event_id TEXT NOT NULL,
    last_event_id TEXT NOT NULL,
    doc TEXT NOT NULL
  );
  CREATE INDEX orders_in_order ON orders (opened_event_id, order_id);
  CREATE INDEX orders_by_buyer ON orders (buyer, opened_event_id, order_id);
  CREATE INDEX orders_by_seller ON orders (seller, opened_event_id, order_id);
  CREATE INDEX orders_by_carrier ON orders (carrier, opened_event_id, order_id);
  CREATE INDEX orders_by_batch ON orders (batch_id, opened_event_id, order_id);
  CREATE INDEX orders_by_state ON orders (state, opened_event_id, order_id);

  CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  );

  -- Serials as gzip-compressed JSON, one row per set: 100,000 serials are one small blob, read in one go.
  CREATE TABLE serial_sets (
    serial_root TEXT PRIMARY KEY,
    serial_count INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    serials BLOB NOT NULL
  );

  CREATE TABLE scans (
    id INTEGER PRIMARY KEY,
    batch_id TEXT NOT NULL,
    serial TEXT,
    at INTEGER NOT NULL,
    region TEXT NOT NULL
  );
  CREATE INDEX scans_by_unit ON scans (batch_id, serial, at);

  CREATE TABLE unit_claims (
    batch_id TEXT NOT NULL,
    serial TEXT NOT NULL,
    owner TEXT NOT NULL,
    claimed_at INTEGER NOT NULL,
    PRIMARY KEY (batch_id, serial)
  ) WITHOUT ROWID;

  CREATE TABLE relays (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    doc TEXT NOT NULL
  );
  CREATE INDEX relays_by_status ON relays (status, created_at, id);
  `,
  /* 2: unit claims stored whole like every other document, so a new claim field needs no column */ `
  ALTER TABLE unit_claims ADD COLUMN doc TEXT NOT NULL DEFAULT '{}';
  UPDATE unit_claims SET doc = json_object('batchId', batch_id, 'serial', serial, 'owner', owner, 'claimedAt', claimed_at);
  ALTER TABLE unit_claims DROP COLUMN owner;
  ALTER TABLE unit_claims DROP COLUMN claimed_at;
  `,
  /* 3: indexes the scale benchmark's query plans asked for (scripts/bench-scale.ts) */ `
  -- manufacturer + status, the filter pair a dashboard lists by: one exact range, however rare the status.
  CREATE INDEX batches_by_manufacturer_status ON batches (manufacturer, status, registered_event_id, batch_id);
  -- scanStats groups a unit's scans by region: with region in the key the GROUP BY walks the index in order.
  DROP INDEX scans_by_unit;
  CREATE INDEX scans_by_unit ON scans (batch_id, serial, region, at);
  `,
  /* 4: spent sign-in nonces (backend/auth), kept until they expire */ `
  CREATE TABLE sign_in_nonces (
    nonce TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX sign_in_nonces_by_expiry ON sign_in_nonces (expires_at);
  `,
  /* 5: holders' signed acknowledgements of recalls (backend/recalls) */ `
  CREATE TABLE recall_acknowledgements (
    batch_id TEXT NOT NULL,
    holder TEXT NOT NULL,
    acknowledged_at INTEGER NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (batch_id, holder)
  ) WITHOUT ROWID;
  `,
  /* 6: sellers' grants of read access to their orders (backend/finance) */ `
  CREATE TABLE order_read_grants (
    seller TEXT NOT NULL,
    financier TEXT NOT NULL,
    granted_at INTEGER NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (seller, financier)
  ) WITHOUT ROWID;
  CREATE INDEX order_read_grants_by_financier ON order_read_grants (financier, granted_at, seller);
  `,
  /* 7: DesignRegistry records (backend/designs), one row per event, deleted with their events on a rollback */ `
  CREATE TABLE design_registrations (
    event_id TEXT PRIMARY KEY,
    chain_id INTEGER NOT NULL,
    block_number INTEGER NOT NULL,
    root TEXT NOT NULL,
    doc TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX design_registrations_by_root ON design_registrations (root, event_id);
  CREATE INDEX design_registrations_by_block ON design_registrations (chain_id, block_number);
  CREATE TABLE design_link_changes (
    event_id TEXT PRIMARY KEY,
    chain_id INTEGER NOT NULL,
    block_number INTEGER NOT NULL,
    gtin TEXT NOT NULL,
    doc TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX design_link_changes_by_gtin ON design_link_changes (gtin, event_id);
  CREATE INDEX design_link_changes_by_block ON design_link_changes (chain_id, block_number);
  `,
  /* 8: the cold chain: versioned device, leg and conditions documents, anchored roots, breaches, and readings */ `
  -- One row per version (the event that made it); reads take the latest, a rollback deletes those above the fork.
  CREATE TABLE cold_devices (
    address TEXT NOT NULL,
    event_id TEXT NOT NULL,
    chain_id INTEGER NOT NULL,
    block_number INTEGER NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (address, event_id)
  ) WITHOUT ROWID;
  CREATE INDEX cold_devices_by_block ON cold_devices (chain_id, block_number);
  CREATE TABLE cold_legs (
    leg_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    chain_id INTEGER NOT NULL,
    block_number INTEGER NOT NULL,
    batch_id TEXT NOT NULL,
    device TEXT NOT NULL,
    attached_event_id TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (leg_id, event_id)
  ) WITHOUT ROWID;
  CREATE INDEX cold_legs_by_batch ON cold_legs (batch_id, attached_event_id, leg_id);
  CREATE INDEX cold_legs_by_device ON cold_legs (device, attached_event_id, leg_id);
  CREATE INDEX cold_legs_by_block ON cold_legs (chain_id, block_number);
  -- subject: 'b:' + batch id, or 'g:' + GTIN.
  CREATE TABLE cold_conditions (
    subject TEXT NOT NULL,
    event_id TEXT NOT NULL,
    chain_id INTEGER NOT NULL,
    block_number INTEGER NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (subject, event_id)
  ) WITHOUT ROWID;
  CREATE INDEX cold_conditions_by_block ON cold_conditions (chain_id, block_number);
  CREATE TABLE cold_anchors (
    event_id TEXT PRIMARY KEY,
    chain_id INTEGER NOT NULL,
    block_number INTEGER NOT NULL,
    leg_id TEXT NOT NULL,
    doc TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX cold_anchors_by_leg ON cold_anchors (leg_id, event_id);
  CREATE INDEX cold_anchors_by_block ON cold_anchors (chain_id, block_number);
  CREATE TABLE cold_breaches (
    event_id TEXT PRIMARY KEY,
    chain_id INTEGER NOT NULL,
    block_number INTEGER NOT NULL,
    batch_id TEXT NOT NULL,
    leg_id TEXT NOT NULL,
    doc TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX cold_breaches_by_batch ON cold_breaches (batch_id, event_id);
  CREATE INDEX cold_breaches_by_leg ON cold_breaches (leg_id, event_id);
  CREATE INDEX cold_breaches_by_block ON cold_breaches (chain_id, block_number);

  -- Readings as columns, not JSON: millions of rows, the primary key is the natural one.
  CREATE TABLE readings (
    device TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    batch_id TEXT NOT NULL,
    leg_id TEXT NOT NULL,
    timestamp INTEGER NOT NULL,
    temperature INTEGER NOT NULL,
    humidity INTEGER NOT NULL,
    latitude INTEGER NOT NULL,
    longitude INTEGER NOT NULL,
    signature TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (device, sequence)
  ) WITHOUT ROWID;
  CREATE INDEX readings_by_batch ON readings (batch_id, timestamp, device, sequence);
  CREATE INDEX readings_by_leg ON readings (leg_id, sequence);
  CREATE TABLE rejected_readings (
    id INTEGER PRIMARY KEY,
    reason TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    doc TEXT NOT NULL
  );
  CREATE INDEX rejected_readings_by_reason ON rejected_readings (reason, id);
  CREATE TABLE rejection_counts (
    reason TEXT PRIMARY KEY,
    count INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
  /* 9: uploaded versions of product and batch data (backend/product-data) */ `
  CREATE TABLE product_data_documents (
    subject TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    uploaded_at INTEGER NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (subject, content_hash)
  ) WITHOUT ROWID;
  CREATE INDEX product_data_documents_by_upload ON product_data_documents (subject, uploaded_at, content_hash);
  `,
  /* 10: unit ownership tokens and claim roots (mirrored from UnitOwnership), manufacturers' claim trees, claim regions */ `
  CREATE TABLE unit_tokens (
    token_id TEXT PRIMARY KEY,
    batch_id TEXT NOT NULL,
    owner TEXT NOT NULL,
    last_event_id TEXT NOT NULL,
    doc TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX unit_tokens_by_owner ON unit_tokens (owner, token_id);
  CREATE TABLE claim_roots (
    batch_id TEXT PRIMARY KEY,
    claim_root TEXT NOT NULL,
    doc TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE claim_trees (
    claim_root TEXT PRIMARY KEY,
    doc TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE claim_regions (
    token_id TEXT PRIMARY KEY,
    doc TEXT NOT NULL
  ) WITHOUT ROWID;
  `,
  /* 11: the anchorer's plans: roots it built from stored readings of a leg */ `
  CREATE TABLE reading_anchor_plans (
    leg_id TEXT NOT NULL,
    root TEXT NOT NULL,
    first_sequence INTEGER NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (leg_id, root)
  ) WITHOUT ROWID;
  CREATE INDEX reading_anchor_plans_by_sequence ON reading_anchor_plans (leg_id, first_sequence, root);
  `,
  /* 12: documents about batches with their bytes (backend/documents); a rowid table: rows of megabytes do not belong in a WITHOUT ROWID b-tree */ `
  CREATE TABLE batch_documents (
    batch_id TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    uploaded_at INTEGER NOT NULL,
    doc TEXT NOT NULL,
    content BLOB NOT NULL,
    PRIMARY KEY (batch_id, content_hash)
  );
  CREATE INDEX batch_documents_by_upload ON batch_documents (batch_id, uploaded_at, content_hash);
  CREATE INDEX batch_documents_by_hash ON batch_documents (content_hash, uploaded_at, batch_id);
  `,
  /* 13: transformations (merges), and their lots both ways: what a lot was consumed in, what made it */ `
  CREATE TABLE transformations (
    transformation_id TEXT PRIMARY KEY,
    recorded_event_id TEXT NOT NULL,
    last_event_id TEXT NOT NULL,
    doc TEXT NOT NULL
  ) WITHOUT ROWID;
  -- role: 'i' input (consumed), 'o' output (produced); one row per lot of a transformation.
  CREATE TABLE transformation_lots (
    batch_id TEXT NOT NULL,
    role TEXT NOT NULL,
    transformation_id TEXT NOT NULL,
    PRIMARY KEY (batch_id, role, transformation_id)
  ) WITHOUT ROWID;
  CREATE INDEX transformation_lots_by_transformation ON transformation_lots (transformation_id);
  `,
  /* 14: documents about product models (GTINs) with their bytes; the mirrored document anchors by hash, filled from the events already mirrored */ `
  CREATE TABLE product_documents (
    gtin TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    uploaded_at INTEGER NOT NULL,
    doc TEXT NOT NULL,
    content BLOB NOT NULL,
    PRIMARY KEY (gtin, content_hash)
  );
  CREATE INDEX product_documents_by_upload ON product_documents (gtin, uploaded_at, content_hash);
  CREATE TABLE document_anchors (
    event_id TEXT PRIMARY KEY,
    chain_id INTEGER NOT NULL,
    block_number INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    doc TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX document_anchors_by_hash ON document_anchors (content_hash, event_id);
  CREATE INDEX document_anchors_by_block ON document_anchors (chain_id, block_number);
  INSERT INTO document_anchors (event_id, chain_id, block_number, content_hash, doc)
    SELECT id, chain_id, block_number, lower(json_extract(doc, '$.args.contentHash')),
      json_object(
        'eventId', id,
        'chainId', chain_id,
        'blockNumber', block_number,
        'transactionHash', transaction_hash,
        'contentHash', lower(json_extract(doc, '$.args.contentHash')),
        'subject', json_object('kind', 'batch', 'batchId', lower(json_extract(doc, '$.args.batchId'))),
        'anchoredBy', lower(json_extract(doc, '$.args.anchoredBy')),
        'anchoredAt', json_extract(doc, '$.blockTimestamp'))
    FROM events WHERE contract = 'ProductDataRegistry' AND name = 'BatchDocumentAnchored';
  `,
  /* 15: LogisticUnits containers (SSCCs), and the batches each holds directly, for the "which container holds this batch" lookup */ `
  CREATE TABLE containers (
    sscc TEXT PRIMARY KEY,
    custodian TEXT NOT NULL,
    parent_sscc TEXT,
    created_event_id TEXT NOT NULL,
    last_event_id TEXT NOT NULL,
    doc TEXT NOT NULL
  );
  CREATE INDEX containers_by_created ON containers (created_event_id, sscc);
  CREATE INDEX containers_by_custodian ON containers (custodian, created_event_id, sscc);
  CREATE INDEX containers_by_parent ON containers (parent_sscc, created_event_id, sscc);
  CREATE TABLE container_batches (
    batch_id TEXT NOT NULL,
    sscc TEXT NOT NULL,
    PRIMARY KEY (batch_id, sscc)
  ) WITHOUT ROWID;
  CREATE INDEX container_batches_by_container ON container_batches (sscc);
  `,
  /* 16: partners' track records kept as documents are written (backend/reputation/track-record.ts), filled from the stored documents */ {
    sql: `
  CREATE TABLE track_record_sources (
    key TEXT PRIMARY KEY,
    contribution TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE track_records (
    participant TEXT PRIMARY KEY,
    counters TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE track_record_open_deadlines (
    participant TEXT NOT NULL,
    role TEXT NOT NULL,
    deadline INTEGER NOT NULL,
    source_key TEXT NOT NULL,
    PRIMARY KEY (participant, role, deadline, source_key)
  ) WITHOUT ROWID;
  CREATE INDEX track_record_open_deadlines_by_source ON track_record_open_deadlines (source_key);
  CREATE TABLE track_record_recalls (
    source_key TEXT PRIMARY KEY,
    manufacturer TEXT NOT NULL,
    root_id TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX track_record_recalls_by_manufacturer ON track_record_recalls (manufacturer, root_id);
  `,
    fill: backfillTrackRecords,
  },
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Brings the file up to SCHEMA_VERSION, one migration per transaction; a no-op when it is current. */
export function migrate(db: DatabaseSync): void {
  const current = Number((db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version);
  if (current > SCHEMA_VERSION) {
    throw new Error(
      `The SQLite store has schema version ${current}, newer than this release understands (${SCHEMA_VERSION}); upgrade Provena or use another SQLITE_PATH.`,
    );
  }
  for (let version = current; version < SCHEMA_VERSION; version++) {
    db.exec("BEGIN IMMEDIATE");
    try {
      // Another process may have migrated while we waited for the write lock.
      const now = Number((db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version);
      if (now === version) {
        const migration = MIGRATIONS[version]!;
        if (typeof migration === "string") db.exec(migration);
        else {
          db.exec(migration.sql);
          migration.fill(db);
        }
        db.exec(`PRAGMA user_version = ${version + 1}`);
      }
      db.exec("COMMIT");
    } catch (error) {
      db.exec("ROLLBACK");
      throw error;
    }
  }
}
