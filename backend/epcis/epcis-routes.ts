/**
 * EPCIS 2.0 export over HTTP (/api/v1/epcis/...): validates the path, calls the EPCIS service, answers the
 * document as application/ld+json. Errors are the app's problem+json (DomainErrors from the service).
 */
import { z } from "zod";
import { LOT_OR_SERIAL_PATTERN } from "../chain/gs1.ts";
import { jsonResponse, parametersFromZod, problemResponse } from "../api/openapi.ts";
import type { RouteModule } from "../api/route-module.ts";
import { routeModuleFromTable, type RouteDefinition } from "../api/route-table.ts";
import { bytes32Param } from "../api/schemas.ts";
import { parseParams } from "../api/validate.ts";
import type { PassportRecords, ProjectionReads } from "../store/port.ts";
import {
  EPCIS_MEDIA_TYPE,
  MAX_EPCIS_EVENTS,
  MAX_RECALL_LOTS,
  createEpcisService,
  type EpcisDocument,
  type EpcisService,
} from "./epcis-service.ts";

export const EPCIS_BASE_PATH = "/api/v1";

const batchParams = z.strictObject({ batchId: bytes32Param.describe("Batch id: keccak256(abi.encode(uint64 gtin, string lot)).") });
const unitParams = z.strictObject({
  batchId: bytes32Param.describe("The unit's lot (batch id)."),
  serial: z.string().regex(LOT_OR_SERIAL_PATTERN).describe("The unit's serial (AI 21), percent-encoded in the path."),
});

const documentSchema = {
  type: "object",
  description: "An EPCIS 2.0 EPCISDocument (JSON-LD); see https://ref.gs1.org/standards/epcis/ for the event shapes.",
  required: ["@context", "type", "schemaVersion", "creationDate", "epcisBody"],
  properties: {
    "@context": { type: "array" },
    type: { const: "EPCISDocument" },
    schemaVersion: { const: "2.0" },
    creationDate: { type: "string", format: "date-time" },
    epcisBody: { type: "object", properties: { eventList: { type: "array", items: { type: "object" } } } },
  },
};

export interface EpcisRoutesDeps {
  store: Pick<ProjectionReads, "getBatch" | "getBatches" | "getParticipants"> & Pick<PassportRecords, "getSerialSet">;
  service?: EpcisService;
}

export function createEpcisModule({ store, service = createEpcisService({ store }) }: EpcisRoutesDeps): RouteModule {
  const operation = (operationId: string, summary: string, description: string, parameters: z.ZodType) => ({
    operationId,
    tags: ["EPCIS"],
    summary,
    description: `${description} At most ${MAX_EPCIS_EVENTS} events per document; a larger export is refused with 422.`,
    parameters: parametersFromZod({ path: parameters }),
    responses: {
      200: jsonResponse("The EPCIS 2.0 document.", documentSchema, EPCIS_MEDIA_TYPE),
      400: problemResponse(400),
      404: problemResponse(404),
      422: problemResponse(422),
    },
  });
  const send = (res: Parameters<RouteDefinition["handler"]>[1], document: EpcisDocument) => {
    res.type(EPCIS_MEDIA_TYPE).send(JSON.stringify(document));
  };
  const routes: RouteDefinition[] = [
    {
      method: "get",
      path: "/epcis/lots/:batchId",
      operation: operation(
        "exportLotEpcis",
        "A lot's history as EPCIS 2.0",
        "Commissioning, custody handoffs, inspections, splits and recall of the lot and, before their splits, of the lots it came from.",
        batchParams,
      ),
      handler: async (req, res) => {
        send(res, await service.exportLot(parseParams(batchParams, req).batchId));
      },
    },
    {
      method: "get",
      path: "/epcis/units/:batchId/:serial",
      operation: operation(
        "exportUnitEpcis",
        "A unit's history as EPCIS 2.0",
        "The lot's history told about one unit (SGTIN); the serial must be in the lot's stored serial list.",
        unitParams,
      ),
      handler: async (req, res) => {
        const { batchId, serial } = parseParams(unitParams, req);
        send(res, await service.exportUnit(batchId, serial));
      },
    },
    {
      method: "get",
      path: "/epcis/recalls/:batchId",
      operation: operation(
        "exportRecallEpcis",
        "A recall as EPCIS 2.0",
        `The recalled lot's history and that of every lot split from it (at most ${MAX_RECALL_LOTS} lots); 404 unless the batch itself was recalled.`,
        batchParams,
      ),
      handler: async (req, res) => {
        send(res, await service.exportRecall(parseParams(batchParams, req).batchId));
      },
    },
  ];
  return routeModuleFromTable(EPCIS_BASE_PATH, routes);
}
