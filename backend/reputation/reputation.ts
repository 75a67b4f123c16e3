/**
 * Partner reputation: pure functions from a participant's on-chain record to scores, method "provena-reputation/1".
 *
 * Input is `ReputationFacts`: the orders and lots a participant took part in, reduced to what the scores need. Two
 * independent sources build it: the mirror (store-facts.ts, from the store's projections) and a fold of raw chain
 * logs (chain-facts.ts, used by scripts/verify-reputation.ts). Same facts, same function, same answer: anyone can
 * re-derive every score from the chain.
 *
 * Every metric is computed twice, over the last WINDOW_DAYS days before `asOf` and over all time; each item falls in
 * the window by the instant its outcome was decided (given per metric below). A score is never a bare ratio: it is
 * `{ sampleSize, ratio, wilsonLowerBound }`, the ratio of good outcomes and the lower bound of the Wilson score
 * interval at 95% confidence (z = 1.959964):
 *
 *     lower = (p + z²/2n − z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n),   p = good / n
 *
 * so 1 good outcome of 1 scores ≈ 0.21 while 95 of 100 scores ≈ 0.89; with n = 0 ratio and bound are null.
 * Ratios and bounds are rounded to 4 decimals.
 *
 * Metrics (X is the participant):
 * - deliveryAsSeller / deliveryAsCarrier: X's counted orders (below) as seller / as carrier. On time: delivered
 *   (custody accepted by the buyer, OrderDelivered) at or before the order's deliveryDeadline. Late: delivered after
 *   it, or not delivered by it (still open past it at `asOf`, or refunded after it). Orders cancelled, or refunded
 *   before the deadline (recall, failed inspection), have no delivery outcome. Decided at: the delivery, or the
 *   deadline for an order never delivered. Good = on time.
 * - handoffsReceived: handoffs proposed to X that X accepted (good) or refused (HandoffRejected). Decided at the
 *   accept/refuse. handoffsSent: handoffs X proposed that the recipient accepted (good) or refused. Withdrawn
 *   handoffs (HandoffCancelled) count in neither.
 * - inspectionsAsMaker: QualityAttested on any lot X manufactured (split lots keep their manufacturer).
 *   inspectionsAsHolder: QualityAttested on a lot while X held it (its custodian at that event). Good = passed.
 *   An inspection by X itself of its own goods never counts. Decided at the attestation.
 * - disputes: `opened` = disputes X opened (at OrderDisputed); `lost` = disputes settled against X as buyer or
 *   seller: the buyer lost when it got back less than half the amount, the seller when the buyer got back more than
 *   half (exactly half: nobody lost). Score: X's counted orders as buyer or seller that settled (released, refunded
 *   or resolved) without a dispute lost by X, over all of them; decided at the settlement.
 * - recalls: lots X registered (split lots belong to the lot they came from, so splitting cannot dilute the count);
 *   a lot is recalled when it or any lot split from it was recalled by `asOf`. Good = not recalled. Counted by the
 *   lot's registration.
 * - breaches: reserved for cold-chain breaches on X's legs once telemetry exists; null until then (see BREACHES_HOOK).
 *
 * Counted orders: an order counts only when its amount is at least the policy's minimum for its token (dust orders
 * are free to make, so they cannot buy a score), and its buyer is not its seller (self-dealing); a carrier is not
 * scored on an order it is also the buyer of. What this does NOT give: sybil resistance. Two accounts of one company
 * (or two colluding companies) can trade real-valued orders with each other and deliver on time; each such order
 * ties up the amount until release and pays the platform fee (platformBps), which is the only cost. Likewise a
 * manufacturer can register many unrecalled lots. Read a score with its sample size and with who the counterparties
 * were; the consortium's onboarding (every participant is onboarded by the admin with a GLN) is the sybil control.
 */
import type { Hex, OrderState } from "../domain/model.ts";

export const REPUTATION_METHOD = "provena-reputation/1";
export const WINDOW_DAYS = 90;
const WINDOW_SECONDS = WINDOW_DAYS * 86_400;
/** Two-sided 95% normal quantile. */
export const WILSON_Z = 1.959964;

