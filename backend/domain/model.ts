/**
 * The domain model, imported by every layer (chain, projections, stores, services, routes, passports, relayer).
 * Chain values are JSON-safe: addresses are lower-case 0x strings, bytes32 are lower-case 0x hex,
 * uint256/uint64 are decimal strings, small numbers (block numbers, timestamps, bps) are numbers.
 */

export type Hex = `0x${string}`;

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Natural key of a log: replays of the same log map to the same id. */
export function chainEventId(chainId: number, blockNumber: number, logIndex: number): string {
  return `${chainId}:${String(blockNumber).padStart(12, "0")}:${String(logIndex).padStart(6, "0")}`;
}

/** One decoded contract event, exactly as the chain logged it. The mirror's source of truth. */
export interface ChainEvent {
  id: string; // chainEventId(chainId, blockNumber, logIndex): sorts in chain order
  chainId: number;
  blockNumber: number;
  blockHash: Hex;
  blockTimestamp: number; // unix seconds
  transactionHash: Hex;
  transactionIndex: number;
  logIndex: number;
  contract:
    | "ProvenanceRegistry"
    | "TradeEscrow"
    | "ProvenaForwarder"
    | "DesignRegistry"
    | "ProductDataRegistry"
    | "ColdChain"
    | "UnitOwnership"
    | "LogisticUnits"
    | "Transformations";
  address: Hex;
  name: string; // event name, e.g. "HandoffAccepted"
  args: Record<string, JsonValue>; // decoded by name; structs as objects
  /** Entity keys this event touches, for lookups and rollback: batch ids, order ids, participant addresses. */
  batchIds: Hex[];
  orderIds: Hex[];
  accounts: Hex[];
}

export type BatchStatus = "registered" | "in_transit" | "delivered" | "split" | "recalled";
export type InspectionResult = "none" | "passed" | "failed";

/** Where in the chain a projection was last changed. */
export interface EventRef {
  eventId: string;
  blockNumber: number;
  blockTimestamp: number;
  transactionHash: Hex;
}

export interface Participant {
  address: Hex;
  participantId: number;
  gln: string; // 13 digits
  name: string;
  roles: string[]; // "MANUFACTURER" | "CARRIER" | "INSPECTOR" | "RETAILER" | "REGULATOR" | "ARBITER" | "ADMIN" | other role hash
  /** GS1 company prefixes granted to this manufacturer, as digit strings with leading zeros ("0614141"). */
  companyPrefixes: string[];
  suspended: boolean;
  onboarded: EventRef;
  lastEvent: EventRef; // last event applied: re-applying any event at or before it is a no-op
}

export interface CustodyStep {
  kind: "proposed" | "accepted" | "rejected" | "cancelled";
  from: Hex;
  to: Hex;
  locationGln: string | null;
  businessStep: string | null; // CBV name: "shipping", "receiving", ...
  reasonHash: Hex | null;
  at: EventRef;
}

export interface Inspection {
  inspector: Hex;
  passed: boolean;
  reportHash: Hex;
  at: EventRef;
}

export interface Batch {
  batchId: Hex;
  gtin: string; // 14 digits, zero-padded
  lot: string;
  quantity: string;
  productionDate: number; // unix seconds
  originGln: string;
  documentHash: Hex;
  serialRoot: Hex;
  manufacturer: Hex;
  custodian: Hex;
  pendingCustodian: Hex | null;
  status: BatchStatus;
  inspection: InspectionResult; // latest attestation
  inspections: Inspection[];
  custody: CustodyStep[]; // the timeline, in chain order
  parentId: Hex | null;
  childIds: Hex[];
  /** The batch's own recall; an ancestor's recall reaches it too (see read-model/batch-history.ts effectiveStatus). */
  recall: { by: Hex; reasonHash: Hex; at: EventRef } | null;
  /** True while the custody observer (the escrow) watches the batch for an open order (BatchWatchChanged). */
  watched: boolean;
  /**
   * SSCC of the container (LogisticUnits) the batch is packed in directly, null once unpacked; absent when it was
   * never packed. While packed, the registry's `custodian` is the LogisticUnits contract: the goods are held by
   * the custodian of the outermost container enclosing this one.
   */
  packedIn?: string | null;
  registered: EventRef;
  lastEvent: EventRef;
}

