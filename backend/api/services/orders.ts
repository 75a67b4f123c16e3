/** Escrow orders: lists by party, batch or state, and one order. */
import { notFound } from "../../domain/errors.ts";
import type { ProjectionReads } from "../../store/port.ts";
import type { Hex, Order, Page } from "../../domain/model.ts";
import type { ListOrdersQuery } from "../schemas.ts";

export interface OrderService {
  list(query: ListOrdersQuery): Promise<Page<Order>>;
  /** 404 problem when no such order was opened. */
  get(orderId: Hex): Promise<Order>;
}

export function createOrderService({ store }: { store: ProjectionReads }): OrderService {
  return {
    list({ buyer, seller, carrier, batchId, state, limit, cursor }) {
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
    async get(orderId) {
      const order = await store.getOrder(orderId);
      if (!order) throw notFound(`No order with id ${orderId}`);
      return order;
    },
  };
}
