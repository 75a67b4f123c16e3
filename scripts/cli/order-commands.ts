/**
 * `provena order …`: escrow orders, for buyers, sellers, arbiters and anyone settling.
 */
import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { ZeroAddress, hexlify, parseUnits, randomBytes } from "ethers";
import { ORDER_STATES } from "../../backend/chain/vocabulary.ts";
import type { Hex } from "../../backend/domain/model.ts";
import { address, batchRef, bps, hex32, nonNegativeInteger, positiveInteger } from "./arguments.ts";
import { CliError, type WithContext } from "./context.ts";
import { contentHash, readOrder } from "./inputs.ts";

export function registerOrderCommands(program: Command, withContext: WithContext): void {
  const order = program.command("order").description("escrow orders (buyer, seller, arbiter, anyone for settlement)");
  registerOpenOrderCommand(order, withContext);
  const settlement = (name: string, method: string, label: string, description: string) =>
    order
      .command(`${name} <order>`)
      .description(`${description} (<order>: the JSON file from \`order open --out\`, or an order id known to the backend)`)
      .action(
        withContext(
          async (context, reference: string) => void (await context.send(label, "escrow", method, [await readOrder(context, reference)])),
        ),
      );
  settlement("release", "release", "order released", "pay out a delivered order (the buyer at once; anyone after the dispute window)");
  settlement("refund", "refund", "order refunded", "refund the buyer (deadline passed, recalled, or failed inspection)");
  settlement(
    "cancel",
    "approveCancellation",
    "cancellation approved",
    "buyer or seller agrees to cancel before shipment (both: buyer refunded)",
  );
  settlement(
    "resolve-expired",
    "resolveExpiredDispute",
    "dispute settled by the fallback rule",
    "settle a dispute by the order's fallback rule after the arbitration period",
  );
  order
    .command("dispute <order>")
    .description("the buyer disputes a delivered order within the dispute window")
    .requiredOption("--reason <text|file|hash>", "reason (hashed on chain)")
    .action(
      withContext(
        async (context, reference: string, options: { reason: string }) =>
          void (await context.send("order disputed", "escrow", "dispute", [
            await readOrder(context, reference),
            await contentHash(options.reason),
          ])),
      ),
    );
  order
    .command("resolve <order>")
    .description("an arbiter settles a dispute")
    .requiredOption("--buyer-bps <bps>", "buyer's share; the rest goes by the order's split", bps)
    .action(
      withContext(
        async (context, reference: string, options: { buyerBps: number }) =>
          void (await context.send("dispute resolved", "escrow", "resolveDispute", [
            await readOrder(context, reference),
            options.buyerBps,
          ])),
      ),
    );
  order
    .command("withdraw")
    .description("withdraw funds the escrow credited to you")
    .option("--token <address>", "ERC-20 token (default: ETH)", address)
    .action(
      withContext(
        async (context, options: { token?: string }) =>
          void (await context.send("withdrawn", "escrow", "withdraw", [options.token ?? ZeroAddress])),
      ),
    );
  order
    .command("show <order>")
    .description("an order's on-chain state")
    .action(
      withContext(async (context, reference: string) => {
        const escrow = await context.escrow();
        // The escrow stores a tag per batch, not the id, so its state is asked with the whole order.
        const struct = await readOrder(context, reference);
        const orderId = ((await escrow.orderIdOf(struct)) as string).toLowerCase();
        const [state, deliveredAt, disputedAt] = await escrow.orderState(struct);
        console.log(
          JSON.stringify(
            {
              orderId,
              state: ORDER_STATES[Number(state)],
              deliveredAt: Number(deliveredAt) || null,
              disputedAt: Number(disputedAt) || null,
            },
            null,
            2,
          ),
        );
      }),
    );
}

/** `order open`: the buyer opens and funds an order. */
function registerOpenOrderCommand(order: Command, withContext: WithContext): void {
  order
    .command("open")
    .description("the buyer opens and funds an order (ETH, or a token the escrow may pull)")
    .requiredOption("--batch <batch>", "batch id or GTIN/LOT", batchRef)
    .requiredOption("--seller <address>", "the seller (the batch's custodian)", address)
    .requiredOption("--carrier <address>", "the carrier paid freight on release", address)
    .requiredOption("--amount <amount>", "amount in ETH (or in token units with --decimals)")
    .option("--token <address>", "ERC-20 token (default: ETH)", address)
    .option("--decimals <n>", "token decimals for --amount", nonNegativeInteger, 18)
    .requiredOption("--carrier-bps <bps>", "carrier's share", bps)
    .option("--platform-bps <bps>", "platform fee (default: the fee in force)", bps)
    .option("--deadline-days <days>", "delivery deadline, days from now", positiveInteger, 14)
    .option("--dispute-window <seconds>", "seconds after delivery the buyer may dispute", nonNegativeInteger, 3 * 24 * 3600)
    .option("--requires-inspection", "release only after a passing inspection", false)
    .option("--fallback-buyer-bps <bps>", "buyer's share if a dispute is never resolved", bps, 5_000)
    .option("--salt <hex>", "makes otherwise equal orders distinct (default: random)", hex32)
    .option("--out <file>", "write the order (needed to settle it) to this JSON file")
    .action(
      withContext(
        async (
          context,
          options: {
            batch: Hex;
            seller: string;
            carrier: string;
            amount: string;
            token?: string;
            decimals: number;
            carrierBps: number;
            platformBps?: number;
            deadlineDays: number;
            disputeWindow: number;
            requiresInspection: boolean;
            fallbackBuyerBps: number;
            salt?: string;
            out?: string;
          },
        ) => {
          const escrow = await context.escrow();
          const buyer = (await context.signer()).address;
          const platformBps = options.platformBps ?? Number((await escrow.platformFee())[1]);
          const sellerBps = 10_000 - options.carrierBps - platformBps;
          if (sellerBps < 0) throw new CliError(`--carrier-bps ${options.carrierBps} + platform ${platformBps} exceed 10000`);
          let amount: bigint;
          try {
            amount = parseUnits(options.amount, options.token ? options.decimals : 18);
          } catch {
            throw new CliError(`--amount ${options.amount} is not a number`);
          }
          const latest = await context.provider.getBlock("latest");
          const struct = {
            buyer,
            seller: options.seller,
            carrier: options.carrier,
            token: options.token ?? ZeroAddress,
            amount,
            batchId: options.batch,
            sellerBps,
            carrierBps: options.carrierBps,
            platformBps,
            deliveryDeadline: latest!.timestamp + options.deadlineDays * 24 * 3600,
            disputeWindow: options.disputeWindow,
            requiresPassingInspection: options.requiresInspection,
            fallbackBuyerBps: options.fallbackBuyerBps,
            salt: options.salt ?? hexlify(randomBytes(32)),
          };
          const orderId = (await escrow.orderIdOf(struct)) as string;
          await context.send(
            `order ${orderId} opened and funded`,
            "escrow",
            "openOrder",
            [struct],
            struct.token === ZeroAddress ? { value: amount } : {},
          );
          const json = JSON.stringify({ orderId, order: { ...struct, amount: amount.toString() } }, null, 2);
          if (options.out) {
            await writeFile(options.out, `${json}\n`);
            console.log(`  order written to ${options.out}`);
          } else {
            console.log(json);
          }
        },
      ),
    );
}
