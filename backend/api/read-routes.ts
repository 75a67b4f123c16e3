/**
 * The read API (/api/v1): batches, participants, orders and raw events from the mirror.
 * Each route is a thin controller: validate the request with its zod schema, call a service, send JSON.
 * Services throw DomainErrors, answered by the app's error middleware; Express 5 forwards rejected promises
 * there, so handlers are plain async functions.
 */
import type { Request } from "express";
import type { Viewer } from "../auth/auth-service.ts";
import type { ContainerReads, MirrorLog, ProjectionReads, TransformationRecords } from "../store/port.ts";
import { readApiSchemaRegistry } from "./models.ts";
import { componentsFromRegistry, jsonResponse, parametersFromZod, problemResponse, schemaRef } from "./openapi.ts";
import type { RouteModule } from "./route-module.ts";
import { routeModuleFromTable, type RouteDefinition } from "./route-table.ts";
import {
  batchIdParams,
  listBatchesQuery,
  listEventsQuery,
  listOrdersQuery,
  listParticipantsQuery,
  orderIdParams,
  pageQuery,
  participantAddressParams,
  transactionHashParams,
  transformationIdParams,
} from "./schemas.ts";
import { createBatchService, type BatchService } from "./services/batches.ts";
import { createEventService, type EventService } from "./services/events.ts";
import { createOrderService, type OrderService } from "./services/orders.ts";
import { createParticipantService, type ParticipantService } from "./services/participants.ts";
import { createTransformationService, type TransformationService } from "./services/transformations.ts";
import { parseParams, parseQuery } from "./validate.ts";

export const READ_API_BASE_PATH = "/api/v1";

const ESCROW_WITHHELD =
  "Escrow events of orders the caller is not a party to keep only `orderId` and `batchId` (with `withheld: true`) unless the " +
  "caller is a regulator, arbiter or the admin; the chain itself stays public.";

export interface ReadRoutesDeps {
  store: ProjectionReads & MirrorLog & TransformationRecords & Partial<Pick<ContainerReads, "getContainers">>;
  /** Who is asking (backend/auth); orders and escrow event details depend on it. */
  viewerOf: ViewerResolver;
}

/** The viewer of a request: a session's address and roles, or anonymous; throws a 401 for an invalid session. */
export type ViewerResolver = (req: Request) => Promise<Viewer>;

export function createReadRoutes({ store, viewerOf }: ReadRoutesDeps): RouteModule {
  const routes = [
    ...batchRoutes(createBatchService({ store }), viewerOf),
    ...participantRoutes(createParticipantService({ store })),
    ...orderRoutes(createOrderService({ store }), viewerOf),
    ...eventRoutes(createEventService({ store }), viewerOf),
    ...transformationRoutes(createTransformationService({ store })),
  ];
  return routeModuleFromTable(READ_API_BASE_PATH, routes, componentsFromRegistry(readApiSchemaRegistry));
}

function batchRoutes(batches: BatchService, viewerOf: ViewerResolver): RouteDefinition[] {
  return [
    {
      method: "get",
      path: "/batches",
      operation: {
        operationId: "listBatches",
        tags: ["Batches"],
        summary: "List batches",
        description: "Batches matching every given filter, in the store's stable pagination order. `gtin` + `lot` identify one batch.",
        parameters: parametersFromZod({ query: listBatchesQuery }),
        responses: { 200: jsonResponse("A page of batches.", schemaRef("BatchPage")), 400: problemResponse(400) },
      },
      handler: async (req, res) => {
        res.json(await batches.list(parseQuery(listBatchesQuery, req)));
      },
    },
    {
      method: "get",
      path: "/batches/:batchId",
      operation: {
        operationId: "getBatch",
        tags: ["Batches"],
        summary: "One batch with its timeline and lineage",
        description:
          "The batch with custody steps, inspections, split and recall merged into one chain-ordered timeline, its " +
          "parent chain up to the root, its children, the merge that made it (made from) and the merge it was consumed in " +
          "(consumed into), and the participants its history mentions.",
        parameters: parametersFromZod({ path: batchIdParams }),
        responses: { 200: jsonResponse("The batch.", schemaRef("BatchDetail")), 400: problemResponse(400), 404: problemResponse(404) },
      },
      handler: async (req, res) => {
        const { batchId } = parseParams(batchIdParams, req);
        res.json(await batches.get(batchId));
      },
    },
    {
      method: "get",
      path: "/batches/:batchId/events",
      operation: {
        operationId: "listBatchEvents",
        tags: ["Batches", "Events"],
        summary: "Contract events of one batch",
        parameters: parametersFromZod({ path: batchIdParams, query: pageQuery }),
        responses: {
          200: jsonResponse("A page of the batch's events in chain order.", schemaRef("ChainEventPage")),
          401: problemResponse(401, "The session sent is invalid or expired (send none to read anonymously)"),
          400: problemResponse(400),
          404: problemResponse(404),
        },
      },
      handler: async (req, res) => {
        const { batchId } = parseParams(batchIdParams, req);
        res.json(await batches.listEvents(batchId, parseQuery(pageQuery, req), await viewerOf(req)));
      },
    },
  ];
}

