/**
 * Unit serial lists: upload a batch's list (CSV or JSON), read what is stored under a root, and prove a serial.
 */
import express, { type RequestHandler } from "express";
import { z } from "zod";
import { isJsonMediaType, refuseDeepJson } from "../api/json-body.ts";
import { jsonResponse, parametersFromZod, problemResponse } from "../api/openapi.ts";
import { ProblemError } from "../api/problem.ts";
import type { RouteDefinition } from "../api/route-table.ts";
import { parseParams } from "../api/validate.ts";
import { WRITE_LIMIT_DEFAULTS } from "../config.ts";
import type { Hex } from "../domain/model.ts";
import type { PassportService } from "./passport-service.ts";
import { unitParams } from "./request-schemas.ts";
import type { SerialService } from "./serials.ts";

export interface SerialRoutesDeps {
  serials: SerialService;
  passports: PassportService;
  /** Largest upload, e.g. "8mb". */
  uploadBodyLimit: string;
  /** The passport's shared write rate limiter. */
  writeRateLimiter: RequestHandler;
  /** Deepest nesting of a JSON upload (config JSON_MAX_DEPTH). */
  jsonMaxDepth?: number;
}

const serialRootParams = z.object({
  serialRoot: z
    .string()
    .regex(/^0x[0-9a-fA-F]{64}$/, "must be a 0x-prefixed 32-byte hex Merkle root")
    .transform((v) => v.toLowerCase() as Hex)
    .describe("Merkle root of the serial list."),
});

const JSON_TYPES = ["application/json", "application/*+json"];

export function serialRoutes({
  serials,
  passports,
  uploadBodyLimit,
  writeRateLimiter,
  jsonMaxDepth = WRITE_LIMIT_DEFAULTS.jsonMaxDepth,
}: SerialRoutesDeps): RouteDefinition[] {
  const uploadSerialSet: RequestHandler = async (req, res) => {
    let summary;
    if (typeof req.body === "string") {
      summary = await serials.uploadSerialList(req.body, req.is(JSON_TYPES) ? "json" : "csv");
    } else if (req.is(JSON_TYPES) && req.body !== undefined) {
      // The app's JSON parser got there first: entries are reported by position instead of line.
      const body = req.body as unknown;
      const values = Array.isArray(body) ? body : (body as { serials?: unknown })?.serials;
      if (!Array.isArray(values))
        throw new ProblemError(422, "Unprocessable Content", 'Expected a JSON array of serial strings or an object {"serials": [...]}');
      summary = await serials.uploadSerialValues(values);
    } else {
      throw new ProblemError(
        415,
        "Unsupported Media Type",
        "Upload the serial list as text/csv (one serial per line, or a header row with a `serial` column) or application/json",
      );
    }
    res
      .status(summary.created ? 201 : 200)
      .location(`/api/v1/serial-sets/${summary.serialRoot}`)
      .json({ serialRoot: summary.serialRoot, count: summary.count });
  };

  return [
    {
      method: "post",
      path: "/api/v1/serial-sets",
      operation: uploadOperation(uploadBodyLimit),
      // Parsed as text, so every bad row is reported by its line number.
      middleware: [
        writeRateLimiter,
        express.text({
          type: ["text/csv", "text/plain", "application/csv", ...JSON_TYPES],
          limit: uploadBodyLimit,
          verify: refuseDeepJson(jsonMaxDepth, (req) => isJsonMediaType(req.headers["content-type"])),
        }),
      ],
      handler: uploadSerialSet,
    },
    {
      method: "get",
      path: "/api/v1/serial-sets/:serialRoot",
      operation: {
        operationId: "getSerialSet",
        tags: ["Passports"],
        summary: "A stored serial list's size",
        parameters: parametersFromZod({ path: serialRootParams }),
        responses: {
          200: jsonResponse("The stored set.", {
            type: "object",
            required: ["serialRoot", "count", "createdAt"],
            properties: { serialRoot: { type: "string" }, count: { type: "integer" }, createdAt: { type: "string", format: "date-time" } },
          }),
          400: problemResponse(400),
          404: problemResponse(404),
        },
      },
      handler: async (req, res) => {
        const { serialRoot } = parseParams(serialRootParams, req);
        const set = await serials.describeSerialSet(serialRoot);
        res.json({ serialRoot: set.serialRoot, count: set.count, createdAt: new Date(set.createdAt).toISOString() });
      },
    },
    {
      method: "get",
      path: "/api/v1/batches/:batchId/units/:serial/proof",
      operation: {
        operationId: "getUnitProof",
        tags: ["Passports"],
        summary: "Merkle proof of a unit serial",
        description: "The StandardMerkleTree proof to pass to registry.verifyUnit(batchId, serial, proof).",
        parameters: parametersFromZod({ path: unitParams }),
        responses: {
          200: jsonResponse("The proof.", {
            type: "object",
            required: ["batchId", "serial", "serialRoot", "proof"],
            properties: {
              batchId: { type: "string" },
              serial: { type: "string" },
              serialRoot: { type: "string" },
              proof: { type: "array", items: { type: "string" } },
            },
          }),
          400: problemResponse(400),
          404: problemResponse(404),
        },
      },
      handler: async (req, res) => {
        const { batchId, serial } = parseParams(unitParams, req);
        const { batch, proof } = await passports.unitProof(batchId, serial);
        res
          .set("Cache-Control", "public, max-age=3600")
          .json({ batchId: batch.batchId, serial, serialRoot: proof.serialRoot, proof: proof.proof });
      },
    },
  ];
}

function uploadOperation(uploadBodyLimit: string) {
  const summarySchema = {
    type: "object",
    required: ["serialRoot", "count"],
    properties: {
      serialRoot: { type: "string", description: "StandardMerkleTree root: pass it to registerBatch." },
      count: { type: "integer" },
    },
  };
  return {
    operationId: "uploadSerialSet",
    tags: ["Passports"],
    summary: "Upload a batch's unit serial list",
    description:
      "Parses the list, builds the OpenZeppelin StandardMerkleTree over `[string serial]` leaves and stores the set. " +
      "Register the returned `serialRoot` on-chain with registerBatch. Every malformed or duplicate row is reported by " +
      `line (first 100, plus the count) and nothing is stored unless all rows are valid. Body limit: ${uploadBodyLimit}. ` +
      "Writes (uploads and claims) are rate limited per client.",
    requestBody: {
      required: true,
      content: {
        "text/csv": { schema: { type: "string", description: 'One serial per line, or a header row naming a "serial" column.' } },
        "application/json": {
          schema: {
            oneOf: [
              { type: "array", items: { type: "string" } },
              { type: "object", required: ["serials"], properties: { serials: { type: "array", items: { type: "string" } } } },
            ],
          },
        },
      },
    },
    responses: {
      201: jsonResponse("Stored.", summarySchema),
      200: jsonResponse("The same set was stored before.", summarySchema),
      413: problemResponse(413),
      415: problemResponse(415),
      422: problemResponse(422),
      429: problemResponse(429),
    },
  };
}
