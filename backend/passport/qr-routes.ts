/**
 * QR codes of Digital Links: a batch's and a unit's as PNG or SVG, and printable HTML sheets of unit labels. Every
 * printed link carries its trust anchors (?chain=…&registry=…, see digital-link.ts), so verifiers need not take the
 * word of the server that later answers it.
 *
 * Codes are drawn by the renderer's worker threads (qr-renderer.ts), never on the event loop. A code's image never
 * changes for a given link, so it is served with an ETag and a week of public caching; a full render queue is a
 * 503 with Retry-After.
 *
 * A saturated server sheds before it works: while the render queue is full, a code request is refused before its
 * store lookups unless the code it resolved to last time (qr-link-memo.ts) is cached or being drawn, or the client
 * already holds that code (If-None-Match). What is skipped is safe to skip: a 503 asserts nothing about the batch or
 * unit, and the retry does every lookup. What is never skipped: every code served, and every 304, comes after this
 * request's own lookups, so a unit that no longer exists is a 404 and a changed link is a new code. A request never
 * seen before (or forgotten) is refused even if some other path had drawn its code: the price of not looking it up.
 * The qr-sheet is not shed early: which labels it needs is only known from its serial list.
 *
 * Every QR handler first waits for its slice of the event loop (qr-loop-slices.ts), so a flood of QR requests takes
 * a bounded share of each turn and the rest of the server (health checks, passports, the indexer) keeps its own.
 */
import type { Request, Response } from "express";
import { ipKeyGenerator } from "express-rate-limit";
import { z } from "zod";
import { parametersFromZod, problemResponse } from "../api/openapi.ts";
import { problemFromDomainError, type ProblemError } from "../api/problem.ts";
import type { RouteDefinition } from "../api/route-table.ts";
import { decimalIntegerParam } from "../api/schemas.ts";
import { parseParams, parseQuery } from "../api/validate.ts";
import { renderQrSheet } from "./html.ts";
import type { PassportService } from "./passport-service.ts";
import { QR_DEFAULT_WIDTH, QR_MIN_WIDTH, qrRenderRequest, type QrRenderRequest } from "./qr.ts";
import { createQrLinkMemo, type QrLinkMemo } from "./qr-link-memo.ts";
import { createLoopSlices } from "./qr-loop-slices.ts";
import { QrRenderQueueFullError, type QrRenderer, type QrRenderRefusal } from "./qr-renderer.ts";
import { batchParams, unitParams } from "./request-schemas.ts";

export interface QrRoutesDeps {
  passports: PassportService;
  contentSecurityPolicy: string;
  renderer: QrRenderer;
  /** Widest PNG served, in pixels (config QR_MAX_WIDTH); wider is a 400 naming the bound. */
  maxWidth: number;
  /** What each code request resolved to, for refusing before the lookups (default: a memo of its own). */
  linkMemo?: QrLinkMemo;
}

/** Labels per qr-sheet page at most: one page is one render task. */
export const QR_SHEET_MAX_PER_PAGE = 500;

// A code never changes for its link; a week bounds how long a changed PUBLIC_BASE_URL takes to reach caches.
const QR_CACHE_CONTROL = "public, max-age=604800";

const qrQueryOf = (maxWidth: number) =>
  z.strictObject({
    format: z.enum(["png", "svg"]).default("png").describe("Image format."),
    width: decimalIntegerParam({ min: QR_MIN_WIDTH, max: maxWidth })
      .default(Math.min(QR_DEFAULT_WIDTH, maxWidth))
      .describe(`PNG width in pixels, ${QR_MIN_WIDTH}-${maxWidth} (SVG scales freely).`),
  });
type QrQuery = z.output<ReturnType<typeof qrQueryOf>>;

const sheetQuery = z.strictObject({
  page: decimalIntegerParam({ min: 1, max: 1_000_000 }).default(1).describe("1-based page of the sheet."),
  perPage: decimalIntegerParam({ min: 1, max: QR_SHEET_MAX_PER_PAGE })
    .default(100)
    .describe(`Labels per page (1-${QR_SHEET_MAX_PER_PAGE}).`),
});

