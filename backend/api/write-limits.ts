/**
 * The limits every write endpoint runs behind: a per-client rate limit, then body parsers capped at the
 * endpoint's size limit. Neither answers the client itself: a refused request goes to the app's one error
 * middleware (backend/api/problem-middleware.ts) as a 429 ProblemError or a body-parser error, which becomes
 * a 413 (400/415 for unreadable bodies) naming the endpoint's limit. The numbers come from backend/config.ts.
 */
import express, { type RequestHandler } from "express";
import { rateLimit } from "express-rate-limit";
import { jsonBodyParser } from "./json-body.ts";
import { LIMIT_DEFAULTS } from "../config.ts";
import { ProblemError } from "./problem.ts";
import { localRateLimitStore, type RateLimitStoreFactory } from "./cluster-rate-limit-store.ts";

/** A body parser for one kind of media type the endpoint accepts; every one is capped at the endpoint's bodyLimit. */
export type WriteBodyParser =
  | { kind: "json"; type?: string | string[] }
  | { kind: "text"; type: string | string[] }
  | { kind: "urlencoded" }
  /** The bytes as a Buffer, whatever the media type (the endpoint checks what they are). */
  | { kind: "raw" };

export interface WriteLimitsOptions {
  /** What the endpoint receives, plural, as clients read it in a 413 or 429 detail: "relay requests". */
  label: string;
  /** Largest request body, in bytes or the `bytes` notation Express understands ("64kb"). */
  bodyLimit: number | string;
  /** Requests per minute per client (by IP, as the app's "trust proxy" setting resolves it). */
  ratePerMinute: number;
  /** Default: JSON only (application/json and application/*+json). */
  parsers?: WriteBodyParser[];
  /** Deepest nesting of a JSON body (config JSON_MAX_DEPTH; default WRITE_LIMIT_DEFAULTS.jsonMaxDepth). */
  jsonMaxDepth?: number;
  /** Where the rate limit counts hits (default: in this process); `limiterName` names its counter there. */
  rateLimitStoreFor?: RateLimitStoreFactory;
  /** The rate limiter's stable name, the same in every process ("write-relay"); default: "write-" + label. */
  limiterName?: string;
}

/** A body-parser error that carries the label of the limit it broke, for the error middleware's 413 detail. */
export interface BodyLimitError {
  type?: unknown;
  limit?: unknown;
  bodyLimitOf?: string;
}

const JSON_MEDIA_TYPES = ["application/json", "application/*+json"];

/**
 * The middleware to put before a write endpoint's handler (a RouteDefinition's `middleware`): the rate limiter
 * first, so a client cannot make the server read large bodies faster than the limit allows, then the parsers.
 */
export function writeLimits(options: WriteLimitsOptions): RequestHandler[] {
  const { label, bodyLimit, ratePerMinute } = options;
  const limiter = writeRateLimiter({
    label,
    ratePerMinute,
    rateLimitStoreFor: options.rateLimitStoreFor,
    limiterName: options.limiterName,
  });
  const parsers = (options.parsers ?? [{ kind: "json" }]).map((parser) =>
    labelBodyErrors(bodyParser(parser, bodyLimit, options.jsonMaxDepth), label),
  );
  return [limiter, ...parsers];
}

/**
 * A per-client rate limit alone, for endpoints that share one budget (the passport's uploads and claims); its
 * 429 reaches the error middleware as a problem naming `label`.
 */
export function writeRateLimiter({
  label,
  ratePerMinute,
  maxClients = LIMIT_DEFAULTS.rateLimitMaxClients,
  rateLimitStoreFor = localRateLimitStore,
  limiterName = `write-${label}`,
}: Pick<WriteLimitsOptions, "label" | "ratePerMinute" | "rateLimitStoreFor" | "limiterName"> & { maxClients?: number }): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: ratePerMinute,
    store: rateLimitStoreFor(limiterName, { maxClients }),
    standardHeaders: "draft-8",
    legacyHeaders: false,
    // TRUST_PROXY is validated where it is configured; a client sending X-Forwarded-For past it is no misconfiguration.
    validate: { xForwardedForHeader: false },
    handler: (_req, _res, next) => {
      next(new ProblemError(429, "Too Many Requests", `at most ${ratePerMinute} ${label} per minute per client; retry later`));
    },
  });
}

/** One line for an operation's OpenAPI description, so the documented limits are the enforced ones. */
export function describeWriteLimits({ label, bodyLimit, ratePerMinute }: WriteLimitsOptions): string {
  const size = typeof bodyLimit === "number" ? `${bodyLimit} bytes` : bodyLimit;
  return `Limits: bodies up to ${size}; at most ${ratePerMinute} ${label} per minute per client (429 with Retry-After beyond).`;
}

function bodyParser(parser: WriteBodyParser, limit: number | string, maxDepth: number | undefined): RequestHandler {
  switch (parser.kind) {
    case "json":
      return jsonBodyParser({ limit, type: parser.type ?? JSON_MEDIA_TYPES, ...(maxDepth === undefined ? {} : { maxDepth }) });
    case "text":
      return express.text({ limit, type: parser.type });
    case "urlencoded":
      return express.urlencoded({ limit, extended: false });
    case "raw":
      return express.raw({ limit, type: () => true });
  }
}

/** Passes the parser's failures on unchanged, except that they now name the limit they broke. */
function labelBodyErrors(parser: RequestHandler, label: string): RequestHandler {
  return (req, res, next) => {
    parser(req, res, (error?: unknown) => {
      if (typeof error === "object" && error !== null && (error as BodyLimitError).type === "entity.too.large") {
        (error as BodyLimitError).bodyLimitOf = label;
      }
      next(error);
    });
  };
}
