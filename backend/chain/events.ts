/**
 * Decodes the logs of the Provena contracts into ChainEvents (backend/domain/model.ts): JSON-safe args
 * (addresses and hex lower-case, wide integers as decimal strings, narrow ones as numbers, enums by name,
 * GS1 identifiers zero-padded, structs as objects) and the entity keys each event touches.
 */
import { Interface, type JsonFragment, type JsonFragmentType } from "ethers";
import { chainEventId, type ChainEvent, type Hex, type JsonValue } from "../domain/model.ts";
import { createEventArgsDecoder, type EventArgsDecoder } from "./abi-decode.ts";
import { loadArtifact, loadColdChainAbi, type ProvenaAbis } from "./artifacts.ts";
import type { Deployment } from "./deployment.ts";
import { ENUM_VALUE_NAMES, enumNameOf } from "./vocabulary.ts";

/** The fields of an eth_getLogs entry the decoder reads (ethers' Log has them all). */
export interface RawLog {
  address: string;
  topics: readonly string[];
  data: string;
  blockNumber: number;
  blockHash: string;
  transactionHash: string;
  transactionIndex: number;
  index: number; // log index in the block
}

/** A log from a Provena address that the compiled ABI cannot decode: the artifacts do not match the deployment. */
export class EventDecodeError extends Error {
  readonly log: RawLog;

  constructor(message: string, log: RawLog, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "EventDecodeError";
    this.log = log;
  }
}

export interface EventDecoder {
  readonly chainId: number;
  /** Lower-case addresses of the contracts to fetch logs from. */
  readonly addresses: Hex[];
  /** Decodes one log of a Provena contract; `blockTimestamp` in unix seconds. */
  decode(log: RawLog, blockTimestamp: number): ChainEvent;
}

export interface CreateEventDecoderParameters {
  /**
   * With `unitOwnership`, that contract's logs are decoded too (with `abis.UnitOwnership`); with `logisticUnits`, the
   * logistic units' (with `abis.LogisticUnits`, default its compiled ABI); likewise with `transformations`.
   */
  deployment: Pick<
    Deployment,
    | "chainId"
    | "registry"
    | "escrow"
    | "forwarder"
    | "designRegistry"
    | "coldChain"
    | "productData"
    | "unitOwnership"
    | "logisticUnits"
    | "transformations"
  >;
  /** `ColdChain` defaults to IColdChain's compiled ABI, read only when the deployment has a cold-chain address. */
  abis: ProvenaAbis & { ColdChain?: JsonFragment[] };
}

interface EventShape {
  name: string;
  inputs: readonly JsonFragmentType[];
  decodeArgs: EventArgsDecoder;
  toJson: JsonConverter[];
}

interface ContractDecoder {
  contract: ChainEvent["contract"];
  eventsByTopic: Map<string, EventShape>;
}

/** Argument names whose uint value is a GS1 identifier, kept as a zero-padded digit string. */
const GS1_WIDTH: Readonly<Record<string, number>> = {
  gtin: 14,
  gln: 13,
  originGln: 13,
  locationGln: 13,
  // SSCCs (AI 00) of the logistic units' containers.
  sscc: 18,
  outerSscc: 18,
  innerSscc: 18,
  outermostSscc: 18,
};

/** Transformations name their batches inputId/outputId (and list them as inputIds/outputIds). */
const BATCH_ID_ARGS = new Set(["batchId", "parentId", "childId", "inputId", "outputId", "inputIds", "outputIds"]);
/** Address arguments that name an asset, not an actor. */
const NON_ACCOUNT_ADDRESS_ARGS = new Set(["token"]);
const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";
const ADDRESS = /^0x[0-9a-f]{40}$/;

