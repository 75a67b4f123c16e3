/**
 * The Provena CLI, for every role:  npx provena <command>  (or  npm run cli -- <command>)
 *
 * Keys come from the environment, never from flags: PROVENA_PRIVATE_KEY, or PROVENA_KEYSTORE (an encrypted JSON
 * keystore) with PROVENA_KEYSTORE_PASSWORD or a password prompt. The chain is RPC_URL (or --rpc; default
 * http://127.0.0.1:8545, where `npm start` serves its in-process chain); contract addresses come from the
 * deployment file (DEPLOYMENT_FILE or backend/chain/deployments/<chainId>.json), else from the running backend
 * (PROVENA_API_URL or --api; default http://127.0.0.1:3000). --relay sends partner actions gasless through the
 * backend's relayer. Failures print one line, with the contracts' custom errors decoded, and exit 1.
 */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import { ZeroAddress, getAddress, hexlify, id as keccakText, isAddress, keccak256, parseUnits, randomBytes, type Contract } from "ethers";
import { readDeployment, resolveDeploymentFile, writeDeployment } from "../backend/chain/deployment.ts";
import { PROJECT_ROOT } from "../backend/chain/artifacts.ts";
import { connectProvider } from "../backend/chain/provider.ts";
import { deployProvenaWithIgnition, ignitionJournalDir, localSignerEip1193 } from "../backend/deploy/deploy-provena.ts";
import { orderStruct } from "../backend/keeper/keeper.ts";
import { DigitalLinkError, batchIdOf, buildDigitalLink, gs1CheckDigit, isValidLotOrSerial, normalizeGtin } from "../backend/passport/digital-link.ts";
import { qrPng, qrSvg, qrTerminal } from "../backend/passport/qr.ts";
import { buildSerialTree, parseSerialList, type SerialListFormat } from "../backend/passport/serials.ts";
import { PassportFetchError, verifyPassportUrl } from "../backend/passport/verify-url.ts";
import type { Hex, Order } from "../backend/domain/model.ts";
import { CliError, createCliContext, loadSigner, type CliContext, type GlobalOptions } from "./cli/context.ts";

// --- argument parsers (each throws a message commander prints with the option's name) --------------------

const ROLES = ["MANUFACTURER", "CARRIER", "INSPECTOR", "RETAILER", "REGULATOR"] as const;
const BUSINESS_STEPS = ["shipping", "receiving", "departing", "arriving", "storing", "loading", "unloading", "transporting", "inspecting", "accepting", "entering_exiting", "retail"] as const;

function address(value: string): string {
  if (!isAddress(value)) throw new InvalidArgumentError("must be a 0x-prefixed 20-byte address");
  return getAddress(value);
}
function gln(value: string): bigint {
  if (!/^\d{13}$/.test(value)) throw new InvalidArgumentError("must be a 13-digit GLN");
  if (gs1CheckDigit(value.slice(0, 12)) !== Number(value[12])) throw new InvalidArgumentError(`has a wrong check digit (expected ${gs1CheckDigit(value.slice(0, 12))})`);
  return BigInt(value);
}
function bps(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 10_000) throw new InvalidArgumentError("must be basis points 0-10000");
  return Number(value);
}
function positiveInteger(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) <= 0) throw new InvalidArgumentError("must be a positive integer");
  return Number(value);
}
function nonNegativeInteger(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError("must be a non-negative integer");
  return Number(value);
}
function role(value: string): string {
  const name = value.toUpperCase().replace(/_ROLE$/, "");
  if (!(ROLES as readonly string[]).includes(name)) throw new InvalidArgumentError(`must be one of ${ROLES.join(", ")}`);
  return name;
}
function step(value: string): number {
  const index = (BUSINESS_STEPS as readonly string[]).indexOf(value.toLowerCase().replace(/-/g, "_"));
  if (index === -1) throw new InvalidArgumentError(`must be one of ${BUSINESS_STEPS.join(", ")}`);
  return index;
}
function hex32(value: string): string {
  if (!/^0x[0-9a-fA-F]{64}$/.test(value)) throw new InvalidArgumentError("must be 0x + 64 hex digits");
  return value.toLowerCase();
}

