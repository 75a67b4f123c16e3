/**
 * HTTP for product data (DPP) versions (product-data-service.ts):
 *   POST /api/v1/products/{gtin}/data                 -> upload a version of the product's data (its prefix holder)
 *   POST /api/v1/batches/{batchId}/data               -> upload a version of the batch's data (its manufacturer)
 *   GET  /api/v1/{products/{gtin}|batches/{batchId}}/data                -> the latest anchored version, for the viewer
 *   GET  /api/v1/{products/{gtin}|batches/{batchId}}/data/versions       -> anchored versions (and uploads, for the publisher)
 *   GET  /api/v1/{products/{gtin}|batches/{batchId}}/data/versions/{n}   -> anchored version n, for the viewer
 *   GET  /api/v1/batches/{batchId}/footprint           -> carbon footprint: product × units + transport legs
 * Reads are filtered by the viewer's role; answers are private to the viewer (Cache-Control: private, no-store).
 */
import type { Request } from "express";
import { z } from "zod";
import { viewerOfRequest } from "../auth/auth-routes.ts";
import type { AuthService } from "../auth/auth-service.ts";
import type { RateLimitStoreFactory } from "../api/cluster-rate-limit-store.ts";
import { jsonResponse, parametersFromZod, problemResponse, toOpenApiSchema } from "../api/openapi.ts";
import { ProblemError } from "../api/problem.ts";
import type { RouteModule } from "../api/route-module.ts";
import { routeModuleFromTable, type RouteDefinition } from "../api/route-table.ts";
import { bytes32Param, decimalIntegerParam, gtinParam } from "../api/schemas.ts";
import { parseBody, parseParams, parseRequestPart } from "../api/validate.ts";
import { describeWriteLimits, writeLimits, type WriteLimitsOptions } from "../api/write-limits.ts";
import { WRITE_LIMIT_DEFAULTS } from "../config.ts";
import { productDataSchema } from "./product-data-schema.ts";
import { MAX_PENDING_UPLOADS, type ProductDataService, type ProductDataSubject } from "./product-data-service.ts";

export interface ProductDataModuleOptions {
  service: ProductDataService;
  auth: AuthService;
  writeRateLimitPerMinute?: number;
  jsonMaxDepth?: number;
  rateLimitStoreFor?: RateLimitStoreFactory;
}

const productParams = z.strictObject({ gtin: gtinParam.describe("The product's GTIN (8, 12, 13 or 14 digits).") });
const batchParams = z.strictObject({ batchId: bytes32Param.describe("The batch id.") });
const versionShape = { version: decimalIntegerParam({ min: 1, max: 4_294_967_295 }).describe("The anchored version number.") };
const anyObject = { type: "object" };

interface SubjectRoutes {
  path: string;
  tag: string;
  noun: string;
  params: z.ZodType;
  subjectOf(req: Request): ProductDataSubject;
}

const SUBJECTS: SubjectRoutes[] = [
  {
    path: "/products/:gtin/data",
    tag: "products",
    noun: "Product",
    params: productParams,
    subjectOf: (req) => ({ kind: "product", gtin: parseRequestPart(productParams, { gtin: req.params.gtin }, "params").gtin }),
  },
  {
    path: "/batches/:batchId/data",
    tag: "Batches",
    noun: "Batch",
    params: batchParams,
    subjectOf: (req) => ({
      kind: "batch",
      batchId: parseRequestPart(batchParams, { batchId: req.params.batchId }, "params").batchId,
    }),
  },
];

