/**
 * Port types <-> MongoDB documents. Every field is copied by name in both directions, so a document read back
 * is deep-equal to the object written: the natural key moves between `id`/`batchId`/... and `_id`, nothing else
 * changes, and no adapter field (_id, __v, mongoose internals) reaches a caller.
 *
 * Writes are checked for completeness first: a field that is `undefined` would silently vanish in BSON and
 * come back missing, so it is refused here with the field's name instead.
 */
import type {
  Batch,
  ChainEvent,
  Checkpoint,
  CustodyStep,
  EventRef,
  Hex,
  IndexedBlock,
  Inspection,
  JsonValue,
  Order,
  Participant,
} from "../../domain/model.ts";
import type { RelayRequest, SerialSet, ScanRecord, UnitClaim } from "../../domain/model.ts";
import type {
  BatchDoc,
  BlockDoc,
  CheckpointDoc,
  ClaimDoc,
  CustodyStepDoc,
  EventDoc,
  EventRefDoc,
  InspectionDoc,
  OrderDoc,
  ParticipantDoc,
  RelayDoc,
  ScanDoc,
} from "./models.ts";
import { blockDocId } from "./models.ts";

/** Throws when a value the document needs is undefined (null is a value; undefined would not be stored). */
export function assertComplete<T extends object>(what: string, value: T): T {
  for (const [field, fieldValue] of Object.entries(value)) {
    if (fieldValue === undefined) throw new TypeError(`MongoDB store: ${what} has no value for "${field}"`);
  }
  return value;
}

// --- event refs ---------------------------------------------------------------------------------------------

export function eventRefToDoc(ref: EventRef, what: string): EventRefDoc {
  if (ref === null || typeof ref !== "object") throw new TypeError(`MongoDB store: ${what} is not an event reference`);
  return assertComplete(what, {
    eventId: ref.eventId,
    blockNumber: ref.blockNumber,
    blockTimestamp: ref.blockTimestamp,
    transactionHash: ref.transactionHash,
  });
}

export function eventRefFromDoc(doc: EventRefDoc): EventRef {
  return {
    eventId: doc.eventId,
    blockNumber: doc.blockNumber,
    blockTimestamp: doc.blockTimestamp,
    transactionHash: doc.transactionHash,
  };
}

// --- events -------------------------------------------------------------------------------------------------

export function eventToDoc(event: ChainEvent): EventDoc {
  return assertComplete(`event ${event.id}`, {
    _id: event.id,
    chainId: event.chainId,
    blockNumber: event.blockNumber,
    blockHash: event.blockHash,
    blockTimestamp: event.blockTimestamp,
    transactionHash: event.transactionHash,
    transactionIndex: event.transactionIndex,
    logIndex: event.logIndex,
    contract: event.contract,
    address: event.address,
    name: event.name,
    args: event.args,
    batchIds: event.batchIds,
    orderIds: event.orderIds,
    accounts: event.accounts,
  });
}

export function eventFromDoc(doc: EventDoc): ChainEvent {
  return {
    id: doc._id,
    chainId: doc.chainId,
    blockNumber: doc.blockNumber,
    blockHash: doc.blockHash,
    blockTimestamp: doc.blockTimestamp,
    transactionHash: doc.transactionHash,
    transactionIndex: doc.transactionIndex,
    logIndex: doc.logIndex,
    contract: doc.contract,
    address: doc.address,
    name: doc.name,
    args: doc.args as Record<string, JsonValue>,
    batchIds: doc.batchIds,
    orderIds: doc.orderIds,
    accounts: doc.accounts,
  };
}

// --- participants -------------------------------------------------------------------------------------------

export function participantToDoc(participant: Participant): ParticipantDoc {
  const what = `participant ${participant.address}`;
  return assertComplete(what, {
    _id: participant.address,
    participantId: participant.participantId,
    gln: participant.gln,
    name: participant.name,
    roles: participant.roles,
    suspended: participant.suspended,
    onboarded: eventRefToDoc(participant.onboarded, `${what}.onboarded`),
    lastEvent: eventRefToDoc(participant.lastEvent, `${what}.lastEvent`),
  });
}

