/**
 * HTTP for the container read model (container-service.ts):
 *   GET /api/v1/containers/{sscc}                     one container, contents resolved to batches, holder, history
 *   GET /api/v1/containers?custodian=&batchId=        containers a participant holds, or the one holding a batch
 */
import { z } from "zod";
import { componentsFromRegistry, jsonResponse, parametersFromZod, problemResponse, schemaRef } from "../api/openapi.ts";
import type { RouteModule } from "../api/route-module.ts";
import { routeModuleFromTable } from "../api/route-table.ts";
import { addressParam, bytes32Param, pageQueryShape } from "../api/schemas.ts";
import { parseParams, parseQuery } from "../api/validate.ts";
import { SSCC_PATTERN, hasValidCheckDigit } from "../chain/gs1.ts";
import { MAX_LISTED_BATCHES, MAX_LISTED_HISTORY, type ContainerService } from "./container-service.ts";
import { containerApiSchemaRegistry } from "./container-models.ts";

export const CONTAINERS_BASE_PATH = "/api/v1";

/** An SSCC (GS1 AI 00): 18 digits ending in the mod-10 check digit. */
export const ssccSchema = z
  .string()
  .regex(SSCC_PATTERN, { error: "must be an 18-digit SSCC (extension digit, company prefix, serial reference, check digit)", abort: true })
  .refine(hasValidCheckDigit, "has a wrong GS1 check digit");

export const ssccParams = z.strictObject({ sscc: ssccSchema.describe("SSCC of the container: 18 digits with its check digit.") });

export const listContainersQuery = z.strictObject({
  custodian: addressParam
    .optional()
    .describe("Outermost containers this participant holds (containers packed inside them are listed in their view)."),
  batchId: bytes32Param.optional().describe("The container holding this batch directly (none when it is not packed)."),
  ...pageQueryShape,
});

export function createContainerModule({ service }: { service: ContainerService }): RouteModule {
  return routeModuleFromTable(
    CONTAINERS_BASE_PATH,
    [
      {
        method: "get",
        path: "/containers",
        operation: {
          tags: ["Containers"],
          operationId: "listContainers",
          summary: "List logistic units (containers) by holder or by a batch inside",
          description:
            "Containers in creation order, each summarised (custodian record, parent, counts, pending receiver). Follow `nextCursor` for more.",
          parameters: parametersFromZod({ query: listContainersQuery }),
          responses: { 200: jsonResponse("A page of container summaries.", schemaRef("ContainerSummaryPage")), 400: problemResponse(400) },
        },
        handler: async (req, res) => {
          res.json(await service.list(parseQuery(listContainersQuery, req)));
        },
      },
      {
        method: "get",
        path: "/containers/:sscc",
        operation: {
          tags: ["Containers"],
          operationId: "getContainer",
          summary: "One logistic unit with what is inside, who holds it and its history",
          description:
            "The container's contents resolved through nested containers down to the batches (GTIN, lot, effective status, recall flag), " +
            "the holder (custodian of the outermost container, who holds everything inside), its pending handoff, location and history. " +
            `At most ${MAX_LISTED_BATCHES} batches and the latest ${MAX_LISTED_HISTORY} history steps are listed; ` +
            "`contents.truncated` and `historyTruncated` say when more exist.",
          parameters: parametersFromZod({ path: ssccParams }),
          responses: {
            200: jsonResponse("The container.", schemaRef("ContainerView")),
            400: problemResponse(400),
            404: problemResponse(404, "No container with this SSCC (or not indexed yet)"),
          },
        },
        handler: async (req, res) => {
          const { sscc } = parseParams(ssccParams, req);
          res.json(await service.get(sscc));
        },
      },
    ],
    componentsFromRegistry(containerApiSchemaRegistry),
  );
}
