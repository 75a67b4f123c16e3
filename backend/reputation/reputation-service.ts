/**
 * A participant's reputation as the mirror sees it (reputation.ts computes it; store-facts.ts reads the facts).
 * Answers are kept per participant and block: a newly indexed range moves the checkpoint, so the next request
 * computes afresh and the old entry ages out (as the passport's view cache does). A computation reads the
 * participant's whole record, so it grows with it (seconds for a manufacturer of 10^4 lots): passports, which must
 * not wait for that, read `getTrackRecords`, the all-time totals the store keeps as it mirrors (track-record.ts).
 * Given a `thread` (reputation-thread.ts, for a SQLite file), the computation runs there, off the event loop, so
 * requests are answered while it runs. Reputation is public: it holds
 * counts and scores only, never an order's id, amount or counterparties, which orders-by-role keeps to the parties.
 */
import { notFound } from "../domain/errors.ts";
import type { Hex } from "../domain/model.ts";
import { createBoundedMemo } from "../passport/view-cache.ts";
import { computeReputation, DEFAULT_REPUTATION_POLICY, type Reputation, type ReputationPolicy } from "./reputation.ts";
import type { ReputationThread } from "./reputation-thread.ts";
import { trackRecordOf, type TrackRecord } from "./track-record.ts";
import { loadReputationFacts, mirrorAsOf, type ReputationStore } from "./store-facts.ts";

export interface ReputationService {
  /** The reputation of a known participant as of the mirror's checkpoint; a not-found DomainError for anyone else. */
  get(address: Hex): Promise<Reputation>;
  /** The reputation of each known participant among `addresses` (unknown ones are left out). */
  getMany(addresses: readonly Hex[]): Promise<Map<Hex, Reputation>>;
  /**
   * The all-time track record of each known participant among `addresses` as of the mirror's checkpoint, from the
   * totals the store keeps as it mirrors (track-record.ts): no history is read, so it costs the same for any size.
   */
  getTrackRecords(addresses: readonly Hex[]): Promise<Map<Hex, TrackRecord>>;
}

export interface ReputationServiceOptions {
  store: ReputationStore;
  chainId: number;
  policy?: ReputationPolicy;
  /** Participants whose answer is kept for the current block; 0 keeps none. */
  cacheEntries?: number;
  /**
   * Computes records on a worker thread over its own connection to the same store (its owner closes it); absent:
   * in-process. Its policy must be `policy`.
   */
  thread?: ReputationThread | null;
}

export const DEFAULT_REPUTATION_CACHE_ENTRIES = 2_000;

export function createReputationService(options: ReputationServiceOptions): ReputationService {
  const { store, chainId } = options;
  const thread = options.thread ?? null;
  const policy = options.policy ?? DEFAULT_REPUTATION_POLICY;
  const cacheEntries = options.cacheEntries ?? DEFAULT_REPUTATION_CACHE_ENTRIES;
  const memo = createBoundedMemo<string, Reputation>(Math.max(1, cacheEntries));
  // Concurrent requests for one participant at a new block share one computation.
  const inFlight = new Map<string, Promise<Reputation>>();

  async function known(address: Hex): Promise<Reputation | null> {
    const subject = address.toLowerCase() as Hex;
    const [participant, mirror] = await Promise.all([store.getParticipant(subject), mirrorAsOf(store, chainId)]);
    if (participant === null || mirror === null) return null;
    const compute = async (): Promise<Reputation> => {
      // The thread reads the checkpoint again when it starts: its record says the block it is as of.
      const computed = thread === null ? null : await thread.compute(subject);
      return computed ?? computeReputation(subject, await loadReputationFacts(store, subject), mirror.asOf, policy);
    };
    if (cacheEntries === 0) return compute();
    const key = `${subject}@${mirror.asOf.blockNumber}:${mirror.blockHash ?? ""}`;
    const kept = memo.get(key);
    if (kept !== undefined) return kept;
    let pending = inFlight.get(key);
    if (pending === undefined) {
      pending = compute()
        .then((reputation) => {
          memo.set(key, reputation);
          return reputation;
        })
        .finally(() => inFlight.delete(key));
      inFlight.set(key, pending);
    }
    return pending;
  }

  async function knownAmong(addresses: readonly Hex[]): Promise<Map<Hex, Reputation>> {
    const unique = [...new Set(addresses.map((address) => address.toLowerCase() as Hex))];
    const answers = await Promise.all(unique.map(async (address) => [address, await known(address)] as const));
    return new Map(answers.filter((entry): entry is readonly [Hex, Reputation] => entry[1] !== null));
  }

  return {
    async get(address) {
      const reputation = await known(address);
      if (reputation === null) throw notFound(`No participant ${address.toLowerCase()} is known to the mirror`);
      return reputation;
    },
    getMany: (addresses) => knownAmong(addresses),
    async getTrackRecords(addresses) {
      const unique = [...new Set(addresses.map((address) => address.toLowerCase() as Hex))];
      // The checkpoint first: the totals are then at least as new as the block the records say they are as of.
      const mirror = await mirrorAsOf(store, chainId);
      if (mirror === null || unique.length === 0) return new Map();
      const known = (await store.getParticipants(unique)).map((participant) => participant.address);
      const totals = await store.getTrackRecordTotals(known, mirror.asOf.timestamp);
      return new Map(known.map((address) => [address, trackRecordOf(address, totals.get(address)!, mirror.asOf)]));
    },
  };
}
