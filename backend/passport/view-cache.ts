/**
 * Rendered passports (HTML page or JSON-LD body), kept in memory and bounded by their total size, least recently
 * used first out.
 *
 * A cached body can never outlive what it shows: its key is a digest of everything the rendering read (the
 * mirror's checkpoint, the unit's claim and scan statistics, whether its serial list is stored, language,
 * representation, the link as requested), and every request reads those cheap parts afresh before it looks the
 * key up (passport-service.ts `stampOf`). A newly indexed event moves the checkpoint, so the next request computes
 * another key and renders anew; the old entry is never reached again and ages out.
 *
 * The same digest is the response's strong ETag: equal keys render equal bytes, in every API worker.
 *
 * Only public renderings are kept, the same for everyone: a signed-in viewer's page (resolver-routes.ts) is never
 * read from or written to this cache, and carries no ETag of its own.
 */
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";

export interface CachedPassport {
  etag: string;
  body: Buffer;
  /** The body compressed, made the first time a client accepting the coding asks for the cached entry. */
  gzip?: Buffer;
}

/** A content coding the cache keeps bodies in besides identity. */
export type PassportEncoding = "gzip";

export interface PassportViewCache {
  /** The body rendered under `key`, refreshed as most recently used; undefined when it is not (or no longer) kept. */
  get(key: string): CachedPassport | undefined;
  /**
   * Keeps `entry` under `key` unless it alone exceeds the bound; evicts the least recently used until within it.
   * True when it was kept.
   */
  set(key: string, entry: CachedPassport): boolean;
  /** Entries and bytes kept now. */
  size(): { entries: number; bytes: number };
}

/** Per entry, beyond its body: the key (a base64url digest) and the map's own bookkeeping, roughly. */
const ENTRY_OVERHEAD_BYTES = 200;

export const DEFAULT_PASSPORT_CACHE_MB = 64;

/** A bounded LRU of `maxBytes` (0 keeps nothing: every request renders). */
export function createPassportViewCache(maxBytes: number): PassportViewCache {
  if (!Number.isInteger(maxBytes) || maxBytes < 0) throw new RangeError(`maxBytes must be a non-negative integer, got ${maxBytes}`);
  // A Map iterates in insertion order: re-inserting on every hit keeps the least recently used first.
  const entries = new Map<string, CachedPassport>();
  let bytes = 0;
  const sizeOf = (entry: CachedPassport) => entry.body.length + (entry.gzip?.length ?? 0) + ENTRY_OVERHEAD_BYTES;

  function remove(key: string): void {
    const entry = entries.get(key);
    if (entry === undefined) return;
    entries.delete(key);
    bytes -= sizeOf(entry);
  }

  return {
    get(key) {
      const entry = entries.get(key);
      if (entry !== undefined) {
        entries.delete(key);
        entries.set(key, entry);
      }
      return entry;
    },
    set(key, entry) {
      remove(key);
      if (sizeOf(entry) > maxBytes) return false;
      entries.set(key, entry);
      bytes += sizeOf(entry);
      while (bytes > maxBytes) remove(entries.keys().next().value!);
      return entries.has(key);
    },
    size: () => ({ entries: entries.size, bytes }),
  };
}

/**
 * A Map that keeps at most `maxEntries`, least recently used out: for results of pure functions (a parsed link, a
 * proof of a serial under a content-addressed root) that are safe to keep for ever but not all at once.
 */
export function createBoundedMemo<K, V>(maxEntries: number): { get(key: K): V | undefined; set(key: K, value: V): void } {
  const entries = new Map<K, V>();
  return {
    get(key) {
      const value = entries.get(key);
      if (value !== undefined) {
        entries.delete(key);
        entries.set(key, value);
      }
      return value;
    },
    set(key, value) {
      entries.delete(key);
      entries.set(key, value);
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
    },
  };
}

/** The cache key and strong ETag of a rendering: a digest of every input that can change its bytes. */
export function passportRenderingKey(parts: readonly (string | number | null)[]): string {
  return createHash("sha256").update(JSON.stringify(parts)).digest("base64url");
}

/**
 * The quoted strong ETag of a key, and of its body in a content coding: a compressed body is another
 * representation, with bytes (and so a strong validator) of its own.
 */
export const etagOf = (key: string, encoding: PassportEncoding | null = null): string =>
  encoding === null ? `"${key.slice(0, 32)}"` : `"${key.slice(0, 32)}-${encoding}"`;

/**
 * Whether to answer an Accept-Encoding header with gzip (the client accepts it, q > 0) or identity. gzip only: on a
 * passport page brotli saves 3% more at ten to eighty times the CPU. Browsers send a handful of distinct headers, so
 * answers are remembered per header.
 */
export function preferredEncoding(header: string | undefined): PassportEncoding | null {
  if (header === undefined || header === "") return null;
  let accepts = gzipAnswers.get(header);
  if (accepts === undefined) {
    accepts = acceptsGzip(header);
    gzipAnswers.set(header, accepts);
  }
  return accepts ? "gzip" : null;
}

const gzipAnswers = createBoundedMemo<string, boolean>(256);

function acceptsGzip(header: string): boolean {
  let gzip: number | undefined;
  let any: number | undefined;
  for (const part of header.slice(0, 1_024).split(",")) {
    const [name = "", ...params] = part.split(";");
    let q = 1;
    for (const param of params) {
      const match = /^\s*q\s*=\s*([01](?:\.\d{0,3})?)\s*$/i.exec(param);
      q = match ? Number(match[1]) : 0; // a malformed weight is not trustworthy: treated as a refusal
    }
    const coding = name.trim().toLowerCase();
    if (coding === "gzip" || coding === "x-gzip") gzip = q;
    else if (coding === "*") any = q;
  }
  return (gzip ?? any ?? 0) > 0;
}

/** The body in `encoding` (compressed once per cached entry, then kept with it; about a millisecond per page). */
export function compressPassport(body: Buffer, encoding: PassportEncoding): Buffer {
  switch (encoding) {
    case "gzip":
      return gzipSync(body, { level: 6 });
  }
}

/**
 * True when an If-None-Match header names `etag` (or is "*"): the client already has these bytes. Weak comparison,
 * as RFC 9110 §13.1.2 prescribes for If-None-Match, so a W/ prefix a proxy added still matches.
 */
export function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === "*") return true;
  return header.split(",").some((candidate) => candidate.trim().replace(/^W\//, "") === etag);
}
