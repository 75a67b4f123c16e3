/**
 * Track records (backend/reputation/track-record.ts) against the reputation formulas they must reproduce: for any
 * orders and split lots, summing the documents' contributions (as the stores do) gives exactly
 * `computeReputation(...).allTime`, and writing a document over an older version of itself moves the totals by the
 * difference only.
 */
import { expect } from "chai";
import fc from "fast-check";

import type { Batch, CustodyStep, EventRef, Hex, Inspection, Order, OrderState } from "../../../backend/domain/model.ts";
import { computeReputation } from "../../../backend/reputation/reputation.ts";
import { lotFact, orderFact } from "../../../backend/reputation/store-facts.ts";
import {
  addCounters,
  allTimeMetrics,
  contributionDelta,
  decodeContribution,
  encodeContribution,
  lotContribution,
  orderContribution,
  splitRootOf,
  zeroCounters,
  type TrackRecordContribution,
  type TrackRecordTotals,
} from "../../../backend/reputation/track-record.ts";

const PARTIES = [
  "0x00000000000000000000000000000000000000a1",
  "0x00000000000000000000000000000000000000a2",
  "0x00000000000000000000000000000000000000a3",
  "0x00000000000000000000000000000000000000a4",
] as Hex[];
const ETH = "0x0000000000000000000000000000000000000000" as Hex;
const TOKEN = "0x00000000000000000000000000000000000000f1" as Hex;
const AS_OF = 1_000;

const ref = (at: number, eventId: string): EventRef => ({ eventId, blockNumber: at, blockTimestamp: at, transactionHash: "0x00" as Hex });
const id = (prefix: string, n: number) => `0x${prefix}${n.toString(16).padStart(62 - prefix.length + 2, "0")}` as Hex;

const party = fc.constantFrom(...PARTIES);
const STATES: OrderState[] = ["funded", "delivered", "disputed", "released", "refunded", "resolved", "cancelled"];

const orderArbitrary = (n: number) =>
  fc
    .record({
      buyer: party,
      seller: party,
      carrier: party,
      token: fc.constantFrom(ETH, TOKEN),
      amount: fc.constantFrom("0", "999999", "1000000", "999999999999999", "1000000000000000", "5000000000000000000"),
      deadline: fc.integer({ min: 100, max: 2_000 }),
      openedAt: fc.integer({ min: 10, max: 300 }),
      state: fc.constantFrom(...STATES),
      deliveredAt: fc.option(fc.integer({ min: 50, max: 299 }), { nil: null }),
      disputedBy: fc.option(party, { nil: null }),
      lastAt: fc.integer({ min: 300, max: 900 }),
      buyerShare: fc.constantFrom("0", "500000000000000000", "2500000000000000000", "5000000000000000000"),
    })
    .map(
      (o): Order =>
        ({
          orderId: id("0d", n),
          buyer: o.buyer,
          seller: o.seller,
          carrier: o.carrier,
          token: o.token,
          amount: o.amount,
          deliveryDeadline: o.deadline,
          state: o.state,
          deliveredAt: o.deliveredAt,
          disputedBy: o.disputedBy,
          disputedAt: o.disputedBy === null ? null : o.lastAt - 1,
          payouts: o.state === "resolved" ? { buyer: o.buyerShare } : null,
          opened: ref(o.openedAt, `o${n}-open`),
          lastEvent: ref(o.lastAt, `o${n}-last`),
        }) as unknown as Order,
    );

const lotEventArbitrary = fc.oneof(
  fc.record({ kind: fc.constantFrom("accepted" as const, "rejected" as const, "proposed" as const), from: party, to: party }),
  fc.record({ kind: fc.constant("inspected" as const), inspector: party, passed: fc.boolean() }),
);

/** Lots registered or split from an earlier one (the same manufacturer), with handoffs, inspections and recalls. */
const lotsArbitrary = fc
  .array(
    fc.record({
      parent: fc.option(fc.nat(), { nil: null }),
      manufacturer: party,
      events: fc.array(lotEventArbitrary, { maxLength: 6 }),
      recalled: fc.boolean(),
      registeredAt: fc.integer({ min: 1, max: 400 }),
    }),
    { maxLength: 12 },
  )
  .map((drafts) => {
    const lots: Batch[] = [];
    drafts.forEach((draft, n) => {
      const parent = draft.parent === null || n === 0 ? null : lots[draft.parent % n]!;
      const custody: CustodyStep[] = [];
      const inspections: Inspection[] = [];
      draft.events.forEach((event, k) => {
        const at = ref(draft.registeredAt + k + 1, `b${n.toString().padStart(3, "0")}-${k}`);
        if (event.kind === "inspected") {
          inspections.push({ inspector: event.inspector, passed: event.passed, reportHash: "0x00" as Hex, at });
        } else {
          custody.push({ kind: event.kind, from: event.from, to: event.to, locationGln: null, businessStep: null, reasonHash: null, at });
        }
      });
      lots.push({
        batchId: id("0b", n),
        manufacturer: parent?.manufacturer ?? draft.manufacturer,
        custodian: draft.manufacturer,
        custody,
        inspections,
        parentId: parent?.batchId ?? null,
        recall: draft.recalled
          ? { by: draft.manufacturer, reasonHash: "0x00" as Hex, at: ref(draft.registeredAt + 50, `b${n}-recall`) }
          : null,
        registered: ref(draft.registeredAt, `b${n.toString().padStart(3, "0")}-reg`),
      } as unknown as Batch);
    });
    return lots;
  });

