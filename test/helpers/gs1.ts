import { AbiCoder, keccak256 } from "ethers";

/** The GS1 mod-10 check digit for the data digits of a GTIN or GLN (everything but the check digit). */
export function gs1CheckDigit(dataDigits: string): number {
  if (!/^\d+$/.test(dataDigits)) throw new Error(`not a digit string: ${dataDigits}`);
  let sum = 0;
  for (let i = 0; i < dataDigits.length; i++) {
    const digit = Number(dataDigits[dataDigits.length - 1 - i]);
    sum += digit * (i % 2 === 0 ? 3 : 1);
  }
  return (10 - (sum % 10)) % 10;
}

/** A GTIN (as the bigint the contracts take) from its data digits, with the check digit appended. */
export function gtinFrom(dataDigits: string): bigint {
  return BigInt(dataDigits + gs1CheckDigit(dataDigits));
}

/** A 13-digit GLN (bigint) from its 12 data digits, with the check digit appended. */
export function glnFrom(dataDigits: string): bigint {
  if (dataDigits.length !== 12) throw new Error("a GLN has 12 data digits and a check digit");
  return BigInt(dataDigits + gs1CheckDigit(dataDigits));
}

/** Provena's batch id, `keccak256(abi.encode(uint64 gtin, string lot))`, as the registry derives it. */
export function batchIdOf(gtin: bigint, lot: string): string {
  return keccak256(AbiCoder.defaultAbiCoder().encode(["uint64", "string"], [gtin, lot]));
}
