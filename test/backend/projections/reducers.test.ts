import { expect } from "chai";
import { ZeroAddress, ZeroHash } from "ethers";
import { roleHash } from "../../../backend/chain/vocabulary.ts";
import { batchKeysOf, reduceBatch, type BatchLookup } from "../../../backend/projections/batches.ts";
import { ProjectionError } from "../../../backend/projections/event-ref.ts";
import { reduceOrder } from "../../../backend/projections/orders.ts";
import { projectionKeysOf } from "../../../backend/projections/project.ts";
import { reduceParticipant } from "../../../backend/projections/participants.ts";
import type { Batch, ChainEvent, EventRef, Hex, Order, Participant } from "../../../backend/domain/model.ts";
import {
  ACCOUNTS,
  bytes32,
  createEventFactory,
  deliveredEvent,
  inspectedEvent,
  openedEvent,
  orderTerms,
  type EventFactory,
} from "./event-factory.ts";

/** What a document records of the event that wrote it. */
const refTo = (event: ChainEvent): EventRef => ({
  eventId: event.id,
  blockNumber: event.blockNumber,
  blockTimestamp: event.blockTimestamp,
  transactionHash: event.transactionHash,
});

const BATCH = bytes32("batch");
const CHILD_BATCH = bytes32("child batch");
const ORDER = bytes32("order");
const GTIN = 4_012_345_000_009n;
const noLookup: BatchLookup = () => null;

const foldParticipant = (events: ChainEvent[], address: Hex) =>
  events.reduce<Participant | null>((state, event) => reduceParticipant(state, event, address), null);
const foldBatch = (events: ChainEvent[], batchId: Hex, lookup: BatchLookup = noLookup) =>
  events.reduce<Batch | null>((state, event) => reduceBatch(state, event, batchId, lookup), null);
const foldOrder = (events: ChainEvent[], orderId: Hex) =>
  events.reduce<Order | null>((state, event) => reduceOrder(state, event, orderId), null);

function registered(factory: EventFactory, batchId = BATCH, lot = "LOT-1"): ChainEvent {
  return factory.event("ProvenanceRegistry", "BatchRegistered", [
    batchId,
    ACCOUNTS.manufacturer,
    GTIN,
    lot,
    1000n,
    1_717_200_000n,
    841_234_500_001n,
    bytes32("doc"),
    bytes32("root"),
  ]);
}

const handoff = (factory: EventFactory, name: string, from: string, to: string, step = 0, gln = 871_234_500_003n) =>
  factory.event("ProvenanceRegistry", name, [BATCH, from, to, gln, step]);

