/**
 * Opaque keyset cursors: base64url of a JSON array `[tag, ...sortKey]`. The tag names the list a cursor belongs
 * to, so a cursor from one list handed to another is refused like any other malformed cursor.
 */
import { badRequest } from "../../api/problem.ts";
import type { PageRequest } from "../port.ts";

export const MAX_PAGE_LIMIT = 500;

export function encodeCursor(tag: string, key: readonly string[]): string {
  return Buffer.from(JSON.stringify([tag, ...key]), "utf8").toString("base64url");
}

/** The sort key a cursor points after, or null for the first page. Throws a 400 ProblemError when malformed. */
export function decodeCursor(tag: string, keyLength: number, cursor: string | null | undefined): string[] | null {
  if (cursor === undefined || cursor === null) return null;
  const invalid = () => badRequest("The cursor is not one this list produced; start again without a cursor.", { cursor });
  if (typeof cursor !== "string" || cursor.length === 0 || cursor.length > 2048 || !/^[A-Za-z0-9_-]+$/.test(cursor)) {
    throw invalid();
  }
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw invalid();
  }
  if (
    !Array.isArray(decoded) ||
    decoded.length !== keyLength + 1 ||
    decoded[0] !== tag ||
    !decoded.every((part) => typeof part === "string")
  ) {
    throw invalid();
  }
  return decoded.slice(1) as string[];
}

/** Checks a page request's limit (an integer in 1..500) and returns it. */
export function pageLimit(page: PageRequest): number {
  const { limit } = page;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
    throw badRequest(`limit must be an integer from 1 to ${MAX_PAGE_LIMIT}.`, { limit });
  }
  return limit;
}
