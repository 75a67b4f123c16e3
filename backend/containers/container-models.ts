/**
 * Response models of the container API as zod schemas, registered under their OpenAPI component names; checked at
 * compile time against the service's types, and the API tests parse every response with them.
 */
import { z } from "zod";
import type { ContainerStep, Hex } from "../domain/model.ts";
import type { ContainerSummary, ContainerView } from "./container-service.ts";

export const containerApiSchemaRegistry = z.registry<{ id: string; description?: string }>();

function component<S extends z.ZodType>(id: string, schema: S, description?: string): S {
  containerApiSchemaRegistry.add(schema, description === undefined ? { id } : { id, description });
  return schema;
}

const hex = (pattern: RegExp) => z.string().regex(pattern) as unknown as z.ZodType<Hex>;
const address = hex(/^0x[0-9a-f]{40}$/).describe("Account address, lower-case hex.");
const bytes32 = hex(/^0x[0-9a-f]{64}$/).describe("32-byte value, lower-case hex.");
const sscc = z
  .string()
  .regex(/^\d{18}$/)
  .describe("18-digit SSCC.");
const gln = z
  .string()
  .regex(/^\d{13}$/)
  .describe("13-digit GLN.");
const count = z.int().nonnegative();
const eventRef = z.strictObject({
  eventId: z.string().describe("Chain-order event id: chainId:block:logIndex."),
  blockNumber: count,
  blockTimestamp: count.describe("Unix seconds."),
  transactionHash: bytes32,
});
const participantRef = z.strictObject({ address, name: z.string().nullable().describe("Registry name; null for an unknown address.") });

export const containerStepSchema = component(
  "ContainerStep",
  z.strictObject({
    kind: z.enum([
      "created",
      "batch_packed",
      "batch_unpacked",
      "container_packed",
      "container_unpacked",
      "packed_into",
      "unpacked_from",
      "handoff_proposed",
      "handoff_accepted",
      "handoff_rejected",
      "handoff_cancelled",
      "recall_flagged",
    ]),
    by: address.describe("Who acted (the zero address for a recall flag, which anyone may raise)."),
    to: address.nullable(),
    batchId: bytes32.nullable(),
    sscc: sscc.nullable().describe("The inner container (container_*) or the outer one (packed_into, unpacked_from)."),
    locationGln: gln.nullable(),
    businessStep: z.string().nullable(),
    reasonHash: bytes32.nullable(),
    released: z.boolean().nullable().describe("batch_unpacked: false for a recalled lot, which stays in the contract's registry custody."),
    at: eventRef,
  }),
  "One step of a container's history, in chain order.",
);

export const containerViewSchema = component(
  "ContainerView",
  z.strictObject({
    sscc,
    state: z.enum(["open", "packed"]),
    creator: participantRef,
    creatorLicensed: z.boolean().describe("Whether the creator holds the GS1 company prefix the SSCC is under."),
    custodian: participantRef.describe("The contract's custodian record; stale while the container is packed."),
    holder: participantRef
      .extend({ outermostSscc: sscc })
      .describe("Who holds it and everything inside: the outermost container's custodian."),
    path: z.array(sscc).describe("From this container out to the outermost one."),
    parentSscc: sscc.nullable(),
    locationGln: gln.describe("The outermost container's last known location."),
    pendingHandoff: z.strictObject({ to: participantRef, locationGln: gln, businessStep: z.string(), proposed: eventRef }).nullable(),
    contents: z.strictObject({
      batches: z.array(
        z.strictObject({
          batchId: bytes32,
          gtin: z.string(),
          lot: z.string(),
          quantity: z.string(),
          status: z.enum(["registered", "in_transit", "delivered", "split", "recalled"]),
          sscc: sscc.describe("The container holding it directly."),
          recallFlagged: z.boolean(),
        }),
      ),
      containers: z.array(z.strictObject({ sscc, parentSscc: sscc, batches: count, containers: count })),
      totalBatches: count,
      truncated: z.boolean().describe("More batches are inside than are listed."),
    }),
    recall: z.strictObject({ flaggedBatchIds: z.array(bytes32), recalledBatchIds: z.array(bytes32), blocked: z.boolean() }),
    history: z.array(containerStepSchema),
    historyTruncated: z.boolean(),
    created: eventRef,
    lastEvent: eventRef,
  }),
  "A logistic unit with what is inside, who holds it, where it is and its history.",
);

export const containerSummarySchema = component(
  "ContainerSummary",
  z.strictObject({
    sscc,
    state: z.enum(["open", "packed"]),
    custodian: address,
    parentSscc: sscc.nullable(),
    locationGln: gln,
    batches: count,
    containers: count,
    recallFlagged: count,
    pendingTo: address.nullable(),
    created: eventRef,
    lastEvent: eventRef,
  }),
);

export const containerSummaryPageSchema = component(
  "ContainerSummaryPage",
  z.strictObject({ items: z.array(containerSummarySchema), nextCursor: z.string().nullable() }),
);

type SameShape<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const modelsMatchServiceTypes: [
  SameShape<z.output<typeof containerViewSchema>, ContainerView>,
  SameShape<z.output<typeof containerSummarySchema>, ContainerSummary>,
  SameShape<z.output<typeof containerStepSchema>, ContainerStep>,
] = [true, true, true];
void modelsMatchServiceTypes;
