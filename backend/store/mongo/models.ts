/**
 * mongoose 9 models of the MongoDB store: schemas and indexes only, no logic.
 *
 * Conventions
 * - Natural keys are the `_id` (event id, batch id, address, order id, relay id, lease name, "chainId:number"
 *   for blocks), so a replayed write hits the same document and uniqueness costs no extra index.
 * - Every schema is `strict: "throw"` and `strictQuery: "throw"`: a field the schema does not know fails
 *   loudly instead of being dropped from a write or, worse, silently removed from a filter (which would widen it).
 * - `minimize: false` keeps empty objects (an event with no arguments stores `args: {}`), `versionKey: false`
 *   and `_id: false` on sub-documents keep adapter fields out of what callers get back.
 * - Strings carry no `required` (mongoose's required rejects "", which is a legitimate value); mapping.ts
 *   checks that every field of a document is present before it is written.
 * - Hex strings are stored as given (lower-case per types.ts); numbers stay numbers, decimal strings stay strings.
 * - Indexes put the equality field first and the list's sort key after it (equality, sort, range), so every
 *   filtered, paginated list is an index walk that stops after limit + 1 documents.
 *
 * Sharding (when one replica set is outgrown; every query and upsert below includes the shard key where it
 * has to, so no code changes are needed):
 * - events:        { _id: "hashed" }          writes spread evenly; lookups by id are targeted, lists by entity
 *                                               are scatter-gather over the multikey indexes (acceptable: paged).
 * - batches:       { gtin: 1, lot: 1 }        the unique (gtin, lot) index must be prefixed by the shard key;
 *                                               batchId = keccak256(gtin, lot), so _id stays unique too. The
 *                                               projection upsert filters on _id AND gtin, lot for this reason.
 * - orders:        { _id: "hashed" }
 * - scans:         { batchId: "hashed" }      every scan query is per batch, so it targets one shard.
 * - claims:        { batchId: 1, serial: 1 }  prefix of the unique index.
 * - serialchunks:  { serialRoot: 1 }          a set is read and written by its root.
 * - participants, blocks, checkpoints, leases, relays, serialsets, rollbacks, rollbackitems: small, unsharded.
 */
import mongoose from "mongoose";
import type { Connection, Model, SchemaOptions } from "mongoose";
import type { Checkpoint, ChainEvent, EventRef, Hex } from "../../domain/model.ts";
import type { RelayStatus } from "../../domain/model.ts";

const { Schema } = mongoose;

const rootOptions = {
  strict: "throw",
  strictQuery: "throw",
  minimize: false,
  versionKey: false,
  id: false,
  autoIndex: false,
  autoCreate: false,
  bufferCommands: false,
} satisfies SchemaOptions;

const subOptions = { _id: false, id: false, strict: "throw", strictQuery: "throw", minimize: false } satisfies SchemaOptions;

const nullableString = { type: String, default: null };
const nullableNumber = { type: Number, default: null };

// ---------------------------------------------------------------------------------------------------------
// Document shapes (what lean() returns). Each is the port type with its natural key renamed to _id.

export interface EventDoc extends Omit<ChainEvent, "id" | "args"> {
  _id: string;
  args: Record<string, unknown>; // JsonValue, kept opaque here: mongoose's types recurse too deep on it
}

export interface EventRefDoc extends EventRef {}

export interface ParticipantDoc {
  _id: Hex;
  participantId: number;
  gln: string;
  name: string;
  roles: string[];
  suspended: boolean;
  onboarded: EventRefDoc;
  lastEvent: EventRefDoc;
}

export interface CustodyStepDoc {
  kind: "proposed" | "accepted" | "rejected" | "cancelled";
  from: Hex;
  to: Hex;
  locationGln: string | null;
  businessStep: string | null;
  reasonHash: Hex | null;
  at: EventRefDoc;
}

export interface InspectionDoc {
  inspector: Hex;
  passed: boolean;
  reportHash: Hex;
  at: EventRefDoc;
}

