/**
 * The regulator's recall desk as web pages (mounted at the server root, beside the passport):
 *   GET /desk/recalls               open recalls, most recent first (REGULATOR, ADMIN)
 *   GET /desk/recalls/{batchId}     one recall: affected lots, their holders and places, acknowledgements
 *   GET /desk/assets/{file}         the wallet sign-in script
 *
 * Whoever is not signed in gets the sign-in page (401), a signed-in non-regulator a 403 page; neither shows any
 * of the desk's data. The session is the `provena_session` cookie (SameSite=Strict, so a cross-site link arrives
 * without it and sees the sign-in page); the pages only read, so there is nothing to forge. The data comes from
 * the recall desk service (../recalls/recall-desk.ts), which checks the role again.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Request, Response } from "express";
import { z } from "zod";
import { viewerOfRequest } from "../auth/auth-routes.ts";
import type { AuthService, Viewer } from "../auth/auth-service.ts";
import { parametersFromZod, problemResponse } from "../api/openapi.ts";
import type { ProblemError } from "../api/problem.ts";
import type { ErrorPage, RouteModule } from "../api/route-module.ts";
import { routeModuleFromTable, type RouteDefinition } from "../api/route-table.ts";
import { batchIdParams, decimalIntegerParam } from "../api/schemas.ts";
import { parseParams, parseQuery } from "../api/validate.ts";
import { notFound } from "../domain/errors.ts";
import type { Hex } from "../domain/model.ts";
import { languageLinks, localeForResponse } from "../passport/locale-negotiation.ts";
import { DEFAULT_LOCALE } from "../passport/messages/index.ts";
import type { ProductDataService } from "../product-data/product-data-service.ts";
import { RECALL_DESK_ROLES, type RecallDesk } from "../recalls/recall-desk.ts";
import type { MirrorStore } from "../store/port.ts";
import {
  DESK_ASSET_PATH,
  DESK_CONTENT_SECURITY_POLICY,
  DESK_PATH,
  renderDeskErrorPage,
  renderForbiddenPage,
  renderRecallListPage,
  renderRecallPage,
  renderSignInPage,
} from "./desk-html.ts";
import { type DeskLocale, deskLocaleOf } from "./desk-messages.ts";
import { createDeskViews, type DeskParticipant } from "./desk-view.ts";

export interface RecallDeskPageOptions {
  desk: RecallDesk;
  auth: AuthService;
  store: Pick<MirrorStore, "getBatches" | "getParticipants">;
  /** Product and place names; absent, the pages show GTINs and GLNs. */
  productData?: Pick<ProductDataService, "batchPassportData">;
}

const here = path.dirname(fileURLToPath(import.meta.url));
/** The desk's own button wiring; the sign-in flow it imports is the passport's (/passport/assets/wallet-sign-in.js). */
const ASSET_FILES = ["desk-sign-in.js"] as const;

const langParameter = {
  name: "lang",
  in: "query",
  description: "The page's language (e.g. `zh-CN`, `en`), remembered in a cookie; an unknown tag is ignored.",
  schema: { type: "string" },
};
const listQuery = z.object({ page: decimalIntegerParam({ min: 1, max: 1_000 }).optional().describe("Page of recalls, from 1.") });
/** `lang` is read by the locale negotiation and documented beside `page` by hand, as on passports. */
const listQueryWithLanguage = listQuery.extend({ lang: z.string().optional() });
const assetParams = z.strictObject({ file: z.enum(ASSET_FILES).describe("Asset file name.") });

const pageResponses = {
  200: { description: "The page (HTML).", content: { "text/html": {} } },
  401: { description: "Not signed in: the sign-in page (HTML), with none of the desk's data.", content: { "text/html": {} } },
  403: { description: "Signed in without the REGULATOR or ADMIN role: a page saying so (HTML).", content: { "text/html": {} } },
  400: problemResponse(400),
};

