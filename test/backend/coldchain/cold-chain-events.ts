/**
 * Cold-chain ChainEvents built the way the indexer builds them: logs encoded with IColdChain's compiled ABI
 * (ethers Interface.encodeEventLog), decoded by the real event decoder for a deployment with a cold-chain
 * address. No ColdChain contract needed.
 */
import { Interface, keccak256, toBeHex } from "ethers";
import { loadArtifact, loadProvenaAbis } from "../../../backend/chain/artifacts.ts";
import type { Deployment } from "../../../backend/chain/deployment.ts";
import { createEventDecoder, type RawLog } from "../../../backend/chain/events.ts";
import type { ColdChainConditions } from "../../../backend/domain/cold-chain.ts";
import type { ChainEvent, Hex } from "../../../backend/domain/model.ts";
import { blockHashOf, timestampOf } from "../projections/event-factory.ts";

export const COLD_CHAIN_ADDRESS: Hex = "0x00000000000000000000000000000000000000cc";

export const COLD_CHAIN_DEPLOYMENT: Deployment = {
  chainId: 31337,
  forwarder: "0x00000000000000000000000000000000000000f0",
  registry: "0x00000000000000000000000000000000000000a1",
  escrow: "0x00000000000000000000000000000000000000e5",
  coldChain: COLD_CHAIN_ADDRESS,
  deployBlock: 1,
};

const COLD_CHAIN_ABI = loadArtifact("IColdChain", "contracts/interfaces/IColdChain.sol").abi;
export const coldChainInterface = new Interface(COLD_CHAIN_ABI);

export const FRIDGE: ColdChainConditions = {
  minTemperature: 200,
  maxTemperature: 800,
  minHumidity: 0,
  maxHumidity: 10_000,
  allowedExcursionSeconds: 1_800,
};

export interface ColdChainEventFactory {
  /** `name` of IColdChain with `values` in ABI order, in the current block, decoded as the indexer would. */
  event(name: string, values: readonly unknown[]): ChainEvent;
  nextBlock(): number;
  readonly blockNumber: number;
}

export function createColdChainEventFactory(startBlock = 10, fork = 0): ColdChainEventFactory {
  const decoder = createEventDecoder({ deployment: COLD_CHAIN_DEPLOYMENT, abis: { ...loadProvenaAbis(), ColdChain: COLD_CHAIN_ABI } });
  let blockNumber = startBlock;
  let logIndex = 0;
  return {
    event(name, values) {
      const encoded = coldChainInterface.encodeEventLog(name, values);
      const index = logIndex++;
      const log: RawLog = {
        address: COLD_CHAIN_ADDRESS,
        topics: encoded.topics,
        data: encoded.data,
        blockNumber,
        blockHash: blockHashOf(blockNumber, fork),
        transactionHash: keccak256(toBeHex(blockNumber * 10_000 + index + fork * 7, 32)),
        transactionIndex: index,
        index,
      };
      return decoder.decode(log, timestampOf(blockNumber));
    },
    nextBlock() {
      blockNumber += 1;
      logIndex = 0;
      return blockNumber;
    },
    get blockNumber() {
      return blockNumber;
    },
  };
}

export const legIdOf = (device: Hex, batchId: Hex, nonce = 0): Hex =>
  keccak256(new TextEncoder().encode(`${device}:${batchId}:${nonce}`)) as Hex;
