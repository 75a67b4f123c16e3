/**
 * The breach submitter: sends the out-of-range readings the backend stored to ColdChain.submitExcursion, so an
 * excursion counts on chain (and a breach is established, and the escrow settles by it) without anyone asking.
 *
 * Each round it looks at the mirror's legs, reads each leg's stored readings by sequence, finds the runs outside
 * the batch's frozen conditions (read from the chain, never from the mirror), drops the intervals the chain already
 * counted (`excursionCounted`, whoever submitted them) or a pending job of ours covers, cuts the rest into pieces
 * of at most `maxReadingsPerPiece` readings, proves each piece with a simulation from the relayer's account and
 * queues it as a relayer job (kind "excursion") whose id is a hash of the chain, leg and sequences: however many
 * instances look and however often, one piece is one job; the relayer sends it (and simulates it once more).
 *
 * When to send: every run, not only those that exceed the allowance, since the leg's cumulative excursion on chain
 * is what establishes the breach and it is only true when every run is in it (ten short excursions can be the
 * breach). A run is sent once it ended (an in-range reading, a gap in the sequence, or the leg's end), and while
 * it lasts in full pieces only - one transaction per piece instead of one per reading - except when sending it now
 * establishes the breach: then at once, so the escrow sees the breach as soon as the evidence exists.
 *
 * Who could abuse it, and what stops them:
 * - a third party submitting dust pieces first: those intervals are counted already and skipped; the rest of the
 *   run still goes, in pieces around them, so the count ends up the same and nothing is refused forever;
 * - a compromised or late mirror serving junk readings: the contract re-verifies every signature, range, sequence
 *   and leg, and nothing is queued that did not pass a simulation, so junk costs no gas (it is logged);
 * - a suspended carrier: the contract refuses its devices' readings while the suspension lasts; the submitter
 *   queues nothing for them and tries again each round (the suspension may be lifted).
 */
import { keccak256, solidityPacked } from "ethers";
import type { ColdChainConditions, ColdChainLeg, StoredReading } from "../domain/cold-chain.ts";
import type { Hex } from "../domain/model.ts";
import type { ColdChainReadings, ColdChainReads, RelayQueue } from "../store/port.ts";
import { NEXT_BLOCK } from "../chain/chain-access.ts";
import { provenaContracts } from "../chain/contracts.ts";
import { shortMessage } from "../chain/revert-reason.ts";
import { queueBackgroundCall, type BackgroundCallerOptions } from "../relayer/queued-request.ts";
import { encodeCursor } from "../store/cursor.ts";
import { evidencePieces, isOutOfRange, outOfRangeRuns, pieceSeconds } from "./excursion-runs.ts";
import { readingStruct } from "./reading-codec.ts";
import { createPollingLoop } from "../coordination/polling-loop.ts";

export const EXCURSION_JOB = "excursion";

/**
 * Readings per transaction: about 9,500 gas each (scripts/bench-gas.ts), so ~1 M gas and ~42 KB of calldata per
 * piece, far below a block's gas limit and the 128 KB a node's transaction pool takes.
 */
export const DEFAULT_MAX_READINGS_PER_PIECE = 100;

export interface BreachSubmitterOptions extends BackgroundCallerOptions {
  store: Pick<ColdChainReads, "listColdChainLegs"> & Pick<ColdChainReadings, "listReadings"> & RelayQueue;
  maxReadingsPerPiece?: number;
}

export interface QueuedPiece {
  legId: Hex;
  firstSequence: number;
  lastSequence: number;
  jobId: string;
}

export interface RefusedPiece {
  legId: Hex;
  firstSequence: number;
  lastSequence: number;
  reason: string;
}

export interface BreachSubmitterRoundResult {
  /** Legs whose readings were looked at. */
  checked: number;
  queued: QueuedPiece[];
  /** Pieces the contract would refuse (junk in the store, a suspended carrier, a race): not queued. */
  refused: RefusedPiece[];
}