/** The host a QR code points at: it must be an absolute http(s) URL, or the code scans to nothing. */
function baseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError("must be an absolute http(s) URL, e.g. https://passports.example.com");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new InvalidArgumentError("must be an absolute http(s) URL, e.g. https://passports.example.com");
  return value;
}

/** A batch given as its id (0x…) or as GTIN/LOT. */
function batchRef(value: string): Hex {
  if (/^0x[0-9a-fA-F]{64}$/.test(value)) return value.toLowerCase() as Hex;
  const slash = value.indexOf("/");
  if (slash === -1) throw new InvalidArgumentError("must be a batch id (0x + 64 hex digits) or GTIN/LOT");
  try {
    const lot = value.slice(slash + 1);
    if (!isValidLotOrSerial(lot)) throw new DigitalLinkError(`lot "${lot}" must be 1-20 characters of GS1 character set 82`);
    return batchIdOf(normalizeGtin(value.slice(0, slash)), lot);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

/** Hash of a reason or report: a 0x…32-byte hash as is, a readable file's bytes, else the text itself. */
async function contentHash(value: string | undefined): Promise<string> {
  if (value === undefined || value === "") return `0x${"00".repeat(32)}`;
  if (/^0x[0-9a-fA-F]{64}$/.test(value)) return value.toLowerCase();
  try {
    return keccak256(await readFile(value));
  } catch {
    return keccakText(value);
  }
}

async function readSerialFile(file: string, format?: SerialListFormat): Promise<{ serials: string[]; root: Hex; text: string; format: SerialListFormat }> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new CliError(`cannot read the serial file ${file}: ${(error as Error).message}`);
  }
  const resolvedFormat: SerialListFormat = format ?? (path.extname(file).toLowerCase() === ".json" ? "json" : "csv");
  const parsed = parseSerialList(text, resolvedFormat);
  if (!parsed.ok) {
    const lines = parsed.errors.map((issue) => `  ${issue.line !== undefined ? `line ${issue.line}` : `entry ${issue.entry}`}: ${issue.message}`);
    throw new CliError(`${file}: ${parsed.errorCount} invalid row${parsed.errorCount === 1 ? "" : "s"}, nothing registered:\n${lines.join("\n")}${parsed.errorCount > parsed.errors.length ? "\n  …" : ""}`);
  }
  const tree = await buildSerialTree(parsed.serials);
  return { serials: parsed.serials, root: tree.root, text, format: resolvedFormat };
}

/** Uploads a serial list to the backend (POST /api/v1/serial-sets), so passports can prove units later. */
async function uploadSerials(apiUrl: string, text: string, format: SerialListFormat, expectedRoot: Hex): Promise<void> {
  let response: Response;
  try {
    response = await fetch(`${apiUrl}/api/v1/serial-sets`, {
      method: "POST",
      headers: { "content-type": format === "csv" ? "text/csv" : "application/json", accept: "application/json" },
      body: text,
    });
  } catch (error) {
    throw new CliError(`cannot upload the serial list to ${apiUrl}: ${(error as Error).message} (start the backend, set --api, or pass --no-upload)`);
  }
  const body = (await response.json().catch(() => ({}))) as { serialRoot?: string; detail?: string; errors?: { line?: number; message: string }[] };
  if (!response.ok) {
    const rows = (body.errors ?? []).slice(0, 20).map((e) => `\n  line ${e.line ?? "?"}: ${e.message}`).join("");
    throw new CliError(`the backend refused the serial list (HTTP ${response.status}): ${body.detail ?? "no detail"}${rows}`);
  }
  if (body.serialRoot?.toLowerCase() !== expectedRoot) throw new CliError(`the backend computed root ${body.serialRoot}, but the file gives ${expectedRoot}`);
}

/** Ignition parameters for `deploy --parameters`: a JSON object of modules, each an object of parameters. */
async function readIgnitionParameters(file: string): Promise<Record<string, Record<string, unknown>>> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new CliError(`cannot read the Ignition parameters file ${file}: ${(error as Error).message}`);
  }
  const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);
  if (!isObject(json) || !Object.values(json).every(isObject)) {
    throw new CliError(`the Ignition parameters file ${file} must be a JSON object of modules, e.g. { "ProvenaModule": { "adminTransferDelay": 0 } }`);
  }
  return json as Record<string, Record<string, unknown>>;
}

