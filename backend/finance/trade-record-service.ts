/**
 * Trade records for financiers (trade-record.ts): the seller's unsigned draft, built from the mirror, and the
 * verification of a signed record against the chain (trade-record-verifier.ts).
 *
 * Who may do what (each has a test):
 * - draft: only the order's seller, signed in; anyone else who may see the order gets 403, anyone who may not the
 *   same 404 as an unknown order, anonymous callers 401. The draft carries nothing the seller cannot see anyway.
 * - verify: anyone holding a record (the seller's consent travels with it). The verifier trusts only the chain, so
 *   a compromised mirror cannot make a false record pass; it could only make the seller's draft fail verification.
 */
import { orderStruct } from "../chain/contracts.ts";
import { canSeeOrder } from "../auth/order-access.ts";
import type { Viewer } from "../auth/auth-service.ts";
import { forbidden, notFound, unauthenticated, DomainError } from "../domain/errors.ts";
import type { ChainEvent, Hex } from "../domain/model.ts";
import { MAX_LINEAGE_DEPTH, loadAncestors } from "../read-model/batch-history.ts";
import type { MirrorStore } from "../store/port.ts";
import {
  MAX_TRADE_RECORD_EVENTS,
  TRADE_RECORD_FORMAT,
  orderTermsJson,
  tradeRecordTypedData,
  type TradeRecordClaims,
} from "./trade-record.ts";
import { verifyTradeRecord, type TradeRecordChain, type TradeRecordVerification } from "./trade-record-verifier.ts";

export interface TradeRecordDraft {
  claims: TradeRecordClaims;
  /** What the seller signs with eth_signTypedData_v4 (or ethers' signTypedData): the claims as EIP-712 typed data. */
  typedData: ReturnType<typeof tradeRecordTypedData>;
}

export interface TradeRecordService {
  draft(orderId: Hex, viewer: Viewer): Promise<TradeRecordDraft>;
  verify(record: unknown, options?: { withSellerReputation?: boolean }): Promise<TradeRecordVerification>;
}

export interface TradeRecordServiceOptions {
  store: Pick<MirrorStore, "getOrders" | "getBatch" | "getCheckpoint" | "listEvents">;
  chain: TradeRecordChain;
  now?: () => number;
}

const PAGE = 500;

export function createTradeRecordService({ store, chain, now = Date.now }: TradeRecordServiceOptions): TradeRecordService {
  const { deployment } = chain;

  async function allEvents(filter: { orderId?: Hex; batchId?: Hex }, upToBlock: number): Promise<ChainEvent[]> {
    const events: ChainEvent[] = [];
    let cursor: string | null = null;
    do {
      const page = await store.listEvents({ ...filter, chainId: deployment.chainId, toBlock: upToBlock }, { limit: PAGE, cursor });
      events.push(...page.items);
      cursor = page.nextCursor;
      if (events.length > MAX_TRADE_RECORD_EVENTS) {
        throw new DomainError(
          "rejected",
          `The order's story has more than ${MAX_TRADE_RECORD_EVENTS} events, more than one trade record holds`,
          {
            reason: "too-many-events",
          },
        );
      }
    } while (cursor !== null);
    return events;
  }

  /** The lot and the lots it came from, at most MAX_LINEAGE_DEPTH in all (as the verifier walks them). */
  async function lineageOf(batchId: Hex): Promise<Hex[]> {
    const batch = await store.getBatch(batchId);
    const ancestors = batch === null ? [] : await loadAncestors(store, batch);
    return [batchId, ...ancestors.map((ancestor) => ancestor.batchId)].slice(0, MAX_LINEAGE_DEPTH);
  }

  return {
    async draft(orderId, viewer) {
      if (!viewer.signedIn) throw unauthenticated("Sign in as the order's seller to draft its trade record");
      const [order] = await store.getOrders([orderId]);
      if (order === undefined || !canSeeOrder(viewer, order)) throw notFound(`No order ${orderId}`);
      if (viewer.address !== order.seller) {
        throw forbidden("Only the order's seller issues its trade record", { reason: "not-the-seller" });
      }
      const checkpoint = await store.getCheckpoint(deployment.chainId);
      if (checkpoint === null || checkpoint.blockHash === null) {
        throw new DomainError("unavailable", "The mirror has not indexed the chain yet; try again shortly");
      }
      const lineage = await lineageOf(order.batchId);
      const escrowEvents = (await allEvents({ orderId }, checkpoint.blockNumber)).filter(
        (event) => event.contract === "TradeEscrow" && event.args.orderId === orderId,
      );
      const goodsEvents: ChainEvent[] = [];
      for (const lot of lineage) {
        goodsEvents.push(
          ...(await allEvents({ batchId: lot }, checkpoint.blockNumber)).filter(
            (event) => event.contract === "ProvenanceRegistry" && lineage.includes((event.args.batchId ?? event.args.parentId) as Hex),
          ),
        );
      }
      const unique = new Map([...escrowEvents, ...goodsEvents].map((event) => [event.id, event]));
      const events = [...unique.values()].sort((a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex);
      const claims: TradeRecordClaims = {
        format: TRADE_RECORD_FORMAT,
        chainId: deployment.chainId,
        escrow: deployment.escrow.toLowerCase() as Hex,
        registry: deployment.registry.toLowerCase() as Hex,
        orderId,
        order: orderTermsJson(orderStruct(order)),
        asOf: { blockNumber: checkpoint.blockNumber, blockHash: checkpoint.blockHash },
        escrowState: order.state,
        events: events.map((event) => ({ transactionHash: event.transactionHash, logIndex: event.logIndex })),
        issuedAt: Math.floor(now() / 1_000),
      };
      return { claims, typedData: tradeRecordTypedData(claims) };
    },
    verify: (record, options = {}) => verifyTradeRecord(record, { ...chain, withSellerReputation: options.withSellerReputation === true }),
  };
}