export interface BreachSubmitter {
  start(): void;
  stop(): Promise<void>;
  /** One pass over the legs. */
  tick(): Promise<BreachSubmitterRoundResult>;
}

/** The relayer job id of a piece of evidence: the same leg and sequences always map to the same job. */
export function excursionJobId(chainId: number, legId: Hex, firstSequence: number, lastSequence: number): Hex {
  return keccak256(
    solidityPacked(["string", "uint256", "bytes32", "uint64", "uint64"], [EXCURSION_JOB, chainId, legId, firstSequence, lastSequence]),
  ) as Hex;
}

const READINGS_PAGE = 500;

/** A leg's stored readings after sequence `after` (all when null), by sequence. */
async function legReadings(store: Pick<ColdChainReadings, "listReadings">, legId: Hex, after: number | null): Promise<StoredReading[]> {
  const readings: StoredReading[] = [];
  // A leg's readings page by sequence, so a cursor made of a sequence resumes right after it (store/cursor.ts).
  let cursor: string | null = after === null ? null : encodeCursor("legReadings", [String(after)]);
  do {
    const page = await store.listReadings({ legId }, { limit: READINGS_PAGE, cursor });
    readings.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return readings;
}

/** What the chain says of a leg, read fresh when it decides something (the mirror may lag). */
interface ChainLeg {
  excursionSeconds: number;
  breached: boolean;
}

export function createBreachSubmitter(options: BreachSubmitterOptions): BreachSubmitter {
  const { store, chain } = options;
  const contracts = provenaContracts(chain);
  const coldChain = contracts.coldChain;
  const coldChainInterface = contracts.interfaces.coldChain;
  const coldChainAddress = chain.addresses.coldChain?.toLowerCase() as Hex | undefined;
  if (coldChain === undefined || coldChainInterface === undefined || coldChainAddress === undefined) {
    throw new Error("the breach submitter needs a deployment with a cold chain");
  }
  const relayerAddress = options.relayerAddress.toLowerCase() as Hex;
  const intervalMs = options.intervalMs ?? 5_000;
  const maxReadings = options.maxReadingsPerPiece ?? DEFAULT_MAX_READINGS_PER_PIECE;
  const maxAttempts = options.maxAttempts ?? 3;
  const now = options.now ?? Date.now;
  const log = options.logger.child({ component: "breach-submitter" });

  /** Frozen conditions never change: read once per batch. Null: the batch has none (nothing to submit). */
  const frozenConditions = new Map<Hex, ColdChainConditions | null>();
  /** Intervals seen counted on chain, per leg (counting is final). */
  const countedIntervals = new Map<Hex, Set<number>>();
  /**
   * Per leg, the sequence through which every reading is settled (in range, or in a run the chain counted in
   * full): the next round reads the leg's readings after it only, so a long leg is not read again and again.
   */
  const settledThrough = new Map<Hex, number>();
  /** Refusals already logged, so a junk piece is reported once, not every round. */
  const loggedRefusals = new Set<string>();

  async function conditionsOf(batchId: Hex): Promise<ColdChainConditions | null | undefined> {
    if (frozenConditions.has(batchId)) return frozenConditions.get(batchId);
    const [conditions, isSet, frozen] = await coldChain!.conditionsOf(batchId);
    if (!frozen) return undefined; // no leg started on chain yet (the mirror is ahead of this node?): look again later
    const value: ColdChainConditions | null = isSet
      ? {
          minTemperature: Number(conditions.minTemperature),
          maxTemperature: Number(conditions.maxTemperature),
          minHumidity: Number(conditions.minHumidity),
          maxHumidity: Number(conditions.maxHumidity),
          allowedExcursionSeconds: Number(conditions.allowedExcursionSeconds),
        }
      : null;
    frozenConditions.set(batchId, value);
    return value;
  }

  async function chainLeg(legId: Hex): Promise<ChainLeg> {
    const record = await coldChain!.leg(legId);
    return { excursionSeconds: Number(record.excursionSeconds), breached: record.breached };
  }

  /** Intervals our queued or submitted jobs will count, per leg (read from the jobs, so it holds across restarts). */
  async function pendingIntervals(): Promise<Map<Hex, Set<number>>> {
    const pending = new Map<Hex, Set<number>>();
    const jobs = await store.listRelays(["queued", "submitted"], 10_000);
    for (const job of jobs) {
      if (job.kind !== EXCURSION_JOB || job.chainId !== chain.chainId || job.to.toLowerCase() !== coldChainAddress) continue;
      try {
        const [legId, readings] = coldChainInterface!.decodeFunctionData("submitExcursion", job.data);
        const first = Number(readings[0].sequence);
        const last = Number(readings[readings.length - 1].sequence);
        const key = (legId as string).toLowerCase() as Hex;
        const intervals = pending.get(key) ?? new Set<number>();
        for (let sequence = first; sequence < last; sequence++) intervals.add(sequence);
        pending.set(key, intervals);
      } catch {
        // Not a submitExcursion call: not ours to account for.
      }
    }
    return pending;
  }

  async function isCounted(legId: Hex, sequence: number): Promise<boolean> {
    const counted = countedIntervals.get(legId) ?? new Set<number>();
    countedIntervals.set(legId, counted);
    if (counted.has(sequence)) return true;
    if (!(await coldChain!.excursionCounted(legId, sequence))) return false;
    counted.add(sequence);
    return true;
  }

  /** Queues `piece` unless a job for it is pending or done (a failed one, e.g. a lost race, is retried); the job id when queued. */
  function queuePiece(legId: Hex, piece: StoredReading[], data: Hex): Promise<string | null> {
    const id = excursionJobId(chain.chainId, legId, piece[0]!.sequence, piece.at(-1)!.sequence);
    const call = { id, chainId: chain.chainId, from: relayerAddress, to: coldChainAddress!, data, kind: EXCURSION_JOB };
    return queueBackgroundCall(store, call, { maxAttempts, now });
  }

  /** Why the contract would refuse `data` from the relayer now; null when it would accept it. */
  async function refusalOf(data: Hex): Promise<string | null> {
    try {
      await chain.provider.call({ from: relayerAddress, to: coldChainAddress, data, blockTag: NEXT_BLOCK });
      return null;
    } catch (error) {
      return contracts.decoder.describe(error);
    }
  }

  async function submitLeg(leg: ColdChainLeg, pending: Set<number>, result: BreachSubmitterRoundResult): Promise<void> {
    const conditions = await conditionsOf(leg.batchId);
    if (conditions === undefined) return;
    const readings = await legReadings(store, leg.legId, settledThrough.get(leg.legId) ?? null);
    const lastReading = readings.at(-1);
    if (lastReading === undefined) return;
    if (conditions === null) {
      settledThrough.set(leg.legId, lastReading.sequence);
      return;
    }
    const runs = outOfRangeRuns(readings, conditions, leg.detachedAt === null);
    const due: StoredReading[][] = [];
    const heldBack: StoredReading[][] = [];
    /** Excursion our pending jobs will add once mined. */
    let pendingSeconds = 0;
    /** The first reading not settled yet: of a run not counted in full, or a trailing warm reading a run may grow from. */
    let unsettledFrom = isOutOfRange(lastReading, conditions) ? lastReading.sequence : Infinity;
    for (const run of runs) {
      const counted = new Set<number>();
      let countedOnChain = 0;
      for (const [index, reading] of run.readings.slice(0, -1).entries()) {
        if (pending.has(reading.sequence)) {
          counted.add(reading.sequence);
          pendingSeconds += run.readings[index + 1]!.timestamp - reading.timestamp;
        } else if (await isCounted(leg.legId, reading.sequence)) {
          counted.add(reading.sequence);
          countedOnChain++;
        }
      }
      if (run.ongoing || countedOnChain < run.readings.length - 1) unsettledFrom = Math.min(unsettledFrom, run.readings[0]!.sequence);
      const pieces = evidencePieces(run.readings, (sequence) => counted.has(sequence), maxReadings);
      const last = pieces.at(-1);
      // A lasting run's unfinished last piece waits for more readings (unless it establishes the breach, below).
      if (run.ongoing && last !== undefined && last.at(-1) === run.readings.at(-1) && last.length < maxReadings) {
        heldBack.push(pieces.pop()!);
      }
      due.push(...pieces);
    }
    const settled = unsettledFrom === Infinity ? lastReading.sequence : unsettledFrom - 1;
    if (settled > (settledThrough.get(leg.legId) ?? -1)) {
      settledThrough.set(leg.legId, settled);
      const counted = countedIntervals.get(leg.legId);
      if (counted) for (const sequence of counted) if (sequence <= settled) counted.delete(sequence);
    }
    if (heldBack.length > 0) {
      // Sent now only when it is what tips the leg over the allowance: a breach that the pending jobs and the due
      // pieces establish anyway does not need it yet.
      const onChain = await chainLeg(leg.legId);
      const withoutHeldBack = due.reduce((sum, piece) => sum + pieceSeconds(piece), onChain.excursionSeconds + pendingSeconds);
      const withHeldBack = heldBack.reduce((sum, piece) => sum + pieceSeconds(piece), withoutHeldBack);
      const allowed = conditions.allowedExcursionSeconds;
      if (!onChain.breached && withoutHeldBack <= allowed && withHeldBack > allowed) due.push(...heldBack.splice(0));
    }

    for (const piece of due) {
      const firstSequence = piece[0]!.sequence;
      const lastSequence = piece.at(-1)!.sequence;
      const data = coldChainInterface!.encodeFunctionData("submitExcursion", [
        leg.legId,
        piece.map((reading) => readingStruct(reading)),
        piece.map((reading) => reading.signature),
      ]) as Hex;
      const refusal = await refusalOf(data);
      if (refusal !== null) {
        result.refused.push({ legId: leg.legId, firstSequence, lastSequence, reason: refusal });
        const key = `${leg.legId}:${firstSequence}:${lastSequence}:${refusal}`;
        if (!loggedRefusals.has(key)) {
          loggedRefusals.add(key);
          log.warn(
            { legId: leg.legId, firstSequence, lastSequence, reason: refusal },
            "the cold chain would refuse this excursion evidence; not sent",
          );
        }
        continue;
      }
      const jobId = await queuePiece(leg.legId, piece, data);
      if (jobId === null) continue;
      result.queued.push({ legId: leg.legId, firstSequence, lastSequence, jobId });
      log.info({ legId: leg.legId, firstSequence, lastSequence, jobId }, "excursion evidence queued");
      const job = await store.getRelay(jobId);
      if (job) options.onJobQueued?.(job);
    }
  }

  async function tick(): Promise<BreachSubmitterRoundResult> {
    const result: BreachSubmitterRoundResult = { checked: 0, queued: [], refused: [] };
    const legs = await store.listColdChainLegs({});
    const pending = await pendingIntervals();
    for (const leg of legs) {
      if (loop.stopping) break; // stop() was called during a scheduled round
      result.checked++;
      try {
        await submitLeg(leg, pending.get(leg.legId) ?? new Set(), result);
      } catch (error) {
        log.warn({ legId: leg.legId, error: shortMessage(error) }, "breach submitter could not check a leg");
      }
    }
    return result;
  }

  const loop = createPollingLoop(tick, {
    intervalMs: intervalMs,
    onError: (error) => log.error({ error: shortMessage(error) }, "breach submitter round failed"),
  });

  return {
    start: loop.start,
    stop: loop.stop,
    tick,
  };
}