export function participantFromDoc(doc: ParticipantDoc): Participant {
  return {
    address: doc._id,
    participantId: doc.participantId,
    gln: doc.gln,
    name: doc.name,
    roles: doc.roles,
    suspended: doc.suspended,
    onboarded: eventRefFromDoc(doc.onboarded),
    lastEvent: eventRefFromDoc(doc.lastEvent),
  };
}

// --- batches ------------------------------------------------------------------------------------------------

function custodyStepToDoc(step: CustodyStep, what: string): CustodyStepDoc {
  return assertComplete(what, {
    kind: step.kind,
    from: step.from,
    to: step.to,
    locationGln: step.locationGln,
    businessStep: step.businessStep,
    reasonHash: step.reasonHash,
    at: eventRefToDoc(step.at, `${what}.at`),
  });
}

function custodyStepFromDoc(doc: CustodyStepDoc): CustodyStep {
  return {
    kind: doc.kind,
    from: doc.from,
    to: doc.to,
    locationGln: doc.locationGln,
    businessStep: doc.businessStep,
    reasonHash: doc.reasonHash,
    at: eventRefFromDoc(doc.at),
  };
}

function inspectionToDoc(inspection: Inspection, what: string): InspectionDoc {
  return assertComplete(what, {
    inspector: inspection.inspector,
    passed: inspection.passed,
    reportHash: inspection.reportHash,
    at: eventRefToDoc(inspection.at, `${what}.at`),
  });
}

function inspectionFromDoc(doc: InspectionDoc): Inspection {
  return { inspector: doc.inspector, passed: doc.passed, reportHash: doc.reportHash, at: eventRefFromDoc(doc.at) };
}

export function batchToDoc(batch: Batch): BatchDoc {
  const what = `batch ${batch.batchId}`;
  return assertComplete(what, {
    _id: batch.batchId,
    gtin: batch.gtin,
    lot: batch.lot,
    quantity: batch.quantity,
    productionDate: batch.productionDate,
    originGln: batch.originGln,
    documentHash: batch.documentHash,
    serialRoot: batch.serialRoot,
    manufacturer: batch.manufacturer,
    custodian: batch.custodian,
    pendingCustodian: batch.pendingCustodian,
    status: batch.status,
    inspection: batch.inspection,
    inspections: batch.inspections.map((inspection, i) => inspectionToDoc(inspection, `${what}.inspections[${i}]`)),
    custody: batch.custody.map((step, i) => custodyStepToDoc(step, `${what}.custody[${i}]`)),
    parentId: batch.parentId,
    childIds: batch.childIds,
    recall:
      batch.recall === null
        ? null
        : assertComplete(`${what}.recall`, {
            by: batch.recall.by,
            reasonHash: batch.recall.reasonHash,
            at: eventRefToDoc(batch.recall.at, `${what}.recall.at`),
          }),
    registered: eventRefToDoc(batch.registered, `${what}.registered`),
    lastEvent: eventRefToDoc(batch.lastEvent, `${what}.lastEvent`),
  });
}

export function batchFromDoc(doc: BatchDoc): Batch {
  return {
    batchId: doc._id,
    gtin: doc.gtin,
    lot: doc.lot,
    quantity: doc.quantity,
    productionDate: doc.productionDate,
    originGln: doc.originGln,
    documentHash: doc.documentHash,
    serialRoot: doc.serialRoot,
    manufacturer: doc.manufacturer,
    custodian: doc.custodian,
    pendingCustodian: doc.pendingCustodian,
    status: doc.status,
    inspection: doc.inspection,
    inspections: doc.inspections.map(inspectionFromDoc),
    custody: doc.custody.map(custodyStepFromDoc),
    parentId: doc.parentId,
    childIds: doc.childIds,
    recall:
      doc.recall === null || doc.recall === undefined
        ? null
        : { by: doc.recall.by, reasonHash: doc.recall.reasonHash, at: eventRefFromDoc(doc.recall.at) },
    registered: eventRefFromDoc(doc.registered),
    lastEvent: eventRefFromDoc(doc.lastEvent),
  };
}

// --- orders -------------------------------------------------------------------------------------------------