export type OrderState = "funded" | "delivered" | "disputed" | "released" | "refunded" | "resolved" | "cancelled";

export interface Order {
  orderId: Hex;
  buyer: Hex;
  seller: Hex;
  carrier: Hex;
  token: Hex; // 0x000…0 for ETH
  amount: string;
  batchId: Hex;
  sellerBps: number;
  carrierBps: number;
  platformBps: number;
  deliveryDeadline: number;
  disputeWindow: number;
  /** The inspector whose passing attestation release requires; null when the order requires no inspection. */
  inspector: Hex | null;
  fallbackBuyerBps: number;
  salt: Hex;
  /**
   * ITradeEscrow.BreachTerms (BREACH_TERMS in backend/chain/vocabulary.ts): what a cold-chain breach of the
   * carrier does to the order; absent means "none", as for every order mirrored before orders had breach terms.
   */
  breachTerms?: "none" | "refund_freight" | "reject_goods" | "dispute";
  state: OrderState;
  /**
   * The named inspector's latest result while the order awaited settlement, as the escrow records it
   * (OrderInspected); "none" until then, and always for an order without an inspector. Another inspector's
   * attestation of the batch never changes it.
   */
  inspection: InspectionResult;
  deliveredAt: number | null;
  disputedAt: number | null;
  /** The buyer or the seller who opened the dispute. */
  disputedBy: Hex | null;
  cancellationApprovedBy: Hex[];
  payouts: { buyer: string; seller: string; carrier: string; platform: string } | null;
  refundReason: string | null;
  opened: EventRef;
  lastEvent: EventRef;
}

/** One input of a transformation: a lot consumed whole, with the registry quantity the event records. */
export interface TransformationInput {
  batchId: Hex;
  quantity: string;
}

/** A RecalledInputFlagged event: `outputId` was recalled in the registry because its input `inputId` reads Recalled. */
export interface TransformationRecallFlag {
  outputId: Hex;
  inputId: Hex;
  flaggedBy: Hex;
  at: EventRef;
}

/**
 * A merge (Transformations.TransformationRecorded, the EPCIS TransformationEvent): `processor` consumed `inputs` at
 * `locationGln` and produced the lots `outputIds`. Each lot is consumed by at most one transformation and produced by
 * at most one (the contract refuses a second), so lineage through merges is a DAG the store indexes both ways.
 */
export interface Transformation {
  /** The contract's counter in decimal (from 1): the EPCIS transformationID. */
  transformationId: string;
  processor: Hex;
  locationGln: string; // 13 digits
  /** Commits to the processor's record (recipe, batch sheet). */
  documentHash: Hex;
  /** In the event's order. */
  inputs: TransformationInput[];
  /** In the event's order. */
  outputIds: Hex[];
  /** Outputs recalled through a recalled input, in chain order. */
  recallFlags: TransformationRecallFlag[];
  recorded: EventRef;
  lastEvent: EventRef;
}

/** Block the indexer has processed, kept for reorg detection. */
export interface IndexedBlock {
  chainId: number;
  number: number;
  hash: Hex;
  parentHash: Hex;
  timestamp: number;
}

