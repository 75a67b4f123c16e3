/**
 * The passport's failures as HTML pages, for the app's one error middleware (RouteModule.renderErrorPage). Only the
 * routes marked with `errorPagesFor` answer with pages: on passport pages whoever would get the page as HTML gets
 * the error as HTML; on API endpoints that browsers post to (claims) only clients that explicitly prefer HTML do.
 * Everyone else, and every failure before the route's handler (body parsing, rate limits), gets problem+json.
 */
import type { Request, RequestHandler } from "express";
import type { ProblemError } from "../api/problem.ts";
import type { ErrorPage } from "../api/route-module.ts";
import { renderErrorPage } from "./html.ts";
import { type LanguageLink, languageLinks, localeForResponse } from "./locale-negotiation.ts";
import { DEFAULT_LOCALE, type Locale, localeOf, type MessageKey } from "./messages/index.ts";
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
    const locale = req.res ? localeForResponse(req, req.res) : DEFAULT_LOCALE;
    // The switch only where the page is reached by GET: after a failed form post, reloading would post again.
    const languages = req.method === "GET" ? languageLinks(req.originalUrl) : undefined;
    return {
      html: errorPageHtml(problem, localeOf(locale), languages),
      headers: { "Content-Security-Policy": contentSecurityPolicy },
    };
  };
}

const TITLES: Partial<Record<number, MessageKey>> = {
  400: "error.invalidLink.title",
  404: "error.notFound.title",
  405: "error.methodNotAllowed.title",
  406: "error.notAcceptable.title",
  409: "error.conflict.title",
  413: "error.tooLarge.title",
  429: "error.tooMany.title",
};

function errorPageHtml(problem: ProblemError, locale: Locale, languages: LanguageLink[] | undefined): string {
  const reason = problem.extensions.reason;
  const hints =
    reason === "invalid-digital-link"
      ? [
          locale.text("error.invalidLink.hintScan"),
          locale.text("error.invalidLink.hintForm", { example: "/01/{GTIN}/10/{lot}/21/{serial}" }),
        ]
      : reason === "unknown-serial"
        ? [locale.text("error.unknownSerial.hint")]
        : problem.status === 404
          ? [locale.text("error.notFound.hint")]
          : problem.status === 409
            ? [locale.text("error.conflict.hint")]
            : [];
  const titleKey = TITLES[problem.status];
  const title = titleKey ? locale.text(titleKey) : locale.tag === "en" ? problem.title : locale.text("error.other.title");
  return renderErrorPage(problem.status, title, problem.detail ?? problem.title, hints, locale, languages);
}
