/**
 * The one generated deployment file: where the Provena contracts live on a chain. scripts/deploy.ts writes it,
 * the backend and the CLI read it. One file per chain id under backend/chain/deployments/ unless
 * DEPLOYMENT_FILE names another. `npm start`'s embedded anvil chain keeps its own file beside the chain's state
 * (EMBEDDED_CHAIN_DIR/deployment.json); deployments on Hardhat's in-process chain vanish with the process, so they
 * are kept in memory and never written.
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Provider } from "ethers";
import { z } from "zod";
import type { Hex } from "../domain/model.ts";
import { PROJECT_ROOT } from "./artifacts.ts";
import { addressSchema } from "./schemas.ts";

export interface Deployment {
  chainId: number;
  forwarder: Hex;
  registry: Hex;
  escrow: Hex;
  /** The cold-chain contract (IColdChain); absent in deployments made before it existed. */
  coldChain?: Hex;
  /** The design-proof registry; absent in deployments made before it existed. */
  designRegistry?: Hex;
  /** The unit ownership tokens (IUnitOwnership); absent in deployments made before it existed. */
  unitOwnership?: Hex;
  /** The product-data anchors (Digital Product Passport versions); absent in deployments made before it existed. */
  productData?: Hex;
  /** The logistic units (containers identified by an SSCC, ILogisticUnits); absent in deployments made before it existed. */
  logisticUnits?: Hex;
  /** The transformations (inputs consumed into new lots, ITransformations); absent in deployments made before it existed. */
  transformations?: Hex;
  /** Block of the first deployment transaction: the indexer backfills from here. */
  deployBlock: number;
}

export const DEPLOYMENTS_DIR = path.join(PROJECT_ROOT, "backend", "chain", "deployments");

/** backend/chain/deployments/<chainId>.json */
export function defaultDeploymentFile(chainId: number): string {
  return path.join(DEPLOYMENTS_DIR, `${chainId}.json`);
}

/** The file to use: the configured one (DEPLOYMENT_FILE) or the default for `chainId`. */
export function resolveDeploymentFile(configured: string | null, chainId: number): string {
  return configured === null ? defaultDeploymentFile(chainId) : path.resolve(configured);
}

/** The deployment file exists but is not a valid deployment (or names another chain). */
export class DeploymentFileError extends Error {
  readonly file: string;

  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super(`Deployment file ${file}: ${message}`, options);
    this.name = "DeploymentFileError";
    this.file = file;
  }
}

/** The deployment names addresses without contract code on the connected chain. */
export class DeploymentMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DeploymentMismatchError";
  }
}

const deploymentSchema = z.object({
  chainId: z.number({ error: "must be a positive integer" }).int().positive(),
  forwarder: addressSchema,
  registry: addressSchema,
  escrow: addressSchema,
  coldChain: addressSchema.optional(),
  designRegistry: addressSchema.optional(),
  unitOwnership: addressSchema.optional(),
  productData: addressSchema.optional(),
  logisticUnits: addressSchema.optional(),
  transformations: addressSchema.optional(),
  deployBlock: z.number({ error: "must be a non-negative integer" }).int().nonnegative(),
});

/** Validates and normalises (lower-case addresses) a deployment object; throws an Error listing each bad field. */
export function parseDeployment(value: unknown): Deployment {
  const result = deploymentSchema.safeParse(value);
  if (!result.success) {
    throw new Error(result.error.issues.map((issue) => `${issue.path.join(".") || "(root)"} ${issue.message}`).join("; "));
  }
  return result.data;
}

/**
 * Reads the deployment file; null when it does not exist. Throws DeploymentFileError when it is unreadable,
 * malformed, or (with `expectedChainId`) written for another chain.
 */
export async function readDeployment(file: string, expectedChainId?: number): Promise<Deployment | null> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new DeploymentFileError(file, `cannot read it (${(error as Error).message})`, { cause: error });
  }
  let deployment: Deployment;
  try {
    deployment = parseDeployment(JSON.parse(text));
  } catch (error) {
    throw new DeploymentFileError(file, `invalid: ${(error as Error).message}`, { cause: error });
  }
  if (expectedChainId !== undefined && deployment.chainId !== expectedChainId) {
    throw new DeploymentFileError(file, `is for chain ${deployment.chainId}, but the RPC endpoint serves chain ${expectedChainId}`);
  }
  return deployment;
}

/** Writes the deployment file atomically (temp file + rename), creating its directory. */
export async function writeDeployment(file: string, deployment: Deployment): Promise<void> {
  const valid = parseDeployment(deployment);
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(valid, null, 2)}\n`, "utf8");
  await rename(temporary, file);
}

/**
 * Checks that the chain behind `provider` has contract code at every address of the deployment, so a stale file
 * (a restarted dev chain, another network) fails at start-up with one clear line instead of an empty mirror.
 */
export async function assertDeploymentOnChain(provider: Provider, deployment: Deployment): Promise<void> {
  const network = await provider.getNetwork();
  if (Number(network.chainId) !== deployment.chainId) {
    throw new DeploymentMismatchError(`Deployment is for chain ${deployment.chainId}, but the provider serves chain ${network.chainId}`);
  }
  const contracts: [string, Hex][] = [
    ["ProvenanceRegistry", deployment.registry],
    ["TradeEscrow", deployment.escrow],
    ["ProvenaForwarder", deployment.forwarder],
  ];
  if (deployment.designRegistry) contracts.push(["DesignRegistry", deployment.designRegistry]);
  if (deployment.coldChain) contracts.push(["ColdChain", deployment.coldChain]);
  if (deployment.unitOwnership) contracts.push(["UnitOwnership", deployment.unitOwnership]);
  if (deployment.logisticUnits) contracts.push(["LogisticUnits", deployment.logisticUnits]);
  if (deployment.transformations) contracts.push(["Transformations", deployment.transformations]);
  const codes = await Promise.all(contracts.map(([, contractAddress]) => provider.getCode(contractAddress)));
  const missing = contracts.filter((_, index) => codes[index] === "0x").map(([name, contractAddress]) => `${name} (${contractAddress})`);
  if (missing.length > 0) {
    throw new DeploymentMismatchError(
      `No contract code on chain ${deployment.chainId} at ${missing.join(", ")}: the deployment file is stale; redeploy with scripts/deploy.ts`,
    );
  }
}
