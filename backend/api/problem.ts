/**
 * RFC 9457 problem details. Services throw a ProblemError for operational failures (bad input, not found,
 * conflicts); the app's error middleware turns it into `application/problem+json`. Anything else is a
 * programmer error: logged, and answered with a bare 500 that leaks nothing.
 */

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

export const badRequest = (detail: string, extensions?: Record<string, unknown>) =>
  new ProblemError(400, "Bad Request", detail, extensions);
export const notFound = (detail: string) => new ProblemError(404, "Not Found", detail);
export const conflict = (detail: string, extensions?: Record<string, unknown>) =>
  new ProblemError(409, "Conflict", detail, extensions);
export const unprocessable = (detail: string, extensions?: Record<string, unknown>) =>
  new ProblemError(422, "Unprocessable Content", detail, extensions);
export const serviceUnavailable = (detail: string) => new ProblemError(503, "Service Unavailable", detail);

function slug(title: string): string {
  return title.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/(^-|-$)/g, "");
}
