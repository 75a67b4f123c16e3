/**
 * UnitOwnership logs encoded with the ABI the backend decodes with (IUnitOwnership + OpenZeppelin IERC721's events,
 * or the compiled UnitOwnership once it exists), then decoded by the real decoder, as the indexer does.
 */
import { AbiCoder, Interface, ZeroAddress, keccak256, toBeHex, type InterfaceAbi } from "ethers";
import { loadProvenaAbis } from "../../../backend/chain/artifacts.ts";
import type { Deployment } from "../../../backend/chain/deployment.ts";
import { createEventDecoder, type RawLog } from "../../../backend/chain/events.ts";
import type { ChainEvent, Hex } from "../../../backend/domain/model.ts";
import { TEST_DEPLOYMENT, blockHashOf, timestampOf } from "../projections/event-factory.ts";

export const OWNERSHIP_DEPLOYMENT: Deployment = { ...TEST_DEPLOYMENT, unitOwnership: "0x00000000000000000000000000000000000000c7" };

/** tokenId = uint256(keccak256(abi.encode(batchId, serial))), in decimal. */
export function tokenIdOf(batchId: Hex, serial: string): string {
  return BigInt(keccak256(AbiCoder.defaultAbiCoder().encode(["bytes32", "string"], [batchId, serial]))).toString();
}

export interface OwnershipEventFactory {
  claimed(batchId: Hex, serial: string, owner: string): ChainEvent;
  transfer(from: string, to: string, tokenId: string): ChainEvent;
  rootCommitted(batchId: Hex, manufacturer: string, claimRoot: Hex, units: number): ChainEvent;
  event(name: string, values: readonly unknown[]): ChainEvent;
  log(name: string, values: readonly unknown[]): RawLog;
  nextBlock(): number;
  readonly blockNumber: number;
}

export function createOwnershipEventFactory(startBlock = 10, fork = 0): OwnershipEventFactory {
  const abis = loadProvenaAbis();
  const decoder = createEventDecoder({ deployment: OWNERSHIP_DEPLOYMENT, abis });
  const ownership = new Interface(abis.UnitOwnership as InterfaceAbi);
  let blockNumber = startBlock;
  let logIndex = 0;
  const log = (name: string, values: readonly unknown[]): RawLog => {
    const encoded = ownership.encodeEventLog(name, values);
    const index = logIndex++;
    return {
      address: OWNERSHIP_DEPLOYMENT.unitOwnership!,
      topics: encoded.topics,
      data: encoded.data,
      blockNumber,
      blockHash: blockHashOf(blockNumber, fork),
      transactionHash: keccak256(toBeHex(blockNumber * 10_000 + index, 32)),
      transactionIndex: index,
      index,
    };
  };
  const event = (name: string, values: readonly unknown[]) => decoder.decode(log(name, values), timestampOf(blockNumber));
  return {
    log,
    event,
    claimed: (batchId, serial, owner) => event("UnitClaimed", [BigInt(tokenIdOf(batchId, serial)), batchId, owner, serial]),
    transfer: (from, to, tokenId) => event("Transfer", [from, to, BigInt(tokenId)]),
    rootCommitted: (batchId, manufacturer, claimRoot, units) => event("ClaimRootCommitted", [batchId, manufacturer, claimRoot, units]),
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

/** A claim: UnitClaimed and the mint's Transfer from zero, in the order given. */
export function claimEvents(factory: OwnershipEventFactory, batchId: Hex, serial: string, owner: string, mintFirst = false): ChainEvent[] {
  const tokenId = tokenIdOf(batchId, serial);
  if (mintFirst) {
    const mint = factory.transfer(ZeroAddress, owner, tokenId);
    return [mint, factory.claimed(batchId, serial, owner)];
  }
  const claimed = factory.claimed(batchId, serial, owner);
  return [claimed, factory.transfer(ZeroAddress, owner, tokenId)];
}
