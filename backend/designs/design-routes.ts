/**
 * HTTP for design proofs (design-service.ts), from the mirror:
 *   GET  /api/v1/designs/{root}         -> every registration of a design root
 *   POST /api/v1/designs/verify         -> does this proof of files verify against the registrant's registration, and since when
 *   GET  /api/v1/gtins/{gtin}/designs   -> the registered designs the GTIN's brand links to it
 * The proof holds file hashes, owners and salts: the files themselves never leave their owner.
 */
import { z } from "zod";
import type { RateLimitStoreFactory } from "../api/cluster-rate-limit-store.ts";
import { jsonResponse, parametersFromZod, problemResponse, schemaRef, toOpenApiSchema } from "../api/openapi.ts";
import { ProblemError } from "../api/problem.ts";
import type { RouteModule } from "../api/route-module.ts";
import { routeModuleFromTable, type RouteDefinition } from "../api/route-table.ts";
import { addressParam, bytes32Param, gtinParam } from "../api/schemas.ts";
import { parseBody, parseParams } from "../api/validate.ts";
import { describeWriteLimits, writeLimits, type WriteLimitsOptions } from "../api/write-limits.ts";
import { WRITE_LIMIT_DEFAULTS } from "../config.ts";
import type { DesignService } from "./design-service.ts";

export const DESIGNS_BASE_PATH = "/api/v1";

/** Most files one verification proves, and most proof hashes: bounds the work of one request. */
export const MAX_VERIFIED_FILES = 256;
export const MAX_PROOF_HASHES = 2_048;

export interface DesignModuleOptions {
  service: DesignService;
  verifyRateLimitPerMinute?: number;
  jsonMaxDepth?: number;
  rateLimitStoreFor?: RateLimitStoreFactory;
}

const rootParams = z.strictObject({ root: bytes32Param.describe("The Merkle root of a set of design files.") });
const gtinParams = z.strictObject({ gtin: gtinParam.describe("GTIN-8, -12, -13 or -14.") });

const leafSchema = z.strictObject({
  fileHash: bytes32Param.describe("SHA-256 of the file's bytes."),
  owner: addressParam.describe("The owner the leaf names."),
  salt: bytes32Param.describe("The file's salt."),
});

const verifyBody = z
  .strictObject({
    root: bytes32Param,
    registrant: addressParam.describe("Who registered the root: a proof always names its registrant."),
    leaves: z.array(leafSchema).min(1, "must prove at least one file").max(MAX_VERIFIED_FILES),
    proof: z.array(bytes32Param).max(MAX_PROOF_HASHES).describe("OpenZeppelin multiproof hashes (a single-file proof's path)."),
    proofFlags: z
      .array(z.boolean())
      .max(MAX_PROOF_HASHES + MAX_VERIFIED_FILES)
      .optional()
      .describe("OpenZeppelin multiproof flags; omitted for a single-file proof (all false)."),
  })
  .describe("A proof of design files against a registration: leaf values, a multiproof, the root and the registrant.");

const registrationView = z.object({
  registrant: z.string(),
  registrantName: z.string().nullable(),
  root: z.string(),
  registeredAt: z.iso.datetime(),
  title: z.string(),
  licence: z.string(),
  licenceHash: z.string(),
  transactionHash: z.string(),
  blockNumber: z.int(),
});

const registrationsView = z.object({ root: z.string(), registrations: z.array(registrationView) });

const verificationView = z.object({
  verified: z.boolean(),
  reason: z.string().nullable(),
  root: z.string(),
  registrant: z.string(),
  registration: registrationView.nullable(),
  files: z.array(z.object({ fileHash: z.string(), owner: z.string(), ownedByRegistrant: z.boolean() })),
  earlierRegistrationsByOthers: z.array(registrationView),
});

const linksView = z.object({
  gtin: z.string(),
  designs: z.array(
    z.object({
      gtin: z.string(),
      registrant: z.string(),
      root: z.string(),
      linkedBy: z.string(),
      linkedAt: z.iso.datetime(),
      transactionHash: z.string(),
      registration: registrationView.nullable(),
    }),
  ),
});

