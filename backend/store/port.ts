/**
 * The store port: the only way any part of the backend reads or writes persistent state.
 * Two adapters implement it: MongoDB (mongoose, production) and embedded SQLite (node:sqlite, zero-setup).
 * Both must pass the same contract suite (test/backend/store/store.behavior.ts), and both are laid out the same
 * way, one file per concern below: sqlite/{mirror-log,projections,leases,passport-records,relay-queue}.ts and
 * mongo/{mirror-log,projections,leases,passport-records,relay-queue}.ts, composed by each adapter's index.ts.
 *
 * The port is split by concern so a service can take only what it needs (`MirrorLog`, `ProjectionReads`,
 * `Leases`, `PassportRecords`, `RelayQueue`); `MirrorStore` is all of them plus the lifecycle.
 *
 * Adding a field to a domain document (backend/domain/model.ts) is one edit there, plus its migration:
 * - both adapters store each document whole (SQLite: JSON in the `doc` column; MongoDB: the object itself with
 *   its natural key as `_id`), so a new field is written and read back without any change here;
 * - only a field that lists FILTER on needs more: a column and index in a new SQLite migration
 *   (sqlite/schema.ts) and an index in mongo/collections.ts, plus the filter field below;
 * - documents written before the field existed come back without it: the migration backfills them (an
 *   UPDATE of `doc` for SQLite, an updateMany for MongoDB) or the reader treats the field as optional.
 *
 * Crash-safety rule for the mirror: every write is idempotent, and a projection carries `lastEvent`,
 * so replaying a range that was partly written converges on the same data. SQLite makes each call atomic
 * with a transaction; MongoDB orders its writes so that the checkpoint moves last.
 *
 * Precise semantics both adapters follow (the contract suite checks each of them):
 * - Hex values (addresses, ids, hashes) are lower-case, as domain/model.ts says; adapters compare them exactly and
 *   callers (the API) normalise input first. Timestamps are passed in by callers (Date.now()), never read from
 *   a database clock, so tests and several instances agree on time.
 * - Every filter field is optional and all given fields must match (AND). A filter on `batchId`, `orderId` or
 *   `account` of events matches when the value is one of the event's `batchIds`, `orderIds` or `accounts`.
 * - Lists are keyset-paginated in one stable order:
 *     listEvents:       `id` ascending (chain order; ids of one chain sort by block, then log index);
 *     listBatches:      `registered.eventId` ascending, then `batchId` (registration order);
 *     listOrders:       `opened.eventId` ascending, then `orderId`;
 *     listParticipants: `onboarded.eventId` ascending, then `address`;
 *     listContainers:   `created.eventId` ascending, then `sscc`.
 *   A page holds at most `limit` items; `nextCursor` is null exactly when no further item matches (adapters read
 *   limit + 1), so a caller never gets an empty last page. A cursor is an opaque string meaningful only to the
 *   adapter that produced it; a malformed cursor, or a `limit` that is not an integer in 1..500, throws a
 *   DomainError of kind "invalid-input" (backend/domain/errors.ts).
 * - getBatches / getParticipants / getOrders return the documents found, once each, in the order of the first
 *   occurrence of their key in the argument; unknown keys are left out.
 * - Documents come back exactly as written (deep-equal to the object stored), with no adapter fields (_id etc.);
 *   a field set to undefined is not stored (as in JSON), so it comes back absent.
 */
import type { Readable } from "node:stream";
import type {
  Batch,
  BatchStatus,
  ChainEvent,
  Checkpoint,
  DesignLinkChange,
  DesignRegistration,
  Hex,
  IndexedBlock,
  Order,
  OrderState,
  Page,
  Participant,
  OrderReadGrant,
  ProductDataDocument,
  BatchDocument,
  DocumentAnchorRecord,
  ProductDocument,
  RecallAcknowledgement,
  RelayRequest,
  RelayStatus,
  ScanRecord,
  ScanStats,
  SerialSet,
  UnitClaim,
  UnitToken,
  ClaimRoot,
  ClaimTree,
  ClaimRegion,
  Transformation,
  Container,
} from "../domain/model.ts";
import type {
  BatchColdChainConditions,
  ColdChainBreach,
  ColdChainChanges,
  ColdChainDevice,
  ColdChainLeg,
  ProductColdChainConditions,
  ReadingsAnchor,
  ReadingsAnchorPlan,
  RejectedReading,
  RejectionReason,
  StoredReading,
} from "../domain/cold-chain.ts";

