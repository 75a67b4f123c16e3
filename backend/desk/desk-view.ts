/**
 * What the recall desk page shows, gathered from the recall desk service (../recalls/recall-desk.ts, which decides
 * who may see it and which lots a recall reaches), the product data (names of products and places) and the mirror
 * (each lot's place now, participants' names). The page renders these views; it decides nothing about access itself.
 */
import type { Viewer } from "../auth/auth-service.ts";
import type { Batch, Hex, RecallAcknowledgement } from "../domain/model.ts";
import type { ProductData } from "../product-data/product-data-schema.ts";
import type { ProductDataService } from "../product-data/product-data-service.ts";
import type { AffectedLot, RecallDesk, RecallDetail, RecallSummary } from "../recalls/recall-desk.ts";
import type { MirrorStore } from "../store/port.ts";

/** Recalls read to sort them newest first: far beyond the recalls a registry sees, it only bounds the work. */
export const MAX_DESK_RECALLS = 5_000;
export const DESK_PAGE_SIZE = 20;
const READ_CHUNK = 500;

export type LocalizedText = { en?: string; zh?: string };

export interface DeskRecallRow {
  recall: RecallSummary;
  productName: LocalizedText | null;
  summary: RecallDetail["summary"];
}

export interface DeskRecallList {
  rows: DeskRecallRow[];
  /** 1-based. */
  page: number;
  pages: number;
  total: number;
}

export interface DeskParticipant {
  address: Hex;
  name: string | null;
}

export interface DeskLot {
  lot: AffectedLot;
  holder: DeskParticipant;
  pendingHolder: DeskParticipant | null;
  /** The GLN of its last accepted handoff, else where it was made; null when the mirror lacks the lot. */
  locationGln: string | null;
  locationName: LocalizedText | string | null;
  acknowledgement: RecallAcknowledgement | null;
}

export interface DeskRecallView {
  detail: RecallDetail;
  recalledBy: DeskParticipant;
  productName: LocalizedText | null;
  lots: DeskLot[];
  formerHolders: { acknowledgement: RecallAcknowledgement; holder: DeskParticipant }[];
}

export interface DeskViews {
  list(page: number, viewer: Viewer): Promise<DeskRecallList>;
  recall(batchId: Hex, viewer: Viewer): Promise<DeskRecallView>;
}

export interface DeskViewsOptions {
  desk: RecallDesk;
  store: Pick<MirrorStore, "getBatches" | "getParticipants">;
  /** Names of products and places; absent, the page shows GTINs and GLNs only. */
  productData?: Pick<ProductDataService, "batchPassportData">;
}

export function createDeskViews({ desk, store, productData }: DeskViewsOptions): DeskViews {
  async function productDataOf(viewer: Viewer, batch: Pick<Batch, "batchId" | "gtin">): Promise<Partial<ProductData> | null> {
    return productData ? productData.batchPassportData(viewer, batch) : null;
  }

  async function participantsOf(addresses: Hex[]) {
    const unique = [...new Set(addresses.map((address) => address.toLowerCase() as Hex))];
    const found = new Map<Hex, { name: string; gln: string }>();
    for (let start = 0; start < unique.length; start += READ_CHUNK) {
      for (const participant of await store.getParticipants(unique.slice(start, start + READ_CHUNK)))
        found.set(participant.address.toLowerCase() as Hex, { name: participant.name, gln: participant.gln });
    }
    return found;
  }

  async function batchesOf(ids: Hex[]): Promise<Map<Hex, Batch>> {
    const found = new Map<Hex, Batch>();
    for (let start = 0; start < ids.length; start += READ_CHUNK)
      for (const batch of await store.getBatches(ids.slice(start, start + READ_CHUNK))) found.set(batch.batchId, batch);
    return found;
  }

  return {
    async list(page, viewer) {
      const recalls: RecallSummary[] = [];
      let cursor: string | null = null;
      do {
        const batch: Awaited<ReturnType<RecallDesk["list"]>> = await desk.list({ limit: 500, cursor }, viewer);
        recalls.push(...batch.items);
        cursor = batch.nextCursor;
      } while (cursor !== null && recalls.length < MAX_DESK_RECALLS);
      // Event ids sort in chain order: the latest recall first.
      recalls.sort((a, b) => (a.recall.at.eventId < b.recall.at.eventId ? 1 : a.recall.at.eventId > b.recall.at.eventId ? -1 : 0));
      const pages = Math.max(1, Math.ceil(recalls.length / DESK_PAGE_SIZE));
      const shown = recalls.slice((page - 1) * DESK_PAGE_SIZE, page * DESK_PAGE_SIZE);
      const rows = await Promise.all(
        shown.map(async (recall) => {
          const [detail, data] = await Promise.all([desk.get(recall.batchId, viewer), productDataOf(viewer, recall)]);
          return { recall, productName: data?.name ?? null, summary: detail.summary };
        }),
      );
      return { rows, page, pages, total: recalls.length };
    },

    async recall(batchId, viewer) {
      const detail = await desk.get(batchId, viewer);
      const lotIds = detail.affectedLots.map((lot) => lot.batchId);
      const [batches, data] = await Promise.all([batchesOf(lotIds), productDataOf(viewer, detail)]);
      const addresses = [
        detail.recall.by,
        ...detail.affectedLots.flatMap((lot) => (lot.pendingCustodian ? [lot.custodian, lot.pendingCustodian] : [lot.custodian])),
        ...detail.formerHolderAcknowledgements.map((ack) => ack.holder),
      ];
      const participants = await participantsOf(addresses);
      const participant = (address: Hex): DeskParticipant => ({
        address,
        name: participants.get(address.toLowerCase() as Hex)?.name ?? null,
      });
      const acknowledgementOf = new Map(detail.holders.map((holder) => [holder.address.toLowerCase(), holder.acknowledgement] as const));
      const placeNames = new Map<string, LocalizedText | string>();
      for (const { gln, name } of participants.values()) placeNames.set(gln, name);
      // The product data names places for the shopper; where it names a GLN, that name wins over a participant's.
      for (const place of data?.places ?? []) placeNames.set(place.gln, place.name);
      const lots = detail.affectedLots.map((lot): DeskLot => {
        const batch = batches.get(lot.batchId);
        const locationGln = batch
          ? (batch.custody.filter((step) => step.kind === "accepted").at(-1)?.locationGln ?? batch.originGln)
          : null;
        return {
          lot,
          holder: participant(lot.custodian),
          pendingHolder: lot.pendingCustodian ? participant(lot.pendingCustodian) : null,
          locationGln,
          locationName: locationGln === null ? null : (placeNames.get(locationGln) ?? null),
          acknowledgement: acknowledgementOf.get(lot.custodian.toLowerCase()) ?? null,
        };
      });
      return {
        detail,
        recalledBy: participant(detail.recall.by),
        productName: data?.name ?? null,
        lots,
        formerHolders: detail.formerHolderAcknowledgements.map((acknowledgement) => ({
          acknowledgement,
          holder: participant(acknowledgement.holder),
        })),
      };
    },
  };
}
