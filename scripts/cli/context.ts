/**
 * What every CLI command needs: the chain (RPC_URL / --rpc), the deployment (the deployment file, else the
 * addresses a running backend serves), the caller's key (PROVENA_PRIVATE_KEY, or an encrypted keystore; never a
 * flag, so keys stay out of shell history and process lists), and one way to send a call: directly, paying gas,
 * or gasless through the backend's relayer (--relay).
 */
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { Wallet, type BaseContract, type JsonRpcProvider, type WebSocketProvider } from "ethers";
import { loadProvenaAbis, type ProvenaAbis } from "../../backend/chain/artifacts.ts";
import {
  coldChainAbi,
  coldChainAt,
  designRegistryAt,
  escrowAt,
  logisticUnitsAbi,
  logisticUnitsAt,
  productDataAt,
  registryAt,
  unitOwnershipAbi,
  unitOwnershipAt,
  type ColdChain,
  type DesignRegistry,
  type LogisticUnits,
  type ProvenanceRegistry,
  type TradeEscrow,
  type UnitOwnership,
} from "../../backend/chain/contracts.ts";
import { readDeployment, resolveDeploymentFile, type Deployment } from "../../backend/chain/deployment.ts";
import { connectProvider } from "../../backend/chain/provider.ts";
import { createRelayClient, RelayFailedError, RelayRefusedError, RelayUnreachableError } from "../../backend/relayer/relay-client.ts";
import { createRevertDecoder, type RevertDecoder } from "../../backend/chain/revert-reason.ts";
import type { Hex } from "../../backend/domain/model.ts";

export interface GlobalOptions {
  rpc?: string;
  deployment?: string;
  api?: string;
  relay?: boolean;
}

/** A failure the CLI reports as one line and exit status 1. */
export class CliError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CliError";
  }
}

export const DEFAULT_RPC_URL = "http://127.0.0.1:8545";
export const DEFAULT_API_URL = "http://127.0.0.1:3000";

export interface CliContext {
  provider: JsonRpcProvider | WebSocketProvider;
  chainId: number;
  abis: ProvenaAbis;
  decoder: RevertDecoder;
  apiUrl: string;
  deployment(): Promise<CliDeployment>;
  signer(): Promise<Wallet>;
  registry(): Promise<ProvenanceRegistry>;
  escrow(): Promise<TradeEscrow>;
  /** The design registry; a CliError when the deployment has none. */
  designRegistry(): Promise<DesignRegistry>;
  /** The unit ownership tokens; a CliError when the deployment has none. */
  unitOwnership(): Promise<UnitOwnership>;
  /** The cold chain (devices, legs, conditions); a CliError when the deployment has none. */
  coldChain(): Promise<ColdChain>;
  /** The logistic units (containers); a CliError when the deployment has none. */
  logisticUnits(): Promise<LogisticUnits>;
  /**
   * Sends `method(args)` on `contract` as the caller (or through the relayer with --relay, or when `relay` says so)
   * and prints the outcome.
   */
  send(
    label: string,
    contract: "registry" | "escrow" | "designRegistry" | "productData" | "unitOwnership" | "coldChain" | "logisticUnits",
    method: string,
    args: unknown[],
    overrides?: { value?: bigint; relay?: boolean },
  ): Promise<{ transactionHash: string; blockNumber: number; logs: readonly unknown[] }>;
  close(): Promise<void>;
}

/** The addresses the CLI needs (`unitOwnership`, `coldChain` and `logisticUnits` only when the deployment has them). */
export type CliDeployment = Pick<
  Deployment,
  "forwarder" | "registry" | "escrow" | "designRegistry" | "productData" | "unitOwnership" | "coldChain" | "logisticUnits"
>;

