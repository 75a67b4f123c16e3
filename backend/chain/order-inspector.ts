/**
 * The escrow's rule for an order's named inspector (TradeEscrow `_validateTerms`): none of the order's parties
 * (buyer, seller, carrier) nor the escrow itself, and an active INSPECTOR of the registry when the order opens.
 * The relayer and the CLI check it before anything is sent and refuse with the escrow's own error, so a partner
 * reads the same sentence whichever of them, or the chain, refuses first.
 */
import { ZeroAddress, resolveAddress, type Interface } from "ethers";
import type { OrderStruct } from "./contracts.ts";
import type { RevertDecoder } from "./revert-reason.ts";
import { ROLE_HASHES } from "./vocabulary.ts";

/** The escrow error `openOrder` raises for an order's inspector, with the inspector it names. */
export interface OrderInspectorRefusal {
  error: "EscrowInvalidParty" | "EscrowInvalidInspector";
  inspector: string;
}

/** What the check reads: whether an account holds a role and is not suspended (the registry's view). */
export interface InspectorRoleReader {
  isActiveParticipant(account: string, role: string): Promise<boolean>;
}

/**
 * Why the escrow at `escrowAddress` would refuse `order`'s inspector, or null when the order names none or a
 * valid one. The role is read now: an inspector suspended before the order opens is refused then too.
 */
export async function orderInspectorRefusal(
  order: Pick<OrderStruct, "buyer" | "seller" | "carrier" | "inspector">,
  escrowAddress: string,
  registry: InspectorRoleReader,
): Promise<OrderInspectorRefusal | null> {
  const [inspector, ...parties] = (
    await Promise.all(
      [order.inspector, order.buyer, order.seller, order.carrier, escrowAddress].map(async (account) => resolveAddress(account)),
    )
  ).map((account) => account.toLowerCase());
  if (inspector === ZeroAddress) return null;
  if (parties.includes(inspector)) return { error: "EscrowInvalidParty", inspector };
  if (!(await registry.isActiveParticipant(inspector, ROLE_HASHES.INSPECTOR))) return { error: "EscrowInvalidInspector", inspector };
  return null;
}

/** The sentence the chain's revert would decode to (`EscrowInvalidInspector: … is not an active inspector …`). */
export function describeOrderInspectorRefusal(refusal: OrderInspectorRefusal, escrow: Interface, decoder: RevertDecoder): string {
  const decoded = decoder.decode(escrow.encodeErrorResult(refusal.error, [refusal.inspector]));
  return decoded?.message ?? refusal.error;
}
