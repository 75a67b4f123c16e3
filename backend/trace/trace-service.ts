/**
 * Trace forward and back: for a lot, every lot it came from and every lot that came from it, each with where it is
 * now, who holds it, who held it before, and its status, in one answer. This is what a recall needs ("where are the
 * units now and who had them") and what a buyer checks before paying.
 *
 * Lineage is splitting (a child lot's `parentId`) and merging (a transformation's inputs made its outputs): a DAG,
 * walked by read-model/lineage.ts one generation at a time (a transformation lookup and `getBatches`, in chunks),
 * so a trace costs a couple of store round trips per generation and chunk, not one per lot: a 100,000-lot tree five
 * generations deep is about two hundred reads (scripts/bench-trace.ts measures it). A lot reachable by two paths
 * (a diamond) appears once, at the generation nearest the traced lot.
 *
 * Status: a recall reaches every lot downstream of the recalled one through splits and merges; each lot's
 * `recalledVia` is found over the edges of the trace. Known limit: an output's other inputs (not downstream of the
 * traced lot) are not read by a forward trace, so a recall of one of them shows on the output only once the
 * registry recalls it (Transformations.flagRecalledInput, which the input recall flagger queues) or when the output
 * is traced itself.
 *
 * Everything here is public on chain already (the registry's events name every custodian and place); the trace only
 * gathers it. It is bounded by MAX_TRACE_LOTS so one request cannot make the server walk an unbounded graph.
 */
import { DomainError, notFound } from "../domain/errors.ts";
import type { Batch, BatchStatus, Hex, InspectionResult, Transformation, TransformationInput } from "../domain/model.ts";
import { MAX_LINEAGE_DEPTH } from "../read-model/batch-history.ts";
import { READ_CHUNK, recalledViaOf, walkLineage } from "../read-model/lineage.ts";
import type { MirrorStore } from "../store/port.ts";
import { packedHoldingsOf } from "../containers/holders.ts";

/** Lots one trace may return; a larger graph is refused (never truncated: a partial trace reads as a complete one). */
export const MAX_TRACE_LOTS = 100_000;

export type TraceDirection = "back" | "forward" | "both";

export interface TracedLot {
  batchId: Hex;
  gtin: string;
  lot: string;
  quantity: string;
  parentId: Hex | null;
  /** Generations from the traced lot: negative for ancestors (-1 its parent), 0 for itself, positive for descendants. */
  generation: number;
  /** The effective status: "recalled" when the lot or any lot it came from was recalled. */
  status: BatchStatus;
  /** The recalled lot whose recall reaches this one (itself or an ancestor), or null. */
  recalledVia: Hex | null;
  inspection: InspectionResult;
  manufacturer: Hex;
  /** Who holds it: while packed, the custodian of the outermost container enclosing it. */
  custodian: Hex;
  pendingCustodian: Hex | null;
  /**
   * Where it is: while packed, the outermost container's place; else the place of its last accepted handoff, else
   * where it was made (GLN, 13 digits).
   */
  location: string;
  /** The container it is packed in and the outermost one enclosing it, while packed (LogisticUnits). */
  container: { sscc: string; outermostSscc: string } | null;
  /** Everyone who held it, in order: its first holder (manufacturer, or the splitter) and each accepted receiver. */
  holders: Hex[];
  registeredAt: number;
  /** Unix seconds of its last custody change (or registration). */
  lastMovedAt: number;
  /** The transformation (merge) that made it, when one did: its inputs are among the ancestors. */
  producedBy: string | null;
  /** The transformation it was consumed in, when it was: its outputs are among the descendants. */
  consumedIn: string | null;
}

/** A merge the trace crosses (both an input and an output are in the trace). */
export interface TracedTransformation {
  transformationId: string;
  processor: Hex;
  locationGln: string;
  documentHash: Hex;
  inputs: TransformationInput[];
  outputIds: Hex[];
  recordedAt: number;
  transactionHash: Hex;
}

