/**
 * What the relayer and the keeper need from the chain: a provider, the deployment's addresses and the compiled ABIs
 * (from Hardhat artifacts through backend/chain, never pasted copies). main.ts builds it; tests build it from a
 * Hardhat connection.
 */
import { Contract, Interface, type InterfaceAbi, type Provider } from "ethers";
import type { Hex } from "../domain/model.ts";
import { createRevertDecoder, type RevertDecoder } from "../chain/revert-reason.ts";

export interface RelayChain {
  provider: Provider;
  chainId: number;
  addresses: { forwarder: Hex; registry: Hex; escrow: Hex };
  abis: { forwarder: InterfaceAbi; registry: InterfaceAbi; escrow: InterfaceAbi };
}

/** Read-only contract handles and interfaces, built once. */
export interface RelayContracts {
  forwarder: Contract;
  registry: Contract;
  escrow: Contract;
  interfaces: { forwarder: Interface; registry: Interface; escrow: Interface };
  decoder: RevertDecoder;
}

export function relayContracts(chain: RelayChain): RelayContracts {
  const interfaces = {
    forwarder: new Interface(chain.abis.forwarder),
    registry: new Interface(chain.abis.registry),
    escrow: new Interface(chain.abis.escrow),
  };
  return {
    forwarder: new Contract(chain.addresses.forwarder, interfaces.forwarder, chain.provider),
    registry: new Contract(chain.addresses.registry, interfaces.registry, chain.provider),
    escrow: new Contract(chain.addresses.escrow, interfaces.escrow, chain.provider),
    interfaces,
    decoder: createRevertDecoder([interfaces.registry, interfaces.escrow, interfaces.forwarder]),
  };
}

/**
 * Simulations run against the block the transaction will land in ("pending": the latest state with the next
 * block's timestamp), not the latest block: on a quiet chain the latest block can be minutes old, and escrow
 * deadlines and dispute windows are about time.
 */
export const NEXT_BLOCK = "pending";

/** The data the target sees when the forwarder calls it: ERC-2771 appends the signer's address. */
export function forwardedCalldata(data: Hex, from: Hex): Hex {
  return (data + from.slice(2).toLowerCase()) as Hex;
}
