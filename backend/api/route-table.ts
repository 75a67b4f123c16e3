/**
 * A RouteModule built from a table of routes, each declared once with its handler and its OpenAPI
 * operation, so a route cannot exist without its documentation (or the other way round).
 */
import { Router, type RequestHandler } from "express";
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
    router[route.method](route.path, ...(route.middleware ?? []), route.handler);
    const item = (paths[documented[0]!] ??= {});
    item[route.method] = route.operation;
  }
  return { basePath, router, paths, ...(schemas === undefined ? {} : { schemas }), ...options };
}
