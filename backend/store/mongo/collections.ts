/**
 * The MongoDB store's collections: how a domain object becomes a document, and the indexes, created by init().
 *
 * Documents are the domain objects of backend/domain/model.ts stored whole: the natural key becomes `_id` (event
 * id, batch id, address, order id, relay id, chain id of a checkpoint, "chainId:number" of a block), every other
 * field is stored as the object has it, and reading removes `_id` again. There is no per-field schema and no
 * field mapping, so a new domain field is stored and read back with no change here; the queried and indexed fields
 * are paths of the domain documents themselves (`FieldPath` checks them against the model at compile time).
 * The driver is used through mongoose's connection: mongoose's casting and minimising would change documents.
 *
 * Indexes put the equality field first and the list's sort key after it (equality, sort, range), so every
 * filtered, paginated list is an index walk that stops after limit + 1 documents. createIndexes never drops an
 * index, and gives each the driver's default name ("gtin_1_lot_1"), the names mongoose gave them before.
 *
 * Sharding (when one replica set is outgrown; every query and upsert includes the shard key where it has to):
 * - events:        { _id: "hashed" }          lookups by id are targeted, lists by entity are scatter-gather.
 * - batches:       { gtin: 1, lot: 1 }        the unique (gtin, lot) index must be prefixed by the shard key;
 *                                               batchId = keccak256(gtin, lot), so _id stays unique too. The
 *                                               projection upsert filters on _id AND gtin, lot for this reason.
 * - orders:        { _id: "hashed" }
 * - scans:         { batchId: "hashed" }      every scan query is per batch, so it targets one shard.
 * - claims:        { batchId: 1, serial: 1 }  prefix of the unique index.
 * - serialchunks:  { serialRoot: 1 }          a set is read and written by its root.
 * - unittokens:    { _id: "hashed" }          looked up by token id.
 * - containers:    { _id: "hashed" }          looked up by SSCC; lists by custodian or batch are scatter-gather.
 * - participants, blocks, checkpoints, leases, relays, serialsets, rollbacks, rollbackitems, designregistrations,
 *   designlinkchanges, claimroots, claimtrees, claimregions, transformations: small, unsharded.
 */
import type { mongo } from "mongoose";

import type {
  Batch,
  ChainEvent,
  Checkpoint,
  DesignLinkChange,
  DesignRegistration,
  Hex,
  IndexedBlock,
  Order,
  Participant,
  RelayRequest,
  ScanRecord,
  OrderReadGrant,
  ProductDataDocument,
  BatchDocument,
  DocumentAnchorRecord,
  ProductDocument,
  RecallAcknowledgement,
  UnitClaim,
  UnitToken,
  ClaimRoot,
  ClaimTree,
  ClaimRegion,
  Transformation,
  Container,
} from "../../domain/model.ts";
import { encodeContribution, lotContribution, orderContribution, type TrackRecordContribution } from "../../reputation/track-record.ts";

/** A natural key (string or number), or the ObjectId the server gives scans and claims. */
export type DocumentId = string | number | mongo.ObjectId;

/** A stored document; its `_id` is a natural key, not an ObjectId, unless the server made it. */
export interface MongoDocument extends mongo.Document {
  _id: DocumentId;
}
export type MongoCollection = mongo.Collection<MongoDocument>;

/**
 * A copy of `value` without the fields set to undefined, at every depth, and with null for an undefined array
 * item: what JSON.stringify (so the SQLite store) makes of them. BSON would store such fields as null, and the
 * document would not come back as the SQLite store gives it back.
 */
export function withoutUndefined<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item) => (item === undefined ? null : withoutUndefined(item))) as T;
  if (value === null || typeof value !== "object" || Object.getPrototypeOf(value) !== Object.prototype) return value;
  const copy: Record<string, unknown> = {};
  for (const [field, fieldValue] of Object.entries(value)) {
    if (fieldValue !== undefined) copy[field] = withoutUndefined(fieldValue);
  }
  return copy as T;
}

/** How one kind of domain object is stored: a pure, two-way conversion that keeps every field. */
export interface DocumentCodec<T> {
  toDocument(value: T): MongoDocument;
  fromDocument(document: MongoDocument): T;
}

