/**
 * Fixture data for the store contract suite: realistic ChainEvent / Batch / Order / Participant documents
 * shaped exactly like backend/store/types.ts, and a small supply-chain history (12 blocks) from which the suite
 * cuts RangeCommits and RollbackCommits the way the indexer does.
 */
import { createHash } from "node:crypto";

import type { RangeCommit, RollbackCommit } from "../../../backend/store/port.ts";
import type { RelayRequest } from "../../../backend/domain/model.ts";
import { queuedRelayRequest, type RelayJob } from "../../../backend/relayer/queued-request.ts";
import {
  chainEventId,
  type Batch,
  type CustodyStep,
  type ChainEvent,
  type EventRef,
  type Hex,
  type IndexedBlock,
  type JsonValue,
  type Order,
  type Participant,
} from "../../../backend/domain/model.ts";

const digest = (label: string): string => createHash("sha256").update(label).digest("hex");

export const CHAIN_ID = 31337;
export const OTHER_CHAIN_ID = 11155111;
const GENESIS_TIMESTAMP = 1_767_225_600; // 2026-01-01T00:00:00Z
export const REGISTRY_ADDRESS = address("ProvenanceRegistry");
export const ESCROW_ADDRESS = address("TradeEscrow");
const ZERO_ADDRESS: Hex = `0x${"0".repeat(40)}`;

/** A deterministic lower-case address for a name. */
export function address(label: string): Hex {
  return `0x${digest(`address:${label}`).slice(0, 40)}`;
}

/** A deterministic lower-case bytes32 for a name. */
export function bytes32(label: string): Hex {
  return `0x${digest(`bytes32:${label}`)}`;
}

/** Block hashes depend on the fork, so two forks of the same height differ as they would on a real chain. */
export function blockHash(chainId: number, number: number, fork = "main"): Hex {
  return bytes32(`block:${chainId}:${fork}:${number}`);
}

export function indexedBlock(chainId: number, number: number, fork = "main"): IndexedBlock {
  return {
    chainId,
    number,
    hash: blockHash(chainId, number, fork),
    parentHash: number === 0 ? bytes32("genesis-parent") : blockHash(chainId, number - 1, fork),
    timestamp: GENESIS_TIMESTAMP + number * 12,
  };
}

export function transactionHash(chainId: number, blockNumber: number, transactionIndex: number, fork = "main"): Hex {
  return bytes32(`tx:${chainId}:${fork}:${blockNumber}:${transactionIndex}`);
}

export interface EventParams {
  chainId?: number;
  blockNumber: number;
  logIndex: number;
  transactionIndex?: number;
  fork?: string;
  contract?: ChainEvent["contract"];
  name: string;
  args?: Record<string, JsonValue>;
  batchIds?: Hex[];
  orderIds?: Hex[];
  accounts?: Hex[];
}

export function chainEvent(params: EventParams): ChainEvent {
  const chainId = params.chainId ?? CHAIN_ID;
  const fork = params.fork ?? "main";
  const transactionIndex = params.transactionIndex ?? params.logIndex;
  const contract = params.contract ?? "ProvenanceRegistry";
  return {
    id: chainEventId(chainId, params.blockNumber, params.logIndex),
    chainId,
    blockNumber: params.blockNumber,
    blockHash: blockHash(chainId, params.blockNumber, fork),
    blockTimestamp: indexedBlock(chainId, params.blockNumber, fork).timestamp,
    transactionHash: transactionHash(chainId, params.blockNumber, transactionIndex, fork),
    transactionIndex,
    logIndex: params.logIndex,
    contract,
    address: contract === "TradeEscrow" ? ESCROW_ADDRESS : REGISTRY_ADDRESS,
    name: params.name,
    args: params.args ?? {},
    batchIds: params.batchIds ?? [],
    orderIds: params.orderIds ?? [],
    accounts: params.accounts ?? [],
  };
}

export function refOf(event: ChainEvent): EventRef {
  return {
    eventId: event.id,
    blockNumber: event.blockNumber,
    blockTimestamp: event.blockTimestamp,
    transactionHash: event.transactionHash,
  };
}

export function participant(params: {
  label: string;
  participantId: number;
  roles: string[];
  onboarded: ChainEvent;
  suspended?: boolean;
  lastEvent?: ChainEvent;
}): Participant {
  return {
    address: address(params.label),
    participantId: params.participantId,
    gln: String(4_012_345_000_000 + params.participantId * 7).padStart(13, "0"),
    name: `${params.label[0]!.toUpperCase()}${params.label.slice(1)} GmbH`,
    roles: params.roles,
    companyPrefixes: [],
    suspended: params.suspended ?? false,
    onboarded: refOf(params.onboarded),
    lastEvent: refOf(params.lastEvent ?? params.onboarded),
  };
}

