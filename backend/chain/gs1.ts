/**
 * GS1 identifiers as the registry checks them (GS1 General Specifications): GTIN-8/12/13/14 and 13-digit GLNs
 * with their mod-10 check digit, lots and serials of GS1 AI character set 82, and the registry's batch id.
 */
import { AbiCoder, keccak256 } from "ethers";
import type { Hex } from "../domain/model.ts";

/** GS1 General Specifications, figure 7.11-1: AI encodable character set 82 (letters, digits, !"%&'()*+,-./:;<=>?_). */
export const CHARSET_82 = /^[!"%&'()*+,\-./0-9:;<=>?A-Z_a-z]*$/;

/** A lot (AI 10) or serial (AI 21): 1 to 20 characters of character set 82, as the registry enforces. */
export const MAX_LOT_OR_SERIAL_LENGTH = 20;
export const LOT_OR_SERIAL_PATTERN = /^[!"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}$/;

/** The lengths a GTIN may have; the registry and the mirror keep the 14-digit form (left-padded with zeros). */
export const GTIN_LENGTHS: ReadonlySet<number> = new Set([8, 12, 13, 14]);
export const GTIN_PATTERN = /^(\d{8}|\d{12,14})$/;
export const GLN_PATTERN = /^\d{13}$/;

/** The GS1 mod-10 check digit of `dataDigits` (every digit except the check digit itself). */
export function gs1CheckDigit(dataDigits: string): number {
  let sum = 0;
  // Weights alternate 3,1,3,... starting from the digit next to the check digit (the rightmost here).
  for (let i = dataDigits.length - 1, weight = 3; i >= 0; i--, weight = 4 - weight) {
    sum += (dataDigits.charCodeAt(i) - 48) * weight;
  }
  return (10 - (sum % 10)) % 10;
}

/** True when the last digit of a digit string (GTIN, GLN) is the GS1 check digit of the others. */
export function hasValidCheckDigit(digits: string): boolean {
  return /^\d{2,}$/.test(digits) && gs1CheckDigit(digits.slice(0, -1)) === Number(digits[digits.length - 1]);
}

/** A GTIN-8/12/13/14 with a valid check digit. */
export function isValidGtin(value: string): boolean {
  return GTIN_PATTERN.test(value) && hasValidCheckDigit(value);
}

/** A 13-digit GLN with a valid check digit. */
export function isValidGln(value: string): boolean {
  return GLN_PATTERN.test(value) && hasValidCheckDigit(value);
}

export const SSCC_PATTERN = /^\d{18}$/;

/** An 18-digit SSCC (AI 00: extension digit, company prefix, serial reference) with a valid check digit. */
export function isValidSscc(value: string): boolean {
  return SSCC_PATTERN.test(value) && hasValidCheckDigit(value);
}

/** True when `value` is a valid lot or serial (1-20 characters of GS1 character set 82). */
export function isValidLotOrSerial(value: string): boolean {
  return LOT_OR_SERIAL_PATTERN.test(value);
}

/** The registry's batchIdOf(gtin, lot): keccak256(abi.encode(uint64 gtin, string lot)). */
export function batchIdOf(gtin: string | bigint, lot: string): Hex {
  return keccak256(AbiCoder.defaultAbiCoder().encode(["uint64", "string"], [BigInt(gtin), lot])) as Hex;
}
