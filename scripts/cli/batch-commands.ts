/**
 * `provena batch …`: registering a batch from its serial list (manufacturer) and reading it back. What happens to
 * it afterwards (handoffs, attestation, split, recall) is custody-commands.ts.
 */
import { Option, type Command } from "commander";
import { ZeroAddress } from "ethers";
import { batchIdOf, isValidLotOrSerial } from "../../backend/chain/gs1.ts";
import { BATCH_STATUSES, INSPECTION_RESULTS } from "../../backend/chain/vocabulary.ts";
import { normalizeGtin } from "../../backend/passport/digital-link.ts";
import type { SerialListFormat } from "../../backend/passport/serials.ts";
import type { Hex } from "../../backend/domain/model.ts";
import { batchRef, gln } from "./arguments.ts";
import { CliError, type WithContext } from "./context.ts";
import { contentHash, readSerialFile, uploadSerials } from "./inputs.ts";

export function registerBatchCommands(program: Command, withContext: WithContext): void {
  const batch = program.command("batch").description("batches of serialised units (manufacturer)");
  batch
    .command("register")
    .description("register a batch from a serial file (CSV or JSON): computes the Merkle root and uploads the list")
    .requiredOption("--gtin <gtin>", "GTIN-8/12/13/14")
    .requiredOption("--lot <lot>", "batch/lot number (GS1 AI 10)")
    .requiredOption("--serials <file>", "unit serial list, CSV (one per line, optional header) or JSON array")
    .addOption(new Option("--format <format>", "serial file format (default: by extension)").choices(["csv", "json"]))
    .option("--production-date <date>", "YYYY-MM-DD (default: the chain's current time, its latest block's timestamp)")
    .requiredOption("--origin-gln <gln>", "13-digit GLN of the production site", gln)
    .option("--document <file|text|hash>", "the batch document (its hash goes on chain)")
    .option("--no-upload", "do not upload the serial list to the backend")
    .action(
      withContext(
        async (
          context,
          options: {
            gtin: string;
            lot: string;
            serials: string;
            format?: SerialListFormat;
            productionDate?: string;
            originGln: bigint;
            document?: string;
            upload: boolean;
          },
        ) => {
          let gtin14: string;
          try {
            gtin14 = normalizeGtin(options.gtin);
          } catch (error) {
            throw new CliError(`--gtin: ${(error as Error).message}`);
          }
          if (!isValidLotOrSerial(options.lot))
            throw new CliError(`--lot "${options.lot}" must be 1-20 characters of GS1 character set 82`);
          // The registry refuses a production date after block.timestamp, and a chain's clock may lag this machine's
          // (an in-process chain started before a long compile, a node with a skewed clock): time is the chain's.
          const chainNow = (await context.provider.getBlock("latest"))!.timestamp;
          const productionDate = options.productionDate ? Date.parse(`${options.productionDate}T00:00:00Z`) / 1000 : chainNow;
          if (!Number.isFinite(productionDate)) throw new CliError(`--production-date must be YYYY-MM-DD (got ${options.productionDate})`);
          if (productionDate > chainNow) {
            throw new CliError(
              `--production-date ${options.productionDate} is after the chain's current time (${new Date(chainNow * 1000).toISOString()})`,
            );
          }
          const list = await readSerialFile(options.serials, options.format);
          console.error(`… ${list.serials.length.toLocaleString("en")} serials, Merkle root ${list.root}`);
          if (options.upload) {
            await uploadSerials(context.apiUrl, list.text, list.format, list.root);
            console.error(`… serial list uploaded to ${context.apiUrl}`);
          }
          await context.send(`registered batch ${gtin14}/${options.lot} (${batchIdOf(gtin14, options.lot)})`, "registry", "registerBatch", [
            BigInt(gtin14),
            options.lot,
            BigInt(list.serials.length),
            productionDate,
            options.originGln,
            await contentHash(options.document),
            list.root,
          ]);
        },
      ),
    );
  batch
    .command("show")
    .argument("<batch>", "batch id (0x + 64 hex digits) or GTIN/LOT", batchRef)
    .description("what the registry stores about a batch (id or GTIN/LOT)")
    .action(
      withContext(async (context, batchId: Hex) => {
        const [manufacturer, custodian, pendingCustodian, status, inspection, quantity, custodySince, serialRoot] = await (
          await context.registry()
        ).batch(batchId);
        console.log(
          JSON.stringify(
            {
              batchId,
              manufacturer,
              custodian,
              pendingCustodian: pendingCustodian === ZeroAddress ? null : pendingCustodian,
              status: BATCH_STATUSES[Number(status)],
              inspection: INSPECTION_RESULTS[Number(inspection)],
              quantity: quantity.toString(),
              custodySince: Number(custodySince),
              serialRoot,
            },
            null,
            2,
          ),
        );
      }),
    );
}
