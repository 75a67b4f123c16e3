/**
 * HTTP for the relayer: partners POST signed forward requests and poll their status.
 *   POST /api/v1/relay/requests          -> 202 { id, status, statusUrl } (200 with the same body on a resubmit)
 *   GET  /api/v1/relay/requests/{id}     -> queued | submitted | mined | failed, with the reason
 *   GET  /api/v1/relay/forwarder         -> the EIP-712 domain and types to sign, the relayer and the targets
 *   GET  /api/v1/relay/nonces/{address}  -> the nonce to sign next
 * A route table: each route carries its OpenAPI operation, whose schemas come from the zod schemas below.
 * Writes run behind writeLimits (rate and body size); their refusals are answered by the app's error middleware.
 */
import { z } from "zod";
import { componentsFromRegistry, jsonResponse, parametersFromZod, problemResponse, schemaRef, toOpenApiSchema } from "../api/openapi.ts";
import { ProblemError } from "../api/problem.ts";
import type { RouteModule } from "../api/route-module.ts";
import { routeModuleFromTable, type RouteDefinition } from "../api/route-table.ts";
import { addressParam } from "../api/schemas.ts";
import { parseBody, parseParams } from "../api/validate.ts";
import type { RateLimitStoreFactory } from "../api/cluster-rate-limit-store.ts";
import { describeWriteLimits, writeLimits, type WriteLimitsOptions } from "../api/write-limits.ts";
import { WRITE_LIMIT_DEFAULTS } from "../config.ts";
import type { RelayRequest } from "../domain/model.ts";
import type { RelayService } from "./relay-service.ts";

export const RELAY_BASE_PATH = "/api/v1/relay";

export interface RelayModuleOptions {
  service: RelayService;
  /** POSTs per client per minute (config WRITE_RATE_LIMIT_PER_MINUTE; default 60). */
  writeRateLimitPerMinute?: number;
  /** Largest JSON body (config RELAY_BODY_LIMIT; default 64kb: a forward request is a few hundred bytes). */
  bodyLimit?: string;
  /** Deepest nesting of a JSON body (config JSON_MAX_DEPTH). */
  jsonMaxDepth?: number;
  /** Called after a request was newly accepted (main wires it to the relayer worker's poke). */
  onAccepted?: (request: RelayRequest) => void;
  /** Where the write rate limit counts hits (API workers: in the primary); default: in this process. */
  rateLimitStoreFor?: RateLimitStoreFactory;
}

// --- request schemas ----------------------------------------------------------------------------------------

const hexBytes = z.string().regex(/^0x([0-9a-fA-F]{2})*$/, "must be 0x-prefixed hex bytes");
const isWholeNumber = (value: unknown): value is string | number =>
  typeof value === "number" ? Number.isSafeInteger(value) : typeof value === "string" && /^\d+$/.test(value);
const uint = (max: bigint, what: string) =>
  z
    .union([
      z.string().regex(/^\d{1,78}$/, `must be a non-negative integer (decimal string) ${what}`),
      z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    ])
    // Runs even when the union failed (zod keeps checking after non-fatal issues): only a well-formed value is
    // compared, so "abc" or 1.5 get the union's 400 rather than a RangeError from BigInt().
    .refine((value) => !isWholeNumber(value) || BigInt(value) <= max, { message: `must be at most ${max} ${what}` });

const UINT256_MAX = (1n << 256n) - 1n;
const UINT48_MAX = (1n << 48n) - 1n;

