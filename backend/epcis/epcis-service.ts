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
import type { Batch, Hex, Participant } from "../domain/model.ts";
import { invalidInput, notFound, rejected } from "../domain/errors.ts";
import { loadBatchHistory, type BatchEvent, type BatchHistory } from "../read-model/batch-history.ts";
import type { PassportRecords, ProjectionReads, TransformationRecords } from "../store/port.ts";
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
  store: Pick<ProjectionReads, "getBatch" | "getBatches" | "getParticipants"> &
    Pick<PassportRecords, "getSerialSet"> &
    Pick<TransformationRecords, "findTransformationsProducing" | "findTransformationsConsuming">;
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
}

export function createEpcisService({ store, now = () => new Date() }: EpcisServiceDeps): EpcisService {
  async function requireBatch(batchId: Hex): Promise<Batch> {
    const batch = await store.getBatch(batchId);
    if (!batch) throw notFound(`No batch ${batchId} is indexed`, { batchId });
    return batch;
  }

  function document(histories: BatchHistory[], subject: EpcisSubject): EpcisDocument {
    const participants = new Map<Hex, Participant>();
    for (const history of histories) for (const [address, participant] of history.participants) participants.set(address, participant);
    const happenings: { eventId: string; event: () => JsonObject }[] = histories.flatMap((history) => [
      ...lineageEvents(history).map((happening) => ({
        eventId: happening.at.eventId,
        event: () => epcisEventOf(happening, { subject, participants }),
      })),
      // The merges that made the lot (or the lot it was split from) and that consumed it: lot-level TransformationEvents.
      ...[history.ancestorMadeFrom, history.madeFrom, history.usedIn].flatMap((merge) =>
        merge === null ? [] : [{ eventId: merge.transformation.recorded.eventId, event: () => epcisMergeEventOf(merge, participants) }],
      ),
    ]);
    happenings.sort((a, b) => (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0));
    const eventList: JsonObject[] = [];
    const seen = new Set<string>();
    for (const happening of happenings) {
      const event = happening.event();
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

  return {
    async exportLot(batchId) {
      const batch = await requireBatch(batchId);
      return document([await loadBatchHistory(store, batch)], { kind: "lot" });
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
