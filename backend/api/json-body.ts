/**
 * The one JSON nesting limit, applied by every body parser that can receive JSON (the app's, the write endpoints',
 * the passport's uploads, claims and RPC proxy) before the body is parsed. JSON.parse itself copes with deep
 * nesting, but the recursive code after it (schema validation, the serial-list parser, serialisers) runs out of
 * stack at a few thousand levels: a 10,000-level body of 20 kB would otherwise crash the request with a 500.
 * The error reaches the app's error middleware as a 400 problem naming the limit (problem-middleware.ts).
 */
import type { IncomingMessage } from "node:http";
import express, { type RequestHandler } from "express";
import { WRITE_LIMIT_DEFAULTS } from "../config.ts";

/** body-parser's error `type` for a body over the nesting limit (the error middleware's 400). */
export const JSON_TOO_DEEP = "entity.too.deep" as const;

export interface JsonTooDeepError extends Error {
  status: 400;
  expose: true;
  type: typeof JSON_TOO_DEEP;
  maxDepth: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * True when arrays and objects nest deeper than `maxDepth` (`[]` is depth 1) outside strings. A linear scan that
 * does not validate the JSON: malformed text is the parser's to report. UTF-8 is scanned as bytes (multi-byte
 * characters never contain ASCII bytes); a string is scanned by UTF-16 code unit.
 */
export function jsonNestingExceeds(json: Uint8Array | string, maxDepth: number): boolean {
  const length = json.length;
  const at = typeof json === "string" ? (i: number) => json.charCodeAt(i) : (i: number) => json[i]!;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < length; i++) {
    const code = at(i);
    if (inString) {
      if (code === BACKSLASH) i++;
      else if (code === QUOTE) inString = false;
    } else if (code === QUOTE) inString = true;
    else if (code === OPEN_BRACKET || code === OPEN_BRACE) {
      if (++depth > maxDepth) return true;
    } else if (code === CLOSE_BRACKET || code === CLOSE_BRACE) depth--;
  }
  return false;
}

export function jsonTooDeepError(maxDepth: number): JsonTooDeepError {
  return Object.assign(new Error(`The JSON body is nested deeper than ${maxDepth} levels`), {
    status: 400 as const,
    expose: true as const,
    type: JSON_TOO_DEEP,
    maxDepth,
  });
}

/**
 * body-parser's `verify` hook refusing JSON nested deeper than maxDepth. `onlyIf` limits it to some requests (a
 * text parser that also reads CSV checks only its JSON bodies).
 */
export function refuseDeepJson(
  maxDepth: number,
  onlyIf: (req: IncomingMessage) => boolean = () => true,
): (req: IncomingMessage, res: unknown, body: Buffer, encoding: string) => void {
  return (req, _res, body, encoding) => {
    if (!onlyIf(req)) return;
    if (jsonNestingExceeds(decodable(encoding) ? new TextDecoder(encoding).decode(body) : body, maxDepth)) throw jsonTooDeepError(maxDepth);
  };
}

/** UTF-8 is scanned as bytes; UTF-16 must be decoded first, since its ASCII characters are not single bytes. */
function decodable(encoding: string | null | undefined): encoding is string {
  if (!encoding || /^utf-?8$/i.test(encoding)) return false;
  try {
    new TextDecoder(encoding);
    return true;
  } catch {
    return false;
  }
}

export interface JsonBodyParserOptions {
  /** Largest body, in bytes or the `bytes` notation Express understands ("64kb"). */
  limit: number | string;
  /** Deepest nesting of arrays and objects (config JSON_MAX_DEPTH). */
  maxDepth?: number;
  /** Media types to parse; default application/json (express.json's own default). */
  type?: NonNullable<Parameters<typeof express.json>[0]>["type"];
}

/** express.json with the nesting limit: every JSON body parser of the app is made here. */
export function jsonBodyParser({ limit, maxDepth = WRITE_LIMIT_DEFAULTS.jsonMaxDepth, type }: JsonBodyParserOptions): RequestHandler {
  return express.json({
    limit,
    verify: refuseDeepJson(maxDepth),
    ...(type === undefined ? {} : { type }),
  });
}

/** application/json or any application/*+json (problem+json, ld+json), as the JSON parsers accept. */
export function isJsonMediaType(contentType: string | undefined): boolean {
  const mediaType = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  return mediaType === "application/json" || /^application\/[a-z0-9.!#$%&'*^_`{|}~-]+\+json$/.test(mediaType);
}
