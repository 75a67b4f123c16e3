/**
 * Typed access to the Provena contracts: ethers Contracts typed with the TypeChain declarations Hardhat generates
 * into types/ethers-contracts (`npx hardhat build`). Only the types come from there (erased at run time); the
 * ABIs come from the compiled artifacts, so running the backend never needs types/ to exist.
 */
import { Contract, Interface, ZeroAddress, type ContractRunner, type InterfaceAbi } from "ethers";
import type {
  ColdChain,
  DesignRegistry,
  LogisticUnits,
  ProductDataRegistry,
  ProvenaForwarder,
  ProvenanceRegistry,
  TradeEscrow,
  Transformations,
  UnitOwnership,
} from "../../types/ethers-contracts/index.ts";
import type { ITradeEscrow } from "../../types/ethers-contracts/TradeEscrow.ts";
import type { Order } from "../domain/model.ts";
import { loadArtifact, loadUnitOwnershipAbi, type ProvenaContractName } from "./artifacts.ts";
import { BREACH_TERMS } from "./vocabulary.ts";
import type { ChainAccess } from "./chain-access.ts";
import { createRevertDecoder, type RevertDecoder } from "./revert-reason.ts";

export type {
  ColdChain,
  DesignRegistry,
  LogisticUnits,
  ProductDataRegistry,
  ProvenaForwarder,
  ProvenanceRegistry,
  TradeEscrow,
  Transformations,
  UnitOwnership,
};

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
  DesignRegistry: DesignRegistry;
  ProductDataRegistry: ProductDataRegistry;
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

/** DesignRegistry at `address`. */
export const designRegistryAt = (address: string, runner: ContractRunner | null, abi?: InterfaceAbi | Interface): DesignRegistry =>
  contractAt("DesignRegistry", address, runner, abi);

let coldChainAbiCache: InterfaceAbi | undefined;

/** The compiled ColdChain ABI, read once per process (ColdChain is not among the indexed PROVENA_CONTRACTS). */
export function coldChainAbi(): InterfaceAbi {
  coldChainAbiCache ??= loadArtifact("ColdChain").abi;
  return coldChainAbiCache;
}

/** ColdChain at `address`. */
export const coldChainAt = (address: string, runner: ContractRunner | null, abi: InterfaceAbi | Interface = coldChainAbi()): ColdChain =>
  new Contract(address, abi, runner) as unknown as ColdChain;

/** ProductDataRegistry at `address`. */
export const productDataAt = (address: string, runner: ContractRunner | null, abi?: InterfaceAbi | Interface): ProductDataRegistry =>
  contractAt("ProductDataRegistry", address, runner, abi);

let unitOwnershipAbiCache: InterfaceAbi | undefined;

/** The compiled UnitOwnership ABI, read once per process (kept apart from the indexed contracts' ABIs). */
export function unitOwnershipAbi(): InterfaceAbi {
  unitOwnershipAbiCache ??= loadArtifact("UnitOwnership").abi;
  return unitOwnershipAbiCache;
}

/** UnitOwnership at `address`. */
export const unitOwnershipAt = (
  address: string,
  runner: ContractRunner | null,
  abi: InterfaceAbi | Interface = unitOwnershipAbi(),
): UnitOwnership => new Contract(address, abi, runner) as unknown as UnitOwnership;

let logisticUnitsAbiCache: InterfaceAbi | undefined;

/** The compiled LogisticUnits ABI, read once per process. */
export function logisticUnitsAbi(): InterfaceAbi {
  logisticUnitsAbiCache ??= loadArtifact("LogisticUnits").abi;
  return logisticUnitsAbiCache;
}

/** LogisticUnits (containers identified by an SSCC) at `address`. */
export const logisticUnitsAt = (
  address: string,
  runner: ContractRunner | null,
  abi: InterfaceAbi | Interface = logisticUnitsAbi(),
): LogisticUnits => new Contract(address, abi, runner) as unknown as LogisticUnits;

let transformationsAbiCache: InterfaceAbi | undefined;

/** The compiled Transformations ABI, read once per process. */
export function transformationsAbi(): InterfaceAbi {
  transformationsAbiCache ??= loadArtifact("Transformations").abi;
  return transformationsAbiCache;
}

/** Transformations (inputs consumed into new lots) at `address`. */
export const transformationsAt = (
  address: string,
  runner: ContractRunner | null,
  abi: InterfaceAbi | Interface = transformationsAbi(),
): Transformations => new Contract(address, abi, runner) as unknown as Transformations;

