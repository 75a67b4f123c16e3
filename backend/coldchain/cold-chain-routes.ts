/**
 * HTTP for the cold chain:
 *   POST /api/v1/telemetry/readings          -> one signed reading or an array of them; a result per reading
 *   GET  /api/v1/batches/{batchId}/cold-chain -> conditions in force, legs, breaches
 *   GET  /api/v1/batches/{batchId}/readings   -> the batch's readings by time (cursor-paginated)
 *   GET  /api/v1/legs/{legId}                 -> a leg: its excursion so far, its breach (with the transaction), anchors
 *   GET  /api/v1/legs/{legId}/readings        -> a leg's readings by sequence (cursor-paginated)
 *   GET  /api/v1/legs/{legId}/readings/{sequence}/proof -> a reading's Merkle proof against its anchored root
 *   GET  /api/v1/devices/{address}            -> a device, its carrier and legs
 *
 * The POST is for devices without MQTT: the same wire format (reading-codec.ts), the same verification and the
 * same store as MQTT. A body that is not a reading or a list of 1-500 is a 400; a reading that fails verification
 * is a result with its reason (and is kept as rejected), not an HTTP error, so one bad reading costs nothing else.
 * Listed readings carry `anchor`: the root on chain that holds them (anchor-proofs.ts), null until anchored.
 */
import { z } from "zod";
import type { RateLimitStoreFactory } from "../api/cluster-rate-limit-store.ts";
import { jsonResponse, parametersFromZod, problemResponse } from "../api/openapi.ts";
import { ProblemError } from "../api/problem.ts";
import type { RouteModule } from "../api/route-module.ts";
import { routeModuleFromTable, type RouteDefinition } from "../api/route-table.ts";
import { addressParam, batchIdParams, bytes32Param, decimalIntegerParam, pageQuery } from "../api/schemas.ts";
import { parseParams, parseQuery } from "../api/validate.ts";
import { describeWriteLimits, writeLimits, type WriteLimitsOptions } from "../api/write-limits.ts";
import { WRITE_LIMIT_DEFAULTS } from "../config.ts";
import type { Hex } from "../domain/model.ts";
import type { ReadingProofs } from "./anchor-proofs.ts";
import type { ColdChainView } from "./cold-chain-view.ts";
import type { ReadingIngest } from "./ingest-service.ts";

export const COLD_CHAIN_BASE_PATH = "/api/v1";
/** Most readings one POST may carry. */
export const MAX_READINGS_PER_REQUEST = 500;

export interface ColdChainModuleOptions {
  view: ColdChainView;
  /** Anchors of listed readings, and their proofs. */
  proofs: ReadingProofs;
  /** Null when this process ingests nothing (no cold-chain contract): the POST then answers 503. */
  ingest: ReadingIngest | null;
  writeRateLimitPerMinute?: number;
  jsonMaxDepth?: number;
  rateLimitStoreFor?: RateLimitStoreFactory;
}

const legIdParams = z.strictObject({ legId: bytes32Param.describe("Leg id, from DeviceAttached.") });
const readingProofParams = z.strictObject({
  legId: bytes32Param.describe("Leg id, from DeviceAttached."),
  sequence: decimalIntegerParam({ min: 0, max: Number.MAX_SAFE_INTEGER }).describe("The reading's sequence number."),
});
const deviceParams = z.strictObject({ address: addressParam.describe("The device's address (its signing key).") });

const anyObject = { type: "object" };
const readingAnchor = {
  type: ["object", "null"],
  description: "The anchored root that holds the reading (the backend's anchorer built it), null until anchored.",
  properties: {
    root: { type: "string" },
    anchoredBy: { type: "string" },
    transactionHash: { type: "string" },
    blockNumber: { type: "integer" },
  },
};
const readingPage = {
  type: "object",
  properties: {
    items: { type: "array", items: { type: "object", properties: { anchor: readingAnchor } } },
    nextCursor: { type: ["string", "null"] },
  },
  required: ["items", "nextCursor"],
};
const readingProof = {
  type: "object",
  properties: {
    reading: anyObject,
    readingHash: { type: "string", description: "IColdChain.hashReading(reading): the EIP-712 struct hash, the leaf value." },
    leaf: { type: "string", description: "keccak256(bytes.concat(keccak256(abi.encode(readingHash)))), as MerkleProof hashes it." },
    anchor: anyObject,
    proof: { type: "array", items: { type: "string" }, description: "Sibling hashes, leaf to root (OpenZeppelin StandardMerkleTree)." },
  },
  required: ["reading", "readingHash", "leaf", "anchor", "proof"],
};
const wireReading = {
  type: "object",
  description: "A device-signed reading in the wire format of backend/coldchain/reading-codec.ts.",
  properties: {
    device: { type: "string" },
    batchId: { type: "string" },
    sequence: { type: "integer" },
    timestamp: { type: "integer" },
    temperature: { type: "integer" },
    humidity: { type: ["integer", "null"] },
    latitude: { type: ["integer", "null"] },
    longitude: { type: ["integer", "null"] },
    signature: { type: "string" },
  },
  required: ["device", "batchId", "sequence", "timestamp", "temperature", "signature"],
};

