/**
 * What each recorded happening is in EPCIS 2.0 (pure functions of the read model's BatchEvent):
 * - registration: ObjectEvent ADD, bizStep commissioning, disposition active, at the origin GLN;
 * - a split (the parent's "split" entry and the child's registration are the same chain event, so the same
 *   EPCIS event): TransformationEvent, the parent lot's quantity that went into the child in, the child lot out;
 * - custody: ObjectEvent OBSERVE with the handoff's CBV business step, from the sender (source) to the receiver
 *   (destination) as possessing parties; proposed -> disposition in_transit, accepted -> in_progress at the
 *   handoff's GLN; a rejected or cancelled proposal -> bizStep void_shipping (the goods never changed hands);
 * - quality attestation: ObjectEvent OBSERVE, bizStep inspecting, disposition conformant / non_conformant;
 * - recall: ObjectEvent OBSERVE, disposition recalled.
 * - a merge (Transformations.TransformationRecorded, epcisMergeEventOf): TransformationEvent with every input lot
 *   in (the registry quantity the event records, consumed whole) and every output lot out, bizStep commissioning
 *   (the outputs come into being), disposition active, at the processor's GLN, transformationID the merge's URI
 *   (mergeTransformationId), so the events of one merge seen from several lots are one event (same hash).
 * Packing (LogisticUnits containers) maps in container-events.ts (AggregationEvent ADD/DELETE with the SSCC as parentID,
 * ObjectEvents on the SSCC for container handoffs), with the helpers exported here.
 *
 * Every event carries the chain log it comes from as extension fields in Provena's namespace, and its eventID is
 * the EPCIS event hash (event-hash.ts) of everything else in it.
 */
import type { BusinessStep } from "../chain/vocabulary.ts";
import type { Batch, EventRef, Hex, Participant } from "../domain/model.ts";
import type { BatchEvent, MergeLots } from "../read-model/batch-history.ts";
import { eventHashId, type JsonObject, type JsonValue } from "./event-hash.ts";
import { locationUri, lotUri, partyUri, unitUri } from "./identifiers.ts";

/** Provena's JSON-LD namespace for the extension fields; an identifier, fixed because the event hash includes it. */
export const PROVENA_EPCIS_NAMESPACE = "https://provena.dev/epcis/";
export const PROVENA_EPCIS_PREFIX = "provena";
export const EXTENSION_NAMESPACES: Readonly<Record<string, string>> = { [PROVENA_EPCIS_PREFIX]: PROVENA_EPCIS_NAMESPACE };

/** Provena's business steps as CBV 2.0 terms: all share the CBV name except "retail", which CBV calls retail_selling. */
const CBV_BIZ_STEP: Readonly<Record<BusinessStep, string>> = {
  shipping: "shipping",
  receiving: "receiving",
  departing: "departing",
  arriving: "arriving",
  storing: "storing",
  loading: "loading",
  unloading: "unloading",
  transporting: "transporting",
  inspecting: "inspecting",
  accepting: "accepting",
  entering_exiting: "entering_exiting",
  retail: "retail_selling",
};

/** What an export is about: whole lots (quantities of an EPC class) or one unit (an SGTIN) through its lots. */
export type EpcisSubject = { kind: "lot" } | { kind: "unit"; serial: string };

export interface EpcisMappingContext {
  subject: EpcisSubject;
  /** Participants the history mentions: their GLNs name parties, their granted prefixes split GTINs and GLNs. */
  participants: ReadonlyMap<Hex, Participant>;
}

/** The EPCIS event for one happening, with its eventID (the EPCIS event hash). */
export function epcisEventOf(event: BatchEvent, context: EpcisMappingContext): JsonObject {
  const prefixes = grantedPrefixes(context.participants);
  const what = (batch: Batch): JsonObject =>
    context.subject.kind === "unit"
      ? { epcList: [unitUri(batch.gtin, context.subject.serial, prefixes)] }
      : { quantityList: [{ epcClass: lotUri(batch.gtin, batch.lot, prefixes), quantity: Number(batch.quantity) }] };
  const place = (gln: string | null): JsonObject => (gln === null ? {} : { readPoint: { id: locationUri(padGln(gln), prefixes) } });
  const party = (address: Hex): string | null => {
    const participant = context.participants.get(address);
    return participant ? partyUri(padGln(participant.gln), prefixes) : null;
  };
  const parties = (from: Hex, to: Hex): JsonObject => {
    const source = party(from);
    const destination = party(to);
    return {
      ...(source === null ? {} : { sourceList: [{ type: "possessing_party", source }] }),
      ...(destination === null ? {} : { destinationList: [{ type: "possessing_party", destination }] }),
    };
  };

  switch (event.kind) {
    case "registered": {
      if (event.parent !== null) return split(event.parent, event.batch, event.at, prefixes);
      const origin = locationUri(padGln(event.batch.originGln), prefixes);
      return withId(event.at, "ObjectEvent", {
        ...what(event.batch),
        action: "ADD",
        bizStep: "commissioning",
        disposition: "active",
        readPoint: { id: origin },
        bizLocation: { id: origin },
      });
    }
    case "split":
      return split(event.batch, event.child, event.at, prefixes);
    case "custody": {
      const { step } = event;
      const common = { ...what(event.batch), action: "OBSERVE" };
      if (step.kind === "proposed" || step.kind === "accepted") {
        const readPoint = place(step.locationGln);
        return withId(event.at, "ObjectEvent", {
          ...common,
          bizStep: cbvBizStep(step.businessStep),
          disposition: step.kind === "proposed" ? "in_transit" : "in_progress",
          ...readPoint,
          ...(step.kind === "accepted" && readPoint.readPoint ? { bizLocation: readPoint.readPoint } : {}),
          ...parties(step.from, step.to),
          [ext("handoff")]: step.kind,
        });
      }
      return withId(event.at, "ObjectEvent", {
        ...common,
        bizStep: "void_shipping",
        ...parties(step.from, step.to),
        [ext("handoff")]: step.kind,
        ...(step.reasonHash === null ? {} : { [ext("reasonHash")]: step.reasonHash }),
      });
    }
    case "inspected":
      return withId(event.at, "ObjectEvent", {
        ...what(event.batch),
        action: "OBSERVE",
        bizStep: "inspecting",
        disposition: event.inspection.passed ? "conformant" : "non_conformant",
        [ext("reportHash")]: event.inspection.reportHash,
      });
    case "recalled":
      return withId(event.at, "ObjectEvent", {
        ...what(event.batch),
        action: "OBSERVE",
        disposition: "recalled",
        [ext("reasonHash")]: event.recall.reasonHash,
      });
  }
}

