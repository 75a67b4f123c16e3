/**
 * HTTP for the relayer: partners POST signed forward requests and poll their status.
 *   POST /api/v1/relay/requests          -> 202 { id, status, statusUrl } (200 with the same body on a resubmit)
 *   GET  /api/v1/relay/requests/{id}     -> queued | submitted | mined | failed, with the reason
 *   GET  /api/v1/relay/forwarder         -> the EIP-712 domain and types to sign, the relayer and the targets
 *   GET  /api/v1/relay/nonces/{address}  -> the nonce to sign next
 * Writes are rate limited per client and body-size limited; security headers come from the app.
 */
import express, { Router, type NextFunction, type Request, type Response } from "express";
import { rateLimit } from "express-rate-limit";
import { z } from "zod";
import { ProblemError } from "../api/problem.ts";
import type { RouteModule } from "../api/route-module.ts";
import { parseBody, parseParams } from "../api/validate.ts";
import type { RelayRequest } from "../domain/model.ts";
import type { RelayService } from "./relay-service.ts";

export const RELAY_BASE_PATH = "/api/v1/relay";
/** A forward request is a few hundred bytes of calldata; the app-wide limit is sized for serial-list uploads. */
export const RELAY_BODY_LIMIT = "64kb";

export interface RelayModuleOptions {
  service: RelayService;
  /** POSTs per client per minute (default 60). */
  writeRateLimitPerMinute?: number;
  /** Largest JSON body (default RELAY_BODY_LIMIT: a forward request is small). */
  bodyLimit?: string;
  /** Called after a request was newly accepted (main wires it to the relayer worker's poke). */
  onAccepted?: (request: RelayRequest) => void;
}

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte address");
const hexBytes = z.string().regex(/^0x([0-9a-fA-F]{2})*$/, "must be 0x-prefixed hex bytes");
const uint = (max: bigint, what: string) =>
  z
    .union([z.string().regex(/^\d{1,78}$/, `must be a non-negative integer (decimal string) ${what}`), z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)])
    .refine((value) => BigInt(value) <= max, { message: `must be at most ${max} ${what}` });

const UINT256_MAX = (1n << 256n) - 1n;
const UINT48_MAX = (1n << 48n) - 1n;

export const forwardRequestBodySchema = z.strictObject({
  from: address,
  to: address,
  value: uint(UINT256_MAX, "(wei)"),
  gas: uint(UINT256_MAX, "(gas forwarded to the target)"),
  nonce: uint(UINT256_MAX, "(the forwarder's nonce for from)"),
  deadline: uint(UINT48_MAX, "(unix seconds)"),
  data: hexBytes.refine((value) => value.length >= 10, "must hold at least a 4-byte function selector"),
  signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, "must be a 65-byte 0x-prefixed ECDSA signature"),
});

const idParams = z.object({ id: z.string().regex(/^(0x[0-9a-fA-F]{64}|keeper:\d+:0x[0-9a-fA-F]{64}:[A-Za-z]+)$/, "must be a relay request id (0x + 64 hex digits)") });
const addressParams = z.object({ address });

export function relayRequestView(request: RelayRequest, service: RelayService) {
  return {
    id: request.id,
    status: request.status,
    statusUrl: `${RELAY_BASE_PATH}/requests/${request.id}`,
    kind: request.kind,
    chainId: request.chainId,
    from: request.from,
    to: request.to,
    function: service.describeCall(request),
    nonce: request.kind === "partner" ? request.nonce : null,
    deadline: request.kind === "partner" ? request.deadline : null,
    transactionHash: request.transactionHash,
    blockNumber: request.blockNumber,
    error: request.error,
    attempts: request.attempts,
    createdAt: new Date(request.createdAt).toISOString(),
    updatedAt: new Date(request.updatedAt).toISOString(),
  };
}

