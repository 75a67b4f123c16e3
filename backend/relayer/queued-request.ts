import type { RelayRequest } from "../domain/model.ts";

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
