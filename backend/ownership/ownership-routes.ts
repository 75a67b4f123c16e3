/**
 * Unit ownership over HTTP (mounted by the passport module, sharing its write rate limit):
 *
 *   POST /api/v1/ownership/claim-trees                        a manufacturer's claim tree (StandardMerkleTree dump)
 *   GET  /api/v1/ownership/claim-domain                       the EIP-712 domain and types a claim is signed with
 *   POST /api/v1/ownership/claims                             a signed claim, relayed gaslessly
 *   GET  /api/v1/ownership/tokens/{tokenId}                   ERC-721 metadata (the contract's tokenURI base)
 *   GET  /api/v1/batches/{batchId}/units/{serial}/ownership   what the mirror knows of a unit's token
 */
import type { RequestHandler } from "express";
import { z } from "zod";
import { jsonBodyParser } from "../api/json-body.ts";
import { jsonResponse, parametersFromZod, problemResponse } from "../api/openapi.ts";
import { ProblemError } from "../api/problem.ts";
import type { RouteDefinition } from "../api/route-table.ts";
import { parseBody, parseParams } from "../api/validate.ts";
import { addressSchema, bytes32Schema, gtinSchema, lotSchema } from "../chain/schemas.ts";
import { isValidLotOrSerial } from "../chain/gs1.ts";
import { UNIT_CLAIM_TYPES, unitClaimDomain } from "../chain/unit-claim.ts";
import { notFound } from "../domain/errors.ts";
import type { Batch, UnitToken } from "../domain/model.ts";
import { effectiveStatus } from "../read-model/batch-history.ts";
import type { PassportService } from "../passport/passport-service.ts";
import { unitParams } from "../passport/request-schemas.ts";
import { scanRegion } from "../passport/resolver-routes.ts";
import type { ClaimResult, OwnershipService, UnitOwnership } from "./ownership-service.ts";

export interface OwnershipRoutesDeps {
  ownership: OwnershipService;
  passports: Pick<PassportService, "linkFor" | "getBatch">;
  writeRateLimiter: RequestHandler;
  /** Largest claim-tree upload, e.g. "8mb". */
  uploadBodyLimit: string;
  jsonMaxDepth?: number;
  /** Called when a claim is newly queued (main wakes the relayer worker). */
  onClaimQueued?: () => void;
}

/** A claim is a few short strings. */
export const OWNERSHIP_CLAIM_BODY_LIMIT = "4kb";

const serialSchema = z.string().refine(isValidLotOrSerial, "must be 1-20 characters of the GS1 character set 82");

const claimBody = z
  .strictObject({
    batchId: bytes32Schema.optional().describe("The unit's lot (any lot of its lineage); or give gtin and lot."),
    gtin: gtinSchema.optional(),
    lot: lotSchema.optional(),
    serial: serialSchema,
    recipient: addressSchema.describe("The account the token is minted to (the signature binds it)."),
    signature: z
      .string()
      .regex(/^0x[0-9a-fA-F]{130}$/, "must be a 65-byte signature (0x + 130 hex digits)")
      .describe("The claim key's EIP-712 signature of Claim(tokenId, recipient)."),
  })
  .refine((body) => (body.batchId !== undefined) !== (body.gtin !== undefined && body.lot !== undefined), {
    message: "give either batchId, or gtin and lot",
  });

const claimTreeBody = z.strictObject({
  batchId: bytes32Schema.describe("The registered batch whose claim root was committed."),
  tree: z.record(z.string(), z.unknown()).describe("StandardMerkleTree.dump() of the [string serial, address claimKey] leaves."),
});

const tokenParams = z.object({
  tokenId: z
    .string()
    .regex(/^[0-9]{1,78}$/, "must be a token id in decimal")
    .refine((value) => BigInt(value) < 2n ** 256n, "must be below 2^256")
    .describe("uint256(keccak256(abi.encode(batchId, serial))), in decimal."),
});