describe("participant reducer", function () {
  it("test_reduceParticipant_onboardUpdateSuspendReinstate", function () {
    const f = createEventFactory();
    const onboarded = f.event("ProvenanceRegistry", "ParticipantOnboarded", [
      ACCOUNTS.carrier,
      2,
      roleHash("CARRIER_ROLE"),
      841_234_500_002n,
      "Mare Nostrum",
    ]);
    const granted = f.event("ProvenanceRegistry", "RoleGranted", [roleHash("CARRIER_ROLE"), ACCOUNTS.carrier, ACCOUNTS.admin]);
    f.nextBlock();
    const updated = f.event("ProvenanceRegistry", "ParticipantUpdated", [ACCOUNTS.carrier, 841_234_500_019n, "Mare Nostrum Freight"]);
    const suspended = f.event("ProvenanceRegistry", "ParticipantSuspended", [ACCOUNTS.carrier, bytes32("late")]);

    const afterOnboarding = foldParticipant([onboarded, granted], ACCOUNTS.carrier)!;
    expect(afterOnboarding).to.deep.include({
      address: ACCOUNTS.carrier,
      participantId: 2,
      gln: "0841234500002",
      name: "Mare Nostrum",
      roles: ["CARRIER"],
      suspended: false,
    });
    expect(afterOnboarding.onboarded.eventId).to.equal(onboarded.id);
    expect(afterOnboarding.lastEvent.eventId).to.equal(granted.id);

    const afterSuspension = foldParticipant([onboarded, granted, updated, suspended], ACCOUNTS.carrier)!;
    expect(afterSuspension).to.deep.include({ gln: "0841234500019", name: "Mare Nostrum Freight", suspended: true });
    const reinstated = f.event("ProvenanceRegistry", "ParticipantReinstated", [ACCOUNTS.carrier]);
    expect(reduceParticipant(afterSuspension, reinstated, ACCOUNTS.carrier)!.suspended).to.equal(false);
  });

  it("test_reduceParticipant_companyPrefixGrantedAndRevoked_keepsLeadingZeros", function () {
    const f = createEventFactory();
    const onboarded = f.event("ProvenanceRegistry", "ParticipantOnboarded", [
      ACCOUNTS.manufacturer,
      1,
      roleHash("MANUFACTURER_ROLE"),
      841_234_500_001n,
      "Acme",
    ]);
    const granted = f.event("ProvenanceRegistry", "CompanyPrefixGranted", [ACCOUNTS.manufacturer, 614_141n, 7]);
    const second = f.event("ProvenanceRegistry", "CompanyPrefixGranted", [ACCOUNTS.manufacturer, 8_412_345n, 7]);
    const revoked = f.event("ProvenanceRegistry", "CompanyPrefixRevoked", [ACCOUNTS.manufacturer, 614_141n, 7]);

    expect(foldParticipant([onboarded], ACCOUNTS.manufacturer)!.companyPrefixes).to.deep.equal([]);
    const afterGrants = foldParticipant([onboarded, granted, second], ACCOUNTS.manufacturer)!;
    expect(afterGrants.companyPrefixes).to.deep.equal(["0614141", "8412345"]);
    expect(afterGrants.lastEvent.eventId).to.equal(second.id);
    expect(foldParticipant([onboarded, granted, second, revoked], ACCOUNTS.manufacturer)!.companyPrefixes).to.deep.equal(["8412345"]);
    // A grant names its manufacturer, so no other participant changes.
    expect(reduceParticipant(null, granted, ACCOUNTS.carrier)).to.equal(null);
  });

  it("test_reduceParticipant_roleHolderNotOnboarded_hasIdZero", function () {
    const f = createEventFactory();
    const adminGrant = f.event("ProvenanceRegistry", "RoleGranted", [ZeroHash, ACCOUNTS.admin, ACCOUNTS.admin]);
    const escrowAdmin = f.event("TradeEscrow", "RoleGranted", [ZeroHash, ACCOUNTS.admin, ACCOUNTS.admin]);
    const arbiter = f.event("TradeEscrow", "RoleGranted", [roleHash("ARBITER_ROLE"), ACCOUNTS.admin, ACCOUNTS.admin]);
    const admin = foldParticipant([adminGrant, escrowAdmin, arbiter], ACCOUNTS.admin)!;
    expect(admin).to.deep.include({ participantId: 0, gln: "", name: "", roles: ["ADMIN", "ESCROW_ADMIN", "ARBITER"], suspended: false });
    const revoked = f.event("TradeEscrow", "RoleRevoked", [ZeroHash, ACCOUNTS.admin, ACCOUNTS.admin]);
    expect(reduceParticipant(admin, revoked, ACCOUNTS.admin)!.roles).to.deep.equal(["ADMIN", "ARBITER"]);
  });

  it("test_reduceParticipant_grantBeforeOnboard_keepsRoleAndSetsOnboarded", function () {
    const f = createEventFactory();
    const grant = f.event("ProvenanceRegistry", "RoleGranted", [roleHash("REGULATOR_ROLE"), ACCOUNTS.customs, ACCOUNTS.admin]);
    f.nextBlock();
    const onboard = f.event("ProvenanceRegistry", "ParticipantOnboarded", [
      ACCOUNTS.customs,
      3,
      roleHash("INSPECTOR_ROLE"),
      871_234_500_003n,
      "Customs",
    ]);
    const customs = foldParticipant([grant, onboard], ACCOUNTS.customs)!;
    expect(customs.roles).to.deep.equal(["REGULATOR", "INSPECTOR"]);
    expect(customs.participantId).to.equal(3);
    expect(customs.onboarded.eventId).to.equal(onboard.id);
  });

  it("test_reduceParticipant_replayedEventIsNoOp", function () {
    const f = createEventFactory();
    const onboard = f.event("ProvenanceRegistry", "ParticipantOnboarded", [
      ACCOUNTS.carrier,
      2,
      roleHash("CARRIER_ROLE"),
      841_234_500_002n,
      "C",
    ]);
    const suspend = f.event("ProvenanceRegistry", "ParticipantSuspended", [ACCOUNTS.carrier, bytes32("x")]);
    const state = foldParticipant([onboard, suspend], ACCOUNTS.carrier)!;
    expect(reduceParticipant(state, onboard, ACCOUNTS.carrier)).to.equal(state);
    expect(reduceParticipant(state, suspend, ACCOUNTS.carrier)).to.equal(state);
  });

  it("test_reduceParticipant_ignoresOtherAccountsAndEvents", function () {
    const f = createEventFactory();
    const onboard = f.event("ProvenanceRegistry", "ParticipantOnboarded", [
      ACCOUNTS.carrier,
      2,
      roleHash("CARRIER_ROLE"),
      841_234_500_002n,
      "C",
    ]);
    expect(reduceParticipant(null, onboard, ACCOUNTS.customs)).to.equal(null);
    expect(reduceParticipant(null, registered(f), ACCOUNTS.manufacturer)).to.equal(null);
  });

  it("test_reduceParticipant_updateOfUnknown_throws", function () {
    const f = createEventFactory();
    const update = f.event("ProvenanceRegistry", "ParticipantUpdated", [ACCOUNTS.carrier, 1n, "x"]);
    expect(() => reduceParticipant(null, update, ACCOUNTS.carrier)).to.throw(ProjectionError, /never onboarded/);
  });
});