export async function createCliContext(options: GlobalOptions): Promise<CliContext> {
  const rpcUrl = options.rpc ?? process.env.RPC_URL ?? DEFAULT_RPC_URL;
  // Only `provena verify` reads through several endpoints; a command that writes talks to one node.
  if (rpcUrl.includes(",")) throw new CliError(`only \`provena verify\` takes several JSON-RPC endpoints (got ${rpcUrl})`);
  const apiUrl = (options.api ?? process.env.PROVENA_API_URL ?? DEFAULT_API_URL).replace(/\/+$/, "");
  const { provider, chainId } = await connectProvider({ rpcUrl, timeoutMs: Number(process.env.RPC_TIMEOUT_MS ?? 5_000) });
  const abis = loadProvenaAbis();
  const decoder = createRevertDecoder([
    abis.ProvenanceRegistry,
    abis.TradeEscrow,
    abis.ProvenaForwarder,
    abis.DesignRegistry,
    abis.ProductDataRegistry,
    unitOwnershipAbi(),
    coldChainAbi(),
    logisticUnitsAbi(),
  ]);
  let deploymentPromise: Promise<CliDeployment> | null = null;
  let signerPromise: Promise<Wallet> | null = null;

  async function loadDeployment() {
    const file = resolveDeploymentFile(options.deployment ?? process.env.DEPLOYMENT_FILE ?? null, chainId);
    const fromFile = await readDeployment(file, chainId);
    if (fromFile) return fromFile;
    // No file (e.g. `npm start` on Hardhat's in-process chain keeps its deployment in memory): ask the running backend.
    try {
      const response = await fetch(`${apiUrl}/api/v1/relay/forwarder`, { signal: AbortSignal.timeout(5_000) });
      if (response.ok) {
        const info = (await response.json()) as {
          domain: { chainId: number; verifyingContract: Hex };
          targets: {
            registry: Hex;
            escrow: Hex;
            designRegistry?: Hex;
            productData?: Hex;
            unitOwnership?: Hex;
            coldChain?: Hex;
            logisticUnits?: Hex;
          };
        };
        if (info.domain.chainId !== chainId)
          throw new CliError(`the backend at ${apiUrl} serves chain ${info.domain.chainId}, but ${rpcUrl} is chain ${chainId}`);
        return {
          forwarder: info.domain.verifyingContract,
          registry: info.targets.registry,
          escrow: info.targets.escrow,
          ...(info.targets.designRegistry ? { designRegistry: info.targets.designRegistry } : {}),
          ...(info.targets.productData ? { productData: info.targets.productData } : {}),
          ...(info.targets.unitOwnership ? { unitOwnership: info.targets.unitOwnership } : {}),
          ...(info.targets.coldChain ? { coldChain: info.targets.coldChain } : {}),
          ...(info.targets.logisticUnits ? { logisticUnits: info.targets.logisticUnits } : {}),
        };
      }
    } catch (error) {
      if (error instanceof CliError) throw error;
    }
    throw new CliError(
      `no deployment for chain ${chainId}: no file at ${file} and no Provena backend at ${apiUrl} (run \`provena deploy\`, set DEPLOYMENT_FILE, or --api)`,
    );
  }

  async function productDataContract(): Promise<BaseContract> {
    const address = (await context.deployment()).productData;
    if (address === undefined) throw new CliError("this deployment has no ProductDataRegistry (deployed before it existed): redeploy");
    return productDataAt(address, provider, abis.ProductDataRegistry) as unknown as BaseContract;
  }

  const context: CliContext = {
    provider,
    chainId,
    abis,
    decoder,
    apiUrl,
    deployment: () => (deploymentPromise ??= loadDeployment()),
    signer: () => (signerPromise ??= loadSigner().then((wallet) => wallet.connect(provider) as Wallet)),
    async registry() {
      return registryAt((await context.deployment()).registry, provider, abis.ProvenanceRegistry);
    },
    async escrow() {
      return escrowAt((await context.deployment()).escrow, provider, abis.TradeEscrow);
    },
    async designRegistry() {
      const { designRegistry } = await context.deployment();
      if (!designRegistry) throw new CliError(`the deployment on chain ${chainId} has no design registry (deployed before it existed)`);
      return designRegistryAt(designRegistry, provider, abis.DesignRegistry);
    },
    async unitOwnership() {
      const { unitOwnership } = await context.deployment();
      if (!unitOwnership) {
        throw new CliError(
          `the deployment on chain ${chainId} has no UnitOwnership contract (deployed before it existed): redeploy, or add its address as "unitOwnership" to the deployment file`,
        );
      }
      return unitOwnershipAt(unitOwnership, provider);
    },
    async coldChain() {
      const { coldChain } = await context.deployment();
      if (!coldChain) {
        throw new CliError(
          `the deployment on chain ${chainId} has no ColdChain contract (deployed before it existed): redeploy, or add its address as "coldChain" to the deployment file`,
        );
      }
      return coldChainAt(coldChain, provider);
    },
    async logisticUnits() {
      const { logisticUnits } = await context.deployment();
      if (!logisticUnits) {
        throw new CliError(
          `the deployment on chain ${chainId} has no LogisticUnits contract (deployed before it existed): redeploy, or add its address as "logisticUnits" to the deployment file`,
        );
      }
      return logisticUnitsAt(logisticUnits, provider);
    },
    async send(label, target, method, args, { relay = options.relay, ...overrides } = {}) {
      const signer = await context.signer();
      // The method is named at run time (a command table), so the call goes through the untyped base contract.
      const contract: BaseContract =
        target === "registry"
          ? await context.registry()
          : target === "escrow"
            ? await context.escrow()
            : target === "designRegistry"
              ? await context.designRegistry()
              : target === "unitOwnership"
                ? await context.unitOwnership()
                : target === "coldChain"
                  ? await context.coldChain()
                  : target === "logisticUnits"
                    ? await context.logisticUnits()
                    : await productDataContract();
      try {
        if (relay) {
          if (overrides.value) throw new CliError("the relayer pays gas, not payments: send value-carrying calls without --relay");
          const relay = createRelayClient({ apiUrl, provider });
          const accepted = await relay.submit(signer, await contract.getAddress(), contract.interface.encodeFunctionData(method, args));
          console.error(`… relay request ${accepted.id} accepted (${accepted.status}); waiting for it to be mined`);
          const mined = await relay.waitForMined(accepted.id, { timeoutMs: 300_000, pollMs: 1_000 });
          const receipt = await provider.getTransactionReceipt(mined.transactionHash!);
          console.log(`✓ ${label} (gasless, relayed as ${accepted.id}): tx ${mined.transactionHash} in block ${mined.blockNumber}`);
          return { transactionHash: mined.transactionHash!, blockNumber: mined.blockNumber!, logs: receipt?.logs ?? [] };
        }
        const tx = await contract.connect(signer).getFunction(method)(...args, overrides);
        console.error(`… sent ${tx.hash}; waiting for it to be mined`);
        const receipt = await tx.wait();
        console.log(`✓ ${label}: tx ${receipt.hash} in block ${receipt.blockNumber}`);
        return { transactionHash: receipt.hash, blockNumber: receipt.blockNumber, logs: receipt.logs };
      } catch (error) {
        if (error instanceof CliError) throw error;
        if (error instanceof RelayRefusedError || error instanceof RelayFailedError || error instanceof RelayUnreachableError)
          throw new CliError(error.message, { cause: error });
        throw new CliError(`${label} failed: ${decoder.describe(error)}`, { cause: error });
      }
    },
    async close() {
      await provider.destroy();
    },
  };
  return context;
}

