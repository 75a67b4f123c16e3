/**
 * Deploys Provena with its Hardhat Ignition module (backend/deploy/ignition/ProvenaModule.ts) through any EIP-1193
 * provider whose node signs for the deploying account (Hardhat's in-process chain, a dev node), and returns the
 * Deployment the backend reads. Public networks deploy with `scripts/deploy.ts` under `hardhat run --network`,
 * where Hardhat signs with the configured key; both use the same module.
 *
 * Without `deploymentDir` the deployment is ephemeral (nothing journaled: right for the in-process chain, which
 * vanishes with the process); with it, Ignition journals each step there and resumes an interrupted deployment.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import {
  DeploymentResultType,
  deploy,
  type ArtifactResolver,
  type DeploymentParameters,
  type EIP1193Provider,
} from "@nomicfoundation/ignition-core";
import type { Provider } from "ethers";
import { DEFAULT_ARTIFACTS_DIR, PROJECT_ROOT } from "../chain/artifacts.ts";
import type { Deployment } from "../chain/deployment.ts";
import type { Hex } from "../domain/model.ts";
import ProvenaModule from "./ignition/ProvenaModule.ts";

/** Hardhat's `paths.ignition` (hardhat.config.ts): the module, and the journals of deployments under deployments/. */
export const IGNITION_DIR = path.join(PROJECT_ROOT, "backend", "deploy", "ignition");

/**
 * The journal Ignition keeps for a chain, the same one `hardhat ignition deploy` and scripts/deploy.ts use, so an
 * interrupted deployment resumes whichever way it is run again.
 */
export function ignitionJournalDir(chainId: number): string {
  return path.join(IGNITION_DIR, "deployments", `chain-${chainId}`);
}

export interface DeployProvenaParameters {
  /** Signs and sends the deployment transactions (eth_sendTransaction from `deployer`). */
  eip1193: EIP1193Provider;
  /** Reads the chain (creation blocks). */
  provider: Provider;
  chainId: number;
  /** The account that deploys and becomes the consortium admin unless the parameters name another. */
  deployer?: string;
  /** Ignition parameters, e.g. { ProvenaModule: { adminTransferDelay: 0 } }. */
  parameters?: DeploymentParameters;
  /** Ignition journal directory; undefined = ephemeral. */
  deploymentDir?: string;
  artifactsDir?: string;
  /**
   * Another Ignition module returning { forwarder, registry, escrow } and optionally designRegistry, productData,
   * coldChain, unitOwnership, logisticUnits and transformations (default: ./ignition/ProvenaModule.ts, which deploys them all).
   */
  ignitionModule?: Parameters<typeof deploy>[0]["ignitionModule"];
}

/** The deployment could not be completed; `message` says which step failed and why. */
export class DeploymentFailedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DeploymentFailedError";
  }
}

/** Reads compiled artifacts for Ignition (build infos are only needed for source verification). */
export function artifactResolver(artifactsDir = DEFAULT_ARTIFACTS_DIR): ArtifactResolver {
  return {
    async loadArtifact(contractName: string) {
      // "ProvenaForwarder" or a fully qualified "contracts/ProvenaForwarder.sol:ProvenaForwarder".
      const [sourceName, name] = contractName.includes(":") ? contractName.split(":") : [`contracts/${contractName}.sol`, contractName];
      const file = path.join(artifactsDir, sourceName, `${name}.json`);
      try {
        return JSON.parse(await readFile(file, "utf8"));
      } catch (error) {
        throw new DeploymentFailedError(`Cannot read the artifact of ${contractName} at ${file}: run \`npx hardhat build\` first`, {
          cause: error,
        });
      }
    },
    async getBuildInfo() {
      return undefined;
    },
  };
}

/** An EIP-1193 view of an ethers JSON-RPC provider (for Ignition). */
export function eip1193Of(provider: { send(method: string, params: unknown[]): Promise<unknown> }): EIP1193Provider {
  return { request: async ({ method, params }) => provider.send(method, (params as unknown[] | undefined) ?? []) as never };
}