describe("batch reducer", function () {
  it("test_reduceBatch_registered", function () {
    const f = createEventFactory();
    const event = registered(f);
    expect(foldBatch([event], BATCH)).to.deep.equal({
      batchId: BATCH,
      gtin: "04012345000009",
      lot: "LOT-1",
      quantity: "1000",
      productionDate: 1_717_200_000,
      originGln: "0841234500001",
      documentHash: bytes32("doc"),
      serialRoot: bytes32("root"),
      manufacturer: ACCOUNTS.manufacturer,
      custodian: ACCOUNTS.manufacturer,
      pendingCustodian: null,
      status: "registered",
      inspection: "none",
      inspections: [],
      custody: [],
      parentId: null,
      childIds: [],
      recall: null,
      watched: false,
      registered: refTo(event),
      lastEvent: refTo(event),
    });
  });

  it("test_reduceBatch_custodyTimeline", function () {
    const f = createEventFactory();
    const events = [registered(f)];
    f.nextBlock();
    events.push(handoff(f, "HandoffProposed", ACCOUNTS.manufacturer, ACCOUNTS.carrier, 0));
    const inTransit = foldBatch(events, BATCH)!;
    expect(inTransit).to.deep.include({ status: "in_transit", pendingCustodian: ACCOUNTS.carrier, custodian: ACCOUNTS.manufacturer });

    f.nextBlock();
    events.push(f.event("ProvenanceRegistry", "HandoffRejected", [BATCH, ACCOUNTS.manufacturer, ACCOUNTS.carrier, bytes32("damaged")]));
    expect(foldBatch(events, BATCH)).to.deep.include({ status: "registered", pendingCustodian: null, custodian: ACCOUNTS.manufacturer });

    f.nextBlock();
    events.push(handoff(f, "HandoffProposed", ACCOUNTS.manufacturer, ACCOUNTS.carrier, 0));
    f.nextBlock();
    events.push(handoff(f, "HandoffAccepted", ACCOUNTS.manufacturer, ACCOUNTS.carrier, 1));
    expect(foldBatch(events, BATCH)).to.deep.include({ status: "delivered", pendingCustodian: null, custodian: ACCOUNTS.carrier });

    f.nextBlock();
    events.push(handoff(f, "HandoffProposed", ACCOUNTS.carrier, ACCOUNTS.customs, 10));
    f.nextBlock();
    events.push(f.event("ProvenanceRegistry", "HandoffCancelled", [BATCH, ACCOUNTS.carrier, ACCOUNTS.customs]));
    const batch = foldBatch(events, BATCH)!;
    // A withdrawn handoff returns a delivered batch to delivered, with its custodian unchanged.
    expect(batch).to.deep.include({ status: "delivered", pendingCustodian: null, custodian: ACCOUNTS.carrier });
    expect(batch.custody.map((step) => [step.kind, step.from, step.to, step.businessStep, step.locationGln])).to.deep.equal([
      ["proposed", ACCOUNTS.manufacturer, ACCOUNTS.carrier, "shipping", "0871234500003"],
      ["rejected", ACCOUNTS.manufacturer, ACCOUNTS.carrier, null, null],
      ["proposed", ACCOUNTS.manufacturer, ACCOUNTS.carrier, "shipping", "0871234500003"],
      ["accepted", ACCOUNTS.manufacturer, ACCOUNTS.carrier, "receiving", "0871234500003"],
      ["proposed", ACCOUNTS.carrier, ACCOUNTS.customs, "entering_exiting", "0871234500003"],
      ["cancelled", ACCOUNTS.carrier, ACCOUNTS.customs, null, null],
    ]);
    expect(batch.custody[1]!.reasonHash).to.equal(bytes32("damaged"));
    expect(batch.custody.map((step) => step.at.eventId)).to.deep.equal(events.slice(1).map((event) => event.id));
    expect(batch.lastEvent.eventId).to.equal(events.at(-1)!.id);
  });

  it("test_reduceBatch_inspectionsKeepHistoryAndLatestResult", function () {
    const f = createEventFactory();
    const events = [registered(f)];
    events.push(f.event("ProvenanceRegistry", "QualityAttested", [BATCH, ACCOUNTS.inspector, false, bytes32("r1")]));
    events.push(f.event("ProvenanceRegistry", "QualityAttested", [BATCH, ACCOUNTS.inspector, true, bytes32("r2")]));
    const batch = foldBatch(events, BATCH)!;
    expect(batch.inspection).to.equal("passed");
    expect(batch.inspections.map((inspection) => [inspection.passed, inspection.reportHash])).to.deep.equal([
      [false, bytes32("r1")],
      [true, bytes32("r2")],
    ]);
  });

  it("test_reduceBatch_splitKeepsLineageAndChildInheritsParent", function () {
    const f = createEventFactory();
    const childA = bytes32("child-a");
    const childB = bytes32("child-b");
    const register = registered(f);
    f.nextBlock();
    const splitA = f.event("ProvenanceRegistry", "BatchSplit", [BATCH, childA, ACCOUNTS.carrier, "LOT-1A", 600n, bytes32("ra")]);
    const splitB = f.event("ProvenanceRegistry", "BatchSplit", [BATCH, childB, ACCOUNTS.carrier, "LOT-1B", 400n, bytes32("rb")]);
    const parent = foldBatch([register, splitA, splitB], BATCH)!;
    expect(parent).to.deep.include({ status: "split", childIds: [childA, childB] });

    const parentBefore = foldBatch([register], BATCH)!;
    const child = foldBatch([register, splitA, splitB], childA, (id) => (id === BATCH ? parentBefore : null))!;
    expect(child).to.deep.include({
      batchId: childA,
      parentId: BATCH,
      gtin: parentBefore.gtin,
      lot: "LOT-1A",
      quantity: "600",
      serialRoot: bytes32("ra"),
      manufacturer: ACCOUNTS.manufacturer,
      custodian: ACCOUNTS.carrier,
      productionDate: parentBefore.productionDate,
      originGln: parentBefore.originGln,
      documentHash: parentBefore.documentHash,
      status: "registered",
    });
    expect(child.registered.eventId).to.equal(splitA.id);
    expect(() => foldBatch([splitA], childA)).to.throw(ProjectionError, /split of unknown parent/);
  });

  it("test_reduceBatch_recallDropsPendingHandoff", function () {
    const f = createEventFactory();
    const events = [registered(f), handoff(f, "HandoffProposed", ACCOUNTS.manufacturer, ACCOUNTS.carrier)];
    const recall = f.event("ProvenanceRegistry", "BatchRecalled", [BATCH, ACCOUNTS.customs, bytes32("salmonella")]);
    const batch = foldBatch([...events, recall], BATCH)!;
    expect(batch).to.deep.include({ status: "recalled", pendingCustodian: null, custodian: ACCOUNTS.manufacturer });
    expect(batch.recall).to.deep.equal({
      by: ACCOUNTS.customs,
      reasonHash: bytes32("salmonella"),
      at: refTo(recall),
    });
  });

  it("test_reduceBatch_watchChanged_followsTheEscrowsWatch", function () {
    const f = createEventFactory();
    const watch = (watched: boolean) => f.event("ProvenanceRegistry", "BatchWatchChanged", [BATCH, watched]);
    const register = registered(f);
    const on = watch(true);
    const watched = foldBatch([register, on], BATCH)!;
    expect(watched).to.deep.include({ watched: true, status: "registered" });
    expect(watched.lastEvent.eventId).to.equal(on.id);
    expect(reduceBatch(watched, on, BATCH, noLookup), "a replay changes nothing").to.equal(watched);
    expect(reduceBatch(watched, watch(false), BATCH, noLookup)).to.deep.include({ watched: false });
    expect(() => reduceBatch(null, watch(true), BATCH, noLookup)).to.throw(ProjectionError, /never registered/);
  });

  it("test_reduceBatch_recallOfSplitParent_recallsItAndNamesOnlyIt", function () {
    const f = createEventFactory();
    const register = registered(f);
    const split = f.event("ProvenanceRegistry", "BatchSplit", [BATCH, CHILD_BATCH, ACCOUNTS.manufacturer, "LOT-1A", 10n, bytes32("ra")]);
    const recall = f.event("ProvenanceRegistry", "BatchRecalled", [BATCH, ACCOUNTS.manufacturer, bytes32("source")]);
    expect(foldBatch([register, split, recall], BATCH)).to.deep.include({ status: "recalled", childIds: [CHILD_BATCH] });
    // The child's own projection is untouched: the read model folds the ancestor's recall in (effectiveStatus).
    expect(batchKeysOf(recall)).to.deep.equal([BATCH]);
  });

  it("test_reduceBatch_replayIsNoOp_andUnknownBatchThrows", function () {
    const f = createEventFactory();
    const register = registered(f);
    const propose = handoff(f, "HandoffProposed", ACCOUNTS.manufacturer, ACCOUNTS.carrier);
    const batch = foldBatch([register, propose], BATCH)!;
    expect(reduceBatch(batch, register, BATCH, noLookup)).to.equal(batch);
    expect(reduceBatch(batch, propose, BATCH, noLookup)).to.equal(batch);
    expect(reduceBatch(batch, registered(f, bytes32("other")), BATCH, noLookup)).to.equal(batch);
    expect(() => reduceBatch(null, propose, BATCH, noLookup)).to.throw(ProjectionError, /never registered/);
  });
});