export interface Checkpoint {
  chainId: number;
  /** Highest block whose events and projections are fully stored. */
  blockNumber: number;
  blockHash: Hex | null;
  updatedAt: number; // unix ms
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * Unit serials of a batch, stored at registration so proofs can be built later. Keyed by serialRoot.
 * The root commits to the serials, so the first put of a root wins and a later put of the same root is a no-op
 * (the stored `createdAt` and serials stay). Serials come back in the order given, byte for byte.
 */
export interface SerialSet {
  serialRoot: Hex;
  serials: string[]; // in tree-leaf insertion order
  createdAt: number; // unix ms
}

/** One consumer scan of a passport. No IP is stored, only a coarse region (e.g. a country code or "unknown"). */
export interface ScanRecord {
  batchId: Hex;
  serial: string | null; // null for a batch-level link
  at: number; // unix ms
  region: string;
}

export interface ScanStats {
  total: number;
  regions: string[]; // distinct regions, most frequent first; ties in region order (ascending)
  firstAt: number | null;
  lastAt: number | null;
  recent: number; // scans with `at` >= the `recentSinceMs` asked for
}

/**
 * A unit's ownership token (IUnitOwnership, ERC-721), mirrored from UnitClaimed and the Transfers after it.
 * `tokenId` is uint256(keccak256(abi.encode(batchId, serial))) in decimal; `batchId` is the registered batch (a
 * split child's unit maps to its registered ancestor). Times are block timestamps (unix seconds).
 */
export interface UnitToken {
  tokenId: string;
  batchId: Hex;
  serial: string;
  owner: Hex;
  /** When the current owner received it: the claim, or the last transfer. */
  ownedSince: number;
  claimedAt: number;
  /** The earlier holders, oldest first: the claimant, then each owner before the current one. */
  previousOwners: Hex[];
  /** Every change of hands after the claim, in chain order; a rollback truncates it. */
  transfers: { from: Hex; to: Hex; at: EventRef }[];
  claimed: EventRef;
  lastEvent: EventRef;
}

/** The claim keys a batch's manufacturer committed (ClaimRootCommitted): once per registered batch. */
export interface ClaimRoot {
  batchId: Hex;
  manufacturer: Hex;
  /** Root of the StandardMerkleTree over [string serial, address claimKey] leaves. */
  claimRoot: Hex;
  units: number;
  committed: EventRef;
}

/**
 * A manufacturer's claim tree (the OpenZeppelin StandardMerkleTree dump, leaves [serial, claimKey]) uploaded so
 * the claim relay can find a unit's claim key and proof. Keyed by its root; the first upload wins.
 */
export interface ClaimTree {
  claimRoot: Hex;
  /** The dump exactly as StandardMerkleTree.dump() gives it. */
  dump: JsonValue;
  createdAt: number; // unix ms
}

/**
 * Where a unit's accepted claim came from: a coarse region (a country code, as scans keep it), never an address.
 * The passport flags scans of a unit still with its claimant that come from elsewhere (a copied code).
 */
export interface ClaimRegion {
  tokenId: string;
  region: string;
  at: number; // unix ms
}

/** @deprecated The database claim that the on-chain ownership token replaced; kept readable, no longer written. */
export interface UnitClaim {
  batchId: Hex;
  serial: string;
  owner: string; // an owner handle: an address or an opaque hash the claimant chose; never personal data
  claimedAt: number;
}

export type RelayStatus = "queued" | "submitted" | "mined" | "failed";

/** A partner's signed ERC2771 forward request, accepted by the API and submitted by the relayer. */
export interface RelayRequest {
  id: string; // hash of the signed request: resubmitting the same request maps to the same id
  chainId: number;
  from: Hex;
  to: Hex;
  value: string;
  gas: string;
  nonce: string;
  deadline: number;
  data: Hex;
  signature: Hex;
  kind: string; // "partner" | "keeper"; keeper jobs carry no signature (relayer sends them directly)
  status: RelayStatus;
  attempts: number;
  transactionHash: Hex | null;
  relayerNonce: number | null;
  gasPrice: string | null; // last fee used, for gas bumps
  error: string | null;
  blockNumber: number | null;
  createdAt: number;
  updatedAt: number;
}

/**
 * A holder's signed statement that it knows of a batch's recall (backend/recalls/acknowledgement.ts builds the text
 * it signs, EIP-191): the recalled batch, the holder, the instant and the chain, so anyone can check it.
 */
/**
 * A seller's consent that a financier may read its orders (as seller) in the mirror's API until `expiresAt`
 * (backend/finance/order-read-grants.ts). Times are unix ms; a revoked grant keeps `revokedAt`.
 */
export interface OrderReadGrant {
  seller: Hex;
  financier: Hex;
  grantedAt: number;
  expiresAt: number;
  revokedAt: number | null;
}

/**
 * One uploaded version of a product's (GTIN) or a batch's Digital Product Passport data (backend/product-data):
 * the canonical JSON (RFC 8785) exactly as hashed, and keccak256 of it, the hash ProductDataRegistry anchors.
 */
export interface ProductDataDocument {
  /** "gtin:<14 digits>" or "batch:<batchId>". */
  subject: string;
  contentHash: Hex;
  canonicalJson: string;
  uploadedBy: Hex;
  /** Unix ms. */
  uploadedAt: number;
}

/** What a batch document is (backend/documents). */
export const BATCH_DOCUMENT_KINDS = [
  "inspection-report",
  "certificate",
  "declaration-of-conformity",
  "invoice",
  "batch-record",
  "other",
] as const;
export type BatchDocumentKind = (typeof BATCH_DOCUMENT_KINDS)[number];

/**
 * Who may read a batch document: everyone, partners in the batch's chain of custody (and regulators), or only
 * authorities (regulators) and its uploader. The same levels as product data fields.
 */
export const BATCH_DOCUMENT_AUDIENCES = ["public", "partners", "authorities"] as const;
export type BatchDocumentAudience = (typeof BATCH_DOCUMENT_AUDIENCES)[number];

/**
 * A document about a batch (backend/documents), uploaded by a participant of its chain of custody and stored off
 * chain; keccak256 of its bytes is what ProductDataRegistry.anchorBatchDocument anchors. One per (batchId,
 * contentHash): the first upload's metadata is kept.
 */
export interface BatchDocument {
  batchId: Hex;
  /** keccak256 of the bytes: the hash anchored on chain. */
  contentHash: Hex;
  /** sha256 of the bytes (hex, 0x-prefixed), for tools that verify with sha256sum. */
  sha256: Hex;
  kind: BatchDocumentKind;
  audience: BatchDocumentAudience;
  title: string;
  /** The media type the bytes were recognised as (never the client's claim). */
  contentType: string;
  /** Bytes. */
  size: number;
  uploadedBy: Hex;
  /** Unix ms. */
  uploadedAt: number;
}

/**
 * A document about a product model (GTIN) alone (backend/documents): a declaration of conformity, a test report, a
 * repair manual…, uploaded by the holder of the GTIN's company prefix and stored off chain; keccak256 of its bytes
 * is what ProductDataRegistry.anchorProductDocument anchors. One per (gtin, contentHash): the first upload is kept.
 */
export interface ProductDocument extends Omit<BatchDocument, "batchId" | "kind"> {
  /** GTIN-14, zero-padded. */
  gtin: string;
  kind: BatchDocumentKind;
}

/** What a document anchor is about: a batch, or a product model (GTIN) alone. */
export type DocumentSubject = { kind: "batch"; batchId: Hex } | { kind: "product"; gtin: string };

/**
 * A document anchor as the mirror keeps it (backend/documents/document-anchors.ts derives it from the
 * BatchDocumentAnchored and ProductDocumentAnchored events), indexed by the document's hash so anyone holding the
 * bytes finds where they are anchored without naming a batch. Everything in it is public on chain.
 */
export interface DocumentAnchorRecord {
  /** The event's chainEventId: the natural key, so a replay writes nothing new. */
  eventId: string;
  chainId: number;
  blockNumber: number;
  transactionHash: Hex;
  /** keccak256 of the document's bytes. */
  contentHash: Hex;
  subject: DocumentSubject;
  anchoredBy: Hex;
  /** Unix seconds (the block's timestamp). */
  anchoredAt: number;
}

export interface RecallAcknowledgement {
  /** The batch whose own recall is acknowledged (a recalled lot, not a descendant the recall reaches). */
  batchId: Hex;
  holder: Hex;
  /** Unix ms, as signed. */
  acknowledgedAt: number;
  chainId: number;
  signature: Hex;
  /** The lots affected by the recall the holder held when it acknowledged. */
  heldBatchIds: Hex[];
}

/**
 * A DesignRegistry registration as the mirror keeps it (backend/designs/design-records.ts derives it from the
 * DesignRegistered event): `registrant` registered the Merkle root `root` of design files at `registeredAt`.
 */
export interface DesignRegistration {
  /** The event's chainEventId: the natural key, so a replay writes nothing new. */
  eventId: string;
  chainId: number;
  blockNumber: number;
  transactionHash: Hex;
  registrant: Hex;
  root: Hex;
  /** Unix seconds (the block's timestamp). */
  registeredAt: number;
  title: string;
  licence: string;
  /** Zero hash when the registrant gave none. */
  licenceHash: Hex;
}

/** A DesignLinked (`linked` true) or DesignUnlinked event: the GTIN's company-prefix holder `by` changed a link. */
export interface DesignLinkChange {
  eventId: string;
  chainId: number;
  blockNumber: number;
  transactionHash: Hex;
  /** GTIN-14, zero-padded. */
  gtin: string;
  registrant: Hex;
  root: Hex;
  linked: boolean;
  by: Hex;
  /** Unix seconds (the block's timestamp). */
  at: number;
}

/** What happened to a logistic unit (LogisticUnits), one step per event that changed it. */
export type ContainerStepKind =
  | "created"
  | "batch_packed"
  | "batch_unpacked"
  /** Another container (`sscc`) was packed into this one. */
  | "container_packed"
  /** Container `sscc` was taken out of this one. */
  | "container_unpacked"
  /** This container was packed into container `sscc`. */
  | "packed_into"
  /** This container was taken out of container `sscc`. */
  | "unpacked_from"
  | "handoff_proposed"
  | "handoff_accepted"
  | "handoff_rejected"
  | "handoff_cancelled"
  /** A packed batch's recall was counted (PackedBatchRecallFlagged): the container no longer moves. */
  | "recall_flagged";

/**
 * One step of a container's history. Every field the step does not concern is null. The steps are the whole
 * record: the container's state is their fold (backend/projections/containers.ts), so a reorg cuts them.
 */
export interface ContainerStep {
  kind: ContainerStepKind;
  /** Who acted: the creator, the packer, the custodian proposing or cancelling a handoff, the receiver answering it. */
  by: Hex;
  /** handoff_*: the receiver proposed; for accepted/rejected/cancelled, the receiver too (`by` is who acted). */
  to: Hex | null;
  /** batch_packed, batch_unpacked, recall_flagged: the batch. */
  batchId: Hex | null;
  /** container_packed / container_unpacked: the inner container; packed_into / unpacked_from: the outer. */
  sscc: string | null;
  locationGln: string | null;
  businessStep: string | null;
  reasonHash: Hex | null;
  /** batch_unpacked: false for a recalled batch, which stays in the LogisticUnits contract's registry custody. */
  released: boolean | null;
  at: EventRef;
}

/**
 * A logistic unit (GS1 SSCC, AI 00) mirrored from LogisticUnits. `custodian` is the contract's record: while the
 * container is packed in another it is stale (whoever packed it), and the goods are held by the outermost
 * container's custodian, which readers resolve through `parentSscc`.
 */
export interface Container {
  sscc: string; // 18 digits
  creator: Hex;
  custodian: Hex;
  pendingHandoff: { to: Hex; locationGln: string; businessStep: string; proposed: EventRef } | null;
  /** Where the container last was, as its last located step says. */
  locationGln: string;
  /** The container it is packed in directly, or null (state "open"). */
  parentSscc: string | null;
  state: "open" | "packed";
  /** Batches directly inside, in the order they were packed. */
  batchIds: Hex[];
  /** Containers directly inside, in the order they were packed. */
  containerSsccs: string[];
  /** Batches directly inside whose recall was flagged on chain (they block this container and every enclosing one). */
  recallFlaggedBatchIds: Hex[];
  history: ContainerStep[];
  created: EventRef;
  lastEvent: EventRef;
}
