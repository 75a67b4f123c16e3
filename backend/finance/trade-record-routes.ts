/**
 * HTTP for trade records (trade-record-service.ts):
 *   GET  /api/v1/orders/{orderId}/trade-record  -> the seller's unsigned draft and the typed data to sign (seller only)
 *   POST /api/v1/trade-records/verifications    -> checks a signed record against the chain (anyone holding one)
 */
import { z } from "zod";
import { viewerOfRequest } from "../auth/auth-routes.ts";
import type { AuthService } from "../auth/auth-service.ts";
import type { RateLimitStoreFactory } from "../api/cluster-rate-limit-store.ts";
import { jsonResponse, parametersFromZod, problemResponse } from "../api/openapi.ts";
import { ProblemError } from "../api/problem.ts";
import type { RouteModule } from "../api/route-module.ts";
import { routeModuleFromTable, type RouteDefinition } from "../api/route-table.ts";
import { orderIdParams } from "../api/schemas.ts";
import { parseParams, parseQuery } from "../api/validate.ts";
import { describeWriteLimits, writeLimits, type WriteLimitsOptions } from "../api/write-limits.ts";
import { WRITE_LIMIT_DEFAULTS } from "../config.ts";
import { MAX_TRADE_RECORD_EVENTS } from "./trade-record.ts";
import type { TradeRecordService } from "./trade-record-service.ts";

export const TRADE_RECORDS_BASE_PATH = "/api/v1";

export interface TradeRecordModuleOptions {
  service: TradeRecordService;
  auth: AuthService;
  /** Verifications read the chain (a few calls per referenced event), so they share the write routes' rate limit. */
  writeRateLimitPerMinute?: number;
  jsonMaxDepth?: number;
  rateLimitStoreFor?: RateLimitStoreFactory;
}

const anyObject = { type: "object" };
const verifyQuery = z.strictObject({
  sellerReputation: z
    .enum(["true", "false"])
    .default("false")
    .transform((value) => value === "true")
    .describe("Also compute the seller's reputation at the record's block from every log since the deployment (slower)."),
});

export function createTradeRecordModule(options: TradeRecordModuleOptions): RouteModule {
  const limits: WriteLimitsOptions = {
    label: "trade-record verifications",
    bodyLimit: "512kb",
    ratePerMinute: options.writeRateLimitPerMinute ?? WRITE_LIMIT_DEFAULTS.writeRateLimitPerMinute,
    ...(options.jsonMaxDepth === undefined ? {} : { jsonMaxDepth: options.jsonMaxDepth }),
    rateLimitStoreFor: options.rateLimitStoreFor,
    limiterName: "verify-trade-record",
  };
  return routeModuleFromTable(TRADE_RECORDS_BASE_PATH, routes(options, limits), {}, { parsesOwnBody: true });
}

function routes({ service, auth }: TradeRecordModuleOptions, limits: WriteLimitsOptions): RouteDefinition[] {
  return [
    {
      method: "get",
      path: "/orders/:orderId/trade-record",
      operation: {
        tags: ["finance"],
        operationId: "draftTradeRecord",
        summary: "The seller's trade record for a financier, unsigned, with the EIP-712 typed data to sign",
        description:
          "References every escrow event of the order and every registry event of its goods up to the mirror's latest indexed block. " +
          "Sign `typedData` with the seller's key and add the signature as `signature` to `claims`: that is the record.",
        parameters: parametersFromZod({ path: orderIdParams }),
        responses: {
          200: jsonResponse("The draft: claims and typed data", anyObject),
          400: problemResponse(400),
          401: problemResponse(401, "Not signed in, or the session is invalid or expired"),
          403: problemResponse(403, "Signed in, but not the order's seller"),
          404: problemResponse(404, "No such order (or not one the caller may see)"),
          422: problemResponse(422, `The order's story has more than ${MAX_TRADE_RECORD_EVENTS} events`),
          503: problemResponse(503, "The mirror has not indexed the chain yet"),
        },
      },
      handler: async (req, res) => {
        const { orderId } = parseParams(orderIdParams, req);
        res.set("Cache-Control", "no-store").json(await service.draft(orderId, await viewerOfRequest(auth, req)));
      },
    },
    {
      method: "post",
      path: "/trade-records/verifications",
      operation: {
        tags: ["finance"],
        operationId: "verifyTradeRecord",
        summary: "Checks a signed trade record against the chain",
        description:
          "Answers 200 with `valid` and one entry per check (deployment, order, signature, block, events, completeness, escrow-state), " +
          "the events as the chain records them, anything the record leaves out, and the escrow's state now with the time it can release. " +
          "A record that fails a check is still a 200: the report says which. " +
          describeWriteLimits(limits),
        parameters: parametersFromZod({ query: verifyQuery }),
        requestBody: { required: true, content: { "application/json": { schema: anyObject } } },
        responses: {
          200: jsonResponse("The verification report", anyObject),
          400: problemResponse(400, "A query parameter other than sellerReputation=true|false"),
          413: problemResponse(413, "Body larger than 512kb"),
          415: problemResponse(415, "Not JSON"),
          429: problemResponse(429, `More than ${limits.ratePerMinute} verifications in a minute from this client`),
        },
      },
      middleware: writeLimits(limits),
      handler: async (req, res) => {
        if (!req.is("application/json")) throw new ProblemError(415, "Unsupported Media Type", "send the trade record as application/json");
        const { sellerReputation } = parseQuery(verifyQuery, req);
        res.set("Cache-Control", "no-store").json(await service.verify(req.body, { withSellerReputation: sellerReputation }));
      },
    },
  ];
}
