/**
 * `provena trade-record create <order>`: the seller signs in, takes the backend's draft of the order's trade record,
 * signs it with its key and writes the record a financier is given.
 * `provena read-grant add|revoke|list`: a seller lets a financier read its orders as seller in the mirror's API.
 * `provena trade-record verify <file>`: a financier checks a record against the chain through its own JSON-RPC node
 * (--rpc), trusting neither the seller nor any Provena backend; exit code 1 when any check fails.
 */
import { writeFile, readFile } from "node:fs/promises";
import type { Command } from "commander";
import { signInWithKey } from "../../backend/auth/sign-in-client.ts";
import type { Hex, OrderReadGrant } from "../../backend/domain/model.ts";
import type { TradeRecord } from "../../backend/finance/trade-record.ts";
import type { TradeRecordDraft } from "../../backend/finance/trade-record-service.ts";
import { verifyTradeRecord, type TradeRecordVerification } from "../../backend/finance/trade-record-verifier.ts";
import { apiJson } from "./api-client.ts";
import { reputationText } from "./reputation-command.ts";
import { address, hex32, nonNegativeInteger, positiveInteger } from "./arguments.ts";
import { CliError, type CliContext, type WithContext } from "./context.ts";

function formatVerification(report: TradeRecordVerification): string {
  const lines = [report.valid ? "✓ the trade record verifies against the chain" : "✗ the trade record does NOT verify"];
  for (const check of report.checks) lines.push(`  ${check.ok ? "✓" : "✗"} ${check.check}: ${check.detail}`);
  if (report.order !== null) {
    lines.push(
      `order ${report.orderId}: ${report.order.amount} of ${report.order.token} from ${report.order.buyer} to ${report.order.seller}`,
    );
    lines.push(`  seller's payout at release: ${report.order.sellerPayout}`);
  }
  if (report.escrow !== null) {
    const release =
      report.escrow.releasableFrom === null ? "" : `; releasable from ${new Date(report.escrow.releasableFrom * 1_000).toISOString()}`;
    lines.push(`escrow: ${report.escrow.stateAtRecord} when issued, ${report.escrow.stateNow} now${release}`);
  }
  if (report.events.length > 0) {
    lines.push(`goods: lot ${report.lineage[0]}${report.lineage.length > 1 ? ` (split from ${report.lineage.slice(1).join(" ← ")})` : ""}`);
    for (const event of report.events) {
      lines.push(`  block ${event.blockNumber}  ${new Date(event.blockTimestamp * 1_000).toISOString()}  ${event.contract}.${event.name}`);
    }
  }
  for (const event of report.omitted) lines.push(`  ✗ left out: block ${event.blockNumber} ${event.contract}.${event.name}`);
  if (report.sellerReputation !== null)
    lines.push("the seller's track record, from the chain's logs:", reputationText(report.sellerReputation));
  return lines.join("\n");
}

async function signedInHeaders(context: CliContext): Promise<Record<string, string>> {
  const token = await signInWithKey(context.apiUrl, await context.signer()).catch((error: Error) => {
    throw new CliError(error.message);
  });
  return { authorization: `Bearer ${token}` };
}

