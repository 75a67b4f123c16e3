/**
 * GS1 Digital Link resolver: GET /01/{gtin}/10/{lot}[/21/{serial}] answers the passport, an HTML page for browsers
 * (recorded as a scan) or JSON-LD for machines; anything else under /01 is explained or redirected to its canonical form.
 */
import type { Request, RequestHandler } from "express";
import { z } from "zod";
import { problemResponse } from "../api/openapi.ts";
import { ProblemError } from "../api/problem.ts";
import type { RouteDefinition } from "../api/route-table.ts";
import { parseQuery } from "../api/validate.ts";
import { digitalLinkPath, parseDigitalLinkPath, type DigitalLink } from "./digital-link.ts";
import { errorPagesFor } from "./error-pages.ts";
import { renderPassportPage } from "./html.ts";
import { passportJsonLd } from "./json-ld.ts";
import { languageLinks, localeForResponse } from "./locale-negotiation.ts";
import { localeOf } from "./messages/index.ts";
import { negotiatePassport } from "./negotiation.ts";
import type { PassportService } from "./passport-service.ts";
import { createBoundedMemo, etagOf, ifNoneMatchHits, passportRenderingKey, type PassportViewCache } from "./view-cache.ts";

export interface ResolverRoutesDeps {
  passports: PassportService;
  publicBaseUrl: string;
  contentSecurityPolicy: string;
  /** Rendered passports, per language and representation (view-cache.ts). */
  cache: PassportViewCache;
}

const PARSED_LINK_ENTRIES = 10_000;

const passportQuery = z.looseObject({ claimed: z.string().optional() });

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

export function resolverRoutes({ passports, publicBaseUrl, contentSecurityPolicy, cache }: ResolverRoutesDeps): RouteDefinition[] {
  // Parsing derives the batch id (a keccak hash, about a millisecond); a link scanned again is parsed once.
  const parsedLinks = createBoundedMemo<string, DigitalLink>(PARSED_LINK_ENTRIES);
  const servePassport: RequestHandler = async (req, res) => {
    let link = parsedLinks.get(req.path);
    if (!link) {
      link = parseDigitalLinkPath(req.path);
      parsedLinks.set(req.path, link);
    }
    const query = parseQuery(passportQuery, req);
    const wants = negotiatePassport(req);
    res.vary("Accept");
    if (!wants)
      throw new ProblemError(406, "Not Acceptable", "This resource is available as text/html, application/ld+json or application/json");
    const countAsScan = wants === "html" && req.method === "GET" && !isPrefetch(req) && query.claimed === undefined;
    // The scan is recorded here, before any cache or If-None-Match answer: a repeat scan counts as it always did.
    const resolved = await passports.resolve(link, { region: scanRegion(req), countAsScan, client: req.ip ?? "unknown" });
    // Scans and claims change what the page says: a cache may keep it but must ask again every time (the ETag makes
    // that a 304 when nothing changed).
    res.set("Cache-Control", "no-cache");
    const locale = wants === "html" ? localeOf(localeForResponse(req, res)) : null;
    // HTML also depends on the URL as requested (its language links repeat the query) and on the claim notice.
    const key = passportRenderingKey([
      wants,
      resolved.stamp,
      locale?.tag ?? null,
      wants === "html" ? req.originalUrl : null,
      wants === "html" && query.claimed !== undefined ? "claimed" : null,
    ]);
    const etag = etagOf(key);
    res.set("ETag", etag);
    if (wants === "html") res.set("Content-Security-Policy", contentSecurityPolicy).set("Referrer-Policy", "no-referrer");
    res.type(wants === "html" ? "html" : wants === "jsonld" ? "application/ld+json" : "application/json");
    if (ifNoneMatchHits(req.get("if-none-match"), etag)) {
      res.status(304).end();
      return;
    }
    const cached = cache.get(key);
    if (cached) {
      res.send(cached.body);
      return;
    }
    const view = await resolved.view();
    const jsonLd = passportJsonLd(view, publicBaseUrl);
    let body: string;
    if (wants !== "html") {
      body = JSON.stringify(jsonLd);
    } else {
      const claimAction =
        view.unit && !view.unit.ownership && !view.unit.claim && view.unit.proof
          ? `/api/v1/batches/${view.batch.batchId}/units/${encodeURIComponent(view.unit.serial)}/claim`
          : null;
      body = renderPassportPage(view, {
        jsonLd,
        claimAction,
        claimNotice: query.claimed !== undefined && view.unit?.claim ? locale!.text("ownership.thanks") : null,
        qrSheetPath: `/api/v1/batches/${view.batch.batchId}/qr-sheet`,
        locale: locale!,
        languages: languageLinks(req.originalUrl),
      });
    }
    const entry = { etag, body: Buffer.from(body, "utf8") };
    cache.set(key, entry);
    res.send(entry.body);
  };
  return [
    {
      method: "get",
      path: "/01/:gtin/10/:lot",
      operation: passportOperation(false),
      middleware: [errorPagesFor("page")],
      handler: servePassport,
    },
    {
      method: "get",
      path: "/01/:gtin/10/:lot/21/:serial",
      operation: passportOperation(true),
      middleware: [errorPagesFor("page")],
      handler: servePassport,
    },
  ];
}