export function createEventDecoder({ deployment, abis }: CreateEventDecoderParameters): EventDecoder {
  const byAddress = new Map<string, ContractDecoder>();
  const entries: [ChainEvent["contract"], string, JsonFragment[]][] = [
    ["ProvenanceRegistry", deployment.registry, abis.ProvenanceRegistry],
    ["TradeEscrow", deployment.escrow, abis.TradeEscrow],
    ["ProvenaForwarder", deployment.forwarder, abis.ProvenaForwarder],
  ];
  if (deployment.designRegistry) entries.push(["DesignRegistry", deployment.designRegistry, abis.DesignRegistry]);
  if (deployment.productData !== undefined) entries.push(["ProductDataRegistry", deployment.productData, abis.ProductDataRegistry]);
  if (deployment.coldChain !== undefined) entries.push(["ColdChain", deployment.coldChain, abis.ColdChain ?? loadColdChainAbi()]);
  if (deployment.unitOwnership !== undefined) {
    if (abis.UnitOwnership === undefined) throw new Error("The deployment names a UnitOwnership contract, but no ABI was given for it");
    entries.push(["UnitOwnership", deployment.unitOwnership, abis.UnitOwnership]);
  }
  if (deployment.logisticUnits !== undefined) {
    entries.push(["LogisticUnits", deployment.logisticUnits, abis.LogisticUnits ?? loadArtifact("LogisticUnits").abi]);
  }
  if (deployment.transformations !== undefined) {
    entries.push(["Transformations", deployment.transformations, abis.Transformations ?? loadArtifact("Transformations").abi]);
  }
  for (const [contract, address, abi] of entries) {
    const iface = new Interface(abi);
    const eventsByTopic = new Map<string, EventShape>();
    for (const fragment of abi as JsonFragment[]) {
      if (fragment.type !== "event" || fragment.name === undefined || fragment.anonymous) continue;
      const event = iface.getEvent(
        fragment.name,
        (fragment.inputs ?? []).map((input) => formatParamType(input)),
      );
      if (event === null) continue;
      const inputs = fragment.inputs ?? [];
      eventsByTopic.set(event.topicHash, {
        name: fragment.name,
        inputs,
        decodeArgs: createEventArgsDecoder(inputs),
        toJson: inputs.map((input) => jsonConverterOf(input)),
      });
    }
    byAddress.set(address.toLowerCase(), { contract, eventsByTopic });
  }

  return {
    chainId: deployment.chainId,
    addresses: [...byAddress.keys()] as Hex[],
    decode(log, blockTimestamp) {
      const decoder = byAddress.get(log.address.toLowerCase());
      if (decoder === undefined) throw new EventDecodeError(`Log from ${log.address} is not from a Provena contract`, log);
      const topic = log.topics[0]?.toLowerCase();
      const shape = topic === undefined ? undefined : decoder.eventsByTopic.get(topic);
      if (shape === undefined) {
        throw new EventDecodeError(
          `${decoder.contract} at ${log.address} logged an event the compiled ABI does not know (topic ${topic ?? "none"}, block ${log.blockNumber}, tx ${log.transactionHash}); the artifacts do not match the deployed contract: rebuild or redeploy`,
          log,
        );
      }
      const args: Record<string, JsonValue> = {};
      try {
        const values = shape.decodeArgs(log.topics, log.data);
        shape.inputs.forEach((input, position) => {
          args[input.name ?? String(position)] = shape.toJson[position]!(values[position]);
        });
      } catch (error) {
        throw new EventDecodeError(
          `Cannot decode ${decoder.contract}.${shape.name} in tx ${log.transactionHash}: ${(error as Error).message}`,
          log,
          { cause: error },
        );
      }
      const keys = entityKeysOfArgs(shape.inputs, args);
      return {
        id: chainEventId(deployment.chainId, log.blockNumber, log.index),
        chainId: deployment.chainId,
        blockNumber: log.blockNumber,
        blockHash: log.blockHash.toLowerCase() as Hex,
        blockTimestamp,
        transactionHash: log.transactionHash.toLowerCase() as Hex,
        transactionIndex: log.transactionIndex,
        logIndex: log.index,
        contract: decoder.contract,
        address: log.address.toLowerCase() as Hex,
        name: shape.name,
        args,
        batchIds: keys.batchIds,
        orderIds: keys.orderIds,
        accounts: keys.accounts,
      };
    },
  };
}

/** Canonical type string of an ABI parameter (tuples expanded), as event signatures need it. */
function formatParamType(input: JsonFragmentType): string {
  const type = input.type ?? "";
  if (type.startsWith("tuple")) {
    return `(${(input.components ?? []).map((component) => formatParamType(component)).join(",")})${type.slice("tuple".length)}`;
  }
  return type;
}

/** Converts one decoded ABI value into the mirror's JSON form, guided by its ABI type, internal type and name. */
export function toJsonValue(value: unknown, input: JsonFragmentType): JsonValue {
  return jsonConverterOf(input)(value);
}

type JsonConverter = (value: unknown) => JsonValue;