/** An order from a JSON file written by `order open --out`, or by id from the backend's mirror. */
async function readOrder(context: CliContext, reference: string) {
  if (/^0x[0-9a-fA-F]{64}$/.test(reference)) {
    const response = await fetch(`${context.apiUrl}/api/v1/orders/${reference.toLowerCase()}`, { headers: { accept: "application/json" } }).catch((error) => {
      throw new CliError(`cannot reach the backend at ${context.apiUrl} to look up order ${reference}: ${(error as Error).message} (or pass the order JSON file)`);
    });
    if (!response.ok) throw new CliError(`the backend has no order ${reference} (HTTP ${response.status}); pass the order JSON file written by \`order open --out\``);
    return orderStruct((await response.json()) as Order);
  }
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(await readFile(reference, "utf8"));
  } catch (error) {
    throw new CliError(`cannot read order file ${reference}: ${(error as Error).message}`);
  }
  const order = (json.order ?? json) as Order;
  return orderStruct(order);
}

// --- the program ---------------------------------------------------------------------------------------------

const program = new Command()
  .name("provena")
  .description("Provena supply-chain provenance and escrow, from the command line. Keys: PROVENA_PRIVATE_KEY or PROVENA_KEYSTORE (+ PROVENA_KEYSTORE_PASSWORD).")
  .option("--rpc <url>", "JSON-RPC endpoint (default: RPC_URL, else http://127.0.0.1:8545)")
  .option("--deployment <file>", "deployment file (default: DEPLOYMENT_FILE, else backend/chain/deployments/<chainId>.json)")
  .option("--api <url>", "Provena backend, for --relay, uploads and lookups (default: PROVENA_API_URL, else http://127.0.0.1:3000)")
  .option("--relay", "send gasless through the backend's relayer instead of paying gas", false)
  .showHelpAfterError("(run with --help for usage)");

/** Runs `action` with a connected context and closes it afterwards. */
function withContext<A extends unknown[]>(action: (context: CliContext, ...args: A) => Promise<void>) {
  return async (...args: A) => {
    const context = await createCliContext(program.opts<GlobalOptions>());
    try {
      await action(context, ...args);
    } finally {
      await context.close();
    }
  };
}

// deploy
program
  .command("deploy")
  .description("deploy Provena with its Ignition module from your key, and write the deployment file")
  .option("--admin <address>", "consortium admin (default: the deploying account)", address)
  .option("--admin-transfer-delay <seconds>", "seconds an admin transfer must wait (default: the module's, 2 days)", nonNegativeInteger)
  .option("--parameters <file>", "Ignition parameters JSON file ({ \"ProvenaModule\": { … } })")
  .option("--force", "deploy even when a deployment file for this chain exists", false)
  .action(async (options: { admin?: string; adminTransferDelay?: number; parameters?: string; force: boolean }) => {
    const globals = program.opts<GlobalOptions>();
    const rpcUrl = globals.rpc ?? process.env.RPC_URL ?? "http://127.0.0.1:8545";
    const { provider, chainId } = await connectProvider({ rpcUrl, timeoutMs: 10_000 });
    try {
      const file = resolveDeploymentFile(globals.deployment ?? process.env.DEPLOYMENT_FILE ?? null, chainId);
      const existing = await readDeployment(file, chainId);
      if (existing && !options.force) throw new CliError(`chain ${chainId} already has a deployment in ${file} (registry ${existing.registry}); pass --force to deploy again`);
      const wallet = (await loadSigner()).connect(provider);
      const parameters: Record<string, Record<string, unknown>> = options.parameters ? await readIgnitionParameters(options.parameters) : {};
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
      console.log(`✓ deployed to chain ${chainId}: forwarder ${deployment.forwarder}, registry ${deployment.registry}, escrow ${deployment.escrow} (from block ${deployment.deployBlock})`);
      console.log(`  deployment file: ${file}`);
    } finally {
      await provider.destroy();
    }
  });

