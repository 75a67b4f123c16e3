/**
 * Order projection: the escrow's order lifecycle (funded, delivered, disputed, released, refunded, resolved,
 * cancelled) with the full order struct from OrderOpened, the named inspector's result and what each party was paid.
 */
import type { ChainEvent, Hex, Order } from "../domain/model.ts";
import { ProjectionError, booleanArg, eventRef, hexArg, isAlreadyApplied, numberArg, objectArg, stringArg } from "./event-ref.ts";

const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";

export const ORDER_EVENTS = new Set([
  "OrderOpened",
  "OrderDelivered",
  "OrderInspected",
  "OrderReleased",
  "OrderRefunded",
  "OrderDisputed",
  "DisputeResolved",
  "CancellationApproved",
  "OrderCancelled",
]);

/** The order an event changes, or null. */
export function orderKeyOf(event: ChainEvent): Hex | null {
  if (event.contract !== "TradeEscrow" || !ORDER_EVENTS.has(event.name)) return null;
  return hexArg(event, "orderId");
}

/**
 * Next state of order `orderId` after `event`. Events of other orders, events already applied
 * (id <= lastEvent) and events that change no order return `order` itself.
 */
export function reduceOrder(order: Order | null, event: ChainEvent, orderId: Hex): Order | null {
  if (orderKeyOf(event) !== orderId) return order;
  if (isAlreadyApplied(order, event)) return order;
  const ref = eventRef(event);

  switch (event.name) {
    case "OrderOpened": {
      const terms = objectArg(event, "order");
      const field = <T extends string | number | boolean>(name: string, type: "string" | "number" | "boolean"): T => {
        const value = terms[name];
        if (typeof value !== type) throw new ProjectionError(event, `order.${name} is ${JSON.stringify(value)}, expected a ${type}`);
        return value as T;
      };
      return {
        orderId,
        buyer: field<Hex>("buyer", "string"),
        seller: field<Hex>("seller", "string"),
        carrier: field<Hex>("carrier", "string"),
        token: field<Hex>("token", "string"),
        amount: field<string>("amount", "string"),
        batchId: field<Hex>("batchId", "string"),
        sellerBps: field<number>("sellerBps", "number"),
        carrierBps: field<number>("carrierBps", "number"),
        platformBps: field<number>("platformBps", "number"),
        deliveryDeadline: field<number>("deliveryDeadline", "number"),
        disputeWindow: field<number>("disputeWindow", "number"),
        inspector: inspectorOf(field<Hex>("inspector", "string")),
        fallbackBuyerBps: field<number>("fallbackBuyerBps", "number"),
        salt: field<Hex>("salt", "string"),
        // Kept only when it says something: a mirrored order without it reads as "none", as the escrow's default.
        ...breachTermsOf(event, terms),
        state: "funded",
        inspection: "none",
        deliveredAt: null,
        disputedAt: null,
        disputedBy: null,
        cancellationApprovedBy: [],
        payouts: null,
        refundReason: null,
        opened: ref,
        lastEvent: ref,
      };
    }
    case "OrderDelivered":
      return { ...requireOrder(order, event, orderId), state: "delivered", deliveredAt: numberArg(event, "deliveredAt"), lastEvent: ref };
    case "OrderInspected": {
      const current = requireOrder(order, event, orderId);
      // The escrow logs only its order's named inspector's results, so an order without one cannot be inspected.
      if (current.inspector === null) throw new ProjectionError(event, `order ${orderId} names no inspector`);
      return { ...current, inspection: booleanArg(event, "passed") ? "passed" : "failed", lastEvent: ref };
    }
    case "OrderDisputed":
      return {
        ...requireOrder(order, event, orderId),
        state: "disputed",
        disputedAt: event.blockTimestamp,
        disputedBy: hexArg(event, "disputedBy"),
        lastEvent: ref,
      };
    case "OrderReleased":
      return {
        ...requireOrder(order, event, orderId),
        state: "released",
        payouts: {
          buyer: "0",
          seller: stringArg(event, "sellerAmount"),
          carrier: stringArg(event, "carrierAmount"),
          platform: stringArg(event, "platformAmount"),
        },
        lastEvent: ref,
      };
    case "OrderRefunded":
      return {
        ...requireOrder(order, event, orderId),
        state: "refunded",
        refundReason: stringArg(event, "reason"),
        payouts: { buyer: stringArg(event, "amount"), seller: "0", carrier: "0", platform: "0" },
        lastEvent: ref,
      };
    case "DisputeResolved":
      return {
        ...requireOrder(order, event, orderId),
        state: "resolved",
        payouts: {
          buyer: stringArg(event, "buyerAmount"),
          seller: stringArg(event, "sellerAmount"),
          carrier: stringArg(event, "carrierAmount"),
          platform: stringArg(event, "platformAmount"),
        },
        lastEvent: ref,
      };
    case "CancellationApproved": {
      const current = requireOrder(order, event, orderId);
      const party = hexArg(event, "party");
      return {
        ...current,
        cancellationApprovedBy: current.cancellationApprovedBy.includes(party)
          ? current.cancellationApprovedBy
          : [...current.cancellationApprovedBy, party],
        lastEvent: ref,
      };
    }
    case "OrderCancelled":
      return {
        ...requireOrder(order, event, orderId),
        state: "cancelled",
        payouts: { buyer: stringArg(event, "amount"), seller: "0", carrier: "0", platform: "0" },
        lastEvent: ref,
      };
    default:
      return order;
  }
}

/** The order's inspector as the mirror keeps it: null for the zero address (no inspection required). */
function inspectorOf(address: Hex): Hex | null {
  const lower = address.toLowerCase() as Hex;
  return lower === ZERO_ADDRESS ? null : lower;
}

function requireOrder(order: Order | null, event: ChainEvent, orderId: Hex): Order {
  if (order === null) throw new ProjectionError(event, `order ${orderId} was never opened`);
  return order;
}

/** The order's breach terms when not "none" (the decoder names the enum value). */
function breachTermsOf(event: ChainEvent, terms: Record<string, unknown>): Pick<Order, "breachTerms"> {
  const value = terms.breachTerms;
  if (value === undefined || value === "none") return {};
  if (value === "refund_freight" || value === "reject_goods" || value === "dispute") return { breachTerms: value };
  throw new ProjectionError(event, `order.breachTerms is ${JSON.stringify(value)}, not a BreachTerms name`);
}
