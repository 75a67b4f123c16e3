/**
 * Batches: lists with filters, one batch with its timeline, lineage and the participants it mentions,
 * and a batch's raw events. Reads only through the store port (projections and the event log).
 */
import { withheldEscrowDetails } from "../../auth/order-access.ts";
import type { Viewer } from "../../auth/auth-service.ts";
import { notFound } from "../../domain/errors.ts";
import type { ContainerReads, MirrorLog, ProjectionReads, TransformationRecords } from "../../store/port.ts";
import { packedHoldingsOf } from "../../containers/holders.ts";
import type { Batch, ChainEvent, Hex, Page, Participant } from "../../domain/model.ts";
import { loadBatchHistory, mentionedAddresses, withEffectiveStatus, type BatchEvent } from "../../read-model/batch-history.ts";
import type { BatchDetail, BatchHolding, BatchSummary, ParticipantSummary, TimelineEntry } from "../models.ts";
import type { ListBatchesQuery, PageQuery } from "../schemas.ts";

export { MAX_LINEAGE_DEPTH } from "../../read-model/batch-history.ts";

export interface BatchService {
  /**
   * Batches with their effective status (the registry's: recalled when an ancestor was recalled). A `status` filter
   * matches the status the batch's own events gave it, so `status=recalled` lists the batches a recall names; a
   * batch that only an ancestor's recall reaches is left out of every other status's list (a page may then hold
   * fewer than `limit` items) and is found through its lineage (`parent=`) or the batch view.
   */
  list(query: ListBatchesQuery): Promise<Page<Batch>>;
  /** The batch with its timeline and lineage; 404 problem when unknown. */
  get(batchId: Hex): Promise<BatchDetail>;
  /** The batch's contract events in chain order (escrow terms withheld from non-parties); 404 problem when the batch is unknown. */
  listEvents(batchId: Hex, page: PageQuery, viewer: Viewer): Promise<Page<ChainEvent>>;
}

/** The store a batch service reads; without the containers section, packed batches show their registry custodian. */
export type BatchServiceStore = ProjectionReads & MirrorLog & TransformationRecords & Partial<Pick<ContainerReads, "getContainers">>;

export function createBatchService({ store }: { store: BatchServiceStore }): BatchService {
  return {
    async list({ gtin, lot, manufacturer, custodian, status, parent, limit, cursor }) {
      const page = await store.listBatches(
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
      const items = await withEffectiveStatus(store, page.items);
      return { ...page, items: status === undefined ? items : items.filter((batch) => batch.status === status) };
    },

    async get(batchId) {
      const batch = await store.getBatch(batchId);
      if (!batch) throw notFound(`No batch with id ${batchId}`);
      const history = await loadBatchHistory(store, batch);
      // Only the batch's own participants, in the order it mentions them (the history holds its ancestors' too).
      const participants = mentionedAddresses(batch).flatMap((address) => {
        const participant = history.participants.get(address);
        return participant ? [participant] : [];
      });
      return {
        ...history.batch,
        container: await containerHoldingOf(store, batch),
        timeline: timelineOf(history.events),
        lineage: {
          ancestors: (
            await withEffectiveStatus(
              store,
              history.ancestors.map((ancestor) => ancestor.batch),
            )
          ).map(summarizeBatch),
          children: (await withEffectiveStatus(store, history.children)).map(summarizeBatch),
          madeFrom:
            history.madeFrom === null
              ? null
              : {
                  transformationId: history.madeFrom.transformation.transformationId,
                  inputs: (await withEffectiveStatus(store, history.madeFrom.inputs)).map(summarizeBatch),
                },
          consumedInto:
            history.usedIn === null
              ? null
              : {
                  transformationId: history.usedIn.transformation.transformationId,
                  outputs: (await withEffectiveStatus(store, history.usedIn.outputs)).map(summarizeBatch),
                },
        },
        participants: Object.fromEntries(participants.map((participant) => [participant.address, summarizeParticipant(participant)])),
      };
    },

    async listEvents(batchId, { limit, cursor }, viewer) {
      if (!(await store.getBatch(batchId))) throw notFound(`No batch with id ${batchId}`);
      return withheldEscrowDetails(viewer, await store.listEvents({ batchId }, { limit, cursor: cursor ?? null }), store);
    },
  };
}

/**
 * A batch's events (chain order) as the API's timeline: one entry per event, except that the splits into each
 * child are one "split" entry, at the time of the first child's registration.
 */
export function timelineOf(events: BatchEvent[]): TimelineEntry[] {
  const entries: TimelineEntry[] = [];
  for (const event of events) {
    switch (event.kind) {
      case "registered": {
        const { batch } = event;
        entries.push({
          type: "registered",
          at: event.at,
          manufacturer: batch.manufacturer,
          quantity: batch.quantity,
          originGln: batch.originGln,
          parentId: batch.parentId,
        });
        break;
      }
      case "custody": {
        const { step } = event;
        entries.push({
          type: `handoff_${step.kind}`,
          at: step.at,
          from: step.from,
          to: step.to,
          locationGln: step.locationGln,
          businessStep: step.businessStep,
          reasonHash: step.reasonHash,
        });
        break;
      }
      case "inspected": {
        const { inspection } = event;
        const { inspector, passed, reportHash } = inspection;
        entries.push({ type: "inspected", at: inspection.at, inspector, passed, reportHash });
        break;
      }
      case "split":
        if (!entries.some((entry) => entry.type === "split")) entries.push({ type: "split", at: event.at, childIds: event.batch.childIds });
        break;
      case "recalled":
        entries.push({ type: "recalled", at: event.at, by: event.recall.by, reasonHash: event.recall.reasonHash });
        break;
    }
  }
  return entries;
}

/**
 * Where a packed batch is: its container, the outermost one, and who holds it (the outermost container's custodian,
 * with its registry name), with the sentence the API and the passport show. Null when the batch is not packed.
 */
export async function containerHoldingOf(store: BatchServiceStore, batch: Batch): Promise<BatchHolding | null> {
  const holding = (await packedHoldingsOf(store, [batch])).get(batch.batchId);
  if (holding === undefined) return null;
  const [participant] = await store.getParticipants([holding.custodian]);
  const name = participant?.name ?? null;
  return {
    sscc: holding.sscc,
    outermostSscc: holding.outermostSscc,
    path: holding.path,
    holder: { address: holding.custodian, name },
    locationGln: holding.locationGln,
    description: `in container ${holding.sscc}${holding.outermostSscc === holding.sscc ? "" : ` (inside ${holding.outermostSscc})`} held by ${name ?? holding.custodian}`,
  };
}

export function summarizeBatch(batch: Batch): BatchSummary {
  const { batchId, gtin, lot, quantity, status, custodian, parentId } = batch;
  return { batchId, gtin, lot, quantity, status, custodian, parentId };
}

function summarizeParticipant(participant: Participant): ParticipantSummary {
  const { address, name, gln, roles, suspended } = participant;
  return { address, name, gln, roles, suspended };
}
