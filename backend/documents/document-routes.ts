/**
 * HTTP for documents of batches and of product models (document-service.ts):
 *   POST /api/v1/{batches/{batchId}|products/{gtin}}/documents                         -> upload (raw bytes; metadata in the query)
 *   GET  /api/v1/{batches/{batchId}|products/{gtin}}/documents                         -> the documents the viewer may read
 *   GET  /api/v1/{batches/{batchId}|products/{gtin}}/documents/{contentHash}           -> one document's metadata and anchors
 *   GET  /api/v1/{batches/{batchId}|products/{gtin}}/documents/{contentHash}/content   -> its bytes
 *   POST /api/v1/documents/verify                      -> where the bytes (or hash) are anchored on chain, if anywhere
 *
 * Uploads are the bytes themselves as the body, with their Content-Type, so no multipart parser is needed; the kind,
 * audience, title and an optional file name ride in the query. The bytes decide the type (media-type.ts); a
 * Content-Type or file name that says otherwise is a 415.
 *
 * Downloads are attachments with the recognised type, `nosniff` and a CSP that sandboxes whatever a browser makes of
 * them, so an uploaded file can never run script on this origin. Answers about non-public documents are private to
 * the viewer (Cache-Control: private, no-store) and carry no ETag; a document the viewer may not read is the same 404
 * as one that does not exist.
 */
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Request, Response } from "express";
import { z } from "zod";
import { viewerOfRequest } from "../auth/auth-routes.ts";
import type { AuthService } from "../auth/auth-service.ts";
import type { RateLimitStoreFactory } from "../api/cluster-rate-limit-store.ts";
import { jsonResponse, parametersFromZod, problemResponse } from "../api/openapi.ts";
import { ProblemError } from "../api/problem.ts";
import type { RouteModule } from "../api/route-module.ts";
import { routeModuleFromTable, type RouteDefinition } from "../api/route-table.ts";
import { bytes32Param, gtinParam } from "../api/schemas.ts";
import { parseParams, parseQuery } from "../api/validate.ts";
import { describeWriteLimits, writeLimits, type WriteLimitsOptions } from "../api/write-limits.ts";
import { LIMIT_DEFAULTS } from "../config.ts";
import { BATCH_DOCUMENT_AUDIENCES, BATCH_DOCUMENT_KINDS, type Hex } from "../domain/model.ts";
import {
  MAX_DOCUMENT_TITLE_LENGTH,
  MAX_UNANCHORED_DOCUMENTS_PER_UPLOADER,
  type BatchDocumentService,
  type BatchDocumentView,
  type ProductDocumentView,
} from "./document-service.ts";
import { DOCUMENT_EXTENSIONS, DOCUMENT_MEDIA_TYPES, recogniseMediaType } from "./media-type.ts";

export interface DocumentModuleOptions {
  service: BatchDocumentService;
  auth: AuthService;
  /** Largest document, in the `bytes` notation ("10mb"); default LIMIT_DEFAULTS.documentBodyLimit. */
  documentBodyLimit?: string;
  writeRateLimitPerMinute?: number;
  rateLimitStoreFor?: RateLimitStoreFactory;
}

/** What a browser may do with a downloaded document: nothing active, whatever the bytes turn out to be. */
export const DOCUMENT_CONTENT_SECURITY_POLICY = "default-src 'none'; sandbox";

const batchParams = z.strictObject({ batchId: bytes32Param.describe("The batch id.") });
const contentHashShape = { contentHash: bytes32Param.describe("keccak256 of the document's bytes (what is anchored on chain).") };
const documentParams = batchParams.extend(contentHashShape);
const productParams = z.strictObject({ gtin: gtinParam.describe("The product model's GTIN (8, 12, 13 or 14 digits).") });
const productDocumentParams = productParams.extend(contentHashShape);
const hashParam = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "must be 0x and 64 hex digits");