describe("order reducer", function () {
  const opened = (f: EventFactory) => openedEvent(f, ORDER, BATCH);

  it("test_reduceOrder_openedCarriesTheWholeOrder", function () {
    const f = createEventFactory();
    const open = opened(f);
    const order = foldOrder([open], ORDER)!;
    // breachTerms (new in the order's terms) is left out until backend/projections/orders.ts copies it.
    const { breachTerms: _notYetMirrored, ...terms } = orderTerms(BATCH);
    expect(order).to.deep.include({
      orderId: ORDER,
      ...terms,
      inspector: ACCOUNTS.inspector,
      state: "funded",
      inspection: "none",
      deliveredAt: null,
      disputedAt: null,
      cancellationApprovedBy: [],
      payouts: null,
      refundReason: null,
    });
    expect(order.opened.eventId).to.equal(open.id);
  });

  it("test_reduceOrder_openedWithoutInspector_namesNone", function () {
    const f = createEventFactory();
    const order = foldOrder([openedEvent(f, ORDER, BATCH, { inspector: ZeroAddress as Hex })], ORDER)!;
    expect(order).to.deep.include({ inspector: null, inspection: "none" });
  });

  it("test_reduceOrder_inspectedByItsNamedInspector_latestResultCounts_replaysChangeNothing", function () {
    const g = createEventFactory();
    const open = opened(g);
    const fail = inspectedEvent(g, ORDER, false);
    g.nextBlock();
    const pass = inspectedEvent(g, ORDER, true);
    const afterFail = foldOrder([open, fail], ORDER)!;
    expect(afterFail).to.deep.include({ state: "funded", inspection: "failed", lastEvent: refTo(fail) });
    const afterPass = reduceOrder(afterFail, pass, ORDER)!;
    expect(afterPass).to.deep.include({ inspection: "passed", lastEvent: refTo(pass) });
    // A replay of the earlier failure (a range re-projected after a crash) leaves the later pass in place.
    expect(reduceOrder(afterPass, fail, ORDER)).to.equal(afterPass);
    // Delivery keeps the result: the inspection belongs to the order, not to the custody step.
    g.nextBlock();
    expect(reduceOrder(afterPass, deliveredEvent(g, BATCH, ORDER, 1_750_000_000), ORDER)).to.deep.include({
      state: "delivered",
      inspection: "passed",
    });
  });

  it("test_reduceOrder_inspectedOrderNamingNoInspector_throws", function () {
    const f = createEventFactory();
    const uninspected = foldOrder([openedEvent(f, ORDER, BATCH, { inspector: ZeroAddress as Hex })], ORDER)!;
    expect(() => reduceOrder(uninspected, inspectedEvent(f, ORDER, true), ORDER)).to.throw(ProjectionError, /names no inspector/);
  });

  it("test_reduceOrder_inspectionOfAnotherOrderOnTheSameBatch_leavesThisOneAlone", function () {
    const f = createEventFactory();
    const order = foldOrder([opened(f)], ORDER)!;
    const other = inspectedEvent(f, bytes32("other order"), false);
    expect(reduceOrder(order, other, ORDER)).to.equal(order);
    // It is keyed by its order alone: it touches no batch projection (the registry's QualityAttested does that).
    expect(projectionKeysOf(other)).to.deep.equal({ batchIds: [], orderIds: [bytes32("other order")], participants: [] });
  });

  it("test_reduceOrder_deliveredThenReleased", function () {
    const f = createEventFactory();
    const events = [opened(f)];
    f.nextBlock();
    events.push(deliveredEvent(f, BATCH, ORDER, 1_750_000_000));
    expect(foldOrder(events, ORDER)).to.deep.include({ state: "delivered", deliveredAt: 1_750_000_000 });
    f.nextBlock();
    events.push(f.event("TradeEscrow", "OrderReleased", [ORDER, 9n, 2n, 1n]));
    expect(foldOrder(events, ORDER)).to.deep.include({
      state: "released",
      payouts: { buyer: "0", seller: "9", carrier: "2", platform: "1" },
    });
  });

  it("test_reduceOrder_refunded", function () {
    const f = createEventFactory();
    const events = [opened(f), f.event("TradeEscrow", "OrderRefunded", [ORDER, 0, 10n ** 18n])];
    expect(foldOrder(events, ORDER)).to.deep.include({
      state: "refunded",
      refundReason: "deadline_passed",
      payouts: { buyer: "1000000000000000000", seller: "0", carrier: "0", platform: "0" },
    });
  });

  it("test_reduceOrder_disputeResolved", function () {
    const f = createEventFactory();
    const events = [opened(f), deliveredEvent(f, BATCH, ORDER, 1_750_000_000)];
    f.nextBlock();
    const dispute = f.event("TradeEscrow", "OrderDisputed", [ORDER, ACCOUNTS.retailer, bytes32("broken seal")]);
    events.push(dispute);
    expect(foldOrder(events, ORDER)).to.deep.include({
      state: "disputed",
      disputedAt: dispute.blockTimestamp,
      disputedBy: ACCOUNTS.retailer,
    });
    events.push(f.event("TradeEscrow", "DisputeResolved", [ORDER, ACCOUNTS.admin, true, 3000, 30n, 60n, 7n, 3n]));
    expect(foldOrder(events, ORDER)).to.deep.include({
      state: "resolved",
      payouts: { buyer: "30", seller: "60", carrier: "7", platform: "3" },
    });
  });

  it("test_reduceOrder_mutualCancellation", function () {
    const f = createEventFactory();
    const events = [
      opened(f),
      f.event("TradeEscrow", "CancellationApproved", [ORDER, ACCOUNTS.retailer]),
      f.event("TradeEscrow", "CancellationApproved", [ORDER, ACCOUNTS.manufacturer]),
      f.event("TradeEscrow", "OrderCancelled", [ORDER, 10n ** 18n]),
    ];
    expect(foldOrder(events.slice(0, 2), ORDER)).to.deep.include({ state: "funded", cancellationApprovedBy: [ACCOUNTS.retailer] });
    expect(foldOrder(events, ORDER)).to.deep.include({
      state: "cancelled",
      cancellationApprovedBy: [ACCOUNTS.retailer, ACCOUNTS.manufacturer],
      payouts: { buyer: "1000000000000000000", seller: "0", carrier: "0", platform: "0" },
    });
  });

  it("test_reduceOrder_replayNoOp_unknownThrows_otherEventsIgnored", function () {
    const f = createEventFactory();
    const open = opened(f);
    const order = foldOrder([open], ORDER)!;
    expect(reduceOrder(order, open, ORDER)).to.equal(order);
    expect(reduceOrder(order, f.event("TradeEscrow", "PaymentCredited", [ACCOUNTS.carrier, ZeroAddress, 5n]), ORDER)).to.equal(order);
    expect(() => reduceOrder(null, deliveredEvent(f, BATCH, ORDER, 1), ORDER)).to.throw(ProjectionError, /never opened/);
  });
});
