/**
 * Escrow orders: lists by party, batch or state, and one order, for those entitled to them (backend/auth/
 * order-access.ts): the parties see their own orders, regulators, arbiters and the admin see every order, and an
 * anonymous caller is asked to sign in.
 */
import { canSeeOrder, seesEveryOrder } from "../../auth/order-access.ts";
import type { Viewer } from "../../auth/auth-service.ts";
import { forbidden, notFound, unauthenticated } from "../../domain/errors.ts";
import type { ProjectionReads } from "../../store/port.ts";
import type { Hex, Order, Page } from "../../domain/model.ts";
import type { ListOrdersQuery } from "../schemas.ts";

export interface OrderService {
  list(query: ListOrdersQuery, viewer: Viewer): Promise<Page<Order>>;
  /** 404 problem when no such order was opened, or when the viewer may not see it (the two look the same). */
  get(orderId: Hex, viewer: Viewer): Promise<Order>;
}

const SIGN_IN_FIRST = "orders are shown to their parties and to regulators: sign in first (GET /api/v1/auth/challenge)";

export function createOrderService({ store }: { store: ProjectionReads }): OrderService {
  return {
    list({ buyer, seller, carrier, batchId, state, limit, cursor }, viewer) {
      if (!viewer.signedIn) throw unauthenticated(SIGN_IN_FIRST);
      if (!seesEveryOrder(viewer)) {
        const me = viewer.address.toLowerCase();
        const grantedSeller = seller !== undefined && viewer.readGrantsFrom.includes(seller.toLowerCase() as Hex);
        if (![buyer, seller, carrier].some((party) => party?.toLowerCase() === me) && !grantedSeller) {
          throw forbidden(
            `list your own orders (filter by buyer, seller or carrier equal to your address, ${me}) or a seller's that granted you access`,
            {
              reason: "not-a-party",
            },
          );
        }
      }
      return store.listOrders(
        {
          ...(buyer === undefined ? {} : { buyer }),
          ...(seller === undefined ? {} : { seller }),
          ...(carrier === undefined ? {} : { carrier }),
          ...(batchId === undefined ? {} : { batchId }),
          ...(state === undefined ? {} : { state }),
        },
        { limit, cursor: cursor ?? null },
      );
    },
    async get(orderId, viewer) {
      if (!viewer.signedIn) throw unauthenticated(SIGN_IN_FIRST);
      const order = await store.getOrder(orderId);
      if (!order || !canSeeOrder(viewer, order)) throw notFound(`No order with id ${orderId}`);
      return order;
    },
  };
}
