/**
 * Request schemas of the read API: path parameters and query strings, one zod schema per request part.
 * The same schemas validate requests (backend/api/validate.ts) and generate the OpenAPI parameters
 * (backend/api/openapi.ts), so the documentation cannot drift from what the server accepts.
 *
 * Normalisation happens here, once: ids and addresses come out lower-case, GTINs zero-padded to 14 digits,
 * booleans and numbers typed, exactly as the store keeps them.
 */
import { z } from "zod";
import { MIRRORED_CONTRACTS } from "../chain/artifacts.ts";
import { addressSchema, bytes32Schema, gtinSchema, lotSchema } from "../chain/schemas.ts";
import { BATCH_STATUSES, MIRROR_ROLE_NAMES, ORDER_STATES } from "../chain/vocabulary.ts";
import type { BatchStatus, OrderState } from "../domain/model.ts";

// --- primitives (the chain's canonical schemas, backend/chain/schemas.ts) --------------------------------------

export const bytes32Param = bytes32Schema;
export const addressParam = addressSchema;
export const gtinParam = gtinSchema;
export const lotParam = lotSchema;

/** The values a mirrored batch or order can have: the chain's enums without "none". */
export const batchStatuses = BATCH_STATUSES.filter((status): status is BatchStatus => status !== "none") as [BatchStatus, ...BatchStatus[]];
export const orderStates = ORDER_STATES.filter((state): state is OrderState => state !== "none") as [OrderState, ...OrderState[]];
/** Role names the mirror uses (backend/chain/vocabulary.ts); other roles keep their hash. */
export const participantRoleNames = MIRROR_ROLE_NAMES;
/** Contracts whose events the mirror holds: the deployment's, the ownership tokens and the cold chain where they are. */
export const eventContracts = [...MIRRORED_CONTRACTS, "ColdChain"] as const;

/**
 * A whole number in a query string: decimal digits only. Not z.coerce.number(): it reads "" (`?toBlock=`) as 0 and
 * accepts "0x10", "1e2" and " 1", silently answering a different query than the one asked. Every numeric query
 * parameter of every endpoint is one of these; documented as the integer it is.
 */
export function decimalIntegerParam({ min, max }: { min: number; max: number }) {
  return z
    .string()
    .refine((value) => /^\d{1,16}$/.test(value), "must be a whole number in decimal digits")
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
    .meta({ type: "integer", minimum: min, maximum: max });
}

/** A block number (decimal digits). */
const blockNumberParam = decimalIntegerParam({ min: 0, max: Number.MAX_SAFE_INTEGER });

const booleanParam = z.enum(["true", "false"], { error: 'must be "true" or "false"' }).transform((value) => value === "true");

/** Cursor pagination shared by every list: `cursor` is the opaque `nextCursor` of the previous page. */
export const pageQueryShape = {
  limit: decimalIntegerParam({ min: 1, max: 500 }).default(50).describe("Page size, 1 to 500."),
  cursor: z
    .string()
    .min(1, "must not be empty")
    .max(2048, "is too long")
    .optional()
    .describe("Opaque `nextCursor` returned by the previous page."),
};

// --- path parameters ------------------------------------------------------------------------------------

export const batchIdParams = z.strictObject({
  batchId: bytes32Param.describe("Batch id: keccak256(abi.encode(uint64 gtin, string lot))."),
});
export const participantAddressParams = z.strictObject({ address: addressParam.describe("Participant account address.") });
export const orderIdParams = z.strictObject({ orderId: bytes32Param.describe("Escrow order id.") });
export const transactionHashParams = z.strictObject({ hash: bytes32Param.describe("Transaction hash.") });
/** 2^64 - 1 in decimal: a 20-digit id above it does not fit a uint64 (equal-length digit strings compare as numbers). */
const UINT64_MAX = "18446744073709551615";
export const transformationIdParams = z.strictObject({
  transformationId: z
    .string()
    .regex(/^[1-9]\d{0,19}$/, "a transformation id is a decimal integer from 1, without leading zeros")
    // Never throws on input the regex refused (zod runs every check): a plain string comparison.
    .refine((value) => value.length < UINT64_MAX.length || value <= UINT64_MAX, "a transformation id fits in 64 bits")
    .describe("The Transformations contract's transformation id (decimal, from 1)."),
});

// --- query strings (strict: a misspelt filter is an error, never silently ignored) ----------------------

export const listBatchesQuery = z.strictObject({
  gtin: gtinParam.optional().describe("GTIN-8/12/13/14 of the product; with `lot` it identifies one batch."),
  lot: lotParam.optional().describe("GS1 batch/lot number."),
  manufacturer: addressParam.optional().describe("Address of the manufacturer that registered the batch."),
  custodian: addressParam.optional().describe("Address of the current custodian."),
  status: z
    .enum(batchStatuses)
    .optional()
    .describe(
      "Batch status as the batch's own events set it: `recalled` lists the batches a recall names. A batch that only an ancestor's recall reaches shows status `recalled` (as the registry reports it) and is left out of the other statuses' lists; find it through `parent` or its lineage.",
    ),
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
