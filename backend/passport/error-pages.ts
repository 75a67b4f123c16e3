/**
 * The passport's failures as HTML pages, for the app's one error middleware (RouteModule.renderErrorPage). Only the
 * routes marked with `errorPagesFor` (passport pages) answer with pages: whoever would get the page as HTML gets the
 * error as HTML. Everyone else, everything under /api (the error middleware's rule), and every failure before the
 * route's markers (body parsing, rate limits) gets problem+json.
 */
import type { Request, RequestHandler } from "express";
import type { ProblemError } from "../api/problem.ts";
import type { ErrorPage } from "../api/route-module.ts";
import { renderErrorPage } from "./html.ts";
import { negotiatePassport } from "./negotiation.ts";

export type ErrorPageAudience = "page";

const AUDIENCE = "passportErrorPages";

/** Route middleware, last before the handler: from here on, this route's failures may be answered as pages. */
export function errorPagesFor(audience: ErrorPageAudience): RequestHandler {
  return (_req, res, next) => {
    res.locals[AUDIENCE] = audience;
    next();
  };
}

export function createPassportErrorPages(contentSecurityPolicy: string): (problem: ProblemError, req: Request) => ErrorPage | null {
  return (problem, req) => {
    const audience = req.res?.locals[AUDIENCE] as ErrorPageAudience | undefined;
    // A 500 is a programmer error, answered the same bare way everywhere.
    if (audience === undefined || problem.status === 500) return null;
    if (negotiatePassport(req) !== "html") return null;
    return { html: errorPageHtml(problem), headers: { "Content-Security-Policy": contentSecurityPolicy } };
  };
}

function errorPageHtml(problem: ProblemError): string {
  const hints =
    problem.extensions.reason === "invalid-digital-link"
      ? ["Check that the whole code was scanned, or type the address again.", "Provena links look like /01/{GTIN}/10/{lot}/21/{serial}."]
      : problem.extensions.reason === "unknown-serial"
        ? ["Do not trust this product until its seller explains where it comes from."]
        : problem.status === 404
          ? ["The code may be mistyped, or the product may not be registered with Provena."]
          : [];
  const title = problem.status === 400 ? "This is not a valid product link" : problem.status === 404 ? "Product not found" : problem.title;
  return renderErrorPage(problem.status, title, problem.detail ?? problem.title, hints);
}
