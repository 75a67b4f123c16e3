/**
 * Per-client rate limits on everything that is not a probe: one budget for the API (/api/..., /openapi.json), one
 * for the rest (passport pages, their assets, QR codes, the verifier's RPC proxy). Write endpoints count here too,
 * and also against their own, much smaller write limit (write-limits.ts). A refused request goes to the app's one
 * error middleware as a 429 problem; the RateLimit headers (IETF draft 8) and Retry-After say when to come back.
 *
 * Clients are keyed by address as Express's "trust proxy" (config TRUST_PROXY) resolves it, IPv6 addresses by their
 * /56 (one subscriber's network), and each budget remembers at most `maxClients` clients (rate-limit-store.ts).
 */
import type { Request, RequestHandler } from "express";
import { rateLimit } from "express-rate-limit";
import { ProblemError } from "./problem.ts";
import { localRateLimitStore, type RateLimitStoreFactory } from "./cluster-rate-limit-store.ts";

/** Liveness, readiness and metrics: polled by orchestrators and scrapers every few seconds, never limited. */
export const UNLIMITED_PATHS = new Set(["/healthz", "/readyz", "/metrics"]);

export interface ReadLimitsOptions {
  /** Requests per minute per client under /api and /openapi.json. */
  apiPerMinute: number;
  /** Requests per minute per client everywhere else (passport pages, assets, QR codes, the RPC proxy). */
  passportPerMinute: number;
  /** Clients each budget remembers (the rate limiters' memory bound). */
  maxClients: number;
  /** Where each budget counts hits, by limiter name ("read-api", "read-passport"); default: in this process. */
  rateLimitStoreFor?: RateLimitStoreFactory;
}

export type ReadBudget = "api" | "passport" | "unlimited";

/** Which budget a request path counts against. */
export function readBudgetOf(path: string): ReadBudget {
  const lower = path.toLowerCase().replace(/\/+$/, "") || "/";
  if (UNLIMITED_PATHS.has(lower)) return "unlimited";
  if (lower === "/api" || lower.startsWith("/api/") || lower === "/openapi.json") return "api";
  return "passport";
}

export function readLimits({
  apiPerMinute,
  passportPerMinute,
  maxClients,
  rateLimitStoreFor = localRateLimitStore,
}: ReadLimitsOptions): RequestHandler {
  const limiter = (perMinute: number, label: string, name: string) =>
    rateLimit({
      windowMs: 60_000,
      limit: perMinute,
      standardHeaders: "draft-8",
      legacyHeaders: false,
      // TRUST_PROXY is validated where it is configured; a client sending X-Forwarded-For past it is no misconfiguration.
      validate: { xForwardedForHeader: false },
      store: rateLimitStoreFor(name, { maxClients }),
      handler: (_req, _res, next) => {
        next(new ProblemError(429, "Too Many Requests", `at most ${perMinute} ${label} per minute per client; retry later`));
      },
    });
  const api = limiter(apiPerMinute, "API requests", "read-api");
  const passport = limiter(passportPerMinute, "passport requests", "read-passport");
  return (req, res, next) => {
    const budget = readBudgetOf(pathOf(req));
    if (budget === "unlimited") next();
    else void (budget === "api" ? api : passport)(req, res, next);
  };
}

function pathOf(req: Request): string {
  const url = req.originalUrl || req.url;
  const query = url.indexOf("?");
  return query === -1 ? url : url.slice(0, query);
}
