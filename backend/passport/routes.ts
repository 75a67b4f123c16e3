/**
 * The passport RouteModule (mounted at the server root by createApp):
 *
 *   GET  /01/{gtin}/10/{lot}[/21/{serial}]         GS1 Digital Link: the passport, HTML or JSON-LD by Accept
 *   POST /api/v1/serial-sets                        upload a unit serial list (text/csv or application/json)
 *   GET  /api/v1/serial-sets/{serialRoot}           what is stored under a root
 *   GET  /api/v1/batches/{batchId}/qr               QR code of the batch link (?format=png|svg&width=)
 *   GET  /api/v1/batches/{batchId}/qr-sheet         printable HTML sheet of unit QR codes (?page=&perPage=)
 *   GET  /api/v1/batches/{batchId}/units/{serial}/qr     QR code of a unit link
 *   GET  /api/v1/batches/{batchId}/units/{serial}/proof  Merkle proof of a unit serial
 *   POST /api/v1/batches/{batchId}/units/{serial}/claim  claim a unit after purchase (first claim wins)
 *   POST /rpc                                        read-only JSON-RPC proxy for verifiers
 *   GET  /passport/assets/{file}                     the page's verification module, ethers' ESM build, the ABI
 *
 * Routes translate HTTP only; the services (passport-service, serials) hold the logic. Operational errors are
 * ProblemErrors: JSON clients get the app's problem+json, browsers on passport pages an HTML error page.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import express, { Router, type NextFunction, type Request, type RequestHandler, type Response } from "express";
import type { Logger } from "pino";
import { z } from "zod";
import { loadArtifact } from "../chain/artifacts.ts";
import { ENUM_VALUE_NAMES } from "../chain/vocabulary.ts";
import { jsonResponse, parametersFromZod, problemResponse } from "../api/openapi.ts";
import { notFound } from "../domain/errors.ts";
import { operationalProblem, ProblemError } from "../api/problem.ts";
import type { RouteModule } from "../api/route-module.ts";
import { parseBody, parseParams, parseQuery } from "../api/validate.ts";
import type { MirrorStore } from "../store/port.ts";
import type { Batch, Hex } from "../domain/model.ts";
import { DigitalLinkError, digitalLinkPath, isValidLotOrSerial, parseDigitalLinkPath, type DigitalLink } from "./digital-link.ts";
import { ASSET_BASE_PATH, contentSecurityPolicy, renderErrorPage, renderPassportPage, renderQrSheet } from "./html.ts";
import { passportJsonLd } from "./json-ld.ts";
import { createPassportService, type CloneThresholds, type PassportService } from "./passport-service.ts";
import { qrPng, qrSvg } from "./qr.ts";
import { createRpcProxyHandler, type ChainRpc } from "./rpc-proxy.ts";
import { createSerialService, type SerialService } from "./serials.ts";

export interface PassportModuleConfig {
  publicBaseUrl: string;
  publicRpcUrl: string;
  chainId: number;
  registryAddress: Hex;
  /** Other deployment contracts the RPC proxy may serve (escrow, forwarder). */
  otherContracts?: Hex[];
  deployBlock?: number;
  thresholds?: Partial<CloneThresholds>;
  /** Largest serial-list upload; 100,000 serials of 20 characters are about 2.5 MB as JSON. */
  serialUploadLimit?: string;
  /** Built Merkle trees kept in memory for proofs. */
  proofCacheSize?: number;
}

export interface PassportModuleDeps {
  store: MirrorStore;
  config: PassportModuleConfig;
  /** The backend's chain provider, for the /rpc proxy. */
  chain: ChainRpc;
  logger: Pick<Logger, "warn" | "error" | "info">;
  /** Directory of Hardhat artifacts (tests); defaults to the project's. */
  artifactsDir?: string;
}

export interface PassportModule extends RouteModule {
  serials: SerialService;
  passports: PassportService;
}

const here = path.dirname(fileURLToPath(import.meta.url));

// --- request schemas -------------------------------------------------------------------------------------

const batchIdSchema = z
  .string()
  .regex(/^0x[0-9a-fA-F]{64}$/, "must be a 0x-prefixed 32-byte hex batch id")
  .transform((v) => v.toLowerCase() as Hex)
  .describe("Batch id: keccak256(abi.encode(uint64 gtin, string lot)).");
