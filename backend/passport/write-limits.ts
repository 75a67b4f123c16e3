/**
 * Limits on the passport's write endpoints (serial-list uploads, unit claims): one rate limit per client shared by
 * all of them, and a body-size limit each. Refusals are problems: 429 here, 413 from the body parsers.
 */
import type { RequestHandler } from "express";
import { rateLimit } from "express-rate-limit";
import { ProblemError } from "../api/problem.ts";

/** 100,000 serials of 20 characters are about 2.5 MB as JSON. */
export const DEFAULT_UPLOAD_BODY_LIMIT = "8mb";
export const DEFAULT_WRITE_RATE_LIMIT_PER_MINUTE = 60;
/** A claim is one owner handle of at most 100 characters. */
export const CLAIM_BODY_LIMIT = "4kb";

export function passportWriteRateLimiter(limitPerMinute: number): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: limitPerMinute,
    standardHeaders: "draft-8",
    legacyHeaders: false,
    handler: (_req, _res, next, options) => {
      next(
        new ProblemError(
          429,
          "Too Many Requests",
          `at most ${options.limit} passport writes (serial-list uploads, claims) per minute per client; retry later`,
        ),
      );
    },
  });
}
