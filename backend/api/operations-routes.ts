/**
 * Operational endpoints at the server root: liveness (/healthz), readiness (/readyz), Prometheus
 * metrics (/metrics) and the OpenAPI document (/openapi.json). None of them is cached by clients.
 */
import type { Response } from "express";
import { z } from "zod";
import type { ApiMetrics } from "./metrics.ts";
import { componentsFromRegistry, jsonResponse, problemResponse, schemaRef, type OpenApiDocument } from "./openapi.ts";
import { ProblemError } from "./problem.ts";
import type { RouteModule } from "./route-module.ts";
import { routeModuleFromTable } from "./route-table.ts";
import type { HealthService } from "./services/health.ts";

const operationsSchemaRegistry = z.registry<{ id: string }>();

const healthSchema = z.strictObject({
  status: z.literal("ok"),
  uptimeSeconds: z.number().nonnegative().describe("Seconds since the process started."),
});
operationsSchemaRegistry.add(healthSchema, { id: "Health" });

const indexerReadinessSchema = z
  .strictObject({
    chainId: z.int(),
    headBlock: z.int().nullable(),
    indexedBlock: z.int().nullable(),
    lagBlocks: z.int().nullable(),
    eventsIndexed: z.int().nonnegative(),
    isLeader: z.boolean().describe("True when this instance holds the indexing lease."),
    maxLagBlocks: z.int().nonnegative().describe("Largest lag at which the instance still reports ready."),
  })
  .nullable();

export const readinessSchema = z.strictObject({
  status: z.literal("ready"),
  store: z.strictObject({ kind: z.enum(["sqlite", "mongodb"]), answered: z.boolean() }),
  indexer: indexerReadinessSchema,
});
operationsSchemaRegistry.add(readinessSchema, { id: "Readiness" });

/** Probes and scrapes must always see the present state, never a cached one. */
const noStore = (res: Response) => res.setHeader("Cache-Control", "no-store");

export interface OperationsRoutesDeps {
  health: HealthService;
  metrics: ApiMetrics;
  /** The merged document of the whole app (built by createApp once every module is known). */
  openApiDocument: () => OpenApiDocument;
}

export function createOperationsRoutes({ health, metrics, openApiDocument }: OperationsRoutesDeps): RouteModule {
  return routeModuleFromTable(
    "",
    [
      {
        method: "get",
        path: "/healthz",
        operation: {
          operationId: "getHealth",
          tags: ["Operations"],
          summary: "Liveness: the process is up",
          responses: { 200: jsonResponse("The process is alive.", schemaRef("Health")) },
        },
        handler: (_req, res) => {
          noStore(res);
          res.json({ status: "ok", uptimeSeconds: Math.round(process.uptime() * 1000) / 1000 });
        },
      },
      {
        method: "get",
        path: "/readyz",
        operation: {
          operationId: "getReadiness",
          tags: ["Operations"],
          summary: "Readiness: the store answers and the mirror is close enough to the chain head",
          responses: {
            200: jsonResponse("Ready to serve fresh reads.", schemaRef("Readiness")),
            503: problemResponse(503),
          },
        },
        handler: async (_req, res) => {
          noStore(res);
          const readiness = await health.readiness();
          if (!readiness.ready) {
            throw new ProblemError(503, "Service Unavailable", `Not ready: ${readiness.reasons.join("; ")}`, {
              reasons: readiness.reasons,
              store: readiness.store,
              indexer: readiness.indexer,
            });
          }
          res.json({ status: "ready", store: readiness.store, indexer: readiness.indexer });
        },
      },
      {
        method: "get",
        path: "/metrics",
        operation: {
          operationId: "getMetrics",
          tags: ["Operations"],
          summary: "Prometheus metrics",
          description: "Indexer head, indexed block, lag and events indexed; HTTP latency histogram by route and status; process metrics.",
          responses: {
            200: { description: "Prometheus text exposition format.", content: { "text/plain": { schema: { type: "string" } } } },
          },
        },
        handler: async (_req, res) => {
          noStore(res);
          const body = await metrics.registry.metrics();
          res.type(metrics.registry.contentType).send(body);
        },
      },
      {
        method: "get",
        path: "/openapi.json",
        operation: {
          operationId: "getOpenApiDocument",
          tags: ["Operations"],
          summary: "This API's OpenAPI 3.1 document",
          responses: { 200: jsonResponse("The OpenAPI document.", { type: "object" }) },
        },
        handler: (_req, res) => {
          res.json(openApiDocument());
        },
      },
    ],
    componentsFromRegistry(operationsSchemaRegistry),
  );
}