/**
 * The transformationID of merge `transformationId` of chain `chainId`: a URI in Provena's namespace (EPCIS asks for
 * a URI that names the transformation; the Transformations contract's counter is unique per chain and deployment).
 */
export function mergeTransformationId(chainId: number, transformationId: string): string {
  return `${PROVENA_EPCIS_NAMESPACE}transformation/${chainId}/${transformationId}`;
}

/**
 * A merge as EPCIS: lot-level whatever the subject. `merge.inputs`/`outputs` are the stored lots; an input lot not
 * stored is left out of the lists (its id stays in the provena:inputIds extension, so nothing is hidden).
 */
export function epcisMergeEventOf(merge: MergeLots, participants: ReadonlyMap<Hex, Participant>): JsonObject {
  const prefixes = grantedPrefixes(participants);
  const { transformation } = merge;
  const quantityOf = new Map(transformation.inputs.map((input) => [input.batchId, Number(input.quantity)]));
  const place = { id: locationUri(padGln(transformation.locationGln), prefixes) };
  const chainId = Number(transformation.recorded.eventId.slice(0, transformation.recorded.eventId.indexOf(":")));
  return withId(transformation.recorded, "TransformationEvent", {
    inputQuantityList: merge.inputs.map((input) => ({
      epcClass: lotUri(input.gtin, input.lot, prefixes),
      quantity: quantityOf.get(input.batchId) ?? Number(input.quantity),
    })),
    outputQuantityList: merge.outputs.map((output) => ({
      epcClass: lotUri(output.gtin, output.lot, prefixes),
      quantity: Number(output.quantity),
    })),
    transformationID: mergeTransformationId(chainId, transformation.transformationId),
    bizStep: "commissioning",
    disposition: "active",
    readPoint: place,
    bizLocation: place,
    [ext("transformationId")]: transformation.transformationId,
    [ext("processor")]: transformation.processor,
    [ext("documentHash")]: transformation.documentHash,
    [ext("inputIds")]: transformation.inputs.map((input) => input.batchId),
    [ext("outputIds")]: transformation.outputIds,
  });
}

/** A split is lot-level whatever the subject: `quantity` of the parent lot became the child lot. */
function split(parent: Batch, child: Batch, at: EventRef, prefixes: readonly string[]): JsonObject {
  return withId(at, "TransformationEvent", {
    inputQuantityList: [{ epcClass: lotUri(parent.gtin, parent.lot, prefixes), quantity: Number(child.quantity) }],
    outputQuantityList: [{ epcClass: lotUri(child.gtin, child.lot, prefixes), quantity: Number(child.quantity) }],
  });
}

/** The event with its time, its chain origin as extensions, and its hash as eventID (computed over all the rest). */
export function withId(at: EventRef, type: string, body: JsonObject): JsonObject {
  const event: JsonObject = {
    type,
    eventTime: new Date(at.blockTimestamp * 1000).toISOString(),
    eventTimeZoneOffset: "+00:00",
    ...body,
    [ext("transactionHash")]: at.transactionHash,
    [ext("blockNumber")]: at.blockNumber,
    [ext("logIndex")]: logIndexOf(at),
  };
  const { type: _type, eventTime, eventTimeZoneOffset, ...rest } = event;
  return {
    type,
    eventTime: eventTime!,
    eventTimeZoneOffset: eventTimeZoneOffset!,
    eventID: eventHashId(event, EXTENSION_NAMESPACES),
    ...rest,
  };
}

export const ext = (name: string) => `${PROVENA_EPCIS_PREFIX}:${name}`;

/** The log index is the last part of the natural key chainEventId(chainId, block, logIndex). */
export function logIndexOf(at: EventRef): number {
  return Number(at.eventId.slice(at.eventId.lastIndexOf(":") + 1));
}

export function cbvBizStep(step: string | null): JsonValue {
  return step !== null && Object.hasOwn(CBV_BIZ_STEP, step) ? CBV_BIZ_STEP[step as BusinessStep] : "other";
}

/** GLNs travel as uint64 on chain, so a GLN with a leading zero may come without it. */
export function padGln(gln: string): string {
  return gln.padStart(13, "0");
}

/**
 * Every company prefix granted to a participant the history mentions. The registry refuses a grant inside another
 * holder's prefix, so at most one holder's prefix covers a key; among one holder's own, the longest match is taken.
 */
export function grantedPrefixes(participants: ReadonlyMap<Hex, Participant>): string[] {
  return [...participants.values()].flatMap((participant) => participant.companyPrefixes ?? []);
}