const busyResponse = problemResponse(503, "Every QR render thread is busy and the queue is full; retry after the `Retry-After` delay.");

const qrResponses = {
  200: {
    description:
      "The QR code of the Digital Link, with its trust anchors: `?chain={chainId}&registry={address}`. Served with a strong " +
      "`ETag` and `Cache-Control: public`; the image for a link never changes.",
    content: { "image/png": { schema: { type: "string", format: "binary" } }, "image/svg+xml": { schema: { type: "string" } } },
  },
  304: { description: "The client's copy (`If-None-Match`) is current." },
  400: problemResponse(400),
  404: problemResponse(404),
  503: busyResponse,
};

/** If-None-Match names this ETag (weakly compared, as RFC 9110 asks for this header), or is `*`. */
function clientHasCurrentCopy(req: Request, etag: string): boolean {
  const header = req.get("If-None-Match");
  if (header === undefined) return false;
  return header.split(",").some((candidate) => {
    const tag = candidate.trim();
    return tag === "*" || tag === etag || tag === `W/${etag}`;
  });
}

/** Whose share of the render queue a request uses: its address as trust proxy resolves it, IPv6 by its /56 (as the rate limits count). */
const clientOf = (req: Request) => ipKeyGenerator(req.ip ?? "unknown");

/** Awaits a render; a full queue becomes the 503 answer's Retry-After (the error middleware writes the problem). */
async function rendered<T>(res: Response, render: Promise<T>): Promise<T> {
  try {
    return await render;
  } catch (error) {
    if (error instanceof QrRenderQueueFullError) res.set("Retry-After", String(error.retryAfterSeconds));
    throw error;
  }
}

// The 503 problems of refusals, one per (whose, delay): at most 2 x 60, built once, because a saturated server sends
// thousands a second and building an Error (its stack) and passing it through the error middleware cost more than
// the rest of the answer. The body is the error middleware's, from the same DomainError.
const refusalProblems = new Map<string, ProblemError>();
function refusalProblem(refusal: QrRenderRefusal): ProblemError {
  const key = `${refusal.whose} ${refusal.retryAfterSeconds}`;
  let problem = refusalProblems.get(key);
  if (problem === undefined) {
    problem = problemFromDomainError(new QrRenderQueueFullError(refusal.retryAfterSeconds, refusal.whose));
    refusalProblems.set(key, problem);
  }
  return problem;
}

/**
 * Answers the 503 before any lookup when the render queue (or this client's share of it) is full and neither the
 * code this request resolved to last time (`known`) is cached or being drawn nor the client holds it (see the module
 * comment for why this is safe). True when it answered.
 */
function shedIfSaturated(req: Request, res: Response, renderer: QrRenderer, known: QrRenderRequest | undefined): boolean {
  const refusal = renderer.refusalFor(known, clientOf(req));
  if (refusal === null) return false;
  if (known !== undefined && req.get("If-None-Match") !== undefined && clientHasCurrentCopy(req, renderer.etagOf(known))) return false;
  const url = req.originalUrl;
  const query = url.indexOf("?");
  res
    .status(503)
    .set({ "Retry-After": String(refusal.retryAfterSeconds), "Cache-Control": "no-store" })
    .type("application/problem+json")
    .json(refusalProblem(refusal).toJSON(query === -1 ? url : url.slice(0, query)));
  return true;
}

async function sendQr(req: Request, res: Response, renderer: QrRenderer, request: QrRenderRequest) {
  // Only a client that names an ETag needs one computed before the code is at hand.
  if (req.get("If-None-Match") !== undefined) {
    const etag = renderer.etagOf(request);
    if (clientHasCurrentCopy(req, etag)) {
      res.status(304).set({ ETag: etag, "Cache-Control": QR_CACHE_CONTROL }).end();
      return;
    }
  }
  const code = await rendered(res, renderer.render(request, clientOf(req)));
  res
    .set({ ETag: code.etag, "Cache-Control": QR_CACHE_CONTROL, "Content-Disposition": "inline" })
    .type(request.format === "svg" ? "image/svg+xml; charset=utf-8" : "image/png")
    .send(code.body);
}

