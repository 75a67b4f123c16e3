/**
 * The anchorer: commits each leg's accepted readings on chain, one Merkle root per window, so anyone can later
 * prove a reading was there (anchor-tree.ts says which readings a root holds).
 *
 * Each round it looks at every mirrored leg, reads the relayer's own anchor cursor of the leg on chain (one cursor
 * per account: a carrier anchoring junk moves only its own), plans the next window of stored readings from there
 * (planAnchorWindow: a closed or full window of an open leg, a detached leg's readings at once), proves the
 * anchorReadings call with a simulation from the relayer's account, records the plan, and queues it as a relayer
 * job (kind "anchor"). The job id is deterministic per chain, leg and cursor, so however many anchorers run and
 * however often they look, one cursor position gets one job; the relayer sends it, and the next window waits for
 * the cursor to move.
 */
import type { Logger } from "pino";
import { NEXT_BLOCK, type ChainAccess } from "../chain/chain-access.ts";
import { provenaContracts } from "../chain/contracts.ts";
import { shortMessage } from "../chain/revert-reason.ts";
import type { ColdChainLeg, ReadingsAnchorPlan } from "../domain/cold-chain.ts";
import type { Hex, RelayRequest } from "../domain/model.ts";
import { queuedRelayRequest } from "../relayer/queued-request.ts";
import type { ColdChainReads, ReadingAnchorRecords, RelayQueue } from "../store/port.ts";
import { buildAnchorTree, planAnchorWindow } from "./anchor-tree.ts";
import { createPollingLoop } from "../coordination/polling-loop.ts";

export interface AnchorWorkerOptions {
  store: ColdChainReads & ReadingAnchorRecords & RelayQueue;
  /** Must name a cold chain (chain.addresses.coldChain). */
  chain: ChainAccess;
  /** The relayer's account (granted ANCHORER_ROLE): simulations run from it, as its transactions will. */
  relayerAddress: Hex;
  logger: Logger;
  /** A window spans readings measured within this many milliseconds (ANCHOR_INTERVAL_MS). */
  windowMs: number;
  /** How often the anchorer looks (default 5 s): a detached leg is anchored within about this. */
  pollMs?: number;
  /** Most readings under one root (default 10,000). */
  maxReadingsPerRoot?: number;
  /** How often a failed job of a cursor position is planned and queued again (default 3). */
  maxAttempts?: number;
  onJobQueued?: (job: RelayRequest) => void;
  now?: () => number;
}

export interface AnchorRoundResult {
  /** Legs looked at (detached legs already settled are skipped most rounds). */
  checked: number;
  queued: { legId: Hex; root: Hex; count: number; jobId: string }[];
}

export interface AnchorWorker {
  start(): void;
  stop(): Promise<void>;
  /** One pass over the legs. */
  tick(): Promise<AnchorRoundResult>;
}

/** How many rounds a detached leg with nothing left to anchor is skipped (about 5 minutes at the default poll). */
export const SETTLED_RECHECK_ROUNDS = 60;

/** The relayer job id of an anchor: the relayer's cursor position on a leg maps to one job. */
export function anchorJobId(chainId: number, legId: Hex, nextSequence: number | bigint): string {
  return `anchor:${chainId}:${legId.toLowerCase()}:${nextSequence.toString()}`;
}

