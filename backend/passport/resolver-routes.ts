/**
 * GS1 Digital Link resolver: GET /01/{gtin}/10/{lot}[/21/{serial}] answers the passport, an HTML page for browsers
 * (recorded as a scan) or JSON-LD for machines; anything else under /01 is explained or redirected to its canonical form.
 *
 * Who is asking (backend/auth): a request without a valid session gets the public passport, the same bytes for
 * everyone, kept in the shared view cache (view-cache.ts) with a strong ETag. A valid session of a viewer entitled to
 * more of this batch (a partner in its chain of custody, an authority, its manufacturer: passport-service.ts
 * `viewerSections`) gets the HTML page with its own sections added, rendered for that request only: never read from
 * or written to the cache, no ETag (so no If-None-Match can match it or be matched by it), `Cache-Control: private,
 * no-store`. Everyone else (signed in outside the chain of custody, suspended, a forged or expired session) gets the
 * public page exactly, from the cache. HTML responses vary on Cookie and Authorization.
 *
 * JSON-LD stays public for everyone, session or not: it is the representation machines cache, link and verify
 * against the chain; partners and authorities read their levels through the API (product data, documents), which
 * enforces them. The page's embedded JSON-LD and verification data are that public JSON-LD too.
 */
import type { Request, RequestHandler, Response } from "express";
import { z } from "zod";
import { problemResponse } from "../api/openapi.ts";
import { ProblemError } from "../api/problem.ts";
import type { RouteDefinition } from "../api/route-table.ts";
import { sessionTokenOf } from "../auth/auth-routes.ts";
import type { AuthService, Viewer } from "../auth/auth-service.ts";
import { parseQuery } from "../api/validate.ts";
import { digitalLinkPath, parseDigitalLinkPath, type DigitalLink } from "./digital-link.ts";
import { errorPagesFor } from "./error-pages.ts";
import { renderPassportPage } from "./html.ts";
import { passportJsonLd } from "./json-ld.ts";
import { languageLinks, localeForResponse } from "./locale-negotiation.ts";
import { type Locale, localeOf } from "./messages/index.ts";
import { negotiatePassport } from "./negotiation.ts";
import type { PassportService } from "./passport-service.ts";
import type { PassportView, PassportViewerSections } from "./passport-view.ts";
import type { Hex } from "../domain/model.ts";
import {
  compressPassport,
  createBoundedMemo,
  etagOf,
  ifNoneMatchHits,
  passportRenderingKey,
  preferredEncoding,
  type CachedPassport,
  type PassportEncoding,
  type PassportViewCache,
} from "./view-cache.ts";

export interface ResolverRoutesDeps {
  passports: PassportService;
  publicBaseUrl: string;
  contentSecurityPolicy: string;
  /** Rendered passports, per language and representation (view-cache.ts). */
  cache: PassportViewCache;
  /** The store's change token (port.ts StoreLifecycle.changeToken); absent, every request reads the store. */
  changeToken?: () => string;
  /** Sign-in: with it, pages offer it and a signed-in viewer's page shows what the viewer is entitled to. */
  auth?: AuthService;
}

const PARSED_LINK_ENTRIES = 10_000;
const VALIDATED_REQUEST_ENTRIES = 20_000;
/**
 * Longest a request's rendering key is trusted without reading the store: the page counts the scans of the recent
 * window, which slides with the clock alone. (Everything else it shows changes only with a write to the store.)
 */
export const REVALIDATE_AFTER_MS = 5_000;

interface ValidatedRequest {
  token: string;
  at: number;
  key: string;
  batchId: Hex;
}

const CONTENT_TYPES = {
  html: "text/html; charset=utf-8",
  jsonld: "application/ld+json",
  json: "application/json",
} as const;

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

