/** Sending a signed transaction to the node, and what a refusal means for the request and the relayer. */
import type { RelayRequest } from "../domain/model.ts";
import type { RelayerContext } from "./relayer-context.ts";
import type { SignedRelayTransaction } from "./relay-transaction.ts";
import { shortMessage } from "../chain/revert-reason.ts";

/**
 * Broadcast failures that prove the node did not take the transaction and will not. "rejected" is about this
 * request's transaction (its gas limit), so retrying it cannot help; "invalid-sender" is about the relayer's
 * own account or chain id, so every request would meet it.
 */
export type BroadcastRefusal = "known" | "nonce-too-low" | "underpriced" | "funds" | "rejected" | "invalid-sender" | "unknown";

export function classifyBroadcastError(error: unknown): BroadcastRefusal {
  const info = JSON.stringify((error as { info?: unknown })?.info ?? "");
  const text = `${shortMessage(error)} ${(error as { code?: string })?.code ?? ""} ${info}`.toLowerCase();
  if (text.includes("already known") || text.includes("known transaction") || text.includes("already imported")) return "known";
  if (text.includes("nonce too low") || text.includes("nonce_expired") || text.includes("nonce has already been used"))
    return "nonce-too-low";
  if (text.includes("underpriced") || text.includes("replacement_underpriced") || text.includes("fee too low")) return "underpriced";
  if (text.includes("insufficient funds") || text.includes("insufficient_funds")) return "funds";
  if (text.includes("intrinsic gas") || text.includes("exceeds block gas limit")) return "rejected";
  if (text.includes("invalid sender")) return "invalid-sender";
  return "unknown";
}

export type BroadcastResult = { kind: "ok" } | { kind: Exclude<BroadcastRefusal, "known">; message: string };

/** Sends `transaction`, remembering its hash first: whatever the node answers, it may end up mined. */
export async function broadcastRelayTransaction(
  { provider, sentHashes, log }: Pick<RelayerContext, "provider" | "sentHashes" | "log">,
  request: RelayRequest,
  { raw, hash }: SignedRelayTransaction,
): Promise<BroadcastResult> {
  let hashes = sentHashes.get(request.id);
  if (!hashes) sentHashes.set(request.id, (hashes = new Set()));
  hashes.add(hash);
  try {
    await provider.broadcastTransaction(raw);
    return { kind: "ok" };
  } catch (error) {
    const kind = classifyBroadcastError(error);
    if (kind === "known") return { kind: "ok" };
    log.warn({ requestId: request.id, transactionHash: hash, kind, error: shortMessage(error) }, "broadcast refused");
    return { kind, message: shortMessage(error) };
  }
}
