/**
 * The escrow keeps one storage slot per batch holding the top 160 bits of its latest order's id (the
 * order's tag), so its custody hook, which only learns the batch, emits `OrderDelivered(batchId, orderTag,
 * deliveredAt)` without the full id. This step gives such events back their `orderId` (in `args` and in
 * `orderIds`) before projection, from the `OrderOpened` of the same batch earlier in the range or in the
 * mirror, so the order projection stays keyed by order id.
 */
import type { ProjectionReads } from "../store/port.ts";
import type { ChainEvent, Hex, Order, Page } from "../domain/model.ts";
import { NonRetryableIndexerError } from "./errors.ts";

/** The part of the store this step reads. */
export type OrderLookup = Pick<ProjectionReads, "listOrders">;

const PAGE_LIMIT = 100;

/** True for a delivery event that names its order by tag only. */
export function needsOrderId(event: ChainEvent): boolean {
  return (
    event.contract === "TradeEscrow" &&
    event.name === "OrderDelivered" &&
    typeof event.args.orderTag === "string" &&
    typeof event.args.orderId !== "string"
  );
}

/**
 * `events` (in chain order) with every tag-only `OrderDelivered` completed by its order id. Other events are
 * returned as they are. Throws NonRetryableIndexerError when no opened order of the batch has the tag: the
 * mirror would otherwise silently miss a delivery.
 */
export async function resolveOrderTags(events: readonly ChainEvent[], store: OrderLookup): Promise<ChainEvent[]> {
  if (!events.some(needsOrderId)) return [...events];
  const resolved: ChainEvent[] = [];
  for (const [position, event] of events.entries()) {
    if (!needsOrderId(event)) {
      resolved.push(event);
      continue;
    }
    const batchId = hexArg(event, "batchId");
    const tag = hexArg(event, "orderTag");
    const orderId = openedInRange(events, position, batchId, tag) ?? (await openedInMirror(store, batchId, tag));
    if (orderId === null) {
      throw new NonRetryableIndexerError(
        `OrderDelivered in tx ${event.transactionHash} names order tag ${tag} of batch ${batchId}, but no opened order of that batch has it`,
      );
    }
    resolved.push({ ...event, args: { ...event.args, orderId }, orderIds: [...new Set([...event.orderIds, orderId])] });
  }
  return resolved;
}

/** The latest order of `batchId` opened before `position` in this range whose id starts with `tag`. */
function openedInRange(events: readonly ChainEvent[], position: number, batchId: Hex, tag: string): Hex | null {
  for (let index = position - 1; index >= 0; index -= 1) {
    const event = events[index];
    if (event.contract !== "TradeEscrow" || event.name !== "OrderOpened") continue;
    const orderId = hexArg(event, "orderId");
    if (hexArg(event, "batchId") === batchId && orderId.startsWith(tag)) return orderId;
  }
  return null;
}

async function openedInMirror(store: OrderLookup, batchId: Hex, tag: string): Promise<Hex | null> {
  let cursor: string | null = null;
  do {
    const page: Page<Order> = await store.listOrders({ batchId }, { limit: PAGE_LIMIT, cursor });
    const match = page.items.find((order) => order.orderId.toLowerCase().startsWith(tag));
    if (match !== undefined) return match.orderId;
    cursor = page.nextCursor;
  } while (cursor !== null);
  return null;
}

/** A hex argument of a decoded event, lower-case ("" when the event has no such string argument). */
function hexArg(event: ChainEvent, name: string): Hex {
  const value = event.args[name];
  return (typeof value === "string" ? value.toLowerCase() : "") as Hex;
}
