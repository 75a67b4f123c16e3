/**
 * The recall flagger: makes a recall stop the containers it reaches.
 *
 * A container handoff cannot look inside the container (its gas would grow with the contents), so LogisticUnits
 * counts recalled contents only when someone calls `flagRecalledBatch(batchId)` for a packed batch the registry
 * reports Recalled (itself, or through an ancestor lot: a recall of a parent reaches its split children). Until
 * then the container can still move. This worker closes that gap: it takes the batches the mirror shows packed
 * (the LogisticUnits BatchPacked / BatchUnpacked events the indexer stores raw), keeps those the mirror shows a recall
 * may reach (the batch or an ancestor lot recalled, or not mirrored yet), re-checks each on the chain (the mirror may
 * lag), and for every packed batch that is recalled and not yet flagged proves the flag with a
 * simulation from the relayer's account before queueing it as a relayer job (kind "recall-flag"). Job ids are
 * deterministic per chain and batch, so however many instances run and however often they look, one batch gets one
 * job; the relayer sends it. Only the primary process runs it (started next to the keeper).
 */
import type { MirrorLog, ProjectionReads, RelayQueue } from "../store/port.ts";
import type { ChainEvent, Hex } from "../domain/model.ts";
import { NEXT_BLOCK, type ChainAccess } from "../chain/chain-access.ts";
import { logisticUnitsAt, registryAt, type LogisticUnits, type ProvenanceRegistry } from "../chain/contracts.ts";
import { shortMessage } from "../chain/revert-reason.ts";
import { pendingCallsTo, queueBackgroundCall, type BackgroundCallerOptions } from "../relayer/queued-request.ts";
import { createPollingLoop } from "../coordination/polling-loop.ts";

/** The relayer job kind of a recall flag. */
export const RECALL_FLAG_JOB_KIND = "recall-flag";

/** IProvenanceRegistry.BatchStatus.Recalled (reported for a recalled batch and for every descendant of one). */
const RECALLED_STATUS = 5n;

export interface RecallFlaggerOptions extends BackgroundCallerOptions {
  /** Packed batches come from the mirror's raw LogisticUnits events, recalls from its batches; jobs go to the relay queue. */
  store: Pick<MirrorLog, "listEvents"> & Pick<ProjectionReads, "getBatch"> & RelayQueue;
}

export interface RecallFlaggerRoundResult {
  /** Batches the mirror shows packed (those a mirrored recall may reach are re-checked on the chain). */
  checked: number;
  /** Jobs queued (or re-queued) in this round. */
  queued: { batchId: Hex; sscc: string; jobId: string }[];
}

export interface RecallFlagger {
  start(): void;
  stop(): Promise<void>;
  /** One pass over the packed batches. */
  tick(): Promise<RecallFlaggerRoundResult>;
}

/** The relayer job id of a batch's recall flag: the same batch always maps to the same job. */
export function recallFlagJobId(chainId: number, batchId: Hex): string {
  return `${RECALL_FLAG_JOB_KIND}:${chainId}:${batchId.toLowerCase()}`;
}

type EventLister = Pick<MirrorLog, "listEvents">;

