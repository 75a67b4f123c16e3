/**
 * Trace forward and back: for a lot, every lot it came from and every lot that came from it, each with where it is
 * now, who holds it, who held it before, and its status, in one answer. This is what a recall needs ("where are the
 * units now and who had them") and what a buyer checks before paying.
 *
 * Lineage today is splitting (a child lot's `parentId`); packing and merging will add edges here when the contracts
 * record them. Descendants are read one generation at a time (`getBatches` on the generation's `childIds`, in
 * chunks), so a trace costs one store round trip per generation and chunk, not one per lot: a 100,000-lot tree five
 * generations deep is about a hundred reads (scripts/bench-trace.ts measures it).
 *
 * Everything here is public on chain already (the registry's events name every custodian and place); the trace only
 * gathers it. It is bounded by MAX_TRACE_LOTS so one request cannot make the server walk an unbounded graph.
 */
import { DomainError, notFound } from "../domain/errors.ts";
import type { Batch, BatchStatus, Hex, InspectionResult } from "../domain/model.ts";
import { loadAncestors } from "../read-model/batch-history.ts";
import type { MirrorStore } from "../store/port.ts";
import { packedHoldingsOf } from "../containers/holders.ts";

/** Lots one trace may return; a larger graph is refused (never truncated: a partial trace reads as a complete one). */
export const MAX_TRACE_LOTS = 100_000;
const READ_CHUNK = 1_000;

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
}

export interface Trace {
  batchId: Hex;
  direction: TraceDirection;
  /** Nearest first. */
  ancestors: TracedLot[];
  lot: TracedLot;
  /** Generation by generation, each generation in its parents' `childIds` order. */
  descendants: TracedLot[];
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

export function createTraceService({
  store,
}: {
  store: Pick<MirrorStore, "getBatch" | "getBatches" | "getParticipants"> & Partial<Pick<MirrorStore, "getContainers">>;
}): TraceService {
  async function readMany(ids: readonly Hex[]): Promise<Batch[]> {
    const batches: Batch[] = [];
    for (let start = 0; start < ids.length; start += READ_CHUNK)
      batches.push(...(await store.getBatches(ids.slice(start, start + READ_CHUNK))));
    return batches;
  }

  return {
    async trace(batchId, direction) {
      const batch = await store.getBatch(batchId);
      if (batch === null) throw notFound(`No batch ${batchId} (unknown, or not indexed yet)`);

      const ancestorBatches = await loadAncestors(store, batch);
      const seen = new Set<Hex>([batch.batchId, ...ancestorBatches.map((ancestor) => ancestor.batchId)]);
      // The recall reaching each ancestor comes from itself or an older ancestor: fold from the root down.
      const recalledVia = new Map<Hex, Hex | null>();
      let inherited: Hex | null = null;
      for (const ancestor of [...ancestorBatches].reverse()) {
        inherited = ancestor.recall ? ancestor.batchId : inherited;
        recalledVia.set(ancestor.batchId, inherited);
      }
      const lotRecalledVia: Hex | null = batch.recall ? batch.batchId : inherited;

      const descendants: TracedLot[] = [];
      if (direction !== "back") {
        let generation: { batch: Batch; recalledVia: Hex | null }[] = [{ batch, recalledVia: lotRecalledVia }];
        for (let depth = 1; generation.length > 0; depth++) {
          const childIds = generation.flatMap(({ batch: parent }) => parent.childIds.filter((id) => !seen.has(id)));
          if (childIds.length === 0) break;
          if (descendants.length + childIds.length + ancestorBatches.length + 1 > MAX_TRACE_LOTS) {
            throw new DomainError("rejected", `The trace reaches more than ${MAX_TRACE_LOTS} lots; trace a lot further down the tree`, {
              reason: "trace-too-large",
              limit: MAX_TRACE_LOTS,
            });
          }
          for (const id of childIds) seen.add(id);
          const viaOfParent = new Map(generation.map((item) => [item.batch.batchId, item.recalledVia]));
          const children = await readMany(childIds);
          generation = children.map((child) => ({
            batch: child,
            recalledVia: child.recall ? child.batchId : (viaOfParent.get(child.parentId as Hex) ?? null),
          }));
          for (const item of generation) descendants.push(tracedLot(item.batch, depth, item.recalledVia));
        }
      }

      const ancestors =
        direction === "forward"
          ? []
          : ancestorBatches.map((ancestor, index) => tracedLot(ancestor, -(index + 1), recalledVia.get(ancestor.batchId) ?? null));
      const lot = tracedLot(batch, 0, lotRecalledVia);
      const all = [...ancestors, lot, ...descendants];
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

function tracedLot(batch: Batch, generation: number, recalledVia: Hex | null): TracedLot {
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