const serialSchema = z
  .string()
  .refine(isValidLotOrSerial, "must be 1-20 characters of the GS1 character set 82 (percent-encode reserved characters)")
  .describe("Unit serial (GS1 AI 21), percent-encoded in the path.");
const batchParams = z.object({ batchId: batchIdSchema });
const unitParams = z.object({ batchId: batchIdSchema, serial: serialSchema });
const serialRootParams = z.object({
  serialRoot: z
    .string()
    .regex(/^0x[0-9a-fA-F]{64}$/, "must be a 0x-prefixed 32-byte hex Merkle root")
    .transform((v) => v.toLowerCase() as Hex)
    .describe("Merkle root of the serial list."),
});
const qrQuery = z.strictObject({
  format: z.enum(["png", "svg"]).default("png").describe("Image format."),
  width: z.coerce.number().int().min(64).max(2048).default(320).describe("PNG width in pixels (SVG scales freely)."),
});
const sheetQuery = z.strictObject({
  page: z.coerce.number().int().min(1).default(1).describe("1-based page of the sheet."),
  perPage: z.coerce.number().int().min(1).max(500).default(100).describe("Labels per page (1-500)."),
});
const claimBody = z.strictObject({
  owner: z
    .string()
    .trim()
    .min(3, "must be at least 3 characters")
    .max(100, "must be at most 100 characters")
    .describe("An owner handle: a wallet address, or a phrase only the owner knows (only its SHA-256 is stored)."),
});
const passportQuery = z.looseObject({ claimed: z.string().optional() });

// --- helpers ---------------------------------------------------------------------------------------------

type Negotiated = "html" | "jsonld" | "json";

/** What a passport request wants: HTML for browsers (and "*\/*"), JSON-LD or plain JSON for machines. */
function negotiate(req: Request): Negotiated | false {
  const type = req.accepts(["text/html", "application/ld+json", "application/json"]);
  if (type === "text/html") return "html";
  if (type === "application/ld+json") return "jsonld";
  if (type === "application/json") return "json";
  return false;
}

/** An explicit preference for HTML (a browser), as opposed to "*\/*" or no Accept header (API clients). */
const prefersHtml = (req: Request) => req.accepts(["application/json", "application/problem+json", "text/html"]) === "text/html";

/**
 * A coarse region for scan statistics: the country a CDN or proxy put in a header, else the region of the
 * first Accept-Language tag; never the IP address. Operators must let only their edge set these headers.
 */
export function scanRegion(req: Request): string {
  for (const header of ["cf-ipcountry", "x-country-code", "cloudfront-viewer-country", "x-vercel-ip-country", "x-appengine-country"]) {
    const value = req.get(header)?.trim().toUpperCase();
    if (value && /^[A-Z]{2}$/.test(value) && value !== "XX") return value;
  }
  const language = req.get("accept-language")?.split(",")[0]?.trim() ?? "";
  const region = /^[a-zA-Z]{2,3}[-_]([a-zA-Z]{2})\b/.exec(language)?.[1];
  return region ? region.toUpperCase() : "unknown";
}

/** Browsers' speculative loads are not a person scanning. */
function isPrefetch(req: Request): boolean {
  const purpose = `${req.get("sec-purpose") ?? ""} ${req.get("purpose") ?? ""} ${req.get("x-moz") ?? ""}`.toLowerCase();
  return purpose.includes("prefetch") || purpose.includes("prerender");
}

function linkProblem(error: DigitalLinkError): ProblemError {
  return new ProblemError(400, "Bad Request", error.message, {
    reason: "invalid-digital-link",
    ...(error.ai ? { ai: error.ai } : {}),
  });
}

interface Asset {
  body: Buffer;
  gzip: Buffer;
  etag: string;
  type: string;
}

