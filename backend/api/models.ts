/**
 * Response models of the read API as zod schemas, registered under their OpenAPI component names.
 * They mirror backend/store/types.ts (checked at compile time below) and generate `components.schemas`
 * of the OpenAPI document; the API tests parse every response with them, so a field the store adds,
 * drops or renames fails a test instead of silently changing the public contract.
 */
import { z } from "zod";
import type { Batch, ChainEvent, Hex, JsonValue, Order, Participant, Transformation } from "../domain/model.ts";
import { batchStatuses, eventContracts, orderStates } from "./schemas.ts";

/** Component schemas of the read API, keyed by `id` (their name under components.schemas). */
export const readApiSchemaRegistry = z.registry<{ id: string; description?: string }>();

function component<S extends z.ZodType>(id: string, schema: S, description?: string): S {
  readApiSchemaRegistry.add(schema, description === undefined ? { id } : { id, description });
  return schema;
}

// Hex values are typed as the store's `0x${string}`; at run time they are plain pattern-checked strings.
const hexString = (pattern: RegExp, description: string) => z.string().regex(pattern).describe(description) as unknown as z.ZodType<Hex>;

export const addressSchema = component("Address", hexString(/^0x[0-9a-f]{40}$/, "Account address, lower-case hex."));
export const bytes32Schema = component("Bytes32", hexString(/^0x[0-9a-f]{64}$/, "32-byte value (id, hash), lower-case hex."));
const uintString = z.string().regex(/^\d+$/).describe("Unsigned integer as a decimal string (uint256-safe).");
const glnString = z
  .string()
  .regex(/^\d{13}$/)
  .describe("13-digit GS1 Global Location Number.");
const nonNegativeInt = z.int().nonnegative();

export const eventRefSchema = component(
  "EventRef",
  z.strictObject({
    eventId: z.string().describe("Chain-order event id: chainId:block:logIndex."),
    blockNumber: nonNegativeInt,
    blockTimestamp: nonNegativeInt.describe("Unix seconds."),
    transactionHash: bytes32Schema,
  }),
  "Where in the chain a change happened.",
);

export const participantSchema = component(
  "Participant",
  z.strictObject({
    address: addressSchema,
    participantId: nonNegativeInt,
    gln: z.string(),
    name: z.string(),
    roles: z.array(z.string()).describe("Role names (MANUFACTURER, CARRIER, ...) or the bytes32 hash of an unnamed role."),
    companyPrefixes: z
      .array(z.string().regex(/^\d{4,12}$/))
      .describe(
        "GS1 company prefixes the consortium admin granted this manufacturer (digits, leading zeros kept): it registers the GTINs that begin with them.",
      ),
    suspended: z.boolean(),
    onboarded: eventRefSchema,
    lastEvent: eventRefSchema,
  }),
  "A supply-chain participant onboarded in the registry.",
);

export const custodyStepSchema = component(
  "CustodyStep",
  z.strictObject({
    kind: z.enum(["proposed", "accepted", "rejected", "cancelled"]),
    from: addressSchema,
    to: addressSchema,
    locationGln: glnString.nullable(),
    businessStep: z.string().nullable().describe("EPCIS Core Business Vocabulary step, e.g. shipping, receiving."),
    reasonHash: bytes32Schema.nullable(),
    at: eventRefSchema,
  }),
);

export const inspectionSchema = component(
  "Inspection",
  z.strictObject({ inspector: addressSchema, passed: z.boolean(), reportHash: bytes32Schema, at: eventRefSchema }),
);

export const recallSchema = component("Recall", z.strictObject({ by: addressSchema, reasonHash: bytes32Schema, at: eventRefSchema }));

export const batchSchema = component(
  "Batch",
  z.strictObject({
    batchId: bytes32Schema,
    gtin: z
      .string()
      .regex(/^\d{14}$/)
      .describe("GTIN-14, zero-padded."),
    lot: z.string(),
    quantity: uintString,
    productionDate: nonNegativeInt.describe("Unix seconds."),
    originGln: z.string(),
    documentHash: bytes32Schema,
    serialRoot: bytes32Schema,
    manufacturer: addressSchema,
    custodian: addressSchema,
    pendingCustodian: addressSchema.nullable(),
    status: z
      .enum(batchStatuses)
      .describe("The registry's status: recalled when the batch or any ancestor lot was recalled (a recall reaches every descendant)."),
    inspection: z.enum(["none", "passed", "failed"]).describe("Result of the latest quality attestation."),
    inspections: z.array(inspectionSchema),
    custody: z.array(custodyStepSchema).describe("Custody handoffs in chain order."),
    parentId: bytes32Schema.nullable(),
    childIds: z.array(bytes32Schema),
    recall: recallSchema.nullable().describe("The batch's own recall; an ancestor's recall is in the lineage."),
    watched: z.boolean().describe("True while the escrow watches the batch for an open order (it cannot be split then)."),
    packedIn: z
      .string()
      .regex(/^\d{18}$/)
      .nullable()
      .optional()
      .describe(
        "SSCC of the container the batch is packed in directly (null once unpacked, absent if never packed). While packed, `custodian` is the LogisticUnits contract; see `container.holder` for who holds it.",
      ),
    registered: eventRefSchema,
    lastEvent: eventRefSchema,
  }),
  "A batch (lot) of a product as mirrored from the provenance registry.",
);

