/**
 * Track records: a participant's all-time reputation metrics (reputation.ts, method "provena-reputation/1") kept up
 * to date by the store as documents are written, so reading one costs the same at 10^3 or 10^7 events.
 *
 * Every all-time metric is a sum over the participant's orders and lots, and each order's or lot's share of it is a
 * function of that one document: its *contribution*. The store keeps each document's last contribution next to it
 * and, whenever it writes or deletes the document (a range, a rollback, a replay), adds the difference to the
 * participants' totals in the same transaction. So the totals are always the sum of the stored documents'
 * contributions, whatever order documents were written in, and a rollback undoes them by writing the documents back.
 *
 * Two parts are not plain sums, so the store keeps them as rows and counts at read time:
 * - an open order past its delivery deadline is late *as of* the block that is read (no event makes it late): the
 *   open orders' deadlines are kept per participant and role, and those before `asOf` are counted;
 * - a registered lot is recalled when it or any lot split from it was recalled: each recalled lot is kept with the
 *   root of its split tree, and a manufacturer's distinct recalled roots are counted.
 * Both counts are bounded by open orders and recalled lots, not by history.
 *
 * Windowed metrics ("last 90 days") are not kept: their edges move with every block. The reputation API computes
 * them from the facts (store-facts.ts); passports show all-time counts, and a property test checks that these totals
 * equal `computeReputation(...).allTime` for the same documents.
 */
import type { Batch, Hex, Order } from "../domain/model.ts";
import {
  DEFAULT_REPUTATION_POLICY,
  deliveryOutcome,
  disputeLoser,
  orderExclusion,
  REPUTATION_METHOD,
  score,
  type ReputationAsOf,
  type ReputationMetrics,
  type ReputationPolicy,
} from "./reputation.ts";
import { lotFact, orderFact } from "./store-facts.ts";

export const TRACK_RECORD_COUNTERS = [
  "sellerOnTime",
  "sellerLate",
  "carrierOnTime",
  "carrierLate",
  "receivedAccepted",
  "receivedRefused",
  "sentAccepted",
  "sentRefused",
  "makerPassed",
  "makerFailed",
  "holderPassed",
  "holderFailed",
  "disputesOpened",
  "disputesLost",
  "settledOrders",
  "lots",
  "excludedBelowMinimum",
  "excludedSelfDealing",
] as const;

export type TrackRecordCounter = (typeof TRACK_RECORD_COUNTERS)[number];
export type TrackRecordCounters = Record<TrackRecordCounter, number>;

/** The role an open order's deadline counts against. */
export type OpenOrderRole = "seller" | "carrier";

/** One document's share of the track records. Counts hold only non-zero counters. */
export interface TrackRecordContribution {
  counts: Record<Hex, Partial<TrackRecordCounters>>;
  /** Open, counted, undelivered orders: late for `participant` once a block's time passes `deadline`. */
  openDeadlines: { participant: Hex; role: OpenOrderRole; deadline: number }[];
  /** A recalled lot: its manufacturer and the registered lot at the root of its split tree. */
  recall: { manufacturer: Hex; rootId: Hex } | null;
}

/** What the store reads for one participant: the totals, and the two counts taken as of a block. */
export interface TrackRecordTotals {
  counters: TrackRecordCounters;
  /** Open orders past their deadline at the block read, by the role they count against. */
  lateOpenOrders: Record<OpenOrderRole, number>;
  /** Distinct registered lots of the participant that were recalled (themselves or a lot split from them). */
  recalledLots: number;
}

/** A partner's all-time record as passports show it: the reputation API's `allTime`, as of a block. */
export interface TrackRecord {
  address: Hex;
  method: typeof REPUTATION_METHOD;
  asOf: ReputationAsOf;
  allTime: ReputationMetrics;
}

/** The deepest split tree walked to find a recalled lot's root (as reputation.ts's rootOf). */
export const MAX_SPLIT_DEPTH = 64;

export const noContribution = (): TrackRecordContribution => ({ counts: {}, openDeadlines: [], recall: null });

export const zeroCounters = (): TrackRecordCounters =>
  Object.fromEntries(TRACK_RECORD_COUNTERS.map((name) => [name, 0])) as TrackRecordCounters;

function adder(contribution: TrackRecordContribution) {
  return (participant: Hex, counter: TrackRecordCounter) => {
    const counts = (contribution.counts[participant] ??= {});
    counts[counter] = (counts[counter] ?? 0) + 1;
  };
}