const uploadQuery = z.strictObject({
  kind: z.enum(BATCH_DOCUMENT_KINDS).describe("What the document is."),
  audience: z
    .enum(BATCH_DOCUMENT_AUDIENCES)
    .describe("Who may read it: everyone, the batch's custody partners (and regulators), or authorities only."),
  title: z.string().min(1).max(MAX_DOCUMENT_TITLE_LENGTH).describe("A short title shown in listings and on the passport."),
  fileName: z
    .string()
    .max(255)
    .optional()
    .describe(`The file's name; when given, its extension must match the bytes (${Object.values(DOCUMENT_EXTENSIONS).flat().join(", ")}).`),
  expectedHash: hashParam
    .optional()
    .describe("keccak256 or sha256 of the bytes as the client computed them: a body that hashes otherwise is refused (400)."),
});
const verifyQuery = z.strictObject({
  contentHash: hashParam.optional().describe("keccak256 of the document, when not sending its bytes (or to check the bytes against)."),
  batchId: bytes32Param.optional().describe("Look for anchors of this batch only."),
  gtin: gtinParam.optional().describe("Look for anchors of this product model (GTIN) only."),
});

const documentSchema = {
  type: "object",
  required: [
    "batchId",
    "contentHash",
    "sha256",
    "kind",
    "audience",
    "title",
    "contentType",
    "size",
    "uploadedBy",
    "uploadedAt",
    "anchored",
    "anchors",
  ],
  properties: {
    batchId: { type: "string" },
    contentHash: { type: "string", description: "keccak256 of the bytes, as anchored." },
    sha256: { type: "string" },
    kind: { enum: [...BATCH_DOCUMENT_KINDS] },
    audience: { enum: [...BATCH_DOCUMENT_AUDIENCES] },
    title: { type: "string" },
    contentType: { enum: [...DOCUMENT_MEDIA_TYPES] },
    size: { type: "integer" },
    uploadedBy: { type: "string" },
    uploadedAt: { type: "integer", description: "Unix ms." },
    anchored: { type: "boolean", description: "Whether the uploader anchored it (only the uploader sees documents that are not)." },
    anchors: { type: "array", items: { type: "object" } },
  },
};

const productDocumentSchema = {
  ...documentSchema,
  required: documentSchema.required.map((field) => (field === "batchId" ? "gtin" : field)),
  properties: (({ batchId: _batchId, ...rest }) => ({ gtin: { type: "string", description: "GTIN-14." }, ...rest }))(
    documentSchema.properties,
  ),
};

const anchorFields = {
  anchoredBy: { type: "string" },
  blockNumber: { type: "integer" },
  anchoredAt: { type: "integer", description: "Unix seconds of the block." },
  transactionHash: { type: "string" },
};
const verificationSchema = {
  type: "object",
  required: ["contentHash", "sha256", "anchored", "summary", "anchors"],
  properties: {
    contentHash: { type: "string", description: "keccak256 of the bytes." },
    sha256: { type: ["string", "null"], description: "sha256 of the bytes sent (null when only a hash was)." },
    anchored: { type: "boolean" },
    summary: { type: "string", description: 'In plain words: where it is anchored, or "not anchored: …".' },
    anchors: {
      type: "array",
      description: "In chain order.",
      items: {
        oneOf: [
          {
            type: "object",
            required: ["batchId", "inChainOfCustody", ...Object.keys(anchorFields)],
            properties: { batchId: { type: "string" }, inChainOfCustody: { type: "boolean" }, ...anchorFields },
          },
          {
            type: "object",
            required: ["gtin", "byPrefixHolder", ...Object.keys(anchorFields)],
            properties: { gtin: { type: "string" }, byPrefixHolder: { type: "boolean" }, ...anchorFields },
          },
        ],
      },
    },
  },
};

/** The bytes of a raw body (express.raw leaves no Buffer when there was no body). */
const bodyBytes = (req: Request): Buffer => (Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));

function answerPrivately(res: Response, document: Pick<BatchDocumentView | ProductDocumentView, "audience" | "anchored">): Response {
  return document.audience === "public" && document.anchored
    ? res.set("Cache-Control", "public, max-age=300")
    : res.set("Cache-Control", "private, no-store");
}

