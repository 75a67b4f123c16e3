/**
 * `provena order …`: escrow orders, for buyers, sellers, arbiters and anyone settling.
 */
import { readFile, writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { ZeroAddress, hexlify, isHexString, parseUnits, randomBytes, resolveAddress } from "ethers";
import type { OrderStruct } from "../../backend/chain/contracts.ts";
import { signOrderConsent } from "../../backend/chain/order-consent.ts";
import { describeOrderInspectorRefusal, orderInspectorRefusal } from "../../backend/chain/order-inspector.ts";
import { INSPECTION_RESULTS, ORDER_STATES } from "../../backend/chain/vocabulary.ts";
import type { Hex } from "../../backend/domain/model.ts";
import { address, batchRef, bps, hex32, nonNegativeInteger, positiveInteger } from "./arguments.ts";
import { CliError, type CliContext, type WithContext } from "./context.ts";
import { contentHash, readOrder } from "./inputs.ts";

export function registerOrderCommands(program: Command, withContext: WithContext): void {
  const order = program.command("order").description("escrow orders (buyer, seller, arbiter, anyone for settlement)");
  registerOpenOrderCommand(order, withContext);
  const settlement = (name: string, method: string, label: string, description: string) =>
    order
      .command(`${name} <order>`)
      .description(`${description} (<order>: the JSON file from \`order draft\`/\`order open --out\`, or an order id known to the backend)`)
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
        // The escrow is asked with the whole order: it answers only for terms that hash to the id it stores.
        const struct = await readOrder(context, reference);
        const orderId = ((await escrow.orderIdOf(struct)) as string).toLowerCase();
        const [state, deliveredAt, disputedAt] = await escrow.orderState(struct);
        const inspector = (await resolveAddress(struct.inspector)).toLowerCase();
        console.log(
          JSON.stringify(
            {
              orderId,
              state: ORDER_STATES[Number(state)],
              deliveredAt: Number(deliveredAt) || null,
              disputedAt: Number(disputedAt) || null,
              inspector: inspector === ZeroAddress ? null : inspector,
              inspection: INSPECTION_RESULTS[Number(await escrow.orderInspection(struct))],
            },
            null,
            2,
          ),
        );
      }),
    );
}

interface DraftOptions {
  buyer?: string;
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
  inspector?: string;
  fallbackBuyerBps: number;
  salt?: string;
  out?: string;
}

/**
 * The order's life before it is funded: either party drafts the terms (`order draft`), the seller signs its
 * consent to exactly those terms (`order consent`), and the buyer opens and funds it with that consent (`order open`).
 */
