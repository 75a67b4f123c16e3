/**
 * The reputation formulas (backend/reputation/reputation.ts) on hand-made facts: each metric's good and bad
 * outcomes, the windows, the Wilson bound, and the ways a participant could try to inflate its score.
 */
import { expect } from "chai";
import type { Hex } from "../../../backend/domain/model.ts";
import {
  computeReputation,
  DEFAULT_REPUTATION_POLICY,
  REPUTATION_METHOD,
  wilsonLowerBound,
  type LotFact,
  type OrderFact,
  type ReputationFacts,
} from "../../../backend/reputation/reputation.ts";

const DAY = 86_400;
const NOW = 1_800_000_000;
const address = (n: number) => `0x${n.toString(16).padStart(40, "0")}` as Hex;
const ETH = address(0);
const seller = address(0xa1);
const carrier = address(0xc1);
const buyer = address(0xb1);
const other = address(0xd1);
const inspector = address(0xe1);
const asOf = { chainId: 31337, blockNumber: 1_000, timestamp: NOW };
const ONE_ETH = "1000000000000000000";

let serial = 0;
function order(overrides: Partial<OrderFact> = {}): OrderFact {
  serial++;
  return {
    orderId: `0x${serial.toString(16).padStart(64, "0")}` as Hex,
    buyer,
    seller,
    carrier,
    token: ETH,
    amount: ONE_ETH,
    deliveryDeadline: NOW - 10 * DAY,
    openedAt: NOW - 20 * DAY,
    state: "released",
    deliveredAt: NOW - 12 * DAY,
    disputedBy: null,
    disputedAt: null,
    closedAt: NOW - 11 * DAY,
    disputeBuyerAmount: null,
    ...overrides,
  };
}

function lot(overrides: Partial<LotFact> = {}): LotFact {
  serial++;
  return {
    batchId: `0x${serial.toString(16).padStart(64, "0")}` as Hex,
    parentId: null,
    manufacturer: seller,
    firstCustodian: seller,
    registeredAt: NOW - 30 * DAY,
    recalledAt: null,
    events: [],
    ...overrides,
  };
}

const facts = (parts: Partial<ReputationFacts>): ReputationFacts => ({ orders: [], lots: [], ...parts });
const eventId = (block: number) => `31337:${String(block).padStart(12, "0")}:000000`;

