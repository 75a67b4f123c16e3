/**
 * The container read model's service: one container with its contents resolved down to the batches (gtin and lot,
 * status, recall flags), who holds it (the outermost container's custodian), its pending handoff, place and
 * history; and the lists by holder or by batch. Reads only through the store port.
 *
 * Bounds: a container may hold many thousands of batches (packing is O(batches) per transaction but unbounded over
 * time), so the view lists at most MAX_LISTED_BATCHES batches and MAX_LISTED_HISTORY history steps and says when it
 * cut (`contents.truncated`, `historyTruncated`), with the full counts beside them.
 */
import { notFound } from "../domain/errors.ts";
import type { Batch, Container, ContainerStep, EventRef, Hex, Page, Participant } from "../domain/model.ts";
import { withEffectiveStatus } from "../read-model/batch-history.ts";
import type { ContainerReads, ProjectionReads, TransformationRecords } from "../store/port.ts";
import { MAX_NESTING_LEVELS, resolveOutermost } from "./holders.ts";

/** Most batches one container view lists (nested contents included); the rest are counted, not listed. */
export const MAX_LISTED_BATCHES = 1_000;
/** Most history steps one container view lists (the latest ones). */
export const MAX_LISTED_HISTORY = 500;

export interface ParticipantRef {
  address: Hex;
  /** The participant's registry name, or null for an address the registry does not know. */
  name: string | null;
}

export interface ContainedBatch {
  batchId: Hex;
  gtin: string;
  lot: string;
  quantity: string;
  /** Effective status: recalled when the batch or an ancestor lot was recalled. */
  status: Batch["status"];
  /** The container holding it directly (this one or one nested inside). */
  sscc: string;
  /** Its recall was flagged on chain: the containers holding it no longer move. */
  recallFlagged: boolean;
}

export interface ContainedContainer {
  sscc: string;
  /** The container it is packed in directly. */
  parentSscc: string;
  batches: number;
  containers: number;
}

export interface ContainerView {
  sscc: string;
  state: Container["state"];
  creator: ParticipantRef;
  /**
   * Whether the creator holds the GS1 company prefix the SSCC is under. LogisticUnits refuses an SSCC under a prefix
   * granted to someone else, but anyone may create one under a prefix nobody was granted: false means the SSCC's
   * company never vouched for it (an SSCC squatted before its prefix was granted, or one its owner keeps outside Provena).
   */
  creatorLicensed: boolean;
  /** The contract's custodian record; stale while the container is packed (see `holder`). */
  custodian: ParticipantRef;
  /** Who holds the container and everything in it: the outermost container's custodian. */
  holder: ParticipantRef & { outermostSscc: string };
  /** From this container out to the outermost one (this one first). */
  path: string[];
  parentSscc: string | null;
  /** Where it is: the outermost container's last known location (GLN). */
  locationGln: string;
  pendingHandoff: { to: ParticipantRef; locationGln: string; businessStep: string; proposed: EventRef } | null;
  contents: {
    /** Batches inside at any depth, in packing order, container by container; at most MAX_LISTED_BATCHES. */
    batches: ContainedBatch[];
    containers: ContainedContainer[];
    /** Batches inside at any depth. */
    totalBatches: number;
    truncated: boolean;
  };
  recall: {
    /** Batches inside (any depth) whose recall was flagged on chain: while any is inside, the container cannot move. */
    flaggedBatchIds: Hex[];
    /** Listed batches the registry reports recalled (flagged or not yet). */
    recalledBatchIds: Hex[];
    blocked: boolean;
  };
  /** The latest MAX_LISTED_HISTORY steps, in chain order. */
  history: ContainerStep[];
  historyTruncated: boolean;
  created: EventRef;
  lastEvent: EventRef;
}

export interface ContainerSummary {
  sscc: string;
  state: Container["state"];
  custodian: Hex;
  parentSscc: string | null;
  locationGln: string;
  batches: number;
  containers: number;
  recallFlagged: number;
  pendingTo: Hex | null;
  created: EventRef;
  lastEvent: EventRef;
}

export interface ListContainersQuery {
  custodian?: Hex;
  batchId?: Hex;
  limit: number;
  cursor?: string | undefined;
}

export interface ContainerService {
  /** The container view; 404 problem when no container has this SSCC. */
  get(sscc: string): Promise<ContainerView>;
  /**
   * `custodian`: outermost containers this participant holds (packed containers are reached through them);
   * `batchId`: the container holding that batch directly.
   */
  list(query: ListContainersQuery): Promise<Page<ContainerSummary>>;
}

type Store = ContainerReads &
  Pick<ProjectionReads, "getBatches" | "getParticipants" | "getBatch"> &
  Pick<TransformationRecords, "findTransformationsConsuming" | "findTransformationsProducing">;

