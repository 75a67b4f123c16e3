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
  handler: RequestHandler;
}

/** "/batches/:batchId" -> "/batches/{batchId}" */
export function toOpenApiPath(expressPath: string): string {
  return expressPath.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, "{$1}");
}

export function routeModuleFromTable(basePath: string, routes: RouteDefinition[], schemas?: Record<string, unknown>): RouteModule {
  const router = Router();
  const paths: RouteModule["paths"] = {};
  for (const route of routes) {
    router[route.method](route.path, route.handler);
    const item = (paths[toOpenApiPath(`${basePath}${route.path}`)] ??= {});
    item[route.method] = route.operation;
  }
  return { basePath, router, paths, ...(schemas === undefined ? {} : { schemas }) };
}