/** An order's contribution (under `policy`; the store uses the default policy, so changing it means a rebuild). */
export function orderContribution(order: Order, policy: ReputationPolicy = DEFAULT_REPUTATION_POLICY): TrackRecordContribution {
  const contribution = noContribution();
  const add = adder(contribution);
  const fact = orderFact(order);
  const parties = [...new Set([fact.buyer, fact.seller, fact.carrier])];
  const exclusion = orderExclusion(fact, policy);
  if (exclusion !== null) {
    for (const party of parties) add(party, exclusion === "below-minimum" ? "excludedBelowMinimum" : "excludedSelfDealing");
    return contribution;
  }
  const carrierScored = fact.carrier !== fact.buyer;
  // Decided now, or (open and undelivered) decided by the block's time passing the deadline.
  const decided = deliveryOutcome(fact, Number.MIN_SAFE_INTEGER);
  const open = fact.deliveredAt === null && fact.state !== "cancelled" && fact.closedAt === null;
  if (open) {
    contribution.openDeadlines.push({ participant: fact.seller, role: "seller", deadline: fact.deliveryDeadline });
    if (carrierScored) contribution.openDeadlines.push({ participant: fact.carrier, role: "carrier", deadline: fact.deliveryDeadline });
  } else if (decided !== null) {
    add(fact.seller, decided.onTime ? "sellerOnTime" : "sellerLate");
    if (carrierScored) add(fact.carrier, decided.onTime ? "carrierOnTime" : "carrierLate");
  }
  if (fact.disputedBy !== null && fact.disputedAt !== null && parties.includes(fact.disputedBy)) add(fact.disputedBy, "disputesOpened");
  const settled = fact.state === "released" || fact.state === "refunded" || fact.state === "resolved";
  if (settled && fact.closedAt !== null) {
    const loser = disputeLoser(fact);
    for (const party of [fact.buyer, fact.seller]) {
      add(party, "settledOrders");
      if ((loser === "buyer" && party === fact.buyer) || (loser === "seller" && party === fact.seller)) add(party, "disputesLost");
    }
  }
  return contribution;
}

/**
 * A lot's contribution. `rootId` is the registered lot at the root of its split tree, needed only when the lot is
 * recalled: null when it could not be found within MAX_SPLIT_DEPTH (such a recall counts for no registered lot).
 */
export function lotContribution(batch: Batch, rootId: Hex | null): TrackRecordContribution {
  const contribution = noContribution();
  const add = adder(contribution);
  const lot = lotFact(batch);
  if (lot.parentId === null) add(lot.manufacturer, "lots");
  let custodian = lot.firstCustodian;
  for (const event of lot.events) {
    if (event.kind === "inspected") {
      if (event.inspector !== lot.manufacturer) add(lot.manufacturer, event.passed ? "makerPassed" : "makerFailed");
      if (event.inspector !== custodian) add(custodian, event.passed ? "holderPassed" : "holderFailed");
      continue;
    }
    add(event.to, event.kind === "accepted" ? "receivedAccepted" : "receivedRefused");
    add(event.from, event.kind === "accepted" ? "sentAccepted" : "sentRefused");
    if (event.kind === "accepted") custodian = event.to;
  }
  if (lot.recalledAt !== null && rootId !== null) contribution.recall = { manufacturer: lot.manufacturer, rootId };
  return contribution;
}

/**
 * The registered lot at the root of `batch`'s split tree, found by `parentOf` (a lot's parent id, null for a
 * registered lot, undefined when unknown); null when the walk ends at an unknown lot or deeper than MAX_SPLIT_DEPTH.
 */
export function splitRootOf(batch: Pick<Batch, "batchId" | "parentId">, parentOf: (batchId: Hex) => Hex | null | undefined): Hex | null {
  let current: Hex = batch.batchId;
  let parent: Hex | null | undefined = batch.parentId;
  for (let depth = 0; depth < MAX_SPLIT_DEPTH; depth++) {
    if (parent === null) return current;
    if (parent === undefined) return null;
    current = parent;
    parent = parentOf(current);
  }
  return parent === null ? current : null;
}