/** What a store keeps: the sum of the contributions, open deadlines counted at `asOf`, distinct recalled roots. */
function keptTotals(contributions: TrackRecordContribution[], participant: Hex, asOf: number): TrackRecordTotals {
  const counters = zeroCounters();
  const roots = new Set<Hex>();
  const lateOpenOrders = { seller: 0, carrier: 0 };
  for (const contribution of contributions) {
    addCounters(counters, contribution.counts[participant] ?? {});
    for (const open of contribution.openDeadlines)
      if (open.participant === participant && open.deadline < asOf) lateOpenOrders[open.role]++;
    if (contribution.recall?.manufacturer === participant) roots.add(contribution.recall.rootId);
  }
  return { counters, lateOpenOrders, recalledLots: roots.size };
}

function contributionsOf(orders: Order[], lots: Batch[]): TrackRecordContribution[] {
  const parents = new Map(lots.map((lot) => [lot.batchId, lot.parentId]));
  return [
    ...orders.map((order) => orderContribution(order)),
    ...lots.map((lot) => lotContribution(lot, lot.recall === null ? null : splitRootOf(lot, (batchId) => parents.get(batchId)))),
  ];
}

describe("track records", function () {
  it("test_summedContributions_equalComputeReputationsAllTime_forAnyOrdersAndLots", function () {
    const ordersArbitrary = fc
      .integer({ min: 0, max: 10 })
      .chain((count) => fc.tuple(...Array.from({ length: count }, (_, n) => orderArbitrary(n))));
    fc.assert(
      fc.property(ordersArbitrary, lotsArbitrary, fc.constantFrom(AS_OF, 150, 5_000), (orders, lots, asOf) => {
        // Every event is at or before the block read (the mirror holds nothing newer); deadlines fall on either side.
        const lastEvent = Math.max(
          0,
          ...orders.map((order) => order.lastEvent.blockTimestamp),
          ...lots.map((lot) => lot.registered.blockTimestamp + 60),
        );
        const at = Math.max(asOf, lastEvent);
        const facts = { orders: orders.map(orderFact), lots: lots.map(lotFact) };
        const contributions = contributionsOf(orders, lots);
        for (const participant of PARTIES) {
          const computed = computeReputation(participant, facts, { chainId: 1, blockNumber: 1, timestamp: at }).allTime;
          expect(allTimeMetrics(keptTotals(contributions, participant, at))).to.deep.equal(computed);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("test_writingOverAnOlderVersion_movesTheTotalsByTheDifferenceOnly", function () {
    fc.assert(
      fc.property(orderArbitrary(1), orderArbitrary(1), (older, newer) => {
        const before = orderContribution(older);
        const after = orderContribution(newer);
        for (const participant of PARTIES) {
          const moved = addCounters(
            addCounters(zeroCounters(), before.counts[participant] ?? {}),
            contributionDelta(before, after).get(participant) ?? {},
          );
          expect(moved).to.deep.equal(addCounters(zeroCounters(), after.counts[participant] ?? {}));
        }
      }),
      { numRuns: 300 },
    );
  });

  it("test_encodedContribution_roundTrips_andEqualContributionsEncodeEqually", function () {
    fc.assert(
      fc.property(lotsArbitrary, (lots) => {
        for (const contribution of contributionsOf([], lots)) {
          const encoded = encodeContribution(contribution);
          expect(encodeContribution(decodeContribution(encoded))).to.equal(encoded);
          expect(allTimeMetrics(keptTotals([decodeContribution(encoded)], PARTIES[0]!, AS_OF))).to.deep.equal(
            allTimeMetrics(keptTotals([contribution], PARTIES[0]!, AS_OF)),
          );
        }
      }),
    );
  });

  it("test_splitRootOf_walksToTheRegisteredLot_andGivesUpOnAnUnknownOrTooDeepTree", function () {
    const chain = new Map<Hex, Hex | null>([
      [id("0b", 0), null],
      [id("0b", 1), id("0b", 0)],
      [id("0b", 2), id("0b", 1)],
    ]);
    expect(splitRootOf({ batchId: id("0b", 2), parentId: id("0b", 1) }, (batchId) => chain.get(batchId))).to.equal(id("0b", 0));
    expect(splitRootOf({ batchId: id("0b", 0), parentId: null }, (batchId) => chain.get(batchId))).to.equal(id("0b", 0));
    expect(splitRootOf({ batchId: id("0b", 9), parentId: id("0b", 8) }, (batchId) => chain.get(batchId))).to.equal(null);
    const deep = new Map<Hex, Hex | null>(Array.from({ length: 100 }, (_, n) => [id("0c", n), n === 0 ? null : id("0c", n - 1)]));
    expect(splitRootOf({ batchId: id("0c", 99), parentId: id("0c", 98) }, (batchId) => deep.get(batchId))).to.equal(null);
    expect(splitRootOf({ batchId: id("0c", 60), parentId: id("0c", 59) }, (batchId) => deep.get(batchId))).to.equal(id("0c", 0));
  });
});
