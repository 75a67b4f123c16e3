import { keccak256, toUtf8Bytes } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { ProvenanceRegistry } from "../../types/ethers-contracts/index.js";
import { DEMO_GTIN, DEMO_ORIGIN_GLN } from "../../scripts/fixtures/provena-deployment.ts";
import { batchIdOf } from "./gs1.ts";
import { buildSerialTree, makeSerials, type SerialTree } from "./serials.ts";

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
  return [input.gtin, input.lot, input.quantity, input.productionDate, input.originGln, input.documentHash, input.serialRoot];
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