export function createDocumentModule(options: DocumentModuleOptions): RouteModule {
  const { service, auth } = options;
  const bodyLimit = options.documentBodyLimit ?? LIMIT_DEFAULTS.documentBodyLimit;
  const ratePerMinute = options.writeRateLimitPerMinute ?? LIMIT_DEFAULTS.writeRateLimitPerMinute;
  const uploadLimits: WriteLimitsOptions = {
    label: "document uploads",
    bodyLimit,
    ratePerMinute,
    parsers: [{ kind: "raw" }],
    rateLimitStoreFor: options.rateLimitStoreFor,
    limiterName: "write-documents",
  };
  const verifyLimits: WriteLimitsOptions = { ...uploadLimits, label: "document verifications", limiterName: "write-document-verify" };
  const accepted = DOCUMENT_MEDIA_TYPES.join(", ");
  const binary = { schema: { type: "string", contentMediaType: "application/octet-stream" } };

  const routes: RouteDefinition[] = [
    {
      method: "post",
      path: "/batches/:batchId/documents",
      operation: {
        tags: ["Documents"],
        operationId: "uploadBatchDocument",
        summary: "A participant of the batch's chain of custody uploads a document; answers its hashes and the call that anchors it",
        description:
          `The body is the document's bytes, with their Content-Type (${accepted}; application/octet-stream lets the bytes decide). ` +
          "The backend recognises the type from the bytes, computes sha256 and keccak256, and stores the bytes off chain. The " +
          "document is shown to its audience once its uploader anchors the keccak256 with ProductDataRegistry.anchorBatchDocument " +
          "(own transaction, or relayed with the uploader's signature). The same bytes again answer the first upload (200). " +
          describeWriteLimits(uploadLimits),
        parameters: parametersFromZod({ path: batchParams, query: uploadQuery }),
        requestBody: {
          required: true,
          content: Object.fromEntries([...DOCUMENT_MEDIA_TYPES, "application/octet-stream"].map((type) => [type, binary])),
        },
        responses: {
          200: jsonResponse("The same bytes were uploaded before: the stored document", anyUploadResult()),
          201: jsonResponse("The stored document and the call that anchors it", anyUploadResult()),
          400: problemResponse(400, "Bad metadata, an empty body, or bytes that do not hash to expectedHash"),
          401: problemResponse(401, "Not signed in"),
          403: problemResponse(403, "Not an active participant of the batch's chain of custody"),
          404: problemResponse(404, "No such batch"),
          413: problemResponse(413, `Larger than ${bodyLimit}`),
          415: problemResponse(415, `Not one of ${accepted}, or a Content-Type or file name that contradicts the bytes`),
          422: problemResponse(422, `Already ${MAX_UNANCHORED_DOCUMENTS_PER_UPLOADER} uploads of yours for this batch not anchored`),
          429: problemResponse(429, `More than ${ratePerMinute} uploads in a minute from this client`),
        },
      },
      middleware: writeLimits(uploadLimits),
      handler: async (req, res) => {
        const { batchId } = parseParams(batchParams, req);
        const query = parseQuery(uploadQuery, req);
        const viewer = await viewerOfRequest(auth, req);
        const content = bodyBytes(req);
        // Who may upload is checked before what was sent is judged, so a stranger learns nothing from the answers.
        if (!viewer.signedIn)
          throw new ProblemError(401, "Unauthorized", "sign in as a participant of the batch's chain of custody to upload its documents");
        if (content.length === 0) throw new ProblemError(400, "Bad Request", "the document is empty: send its bytes as the request body");
        const recognised = recogniseMediaType(content, req.headers["content-type"], query.fileName);
        if (recognised.kind !== "recognised")
          throw new ProblemError(415, "Unsupported Media Type", `${recognised.reason}; nothing was stored`);
        const result = await service.upload(viewer, {
          batchId,
          kind: query.kind,
          audience: query.audience,
          title: query.title,
          mediaType: recognised.mediaType,
          content,
          ...(query.expectedHash === undefined ? {} : { expectedHash: query.expectedHash as Hex }),
        });
        res
          .status(result.created ? 201 : 200)
          .set("Cache-Control", "no-store")
          .json(result);
      },
    },
    {
      method: "get",
      path: "/batches/:batchId/documents",
      operation: {
        tags: ["Documents"],
        operationId: "listBatchDocuments",
        summary: "The batch's documents the viewer may read (public ones for everyone; sign in for more)",
        parameters: parametersFromZod({ path: batchParams }),
        responses: {
          200: jsonResponse("The documents", {
            type: "object",
            properties: { batchId: { type: "string" }, documents: { type: "array", items: documentSchema } },
          }),
          400: problemResponse(400),
          401: problemResponse(401, "An invalid or expired session"),
          404: problemResponse(404, "No such batch"),
        },
      },
      handler: async (req, res) => {
        const { batchId } = parseParams(batchParams, req);
        const documents = await service.list(await viewerOfRequest(auth, req), batchId);
        res.set("Cache-Control", "private, no-store").json({ batchId, documents });
      },
    },
    {
      method: "get",
      path: "/batches/:batchId/documents/:contentHash",
      operation: {
        tags: ["Documents"],
        operationId: "getBatchDocument",
        summary: "One document's metadata and anchors, if the viewer may read it",
        parameters: parametersFromZod({ path: documentParams }),
        responses: {
          200: jsonResponse("The document", documentSchema),
          400: problemResponse(400),
          401: problemResponse(401, "An invalid or expired session"),
          404: problemResponse(404, "No such document, or not one the viewer may read"),
        },
      },
      handler: async (req, res) => {
        const { batchId, contentHash } = parseParams(documentParams, req);
        res.set("Cache-Control", "private, no-store").json(await service.get(await viewerOfRequest(auth, req), batchId, contentHash));
      },
    },
    {
      method: "get",
      path: "/batches/:batchId/documents/:contentHash/content",
      operation: {
        tags: ["Documents"],
        operationId: "downloadBatchDocument",
        summary: "The document's bytes, as an attachment, if the viewer may read it",
        parameters: parametersFromZod({ path: documentParams }),
        responses: {
          200: {
            description: "The bytes, with their recognised Content-Type",
            content: Object.fromEntries(DOCUMENT_MEDIA_TYPES.map((type) => [type, binary])),
          },
          400: problemResponse(400),
          401: problemResponse(401, "An invalid or expired session"),
          404: problemResponse(404, "No such document, or not one the viewer may read"),
        },
      },
      handler: async (req, res) => {
        const { batchId, contentHash } = parseParams(documentParams, req);
        const { document, content } = await service.open(await viewerOfRequest(auth, req), batchId, contentHash);
        await sendDocument(res, document, content);
      },
    },
    {
      method: "post",
      path: "/products/:gtin/documents",
      operation: {
        tags: ["Documents"],
        operationId: "uploadProductDocument",
        summary:
          "The holder of the GTIN's company prefix uploads a document about the product model; answers its hashes and the call that anchors it",
        description:
          `A declaration of conformity, test report, repair manual… of the product model itself. The body is the document's bytes (${accepted}), ` +
          "judged as for batch documents. It is shown to its audience (partners: participants that held a batch of the GTIN) once the " +
          "uploader anchors the keccak256 with ProductDataRegistry.anchorProductDocument, and while it holds the GTIN's prefix. " +
          describeWriteLimits(uploadLimits),
        parameters: parametersFromZod({ path: productParams, query: uploadQuery }),
        requestBody: {
          required: true,
          content: Object.fromEntries([...DOCUMENT_MEDIA_TYPES, "application/octet-stream"].map((type) => [type, binary])),
        },
        responses: {
          200: jsonResponse("The same bytes were uploaded before: the stored document", anyUploadResult()),
          201: jsonResponse("The stored document and the call that anchors it", anyUploadResult()),
          400: problemResponse(400, "A bad GTIN or metadata, an empty body, or bytes that do not hash to expectedHash"),
          401: problemResponse(401, "Not signed in"),
          403: problemResponse(403, "Not the holder of the GTIN's company prefix, or not an active manufacturer"),
          413: problemResponse(413, `Larger than ${bodyLimit}`),
          415: problemResponse(415, `Not one of ${accepted}, or a Content-Type or file name that contradicts the bytes`),
          422: problemResponse(422, `Already ${MAX_UNANCHORED_DOCUMENTS_PER_UPLOADER} uploads of yours for this GTIN not anchored`),
          429: problemResponse(429, `More than ${ratePerMinute} uploads in a minute from this client`),
        },
      },
      middleware: writeLimits(uploadLimits),
      handler: async (req, res) => {
        const { gtin } = parseParams(productParams, req);
        const query = parseQuery(uploadQuery, req);
        const viewer = await viewerOfRequest(auth, req);
        const content = bodyBytes(req);
        if (!viewer.signedIn)
          throw new ProblemError(401, "Unauthorized", `sign in as the holder of GTIN ${gtin}'s GS1 company prefix to upload its documents`);
        if (content.length === 0) throw new ProblemError(400, "Bad Request", "the document is empty: send its bytes as the request body");
        const recognised = recogniseMediaType(content, req.headers["content-type"], query.fileName);
        if (recognised.kind !== "recognised")
          throw new ProblemError(415, "Unsupported Media Type", `${recognised.reason}; nothing was stored`);
        const result = await service.uploadForProduct(viewer, {
          gtin,
          kind: query.kind,
          audience: query.audience,
          title: query.title,
          mediaType: recognised.mediaType,
          content,
          ...(query.expectedHash === undefined ? {} : { expectedHash: query.expectedHash as Hex }),
        });
        res
          .status(result.created ? 201 : 200)
          .set("Cache-Control", "no-store")
          .json(result);
      },
    },
    {
      method: "get",
      path: "/products/:gtin/documents",
      operation: {
        tags: ["Documents"],
        operationId: "listProductDocuments",
        summary: "The product model's documents the viewer may read (public ones for everyone; sign in for more)",
        parameters: parametersFromZod({ path: productParams }),
        responses: {
          200: jsonResponse("The documents", {
            type: "object",
            properties: { gtin: { type: "string" }, documents: { type: "array", items: productDocumentSchema } },
          }),
          400: problemResponse(400, "Not a GTIN"),
          401: problemResponse(401, "An invalid or expired session"),
        },
      },
      handler: async (req, res) => {
        const { gtin } = parseParams(productParams, req);
        const documents = await service.listForProduct(await viewerOfRequest(auth, req), gtin);
        res.set("Cache-Control", "private, no-store").json({ gtin, documents });
      },
    },
    {
      method: "get",
      path: "/products/:gtin/documents/:contentHash",
      operation: {
        tags: ["Documents"],
        operationId: "getProductDocument",
        summary: "One product-model document's metadata and anchors, if the viewer may read it",
        parameters: parametersFromZod({ path: productDocumentParams }),
        responses: {
          200: jsonResponse("The document", productDocumentSchema),
          400: problemResponse(400),
          401: problemResponse(401, "An invalid or expired session"),
          404: problemResponse(404, "No such document, or not one the viewer may read"),
        },
      },
      handler: async (req, res) => {
        const { gtin, contentHash } = parseParams(productDocumentParams, req);
        res
          .set("Cache-Control", "private, no-store")
          .json(await service.getForProduct(await viewerOfRequest(auth, req), gtin, contentHash));
      },
    },
    {
      method: "get",
      path: "/products/:gtin/documents/:contentHash/content",
      operation: {
        tags: ["Documents"],
        operationId: "downloadProductDocument",
        summary: "The product-model document's bytes, as an attachment, if the viewer may read it",
        parameters: parametersFromZod({ path: productDocumentParams }),
        responses: {
          200: {
            description: "The bytes, with their recognised Content-Type",
            content: Object.fromEntries(DOCUMENT_MEDIA_TYPES.map((type) => [type, binary])),
          },
          400: problemResponse(400),
          401: problemResponse(401, "An invalid or expired session"),
          404: problemResponse(404, "No such document, or not one the viewer may read"),
        },
      },
      handler: async (req, res) => {
        const { gtin, contentHash } = parseParams(productDocumentParams, req);
        const { document, content } = await service.openForProduct(await viewerOfRequest(auth, req), gtin, contentHash);
        await sendDocument(res, document, content);
      },
    },
    {
      method: "post",
      path: "/documents/verify",
      operation: {
        tags: ["Documents"],
        operationId: "verifyDocument",
        summary:
          "Checks a document against the chain: where its keccak256 is anchored (which batch or product model), by whom, when, in which transaction and block; or that it is not",
        description:
          "Send the bytes as the body (any Content-Type), or only `contentHash` in the query; with both, the bytes must hash to it. " +
          "No batch need be named, and the backend need not hold the document: the answer comes from the mirrored anchor events. " +
          "Anyone may ask: the answer holds only what the chain already says (plus whether each anchoring account belongs to the " +
          "batch's chain of custody, or holds the GTIN's prefix now), never whether this backend stores the document, nor its title, " +
          'kind or audience. `anchored` false (with `summary` saying "not anchored") when no anchor is found. ' +
          describeWriteLimits(verifyLimits),
        parameters: parametersFromZod({ query: verifyQuery }),
        requestBody: { required: false, content: { "application/octet-stream": binary } },
        responses: {
          200: jsonResponse("The anchors found (none: `anchored` false)", verificationSchema),
          400: problemResponse(400, "Neither bytes nor contentHash, or bytes that do not hash to contentHash"),
          413: problemResponse(413, `Larger than ${bodyLimit}`),
          429: problemResponse(429, `More than ${ratePerMinute} verifications in a minute from this client`),
        },
      },
      middleware: writeLimits(verifyLimits),
      handler: async (req, res) => {
        const query = parseQuery(verifyQuery, req);
        const content = bodyBytes(req);
        const result = await service.verify({
          ...(content.length > 0 ? { content } : {}),
          ...(query.contentHash === undefined ? {} : { contentHash: query.contentHash as Hex }),
          ...(query.batchId === undefined ? {} : { batchId: query.batchId }),
          ...(query.gtin === undefined ? {} : { gtin: query.gtin }),
        });
        res.set("Cache-Control", "no-store").json(result);
      },
    },
  ];
  return routeModuleFromTable("/api/v1", routes, undefined, { parsesOwnBody: true });
}