export function qrRoutes({ passports, contentSecurityPolicy, renderer, maxWidth, linkMemo }: QrRoutesDeps): RouteDefinition[] {
  const qrQuery = qrQueryOf(maxWidth);
  const memo = linkMemo ?? createQrLinkMemo();
  const slices = createLoopSlices();
  /** Sheds, then looks the link up (`linkOf`: the store lookups), remembers what it resolved to and serves it. */
  async function serveCode(req: Request, res: Response, requestKey: string, query: QrQuery, linkOf: () => Promise<string>) {
    await slices.next();
    if (shedIfSaturated(req, res, renderer, memo.get(requestKey))) return;
    const request = qrRenderRequest(await linkOf(), query.format, { width: query.width });
    memo.remember(requestKey, request);
    await sendQr(req, res, renderer, request);
  }
  return [
    {
      method: "get",
      path: "/api/v1/batches/:batchId/qr",
      operation: {
        operationId: "getBatchQrCode",
        tags: ["Passports"],
        summary: "QR code of a batch's Digital Link",
        parameters: parametersFromZod({ path: batchParams, query: qrQuery }),
        responses: qrResponses,
      },
      handler: async (req, res) => {
        const { batchId } = parseParams(batchParams, req);
        const query = parseQuery(qrQuery, req);
        await serveCode(req, res, `batch\n${batchId}\n${query.format}\n${query.width}`, query, async () =>
          passports.linkFor(await passports.getBatch(batchId)),
        );
      },
    },
    {
      method: "get",
      path: "/api/v1/batches/:batchId/units/:serial/qr",
      operation: {
        operationId: "getUnitQrCode",
        tags: ["Passports"],
        summary: "QR code of a unit's Digital Link",
        description: "404 when the batch's serial list is stored and does not contain the serial.",
        parameters: parametersFromZod({ path: unitParams, query: qrQuery }),
        responses: qrResponses,
      },
      handler: async (req, res) => {
        const { batchId, serial } = parseParams(unitParams, req);
        const query = parseQuery(qrQuery, req);
        await serveCode(req, res, `unit\n${batchId}\n${serial}\n${query.format}\n${query.width}`, query, () =>
          passports.unitLink(batchId, serial),
        );
      },
    },
    {
      method: "get",
      path: "/api/v1/batches/:batchId/qr-sheet",
      operation: {
        operationId: "getBatchQrSheet",
        tags: ["Passports"],
        summary: "Printable sheet of unit QR labels",
        description: "An HTML page with one labelled SVG QR code per unit, paginated for large batches.",
        parameters: parametersFromZod({ path: batchParams, query: sheetQuery }),
        responses: {
          200: { description: "The sheet.", content: { "text/html": { schema: { type: "string" } } } },
          400: problemResponse(400),
          404: problemResponse(404),
          503: busyResponse,
        },
      },
      handler: async (req, res) => {
        const { batchId } = parseParams(batchParams, req);
        const { page, perPage } = parseQuery(sheetQuery, req);
        await slices.next();
        const sheet = await passports.serialsPage(batchId, page, perPage);
        const { batch } = sheet;
        const uris = sheet.serials.map((serial) => passports.linkFor(batch, serial));
        const codes = await rendered(
          res,
          renderer.renderAll(
            uris.map((uri) => qrRenderRequest(uri, "svg")),
            clientOf(req),
          ),
        );
        const labels = sheet.serials.map((serial, index) => ({ serial, uri: uris[index]!, svg: codes[index]!.body.toString("utf8") }));
        res
          .set("Cache-Control", "no-cache")
          .set("Content-Security-Policy", contentSecurityPolicy)
          .type("html")
          .send(
            renderQrSheet({
              batch,
              labels,
              page,
              pages: sheet.pages,
              perPage,
              total: sheet.total,
              basePath: `/api/v1/batches/${batch.batchId}/qr-sheet`,
            }),
          );
      },
    },
  ];
}