export function batch(params: {
  gtin: string;
  lot: string;
  manufacturer: Hex;
  registered: ChainEvent;
  quantity?: string;
  custodian?: Hex;
  parentId?: Hex | null;
}): Batch {
  const registered = refOf(params.registered);
  return {
    batchId: batchIdOf(params.gtin, params.lot),
    gtin: params.gtin,
    lot: params.lot,
    quantity: params.quantity ?? "1000",
    productionDate: registered.blockTimestamp - 86_400,
    originGln: "4012345000009",
    documentHash: bytes32(`document:${params.gtin}:${params.lot}`),
    serialRoot: bytes32(`serials:${params.gtin}:${params.lot}`),
    manufacturer: params.manufacturer,
    custodian: params.custodian ?? params.manufacturer,
    pendingCustodian: null,
    status: "registered",
    inspection: "none",
    inspections: [],
    custody: [],
    parentId: params.parentId ?? null,
    childIds: [],
    recall: null,
    watched: false,
    registered,
    lastEvent: registered,
  };
}

/** Stand-in for ProvenanceRegistry.batchIdOf: only needs to be deterministic and unique per (gtin, lot). */
export function batchIdOf(gtin: string, lot: string): Hex {
  return bytes32(`batch:${gtin}:${lot}`);
}

export function order(params: {
  label: string;
  buyer: Hex;
  seller: Hex;
  carrier: Hex;
  batchId: Hex;
  opened: ChainEvent;
  inspector?: Hex | null;
}): Order {
  const opened = refOf(params.opened);
  return {
    orderId: bytes32(`order:${params.label}`),
    buyer: params.buyer,
    seller: params.seller,
    carrier: params.carrier,
    token: ZERO_ADDRESS,
    amount: "2500000000000000000",
    batchId: params.batchId,
    sellerBps: 9_000,
    carrierBps: 800,
    platformBps: 200,
    deliveryDeadline: opened.blockTimestamp + 14 * 86_400,
    disputeWindow: 3 * 86_400,
    inspector: params.inspector ?? null,
    fallbackBuyerBps: 5_000,
    salt: bytes32(`salt:${params.label}`),
    state: "funded",
    inspection: "none",
    deliveredAt: null,
    disputedAt: null,
    disputedBy: null,
    cancellationApprovedBy: [],
    payouts: null,
    refundReason: null,
    opened,
    lastEvent: opened,
  };
}

/** What one block contributes: its events and the full projection documents as they stand after it. */
export interface ScenarioStep {
  block: IndexedBlock;
  events: ChainEvent[];
  batches: Batch[];
  participants: Participant[];
  orders: Order[];
}

export interface Scenario {
  chainId: number;
  steps: ScenarioStep[]; // steps[i] is block i + 1
  accounts: Record<"manufacturer" | "carrier" | "warehouse" | "inspector" | "retailer", Hex>;
  batchIds: Record<"tomatoes" | "olives" | "basil" | "olivesEast" | "olivesWest", Hex>;
  orderIds: Record<"tomatoOrder" | "basilOrder", Hex>;
  gtins: { sauce: string; oil: string };
}

/**
 * Twelve blocks of one supply chain on `chainId`: five participants onboard (block 1), three batches register
 * (2, 3, 6), a custody handoff (4-5, 10), an inspection (6), a split (7), a recall and a suspension (8), two
 * escrow orders (3, 9) and a release (10); blocks 11 and 12 are empty.
 */
