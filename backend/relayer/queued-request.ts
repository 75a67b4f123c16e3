import type { Logger } from "pino";
import type { ChainAccess } from "../chain/chain-access.ts";
import type { Hex, RelayRequest } from "../domain/model.ts";
import type { RelayQueue } from "../store/port.ts";

/** What the submitter decides about a relay job; everything else starts the same for every job. */
export type RelayJob = Pick<
  RelayRequest,
  "id" | "chainId" | "from" | "to" | "value" | "gas" | "nonce" | "deadline" | "data" | "signature" | "kind"
>;

/** A relay job as it is first stored: queued, never attempted, no outcome yet. */
export function queuedRelayRequest(job: RelayJob, timestamp: number): RelayRequest {
  return {
    ...job,
    status: "queued",
    attempts: 0,
    transactionHash: null,
    relayerNonce: null,
    gasPrice: null,
    error: null,
    blockNumber: null,
    createdAt: timestamp,
    updatedAt: timestamp,
  };
}

/** The update that sends a failed job back to the queue: its last outcome cleared, its attempts kept (they cap retries). */
export function requeuedRelayFields(timestamp: number) {
  return {
    status: "queued",
    error: null,
    transactionHash: null,
    relayerNonce: null,
    gasPrice: null,
    blockNumber: null,
    updatedAt: timestamp,
  } as const satisfies Partial<RelayRequest>;
}

/** A call the relayer makes on its own account (no forward request): what a background worker decides. */
export interface BackgroundCall {
  /** Deterministic per chain and purpose, so every instance and every round names the same job. */
  id: string;
  chainId: number;
  /** The relayer's account. */
  from: Hex;
  to: Hex;
  data: Hex;
  kind: string;
}

export interface QueueBackgroundCallOptions {
  /** How often a failed job is sent back to the queue while its call still applies. */
  maxAttempts: number;
  now: () => number;
}

/**
 * Queues `call` unless a job with its id is pending or done: a failed one (e.g. it lost a race with a partner) is
 * re-queued while it has attempts left. The job id when queued or re-queued; null when nothing changed.
 */
export async function queueBackgroundCall(
  store: Pick<RelayQueue, "getRelay" | "enqueueRelay" | "updateRelay">,
  call: BackgroundCall,
  { maxAttempts, now }: QueueBackgroundCallOptions,
): Promise<string | null> {
  const existing = await store.getRelay(call.id);
  if (existing) {
    if (existing.status !== "failed" || existing.attempts >= maxAttempts) return null;
    const requeued = await store.updateRelay(call.id, "failed", requeuedRelayFields(now()));
    return requeued ? call.id : null;
  }
  const job = queuedRelayRequest({ ...call, value: "0", gas: "0", nonce: "0", deadline: 0, signature: "0x" }, now());
  const { created } = await store.enqueueRelay(job);
  return created ? call.id : null;
}

/** What every background worker that queues the relayer's own calls is given (the keeper, flaggers, breach submitter). */
export interface BackgroundCallerOptions {
  chain: ChainAccess;
  /** The relayer's account: simulations run from it, as its transactions will. */
  relayerAddress: Hex;
  logger: Logger;
  intervalMs?: number;
  /** How often a failed job whose call still applies is re-queued (default 3). */
  maxAttempts?: number;
  /** Called after a job was queued (main wires it to the relayer worker's poke). */
  onJobQueued?: (job: RelayRequest) => void;
  now?: () => number;
}

/**
 * The relay jobs still queued or in flight to `target`, by calldata (lower case): the calls on their way, whoever asked
 * for them. A call the contract takes once (a recall flag) is not queued again while one is here.
 */
export async function pendingCallsTo(store: Pick<RelayQueue, "listRelays">, target: Hex): Promise<Map<string, RelayRequest>> {
  const to = target.toLowerCase();
  const pending = await store.listRelays(["queued", "submitted"], 10_000);
  return new Map(pending.filter((job) => job.to.toLowerCase() === to).map((job) => [job.data.toLowerCase(), job]));
}
