/**
 * HTTP for partner reputation:
 *   GET /api/v1/participants/{address}/reputation -> scores with sample sizes and windows (anyone)
 */
import { z } from "zod";
import { jsonResponse, parametersFromZod, problemResponse, schemaRef, toOpenApiSchema } from "../api/openapi.ts";
import type { RouteModule } from "../api/route-module.ts";
import { routeModuleFromTable } from "../api/route-table.ts";
import { participantAddressParams } from "../api/schemas.ts";
import { parseParams } from "../api/validate.ts";
import { REPUTATION_METHOD, WINDOW_DAYS } from "./reputation.ts";
import type { ReputationService } from "./reputation-service.ts";

export const REPUTATION_BASE_PATH = "/api/v1";

const scoreSchema = z
  .strictObject({
    sampleSize: z.int().min(0),
    ratio: z.number().min(0).max(1).nullable().describe("Good outcomes over the sample; null for an empty sample."),
    wilsonLowerBound: z
      .number()
      .min(0)
      .max(1)
      .nullable()
      .describe("Lower bound of the 95% Wilson score interval; null for an empty sample."),
  })
  .describe("A score: never a bare ratio, always with its sample size and a confidence bound.");

const count = z.int().min(0);

const metricsSchema = z.strictObject({
  from: z.int().nullable().describe("Start of the window (unix seconds, exclusive); null for all time."),
  deliveryAsSeller: z.strictObject({ onTime: count, late: count, score: scoreSchema }),
  deliveryAsCarrier: z.strictObject({ onTime: count, late: count, score: scoreSchema }),
  handoffsReceived: z.strictObject({ accepted: count, refused: count, score: scoreSchema }),
  handoffsSent: z.strictObject({ accepted: count, refusedByRecipient: count, score: scoreSchema }),
  inspectionsAsMaker: z.strictObject({ passed: count, failed: count, score: scoreSchema }),
  inspectionsAsHolder: z.strictObject({ passed: count, failed: count, score: scoreSchema }),
  disputes: z.strictObject({ opened: count, lost: count, settledOrders: count, score: scoreSchema }),
  recalls: z.strictObject({ lots: count, recalled: count, score: scoreSchema }),
  breaches: z.null().describe("Cold-chain breaches on the participant's legs: not measured yet."),
  excludedOrders: z.strictObject({ belowMinimum: count, selfDealing: count }),
});

export const reputationSchema = z
  .strictObject({
    address: z.string(),
    method: z.literal(REPUTATION_METHOD),
    asOf: z.strictObject({ chainId: z.int(), blockNumber: z.int().min(0), timestamp: z.int().min(0) }),
    policy: z.strictObject({
      minimumOrderAmount: z.record(z.string(), z.string()),
      defaultMinimumOrderAmount: z.string(),
      windowDays: z.int(),
      confidence: z.literal(0.95),
    }),
    lastDays: metricsSchema.describe(`The last ${WINDOW_DAYS} days before asOf.`),
    allTime: metricsSchema,
  })
  .describe(
    `A participant's reputation from its on-chain record (method ${REPUTATION_METHOD}; formulas in backend/reputation/reputation.ts). ` +
      "Counts and scores only: no order ids, amounts or counterparties.",
  );

export function createReputationModule(options: { service: ReputationService }): RouteModule {
  const { service } = options;
  return routeModuleFromTable(
    REPUTATION_BASE_PATH,
    [
      {
        method: "get",
        path: "/participants/:address/reputation",
        operation: {
          operationId: "getParticipantReputation",
          tags: ["Participants"],
          summary: "A participant's reputation from on-chain performance",
          description:
            "Deliveries on time against order deadlines (as seller and as carrier), handoffs accepted and refused, inspections of goods " +
            "it made or held, disputes opened and lost, recalls of its lots: each with its sample size and a 95% Wilson lower bound, " +
            `over the last ${WINDOW_DAYS} days and all time, as of the mirror's last indexed block. Anyone can re-derive it from the ` +
            "chain's logs (npm run verify:reputation).",
          parameters: parametersFromZod({ path: participantAddressParams }),
          responses: {
            200: jsonResponse("The participant's reputation.", schemaRef("Reputation")),
            400: problemResponse(400),
            404: problemResponse(404, "No participant with this address is known to the mirror"),
          },
        },
        handler: async (req, res) => {
          const { address } = parseParams(participantAddressParams, req);
          res.json(await service.get(address));
        },
      },
    ],
    { Reputation: toOpenApiSchema(reputationSchema) },
  );
}
