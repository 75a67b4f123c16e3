/**
 * Batches: lists with filters, one batch with its timeline, lineage and the participants it mentions,
 * and a batch's raw events. Reads only through the MirrorStore port.
 */
import { notFound } from "../../domain/errors.ts";
import type { MirrorStore } from "../../store/port.ts";
import type { Batch, ChainEvent, Hex, Page, Participant } from "../../domain/model.ts";
import type { BatchDetail, BatchSummary, ParticipantSummary, TimelineEntry } from "../models.ts";
import type { ListBatchesQuery, PageQuery } from "../schemas.ts";

/** Longest parent chain followed; real lineages are a few splits deep, this only bounds corrupt data. */
export const MAX_LINEAGE_DEPTH = 64;

export interface BatchService {
  list(query: ListBatchesQuery): Promise<Page<Batch>>;
  /** The batch with its timeline and lineage; 404 problem when unknown. */
  get(batchId: Hex): Promise<BatchDetail>;
  /** The batch's contract events in chain order; 404 problem when the batch is unknown. */
  listEvents(batchId: Hex, page: PageQuery): Promise<Page<ChainEvent>>;
}

export function createBatchService({ store }: { store: MirrorStore }): BatchService {
  return {
    list({ gtin, lot, manufacturer, custodian, status, parent, limit, cursor }) {
      return store.listBatches(
        {
          ...(gtin === undefined ? {} : { gtin }),
          ...(lot === undefined ? {} : { lot }),
          ...(manufacturer === undefined ? {} : { manufacturer }),
          ...(custodian === undefined ? {} : { custodian }),
          ...(status === undefined ? {} : { status }),
          ...(parent === undefined ? {} : { parentId: parent }),
        },
        { limit, cursor: cursor ?? null },
      );
    },

    async get(batchId) {
      const batch = await store.getBatch(batchId);
      if (!batch) throw notFound(`No batch with id ${batchId}`);
      const [ancestors, children] = await Promise.all([loadAncestors(store, batch), store.getBatches(batch.childIds)]);
      const participants = await store.getParticipants(addressesMentioned(batch));
      return {
        ...batch,
        timeline: buildBatchTimeline(batch, children),
        lineage: {
          ancestors: ancestors.map(summarizeBatch),
          children: orderLike(batch.childIds, children, (child) => child.batchId).map(summarizeBatch),
        },
        participants: Object.fromEntries(participants.map((participant) => [participant.address, summarizeParticipant(participant)])),
      };
    },

    async listEvents(batchId, { limit, cursor }) {
      if (!(await store.getBatch(batchId))) throw notFound(`No batch with id ${batchId}`);
      return store.listEvents({ batchId }, { limit, cursor: cursor ?? null });
    },
  };
}

/** Parent first, up to the root; stops at a missing parent or a cycle (which only corrupt data could hold). */
async function loadAncestors(store: MirrorStore, batch: Batch): Promise<Batch[]> {
  const ancestors: Batch[] = [];
  const seen = new Set<Hex>([batch.batchId]);
  let parentId = batch.parentId;
  while (parentId !== null && !seen.has(parentId) && ancestors.length < MAX_LINEAGE_DEPTH) {
    seen.add(parentId);
    const parent = await store.getBatch(parentId);
    if (!parent) break;
    ancestors.push(parent);
    parentId = parent.parentId;
  }
  return ancestors;
}

/**
 * Registration, custody steps, inspections, the split and the recall of a batch as one list in chain order.
 * The split has no event of its own on the parent: its time is the registration of the first child.
 */
export function buildBatchTimeline(batch: Batch, children: Batch[]): TimelineEntry[] {
  const entries: TimelineEntry[] = [
    {
      type: "registered",
      at: batch.registered,
      manufacturer: batch.manufacturer,
      quantity: batch.quantity,
      originGln: batch.originGln,
      parentId: batch.parentId,
    },
  ];
  for (const step of batch.custody) {
    entries.push({
      type: `handoff_${step.kind}`,
      at: step.at,
      from: step.from,
      to: step.to,
      locationGln: step.locationGln,
      businessStep: step.businessStep,
      reasonHash: step.reasonHash,
    });
  }
  for (const inspection of batch.inspections) {
    entries.push({ type: "inspected", at: inspection.at, inspector: inspection.inspector, passed: inspection.passed, reportHash: inspection.reportHash });
  }
  if (batch.childIds.length > 0 && children.length > 0) {
    const firstChild = children.reduce((first, child) => (child.registered.eventId < first.registered.eventId ? child : first));
    entries.push({ type: "split", at: firstChild.registered, childIds: batch.childIds });
  }
  if (batch.recall) entries.push({ type: "recalled", at: batch.recall.at, by: batch.recall.by, reasonHash: batch.recall.reasonHash });
  // Event ids sort in chain order; the sort is stable, so entries of one event keep the order above.
  return entries.sort((a, b) => (a.at.eventId < b.at.eventId ? -1 : a.at.eventId > b.at.eventId ? 1 : 0));
}

function addressesMentioned(batch: Batch): Hex[] {
  const addresses = new Set<Hex>([batch.manufacturer, batch.custodian]);
  if (batch.pendingCustodian) addresses.add(batch.pendingCustodian);
  for (const step of batch.custody) addresses.add(step.from).add(step.to);
  for (const inspection of batch.inspections) addresses.add(inspection.inspector);
  if (batch.recall) addresses.add(batch.recall.by);
  return [...addresses];
}

export function summarizeBatch(batch: Batch): BatchSummary {
  const { batchId, gtin, lot, quantity, status, custodian, parentId } = batch;
  return { batchId, gtin, lot, quantity, status, custodian, parentId };
}

function summarizeParticipant(participant: Participant): ParticipantSummary {
  const { address, name, gln, roles, suspended } = participant;
  return { address, name, gln, roles, suspended };
}

/** `items` in the order of `ids` (stores may answer a multi-get in any order). */
function orderLike<T>(ids: Hex[], items: T[], idOf: (item: T) => Hex): T[] {
  const byId = new Map(items.map((item) => [idOf(item), item]));
  return ids.flatMap((id) => {
    const item = byId.get(id);
    return item ? [item] : [];
  });
}
