/**
 * Seeing submitted transactions through: record the mined and reverted ones, find the outcome of a nonce used by
 * a transaction this process does not know, and send again (same nonce) what was dropped, never sent, or is stuck.
 */
import { AbiCoder, keccak256 } from "ethers";
import type { Hex, RelayRequest } from "../domain/model.ts";
import { broadcastRelayTransaction } from "./broadcast.ts";
import { decodeFees, encodeFees, feesFor } from "./fees.ts";
import { finishRelay, type RelayerContext } from "./relayer-context.ts";
import { gasLimitOf, signRelayTransaction, simulationFailure } from "./relay-transaction.ts";

/** How far back the chain is searched for the transaction that used a nonce. */
const NONCE_SEARCH_BLOCKS = 50_000;

/** Settles every submitted request; returns how many are still in flight. */
export async function settleSubmitted(context: RelayerContext): Promise<number> {
  const { store, provider, address } = context;
  const submitted = (await store.listRelays(["submitted"], 10_000)).sort((a, b) => (a.relayerNonce ?? 0) - (b.relayerNonce ?? 0));
  if (submitted.length === 0) return 0;
  const head = await provider.getBlockNumber();
  const minedNonce = await provider.getTransactionCount(address, "latest");
  let stillPending = 0;
  for (const request of submitted) {
    if ((await settleRelay(context, request, { head, minedNonce })) === "pending") stillPending++;
  }
  return stillPending;
}

export type SettleOutcome = "settled" | "pending";

export async function settleRelay(
  context: RelayerContext,
  request: RelayRequest,
  { head, minedNonce }: { head: number; minedNonce: number },
): Promise<SettleOutcome> {
  const { provider, sentHashes, now, settings } = context;
  const sent = sentHashes.get(request.id);
  const hashes = new Set<string>([...(sent ?? []), ...(request.transactionHash ? [request.transactionHash] : [])]);
  for (const hash of hashes) {
    const receipt = await provider.getTransactionReceipt(hash);
    if (!receipt) continue;
    if (head - receipt.blockNumber + 1 < settings.confirmations) return "pending";
    if (receipt.status === 1) {
      await finishRelay(context, request, { status: "mined", transactionHash: hash as Hex, blockNumber: receipt.blockNumber, error: null });
    } else {
      const reason = (await simulationFailure(context, request)) ?? "no reason given";
      await finishRelay(context, request, {
        status: "failed",
        transactionHash: hash as Hex,
        blockNumber: receipt.blockNumber,
        error: `reverted on chain: ${reason}`,
      });
    }
    return "settled";
  }
  if (request.relayerNonce! < minedNonce) {
    // The nonce is used, but by none of the hashes we know: an earlier version of this transaction that a
    // previous process broadcast before replacing it. Find the outcome from the chain's own record.
    await settleFromChain(context, request);
    return "settled";
  }
  const pendingTx = request.transactionHash ? await provider.getTransaction(request.transactionHash) : null;
  const sentByThisProcess = request.transactionHash !== null && (sent?.has(request.transactionHash) ?? false);
  // Give a transaction we broadcast ourselves time to be mined (or to show up at a load-balanced node); one
  // persisted by a previous process and unknown to the node was never sent or was dropped: send it at once.
  if ((pendingTx || sentByThisProcess) && now() - request.updatedAt < settings.stuckAfterMs) return "pending";
  // Dropped, never broadcast (we crashed right after persisting), or stuck: send it again with the same
  // nonce; the fee bump makes the node replace a stuck one.
  await resendRelay(context, request, pendingTx !== null ? "stuck" : "dropped");
  return "pending";
}

/** Finds the outcome of a request whose nonce a transaction this process does not know used. */
export async function settleFromChain(context: RelayerContext, request: RelayRequest): Promise<void> {
  const { provider, contracts, chain, address } = context;
  // The transaction that used our nonce emitted the request's events: the forwarder's ExecutedForwardRequest
  // for partner requests, the escrow's order events for keeper jobs. Match the one sent from our account
  // with this request's relayer nonce.
  const fromBlock = Math.max(0, (await provider.getBlockNumber()) - NONCE_SEARCH_BLOCKS);
  let logs: { transactionHash: string; blockNumber: number }[] = [];
  if (request.kind === "partner") {
    logs = await contracts.forwarder.queryFilter(contracts.forwarder.filters.ExecutedForwardRequest(request.from), fromBlock);
  } else {
    const orderId = orderIdOfKeeperCall(context, request.data);
    if (orderId) logs = await provider.getLogs({ address: chain.addresses.escrow, topics: [null, orderId], fromBlock });
  }
  for (const entry of logs) {
    const tx = await provider.getTransaction(entry.transactionHash);
    if (tx && tx.from.toLowerCase() === address && tx.nonce === request.relayerNonce) {
      const receipt = await provider.getTransactionReceipt(entry.transactionHash);
      if (receipt?.status === 1) {
        const transactionHash = entry.transactionHash.toLowerCase() as Hex;
        await finishRelay(context, request, { status: "mined", transactionHash, blockNumber: entry.blockNumber, error: null });
        return;
      }
    }
  }
  const reason = await simulationFailure(context, request);
  await finishRelay(context, request, {
    status: "failed",
    error:
      `the relayer's transaction with nonce ${request.relayerNonce} was mined without carrying this request` +
      (reason ? `: ${reason}` : ""),
  });
}

/** The order id a keeper call (release/refund/resolveExpiredDispute of an Order struct) is about. */
export function orderIdOfKeeperCall({ contracts }: Pick<RelayerContext, "contracts">, data: string): string | null {
  try {
    const parsed = contracts.interfaces.escrow.parseTransaction({ data });
    const order = parsed?.args[0];
    if (!parsed || !order) return null;
    return keccak256(AbiCoder.defaultAbiCoder().encode([parsed.fragment.inputs[0]], [order]));
  } catch {
    return null;
  }
}

/** Signs the request again with its nonce and a fee bumped over the last one, records it, then broadcasts it. */
export async function resendRelay(context: RelayerContext, request: RelayRequest, reason: "stuck" | "dropped"): Promise<void> {
  const { store, provider, log, now, settings } = context;
  const fee = await feesFor(provider, decodeFees(request.gasPrice), settings.feeBumpPercent);
  const gasLimit = await gasLimitOf(context, request);
  const signed = await signRelayTransaction(context, request, { nonce: request.relayerNonce!, gasLimit, fee });
  const patch = { transactionHash: signed.hash, gasPrice: encodeFees(fee), attempts: request.attempts + 1, updatedAt: now() };
  if (!(await store.updateRelay(request.id, "submitted", patch))) return;
  log.info(
    { requestId: request.id, nonce: request.relayerNonce, transactionHash: signed.hash, fee: patch.gasPrice, reason },
    "resubmitting with the same nonce",
  );
  await broadcastRelayTransaction(context, request, signed);
}