export function createRelayModule(options: RelayModuleOptions): RouteModule {
  const { service } = options;
  const router = Router();

  const writeLimiter = rateLimit({
    windowMs: 60_000,
    limit: options.writeRateLimitPerMinute ?? 60,
    standardHeaders: "draft-8",
    legacyHeaders: false,
    handler: (_req, _res, next, limiterOptions) => {
      next(new ProblemError(429, "Too Many Requests", `at most ${limiterOptions.limit} relay requests per minute per client; retry later`));
    },
  });
  const jsonBody = express.json({ limit: options.bodyLimit ?? RELAY_BODY_LIMIT, type: ["application/json", "application/*+json"] });

  router.post("/requests", writeLimiter, jsonBody, async (req: Request, res: Response) => {
    if (!req.is("application/json") && !req.is("application/*+json")) {
      throw new ProblemError(415, "Unsupported Media Type", "send the forward request as application/json");
    }
    const body = parseBody(forwardRequestBodySchema, req);
    const { request, created } = await service.accept(body);
    if (created) options.onAccepted?.(request);
    const view = relayRequestView(request, service);
    res.status(created ? 202 : 200).location(view.statusUrl).json(view);
  });

  router.get("/requests/:id", async (req: Request, res: Response) => {
    const { id } = parseParams(idParams, req);
    const request = await service.get(id);
    res.json(relayRequestView(request, service));
  });

  router.get("/forwarder", async (_req: Request, res: Response) => {
    res.json(await service.signingInfo());
  });

  router.get("/nonces/:address", async (req: Request, res: Response) => {
    const { address: account } = parseParams(addressParams, req);
    res.json(await service.nonces(account));
  });

  // Body-parser failures become problems here, so they read the same as every other refusal.
  router.use((error: unknown, _req: Request, _res: Response, next: NextFunction) => {
    const parserError = error as { type?: string; status?: number; limit?: number };
    if (parserError?.type === "entity.too.large") {
      return next(new ProblemError(413, "Content Too Large", `the body is larger than the ${parserError.limit}-byte limit for relay requests`));
    }
    if (parserError?.type === "entity.parse.failed") return next(new ProblemError(400, "Bad Request", "the body is not valid JSON"));
    if (parserError?.type === "encoding.unsupported" || parserError?.type === "charset.unsupported") {
      return next(new ProblemError(415, "Unsupported Media Type", "send the body as UTF-8 JSON"));
    }
    next(error);
  });

  return { basePath: RELAY_BASE_PATH, router, paths: relayOpenApiPaths(), schemas: relayOpenApiSchemas(), parsesOwnBody: true };
}

const problemResponse = (description: string) => ({
  description,
  content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
});

function relayOpenApiSchemas(): Record<string, unknown> {
  const uintString = { oneOf: [{ type: "string", pattern: "^\\d{1,78}$" }, { type: "integer", minimum: 0 }] };
  return {
    ForwardRequest: {
      type: "object",
      description: "An OpenZeppelin ERC2771Forwarder request signed with EIP-712 (domain ProvenaForwarder v1; see GET /api/v1/relay/forwarder).",
      additionalProperties: false,
      required: ["from", "to", "value", "gas", "nonce", "deadline", "data", "signature"],
      properties: {
        from: { type: "string", pattern: "^0x[0-9a-fA-F]{40}$", description: "The signer, who the target sees as the caller." },
        to: { type: "string", pattern: "^0x[0-9a-fA-F]{40}$", description: "A Provena contract: the registry or the escrow." },
        value: { ...uintString, description: "Must be 0: the relayer pays gas, not payments." },
        gas: { ...uintString, description: "Gas forwarded to the target." },
        nonce: { ...uintString, description: "The forwarder's nonces(from), or the next one after queued requests (GET /api/v1/relay/nonces/{address})." },
        deadline: { ...uintString, description: "Unix seconds after which the request is void." },
        data: { type: "string", pattern: "^0x([0-9a-fA-F]{2})*$", description: "ABI-encoded call of the target." },
        signature: { type: "string", pattern: "^0x[0-9a-fA-F]{130}$", description: "65-byte EIP-712 signature by from." },
      },
    },
    RelayRequestStatus: {
      type: "object",
      required: ["id", "status", "statusUrl", "kind", "chainId", "from", "to", "transactionHash", "blockNumber", "error", "attempts", "createdAt", "updatedAt"],
      properties: {
        id: { type: "string", description: "The EIP-712 digest of the request (keeper jobs: keeper:<chainId>:<orderId>:<action>)." },
        status: { type: "string", enum: ["queued", "submitted", "mined", "failed"] },
        statusUrl: { type: "string" },
        kind: { type: "string", enum: ["partner", "keeper"] },
        chainId: { type: "integer" },
        from: { type: "string" },
        to: { type: "string" },
        function: { type: ["string", "null"], description: "The called function's signature." },
        nonce: { type: ["string", "null"] },
        deadline: { type: ["integer", "null"] },
        transactionHash: { type: ["string", "null"] },
        blockNumber: { type: ["integer", "null"] },
        error: { type: ["string", "null"], description: "Why the request failed, decoded from the contracts' custom errors." },
        attempts: { type: "integer", description: "Transactions sent for it (replacements included)." },
        createdAt: { type: "string", format: "date-time" },
        updatedAt: { type: "string", format: "date-time" },
      },
    },
  };
}