// participants
const participant = program.command("participant").description("consortium membership (admin)");
participant
  .command("add")
  .argument("<address>", "the participant's account", address)
  .description("onboard a participant with a role")
  .requiredOption("--role <role>", `one of ${ROLES.join(", ")}`, role)
  .requiredOption("--gln <gln>", "13-digit party GLN", gln)
  .requiredOption("--name <name>", "display name")
  .action(
    withContext(async (context, account: string, options: { role: string; gln: bigint; name: string }) => {
      await context.send(`onboarded ${options.name} as ${options.role}`, "registry", "onboardParticipant", [account, keccakText(`${options.role}_ROLE`), options.gln, options.name]);
    }),
  );
participant
  .command("update")
  .argument("<address>", "the participant's account", address)
  .description("change a participant's GLN and name")
  .requiredOption("--gln <gln>", "13-digit party GLN", gln)
  .requiredOption("--name <name>", "display name")
  .action(withContext(async (context, account: string, options: { gln: bigint; name: string }) => void (await context.send("participant updated", "registry", "updateParticipant", [account, options.gln, options.name]))));
participant
  .command("suspend")
  .argument("<address>", "the participant's account", address)
  .description("suspend a participant (it can do nothing until reinstated)")
  .option("--reason <text|file|hash>", "reason (hashed on chain)")
  .action(withContext(async (context, account: string, options: { reason?: string }) => void (await context.send("participant suspended", "registry", "suspendParticipant", [account, await contentHash(options.reason)]))));
participant
  .command("reinstate")
  .argument("<address>", "the participant's account", address)
  .description("lift a suspension")
  .action(withContext(async (context, account: string) => void (await context.send("participant reinstated", "registry", "reinstateParticipant", [account]))));
participant
  .command("show")
  .argument("<address>", "the participant's account", address)
  .description("a participant's on-chain record and roles")
  .action(
    withContext(async (context, account: string) => {
      const registry = await context.registry();
      const [participantId, participantGln, suspended] = await registry.participant(account);
      const roles = [];
      for (const name of ROLES) if (await registry.hasRole(keccakText(`${name}_ROLE`), account)) roles.push(name);
      console.log(JSON.stringify({ address: account.toLowerCase(), participantId: Number(participantId), gln: participantGln.toString(), suspended, roles }, null, 2));
    }),
  );

// batches
const batch = program.command("batch").description("batches of serialised units (manufacturer)");
batch
  .command("register")
  .description("register a batch from a serial file (CSV or JSON): computes the Merkle root and uploads the list")
  .requiredOption("--gtin <gtin>", "GTIN-8/12/13/14")
  .requiredOption("--lot <lot>", "batch/lot number (GS1 AI 10)")
  .requiredOption("--serials <file>", "unit serial list, CSV (one per line, optional header) or JSON array")
  .addOption(new Option("--format <format>", "serial file format (default: by extension)").choices(["csv", "json"]))
  .option("--production-date <date>", "YYYY-MM-DD (default: today)")
  .requiredOption("--origin-gln <gln>", "13-digit GLN of the production site", gln)
  .option("--document <file|text|hash>", "the batch document (its hash goes on chain)")
  .option("--no-upload", "do not upload the serial list to the backend")
  .action(
    withContext(async (context, options: { gtin: string; lot: string; serials: string; format?: SerialListFormat; productionDate?: string; originGln: bigint; document?: string; upload: boolean }) => {
      let gtin14: string;
      try {
        gtin14 = normalizeGtin(options.gtin);
      } catch (error) {
        throw new CliError(`--gtin: ${(error as Error).message}`);
      }
      if (!isValidLotOrSerial(options.lot)) throw new CliError(`--lot "${options.lot}" must be 1-20 characters of GS1 character set 82`);
      const productionDate = options.productionDate ? Date.parse(`${options.productionDate}T00:00:00Z`) / 1000 : Math.floor(Date.now() / 1000) - 60;
      if (!Number.isFinite(productionDate)) throw new CliError(`--production-date must be YYYY-MM-DD (got ${options.productionDate})`);
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
    }),
  );
