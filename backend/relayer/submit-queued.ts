/**
 * Submitting queued requests: a last check that each can still run, then sign, record, broadcast (in that order,
 * so the store knows every transaction that may be on the network), in each signer's nonce order.
 */
import type { RelayRequest } from "../domain/model.ts";
import { broadcastRelayTransaction } from "./broadcast.ts";
import { encodeFees, feesFor } from "./fees.ts";
import { finishRelay, loadNextNonce, type RelayerContext } from "./relayer-context.ts";
import { gasLimitOf, signRelayTransaction, simulationFailure } from "./relay-transaction.ts";

/** Orders the queue so a signer's requests go in nonce order. */
export function submissionOrder(queued: RelayRequest[]): RelayRequest[] {
  return [...queued].sort((a, b) => {
    if (a.kind === "partner" && b.kind === "partner" && a.from === b.from) return Number(BigInt(a.nonce) - BigInt(b.nonce));
    return a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1);
  });
}

/** Submits queued requests until `maxInFlight` transactions are in flight, the queue is done, or submitting must stop. */
export async function submitQueued(context: RelayerContext, inFlight: number): Promise<void> {
  const queued = submissionOrder(await context.store.listRelays(["queued"], 500));
  const waitingSigners = new Set<string>();
  for (const request of queued) {
    if (inFlight >= context.settings.maxInFlight || !(await context.maySubmit())) return;
    if (request.kind === "partner" && waitingSigners.has(request.from)) continue;
    const outcome = await submitRelay(context, request);
    if (outcome === "submitted") inFlight++;
    if (outcome === "wait" && request.kind === "partner") waitingSigners.add(request.from);
    if (outcome === "halt") return;
  }
}

/**
 * - submitted: on its way; failed: recorded as failed; wait: an earlier request of the same signer goes first;
 * - halt: the node refused the relayer itself (its nonce, fee, funds or key); nothing more this round.
 */
export type SubmitOutcome = "submitted" | "failed" | "wait" | "halt";

export async function submitRelay(context: RelayerContext, request: RelayRequest): Promise<SubmitOutcome> {
  if (request.kind === "partner") {
    const refusal = await partnerRequestRefusal(context, request);
    if (refusal !== null) return refusal;
  }
  const failure = await simulationFailure(context, request);
  if (failure) {
    await finishRelay(context, request, { status: "failed", error: failure });
    return "failed";
  }
  return signAndBroadcast(context, request);
}

/** Whether a partner's request can go now by its deadline and the forwarder's nonce; null when it can. */
async function partnerRequestRefusal(context: RelayerContext, request: RelayRequest): Promise<"failed" | "wait" | null> {
  const { provider, contracts, store, now } = context;
  const latest = await provider.getBlock("latest");
  const nextTimestamp = Math.max((latest?.timestamp ?? 0) + 1, Math.floor(now() / 1000));
  if (request.deadline < nextTimestamp) {
    const error = `the request expired at ${new Date(request.deadline * 1000).toISOString()} before it could be submitted`;
    await finishRelay(context, request, { status: "failed", error });
    return "failed";
  }
  const forwarderNonce = BigInt(await contracts.forwarder.nonces(request.from));
  const nonce = BigInt(request.nonce);
  if (nonce < forwarderNonce) {
    const error = `nonce ${nonce} of ${request.from} was used by another transaction before this request could be submitted`;
    await finishRelay(context, request, { status: "failed", error });
    return "failed";
  }
  if (nonce > forwarderNonce) {
    const earlier = (await store.listRelays(["queued", "submitted"], 10_000)).some(
      (other) =>
        other.kind === "partner" && other.from === request.from && BigInt(other.nonce) >= forwarderNonce && BigInt(other.nonce) < nonce,
    );
    if (earlier) return "wait";
    const error =
      `the request with nonce ${forwarderNonce} of ${request.from}, which this one (nonce ${nonce}) follows, failed; ` +
      `sign it again with nonce ${forwarderNonce}`;
    await finishRelay(context, request, { status: "failed", error });
    return "failed";
  }
  return null;
}

async function signAndBroadcast(context: RelayerContext, request: RelayRequest): Promise<SubmitOutcome> {
  const { store, provider, log, now, address, chain, sentHashes } = context;
  const gasLimit = await gasLimitOf(context, request);
  const fee = await feesFor(provider, null, context.settings.feeBumpPercent);
  const nonce = context.nonce.next!;
  const signed = await signRelayTransaction(context, request, { nonce, gasLimit, fee });
  const claimed = await store.updateRelay(request.id, "queued", {
    status: "submitted",
    relayerNonce: nonce,
    transactionHash: signed.hash,
    gasPrice: encodeFees(fee),
    attempts: request.attempts + 1,
    updatedAt: now(),
  });
  if (!claimed) return "failed"; // someone else moved it; nothing was broadcast and the nonce stays free
  context.nonce.next = nonce + 1;
  log.info({ requestId: request.id, kind: request.kind, nonce, transactionHash: signed.hash }, "relay request submitted");
  const result = await broadcastRelayTransaction(context, request, signed);
  if (result.kind === "ok" || result.kind === "unknown") return "submitted"; // unknown: settleSubmitted re-checks it by hash
  // The node refused it for good: nothing is on the network with this hash, and the nonce stays free.
  context.nonce.next = nonce;
  if (result.kind === "rejected") {
    // This request's own transaction can never be taken; back in the queue it would block everyone behind it.
    const error = `the node refused the relayer's transaction: ${result.message}`;
    const cleared = { transactionHash: null, relayerNonce: null, gasPrice: null };
    await finishRelay(context, { ...request, status: "submitted" }, { status: "failed", ...cleared, error });
    return "failed";
  }
  // A refusal about the relayer itself: take the request back to the queue and try again next round.
  await store.updateRelay(request.id, "submitted", {
    status: "queued",
    relayerNonce: null,
    transactionHash: null,
    gasPrice: null,
    updatedAt: now(),
  });
  sentHashes.delete(request.id);
  if (result.kind === "nonce-too-low" || result.kind === "underpriced") {
    context.nonce.next = null;
    await loadNextNonce(context);
    return "halt";
  }
  if (result.kind === "funds") log.error({ address }, "the relayer account cannot pay for gas: fund it; requests stay queued");
  if (result.kind === "invalid-sender") {
    log.error(
      { address, chainId: chain.chainId },
      "the node refuses the relayer's signature (check the relayer key and the chain id); requests stay queued",
    );
  }
  return "halt";
}
