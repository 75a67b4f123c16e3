/**
 * The passport's face of a batch's events (backend/read-model/batch-history.ts): each one as the registry event it
 * comes from (name, block, log index, transaction) with the event's arguments under the contract's own names, so a
 * verifier (the page's script, scripts/verify.ts) can compare them with the chain's logs field by field.
 */
import type { Batch, EventRef, Hex } from "../domain/model.ts";
import type { BatchEvent } from "../read-model/batch-history.ts";

export type HistoryKind = "registered" | "split_from" | "custody" | "inspection" | "split_into" | "recalled";

export interface HistoryEntry {
  kind: HistoryKind;
  /** Human label, e.g. "Custody accepted". */
  label: string;
  /** The registry event this entry is, with its arguments by the contract's names. */
  event: string;
  args: Record<string, string | number | boolean | null>;
  eventId: string;
  blockNumber: number;
  logIndex: number;
  transactionHash: Hex;
  timestamp: number;
}

export function logIndexOf(ref: EventRef): number {
  return Number(ref.eventId.split(":").at(-1));
}

function entry(kind: HistoryKind, label: string, event: string, ref: EventRef, args: HistoryEntry["args"]): HistoryEntry {
  return {
    kind,
    label,
    event,
    args,
    eventId: ref.eventId,
    blockNumber: ref.blockNumber,
    logIndex: logIndexOf(ref),
    transactionHash: ref.transactionHash,
    timestamp: ref.blockTimestamp,
  };
}

const CUSTODY_EVENTS = {
  proposed: ["HandoffProposed", "Handoff proposed"],
  accepted: ["HandoffAccepted", "Custody accepted"],
  rejected: ["HandoffRejected", "Handoff rejected"],
  cancelled: ["HandoffCancelled", "Handoff cancelled"],
} as const;

export function historyEntryOf(event: BatchEvent): HistoryEntry {
  const { batch } = event;
  switch (event.kind) {
    case "registered":
      return registrationEntry(batch, event.parent);
    case "custody": {
      const { step } = event;
      const [name, label] = CUSTODY_EVENTS[step.kind];
      const args: HistoryEntry["args"] = { batchId: batch.batchId, from: step.from, to: step.to };
      if (step.kind === "proposed" || step.kind === "accepted") {
        args.locationGln = step.locationGln;
        args.businessStep = step.businessStep;
      }
      if (step.kind === "rejected") args.reasonHash = step.reasonHash;
      return entry("custody", label, name, step.at, args);
    }
    case "inspected": {
      const { inspection } = event;
      return entry("inspection", inspection.passed ? "Inspection passed" : "Inspection failed", "QualityAttested", inspection.at, {
        batchId: batch.batchId,
        inspector: inspection.inspector,
        passed: inspection.passed,
        reportHash: inspection.reportHash,
      });
    }
    case "split": {
      const { child } = event;
      return entry("split_into", `Split into lot ${child.lot}`, "BatchSplit", child.registered, {
        parentId: batch.batchId,
        childId: child.batchId,
        custodian: batch.custodian,
        lot: child.lot,
        quantity: child.quantity,
        serialRoot: child.serialRoot,
      });
    }
    case "recalled":
      return recallEntry(batch);
  }
}

/** How a batch came to exist: its BatchRegistered event, or the BatchSplit that created it from `parent`. */
function registrationEntry(batch: Batch, parent: Batch | null): HistoryEntry {
  if (batch.parentId !== null) {
    return entry("split_from", `Split from lot ${parent?.lot ?? batch.parentId}`, "BatchSplit", batch.registered, {
      parentId: batch.parentId,
      childId: batch.batchId,
      // The splitter was the parent's custodian, and a split parent never moves again.
      ...(parent ? { custodian: parent.custodian } : {}),
      lot: batch.lot,
      quantity: batch.quantity,
      serialRoot: batch.serialRoot,
    });
  }
  return entry("registered", "Registered by the manufacturer", "BatchRegistered", batch.registered, {
    batchId: batch.batchId,
    manufacturer: batch.manufacturer,
    gtin: batch.gtin,
    lot: batch.lot,
    quantity: batch.quantity,
    productionDate: batch.productionDate,
    originGln: batch.originGln,
    documentHash: batch.documentHash,
    serialRoot: batch.serialRoot,
  });
}

export function recallEntry(batch: Batch): HistoryEntry {
  const recall = batch.recall!;
  return entry("recalled", "Recalled", "BatchRecalled", recall.at, {
    batchId: batch.batchId,
    recalledBy: recall.by,
    reasonHash: recall.reasonHash,
  });
}