describe("reputation formulas", function () {
  it("test_wilsonLowerBound_matchesKnownValues_andIsNullForNoSample", function () {
    expect(wilsonLowerBound(0, 0)).to.equal(null);
    expect(wilsonLowerBound(1, 1)).to.equal(0.2065);
    expect(wilsonLowerBound(95, 100)).to.equal(0.8882);
    expect(wilsonLowerBound(0, 10)).to.equal(0);
    // More evidence of the same ratio ranks higher.
    expect(wilsonLowerBound(10, 10)!).to.be.greaterThan(wilsonLowerBound(1, 1)!);
  });

  it("test_computeReputation_carriesMethodWindowAndPolicy", function () {
    const reputation = computeReputation(seller, facts({}), asOf);
    expect(reputation.method).to.equal(REPUTATION_METHOD);
    expect(reputation.asOf).to.deep.equal(asOf);
    expect(reputation.lastDays.from).to.equal(NOW - 90 * DAY);
    expect(reputation.allTime.from).to.equal(null);
    expect(reputation.policy).to.include({ windowDays: 90, confidence: 0.95 });
    expect(reputation.allTime.deliveryAsSeller.score).to.deep.equal({ sampleSize: 0, ratio: null, wilsonLowerBound: null });
    expect(reputation.allTime.breaches).to.equal(null);
  });

  describe("deliveries", function () {
    it("test_delivery_onTimeLateAndOverdue_countForSellerAndCarrier", function () {
      const orders = [
        order(), // on time
        order({ deliveredAt: NOW - 10 * DAY }), // exactly at the deadline: on time
        order({ deliveredAt: NOW - 9 * DAY }), // delivered after the deadline
        order({ state: "funded", deliveredAt: null, closedAt: null }), // still open past the deadline
        order({ state: "refunded", deliveredAt: null, closedAt: NOW - 5 * DAY }), // refunded for the deadline
        order({ state: "refunded", deliveredAt: null, closedAt: NOW - 15 * DAY }), // refunded before it (recall): no outcome
        order({ state: "cancelled", deliveredAt: null, closedAt: NOW - 19 * DAY }), // cancelled: no outcome
        order({ state: "funded", deliveredAt: null, closedAt: null, deliveryDeadline: NOW + DAY }), // not due yet
      ];
      const { allTime } = computeReputation(seller, facts({ orders }), asOf);
      expect(allTime.deliveryAsSeller).to.deep.include({ onTime: 2, late: 3 });
      expect(allTime.deliveryAsSeller.score).to.deep.equal({ sampleSize: 5, ratio: 0.4, wilsonLowerBound: wilsonLowerBound(2, 5) });
      expect(allTime.deliveryAsCarrier).to.deep.include({ onTime: 0, late: 0 });
      const asCarrier = computeReputation(carrier, facts({ orders }), asOf).allTime;
      expect(asCarrier.deliveryAsCarrier).to.deep.include({ onTime: 2, late: 3 });
      expect(asCarrier.deliveryAsSeller.score.sampleSize).to.equal(0);
    });

    it("test_delivery_windowCountsByTheDeliveryOrTheDeadline", function () {
      const orders = [
        order({ deliveredAt: NOW - 100 * DAY, deliveryDeadline: NOW - 95 * DAY, openedAt: NOW - 120 * DAY }),
        order({ state: "funded", deliveredAt: null, closedAt: null, deliveryDeadline: NOW - 91 * DAY, openedAt: NOW - 120 * DAY }),
        order(),
      ];
      const reputation = computeReputation(seller, facts({ orders }), asOf);
      expect(reputation.allTime.deliveryAsSeller).to.deep.include({ onTime: 2, late: 1 });
      expect(reputation.lastDays.deliveryAsSeller).to.deep.include({ onTime: 1, late: 0 });
    });
  });

  describe("disputes", function () {
    it("test_disputes_openedLostAndTheSettledOrderScore", function () {
      const resolved = (buyerAmount: string, disputedBy: Hex) =>
        order({ state: "resolved", disputedBy, disputedAt: NOW - 11 * DAY, closedAt: NOW - 8 * DAY, disputeBuyerAmount: buyerAmount });
      const orders = [
        resolved("900000000000000000", buyer), // the buyer got 90%: the seller lost
        resolved("100000000000000000", buyer), // the buyer got 10%: the buyer lost
        resolved("500000000000000000", seller), // even split: nobody lost
        order(), // settled without dispute
        order({ state: "delivered", closedAt: null }), // not settled yet
      ];
      const asSeller = computeReputation(seller, facts({ orders }), asOf).allTime.disputes;
      expect(asSeller).to.deep.include({ opened: 1, lost: 1, settledOrders: 4 });
      expect(asSeller.score.ratio).to.equal(0.75);
      const asBuyer = computeReputation(buyer, facts({ orders }), asOf).allTime.disputes;
      expect(asBuyer).to.deep.include({ opened: 2, lost: 1, settledOrders: 4 });
      // The carrier is not a party to disputes.
      expect(computeReputation(carrier, facts({ orders }), asOf).allTime.disputes).to.deep.include({
        opened: 0,
        lost: 0,
        settledOrders: 0,
      });
    });
  });

  describe("handoffs and inspections", function () {
    it("test_handoffs_receivedAndSent_countAcceptAndRefuse", function () {
      const lots = [
        lot({
          events: [
            { kind: "rejected", eventId: eventId(10), at: NOW - 5 * DAY, from: seller, to: carrier },
            { kind: "accepted", eventId: eventId(11), at: NOW - 4 * DAY, from: seller, to: carrier },
            { kind: "rejected", eventId: eventId(12), at: NOW - 3 * DAY, from: carrier, to: buyer },
            { kind: "accepted", eventId: eventId(13), at: NOW - 2 * DAY, from: carrier, to: other },
          ],
        }),
      ];
      const asCarrier = computeReputation(carrier, facts({ lots }), asOf).allTime;
      expect(asCarrier.handoffsReceived).to.deep.include({ accepted: 1, refused: 1 });
      expect(asCarrier.handoffsSent).to.deep.include({ accepted: 1, refusedByRecipient: 1 });
      const asSeller = computeReputation(seller, facts({ lots }), asOf).allTime;
      expect(asSeller.handoffsSent).to.deep.include({ accepted: 1, refusedByRecipient: 1 });
      expect(computeReputation(buyer, facts({ lots }), asOf).allTime.handoffsReceived).to.deep.include({ accepted: 0, refused: 1 });
    });

    it("test_inspections_countForTheMakerAndTheHolderAtThatMoment", function () {
      const lots = [
        lot({
          events: [
            { kind: "inspected", eventId: eventId(10), at: NOW - 5 * DAY, inspector, passed: true }, // seller holds it
            { kind: "accepted", eventId: eventId(11), at: NOW - 4 * DAY, from: seller, to: carrier },
            { kind: "inspected", eventId: eventId(12), at: NOW - 3 * DAY, inspector, passed: false }, // carrier holds it
          ],
        }),
      ];
      const asSeller = computeReputation(seller, facts({ lots }), asOf).allTime;
      expect(asSeller.inspectionsAsMaker).to.deep.include({ passed: 1, failed: 1 });
      expect(asSeller.inspectionsAsHolder).to.deep.include({ passed: 1, failed: 0 });
      const asCarrier = computeReputation(carrier, facts({ lots }), asOf).allTime;
      expect(asCarrier.inspectionsAsHolder).to.deep.include({ passed: 0, failed: 1 });
      expect(asCarrier.inspectionsAsMaker).to.deep.include({ passed: 0, failed: 0 });
    });
  });

  describe("recalls", function () {
    it("test_recalls_aRecallAnywhereInALotsTreeCountsTheLotOnce", function () {
      const root = lot();
      const child = lot({ parentId: root.batchId, firstCustodian: other, recalledAt: NOW - DAY });
      const sibling = lot({ parentId: root.batchId, firstCustodian: other });
      const clean = lot();
      const old = lot({ registeredAt: NOW - 200 * DAY });
      const reputation = computeReputation(seller, facts({ lots: [root, child, sibling, clean, old] }), asOf);
      expect(reputation.allTime.recalls).to.deep.include({ lots: 3, recalled: 1 });
      expect(reputation.lastDays.recalls).to.deep.include({ lots: 2, recalled: 1 });
      expect(computeReputation(other, facts({ lots: [root, child, sibling] }), asOf).allTime.recalls.lots).to.equal(0);
    });
  });

  describe("when a participant tries to inflate its score", function () {
    it("test_dustOrders_belowTheMinimum_doNotCount", function () {
      const dust = Array.from({ length: 50 }, () => order({ amount: "999999999999999" }));
      const reputation = computeReputation(seller, facts({ orders: [...dust, order({ deliveredAt: NOW - 9 * DAY })] }), asOf);
      expect(reputation.allTime.deliveryAsSeller).to.deep.include({ onTime: 0, late: 1 });
      expect(reputation.allTime.excludedOrders).to.deep.equal({ belowMinimum: 50, selfDealing: 0 });
      expect(reputation.allTime.disputes.settledOrders).to.equal(1);
      // At the minimum it counts.
      const atMinimum = order({ amount: DEFAULT_REPUTATION_POLICY.minimumOrderAmount[ETH]! });
      expect(computeReputation(seller, facts({ orders: [atMinimum] }), asOf).allTime.deliveryAsSeller.onTime).to.equal(1);
    });

    it("test_dustOrders_inAnUnlistedToken_useTheDefaultMinimum", function () {
      const token = address(0x70);
      const orders = [order({ token, amount: "999999" }), order({ token, amount: "1000000" })];
      const { allTime } = computeReputation(seller, facts({ orders }), asOf);
      expect(allTime.deliveryAsSeller.onTime).to.equal(1);
      expect(allTime.excludedOrders.belowMinimum).to.equal(1);
    });

    it("test_selfDealing_buyerIsSeller_countsForNobody_andACarrierBuyingFromItselfIsNotScored", function () {
      const selfDealt = Array.from({ length: 20 }, () => order({ buyer: seller }));
      const carrierBuys = Array.from({ length: 20 }, () => order({ buyer: carrier }));
      const asSeller = computeReputation(seller, facts({ orders: [...selfDealt, ...carrierBuys] }), asOf).allTime;
      expect(asSeller.excludedOrders.selfDealing).to.equal(20);
      expect(asSeller.deliveryAsSeller.onTime).to.equal(20); // the carrier's purchases are real sales for the seller
      const asCarrier = computeReputation(carrier, facts({ orders: [...selfDealt, ...carrierBuys] }), asOf).allTime;
      expect(asCarrier.deliveryAsCarrier.score.sampleSize).to.equal(0);
    });

    it("test_selfInspection_ofOwnGoods_doesNotCount", function () {
      const lots = [lot({ events: [{ kind: "inspected", eventId: eventId(5), at: NOW - DAY, inspector: seller, passed: true }] })];
      const { allTime } = computeReputation(seller, facts({ lots }), asOf);
      expect(allTime.inspectionsAsMaker.score.sampleSize).to.equal(0);
      expect(allTime.inspectionsAsHolder.score.sampleSize).to.equal(0);
    });

    it("test_splittingALot_cannotDiluteItsRecall", function () {
      const root = lot({ recalledAt: NOW - DAY });
      const children = Array.from({ length: 30 }, () => lot({ parentId: root.batchId }));
      const { allTime } = computeReputation(seller, facts({ lots: [root, ...children] }), asOf);
      expect(allTime.recalls).to.deep.include({ lots: 1, recalled: 1 });
    });

    it("test_duplicateFacts_countOnce", function () {
      const one = order();
      const { allTime } = computeReputation(seller, facts({ orders: [one, one, one] }), asOf);
      expect(allTime.deliveryAsSeller.onTime).to.equal(1);
    });
  });
});
