/**
 * The Provena CLI, for every role:  npx provena <command>  (or  npm run cli -- <command>)
 *
 * Keys come from the environment, never from flags: PROVENA_PRIVATE_KEY, or PROVENA_KEYSTORE (an encrypted JSON
 * keystore) with PROVENA_KEYSTORE_PASSWORD or a password prompt. The chain is RPC_URL (or --rpc; default
 * http://127.0.0.1:8545, where `npm start` serves its embedded chain); contract addresses come from the
 * deployment file (DEPLOYMENT_FILE or backend/chain/deployments/<chainId>.json), else from the running backend
 * (PROVENA_API_URL or --api; default http://127.0.0.1:3000). --relay sends partner actions gasless through the
 * backend's relayer. Failures print one line, with the contracts' custom errors decoded, and exit 1.
 */
import { Command } from "commander";
import { registerBatchCommands } from "./cli/batch-commands.ts";
import { contextRunner } from "./cli/context.ts";
import { registerCustodyCommands } from "./cli/custody-commands.ts";
import { registerContainerCommands } from "./cli/container-commands.ts";
import { registerDeployCommand } from "./cli/deploy-command.ts";
import { registerDeviceCommands } from "./cli/device-commands.ts";
import { registerFinanceCommands } from "./cli/finance-commands.ts";
import { registerRecallCommands } from "./cli/recall-commands.ts";
import { registerTraceCommands } from "./cli/trace-commands.ts";
import { registerEpcisCommands } from "./cli/epcis-commands.ts";
import { registerOrderCommands } from "./cli/order-commands.ts";
import { registerOwnershipCommands } from "./cli/ownership-commands.ts";
import { registerParticipantCommands } from "./cli/participant-commands.ts";
import { registerCompanyPrefixCommands } from "./cli/prefix-commands.ts";
import { registerPassportCommands } from "./cli/passport-commands.ts";
import { registerDocumentCommands } from "./cli/document-commands.ts";
import { registerProductCommands } from "./cli/product-commands.ts";
import { registerReputationCommand } from "./cli/reputation-command.ts";
import { registerProofCommands } from "./cli/proof-commands.ts";

const program = new Command()
  .name("provena")
  .description(
    "Provena supply-chain provenance and escrow, from the command line. Keys: PROVENA_PRIVATE_KEY or PROVENA_KEYSTORE (+ PROVENA_KEYSTORE_PASSWORD).",
  )
  .option(
    "--rpc <url>",
    "JSON-RPC endpoint (default: RPC_URL, else http://127.0.0.1:8545); `verify` reads through several: repeat --rpc or separate with commas",
    (value: string, previous: string | undefined) => (previous === undefined ? value : `${previous},${value}`),
  )
  .option("--deployment <file>", "deployment file (default: DEPLOYMENT_FILE, else backend/chain/deployments/<chainId>.json)")
  .option("--api <url>", "Provena backend, for --relay, uploads and lookups (default: PROVENA_API_URL, else http://127.0.0.1:3000)")
  .option("--relay", "send gasless through the backend's relayer instead of paying gas", false)
  .showHelpAfterError("(run with --help for usage)");

const withContext = contextRunner(program);
registerDeployCommand(program);
registerParticipantCommands(program, withContext);
registerCompanyPrefixCommands(program, withContext);
registerBatchCommands(program, withContext);
registerOwnershipCommands(program, withContext);
registerCustodyCommands(program, withContext);
registerContainerCommands(program, withContext);
registerOrderCommands(program, withContext);
registerPassportCommands(program);
registerEpcisCommands(program);
registerRecallCommands(program, withContext);
registerFinanceCommands(program, withContext);
registerTraceCommands(program, withContext);
registerProductCommands(program, withContext);
registerDocumentCommands(program, withContext);
registerReputationCommand(program);
registerProofCommands(program, withContext);
registerDeviceCommands(program, withContext);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  console.error(`provena: ${message}`);
  process.exitCode = 1;
}