export const batchSummarySchema = component(
  "BatchSummary",
  z.strictObject({
    batchId: bytes32Schema,
    gtin: z.string(),
    lot: z.string(),
    quantity: uintString,
    status: z.enum(batchStatuses),
    custodian: addressSchema,
    parentId: bytes32Schema.nullable(),
  }),
  "The identifying fields of a related batch.",
);

export const participantSummarySchema = component(
  "ParticipantSummary",
  z.strictObject({ address: addressSchema, name: z.string(), gln: z.string(), roles: z.array(z.string()), suspended: z.boolean() }),
);

export const timelineEntrySchema = component(
  "TimelineEntry",
  z.discriminatedUnion("type", [
    z.strictObject({
      type: z.literal("registered"),
      at: eventRefSchema,
      manufacturer: addressSchema,
      quantity: uintString,
      originGln: z.string(),
      parentId: bytes32Schema.nullable().describe("Set when the batch was created by splitting this parent."),
    }),
    z.strictObject({
      type: z.enum(["handoff_proposed", "handoff_accepted", "handoff_rejected", "handoff_cancelled"]),
      at: eventRefSchema,
      from: addressSchema,
      to: addressSchema,
      locationGln: glnString.nullable(),
      businessStep: z.string().nullable(),
      reasonHash: bytes32Schema.nullable(),
    }),
    z.strictObject({
      type: z.literal("inspected"),
      at: eventRefSchema,
      inspector: addressSchema,
      passed: z.boolean(),
      reportHash: bytes32Schema,
    }),
    z.strictObject({ type: z.literal("split"), at: eventRefSchema, childIds: z.array(bytes32Schema) }),
    z.strictObject({ type: z.literal("recalled"), at: eventRefSchema, by: addressSchema, reasonHash: bytes32Schema }),
  ]),
  "One step in a batch's history, in chain order.",
);

export const batchHoldingSchema = component(
  "BatchHolding",
  z.strictObject({
    sscc: z
      .string()
      .regex(/^\d{18}$/)
      .describe("The container holding the batch directly."),
    outermostSscc: z
      .string()
      .regex(/^\d{18}$/)
      .describe("The outermost container enclosing it (itself when not nested)."),
    path: z.array(z.string()).describe("From the holding container out to the outermost one."),
    holder: z
      .strictObject({ address: addressSchema, name: z.string().nullable() })
      .describe("Who holds the goods: the outermost container's custodian, with its registry name (null if unknown)."),
    locationGln: glnString.describe("The outermost container's last known location."),
    description: z.string().describe('One line: "in container <SSCC> held by <name>".'),
  }),
  "Where a packed batch is: a container handoff moves everything inside without touching the batch's registry record.",
);

export const batchDetailSchema = component(
  "BatchDetail",
  batchSchema.extend({
    container: batchHoldingSchema.nullable().describe("Set while the batch is packed in a container (LogisticUnits)."),
    timeline: z.array(timelineEntrySchema).describe("Registration, custody, inspections, split and recall merged in chain order."),
    lineage: z.strictObject({
      ancestors: z.array(batchSummarySchema).describe("Parent first, then its parent, up to the root batch."),
      children: z.array(batchSummarySchema).describe("Batches split from this one."),
      madeFrom: z
        .strictObject({ transformationId: uintString, inputs: z.array(batchSummarySchema) })
        .nullable()
        .describe("The merge (transformation) that made this batch and the lots it consumed; null when no merge made it."),
      consumedInto: z
        .strictObject({ transformationId: uintString, outputs: z.array(batchSummarySchema) })
        .nullable()
        .describe("The merge (transformation) this batch was consumed in and the lots it made; null when it was not consumed."),
    }),
    participants: z
      .record(z.string(), participantSummarySchema)
      .describe("Every participant the batch's history mentions, keyed by address (unknown addresses are absent)."),
  }),
  "A batch with its full timeline and lineage.",
);

export const transformationSchema = component(
  "Transformation",
  z.strictObject({
    transformationId: uintString.describe("The Transformations contract's counter (from 1): the EPCIS transformationID."),
    processor: addressSchema,
    locationGln: glnString,
    documentHash: bytes32Schema.describe("Commits to the processor's record (recipe, batch sheet)."),
    inputs: z
      .array(z.strictObject({ batchId: bytes32Schema, quantity: uintString.describe("The input's registry quantity, consumed whole.") }))
      .describe("The lots consumed, in the event's order."),
    outputIds: z.array(bytes32Schema).describe("The lots made, in the event's order."),
    recallFlags: z
      .array(z.strictObject({ outputId: bytes32Schema, inputId: bytes32Schema, flaggedBy: addressSchema, at: eventRefSchema }))
      .describe("Outputs the registry recalled because an input was recalled (RecalledInputFlagged), in chain order."),
    recorded: eventRefSchema,
    lastEvent: eventRefSchema,
  }),
  "A merge: a processor consumed input lots and made output lots (EPCIS TransformationEvent).",
);