export function createRecallDeskPageModule(options: RecallDeskPageOptions): RouteModule {
  const views = createDeskViews(options);
  const { auth } = options;

  /** Sends the sign-in or 403 page and answers null, or answers the regulator's viewer for the page to render. */
  async function deskViewer(req: Request, res: Response, locale: DeskLocale): Promise<Extract<Viewer, { signedIn: true }> | null> {
    // A stale or forged cookie is no session: the sign-in page, as for anyone else.
    const viewer = await viewerOfRequest(auth, req, "anonymous");
    const languages = languageLinks(req.originalUrl);
    if (!viewer.signedIn) {
      res.status(401).type("html").send(renderSignInPage(locale, languages));
      return null;
    }
    if (!viewer.roles.some((role) => RECALL_DESK_ROLES.includes(role))) {
      res
        .status(403)
        .type("html")
        .send(renderForbiddenPage(locale, languages, viewer.address));
      return null;
    }
    return viewer;
  }

  function pageHeaders(req: Request, res: Response): DeskLocale {
    res.set("Cache-Control", "no-store").set("Content-Security-Policy", DESK_CONTENT_SECURITY_POLICY).set("Referrer-Policy", "no-referrer");
    return deskLocaleOf(localeForResponse(req, res));
  }

  const signedInAs = (viewer: Extract<Viewer, { signedIn: true }>): DeskParticipant => ({
    address: viewer.address,
    name: viewer.participant?.name ?? null,
  });

  const routes: RouteDefinition[] = [
    {
      method: "get",
      path: DESK_PATH,
      operation: {
        tags: ["recalls"],
        operationId: "getRecallDeskPage",
        summary: "The recall desk page: open recalls, most recent first (regulators and the admin)",
        parameters: [...parametersFromZod({ query: listQuery }), langParameter],
        responses: { ...pageResponses, 404: problemResponse(404, "A page beyond the last") },
      },
      handler: async (req, res) => {
        const locale = pageHeaders(req, res);
        const { page = 1 } = parseQuery(listQueryWithLanguage, req);
        const viewer = await deskViewer(req, res, locale);
        if (viewer === null) return;
        const list = await views.list(page, viewer);
        if (page > list.pages) throw notFound(`There are ${list.pages} pages of recalls`);
        res.type("html").send(
          renderRecallListPage(list, {
            locale,
            languages: languageLinks(req.originalUrl),
            viewer: signedInAs(viewer),
            pageHref: (n) => `${DESK_PATH}?page=${n}`,
          }),
        );
      },
    },
    {
      method: "get",
      path: `${DESK_PATH}/:batchId`,
      operation: {
        tags: ["recalls"],
        operationId: "getRecallDeskRecallPage",
        summary: "The recall desk page of one recall: affected lots, holders, places and acknowledgements",
        parameters: [...parametersFromZod({ path: batchIdParams }), langParameter],
        responses: { ...pageResponses, 404: problemResponse(404, "No such batch, or it has no recall of its own") },
      },
      handler: async (req, res) => {
        const locale = pageHeaders(req, res);
        const viewer = await deskViewer(req, res, locale);
        if (viewer === null) return;
        const { batchId } = parseParams(batchIdParams, req);
        const view = await views.recall(batchId as Hex, viewer);
        res.type("html").send(renderRecallPage(view, { locale, languages: languageLinks(req.originalUrl), viewer: signedInAs(viewer) }));
      },
    },
    assetRoute(),
  ];
  return routeModuleFromTable("", routes, undefined, { renderErrorPage: deskErrorPage });
}

/** Failures of the desk's pages as desk pages, to browsers; everything else (assets, 500s) stays problem+json. */
function deskErrorPage(problem: ProblemError, req: Request): ErrorPage | null {
  if (problem.status === 500 || !req.path.startsWith(DESK_PATH) || req.accepts(["text/html", "application/json"]) !== "text/html")
    return null;
  const locale = deskLocaleOf(req.res ? localeForResponse(req, req.res) : DEFAULT_LOCALE);
  return {
    html: renderDeskErrorPage(locale, languageLinks(req.originalUrl), problem.status, problem.detail ?? problem.title),
    headers: { "Content-Security-Policy": DESK_CONTENT_SECURITY_POLICY, "Cache-Control": "no-store" },
  };
}

function assetRoute(): RouteDefinition {
  const assets = new Map<string, { body: Buffer; etag: string }>();
  return {
    method: "get",
    path: `${DESK_ASSET_PATH}/:file`,
    operation: {
      tags: ["recalls"],
      operationId: "getRecallDeskAsset",
      summary: "The recall desk page's wallet sign-in script",
      parameters: parametersFromZod({ path: assetParams }),
      responses: { 200: { description: "The file." }, 304: { description: "Not modified." }, 400: problemResponse(400) },
    },
    handler: (req, res) => {
      const { file } = parseParams(assetParams, req);
      let asset = assets.get(file);
      if (!asset) {
        const body = readFileSync(path.join(here, "assets", file));
        asset = { body, etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"` };
        assets.set(file, asset);
      }
      res.set("ETag", asset.etag).set("Cache-Control", "public, max-age=300").type("text/javascript; charset=utf-8");
      if (req.fresh) {
        res.status(304).end();
        return;
      }
      res.send(asset.body);
    },
  };
}
