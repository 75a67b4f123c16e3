/**
 * The keeper: settles escrow orders as soon as the contracts allow it, so nobody has to push the button.
 *
 * It reads open orders from the mirror (funded, delivered, disputed), re-checks each on the chain (the mirror
 * may lag), and for each settlement the escrow could take now - release (once the order's named inspector, if any,
 * passed it), refund, or the fallback resolution of an expired dispute - proves it with a simulation from the
 * relayer's account before queueing it as a relayer job (kind "keeper"). Job ids are deterministic per chain,
 * order and action, so however many keepers run and however often they look, one order gets one job per action;
 * the relayer sends it.
 */
import type { ProjectionReads, RelayQueue } from "../store/port.ts";
import type { Hex, Order, OrderState } from "../domain/model.ts";
import { ORDER_STATES, type ChainOrderState } from "../chain/vocabulary.ts";
import { NEXT_BLOCK, type ChainAccess } from "../chain/chain-access.ts";
import { orderStruct, provenaContracts, type ProvenaContracts } from "../chain/contracts.ts";
import { shortMessage } from "../chain/revert-reason.ts";
import { queueBackgroundCall, type BackgroundCall, type BackgroundCallerOptions } from "../relayer/queued-request.ts";
import { createPollingLoop } from "../coordination/polling-loop.ts";

export type KeeperAction = "release" | "refund" | "resolveExpiredDispute";

/** Which settlements can apply in which on-chain state; the simulation decides whether one applies now. */
const CANDIDATE_ACTIONS: Partial<Record<ChainOrderState, KeeperAction[]>> = {
  funded: ["refund"],
  // A delivered or disputed order is never refunded (a recall after delivery goes to dispute, not to a refund).
  delivered: ["release"],
  disputed: ["resolveExpiredDispute"],
};

const OPEN_STATES: OrderState[] = ["funded", "delivered", "disputed"];

/**
 * The settlements worth simulating for `order` in on-chain state `state`. An order naming an inspector is not
 * released until the mirror shows that inspector's pass (the escrow records only the named inspector's result;
 * another inspector's pass of the batch does not count), so the keeper does not try a release the escrow refuses.
 */
export function candidateActions(state: ChainOrderState | undefined, order: Pick<Order, "inspector" | "inspection">): KeeperAction[] {
  const actions = (state && CANDIDATE_ACTIONS[state]) ?? [];
  if (order.inspector !== null && order.inspection !== "passed") return actions.filter((action) => action !== "release");
  return actions;
}

export interface KeeperOptions extends BackgroundCallerOptions {
  /** Open orders come from the projections; jobs go to the relay queue. */
  store: ProjectionReads & RelayQueue;
}

export interface KeeperRoundResult {
  /** Open orders looked at. */
  checked: number;
  /** Jobs queued (or re-queued) in this round. */
  queued: { orderId: Hex; action: KeeperAction; jobId: string }[];
}

export interface Keeper {
  start(): void;
  stop(): Promise<void>;
  /** One pass over the open orders. */
  tick(): Promise<KeeperRoundResult>;
}

/** The relayer job id of a keeper action: the same order and action always map to the same job. */
export function keeperJobId(chainId: number, orderId: Hex, action: KeeperAction): string {
  return `keeper:${chainId}:${orderId.toLowerCase()}:${action}`;
}

/** Every mirrored order in a state a settlement can apply to (funded, delivered, disputed). */
export async function openOrders(store: Pick<ProjectionReads, "listOrders">): Promise<Order[]> {
  const orders: Order[] = [];
  for (const state of OPEN_STATES) {
    let cursor: string | null = null;
    do {
      const page = await store.listOrders({ state }, { limit: 200, cursor });
      orders.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== null);
  }
  return orders;
}

/** A settlement the escrow would take now from `relayerAddress`, proved by a simulation; null when none applies yet. */
export async function settlementOf(
  chain: Pick<ChainAccess, "provider">,
  contracts: Pick<ProvenaContracts, "escrow" | "interfaces">,
  relayerAddress: Hex,
  order: Order,
): Promise<{ action: KeeperAction; data: Hex } | null> {
  const struct = orderStruct(order);
  const [chainState] = await contracts.escrow.orderState(struct);
  const state = ORDER_STATES[Number(chainState)];
  for (const action of candidateActions(state, order)) {
    const data = contracts.interfaces.escrow.encodeFunctionData(action, [struct]) as Hex;
    try {
      await chain.provider.call({ from: relayerAddress, to: await contracts.escrow.getAddress(), data, blockTag: NEXT_BLOCK });
      return { action, data };
    } catch {
      // Not allowed yet (too early, inspection pending, ...): look again next round.
    }
  }
  return null;
}

/** The relayer call that takes `action` for `order` (one job id per chain, order and action). */
function keeperCall(
  chainId: number,
  relayerAddress: Hex,
  escrowAddress: Hex,
  order: Order,
  action: KeeperAction,
  data: Hex,
): BackgroundCall {
  return { id: keeperJobId(chainId, order.orderId, action), chainId, from: relayerAddress, to: escrowAddress, data, kind: "keeper" };
}

export function createKeeper(options: KeeperOptions): Keeper {
  const { store, chain } = options;
  const contracts = provenaContracts(chain);
  const relayerAddress = options.relayerAddress.toLowerCase() as Hex;
  const intervalMs = options.intervalMs ?? 5_000;
  const log = options.logger.child({ component: "keeper" });
  const escrowAddress = chain.addresses.escrow.toLowerCase() as Hex;
  const queueing = { maxAttempts: options.maxAttempts ?? 3, now: options.now ?? Date.now };

  async function tick(): Promise<KeeperRoundResult> {
    const orders = await openOrders(store);
    const queued: KeeperRoundResult["queued"] = [];
    for (const order of orders) {
      if (loop.stopping) break; // stop() was called during a scheduled round
      try {
        const computedId = (await contracts.escrow.orderIdOf(orderStruct(order))).toLowerCase();
        if (computedId !== order.orderId) {
          log.error({ orderId: order.orderId, computedId }, "mirrored order does not hash to its id; skipping it");
          continue;
        }
        const settlement = await settlementOf(chain, contracts, relayerAddress, order);
        if (!settlement) continue;
        const call = keeperCall(chain.chainId, relayerAddress, escrowAddress, order, settlement.action, settlement.data);
        const jobId = await queueBackgroundCall(store, call, queueing);
        if (jobId) {
          queued.push({ orderId: order.orderId, action: settlement.action, jobId });
          log.info({ orderId: order.orderId, action: settlement.action, jobId }, "keeper queued a settlement");
          const job = await store.getRelay(jobId);
          if (job) options.onJobQueued?.(job);
        }
      } catch (error) {
        log.warn({ orderId: order.orderId, error: shortMessage(error) }, "keeper could not check an order");
      }
    }
    return { checked: orders.length, queued };
  }

  const loop = createPollingLoop(tick, {
    intervalMs: intervalMs,
    onError: (error) => log.error({ error: shortMessage(error) }, "keeper round failed"),
  });

  return {
    start: loop.start,
    stop: loop.stop,
    tick,
  };
}
