/**
 * Checks the backend's reputation answers against the chain itself:
 *
 *   node scripts/verify-reputation.ts [--api <url>] [--rpc <url>] [--deployment <file>] [--json]
 *
 * For every participant (the API's list and everyone the chain onboarded) it reads the registry's and escrow's raw
 * logs (eth_getLogs), folds them on its own (backend/reputation/chain-facts.ts, not the mirror), computes the scores
 * with the same formulas at the block each answer is as of, and compares field by field.
 * The API is --api, else PROVENA_API_URL, else http://127.0.0.1:3000; the chain is --rpc, else RPC_URL, else
 * http://127.0.0.1:8545; the contracts come from the deployment file (--deployment, else DEPLOYMENT_FILE, else
 * backend/chain/deployments/<chainId>.json), else from the backend's relay (as the CLI does: `npm start` on an
 * in-process chain keeps its deployment in memory), read then from block 0.
 * Exit status: 0 every answer matches, 1 a mismatch, 2 nothing could be verified.
 */
import { parseArgs } from "node:util";
import { readDeployment, resolveDeploymentFile } from "../backend/chain/deployment.ts";
import { connectProvider } from "../backend/chain/provider.ts";
import type { Hex } from "../backend/domain/model.ts";
import { httpReputationApi, verifyReputation } from "../backend/reputation/verify-reputation.ts";

const USAGE = "Usage: node scripts/verify-reputation.ts [--api <url>] [--rpc <url>] [--deployment <file>] [--json]";

/** The contracts the backend's relayer forwards to, when it runs one on the same chain. */
async function deploymentFromBackend(apiUrl: string, chainId: number): Promise<{ registry: Hex; escrow: Hex; deployBlock: number } | null> {
  try {
    const response = await fetch(`${apiUrl.replace(/\/+$/, "")}/api/v1/relay/forwarder`, { signal: AbortSignal.timeout(5_000) });
    if (!response.ok) return null;
    const info = (await response.json()) as { domain: { chainId: number }; targets: { registry: Hex; escrow: Hex } };
    if (info.domain.chainId !== chainId) return null;
    return { registry: info.targets.registry, escrow: info.targets.escrow, deployBlock: 0 };
  } catch {
    return null;
  }
}

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        api: { type: "string" },
        rpc: { type: "string" },
        deployment: { type: "string" },
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const apiUrl = values.api ?? process.env.PROVENA_API_URL ?? "http://127.0.0.1:3000";
  const rpcUrl = values.rpc ?? process.env.RPC_URL ?? "http://127.0.0.1:8545";
  try {
    const { provider, chainId } = await connectProvider({ rpcUrl, timeoutMs: Number(process.env.RPC_TIMEOUT_MS ?? 10_000) });
    const file = resolveDeploymentFile(values.deployment ?? process.env.DEPLOYMENT_FILE ?? null, chainId);
    const deployment = (await readDeployment(file, chainId)) ?? (await deploymentFromBackend(apiUrl, chainId));
    if (deployment === null) {
      console.error(
        `Cannot verify: no deployment for chain ${chainId} at ${file} nor from ${apiUrl} (set --deployment or DEPLOYMENT_FILE)`,
      );
      return 2;
    }
    const result = await verifyReputation({
      api: httpReputationApi(apiUrl),
      provider,
      contracts: { registry: deployment.registry, escrow: deployment.escrow },
      deployBlock: deployment.deployBlock,
      onProgress: values.json ? undefined : (message) => console.error(`… ${message}`),
    });
    await provider.destroy();
    if (values.json) console.log(JSON.stringify(result, null, 2));
    else {
      for (const check of result.checks) {
        const verdict = check.mismatches.length === 0 ? "✓ matches the chain" : `✗ ${check.mismatches.length} mismatches`;
        console.log(`${check.address}  block ${check.asOfBlock ?? "?"}  ${verdict}`);
        for (const mismatch of check.mismatches) console.log(`    - ${mismatch}`);
      }
      const failed = result.checks.filter((check) => check.mismatches.length > 0).length;
      console.log(
        result.ok
          ? `✓ all ${result.checks.length} reputations match the chain`
          : `✗ ${failed} of ${result.checks.length} reputations differ from the chain`,
      );
    }
    return result.ok ? 0 : 1;
  } catch (error) {
    console.error(`Cannot verify: ${error instanceof Error ? error.message : String(error)}`);
    return 2;
  }
}

process.exitCode = await main(process.argv.slice(2));
