import { expect } from "chai";
import { NonRetryableIndexerError } from "../../../backend/indexer/errors.ts";
import { resolveOrderTags, type OrderLookup } from "../../../backend/indexer/resolve-order-tags.ts";
import type { OrderFilter, PageRequest } from "../../../backend/store/port.ts";
import type { ChainEvent, Hex, Order } from "../../../backend/domain/model.ts";
import { bytes32, createEventFactory, openedEvent, type EventFactory } from "../projections/event-factory.ts";

const BATCH = bytes32("batch");
const OTHER_BATCH = bytes32("other batch");

function opened(f: EventFactory, orderId: Hex, batchId: Hex): ChainEvent {
  return openedEvent(f, orderId, batchId, { amount: 1000n, disputeWindow: 3600, requiresPassingInspection: false });
}

/** What the escrow logs: the batch and the order's tag, no order id. */
function delivered(f: EventFactory, orderId: Hex, batchId: Hex): ChainEvent {
  return f.event("TradeEscrow", "OrderDelivered", [batchId, orderId.slice(0, 42), 1_750_000_000]);
}

/** A store that knows `orders` (only orderId and batchId matter here), served in pages of one. */
function storeWith(orders: { orderId: Hex; batchId: Hex }[]): OrderLookup & { calls: OrderFilter[] } {
  const calls: OrderFilter[] = [];
  return {
    calls,
    async listOrders(filter: OrderFilter, page: PageRequest) {
      calls.push(filter);
      const matching = orders.filter((order) => order.batchId === filter.batchId);
      const start = page.cursor ? Number(page.cursor) : 0;
      const items = matching.slice(start, start + 1) as unknown as Order[];
      return { items, nextCursor: start + 1 < matching.length ? String(start + 1) : null };
    },
  };
}

describe("resolveOrderTags", function () {
  it("test_resolveOrderTags_findsTheOrderOpenedEarlierInTheRange", async function () {
    const f = createEventFactory();
    const orderId = bytes32("order");
    const store = storeWith([]);
    const events = await resolveOrderTags([opened(f, orderId, BATCH), delivered(f, orderId, BATCH)], store);
    expect(events[1]!.args.orderId).to.equal(orderId);
    expect(events[1]!.orderIds).to.deep.equal([orderId]);
    expect(events[1]!.args.orderTag).to.equal(orderId.slice(0, 42));
    expect(store.calls).to.deep.equal([]);
  });

  it("test_resolveOrderTags_findsTheOrderInTheMirrorAmongTheBatchsOrders", async function () {
    const f = createEventFactory();
    const earlier = bytes32("earlier order");
    const orderId = bytes32("order");
    const store = storeWith([
      { orderId: earlier, batchId: BATCH },
      { orderId: bytes32("elsewhere"), batchId: OTHER_BATCH },
      { orderId, batchId: BATCH },
    ]);
    const [event] = await resolveOrderTags([delivered(f, orderId, BATCH)], store);
    expect(event!.args.orderId).to.equal(orderId);
    expect(store.calls).to.deep.equal([{ batchId: BATCH }, { batchId: BATCH }]);
  });

  it("test_resolveOrderTags_leavesOtherEventsAlone", async function () {
    const f = createEventFactory();
    const events = [
      opened(f, bytes32("order"), BATCH),
      f.event("TradeEscrow", "OrderDisputed", [bytes32("order"), "0x1000000000000000000000000000000000000006", bytes32("why")]),
    ];
    const resolved = await resolveOrderTags(events, storeWith([]));
    expect(resolved).to.deep.equal(events);
    expect(resolved[0]).to.equal(events[0]);
  });

  it("test_resolveOrderTags_stopsWhenNoOrderOfTheBatchHasTheTag", async function () {
    const f = createEventFactory();
    const store = storeWith([{ orderId: bytes32("another order"), batchId: BATCH }]);
    // An order of another batch with the same id does not count either.
    const events = [opened(f, bytes32("order"), OTHER_BATCH), delivered(f, bytes32("order"), BATCH)];
    let thrown: unknown;
    try {
      await resolveOrderTags(events, store);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).to.be.instanceOf(NonRetryableIndexerError);
    expect((thrown as Error).message).to.match(/no opened order of that batch/);
  });
});