export function createAnchorWorker(options: AnchorWorkerOptions): AnchorWorker {
  const { store, chain } = options;
  const contracts = provenaContracts(chain);
  const { coldChain } = contracts;
  const coldChainInterface = contracts.interfaces.coldChain;
  if (coldChain === undefined || coldChainInterface === undefined || chain.addresses.coldChain === undefined) {
    throw new TypeError("the anchorer needs a deployment with a cold chain");
  }
  const anchorCursor = (legId: Hex) => coldChain.anchorCursor(legId, relayerAddress);
  const encodeAnchor = (values: unknown[]) => coldChainInterface.encodeFunctionData("anchorReadings", values) as Hex;
  const coldChainAddress = chain.addresses.coldChain.toLowerCase() as Hex;
  const relayerAddress = options.relayerAddress.toLowerCase() as Hex;
  const pollMs = options.pollMs ?? 5_000;
  const maxReadings = options.maxReadingsPerRoot ?? 10_000;
  const maxAttempts = options.maxAttempts ?? 3;
  const intervalSeconds = Math.max(1, Math.round(options.windowMs / 1_000));
  const now = options.now ?? Date.now;
  const log = options.logger.child({ component: "anchorer" });

  let round = 0;
  /**
   * Detached legs found with nothing left to anchor, by the round they were: looked at again only every
   * SETTLED_RECHECK_ROUNDS rounds (a device's buffered readings may still arrive), so old legs cost no chain call
   * each round.
   */
  const settledLegs = new Map<Hex, number>();

  /** Plans, proves and queues the next window of `leg`; the queued job, or null when nothing is due. */
  async function anchorLeg(leg: ColdChainLeg, chainTime: number): Promise<AnchorRoundResult["queued"][number] | null> {
    const [nextSequence, anchoredUntil] = await anchorCursor(leg.legId);
    const jobId = anchorJobId(chain.chainId, leg.legId, nextSequence);
    const existing = await store.getRelay(jobId);
    // Queued or submitted: in flight. Mined: the cursor moves as soon as the chain's latest block has it.
    if (existing !== null && (existing.status !== "failed" || existing.attempts >= maxAttempts)) return null;
    const stored = await store.listLegReadingRange(leg.legId, Number(nextSequence), Number.MAX_SAFE_INTEGER, maxReadings);
    const planned = planAnchorWindow({
      readings: stored,
      anchoredUntil: Number(anchoredUntil),
      attachedAt: leg.attachedAt,
      detachedAt: leg.detachedAt,
      chainTime,
      intervalSeconds,
      maxReadings,
    });
    if (planned === null) {
      if (leg.detachedAt !== null && existing === null) settledLegs.set(leg.legId, round);
      return null;
    }
    settledLegs.delete(leg.legId);
    const { window, readings } = planned;
    const tree = buildAnchorTree(readings);
    const data = encodeAnchor([
      leg.legId,
      tree.root,
      readings.length,
      window.firstSequence,
      window.lastSequence,
      window.fromTime,
      window.toTime,
    ]);
    try {
      await chain.provider.call({ from: relayerAddress, to: coldChainAddress, data, blockTag: NEXT_BLOCK });
    } catch (error) {
      log.warn({ legId: leg.legId, error: shortMessage(error) }, "the chain would refuse this anchor now; trying again next round");
      return null;
    }
    const plan: ReadingsAnchorPlan = { legId: leg.legId, root: tree.root, count: readings.length, ...window, jobId, plannedAt: now() };
    // The plan first: once the job is queued the root may be on chain, and the proofs need to know it is ours.
    await store.putReadingsAnchorPlan(plan);
    if (existing === null) {
      const job = queuedRelayRequest(
        {
          id: jobId,
          chainId: chain.chainId,
          from: relayerAddress,
          to: coldChainAddress,
          value: "0",
          gas: "0",
          nonce: "0",
          deadline: 0,
          data,
          signature: "0x",
          kind: "anchor",
        },
        now(),
      );
      const { created } = await store.enqueueRelay(job);
      if (!created) return null;
    } else {
      // The last try failed (e.g. the leg was detached meanwhile): send the window as it is planned now.
      const requeued = await store.updateRelay(jobId, "failed", {
        status: "queued",
        data,
        error: null,
        transactionHash: null,
        relayerNonce: null,
        gasPrice: null,
        blockNumber: null,
        updatedAt: now(),
      });
      if (!requeued) return null;
    }
    return { legId: leg.legId, root: tree.root, count: readings.length, jobId };
  }

  async function tick(): Promise<AnchorRoundResult> {
    const legs = await store.listColdChainLegs({});
    const latest = await chain.provider.getBlock("latest");
    // The next block is at least a second later: an open leg's window may end there.
    const chainTime = (latest?.timestamp ?? Math.floor(now() / 1_000)) + 1;
    const queued: AnchorRoundResult["queued"] = [];
    let checked = 0;
    round += 1;
    for (const leg of legs) {
      const settledIn = settledLegs.get(leg.legId);
      if (settledIn !== undefined && round - settledIn < SETTLED_RECHECK_ROUNDS) continue;
      checked += 1;
      if (loop.stopping) break; // stop() was called during a scheduled round
      try {
        const anchored = await anchorLeg(leg, chainTime);
        if (anchored === null) continue;
        queued.push(anchored);
        log.info(anchored, "anchorer queued a root");
        const job = await store.getRelay(anchored.jobId);
        if (job) options.onJobQueued?.(job);
      } catch (error) {
        log.warn({ legId: leg.legId, error: shortMessage(error) }, "anchorer could not check a leg");
      }
    }
    return { checked, queued };
  }

  const loop = createPollingLoop(tick, {
    intervalMs: pollMs,
    onError: (error) => log.error({ error: shortMessage(error) }, "anchorer round failed"),
  });

  return {
    start: loop.start,
    stop: loop.stop,
    tick,
  };
}