function relayOpenApiPaths(): RouteModule["paths"] {
  const statusContent = { "application/json": { schema: { $ref: "#/components/schemas/RelayRequestStatus" } } };
  return {
    [`${RELAY_BASE_PATH}/requests`]: {
      post: {
        tags: ["relay"],
        operationId: "submitRelayRequest",
        summary: "Submit a signed forward request for gasless execution",
        description:
          "Checks the signature, the target, the deadline, the nonce, the signer's role and suspension, and simulates the call; stores the request durably and answers 202. Resubmitting the same signed request is harmless and answers 200 with the same id.",
        requestBody: { required: true, content: { "application/json": { schema: { $ref: "#/components/schemas/ForwardRequest" } } } },
        responses: {
          "202": { description: "Accepted and queued", headers: { Location: { schema: { type: "string" } } }, content: statusContent },
          "200": { description: "Already accepted earlier: the stored request", content: statusContent },
          "400": problemResponse("Malformed request (each bad field listed)"),
          "403": problemResponse("The signer is not an active participant with the needed role, or is suspended"),
          "409": problemResponse("Nonce already used, taken by another queued request, or not next"),
          "413": problemResponse("Body too large"),
          "415": problemResponse("Not JSON"),
          "422": problemResponse("Wrong signer, expired, untrusted target, or the call would revert (decoded reason)"),
          "429": problemResponse("Rate limit exceeded"),
        },
      },
    },
    [`${RELAY_BASE_PATH}/requests/{id}`]: {
      get: {
        tags: ["relay"],
        operationId: "getRelayRequest",
        summary: "Status of a relay request",
        parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }],
        responses: {
          "200": { description: "The request and its outcome", content: statusContent },
          "400": problemResponse("Malformed id"),
          "404": problemResponse("Unknown id"),
        },
      },
    },
    [`${RELAY_BASE_PATH}/forwarder`]: {
      get: {
        tags: ["relay"],
        operationId: "getRelaySigningInfo",
        summary: "The EIP-712 domain and types to sign forward requests with",
        responses: {
          "200": {
            description: "Domain, types, relayer account and the contracts requests may target",
            content: {
              "application/json": {
                schema: {
                  type: "object",
                  required: ["domain", "types", "primaryType", "relayer", "targets", "maxForwardedGas"],
                  properties: {
                    domain: { type: "object" },
                    types: { type: "object" },
                    primaryType: { type: "string", const: "ForwardRequest" },
                    relayer: { type: "string" },
                    targets: { type: "object" },
                    maxForwardedGas: { type: "string" },
                  },
                },
              },
            },
          },
        },
      },
    },
    [`${RELAY_BASE_PATH}/nonces/{address}`]: {
      get: {
        tags: ["relay"],
        operationId: "getRelayNonce",
        summary: "The forwarder nonce of an account and the next one to sign",
        parameters: [{ name: "address", in: "path", required: true, schema: { type: "string", pattern: "^0x[0-9a-fA-F]{40}$" } }],
        responses: {
          "200": {
            description: "nonce: the forwarder's current nonce; next: the nonce to sign after the requests already queued",
            content: {
              "application/json": {
                schema: {
                  type: "object",
                  required: ["address", "nonce", "next", "pending"],
                  properties: { address: { type: "string" }, nonce: { type: "string" }, next: { type: "string" }, pending: { type: "integer" } },
                },
              },
            },
          },
          "400": problemResponse("Malformed address"),
        },
      },
    },
  };
}