export function createColdChainModule(options: ColdChainModuleOptions): RouteModule {
  const limits: WriteLimitsOptions = {
    label: "telemetry posts",
    bodyLimit: "256kb",
    ratePerMinute: options.writeRateLimitPerMinute ?? WRITE_LIMIT_DEFAULTS.writeRateLimitPerMinute,
    ...(options.jsonMaxDepth === undefined ? {} : { jsonMaxDepth: options.jsonMaxDepth }),
    rateLimitStoreFor: options.rateLimitStoreFor,
    limiterName: "write-telemetry",
  };
  return routeModuleFromTable(
    COLD_CHAIN_BASE_PATH,
    routes(options, limits),
    { ColdChainWireReading: wireReading },
    { parsesOwnBody: true },
  );
}

function routes({ view, proofs, ingest }: ColdChainModuleOptions, limits: WriteLimitsOptions): RouteDefinition[] {
  return [
    {
      method: "post",
      path: "/telemetry/readings",
      operation: {
        tags: ["cold chain"],
        operationId: "postReadings",
        summary: "Device-signed readings over HTTP, for devices without MQTT",
        description:
          `One reading, or an array of 1 to ${MAX_READINGS_PER_REQUEST}. Each is verified like an MQTT one and gets a result: ` +
          "accepted with its leg, or rejected with the reason (the rejected reading is kept). " +
          describeWriteLimits(limits),
        requestBody: {
          required: true,
          content: {
            "application/json": {
              schema: {
                oneOf: [
                  { $ref: "#/components/schemas/ColdChainWireReading" },
                  {
                    type: "array",
                    minItems: 1,
                    maxItems: MAX_READINGS_PER_REQUEST,
                    items: { $ref: "#/components/schemas/ColdChainWireReading" },
                  },
                ],
              },
            },
          },
        },
        responses: {
          200: jsonResponse("A result per reading, in the order sent", {
            type: "object",
            properties: { accepted: { type: "integer" }, rejected: { type: "integer" }, results: { type: "array", items: anyObject } },
          }),
          400: problemResponse(400, "Not a reading or a list of readings"),
          413: problemResponse(413, `Body larger than ${String(limits.bodyLimit)}`),
          415: problemResponse(415, "Not JSON"),
          429: problemResponse(429, `More than ${limits.ratePerMinute} telemetry posts in a minute from this client`),
          503: problemResponse(503, "This deployment has no cold-chain contract"),
        },
      },
      middleware: writeLimits(limits),
      handler: async (req, res) => {
        if (!req.is("application/json")) throw new ProblemError(415, "Unsupported Media Type", "send readings as application/json");
        if (ingest === null) throw new ProblemError(503, "Service Unavailable", "this deployment has no cold-chain contract");
        const body: unknown = req.body;
        const readings = Array.isArray(body) ? body : [body];
        if (body === null || typeof body !== "object" || readings.length === 0 || readings.length > MAX_READINGS_PER_REQUEST) {
          throw new ProblemError(400, "Bad Request", `send one reading object or an array of 1 to ${MAX_READINGS_PER_REQUEST}`);
        }
        const results = await Promise.all(readings.map((reading) => ingest.submit(reading, "http")));
        const accepted = results.filter((result) => result.accepted).length;
        res.set("Cache-Control", "no-store").json({ accepted, rejected: results.length - accepted, results });
      },
    },
    {
      method: "get",
      path: "/batches/:batchId/cold-chain",
      operation: {
        tags: ["cold chain"],
        operationId: "getBatchColdChain",
        summary: "A batch's cold chain: the conditions in force, its legs and established breaches",
        parameters: parametersFromZod({ path: batchIdParams }),
        responses: {
          200: jsonResponse("The batch's cold chain", anyObject),
          400: problemResponse(400),
          404: problemResponse(404, "No such batch in the mirror"),
        },
      },
      handler: async (req, res) => {
        const { batchId } = parseParams(batchIdParams, req);
        res.json(await view.batch(batchId as Hex));
      },
    },
    {
      method: "get",
      path: "/batches/:batchId/readings",
      operation: {
        tags: ["cold chain"],
        operationId: "listBatchReadings",
        summary: "A batch's accepted readings, by time",
        parameters: parametersFromZod({ path: batchIdParams, query: pageQuery }),
        responses: { 200: jsonResponse("A page of readings", readingPage), 400: problemResponse(400) },
      },
      handler: async (req, res) => {
        const { batchId } = parseParams(batchIdParams, req);
        const { limit, cursor } = parseQuery(pageQuery, req);
        res.json(await proofs.withAnchors(await view.batchReadings(batchId as Hex, { limit, cursor: cursor ?? null })));
      },
    },
    {
      method: "get",
      path: "/legs/:legId",
      operation: {
        tags: ["cold chain"],
        operationId: "getLeg",
        summary: "A leg: its device, carrier and times, the excursion counted on chain, its breach and anchored roots",
        description:
          "`breach` is the BreachEstablished of the leg (null while none), `at.transactionHash` the transaction " +
          "that established it; `excursionSeconds` is the excursion the contract has counted so far.",
        parameters: parametersFromZod({ path: legIdParams }),
        responses: {
          200: jsonResponse("The leg", anyObject),
          400: problemResponse(400),
          404: problemResponse(404, "No such leg in the mirror"),
        },
      },
      handler: async (req, res) => {
        const { legId } = parseParams(legIdParams, req);
        res.json(await view.leg(legId as Hex));
      },
    },
    {
      method: "get",
      path: "/legs/:legId/readings",
      operation: {
        tags: ["cold chain"],
        operationId: "listLegReadings",
        summary: "A leg's accepted readings, by sequence",
        parameters: parametersFromZod({ path: legIdParams, query: pageQuery }),
        responses: {
          200: jsonResponse("A page of readings", readingPage),
          400: problemResponse(400),
          404: problemResponse(404, "No such leg in the mirror"),
        },
      },
      handler: async (req, res) => {
        const { legId } = parseParams(legIdParams, req);
        const { limit, cursor } = parseQuery(pageQuery, req);
        res.json(await proofs.withAnchors(await view.legReadings(legId as Hex, { limit, cursor: cursor ?? null })));
      },
    },
    {
      method: "get",
      path: "/legs/:legId/readings/:sequence/proof",
      operation: {
        tags: ["cold chain"],
        operationId: "getReadingProof",
        summary: "A reading's Merkle proof against the root anchored on chain",
        description:
          "The reading, its leaf, the anchored root with its transaction, and the proof. Check it without trusting this " +
          "server: read the ReadingsAnchored log of the transaction from any node, recompute readingHash from the " +
          "reading (EIP-712 struct hash of IColdChain.Reading), and verify the proof with OpenZeppelin's MerkleProof.",
        parameters: parametersFromZod({ path: readingProofParams }),
        responses: {
          200: jsonResponse("The proof", readingProof),
          400: problemResponse(400),
          404: problemResponse(404, "No such leg or reading, or the reading is not anchored yet"),
          409: problemResponse(409, "The stored readings no longer rebuild the anchored root"),
        },
      },
      handler: async (req, res) => {
        const { legId, sequence } = parseParams(readingProofParams, req);
        res.json(await proofs.readingProof(legId.toLowerCase() as Hex, sequence));
      },
    },
    {
      method: "get",
      path: "/devices/:address",
      operation: {
        tags: ["cold chain"],
        operationId: "getDevice",
        summary: "A cold-chain device: its carrier, whether it is retired, its current leg and all its legs",
        parameters: parametersFromZod({ path: deviceParams }),
        responses: {
          200: jsonResponse("The device", anyObject),
          400: problemResponse(400),
          404: problemResponse(404, "No such device registered"),
        },
      },
      handler: async (req, res) => {
        const { address } = parseParams(deviceParams, req);
        res.json(await view.device(address as Hex));
      },
    },
  ];
}