export function createProductDataModule(options: ProductDataModuleOptions): RouteModule {
  const { service, auth } = options;
  const limits: WriteLimitsOptions = {
    label: "product data",
    bodyLimit: "64kb",
    ratePerMinute: options.writeRateLimitPerMinute ?? WRITE_LIMIT_DEFAULTS.writeRateLimitPerMinute,
    ...(options.jsonMaxDepth === undefined ? {} : { jsonMaxDepth: options.jsonMaxDepth }),
    rateLimitStoreFor: options.rateLimitStoreFor,
    limiterName: "write-product-data",
  };
  const routes: RouteDefinition[] = SUBJECTS.flatMap((subject): RouteDefinition[] => {
    const versionParams = (subject.params as z.ZodObject).extend(versionShape);
    const readResponses = { 400: problemResponse(400), 401: problemResponse(401, "An invalid or expired session") };
    return [
      {
        method: "post",
        path: subject.path,
        operation: {
          tags: [subject.tag],
          operationId: `upload${subject.noun}Data`,
          summary: `The signed-in manufacturer uploads a version of the ${subject.noun.toLowerCase()}'s data; answers the hash to anchor`,
          description:
            "The backend canonicalises the JSON (RFC 8785) and answers keccak256 of it, with the ProductDataRegistry call that anchors " +
            "it. The version becomes visible once the anchoring event is mirrored. " +
            describeWriteLimits(limits),
          parameters: parametersFromZod({ path: subject.params }),
          requestBody: { required: true, content: { "application/json": { schema: { $ref: "#/components/schemas/ProductData" } } } },
          responses: {
            201: jsonResponse("The stored version and the call that anchors it", anyObject),
            400: problemResponse(400, "Not valid product data"),
            401: problemResponse(401, "Not signed in"),
            403: problemResponse(403, "Not the publisher"),
            404: problemResponse(404, "No such batch"),
            413: problemResponse(413, "Body larger than 64kb"),
            415: problemResponse(415, "Not JSON"),
            422: problemResponse(422, `Already ${MAX_PENDING_UPLOADS} uploads not anchored`),
            429: problemResponse(429, `More than ${limits.ratePerMinute} writes in a minute from this client`),
          },
        },
        middleware: writeLimits(limits),
        handler: async (req, res) => {
          if (!req.is("application/json"))
            throw new ProblemError(415, "Unsupported Media Type", "send the product data as application/json");
          const target = subject.subjectOf(req);
          const viewer = await viewerOfRequest(auth, req);
          const data = parseBody(productDataSchema, req);
          res
            .status(201)
            .set("Cache-Control", "no-store")
            .json(await service.upload(viewer, target, data));
        },
      },
      {
        method: "get",
        path: subject.path,
        operation: {
          tags: [subject.tag],
          operationId: `get${subject.noun}Data`,
          summary: `The latest anchored version of the ${subject.noun.toLowerCase()}'s data, with the fields the viewer may read`,
          parameters: parametersFromZod({ path: subject.params }),
          responses: { 200: jsonResponse("The version", anyObject), ...readResponses, 404: problemResponse(404, "Nothing anchored") },
        },
        handler: async (req, res) => {
          const target = subject.subjectOf(req);
          res.set("Cache-Control", "private, no-store").json(await service.latest(await viewerOfRequest(auth, req), target));
        },
      },
      {
        method: "get",
        path: `${subject.path}/versions`,
        operation: {
          tags: [subject.tag],
          operationId: `list${subject.noun}DataVersions`,
          summary: `Every anchored version of the ${subject.noun.toLowerCase()}'s data (and, for its publisher, every upload)`,
          parameters: parametersFromZod({ path: subject.params }),
          responses: { 200: jsonResponse("The versions", anyObject), ...readResponses },
        },
        handler: async (req, res) => {
          const target = subject.subjectOf(req);
          res.set("Cache-Control", "private, no-store").json(await service.versions(await viewerOfRequest(auth, req), target));
        },
      },
      {
        method: "get",
        path: `${subject.path}/versions/:version`,
        operation: {
          tags: [subject.tag],
          operationId: `get${subject.noun}DataVersion`,
          summary: `One anchored version of the ${subject.noun.toLowerCase()}'s data, with the fields the viewer may read`,
          parameters: parametersFromZod({ path: versionParams }),
          responses: { 200: jsonResponse("The version", anyObject), ...readResponses, 404: problemResponse(404, "No such version") },
        },
        handler: async (req, res) => {
          const { version } = parseParams(versionParams, req) as { version: number };
          const target = subject.subjectOf(req);
          res.set("Cache-Control", "private, no-store").json(await service.version(await viewerOfRequest(auth, req), target, version));
        },
      },
    ];
  });
  routes.push({
    method: "get",
    path: "/batches/:batchId/footprint",
    operation: {
      tags: ["Batches"],
      operationId: "getBatchFootprint",
      summary: "The batch's carbon footprint: the declared product footprint × units plus each transport leg's emissions",
      description:
        "Transport legs run between the places of the batch's lineage's accepted handoffs (from `places` in the product or batch " +
        "data), by the mode declared in `transportModes` (road when undeclared), with default GLEC-style emission factors. " +
        "Only public product data is used, so every viewer gets the same answer.",
      parameters: parametersFromZod({ path: batchParams }),
      responses: { 200: jsonResponse("The footprint", anyObject), 400: problemResponse(400), 404: problemResponse(404, "No such batch") },
    },
    handler: async (req, res) => {
      const { batchId } = parseParams(batchParams, req);
      res.json(await service.footprint(batchId));
    },
  });
  return routeModuleFromTable("/api/v1", routes, { ProductData: toOpenApiSchema(productDataSchema, "input") }, { parsesOwnBody: true });
}