export function supplyChainScenario(chainId = CHAIN_ID, fork = "main"): Scenario {
  const steps: ScenarioStep[] = Array.from({ length: 12 }, (_, index) => ({
    block: indexedBlock(chainId, index + 1, fork),
    events: [],
    batches: [],
    participants: [],
    orders: [],
  }));
  const step = (blockNumber: number) => steps[blockNumber - 1]!;
  const emit = (params: EventParams): ChainEvent => {
    const event = chainEvent({ chainId, fork, ...params });
    step(params.blockNumber).events.push(event);
    return event;
  };

  // Block 1: onboarding, one transaction per participant.
  const roles = {
    manufacturer: ["MANUFACTURER"],
    carrier: ["CARRIER"],
    warehouse: ["CARRIER", "RETAILER"],
    inspector: ["INSPECTOR"],
    retailer: ["RETAILER"],
  } as const;
  const participants = new Map<string, Participant>();
  Object.entries(roles).forEach(([label, participantRoles], index) => {
    const onboarded = emit({
      blockNumber: 1,
      logIndex: index,
      name: "ParticipantOnboarded",
      args: { account: address(label), participantId: index + 1, role: participantRoles[0], gln: "4012345000009", name: label },
      accounts: [address(label)],
    });
    const doc = participant({ label, participantId: index + 1, roles: [...participantRoles], onboarded });
    participants.set(label, doc);
    step(1).participants.push(doc);
  });
  const manufacturer = address("manufacturer");
  const carrier = address("carrier");
  const warehouse = address("warehouse");
  const inspector = address("inspector");
  const retailer = address("retailer");
  const sauce = "04012345000018";
  const oil = "04012345000025";

  const registerBatch = (blockNumber: number, logIndex: number, gtin: string, lot: string): Batch => {
    const batchId = batchIdOf(gtin, lot);
    const registered = emit({
      blockNumber,
      logIndex,
      name: "BatchRegistered",
      args: { batchId, gtin: String(Number(gtin)), lot, manufacturer, quantity: "1000", serialRoot: bytes32(`serials:${gtin}:${lot}`) },
      batchIds: [batchId],
      accounts: [manufacturer],
    });
    const doc = batch({ gtin, lot, manufacturer, registered });
    step(blockNumber).batches.push(doc);
    return doc;
  };

  // Blocks 2-3: tomatoes and olives register; the retailer funds an order for the tomatoes.
  let tomatoes = registerBatch(2, 0, sauce, "TOM-2026-01");
  let olives = registerBatch(3, 0, oil, "OLV-2026-01");
  /**
   * The retailer opens an order for `batchId` from the manufacturer, carried by `orderCarrier` and naming
   * `orderInspector` (or none): its event and document.
   */
  const openOrder = (
    at: Pick<EventParams, "blockNumber" | "logIndex" | "transactionIndex">,
    label: string,
    batchId: Hex,
    orderCarrier: Hex,
    orderInspector: Hex | null = null,
  ) => {
    const orderId = bytes32(`order:${label}`);
    const opened = emit({
      ...at,
      contract: "TradeEscrow",
      name: "OrderOpened",
      args: { orderId, buyer: retailer, batchId },
      orderIds: [orderId],
      batchIds: [batchId],
      accounts: [retailer, manufacturer, orderCarrier, ...(orderInspector === null ? [] : [orderInspector])],
    });
    return order({ label, buyer: retailer, seller: manufacturer, carrier: orderCarrier, batchId, opened, inspector: orderInspector });
  };
  let tomatoOrder = openOrder({ blockNumber: 3, logIndex: 1, transactionIndex: 1 }, "tomatoes", tomatoes.batchId, carrier, inspector);
  step(3).orders.push(tomatoOrder);

  /** A custody step of the tomatoes (the only batch that changes hands): its event and its custody entry. */
  const tomatoHandoff = (
    blockNumber: number,
    kind: "proposed" | "accepted",
    from: Hex,
    to: Hex,
    locationGln: string,
    businessStep: string,
  ) => {
    const event = emit({
      blockNumber,
      logIndex: 0,
      name: kind === "proposed" ? "HandoffProposed" : "HandoffAccepted",
      args: { batchId: tomatoes.batchId, from, to, locationGln, businessStep },
      batchIds: [tomatoes.batchId],
      accounts: [from, to],
    });
    const entry: CustodyStep = { kind, from, to, locationGln, businessStep, reasonHash: null, at: refOf(event) };
    return { event, custody: [...tomatoes.custody, entry], lastEvent: entry.at };
  };

  // Blocks 4-5: the manufacturer hands the tomatoes to the carrier.
  const proposed = tomatoHandoff(4, "proposed", manufacturer, carrier, "4012345000009", "shipping");
  tomatoes = { ...tomatoes, pendingCustodian: carrier, custody: proposed.custody, lastEvent: proposed.lastEvent };
  step(4).batches.push(tomatoes);
  const accepted = tomatoHandoff(5, "accepted", manufacturer, carrier, "4012345000009", "shipping");
  tomatoes = {
    ...tomatoes,
    custodian: carrier,
    pendingCustodian: null,
    status: "in_transit",
    custody: accepted.custody,
    lastEvent: accepted.lastEvent,
  };
  step(5).batches.push(tomatoes);

  // Block 6: the olives pass inspection; basil registers.
  const attested = emit({
    blockNumber: 6,
    logIndex: 0,
    name: "QualityAttested",
    args: { batchId: olives.batchId, inspector, passed: true, reportHash: bytes32("report:olives") },
    batchIds: [olives.batchId],
    accounts: [inspector],
  });
  olives = {
    ...olives,
    inspection: "passed",
    inspections: [{ inspector, passed: true, reportHash: bytes32("report:olives"), at: refOf(attested) }],
    lastEvent: refOf(attested),
  };
  step(6).batches.push(olives);
  const basil = registerBatch(6, 1, sauce, "BSL-2026-01");

  // Block 7: the olives are split in one transaction into two children.
  const splitChild = (logIndex: number, lot: string): Batch => {
    const childId = batchIdOf(oil, lot);
    const splitEvent = emit({
      blockNumber: 7,
      logIndex,
      transactionIndex: 0,
      name: "BatchSplit",
      args: {
        parentId: olives.batchId,
        childId,
        custodian: manufacturer,
        lot,
        quantity: "500",
        serialRoot: bytes32(`serials:${oil}:${lot}`),
      },
      batchIds: [olives.batchId, childId],
      accounts: [manufacturer],
    });
    olives = { ...olives, status: "split", childIds: [...olives.childIds, childId], lastEvent: refOf(splitEvent) };
    const child = {
      ...batch({ gtin: oil, lot, manufacturer, registered: splitEvent, quantity: "500", parentId: olives.batchId }),
      inspection: "passed" as const,
    };
    step(7).batches.push(child);
    return child;
  };
  const olivesEast = splitChild(0, "OLV-2026-01-E");
  let olivesWest = splitChild(1, "OLV-2026-01-W");
  step(7).batches.push(olives);

  // Block 8: the western olives are recalled; the carrier is suspended.
  const recalled = emit({
    blockNumber: 8,
    logIndex: 0,
    name: "BatchRecalled",
    args: { batchId: olivesWest.batchId, recalledBy: manufacturer, reasonHash: bytes32("reason:contamination") },
    batchIds: [olivesWest.batchId],
    accounts: [manufacturer],
  });
  olivesWest = {
    ...olivesWest,
    status: "recalled",
    recall: { by: manufacturer, reasonHash: bytes32("reason:contamination"), at: refOf(recalled) },
    lastEvent: refOf(recalled),
  };
  step(8).batches.push(olivesWest);
  const suspended = emit({
    blockNumber: 8,
    logIndex: 1,
    transactionIndex: 1,
    name: "ParticipantSuspended",
    args: { account: carrier, reasonHash: bytes32("reason:license") },
    accounts: [carrier],
  });
  step(8).participants.push({ ...participants.get("carrier")!, suspended: true, lastEvent: refOf(suspended) });

  // Block 9: an order for the basil, carried by the warehouse.
  step(9).orders.push(openOrder({ blockNumber: 9, logIndex: 0 }, "basil", basil.batchId, warehouse));

  // Block 10: the tomatoes reach the retailer, which settles the tomato order.
  const delivery = tomatoHandoff(10, "accepted", carrier, retailer, "4098765000004", "receiving");
  const delivered = delivery.event;
  tomatoes = { ...tomatoes, custodian: retailer, status: "delivered", custody: delivery.custody, lastEvent: delivery.lastEvent };
  step(10).batches.push(tomatoes);
  const released = emit({
    blockNumber: 10,
    logIndex: 1,
    transactionIndex: 0, // the custody observer settles in the same transaction
    contract: "TradeEscrow",
    name: "OrderReleased",
    args: {
      orderId: tomatoOrder.orderId,
      sellerAmount: "2250000000000000000",
      carrierAmount: "200000000000000000",
      platformAmount: "50000000000000000",
    },
    orderIds: [tomatoOrder.orderId],
    accounts: [],
  });
  tomatoOrder = {
    ...tomatoOrder,
    state: "released",
    inspection: "passed",
    deliveredAt: delivered.blockTimestamp,
    payouts: { buyer: "0", seller: "2250000000000000000", carrier: "200000000000000000", platform: "50000000000000000" },
    lastEvent: refOf(released),
  };
  step(10).orders.push(tomatoOrder);

  return {
    chainId,
    steps,
    accounts: { manufacturer, carrier, warehouse, inspector, retailer },
    batchIds: {
      tomatoes: tomatoes.batchId,
      olives: olives.batchId,
      basil: basil.batchId,
      olivesEast: olivesEast.batchId,
      olivesWest: olivesWest.batchId,
    },
    orderIds: { tomatoOrder: tomatoOrder.orderId, basilOrder: bytes32("order:basil") },
    gtins: { sauce, oil },
  };
}

