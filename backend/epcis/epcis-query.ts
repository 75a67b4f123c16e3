/**
 * EPCIS 2.0 queries: the events of the whole mirror, filtered the way the EPCIS 2.0 REST query interface filters
 * (`GET /events?EQ_bizStep=…&MATCH_anyEPCClass=…&GE_eventTime=…`), as an EPCISQueryDocument, a page at a time.
 *
 * The events are the same EPCIS events the exports hold (events.ts maps each registry event through the read model,
 * container-events.ts each container step, epcisMergeEventOf each merge), with the same eventIDs, so a partner can
 * match a queried event with an exported one. Lot EPCs (LGTIN classes, or
 * their GS1 Digital Link) narrow the scan to those lots' chain events in the store; every other filter is applied to
 * the mapped events as the registry's events are read in chain order. One request reads at most MAX_SCANNED_EVENTS
 * chain events: a selective filter over a long history can answer a short (even empty) page with a `nextPageToken`,
 * which EPCIS allows; the client follows the token.
 */
import { DomainError, invalidInput } from "../domain/errors.ts";
import type { Batch, ChainEvent, Container, Hex, Participant, Transformation } from "../domain/model.ts";
import { batchIdOf } from "../chain/gs1.ts";
import { mentionedAddresses, type BatchEvent } from "../read-model/batch-history.ts";
import { containerKeysOf } from "../projections/containers.ts";
import type { ContainerReads, MirrorLog, ProjectionReads, TransformationRecords } from "../store/port.ts";
import { containerEpcisEvent } from "./container-events.ts";
import type { JsonObject } from "./event-hash.ts";
import { EPCIS_CONTEXT_URL } from "./epcis-service.ts";
import { EXTENSION_NAMESPACES, epcisEventOf, epcisMergeEventOf } from "./events.ts";
import { canonicalDigitalLink } from "./identifiers.ts";

export const MAX_SCANNED_EVENTS = 5_000;
export const EPCIS_EVENT_TYPES = [
  "ObjectEvent",
  "AggregationEvent",
  "TransformationEvent",
  "TransactionEvent",
  "AssociationEvent",
] as const;

export interface EpcisEventQuery {
  eventTypes: string[] | null;
  /** Unix seconds, inclusive / exclusive. */
  fromTime: number | null;
  untilTime: number | null;
  /** CBV short names ("shipping"). */
  bizSteps: string[] | null;
  dispositions: string[] | null;
  /** Canonical GS1 Digital Links (or the URI as given when it has none). */
  bizLocations: string[] | null;
  readPoints: string[] | null;
  /** Lot EPC classes as canonical Digital Links `https://id.gs1.org/01/{gtin}/10/{lot}`. */
  lotClasses: string[] | null;
  perPage: number;
  nextPageToken: string | null;
}

export interface EpcisQueryDocument extends JsonObject {
  "@context": [string, Record<string, string>];
  type: "EPCISQueryDocument";
  schemaVersion: "2.0";
  creationDate: string;
  epcisBody: { queryResults: { queryName: "SimpleEventQuery"; resultsBody: { eventList: JsonObject[] } } };
}

export interface EpcisQueryResult {
  document: EpcisQueryDocument;
  nextPageToken: string | null;
}

export interface EpcisQueryService {
  query(query: EpcisEventQuery): Promise<EpcisQueryResult>;
}

const CBV_PREFIXES = [
  "https://ref.gs1.org/cbv/BizStep-",
  "https://ref.gs1.org/cbv/Disp-",
  "urn:epcglobal:cbv:bizstep:",
  "urn:epcglobal:cbv:disp:",
];

/** A CBV business step or disposition as its bare name, whichever form (bare, GS1 web URI, CBV 1.x URN) it came in. */
export function cbvName(value: string): string {
  for (const prefix of CBV_PREFIXES) if (value.startsWith(prefix)) return value.slice(prefix.length);
  return value;
}

/** An EPC or location URI in its canonical Digital Link form when it has one, so EPC URIs and links compare equal. */
export function canonicalUri(value: string): string {
  return canonicalDigitalLink(value) ?? value;
}