const ETH = "0x0000000000000000000000000000000000000000";

/** What counts as an order: the smallest amount per token, in the token's base units (decimal strings). */
export interface ReputationPolicy {
  /** Minimum amount by token address (lower-case; the zero address is ETH). */
  minimumOrderAmount: Record<string, string>;
  /** Minimum for a token not listed. */
  defaultMinimumOrderAmount: string;
}

/** 0.001 ETH, and 1 whole unit of a 6-decimal stablecoin for any other token (a token with more decimals should be listed). */
export const DEFAULT_REPUTATION_POLICY: ReputationPolicy = {
  minimumOrderAmount: { [ETH]: "1000000000000000" },
  defaultMinimumOrderAmount: "1000000",
};

/** One escrow order as the scores need it. Times are unix seconds. */
export interface OrderFact {
  orderId: Hex;
  buyer: Hex;
  seller: Hex;
  carrier: Hex;
  token: Hex;
  amount: string;
  deliveryDeadline: number;
  openedAt: number;
  state: OrderState;
  deliveredAt: number | null;
  disputedBy: Hex | null;
  disputedAt: number | null;
  /** When the order reached its terminal state (released, refunded, resolved, cancelled); null while open. */
  closedAt: number | null;
  /** What the buyer got back when a dispute was resolved; null otherwise. */
  disputeBuyerAmount: string | null;
}

/** One handoff outcome or inspection of a lot, in chain order (`eventId` sorts as the chain does). */
export type LotEventFact =
  | { kind: "accepted" | "rejected"; eventId: string; at: number; from: Hex; to: Hex }
  | { kind: "inspected"; eventId: string; at: number; inspector: Hex; passed: boolean };

/** One lot (batch) as the scores need it. */
export interface LotFact {
  batchId: Hex;
  parentId: Hex | null;
  manufacturer: Hex;
  /** Custodian when the lot came to exist: its manufacturer, or the custodian a split gave it. */
  firstCustodian: Hex;
  registeredAt: number;
  recalledAt: number | null;
  /** Accepted and rejected handoffs and inspections, in chain order. */
  events: LotEventFact[];
}

export interface ReputationFacts {
  /** Every order X is buyer, seller or carrier of (others are ignored). */
  orders: OrderFact[];
  /** Every lot X made or that X appears in (handoffs, custody); for recalls, every lot of X's lot trees. */
  lots: LotFact[];
}

export interface Score {
  sampleSize: number;
  ratio: number | null;
  wilsonLowerBound: number | null;
}

export interface ReputationMetrics {
  /** Unix seconds; null for all time. */
  from: number | null;
  deliveryAsSeller: { onTime: number; late: number; score: Score };
  deliveryAsCarrier: { onTime: number; late: number; score: Score };
  handoffsReceived: { accepted: number; refused: number; score: Score };
  handoffsSent: { accepted: number; refusedByRecipient: number; score: Score };
  inspectionsAsMaker: { passed: number; failed: number; score: Score };
  inspectionsAsHolder: { passed: number; failed: number; score: Score };
  disputes: { opened: number; lost: number; settledOrders: number; score: Score };
  recalls: { lots: number; recalled: number; score: Score };
  /** Hook for cold-chain breaches on X's legs (another module measures them); null: not measured yet. */
  breaches: null;
  /** Orders left out (by when they were opened), so a reader sees what was not counted. */
  excludedOrders: { belowMinimum: number; selfDealing: number };
}

export interface ReputationAsOf {
  chainId: number;
  blockNumber: number;
  /** Unix seconds of that block. */
  timestamp: number;
}

export interface Reputation {
  address: Hex;
  method: typeof REPUTATION_METHOD;
  asOf: ReputationAsOf;
  policy: ReputationPolicy & { windowDays: number; confidence: 0.95 };
  lastDays: ReputationMetrics;
  allTime: ReputationMetrics;
}

/** Name of the metric a cold-chain module fills in later (`breaches`); kept here so it is searchable. */
export const BREACHES_HOOK = "breaches";

