/**
 * Request schemas of the read API: path parameters and query strings, one zod schema per request part.
 * The same schemas validate requests (backend/api/validate.ts) and generate the OpenAPI parameters
 * (backend/api/openapi.ts), so the documentation cannot drift from what the server accepts.
 *
 * Normalisation happens here, once: ids and addresses come out lower-case, GTINs zero-padded to 14 digits,
 * booleans and numbers typed, exactly as the store keeps them.
 */
import { isAddress } from "ethers";
import { z } from "zod";
import type { BatchStatus, Hex, OrderState } from "../domain/model.ts";

// --- primitives ---------------------------------------------------------------------------------------

/** A bytes32 value (batch id, order id, transaction hash): 0x + 64 hex digits, any case, answered lower-case. */
export const bytes32Param = z
  .string()
  .regex(/^0x[0-9a-fA-F]{64}$/, "must be 0x followed by 64 hexadecimal digits")
  .transform((value) => value.toLowerCase() as Hex);

/** An account address: 0x + 40 hex digits; a mixed-case address must carry a valid EIP-55 checksum. */
export const addressParam = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, { error: "must be 0x followed by 40 hexadecimal digits", abort: true })
  .refine((value) => isAddress(value), "has an invalid EIP-55 checksum (use all lower-case to skip the check)")
  .transform((value) => value.toLowerCase() as Hex);

/** True when the last digit of a GTIN-8/12/13/14 is its GS1 mod-10 check digit. */
export function hasValidGtinCheckDigit(digits: string): boolean {
  let sum = 0;
  for (let i = digits.length - 2, weight = 3; i >= 0; i--, weight = weight === 3 ? 1 : 3) sum += Number(digits[i]) * weight;
  return (10 - (sum % 10)) % 10 === Number(digits[digits.length - 1]);
}

/** A GTIN-8, -12, -13 or -14 with a valid check digit, answered as the 14-digit form the mirror stores. */
export const gtinParam = z
  .string()
  .regex(/^(\d{8}|\d{12,14})$/, { error: "must be a GTIN of 8, 12, 13 or 14 digits", abort: true })
  .refine(hasValidGtinCheckDigit, "has a wrong GS1 check digit")
  .transform((value) => value.padStart(14, "0"));