function transformationRoutes(transformations: TransformationService): RouteDefinition[] {
  return [
    {
      method: "get",
      path: "/transformations/:transformationId",
      operation: {
        operationId: "getTransformation",
        tags: ["Batches"],
        summary: "One merge (transformation): the lots consumed and the lots made",
        description:
          "A processor consumed input lots (whole, with the registry quantities the event records) and made output lots at a place " +
          "(Transformations.TransformationRecorded, the EPCIS TransformationEvent); with each lot's effective status and the recalls " +
          "the contract propagated from an input to an output.",
        parameters: parametersFromZod({ path: transformationIdParams }),
        responses: {
          200: jsonResponse("The transformation.", schemaRef("TransformationDetail")),
          400: problemResponse(400),
          404: problemResponse(404),
        },
      },
      handler: async (req, res) => {
        const { transformationId } = parseParams(transformationIdParams, req);
        res.json(await transformations.get(transformationId));
      },
    },
  ];
}

function participantRoutes(participants: ParticipantService): RouteDefinition[] {
  return [
    {
      method: "get",
      path: "/participants",
      operation: {
        operationId: "listParticipants",
        tags: ["Participants"],
        summary: "List participants",
        parameters: parametersFromZod({ query: listParticipantsQuery }),
        responses: { 200: jsonResponse("A page of participants.", schemaRef("ParticipantPage")), 400: problemResponse(400) },
      },
      handler: async (req, res) => {
        res.json(await participants.list(parseQuery(listParticipantsQuery, req)));
      },
    },
    {
      method: "get",
      path: "/participants/:address",
      operation: {
        operationId: "getParticipant",
        tags: ["Participants"],
        summary: "One participant",
        parameters: parametersFromZod({ path: participantAddressParams }),
        responses: {
          200: jsonResponse("The participant.", schemaRef("Participant")),
          400: problemResponse(400),
          404: problemResponse(404),
        },
      },
      handler: async (req, res) => {
        const { address } = parseParams(participantAddressParams, req);
        res.json(await participants.get(address));
      },
    },
  ];
}

function orderRoutes(orders: OrderService, viewerOf: ViewerResolver): RouteDefinition[] {
  return [
    {
      method: "get",
      path: "/orders",
      operation: {
        operationId: "listOrders",
        tags: ["Orders"],
        summary: "List escrow orders",
        description:
          "Signed-in callers only (session cookie or bearer token, see /api/v1/auth). A party lists its own orders by filtering on " +
          "buyer, seller or carrier equal to its address; regulators, arbiters and the admin list every order.",
        parameters: parametersFromZod({ query: listOrdersQuery }),
        responses: {
          200: jsonResponse("A page of orders.", schemaRef("OrderPage")),
          400: problemResponse(400),
          401: problemResponse(401, "Not signed in, or the session is invalid or expired"),
          403: problemResponse(403, "Not filtered to the caller's own orders, and the caller has no oversight role"),
        },
      },
      handler: async (req, res) => {
        res.json(await orders.list(parseQuery(listOrdersQuery, req), await viewerOf(req)));
      },
    },
    {
      method: "get",
      path: "/orders/:orderId",
      operation: {
        operationId: "getOrder",
        tags: ["Orders"],
        summary: "One escrow order",
        description: "For its parties (buyer, seller, carrier, named inspector) and regulators, arbiters and the admin; others get 404.",
        parameters: parametersFromZod({ path: orderIdParams }),
        responses: {
          200: jsonResponse("The order.", schemaRef("Order")),
          400: problemResponse(400),
          401: problemResponse(401, "Not signed in, or the session is invalid or expired"),
          404: problemResponse(404, "No such order, or not one the caller may see"),
        },
      },
      handler: async (req, res) => {
        const { orderId } = parseParams(orderIdParams, req);
        res.json(await orders.get(orderId, await viewerOf(req)));
      },
    },
  ];
}

/** Event routes: per transaction, and the chain-order feed (a batch's events are under batchRoutes). */
function eventRoutes(events: EventService, viewerOf: ViewerResolver): RouteDefinition[] {
  return [
    {
      method: "get",
      path: "/transactions/:hash/events",
      operation: {
        operationId: "listTransactionEvents",
        tags: ["Events"],
        summary: "Contract events of one transaction",
        parameters: parametersFromZod({ path: transactionHashParams, query: pageQuery }),
        responses: {
          200: jsonResponse("A page of the transaction's Provena events in log order.", schemaRef("ChainEventPage")),
          400: problemResponse(400),
          401: problemResponse(401, "The session sent is invalid or expired (send none to read anonymously)"),
          404: problemResponse(404),
        },
      },
      handler: async (req, res) => {
        const { hash } = parseParams(transactionHashParams, req);
        res.json(await events.listByTransaction(hash, parseQuery(pageQuery, req), await viewerOf(req)));
      },
    },
    {
      method: "get",
      path: "/events",
      operation: {
        operationId: "listEvents",
        tags: ["Events"],
        summary: "Chain-order event feed",
        description:
          "Every mirrored contract event in chain order, optionally within a block range; follow `nextCursor` to stream. " +
          ESCROW_WITHHELD,
        parameters: parametersFromZod({ query: listEventsQuery }),
        responses: {
          200: jsonResponse("A page of events in chain order.", schemaRef("ChainEventPage")),
          400: problemResponse(400),
          401: problemResponse(401, "The session sent is invalid or expired (send none to read anonymously)"),
        },
      },
      handler: async (req, res) => {
        res.json(await events.list(parseQuery(listEventsQuery, req), await viewerOf(req)));
      },
    },
  ];
}
