/**
 * RFC 9457 problem details, the HTTP face of a failure. Services and stores throw DomainErrors
 * (backend/domain/errors.ts); the error middleware is where a domain kind becomes a status (`problemFor`).
 * ProblemError itself is for conditions only HTTP has (405, 406, 413, 415, 429). Anything else is a
 * programmer error: logged, and answered with a bare 500 that leaks nothing.
 */
import { DomainError, type DomainErrorKind } from "../domain/errors.ts";

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  [extension: string]: unknown;
}

export class ProblemError extends Error {
  readonly status: number;
  readonly title: string;
  readonly type: string;
  readonly detail: string | undefined;
  readonly extensions: Record<string, unknown>;

  constructor(status: number, title: string, detail?: string, extensions: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(detail ?? title, options);
    this.name = "ProblemError";
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.type = `https://provena.dev/problems/${slug(title)}`;
    this.extensions = extensions;
  }

  toJSON(instance?: string): ProblemDetails {
    return {
      type: this.type,
      title: this.title,
      status: this.status,
      ...(this.detail === undefined ? {} : { detail: this.detail }),
      ...(instance === undefined ? {} : { instance }),
      ...this.extensions,
    };
  }
}

const STATUS_OF_KIND: Record<DomainErrorKind, { status: number; title: string }> = {
  "invalid-input": { status: 400, title: "Bad Request" },
  unauthenticated: { status: 401, title: "Unauthorized" },
  forbidden: { status: 403, title: "Forbidden" },
  "not-found": { status: 404, title: "Not Found" },
  conflict: { status: 409, title: "Conflict" },
  rejected: { status: 422, title: "Unprocessable Content" },
  unavailable: { status: 503, title: "Service Unavailable" },
};

/** The problem a domain error is answered with. */
export function problemFromDomainError(error: DomainError): ProblemError {
  const { status, title } = STATUS_OF_KIND[error.kind];
  return new ProblemError(status, title, error.message, error.details, { cause: error });
}

/** The problem for an operational error (ProblemError or DomainError); null for anything else. */
export function operationalProblem(error: unknown): ProblemError | null {
  if (error instanceof ProblemError) return error;
  if (error instanceof DomainError) return problemFromDomainError(error);
  return null;
}

function slug(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/(^-|-$)/g, "");
}