export function createDesignModule(options: DesignModuleOptions): RouteModule {
  const limits: WriteLimitsOptions = {
    label: "design proof verifications",
    bodyLimit: "256kb",
    ratePerMinute: options.verifyRateLimitPerMinute ?? WRITE_LIMIT_DEFAULTS.writeRateLimitPerMinute,
    ...(options.jsonMaxDepth === undefined ? {} : { jsonMaxDepth: options.jsonMaxDepth }),
    rateLimitStoreFor: options.rateLimitStoreFor,
    limiterName: "verify-design-proof",
  };
  return routeModuleFromTable(
    DESIGNS_BASE_PATH,
    routes(options.service, limits),
    {
      DesignProofRequest: toOpenApiSchema(verifyBody, "input"),
      DesignRegistrations: toOpenApiSchema(registrationsView),
      DesignVerification: toOpenApiSchema(verificationView),
      GtinDesigns: toOpenApiSchema(linksView),
    },
    { parsesOwnBody: true },
  );
}

function routes(service: DesignService, limits: WriteLimitsOptions): RouteDefinition[] {
  return [
    {
      method: "post",
      path: "/designs/verify",
      operation: {
        tags: ["designs"],
        operationId: "verifyDesignProof",
        summary: "Whether a proof of design files verifies against a registration, and since when",
        description:
          "Send the leaves ([SHA-256 of the file, owner, salt]) with their OpenZeppelin multiproof, the root and the registrant. " +
          "`verified` is true when the leaves are in the root and the registrant registered it; a leaf is an ownership claim only " +
          `when its owner is the registrant. At most ${MAX_VERIFIED_FILES} files. ` +
          describeWriteLimits(limits),
        requestBody: {
          required: true,
          content: { "application/json": { schema: schemaRef("DesignProofRequest") } },
        },
        responses: {
          200: jsonResponse("The verdict (verified or not, and why)", schemaRef("DesignVerification")),
          400: problemResponse(400),
          413: problemResponse(413, "Body larger than 256kb"),
          415: problemResponse(415, "Not JSON"),
          429: problemResponse(429, `More than ${limits.ratePerMinute} verifications in a minute from this client`),
        },
      },
      middleware: writeLimits(limits),
      handler: async (req, res) => {
        if (!req.is("application/json")) throw new ProblemError(415, "Unsupported Media Type", "send the proof as application/json");
        const body = parseBody(verifyBody, req);
        const verdict = await service.verify({
          root: body.root,
          registrant: body.registrant,
          leaves: body.leaves,
          proof: body.proof,
          proofFlags: body.proofFlags ?? body.proof.map(() => false),
        });
        res.json(verdict);
      },
    },
    {
      method: "get",
      path: "/designs/:root",
      operation: {
        tags: ["designs"],
        operationId: "getDesignRegistrations",
        summary: "Every registration of a design root (by any registrant, in chain order)",
        parameters: parametersFromZod({ path: rootParams }),
        responses: {
          200: jsonResponse("The registrations", schemaRef("DesignRegistrations")),
          400: problemResponse(400),
          404: problemResponse(404, "No registration of this root is mirrored"),
        },
      },
      handler: async (req, res) => {
        const { root } = parseParams(rootParams, req);
        res.json(await service.registrationsOf(root));
      },
    },
    {
      method: "get",
      path: "/gtins/:gtin/designs",
      operation: {
        tags: ["designs"],
        operationId: "getGtinDesigns",
        summary: "The registered designs linked to a GTIN by the holder of its company prefix",
        parameters: parametersFromZod({ path: gtinParams }),
        responses: {
          200: jsonResponse("The linked designs (possibly none)", schemaRef("GtinDesigns")),
          400: problemResponse(400),
        },
      },
      handler: async (req, res) => {
        const { gtin } = parseParams(gtinParams, req);
        res.json(await service.linksOf(gtin));
      },
    },
  ];
}
