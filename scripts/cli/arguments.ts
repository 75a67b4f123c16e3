/**
 * Parsers of the CLI's arguments and options: each returns the value the contracts take, or throws a message
 * commander prints with the option's name. The rules themselves are the chain's (backend/chain).
 */
import { InvalidArgumentError } from "commander";
import { getAddress } from "ethers";
import { GLN_PATTERN, batchIdOf, gs1CheckDigit, isValidLotOrSerial } from "../../backend/chain/gs1.ts";
import { addressSchema, bytes32Schema } from "../../backend/chain/schemas.ts";
import { BUSINESS_STEPS, PARTICIPANT_ROLES, type ParticipantRole } from "../../backend/chain/vocabulary.ts";
import { DigitalLinkError, normalizeGtin } from "../../backend/passport/digital-link.ts";
import type { Hex } from "../../backend/domain/model.ts";

/** An address, answered EIP-55 checksummed; a mixed-case one must carry a valid checksum. */
export function address(value: string): string {
  const parsed = addressSchema.safeParse(value);
  if (!parsed.success) {
    // A well-formed address can only fail its EIP-55 checksum (the schema's refinement): say that; else what it must be.
    const issue = parsed.error.issues[0]!;
    throw new InvalidArgumentError(issue.code === "custom" ? issue.message : "must be a 0x-prefixed 20-byte address");
  }
  return getAddress(parsed.data);
}

export function gln(value: string): bigint {
  if (!GLN_PATTERN.test(value)) throw new InvalidArgumentError("must be a 13-digit GLN");
  const expected = gs1CheckDigit(value.slice(0, 12));
  if (expected !== Number(value[12])) throw new InvalidArgumentError(`has a wrong check digit (expected ${expected})`);
  return BigInt(value);
}

export function bps(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 10_000) throw new InvalidArgumentError("must be basis points 0-10000");
  return Number(value);
}

export function positiveInteger(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) <= 0) throw new InvalidArgumentError("must be a positive integer");
  return Number(value);
}

export function nonNegativeInteger(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError("must be a non-negative integer");
  return Number(value);
}

/** A GS1 company prefix as the contracts take it: its value and its length in digits (leading zeros count). */
export interface CompanyPrefix {
  digits: string;
  prefix: bigint;
  length: number;
}

export function companyPrefix(value: string): CompanyPrefix {
  if (!/^\d{4,12}$/.test(value)) throw new InvalidArgumentError("must be a GS1 company prefix of 4 to 12 digits");
  return { digits: value, prefix: BigInt(value), length: value.length };
}

/** A participant role, by name in any case, with or without the _ROLE suffix. */
export function role(value: string): ParticipantRole {
  const name = value.toUpperCase().replace(/_ROLE$/, "");
  const known = PARTICIPANT_ROLES.find((candidate) => candidate === name);
  if (known === undefined) throw new InvalidArgumentError(`must be one of ${PARTICIPANT_ROLES.join(", ")}`);
  return known;
}

/** A CBV business step by name ("entering-exiting" or "entering_exiting"), answered as its enum value. */
export function step(value: string): number {
  const index = (BUSINESS_STEPS as readonly string[]).indexOf(value.toLowerCase().replace(/-/g, "_"));
  if (index === -1) throw new InvalidArgumentError(`must be one of ${BUSINESS_STEPS.join(", ")}`);
  return index;
}

export function hex32(value: string): Hex {
  const parsed = bytes32Schema.safeParse(value);
  if (!parsed.success) throw new InvalidArgumentError("must be 0x + 64 hex digits");
  return parsed.data;
}

/** The host a QR code points at: it must be an absolute http(s) URL, or the code scans to nothing. */
export function baseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError("must be an absolute http(s) URL, e.g. https://passports.example.com");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new InvalidArgumentError("must be an absolute http(s) URL, e.g. https://passports.example.com");
  return value;
}

/** A unit ownership token id: decimal (as `provena ownership show` prints it) or 0x hex, at most 256 bits. */
export function tokenId(value: string): bigint {
  if (!/^(0x[0-9a-fA-F]{1,64}|[0-9]{1,78})$/.test(value)) throw new InvalidArgumentError("must be a token id (decimal or 0x hex)");
  const id = BigInt(value);
  if (id >= 1n << 256n) throw new InvalidArgumentError("must fit in 256 bits");
  return id;
}

/** A batch given as its id (0x…) or as GTIN/LOT. */
export function batchRef(value: string): Hex {
  const batchId = bytes32Schema.safeParse(value);
  if (batchId.success) return batchId.data;
  const slash = value.indexOf("/");
  if (slash === -1) throw new InvalidArgumentError("must be a batch id (0x + 64 hex digits) or GTIN/LOT");
  try {
    const lot = value.slice(slash + 1);
    if (!isValidLotOrSerial(lot)) throw new DigitalLinkError(`lot "${lot}" must be 1-20 characters of GS1 character set 82`);
    return batchIdOf(normalizeGtin(value.slice(0, slash)), lot);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

/** What a document is about: a batch (id or GTIN/LOT), or a product model (a GTIN alone, zero-padded to 14 digits). */
export type DocumentSubjectRef = { kind: "batch"; batchId: Hex } | { kind: "product"; gtin: string };

export function documentSubject(value: string): DocumentSubjectRef {
  if (/^\d{8,14}$/.test(value)) {
    try {
      return { kind: "product", gtin: normalizeGtin(value) };
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
  }
  try {
    return { kind: "batch", batchId: batchRef(value) };
  } catch {
    throw new InvalidArgumentError("must be a batch id (0x + 64 hex digits), GTIN/LOT, or a GTIN alone for the product model");
  }
}

/** A temperature in degrees Celsius ("2", "-18.5", "8°C"), answered in the contract's hundredths of a degree. */
export function celsius(value: string): number {
  const match = /^\s*(-?\d+(?:\.\d{1,2})?)\s*(?:°?C)?\s*$/i.exec(value);
  if (match === null) throw new InvalidArgumentError("must be degrees Celsius with at most two decimals, e.g. 2, -18.5 or 8°C");
  const centi = Math.round(Number(match[1]) * 100);
  if (centi < -10_000 || centi > 10_000) throw new InvalidArgumentError("must be between -100 and 100 °C");
  return centi;
}

/** A relative humidity in percent ("60", "85.5", "60%"), answered in the contract's hundredths of a percent. */
export function percent(value: string): number {
  const match = /^\s*(\d+(?:\.\d{1,2})?)\s*%?\s*$/.exec(value);
  if (match === null) throw new InvalidArgumentError("must be a percentage 0-100 with at most two decimals, e.g. 60 or 85.5%");
  const centi = Math.round(Number(match[1]) * 100);
  if (centi > 10_000) throw new InvalidArgumentError("must be between 0 and 100 %");
  return centi;
}

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, min: 60, h: 3_600, d: 86_400 };

/** A duration: seconds ("90"), or with a unit ("30m", "90s", "1.5h", "2d"), answered in whole seconds. */
export function duration(value: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d)?\s*$/i.exec(value);
  if (match === null) throw new InvalidArgumentError("must be a duration like 90, 90s, 30m, 1.5h or 2d");
  const seconds = Number(match[1]) * DURATION_UNITS[(match[2] ?? "s").toLowerCase()]!;
  if (!Number.isInteger(seconds)) throw new InvalidArgumentError("must be a whole number of seconds");
  if (seconds > 0xffff_ffff) throw new InvalidArgumentError("is too long (at most 2^32 - 1 seconds)");
  return seconds;
}
