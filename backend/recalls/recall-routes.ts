/**
 * HTTP for the recall desk (recall-desk.ts):
 *   GET  /api/v1/recalls                                      -> every recall (REGULATOR, ADMIN)
 *   GET  /api/v1/recalls/{batchId}                            -> affected lots, holders, acknowledgements (REGULATOR, ADMIN)
 *   GET  /api/v1/recalls/{batchId}/acknowledgement-text       -> the exact text a holder signs (anyone)
 *   POST /api/v1/recalls/{batchId}/acknowledgements           -> a holder's signed acknowledgement (no session needed)
 */
import { z } from "zod";
import { viewerOfRequest } from "../auth/auth-routes.ts";
import type { AuthService } from "../auth/auth-service.ts";
import type { RateLimitStoreFactory } from "../api/cluster-rate-limit-store.ts";
import { jsonResponse, parametersFromZod, problemResponse, toOpenApiSchema } from "../api/openapi.ts";
import { ProblemError } from "../api/problem.ts";
import type { RouteModule } from "../api/route-module.ts";
import { routeModuleFromTable, type RouteDefinition } from "../api/route-table.ts";
import { addressParam, batchIdParams, pageQuery } from "../api/schemas.ts";
import { parseBody, parseParams, parseQuery } from "../api/validate.ts";
import { describeWriteLimits, writeLimits, type WriteLimitsOptions } from "../api/write-limits.ts";
import { WRITE_LIMIT_DEFAULTS } from "../config.ts";
import type { Hex } from "../domain/model.ts";
import { recallAcknowledgementText } from "./acknowledgement.ts";
import type { RecallDesk } from "./recall-desk.ts";

/** Mounted beside the read API: paths below start with /recalls. */
export const RECALLS_BASE_PATH = "/api/v1";

export interface RecallModuleOptions {
  desk: RecallDesk;
  auth: AuthService;
  chainId: number;
  writeRateLimitPerMinute?: number;
  jsonMaxDepth?: number;
  rateLimitStoreFor?: RateLimitStoreFactory;
}

const instant = z
  .union([z.int().min(0).max(8_640_000_000_000_000), z.iso.datetime({ offset: true })])
  .transform((value) => (typeof value === "number" ? value : Date.parse(value)))
  .describe("Unix milliseconds, or an ISO 8601 instant: the moment written in the signed text.");

const acknowledgementBody = z
  .strictObject({
    holder: addressParam.describe("The current custodian of an affected lot, who signs."),
    acknowledgedAt: instant,
    signature: z
      .string()
      .regex(/^0x[0-9a-fA-F]{130}$/, "must be a 65-byte 0x-prefixed signature")
      .describe("The holder's personal_sign (EIP-191) of the acknowledgement text."),
  })
  .describe("A holder's signed acknowledgement of a recall.");

const textQuery = z.strictObject({ holder: addressParam, acknowledgedAt: z.coerce.number().int().min(0).max(8_640_000_000_000_000) });

const anyObject = { type: "object" };

export function createRecallModule(options: RecallModuleOptions): RouteModule {
  const limits: WriteLimitsOptions = {
    label: "recall acknowledgements",
    bodyLimit: "8kb",
    ratePerMinute: options.writeRateLimitPerMinute ?? WRITE_LIMIT_DEFAULTS.writeRateLimitPerMinute,
    ...(options.jsonMaxDepth === undefined ? {} : { jsonMaxDepth: options.jsonMaxDepth }),
    rateLimitStoreFor: options.rateLimitStoreFor,
    limiterName: "write-recall-acknowledgement",
  };
  return routeModuleFromTable(
    RECALLS_BASE_PATH,
    routes(options, limits),
    { RecallAcknowledgementRequest: toOpenApiSchema(acknowledgementBody, "input") },
    { parsesOwnBody: true },
  );
}