export function ownershipRoutes({
  ownership,
  passports,
  writeRateLimiter,
  uploadBodyLimit,
  jsonMaxDepth,
  onClaimQueued,
}: OwnershipRoutesDeps): RouteDefinition[] {
  const depth = jsonMaxDepth === undefined ? {} : { maxDepth: jsonMaxDepth };
  const requireJson: RequestHandler = (req, _res, next) => {
    if (!req.is("application/json") && !req.is("application/*+json")) {
      throw new ProblemError(415, "Unsupported Media Type", "send the body as application/json");
    }
    next();
  };
  return [
    {
      method: "post",
      path: "/api/v1/ownership/claim-trees",
      operation: {
        operationId: "uploadClaimTree",
        tags: ["Ownership"],
        summary: "Upload a batch's claim tree",
        description:
          "The manufacturer's StandardMerkleTree dump over [string serial, address claimKey] leaves, whose root it committed " +
          "on chain with commitClaimRoot. It holds claim key addresses only, never the secrets. Accepted only when its " +
          `root and unit count equal the mirrored commitment. Body limit: ${uploadBodyLimit}.`,
        requestBody: { required: true, content: { "application/json": { schema: { type: "object", required: ["batchId", "tree"] } } } },
        responses: {
          201: jsonResponse("Stored.", claimTreeSchema),
          200: jsonResponse("The same tree was stored before.", claimTreeSchema),
          400: problemResponse(400),
          404: problemResponse(404),
          409: problemResponse(409, "No claim root committed for the batch yet"),
          413: problemResponse(413),
          415: problemResponse(415),
          422: problemResponse(422, "The tree's root or unit count is not the committed one"),
          429: problemResponse(429),
        },
      },
      middleware: [writeRateLimiter, requireJson, jsonBodyParser({ limit: uploadBodyLimit, ...depth })],
      handler: async (req, res) => {
        const { batchId, tree } = parseBody(claimTreeBody, req);
        const stored = await ownership.uploadClaimTree(batchId, tree);
        res.status(stored.created ? 201 : 200).json(stored);
      },
    },
    {
      method: "get",
      path: "/api/v1/ownership/claim-domain",
      operation: {
        operationId: "getClaimDomain",
        tags: ["Ownership"],
        summary: "The EIP-712 domain and types a unit claim is signed with",
        responses: { 200: jsonResponse("Domain, types and primary type.", { type: "object" }) },
      },
      handler: (_req, res) => {
        res.json({
          domain: unitClaimDomain(ownership.chainId, ownership.contract),
          types: UNIT_CLAIM_TYPES,
          primaryType: "Claim",
        });
      },
    },
    {
      method: "post",
      path: "/api/v1/ownership/claims",
      operation: {
        operationId: "claimUnitOwnership",
        tags: ["Ownership"],
        summary: "Claim a unit's ownership token, gaslessly",
        description:
          "Sign EIP-712 Claim(tokenId, recipient) with the claim secret printed inside the packaging (in the browser or the " +
          "CLI; the secret is never sent) and post the signature. Everything the contract checks is checked first and the " +
          "exact call simulated: a claim that would fail is refused and costs no gas. The relayer then submits it. Posting " +
          "the same claim again answers the same job (200); another claim of a unit already claimed or on its way gets 409. " +
          `Body limit: ${OWNERSHIP_CLAIM_BODY_LIMIT}; writes are rate limited per client.`,
        requestBody: {
          required: true,
          content: { "application/json": { schema: { type: "object", required: ["serial", "recipient", "signature"] } } },
        },
        responses: {
          202: jsonResponse("Queued for the relayer.", claimResultSchema),
          200: jsonResponse("The same claim was queued before: its job as it stands.", claimResultSchema),
          400: problemResponse(400),
          404: problemResponse(404, "Unknown batch, or the serial has no claim key"),
          409: problemResponse(409, "Already claimed or on its way; claim keys or tree not available yet"),
          413: problemResponse(413),
          415: problemResponse(415),
          422: problemResponse(422, "The signature is not the unit's claim key, or the contract would refuse the claim"),
          429: problemResponse(429),
        },
      },
      middleware: [writeRateLimiter, requireJson, jsonBodyParser({ limit: OWNERSHIP_CLAIM_BODY_LIMIT, ...depth })],
      handler: async (req, res) => {
        const body = parseBody(claimBody, req);
        const unit =
          body.batchId !== undefined
            ? { batchId: body.batchId, serial: body.serial }
            : { gtin: body.gtin!, lot: body.lot!, serial: body.serial };
        const result = await ownership.claim({ unit, recipient: body.recipient, signature: body.signature, region: scanRegion(req) });
        if (result.created) onClaimQueued?.();
        res
          .status(result.created ? 202 : 200)
          .location(`/api/v1/relay/requests/${result.job.id}`)
          .json(claimResultView(result));
      },
    },
    {
      method: "get",
      path: "/api/v1/ownership/tokens/:tokenId",
      operation: {
        operationId: "getUnitTokenMetadata",
        tags: ["Ownership"],
        summary: "ERC-721 metadata of a unit's token",
        description: "The contract's tokenURI base points here. external_url is the unit's passport (its GS1 Digital Link).",
        parameters: parametersFromZod({ path: tokenParams }),
        responses: {
          200: jsonResponse("ERC-721 metadata JSON.", { type: "object" }),
          400: problemResponse(400),
          404: problemResponse(404),
        },
      },
      handler: async (req, res) => {
        const { tokenId } = parseParams(tokenParams, req);
        const token = await ownership.getToken(tokenId);
        if (!token) throw notFound(`No unit token ${tokenId} is minted (or it is not indexed yet)`);
        const batch = await passports.getBatch(token.batchId);
        res.set("Cache-Control", "public, max-age=60").json(tokenMetadata(token, batch, passports.linkFor(batch, token.serial)));
      },
    },
    {
      method: "get",
      path: "/api/v1/batches/:batchId/units/:serial/ownership",
      operation: {
        operationId: "getUnitOwnership",
        tags: ["Ownership"],
        summary: "A unit's ownership token as mirrored",
        parameters: parametersFromZod({ path: unitParams }),
        responses: {
          200: jsonResponse("The unit's token id, owner and history (owner null when not claimed).", { type: "object" }),
          400: problemResponse(400),
          404: problemResponse(404),
        },
      },
      handler: async (req, res) => {
        const { batchId, serial } = parseParams(unitParams, req);
        res.json(unitOwnershipView(await ownership.unitOwnership({ batchId, serial }), ownership.contract));
      },
    },
  ];
}