import type { TrackRecordTotals } from "../reputation/track-record.ts";

export type StoreKind = "sqlite" | "mongodb";

/**
 * Everything one indexed block range produces, written as one unit; the checkpoint moves last.
 * - events: inserted unless an event with the same `id` exists; an existing event is kept unchanged, so
 *   committing the same range twice leaves the same data and the same counts.
 * - blocks: upserted by (chainId, number); a later commit replaces the header stored for that number.
 * - batches / participants / orders: the full document replaces the stored one (by batchId / address / orderId),
 *   unless the stored one has seen a later event (stored lastEvent.eventId > the new one's): then that document
 *   is skipped, so a stale writer (an indexer whose lease ran out mid-range) cannot undo newer state. An equal
 *   lastEvent replaces. A rollback, by contrast, writes its recomputed documents unconditionally.
 * - checkpoint: replaces the checkpoint of `chainId`, whatever it was (rollback moves it back the same way).
 */
export interface RangeCommit {
  chainId: number;
  events: ChainEvent[];
  blocks: IndexedBlock[]; // headers of blocks in the range that the reorg check needs (at least every block with events, and the range's last block)
  batches: Batch[]; // projections after the range's events, full documents (upsert by batchId)
  participants: Participant[];
  orders: Order[];
  /** DesignRegistry records of the range's events (backend/designs/design-records.ts): inserted unless one with the same eventId exists. */
  designRegistrations?: DesignRegistration[];
  designLinkChanges?: DesignLinkChange[];
  /**
   * Cold-chain changes (backend/projections/cold-chain.ts), absent without a cold-chain contract. Versions of
   * devices, legs and conditions are inserted keyed by (key, lastEvent.eventId), facts (anchors, breaches) by
   * their event id; an existing one is kept, so a replay changes nothing, and the latest version by event id is
   * what reads return, so a stale writer cannot undo newer state.
   */
  coldChain?: ColdChainChanges;
  /** Unit tokens and claim roots after the range (absent = none changed); same freshness rule, by tokenId / batchId. */
  unitTokens?: UnitToken[];
  claimRoots?: ClaimRoot[];
  /** Transformations (merges) after the range (absent = none changed); same freshness rule, by transformationId. */
  transformations?: Transformation[];
  /** Document anchors of the range's events (backend/documents/document-anchors.ts): inserted unless one with the same eventId exists. */
  documentAnchors?: DocumentAnchorRecord[];
  /** LogisticUnits containers after the range (absent = none changed); same freshness rule, by sscc. */
  containers?: Container[];
  checkpoint: Checkpoint;
}

/**
 * Undoes everything above `forkBlock` (exclusive: blocks <= forkBlock stay): deletes the events and block headers
 * of `chainId` with a number > forkBlock, replaces the listed projections with their recomputed documents,
 * deletes the projections named in delete*, and sets the checkpoint. Events and blocks of other chains stay.
 * Design records (registrations, link changes) and document anchors of `chainId` above forkBlock go with their events.
 * Cold-chain versions and facts of `chainId` made by events above forkBlock are deleted too (the versions below
 * the fork are the latest again). Ingested readings are off-chain data and stay.
 */
export interface RollbackCommit {
  chainId: number;
  forkBlock: number;
  /** Projections recomputed from the events that remain at or below forkBlock. */
  batches: Batch[];
  participants: Participant[];
  orders: Order[];
  /** Projections whose creating event is gone: delete them. */
  deleteBatchIds: Hex[];
  deleteParticipantAddresses: Hex[];
  deleteOrderIds: Hex[];
  /** Unit tokens as they were at the fork (written unconditionally), and ownership documents created above it. */
  unitTokens?: UnitToken[];
  deleteUnitTokenIds?: string[];
  deleteClaimRootBatchIds?: Hex[];
  /** Transformations as they were at the fork (written unconditionally), and those recorded above it. */
  transformations?: Transformation[];
  deleteTransformationIds?: string[];
  /** Containers as they were at the fork (written unconditionally), and the SSCCs of containers created above it. */
  containers?: Container[];
  deleteContainerSsccs?: string[];
  checkpoint: Checkpoint;
}

