/**
 * Operational endpoints at the server root: liveness (/healthz), readiness (/readyz), Prometheus
 * metrics (/metrics) and the OpenAPI document (/openapi.json). None of them is cached by clients.
 */
import type { Response } from "express";
import { z } from "zod";
import { INDEXER_STATES } from "../indexer/status.ts";
import type { ApiMetrics } from "./metrics.ts";
import { componentsFromRegistry, jsonResponse, problemSchema, schemaRef, type OpenApiDocument } from "./openapi.ts";
import { ProblemError } from "./problem.ts";
import type { RouteModule } from "./route-module.ts";
import { routeModuleFromTable } from "./route-table.ts";
import type { HealthService } from "./services/health.ts";

const operationsSchemaRegistry = z.registry<{ id: string }>();

const indexerStateSchema = z
  .enum(INDEXER_STATES)
  .describe(
    "indexing: this instance holds the indexing lease and indexes. backfill-started: it holds the lease, the store is empty and " +
      "backfill began at the deploy block. standby: another instance holds the lease and renews it; this one serves reads. " +
      "lease-lapsed: no instance is indexing (the holder's lease expired or is no longer renewed, or nobody holds it) and this " +
      "instance takes it over. failed: the indexer stopped on an error that needs an operator. head-unknown: the chain head has " +
      "not been read yet. stopped: the process is shutting down.",
  );
const indexerMessageSchema = z.string().describe("What the indexer is doing, as one sentence with the numbers.");
operationsSchemaRegistry.add(indexerStateSchema, { id: "IndexerState" });

const healthSchema = z.strictObject({
  status: z.literal("ok"),
  uptimeSeconds: z.number().nonnegative().describe("Seconds since the process started."),
  indexer: z
    .strictObject({ state: indexerStateSchema, message: indexerMessageSchema })
    .nullable()
    .describe("What the indexer is doing; null when its status could not be read. Never makes liveness fail."),
});
operationsSchemaRegistry.add(healthSchema, { id: "Health" });

const indexerReadinessSchema = z
  .strictObject({
    state: indexerStateSchema,
    message: indexerMessageSchema,
    chainId: z.int(),
    headBlock: z.int().nullable().describe("Latest block this instance read from the chain's node; null until it has read one."),
    indexedBlock: z.int().nullable().describe("The checkpoint: highest block stored in the mirror; null while the store is empty."),
    lagBlocks: z
      .int()
      .nullable()
      .describe("Blocks not yet mirrored: headBlock - indexedBlock (from the deploy block while the store is empty); null without a head."),
    maxLagBlocks: z.int().nonnegative().describe("Largest lag at which the instance still reports ready (READY_MAX_LAG_BLOCKS)."),
    eventsIndexed: z.int().nonnegative(),
    isLeader: z.boolean().describe("True when this instance holds the indexing lease."),
    leaseHolder: z
      .string()
      .nullable()
      .describe("Instance id of the indexing lease's holder (or last holder, when lapsed); null when unknown or nobody."),
    leaseExpiresAt: z.iso.datetime().nullable().describe("When that lease expires (or expired) unless renewed."),
    error: z.string().nullable().describe("The error that stopped the indexer (state failed), credentials masked; else null."),
  })
  .describe("What the indexer is doing (state, message) and the numbers behind it.");
operationsSchemaRegistry.add(indexerReadinessSchema, { id: "IndexerReadiness" });

const storeReadinessSchema = z.strictObject({ kind: z.enum(["sqlite", "mongodb"]), answered: z.boolean() });
operationsSchemaRegistry.add(storeReadinessSchema, { id: "StoreReadiness" });

export const readinessSchema = z.strictObject({
  status: z.literal("ready"),
  store: storeReadinessSchema,
  indexer: indexerReadinessSchema.nullable().describe("Null when the indexer status could not be read."),
});
operationsSchemaRegistry.add(readinessSchema, { id: "Readiness" });

/** The 503 of /readyz: a problem carrying why (reasons) and the same store and indexer objects as a 200. */
export const notReadySchema = problemSchema.omit({ errors: true }).extend({
  status: z.literal(503),
  reasons: z.array(z.string()).min(1).describe("Why the instance is not ready, one sentence each; `detail` joins them."),
  store: storeReadinessSchema,
  indexer: indexerReadinessSchema.nullable().describe("Null when the indexer status could not be read."),
});
operationsSchemaRegistry.add(notReadySchema, { id: "NotReady" });

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
          description: "Always 200 while the process runs; the body also says what the indexer is doing.",
          responses: { 200: jsonResponse("The process is alive.", schemaRef("Health")) },
        },
        handler: (_req, res) => {
          noStore(res);
          res.json(health.liveness());
        },
      },
      {
        method: "get",
        path: "/readyz",
        operation: {
          operationId: "getReadiness",
          tags: ["Operations"],
          summary: "Readiness: the store answers and the mirror is close enough to the chain head",
          description:
            "200 when the store answers and the mirror is at most maxLagBlocks behind the chain head, whichever instance indexes " +
            "(states indexing, backfill-started, standby, lease-lapsed). 503 when the store does not answer, the lag is larger or " +
            "unknown, or the state is failed, head-unknown or stopped; the problem's reasons are one sentence each and it carries " +
            "the same store and indexer objects as a 200.",
          responses: {
            200: jsonResponse("Ready to serve fresh reads.", schemaRef("Readiness")),
            503: jsonResponse("Not ready: the reasons say why.", schemaRef("NotReady"), "application/problem+json"),
          },
        },
        handler: async (_req, res) => {
          noStore(res);
          const readiness = await health.readiness();
          if (!readiness.ready) {
            throw new ProblemError(503, "Service Unavailable", `Not ready. ${readiness.reasons.join(" ")}`, {
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
