/**
 * EPCIS 2.0 export: the recorded history of a lot, of one unit, or of a whole recall as one EPCISDocument (JSON-LD).
 * Reads only through the read model (read-model/batch-history.ts) and the store port; the mapping of each
 * happening is events.ts, the identifiers identifiers.ts, the event hash event-hash.ts.
 *
 * Bounds, so one request cannot make the server build an unbounded document: at most MAX_EPCIS_EVENTS events per
 * document and MAX_RECALL_LOTS lots per recall (the recalled lot and its descendants); beyond either the export is
 * refused ("rejected", with the limit) instead of truncated, because a partial recall reads as a complete one.
 */
import { isValidLotOrSerial } from "../chain/gs1.ts";
import type { Batch, ChainEvent, Container, ContainerStep, Hex, Participant } from "../domain/model.ts";
import { invalidInput, notFound, rejected } from "../domain/errors.ts";
import { loadBatchHistory, type BatchEvent, type BatchHistory } from "../read-model/batch-history.ts";
import type { ContainerReads, MirrorLog, PassportRecords, ProjectionReads, TransformationRecords } from "../store/port.ts";
import { containerEpcisEvent } from "./container-events.ts";
import type { JsonObject } from "./event-hash.ts";
import { EXTENSION_NAMESPACES, epcisEventOf, epcisMergeEventOf, type EpcisSubject } from "./events.ts";

export const MAX_EPCIS_EVENTS = 10_000;
export const MAX_RECALL_LOTS = 1_000;

/** The EPCIS 2.0 JSON-LD context GS1 publishes (https://ref.gs1.org/standards/epcis/artefacts). */
export const EPCIS_CONTEXT_URL = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld";
export const EPCIS_MEDIA_TYPE = "application/ld+json";

export interface EpcisDocument extends JsonObject {
  "@context": [string, Record<string, string>];
  type: "EPCISDocument";
  schemaVersion: "2.0";
  creationDate: string;
  epcisBody: { eventList: JsonObject[] };
}

export interface EpcisServiceDeps {
  /**
   * With the event log and the containers (a MirrorStore has both), a lot's export includes its packing into and
   * unpacking from containers and the handoffs of its container while it was inside, and containers can be exported.
   */
  store: Pick<ProjectionReads, "getBatch" | "getBatches" | "getParticipants"> &
    Pick<PassportRecords, "getSerialSet"> &
    Pick<TransformationRecords, "findTransformationsProducing" | "findTransformationsConsuming"> &
    Partial<Pick<MirrorLog, "listEvents"> & Pick<ContainerReads, "getContainer" | "getContainers">>;
  /** The document's creationDate; injectable so tests can pin it. */
  now?: () => Date;
}

export interface EpcisService {
  /** The lot's history: its ancestors' journeys before their splits, then its own events. */
  exportLot(batchId: Hex): Promise<EpcisDocument>;
  /** The same history told about one unit (SGTIN) of the lot; the unit must be in the lot's stored serial list. */
  exportUnit(batchId: Hex, serial: string): Promise<EpcisDocument>;
  /** A recall: the recalled lot's history and every lot the recall reaches (split descendants and merged outputs). */
  exportRecall(batchId: Hex): Promise<EpcisDocument>;
  /** A logistic unit's history (SSCC): commissioning, what was packed into and out of it, its handoffs. */
  exportContainer(sscc: string): Promise<EpcisDocument>;
}

/** An EPCIS event with the chain event it comes from, for ordering events of several sources in one document. */
interface OrderedEvent {
  eventId: string;
  event: JsonObject;
}

