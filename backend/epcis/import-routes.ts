/**
 * EPCIS 2.0 import over HTTP: POST /api/v1/epcis/import-plans?partner=0x… with an EPCISDocument as the body
 * (application/ld+json or application/json) answers the plan (import-service.ts): per event its EPCIS event hash, a
 * status, a reason, and the contract calls the partner signs as forward requests and posts to
 * POST /api/v1/relay/requests, in order. Nothing changes here; the route only translates HTTP.
 */
import { z } from "zod";
import type { RateLimitStoreFactory } from "../api/cluster-rate-limit-store.ts";
import { jsonResponse, parametersFromZod, problemResponse, schemaRef, toOpenApiSchema } from "../api/openapi.ts";
import { ProblemError } from "../api/problem.ts";
import type { RouteModule } from "../api/route-module.ts";
import { routeModuleFromTable } from "../api/route-table.ts";
import { addressParam } from "../api/schemas.ts";
import { parseQuery } from "../api/validate.ts";
import { describeWriteLimits, writeLimits, type WriteLimitsOptions } from "../api/write-limits.ts";
import { WRITE_LIMIT_DEFAULTS } from "../config.ts";
import type { Hex } from "../domain/model.ts";
import { EPCIS_MEDIA_TYPE } from "./epcis-service.ts";
import { IMPORT_BODY_LIMIT, MAX_IMPORT_EVENTS, type EpcisImportService } from "./import-service.ts";

export const EPCIS_IMPORT_BASE_PATH = "/api/v1";

export interface EpcisImportModuleOptions {
  service: EpcisImportService;
  rateLimitPerMinute?: number;
  jsonMaxDepth?: number;
  rateLimitStoreFor?: RateLimitStoreFactory;
}

const importQuery = z.strictObject({
  partner: addressParam.describe("The importing partner's account: the signer of every planned call."),
});

const plannedCallView = z.object({
  target: z.enum(["registry", "logisticUnits", "transformations"]),
  to: z.string().describe("The contract's address: the forward request's `to`."),
  function: z.string(),
  args: z.array(z.unknown()).describe("The arguments, integers as decimal strings."),
  data: z.string().describe("The calldata: the forward request's `data`."),
});

const planView = z
  .object({
    partner: z.string(),
    events: z.array(
      z.object({
        index: z.int().describe("Position in the document's eventList."),
        type: z.string(),
        eventID: z.string().nullable(),
        eventHash: z.string().nullable().describe("The EPCIS event hash (CBV 2.0 section 8.9) of the event as sent."),
        status: z.enum(["planned", "already-recorded", "refused"]),
        code: z
          .enum([
            "UNSUPPORTED_EVENT",
            "INVALID_EVENT",
            "UNKNOWN_EPC",
            "OTHER_PARTY",
            "MISSING_ROLE",
            "LOT_RECALLED",
            "BATCH_STATE",
            "CONFLICT",
            "DUPLICATE_EVENT",
          ])
          .optional()
          .describe("Why a refused event is refused."),
        reason: z.string(),
        calls: z.array(plannedCallView).describe("In order; empty unless planned."),
        serials: z
          .array(z.string())
          .optional()
          .describe("Commissioning: the unit serials the serial root commits to (upload them for passports)."),
      }),
    ),
    summary: z.object({ planned: z.int(), alreadyRecorded: z.int(), refused: z.int(), calls: z.int() }),
  })
  .describe("What each event of the document means as Provena contract calls by the partner.");

const documentSchema = {
  type: "object",
  description: `An EPCIS 2.0 EPCISDocument (JSON-LD), valid against GS1's EPCIS 2.0 JSON schema; at most ${MAX_IMPORT_EVENTS} events.`,
  required: ["@context", "type", "schemaVersion", "creationDate", "epcisBody"],
  properties: {
    "@context": { type: "array" },
    type: { const: "EPCISDocument" },
    schemaVersion: { const: "2.0" },
    creationDate: { type: "string", format: "date-time" },
    epcisBody: { type: "object", properties: { eventList: { type: "array", items: { type: "object" }, maxItems: MAX_IMPORT_EVENTS } } },
  },
};

export function createEpcisImportModule(options: EpcisImportModuleOptions): RouteModule {
  const limits: WriteLimitsOptions = {
    label: "EPCIS import plans",
    bodyLimit: IMPORT_BODY_LIMIT,
    ratePerMinute: options.rateLimitPerMinute ?? WRITE_LIMIT_DEFAULTS.writeRateLimitPerMinute,
    jsonMaxDepth: options.jsonMaxDepth,
    rateLimitStoreFor: options.rateLimitStoreFor,
    limiterName: "write-epcis-import",
  };
  return routeModuleFromTable(
    EPCIS_IMPORT_BASE_PATH,
    [
      {
        method: "post",
        path: "/epcis/import-plans",
        operation: {
          operationId: "planEpcisImport",
          tags: ["EPCIS"],
          summary: "Plan an EPCIS 2.0 import: the contract calls a partner's events mean",
          description:
            "Checks the document against GS1's EPCIS 2.0 JSON schema, then maps each event to the Provena contract calls the partner " +
            "makes for it (commissioning -> registerBatch, shipping -> proposeHandoff, receiving -> acceptHandoff, inspecting -> " +
            "attestQuality, AggregationEvent -> LogisticUnits pack/unpack, TransformationEvent -> Transformations.transform), resolving " +
            "EPCs against the mirror. Each event is planned, already recorded (sends nothing: importing twice is harmless) or refused " +
            "with a code and a reason. Changes nothing: sign each call as a forward request and POST it to /api/v1/relay/requests, in " +
            "order. " +
            describeWriteLimits(limits),
          parameters: parametersFromZod({ query: importQuery }),
          requestBody: {
            required: true,
            content: { [EPCIS_MEDIA_TYPE]: { schema: documentSchema }, "application/json": { schema: documentSchema } },
          },
          responses: {
            200: jsonResponse("The plan.", schemaRef("EpcisImportPlan")),
            400: problemResponse(400, "Not JSON, not an EPCISDocument, or invalid against the schema (`violations` lists where)."),
            403: problemResponse(403, "The partner is not an onboarded, unsuspended participant."),
            413: problemResponse(413, `Body larger than ${IMPORT_BODY_LIMIT}`),
            415: problemResponse(415, "Not application/ld+json or application/json"),
            422: problemResponse(422, `More than ${MAX_IMPORT_EVENTS} events`),
            429: problemResponse(429),
            503: problemResponse(503, "The chain could not be read"),
          },
        },
        middleware: writeLimits(limits),
        handler: async (req, res) => {
          if (!req.is([EPCIS_MEDIA_TYPE, "application/json"]))
            throw new ProblemError(415, "Unsupported Media Type", `send the EPCISDocument as ${EPCIS_MEDIA_TYPE} or application/json`);
          const { partner } = parseQuery(importQuery, req);
          res.json(await options.service.plan(req.body as unknown, partner.toLowerCase() as Hex));
        },
      },
    ],
    { EpcisImportPlan: toOpenApiSchema(planView) },
    { parsesOwnBody: true },
  );
}
