/**
 * Typed access to the Provena contracts: ethers Contracts typed with the TypeChain declarations Hardhat generates
 * into types/ethers-contracts (`npx hardhat build`). Only the types come from there (erased at run time); the
 * ABIs come from the compiled artifacts, so running the backend never needs types/ to exist.
 */
import { Contract, Interface, ZeroAddress, type ContractRunner, type InterfaceAbi } from "ethers";
import type { ProvenaForwarder, ProvenanceRegistry, TradeEscrow } from "../../types/ethers-contracts/index.ts";
import type { ITradeEscrow } from "../../types/ethers-contracts/TradeEscrow.ts";
import type { Order } from "../domain/model.ts";
import { loadArtifact, loadUnitOwnershipAbi, type ProvenaContractName } from "./artifacts.ts";
import type { ChainAccess } from "./chain-access.ts";
import { createRevertDecoder, type RevertDecoder } from "./revert-reason.ts";

export type { ProvenaForwarder, ProvenanceRegistry, TradeEscrow };

/** The ITradeEscrow.Order struct the escrow takes (it stores its hash, the order id). */
export type OrderStruct = ITradeEscrow.OrderStruct;

const abiCache = new Map<ProvenaContractName, InterfaceAbi>();

/** The ABI of a Provena contract from artifacts/, read once per process. */
export function provenaAbi(name: ProvenaContractName): InterfaceAbi {
  let abi = abiCache.get(name);
  if (abi === undefined) {
    abi = loadArtifact(name).abi;
    abiCache.set(name, abi);
  }
  return abi;
}

/** The TypeChain type of each Provena contract. */
interface ProvenaContractTypes {
  ProvenanceRegistry: ProvenanceRegistry;
  TradeEscrow: TradeEscrow;
  ProvenaForwarder: ProvenaForwarder;
}

/** Contract `name` at `address`, reading through (or signing with) `runner`; the ABI defaults to the compiled one. */
function contractAt<Name extends ProvenaContractName>(
  name: Name,
  address: string,
  runner: ContractRunner | null,
  abi: InterfaceAbi | Interface = provenaAbi(name),
): ProvenaContractTypes[Name] {
  return new Contract(address, abi, runner) as unknown as ProvenaContractTypes[Name];
}

/** ProvenanceRegistry at `address`, reading through (or signing with) `runner`. */
export const registryAt = (address: string, runner: ContractRunner | null, abi?: InterfaceAbi | Interface): ProvenanceRegistry =>
  contractAt("ProvenanceRegistry", address, runner, abi);

/** TradeEscrow at `address`. */
export const escrowAt = (address: string, runner: ContractRunner | null, abi?: InterfaceAbi | Interface): TradeEscrow =>
  contractAt("TradeEscrow", address, runner, abi);

/** ProvenaForwarder at `address`. */
export const forwarderAt = (address: string, runner: ContractRunner | null, abi?: InterfaceAbi | Interface): ProvenaForwarder =>
  contractAt("ProvenaForwarder", address, runner, abi);

/** A deployment's contracts, read-only through the chain's provider, with their interfaces and a revert decoder. */
export interface ProvenaContracts {
  forwarder: ProvenaForwarder;
  registry: ProvenanceRegistry;
  escrow: TradeEscrow;
  /** Untyped interfaces, for encoding and parsing by a function name known only at run time. */
  interfaces: { forwarder: Interface; registry: Interface; escrow: Interface };
  decoder: RevertDecoder;
}

export function provenaContracts(chain: ChainAccess): ProvenaContracts {
  const interfaces = {
    forwarder: new Interface(chain.abis.forwarder),
    registry: new Interface(chain.abis.registry),
    escrow: new Interface(chain.abis.escrow),
  };
  return {
    forwarder: forwarderAt(chain.addresses.forwarder, chain.provider, interfaces.forwarder),
    registry: registryAt(chain.addresses.registry, chain.provider, interfaces.registry),
    escrow: escrowAt(chain.addresses.escrow, chain.provider, interfaces.escrow),
    interfaces,
    // The ownership tokens' errors too: the relayer submits unit claims to that contract directly.
    decoder: createRevertDecoder([interfaces.registry, interfaces.escrow, interfaces.forwarder, unitOwnershipInterface()]),
  };
}

let unitOwnershipInterfaceCache: Interface | null = null;

/** IUnitOwnership's interface (with ERC-721's events), read once per process. */
export function unitOwnershipInterface(): Interface {
  unitOwnershipInterfaceCache ??= new Interface(loadUnitOwnershipAbi());
  return unitOwnershipInterfaceCache;
}

/** The ITradeEscrow.Order struct of a mirrored order, in field order (no inspector is the zero address on chain). */
export function orderStruct(order: Order) {
  return {
    buyer: order.buyer,
    seller: order.seller,
    carrier: order.carrier,
    token: order.token,
    amount: BigInt(order.amount),
    batchId: order.batchId,
    sellerBps: order.sellerBps,
    carrierBps: order.carrierBps,
    platformBps: order.platformBps,
    deliveryDeadline: order.deliveryDeadline,
    disputeWindow: order.disputeWindow,
    inspector: order.inspector ?? ZeroAddress,
    fallbackBuyerBps: order.fallbackBuyerBps,
    salt: order.salt,
  } satisfies OrderStruct;
}