export interface BatchDoc {
  _id: Hex;
  gtin: string;
  lot: string;
  quantity: string;
  productionDate: number;
  originGln: string;
  documentHash: Hex;
  serialRoot: Hex;
  manufacturer: Hex;
  custodian: Hex;
  pendingCustodian: Hex | null;
  status: "registered" | "in_transit" | "delivered" | "split" | "recalled";
  inspection: "none" | "passed" | "failed";
  inspections: InspectionDoc[];
  custody: CustodyStepDoc[];
  parentId: Hex | null;
  childIds: Hex[];
  recall: { by: Hex; reasonHash: Hex; at: EventRefDoc } | null;
  registered: EventRefDoc;
  lastEvent: EventRefDoc;
}

export interface OrderDoc {
  _id: Hex;
  buyer: Hex;
  seller: Hex;
  carrier: Hex;
  token: Hex;
  amount: string;
  batchId: Hex;
  sellerBps: number;
  carrierBps: number;
  platformBps: number;
  deliveryDeadline: number;
  disputeWindow: number;
  requiresPassingInspection: boolean;
  fallbackBuyerBps: number;
  salt: Hex;
  state: "funded" | "delivered" | "disputed" | "released" | "refunded" | "resolved" | "cancelled";
  deliveredAt: number | null;
  disputedAt: number | null;
  disputedBy: Hex | null;
  cancellationApprovedBy: Hex[];
  payouts: { buyer: string; seller: string; carrier: string; platform: string } | null;
  refundReason: string | null;
  opened: EventRefDoc;
  lastEvent: EventRefDoc;
}

export interface BlockDoc {
  _id: string; // blockDocId(chainId, number)
  chainId: number;
  number: number;
  hash: Hex;
  parentHash: Hex;
  timestamp: number;
}

export interface CheckpointDoc {
  _id: number; // chainId
  blockNumber: number;
  blockHash: Hex | null;
  updatedAt: number;
}

export interface LeaseDoc {
  _id: string; // lease name
  holder: string;
  expiresAt: number; // unix ms, set from the caller's clock
}

export interface SerialSetDoc {
  _id: Hex; // serialRoot; written after all chunks, so its presence means the set is complete
  count: number;
  chunkCount: number;
  createdAt: number;
}

export interface SerialChunkDoc {
  _id: string; // serialChunkId(serialRoot, index)
  serialRoot: Hex;
  index: number;
  serials: string[];
}

export interface ScanDoc {
  batchId: Hex;
  serial: string | null;
  at: number;
  region: string;
}

export interface ClaimDoc {
  batchId: Hex;
  serial: string;
  owner: string;
  claimedAt: number;
}

export interface RelayDoc {
  _id: string; // RelayRequest.id
  chainId: number;
  from: Hex;
  to: Hex;
  value: string;
  gas: string;
  nonce: string;
  deadline: number;
  data: Hex;
  signature: Hex;
  kind: string;
  status: RelayStatus;
  attempts: number;
  transactionHash: Hex | null;
  relayerNonce: number | null;
  gasPrice: string | null;
  error: string | null;
  blockNumber: number | null;
  createdAt: number;
  updatedAt: number;
}

/**
 * A rollback in progress (write-ahead record). Written after its items and before any destructive step, removed
 * when the rollback is complete: while it exists, the rollback counts as committed and is finished by the next
 * write (see mongo-store.ts).
 */
export interface RollbackMarkerDoc {
  _id: number; // chainId: at most one rollback per chain at a time
  token: string; // ties the marker to its items
  forkBlock: number;
  checkpoint: Checkpoint;
  itemCount: number;
  startedAt: number;
}

export type ProjectionKind = "batch" | "participant" | "order";

/** One projection a rollback replaces (with `doc`, the port type as given) or deletes (`doc` null). */
export interface RollbackItemDoc {
  _id: string; // `${chainId}:${token}:${seq}`
  chainId: number;
  token: string;
  seq: number;
  kind: ProjectionKind;
  key: Hex;
  doc: Record<string, unknown> | null; // a BatchDoc, ParticipantDoc or OrderDoc
}

// ---------------------------------------------------------------------------------------------------------
// Schemas

const eventRefSchema = new Schema<EventRefDoc>(
  {
    eventId: String,
    blockNumber: { type: Number, required: true },
    blockTimestamp: { type: Number, required: true },
    transactionHash: String,
  },
  subOptions,
);

