/**
 * Who may see escrow business data in the mirror's API: an order's amount, token, payout shares and counterparties
 * are the parties' business (buyer, seller, carrier, the named inspector) and the authorities' (REGULATOR; ARBITER,
 * who decides disputes; ADMIN). Everyone else sees that an order exists for a batch and its state changes (what the
 * passport needs), never its terms.
 *
 * A seller may also grant a financier read access to its orders as seller, until the grant expires or is revoked.
 *
 * This is confidentiality of the mirror, not of the chain: the escrow's events are public on chain, and anyone
 * running a node can read them. It keeps our API from being the easy way to scrape a seller's prices and customers.
 */
import type { Viewer } from "./auth-service.ts";
import type { ChainEvent, Hex, Order, Page } from "../domain/model.ts";
import type { ProjectionReads } from "../store/port.ts";

/** Roles that see every order. */
export const ORDER_OVERSIGHT_ROLES: readonly string[] = ["REGULATOR", "ARBITER", "ADMIN"];

/** Escrow events about one account's money rather than an order. */
const ACCOUNT_MONEY_EVENTS = new Set(["PaymentCredited", "Withdrawn"]);

/** Argument names of escrow events that stay visible when the rest is withheld: they identify, they do not disclose. */
const PUBLIC_ESCROW_ARGS = ["orderId", "batchId"] as const;

export function seesEveryOrder(viewer: Viewer): boolean {
  return viewer.signedIn && viewer.roles.some((role) => ORDER_OVERSIGHT_ROLES.includes(role));
}

export function isOrderParty(viewer: Viewer, order: Pick<Order, "buyer" | "seller" | "carrier" | "inspector">): boolean {
  if (!viewer.signedIn) return false;
  const me = viewer.address.toLowerCase();
  return [order.buyer, order.seller, order.carrier, order.inspector].some((party) => party !== null && party.toLowerCase() === me);
}

/** The order's seller granted the viewer read access to its orders (a financier; backend/finance/order-read-grants.ts). */
export function isGrantedReader(viewer: Viewer, order: Pick<Order, "seller">): boolean {
  return viewer.signedIn && viewer.readGrantsFrom.includes(order.seller.toLowerCase() as Hex);
}

export function canSeeOrder(viewer: Viewer, order: Pick<Order, "buyer" | "seller" | "carrier" | "inspector">): boolean {
  return seesEveryOrder(viewer) || isOrderParty(viewer, order) || isGrantedReader(viewer, order);
}

/**
 * The page with every escrow event the viewer may not see reduced to its identifying arguments (orderId,
 * batchId) plus `withheld: true`, and its `accounts` emptied (they name the counterparties). An escrow event
 * about orders is visible to their parties; one about an account's money (PaymentCredited, Withdrawn) to that
 * account; the escrow's own settings (fees, limits, tokens) to everyone. The page keeps its length and cursor.
 */
export async function withheldEscrowDetails(
  viewer: Viewer,
  page: Page<ChainEvent>,
  store: Pick<ProjectionReads, "getOrders">,
): Promise<Page<ChainEvent>> {
  if (seesEveryOrder(viewer)) return page;
  const escrowEvents = page.items.filter((event) => event.contract === "TradeEscrow");
  if (escrowEvents.length === 0) return page;
  const orderIds = [...new Set(escrowEvents.flatMap((event) => event.orderIds))];
  const orders = new Map((orderIds.length === 0 ? [] : await store.getOrders(orderIds)).map((order) => [order.orderId, order]));
  const me = viewer.signedIn ? viewer.address.toLowerCase() : null;
  const visible = (event: ChainEvent): boolean => {
    if (event.orderIds.length > 0) {
      return event.orderIds.every((orderId) => {
        const order = orders.get(orderId);
        return order !== undefined && (isOrderParty(viewer, order) || isGrantedReader(viewer, order));
      });
    }
    if (ACCOUNT_MONEY_EVENTS.has(event.name)) return me !== null && event.accounts.some((account) => account.toLowerCase() === me);
    return true;
  };
  return {
    ...page,
    items: page.items.map((event) => (event.contract !== "TradeEscrow" || visible(event) ? event : withheld(event))),
  };
}

function withheld(event: ChainEvent): ChainEvent {
  const args: ChainEvent["args"] = { withheld: true };
  for (const name of PUBLIC_ESCROW_ARGS) if (event.args[name] !== undefined) args[name] = event.args[name]!;
  return { ...event, args, accounts: [] as Hex[] };
}