/**
 * Mounted under /01 after the resolver's routes: anything they did not match is a malformed Digital Link (explained
 * instead of a bare 404), another method (405), or a valid link in a non-canonical form (redirected).
 */
export const malformedLinkHandlers: RequestHandler[] = [
  errorPagesFor("page"),
  (req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      throw new ProblemError(405, "Method Not Allowed", `${req.method} is not supported on passport links; use GET`, {
        allow: "GET, HEAD",
      });
    }
    const link = parseDigitalLinkPath(`/01${req.path === "/" ? "" : req.path}`);
    // A valid link the routes did not match (extra trailing slashes): send the scanner to its canonical form.
    const query = req.originalUrl.indexOf("?");
    res.redirect(301, `${digitalLinkPath(link.gtin, link.lot, link.serial)}${query < 0 ? "" : req.originalUrl.slice(query)}`);
  },
];

/**
 * What a printed or shared passport link may carry after "?": its trust anchors, the claim confirmation, and GS1
 * data attributes (AIs such as 17 = expiry date), which the GS1 Digital Link standard lets any link carry and a
 * resolver ignore. Anything else is refused, as on every endpoint (backend/api/route-table.ts).
 */
const PASSPORT_QUERY_PARAMETERS = [
  { name: "chain", in: "query", description: "Trust anchor: the chain id the product is registered on.", schema: { type: "string" } },
  { name: "registry", in: "query", description: "Trust anchor: the registry contract's address.", schema: { type: "string" } },
  {
    name: "lang",
    in: "query",
    description: "The page's language (e.g. `zh-CN`, `en`), remembered in a cookie; an unknown tag is ignored.",
    schema: { type: "string" },
  },
  {
    name: "claimed",
    in: "query",
    description: "Set by the claim form's redirect: show the claim confirmation.",
    schema: { type: "string" },
  },
  {
    name: "gs1DataAttributes",
    in: "query",
    style: "form",
    explode: true,
    description: "GS1 application identifiers as data attributes (e.g. `17=251231`); accepted and ignored.",
    schema: { type: "object", patternProperties: { "^\\d{2,4}$": { type: "string" } }, additionalProperties: false },
  },
];

function passportOperation(withSerial: boolean) {
  return {
    operationId: withSerial ? "getUnitPassport" : "getBatchPassport",
    tags: ["Passports"],
    summary: withSerial ? "Unit passport (GS1 Digital Link)" : "Batch passport (GS1 Digital Link)",
    description:
      "Resolves a GS1 Digital Link by content negotiation: an HTML page for browsers (recorded as a scan), JSON-LD " +
      "(schema.org Product with the event history) for `Accept: application/ld+json` or `application/json`. GTIN-8/12/13 " +
      "are accepted and normalised to 14 digits; lot and serial are percent-encoded GS1 character set 82.",
    parameters: [
      {
        name: "gtin",
        in: "path",
        required: true,
        description: "GTIN-8, -12, -13 or -14 with a valid check digit.",
        schema: { type: "string", pattern: "^\\d{8}$|^\\d{12,14}$" },
      },
      { name: "lot", in: "path", required: true, description: "Batch/lot (AI 10), 1-20 characters of set 82.", schema: { type: "string" } },
      ...(withSerial
        ? [
            {
              name: "serial",
              in: "path",
              required: true,
              description: "Serial (AI 21), 1-20 characters of set 82.",
              schema: { type: "string" },
            },
          ]
        : []),
      ...PASSPORT_QUERY_PARAMETERS,
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
  };
}