export interface EventFilter {
  chainId?: number;
  batchId?: Hex;
  orderId?: Hex;
  account?: Hex;
  transactionHash?: Hex;
  contract?: ChainEvent["contract"];
  name?: string;
  fromBlock?: number; // inclusive
  toBlock?: number; // inclusive
}

export interface BatchFilter {
  gtin?: string;
  lot?: string;
  manufacturer?: Hex;
  custodian?: Hex;
  status?: BatchStatus;
  parentId?: Hex;
}

export interface OrderFilter {
  buyer?: Hex;
  seller?: Hex;
  carrier?: Hex;
  batchId?: Hex;
  state?: OrderState;
}

export interface ContainerFilter {
  /** The container's own custodian record (stale while it is packed: see Container). */
  custodian?: Hex;
  /** Containers holding this batch directly (at most one at a time). */
  batchId?: Hex;
  /** Containers packed directly in this one; null: outermost containers only. */
  parentSscc?: string | null;
}

export interface ParticipantFilter {
  role?: string;
  suspended?: boolean;
}

/** Cursor pagination: `cursor` is opaque (the adapter's own encoding), `limit` 1..500. */
export interface PageRequest {
  limit: number;
  cursor?: string | null;
}

/** Start-up and shutdown of a store; every adapter has them. */
export interface StoreLifecycle {
  readonly kind: StoreKind;
  /** One line for start-up logs, e.g. "SQLite at data/provena.db" or "MongoDB at mongodb://host/provena". */
  describe(): string;
  /** Creates tables / indexes; safe to call on every start. */
  init(): Promise<void>;
  /** Releases the connection; calling it again is a no-op. */
  close(): Promise<void>;
  /**
   * A token that differs whenever anything in the store may have changed since it was last read, by this process
   * or another, found without reading any table (SQLite: this connection's change count and the file's data
   * version). Lets a reader keep what it derived from the store until the token moves. Absent where the adapter
   * cannot tell cheaply (MongoDB): readers then read what they need every time.
   */
  changeToken?(): string;
}

/** The mirror of the chain: its event log, the block headers the reorg check needs, and the checkpoint. */
export interface MirrorLog {
  commitRange(commit: RangeCommit): Promise<void>;
  rollback(commit: RollbackCommit): Promise<void>;
  /** Null before the first commit of `chainId`. */
  getCheckpoint(chainId: number): Promise<Checkpoint | null>;
  /** Stored block headers with number in [from, to], ascending. */
  getBlocks(chainId: number, from: number, to: number): Promise<IndexedBlock[]>;
  /** Events in chain order. */
  listEvents(filter: EventFilter, page: PageRequest): Promise<Page<ChainEvent>>;
  /** All stored events, or those of `chainId`. */
  countEvents(chainId?: number): Promise<number>;
}

/** The projections the mirror keeps (written by MirrorLog's commits), by key and as filtered lists. */
export interface ProjectionReads {
  getBatch(batchId: Hex): Promise<Batch | null>;
  getBatches(batchIds: Hex[]): Promise<Batch[]>;
  listBatches(filter: BatchFilter, page: PageRequest): Promise<Page<Batch>>;
  findBatchByGtinLot(gtin: string, lot: string): Promise<Batch | null>;
  getParticipant(address: Hex): Promise<Participant | null>;
  getParticipants(addresses: Hex[]): Promise<Participant[]>;
  listParticipants(filter: ParticipantFilter, page: PageRequest): Promise<Page<Participant>>;
  getOrder(orderId: Hex): Promise<Order | null>;
  getOrders(orderIds: Hex[]): Promise<Order[]>;
  listOrders(filter: OrderFilter, page: PageRequest): Promise<Page<Order>>;
}

