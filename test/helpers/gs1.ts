/**
 * GS1 identifiers for tests, built from data digits with the check digit appended by the one implementation
 * (backend/chain/gs1.ts).
 */
import { gs1CheckDigit } from "../../backend/chain/gs1.ts";

/** Provena's batch id, `keccak256(abi.encode(uint64 gtin, string lot))`, as the registry derives it. */
export { batchIdOf } from "../../backend/chain/gs1.ts";

/** A GTIN (as the bigint the contracts take) from its data digits, with the check digit appended. */
export function gtinFrom(dataDigits: string): bigint {
  if (!/^\d+$/.test(dataDigits)) throw new Error(`not a digit string: ${dataDigits}`);
  return BigInt(dataDigits + gs1CheckDigit(dataDigits));
}

/** A 13-digit GLN (bigint) from its 12 data digits, with the check digit appended. */
export function glnFrom(dataDigits: string): bigint {
  if (!/^\d{12}$/.test(dataDigits)) throw new Error("a GLN has 12 data digits and a check digit");
  return BigInt(dataDigits + gs1CheckDigit(dataDigits));
}

/** An SSCC (bigint, as the contracts take it) from its 17 data digits (extension digit, company prefix, serial reference). */
export function ssccFrom(dataDigits: string): bigint {
  if (!/^\d{17}$/.test(dataDigits)) throw new Error("an SSCC has 17 data digits and a check digit");
  return BigInt(dataDigits + gs1CheckDigit(dataDigits));
}