/** The Wilson score interval's lower bound at 95%, rounded; null for an empty sample. */
export function wilsonLowerBound(good: number, sampleSize: number): number | null {
  if (sampleSize === 0) return null;
  const z2 = WILSON_Z * WILSON_Z;
  const p = good / sampleSize;
  const centre = p + z2 / (2 * sampleSize);
  const spread = WILSON_Z * Math.sqrt((p * (1 - p)) / sampleSize + z2 / (4 * sampleSize * sampleSize));
  return round4(Math.max(0, (centre - spread) / (1 + z2 / sampleSize)));
}

export function score(good: number, sampleSize: number): Score {
  return {
    sampleSize,
    ratio: sampleSize === 0 ? null : round4(good / sampleSize),
    wilsonLowerBound: wilsonLowerBound(good, sampleSize),
  };
}

function round4(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}

/** Whether the order counts towards anyone's score, or why not. */
export function orderExclusion(order: OrderFact, policy: ReputationPolicy): "below-minimum" | "self-dealing" | null {
  if (order.buyer === order.seller) return "self-dealing";
  const minimum = policy.minimumOrderAmount[order.token.toLowerCase()] ?? policy.defaultMinimumOrderAmount;
  return BigInt(order.amount) < BigInt(minimum) ? "below-minimum" : null;
}

/** The order's delivery outcome at `asOf` (unix seconds) and when it was decided; null when it has none (yet). */
export function deliveryOutcome(order: OrderFact, asOf: number): { onTime: boolean; at: number } | null {
  if (order.deliveredAt !== null) return { onTime: order.deliveredAt <= order.deliveryDeadline, at: order.deliveredAt };
  if (order.state === "cancelled") return null;
  const endedAt = order.closedAt ?? asOf;
  return endedAt > order.deliveryDeadline ? { onTime: false, at: order.deliveryDeadline } : null;
}

/** Who lost a resolved dispute: "buyer", "seller" or null (an even split, or not a resolved dispute). */
export function disputeLoser(order: OrderFact): "buyer" | "seller" | null {
  if (order.state !== "resolved" || order.disputeBuyerAmount === null) return null;
  const twice = 2n * BigInt(order.disputeBuyerAmount);
  const amount = BigInt(order.amount);
  return twice > amount ? "seller" : twice < amount ? "buyer" : null;
}

/** `address`'s reputation from `facts`, as of the block `asOf`. */
export function computeReputation(
  address: Hex,
  facts: ReputationFacts,
  asOf: ReputationAsOf,
  policy: ReputationPolicy = DEFAULT_REPUTATION_POLICY,
): Reputation {
  const subject = address.toLowerCase() as Hex;
  return {
    address: subject,
    method: REPUTATION_METHOD,
    asOf,
    policy: { ...policy, windowDays: WINDOW_DAYS, confidence: 0.95 },
    lastDays: metricsOf(subject, facts, asOf.timestamp, asOf.timestamp - WINDOW_SECONDS, policy),
    allTime: metricsOf(subject, facts, asOf.timestamp, null, policy),
  };
}