/** The natural key `keyField` is the `_id`; the other fields are the document. */
export function keyedBy<T extends object>(keyField: keyof T & string): DocumentCodec<T> {
  return {
    toDocument(value) {
      const { [keyField]: key, ...fields } = value as Record<string, unknown>;
      return { _id: key as DocumentId, ...withoutUndefined(fields) };
    },
    fromDocument({ _id, ...fields }) {
      return { [keyField]: _id, ...fields } as T;
    },
  };
}

/**
 * A computed `_id` (a composite key) next to every field of the object; with `idOf` null, the server's ObjectId,
 * which insertOne adds to the document it is given.
 */
export function withId<T extends object>(idOf: ((value: T) => string | number) | null): DocumentCodec<T> {
  return {
    toDocument(value) {
      const fields = withoutUndefined(value) as Record<string, unknown>;
      return (idOf === null ? { ...fields } : { _id: idOf(value), ...fields }) as MongoDocument;
    },
    fromDocument({ _id, ...fields }) {
      return fields as T;
    },
  };
}

export function blockDocId(chainId: number, number: number): string {
  return `${chainId}:${number}`;
}

export function serialChunkId(serialRoot: Hex, index: number): string {
  return `${serialRoot}:${index}`;
}

/**
 * A codec that also stores the object's track-record contribution (backend/reputation/track-record.ts) in
 * `trackRecord`: the participants it names, for the index, and the contribution itself. It is part of the document,
 * so every write (a range, a replay, a rollback) keeps it in step; reads drop it.
 */
export function withTrackRecord<T extends object>(
  codec: DocumentCodec<T>,
  contributionOf: (value: T) => TrackRecordContribution,
): DocumentCodec<T> {
  return {
    toDocument(value) {
      const contribution = contributionOf(value);
      const participants = [
        ...new Set([...Object.keys(contribution.counts), ...contribution.openDeadlines.map((entry) => entry.participant)]),
      ];
      return { ...codec.toDocument(value), trackRecord: { participants, contribution: encodeContribution(contribution) } };
    },
    fromDocument({ trackRecord: _trackRecord, ...document }) {
      return codec.fromDocument(document as MongoDocument);
    },
  };
}

/** The one place that says how each domain object is stored. */
export const documents = {
  event: keyedBy<ChainEvent>("id"),
  // A lot's recall is counted at read time (its split root needs other documents): the stored contribution has none.
  batch: withTrackRecord(keyedBy<Batch>("batchId"), (batch) => lotContribution(batch, null)),
  participant: keyedBy<Participant>("address"),
  order: withTrackRecord(keyedBy<Order>("orderId"), (order) => orderContribution(order)),
  checkpoint: keyedBy<Checkpoint>("chainId"),
  relay: keyedBy<RelayRequest>("id"),
  block: withId<IndexedBlock>((block) => blockDocId(block.chainId, block.number)),
  scan: withId<ScanRecord>(null),
  claim: withId<UnitClaim>(null),
  recallAcknowledgement: withId<RecallAcknowledgement>(null),
  orderReadGrant: withId<OrderReadGrant>(null),
  designRegistration: keyedBy<DesignRegistration>("eventId"),
  designLinkChange: keyedBy<DesignLinkChange>("eventId"),
  productDataDocument: withId<ProductDataDocument>(null),
  documentAnchor: keyedBy<DocumentAnchorRecord>("eventId"),
  unitToken: keyedBy<UnitToken>("tokenId"),
  claimRoot: keyedBy<ClaimRoot>("batchId"),
  claimTree: keyedBy<ClaimTree>("claimRoot"),
  claimRegion: keyedBy<ClaimRegion>("tokenId"),
  transformation: keyedBy<Transformation>("transformationId"),
  container: keyedBy<Container>("sscc"),
};

// --- the adapter's own records (not domain objects) -----------------------------------------------------------

export interface LeaseRecord {
  _id: string; // lease name
  holder: string;
  expiresAt: number; // unix ms, set from the caller's clock
}

export interface SpentSignInNonce {
  _id: string; // the nonce
  expiresAt: Date; // a Date, so the TTL index can remove it
}