/** Wraps a command's action: runs it with a context connected by the program's global options, then closes it. */
export function contextRunner(program: Command) {
  return function withContext<A extends unknown[]>(action: (context: CliContext, ...args: A) => Promise<void>) {
    return async (...args: A) => {
      const context = await createCliContext(program.opts<GlobalOptions>());
      try {
        await action(context, ...args);
      } finally {
        await context.close();
      }
    };
  };
}

export type WithContext = ReturnType<typeof contextRunner>;

/** The caller's key: PROVENA_PRIVATE_KEY, or PROVENA_KEYSTORE decrypted with PROVENA_KEYSTORE_PASSWORD or a prompt. */
export async function loadSigner(env: NodeJS.ProcessEnv = process.env): Promise<Wallet> {
  const privateKey = env.PROVENA_PRIVATE_KEY;
  const keystore = env.PROVENA_KEYSTORE;
  if (privateKey && keystore) throw new CliError("set either PROVENA_PRIVATE_KEY or PROVENA_KEYSTORE, not both");
  if (privateKey) {
    if (!/^(0x)?[0-9a-fA-F]{64}$/.test(privateKey))
      throw new CliError("PROVENA_PRIVATE_KEY must be a 32-byte hex private key (64 hex digits, optional 0x)");
    return new Wallet(privateKey.startsWith("0x") ? privateKey : `0x${privateKey}`);
  }
  if (keystore) {
    let json: string;
    try {
      json = await readFile(keystore, "utf8");
    } catch (error) {
      throw new CliError(`cannot read the keystore ${keystore}: ${(error as Error).message}`, { cause: error });
    }
    const password = env.PROVENA_KEYSTORE_PASSWORD ?? (await promptPassword(`Password for ${keystore}: `));
    try {
      return (await Wallet.fromEncryptedJson(json, password)) as Wallet;
    } catch (error) {
      throw new CliError(`cannot decrypt the keystore ${keystore}: ${(error as Error).message}`, { cause: error });
    }
  }
  throw new CliError(
    "this command signs: set PROVENA_PRIVATE_KEY, or PROVENA_KEYSTORE (an encrypted JSON keystore) with PROVENA_KEYSTORE_PASSWORD or a terminal to type it in",
  );
}

/** Reads a password from the terminal without echoing it. */
async function promptPassword(question: string): Promise<string> {
  const { stdin, stderr } = process;
  if (!stdin.isTTY) throw new CliError("PROVENA_KEYSTORE_PASSWORD is not set and there is no terminal to ask for the password");
  stderr.write(question);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding("utf8");
  return new Promise((resolve, reject) => {
    let password = "";
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === "\r" || char === "\n" || char === "\u0004") {
          finish();
          stderr.write("\n");
          return resolve(password);
        }
        if (char === "\u0003") {
          finish();
          stderr.write("\n");
          return reject(new CliError("cancelled"));
        }
        if (char === "\u007f" || char === "\b") password = password.slice(0, -1);
        else password += char;
      }
    };
    const finish = () => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
    };
    stdin.on("data", onData);
  });
}