const claimTreeSchema = {
  type: "object",
  required: ["batchId", "claimRoot", "units"],
  properties: { batchId: { type: "string" }, claimRoot: { type: "string" }, units: { type: "integer" } },
};

const claimResultSchema = {
  type: "object",
  required: ["tokenId", "batchId", "serial", "recipient", "relayId", "status"],
  properties: {
    tokenId: { type: "string" },
    batchId: { type: "string", description: "The registered batch the token belongs to." },
    serial: { type: "string" },
    recipient: { type: "string" },
    relayId: { type: "string", description: "Follow it at /api/v1/relay/requests/{relayId}." },
    status: { type: "string", enum: ["queued", "submitted", "mined", "failed"] },
    transactionHash: { type: ["string", "null"] },
  },
};

function claimResultView(result: ClaimResult) {
  return {
    tokenId: result.tokenId,
    batchId: result.batchId,
    serial: result.serial,
    recipient: result.recipient,
    relayId: result.job.id,
    status: result.job.status,
    transactionHash: result.job.transactionHash,
    error: result.job.error,
  };
}

export function unitOwnershipView(unit: UnitOwnership, contract: string) {
  return {
    contract,
    tokenId: unit.tokenId,
    batchId: unit.batch.batchId,
    registeredBatchId: unit.registeredBatch.batchId,
    serial: unit.serial,
    claimable: unit.claimRoot !== null,
    owner: unit.token?.owner ?? null,
    ownedSince: unit.token ? new Date(unit.token.ownedSince * 1000).toISOString() : null,
    claimedAt: unit.token ? new Date(unit.token.claimedAt * 1000).toISOString() : null,
    previousOwners: unit.token?.previousOwners ?? [],
  };
}

/** ERC-721 metadata (name, description, external_url, attributes) of a unit's token. */
export function tokenMetadata(token: UnitToken, batch: Batch, passportUrl: string) {
  const recalled = effectiveStatus(batch, []) === "recalled";
  return {
    name: `Unit ${token.serial} of GTIN ${batch.gtin} lot ${batch.lot}`,
    description:
      `Ownership certificate of one physical unit, claimed with the secret printed inside its packaging.` +
      (recalled ? " This unit's lot is RECALLED: see the passport." : ""),
    external_url: passportUrl,
    attributes: [
      { trait_type: "GTIN", value: batch.gtin },
      { trait_type: "Lot", value: batch.lot },
      { trait_type: "Serial", value: token.serial },
      { trait_type: "Batch", value: token.batchId },
      { trait_type: "Status", value: recalled ? "recalled" : "in good standing" },
      { trait_type: "Previous owners", value: token.previousOwners.length, display_type: "number" },
      { trait_type: "Claimed", value: token.claimedAt, display_type: "date" },
      { trait_type: "Owned since", value: token.ownedSince, display_type: "date" },
    ],
  };
}