/** Single-writer leases: exactly one indexer (and relayer) at a time across instances. */
export interface Leases {
  /**
   * Takes or renews `name` for `holder` until now+ttlMs (now = Date.now() in the caller's process), as one
   * compare-and-set: it succeeds when nobody holds the lease, when `holder` already holds it (renewal), or when
   * the other holder's lease has expired (expiresAt <= now). True when `holder` holds it afterwards.
   */
  acquireLease(name: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Gives the lease up at once so another instance can take it; a no-op unless `holder` holds it. */
  releaseLease(name: string, holder: string): Promise<void>;
  /**
   * Who holds `name` and until when (Unix ms, the holder's clock), or null when nobody does. An expired lease
   * may still be returned (expiresAt <= now) until someone takes it: it is the last holder, for status reports.
   */
  readLease(name: string): Promise<LeaseHolding | null>;
}

/** One lease as the store keeps it. */
export interface LeaseHolding {
  holder: string;
  expiresAt: number;
}

/** What the digital product passport keeps off-chain: unit serial sets, consumer scans and unit claims. */
export interface PassportRecords {
  putSerialSet(set: SerialSet): Promise<void>; // idempotent per serialRoot
  getSerialSet(serialRoot: Hex): Promise<SerialSet | null>;
  recordScan(scan: ScanRecord): Promise<void>;
  /**
   * Stats of the scans recorded with exactly this batchId and serial (serial null = the batch-level link only,
   * not the batch's units). `recentSinceMs` is a unix ms instant: `recent` counts scans with at >= it.
   * With no scans: total 0, regions [], firstAt and lastAt null, recent 0.
   */
  scanStats(batchId: Hex, serial: string | null, recentSinceMs: number): Promise<ScanStats>;
  /**
   * @deprecated Database claims, replaced by on-chain ownership tokens (UnitOwnership): nothing writes them any
   * more; kept so stored claims stay readable. First claim wins; returns the claim in force afterwards.
   */
  claimUnit(claim: UnitClaim): Promise<UnitClaim>;
  getUnitClaim(batchId: Hex, serial: string): Promise<UnitClaim | null>;
}

/**
 * Unit ownership: tokens and claim roots (written by MirrorLog's commits, like the other projections) and the
 * manufacturers' claim trees the claim relay reads (written by the API).
 */
export interface UnitOwnershipRecords {
  /** `tokenId` in decimal. */
  getUnitToken(tokenId: string): Promise<UnitToken | null>;
  /** Found tokens, once each, in the order of their first id in the argument; unknown ids left out. */
  getUnitTokens(tokenIds: string[]): Promise<UnitToken[]>;
  getClaimRoot(batchId: Hex): Promise<ClaimRoot | null>;
  /** Found claim roots, once each, in argument order; unknown batch ids left out. */
  getClaimRoots(batchIds: Hex[]): Promise<ClaimRoot[]>;
  /** Stores the tree unless one with its root exists; returns the tree in force (the first, unchanged). */
  putClaimTree(tree: ClaimTree): Promise<ClaimTree>;
  getClaimTree(claimRoot: Hex): Promise<ClaimTree | null>;
  /** Records where the latest accepted claim of a token came from, replacing an earlier record. */
  putClaimRegion(record: ClaimRegion): Promise<void>;
  getClaimRegion(tokenId: string): Promise<ClaimRegion | null>;
}

/** Most lots one lineage lookup of transformations takes (callers read a trace generation in chunks of this size). */
export const MAX_TRANSFORMATION_LOTS = 1_000;

/**
 * Merges (written by MirrorLog's commits, like the other projections), read by id and by lot both ways. A lot is
 * consumed by at most one transformation and produced by at most one (the contract refuses a second), so each
 * lineage lookup returns at most as many documents as it is given lots; found ones come once each, in the order
 * they were recorded (recorded.eventId). More than MAX_TRANSFORMATION_LOTS lots throws a DomainError "invalid-input".
 */
export interface TransformationRecords {
  /** `transformationId` in decimal. */
  getTransformation(transformationId: string): Promise<Transformation | null>;
  /** Found ones, once each, in the order of their first id in the argument; unknown ids left out. */
  getTransformations(transformationIds: string[]): Promise<Transformation[]>;
  /** "What was this lot consumed in": the transformations with any of `batchIds` among their inputs. */
  findTransformationsConsuming(batchIds: Hex[]): Promise<Transformation[]>;
  /** "What made this lot": the transformations with any of `batchIds` among their outputs. */
  findTransformationsProducing(batchIds: Hex[]): Promise<Transformation[]>;
}

/**
 * LogisticUnits containers (written by MirrorLog's commits, like the other projections). getContainers follows
 * getBatches' rules; listContainers is keyset-paginated by `created.eventId`, then `sscc`.
 */
export interface ContainerReads {
  getContainer(sscc: string): Promise<Container | null>;
  getContainers(ssccs: string[]): Promise<Container[]>;
  listContainers(filter: ContainerFilter, page: PageRequest): Promise<Page<Container>>;
  /** The container holding `batchId` directly, or null when it is not packed. */
  findContainerHoldingBatch(batchId: Hex): Promise<Container | null>;
}

/** The relayer's durable queue of signed forward requests. */
export interface RelayQueue {
  /** Inserts unless the id exists; returns the stored request (existing one on a resubmit). */
  enqueueRelay(request: RelayRequest): Promise<{ request: RelayRequest; created: boolean }>;
  getRelay(id: string): Promise<RelayRequest | null>;
  /** Requests in `statuses`, oldest first (createdAt ascending, then id); at most `limit` (a positive integer). */
  listRelays(statuses: RelayStatus[], limit: number): Promise<RelayRequest[]>;
  /**
   * Compare-and-set on status: applies `patch` only if the stored status is `expected`; true when applied,
   * false when the status differs or the id is unknown. The patch is merged field by field as given: a field set
   * to undefined is ignored, null is stored as null; the caller sets `updatedAt`; `id` is never changed.
   */
  updateRelay(id: string, expected: RelayStatus, patch: Partial<RelayRequest>): Promise<boolean>;
}

/** Sign-in nonces already spent (EIP-4361): each nonce signs in once, across every API worker and instance. */
export interface AuthNonces {
  /**
   * Records `nonce` as spent until `expiresAt` (unix ms; it is refused by its expiry anyway after that, so the
   * store may forget it then). True the first time, false when it was spent before.
   */
  consumeSignInNonce(nonce: string, expiresAt: number): Promise<boolean>;
}

/** Holders' signed acknowledgements of recalls (backend/recalls): off chain, each verifiable from its signature. */
export interface RecallAcknowledgements {
  /** First acknowledgement per (batchId, holder) wins; returns the one in force afterwards. */
  putRecallAcknowledgement(acknowledgement: RecallAcknowledgement): Promise<RecallAcknowledgement>;
  /** Every acknowledgement of the recall of `batchId`, by acknowledgedAt then holder. */
  listRecallAcknowledgements(batchId: Hex): Promise<RecallAcknowledgement[]>;
}

/** Sellers' grants of read access to their orders (backend/finance/order-read-grants.ts). */
export interface OrderReadGrants {
  /** Writes the grant of (seller, financier), replacing any earlier one of that pair. */
  putOrderReadGrant(grant: OrderReadGrant): Promise<void>;
  /**
   * Grants by `seller` or to `financier` (at least one given), ordered by grantedAt then the other party; with
   * `activeAt`, only those neither revoked nor expired at that instant (unix ms). At most 500.
   */
  listOrderReadGrants(filter: { seller?: Hex; financier?: Hex; activeAt?: number }): Promise<OrderReadGrant[]>;
}

/** The mirrored DesignRegistry records (written by MirrorLog's commits, removed by its rollbacks). */
export interface DesignProofRecords {
  /** Every registration of `root`, by any registrant, in chain order. */
  listDesignRegistrations(root: Hex): Promise<DesignRegistration[]>;
  /** Every link change of `gtin` (GTIN-14), in chain order; backend/designs folds them into the links in force. */
  listDesignLinkChanges(gtin: string): Promise<DesignLinkChange[]>;
}

export interface ColdChainLegFilter {
  batchId?: Hex;
  device?: Hex;
}

export interface ColdChainBreachFilter {
  batchId?: Hex;
  legId?: Hex;
}

/**
 * The cold-chain projections (written by commitRange's `coldChain`): each get/list returns the latest version
 * of each document. get* follow getBatches' rules (found ones once each, in argument order); lists are in chain
 * order (legs by attached.eventId, anchors and breaches by at.eventId). A list with an empty filter lists all.
 */
export interface ColdChainReads {
  getColdChainDevices(addresses: Hex[]): Promise<ColdChainDevice[]>;
  getColdChainLegs(legIds: Hex[]): Promise<ColdChainLeg[]>;
  listColdChainLegs(filter: ColdChainLegFilter): Promise<ColdChainLeg[]>;
  getBatchConditions(batchIds: Hex[]): Promise<BatchColdChainConditions[]>;
  getProductConditions(gtins: string[]): Promise<ProductColdChainConditions[]>;
  listReadingsAnchors(legId: Hex): Promise<ReadingsAnchor[]>;
  listColdChainBreaches(filter: ColdChainBreachFilter): Promise<ColdChainBreach[]>;
}

/** Exactly one of them: the readings of a batch (by timestamp, device, sequence) or of a leg (by sequence). */
export type ReadingFilter = { batchId: Hex; legId?: undefined } | { legId: Hex; batchId?: undefined };

/** A rejected reading as stored: `id` sorts in the order they were stored. */
export interface StoredRejectedReading extends RejectedReading {
  id: string;
}

/**
 * Device-signed sensor readings (backend/coldchain): a time series keyed by (device, sequence).
 * - storeReadings writes a batch of accepted and rejected readings in one go. An accepted reading whose (device,
 *   sequence) is already stored is not written and comes back in `duplicates` (another instance took it first);
 *   everything else is stored.
 * - listReadings pages (limit 1..500, cursor as every list) through a batch's readings by timestamp, device,
 *   sequence, or a leg's by sequence.
 * - rejectionCounts: how many readings were rejected for each reason, ever (reasons never seen are absent).
 */
export interface ColdChainReadings {
  storeReadings(accepted: StoredReading[], rejected: RejectedReading[]): Promise<{ duplicates: StoredReading[] }>;
  /** Whether a reading of `device` with `sequence` is stored. */
  hasReading(device: Hex, sequence: number): Promise<boolean>;
  /** The highest stored sequence of each device that has readings. */
  lastReadingSequences(devices: Hex[]): Promise<Map<Hex, number>>;
  listReadings(filter: ReadingFilter, page: PageRequest): Promise<Page<StoredReading>>;
  countReadings(filter: ReadingFilter): Promise<number>;
  rejectionCounts(): Promise<Partial<Record<RejectionReason, number>>>;
  /** Rejected readings, oldest first, optionally of one reason. */
  listRejectedReadings(filter: { reason?: RejectionReason }, page: PageRequest): Promise<Page<StoredRejectedReading>>;
}

/**
 * The anchorer's records (backend/coldchain/anchor-worker.ts): the roots it built from stored readings, and the
 * readings of a leg by sequence range it builds them from.
 */
export interface ReadingAnchorRecords {
  /** Records a plan; when one of the same (legId, root) is stored already, the stored one stays. */
  putReadingsAnchorPlan(plan: ReadingsAnchorPlan): Promise<void>;
  /** The plans of `legId`, by firstSequence then root. */
  listReadingsAnchorPlans(legId: Hex): Promise<ReadingsAnchorPlan[]>;
  /** The leg's readings with fromSequence <= sequence <= toSequence, by sequence; at most `limit` (1..100,000). */
  listLegReadingRange(legId: Hex, fromSequence: number, toSequence: number, limit: number): Promise<StoredReading[]>;
}

/** Most readings listLegReadingRange returns at once. */
export const MAX_READING_RANGE = 100_000;

/** Uploaded versions of product and batch data (backend/product-data); anchors are the mirrored chain events. */
export interface ProductDataDocuments {
  /** Stores an uploaded version; the same (subject, contentHash) again keeps the first upload. Returns the stored one. */
  putProductDataDocument(document: ProductDataDocument): Promise<ProductDataDocument>;
  getProductDataDocument(subject: string, contentHash: Hex): Promise<ProductDataDocument | null>;
  /** The subject's uploads by uploadedAt, then contentHash; at most MAX_PRODUCT_DATA_LISTED. */
  listProductDataDocuments(subject: string): Promise<ProductDataDocument[]>;
}

export const MAX_PRODUCT_DATA_LISTED = 500;

/** Documents about batches (backend/documents): metadata and bytes, stored together; anchors are mirrored events. */
export interface BatchDocuments {
  /**
   * Stores a document's metadata and bytes (contentHash must be keccak256 of `content`; callers compute it). The
   * same (batchId, contentHash) again keeps the first upload, bytes and metadata. Returns the stored metadata.
   */
  putBatchDocument(document: BatchDocument, content: Uint8Array): Promise<BatchDocument>;
  getBatchDocument(batchId: Hex, contentHash: Hex): Promise<BatchDocument | null>;
  /** The stored bytes, streamed; null when no such document is stored. */
  openBatchDocumentContent(batchId: Hex, contentHash: Hex): Promise<Readable | null>;
  /** The batch's documents by uploadedAt, then contentHash; at most MAX_BATCH_DOCUMENTS_LISTED. */
  listBatchDocuments(batchId: Hex): Promise<BatchDocument[]>;
  /** Documents with these bytes, whatever their batch, by uploadedAt then batchId; at most MAX_BATCH_DOCUMENTS_LISTED. */
  findBatchDocumentsByHash(contentHash: Hex): Promise<BatchDocument[]>;
}

export const MAX_BATCH_DOCUMENTS_LISTED = 500;

/** Documents about product models (GTINs) alone (backend/documents): as BatchDocuments, keyed by GTIN. */
export interface ProductDocuments {
  /** Stores metadata and bytes; the same (gtin, contentHash) again keeps the first upload. Returns the stored metadata. */
  putProductDocument(document: ProductDocument, content: Uint8Array): Promise<ProductDocument>;
  getProductDocument(gtin: string, contentHash: Hex): Promise<ProductDocument | null>;
  openProductDocumentContent(gtin: string, contentHash: Hex): Promise<Readable | null>;
  /** The GTIN's documents by uploadedAt, then contentHash; at most MAX_BATCH_DOCUMENTS_LISTED. */
  listProductDocuments(gtin: string): Promise<ProductDocument[]>;
}

/** The mirrored document anchors (written by MirrorLog's commits), by the anchored hash. */
export interface DocumentAnchorRecords {
  /** Anchors of `contentHash`, whatever their batch or GTIN, in chain order; at most MAX_DOCUMENT_ANCHORS_LISTED. */
  listDocumentAnchors(contentHash: Hex): Promise<DocumentAnchorRecord[]>;
}

export const MAX_DOCUMENT_ANCHORS_LISTED = 500;

/**
 * Partners' track records (backend/reputation/track-record.ts), kept by commitRange and rollback as they write
 * batches and orders: each document's contribution is stored with it and its difference added to the totals in the
 * same commit (SQLite: one transaction; MongoDB: contributions live on the documents and are summed at read), so
 * the totals are always those of the stored documents.
 */
export interface TrackRecordReads {
  /**
   * The totals of each of `addresses` (zeros for an address with no orders or lots), open orders counted late when
   * their deadline is before `asOf` (unix seconds: the indexed block's time).
   */
  getTrackRecordTotals(addresses: Hex[], asOf: number): Promise<Map<Hex, TrackRecordTotals>>;
}

/** The whole store, as the composition roots (main.ts, tests) open it. */
export interface MirrorStore
  extends
    StoreLifecycle,
    MirrorLog,
    ProjectionReads,
    Leases,
    PassportRecords,
    RelayQueue,
    AuthNonces,
    RecallAcknowledgements,
    OrderReadGrants,
    DesignProofRecords,
    ColdChainReads,
    ColdChainReadings,
    ReadingAnchorRecords,
    ProductDataDocuments,
    BatchDocuments,
    ProductDocuments,
    DocumentAnchorRecords,
    UnitOwnershipRecords,
    TransformationRecords,
    ContainerReads,
    TrackRecordReads {}
