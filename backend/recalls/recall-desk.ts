/**
 * The regulator's recall desk: every recall, the lots it reaches (the recalled lot, every lot split from it however
 * deep, and the outputs of the merges it went into, before the chain has flagged them), who holds each now, and which holders have acknowledged it with a signed statement.
 *
 * Who may do what (each has a test):
 * - list and inspect recalls: REGULATOR and ADMIN only (a holder list is a map of who has what);
 * - acknowledge: the current custodian of an affected lot, with its own signature over the canonical text
 *   (acknowledgement.ts), dated within ACKNOWLEDGEMENT_SKEW_MS of now so nobody can file a back-dated one; the first
 *   acknowledgement per holder stands. A signature needs no session: a holder's CLI or wallet can send it directly.
 */
import { withEffectiveCustodians } from "../containers/holders.ts";
import type { Viewer } from "../auth/auth-service.ts";
import { forbidden, notFound, rejected, unauthenticated } from "../domain/errors.ts";
import type { Batch, Hex, Page, RecallAcknowledgement } from "../domain/model.ts";
import { MAX_LINEAGE_DEPTH } from "../read-model/batch-history.ts";
import { walkLineage } from "../read-model/lineage.ts";
import type { MirrorStore } from "../store/port.ts";
import { isHoldersAcknowledgement } from "./acknowledgement.ts";

export const RECALL_DESK_ROLES: readonly string[] = ["REGULATOR", "ADMIN"];
export const ACKNOWLEDGEMENT_SKEW_MS = 10 * 60_000;
/** Lots followed below one recalled lot: far beyond real split trees, it only bounds corrupt data. */
const MAX_AFFECTED_LOTS = 10_000;

export interface AffectedLot {
  batchId: Hex;
  gtin: string;
  lot: string;
  quantity: string;
  /** 0 for the recalled lot, 1 for its children, ... */
  depth: number;
  custodian: Hex;
  pendingCustodian: Hex | null;
  /** Whether the lot's current custodian has acknowledged the recall. */
  acknowledged: boolean;
}

export interface RecallHolder {
  address: Hex;
  name: string | null;
  lots: Hex[];
  acknowledgement: RecallAcknowledgement | null;
}

export interface RecallDetail {
  batchId: Hex;
  gtin: string;
  lot: string;
  manufacturer: Hex;
  recall: NonNullable<Batch["recall"]>;
  affectedLots: AffectedLot[];
  holders: RecallHolder[];
  /** Acknowledgements of holders who hold no affected lot any more (they passed it on afterwards). */
  formerHolderAcknowledgements: RecallAcknowledgement[];
  summary: { lots: number; holders: number; acknowledgedHolders: number };
}

export interface RecallSummary {
  batchId: Hex;
  gtin: string;
  lot: string;
  manufacturer: Hex;
  recall: NonNullable<Batch["recall"]>;
}

export interface AcknowledgementRequest {
  holder: Hex;
  acknowledgedAt: number;
  signature: Hex;
}

export interface RecallDesk {
  list(page: { limit: number; cursor: string | null }, viewer: Viewer): Promise<Page<RecallSummary>>;
  get(batchId: Hex, viewer: Viewer): Promise<RecallDetail>;
  acknowledge(batchId: Hex, request: AcknowledgementRequest): Promise<{ acknowledgement: RecallAcknowledgement; created: boolean }>;
}

export interface RecallDeskOptions {
  store: Pick<
    MirrorStore,
    | "getBatch"
    | "getBatches"
    | "listBatches"
    | "getParticipants"
    | "putRecallAcknowledgement"
    | "listRecallAcknowledgements"
    | "findTransformationsConsuming"
    | "findTransformationsProducing"
  > &
    Partial<Pick<MirrorStore, "getContainers">>;
  chainId: number;
  now?: () => number;
}