export function orderToDoc(order: Order): OrderDoc {
  const what = `order ${order.orderId}`;
  return assertComplete(what, {
    _id: order.orderId,
    buyer: order.buyer,
    seller: order.seller,
    carrier: order.carrier,
    token: order.token,
    amount: order.amount,
    batchId: order.batchId,
    sellerBps: order.sellerBps,
    carrierBps: order.carrierBps,
    platformBps: order.platformBps,
    deliveryDeadline: order.deliveryDeadline,
    disputeWindow: order.disputeWindow,
    requiresPassingInspection: order.requiresPassingInspection,
    fallbackBuyerBps: order.fallbackBuyerBps,
    salt: order.salt,
    state: order.state,
    deliveredAt: order.deliveredAt,
    disputedAt: order.disputedAt,
    disputedBy: order.disputedBy,
    cancellationApprovedBy: order.cancellationApprovedBy,
    payouts:
      order.payouts === null
        ? null
        : assertComplete(`${what}.payouts`, {
            buyer: order.payouts.buyer,
            seller: order.payouts.seller,
            carrier: order.payouts.carrier,
            platform: order.payouts.platform,
          }),
    refundReason: order.refundReason,
    opened: eventRefToDoc(order.opened, `${what}.opened`),
    lastEvent: eventRefToDoc(order.lastEvent, `${what}.lastEvent`),
  });
}

export function orderFromDoc(doc: OrderDoc): Order {
  return {
    orderId: doc._id,
    buyer: doc.buyer,
    seller: doc.seller,
    carrier: doc.carrier,
    token: doc.token,
    amount: doc.amount,
    batchId: doc.batchId,
    sellerBps: doc.sellerBps,
    carrierBps: doc.carrierBps,
    platformBps: doc.platformBps,
    deliveryDeadline: doc.deliveryDeadline,
    disputeWindow: doc.disputeWindow,
    requiresPassingInspection: doc.requiresPassingInspection,
    fallbackBuyerBps: doc.fallbackBuyerBps,
    salt: doc.salt,
    state: doc.state,
    deliveredAt: doc.deliveredAt,
    disputedAt: doc.disputedAt,
    disputedBy: doc.disputedBy ?? null,
    cancellationApprovedBy: doc.cancellationApprovedBy,
    payouts:
      doc.payouts === null || doc.payouts === undefined
        ? null
        : { buyer: doc.payouts.buyer, seller: doc.payouts.seller, carrier: doc.payouts.carrier, platform: doc.payouts.platform },
    refundReason: doc.refundReason,
    opened: eventRefFromDoc(doc.opened),
    lastEvent: eventRefFromDoc(doc.lastEvent),
  };
}

// --- blocks and checkpoints ---------------------------------------------------------------------------------

export function blockToDoc(block: IndexedBlock): BlockDoc {
  return assertComplete(`block ${block.chainId}:${block.number}`, {
    _id: blockDocId(block.chainId, block.number),
    chainId: block.chainId,
    number: block.number,
    hash: block.hash,
    parentHash: block.parentHash,
    timestamp: block.timestamp,
  });
}

export function blockFromDoc(doc: BlockDoc): IndexedBlock {
  return { chainId: doc.chainId, number: doc.number, hash: doc.hash, parentHash: doc.parentHash, timestamp: doc.timestamp };
}

export function checkpointToDoc(checkpoint: Checkpoint): CheckpointDoc {
  return assertComplete(`checkpoint of chain ${checkpoint.chainId}`, {
    _id: checkpoint.chainId,
    blockNumber: checkpoint.blockNumber,
    blockHash: checkpoint.blockHash,
    updatedAt: checkpoint.updatedAt,
  });
}

export function checkpointFromDoc(doc: CheckpointDoc): Checkpoint {
  return { chainId: doc._id, blockNumber: doc.blockNumber, blockHash: doc.blockHash, updatedAt: doc.updatedAt };
}

/** A checkpoint kept inside a rollback marker (chainId is a field there, not the _id). */
export function checkpointCopy(checkpoint: Checkpoint): Checkpoint {
  return assertComplete(`checkpoint of chain ${checkpoint.chainId}`, {
    chainId: checkpoint.chainId,
    blockNumber: checkpoint.blockNumber,
    blockHash: checkpoint.blockHash,
    updatedAt: checkpoint.updatedAt,
  });
}

// --- passports ----------------------------------------------------------------------------------------------