/** Latest document per key among `steps`, in first-appearance order. */
function latest<T>(documents: T[], keyOf: (document: T) => string): T[] {
  const byKey = new Map<string, T>();
  for (const document of documents) byKey.set(keyOf(document), document);
  return [...byKey.values()];
}

/** All events of the scenario up to and including `toBlock`, in chain order. */
export function eventsThrough(scenario: Scenario, toBlock = scenario.steps.length): ChainEvent[] {
  return scenario.steps.slice(0, toBlock).flatMap((step) => step.events);
}

/** Projections as they stand after `blockNumber` (0 = none). */
export function stateAt(scenario: Scenario, blockNumber: number) {
  return latestDocuments(scenario.steps.slice(0, blockNumber));
}

/** The latest version of every projection document that `steps` write. */
function latestDocuments(steps: ScenarioStep[]): Pick<ScenarioStep, "batches" | "participants" | "orders"> {
  return {
    batches: latest(
      steps.flatMap((step) => step.batches),
      (doc) => doc.batchId,
    ),
    participants: latest(
      steps.flatMap((step) => step.participants),
      (doc) => doc.address,
    ),
    orders: latest(
      steps.flatMap((step) => step.orders),
      (doc) => doc.orderId,
    ),
  };
}

/** The commit the indexer makes for blocks [from, to]: every block header, events, changed projections. */
export function rangeCommit(scenario: Scenario, from: number, to: number): RangeCommit {
  const steps = scenario.steps.slice(from - 1, to);
  const last = steps[steps.length - 1]!;
  return {
    chainId: scenario.chainId,
    events: steps.flatMap((step) => step.events),
    blocks: steps.map((step) => step.block),
    ...latestDocuments(steps),
    checkpoint: {
      chainId: scenario.chainId,
      blockNumber: last.block.number,
      blockHash: last.block.hash,
      updatedAt: 1_767_225_600_000 + to,
    },
  };
}

