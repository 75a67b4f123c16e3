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
import { parseParams, parseQuery } from "../api/validate.ts";
import type { ContainerReads, MirrorLog, PassportRecords, ProjectionReads, TransformationRecords } from "../store/port.ts";
import { ssccParams } from "../containers/container-routes.ts";
import {
  EPCIS_EVENT_TYPES,
  MAX_SCANNED_EVENTS,
  canonicalUri,
  cbvName,
  createEpcisQueryService,
  type EpcisQueryService,
} from "./epcis-query.ts";
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

/** EPCIS 2.0 REST lists several values of one parameter separated by "|". */
const valueList = (describe: string) =>
  z
    .string()
    .min(1)
    .max(2_000)
    .transform((value) => value.split("|").filter((item) => item.length > 0))
    .describe(`${describe} Several values separated by "|" match any of them.`);

const instant = (describe: string) =>
  z.iso
    .datetime({ offset: true })
    .transform((value) => Date.parse(value) / 1_000)
    .describe(describe);

const EPC_FILTER_DESCRIPTION =
  "Lot EPC classes (urn:epc:class:lgtin:… or the GS1 Digital Link https://id.gs1.org/01/{gtin}/10/{lot}): events whose input or output is that lot.";

/** The EPCIS 2.0 REST query parameters Provena answers (SimpleEventQuery's names). */
export const epcisEventsQuery = z.strictObject({
  eventType: valueList(`Event types (${EPCIS_EVENT_TYPES.join(", ")}).`).optional(),
  GE_eventTime: instant("Events at or after this instant (ISO 8601 with offset).").optional(),
  LT_eventTime: instant("Events before this instant (ISO 8601 with offset).").optional(),
  EQ_bizStep: valueList("CBV business steps: bare names (shipping) or their URIs.").optional(),
  EQ_disposition: valueList("CBV dispositions: bare names (in_transit) or their URIs.").optional(),
  EQ_bizLocation: valueList("Business locations: SGLN EPC URIs or GS1 Digital Links (/414/…).").optional(),
  EQ_readPoint: valueList("Read points: SGLN EPC URIs or GS1 Digital Links (/414/…).").optional(),
  MATCH_anyEPC: valueList(EPC_FILTER_DESCRIPTION).optional(),
  MATCH_epcClass: valueList(EPC_FILTER_DESCRIPTION).optional(),
  MATCH_anyEPCClass: valueList(EPC_FILTER_DESCRIPTION).optional(),
  perPage: z.coerce.number().int().min(1).max(500).default(30).describe("Events per page (1-500, default 30)."),
  nextPageToken: z.string().min(1).max(512).optional().describe("The token from the previous page's Link header."),
});

const queryDocumentSchema = {
  type: "object",
  description: "An EPCIS 2.0 EPCISQueryDocument (JSON-LD) of a SimpleEventQuery's results.",
  required: ["@context", "type", "schemaVersion", "creationDate", "epcisBody"],
  properties: {
    "@context": { type: "array" },
    type: { const: "EPCISQueryDocument" },
    schemaVersion: { const: "2.0" },
    creationDate: { type: "string", format: "date-time" },
    epcisBody: { type: "object" },
  },
};

export interface EpcisRoutesDeps {
  store: Pick<ProjectionReads, "getBatch" | "getBatches" | "getParticipants"> &
    Pick<PassportRecords, "getSerialSet"> &
    Pick<MirrorLog, "listEvents"> &
    Pick<TransformationRecords, "findTransformationsProducing" | "findTransformationsConsuming"> &
    Partial<Pick<ContainerReads, "getContainer" | "getContainers">>;
  service?: EpcisService;
  queryService?: EpcisQueryService;
}

export function createEpcisModule({
  store,
  service = createEpcisService({ store }),
  queryService = createEpcisQueryService({ store }),
}: EpcisRoutesDeps): RouteModule {
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
      path: "/epcis/events",
      operation: {
        operationId: "queryEpcisEvents",
        tags: ["EPCIS"],
        summary: "EPCIS 2.0 event query (SimpleEventQuery over the REST binding)",
        description:
          "The mirror's events as EPCIS 2.0 events (the exports' events, same eventIDs), filtered by type, time, business step, " +
          "disposition, location and lot EPC class, in chain order. A page holds at most `perPage` events; when more may follow, " +
          `a Link header (rel="next") carries nextPageToken. One request reads at most ${MAX_SCANNED_EVENTS} chain events, so a ` +
          "selective filter can answer a short or empty page that still has a next one. Unit EPCs (SGTIN) are not query keys: " +
          "query the unit's lot, or export the unit's history.",
        parameters: parametersFromZod({ query: epcisEventsQuery }),
        responses: {
          200: jsonResponse("The EPCIS 2.0 query document.", queryDocumentSchema, EPCIS_MEDIA_TYPE),
          400: problemResponse(400),
        },
      },
      handler: async (req, res) => {
        const query = parseQuery(epcisEventsQuery, req);
        const lotClasses = [...(query.MATCH_anyEPC ?? []), ...(query.MATCH_epcClass ?? []), ...(query.MATCH_anyEPCClass ?? [])];
        const { document, nextPageToken } = await queryService.query({
          eventTypes: query.eventType ?? null,
          fromTime: query.GE_eventTime ?? null,
          untilTime: query.LT_eventTime ?? null,
          bizSteps: query.EQ_bizStep?.map(cbvName) ?? null,
          dispositions: query.EQ_disposition?.map(cbvName) ?? null,
          bizLocations: query.EQ_bizLocation?.map(canonicalUri) ?? null,
          readPoints: query.EQ_readPoint?.map(canonicalUri) ?? null,
          lotClasses: lotClasses.length === 0 ? null : lotClasses.map(canonicalUri),
          perPage: query.perPage,
          nextPageToken: query.nextPageToken ?? null,
        });
        res.set({ "GS1-EPCIS-Version": "2.0.0", "GS1-CBV-Version": "2.0.0" });
        if (nextPageToken !== null) {
          const next = new URLSearchParams(req.query as Record<string, string>);
          next.set("nextPageToken", nextPageToken);
          res.set("Link", `<${req.baseUrl}${req.path}?${next.toString()}>; rel="next"`);
        }
        res.type(EPCIS_MEDIA_TYPE).send(JSON.stringify(document));
      },
    },
    {
      method: "get",
      path: "/epcis/lots/:batchId",
      operation: operation(
        "exportLotEpcis",
        "A lot's history as EPCIS 2.0",
        "Commissioning, custody handoffs, inspections, splits and recall of the lot and, before their splits, of the lots it came from; " +
          "its packing into and unpacking from logistic units (AggregationEvents, parentID the SSCC) and the handoffs of its container while it was inside.",
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
    {
      method: "get",
      path: "/epcis/containers/:sscc",
      operation: operation(
        "exportContainerEpcis",
        "A logistic unit's history as EPCIS 2.0",
        "The container (SSCC): its commissioning, every lot and container packed into and out of it (AggregationEvents ADD / DELETE, " +
          "bizStep packing / unpacking) and its handoffs (ObjectEvents on the SSCC).",
        ssccParams,
      ),
      handler: async (req, res) => {
        send(res, await service.exportContainer(parseParams(ssccParams, req).sscc));
      },
    },
  ];
  return routeModuleFromTable(EPCIS_BASE_PATH, routes);
}