async function allEvents(store: EventLister, chainId: number, name: string): Promise<ChainEvent[]> {
  const events: ChainEvent[] = [];
  let cursor: string | null = null;
  do {
    const page = await store.listEvents({ chainId, contract: "LogisticUnits", name }, { limit: 500, cursor });
    events.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return events;
}

/**
 * The batches the mirror shows packed now: those whose last BatchPacked / BatchUnpacked event is a pack. Only a
 * hint (the chain decides): a batch the mirror has not seen packed yet is picked up in a later round.
 */
export async function mirroredPackedBatches(store: EventLister, chainId: number): Promise<Hex[]> {
  const events = [...(await allEvents(store, chainId, "BatchPacked")), ...(await allEvents(store, chainId, "BatchUnpacked"))];
  events.sort((a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex);
  const packed = new Set<Hex>();
  for (const event of events) {
    const batchId = event.args.batchId;
    if (typeof batchId !== "string") continue;
    const key = batchId.toLowerCase() as Hex;
    if (event.name === "BatchPacked") packed.add(key);
    else packed.delete(key);
  }
  return [...packed];
}

/** Lots a split can nest; beyond it the chain is asked (the walk only saves chain calls, it never decides). */
const MAX_MIRRORED_LINEAGE = 32;

/**
 * Whether the mirror shows a recall reaching `batchId` (itself or an ancestor lot recalled), or cannot tell (the batch
 * or an ancestor not mirrored yet). A prefilter that keeps clean packed batches from costing chain calls every round;
 * a recall the mirror has not seen yet is found in a later round.
 */
export async function mirrorMayShowRecall(store: Pick<ProjectionReads, "getBatch">, batchId: Hex): Promise<boolean> {
  let current: Hex | null = batchId;
  for (let depth = 0; current !== null && depth < MAX_MIRRORED_LINEAGE; depth++) {
    const batch = await store.getBatch(current);
    if (batch === null || batch.status === "recalled") return true;
    current = batch.parentId;
  }
  return current !== null;
}

/**
 * The `flagRecalledBatch` call for `batchId` when the chain shows it packed, not yet flagged and recalled, and a
 * simulation from `relayerAddress` passes; null otherwise.
 */
export async function recallFlagOf(
  chain: Pick<ChainAccess, "provider">,
  contracts: { logisticUnits: LogisticUnits; registry: ProvenanceRegistry; logisticUnitsAddress: Hex },
  relayerAddress: Hex,
  batchId: Hex,
): Promise<{ sscc: bigint; data: Hex } | null> {
  const [sscc, recallFlagged] = await contracts.logisticUnits.packedBatch(batchId);
  if (sscc === 0n || recallFlagged) return null;
  const [status] = await contracts.registry.batchStatus(batchId);
  if (status !== RECALLED_STATUS) return null;
  const data = contracts.logisticUnits.interface.encodeFunctionData("flagRecalledBatch", [batchId]) as Hex;
  try {
    await chain.provider.call({ from: relayerAddress, to: contracts.logisticUnitsAddress, data, blockTag: NEXT_BLOCK });
  } catch {
    return null; // changed since the reads (unpacked, flagged by someone else): look again next round
  }
  return { sscc, data };
}

/** The recall flagger of a deployment with logistic units; null when the deployment has none. */
export function createRecallFlagger(options: RecallFlaggerOptions): RecallFlagger | null {
  const { store, chain } = options;
  const logisticUnitsAddress = chain.addresses.logisticUnits?.toLowerCase() as Hex | undefined;
  if (!logisticUnitsAddress) return null;
  const contracts = {
    logisticUnits: logisticUnitsAt(logisticUnitsAddress, chain.provider, chain.abis.logisticUnits),
    registry: registryAt(chain.addresses.registry, chain.provider, chain.abis.registry),
    logisticUnitsAddress,
  };
  const relayerAddress = options.relayerAddress.toLowerCase() as Hex;
  const intervalMs = options.intervalMs ?? 5_000;
  const log = options.logger.child({ component: "recall-flagger" });
  const queueing = { maxAttempts: options.maxAttempts ?? 3, now: options.now ?? Date.now };

  async function tick(): Promise<RecallFlaggerRoundResult> {
    const batchIds = await mirroredPackedBatches(store, chain.chainId);
    // A partner may have had the same flag relayed (it is anyone's): it is on its way, so no second job.
    const pendingCalls = await pendingCallsTo(store, contracts.logisticUnitsAddress);
    const queued: RecallFlaggerRoundResult["queued"] = [];
    for (const batchId of batchIds) {
      if (loop.stopping) break; // stop() was called during a scheduled round
      try {
        const existing = await store.getRelay(recallFlagJobId(chain.chainId, batchId));
        if (existing && existing.status !== "failed") continue; // its flag is on its way (or landed)
        if (!(await mirrorMayShowRecall(store, batchId))) continue;
        const flag = await recallFlagOf(chain, contracts, relayerAddress, batchId);
        if (!flag || pendingCalls.has(flag.data.toLowerCase())) continue;
        const call = {
          id: recallFlagJobId(chain.chainId, batchId),
          chainId: chain.chainId,
          from: relayerAddress,
          to: contracts.logisticUnitsAddress,
          data: flag.data,
          kind: RECALL_FLAG_JOB_KIND,
        };
        const jobId = await queueBackgroundCall(store, call, queueing);
        if (jobId) {
          queued.push({ batchId, sscc: flag.sscc.toString(), jobId });
          log.info({ batchId, sscc: flag.sscc.toString(), jobId }, "recall flagger queued the flag of a packed recalled batch");
          const job = await store.getRelay(jobId);
          if (job) options.onJobQueued?.(job);
        }
      } catch (error) {
        log.warn({ batchId, error: shortMessage(error) }, "recall flagger could not check a packed batch");
      }
    }
    return { checked: batchIds.length, queued };
  }

  const loop = createPollingLoop(tick, {
    intervalMs: intervalMs,
    onError: (error) => log.error({ error: shortMessage(error) }, "recall flagger round failed"),
  });

  return {
    start: loop.start,
    stop: loop.stop,
    tick,
  };
}
