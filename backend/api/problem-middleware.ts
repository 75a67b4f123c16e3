/**
 * The app's terminal handlers: 405/404 for requests no route answered, and the one error middleware that
 * turns every failure into an RFC 9457 problem. Operational errors (DomainError, ProblemError, bad request bodies) are
 * answered as they are; anything else is a programmer error: logged with its stack, answered with a bare
 * 500 that says nothing about the cause.
 */
import { STATUS_CODES } from "node:http";
import type { ErrorRequestHandler, Request, RequestHandler } from "express";
import { JSON_TOO_DEEP } from "./json-body.ts";
import { openApiPathMatcher } from "./openapi.ts";
import { notFound } from "../domain/errors.ts";
import { operationalProblem, ProblemError } from "./problem.ts";
import type { OpenApiPathItem, RouteModule } from "./route-module.ts";
import type { BodyLimitError } from "./write-limits.ts";

const HTTP_METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;

/**
 * 405 with an `Allow` header when the path is served with other methods, else 404. Paths come from the
 * merged OpenAPI document, which a test proves equal to the mounted routes.
 */
export function unmatchedRouteHandler(paths: Record<string, OpenApiPathItem>): RequestHandler {
  const templates = Object.entries(paths).map(([template, item]) => {
    const methods = HTTP_METHODS.filter((method) => method in item).map((method) => method.toUpperCase());
    if (methods.includes("GET") && !methods.includes("HEAD")) methods.push("HEAD");
    return { matcher: openApiPathMatcher(template), methods };
  });
  return (req, _res, next) => {
    const path = requestPath(req);
    const allowed = templates.filter(({ matcher }) => matcher.test(path)).flatMap(({ methods }) => methods);
    if (allowed.length > 0 && !allowed.includes(req.method)) {
      const allow = [...new Set(allowed)].join(", ");
      next(new ProblemError(405, "Method Not Allowed", `${req.method} is not supported on ${path}; use ${allow}`, { allow }));
      return;
    }
    next(notFound(`No route for ${req.method} ${path}`));
  };
}

/**
 * body-parser failures (http-errors with a `type`) and what clients are told about them. A parser behind
 * writeLimits (backend/api/write-limits.ts) names its endpoint's limit, e.g. "for relay requests".
 */
function bodyParserProblem(error: BodyLimitError & { charset?: unknown; encoding?: unknown; maxDepth?: unknown }): ProblemError | null {
  switch (error.type) {
    case JSON_TOO_DEEP:
      return new ProblemError(400, "Bad Request", `The JSON body is nested deeper than ${String(error.maxDepth)} levels`, {
        maxDepth: error.maxDepth,
      });
    case "entity.parse.failed":
      return new ProblemError(400, "Bad Request", "The request body is not valid JSON");
    case "entity.too.large": {
      const limitOf = error.bodyLimitOf === undefined ? "" : ` for ${error.bodyLimitOf}`;
      return new ProblemError(413, "Content Too Large", `The request body exceeds the limit of ${String(error.limit)} bytes${limitOf}`, {
        limit: error.limit,
      });
    }
    case "charset.unsupported":
      return new ProblemError(415, "Unsupported Media Type", `Unsupported charset "${String(error.charset).toUpperCase()}"`);
    case "encoding.unsupported":
      return new ProblemError(415, "Unsupported Media Type", `Unsupported content encoding "${String(error.encoding)}"`);
    case "request.aborted":
      return new ProblemError(400, "Bad Request", "The request body was aborted before it was complete");
    case "request.size.invalid":
      return new ProblemError(400, "Bad Request", "The request body's size does not match its Content-Length");
    default:
      return null;
  }
}

/**
 * A path segment that is not valid percent-encoding ("%E0%A4%A"): Express's router fails to decode the route
 * parameter and throws a URIError marked status 400 but not `expose`, which is the client's mistake, not ours.
 */
function undecodablePathProblem(error: unknown): ProblemError | null {
  if (!(error instanceof URIError) || (error as { status?: unknown }).status !== 400) return null;
  return new ProblemError(400, "Bad Request", "The request path is not valid percent-encoding");
}

/** A client error that its author marked as safe to show (http-errors sets `expose` for 4xx). */
function exposedClientError(error: unknown): ProblemError | null {
  if (typeof error !== "object" || error === null) return null;
  const { status, statusCode, expose, message } = error as { status?: unknown; statusCode?: unknown; expose?: unknown; message?: unknown };
  const code = typeof status === "number" ? status : statusCode;
  if (expose !== true || typeof code !== "number" || code < 400 || code > 499) return null;
  return new ProblemError(code, STATUS_CODES[code] ?? "Client Error", typeof message === "string" ? message : undefined);
}

export function problemErrorHandler(): ErrorRequestHandler {
  return (error, req, res, next) => {
    // Once the status line is out, all Express can do is close the connection.
    if (res.headersSent) {
      next(error);
      return;
    }
    let problem: ProblemError | null =
      operationalProblem(error) ?? bodyParserProblem(error ?? {}) ?? undecodablePathProblem(error) ?? exposedClientError(error);
    if (!problem) {
      // pino-http logs `res.err` with the request's completion line: one record with stack and request id.
      res.err = error instanceof Error ? error : new Error(`non-error thrown: ${String(error)}`);
    }
    problem ??= new ProblemError(
      500,
      "Internal Server Error",
      `An unexpected error occurred; quote request id ${String(req.id as string | number)} when reporting it`,
    );

    if (problem.status === 405 && typeof problem.extensions.allow === "string") res.setHeader("Allow", problem.extensions.allow);
    res.setHeader("Cache-Control", "no-store");
    // A module that serves pages (passports) answers browsers with an HTML error page instead, except under /api:
    // there every error is problem+json, whatever the Accept header says, so clients can always parse it.
    const renderErrorPage = isApiPath(requestPath(req)) ? undefined : (res.locals.renderErrorPage as RouteModule["renderErrorPage"]);
    const page = renderErrorPage?.(problem, req) ?? null;
    if (page) {
      for (const [name, value] of Object.entries(page.headers ?? {})) res.setHeader(name, value);
      res.status(problem.status).type("html").send(page.html);
      return;
    }
    res
      .status(problem.status)
      .type("application/problem+json")
      .json(problem.toJSON(requestPath(req)));
  };
}

const isApiPath = (path: string) => path === "/api" || path.startsWith("/api/");

function requestPath(req: Request): string {
  const url = req.originalUrl || req.url;
  const query = url.indexOf("?");
  return query === -1 ? url : url.slice(0, query);
}
