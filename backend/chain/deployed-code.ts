/**
 * Whether a deployment still runs the contracts this build compiles. A chain kept across restarts (the embedded
 * anvil's state file) outlives an upgrade of Provena: its contracts stay what they were when they were deployed,
 * and a backend built from newer sources would call functions they do not have and decode events they never emit.
 *
 * The check compares each deployed contract's runtime code with the artifact's `deployedBytecode`, with the
 * immutables (constructor arguments baked into the code, e.g. the registry's address) zeroed in both, so the same
 * sources deployed with other arguments match. A changed comment changes the metadata hash at the end of the code
 * and counts as a change: the artifacts no longer describe what is deployed byte for byte.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Provider } from "ethers";
import type { Hex } from "../domain/model.ts";
import { DEFAULT_ARTIFACTS_DIR } from "./artifacts.ts";
import type { Deployment } from "./deployment.ts";

/** The deployment's contract fields and the compiled contract each one holds. */
export const DEPLOYED_CONTRACT_NAMES = {
  forwarder: "ProvenaForwarder",
  registry: "ProvenanceRegistry",
  escrow: "TradeEscrow",
  designRegistry: "DesignRegistry",
  productData: "ProductDataRegistry",
  coldChain: "ColdChain",
  unitOwnership: "UnitOwnership",
  logisticUnits: "LogisticUnits",
  transformations: "Transformations",
} as const satisfies Partial<Record<keyof Deployment, string>>;

export type DeployedContractField = keyof typeof DEPLOYED_CONTRACT_NAMES;

export interface OutdatedContract {
  field: DeployedContractField;
  contract: string;
  /** "missing": the deployment predates the contract; "changed": its code differs from the compiled one. */
  reason: "missing" | "changed";
}

interface RuntimeArtifact {
  deployedBytecode: string;
  immutableReferences: Record<string, { start: number; length: number }[]>;
}

function runtimeArtifact(contract: string, artifactsDir: string): RuntimeArtifact {
  const file = path.join(artifactsDir, "contracts", `${contract}.sol`, `${contract}.json`);
  const artifact = JSON.parse(readFileSync(file, "utf8")) as Partial<RuntimeArtifact>;
  if (typeof artifact.deployedBytecode !== "string") throw new Error(`${file} has no deployedBytecode`);
  return { deployedBytecode: artifact.deployedBytecode, immutableReferences: artifact.immutableReferences ?? {} };
}

/** `code` (0x-hex) with every immutable's bytes zeroed. */
export function withImmutablesZeroed(code: string, immutableReferences: RuntimeArtifact["immutableReferences"]): string {
  const bytes = Buffer.from(code.replace(/^0x/, ""), "hex");
  for (const references of Object.values(immutableReferences)) {
    for (const { start, length } of references) {
      if (start + length <= bytes.length) bytes.fill(0, start, start + length);
    }
  }
  return `0x${bytes.toString("hex")}`;
}

/**
 * The contracts of `deployment` whose on-chain code is not this build's (or that this build deploys and the
 * deployment lacks); empty when the deployment is current. Reads one `eth_getCode` per deployed contract.
 */
export async function outdatedContracts(
  provider: Pick<Provider, "getCode">,
  deployment: Deployment,
  options: { artifactsDir?: string } = {},
): Promise<OutdatedContract[]> {
  const artifactsDir = options.artifactsDir ?? DEFAULT_ARTIFACTS_DIR;
  const outdated: OutdatedContract[] = [];
  for (const [field, contract] of Object.entries(DEPLOYED_CONTRACT_NAMES) as [DeployedContractField, string][]) {
    const address = deployment[field] as Hex | undefined;
    if (address === undefined) {
      outdated.push({ field, contract, reason: "missing" });
      continue;
    }
    const compiled = runtimeArtifact(contract, artifactsDir);
    const deployed = await provider.getCode(address);
    const expected = withImmutablesZeroed(compiled.deployedBytecode, compiled.immutableReferences);
    if (withImmutablesZeroed(deployed, compiled.immutableReferences).toLowerCase() !== expected.toLowerCase()) {
      outdated.push({ field, contract, reason: "changed" });
    }
  }
  return outdated;
}
