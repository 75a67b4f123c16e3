import { keccak256, toUtf8Bytes } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { ProvenanceRegistry } from "../../types/ethers-contracts/index.js";
import { batchIdOf, glnFrom, gtinFrom } from "./gs1.ts";
import { buildSerialTree, makeSerials, type SerialTree } from "./serials.ts";

/** Mirrors IProvenanceRegistry.BatchStatus. */
export const BatchStatus = { None: 0n, Registered: 1n, InTransit: 2n, Delivered: 3n, Split: 4n, Recalled: 5n } as const;

/** Mirrors IProvenanceRegistry.InspectionResult. */
export const InspectionResult = { None: 0n, Passed: 1n, Failed: 2n } as const;

/** Mirrors IProvenanceRegistry.BusinessStep (EPCIS CBV order). */
export const BusinessStep = {
  Shipping: 0n,
  Receiving: 1n,
  Departing: 2n,
  Arriving: 3n,
  Storing: 4n,
  Loading: 5n,
  Unloading: 6n,
  Transporting: 7n,
  Inspecting: 8n,
  Accepting: 9n,
  EnteringExiting: 10n,
  Retail: 11n,
} as const;

/** Demo product (extra-virgin olive oil, 6 x 1 l): GTIN-14 08412345000102, i.e. the integer 8412345000102. */
export const DEMO_GTIN = gtinFrom("0841234500010");
/** The manufacturer's plant. */
export const DEMO_ORIGIN_GLN = glnFrom("841234500001");
/** Rotterdam port terminal. */
export const DEMO_PORT_GLN = glnFrom("871234500010");
/** A retail distribution centre. */
export const DEMO_DC_GLN = glnFrom("871234500020");

/** A bytes32 content hash of an off-chain document (e.g. a PDF or JSON). */
export function documentHash(content: string): string {
  return keccak256(toUtf8Bytes(content));
}

export interface BatchInput {
  gtin: bigint;
  lot: string;
  quantity: bigint;
  /** Unix seconds; must not be in the future. */
  productionDate: bigint;
  originGln: bigint;
  documentHash: string;
  serialRoot: string;
}

export interface RegisteredBatch {
  batchId: string;
  input: BatchInput;
  serials: string[];
  tree: SerialTree;
}

export interface RegisterBatchOptions extends Partial<Omit<BatchInput, "serialRoot">> {
  /** Unit serials; default `quantity` serials `<lot>-SN-000001`… (at most 1,000 by default). */
  serials?: string[];
}

/** The arguments of `registerBatch`, in order. */
export function registerBatchArgs(input: BatchInput): [bigint, string, bigint, bigint, bigint, string, string] {
  return [
    input.gtin,
    input.lot,
    input.quantity,
    input.productionDate,
    input.originGln,
    input.documentHash,
    input.serialRoot,
  ];
}

/** Registers a batch as `manufacturer` with sensible demo defaults and returns its id, inputs and serial tree. */
export async function registerBatch(
  registry: ProvenanceRegistry,
  manufacturer: HardhatEthersSigner,
  options: RegisterBatchOptions = {},
): Promise<RegisteredBatch> {
  const lot = options.lot ?? "LOT-2025-001";
  const quantity = options.quantity ?? 100n;
  const serials = options.serials ?? makeSerials(Number(quantity < 1_000n ? quantity : 1_000n), `${lot}-SN-`);
  const tree = buildSerialTree(serials);
  const latest = await manufacturer.provider?.getBlock("latest");
  if (latest === null || latest === undefined) throw new Error("the manufacturer's signer has no provider or block");
  const input: BatchInput = {
    gtin: options.gtin ?? DEMO_GTIN,
    lot,
    quantity,
    productionDate: options.productionDate ?? BigInt(latest.timestamp) - 86_400n,
    originGln: options.originGln ?? DEMO_ORIGIN_GLN,
    documentHash: options.documentHash ?? documentHash(`batch document of ${lot}`),
    serialRoot: tree.root,
  };
  await (await registry.connect(manufacturer).registerBatch(...registerBatchArgs(input))).wait();
  return { batchId: batchIdOf(input.gtin, input.lot), input, tree, serials };
}