export const forwardRequestBodySchema = z
  .strictObject({
    from: addressParam.describe("The signer, who the target sees as the caller."),
    to: addressParam.describe(
      "A Provena contract: the registry, the escrow, the design registry, the product-data anchors or the cold chain.",
    ),
    value: uint(UINT256_MAX, "(wei)").describe("Must be 0: the relayer pays gas, not payments."),
    gas: uint(UINT256_MAX, "(gas forwarded to the target)").describe("Gas forwarded to the target."),
    nonce: uint(UINT256_MAX, "(the forwarder's nonce for from)").describe(
      "The forwarder's nonces(from), or the next one after queued requests (GET /api/v1/relay/nonces/{address}).",
    ),
    deadline: uint(UINT48_MAX, "(unix seconds)").describe("Unix seconds after which the request is void."),
    data: hexBytes
      .refine((value) => value.length >= 10, "must hold at least a 4-byte function selector")
      .describe("ABI-encoded call of the target."),
    signature: z
      .string()
      .regex(/^0x[0-9a-fA-F]{130}$/, "must be a 65-byte 0x-prefixed ECDSA signature")
      .describe("65-byte EIP-712 signature by from."),
  })
  .describe("An OpenZeppelin ERC2771Forwarder request signed with EIP-712 (domain ProvenaForwarder v1; see GET /api/v1/relay/forwarder).");

const idParams = z.object({
  id: z
    .string()
    .regex(/^(0x[0-9a-fA-F]{64}|keeper:\d+:0x[0-9a-fA-F]{64}:[A-Za-z]+)$/, "must be a relay request id (0x + 64 hex digits)")
    .describe("The request's id, as POST answered it."),
});
const addressParams = z.object({ address: addressParam });

// --- response schemas ---------------------------------------------------------------------------------------

const relaySchemaRegistry = z.registry<{ id: string }>();