/** The rollback the indexer makes when blocks above `forkBlock` (committed through `headBlock`) left the chain. */
export function rollbackCommit(scenario: Scenario, forkBlock: number, headBlock: number): RollbackCommit {
  const before = stateAt(scenario, forkBlock);
  const touched = rangeCommit(scenario, forkBlock + 1, headBlock);
  const keep = <T>(docs: T[], keyOf: (doc: T) => string, touchedDocs: T[]) => {
    const touchedKeys = new Set(touchedDocs.map(keyOf));
    return docs.filter((doc) => touchedKeys.has(keyOf(doc)));
  };
  const gone = <T>(docs: T[], keyOf: (doc: T) => string, touchedDocs: T[]) => {
    const remaining = new Set(docs.map(keyOf));
    return touchedDocs.map(keyOf).filter((key) => !remaining.has(key)) as Hex[];
  };
  const forkHeader = scenario.steps[forkBlock - 1]!.block;
  return {
    chainId: scenario.chainId,
    forkBlock,
    batches: keep(before.batches, (doc) => doc.batchId, touched.batches),
    participants: keep(before.participants, (doc) => doc.address, touched.participants),
    orders: keep(before.orders, (doc) => doc.orderId, touched.orders),
    deleteBatchIds: gone(before.batches, (doc) => doc.batchId, touched.batches),
    deleteParticipantAddresses: gone(before.participants, (doc) => doc.address, touched.participants),
    deleteOrderIds: gone(before.orders, (doc) => doc.orderId, touched.orders),
    checkpoint: { chainId: scenario.chainId, blockNumber: forkBlock, blockHash: forkHeader.hash, updatedAt: 1_767_225_700_000 },
  };
}

/** A partner's forward request as the relayer API would queue it. */
export function relayRequest(label: string, overrides: Partial<RelayRequest> = {}): RelayRequest {
  const job: RelayJob = {
    id: bytes32(`relay:${label}`),
    chainId: CHAIN_ID,
    from: address("carrier"),
    to: REGISTRY_ADDRESS,
    value: "0",
    gas: "250000",
    nonce: "0",
    deadline: GENESIS_TIMESTAMP + 3_600,
    data: `0x${digest(`calldata:${label}`)}`,
    signature: `0x${digest(`sig-r:${label}`)}${digest(`sig-s:${label}`)}1b`,
    kind: "partner",
  };
  return { ...queuedRelayRequest(job, 1_767_225_600_000), ...overrides };
}

/** `count` distinct serials in GS1 AI(21) style, e.g. "SN-TOM-000042". */
export function serials(count: number, prefix = "SN"): string[] {
  return Array.from({ length: count }, (_, index) => `${prefix}-${String(index).padStart(6, "0")}`);
}