batch
  .command("show")
  .argument("<batch>", "batch id (0x + 64 hex digits) or GTIN/LOT", batchRef)
  .description("what the registry stores about a batch (id or GTIN/LOT)")
  .action(
    withContext(async (context, batchId: Hex) => {
      const [manufacturer, custodian, pendingCustodian, status, inspection, quantity, custodySince, serialRoot] = await (await context.registry()).batch(batchId);
      const statuses = ["none", "registered", "in_transit", "delivered", "split", "recalled"];
      const inspections = ["none", "passed", "failed"];
      console.log(JSON.stringify({ batchId, manufacturer, custodian, pendingCustodian: pendingCustodian === ZeroAddress ? null : pendingCustodian, status: statuses[Number(status)], inspection: inspections[Number(inspection)], quantity: quantity.toString(), custodySince: Number(custodySince), serialRoot }, null, 2));
    }),
  );

// custody
const handoff = program.command("handoff").description("two-party custody handoffs (custodian and receiver)");
handoff
  .command("propose")
  .argument("<batch>", "batch id (0x + 64 hex digits) or GTIN/LOT", batchRef)
  .description("the custodian proposes handing the batch to a participant")
  .requiredOption("--to <address>", "the receiver", address)
  .requiredOption("--location <gln>", "13-digit GLN where it happens", gln)
  .addOption(new Option("--step <step>", "CBV business step").default(0, "shipping").argParser(step))
  .action(withContext(async (context, batchId: Hex, options: { to: string; location: bigint; step: number }) => void (await context.send("handoff proposed", "registry", "proposeHandoff", [batchId, options.to, options.location, options.step]))));
handoff
  .command("accept")
  .argument("<batch>", "batch id (0x + 64 hex digits) or GTIN/LOT", batchRef)
  .description("the receiver takes custody")
  .requiredOption("--location <gln>", "13-digit GLN where it happens", gln)
  .addOption(new Option("--step <step>", "CBV business step").default(1, "receiving").argParser(step))
  .action(withContext(async (context, batchId: Hex, options: { location: bigint; step: number }) => void (await context.send("handoff accepted", "registry", "acceptHandoff", [batchId, options.location, options.step]))));
handoff
  .command("reject")
  .argument("<batch>", "batch id (0x + 64 hex digits) or GTIN/LOT", batchRef)
  .description("the receiver refuses the pending handoff")
  .option("--reason <text|file|hash>", "reason (hashed on chain)")
  .action(withContext(async (context, batchId: Hex, options: { reason?: string }) => void (await context.send("handoff rejected", "registry", "rejectHandoff", [batchId, await contentHash(options.reason)]))));
handoff
  .command("cancel")
  .argument("<batch>", "batch id (0x + 64 hex digits) or GTIN/LOT", batchRef)
  .description("the custodian withdraws its pending handoff")
  .action(withContext(async (context, batchId: Hex) => void (await context.send("handoff cancelled", "registry", "cancelHandoff", [batchId]))));

program
  .command("attest")
  .argument("<batch>", "batch id (0x + 64 hex digits) or GTIN/LOT", batchRef)
  .description("an inspector attests a batch's quality")
  .addOption(new Option("--result <result>", "pass or fail").choices(["pass", "fail"]).makeOptionMandatory())
  .option("--report <file|text|hash>", "the inspection report (its hash goes on chain)")
  .action(withContext(async (context, batchId: Hex, options: { result: "pass" | "fail"; report?: string }) => void (await context.send(`quality attested: ${options.result}`, "registry", "attestQuality", [batchId, options.result === "pass", await contentHash(options.report)]))));

program
  .command("split")
  .argument("<batch>", "batch id (0x + 64 hex digits) or GTIN/LOT", batchRef)
  .description("the custodian splits a batch into child batches (quantities from each child's serial file)")
  .requiredOption("--child <lot:serialfile>", "a child batch: its lot and its serial file (repeat, at least 2)", (value: string, previous: string[] = []) => [...previous, value])
  .action(
    withContext(async (context, batchId: Hex, options: { child: string[] }) => {
      if (options.child.length < 2) throw new CliError("--child: a split needs at least two children");
      const children = [];
      for (const spec of options.child) {
        const colon = spec.indexOf(":");
        if (colon <= 0) throw new CliError(`--child "${spec}" must be <lot>:<serial file>`);
        const lot = spec.slice(0, colon);
        if (!isValidLotOrSerial(lot)) throw new CliError(`--child lot "${lot}" must be 1-20 characters of GS1 character set 82`);
        const list = await readSerialFile(spec.slice(colon + 1));
        if (!program.opts<GlobalOptions>().relay) await uploadSerials(context.apiUrl, list.text, list.format, list.root).catch((error) => console.error(`! ${(error as Error).message}`));
        children.push({ lot, quantity: BigInt(list.serials.length), serialRoot: list.root });
      }
      await context.send(`split into ${children.map((c) => `${c.lot} (${c.quantity})`).join(", ")}`, "registry", "splitBatch", [batchId, children]);
    }),
  );

