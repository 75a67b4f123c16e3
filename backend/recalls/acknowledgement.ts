/**
 * The statement a holder signs (EIP-191 personal_sign) to acknowledge a recall. Plain text, so a wallet shows the
 * holder what it signs, and canonical, so anyone holding an acknowledgement can rebuild the text and check the
 * signature without asking our server.
 */
import { verifyMessage } from "ethers";
import type { Hex } from "../domain/model.ts";

export interface AcknowledgementTerms {
  batchId: Hex;
  holder: Hex;
  chainId: number;
  /** Unix ms; the text carries it as ISO 8601 (milliseconds included). */
  acknowledgedAt: number;
}

export function recallAcknowledgementText(terms: AcknowledgementTerms): string {
  return [
    "Provena recall acknowledgement",
    `I hold goods affected by the recall of batch ${terms.batchId.toLowerCase()} and have been notified of it.`,
    `Holder: ${terms.holder.toLowerCase()}`,
    `Chain: ${terms.chainId}`,
    `Acknowledged at: ${new Date(terms.acknowledgedAt).toISOString()}`,
  ].join("\n");
}

/** True when `signature` is the holder's personal_sign of the acknowledgement text of `terms`. */
export function isHoldersAcknowledgement(terms: AcknowledgementTerms, signature: string): boolean {
  try {
    return verifyMessage(recallAcknowledgementText(terms), signature).toLowerCase() === terms.holder.toLowerCase();
  } catch {
    return false;
  }
}