const LOT_LINK = /^https:\/\/id\.gs1\.org\/01\/(\d{14})\/10\/([^/?#]+)$/;

/** GTIN and lot of a lot class's canonical Digital Link, or null when the URI is no lot class. */
function lotOfClass(link: string): { gtin: string; lot: string } | null {
  const match = LOT_LINK.exec(link);
  if (match === null) return null;
  try {
    return { gtin: match[1]!, lot: decodeURIComponent(match[2]!) };
  } catch {
    return null;
  }
}

/** Without the containers or merges sections, the query answers registry events only (as before they existed). */
export type EpcisQueryStore = Pick<ProjectionReads, "getBatches" | "getParticipants"> &
  Pick<MirrorLog, "listEvents"> &
  Partial<Pick<ContainerReads, "getContainers"> & Pick<TransformationRecords, "getTransformations">>;

/** The contracts whose events are EPCIS events: the registry's lots, the logistic units' containers, the merges. */
const GOODS_CONTRACTS = new Set<ChainEvent["contract"]>(["ProvenanceRegistry", "LogisticUnits", "Transformations"]);

export function createEpcisQueryService({
  store,
  now = () => new Date(),
}: {
  store: EpcisQueryStore;
  now?: () => Date;
}): EpcisQueryService {
  return {
    async query(query) {
      const lots = (query.lotClasses ?? []).map((link) => {
        const lot = lotOfClass(link);
        if (lot === null) throw invalidInput(`${link} is not a lot EPC class (urn:epc:class:lgtin:… or https://id.gs1.org/01/…/10/…)`);
        return batchIdOf(lot.gtin, lot.lot) as Hex;
      });
      const eventList: JsonObject[] = [];
      let cursor = query.nextPageToken;
      let scanned = 0;
      do {
        // One chain event maps to at most one EPCIS event: never read more than the page still has room for, so the
        // store's cursor is exactly where the next page starts.
        const limit = Math.min(500, query.perPage - eventList.length, MAX_SCANNED_EVENTS - scanned);
        let page;
        try {
          // Every contract's events, in chain order: those of the goods contracts map, the rest are passed over.
          page = await store.listEvents({ ...(lots.length === 1 ? { batchId: lots[0]! } : {}) }, { limit, cursor });
        } catch (error) {
          if (error instanceof DomainError && error.kind === "invalid-input" && cursor !== null) {
            throw invalidInput("nextPageToken is not a token this server issued", { parameter: "nextPageToken" });
          }
          throw error;
        }
        scanned += page.items.length;
        for (const { event, batchIds } of await epcisEventsOf(page.items, store))
          if (matches(event, batchIds, query, lots)) eventList.push(event);
        cursor = page.nextCursor;
      } while (cursor !== null && eventList.length < query.perPage && scanned < MAX_SCANNED_EVENTS);
      return {
        document: {
          "@context": [EPCIS_CONTEXT_URL, { ...EXTENSION_NAMESPACES }],
          type: "EPCISQueryDocument",
          schemaVersion: "2.0",
          creationDate: now().toISOString(),
          epcisBody: { queryResults: { queryName: "SimpleEventQuery", resultsBody: { eventList } } },
        },
        nextPageToken: cursor,
      };
    },
  };
}

/** The EPCIS events of a page of chain events (those about goods: lots, containers, merges; the rest have none). */
async function epcisEventsOf(events: readonly ChainEvent[], store: EpcisQueryStore): Promise<{ event: JsonObject; batchIds: Hex[] }[]> {
  const goods = events.filter((event) => GOODS_CONTRACTS.has(event.contract));
  const containerKeys = [...new Set(goods.filter((event) => event.contract === "LogisticUnits").flatMap(containerKeysOf))];
  const containers = new Map<string, Container>(
    (containerKeys.length === 0 || !store.getContainers ? [] : await store.getContainers(containerKeys)).map((c) => [c.sscc, c]),
  );
  const mergeIds = [
    ...new Set(goods.filter((event) => event.contract === "Transformations" && event.name === "TransformationRecorded").map(mergeIdOf)),
  ];
  const merges = new Map<string, Transformation>(
    (mergeIds.length === 0 || !store.getTransformations ? [] : await store.getTransformations(mergeIds)).map((merge) => [
      merge.transformationId,
      merge,
    ]),
  );
  const batchIds = new Set(goods.flatMap((event) => event.batchIds));
  for (const container of containers.values()) for (const step of container.history) if (step.batchId) batchIds.add(step.batchId);
  if (batchIds.size === 0 && containers.size === 0) return [];
  const batches = new Map((batchIds.size === 0 ? [] : await store.getBatches([...batchIds])).map((batch) => [batch.batchId, batch]));
  const addresses = new Set<Hex>();
  for (const batch of batches.values()) for (const address of mentionedAddresses(batch)) addresses.add(address);
  for (const container of containers.values())
    for (const step of container.history) {
      addresses.add(step.by);
      if (step.to) addresses.add(step.to);
    }
  for (const merge of merges.values()) addresses.add(merge.processor);
  const participants = new Map<Hex, Participant>(
    (await store.getParticipants([...addresses])).map((participant) => [participant.address, participant]),
  );
  const mapped = [];
  for (const event of goods) {
    const epcisEvent = epcisEventOfChainEvent(event, { batches, containers, merges, participants });
    // The batch ids travel beside the event so a lot filter need not parse EPC URIs back.
    if (epcisEvent !== null) mapped.push({ event: epcisEvent, batchIds: event.batchIds });
  }
  return mapped;
}

/** A TransformationRecorded event's transformationId in decimal (the decoder writes narrow integers as numbers). */
function mergeIdOf(event: ChainEvent): string {
  return String(event.args.transformationId as string | number);
}

interface MappingContext {
  batches: ReadonlyMap<Hex, Batch>;
  containers: ReadonlyMap<string, Container>;
  merges: ReadonlyMap<string, Transformation>;
  participants: ReadonlyMap<Hex, Participant>;
}

/**
 * The one EPCIS event a chain event is, or null when it is none. A nested pack is a step of both containers (the
 * outer's "container packed", the inner's "packed into"): the same AggregationEvent, so the first found is it.
 */
function epcisEventOfChainEvent(event: ChainEvent, context: MappingContext): JsonObject | null {
  if (event.contract === "ProvenanceRegistry") {
    const happening = happeningOf(event, context.batches);
    return happening === null ? null : epcisEventOf(happening, { subject: { kind: "lot" }, participants: context.participants });
  }
  if (event.contract === "LogisticUnits") {
    for (const sscc of containerKeysOf(event)) {
      const container = context.containers.get(sscc);
      const step = container?.history.find((candidate) => candidate.at.eventId === event.id);
      const mapped = container && step ? containerEpcisEvent(container, step, context) : null;
      if (mapped !== null) return mapped;
    }
    return null;
  }
  if (event.name !== "TransformationRecorded") return null;
  const merge = context.merges.get(mergeIdOf(event));
  if (merge === undefined || merge.recorded.eventId !== event.id) return null;
  const lotsOf = (ids: readonly Hex[]) => ids.flatMap((id) => context.batches.get(id) ?? []);
  return epcisMergeEventOf(
    { transformation: merge, inputs: lotsOf(merge.inputs.map((input) => input.batchId)), outputs: lotsOf(merge.outputIds) },
    context.participants,
  );
}

/** The read model's happening a registry event is, from the lots as the mirror holds them; null when it is none. */
function happeningOf(event: ChainEvent, batches: ReadonlyMap<Hex, Batch>): BatchEvent | null {
  const batchOf = (key: string) => batches.get(event.args[key] as Hex);
  switch (event.name) {
    case "BatchRegistered": {
      const batch = batchOf("batchId");
      return batch ? { kind: "registered", at: batch.registered, batch, parent: null } : null;
    }
    case "BatchSplit": {
      const child = batchOf("childId");
      return child ? { kind: "registered", at: child.registered, batch: child, parent: batchOf("parentId") ?? null } : null;
    }
    case "HandoffProposed":
    case "HandoffAccepted":
    case "HandoffRejected":
    case "HandoffCancelled": {
      const batch = batchOf("batchId");
      const step = batch?.custody.find((candidate) => candidate.at.eventId === event.id);
      return batch && step ? { kind: "custody", at: step.at, batch, step } : null;
    }
    case "QualityAttested": {
      const batch = batchOf("batchId");
      const inspection = batch?.inspections.find((candidate) => candidate.at.eventId === event.id);
      return batch && inspection ? { kind: "inspected", at: inspection.at, batch, inspection } : null;
    }
    case "BatchRecalled": {
      const batch = batchOf("batchId");
      return batch?.recall && batch.recall.at.eventId === event.id
        ? { kind: "recalled", at: batch.recall.at, batch, recall: batch.recall }
        : null;
    }
    default:
      return null;
  }
}

function matches(event: JsonObject, batchIds: Hex[], query: EpcisEventQuery, lots: Hex[]): boolean {
  if (query.eventTypes && !query.eventTypes.includes(event.type as string)) return false;
  const time = Date.parse(event.eventTime as string) / 1_000;
  if (query.fromTime !== null && time < query.fromTime) return false;
  if (query.untilTime !== null && time >= query.untilTime) return false;
  if (query.bizSteps && !(typeof event.bizStep === "string" && query.bizSteps.includes(cbvName(event.bizStep)))) return false;
  if (query.dispositions && !(typeof event.disposition === "string" && query.dispositions.includes(cbvName(event.disposition))))
    return false;
  const idOf = (field: string) => {
    const value = event[field] as { id?: string } | undefined;
    return value?.id === undefined ? null : canonicalUri(value.id);
  };
  if (query.bizLocations && !query.bizLocations.includes(idOf("bizLocation") ?? "")) return false;
  if (query.readPoints && !query.readPoints.includes(idOf("readPoint") ?? "")) return false;
  return lots.length <= 1 || batchIds.some((batchId) => lots.includes(batchId));
}
