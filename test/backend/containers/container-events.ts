/**
 * LogisticUnits (and registry) ChainEvents for container tests, encoded with the compiled ABIs and decoded by the
 * real decoder, so the reducers see exactly the arg shapes the chain produces. One transaction per event, blocks
 * advance on demand.
 */
import { Interface, keccak256, toBeHex, type InterfaceAbi } from "ethers";
import { loadArtifact, loadProvenaAbis } from "../../../backend/chain/artifacts.ts";
import { createEventDecoder } from "../../../backend/chain/events.ts";
import { businessStepValue } from "../../../backend/chain/vocabulary.ts";
import type { ChainEvent, Hex } from "../../../backend/domain/model.ts";
import { ssccFrom } from "../../helpers/gs1.ts";
import { ACCOUNTS, TEST_DEPLOYMENT, blockHashOf, bytes32, timestampOf } from "../projections/event-factory.ts";

export const LOGISTIC_UNITS = "0x00000000000000000000000000000000000000c0" as Hex;
export const GLN = { plant: 4012345000009n, port: 4012345000016n, dc: 4012345000023n } as const;
const GTIN = 9506000134352n;

/** An 18-digit SSCC string (as the mirror keeps it) under company prefix 4012345. */
export const ssccOf = (serial: number): string =>
  ssccFrom(`04012345${String(serial).padStart(9, "0")}`)
    .toString()
    .padStart(18, "0");

export interface ContainerEventFactory {
  readonly blockNumber: number;
  nextBlock(): number;
  registered(lot: string, manufacturer?: Hex): { event: ChainEvent; batchId: Hex };
  created(sscc: string, custodian: Hex, gln?: bigint): ChainEvent;
  batchPacked(sscc: string, batchId: Hex, custodian: Hex, gln?: bigint): ChainEvent;
  batchUnpacked(sscc: string, batchId: Hex, custodian: Hex, released?: boolean, gln?: bigint): ChainEvent;
  containerPacked(outer: string, inner: string, custodian: Hex, gln?: bigint): ChainEvent;
  containerUnpacked(outer: string, inner: string, custodian: Hex, gln?: bigint): ChainEvent;
  proposed(sscc: string, from: Hex, to: Hex, gln?: bigint): ChainEvent;
  accepted(sscc: string, from: Hex, to: Hex, gln?: bigint): ChainEvent;
  rejected(sscc: string, from: Hex, to: Hex): ChainEvent;
  cancelled(sscc: string, from: Hex, to: Hex): ChainEvent;
  recallFlagged(batchId: Hex, sscc: string, outermost: string): ChainEvent;
}

export function createContainerEventFactory(startBlock = 10): ContainerEventFactory {
  const abis = { ...loadProvenaAbis(), LogisticUnits: loadArtifact("LogisticUnits").abi };
  const decoder = createEventDecoder({ deployment: { ...TEST_DEPLOYMENT, logisticUnits: LOGISTIC_UNITS }, abis });
  const units = new Interface(abis.LogisticUnits as InterfaceAbi);
  const registry = new Interface(abis.ProvenanceRegistry as InterfaceAbi);
  let blockNumber = startBlock;
  let logIndex = 0;

  const emit = (iface: Interface, address: Hex, name: string, values: readonly unknown[]): ChainEvent => {
    const encoded = iface.encodeEventLog(name, values);
    const index = logIndex++;
    return decoder.decode(
      {
        address,
        topics: encoded.topics,
        data: encoded.data,
        blockNumber,
        blockHash: blockHashOf(blockNumber),
        transactionHash: keccak256(toBeHex(blockNumber * 10_000 + index, 32)),
        transactionIndex: index,
        index,
      },
      timestampOf(blockNumber),
    );
  };
  const unit = (name: string, values: readonly unknown[]) => emit(units, LOGISTIC_UNITS, name, values);
  const SHIPPING = businessStepValue("shipping");
  const RECEIVING = businessStepValue("receiving");

  return {
    get blockNumber() {
      return blockNumber;
    },
    nextBlock() {
      blockNumber += 1;
      logIndex = 0;
      return blockNumber;
    },
    registered(lot, manufacturer = ACCOUNTS.manufacturer) {
      const batchId = keccak256(new TextEncoder().encode(`batch:${lot}`)) as Hex;
      const fragment = registry.getEvent("BatchRegistered")!;
      const values = fragment.inputs.map((input) => {
        switch (input.name) {
          case "batchId":
            return batchId;
          case "gtin":
            return GTIN;
          case "lot":
            return lot;
          case "manufacturer":
            return manufacturer;
          case "quantity":
            return 100n;
          case "productionDate":
            return 1_700_000_000n;
          case "originGln":
            return GLN.plant;
          default:
            return input.type === "bytes32" ? bytes32(`${lot}:${input.name}`) : 0n;
        }
      });
      return { event: emit(registry, TEST_DEPLOYMENT.registry, "BatchRegistered", values), batchId };
    },
    created: (sscc, custodian, gln = GLN.plant) => unit("ContainerCreated", [BigInt(sscc), custodian, gln]),
    batchPacked: (sscc, batchId, custodian, gln = GLN.plant) => unit("BatchPacked", [BigInt(sscc), batchId, custodian, gln]),
    batchUnpacked: (sscc, batchId, custodian, released = true, gln = GLN.dc) =>
      unit("BatchUnpacked", [BigInt(sscc), batchId, custodian, gln, released]),
    containerPacked: (outer, inner, custodian, gln = GLN.plant) => unit("ContainerPacked", [BigInt(outer), BigInt(inner), custodian, gln]),
    containerUnpacked: (outer, inner, custodian, gln = GLN.dc) => unit("ContainerUnpacked", [BigInt(outer), BigInt(inner), custodian, gln]),
    proposed: (sscc, from, to, gln = GLN.port) => unit("ContainerHandoffProposed", [BigInt(sscc), from, to, gln, SHIPPING]),
    accepted: (sscc, from, to, gln = GLN.dc) => unit("ContainerHandoffAccepted", [BigInt(sscc), from, to, gln, RECEIVING]),
    rejected: (sscc, from, to) => unit("ContainerHandoffRejected", [BigInt(sscc), from, to, bytes32("damaged")]),
    cancelled: (sscc, from, to) => unit("ContainerHandoffCancelled", [BigInt(sscc), from, to]),
    recallFlagged: (batchId, sscc, outermost) => unit("PackedBatchRecallFlagged", [batchId, BigInt(sscc), BigInt(outermost)]),
  };
}