/** The conversion toJsonValue does for `input`, worked out once (the decoder keeps one per event argument). */
export function jsonConverterOf(input: JsonFragmentType): JsonConverter {
  const type = input.type ?? "";
  const arrayMatch = /^(.*)\[(\d*)\]$/.exec(type);
  if (arrayMatch) {
    const element = jsonConverterOf({ ...input, type: arrayMatch[1], internalType: input.internalType?.replace(/\[\d*\]$/, "") });
    return (value) => Array.from(value as ArrayLike<unknown>, element);
  }
  if (type === "tuple") {
    const components = (input.components ?? []).map((component, position) => ({
      name: component.name ?? String(position),
      convert: jsonConverterOf(component),
    }));
    return (value) => {
      const object: Record<string, JsonValue> = {};
      components.forEach(({ name, convert }, position) => {
        object[name] = convert((value as ArrayLike<unknown>)[position]);
      });
      return object;
    };
  }
  const scalar = scalarConverterOf(input, type);
  // An indexed dynamic value (string, bytes, array, struct) is logged only as its hash.
  return (value) =>
    typeof value === "object" && value !== null && "_isIndexed" in value
      ? String((value as unknown as { hash: string }).hash).toLowerCase()
      : scalar(value);
}

function scalarConverterOf(input: JsonFragmentType, type: string): JsonConverter {
  if (type === "address") return (value) => String(value).toLowerCase();
  if (type === "bool") return (value) => Boolean(value);
  if (type === "string") return (value) => String(value);
  if (type.startsWith("bytes")) return (value) => String(value).toLowerCase();
  const intMatch = /^u?int(\d*)$/.exec(type);
  if (intMatch) {
    const enumName = enumNameOf(input.internalType);
    if (enumName !== null) {
      const names = ENUM_VALUE_NAMES[enumName];
      return (value) => {
        const number = Number(BigInt(value as bigint));
        return names?.[number] ?? number;
      };
    }
    const width = GS1_WIDTH[input.name ?? ""];
    if (width !== undefined)
      return (value) =>
        BigInt(value as bigint)
          .toString()
          .padStart(width, "0");
    const bits = intMatch[1] === "" ? 256 : Number(intMatch[1]);
    // Up to 48 bits is exact in a JS number: block numbers, timestamps, bps, counters.
    return bits <= 48 ? (value) => Number(BigInt(value as bigint)) : (value) => BigInt(value as bigint).toString();
  }
  return () => {
    throw new TypeError(`Unsupported ABI type ${type}`);
  };
}

/** Batch ids, order ids and actor addresses in an event's args (nested structs included), for lookups. */
export function entityKeysOfArgs(
  inputs: readonly JsonFragmentType[],
  args: Record<string, JsonValue>,
): { batchIds: Hex[]; orderIds: Hex[]; accounts: Hex[] } {
  const keys: EntityKeySets = { batchIds: new Set(), orderIds: new Set(), accounts: new Set() };
  for (const input of inputs) collectEntityKeys(keys, input, args[input.name ?? ""] ?? null);
  return { batchIds: [...keys.batchIds], orderIds: [...keys.orderIds], accounts: [...keys.accounts] };
}

interface EntityKeySets {
  batchIds: Set<Hex>;
  orderIds: Set<Hex>;
  accounts: Set<Hex>;
}

function collectEntityKeys(keys: EntityKeySets, input: JsonFragmentType, value: JsonValue): void {
  const type = input.type ?? "";
  const name = input.name ?? "";
  if (type.endsWith("]") && Array.isArray(value)) {
    const elementType = { ...input, type: type.replace(/\[\d*\]$/, "") };
    for (const element of value) collectEntityKeys(keys, elementType, element);
  } else if (type === "tuple" && value !== null && typeof value === "object" && !Array.isArray(value)) {
    for (const component of input.components ?? []) collectEntityKeys(keys, component, value[component.name ?? ""] ?? null);
  } else if (type === "address" && typeof value === "string") {
    const address = value.toLowerCase();
    if (address !== ZERO_ADDRESS && !NON_ACCOUNT_ADDRESS_ARGS.has(name) && ADDRESS.test(address)) keys.accounts.add(address as Hex);
  } else if (type === "bytes32" && typeof value === "string") {
    if (BATCH_ID_ARGS.has(name)) keys.batchIds.add(value as Hex);
    else if (name === "orderId") keys.orderIds.add(value as Hex);
  }
}