const eventSchema = new Schema<EventDoc>(
  {
    _id: { type: String, required: true },
    chainId: { type: Number, required: true },
    blockNumber: { type: Number, required: true },
    blockHash: String,
    blockTimestamp: { type: Number, required: true },
    transactionHash: String,
    transactionIndex: { type: Number, required: true },
    logIndex: { type: Number, required: true },
    contract: { type: String, enum: ["ProvenanceRegistry", "TradeEscrow", "ProvenaForwarder"] },
    address: String,
    name: String,
    args: { type: Schema.Types.Mixed, required: true },
    batchIds: { type: [String], default: undefined, required: true },
    orderIds: { type: [String], default: undefined, required: true },
    accounts: { type: [String], default: undefined, required: true },
  },
  { ...rootOptions, collection: "events" },
);
eventSchema.index({ batchIds: 1, _id: 1 });
eventSchema.index({ orderIds: 1, _id: 1 });
eventSchema.index({ accounts: 1, _id: 1 });
eventSchema.index({ transactionHash: 1, _id: 1 });
eventSchema.index({ name: 1, _id: 1 }); // a rare event name would otherwise walk the whole _id index for a page
eventSchema.index({ chainId: 1, blockNumber: 1 }); // rollback deletes, per-chain counts, block ranges
// contract alone walks the _id index in order and stops after the page: Provena has three contracts.

const participantSchema = new Schema<ParticipantDoc>(
  {
    _id: { type: String, required: true },
    participantId: { type: Number, required: true },
    gln: String,
    name: String,
    roles: { type: [String], default: undefined, required: true },
    suspended: { type: Boolean, required: true },
    onboarded: { type: eventRefSchema, required: true },
    lastEvent: { type: eventRefSchema, required: true },
  },
  { ...rootOptions, collection: "participants" },
);
participantSchema.index({ "onboarded.eventId": 1, _id: 1 });
participantSchema.index({ roles: 1, "onboarded.eventId": 1, _id: 1 });
participantSchema.index({ suspended: 1, "onboarded.eventId": 1, _id: 1 });

const custodyStepSchema = new Schema<CustodyStepDoc>(
  {
    kind: { type: String, enum: ["proposed", "accepted", "rejected", "cancelled"] },
    from: String,
    to: String,
    locationGln: nullableString,
    businessStep: nullableString,
    reasonHash: nullableString,
    at: { type: eventRefSchema, required: true },
  },
  subOptions,
);

const inspectionSchema = new Schema<InspectionDoc>(
  {
    inspector: String,
    passed: { type: Boolean, required: true },
    reportHash: String,
    at: { type: eventRefSchema, required: true },
  },
  subOptions,
);

const recallSchema = new Schema(
  {
    by: String,
    reasonHash: String,
    at: { type: eventRefSchema, required: true },
  },
  subOptions,
);

const batchSchema = new Schema<BatchDoc>(
  {
    _id: { type: String, required: true },
    gtin: String,
    lot: String,
    quantity: String,
    productionDate: { type: Number, required: true },
    originGln: String,
    documentHash: String,
    serialRoot: String,
    manufacturer: String,
    custodian: String,
    pendingCustodian: nullableString,
    status: { type: String, enum: ["registered", "in_transit", "delivered", "split", "recalled"] },
    inspection: { type: String, enum: ["none", "passed", "failed"] },
    inspections: { type: [inspectionSchema], default: undefined, required: true },
    custody: { type: [custodyStepSchema], default: undefined, required: true },
    parentId: nullableString,
    childIds: { type: [String], default: undefined, required: true },
    recall: { type: recallSchema, default: null },
    registered: { type: eventRefSchema, required: true },
    lastEvent: { type: eventRefSchema, required: true },
  },
  { ...rootOptions, collection: "batches" },
);
batchSchema.index({ gtin: 1, lot: 1 }, { unique: true });
batchSchema.index({ "registered.eventId": 1, _id: 1 });
batchSchema.index({ gtin: 1, "registered.eventId": 1, _id: 1 }); // a product's lots, in registration order
batchSchema.index({ lot: 1, "registered.eventId": 1, _id: 1 });
batchSchema.index({ manufacturer: 1, "registered.eventId": 1, _id: 1 });
batchSchema.index({ custodian: 1, "registered.eventId": 1, _id: 1 });
batchSchema.index({ status: 1, "registered.eventId": 1, _id: 1 });
batchSchema.index({ parentId: 1, "registered.eventId": 1, _id: 1 });

