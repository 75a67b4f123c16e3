/**
 * The transformation recall flagger: makes a recall of an input reach the lots made from it.
 *
 * The registry follows only split lineage, so a recalled input does not recall the outputs a transformation made
 * from it until someone calls Transformations' permissionless `flagRecalledInput(outputId, inputId)`. This worker
 * closes that gap: it takes every (output, input) pair of the mirrored TransformationRecorded events (the raw
 * events the indexer stores), proves each flag with a simulation from the relayer's account (the contract refuses
 * a pair whose input is not recalled or whose output already is), and queues each one that passes as a relayer job
 * (kind "recall-flag-input"). Job ids are deterministic per chain and pair, so however many instances run and however
 * often they look, one pair gets one job; the relayer sends it. Only the primary process runs it (next to the keeper).
 */
import type { MirrorLog, RelayQueue } from "../store/port.ts";
import type { ChainEvent, Hex } from "../domain/model.ts";
import { NEXT_BLOCK } from "../chain/chain-access.ts";
import { transformationsAt } from "../chain/contracts.ts";
import { shortMessage } from "../chain/revert-reason.ts";
import { pendingCallsTo, queueBackgroundCall, type BackgroundCallerOptions } from "../relayer/queued-request.ts";
import { createPollingLoop } from "../coordination/polling-loop.ts";

/** The relayer job kind of a recalled-input flag. */
export const RECALL_FLAG_INPUT_JOB_KIND = "recall-flag-input";

export interface InputRecallFlaggerOptions extends BackgroundCallerOptions {
  /** Transformations come from the mirror's raw Transformations events; jobs go to the relay queue. */
  store: Pick<MirrorLog, "listEvents"> & RelayQueue;
}

export interface InputRecallFlaggerRoundResult {
  /** (output, input) pairs the mirror shows. */
  checked: number;
  /** Jobs queued (or re-queued) in this round. */
  queued: { outputId: Hex; inputId: Hex; jobId: string }[];
}

export interface InputRecallFlagger {
  start(): void;
  stop(): Promise<void>;
  /** One pass over the mirrored transformations. */
  tick(): Promise<InputRecallFlaggerRoundResult>;
}

/** The relayer job id of a pair's flag: the same pair always maps to the same job. */
export function recallFlagInputJobId(chainId: number, outputId: Hex, inputId: Hex): string {
  return `${RECALL_FLAG_INPUT_JOB_KIND}:${chainId}:${outputId.toLowerCase()}:${inputId.toLowerCase()}`;
}

/** Every (output, input) pair of the mirrored TransformationRecorded events, once each. */
export async function mirroredTransformationPairs(
  store: Pick<MirrorLog, "listEvents">,
  chainId: number,
): Promise<{ outputId: Hex; inputId: Hex }[]> {
  const events: ChainEvent[] = [];
  let cursor: string | null = null;
  do {
    const page = await store.listEvents({ chainId, contract: "Transformations", name: "TransformationRecorded" }, { limit: 500, cursor });
    events.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  const seen = new Set<string>();
  const pairs: { outputId: Hex; inputId: Hex }[] = [];
  for (const event of events) {
    const { outputIds, inputIds } = event.args;
    if (!Array.isArray(outputIds) || !Array.isArray(inputIds)) continue;
    for (const output of outputIds) {
      for (const input of inputIds) {
        if (typeof output !== "string" || typeof input !== "string") continue;
        const pair = { outputId: output.toLowerCase() as Hex, inputId: input.toLowerCase() as Hex };
        const key = `${pair.outputId}:${pair.inputId}`;
        if (seen.has(key)) continue;
        seen.add(key);
        pairs.push(pair);
      }
    }
  }
  return pairs;
}

/** The transformation recall flagger of a deployment with transformations; null when the deployment has none. */
export function createInputRecallFlagger(options: InputRecallFlaggerOptions): InputRecallFlagger | null {
  const { store, chain } = options;
  const deployed = chain.addresses.transformations?.toLowerCase() as Hex | undefined;
  if (!deployed) return null;
  const transformationsAddress: Hex = deployed;
  const transformations = transformationsAt(transformationsAddress, chain.provider, chain.abis.transformations);
  const relayerAddress = options.relayerAddress.toLowerCase() as Hex;
  const intervalMs = options.intervalMs ?? 5_000;
  const log = options.logger.child({ component: "input-recall-flagger" });
  const queueing = { maxAttempts: options.maxAttempts ?? 3, now: options.now ?? Date.now };

  async function tick(): Promise<InputRecallFlaggerRoundResult> {
    const pairs = await mirroredTransformationPairs(store, chain.chainId);
    // A partner may have had the same flag relayed (it is anyone's): it is on its way, so no second job.
    const pendingCalls = await pendingCallsTo(store, transformationsAddress);
    const queued: InputRecallFlaggerRoundResult["queued"] = [];
    for (const { outputId, inputId } of pairs) {
      if (loop.stopping) break; // stop() was called during a scheduled round
      try {
        const existing = await store.getRelay(recallFlagInputJobId(chain.chainId, outputId, inputId));
        if (existing && existing.status !== "failed") continue; // its flag is on its way (or landed)
        const data = transformations.interface.encodeFunctionData("flagRecalledInput", [outputId, inputId]) as Hex;
        if (pendingCalls.has(data.toLowerCase())) continue;
        try {
          await chain.provider.call({ from: relayerAddress, to: transformationsAddress, data, blockTag: NEXT_BLOCK });
        } catch {
          continue; // input not recalled, or output already recalled: nothing to flag now
        }
        const call = {
          id: recallFlagInputJobId(chain.chainId, outputId, inputId),
          chainId: chain.chainId,
          from: relayerAddress,
          to: transformationsAddress,
          data,
          kind: RECALL_FLAG_INPUT_JOB_KIND,
        };
        const jobId = await queueBackgroundCall(store, call, queueing);
        if (jobId) {
          queued.push({ outputId, inputId, jobId });
          log.info({ outputId, inputId, jobId }, "input recall flagger queued the recall of an output of a recalled input");
          const job = await store.getRelay(jobId);
          if (job) options.onJobQueued?.(job);
        }
      } catch (error) {
        log.warn({ outputId, inputId, error: shortMessage(error) }, "input recall flagger could not check a transformation");
      }
    }
    return { checked: pairs.length, queued };
  }

  const loop = createPollingLoop(tick, {
    intervalMs: intervalMs,
    onError: (error) => log.error({ error: shortMessage(error) }, "input recall flagger round failed"),
  });

  return {
    start: loop.start,
    stop: loop.stop,
    tick,
  };
}