function metricsOf(x: Hex, facts: ReputationFacts, asOf: number, from: number | null, policy: ReputationPolicy): ReputationMetrics {
  const inWindow = (at: number) => at <= asOf && (from === null || at > from);
  const counter = () => ({ good: 0, bad: 0 });
  const add = (c: { good: number; bad: number }, good: boolean) => (good ? c.good++ : c.bad++);
  const asSeller = counter();
  const asCarrier = counter();
  const settled = counter();
  let opened = 0;
  let lost = 0;
  const excludedOrders = { belowMinimum: 0, selfDealing: 0 };

  for (const order of uniqueBy(facts.orders, (o) => o.orderId)) {
    if (order.buyer !== x && order.seller !== x && order.carrier !== x) continue;
    const exclusion = orderExclusion(order, policy);
    if (exclusion !== null) {
      if (inWindow(order.openedAt)) excludedOrders[exclusion === "below-minimum" ? "belowMinimum" : "selfDealing"]++;
      continue;
    }
    const delivery = deliveryOutcome(order, asOf);
    if (delivery !== null && inWindow(delivery.at)) {
      if (order.seller === x) add(asSeller, delivery.onTime);
      if (order.carrier === x && order.carrier !== order.buyer) add(asCarrier, delivery.onTime);
    }
    if (order.disputedBy === x && order.disputedAt !== null && inWindow(order.disputedAt)) opened++;
    const isParty = order.buyer === x || order.seller === x;
    const isSettled = order.state === "released" || order.state === "refunded" || order.state === "resolved";
    if (isParty && isSettled && order.closedAt !== null && inWindow(order.closedAt)) {
      const loser = disputeLoser(order);
      const lostByX = (loser === "buyer" && order.buyer === x) || (loser === "seller" && order.seller === x);
      if (lostByX) lost++;
      add(settled, !lostByX);
    }
  }

  const received = counter();
  const sent = counter();
  const asMaker = counter();
  const asHolder = counter();
  const lots = uniqueBy(facts.lots, (lot) => lot.batchId);
  for (const lot of lots) {
    let custodian = lot.firstCustodian;
    for (const event of [...lot.events].sort((a, b) => (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0))) {
      if (event.kind === "inspected") {
        if (inWindow(event.at) && event.inspector !== x) {
          if (lot.manufacturer === x) add(asMaker, event.passed);
          if (custodian === x) add(asHolder, event.passed);
        }
        continue;
      }
      if (inWindow(event.at)) {
        if (event.to === x) add(received, event.kind === "accepted");
        if (event.from === x) add(sent, event.kind === "accepted");
      }
      if (event.kind === "accepted") custodian = event.to;
    }
  }

  const recalls = counter();
  const byId = new Map(lots.map((lot) => [lot.batchId, lot]));
  const recalledRoots = new Set<Hex>();
  for (const lot of lots) if (lot.recalledAt !== null && lot.recalledAt <= asOf) recalledRoots.add(rootOf(lot, byId));
  for (const lot of lots) {
    if (lot.parentId !== null || lot.manufacturer !== x || !inWindow(lot.registeredAt)) continue;
    add(recalls, !recalledRoots.has(lot.batchId));
  }

  const total = (c: { good: number; bad: number }) => c.good + c.bad;
  return {
    from,
    deliveryAsSeller: { onTime: asSeller.good, late: asSeller.bad, score: score(asSeller.good, total(asSeller)) },
    deliveryAsCarrier: { onTime: asCarrier.good, late: asCarrier.bad, score: score(asCarrier.good, total(asCarrier)) },
    handoffsReceived: { accepted: received.good, refused: received.bad, score: score(received.good, total(received)) },
    handoffsSent: { accepted: sent.good, refusedByRecipient: sent.bad, score: score(sent.good, total(sent)) },
    inspectionsAsMaker: { passed: asMaker.good, failed: asMaker.bad, score: score(asMaker.good, total(asMaker)) },
    inspectionsAsHolder: { passed: asHolder.good, failed: asHolder.bad, score: score(asHolder.good, total(asHolder)) },
    disputes: { opened, lost, settledOrders: total(settled), score: score(settled.good, total(settled)) },
    recalls: { lots: total(recalls), recalled: recalls.bad, score: score(recalls.good, total(recalls)) },
    // BREACHES_HOOK: cold-chain breaches on X's legs (IColdChain excursions) become a Score here, with their facts
    // added to ReputationFacts and to both fact sources (store-facts.ts, chain-facts.ts).
    breaches: null,
    excludedOrders,
  };
}

/** The lot a lot was split from, up to its root (bounded; a missing parent ends the walk). */
function rootOf(lot: LotFact, byId: Map<Hex, LotFact>): Hex {
  let current = lot;
  for (let depth = 0; depth < 64 && current.parentId !== null; depth++) {
    const parent = byId.get(current.parentId);
    if (parent === undefined) return current.parentId;
    current = parent;
  }
  return current.batchId;
}

function uniqueBy<T>(items: readonly T[], key: (item: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const item of items) if (!seen.has(key(item))) seen.set(key(item), item);
  return [...seen.values()];
}
