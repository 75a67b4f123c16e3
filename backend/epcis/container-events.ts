/**
 * What each step of a logistic unit (LogisticUnits container, backend/projections/containers.ts) is in EPCIS 2.0:
 * - created: ObjectEvent ADD of the SSCC, bizStep commissioning, disposition active, at its place;
 * - a batch packed / unpacked: AggregationEvent ADD / DELETE, parentID the SSCC, the lot in childQuantityList
 *   (its EPC class, LGTIN, and its quantity), bizStep packing / unpacking;
 * - a container packed into / taken out of another: AggregationEvent ADD / DELETE, parentID the outer SSCC, the inner
 *   SSCC in childEPCs. The outer's and the inner's histories both record it; both map to the same event (same hash);
 * - a container handoff: ObjectEvent OBSERVE of the SSCC with the handoff's business step (shipping, receiving, ...),
 *   from the sender to the receiver as possessing parties; a refused or withdrawn one is void_shipping.
 * A recall flag is not an EPCIS happening of the container (the lot's recall is exported with the lot).
 * Like the lots' events, each carries its chain log as extensions, and its eventID is its event hash.
 */
import type { Batch, Container, ContainerStep, Hex, Participant } from "../domain/model.ts";
import type { JsonObject } from "./event-hash.ts";
import { cbvBizStep, ext, grantedPrefixes, padGln, withId } from "./events.ts";
import { locationUri, lotUri, partyUri, ssccUri } from "./identifiers.ts";

export interface ContainerMappingContext {
  /** Participants the steps mention: their GLNs name parties; their granted prefixes split GTINs, GLNs and SSCCs. */
  participants: ReadonlyMap<Hex, Participant>;
  /** The lots the steps pack or unpack, by batch id; a step of a lot not given is left out. */
  batches: ReadonlyMap<Hex, Batch>;
}

/** The EPCIS event for one step of `container`, or null for a step that is no EPCIS happening of it. */
export function containerEpcisEvent(container: Container, step: ContainerStep, context: ContainerMappingContext): JsonObject | null {
  const prefixes = grantedPrefixes(context.participants);
  const unit = (sscc: string) => ssccUri(sscc, prefixes);
  const readPoint: JsonObject | null = step.locationGln === null ? null : { id: locationUri(padGln(step.locationGln), prefixes) };
  const place: JsonObject = readPoint === null ? {} : { readPoint };
  const party = (address: Hex | null): string | null => {
    const participant = address === null ? undefined : context.participants.get(address);
    return participant ? partyUri(padGln(participant.gln), prefixes) : null;
  };
  const parties = (from: Hex | null, to: Hex | null): JsonObject => {
    const source = party(from);
    const destination = party(to);
    return {
      ...(source === null ? {} : { sourceList: [{ type: "possessing_party", source }] }),
      ...(destination === null ? {} : { destinationList: [{ type: "possessing_party", destination }] }),
    };
  };
  const lot = (batchId: Hex | null): JsonObject | null => {
    const batch = batchId === null ? undefined : context.batches.get(batchId);
    return batch === undefined ? null : { epcClass: lotUri(batch.gtin, batch.lot, prefixes), quantity: Number(batch.quantity) };
  };
  const aggregation = (outer: string, action: "ADD" | "DELETE", children: JsonObject) =>
    withId(step.at, "AggregationEvent", {
      parentID: unit(outer),
      ...children,
      action,
      bizStep: action === "ADD" ? "packing" : "unpacking",
      disposition: "in_progress",
      ...place,
    });

  switch (step.kind) {
    case "created":
      return withId(step.at, "ObjectEvent", {
        epcList: [unit(container.sscc)],
        action: "ADD",
        bizStep: "commissioning",
        disposition: "active",
        ...place,
        ...(readPoint === null ? {} : { bizLocation: readPoint }),
      });
    case "batch_packed":
    case "batch_unpacked": {
      const child = lot(step.batchId);
      return child === null
        ? null
        : aggregation(container.sscc, step.kind === "batch_packed" ? "ADD" : "DELETE", { childQuantityList: [child] });
    }
    case "container_packed":
    case "container_unpacked":
      return aggregation(container.sscc, step.kind === "container_packed" ? "ADD" : "DELETE", { childEPCs: [unit(step.sscc!)] });
    case "packed_into":
    case "unpacked_from":
      return aggregation(step.sscc!, step.kind === "packed_into" ? "ADD" : "DELETE", { childEPCs: [unit(container.sscc)] });
    case "handoff_proposed":
    case "handoff_accepted": {
      const from = step.kind === "handoff_proposed" ? step.by : previousCustodian(container, step);
      return withId(step.at, "ObjectEvent", {
        epcList: [unit(container.sscc)],
        action: "OBSERVE",
        bizStep: cbvBizStep(step.businessStep),
        disposition: step.kind === "handoff_proposed" ? "in_transit" : "in_progress",
        ...place,
        ...(step.kind === "handoff_accepted" && readPoint !== null ? { bizLocation: readPoint } : {}),
        ...parties(from, step.to),
        [ext("handoff")]: step.kind === "handoff_proposed" ? "proposed" : "accepted",
      });
    }
    case "handoff_rejected":
    case "handoff_cancelled":
      return withId(step.at, "ObjectEvent", {
        epcList: [unit(container.sscc)],
        action: "OBSERVE",
        bizStep: "void_shipping",
        ...parties(previousCustodian(container, step), step.to),
        [ext("handoff")]: step.kind === "handoff_rejected" ? "rejected" : "cancelled",
        ...(step.reasonHash === null ? {} : { [ext("reasonHash")]: step.reasonHash }),
      });
    case "recall_flagged":
      return null;
  }
}

/** Who proposed the handoff a step answers: the `by` of the latest proposal before it. */
function previousCustodian(container: Container, step: ContainerStep): Hex | null {
  let proposer: Hex | null = null;
  for (const earlier of container.history) {
    if (earlier.at.eventId >= step.at.eventId) break;
    if (earlier.kind === "handoff_proposed") proposer = earlier.by;
  }
  return proposer;
}

/** Every EPCIS event of a container's history (steps with no EPCIS form left out), in chain order. */
export function containerEpcisEvents(container: Container, context: ContainerMappingContext): JsonObject[] {
  return container.history.flatMap((step) => {
    const event = containerEpcisEvent(container, step, context);
    return event === null ? [] : [event];
  });
}
