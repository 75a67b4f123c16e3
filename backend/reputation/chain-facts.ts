/**
 * ReputationFacts straight from the chain's logs, for scripts/verify-reputation.ts: eth_getLogs on the deployment's
 * registry and escrow, decoded with ethers from the compiled ABIs, folded here on their own. Nothing of the mirror is
 * used (not its store, decoder or projections), so a mirror that lost, changed or invented an event cannot agree
 * with this fold by accident.
 */
import { Interface, type Provider, type Result } from "ethers";
import { loadProvenaAbis } from "../chain/artifacts.ts";
import { logsInRanges } from "../chain/logs-in-ranges.ts";
import type { Hex } from "../domain/model.ts";
import type { LotFact, OrderFact, ReputationFacts } from "./reputation.ts";

/** One decoded log with where and when the chain put it. */
export interface ChainLogEntry {
  blockNumber: number;
  logIndex: number;
  timestamp: number;
  name: string;
  args: Result;
}

const lower = (value: string) => value.toLowerCase() as Hex;
const eventIdOf = (chainId: number, entry: ChainLogEntry) =>
  `${chainId}:${String(entry.blockNumber).padStart(12, "0")}:${String(entry.logIndex).padStart(6, "0")}`;

/**
 * Every log of the registry and escrow in [fromBlock, toBlock], decoded, in chain order, each with its block's
 * timestamp. Logs the ABIs do not know are skipped (none are expected).
 */
export async function readChainLogs(
  provider: Provider,
  contracts: { registry: Hex; escrow: Hex },
  fromBlock: number,
  toBlock: number,
  rangeSize = 2_000,
): Promise<ChainLogEntry[]> {
  const abis = loadProvenaAbis();
  const decoders = new Map([
    [lower(contracts.registry), new Interface(abis.ProvenanceRegistry)],
    [lower(contracts.escrow), new Interface(abis.TradeEscrow)],
  ]);
  const logs = await logsInRanges(provider, { address: [contracts.registry, contracts.escrow] }, fromBlock, toBlock, rangeSize);
  const timestamps = new Map<number, number>();
  for (const blockNumber of new Set(logs.map((log) => log.blockNumber))) {
    const block = await provider.getBlock(blockNumber);
    if (block === null) throw new Error(`block ${blockNumber} is missing on the node`);
    timestamps.set(blockNumber, block.timestamp);
  }
  const entries: ChainLogEntry[] = [];
  for (const log of logs) {
    const parsed = decoders.get(lower(log.address))?.parseLog({ topics: [...log.topics], data: log.data });
    if (!parsed) continue;
    entries.push({
      blockNumber: log.blockNumber,
      logIndex: log.index,
      timestamp: timestamps.get(log.blockNumber)!,
      name: parsed.name,
      args: parsed.args,
    });
  }
  return entries.sort((a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex);
}

/** What the chain's logs up to `throughBlock` say: onboarded participants and every order and lot. */
export interface ChainFacts {
  participants: Set<Hex>;
  facts: ReputationFacts;
}

/** Folds `entries` (in chain order) up to and including `throughBlock`. */
export function foldChainFacts(chainId: number, entries: readonly ChainLogEntry[], throughBlock: number): ChainFacts {
  const participants = new Set<Hex>();
  const orders = new Map<Hex, OrderFact>();
  const lots = new Map<Hex, LotFact>();
  const order = (id: string) => {
    const found = orders.get(lower(id));
    if (!found) throw new Error(`an escrow event names order ${id}, which was never opened`);
    return found;
  };
  const lot = (id: string) => {
    const found = lots.get(lower(id));
    if (!found) throw new Error(`a registry event names batch ${id}, which was never registered`);
    return found;
  };

  for (const entry of entries) {
    if (entry.blockNumber > throughBlock) break;
    const { args, timestamp: at } = entry;
    switch (entry.name) {
      case "ParticipantOnboarded":
        participants.add(lower(args.account));
        break;
      case "BatchRegistered":
        lots.set(lower(args.batchId), {
          batchId: lower(args.batchId),
          parentId: null,
          manufacturer: lower(args.manufacturer),
          firstCustodian: lower(args.manufacturer),
          registeredAt: at,
          recalledAt: null,
          events: [],
        });
        break;
      case "BatchSplit":
        lots.set(lower(args.childId), {
          batchId: lower(args.childId),
          parentId: lower(args.parentId),
          manufacturer: lot(args.parentId).manufacturer,
          firstCustodian: lower(args.custodian),
          registeredAt: at,
          recalledAt: null,
          events: [],
        });
        break;
      case "HandoffAccepted":
      case "HandoffRejected":
        lot(args.batchId).events.push({
          kind: entry.name === "HandoffAccepted" ? "accepted" : "rejected",
          eventId: eventIdOf(chainId, entry),
          at,
          from: lower(args.from),
          to: lower(args.to),
        });
        break;
      case "QualityAttested":
        lot(args.batchId).events.push({
          kind: "inspected",
          eventId: eventIdOf(chainId, entry),
          at,
          inspector: lower(args.inspector),
          passed: Boolean(args.passed),
        });
        break;
      case "BatchRecalled":
        lot(args.batchId).recalledAt = at;
        break;
      case "OrderOpened": {
        const terms = args.order as Result;
        orders.set(lower(args.orderId), {
          orderId: lower(args.orderId),
          buyer: lower(terms.buyer),
          seller: lower(terms.seller),
          carrier: lower(terms.carrier),
          token: lower(terms.token),
          amount: BigInt(terms.amount).toString(),
          deliveryDeadline: Number(terms.deliveryDeadline),
          openedAt: at,
          state: "funded",
          deliveredAt: null,
          disputedBy: null,
          disputedAt: null,
          closedAt: null,
          disputeBuyerAmount: null,
        });
        break;
      }
      case "OrderDelivered":
        Object.assign(order(args.orderId), { state: "delivered", deliveredAt: Number(args.deliveredAt) });
        break;
      case "OrderDisputed":
        Object.assign(order(args.orderId), { state: "disputed", disputedBy: lower(args.disputedBy), disputedAt: at });
        break;
      case "OrderReleased":
        Object.assign(order(args.orderId), { state: "released", closedAt: at });
        break;
      case "OrderRefunded":
        Object.assign(order(args.orderId), { state: "refunded", closedAt: at });
        break;
      case "OrderCancelled":
        Object.assign(order(args.orderId), { state: "cancelled", closedAt: at });
        break;
      case "DisputeResolved":
        Object.assign(order(args.orderId), { state: "resolved", closedAt: at, disputeBuyerAmount: BigInt(args.buyerAmount).toString() });
        break;
      default:
        break;
    }
  }
  return { participants, facts: { orders: [...orders.values()], lots: [...lots.values()] } };
}
