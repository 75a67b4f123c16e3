/**
 * A participant's reputation as the mirror sees it (reputation.ts computes it; store-facts.ts reads the facts).
 * Answers are kept per participant and block: a newly indexed range moves the checkpoint, so the next request
 * computes afresh and the old entry ages out (as the passport's view cache does). A computation reads the
 * participant's whole record, so it grows with it (seconds for a manufacturer of 10^4 lots): passports, which must
 * not wait that long after every block, read `getManyRecent`, the last answer while the next one is computed.
 * Given a `thread` (reputation-thread.ts, for a SQLite file), the computation runs there, off the event loop, so
 * requests are answered while it runs. Reputation is public: it holds
 * counts and scores only, never an order's id, amount or counterparties, which orders-by-role keeps to the parties.
 */
import { isDomainError, notFound } from "../domain/errors.ts";
import type { Hex } from "../domain/model.ts";
import { createBoundedMemo } from "../passport/view-cache.ts";
import { computeReputation, DEFAULT_REPUTATION_POLICY, type Reputation, type ReputationPolicy } from "./reputation.ts";
import type { ReputationThread } from "./reputation-thread.ts";
import { loadReputationFacts, mirrorAsOf, type ReputationStore } from "./store-facts.ts";

export interface ReputationService {
  /** The reputation of a known participant as of the mirror's checkpoint; a not-found DomainError for anyone else. */
  get(address: Hex): Promise<Reputation>;
  /** The reputation of each known participant among `addresses` (unknown ones are left out). */
  getMany(addresses: readonly Hex[]): Promise<Map<Hex, Reputation>>;
  /**
   * As getMany, except that a participant whose answer for the current block is still being computed gets the last
   * one computed (its `asOf` says which block), and the current one is computed in the background; a participant
   * never computed yet is waited for, at most `waitMs` when given: one still computing then is listed in `computing`
   * (its computation goes on, and a later call answers it), as is one whose computation the thread refused for now.
   */
  getManyRecent(addresses: readonly Hex[], options?: { waitMs?: number }): Promise<RecentReputations>;
}

export interface RecentReputations {
  records: Map<Hex, Reputation>;
  /** Known participants whose first record was still being computed when the wait ended. */
  computing: Hex[];
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

  // The last answer per participant, whatever its block: what getManyRecent serves while the next one is computed.
  const lastAnswers = createBoundedMemo<Hex, Reputation>(Math.max(1, cacheEntries));

  async function known(address: Hex, recent = false): Promise<Reputation | null> {
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
          lastAnswers.set(subject, reputation);
          return reputation;
        })
        .finally(() => inFlight.delete(key));
      inFlight.set(key, pending);
    }
    const last = recent ? lastAnswers.get(subject) : undefined;
    if (last === undefined) return pending;
    // Nobody awaits this computation now: a failure is left for the next request, which starts another.
    pending.catch(() => {});
    return last;
  }

  async function knownAmong(addresses: readonly Hex[]): Promise<Map<Hex, Reputation>> {
    const unique = [...new Set(addresses.map((address) => address.toLowerCase() as Hex))];
    const answers = await Promise.all(unique.map(async (address) => [address, await known(address)] as const));
    return new Map(answers.filter((entry): entry is readonly [Hex, Reputation] => entry[1] !== null));
  }

  async function recentAmong(addresses: readonly Hex[], waitMs: number | undefined): Promise<RecentReputations> {
    const unique = [...new Set(addresses.map((address) => address.toLowerCase() as Hex))];
    let timer: NodeJS.Timeout | undefined;
    const late = Symbol("late");
    const deadline =
      waitMs === undefined
        ? null
        : new Promise<typeof late>((resolve) => {
            timer = setTimeout(() => resolve(late), waitMs);
            timer.unref();
          });
    try {
      // Promise.race subscribes to every answer, so one failing after the deadline is not left unhandled.
      const answers = await Promise.all(
        unique.map(async (address) => {
          // A computation refused for now (the thread's queue is full) is as one still under way: asked again later.
          const answer = known(address, true).catch((error: unknown): typeof late => {
            if (isDomainError(error, "unavailable")) return late;
            throw error;
          });
          return [address, deadline === null ? await answer : await Promise.race([answer, deadline])] as const;
        }),
      );
      const records = new Map<Hex, Reputation>();
      const computing: Hex[] = [];
      for (const [address, answer] of answers) {
        if (answer === late) computing.push(address);
        else if (answer !== null) records.set(address, answer);
      }
      return { records, computing };
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    async get(address) {
      const reputation = await known(address);
      if (reputation === null) throw notFound(`No participant ${address.toLowerCase()} is known to the mirror`);
      return reputation;
    },
    getMany: (addresses) => knownAmong(addresses),
    getManyRecent: (addresses, options) => recentAmong(addresses, options?.waitMs),
  };
}