export interface Trace {
  batchId: Hex;
  direction: TraceDirection;
  /** Nearest first, generation by generation: split parents and the inputs of merges; each lot once. */
  ancestors: TracedLot[];
  lot: TracedLot;
  /** Generation by generation: split children (in `childIds` order) and the outputs of merges; each lot once. */
  descendants: TracedLot[];
  /** The merges between lots of the trace, in the order the walk met them. */
  transformations: TracedTransformation[];
  /** Names and GLNs of every participant the trace mentions, and of the places that are a participant's GLN. */
  participants: Record<Hex, { name: string; gln: string; roles: string[] }>;
  summary: {
    lots: number;
    /** Distinct current custodians of the lot and its descendants: who to call in a recall. */
    holdersNow: number;
    recalledLots: number;
  };
}

export interface TraceService {
  trace(batchId: Hex, direction: TraceDirection): Promise<Trace>;
}

export type TraceStore = Pick<
  MirrorStore,
  "getBatch" | "getBatches" | "getParticipants" | "findTransformationsProducing" | "findTransformationsConsuming"
> &
  Partial<Pick<MirrorStore, "getContainers">>;

export function createTraceService({ store }: { store: TraceStore }): TraceService {
  const tooLarge = () =>
    new DomainError("rejected", `The trace reaches more than ${MAX_TRACE_LOTS} lots; trace a lot further down the tree`, {
      reason: "trace-too-large",
      limit: MAX_TRACE_LOTS,
    });

  return {
    async trace(batchId, direction) {
      const batch = await store.getBatch(batchId);
      if (batch === null) throw notFound(`No batch ${batchId} (unknown, or not indexed yet)`);

      // Always back: the lot's own status needs every lot it came from (its parents and, through merges, the
      // inputs of the transformation that made it, and theirs).
      const back = await walkLineage(store, [batch], "back", { maxLots: MAX_TRACE_LOTS - 1, maxGenerations: MAX_LINEAGE_DEPTH });
      // Past MAX_LINEAGE_DEPTH generations only corrupt data goes on: stop there, as the parent chain always did.
      if (back.limit === "lots") throw tooLarge();
      const forward =
        direction === "back"
          ? null
          : await walkLineage(store, [batch], "forward", {
              maxLots: MAX_TRACE_LOTS - 1 - back.lots.length,
              maxGenerations: Number.MAX_SAFE_INTEGER,
              // A lot both upstream and downstream only happens in corrupt data; it is listed once, as an ancestor.
              known: back.lots.map((lot) => lot.batch.batchId),
            });
      if (forward !== null && forward.limit !== null) throw tooLarge();

      const ancestorBatches = back.lots.map((lot) => lot.batch);
      const descendantLots = forward?.lots ?? [];
      const allBatches = [...ancestorBatches, batch, ...descendantLots.map((lot) => lot.batch)];
      const recalledVia = recalledViaOf(allBatches, [...back.edges, ...(forward?.edges ?? [])]);
      const producedBy = new Map<Hex, string>();
      const consumedIn = new Map<Hex, string>();
      const transformations = new Map<string, Transformation>();
      for (const transformation of [...back.transformations, ...(forward?.transformations ?? [])]) {
        transformations.set(transformation.transformationId, transformation);
        for (const outputId of transformation.outputIds) producedBy.set(outputId, transformation.transformationId);
        for (const input of transformation.inputs) consumedIn.set(input.batchId, transformation.transformationId);
      }
      const traced = (lot: Batch, generation: number): TracedLot => ({
        ...tracedLot(lot, generation, recalledVia.get(lot.batchId) ?? null),
        producedBy: producedBy.get(lot.batchId) ?? null,
        consumedIn: consumedIn.get(lot.batchId) ?? null,
      });

      const ancestors = direction === "forward" ? [] : back.lots.map((lot) => traced(lot.batch, -lot.generation));
      const lot = traced(batch, 0);
      const descendants = descendantLots.map((item) => traced(item.batch, item.generation));
      const all = [...ancestors, lot, ...descendants];
      const inTrace = new Set(all.map((item) => item.batchId));
      // A container handoff moves packed lots without touching them in the registry: their holder and place are the outermost container's.
      const holdings = await packedHoldingsOf(
        store,
        all.flatMap((item) => (item.container === null ? [] : [{ batchId: item.batchId, packedIn: item.container.sscc } as Batch])),
      );
      for (const item of all) {
        const holding = holdings.get(item.batchId);
        if (holding === undefined) continue;
        item.custodian = holding.custodian;
        item.location = holding.locationGln;
        item.container = { sscc: holding.sscc, outermostSscc: holding.outermostSscc };
      }
      const addresses = new Set<Hex>();
      for (const item of all) {
        addresses.add(item.manufacturer).add(item.custodian);
        if (item.pendingCustodian) addresses.add(item.pendingCustodian);
        for (const holder of item.holders) addresses.add(holder);
      }
      const merges = [...transformations.values()].filter(
        (transformation) =>
          transformation.outputIds.some((id) => inTrace.has(id)) && transformation.inputs.some((input) => inTrace.has(input.batchId)),
      );
      for (const transformation of merges) addresses.add(transformation.processor);
      const participants: Trace["participants"] = {};
      const addressList = [...addresses];
      for (let start = 0; start < addressList.length; start += READ_CHUNK) {
        for (const participant of await store.getParticipants(addressList.slice(start, start + READ_CHUNK))) {
          participants[participant.address] = { name: participant.name, gln: participant.gln, roles: participant.roles };
        }
      }
      const downstream = [lot, ...descendants];
      return {
        batchId: batch.batchId,
        direction,
        ancestors,
        lot,
        descendants,
        transformations: merges.map(tracedTransformation),
        participants,
        summary: {
          lots: all.length,
          holdersNow: new Set(downstream.map((item) => item.custodian)).size,
          recalledLots: all.filter((item) => item.recalledVia !== null).length,
        },
      };
    },
  };
}

