/**
 * Domain errors: what went wrong in the domain's words, with no HTTP in them. Services and stores throw them;
 * the HTTP layer's error middleware is the one place that turns a kind into a status code, and the indexer
 * decides from the kind whether retrying can help.
 */

export type DomainErrorKind =
  /** The caller's input is malformed (a bad cursor, filter or page size). */
  | "invalid-input"
  /** The caller did not prove who it is, or its proof (a sign-in message, a session) is invalid or expired. */
  | "unauthenticated"
  /** The caller may not do this (not a participant, missing role, suspended). */
  | "forbidden"
  /** What was asked for does not exist (or is not indexed yet). */
  | "not-found"
  /** The request contradicts stored state (already claimed, nonce used, a unique key held by another record). */
  | "conflict"
  /** Well-formed but refused by a business rule (invalid rows, an expired or reverting request). */
  | "rejected"
  /** A dependency is down or not ready; the same request may succeed later. */
  | "unavailable";

export class DomainError extends Error {
  readonly kind: DomainErrorKind;
  /** Machine-readable facts a client can act on (a reason code, the offending rows, the allowed values). */
  readonly details: Record<string, unknown>;

  constructor(kind: DomainErrorKind, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DomainError";
    this.kind = kind;
    this.details = details;
  }
}

export const invalidInput = (message: string, details?: Record<string, unknown>) => new DomainError("invalid-input", message, details);
export const unauthenticated = (message: string, details?: Record<string, unknown>) => new DomainError("unauthenticated", message, details);
export const forbidden = (message: string, details?: Record<string, unknown>) => new DomainError("forbidden", message, details);
export const notFound = (message: string, details?: Record<string, unknown>) => new DomainError("not-found", message, details);
export const conflict = (message: string, details?: Record<string, unknown>) => new DomainError("conflict", message, details);
export const rejected = (message: string, details?: Record<string, unknown>) => new DomainError("rejected", message, details);
export const unavailable = (message: string, details?: Record<string, unknown>) => new DomainError("unavailable", message, details);

export function isDomainError(error: unknown, kind?: DomainErrorKind): error is DomainError {
  return error instanceof DomainError && (kind === undefined || error.kind === kind);
}
