/**
 * Batch projection: registration, the custody timeline (proposed / accepted / rejected / cancelled handoffs),
 * status, pending custodian, inspections, split lineage (parent and children) and recall, all from the
 * registry's events alone, and whether the custody observer (the escrow) watches the batch.
 * `status` is what the batch's own events make it; a recall of an ancestor reaches it too (the registry's batch() and
 * batchStatus() then read Recalled), which read-model/batch-history.ts folds in as the effective status.
 */
import type { Batch, BatchStatus, ChainEvent, CustodyStep, Hex } from "../domain/model.ts";
import { ProjectionError, booleanArg, eventRef, hexArg, isAlreadyApplied, numberArg, stringArg } from "./event-ref.ts";

export const BATCH_EVENTS = new Set([
  "BatchRegistered",
  "HandoffProposed",
  "HandoffAccepted",
  "HandoffRejected",
  "HandoffCancelled",
  "QualityAttested",
  "BatchSplit",
  "BatchRecalled",
  "BatchWatchChanged",
]);

/** LogisticUnits events that move a batch into or out of a container (its `packedIn`). */
export const BATCH_PACKING_EVENTS = new Set(["BatchPacked", "BatchUnpacked"]);

/** The batches an event changes: BatchSplit changes its parent and creates its child. */
export function batchKeysOf(event: ChainEvent): Hex[] {
  if (event.contract === "LogisticUnits") return BATCH_PACKING_EVENTS.has(event.name) ? [hexArg(event, "batchId")] : [];
  if (event.contract !== "ProvenanceRegistry" || !BATCH_EVENTS.has(event.name)) return [];
  if (event.name === "BatchSplit") return [hexArg(event, "parentId"), hexArg(event, "childId")];
  return [hexArg(event, "batchId")];
}

/** Reads another batch's current projection (the parent, when a split creates a child). */
export type BatchLookup = (batchId: Hex) => Batch | null;

/**
 * Next state of batch `batchId` after `event`. Events of other batches, events already applied
 * (id <= lastEvent) and events that change no batch return `batch` itself.
 */
export function reduceBatch(batch: Batch | null, event: ChainEvent, batchId: Hex, lookup: BatchLookup): Batch | null {
  if (!batchKeysOf(event).includes(batchId)) return batch;
  if (isAlreadyApplied(batch, event)) return batch;
  const ref = eventRef(event);

  if (event.contract === "LogisticUnits") {
    const current = requireBatch(batch, event, batchId);
    return { ...current, packedIn: event.name === "BatchPacked" ? stringArg(event, "sscc") : null, lastEvent: ref };
  }

  switch (event.name) {
    case "BatchRegistered": {
      const manufacturer = hexArg(event, "manufacturer");
      return {
        batchId,
        gtin: stringArg(event, "gtin"),
        lot: stringArg(event, "lot"),
        quantity: stringArg(event, "quantity"),
        productionDate: numberArg(event, "productionDate"),
        originGln: stringArg(event, "originGln"),
        documentHash: hexArg(event, "documentHash"),
        serialRoot: hexArg(event, "serialRoot"),
        manufacturer,
        custodian: manufacturer,
        pendingCustodian: null,
        status: "registered",
        inspection: "none",
        inspections: [],
        custody: [],
        parentId: null,
        childIds: [],
        recall: null,
        watched: false,
        registered: ref,
        lastEvent: ref,
      };
    }
    case "HandoffProposed": {
      const current = requireBatch(batch, event, batchId);
      const to = hexArg(event, "to");
      return {
        ...current,
        pendingCustodian: to,
        status: "in_transit",
        custody: [...current.custody, custodyStep(event, "proposed")],
        lastEvent: ref,
      };
    }
    case "HandoffAccepted": {
      const current = requireBatch(batch, event, batchId);
      return {
        ...current,
        custodian: hexArg(event, "to"),
        pendingCustodian: null,
        status: "delivered",
        custody: [...current.custody, custodyStep(event, "accepted")],
        lastEvent: ref,
      };
    }
    case "HandoffRejected":
    case "HandoffCancelled": {
      const current = requireBatch(batch, event, batchId);
      const custody = [...current.custody, custodyStep(event, event.name === "HandoffRejected" ? "rejected" : "cancelled")];
      return { ...current, pendingCustodian: null, status: statusBeforeHandoff(custody), custody, lastEvent: ref };
    }
    case "QualityAttested": {
      const current = requireBatch(batch, event, batchId);
      const passed = booleanArg(event, "passed");
      return {
        ...current,
        inspection: passed ? "passed" : "failed",
        inspections: [
          ...current.inspections,
          { inspector: hexArg(event, "inspector"), passed, reportHash: hexArg(event, "reportHash"), at: ref },
        ],
        lastEvent: ref,
      };
    }
    case "BatchSplit": {
      const parentId = hexArg(event, "parentId");
      const childId = hexArg(event, "childId");
      if (batchId === parentId) {
        const parent = requireBatch(batch, event, parentId);
        return {
          ...parent,
          status: "split",
          pendingCustodian: null,
          childIds: parent.childIds.includes(childId) ? parent.childIds : [...parent.childIds, childId],
          lastEvent: ref,
        };
      }
      // The child inherits what the registry copies from the parent: manufacturer, GTIN, production date and
      // origin; its batch document is the parent's.
      const parent = lookup(parentId);
      if (parent === null) throw new ProjectionError(event, `split of unknown parent batch ${parentId}`);
      return {
        batchId: childId,
        gtin: parent.gtin,
        lot: stringArg(event, "lot"),
        quantity: stringArg(event, "quantity"),
        productionDate: parent.productionDate,
        originGln: parent.originGln,
        documentHash: parent.documentHash,
        serialRoot: hexArg(event, "serialRoot"),
        manufacturer: parent.manufacturer,
        custodian: hexArg(event, "custodian"),
        pendingCustodian: null,
        status: "registered",
        inspection: "none",
        inspections: [],
        custody: [],
        parentId,
        childIds: [],
        recall: null,
        watched: false,
        registered: ref,
        lastEvent: ref,
      };
    }
    case "BatchWatchChanged": {
      const current = requireBatch(batch, event, batchId);
      return { ...current, watched: booleanArg(event, "watched"), lastEvent: ref };
    }
    case "BatchRecalled": {
      const current = requireBatch(batch, event, batchId);
      return {
        ...current,
        status: "recalled",
        pendingCustodian: null,
        recall: { by: hexArg(event, "recalledBy"), reasonHash: hexArg(event, "reasonHash"), at: ref },
        lastEvent: ref,
      };
    }
    default:
      return batch;
  }
}

function requireBatch(batch: Batch | null, event: ChainEvent, batchId: Hex): Batch {
  if (batch === null) throw new ProjectionError(event, `batch ${batchId} was never registered`);
  return batch;
}

function custodyStep(event: ChainEvent, kind: CustodyStep["kind"]): CustodyStep {
  const hasPlace = kind === "proposed" || kind === "accepted";
  return {
    kind,
    from: hexArg(event, "from"),
    to: hexArg(event, "to"),
    locationGln: hasPlace ? stringArg(event, "locationGln") : null,
    businessStep: hasPlace ? stringArg(event, "businessStep") : null,
    reasonHash: kind === "rejected" ? hexArg(event, "reasonHash") : null,
    at: eventRef(event),
  };
}

/** A rejected or withdrawn handoff returns the batch to where it was: delivered once anyone accepted custody. */
function statusBeforeHandoff(custody: CustodyStep[]): BatchStatus {
  return custody.some((step) => step.kind === "accepted") ? "delivered" : "registered";
}