function tracedTransformation(transformation: Transformation): TracedTransformation {
  return {
    transformationId: transformation.transformationId,
    processor: transformation.processor,
    locationGln: transformation.locationGln,
    documentHash: transformation.documentHash,
    inputs: transformation.inputs,
    outputIds: transformation.outputIds,
    recordedAt: transformation.recorded.blockTimestamp,
    transactionHash: transformation.recorded.transactionHash,
  };
}

function tracedLot(batch: Batch, generation: number, recalledVia: Hex | null): Omit<TracedLot, "producedBy" | "consumedIn"> {
  const accepted = batch.custody.filter((step) => step.kind === "accepted");
  const lastAccepted = accepted.at(-1);
  const firstHolder = accepted[0]?.from ?? batch.custodian;
  const holders: Hex[] = [firstHolder];
  for (const step of accepted) if (holders.at(-1) !== step.to) holders.push(step.to);
  return {
    batchId: batch.batchId,
    gtin: batch.gtin,
    lot: batch.lot,
    quantity: batch.quantity,
    parentId: batch.parentId,
    generation,
    status: recalledVia !== null ? "recalled" : batch.status,
    recalledVia,
    inspection: batch.inspection,
    manufacturer: batch.manufacturer,
    custodian: batch.custodian,
    pendingCustodian: batch.pendingCustodian,
    location: lastAccepted?.locationGln ?? batch.originGln,
    container: typeof batch.packedIn === "string" ? { sscc: batch.packedIn, outermostSscc: batch.packedIn } : null,
    holders,
    registeredAt: batch.registered.blockTimestamp,
    lastMovedAt: (lastAccepted?.at ?? batch.registered).blockTimestamp,
  };
}