function makeAsset(body: Buffer, type: string): Asset {
  return { body, gzip: gzipSync(body, { level: 9 }), etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`, type };
}

// --- the module --------------------------------------------------------------------------------------------

export function createPassportModule(deps: PassportModuleDeps): PassportModule {
  const { store, config, chain, logger } = deps;
  const publicBaseUrl = config.publicBaseUrl.replace(/\/+$/, "");
  const serials = createSerialService({ store, cacheSize: config.proofCacheSize ?? 8 });
  const passports = createPassportService({
    store,
    serials,
    config: {
      publicBaseUrl,
      publicRpcUrl: config.publicRpcUrl,
      chainId: config.chainId,
      registryAddress: config.registryAddress,
      deployBlock: config.deployBlock ?? 0,
      thresholds: config.thresholds ?? {},
    },
  });
  const csp = contentSecurityPolicy(config.publicRpcUrl);
  const router = Router();
  const paths: RouteModule["paths"] = {};
  const document = (openApiPath: string, method: string, operation: Record<string, unknown>) => {
    (paths[openApiPath] ??= {})[method] = operation;
  };

  /**
   * Runs `handler`; on a ProblemError, browsers get an HTML page, everyone else the app's problem+json. For
   * pages ("page") whoever would get the page as HTML gets the error as HTML; for API endpoints ("api") only
   * clients that explicitly prefer HTML do.
   */
  const htmlErrors =
    (handler: (req: Request, res: Response) => Promise<void>, mode: "page" | "api" = "page"): RequestHandler =>
    async (req, res, next) => {
      try {
        await handler(req, res);
      } catch (caught) {
        const error = caught instanceof DigitalLinkError ? linkProblem(caught) : caught;
        const wantsHtml = mode === "page" ? negotiate(req) === "html" : prefersHtml(req);
        const problem = operationalProblem(error);
        if (problem && wantsHtml && !res.headersSent) {
          sendErrorPage(res, problem);
          return;
        }
        next(error);
      }
    };

  function sendErrorPage(res: Response, problem: ProblemError) {
    const hints =
      problem.extensions.reason === "invalid-digital-link"
        ? ["Check that the whole code was scanned, or type the address again.", "Provena links look like /01/{GTIN}/10/{lot}/21/{serial}."]
        : problem.extensions.reason === "unknown-serial"
          ? ["Do not trust this product until its seller explains where it comes from."]
          : problem.status === 404
            ? ["The code may be mistyped, or the product may not be registered with Provena."]
            : [];
    const title = problem.status === 400 ? "This is not a valid product link" : problem.status === 404 ? "Product not found" : problem.title;
    res.status(problem.status).set("Cache-Control", "no-store").set("Content-Security-Policy", csp).type("html").send(renderErrorPage(problem.status, title, problem.detail ?? problem.title, hints));
  }

  async function batchOr404(batchId: Hex): Promise<Batch> {
    const batch = await store.getBatch(batchId);
    if (!batch) throw notFound(`No batch ${batchId} is registered (or it is not indexed yet)`);
    return batch;
  }

  // --- GS1 Digital Link passports ---------------------------------------------------------------------

  const passportHandler = htmlErrors(async (req, res) => {
    const link: DigitalLink = parseDigitalLinkPath(req.path);
    const query = parseQuery(passportQuery, req);
    const wants = negotiate(req);
    res.vary("Accept");
    if (!wants) throw new ProblemError(406, "Not Acceptable", "This resource is available as text/html, application/ld+json or application/json");
    const countAsScan = wants === "html" && req.method === "GET" && !isPrefetch(req) && query.claimed === undefined;
    const view = await passports.resolve(link, { region: scanRegion(req), countAsScan });
    const jsonLd = passportJsonLd(view, publicBaseUrl);
    // Scans change what the page says (clone warnings, claims): never serve it from a cache.
    res.set("Cache-Control", "no-store");
    if (wants !== "html") {
      res.type(wants === "jsonld" ? "application/ld+json" : "application/json").send(JSON.stringify(jsonLd));
      return;
    }
    const claimAction =
      view.unit && !view.unit.claim && view.unit.proof ? `/api/v1/batches/${view.batch.batchId}/units/${encodeURIComponent(view.unit.serial)}/claim` : null;
    res
      .set("Content-Security-Policy", csp)
      .set("Referrer-Policy", "no-referrer")
      .type("html")
      .send(
        renderPassportPage(view, {
          jsonLd,
          claimAction,
          claimNotice: query.claimed !== undefined && view.unit?.claim ? "Thank you: this item is now registered as claimed." : null,
          qrSheetPath: `/api/v1/batches/${view.batch.batchId}/qr-sheet`,
        }),
      );
  });
  router.get("/01/:gtin/10/:lot", passportHandler);
  router.get("/01/:gtin/10/:lot/21/:serial", passportHandler);
  // Anything else under /01 is a malformed Digital Link: explain what is wrong instead of a bare 404.
  router.use(
    "/01",
    htmlErrors(async (req, res) => {
      if (req.method !== "GET" && req.method !== "HEAD") throw new ProblemError(405, "Method Not Allowed", `${req.method} is not supported on passport links; use GET`, { allow: "GET, HEAD" });
      const link = parseDigitalLinkPath(`/01${req.path === "/" ? "" : req.path}`);
      // A valid link the routes did not match (extra trailing slashes): send the scanner to its canonical form.
      const query = req.originalUrl.indexOf("?");
      res.redirect(301, `${digitalLinkPath(link.gtin, link.lot, link.serial)}${query < 0 ? "" : req.originalUrl.slice(query)}`);
    }),
  );
  const passportOperation = (withSerial: boolean) => ({
    operationId: withSerial ? "getUnitPassport" : "getBatchPassport",
    tags: ["Passports"],
    summary: withSerial ? "Unit passport (GS1 Digital Link)" : "Batch passport (GS1 Digital Link)",
    description:
      "Resolves a GS1 Digital Link by content negotiation: an HTML page for browsers (recorded as a scan), JSON-LD " +
      "(schema.org Product with the event history) for `Accept: application/ld+json` or `application/json`. GTIN-8/12/13 " +
      "are accepted and normalised to 14 digits; lot and serial are percent-encoded GS1 character set 82.",
    parameters: [
      { name: "gtin", in: "path", required: true, description: "GTIN-8, -12, -13 or -14 with a valid check digit.", schema: { type: "string", pattern: "^\\d{8}$|^\\d{12,14}$" } },
      { name: "lot", in: "path", required: true, description: "Batch/lot (AI 10), 1-20 characters of set 82.", schema: { type: "string" } },
      ...(withSerial ? [{ name: "serial", in: "path", required: true, description: "Serial (AI 21), 1-20 characters of set 82.", schema: { type: "string" } }] : []),
    ],
    responses: {
      200: {
        description: "The passport.",
        content: {
          "text/html": { schema: { type: "string" } },
          "application/ld+json": { schema: { type: "object" } },
          "application/json": { schema: { type: "object" } },
        },
      },
      400: problemResponse(400),
      404: problemResponse(404),
    },
  });
  document("/01/{gtin}/10/{lot}", "get", passportOperation(false));
  document("/01/{gtin}/10/{lot}/21/{serial}", "get", passportOperation(true));

  // --- serial lists ----------------------------------------------------------------------------------

  const uploadLimit = config.serialUploadLimit ?? "8mb";
  router.post(
    "/api/v1/serial-sets",
    express.text({ type: ["text/csv", "text/plain", "application/csv", "application/json", "application/*+json"], limit: uploadLimit }),
    async (req, res) => {
      let summary;
      if (typeof req.body === "string") {
        const format = req.is(["application/json", "application/*+json"]) ? "json" : "csv";
        summary = await serials.uploadSerialList(req.body, format);
      } else if (req.is(["application/json", "application/*+json"]) && req.body !== undefined) {
        // The app's JSON parser got there first: entries are reported by position instead of line.
        const body = req.body as unknown;
        const values = Array.isArray(body) ? body : (body as { serials?: unknown })?.serials;
        if (!Array.isArray(values)) throw new ProblemError(422, "Unprocessable Content", 'Expected a JSON array of serial strings or an object {"serials": [...]}');
        summary = await serials.uploadSerialValues(values);
      } else {
        throw new ProblemError(415, "Unsupported Media Type", "Upload the serial list as text/csv (one serial per line, or a header row with a `serial` column) or application/json");
      }
      res.status(summary.created ? 201 : 200).location(`/api/v1/serial-sets/${summary.serialRoot}`).json({ serialRoot: summary.serialRoot, count: summary.count });
    },
  );
  document("/api/v1/serial-sets", "post", {
    operationId: "uploadSerialSet",
    tags: ["Passports"],
    summary: "Upload a batch's unit serial list",
    description:
      "Parses the list, builds the OpenZeppelin StandardMerkleTree over `[string serial]` leaves and stores the set. " +
      "Register the returned `serialRoot` on-chain with registerBatch. Every malformed or duplicate row is reported by " +
      `line (first 100, plus the count) and nothing is stored unless all rows are valid. Body limit: ${uploadLimit}.`,
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
      201: jsonResponse("Stored.", serialSetSummarySchema()),
      200: jsonResponse("The same set was stored before.", serialSetSummarySchema()),
      413: problemResponse(413),
      415: problemResponse(415),
      422: problemResponse(422),
    },
  });

  router.get("/api/v1/serial-sets/:serialRoot", async (req, res) => {
    const { serialRoot } = parseParams(serialRootParams, req);
    const set = await store.getSerialSet(serialRoot);
    if (!set) throw notFound(`No serial list with root ${serialRoot} is stored`);
    res.json({ serialRoot: set.serialRoot, count: set.serials.length, createdAt: new Date(set.createdAt).toISOString() });
  });
  document("/api/v1/serial-sets/{serialRoot}", "get", {
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
  });

  // --- QR codes ------------------------------------------------------------------------------------------

  async function sendQr(res: Response, uri: string, query: z.output<typeof qrQuery>) {
    res.set("Cache-Control", "public, max-age=86400").set("Content-Disposition", "inline");
    if (query.format === "svg") res.type("image/svg+xml").send(await qrSvg(uri));
    else res.type("png").send(await qrPng(uri, { width: query.width }));
  }
  const qrResponses = {
    200: {
      description: "The QR code of the Digital Link.",
      content: { "image/png": { schema: { type: "string", format: "binary" } }, "image/svg+xml": { schema: { type: "string" } } },
    },
    400: problemResponse(400),
    404: problemResponse(404),
  };

  router.get("/api/v1/batches/:batchId/qr", async (req, res) => {
    const { batchId } = parseParams(batchParams, req);
    const query = parseQuery(qrQuery, req);
    const batch = await batchOr404(batchId);
    await sendQr(res, passports.linkFor(batch), query);
  });
  document("/api/v1/batches/{batchId}/qr", "get", {
    operationId: "getBatchQrCode",
    tags: ["Passports"],
    summary: "QR code of a batch's Digital Link",
    parameters: parametersFromZod({ path: batchParams, query: qrQuery }),
    responses: qrResponses,
  });

  router.get("/api/v1/batches/:batchId/units/:serial/qr", async (req, res) => {
    const { batchId, serial } = parseParams(unitParams, req);
    const query = parseQuery(qrQuery, req);
    const batch = await batchOr404(batchId);
    if ((await serials.hasSerial(batch.serialRoot, serial)) === false) throw notFound(`Serial "${serial}" is not one of the units of batch ${batchId}`);
    await sendQr(res, passports.linkFor(batch, serial), query);
  });
  document("/api/v1/batches/{batchId}/units/{serial}/qr", "get", {
    operationId: "getUnitQrCode",
    tags: ["Passports"],
    summary: "QR code of a unit's Digital Link",
    description: "404 when the batch's serial list is stored and does not contain the serial.",
    parameters: parametersFromZod({ path: unitParams, query: qrQuery }),
    responses: qrResponses,
  });

  router.get(
    "/api/v1/batches/:batchId/qr-sheet",
    htmlErrors(async (req, res) => {
      const { batchId } = parseParams(batchParams, req);
      const { page, perPage } = parseQuery(sheetQuery, req);
      const batch = await batchOr404(batchId);
      const list = await serials.getSerials(batch.serialRoot);
      if (!list) throw notFound(`The serial list of batch ${batchId} is not stored; upload it to print unit labels`);
      const pages = Math.max(1, Math.ceil(list.length / perPage));
      if (page > pages) throw notFound(`Page ${page} does not exist; the sheet has ${pages} page${pages === 1 ? "" : "s"} of ${perPage} labels`);
      const slice = list.slice((page - 1) * perPage, page * perPage);
      const labels = await Promise.all(
        slice.map(async (serial) => {
          const uri = passports.linkFor(batch, serial);
          return { serial, uri, svg: await qrSvg(uri) };
        }),
      );
      res
        .set("Cache-Control", "no-cache")
        .set("Content-Security-Policy", csp)
        .type("html")
        .send(renderQrSheet({ batch, labels, page, pages, perPage, total: list.length, basePath: `/api/v1/batches/${batch.batchId}/qr-sheet` }));
    }),
  );
  document("/api/v1/batches/{batchId}/qr-sheet", "get", {
    operationId: "getBatchQrSheet",
    tags: ["Passports"],
    summary: "Printable sheet of unit QR labels",
    description: "An HTML page with one labelled SVG QR code per unit, paginated for large batches.",
    parameters: parametersFromZod({ path: batchParams, query: sheetQuery }),
    responses: { 200: { description: "The sheet.", content: { "text/html": { schema: { type: "string" } } } }, 400: problemResponse(400), 404: problemResponse(404) },
  });

  // --- proofs and claims -----------------------------------------------------------------------------

  router.get("/api/v1/batches/:batchId/units/:serial/proof", async (req, res) => {
    const { batchId, serial } = parseParams(unitParams, req);
    const batch = await batchOr404(batchId);
    const proof = await serials.proveSerial(batch.serialRoot, serial);
    if (!proof) {
      const member = await serials.hasSerial(batch.serialRoot, serial);
      throw notFound(member === null ? `The serial list of batch ${batchId} is not stored` : `Serial "${serial}" is not one of the units of batch ${batchId}`);
    }
    res.set("Cache-Control", "public, max-age=3600").json({ batchId: batch.batchId, serial, serialRoot: proof.serialRoot, proof: proof.proof });
  });
  document("/api/v1/batches/{batchId}/units/{serial}/proof", "get", {
    operationId: "getUnitProof",
    tags: ["Passports"],
    summary: "Merkle proof of a unit serial",
    description: "The StandardMerkleTree proof to pass to registry.verifyUnit(batchId, serial, proof).",
    parameters: parametersFromZod({ path: unitParams }),
    responses: {
      200: jsonResponse("The proof.", {
        type: "object",
        required: ["batchId", "serial", "serialRoot", "proof"],
        properties: { batchId: { type: "string" }, serial: { type: "string" }, serialRoot: { type: "string" }, proof: { type: "array", items: { type: "string" } } },
      }),
      400: problemResponse(400),
      404: problemResponse(404),
    },
  });

  router.post(
    "/api/v1/batches/:batchId/units/:serial/claim",
    express.json({ limit: "4kb" }),
    express.urlencoded({ extended: false, limit: "4kb" }),
    htmlErrors(async (req, res) => {
      const { batchId, serial } = parseParams(unitParams, req);
      const { owner } = parseBody(claimBody, req);
      const { claim, created } = await passports.claimUnit(batchId, serial, owner);
      if (req.is("application/x-www-form-urlencoded")) {
        // A form post from the passport page: back to the page, which confirms the claim (post/redirect/get).
        const batch = await batchOr404(batchId);
        res.redirect(303, `${digitalLinkPath(batch.gtin, batch.lot, serial)}?claimed=1`);
        return;
      }
      res.status(created ? 201 : 200).json({ batchId: claim.batchId, serial: claim.serial, owner: claim.owner, claimedAt: new Date(claim.claimedAt).toISOString(), created });
    }, "api"),
  );
  document("/api/v1/batches/{batchId}/units/{serial}/claim", "post", {
    operationId: "claimUnit",
    tags: ["Passports"],
    summary: "Claim a unit after purchase",
    description:
      "The first claim wins; claiming again with the same handle is harmless (200), another handle gets 409. " +
      "A handle that is not an Ethereum address is stored only as its SHA-256. Browsers posting the page's form are redirected back (303).",
    parameters: parametersFromZod({ path: unitParams }),
    requestBody: {
      required: true,
      content: {
        "application/json": { schema: { type: "object", required: ["owner"], properties: { owner: { type: "string", minLength: 3, maxLength: 100 } } } },
        "application/x-www-form-urlencoded": { schema: { type: "object", required: ["owner"], properties: { owner: { type: "string" } } } },
      },
    },
    responses: {
      201: jsonResponse("Claimed.", claimSchema()),
      200: jsonResponse("Already claimed with this handle.", claimSchema()),
      303: { description: "Form submission: redirect to the passport." },
      400: problemResponse(400),
      404: problemResponse(404),
      409: problemResponse(409),
    },
  });

  // --- read-only JSON-RPC proxy ---------------------------------------------------------------------------

  router.post(
    "/rpc",
    express.json({ limit: "64kb" }),
    createRpcProxyHandler({ chain, allowedContracts: [config.registryAddress, ...(config.otherContracts ?? [])], logger }),
  );
  document("/rpc", "post", {
    operationId: "readOnlyJsonRpc",
    tags: ["Passports"],
    summary: "Read-only JSON-RPC proxy",
    description:
      "Forwards eth_chainId, net_version, eth_blockNumber, eth_call, eth_getLogs, eth_getBlockByNumber, eth_getBlockByHash, " +
      "eth_getTransactionByHash, eth_getTransactionReceipt and eth_getCode to the backend's node (single or batched, up to 50). " +
      "eth_call and eth_getLogs must address the deployment's contracts. Every other method gets JSON-RPC error -32601.",
    requestBody: { required: true, content: { "application/json": { schema: { oneOf: [{ type: "object" }, { type: "array", items: { type: "object" } }] } } } },
    responses: { 200: jsonResponse("JSON-RPC response (or array of responses); errors are JSON-RPC error objects.", { oneOf: [{ type: "object" }, { type: "array" }] }) },
  });

  // --- static assets -----------------------------------------------------------------------------------------

  const require = createRequire(import.meta.url);
  const ethersDist = path.join(path.dirname(require.resolve("ethers")), "..", "dist", "ethers.min.js");
  const assetSources: Record<string, () => Asset> = {
    "passport.js": () => makeAsset(readFileSync(path.join(here, "assets", "passport.js")), "text/javascript; charset=utf-8"),
    "verify-core.js": () => makeAsset(readFileSync(path.join(here, "assets", "verify-core.js")), "text/javascript; charset=utf-8"),
    "ethers.min.js": () => makeAsset(readFileSync(ethersDist), "text/javascript; charset=utf-8"),
    "registry-abi.json": () => {
      // Only what verification reads: the events, and the views it calls.
      const abi = loadArtifact("ProvenanceRegistry", undefined, deps.artifactsDir ? { artifactsDir: deps.artifactsDir } : {}).abi.filter(
        (f) => f.type === "event" || (f.type === "function" && ["batch", "batchStatus", "verifyUnit", "participant"].includes(f.name ?? "")),
      );
      return makeAsset(Buffer.from(JSON.stringify({ abi, enums: ENUM_VALUE_NAMES })), "application/json; charset=utf-8");
    },
  };
  const assets = new Map<string, Asset>();
  const assetParams = z.object({ file: z.enum(Object.keys(assetSources) as [string, ...string[]]).describe("Asset file name.") });
  router.get(`${ASSET_BASE_PATH}/:file`, (req: Request, res: Response, next: NextFunction) => {
    const file = req.params.file as string;
    const load = assetSources[file];
    if (!load) {
      next(notFound(`No passport asset named ${file}`));
      return;
    }
    let asset = assets.get(file);
    if (!asset) {
      asset = load();
      assets.set(file, asset);
    }
    res.vary("Accept-Encoding").set("ETag", asset.etag).set("Cache-Control", "public, max-age=3600").type(asset.type);
    if (req.fresh) {
      res.status(304).end();
      return;
    }
    if (req.acceptsEncodings("gzip") === "gzip") res.set("Content-Encoding", "gzip").send(asset.gzip);
    else res.send(asset.body);
  });
  document(`${ASSET_BASE_PATH}/{file}`, "get", {
    operationId: "getPassportAsset",
    tags: ["Passports"],
    summary: "Static files of the passport page",
    description: "passport.js and verify-core.js (the page's verification), ethers.min.js (ethers' own ESM build), registry-abi.json.",
    parameters: parametersFromZod({ path: assetParams }),
    responses: { 200: { description: "The file." }, 304: { description: "Not modified." }, 404: problemResponse(404) },
  });

  // Every route with a body parses it itself: serial lists as text (line numbers, an 8 MB limit), the RPC proxy
  // and claims as small JSON.
  return { basePath: "", router, paths, parsesOwnBody: true, serials, passports };
}

function serialSetSummarySchema() {
  return {
    type: "object",
    required: ["serialRoot", "count"],
    properties: {
      serialRoot: { type: "string", description: "StandardMerkleTree root: pass it to registerBatch." },
      count: { type: "integer" },
    },
  };
}

function claimSchema() {
  return {
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
}