function routes({ desk, auth, chainId }: RecallModuleOptions, limits: WriteLimitsOptions): RouteDefinition[] {
  const deskResponses = {
    401: problemResponse(401, "Not signed in, or the session is invalid or expired"),
    403: problemResponse(403, "Not a regulator or the admin"),
  };
  return [
    {
      method: "get",
      path: "/recalls",
      operation: {
        tags: ["recalls"],
        operationId: "listRecalls",
        summary: "Every recall (regulators and the admin)",
        parameters: parametersFromZod({ query: pageQuery }),
        responses: {
          200: jsonResponse("A page of recalled lots with their recall", anyObject),
          400: problemResponse(400),
          ...deskResponses,
        },
      },
      handler: async (req, res) => {
        const { limit, cursor } = parseQuery(pageQuery, req);
        res.set("Cache-Control", "no-store").json(await desk.list({ limit, cursor: cursor ?? null }, await viewerOfRequest(auth, req)));
      },
    },
    {
      method: "get",
      path: "/recalls/:batchId",
      operation: {
        tags: ["recalls"],
        operationId: "getRecall",
        summary: "A recall: the lots it reaches, who holds each now, and which holders acknowledged it",
        parameters: parametersFromZod({ path: batchIdParams }),
        responses: {
          200: jsonResponse("The recall desk's view of one recall", anyObject),
          400: problemResponse(400),
          ...deskResponses,
          404: problemResponse(404, "No such batch, or it has no recall of its own"),
        },
      },
      handler: async (req, res) => {
        const { batchId } = parseParams(batchIdParams, req);
        res.set("Cache-Control", "no-store").json(await desk.get(batchId, await viewerOfRequest(auth, req)));
      },
    },
    {
      method: "get",
      path: "/recalls/:batchId/acknowledgement-text",
      operation: {
        tags: ["recalls"],
        operationId: "getRecallAcknowledgementText",
        summary: "The exact text a holder signs (personal_sign) to acknowledge a recall",
        parameters: parametersFromZod({ path: batchIdParams, query: textQuery }),
        responses: {
          200: jsonResponse("The text", { type: "object", properties: { text: { type: "string" } } }),
          400: problemResponse(400),
        },
      },
      handler: (req, res) => {
        const { batchId } = parseParams(batchIdParams, req);
        const { holder, acknowledgedAt } = parseQuery(textQuery, req);
        res.json({ text: recallAcknowledgementText({ batchId, holder, chainId, acknowledgedAt }) });
      },
    },
    {
      method: "post",
      path: "/recalls/:batchId/acknowledgements",
      operation: {
        tags: ["recalls"],
        operationId: "acknowledgeRecall",
        summary: "A holder acknowledges a recall with its signature",
        description:
          "The holder must be the current custodian of a lot the recall reaches, sign the text of …/acknowledgement-text, and date it " +
          "within ten minutes of now. The first acknowledgement per holder stands; sending it again answers 200 with the stored one. " +
          describeWriteLimits(limits),
        parameters: parametersFromZod({ path: batchIdParams }),
        requestBody: {
          required: true,
          content: { "application/json": { schema: { $ref: "#/components/schemas/RecallAcknowledgementRequest" } } },
        },
        responses: {
          201: jsonResponse("Acknowledged", anyObject),
          200: jsonResponse("Acknowledged earlier: the stored acknowledgement", anyObject),
          400: problemResponse(400),
          403: problemResponse(403, "The signer holds no affected lot"),
          404: problemResponse(404, "No such batch, or it has no recall of its own"),
          413: problemResponse(413, "Body larger than 8kb"),
          415: problemResponse(415, "Not JSON"),
          422: problemResponse(422, "Not the holder's signature over the text, or dated more than ten minutes from now"),
          429: problemResponse(429, `More than ${limits.ratePerMinute} acknowledgements in a minute from this client`),
        },
      },
      middleware: writeLimits(limits),
      handler: async (req, res) => {
        if (!req.is("application/json"))
          throw new ProblemError(415, "Unsupported Media Type", "send the acknowledgement as application/json");
        const { batchId } = parseParams(batchIdParams, req);
        const body = parseBody(acknowledgementBody, req);
        const { acknowledgement, created } = await desk.acknowledge(batchId, {
          holder: body.holder,
          acknowledgedAt: body.acknowledgedAt,
          signature: body.signature as Hex,
        });
        res.status(created ? 201 : 200).json(acknowledgement);
      },
    },
  ];
}
