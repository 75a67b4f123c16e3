/**
 * HTTP for read grants (order-read-grants.ts), all for the signed-in caller:
 *   GET    /api/v1/finance/read-grants               -> grants given (as seller) and received (as financier)
 *   POST   /api/v1/finance/read-grants               -> grant a financier read access to the caller's orders as seller
 *   DELETE /api/v1/finance/read-grants/{financier}   -> revoke it at once
 */
import { z } from "zod";
import { viewerOfRequest } from "../auth/auth-routes.ts";
import type { AuthService } from "../auth/auth-service.ts";
import type { RateLimitStoreFactory } from "../api/cluster-rate-limit-store.ts";
import { jsonResponse, parametersFromZod, problemResponse, toOpenApiSchema } from "../api/openapi.ts";
import { ProblemError } from "../api/problem.ts";
import type { RouteModule } from "../api/route-module.ts";
import { routeModuleFromTable } from "../api/route-table.ts";
import { addressParam } from "../api/schemas.ts";
import { parseBody, parseParams } from "../api/validate.ts";
import { describeWriteLimits, writeLimits, type WriteLimitsOptions } from "../api/write-limits.ts";
import { WRITE_LIMIT_DEFAULTS } from "../config.ts";
import { MAX_ACTIVE_GRANTS, MAX_GRANT_DAYS, type OrderReadGrantService } from "./order-read-grants.ts";

export interface OrderReadGrantModuleOptions {
  service: OrderReadGrantService;
  auth: AuthService;
  writeRateLimitPerMinute?: number;
  jsonMaxDepth?: number;
  rateLimitStoreFor?: RateLimitStoreFactory;
}

const grantBody = z
  .strictObject({
    financier: addressParam.describe("The financier's address: it signs in with this key to read the orders."),
    expiresAt: z
      .union([z.int().min(0).max(8_640_000_000_000_000), z.iso.datetime({ offset: true })])
      .transform((value) => (typeof value === "number" ? value : Date.parse(value)))
      .describe(`Unix ms or an ISO 8601 instant, at most ${MAX_GRANT_DAYS} days ahead.`),
  })
  .describe("A seller's grant of read access to its orders.");
const financierParams = z.strictObject({ financier: addressParam.describe("The financier's address.") });
const anyObject = { type: "object" };
const signInResponses = { 401: problemResponse(401, "Not signed in, or the session is invalid or expired") };

export function createOrderReadGrantModule(options: OrderReadGrantModuleOptions): RouteModule {
  const { service, auth } = options;
  const limits: WriteLimitsOptions = {
    label: "read grants",
    bodyLimit: "4kb",
    ratePerMinute: options.writeRateLimitPerMinute ?? WRITE_LIMIT_DEFAULTS.writeRateLimitPerMinute,
    ...(options.jsonMaxDepth === undefined ? {} : { jsonMaxDepth: options.jsonMaxDepth }),
    rateLimitStoreFor: options.rateLimitStoreFor,
    limiterName: "write-read-grant",
  };
  return routeModuleFromTable(
    "/api/v1",
    [
      {
        method: "get",
        path: "/finance/read-grants",
        operation: {
          tags: ["finance"],
          operationId: "listReadGrants",
          summary: "The read grants the caller gave (as seller) and received (as financier)",
          responses: { 200: jsonResponse("given and received grants", anyObject), ...signInResponses },
        },
        handler: async (req, res) => {
          res.set("Cache-Control", "no-store").json(await service.list(await viewerOfRequest(auth, req)));
        },
      },
      {
        method: "post",
        path: "/finance/read-grants",
        operation: {
          tags: ["finance"],
          operationId: "grantOrderReadAccess",
          summary: "The signed-in seller lets a financier read its orders (as seller) until a time",
          description:
            "Replaces any earlier grant to the same financier. The financier then sees the seller's orders at /api/v1/orders/{id} and " +
            `lists them with ?seller=, escrow events included. At most ${MAX_ACTIVE_GRANTS} active grants per seller. ` +
            describeWriteLimits(limits),
          requestBody: {
            required: true,
            content: { "application/json": { schema: { $ref: "#/components/schemas/OrderReadGrantRequest" } } },
          },
          responses: {
            201: jsonResponse("The grant", anyObject),
            400: problemResponse(400, "Bad financier or expiry (past, or too far ahead), or a grant to oneself"),
            ...signInResponses,
            413: problemResponse(413, "Body larger than 4kb"),
            415: problemResponse(415, "Not JSON"),
            422: problemResponse(422, `Already ${MAX_ACTIVE_GRANTS} active grants`),
            429: problemResponse(429, `More than ${limits.ratePerMinute} writes in a minute from this client`),
          },
        },
        middleware: writeLimits(limits),
        handler: async (req, res) => {
          if (!req.is("application/json")) throw new ProblemError(415, "Unsupported Media Type", "send the grant as application/json");
          const viewer = await viewerOfRequest(auth, req);
          const body = parseBody(grantBody, req);
          res.status(201).json(await service.grant(viewer, body));
        },
      },
      {
        method: "delete",
        path: "/finance/read-grants/:financier",
        operation: {
          tags: ["finance"],
          operationId: "revokeOrderReadAccess",
          summary: "The signed-in seller revokes a financier's read access at once",
          parameters: parametersFromZod({ path: financierParams }),
          responses: {
            200: jsonResponse("The revoked grant", anyObject),
            400: problemResponse(400),
            ...signInResponses,
            404: problemResponse(404, "No active grant to that financier"),
          },
        },
        handler: async (req, res) => {
          const { financier } = parseParams(financierParams, req);
          res.json(await service.revoke(await viewerOfRequest(auth, req), financier));
        },
      },
    ],
    { OrderReadGrantRequest: toOpenApiSchema(grantBody, "input") },
    { parsesOwnBody: true },
  );
}
