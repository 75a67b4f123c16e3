/**
 * A refrigerated leg as the mirror sees it, block by block: a device registered, conditions set and frozen, the
 * device attached, readings anchored, an excursion, a breach, the device detached. Each block is one RangeCommit
 * built by the real projection, so store tests exercise what the indexer writes.
 */
import { ZeroHash } from "ethers";
import type { ColdChainChanges } from "../../../backend/domain/cold-chain.ts";
import type { ChainEvent, Hex } from "../../../backend/domain/model.ts";
import { projectColdChainRange, loadColdChainFromStore } from "../../../backend/projections/cold-chain.ts";
import type { ColdChainReads, MirrorLog, RangeCommit, RollbackCommit } from "../../../backend/store/port.ts";
import { ACCOUNTS, blockHashOf, bytes32, timestampOf } from "../projections/event-factory.ts";
import { COLD_CHAIN_DEPLOYMENT, FRIDGE, createColdChainEventFactory, legIdOf } from "./cold-chain-events.ts";

export const DEVICE: Hex = "0x2000000000000000000000000000000000000001";
export const BATCH: Hex = bytes32("batch:cold");
export const GTIN = "09506000134352";
export const LEG: Hex = legIdOf(DEVICE, BATCH);
export const ROOT: Hex = bytes32("root:1");
export const CARRIER = ACCOUNTS.carrier;
export const ATTACHED_AT = timestampOf(11);

/** Events per block, from block 10 to 13. */
export function coldChainScenarioEvents(fork = 0): ChainEvent[][] {
  const factory = createColdChainEventFactory(10, fork);
  const blocks: ChainEvent[][] = [];
  blocks.push([
    factory.event("DeviceRegistered", [DEVICE, CARRIER]),
    factory.event("BatchConditionsSet", [BATCH, ACCOUNTS.manufacturer, FRIDGE]),
    factory.event("ProductConditionsSet", [BigInt(GTIN), ACCOUNTS.manufacturer, { ...FRIDGE, maxTemperature: 500 }]),
  ]);
  factory.nextBlock();
  blocks.push([
    factory.event("ConditionsFrozenFor", [BATCH, FRIDGE]),
    factory.event("DeviceAttached", [LEG, DEVICE, BATCH, CARRIER, ATTACHED_AT]),
  ]);
  factory.nextBlock();
  blocks.push([
    factory.event("ReadingsAnchored", [LEG, ROOT, CARRIER, 10, 1n, 10n, ATTACHED_AT, ATTACHED_AT + 600]),
    factory.event("ExcursionRecorded", [LEG, 11n, 15n, ATTACHED_AT + 660, ATTACHED_AT + 1_260, 600]),
  ]);
  factory.nextBlock();
  blocks.push([
    factory.event("ExcursionRecorded", [LEG, 16n, 30n, ATTACHED_AT + 1_320, ATTACHED_AT + 3_000, 2_280]),
    factory.event("BreachEstablished", [BATCH, LEG, CARRIER, ATTACHED_AT + 3_000, 2_280]),
    factory.event("DeviceDetached", [LEG, DEVICE, BATCH, ATTACHED_AT + 4_000]),
  ]);
  return blocks;
}

/** Projects and commits one block's events as the indexer does. */
export async function commitColdChainBlock(store: MirrorLog & ColdChainReads, events: ChainEvent[]): Promise<ColdChainChanges> {
  const blockNumber = events[0]!.blockNumber;
  const coldChain = await projectColdChainRange(events, loadColdChainFromStore(store));
  const commit: RangeCommit = {
    chainId: COLD_CHAIN_DEPLOYMENT.chainId,
    events,
    blocks: [
      {
        chainId: COLD_CHAIN_DEPLOYMENT.chainId,
        number: blockNumber,
        hash: events[0]!.blockHash,
        parentHash: blockHashOf(blockNumber - 1),
        timestamp: timestampOf(blockNumber),
      },
    ],
    batches: [],
    participants: [],
    orders: [],
    coldChain,
    checkpoint: { chainId: COLD_CHAIN_DEPLOYMENT.chainId, blockNumber, blockHash: events[0]!.blockHash, updatedAt: 1 },
  };
  await store.commitRange(commit);
  return coldChain;
}

/** The rollback the indexer would write to go back to `forkBlock` (no registry projections involved). */
export function coldChainRollback(forkBlock: number): RollbackCommit {
  return {
    chainId: COLD_CHAIN_DEPLOYMENT.chainId,
    forkBlock,
    batches: [],
    participants: [],
    orders: [],
    deleteBatchIds: [],
    deleteParticipantAddresses: [],
    deleteOrderIds: [],
    checkpoint: {
      chainId: COLD_CHAIN_DEPLOYMENT.chainId,
      blockNumber: forkBlock,
      blockHash: forkBlock > 0 ? blockHashOf(forkBlock) : (ZeroHash as Hex),
      updatedAt: 2,
    },
  };
}