export function scanToDoc(scan: ScanRecord): ScanDoc {
  return assertComplete("scan", { batchId: scan.batchId, serial: scan.serial, at: scan.at, region: scan.region });
}

export function claimToDoc(claim: UnitClaim): ClaimDoc {
  return assertComplete(`claim of ${claim.batchId}/${claim.serial}`, {
    batchId: claim.batchId,
    serial: claim.serial,
    owner: claim.owner,
    claimedAt: claim.claimedAt,
  });
}

export function claimFromDoc(doc: ClaimDoc): UnitClaim {
  return { batchId: doc.batchId, serial: doc.serial, owner: doc.owner, claimedAt: doc.claimedAt };
}

// --- relays -------------------------------------------------------------------------------------------------

export function relayToDoc(request: RelayRequest): RelayDoc {
  return assertComplete(`relay request ${request.id}`, {
    _id: request.id,
    chainId: request.chainId,
    from: request.from,
    to: request.to,
    value: request.value,
    gas: request.gas,
    nonce: request.nonce,
    deadline: request.deadline,
    data: request.data,
    signature: request.signature,
    kind: request.kind,
    status: request.status,
    attempts: request.attempts,
    transactionHash: request.transactionHash,
    relayerNonce: request.relayerNonce,
    gasPrice: request.gasPrice,
    error: request.error,
    blockNumber: request.blockNumber,
    createdAt: request.createdAt,
    updatedAt: request.updatedAt,
  });
}

export function relayFromDoc(doc: RelayDoc): RelayRequest {
  return {
    id: doc._id,
    chainId: doc.chainId,
    from: doc.from,
    to: doc.to,
    value: doc.value,
    gas: doc.gas,
    nonce: doc.nonce,
    deadline: doc.deadline,
    data: doc.data,
    signature: doc.signature,
    kind: doc.kind,
    status: doc.status,
    attempts: doc.attempts,
    transactionHash: doc.transactionHash,
    relayerNonce: doc.relayerNonce,
    gasPrice: doc.gasPrice,
    error: doc.error,
    blockNumber: doc.blockNumber,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  };
}

/** The fields of a relay patch as a $set document: `id` never changes, undefined fields are not part of it. */
export function relayPatchToSet(patch: Partial<RelayRequest>): Partial<Omit<RelayDoc, "_id">> {
  const set: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(patch)) {
    if (field === "id" || value === undefined) continue;
    if (!RELAY_FIELDS.has(field)) throw new TypeError(`MongoDB store: a relay request has no field "${field}"`);
    set[field] = value;
  }
  return set as Partial<Omit<RelayDoc, "_id">>;
}

const RELAY_FIELDS = new Set<string>([
  "chainId",
  "from",
  "to",
  "value",
  "gas",
  "nonce",
  "deadline",
  "data",
  "signature",
  "kind",
  "status",
  "attempts",
  "transactionHash",
  "relayerNonce",
  "gasPrice",
  "error",
  "blockNumber",
  "createdAt",
  "updatedAt",
]);

// --- serial sets --------------------------------------------------------------------------------------------

/** BSON budget of one serial in an array: type byte, index key ("12345\0"), int32 length, bytes, NUL. */
function serialBsonSize(serial: string): number {
  return 1 + 8 + 4 + Buffer.byteLength(serial, "utf8") + 1;
}

/**
 * Splits a serial list into chunks that stay far below MongoDB's 16 MiB document limit (4 MiB or 20,000
 * serials each), keeping the order. 100,000 serials of 20 characters make 5 chunks of ~0.7 MiB.
 */
export function chunkSerials(serials: string[], maxBytes = 4 * 1024 * 1024, maxCount = 20_000): string[][] {
  const chunks: string[][] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const serial of serials) {
    if (typeof serial !== "string") throw new TypeError("MongoDB store: every serial must be a string");
    const size = serialBsonSize(serial);
    if (size > maxBytes) throw new RangeError(`MongoDB store: a serial of ${size} bytes exceeds the chunk size`);
    if (current.length > 0 && (current.length >= maxCount || bytes + size > maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(serial);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

export function serialSetFromDocs(serialRoot: Hex, createdAt: number, chunks: string[][]): SerialSet {
  return { serialRoot, serials: chunks.flat(), createdAt };
}
