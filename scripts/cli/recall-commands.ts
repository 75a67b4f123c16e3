/**
 * `provena recalls [batch]` (regulators: the recall desk) and `provena acknowledge-recall <batch>` (a holder of an
 * affected lot signs that it knows of the recall). Both talk to the backend (PROVENA_API_URL or --api) with the
 * caller's key: the desk after signing in (EIP-4361), the acknowledgement with its own signature.
 */
import type { Command } from "commander";
import { signInWithKey } from "../../backend/auth/sign-in-client.ts";
import type { Hex } from "../../backend/domain/model.ts";
import { recallAcknowledgementText } from "../../backend/recalls/acknowledgement.ts";
import type { AffectedLot, RecallDetail, RecallSummary } from "../../backend/recalls/recall-desk.ts";
import { apiJson } from "./api-client.ts";
import { batchRef } from "./arguments.ts";
import { CliError, type WithContext } from "./context.ts";

function lotLine(lot: AffectedLot): string {
  const indent = "  ".repeat(lot.depth + 1);
  return `${indent}${lot.gtin}/${lot.lot} (${lot.quantity} units) held by ${lot.custodian} ${lot.acknowledged ? "✓ acknowledged" : "✗ not acknowledged"}`;
}

export function registerRecallCommands(program: Command, withContext: WithContext): void {
  program
    .command("recalls")
    .argument("[batch]", "a recalled lot: batch id (0x…) or GTIN/LOT; without it, every recall", batchRef)
    .option("--json", "print the backend's JSON")
    .description("the recall desk (regulators): recalls, the lots each reaches, their holders and acknowledgements")
    .action(
      withContext(async (context, batchId: Hex | undefined, options: { json?: boolean }) => {
        const token = await signInWithKey(context.apiUrl, await context.signer()).catch((error: Error) => {
          throw new CliError(error.message);
        });
        const headers = { authorization: `Bearer ${token}` };
        if (batchId === undefined) {
          const { body } = await apiJson<{ items: RecallSummary[] }>(context, "/api/v1/recalls?limit=100", { headers });
          if (options.json) return void console.log(JSON.stringify(body, null, 2));
          if (body.items.length === 0) return void console.log("no recalls");
          for (const item of body.items)
            console.log(`${item.batchId}  ${item.gtin}/${item.lot}  recalled by ${item.recall.by} in block ${item.recall.at.blockNumber}`);
          return;
        }
        const { body } = await apiJson<RecallDetail>(context, `/api/v1/recalls/${batchId}`, { headers });
        if (options.json) return void console.log(JSON.stringify(body, null, 2));
        console.log(`recall of ${body.gtin}/${body.lot} by ${body.recall.by} (block ${body.recall.at.blockNumber})`);
        console.log(`${body.summary.lots} lots, ${body.summary.holders} holders, ${body.summary.acknowledgedHolders} acknowledged`);
        for (const lot of body.affectedLots) console.log(lotLine(lot));
      }),
    );

  program
    .command("acknowledge-recall")
    .argument("<batch>", "the recalled lot: batch id (0x…) or GTIN/LOT", batchRef)
    .description("a holder of a lot the recall reaches signs that it knows of the recall")
    .action(
      withContext(async (context, batchId: Hex) => {
        const signer = await context.signer();
        const holder = signer.address.toLowerCase() as Hex;
        const acknowledgedAt = Date.now();
        const text = recallAcknowledgementText({ batchId, holder, chainId: context.chainId, acknowledgedAt });
        const { status, body } = await apiJson<{ heldBatchIds: Hex[] }>(context, `/api/v1/recalls/${batchId}/acknowledgements`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ holder, acknowledgedAt, signature: await signer.signMessage(text) }),
        });
        console.log(
          `✓ recall of ${batchId} ${status === 201 ? "acknowledged" : "was already acknowledged"} by ${holder} for ${body.heldBatchIds.join(", ")}`,
        );
      }),
    );
}
