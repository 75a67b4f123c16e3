/**
 * The canonical zod schemas of chain values, shared by every layer that validates input (the read API, the
 * relay endpoints, the deployment file): each accepts any case and answers the lower-case or zero-padded form
 * the domain model keeps.
 */
import { isAddress } from "ethers";
import { z } from "zod";
import type { Hex } from "../domain/model.ts";
import { GLN_PATTERN, GTIN_PATTERN, LOT_OR_SERIAL_PATTERN, hasValidCheckDigit } from "./gs1.ts";

/**
 * An account or contract address: 0x + 40 hex digits; a mixed-case address must carry a valid EIP-55 checksum
 * (as ethers' getAddress requires). Answered lower-case.
 */
export const addressSchema = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, { error: "must be 0x followed by 40 hexadecimal digits", abort: true })
  .refine((value) => isAddress(value), "has an invalid EIP-55 checksum (use all lower-case to skip the check)")
  .transform((value) => value.toLowerCase() as Hex);

/** A bytes32 value (batch id, order id, transaction hash, role): 0x + 64 hex digits, answered lower-case. */
export const bytes32Schema = z
  .string()
  .regex(/^0x[0-9a-fA-F]{64}$/, "must be 0x followed by 64 hexadecimal digits")
  .transform((value) => value.toLowerCase() as Hex);

/** A GTIN-8, -12, -13 or -14 with a valid check digit, answered as the 14-digit form the mirror stores. */
export const gtinSchema = z
  .string()
  .regex(GTIN_PATTERN, { error: "must be a GTIN of 8, 12, 13 or 14 digits", abort: true })
  .refine(hasValidCheckDigit, "has a wrong GS1 check digit")
  .transform((value) => value.padStart(14, "0"));

/** A 13-digit Global Location Number with a valid check digit. */
export const glnSchema = z
  .string()
  .regex(GLN_PATTERN, { error: "must be a 13-digit GLN", abort: true })
  .refine(hasValidCheckDigit, "has a wrong GS1 check digit");

/** A GS1 AI(10) batch/lot number: 1 to 20 characters of GS1 character set 82, as the registry enforces. */
export const lotSchema = z.string().regex(LOT_OR_SERIAL_PATTERN, "must be 1 to 20 characters of the GS1 AI character set 82");
