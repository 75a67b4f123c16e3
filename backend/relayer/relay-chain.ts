/**
 * What relaying adds to chain access: the block simulations run against, and the calldata a target sees when the
 * forwarder calls it. Chain access and typed contracts live in backend/chain (chain-access.ts, contracts.ts).
 */
import type { Hex } from "../domain/model.ts";

/**
 * Simulations run against the block the transaction will land in ("pending": the latest state with the next
 * block's timestamp), not the latest block: on a quiet chain the latest block can be minutes old, and escrow
 * deadlines and dispute windows are about time.
 */
export const NEXT_BLOCK = "pending";

/** The data the target sees when the forwarder calls it: ERC-2771 appends the signer's address. */
export function forwardedCalldata(data: Hex, from: Hex): Hex {
  return (data + from.slice(2).toLowerCase()) as Hex;
}