export function createEpcisService({ store, now = () => new Date() }: EpcisServiceDeps): EpcisService {
  async function requireBatch(batchId: Hex): Promise<Batch> {
    const batch = await store.getBatch(batchId);
    if (!batch) throw notFound(`No batch ${batchId} is indexed`, { batchId });
    return batch;
  }

  function document(histories: BatchHistory[], subject: EpcisSubject, extra: OrderedEvent[] = []): EpcisDocument {
    const participants = new Map<Hex, Participant>();
    for (const history of histories) for (const [address, participant] of history.participants) participants.set(address, participant);
    const happenings: OrderedEvent[] = [
      ...histories.flatMap((history) => [
        ...lineageEvents(history).map((happening) => ({
          eventId: happening.at.eventId,
          event: epcisEventOf(happening, { subject, participants }),
        })),
        // The merges that made the lot (or the lot it was split from) and that consumed it: lot-level TransformationEvents.
        ...[history.ancestorMadeFrom, history.madeFrom, history.usedIn].flatMap((merge) =>
          merge === null ? [] : [{ eventId: merge.transformation.recorded.eventId, event: epcisMergeEventOf(merge, participants) }],
        ),
      ]),
      ...extra,
    ].sort((a, b) => (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0));
    return documentOf(happenings);
  }

  function documentOf(happenings: readonly OrderedEvent[]): EpcisDocument {
    const eventList: JsonObject[] = [];
    const seen = new Set<string>();
    for (const { event } of happenings) {
      // One chain event can reach a document twice (a split seen from its parent and from its child, a merge from
      // its input and its output): same hash.
      if (seen.has(event.eventID as string)) continue;
      seen.add(event.eventID as string);
      if (eventList.length === MAX_EPCIS_EVENTS) throw tooLarge(`${MAX_EPCIS_EVENTS} events`, { maxEvents: MAX_EPCIS_EVENTS });
      eventList.push(event);
    }
    return {
      "@context": [EPCIS_CONTEXT_URL, { ...EXTENSION_NAMESPACES }],
      type: "EPCISDocument",
      schemaVersion: "2.0",
      creationDate: now().toISOString(),
      epcisBody: { eventList },
    };
  }

  async function participantsOf(addresses: readonly Hex[]): Promise<Map<Hex, Participant>> {
    const distinct = [...new Set(addresses)];
    return new Map(
      (distinct.length === 0 ? [] : await store.getParticipants(distinct)).map((participant) => [participant.address, participant]),
    );
  }

  /**
   * A lot's packing into and unpacking from containers (AggregationEvents), the packing of its container into outer
   * ones while it was inside, and the handoffs of every container that enclosed it while it was inside (ObjectEvents
   * on the SSCC): where the lot travelled while its registry record stood still. Empty without the event log and the
   * containers.
   */
  async function packingEventsOf(batch: Batch, known: ReadonlyMap<Hex, Participant>): Promise<OrderedEvent[]> {
    if (store.listEvents === undefined || store.getContainers === undefined) return [];
    const packing: ChainEvent[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<NonNullable<typeof store.listEvents>>> = await store.listEvents(
        { batchId: batch.batchId, contract: "LogisticUnits" },
        { limit: 500, cursor },
      );
      packing.push(...page.items.filter((event) => event.name === "BatchPacked" || event.name === "BatchUnpacked"));
      cursor = page.nextCursor;
      if (packing.length > MAX_EPCIS_EVENTS) throw tooLarge(`${MAX_EPCIS_EVENTS} events`, { maxEvents: MAX_EPCIS_EVENTS });
    } while (cursor !== null);
    if (packing.length === 0) return [];

    // Level by level outwards: each container with the spans (event id ranges) during which the lot was inside it.
    const steps: { container: Container; step: ContainerStep }[] = [];
    let level: { sscc: string; spans: Span[] }[] = [];
    const direct = await store.getContainers([...new Set(packing.map((event) => event.args.sscc as string))]);
    for (const container of direct) {
      const spans = spansOf(
        container,
        (step) => step.batchId === batch.batchId && step.kind === "batch_packed",
        (step) => step.batchId === batch.batchId && step.kind === "batch_unpacked",
      );
      steps.push(
        ...container.history
          .filter((step) => step.batchId === batch.batchId && (step.kind === "batch_packed" || step.kind === "batch_unpacked"))
          .map((step) => ({ container, step })),
      );
      level.push(...outerSpans(container, spans, steps));
    }
    for (let depth = 0; depth < MAX_NESTING_LEVELS && level.length > 0; depth++) {
      const outers = await store.getContainers([...new Set(level.map(({ sscc }) => sscc))]);
      const next: { sscc: string; spans: Span[] }[] = [];
      for (const outer of outers)
        next.push(
          ...outerSpans(
            outer,
            level.filter(({ sscc }) => sscc === outer.sscc).flatMap(({ spans }) => spans),
            steps,
          ),
        );
      level = next;
    }

    const participants = new Map(known);
    for (const [address, participant] of await participantsOf(
      steps
        .flatMap(({ step, container }) => [container.creator, step.by, ...(step.to === null ? [] : [step.to])])
        .filter((address) => !participants.has(address)),
    ))
      participants.set(address, participant);
    const context = { participants, batches: new Map([[batch.batchId, batch]]) };
    return steps.flatMap(({ container, step }) => {
      const event = containerEpcisEvent(container, step, context);
      return event === null ? [] : [{ eventId: step.at.eventId, event }];
    });
  }

  return {
    async exportLot(batchId) {
      const batch = await requireBatch(batchId);
      const history = await loadBatchHistory(store, batch);
      return document([history], { kind: "lot" }, await packingEventsOf(batch, history.participants));
    },

    async exportContainer(sscc) {
      const container = (await store.getContainer?.(sscc)) ?? null;
      if (container === null) throw notFound(`No container with SSCC ${sscc} is indexed`, { sscc });
      if (container.history.length > MAX_EPCIS_EVENTS) throw tooLarge(`${MAX_EPCIS_EVENTS} events`, { maxEvents: MAX_EPCIS_EVENTS });
      const batchIds = [...new Set(container.history.flatMap((step) => (step.batchId === null ? [] : [step.batchId])))];
      const batches: Batch[] = [];
      for (let start = 0; start < batchIds.length; start += 1_000)
        batches.push(...(await store.getBatches(batchIds.slice(start, start + 1_000))));
      const participants = await participantsOf([
        container.creator,
        ...container.history.flatMap((step) => (step.to === null ? [step.by] : [step.by, step.to])),
        ...batches.map((batch) => batch.manufacturer),
      ]);
      const context = { participants, batches: new Map(batches.map((batch) => [batch.batchId, batch])) };
      return documentOf(
        container.history.flatMap((step) => {
          const event = containerEpcisEvent(container, step, context);
          return event === null ? [] : [{ eventId: step.at.eventId, event }];
        }),
      );
    },

    async exportUnit(batchId, serial) {
      if (!isValidLotOrSerial(serial)) throw invalidInput(`Serial "${printable(serial)}" must be 1-20 characters of GS1 character set 82`);
      const batch = await requireBatch(batchId);
      const serials = await store.getSerialSet(batch.serialRoot);
      if (!serials) throw notFound(`The serial list of batch ${batchId} is not stored, so no unit of it can be confirmed`, { batchId });
      if (!serials.serials.includes(serial)) throw notFound(`Serial ${serial} is not a unit of batch ${batchId}`, { batchId, serial });
      return document([await loadBatchHistory(store, batch)], { kind: "unit", serial });
    },

    async exportRecall(batchId) {
      const batch = await requireBatch(batchId);
      const root = await loadBatchHistory(store, batch);
      if (!batch.recall) {
        const by = root.recall?.batch.batchId;
        throw notFound(
          by
            ? `Batch ${batchId} was not recalled itself; the recall that reaches it is batch ${by}'s`
            : `Batch ${batchId} was not recalled`,
          { batchId, ...(by ? { recalledBatchId: by } : {}) },
        );
      }
      // Every lot the recall reaches: split children, and the outputs of the merge a reached lot was consumed in.
      const reached = (history: BatchHistory) => [...history.children, ...(history.usedIn?.outputs ?? [])];
      const histories = [root];
      const seen = new Set<Hex>([batch.batchId]);
      let frontier = reached(root);
      while (frontier.length > 0) {
        const next: Batch[] = [];
        for (const lot of frontier) {
          if (seen.has(lot.batchId)) continue;
          seen.add(lot.batchId);
          if (seen.size > MAX_RECALL_LOTS) throw tooLarge(`${MAX_RECALL_LOTS} lots`, { maxLots: MAX_RECALL_LOTS });
          const history = await loadBatchHistory(store, lot);
          histories.push(history);
          next.push(...reached(history));
        }
        frontier = next;
      }
      return document(histories, { kind: "lot" });
    },
  };
}