export function createContainerService({ store }: { store: Store }): ContainerService {
  return {
    async get(sscc) {
      const container = await store.getContainer(sscc);
      if (container === null) throw notFound(`No container with SSCC ${sscc}`);
      const [resolved] = [...(await resolveOutermost(store, [sscc])).values()];
      const outermost = resolved?.outermost ?? container;

      const nested = await nestedContainers(store, container);
      const totalBatches = [container, ...nested].reduce((total, inner) => total + inner.batchIds.length, 0);
      const listedIds: { batchId: Hex; sscc: string }[] = [];
      for (const holder of [container, ...nested]) {
        for (const batchId of holder.batchIds) {
          if (listedIds.length >= MAX_LISTED_BATCHES) break;
          listedIds.push({ batchId, sscc: holder.sscc });
        }
      }
      const flagged = new Set([container, ...nested].flatMap((inner) => inner.recallFlaggedBatchIds));
      const batchesById = new Map(
        (await withEffectiveStatus(store, await store.getBatches(listedIds.map(({ batchId }) => batchId)))).map((batch) => [
          batch.batchId,
          batch,
        ]),
      );
      const batches: ContainedBatch[] = listedIds.flatMap(({ batchId, sscc: holdingSscc }) => {
        const batch = batchesById.get(batchId);
        if (batch === undefined) return [];
        const { gtin, lot, quantity, status } = batch;
        return [{ batchId, gtin, lot, quantity, status, sscc: holdingSscc, recallFlagged: flagged.has(batchId) }];
      });

      const addresses = [
        container.creator,
        container.custodian,
        outermost.custodian,
        ...(container.pendingHandoff ? [container.pendingHandoff.to] : []),
      ];
      const known = new Map(
        (await store.getParticipants([...new Set(addresses)])).map((participant: Participant) => [participant.address, participant]),
      );
      const names = new Map([...known].map(([address, participant]) => [address, participant.name]));
      const ssccBody = container.sscc.slice(1, 17); // company prefix and serial reference
      const ref = (address: Hex): ParticipantRef => ({ address, name: names.get(address) ?? null });
      const history = container.history.slice(-MAX_LISTED_HISTORY);

      return {
        sscc: container.sscc,
        state: container.state,
        creator: ref(container.creator),
        creatorLicensed: (known.get(container.creator)?.companyPrefixes ?? []).some((prefix) => ssccBody.startsWith(prefix)),
        custodian: ref(container.custodian),
        holder: { ...ref(outermost.custodian), outermostSscc: outermost.sscc },
        path: resolved?.path ?? [container.sscc],
        parentSscc: container.parentSscc,
        locationGln: outermost.locationGln,
        pendingHandoff:
          container.pendingHandoff === null
            ? null
            : {
                to: ref(container.pendingHandoff.to),
                locationGln: container.pendingHandoff.locationGln,
                businessStep: container.pendingHandoff.businessStep,
                proposed: container.pendingHandoff.proposed,
              },
        contents: {
          batches,
          containers: nested.map((inner) => ({
            sscc: inner.sscc,
            parentSscc: inner.parentSscc!,
            batches: inner.batchIds.length,
            containers: inner.containerSsccs.length,
          })),
          totalBatches,
          truncated: totalBatches > listedIds.length,
        },
        recall: {
          flaggedBatchIds: [...flagged],
          recalledBatchIds: batches.filter((batch) => batch.status === "recalled").map((batch) => batch.batchId),
          blocked: flagged.size > 0,
        },
        history,
        historyTruncated: history.length < container.history.length,
        created: container.created,
        lastEvent: container.lastEvent,
      };
    },

    async list({ custodian, batchId, limit, cursor }) {
      const page = await store.listContainers(
        {
          ...(custodian === undefined ? {} : { custodian, parentSscc: null }),
          ...(batchId === undefined ? {} : { batchId }),
        },
        { limit, cursor: cursor ?? null },
      );
      return { items: page.items.map(summarizeContainer), nextCursor: page.nextCursor };
    },
  };
}

/** Every container inside `container` at any depth, level by level (a store read per level). */
async function nestedContainers(store: Pick<ContainerReads, "getContainers">, container: Container): Promise<Container[]> {
  const nested: Container[] = [];
  const seen = new Set([container.sscc]);
  let level = container.containerSsccs.filter((sscc) => !seen.has(sscc));
  for (let depth = 0; depth < MAX_NESTING_LEVELS + 1 && level.length > 0; depth++) {
    level.forEach((sscc) => seen.add(sscc));
    const found = await store.getContainers(level);
    nested.push(...found);
    level = found.flatMap((inner) => inner.containerSsccs).filter((sscc) => !seen.has(sscc));
  }
  return nested;
}

export function summarizeContainer(container: Container): ContainerSummary {
  return {
    sscc: container.sscc,
    state: container.state,
    custodian: container.custodian,
    parentSscc: container.parentSscc,
    locationGln: container.locationGln,
    batches: container.batchIds.length,
    containers: container.containerSsccs.length,
    recallFlagged: container.recallFlaggedBatchIds.length,
    pendingTo: container.pendingHandoff?.to ?? null,
    created: container.created,
    lastEvent: container.lastEvent,
  };
}
