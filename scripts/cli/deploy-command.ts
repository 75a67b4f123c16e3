/**
 * `provena deploy`: deploys Provena with its Ignition module from the caller's key and writes the deployment file.
 */
import path from "node:path";
import type { Command } from "commander";
import { PROJECT_ROOT } from "../../backend/chain/artifacts.ts";
import { readDeployment, resolveDeploymentFile, writeDeployment } from "../../backend/chain/deployment.ts";
import { connectProvider } from "../../backend/chain/provider.ts";
import { deployProvenaWithIgnition, ignitionJournalDir, localSignerEip1193 } from "../../backend/deploy/deploy-provena.ts";
import { address, nonNegativeInteger } from "./arguments.ts";
import { CliError, loadSigner, type GlobalOptions } from "./context.ts";
import { readIgnitionParameters } from "./inputs.ts";

export function registerDeployCommand(program: Command): void {
  program
    .command("deploy")
    .description("deploy Provena with its Ignition module from your key, and write the deployment file")
    .option("--admin <address>", "consortium admin (default: the deploying account)", address)
    .option("--admin-transfer-delay <seconds>", "seconds an admin transfer must wait (default: the module's, 2 days)", nonNegativeInteger)
    .option("--parameters <file>", 'Ignition parameters JSON file ({ "ProvenaModule": { … } })')
    .option("--force", "deploy even when a deployment file for this chain exists", false)
    .action(async (options: { admin?: string; adminTransferDelay?: number; parameters?: string; force: boolean }) => {
      const globals = program.opts<GlobalOptions>();
      const rpcUrl = globals.rpc ?? process.env.RPC_URL ?? "http://127.0.0.1:8545";
      const { provider, chainId } = await connectProvider({ rpcUrl, timeoutMs: 10_000 });
      try {
        const file = resolveDeploymentFile(globals.deployment ?? process.env.DEPLOYMENT_FILE ?? null, chainId);
        const existing = await readDeployment(file, chainId);
        if (existing && !options.force)
          throw new CliError(
            `chain ${chainId} already has a deployment in ${file} (registry ${existing.registry}); pass --force to deploy again`,
          );
        const wallet = (await loadSigner()).connect(provider);
        const parameters: Record<string, Record<string, unknown>> = options.parameters
          ? await readIgnitionParameters(options.parameters)
          : {};
        parameters.ProvenaModule ??= {};
        if (options.admin) parameters.ProvenaModule.admin = options.admin;
        if (options.adminTransferDelay !== undefined) parameters.ProvenaModule.adminTransferDelay = options.adminTransferDelay;
        const journal = ignitionJournalDir(chainId);
        console.error(`… deploying to chain ${chainId} from ${wallet.address} (Ignition journal: ${path.relative(PROJECT_ROOT, journal)})`);
        const deployment = await deployProvenaWithIgnition({
          eip1193: localSignerEip1193(provider, wallet),
          provider,
          chainId,
          deployer: wallet.address.toLowerCase(),
          parameters: parameters as never,
          deploymentDir: journal,
        });
        await writeDeployment(file, deployment);
        console.log(
          `✓ deployed to chain ${chainId}: forwarder ${deployment.forwarder}, registry ${deployment.registry}, escrow ${deployment.escrow} (from block ${deployment.deployBlock})`,
        );
        console.log(`  deployment file: ${file}`);
      } finally {
        await provider.destroy();
      }
    });
}