const payoutsSchema = new Schema(
  {
    buyer: String,
    seller: String,
    carrier: String,
    platform: String,
  },
  subOptions,
);

const orderSchema = new Schema<OrderDoc>(
  {
    _id: { type: String, required: true },
    buyer: String,
    seller: String,
    carrier: String,
    token: String,
    amount: String,
    batchId: String,
    sellerBps: { type: Number, required: true },
    carrierBps: { type: Number, required: true },
    platformBps: { type: Number, required: true },
    deliveryDeadline: { type: Number, required: true },
    disputeWindow: { type: Number, required: true },
    requiresPassingInspection: { type: Boolean, required: true },
    fallbackBuyerBps: { type: Number, required: true },
    salt: String,
    state: {
      type: String,
      enum: ["funded", "delivered", "disputed", "released", "refunded", "resolved", "cancelled"],
    },
    deliveredAt: nullableNumber,
    disputedAt: nullableNumber,
    disputedBy: nullableString,
    cancellationApprovedBy: { type: [String], default: undefined, required: true },
    payouts: { type: payoutsSchema, default: null },
    refundReason: nullableString,
    opened: { type: eventRefSchema, required: true },
    lastEvent: { type: eventRefSchema, required: true },
  },
  { ...rootOptions, collection: "orders" },
);
orderSchema.index({ "opened.eventId": 1, _id: 1 });
orderSchema.index({ buyer: 1, "opened.eventId": 1, _id: 1 });
orderSchema.index({ seller: 1, "opened.eventId": 1, _id: 1 });
orderSchema.index({ carrier: 1, "opened.eventId": 1, _id: 1 });
orderSchema.index({ batchId: 1, "opened.eventId": 1, _id: 1 });
orderSchema.index({ state: 1, "opened.eventId": 1, _id: 1 });

const blockSchema = new Schema<BlockDoc>(
  {
    _id: { type: String, required: true },
    chainId: { type: Number, required: true },
    number: { type: Number, required: true },
    hash: String,
    parentHash: String,
    timestamp: { type: Number, required: true },
  },
  { ...rootOptions, collection: "blocks" },
);
blockSchema.index({ chainId: 1, number: 1 }, { unique: true });

const checkpointSchema = new Schema<CheckpointDoc>(
  {
    _id: { type: Number, required: true },
    blockNumber: { type: Number, required: true },
    blockHash: nullableString,
    updatedAt: { type: Number, required: true },
  },
  { ...rootOptions, collection: "checkpoints" },
);

const leaseSchema = new Schema<LeaseDoc>(
  {
    _id: { type: String, required: true },
    holder: String,
    expiresAt: { type: Number, required: true },
  },
  { ...rootOptions, collection: "leases" },
);

const serialSetSchema = new Schema<SerialSetDoc>(
  {
    _id: { type: String, required: true },
    count: { type: Number, required: true },
    chunkCount: { type: Number, required: true },
    createdAt: { type: Number, required: true },
  },
  { ...rootOptions, collection: "serialsets" },
);

const serialChunkSchema = new Schema<SerialChunkDoc>(
  {
    _id: { type: String, required: true },
    serialRoot: String,
    index: { type: Number, required: true },
    serials: { type: [String], default: undefined, required: true },
  },
  { ...rootOptions, collection: "serialchunks" },
);
serialChunkSchema.index({ serialRoot: 1, index: 1 }, { unique: true });

const scanSchema = new Schema<ScanDoc>(
  {
    batchId: String,
    serial: nullableString,
    at: { type: Number, required: true },
    region: String,
  },
  { ...rootOptions, collection: "scans" },
);
scanSchema.index({ batchId: 1, serial: 1, at: 1 });

const claimSchema = new Schema<ClaimDoc>(
  {
    batchId: String,
    serial: String,
    owner: String,
    claimedAt: { type: Number, required: true },
  },
  { ...rootOptions, collection: "claims" },
);
claimSchema.index({ batchId: 1, serial: 1 }, { unique: true });

