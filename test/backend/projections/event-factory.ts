/**
 * Builds ChainEvents the way the indexer does: logs encoded with the compiled ABIs, then decoded by the real
 * decoder, so reducer tests see exactly the args shapes the chain produces. Blocks advance on demand.
 */
import { Interface, ZeroAddress, keccak256, toBeHex, type InterfaceAbi } from "ethers";
import { loadProvenaAbis, type ProvenaContractName } from "../../../backend/chain/artifacts.ts";
import type { Deployment } from "../../../backend/chain/deployment.ts";
import { createEventDecoder, type RawLog } from "../../../backend/chain/events.ts";
import type { ChainEvent, Hex } from "../../../backend/domain/model.ts";

export const TEST_DEPLOYMENT: Deployment = {
  chainId: 31337,
  forwarder: "0x00000000000000000000000000000000000000f0",
  registry: "0x00000000000000000000000000000000000000a1",
  escrow: "0x00000000000000000000000000000000000000e5",
  designRegistry: "0x00000000000000000000000000000000000000d5",
  productData: "0x00000000000000000000000000000000000000d9",
  deployBlock: 1,
};

const ADDRESS_OF: Record<ProvenaContractName, Hex> = {
  ProvenanceRegistry: TEST_DEPLOYMENT.registry,
  TradeEscrow: TEST_DEPLOYMENT.escrow,
  ProvenaForwarder: TEST_DEPLOYMENT.forwarder,
  DesignRegistry: TEST_DEPLOYMENT.designRegistry!,
  ProductDataRegistry: TEST_DEPLOYMENT.productData!,
};

export const blockHashOf = (blockNumber: number, fork = 0): Hex => keccak256(toBeHex(blockNumber * 1000 + fork, 32)) as Hex;
export const timestampOf = (blockNumber: number) => 1_700_000_000 + blockNumber * 12;

export interface EventFactory {
  /** Encodes a log of `contract`'s event `name` with `values` (in ABI order) in the current block. */
  log(contract: ProvenaContractName, name: string, values: readonly unknown[]): RawLog;
  /** Same, decoded into a ChainEvent. */
  event(contract: ProvenaContractName, name: string, values: readonly unknown[]): ChainEvent;
  /** Moves to a new block (the next events land there). */
  nextBlock(): number;
  readonly blockNumber: number;
  decode(log: RawLog): ChainEvent;
}

export function createEventFactory(startBlock = 10, fork = 0): EventFactory {
  const abis = loadProvenaAbis();
  const decoder = createEventDecoder({ deployment: TEST_DEPLOYMENT, abis });
  const interfaces = Object.fromEntries(Object.entries(abis).map(([name, abi]) => [name, new Interface(abi as InterfaceAbi)])) as Record<
    ProvenaContractName,
    Interface
  >;
  let blockNumber = startBlock;
  let logIndex = 0;
  let transactionIndex = 0;

  const log = (contract: ProvenaContractName, name: string, values: readonly unknown[]): RawLog => {
    const encoded = interfaces[contract].encodeEventLog(name, values);
    const index = logIndex++;
    return {
      address: ADDRESS_OF[contract],
      topics: encoded.topics,
      data: encoded.data,
      blockNumber,
      blockHash: blockHashOf(blockNumber, fork),
      transactionHash: keccak256(toBeHex(blockNumber * 10_000 + transactionIndex++, 32)),
      transactionIndex: transactionIndex - 1,
      index,
    };
  };
  const decode = (raw: RawLog) => decoder.decode(raw, timestampOf(raw.blockNumber));

  return {
    log,
    decode,
    event: (contract, name, values) => decode(log(contract, name, values)),
    nextBlock() {
      blockNumber += 1;
      logIndex = 0;
      transactionIndex = 0;
      return blockNumber;
    },
    get blockNumber() {
      return blockNumber;
    },
  };
}

/** Named test accounts (lower-case, as the mirror stores them). */
export const ACCOUNTS = {
  admin: "0x1000000000000000000000000000000000000001",
  manufacturer: "0x1000000000000000000000000000000000000002",
  carrier: "0x1000000000000000000000000000000000000003",
  customs: "0x1000000000000000000000000000000000000004",
  inspector: "0x1000000000000000000000000000000000000005",
  retailer: "0x1000000000000000000000000000000000000006",
  platform: "0x1000000000000000000000000000000000000007",
} as const satisfies Record<string, Hex>;

export const bytes32 = (label: string): Hex => keccak256(new TextEncoder().encode(label)) as Hex;

/** What an order's terms may vary in the tests; the parties are always the retailer (buyer), manufacturer and carrier. */
export interface OrderTermsOptions {
  amount?: bigint;
  disputeWindow?: number;
  /** The order's named inspector; the zero address for none (default: the test inspector). */
  inspector?: Hex;
  salt?: Hex;
}

/**
 * TradeEscrow's Order struct for an order in ETH on `batchId`, in the decoder's JSON form (amount as a decimal
 * string): what an OrderOpened carries in `args.order`, and what the encoder takes for the struct (ethers
 * encodes a tuple from an object by field name).
 */
export function orderTerms(
  batchId: Hex,
  { amount = 10n ** 18n, disputeWindow = 86_400, inspector = ACCOUNTS.inspector, salt = bytes32("salt") }: OrderTermsOptions = {},
) {
  return {
    buyer: ACCOUNTS.retailer,
    seller: ACCOUNTS.manufacturer,
    carrier: ACCOUNTS.carrier,
    token: ZeroAddress,
    amount: String(amount),
    batchId,
    sellerBps: 9000,
    carrierBps: 900,
    platformBps: 100,
    deliveryDeadline: 1_800_000_000,
    disputeWindow,
    inspector,
    fallbackBuyerBps: 5000,
    salt,
    breachTerms: 0,
  };
}

/** The `OrderOpened` of `orderId` on `batchId`, bought by the retailer. */
export function openedEvent(f: EventFactory, orderId: Hex, batchId: Hex, options?: OrderTermsOptions): ChainEvent {
  return f.event("TradeEscrow", "OrderOpened", [orderId, ACCOUNTS.retailer, batchId, orderTerms(batchId, options)]);
}

/** The `OrderDelivered` of `orderId` on `batchId`: the escrow logs the order's full id and its batch. */
export function deliveredEvent(f: EventFactory, batchId: Hex, orderId: Hex, deliveredAt: number): ChainEvent {
  return f.event("TradeEscrow", "OrderDelivered", [orderId, batchId, deliveredAt]);
}

/** The `OrderInspected` the escrow logs when the order's named inspector attests its batch. */
export function inspectedEvent(f: EventFactory, orderId: Hex, passed: boolean): ChainEvent {
  return f.event("TradeEscrow", "OrderInspected", [orderId, passed]);
}