/** A deployment's contracts, read-only through the chain's provider, with their interfaces and a revert decoder. */
export interface ProvenaContracts {
  forwarder: ProvenaForwarder;
  registry: ProvenanceRegistry;
  escrow: TradeEscrow;
  /** The design registry, when the deployment has one. */
  designRegistry?: DesignRegistry;
  /** The cold chain, when the deployment has one. */
  coldChain?: ColdChain;
  /** The product-data anchors; undefined for a deployment without them. */
  productData: ProductDataRegistry | undefined;
  /** The unit ownership tokens; undefined for a deployment made before they existed. */
  unitOwnership?: UnitOwnership;
  /** The logistic units (containers); undefined for a deployment made before they existed. */
  logisticUnits?: LogisticUnits;
  /** The transformations; undefined for a deployment made before they existed. */
  transformations?: Transformations;
  /** Untyped interfaces, for encoding and parsing by a function name known only at run time. */
  interfaces: {
    forwarder: Interface;
    registry: Interface;
    escrow: Interface;
    designRegistry: Interface;
    productData: Interface;
    unitOwnership: Interface;
    logisticUnits: Interface;
    transformations: Interface;
    coldChain?: Interface;
  };
  decoder: RevertDecoder;
}

export function provenaContracts(chain: ChainAccess): ProvenaContracts {
  const coldChainAddress = chain.addresses.coldChain;
  const coldChainInterface = coldChainAddress === undefined ? undefined : new Interface(chain.abis.coldChain ?? coldChainAbi());
  const interfaces = {
    forwarder: new Interface(chain.abis.forwarder),
    registry: new Interface(chain.abis.registry),
    escrow: new Interface(chain.abis.escrow),
    designRegistry: new Interface(chain.abis.designRegistry ?? provenaAbi("DesignRegistry")),
    ...(coldChainInterface === undefined ? {} : { coldChain: coldChainInterface }),
    productData: new Interface(chain.abis.productData ?? provenaAbi("ProductDataRegistry")),
    // Always there, so its revert reasons decode (and its calls encode) whatever the deployment holds.
    unitOwnership: new Interface(chain.abis.unitOwnership ?? unitOwnershipAbi()),
    // Likewise always there, for revert reasons of packing and container handoffs.
    logisticUnits: new Interface(chain.abis.logisticUnits ?? logisticUnitsAbi()),
    transformations: new Interface(chain.abis.transformations ?? transformationsAbi()),
  };
  const logisticUnitsAddress = chain.addresses.logisticUnits;
  const transformationsAddress = chain.addresses.transformations;
  const unitOwnershipAddress = chain.addresses.unitOwnership;
  const designRegistryAddress = chain.addresses.designRegistry;
  return {
    forwarder: forwarderAt(chain.addresses.forwarder, chain.provider, interfaces.forwarder),
    registry: registryAt(chain.addresses.registry, chain.provider, interfaces.registry),
    escrow: escrowAt(chain.addresses.escrow, chain.provider, interfaces.escrow),
    ...(designRegistryAddress
      ? { designRegistry: designRegistryAt(designRegistryAddress, chain.provider, interfaces.designRegistry) }
      : {}),
    ...(coldChainAddress === undefined || coldChainInterface === undefined
      ? {}
      : { coldChain: coldChainAt(coldChainAddress, chain.provider, coldChainInterface) }),
    productData:
      chain.addresses.productData === undefined
        ? undefined
        : productDataAt(chain.addresses.productData, chain.provider, interfaces.productData),
    ...(unitOwnershipAddress ? { unitOwnership: unitOwnershipAt(unitOwnershipAddress, chain.provider, interfaces.unitOwnership) } : {}),
    ...(logisticUnitsAddress ? { logisticUnits: logisticUnitsAt(logisticUnitsAddress, chain.provider, interfaces.logisticUnits) } : {}),
    ...(transformationsAddress
      ? { transformations: transformationsAt(transformationsAddress, chain.provider, interfaces.transformations) }
      : {}),
    interfaces,
    decoder: createRevertDecoder(
      [
        interfaces.registry,
        interfaces.escrow,
        interfaces.forwarder,
        interfaces.designRegistry,
        interfaces.productData,
        interfaces.unitOwnership,
        interfaces.logisticUnits,
        interfaces.transformations,
        coldChainInterface,
      ].filter((iface) => iface !== undefined),
    ),
  };
}

/**
 * ITradeEscrow.BreachTerms as the contract takes it, from the mirror's name ("refund_freight"), or from an order
 * file that keeps the struct's number; absent is None.
 */
function breachTermsIndex(terms: unknown): number {
  if (terms === undefined || terms === null) return 0;
  const index = typeof terms === "string" ? BREACH_TERMS.indexOf(terms as (typeof BREACH_TERMS)[number]) : Number(terms);
  if (!Number.isInteger(index) || index < 0 || index >= BREACH_TERMS.length) {
    throw new Error(
      `unknown breach terms ${JSON.stringify(terms)} (one of ${BREACH_TERMS.join(", ")}, or 0 to ${BREACH_TERMS.length - 1})`,
    );
  }
  return index;
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
    breachTerms: breachTermsIndex(order.breachTerms),
  } satisfies OrderStruct;
}
