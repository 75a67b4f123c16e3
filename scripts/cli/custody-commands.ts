/**
 * `provena handoff …`, `attest`, `split`, `recall`: what happens to a registered batch: two-party custody handoffs
 * (custodian and receiver), quality attestations (inspector), splits (custodian) and recalls (manufacturer or
 * regulator).
 */
import { Option, type Command } from "commander";
import { isValidLotOrSerial } from "../../backend/chain/gs1.ts";
import { businessStepValue } from "../../backend/chain/vocabulary.ts";
import type { Hex } from "../../backend/domain/model.ts";
import { address, batchRef, gln, step } from "./arguments.ts";
import { CliError, type WithContext } from "./context.ts";
import { contentHash } from "./inputs.ts";

export function registerCustodyCommands(program: Command, withContext: WithContext): void {
  const handoff = program.command("handoff").description("two-party custody handoffs (custodian and receiver)");
  handoff
    .command("propose")
    .argument("<batch>", "batch id (0x + 64 hex digits) or GTIN/LOT", batchRef)
    .description("the custodian proposes handing the batch to a participant")
    .requiredOption("--to <address>", "the receiver", address)
    .requiredOption("--location <gln>", "13-digit GLN where it happens", gln)
    .addOption(new Option("--step <step>", "CBV business step").default(businessStepValue("shipping"), "shipping").argParser(step))
    .action(
      withContext(
        async (context, batchId: Hex, options: { to: string; location: bigint; step: number }) =>
          void (await context.send("handoff proposed", "registry", "proposeHandoff", [
            batchId,
            options.to,
            options.location,
            options.step,
          ])),
      ),
    );
  handoff
    .command("accept")
    .argument("<batch>", "batch id (0x + 64 hex digits) or GTIN/LOT", batchRef)
    .description("the receiver takes custody")
    .requiredOption("--location <gln>", "13-digit GLN where it happens", gln)
    .addOption(new Option("--step <step>", "CBV business step").default(businessStepValue("receiving"), "receiving").argParser(step))
    .action(
      withContext(
        async (context, batchId: Hex, options: { location: bigint; step: number }) =>
          void (await context.send("handoff accepted", "registry", "acceptHandoff", [batchId, options.location, options.step])),
      ),
    );
  handoff
    .command("reject")
    .argument("<batch>", "batch id (0x + 64 hex digits) or GTIN/LOT", batchRef)
    .description("the receiver refuses the pending handoff")
    .option("--reason <text|file|hash>", "reason (hashed on chain)")
    .action(
      withContext(
        async (context, batchId: Hex, options: { reason?: string }) =>
          void (await context.send("handoff rejected", "registry", "rejectHandoff", [batchId, await contentHash(options.reason)])),
      ),
    );
  handoff
    .command("cancel")
    .argument("<batch>", "batch id (0x + 64 hex digits) or GTIN/LOT", batchRef)
    .description("the custodian withdraws its pending handoff")
    .action(
      withContext(async (context, batchId: Hex) => void (await context.send("handoff cancelled", "registry", "cancelHandoff", [batchId]))),
    );

  program
    .command("attest")
    .argument("<batch>", "batch id (0x + 64 hex digits) or GTIN/LOT", batchRef)
    .description("an inspector attests a batch's quality")
    .addOption(new Option("--result <result>", "pass or fail").choices(["pass", "fail"]).makeOptionMandatory())
    .option("--report <file|text|hash>", "the inspection report (its hash goes on chain)")
    .action(
      withContext(
        async (context, batchId: Hex, options: { result: "pass" | "fail"; report?: string }) =>
          void (await context.send(`quality attested: ${options.result}`, "registry", "attestQuality", [
            batchId,
            options.result === "pass",
            await contentHash(options.report),
          ])),
      ),
    );
  program
    .command("split")
    .argument("<batch>", "batch id (0x + 64 hex digits) or GTIN/LOT", batchRef)
    .description(
      "the custodian splits a batch into child batches; each child's lot is <parent lot>/<suffix> and its units stay the parent's",
    )
    .requiredOption(
      "--child <lot:quantity>",
      "a child batch: its lot (<parent lot>/<suffix>) and its unit count (repeat, at least 2)",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .action(
      withContext(async (context, batchId: Hex, options: { child: string[] }) => {
        if (options.child.length < 2) throw new CliError("--child: a split needs at least two children");
        // A child carries its parent's serial root: a split cannot add unit serials (the registry refuses any other).
        const [, , , , , , , serialRoot] = await (await context.registry()).batch(batchId);
        const children = options.child.map((spec) => {
          const colon = spec.lastIndexOf(":");
          const lot = spec.slice(0, colon);
          const quantity = spec.slice(colon + 1);
          if (colon <= 0 || !/^\d+$/.test(quantity)) throw new CliError(`--child "${spec}" must be <lot>:<quantity>`);
          if (!isValidLotOrSerial(lot)) throw new CliError(`--child lot "${lot}" must be 1-20 characters of GS1 character set 82`);
          if (!lot.includes("/")) throw new CliError(`--child lot "${lot}" must be <parent lot>/<suffix>`);
          return { lot, quantity: BigInt(quantity), serialRoot };
        });
        await context.send(`split into ${children.map((c) => `${c.lot} (${c.quantity})`).join(", ")}`, "registry", "splitBatch", [
          batchId,
          children,
        ]);
      }),
    );

  program
    .command("recall")
    .argument("<batch>", "batch id (0x + 64 hex digits) or GTIN/LOT", batchRef)
    .description("the manufacturer or a regulator recalls a batch")
    .requiredOption("--reason <text|file|hash>", "reason (hashed on chain)")
    .action(
      withContext(
        async (context, batchId: Hex, options: { reason: string }) =>
          void (await context.send("batch recalled", "registry", "recallBatch", [batchId, await contentHash(options.reason)])),
      ),
    );
}