/** A document's bytes as an inert attachment: the recognised type, `nosniff`, a sandboxing CSP. */
async function sendDocument(res: Response, document: BatchDocumentView | ProductDocumentView, content: Readable): Promise<void> {
  const { contentHash } = document;
  const extension = DOCUMENT_EXTENSIONS[document.contentType as keyof typeof DOCUMENT_EXTENSIONS]?.[0] ?? "bin";
  const textual = document.contentType === "text/plain" || document.contentType === "application/json";
  answerPrivately(res, document)
    .status(200)
    .set({
      "Content-Type": textual ? `${document.contentType}; charset=utf-8` : document.contentType,
      "Content-Length": String(document.size),
      "Content-Disposition": `attachment; filename="${document.kind}-${contentHash.slice(2, 14)}.${extension}"`,
      "X-Content-Type-Options": "nosniff",
      "Content-Security-Policy": DOCUMENT_CONTENT_SECURITY_POLICY,
      "Cross-Origin-Resource-Policy": "same-origin",
    });
  if (document.audience === "public" && document.anchored) res.set("ETag", `"${contentHash}"`);
  await pipeline(content, res);
}

function anyUploadResult() {
  return { type: "object", properties: { created: { type: "boolean" }, document: { type: "object" }, anchor: { type: "object" } } };
}