export function resolverRoutes({
  passports,
  publicBaseUrl,
  contentSecurityPolicy,
  cache,
  changeToken,
  auth,
}: ResolverRoutesDeps): RouteDefinition[] {
  // Parsing derives the batch id (a keccak hash, about a millisecond); a link scanned again is parsed once.
  const parsedLinks = createBoundedMemo<string, DigitalLink>(PARSED_LINK_ENTRIES);
  // Per request as asked (representation, language, link): the rendering key it resolved to, under which store
  // change token, and when. While the token stands the store holds nothing new, so the same request resolves to
  // the same key without reading the store (see servePassport).
  const validated = createBoundedMemo<string, ValidatedRequest>(VALIDATED_REQUEST_ENTRIES);

  /** The HTML page: public, or with a signed-in viewer's sections (whose rendering no cache keeps). */
  function renderPage(
    view: PassportView,
    req: Request,
    locale: Locale,
    claimed: boolean,
    viewerSections: PassportViewerSections | null,
  ): string {
    const claimAction =
      view.unit && !view.unit.ownership && !view.unit.claim && view.unit.proof
        ? `/api/v1/batches/${view.batch.batchId}/units/${encodeURIComponent(view.unit.serial)}/claim`
        : null;
    return renderPassportPage(view, {
      // The public JSON-LD, whoever is signed in: the page's embedded data never carries a private field.
      jsonLd: passportJsonLd(view, publicBaseUrl),
      claimAction,
      claimNotice: claimed && view.unit?.claim ? locale.text("ownership.thanks") : null,
      qrSheetPath: `/api/v1/batches/${view.batch.batchId}/qr-sheet`,
      locale,
      languages: languageLinks(req.originalUrl),
      signIn: auth !== undefined,
      viewerSections,
    });
  }

  /**
   * Sends a cached or new rendering in the coding the client prefers (compressing it once if the cache keeps it);
   * `key` null for a rendering the cache must not keep (a signed-in viewer's).
   */
  function sendRendering(req: Request, res: Response, key: string | null, entry: CachedPassport, encoding: PassportEncoding | null): void {
    let body = entry.body;
    if (encoding !== null) {
      let encoded = entry[encoding];
      if (encoded === undefined) {
        encoded = compressPassport(entry.body, encoding);
        if (key !== null) cache.set(key, { ...entry, [encoding]: encoded });
      }
      body = encoded;
      res.setHeader("Content-Encoding", encoding);
    }
    res.setHeader("Content-Length", body.length);
    if (req.method === "HEAD") res.end();
    else res.end(body);
  }

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
    const client = req.ip ?? "unknown";
    // Scans and claims change what the page says: a cache may keep it but must ask again every time (the ETag makes
    // that a 304 when nothing changed).
    res.setHeader("Cache-Control", "no-cache");
    const locale = wants === "html" ? localeOf(localeForResponse(req, res)) : null;
    const claimed = wants === "html" && query.claimed !== undefined;
    if (wants === "html") {
      res.setHeader("Content-Security-Policy", contentSecurityPolicy);
      res.setHeader("Referrer-Policy", "no-referrer");
    }
    res.setHeader("Content-Type", CONTENT_TYPES[wants]);
    // Only the page is rendered per viewer. A session that is forged, expired or of nobody is no session: the
    // public page, as for a shopper (a stale cookie must not break a passport).
    let viewer: Extract<Viewer, { signedIn: true }> | null = null;
    if (wants === "html" && auth !== undefined) {
      res.vary("Cookie").vary("Authorization");
      const session = sessionTokenOf(req);
      const found = session === undefined ? null : await auth.viewerOf(session);
      if (found?.signedIn) viewer = found;
    }
    // Every representation is also sent compressed to clients that accept it: 25 kB of HTML are 7 kB of gzip.
    res.vary("Accept-Encoding");
    const encoding = preferredEncoding(req.headers["accept-encoding"]);
    const answer = (key: string, entry: CachedPassport | undefined): boolean => {
      const etag = etagOf(key, entry === undefined ? null : encoding);
      res.setHeader("ETag", etag);
      if (ifNoneMatchHits(req.get("if-none-match"), etag)) {
        res.status(304).end();
        return true;
      }
      if (entry === undefined) return false;
      sendRendering(req, res, key, entry, encoding);
      return true;
    };

    // The fast path: the same request was resolved under the store's current change token, so nothing it read can
    // have changed: its rendering key stands, and a kept rendering is sent without reading the store. A scan that
    // counts is the one exception (it is recorded, which changes the page), and so is the clock: scan statistics
    // count the recent window's scans, so a key is resolved afresh at least every REVALIDATE_AFTER_MS.
    // The scanner's region is part of it: a claimed unit's page warns a scan from another country (passport-service.ts).
    const region = scanRegion(req);
    const requestKey = `${wants}\0${locale?.tag ?? ""}\0${claimed ? "claimed" : ""}\0${region}\0${wants === "html" ? req.originalUrl : req.path}`;
    const token = changeToken?.() ?? null;
    const now = Date.now();
    let counts: boolean | undefined;
    const known = token === null || viewer !== null ? undefined : validated.get(requestKey);
    if (known !== undefined && known.token === token && now - known.at < REVALIDATE_AFTER_MS) {
      if (countAsScan) counts = await passports.countsAsScan(known.batchId, link.serial, client);
      if (!counts) {
        const entry = cache.get(known.key);
        if (entry !== undefined && answer(known.key, entry)) return;
      }
    }

    // The scan is recorded here, before any cache or If-None-Match answer: a repeat scan counts as it always did.
    const resolved = await passports.resolve(link, {
      region,
      countAsScan,
      client,
      ...(counts === undefined ? {} : { counts }),
    });
    const sections = viewer === null ? null : await passports.viewerSections(viewer, resolved.batch);
    if (sections !== null) {
      // This viewer's own page: rendered for this request alone, kept by no cache, matched by no ETag.
      res.setHeader("Cache-Control", "private, no-store");
      const view = await resolved.view();
      const page = Buffer.from(renderPage(view, req, locale!, claimed, sections), "utf8");
      sendRendering(req, res, null, { etag: "", body: page }, encoding);
      return;
    }
    // HTML also depends on the URL as requested (its language links repeat the query) and on the claim notice.
    const key = passportRenderingKey([
      wants,
      resolved.stamp,
      locale?.tag ?? null,
      wants === "html" ? req.originalUrl : null,
      claimed ? "claimed" : null,
    ]);
    // The token read before resolving: whatever changed since (this request's own scan included) moves it.
    if (token !== null) validated.set(requestKey, { token, at: now, key, batchId: resolved.batch.batchId });
    const cached = cache.get(key);
    if (answer(key, cached)) return;
    const view = await resolved.view();
    const body = wants === "html" ? renderPage(view, req, locale!, claimed, null) : JSON.stringify(passportJsonLd(view, publicBaseUrl));
    const entry = { etag: etagOf(key), body: Buffer.from(body, "utf8") };
    // Compressed only when kept: with the cache off (or this page too large for it) every request renders anyway.
    if (cache.set(key, entry)) {
      answer(key, entry);
    } else {
      sendRendering(req, res, key, entry, null);
    }
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
      "are accepted and normalised to 14 digits; lot and serial are percent-encoded GS1 character set 82. With a valid session " +
      "(the `provena_session` cookie of Sign-In with Ethereum) of a partner in the batch's chain of custody, an authority or its " +
      "manufacturer, the HTML page adds the product data fields and documents that viewer may read, labelled by level, sent " +
      "`Cache-Control: private, no-store` without an ETag; anyone else (an invalid or expired session included) gets the public " +
      "page. JSON-LD is the public passport for everyone.",
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