program
  .command("recall")
  .argument("<batch>", "batch id (0x + 64 hex digits) or GTIN/LOT", batchRef)
  .description("the manufacturer or a regulator recalls a batch")
  .requiredOption("--reason <text|file|hash>", "reason (hashed on chain)")
  .action(withContext(async (context, batchId: Hex, options: { reason: string }) => void (await context.send("batch recalled", "registry", "recallBatch", [batchId, await contentHash(options.reason)]))));

// escrow orders
const order = program.command("order").description("escrow orders (buyer, seller, arbiter, anyone for settlement)");
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
    withContext(async (context, options: { batch: Hex; seller: string; carrier: string; amount: string; token?: string; decimals: number; carrierBps: number; platformBps?: number; deadlineDays: number; disputeWindow: number; requiresInspection: boolean; fallbackBuyerBps: number; salt?: string; out?: string }) => {
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
      await context.send(`order ${orderId} opened and funded`, "escrow", "openOrder", [struct], struct.token === ZeroAddress ? { value: amount } : {});
      const json = JSON.stringify({ orderId, order: { ...struct, amount: amount.toString() } }, null, 2);
      if (options.out) {
        await writeFile(options.out, `${json}\n`);
        console.log(`  order written to ${options.out}`);
      } else {
        console.log(json);
      }
    }),
  );
const settlement = (name: string, method: string, label: string, description: string) =>
  order
    .command(`${name} <order>`)
    .description(`${description} (<order>: the JSON file from \`order open --out\`, or an order id known to the backend)`)
    .action(withContext(async (context, reference: string) => void (await context.send(label, "escrow", method, [await readOrder(context, reference)]))));
settlement("release", "release", "order released", "pay out a delivered order (the buyer at once; anyone after the dispute window)");
settlement("refund", "refund", "order refunded", "refund the buyer (deadline passed, recalled, or failed inspection)");
settlement("cancel", "approveCancellation", "cancellation approved", "buyer or seller agrees to cancel before shipment (both: buyer refunded)");
settlement("resolve-expired", "resolveExpiredDispute", "dispute settled by the fallback rule", "settle a dispute by the order's fallback rule after the arbitration period");
order
  .command("dispute <order>")
  .description("the buyer disputes a delivered order within the dispute window")
  .requiredOption("--reason <text|file|hash>", "reason (hashed on chain)")
  .action(withContext(async (context, reference: string, options: { reason: string }) => void (await context.send("order disputed", "escrow", "dispute", [await readOrder(context, reference), await contentHash(options.reason)]))));
order
  .command("resolve <order>")
  .description("an arbiter settles a dispute")
  .requiredOption("--buyer-bps <bps>", "buyer's share; the rest goes by the order's split", bps)
  .action(withContext(async (context, reference: string, options: { buyerBps: number }) => void (await context.send("dispute resolved", "escrow", "resolveDispute", [await readOrder(context, reference), options.buyerBps]))));
order
  .command("withdraw")
  .description("withdraw funds the escrow credited to you")
  .option("--token <address>", "ERC-20 token (default: ETH)", address)
  .action(withContext(async (context, options: { token?: string }) => void (await context.send("withdrawn", "escrow", "withdraw", [options.token ?? ZeroAddress]))));
order
  .command("show <order>")
  .description("an order's on-chain state")
  .action(
    withContext(async (context, reference: string) => {
      const escrow: Contract = await context.escrow();
      // The escrow stores a tag per batch, not the id, so its state is asked with the whole order.
      const struct = await readOrder(context, reference);
      const orderId = ((await escrow.orderIdOf(struct)) as string).toLowerCase();
      const [state, deliveredAt, disputedAt] = await escrow.orderState(struct);
      const states = ["none", "funded", "delivered", "disputed", "released", "refunded", "resolved", "cancelled"];
      console.log(JSON.stringify({ orderId, state: states[Number(state)], deliveredAt: Number(deliveredAt) || null, disputedAt: Number(disputedAt) || null }, null, 2));
    }),
  );

