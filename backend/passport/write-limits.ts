/**
 * Limits of the passport's write endpoints (serial-list uploads, unit claims): one rate limit per client shared by
 * all of them (backend/api/write-limits.ts), and a body-size limit each. The configured values come from
 * backend/config.ts through the module's deps; these are the defaults.
 */
import type { RequestHandler } from "express";
import type { RateLimitStoreFactory } from "../api/cluster-rate-limit-store.ts";
import { writeRateLimiter } from "../api/write-limits.ts";

/** 100,000 serials of 20 characters are about 2.5 MB as JSON. */
export const DEFAULT_UPLOAD_BODY_LIMIT = "8mb";
export const DEFAULT_WRITE_RATE_LIMIT_PER_MINUTE = 60;
/** A claim is one owner handle of at most 100 characters. */
export const CLAIM_BODY_LIMIT = "4kb";

export function passportWriteRateLimiter(ratePerMinute: number, rateLimitStoreFor?: RateLimitStoreFactory): RequestHandler {
  return writeRateLimiter({
    label: "passport writes (serial-list uploads, claims)",
    ratePerMinute,
    rateLimitStoreFor,
    limiterName: "write-passport",
  });
}
