/**
 * ABIs come from Hardhat's compiled artifacts, never from pasted copies, so the backend always decodes with
 * exactly what `npx hardhat build` produced from contracts/.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import type { JsonFragment } from "ethers";

export const PROVENA_CONTRACTS = [
  "ProvenanceRegistry",
  "TradeEscrow",
  "ProvenaForwarder",
  "DesignRegistry",
  "ProductDataRegistry",
] as const;

export type ProvenaContractName = (typeof PROVENA_CONTRACTS)[number];

/**
 * Every contract whose events the mirror keeps: the ones above, the optional unit ownership tokens, logistic units and
 * transformations.
 */
export const MIRRORED_CONTRACTS = [...PROVENA_CONTRACTS, "UnitOwnership", "LogisticUnits", "Transformations"] as const;

export type MirroredContractName = (typeof MIRRORED_CONTRACTS)[number];

/** The project root (the directory holding package.json and artifacts/). */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

export const DEFAULT_ARTIFACTS_DIR = path.join(PROJECT_ROOT, "artifacts");

export interface ContractArtifact {
  contractName: string;
  sourceName: string;
  abi: JsonFragment[];
  bytecode: string;
}

/**
 * The ABIs the mirror decodes with; `UnitOwnership`, `LogisticUnits` and `Transformations` are only read when the deployment has those
 * contracts.
 */
export type ProvenaAbis = Record<ProvenaContractName, JsonFragment[]> & {
  UnitOwnership?: JsonFragment[];
  LogisticUnits?: JsonFragment[];
  Transformations?: JsonFragment[];
};

/** The artifact file is missing or unreadable: the contracts were not compiled (or compiled elsewhere). */
export class ArtifactNotFoundError extends Error {
  readonly artifactPath: string;

  constructor(artifactPath: string, options?: { cause?: unknown }) {
    super(`Contract artifact not found at ${artifactPath}: run \`npx hardhat build\` first`, options);
    this.name = "ArtifactNotFoundError";
    this.artifactPath = artifactPath;
  }
}

export interface LoadArtifactOptions {
  artifactsDir?: string;
}

/**
 * Reads `artifacts/<sourceName>/<ContractName>.json`. `sourceName` defaults to `contracts/<ContractName>.sol`
 * (pass e.g. "contracts/interfaces/ITradeEscrow.sol" for anything else).
 */
export function loadArtifact(
  contractName: string,
  sourceName = `contracts/${contractName}.sol`,
  options: LoadArtifactOptions = {},
): ContractArtifact {
  const artifactPath = path.join(options.artifactsDir ?? DEFAULT_ARTIFACTS_DIR, sourceName, `${contractName}.json`);
  let text: string;
  try {
    text = readFileSync(artifactPath, "utf8");
  } catch (error) {
    throw new ArtifactNotFoundError(artifactPath, { cause: error });
  }
  const artifact = JSON.parse(text) as Partial<ContractArtifact>;
  if (!Array.isArray(artifact.abi)) {
    throw new ArtifactNotFoundError(artifactPath, { cause: new Error("the file has no `abi` array") });
  }
  return {
    contractName: artifact.contractName ?? contractName,
    sourceName: artifact.sourceName ?? sourceName,
    abi: artifact.abi,
    bytecode: artifact.bytecode ?? "0x",
  };
}

/**
 * The cold chain's ABI: the implementation's once it is compiled (it adds the events it inherits, AccessControl's
 * RoleGranted among them), else its interface's, which declares every event and function the backend uses.
 */
export function loadColdChainAbi(options: LoadArtifactOptions = {}): JsonFragment[] {
  try {
    return loadArtifact("ColdChain", undefined, options).abi;
  } catch (error) {
    if (!(error instanceof ArtifactNotFoundError)) throw error;
    return loadArtifact("IColdChain", "contracts/interfaces/IColdChain.sol", options).abi;
  }
}

/** The ABIs of the deployed Provena contracts. */
export function loadProvenaAbis(options: LoadArtifactOptions = {}): ProvenaAbis {
  return {
    ProvenanceRegistry: loadArtifact("ProvenanceRegistry", undefined, options).abi,
    TradeEscrow: loadArtifact("TradeEscrow", undefined, options).abi,
    ProvenaForwarder: loadArtifact("ProvenaForwarder", undefined, options).abi,
    DesignRegistry: loadArtifact("DesignRegistry", undefined, options).abi,
    ProductDataRegistry: loadArtifact("ProductDataRegistry", undefined, options).abi,
    UnitOwnership: loadUnitOwnershipAbi(options),
    LogisticUnits: loadArtifact("LogisticUnits", undefined, options).abi,
    Transformations: loadArtifact("Transformations", undefined, options).abi,
  };
}

const OPENZEPPELIN_IERC721 = path.join(PROJECT_ROOT, "node_modules", "@openzeppelin", "contracts", "build", "contracts", "IERC721.json");

/**
 * The ABI the mirror decodes the ownership contract's logs with: the compiled UnitOwnership when it exists (every
 * event it can emit, inherited ones included), else its interface IUnitOwnership plus OpenZeppelin IERC721's events
 * (Transfer, Approval, ApprovalForAll), which the interface does not declare.
 */
export function loadUnitOwnershipAbi(options: LoadArtifactOptions = {}): JsonFragment[] {
  try {
    return loadArtifact("UnitOwnership", undefined, options).abi;
  } catch (error) {
    if (!(error instanceof ArtifactNotFoundError)) throw error;
  }
  const declared = loadArtifact("IUnitOwnership", "contracts/interfaces/IUnitOwnership.sol", options).abi;
  let erc721: JsonFragment[];
  try {
    erc721 = (JSON.parse(readFileSync(OPENZEPPELIN_IERC721, "utf8")) as { abi: JsonFragment[] }).abi;
  } catch (error) {
    throw new ArtifactNotFoundError(OPENZEPPELIN_IERC721, { cause: error });
  }
  return [...declared, ...erc721.filter((fragment) => fragment.type === "event")];
}
