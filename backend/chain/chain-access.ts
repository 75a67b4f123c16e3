/**
 * How the backend reaches a Provena deployment: one chain access (a provider, the chain id, the deployment's
 * addresses and the compiled ABIs), and narrow views of it for the parts that need less.
 */
import type { Block, Filter, InterfaceAbi, Log, Provider } from "ethers";
import type { Deployment } from "./deployment.ts";

/** Where the contracts of a deployment live (lower-case); the optional ones only in deployments that have them. */
export type ContractAddresses = Pick<
  Deployment,
  | "forwarder"
  | "registry"
  | "escrow"
  | "designRegistry"
  | "coldChain"
  | "productData"
  | "unitOwnership"
  | "logisticUnits"
  | "transformations"
>;

/** The ABIs of a deployment's contracts, by their part in it (from Hardhat's artifacts, backend/chain/artifacts.ts). */
export interface DeploymentAbis {
  forwarder: InterfaceAbi;
  registry: InterfaceAbi;
  escrow: InterfaceAbi;
  /** Default: the compiled DesignRegistry ABI. */
  designRegistry?: InterfaceAbi;
  /** Default: the compiled ColdChain ABI (used only when the addresses name a cold chain). */
  coldChain?: InterfaceAbi;
  /** Default: the compiled ProductDataRegistry ABI. */
  productData?: InterfaceAbi;
  /** Default: the compiled UnitOwnership ABI (read when the deployment has the contract). */
  unitOwnership?: InterfaceAbi;
  /** Default: the compiled LogisticUnits ABI. */
  logisticUnits?: InterfaceAbi;
  /** Default: the compiled Transformations ABI. */
  transformations?: InterfaceAbi;
}

/** The one chain access: what the relayer, the keeper and the composition root share. */
export interface ChainAccess {
  provider: Provider;
  chainId: number;
  addresses: ContractAddresses;
  abis: DeploymentAbis;
}

/**
 * Simulations run against the block the transaction will land in ("pending": the latest state with the next
 * block's timestamp), not the latest block: on a quiet chain the latest block can be minutes old, and escrow
 * deadlines and dispute windows are about time.
 */
export const NEXT_BLOCK = "pending";

/** The indexer's view: reads heads, blocks and logs (an ethers Provider is one). */
export interface ChainReader {
  getBlockNumber(): Promise<number>;
  getLogs(filter: Filter): Promise<Log[]>;
  getBlock(blockNumber: number): Promise<Block | null>;
}

/**
 * The read-only JSON-RPC proxy's view: raw JSON-RPC, either through an ethers JsonRpcApiProvider (`send`) or an
 * EIP-1193 provider (`request`, Hardhat's in-process network).
 */
export type ChainRpc =
  | { send(method: string, params: unknown[]): Promise<unknown> }
  | { request(args: { method: string; params?: unknown[] }): Promise<unknown> };