/** `to` minus `from`, per participant: what writing a document whose contribution was `from` as `to` changes. */
export function contributionDelta(from: TrackRecordContribution, to: TrackRecordContribution): Map<Hex, Partial<TrackRecordCounters>> {
  const delta = new Map<Hex, Partial<TrackRecordCounters>>();
  const apply = (contribution: TrackRecordContribution, sign: 1 | -1) => {
    for (const [participant, counts] of Object.entries(contribution.counts) as [Hex, Partial<TrackRecordCounters>][]) {
      const entry = delta.get(participant) ?? {};
      for (const [counter, value] of Object.entries(counts) as [TrackRecordCounter, number][]) {
        entry[counter] = (entry[counter] ?? 0) + sign * value;
        if (entry[counter] === 0) delete entry[counter];
      }
      delta.set(participant, entry);
    }
  };
  apply(from, -1);
  apply(to, 1);
  for (const [participant, entry] of delta) if (Object.keys(entry).length === 0) delta.delete(participant);
  return delta;
}

export function addCounters(target: TrackRecordCounters, delta: Partial<TrackRecordCounters>): TrackRecordCounters {
  for (const [counter, value] of Object.entries(delta) as [TrackRecordCounter, number][]) target[counter] += value;
  return target;
}

/** The stored form of a contribution: compact JSON, equal strings for equal contributions. */
export function encodeContribution(contribution: TrackRecordContribution): string {
  const counts = Object.keys(contribution.counts)
    .sort()
    .map((participant) => {
      const counts = contribution.counts[participant as Hex]!;
      return [participant, TRACK_RECORD_COUNTERS.filter((name) => counts[name]).map((name) => [name, counts[name]])];
    });
  const deadlines = contribution.openDeadlines.map(({ participant, role, deadline }) => [participant, role, deadline]);
  const recall = contribution.recall === null ? null : [contribution.recall.manufacturer, contribution.recall.rootId];
  return JSON.stringify([counts, deadlines, recall]);
}

export function decodeContribution(encoded: string | null | undefined): TrackRecordContribution {
  if (encoded === null || encoded === undefined) return noContribution();
  const [counts, deadlines, recall] = JSON.parse(encoded) as [
    [Hex, [TrackRecordCounter, number][]][],
    [Hex, OpenOrderRole, number][],
    [Hex, Hex] | null,
  ];
  return {
    counts: Object.fromEntries(counts.map(([participant, entries]) => [participant, Object.fromEntries(entries)])),
    openDeadlines: deadlines.map(([participant, role, deadline]) => ({ participant, role, deadline })),
    recall: recall === null ? null : { manufacturer: recall[0], rootId: recall[1] },
  };
}

/** The all-time metrics (reputation.ts's `allTime`, `from: null`) of a participant's totals. */
export function allTimeMetrics({ counters: c, lateOpenOrders, recalledLots }: TrackRecordTotals): ReputationMetrics {
  const sellerLate = c.sellerLate + lateOpenOrders.seller;
  const carrierLate = c.carrierLate + lateOpenOrders.carrier;
  return {
    from: null,
    deliveryAsSeller: { onTime: c.sellerOnTime, late: sellerLate, score: score(c.sellerOnTime, c.sellerOnTime + sellerLate) },
    deliveryAsCarrier: { onTime: c.carrierOnTime, late: carrierLate, score: score(c.carrierOnTime, c.carrierOnTime + carrierLate) },
    handoffsReceived: {
      accepted: c.receivedAccepted,
      refused: c.receivedRefused,
      score: score(c.receivedAccepted, c.receivedAccepted + c.receivedRefused),
    },
    handoffsSent: {
      accepted: c.sentAccepted,
      refusedByRecipient: c.sentRefused,
      score: score(c.sentAccepted, c.sentAccepted + c.sentRefused),
    },
    inspectionsAsMaker: { passed: c.makerPassed, failed: c.makerFailed, score: score(c.makerPassed, c.makerPassed + c.makerFailed) },
    inspectionsAsHolder: { passed: c.holderPassed, failed: c.holderFailed, score: score(c.holderPassed, c.holderPassed + c.holderFailed) },
    disputes: {
      opened: c.disputesOpened,
      lost: c.disputesLost,
      settledOrders: c.settledOrders,
      score: score(c.settledOrders - c.disputesLost, c.settledOrders),
    },
    recalls: { lots: c.lots, recalled: recalledLots, score: score(c.lots - recalledLots, c.lots) },
    breaches: null,
    excludedOrders: { belowMinimum: c.excludedBelowMinimum, selfDealing: c.excludedSelfDealing },
  };
}

export function trackRecordOf(address: Hex, totals: TrackRecordTotals, asOf: ReputationAsOf): TrackRecord {
  return { address, method: REPUTATION_METHOD, asOf, allTime: allTimeMetrics(totals) };
}
