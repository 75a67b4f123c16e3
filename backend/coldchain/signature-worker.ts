/**
 * The worker thread of the signature pool (signature-pool.ts): checks a chunk of reading signatures off the event
 * loop. Each worker keeps its own cache of device keys (reading-signature.ts).
 *
 * Loaded by piscina in a worker thread: it and everything it imports must load as plain ESM under Node's type
 * stripping, or under tsx where Node cannot strip types.
 */
import type { Hex } from "../domain/model.ts";
import { createReadingSignatureCheck } from "./reading-signature.ts";

const check = createReadingSignatureCheck();

export default function checkSignatures(items: { digest: Hex; signature: Hex; device: Hex }[]): boolean[] {
  return items.map((item) => check.signedBy(item.digest, item.signature, item.device));
}