export interface SerialSetHeader {
  _id: Hex; // serialRoot; written after all chunks, so its presence means the set is complete
  count: number;
  chunkCount: number;
  createdAt: number;
}

export interface SerialChunk {
  _id: string; // serialChunkId(serialRoot, index)
  serialRoot: Hex;
  index: number;
  serials: string[];
}

/**
 * A rollback in progress (write-ahead record). Written after its items and before any destructive step, removed
 * when the rollback is complete: while it exists, the rollback counts as committed (see mirror-log.ts).
 */
export interface RollbackMarker {
  _id: number; // chainId: at most one rollback per chain at a time
  token: string; // ties the marker to its items
  forkBlock: number;
  checkpoint: Checkpoint;
  itemCount: number;
  startedAt: number;
}

export type ProjectionKind = "batch" | "participant" | "order" | "unitToken" | "claimRoot" | "transformation" | "container";

/** One projection a rollback replaces (`doc`, the projection's document) or deletes (`doc` null). */
export interface RollbackItem {
  _id: string; // `${chainId}:${token}:${seq}`
  chainId: number;
  token: string;
  seq: number;
  kind: ProjectionKind;
  key: string; // a batch id, address or order id; a unit token's id in decimal; a container's SSCC
  doc: MongoDocument | null;
}

// --- collections and indexes ----------------------------------------------------------------------------------

/** "field" or "field.subfield" of a domain type: an index or filter path that exists in the model. */
export type FieldPath<T> = {
  [K in keyof T & string]: NonNullable<T[K]> extends readonly unknown[]
    ? K
    : NonNullable<T[K]> extends object
      ? K | `${K}.${keyof NonNullable<T[K]> & string}`
      : K;
}[keyof T & string];

/** An ascending index on paths of the stored document (`_id` being the natural key). */
function index<T>(fields: Array<FieldPath<T> | "_id">, options: { unique?: true } = {}): mongo.IndexDescription {
  return { key: Object.fromEntries(fields.map((field) => [field, 1])), ...options };
}

type Stored<T, Key extends keyof T> = Omit<T, Key>;

export interface CollectionSpec {
  name: string;
  indexes: mongo.IndexDescription[];
}