/**
 * A history's happenings: its ancestors' registrations and journeys before their splits (oldest first), the recall
 * that reaches it from an ancestor, and its own events. An ancestor's splits into other lots are not its history.
 */
function lineageEvents(history: BatchHistory): BatchEvent[] {
  const events: BatchEvent[] = [];
  for (const ancestor of history.ancestors) events.push(ancestor.registration, ...ancestor.journeyBeforeSplit);
  if (history.recall?.inherited)
    events.push({ kind: "recalled", at: history.recall.recall.at, batch: history.recall.batch, recall: history.recall.recall });
  events.push(...history.events);
  return events;
}

function tooLarge(limit: string, details: Record<string, unknown>) {
  return rejected(`The export would exceed ${limit}, the most one EPCIS document holds; export the lots one by one`, details);
}

/** Input echoed in a message: control characters escaped, long values cut. */
function printable(value: string): string {
  const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
  return shown.replace(/[^\x20-\x7e]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** A half-open range of chain event ids [from, until); `until` null while still open. */
interface Span {
  from: string;
  until: string | null;
}

/** LogisticUnits.MAX_NESTING_LEVELS: containers a lot can be inside at once, beyond its own. */
const MAX_NESTING_LEVELS = 4;

const within = (eventId: string, spans: readonly Span[]) =>
  spans.some((span) => eventId >= span.from && (span.until === null || eventId < span.until));

/** The spans between each step `opens` matches and the next one `closes` matches. */
function spansOf(container: Container, opens: (step: ContainerStep) => boolean, closes: (step: ContainerStep) => boolean): Span[] {
  const spans: Span[] = [];
  for (const step of container.history) {
    if (opens(step)) spans.push({ from: step.at.eventId, until: null });
    else if (closes(step) && spans.length > 0 && spans.at(-1)!.until === null) spans.at(-1)!.until = step.at.eventId;
  }
  return spans;
}

/**
 * Collects the handoffs of `container` and its packing into / out of outer containers that fall in `spans` (while the
 * lot was inside), and returns each outer container with the spans during which the lot was inside it.
 */
function outerSpans(
  container: Container,
  spans: readonly Span[],
  steps: { container: Container; step: ContainerStep }[],
): { sscc: string; spans: Span[] }[] {
  const outers: { sscc: string; spans: Span[] }[] = [];
  for (const step of container.history) {
    if (!within(step.at.eventId, spans)) continue;
    if (step.kind.startsWith("handoff_") || step.kind === "packed_into" || step.kind === "unpacked_from") steps.push({ container, step });
    if (step.kind !== "packed_into") continue;
    const unpacked = container.history.find(
      (later) => later.kind === "unpacked_from" && later.sscc === step.sscc && later.at.eventId > step.at.eventId,
    );
    const inside: Span = { from: step.at.eventId, until: unpacked?.at.eventId ?? null };
    // While inside the outer: the part of the lot's own span that this packing overlaps.
    const overlap = spans.flatMap((span) => {
      const from = span.from > inside.from ? span.from : inside.from;
      const untils = [span.until, inside.until].filter((until): until is string => until !== null);
      const until = untils.length === 0 ? null : untils.reduce((a, b) => (a < b ? a : b));
      return until === null || from < until ? [{ from, until }] : [];
    });
    if (overlap.length > 0) outers.push({ sscc: step.sscc!, spans: overlap });
  }
  return outers;
}
