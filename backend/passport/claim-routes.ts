/**
 * Unit claims kept in the database: the first buyer to claim a unit owns it, from the API or from the passport
 * page's form. Deployments with the ownership contract replace them with on-chain tokens (backend/ownership): the
 * route then answers 410 Gone, and claims stored before stay readable on the passport.
 */
import express, { type RequestHandler } from "express";
import { z } from "zod";
import { jsonBodyParser } from "../api/json-body.ts";
import { jsonResponse, parametersFromZod, problemResponse } from "../api/openapi.ts";
import type { RouteDefinition } from "../api/route-table.ts";
import { parseBody, parseParams } from "../api/validate.ts";
import { ProblemError } from "../api/problem.ts";
import { digitalLinkPath } from "./digital-link.ts";
import type { PassportService } from "./passport-service.ts";
import { unitParams } from "./request-schemas.ts";
import { CLAIM_BODY_LIMIT } from "./write-limits.ts";

export interface ClaimRoutesDeps {
  passports: PassportService;
  /** The passport's shared write rate limiter. */
  writeRateLimiter: RequestHandler;
  /** Deepest nesting of a JSON body (config JSON_MAX_DEPTH). */
  jsonMaxDepth?: number;
}

const claimBody = z.strictObject({
  owner: z
    .string()
    .trim()
    .min(3, "must be at least 3 characters")
    .max(100, "must be at most 100 characters")
    .describe("An owner handle: a wallet address, or a phrase only the owner knows (only its SHA-256 is stored)."),
});

export function claimRoutes({ passports, writeRateLimiter, jsonMaxDepth }: ClaimRoutesDeps): RouteDefinition[] {
  const claimUnit: RequestHandler = async (req, res) => {
    const { batchId, serial } = parseParams(unitParams, req);
    const { owner } = parseBody(claimBody, req);
    const { claim, created } = await passports.claimUnit(batchId, serial, owner);
    if (req.is("application/x-www-form-urlencoded")) {
      // A form post from the passport page: back to the page, which confirms the claim (post/redirect/get).
      const batch = await passports.getBatch(batchId);
      res.redirect(303, `${digitalLinkPath(batch.gtin, batch.lot, serial)}?claimed=1`);
      return;
    }
    res.status(created ? 201 : 200).json({
      batchId: claim.batchId,
      serial: claim.serial,
      owner: claim.owner,
      claimedAt: new Date(claim.claimedAt).toISOString(),
      created,
    });
  };
  return [
    {
      method: "post",
      path: "/api/v1/batches/:batchId/units/:serial/claim",
      operation: claimOperation(),
      middleware: [
        writeRateLimiter,
        jsonBodyParser({ limit: CLAIM_BODY_LIMIT, ...(jsonMaxDepth === undefined ? {} : { maxDepth: jsonMaxDepth }) }),
        express.urlencoded({ extended: false, limit: CLAIM_BODY_LIMIT }),
      ],
      handler: claimUnit,
    },
  ];
}

function claimOperation() {
  const claimSchema = {
    type: "object",
    required: ["batchId", "serial", "owner", "claimedAt", "created"],
    properties: {
      batchId: { type: "string" },
      serial: { type: "string" },
      owner: { type: "string", description: "The stored owner key: the address, or sha256:<hex> of the handle." },
      claimedAt: { type: "string", format: "date-time" },
      created: { type: "boolean" },
    },
  };
  return {
    operationId: "claimUnit",
    tags: ["Passports"],
    summary: "Claim a unit after purchase",
    description:
      "The first claim wins; claiming again with the same handle is harmless (200), another handle gets 409. " +
      "A handle that is not an Ethereum address is stored only as its SHA-256. " +
      "Browsers posting the page's form are redirected back (303). " +
      `Body limit: ${CLAIM_BODY_LIMIT}; writes (uploads and claims) are rate limited per client.`,
    parameters: parametersFromZod({ path: unitParams }),
    requestBody: {
      required: true,
      content: {
        "application/json": {
          schema: { type: "object", required: ["owner"], properties: { owner: { type: "string", minLength: 3, maxLength: 100 } } },
        },
        "application/x-www-form-urlencoded": { schema: { type: "object", required: ["owner"], properties: { owner: { type: "string" } } } },
      },
    },
    responses: {
      201: jsonResponse("Claimed.", claimSchema),
      200: jsonResponse("Already claimed with this handle.", claimSchema),
      303: { description: "Form submission: redirect to the passport." },
      400: problemResponse(400),
      404: problemResponse(404),
      409: problemResponse(409),
      413: problemResponse(413),
      429: problemResponse(429),
    },
  };
}

/** The database claim's path once ownership tokens replace it: 410 Gone, pointing at the on-chain claim. */
export function legacyClaimGoneRoute(): RouteDefinition {
  return {
    method: "post",
    path: "/api/v1/batches/:batchId/units/:serial/claim",
    operation: {
      operationId: "claimUnit",
      tags: ["Passports"],
      summary: "Retired: claim a unit in the database",
      description: "Units are claimed as on-chain ownership tokens now: POST /api/v1/ownership/claims.",
      parameters: parametersFromZod({ path: unitParams }),
      responses: { 410: { description: "Gone (problem+json): claims are on-chain ownership tokens now." } },
    },
    handler: () => {
      throw new ProblemError(
        410,
        "Gone",
        "Units are claimed as on-chain ownership tokens now: sign the claim with the secret printed in the packaging and POST it to /api/v1/ownership/claims (or run `provena ownership claim`)",
      );
    },
  };
}
