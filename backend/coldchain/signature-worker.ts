/**
 * The worker thread of the signature pool (signature-pool.ts): checks a chunk of reading signatures off the event
 * loop, digesting the readings first when given them (keccak in JavaScript is the other heavy step). Each worker
 * keeps its own cache of device keys (reading-signature.ts).
 *
 * Loaded by piscina in a worker thread: it and everything it imports must load as plain ESM under Node's type
 * stripping, or under tsx where Node cannot strip types.
 */
import type { TypedDataDomain } from "ethers";
import type { SignedReading } from "../domain/cold-chain.ts";
import type { Hex } from "../domain/model.ts";
import { createReadingDigester } from "./reading-codec.ts";
import { createReadingSignatureCheck } from "./reading-signature.ts";

const check = createReadingSignatureCheck();
const digesters = new Map<string, (reading: Omit<SignedReading, "signature">) => Hex>();

export type SignatureTask =
  | { kind: "digests"; items: { digest: Hex; signature: Hex; device: Hex }[] }
  | { kind: "readings"; domain: TypedDataDomain; readings: SignedReading[] };

export default function checkSignatures(task: SignatureTask): boolean[] {
  if (task.kind === "digests") return task.items.map((item) => check.signedBy(item.digest, item.signature, item.device));
  const key = `${String(task.domain.chainId)}:${String(task.domain.verifyingContract)}:${task.domain.name}:${task.domain.version}`;
  let digestOf = digesters.get(key);
  if (digestOf === undefined) digesters.set(key, (digestOf = createReadingDigester(task.domain)));
  return task.readings.map((reading) => check.signedBy(digestOf(reading), reading.signature, reading.device));
}