export async function deployProvenaWithIgnition(parameters: DeployProvenaParameters): Promise<Deployment> {
  const accounts = (await parameters.eip1193.request({ method: "eth_accounts" })) as string[];
  const deployer = parameters.deployer ?? accounts[0];
  if (!deployer) {
    throw new DeploymentFailedError(
      `The node at chain ${parameters.chainId} manages no account to deploy from; deploy with \`npm run deploy -- --network <name>\` (scripts/deploy.ts) and start again`,
    );
  }
  const blockBefore = await parameters.provider.getBlockNumber();
  const result = await deploy({
    artifactResolver: artifactResolver(parameters.artifactsDir),
    provider: parameters.eip1193,
    deploymentDir: parameters.deploymentDir,
    ignitionModule: parameters.ignitionModule ?? ProvenaModule,
    deploymentParameters: parameters.parameters ?? {},
    accounts,
    defaultSender: deployer,
  });
  if (result.type !== DeploymentResultType.SUCCESSFUL_DEPLOYMENT) {
    throw new DeploymentFailedError(
      `Ignition could not deploy ProvenaModule: ${describeFailure(result as unknown as { type: DeploymentResultType } & Record<string, unknown>)}`,
    );
  }
  const contracts = result.contracts as Record<string, { contractName: string; address: string }>;
  const byName = (key: string, contractName: string): Hex | null => {
    const entry = contracts[key] ?? Object.values(contracts).find((contract) => contract.contractName === contractName);
    return entry ? (entry.address.toLowerCase() as Hex) : null;
  };
  const forwarder = byName("forwarder", "ProvenaForwarder");
  const registry = byName("registry", "ProvenanceRegistry");
  const escrow = byName("escrow", "TradeEscrow");
  const coldChain = byName("coldChain", "ColdChain");
  if (!forwarder || !registry || !escrow) {
    const missing = [!forwarder && "forwarder", !registry && "registry", !escrow && "escrow"].filter(Boolean).join(", ");
    throw new DeploymentFailedError(
      `ProvenaModule returned no ${missing}: the Ignition module must return { forwarder, registry, escrow }`,
    );
  }
  // Optional: a module that predates them (or a test module) may not return them.
  const designRegistry = byName("designRegistry", "DesignRegistry");
  const productData = byName("productData", "ProductDataRegistry");
  const unitOwnership = byName("unitOwnership", "UnitOwnership");
  const logisticUnits = byName("logisticUnits", "LogisticUnits");
  const transformations = byName("transformations", "Transformations");
  const addresses = {
    forwarder,
    registry,
    escrow,
    ...(designRegistry ? { designRegistry } : {}),
    ...(coldChain ? { coldChain } : {}),
    ...(productData ? { productData } : {}),
    ...(unitOwnership ? { unitOwnership } : {}),
    ...(logisticUnits ? { logisticUnits } : {}),
    ...(transformations ? { transformations } : {}),
  };
  await assertDeployedCode(parameters.provider, parameters.chainId, addresses, parameters.deploymentDir);
  // Nodes without history (no archive state) cannot answer eth_getCode at old blocks: start at the block the
  // deployment started from instead.
  const blocks = await Promise.all(
    Object.values(addresses).map((address) => creationBlock(parameters.provider, address).catch(() => blockBefore)),
  );
  return { chainId: parameters.chainId, ...addresses, deployBlock: Math.min(...blocks) };
}

/**
 * Fails when a contract Ignition reports deployed has no code. A journal kept from an earlier chain with the same
 * id (a restarted dev node, a reset testnet) makes Ignition report every step done without sending anything.
 */
export async function assertDeployedCode(
  provider: Provider,
  chainId: number,
  contracts: Record<string, string>,
  journalDir?: string,
): Promise<void> {
  for (const [key, address] of Object.entries(contracts)) {
    if ((await provider.getCode(address)) === "0x") {
      throw new DeploymentFailedError(
        `Ignition's journal${journalDir ? ` at ${journalDir}` : ""} records ProvenaModule as deployed, but its ${key} ${address} has no code on chain ${chainId}: the chain was reset since; delete that journal and deploy again`,
      );
    }
  }
}

/**
 * The block in which `address` got its code, by binary search over eth_getCode (about log2(head) calls), so
 * the indexer's backfill starts exactly where the deployment did, even for a deployment resumed from a journal.
 */
export async function creationBlock(provider: Provider, address: string): Promise<number> {
  let high = await provider.getBlockNumber();
  if ((await provider.getCode(address, high)) === "0x") throw new DeploymentFailedError(`No contract code at ${address}`);
  let low = 0;
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    if ((await provider.getCode(address, middle)) === "0x") low = middle + 1;
    else high = middle;
  }
  return low;
}

function describeFailure(result: { type: DeploymentResultType } & Record<string, unknown>): string {
  const parts: string[] = [String(result.type)];
  for (const key of ["errors", "started", "timedOut", "failed", "held"] as const) {
    const value = result[key];
    if (value && (Array.isArray(value) ? value.length > 0 : Object.keys(value as object).length > 0)) {
      parts.push(`${key}: ${JSON.stringify(value)}`);
    }
  }
  return parts.join("; ");
}

/**
 * An EIP-1193 provider that signs with a local key (from PROVENA_PRIVATE_KEY or a keystore) and forwards every
 * other call to the node, the way Hardhat's configured accounts do: Ignition deploys from `wallet` on any network.
 */
export function localSignerEip1193(
  provider: { send(method: string, params: unknown[]): Promise<unknown> },
  wallet: { address: string; sendTransaction(tx: Record<string, unknown>): Promise<{ hash: string }> },
): EIP1193Provider {
  const quantity = (value: unknown) => (value === undefined || value === null ? undefined : BigInt(value as string));
  return {
    request: async ({ method, params }) => {
      const args = (params as unknown[] | undefined) ?? [];
      if (method === "eth_accounts" || method === "eth_requestAccounts") return [wallet.address.toLowerCase()] as never;
      if (method === "eth_sendTransaction") {
        const tx = args[0] as Record<string, unknown>;
        if (String(tx.from).toLowerCase() !== wallet.address.toLowerCase()) {
          throw new DeploymentFailedError(
            `Ignition asked to send from ${String(tx.from as string)}, but the key given is for ${wallet.address}`,
          );
        }
        const sent = await wallet.sendTransaction({
          to: tx.to ?? null,
          data: tx.data,
          value: quantity(tx.value),
          gasLimit: quantity(tx.gas),
          nonce: tx.nonce === undefined ? undefined : Number(BigInt(tx.nonce as string)),
          ...(tx.maxFeePerGas !== undefined
            ? { maxFeePerGas: quantity(tx.maxFeePerGas), maxPriorityFeePerGas: quantity(tx.maxPriorityFeePerGas) }
            : tx.gasPrice !== undefined
              ? { gasPrice: quantity(tx.gasPrice) }
              : {}),
        });
        return sent.hash as never;
      }
      return provider.send(method, args) as never;
    },
  };
}