function registerOpenOrderCommand(order: Command, withContext: WithContext): void {
  order
    .command("draft")
    .description("write an order's terms for the seller to consent to (either party may draft)")
    .option("--buyer <address>", "the buyer (default: you)", address)
    .requiredOption("--batch <batch>", "batch id or GTIN/LOT", batchRef)
    .requiredOption("--seller <address>", "the seller (the batch's custodian)", address)
    .requiredOption("--carrier <address>", "the carrier paid freight on release", address)
    .requiredOption("--amount <amount>", "amount in ETH (or in token units with --decimals)")
    .option("--token <address>", "ERC-20 token on the escrow's allowlist (default: ETH)", address)
    .option("--decimals <n>", "token decimals for --amount", nonNegativeInteger, 18)
    .requiredOption("--carrier-bps <bps>", "carrier's share", bps)
    .option("--platform-bps <bps>", "platform fee (default: the fee in force)", bps)
    .option("--deadline-days <days>", "delivery deadline, days from now (at most the escrow's limit)", positiveInteger, 14)
    .option("--dispute-window <seconds>", "seconds after delivery the buyer may dispute", nonNegativeInteger, 3 * 24 * 3600)
    .option(
      "--inspector <address>",
      "the inspector whose passing attestation release requires (an active INSPECTOR, none of the parties; default: no inspection)",
      address,
    )
    .option("--fallback-buyer-bps <bps>", "buyer's share if a dispute is never resolved", bps, 5_000)
    .option("--salt <hex>", "makes otherwise equal orders distinct (default: random)", hex32)
    .option("--out <file>", "write the order to this JSON file (default: print it)")
    .action(
      withContext(async (context, options: DraftOptions) => {
        const struct = await draftOrder(context, options);
        await checkInspector(context, struct);
        const orderId = (await (await context.escrow()).orderIdOf(struct)) as string;
        await writeOrderFile(options.out, { orderId, order: { ...struct, amount: struct.amount.toString() } });
      }),
    );
  order
    .command("consent <order>")
    .description("the seller signs its consent (EIP-712) to exactly the terms of a drafted order")
    .option("--out <file>", "write the order with the consent to this JSON file (default: print it)")
    .action(
      withContext(async (context, reference: string, options: { out?: string }) => {
        const struct = await readOrder(context, reference);
        const seller = await context.signer();
        const orderSeller = await resolveAddress(struct.seller);
        if (seller.address.toLowerCase() !== orderSeller.toLowerCase()) {
          throw new CliError(`the order's seller is ${orderSeller}; you are ${seller.address}`);
        }
        await checkInspector(context, struct);
        const escrow = await context.escrow();
        const sellerSignature = await signOrderConsent(seller, { chainId: context.chainId, address: await escrow.getAddress() }, struct);
        const orderId = (await escrow.orderIdOf(struct)) as string;
        await writeOrderFile(options.out, { orderId, order: { ...struct, amount: struct.amount.toString() }, sellerSignature });
      }),
    );
  order
    .command("open <order>")
    .description("the buyer opens and funds a drafted order with the seller's consent (ETH, or a token the escrow may pull)")
    .option("--consent <signature>", "the seller's consent (default: the sellerSignature in the order file)")
    .option("--out <file>", "write the opened order (needed to settle it) to this JSON file")
    .action(
      withContext(async (context, reference: string, options: { consent?: string; out?: string }) => {
        const struct = await readOrder(context, reference);
        const sellerSignature = options.consent ?? (await readConsent(reference));
        if (!isHexString(sellerSignature)) {
          throw new CliError("no seller consent: pass --consent, or an order file from `order consent` (ask the seller to sign it)");
        }
        const orderId = (await (await context.escrow()).orderIdOf(struct)) as string;
        const value = struct.token === ZeroAddress ? { value: BigInt(struct.amount) } : {};
        await context.send(`order ${orderId} opened and funded`, "escrow", "openOrder", [struct, sellerSignature], value);
        await writeOrderFile(options.out, { orderId, order: { ...struct, amount: struct.amount.toString() }, sellerSignature });
      }),
    );
}

async function draftOrder(context: CliContext, options: DraftOptions): Promise<OrderStruct & { amount: bigint }> {
  const escrow = await context.escrow();
  const buyer = options.buyer ?? (await context.signer()).address;
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
  return {
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
    inspector: options.inspector ?? ZeroAddress,
    fallbackBuyerBps: options.fallbackBuyerBps,
    salt: options.salt ?? hexlify(randomBytes(32)),
    breachTerms: 0,
  };
}

/** Refuses, before the seller signs anything, an inspector the escrow would refuse when the order opens. */
async function checkInspector(context: CliContext, order: OrderStruct): Promise<void> {
  const escrow = await context.escrow();
  const refusal = await orderInspectorRefusal(order, await escrow.getAddress(), await context.registry());
  if (refusal !== null) throw new CliError(describeOrderInspectorRefusal(refusal, escrow.interface, context.decoder));
}

/** The sellerSignature of an order file; undefined for an order id or a file without one. */
async function readConsent(reference: string): Promise<string | undefined> {
  try {
    const json = JSON.parse(await readFile(reference, "utf8")) as { sellerSignature?: unknown };
    return typeof json.sellerSignature === "string" ? json.sellerSignature : undefined;
  } catch {
    return undefined;
  }
}

async function writeOrderFile(out: string | undefined, content: Record<string, unknown>): Promise<void> {
  const json = JSON.stringify(content, null, 2);
  if (out) {
    await writeFile(out, `${json}\n`);
    console.log(`  order written to ${out}`);
  } else {
    console.log(json);
  }
}
