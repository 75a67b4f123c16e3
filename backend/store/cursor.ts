/**
 * Keyset pagination, shared by both store adapters so a client sees the same cursors and the same 400s whichever
 * store serves it. A cursor is the sort key of the last item of a page, tagged with
 * the list it belongs to, as base64url JSON: opaque to callers, and checked strictly when it comes back, so a
 * tampered, truncated or foreign cursor is a 400 problem rather than a wrong page.
 */
import { invalidInput } from "../domain/errors.ts";
import type { PageRequest } from "./port.ts";

export const MAX_PAGE_LIMIT = 500;

/** Which list a cursor belongs to, and how many string keys its sort key has. */
export const CURSOR_KINDS = {
  events: 1, // id
  batches: 2, // registered.eventId, batchId
  participants: 2, // onboarded.eventId, address
  orders: 2, // opened.eventId, orderId
  containers: 2, // created.eventId, sscc
  batchReadings: 3, // timestamp, device, sequence
  legReadings: 1, // sequence
  rejectedReadings: 1, // id
} as const;

export type CursorKind = keyof typeof CURSOR_KINDS;

const MAX_CURSOR_LENGTH = 1024;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export function encodeCursor(kind: CursorKind, keys: string[]): string {
  if (keys.length !== CURSOR_KINDS[kind]) throw new Error(`a ${kind} cursor has ${CURSOR_KINDS[kind]} keys, got ${keys.length}`);
  return Buffer.from(JSON.stringify([kind, ...keys]), "utf8").toString("base64url");
}

/** The sort key a cursor carries; throws a "invalid-input" DomainError for anything this adapter did not produce. */
export function decodeCursor(kind: CursorKind, cursor: string): string[] {
  const invalid = () =>
    invalidInput("Invalid cursor", {
      errors: [{ in: "query", path: "cursor", message: "not a cursor of this list; pass the nextCursor of the previous page" }],
    });
  if (typeof cursor !== "string" || cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH || !BASE64URL.test(cursor)) {
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
    decoded.length !== CURSOR_KINDS[kind] + 1 ||
    decoded[0] !== kind ||
    !decoded.every((part) => typeof part === "string")
  ) {
    throw invalid();
  }
  const keys = decoded.slice(1) as string[];
  // Node's base64url decoder skips characters it cannot use, so only a cursor that re-encodes to itself is ours.
  if (encodeCursor(kind, keys) !== cursor) throw invalid();
  return keys;
}

/** The page size asked for, or a "invalid-input" DomainError when it is not an integer in 1..500. */
export function checkPageLimit(page: PageRequest): number {
  const limit = page?.limit;
  if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
    throw invalidInput("Invalid page size", {
      errors: [{ in: "query", path: "limit", message: `must be an integer from 1 to ${MAX_PAGE_LIMIT}` }],
    });
  }
  return limit;
}

/** The decoded cursor of a page request, or null for the first page. */
export function pageCursor(kind: CursorKind, page: PageRequest): string[] | null {
  if (page.cursor === undefined || page.cursor === null) return null;
  return decodeCursor(kind, page.cursor);
}

/**
 * Cuts the limit + 1 rows read into a page: `nextCursor` is null exactly when no further item matched.
 */
export function toPage<Row, Item>(
  rows: Row[],
  limit: number,
  kind: CursorKind,
  sortKey: (row: Row) => string[],
  toItem: (row: Row) => Item,
): { items: Item[]; nextCursor: string | null } {
  const hasMore = rows.length > limit;
  const pageRows = hasMore ? rows.slice(0, limit) : rows;
  return {
    items: pageRows.map(toItem),
    nextCursor: hasMore ? encodeCursor(kind, sortKey(pageRows[pageRows.length - 1])) : null,
  };
}