const relaySchema = new Schema<RelayDoc>(
  {
    _id: { type: String, required: true },
    chainId: { type: Number, required: true },
    from: String,
    to: String,
    value: String,
    gas: String,
    nonce: String,
    deadline: { type: Number, required: true },
    data: String,
    signature: String,
    kind: String,
    status: { type: String, enum: ["queued", "submitted", "mined", "failed"] },
    attempts: { type: Number, required: true },
    transactionHash: nullableString,
    relayerNonce: nullableNumber,
    gasPrice: nullableString,
    error: nullableString,
    blockNumber: nullableNumber,
    createdAt: { type: Number, required: true },
    updatedAt: { type: Number, required: true },
  },
  { ...rootOptions, collection: "relays" },
);
relaySchema.index({ status: 1, createdAt: 1, _id: 1 });

const rollbackMarkerSchema = new Schema<RollbackMarkerDoc>(
  {
    _id: { type: Number, required: true },
    token: String,
    forkBlock: { type: Number, required: true },
    checkpoint: {
      type: new Schema(
        {
          chainId: { type: Number, required: true },
          blockNumber: { type: Number, required: true },
          blockHash: nullableString,
          updatedAt: { type: Number, required: true },
        },
        subOptions,
      ),
      required: true,
    },
    itemCount: { type: Number, required: true },
    startedAt: { type: Number, required: true },
  },
  { ...rootOptions, collection: "rollbacks" },
);

const rollbackItemSchema = new Schema<RollbackItemDoc>(
  {
    _id: { type: String, required: true },
    chainId: { type: Number, required: true },
    token: String,
    seq: { type: Number, required: true },
    kind: { type: String, enum: ["batch", "participant", "order"] },
    key: String,
    doc: { type: Schema.Types.Mixed, default: null },
  },
  { ...rootOptions, collection: "rollbackitems" },
);
rollbackItemSchema.index({ chainId: 1, token: 1, seq: 1 });

// ---------------------------------------------------------------------------------------------------------

export interface MirrorModels {
  events: Model<EventDoc>;
  participants: Model<ParticipantDoc>;
  batches: Model<BatchDoc>;
  orders: Model<OrderDoc>;
  blocks: Model<BlockDoc>;
  checkpoints: Model<CheckpointDoc>;
  leases: Model<LeaseDoc>;
  serialSets: Model<SerialSetDoc>;
  serialChunks: Model<SerialChunkDoc>;
  scans: Model<ScanDoc>;
  claims: Model<ClaimDoc>;
  relays: Model<RelayDoc>;
  rollbacks: Model<RollbackMarkerDoc>;
  rollbackItems: Model<RollbackItemDoc>;
}

/** Compiles the models on a dedicated connection (never the global mongoose connection). */
export function createModels(connection: Connection): MirrorModels {
  return {
    events: connection.model<EventDoc>("Event", eventSchema),
    participants: connection.model<ParticipantDoc>("Participant", participantSchema),
    batches: connection.model<BatchDoc>("Batch", batchSchema),
    orders: connection.model<OrderDoc>("Order", orderSchema),
    blocks: connection.model<BlockDoc>("Block", blockSchema),
    checkpoints: connection.model<CheckpointDoc>("Checkpoint", checkpointSchema),
    leases: connection.model<LeaseDoc>("Lease", leaseSchema),
    serialSets: connection.model<SerialSetDoc>("SerialSet", serialSetSchema),
    serialChunks: connection.model<SerialChunkDoc>("SerialChunk", serialChunkSchema),
    scans: connection.model<ScanDoc>("Scan", scanSchema),
    claims: connection.model<ClaimDoc>("Claim", claimSchema),
    relays: connection.model<RelayDoc>("Relay", relaySchema),
    rollbacks: connection.model<RollbackMarkerDoc>("Rollback", rollbackMarkerSchema),
    rollbackItems: connection.model<RollbackItemDoc>("RollbackItem", rollbackItemSchema),
  };
}

export function blockDocId(chainId: number, number: number): string {
  return `${chainId}:${number}`;
}

export function serialChunkId(serialRoot: Hex, index: number): string {
  return `${serialRoot}:${index}`;
}