/** A GS1 AI(10) batch/lot number: 1 to 20 characters of GS1 character set 82, as the registry enforces. */
export const lotParam = z
  .string()
  .regex(/^[!"%-?A-Z_a-z]{1,20}$/, "must be 1 to 20 characters of the GS1 AI character set 82");

export const batchStatuses = ["registered", "in_transit", "delivered", "split", "recalled"] as const satisfies readonly BatchStatus[];
export const orderStates = [
  "funded",
  "delivered",
  "disputed",
  "released",
  "refunded",
  "resolved",
  "cancelled",
] as const satisfies readonly OrderState[];
/** Role names the mirror uses (backend/chain/enums.ts); other roles keep their hash. */
export const participantRoleNames = ["MANUFACTURER", "CARRIER", "INSPECTOR", "RETAILER", "REGULATOR", "ARBITER", "ADMIN", "ESCROW_ADMIN"] as const;
export const eventContracts = ["ProvenanceRegistry", "TradeEscrow", "ProvenaForwarder"] as const;

/**
 * A block number in decimal digits. Not z.coerce.number() alone: it reads "" (`?toBlock=`) as 0 and accepts
 * "0x10" and "1e3", silently answering a different query than the one asked. Documented as the integer it is.
 */
const blockNumberParam = z
  .string()
  .refine((value) => /^\d{1,16}$/.test(value), "must be a whole block number in decimal digits")
  .transform(Number)
  .pipe(z.number().max(Number.MAX_SAFE_INTEGER, "is too large"))
  .meta({ type: "integer", minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

const booleanParam = z
  .enum(["true", "false"], { error: 'must be "true" or "false"' })
  .transform((value) => value === "true");

/** Cursor pagination shared by every list: `cursor` is the opaque `nextCursor` of the previous page. */
export const pageQueryShape = {
  limit: z.coerce
    .number()
    .int("must be a whole number")
    .min(1, "must be at least 1")
    .max(500, "must be at most 500")
    .default(50)
    .describe("Page size, 1 to 500."),
  cursor: z
    .string()
    .min(1, "must not be empty")
    .max(2048, "is too long")
    .optional()
    .describe("Opaque `nextCursor` returned by the previous page."),
};

// --- path parameters ------------------------------------------------------------------------------------

export const batchIdParams = z.strictObject({ batchId: bytes32Param.describe("Batch id: keccak256(abi.encode(uint64 gtin, string lot)).") });
export const participantAddressParams = z.strictObject({ address: addressParam.describe("Participant account address.") });
export const orderIdParams = z.strictObject({ orderId: bytes32Param.describe("Escrow order id.") });
export const transactionHashParams = z.strictObject({ hash: bytes32Param.describe("Transaction hash.") });

// --- query strings (strict: a misspelt filter is an error, never silently ignored) ----------------------

export const listBatchesQuery = z.strictObject({
  gtin: gtinParam.optional().describe("GTIN-8/12/13/14 of the product; with `lot` it identifies one batch."),
  lot: lotParam.optional().describe("GS1 batch/lot number."),
  manufacturer: addressParam.optional().describe("Address of the manufacturer that registered the batch."),
  custodian: addressParam.optional().describe("Address of the current custodian."),
  status: z.enum(batchStatuses).optional().describe("Batch status."),
  parent: bytes32Param.optional().describe("Parent batch id: lists the children of a split."),
  ...pageQueryShape,
});

export const listParticipantsQuery = z.strictObject({
  role: z
    .string()
    .regex(/^([A-Za-z][A-Za-z0-9_]{0,63}|0x[0-9a-fA-F]{64})$/, "must be a role name such as MANUFACTURER, or a bytes32 role hash")
    .transform((role) => (role.startsWith("0x") ? role.toLowerCase() : role.toUpperCase()))
    .optional()
    .describe(`Role name (${participantRoleNames.join(", ")}; any case), or the bytes32 hash of a role without a name.`),
  suspended: booleanParam.optional().describe("Only suspended (`true`) or only active (`false`) participants."),
  ...pageQueryShape,
});

export const listOrdersQuery = z.strictObject({
  buyer: addressParam.optional().describe("Buyer address."),
  seller: addressParam.optional().describe("Seller address."),
  carrier: addressParam.optional().describe("Carrier address."),
  batchId: bytes32Param.optional().describe("Batch the order pays for."),
  state: z.enum(orderStates).optional().describe("Escrow state."),
  ...pageQueryShape,
});

export const pageQuery = z.strictObject({ ...pageQueryShape });

export const listEventsQuery = z
  .strictObject({
    fromBlock: blockNumberParam.optional().describe("First block, inclusive."),
    toBlock: blockNumberParam.optional().describe("Last block, inclusive."),
    contract: z.enum(eventContracts).optional().describe("Only events of this contract."),
    name: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9]{0,63}$/, "must be an event name such as HandoffAccepted")
      .optional()
      .describe("Only events with this name, e.g. `HandoffAccepted`."),
    ...pageQueryShape,
  })
  .refine((query) => query.fromBlock === undefined || query.toBlock === undefined || query.fromBlock <= query.toBlock, {
    message: "must not be below fromBlock",
    path: ["toBlock"],
  });

export type ListBatchesQuery = z.output<typeof listBatchesQuery>;
export type ListParticipantsQuery = z.output<typeof listParticipantsQuery>;
export type ListOrdersQuery = z.output<typeof listOrdersQuery>;
export type ListEventsQuery = z.output<typeof listEventsQuery>;
export type PageQuery = z.output<typeof pageQuery>;