export function createRecallDesk(options: RecallDeskOptions): RecallDesk {
  const { store, chainId } = options;
  const now = options.now ?? Date.now;

  function requireDeskRole(viewer: Viewer): void {
    if (!viewer.signedIn) throw unauthenticated("the recall desk is for regulators: sign in first (GET /api/v1/auth/challenge)");
    if (!viewer.roles.some((role) => RECALL_DESK_ROLES.includes(role))) {
      throw forbidden("the recall desk is for regulators and the admin", { reason: "not-a-regulator" });
    }
  }

  async function recalledBatch(batchId: Hex): Promise<Batch & { recall: NonNullable<Batch["recall"]> }> {
    const batch = await store.getBatch(batchId);
    if (!batch) throw notFound(`No batch with id ${batchId}`);
    if (!batch.recall) throw notFound(`Batch ${batchId} has no recall of its own (a recall of an ancestor is filed under that ancestor)`);
    return batch as Batch & { recall: NonNullable<Batch["recall"]> };
  }

  /**
   * The recalled lot and its descendants, breadth first, each with its depth; a packed lot's `custodian` is who holds
   * it, the outermost container's custodian (a container handoff does not touch the lot's registry record).
   */
  async function affectedLotsOf(root: Batch): Promise<{ batch: Batch; depth: number }[]> {
    const found = await lineageOf(root);
    const { batches } = await withEffectiveCustodians(
      store,
      found.map(({ batch }) => batch),
    );
    return found.map(({ depth }, index) => ({ batch: batches[index]!, depth }));
  }

  /** The recalled lot and every lot the recall reaches: split children and the outputs of merges it went into. */
  async function lineageOf(root: Batch): Promise<{ batch: Batch; depth: number }[]> {
    const walk = await walkLineage(store, [root], "forward", { maxLots: MAX_AFFECTED_LOTS - 1, maxGenerations: MAX_LINEAGE_DEPTH });
    return [{ batch: root, depth: 0 }, ...walk.lots.map((lot) => ({ batch: lot.batch, depth: lot.generation }))];
  }

  return {
    async list(page, viewer) {
      requireDeskRole(viewer);
      const batches = await store.listBatches({ status: "recalled" }, page);
      return {
        ...batches,
        items: batches.items
          .filter((batch) => batch.recall !== null)
          .map((batch) => ({
            batchId: batch.batchId,
            gtin: batch.gtin,
            lot: batch.lot,
            manufacturer: batch.manufacturer,
            recall: batch.recall!,
          })),
      };
    },

    async get(batchId, viewer) {
      requireDeskRole(viewer);
      const root = await recalledBatch(batchId);
      const lots = await affectedLotsOf(root);
      const acknowledgements = await store.listRecallAcknowledgements(batchId);
      const acknowledgementOf = new Map(acknowledgements.map((ack) => [ack.holder.toLowerCase(), ack]));
      const holderAddresses = [...new Set(lots.map(({ batch }) => batch.custodian.toLowerCase() as Hex))];
      const names = new Map(
        (await store.getParticipants(holderAddresses)).map((participant) => [participant.address.toLowerCase(), participant.name]),
      );
      const holders: RecallHolder[] = holderAddresses.map((address) => ({
        address,
        name: names.get(address) ?? null,
        lots: lots.filter(({ batch }) => batch.custodian.toLowerCase() === address).map(({ batch }) => batch.batchId),
        acknowledgement: acknowledgementOf.get(address) ?? null,
      }));
      return {
        batchId,
        gtin: root.gtin,
        lot: root.lot,
        manufacturer: root.manufacturer,
        recall: root.recall,
        affectedLots: lots.map(({ batch, depth }) => ({
          batchId: batch.batchId,
          gtin: batch.gtin,
          lot: batch.lot,
          quantity: batch.quantity,
          depth,
          custodian: batch.custodian,
          pendingCustodian: batch.pendingCustodian,
          acknowledged: acknowledgementOf.has(batch.custodian.toLowerCase()),
        })),
        holders,
        formerHolderAcknowledgements: acknowledgements.filter((ack) => !holderAddresses.includes(ack.holder.toLowerCase() as Hex)),
        summary: {
          lots: lots.length,
          holders: holders.length,
          acknowledgedHolders: holders.filter((holder) => holder.acknowledgement).length,
        },
      };
    },

    async acknowledge(batchId, request) {
      const root = await recalledBatch(batchId);
      const holder = request.holder.toLowerCase() as Hex;
      if (Math.abs(request.acknowledgedAt - now()) > ACKNOWLEDGEMENT_SKEW_MS) {
        throw rejected(`acknowledgedAt must be within ${ACKNOWLEDGEMENT_SKEW_MS / 60_000} minutes of now: sign a fresh acknowledgement`, {
          reason: "stale",
        });
      }
      if (!isHoldersAcknowledgement({ batchId, holder, chainId, acknowledgedAt: request.acknowledgedAt }, request.signature)) {
        throw rejected("the signature is not the holder's over the acknowledgement text (GET …/acknowledgement-text shows it)", {
          reason: "signature",
        });
      }
      const held = (await affectedLotsOf(root))
        .filter(({ batch }) => batch.custodian.toLowerCase() === holder)
        .map(({ batch }) => batch.batchId);
      if (held.length === 0) throw forbidden(`${holder} holds no lot affected by this recall`, { reason: "not-a-holder" });
      const acknowledgement: RecallAcknowledgement = {
        batchId,
        holder,
        acknowledgedAt: request.acknowledgedAt,
        chainId,
        signature: request.signature,
        heldBatchIds: held,
      };
      const stored = await store.putRecallAcknowledgement(acknowledgement);
      return {
        acknowledgement: stored,
        created: stored.signature === acknowledgement.signature && stored.acknowledgedAt === acknowledgement.acknowledgedAt,
      };
    },
  };
}