export function registerFinanceCommands(program: Command, withContext: WithContext): void {
  const grants = program.command("read-grant").description("let a financier read your orders as seller (grant, revoke, list)");
  grants
    .command("add")
    .argument("<financier>", "the financier's address", address)
    .option("--days <n>", "how long the grant lasts (at most 366)", positiveInteger, 90)
    .description("grant a financier read access to your orders as seller")
    .action(
      withContext(async (context, financier: string, options: { days: number }) => {
        const { body } = await apiJson<OrderReadGrant>(context, "/api/v1/finance/read-grants", {
          method: "POST",
          headers: { ...(await signedInHeaders(context)), "content-type": "application/json" },
          body: JSON.stringify({ financier, expiresAt: Date.now() + options.days * 86_400_000 }),
        });
        console.log(`✓ ${body.financier} may read the orders ${body.seller} sells until ${new Date(body.expiresAt).toISOString()}`);
      }),
    );
  grants
    .command("revoke")
    .argument("<financier>", "the financier's address", address)
    .description("revoke a financier's read access at once")
    .action(
      withContext(async (context, financier: string) => {
        await apiJson(context, `/api/v1/finance/read-grants/${financier}`, { method: "DELETE", headers: await signedInHeaders(context) });
        console.log(`✓ ${financier.toLowerCase()} may no longer read your orders`);
      }),
    );
  grants
    .command("list")
    .description("the grants you gave (as seller) and received (as financier)")
    .action(
      withContext(async (context) => {
        const { body } = await apiJson<{ given: OrderReadGrant[]; received: OrderReadGrant[] }>(context, "/api/v1/finance/read-grants", {
          headers: await signedInHeaders(context),
        });
        const state = (grant: OrderReadGrant) =>
          grant.revokedAt !== null
            ? "revoked"
            : grant.expiresAt <= Date.now()
              ? "expired"
              : `until ${new Date(grant.expiresAt).toISOString()}`;
        for (const grant of body.given) console.log(`given to ${grant.financier}: ${state(grant)}`);
        for (const grant of body.received) console.log(`received from ${grant.seller}: ${state(grant)}`);
        if (body.given.length + body.received.length === 0) console.log("no read grants");
      }),
    );

  const tradeRecord = program
    .command("trade-record")
    .description("verifiable trade records for financiers (sellers issue, anyone verifies)");
  tradeRecord
    .command("create")
    .argument("<order>", "the escrow order id (0x…)", hex32)
    .option("--out <file>", "where to write the signed record (default: trade-record-<order>.json)")
    .description("the seller signs the order's trade record (the backend drafts it from the mirror)")
    .action(
      withContext(async (context, orderId: Hex, options: { out?: string }) => {
        const signer = await context.signer();
        const { body } = await apiJson<TradeRecordDraft>(context, `/api/v1/orders/${orderId}/trade-record`, {
          headers: await signedInHeaders(context),
        });
        const { domain, types, message } = body.typedData;
        const record: TradeRecord = {
          ...body.claims,
          signature: (await signer.signTypedData(domain, types, message)).toLowerCase() as Hex,
        };
        const file = options.out ?? `trade-record-${orderId.slice(0, 10)}.json`;
        await writeFile(file, `${JSON.stringify(record, null, 2)}\n`, "utf8");
        console.log(
          `✓ trade record of order ${orderId} signed by ${signer.address.toLowerCase()}: ${record.events.length} events up to block ${record.asOf.blockNumber}, escrow ${record.escrowState} → ${file}`,
        );
      }),
    );
  tradeRecord
    .command("verify")
    .argument("<file>", "a trade record (JSON)")
    .option("--json", "print the verification report as JSON")
    .option("--from-block <n>", "first block to search for left-out events (default: the deployment's first block)", nonNegativeInteger)
    .option("--reputation", "also compute the seller's track record from every log since the deployment (slower)")
    .description("check a trade record against the chain through --rpc, trusting nothing else (exit code 1 when it fails)")
    .action(
      withContext(async (context, file: string, options: { json?: boolean; fromBlock?: number; reputation?: boolean }) => {
        let record: unknown;
        try {
          record = JSON.parse(await readFile(file, "utf8"));
        } catch (error) {
          throw new CliError(`cannot read the trade record ${file}: ${(error as Error).message}`);
        }
        const deployment = await context.deployment();
        const deployBlock = options.fromBlock ?? ("deployBlock" in deployment ? Number(deployment.deployBlock) : 0);
        const report = await verifyTradeRecord(record, {
          provider: context.provider,
          deployment: { ...deployment, chainId: context.chainId, deployBlock },
          abis: context.abis,
          withSellerReputation: options.reputation === true,
        });
        console.log(options.json ? JSON.stringify(report, null, 2) : formatVerification(report));
        if (!report.valid) process.exitCode = 1;
      }),
    );
}