export const COLLECTIONS = {
  events: {
    name: "events",
    indexes: [
      ...(["batchIds", "orderIds", "accounts", "transactionHash"] as const).map((field) => index<Stored<ChainEvent, "id">>([field, "_id"])),
      index<Stored<ChainEvent, "id">>(["name", "_id"]), // a rare event name would otherwise walk the whole _id index for a page
      // An account's rare events (a manufacturer's ProductDataPublished, read by every passport): one exact range,
      // where { accounts, _id } walks everything the account ever did and { name, _id } every account's events.
      index<Stored<ChainEvent, "id">>(["accounts", "name", "_id"]),
      index<Stored<ChainEvent, "id">>(["chainId", "blockNumber"]), // rollback deletes, per-chain counts, block ranges
      // contract alone walks the _id index in order and stops after the page: Provena has three contracts.
    ],
  },
  participants: {
    name: "participants",
    indexes: [
      index<Stored<Participant, "address">>(["onboarded.eventId", "_id"]),
      ...(["roles", "suspended"] as const).map((field) => index<Stored<Participant, "address">>([field, "onboarded.eventId", "_id"])),
    ],
  },
  batches: {
    name: "batches",
    indexes: [
      index<Stored<Batch, "batchId">>(["gtin", "lot"], { unique: true }),
      index<Stored<Batch, "batchId">>(["registered.eventId", "_id"]),
      ...(["gtin", "lot", "manufacturer", "custodian", "status", "parentId"] as const).map((field) =>
        index<Stored<Batch, "batchId">>([field, "registered.eventId", "_id"]),
      ),
      // manufacturer + status, the filter pair a dashboard lists by: one exact range, however rare the status.
      index<Stored<Batch, "batchId">>(["manufacturer", "status", "registered.eventId", "_id"]),
      { key: { "trackRecord.participants": 1 } },
      // A manufacturer's recalled lots, for its track record: one range however many lots it made.
      index<Stored<Batch, "batchId">>(["manufacturer", "recall.by"]),
    ],
  },
  orders: {
    name: "orders",
    indexes: [
      index<Stored<Order, "orderId">>(["opened.eventId", "_id"]),
      ...(["buyer", "seller", "carrier", "batchId", "state"] as const).map((field) =>
        index<Stored<Order, "orderId">>([field, "opened.eventId", "_id"]),
      ),
      { key: { "trackRecord.participants": 1 } },
    ],
  },
  blocks: { name: "blocks", indexes: [index<IndexedBlock>(["chainId", "number"], { unique: true })] },
  checkpoints: { name: "checkpoints", indexes: [] },
  leases: { name: "leases", indexes: [] },
  serialSets: { name: "serialsets", indexes: [] },
  serialChunks: { name: "serialchunks", indexes: [index<SerialChunk>(["serialRoot", "index"], { unique: true })] },
  scans: { name: "scans", indexes: [index<ScanRecord>(["batchId", "serial", "at"])] },
  claims: { name: "claims", indexes: [index<UnitClaim>(["batchId", "serial"], { unique: true })] },
  relays: { name: "relays", indexes: [index<Stored<RelayRequest, "id">>(["status", "createdAt", "_id"])] },
  rollbacks: { name: "rollbacks", indexes: [] },
  /** One document per one-time data migration finished on this database (e.g. "trackRecords"). */
  storeMigrations: { name: "storemigrations", indexes: [] },
  // MongoDB's TTL monitor removes a spent nonce once its expiry has passed (it runs about once a minute).
  recallAcknowledgements: {
    name: "recallacknowledgements",
    indexes: [
      index<RecallAcknowledgement>(["batchId", "holder"], { unique: true }),
      index<RecallAcknowledgement>(["batchId", "acknowledgedAt", "holder"]),
    ],
  },
  orderReadGrants: {
    name: "orderreadgrants",
    indexes: [
      index<OrderReadGrant>(["seller", "financier"], { unique: true }),
      index<OrderReadGrant>(["financier", "grantedAt", "seller"]),
    ],
  },
  // DesignRegistry records, one per event (_id: its eventId, so chain order): by root / GTIN, and by block for rollbacks.
  designRegistrations: {
    name: "designregistrations",
    indexes: [
      index<Stored<DesignRegistration, "eventId">>(["root", "_id"]),
      index<Stored<DesignRegistration, "eventId">>(["chainId", "blockNumber"]),
    ],
  },
  designLinkChanges: {
    name: "designlinkchanges",
    indexes: [
      index<Stored<DesignLinkChange, "eventId">>(["gtin", "_id"]),
      index<Stored<DesignLinkChange, "eventId">>(["chainId", "blockNumber"]),
    ],
  },
  productDataDocuments: {
    name: "productdatadocuments",
    indexes: [
      index<ProductDataDocument>(["subject", "contentHash"], { unique: true }),
      index<ProductDataDocument>(["subject", "uploadedAt", "contentHash"]),
    ],
  },
  // Metadata of batch documents; their bytes live in the GridFS bucket of the same name (batch-documents.ts).
  batchDocuments: {
    name: "batchdocuments",
    indexes: [
      index<BatchDocument>(["batchId", "uploadedAt", "contentHash"]),
      index<BatchDocument>(["contentHash", "uploadedAt", "batchId"]),
    ],
  },
  // Metadata of product-model (GTIN) documents; their bytes in the GridFS bucket of the same name.
  productDocuments: {
    name: "productdocuments",
    indexes: [index<ProductDocument>(["gtin", "uploadedAt", "contentHash"])],
  },
  // Mirrored document anchors, one per event (_id: its eventId, so chain order): by hash, and by block for rollbacks.
  documentAnchors: {
    name: "documentanchors",
    indexes: [
      index<Stored<DocumentAnchorRecord, "eventId">>(["contentHash", "_id"]),
      index<Stored<DocumentAnchorRecord, "eventId">>(["chainId", "blockNumber"]),
    ],
  },
  unitTokens: { name: "unittokens", indexes: [index<Stored<UnitToken, "tokenId">>(["owner", "_id"])] },
  claimRoots: { name: "claimroots", indexes: [] },
  // LogisticUnits containers (_id: the SSCC), listed by creation; batchIds is multikey: "which container holds this batch".
  containers: {
    name: "containers",
    indexes: [
      index<Stored<Container, "sscc">>(["created.eventId", "_id"]),
      ...(["custodian", "parentSscc", "batchIds"] as const).map((field) =>
        index<Stored<Container, "sscc">>([field, "created.eventId", "_id"]),
      ),
    ],
  },
  claimTrees: { name: "claimtrees", indexes: [] },
  claimRegions: { name: "claimregions", indexes: [] },
  // Merges (transformations.ts), _id the transformation id: looked up by input lot ("what was it consumed in") and by
  // output lot ("what made it"), multikey indexes over the lot arrays; results sort by when they were recorded.
  transformations: {
    name: "transformations",
    indexes: [{ key: { "inputs.batchId": 1, "recorded.eventId": 1 } }, { key: { outputIds: 1, "recorded.eventId": 1 } }],
  },
  signInNonces: { name: "signinnonces", indexes: [{ key: { expiresAt: 1 }, expireAfterSeconds: 0 }] },
  rollbackItems: { name: "rollbackitems", indexes: [index<RollbackItem>(["chainId", "token", "seq"])] },
  // The cold chain (cold-chain.ts): versions by key then event id, facts by what lists filter on, and the
  // (chainId, blockNumber) a rollback deletes by.
  coldDevices: { name: "colddevices", indexes: [{ key: { key: 1, eventId: -1 } }, { key: { chainId: 1, blockNumber: 1 } }] },
  coldLegs: {
    name: "coldlegs",
    indexes: [
      { key: { key: 1, eventId: -1 } },
      { key: { batchId: 1, attachedEventId: 1 } },
      { key: { device: 1, attachedEventId: 1 } },
      { key: { chainId: 1, blockNumber: 1 } },
    ],
  },
  coldConditions: { name: "coldconditions", indexes: [{ key: { key: 1, eventId: -1 } }, { key: { chainId: 1, blockNumber: 1 } }] },
  coldAnchors: { name: "coldanchors", indexes: [{ key: { legId: 1, _id: 1 } }, { key: { chainId: 1, blockNumber: 1 } }] },
  coldBreaches: {
    name: "coldbreaches",
    indexes: [{ key: { batchId: 1, _id: 1 } }, { key: { legId: 1, _id: 1 } }, { key: { chainId: 1, blockNumber: 1 } }],
  },
  // _id is "device:sequence"; the time series is read per batch by time and per leg by sequence.
  readings: {
    name: "readings",
    indexes: [
      { key: { batchId: 1, timestamp: 1, device: 1, sequence: 1 } },
      { key: { legId: 1, sequence: 1 } },
      { key: { device: 1, sequence: -1 } },
    ],
  },
  rejectedReadings: { name: "rejectedreadings", indexes: [{ key: { reason: 1, _id: 1 } }] },
  rejectionCounts: { name: "rejectioncounts", indexes: [] },
  // The anchorer's plans (reading-anchor-records.ts): _id "legId:root", listed per leg by first sequence.
  readingAnchorPlans: { name: "readinganchorplans", indexes: [{ key: { legId: 1, firstSequence: 1, root: 1 } }] },
} satisfies Record<string, CollectionSpec>;

export type MongoCollections = { [Name in keyof typeof COLLECTIONS]: MongoCollection };

export function openCollections(db: mongo.Db): MongoCollections {
  const entries = Object.entries(COLLECTIONS).map(([key, spec]) => [key, db.collection(spec.name)]);
  return Object.fromEntries(entries) as MongoCollections;
}

/** Creates the indexes that are missing; never drops one (an operator's own, or one a newer instance needs). */
export async function createIndexes(collections: MongoCollections): Promise<void> {
  for (const [key, spec] of Object.entries(COLLECTIONS) as Array<[keyof MongoCollections, CollectionSpec]>) {
    if (spec.indexes.length > 0) await collections[key].createIndexes(spec.indexes);
  }
}
