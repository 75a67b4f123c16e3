/**
 * How a feature plugs into the HTTP app: an Express router plus the OpenAPI 3.1 path items it serves.
 * createApp (backend/api/app.ts) mounts every module and merges their `paths` into one OpenAPI document;
 * a test checks that every mounted route is documented and every documented path is routed.
 */
import type { Request, Router } from "express";
import type { ProblemError } from "./problem.ts";

/** An OpenAPI 3.1 Path Item object keyed by lower-case method ("get", "post", ...). */
export type OpenApiPathItem = Record<string, unknown>;

export interface RouteModule {
  /** Mount point, e.g. "/api/v1" or "" for root-level paths such as GS1 Digital Links. */
  basePath: string;
  router: Router;
  /** OpenAPI paths relative to the server root (basePath included), in OpenAPI template syntax: "/api/v1/batches/{batchId}". */
  paths: Record<string, OpenApiPathItem>;
  /** Named schemas to merge into components.schemas. */
  schemas?: Record<string, unknown>;
  /**
   * True when the module's routes parse request bodies themselves (behind writeLimits, with their own size limit
   * or media types such as CSV): the app's JSON parser, which otherwise runs first capped at BODY_LIMIT, leaves
   * requests to the module's documented paths alone. Optional; absent means the app parses JSON bodies for the module.
   */
  parsesOwnBody?: boolean;
  /**
   * How this module's failures look to a browser: an HTML page for `problem` when the request should get one
   * (e.g. a passport page opened in a browser), or null for the app's problem+json. The app's one error
   * middleware asks the module that was serving the request; absent means always problem+json.
   */
  renderErrorPage?: (problem: ProblemError, req: Request) => ErrorPage | null;
}

/** An error answered as a page: the HTML, and any headers it needs (e.g. a Content-Security-Policy). */
export interface ErrorPage {
  html: string;
  headers?: Record<string, string>;
}