export const transformationDetailSchema = component(
  "TransformationDetail",
  transformationSchema.extend({
    inputLots: z.array(batchSummarySchema).describe("The stored input lots with their effective status, in the event's order."),
    outputLots: z.array(batchSummarySchema).describe("The stored output lots with their effective status, in the event's order."),
  }),
  "A merge with the lots it consumed and made.",
);

const payoutsSchema = z.strictObject({ buyer: uintString, seller: uintString, carrier: uintString, platform: uintString });

export const orderSchema = component(
  "Order",
  z.strictObject({
    orderId: bytes32Schema,
    buyer: addressSchema,
    seller: addressSchema,
    carrier: addressSchema,
    token: addressSchema.describe("ERC-20 token, or the zero address for ETH."),
    amount: uintString,
    batchId: bytes32Schema,
    sellerBps: nonNegativeInt,
    carrierBps: nonNegativeInt,
    platformBps: nonNegativeInt,
    deliveryDeadline: nonNegativeInt,
    disputeWindow: nonNegativeInt,
    inspector: addressSchema
      .nullable()
      .describe("The inspector whose passing attestation release requires (an active INSPECTOR, none of the parties); null for none."),
    fallbackBuyerBps: nonNegativeInt,
    salt: bytes32Schema,
    state: z.enum(orderStates),
    inspection: z
      .enum(["none", "passed", "failed"])
      .describe(
        "The named inspector's latest result while the order awaited settlement, as the escrow records it; other inspectors' attestations of the batch do not count.",
      ),
    deliveredAt: nonNegativeInt.nullable(),
    disputedAt: nonNegativeInt.nullable(),
    disputedBy: addressSchema.nullable().describe("The buyer or the seller who opened the dispute."),
    cancellationApprovedBy: z.array(addressSchema),
    payouts: payoutsSchema.nullable(),
    refundReason: z.string().nullable(),
    opened: eventRefSchema,
    lastEvent: eventRefSchema,
  }),
  "An escrow order.",
);

export const chainEventSchema = component(
  "ChainEvent",
  z.strictObject({
    id: z.string(),
    chainId: nonNegativeInt,
    blockNumber: nonNegativeInt,
    blockHash: bytes32Schema,
    blockTimestamp: nonNegativeInt,
    transactionHash: bytes32Schema,
    transactionIndex: nonNegativeInt,
    logIndex: nonNegativeInt,
    contract: z.enum(eventContracts),
    address: addressSchema,
    name: z.string(),
    args: z.record(z.string(), z.unknown()).describe("Decoded arguments by name; uint256 as decimal strings.") as unknown as z.ZodType<
      Record<string, JsonValue>
    >,
    batchIds: z.array(bytes32Schema),
    orderIds: z.array(bytes32Schema),
    accounts: z.array(addressSchema),
  }),
  "A contract event exactly as the chain logged it.",
);

function pageOf<S extends z.ZodType>(id: string, item: S) {
  return component(
    id,
    z.strictObject({
      items: z.array(item),
      nextCursor: z.string().nullable().describe("Pass as `cursor` to get the next page; null on the last page."),
    }),
  );
}

export const batchPageSchema = pageOf("BatchPage", batchSchema);
export const participantPageSchema = pageOf("ParticipantPage", participantSchema);
export const orderPageSchema = pageOf("OrderPage", orderSchema);
export const chainEventPageSchema = pageOf("ChainEventPage", chainEventSchema);

export type TimelineEntry = z.output<typeof timelineEntrySchema>;
export type BatchSummary = z.output<typeof batchSummarySchema>;
export type ParticipantSummary = z.output<typeof participantSummarySchema>;
export type BatchDetail = z.output<typeof batchDetailSchema>;
export type TransformationDetail = z.output<typeof transformationDetailSchema>;
export type BatchHolding = z.output<typeof batchHoldingSchema>;

// Compile-time check that the models and the store's types describe the same documents.
type SameShape<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const modelsMatchStoreTypes: [
  SameShape<z.output<typeof batchSchema>, Batch>,
  SameShape<z.output<typeof participantSchema>, Participant>,
  SameShape<z.output<typeof orderSchema>, Order>,
  SameShape<z.output<typeof chainEventSchema>, ChainEvent>,
  SameShape<z.output<typeof transformationSchema>, Transformation>,
] = [true, true, true, true, true];
void modelsMatchStoreTypes;