// passports
program
  .command("qr <gtin> <lot> [serial]")
  .description("the GS1 Digital Link QR code of a batch or unit: printed, or written as PNG/SVG")
  .option("--base <url>", "passport host (default: PUBLIC_BASE_URL, else http://127.0.0.1:3000)", baseUrl)
  .option("--png <file>", "write a PNG")
  .option("--svg <file>", "write an SVG")
  .option("--width <pixels>", "PNG width", positiveInteger, 320)
  .action(async (gtin: string, lot: string, serial: string | undefined, options: { base?: string; png?: string; svg?: string; width: number }) => {
    let uri: string;
    try {
      const gtin14 = normalizeGtin(gtin);
      if (!isValidLotOrSerial(lot)) throw new DigitalLinkError(`lot "${lot}" must be 1-20 characters of GS1 character set 82`);
      if (serial !== undefined && !isValidLotOrSerial(serial)) throw new DigitalLinkError(`serial "${serial}" must be 1-20 characters of GS1 character set 82`);
      let base = options.base ?? "http://127.0.0.1:3000";
      if (options.base === undefined && process.env.PUBLIC_BASE_URL) {
        try {
          base = baseUrl(process.env.PUBLIC_BASE_URL);
        } catch (error) {
          throw new DigitalLinkError(`PUBLIC_BASE_URL ${(error as Error).message}`);
        }
      }
      uri = buildDigitalLink(base, gtin14, lot, serial ?? null);
    } catch (error) {
      throw new CliError((error as Error).message);
    }
    if (options.png) await writeFile(options.png, await qrPng(uri, { width: options.width }));
    if (options.svg) await writeFile(options.svg, await qrSvg(uri));
    if (options.png || options.svg) console.log(`✓ ${[options.png, options.svg].filter(Boolean).join(" and ")} for ${uri}`);
    else console.log(`${await qrTerminal(uri)}\n${uri}`);
  });

program
  .command("verify <url>")
  .description("verify a passport against the chain itself (exit 0 verified, 1 mismatch, 2 unverifiable)")
  .option("--chain-id <id>", "fail unless the passport is on this chain", positiveInteger)
  .option("--registry <address>", "fail unless the passport names this registry", address)
  .option("--json", "machine-readable report", false)
  .action(async (url: string, options: { chainId?: number; registry?: string; json: boolean }) => {
    const rpcUrl = program.opts<GlobalOptions>().rpc ?? process.env.RPC_URL ?? null;
    let result;
    try {
      result = await verifyPassportUrl({
        url,
        rpcUrl,
        expected: { ...(options.chainId === undefined ? {} : { chainId: options.chainId }), ...(options.registry === undefined ? {} : { registry: options.registry }) },
        onProgress: options.json ? undefined : (message) => console.error(`… ${message}`),
      });
    } catch (error) {
      if (error instanceof DigitalLinkError || error instanceof PassportFetchError) console.error(`provena: cannot verify: ${error.message}`);
      else console.error(`provena: cannot verify: ${(error as Error).message}`);
      process.exitCode = 2;
      return;
    }
    if (options.json) {
      const { claims, ...report } = result;
      console.log(JSON.stringify({ url, batchId: claims.batchId, serial: claims.serial, ...report }, null, 2));
    } else if (result.ok) {
      console.log(`✓ Verified at block ${result.blockNumber}: the passport matches the chain (chain ${result.claims.chainId}, registry ${result.claims.registry}).`);
      for (const item of result.checked) console.log(`  checked ${item}`);
    } else {
      console.log(`✗ MISMATCH: the passport does not match the chain.`);
      for (const mismatch of result.mismatches) console.log(`  - ${mismatch}`);
    }
    for (const warning of result.warnings) console.log(`  ! ${warning}`);
    process.exitCode = result.ok ? 0 : 1;
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  console.error(`provena: ${message}`);
  process.exitCode = 1;
}
