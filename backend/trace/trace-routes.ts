/**
 * HTTP for traces (trace-service.ts):
 *   GET /api/v1/batches/{batchId}/trace?direction=both|back|forward
 */
import { z } from "zod";
import { jsonResponse, parametersFromZod, problemResponse } from "../api/openapi.ts";
import type { RouteModule } from "../api/route-module.ts";
import { routeModuleFromTable } from "../api/route-table.ts";
import { batchIdParams } from "../api/schemas.ts";
import { parseParams, parseQuery } from "../api/validate.ts";
import { MAX_TRACE_LOTS, type TraceService } from "./trace-service.ts";

export const TRACE_BASE_PATH = "/api/v1";

const traceQuery = z.strictObject({
  direction: z
    .enum(["both", "back", "forward"])
    .default("both")
    .describe(
      "back: the lots it came from (split parents, inputs of merges); forward: the lots that came from it (split children, outputs of merges); both (default).",
    ),
});

export function createTraceModule({ service }: { service: TraceService }): RouteModule {
  return routeModuleFromTable(TRACE_BASE_PATH, [
    {
      method: "get",
      path: "/batches/:batchId/trace",
      operation: {
        tags: ["trace"],
        operationId: "traceBatch",
        summary: "Every lot a lot came from and every lot that came from it, with where each is, who holds it and who held it",
        description:
          "One answer for the whole lineage, through splits and merges (transformations): ancestors nearest first, then descendants " +
          "generation by generation, each lot once however many paths reach it, each with its effective status (a recall reaches " +
          "every lot made from the recalled one, through merges too), current custodian, location, holders in order, the recall that " +
          "reaches it and the merges that made or consumed it; then the merges crossed. " +
          `At most ${MAX_TRACE_LOTS} lots; a larger tree is refused with 422, never truncated.`,
        parameters: parametersFromZod({ path: batchIdParams, query: traceQuery }),
        responses: {
          200: jsonResponse("The trace", { type: "object" }),
          400: problemResponse(400),
          404: problemResponse(404, "No such batch (or not indexed yet)"),
          422: problemResponse(422, `The tree holds more than ${MAX_TRACE_LOTS} lots`),
        },
      },
      handler: async (req, res) => {
        const { batchId } = parseParams(batchIdParams, req);
        const { direction } = parseQuery(traceQuery, req);
        res.json(await service.trace(batchId, direction));
      },
    },
  ]);
}
