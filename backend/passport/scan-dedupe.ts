/**
 * Which scans count towards clone detection: one per client per unit per window. A client is a keyed hash of its
 * address (the app's "trust proxy" setting decides which address that is). The key is random per process and the
 * hash covers the window, so nothing kept links a scan to an IP, and an earlier window's entries cannot be matched.
 *
 * Attacker: one client reloading a genuine unit's page, or rotating its User-Agent, Accept-Language or country
 * headers, to make the passport say "This code may have been copied". It now counts once per window, whatever
 * headers it sends. Real clones are scanned by many people from many addresses and still add up.
 *
 * Kept in memory and bounded (oldest forgotten first): a restart or a second API process lets a client count once
 * more, which errs towards fewer warnings, never more.
 */
import { createHmac, randomBytes } from "node:crypto";
import type { Hex } from "../domain/model.ts";

export interface ScanDeduperOptions {
  /** A client counts at most once per unit per window (the clone thresholds' recent window). */
  windowMs: number;
  /** Most (client, unit, window) entries remembered at once. */
  maxEntries?: number;
  now?: () => number;
}

export interface ScanDeduper {
  /** True the first time `client` scans this unit (or batch, serial null) in the current window; false for repeats. */
  firstInWindow(batchId: Hex, serial: string | null, client: string): boolean;
}

export const DEFAULT_SCAN_DEDUPE_ENTRIES = 100_000;

export function createScanDeduper({ windowMs, maxEntries = DEFAULT_SCAN_DEDUPE_ENTRIES, now = Date.now }: ScanDeduperOptions): ScanDeduper {
  if (!(windowMs > 0)) throw new RangeError(`windowMs must be positive, got ${windowMs}`);
  const secret = randomBytes(32);
  const seen = new Set<string>();
  return {
    firstInWindow(batchId, serial, client) {
      const window = Math.floor(now() / windowMs);
      const key = createHmac("sha256", secret)
        .update(`${window}\0${client}\0${batchId.toLowerCase()}\0${serial ?? ""}`)
        .digest("base64url");
      if (seen.has(key)) return false;
      seen.add(key);
      // A Set iterates in insertion order: the first entry is the oldest.
      if (seen.size > maxEntries) seen.delete(seen.values().next().value!);
      return true;
    },
  };
}