const relayRequestStatusSchema = z.strictObject({
  id: z
    .string()
    .describe(
      "The EIP-712 digest of the request (keeper jobs: keeper:<chainId>:<orderId>:<action>; anchors: anchor:<chainId>:<legId>:<nextSequence>).",
    ),
  status: z.enum(["queued", "submitted", "mined", "failed"]),
  statusUrl: z.string(),
  kind: z.string().meta({ enum: ["partner", "keeper", "ownership-claim", "anchor", "excursion", "recall-flag", "recall-flag-input"] }),
  chainId: z.int(),
  from: z.string(),
  to: z.string(),
  function: z.string().nullable().describe("The called function's signature."),
  nonce: z.string().nullable(),
  deadline: z.int().nullable(),
  transactionHash: z.string().nullable(),
  blockNumber: z.int().nullable(),
  error: z.string().nullable().describe("Why the request failed, decoded from the contracts' custom errors."),
  attempts: z.int().describe("Transactions sent for it (replacements included)."),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
relaySchemaRegistry.add(relayRequestStatusSchema, { id: "RelayRequestStatus" });

const relaySigningInfoSchema = z.strictObject({
  domain: z.looseObject({}),
  types: z.looseObject({}),
  primaryType: z.literal("ForwardRequest"),
  relayer: z.string(),
  targets: z.looseObject({}),
  maxForwardedGas: z.string(),
});
relaySchemaRegistry.add(relaySigningInfoSchema, { id: "RelaySigningInfo" });

const relayNonceSchema = z.strictObject({ address: z.string(), nonce: z.string(), next: z.string(), pending: z.int() });
relaySchemaRegistry.add(relayNonceSchema, { id: "RelayNonce" });

export type RelayRequestStatusView = z.output<typeof relayRequestStatusSchema>;

export function relayRequestView(request: RelayRequest, service: RelayService): RelayRequestStatusView {
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

// --- routes ---------------------------------------------------------------------------------------------------

export function createRelayModule(options: RelayModuleOptions): RouteModule {
  const limits: WriteLimitsOptions = {
    label: "relay requests",
    bodyLimit: options.bodyLimit ?? WRITE_LIMIT_DEFAULTS.relayBodyLimit,
    ratePerMinute: options.writeRateLimitPerMinute ?? WRITE_LIMIT_DEFAULTS.writeRateLimitPerMinute,
    ...(options.jsonMaxDepth === undefined ? {} : { jsonMaxDepth: options.jsonMaxDepth }),
    rateLimitStoreFor: options.rateLimitStoreFor,
    limiterName: "write-relay",
  };
  const schemas = { ...componentsFromRegistry(relaySchemaRegistry), ForwardRequest: toOpenApiSchema(forwardRequestBodySchema, "input") };
  const routes = [submitRoute(options, limits), ...statusRoutes(options.service)];
  return routeModuleFromTable(RELAY_BASE_PATH, routes, schemas, { parsesOwnBody: true });
}

function submitRoute({ service, onAccepted }: RelayModuleOptions, limits: WriteLimitsOptions): RouteDefinition {
  const statusContent = { "application/json": { schema: schemaRef("RelayRequestStatus") } };
  return {
    method: "post",
    path: "/requests",
    operation: {
      tags: ["relay"],
      operationId: "submitRelayRequest",
      summary: "Submit a signed forward request for gasless execution",
      description:
        "Checks the signature, the target, the deadline, the nonce, the signer's role and suspension, and simulates the call; " +
        "stores the request durably and answers 202. Resubmitting the same signed request is harmless and answers 200 with the same id. " +
        describeWriteLimits(limits),
      requestBody: { required: true, content: { "application/json": { schema: schemaRef("ForwardRequest") } } },
      responses: {
        202: { description: "Accepted and queued", headers: { Location: { schema: { type: "string" } } }, content: statusContent },
        200: { description: "Already accepted earlier: the stored request", content: statusContent },
        400: problemResponse(400, "Malformed request (each bad field listed)"),
        403: problemResponse(403, "The signer is not an active participant with the needed role, or is suspended"),
        409: problemResponse(409, "Nonce already used, taken by another queued request, or not next"),
        413: problemResponse(413, `Body larger than ${String(limits.bodyLimit)}`),
        415: problemResponse(415, "Not JSON"),
        422: problemResponse(422, "Wrong signer, expired, untrusted target, or the call would revert (decoded reason)"),
        429: problemResponse(429, `More than ${limits.ratePerMinute} relay requests in a minute from this client`),
      },
    },
    middleware: writeLimits(limits),
    handler: async (req, res) => {
      if (!req.is("application/json") && !req.is("application/*+json")) {
        throw new ProblemError(415, "Unsupported Media Type", "send the forward request as application/json");
      }
      const body = parseBody(forwardRequestBodySchema, req);
      const { request, created } = await service.accept(body);
      if (created) onAccepted?.(request);
      const view = relayRequestView(request, service);
      res
        .status(created ? 202 : 200)
        .location(view.statusUrl)
        .json(view);
    },
  };
}

function statusRoutes(service: RelayService): RouteDefinition[] {
  return [
    {
      method: "get",
      path: "/requests/:id",
      operation: {
        tags: ["relay"],
        operationId: "getRelayRequest",
        summary: "Status of a relay request",
        parameters: parametersFromZod({ path: idParams }),
        responses: {
          200: jsonResponse("The request and its outcome", schemaRef("RelayRequestStatus")),
          400: problemResponse(400, "Malformed id"),
          404: problemResponse(404, "Unknown id"),
        },
      },
      handler: async (req, res) => {
        const { id } = parseParams(idParams, req);
        res.json(relayRequestView(await service.get(id), service));
      },
    },
    {
      method: "get",
      path: "/forwarder",
      operation: {
        tags: ["relay"],
        operationId: "getRelaySigningInfo",
        summary: "The EIP-712 domain and types to sign forward requests with",
        responses: {
          200: jsonResponse("Domain, types, relayer account and the contracts requests may target", schemaRef("RelaySigningInfo")),
        },
      },
      handler: async (_req, res) => {
        res.json(await service.signingInfo());
      },
    },
    {
      method: "get",
      path: "/nonces/:address",
      operation: {
        tags: ["relay"],
        operationId: "getRelayNonce",
        summary: "The forwarder nonce of an account and the next one to sign",
        parameters: parametersFromZod({ path: addressParams }),
        responses: {
          200: jsonResponse(
            "nonce: the forwarder's current nonce; next: the nonce to sign after the requests already queued",
            schemaRef("RelayNonce"),
          ),
          400: problemResponse(400, "Malformed address"),
        },
      },
      handler: async (req, res) => {
        const { address } = parseParams(addressParams, req);
        res.json(await service.nonces(address));
      },
    },
  ];
}
