/**
 * A RouteModule built from a table of routes, each declared once with its handler and its OpenAPI
 * operation, so a route cannot exist without its documentation (or the other way round).
 *
 * One rule for query strings on every route: a parameter the operation does not document is refused with a 400
 * naming it, never silently ignored (a misspelt filter would otherwise answer a different question than asked).
 */
import { Router, type RequestHandler } from "express";
import { invalidInput } from "../domain/errors.ts";
import type { RouteModule } from "./route-module.ts";

export type HttpMethod = "get" | "post" | "put" | "patch" | "delete";

export interface RouteDefinition {
  method: HttpMethod;
  /** Express path relative to the module's base path, e.g. "/batches/:batchId". */
  path: string;
  /** OpenAPI 3.1 Operation object (operationId, summary, parameters, responses, ...). */
  operation: Record<string, unknown>;
  /** Runs before the handler on this route only: a body parser with its own limit, a rate limiter. */
  middleware?: RequestHandler[];
  handler: RequestHandler;
}

/**
 * The OpenAPI paths an Express 5 path serves: ":name" becomes "{name}", and each optional group "{...}"
 * (path-to-regexp 8) doubles the paths, with and without it. "/01/:gtin/10/:lot{/21/:serial}" serves
 * "/01/{gtin}/10/{lot}" and "/01/{gtin}/10/{lot}/21/{serial}". Wildcards have no OpenAPI form and throw.
 */
export function toOpenApiPaths(expressPath: string): string[] {
  if (/[*()?+]/.test(expressPath)) throw new Error(`${expressPath}: wildcards and regular expressions cannot be documented in OpenAPI`);
  const group = /\{([^{}]*)\}/.exec(expressPath);
  if (group) {
    const before = expressPath.slice(0, group.index);
    const after = expressPath.slice(group.index + group[0].length);
    return [...toOpenApiPaths(before + after), ...toOpenApiPaths(before + group[1] + after)];
  }
  return [expressPath.replace(/:([A-Za-z_$][A-Za-z0-9_$]*)/g, "{$1}")];
}

export function routeModuleFromTable(
  basePath: string,
  routes: RouteDefinition[],
  schemas?: Record<string, unknown>,
  options: Pick<RouteModule, "parsesOwnBody" | "renderErrorPage"> = {},
): RouteModule {
  const router = Router();
  const paths: RouteModule["paths"] = {};
  for (const route of routes) {
    const documented = toOpenApiPaths(`${basePath}${route.path}`);
    // One operation object per path: operationIds and path parameters differ between the two forms of a group.
    if (documented.length !== 1) throw new Error(`${route.path}: declare one route per path instead of an optional group`);
    // Last before the handler, so a route's markers (e.g. passport error pages) apply to the refusal too.
    router[route.method](route.path, ...(route.middleware ?? []), refuseUndocumentedQuery(route.operation), route.handler);
    const item = (paths[documented[0]!] ??= {});
    item[route.method] = route.operation;
  }
  return { basePath, router, paths, ...(schemas === undefined ? {} : { schemas }), ...options };
}

type QueryParameter = { name: string; in: string; schema?: { type?: unknown; patternProperties?: Record<string, unknown> } };

/**
 * The query keys an operation documents: each `in: query` parameter by name, and for a free-form object parameter
 * (style form, exploded: e.g. GS1 Digital Link's data attributes) every key its `patternProperties` allow.
 */
function documentedQueryKeys(operation: Record<string, unknown>): (key: string) => boolean {
  const parameters = ((operation.parameters ?? []) as QueryParameter[]).filter((parameter) => parameter.in === "query");
  const names = new Set(parameters.filter((parameter) => parameter.schema?.type !== "object").map((parameter) => parameter.name));
  const patterns = parameters
    .filter((parameter) => parameter.schema?.type === "object")
    .flatMap((parameter) => Object.keys(parameter.schema?.patternProperties ?? {}).map((pattern) => new RegExp(pattern)));
  return (key) => names.has(key) || patterns.some((pattern) => pattern.test(key));
}

function refuseUndocumentedQuery(operation: Record<string, unknown>): RequestHandler {
  const documented = documentedQueryKeys(operation);
  return (req, _res, next) => {
    const unknown = Object.keys(req.query).filter((key) => !documented(key));
    if (unknown.length === 0) {
      next();
      return;
    }
    next(
      invalidInput(`Unknown query parameter${unknown.length === 1 ? "" : "s"}: ${unknown.join(", ")}`, {
        errors: unknown.map((key) => ({ in: "query", path: key, message: "is not a parameter of this endpoint" })),
      }),
    );
  };
}
