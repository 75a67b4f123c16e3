/**
 * The seeded demo trade, run against a started Provena (scripts/start.ts, test/e2e/demo.test.ts):
 *
 *   admin onboards six participants -> the manufacturer uploads the serial list and registers the batch ->
 *   the retailer (buyer) opens and funds an escrow order -> the carrier picks the batch up -> customs and a
 *   warehouse take custody -> the inspector attests a pass -> the retailer receives it -> the keeper releases
 *   the escrow by itself -> a shopper claims the ownership token of a unit with the secret printed inside its
 *   packaging (the manufacturer committed the units' claim keys at registration), gaslessly through the relayer.
 *
 * The carrier's leg is refrigerated (with a ColdChain deployment): the manufacturer sets the batch's conditions
 * (2–8 °C, 30 minutes of excursion allowed), the order requires verified arrival (a breach refunds the freight to the
 * buyer), the carrier registers its temperature logger and attaches it once it holds the batch, the simulated logger
 * publishes signed readings over MQTT to the embedded broker, and the carrier detaches it at the handoff to customs.
 * The breach scenario (`npm start -- --cold-chain-breach`, DEMO_COLD_CHAIN=breach) runs a warm afternoon instead, on
 * lots of its own, waits for the backend to establish the breach on chain and shows the order settled by its terms.
 *
 * The carrier, customs, warehouse and inspector hold keys but no ETH: every action of theirs is signed locally
 * and posted to the relayer's HTTP API. The admin, the manufacturer and the retailer (who pays the escrow) send
 * their own transactions from the embedded chain's funded accounts.
 *
 * Every identity is deterministic (the gasless partners' keys, the lots OLV-DEMO-1, -2, …), so on a chain that
 * persists across restarts `seedDemoUnlessPresent` finds what an earlier run seeded and seeds only what is missing.
 */
import { Wallet, id as keccakText, parseEther, type JsonRpcSigner } from "ethers";
import { loadProvenaAbis } from "../backend/chain/artifacts.ts";
import {
  coldChainAt,
  escrowAt,
  registryAt,
  unitOwnershipAt,
  type ColdChain,
  type ProvenanceRegistry,
  type TradeEscrow,
} from "../backend/chain/contracts.ts";
import { createDeviceSigner } from "../backend/coldchain/device-signer.ts";
import {
  connectMqttPublisher,
  httpPublisher,
  simulateDevice,
  simulatedSeries,
  type ReadingPublisher,
} from "../backend/coldchain/device-simulator.ts";
import { readingDomain } from "../backend/coldchain/reading-codec.ts";
import { buildClaimTree, generateClaimKeys, signUnitClaim, unitTokenId } from "../backend/chain/unit-claim.ts";
import { signOrderConsentOn } from "../backend/chain/order-consent.ts";
import { gs1CheckDigit } from "../backend/chain/gs1.ts";
import { ROLE_HASHES, businessStepValue, type BusinessStep } from "../backend/chain/vocabulary.ts";
import { createRelayClient, type RelayClientSigner } from "../backend/relayer/relay-client.ts";
import type { RunningProvena } from "../backend/main.ts";
import { buildDigitalLink } from "../backend/passport/digital-link.ts";
import { createSerialService } from "../backend/passport/serials.ts";
import type { Hex, Order } from "../backend/domain/model.ts";

const step = (name: BusinessStep) => businessStepValue(name);
const gln = (twelveDigits: string) => BigInt(twelveDigits + gs1CheckDigit(twelveDigits));

export interface DemoOptions {
  /** Where progress lines go (default: console.log). */
  log?: (line: string) => void;
  /** Units in the batch (default 1,000). */
  units?: number;
  /** Seconds after delivery the buyer may dispute; the keeper releases once it passed (default 5, short for a demo). */
  disputeWindowSeconds?: number;
  /** Longest wait for the keeper's release (default 120 s). */
  releaseTimeoutMs?: number;
  /** Base of the passport links (default: the config's PUBLIC_BASE_URL as given by the caller, else provena.url). */
  publicBaseUrl?: string;
  /** Called once `seedDemoUnlessPresent` found the demo missing, before the first step. */
  onSeeding?: () => void;
  /** The refrigerated leg keeps its range (default), or has a warm afternoon that breaches it. */
  coldChain?: ColdChainScenario;
  /** Longest wait for the chain to establish the warm afternoon's breach (default 120 s). */
  breachTimeoutMs?: number;
}

export type ColdChainScenario = "kept" | "breach";

/** The demo's scenario as `npm start` is asked for it: `--cold-chain-breach`, or DEMO_COLD_CHAIN=breach. */
export function coldChainScenarioOf(argv: readonly string[], env: NodeJS.ProcessEnv): ColdChainScenario {
  if (argv.includes("--cold-chain-breach")) return "breach";
  const asked = env.DEMO_COLD_CHAIN;
  if (asked === undefined || asked === "" || asked === "kept") return "kept";
  if (asked === "breach") return "breach";
  throw new Error(`DEMO_COLD_CHAIN must be "kept" or "breach" (got "${asked}")`);
}

export interface DemoParticipantInfo {
  role: string;
  name: string;
  address: Hex;
  gln: string;
  gasless: boolean;
}

/** What an earlier run's demo left to show: its batch, order and passport links. */
export interface DemoLinks {
  gtin: string;
  lot: string;
  batchId: Hex;
  orderId: Hex;
  serials: string[];
  serialRoot: Hex;
  batchUrl: string;
  unitUrls: string[];
}

export interface DemoResult extends DemoLinks {
  participants: Record<"admin" | "manufacturer" | "carrier" | "customs" | "warehouse" | "inspector" | "retailer", DemoParticipantInfo>;
  order: Order;
  /** Escrow payouts observed on chain (wei). */
  payouts: { seller: bigint; carrier: bigint; platform: bigint };
  platformRecipient: Hex;
  relayedRequestIds: string[];
  /** The unit a shopper claimed (step 9); null on a deployment without ownership tokens. */
  claimed: { serial: string; tokenId: string; owner: Hex } | null;
  /** The carrier's refrigerated leg; null on a deployment without a cold chain. */
  coldChain: DemoColdChainLeg | null;
}

export interface DemoColdChainLeg {
  scenario: ColdChainScenario;
  device: Hex;
  legId: Hex;
  /** How the logger published: the broker's URL, or the HTTP ingest's when MQTT is off. */
  publishedVia: string;
  readings: number;
  firstSequence: number;
  lastSequence: number;
  /** Hundredths of a degree Celsius, as signed. */
  minTemperature: number;
  maxTemperature: number;
  /** Whether the chain established a breach of the leg. */
  breached: boolean;
}

/** The batch's conditions (IColdChain.Conditions): 2–8 °C, humidity unconstrained, 30 minutes of excursion allowed. */
const DEMO_CONDITIONS = { minTemperature: 200, maxTemperature: 800, minHumidity: 0, maxHumidity: 10_000, allowedExcursionSeconds: 1_800 };
/**
 * A warm afternoon squeezed into forty seconds of demo (above 8 °C for about 9 of them): the allowance shrinks with it (the readings carry real
 * timestamps, and the ingest refuses readings from the future, so the demo cannot fast-forward the afternoon).
 */
const WARM_AFTERNOON_ALLOWED_SECONDS = 5;
/** TradeEscrow BreachTerms.RefundFreight: a breach sends the carrier's share back to the buyer. */
const BREACH_TERMS_REFUND_FREIGHT = 1;

/** The demo's product: GTIN-13 0950600013435 with its check digit, under company prefix 9506000. */
const GTIN_DATA = "0950600013435";
export const DEMO_GTIN = GTIN_DATA + gs1CheckDigit(GTIN_DATA);
/** Lots an interrupted run may leave unfinished before the demo gives up looking for a free one. */
const MAX_DEMO_LOTS = 20;

/** The demo's lots: OLV-DEMO-1, -2, … (the warm-afternoon scenario has its own, OLV-WARM-1, …). */
export const demoLot = (attempt: number, scenario: ColdChainScenario = "kept") =>
  `${scenario === "breach" ? "OLV-WARM" : "OLV-DEMO"}-${attempt}`;

/** The gasless partners' keys: derived from their names, so a restarted chain knows them again (demo keys, never for real use). */
export function demoPartnerKey(name: "carrier" | "customs" | "warehouse" | "inspector"): string {
  return keccakText(`provena demo ${name}`);
}

/** The carrier's temperature logger's key (a demo key, never for real use). */
export function demoDeviceKey(): string {
  return keccakText("provena demo carrier temperature logger");
}

export type DemoOutcome = { seededNow: true; result: DemoResult } | { seededNow: false; links: DemoLinks };

/**
 * What `npm start` runs: the demo's links when an earlier run on this chain completed it (re-storing its serial list
 * when the store lost it), else the demo seeded on the first free lot.
 */
export async function seedDemoUnlessPresent(provena: RunningProvena, options: DemoOptions = {}): Promise<DemoOutcome> {
  const found = await findDemoLot(provena, options);
  if (found.kind === "seeded") return { seededNow: false, links: found.links };
  options.onSeeding?.();
  return { seededNow: true, result: await runDemo(provena, { ...options, lot: found.lot }) };
}

type DemoLotSearch = { kind: "seeded"; links: DemoLinks } | { kind: "free"; lot: string };

/**
 * Looks through the demo's lots in order: the first whose order the keeper released (or is about to release) is the
 * seeded demo; a lot an interrupted run left halfway is passed over; the first never registered is free.
 */
export async function findDemoLot(provena: RunningProvena, options: DemoOptions = {}): Promise<DemoLotSearch> {
  const log = options.log ?? ((line: string) => console.log(line));
  const { deployment, provider } = provena.chain;
  const registry = registryAt(deployment.registry, provider, loadProvenaAbis().ProvenanceRegistry);
  for (let attempt = 1; attempt <= MAX_DEMO_LOTS; attempt++) {
    const lot = demoLot(attempt, options.coldChain);
    const batchId = lower(await registry.batchIdOf(BigInt(DEMO_GTIN), lot));
    const [status] = (await registry.batchStatus(batchId)) as [bigint, bigint];
    if (status === BATCH_STATUS_NONE) return { kind: "free", lot };
    const order = status === BATCH_STATUS_DELIVERED ? await mirroredOrderOf(provena, batchId) : null;
    if (order && (order.state === "released" || order.state === "delivered")) {
      if (order.state === "delivered") {
        log(`Demo batch ${DEMO_GTIN}/${lot} was delivered before the last stop; waiting for the keeper's release…`);
        await waitForRelease(provena, order.orderId, options.releaseTimeoutMs ?? 120_000);
      }
      const serialRoot = (await provena.store.getBatch(batchId))!.serialRoot;
      const serials = (await provena.store.getSerialSet(serialRoot))?.serials ?? (await restoreSerialList(provena, serialRoot, options));
      return { kind: "seeded", links: demoLinks(provena, options, { lot, batchId, orderId: order.orderId, serials, serialRoot }) };
    }
    log(`Demo batch ${DEMO_GTIN}/${lot} was left unfinished by an interrupted run; seeding the next lot.`);
  }
  throw new Error(
    `the first ${MAX_DEMO_LOTS} demo lots are all taken by unfinished runs; start on a fresh chain (delete the chain directory)`,
  );
}

/** The chain kept the batch, the store lost its serial list (a deleted or new database): the demo's list again. */
async function restoreSerialList(provena: RunningProvena, serialRoot: Hex, options: DemoOptions): Promise<string[]> {
  const serials = demoSerials(options.units ?? 1_000);
  const upload = await createSerialService({ store: provena.store }).uploadSerialList(serialListCsv(serials), "csv");
  if (upload.serialRoot !== serialRoot)
    throw new Error(
      `the demo batch's serial root ${serialRoot} is not the demo's ${options.units ?? 1_000}-unit list (${upload.serialRoot})`,
    );
  return serials;
}

/** The demo order on `batchId` as the mirror has it, once the mirror caught up with the chain's head. */
async function mirroredOrderOf(provena: RunningProvena, batchId: Hex): Promise<Order | null> {
  await provena.indexer.waitForBlock(await provena.chain.provider.getBlockNumber(), { timeoutMs: 120_000 });
  const page = await provena.store.listOrders({ batchId }, { limit: 1 });
  return page.items[0] ?? null;
}

const BATCH_STATUS_NONE = 0n;
const BATCH_STATUS_DELIVERED = 3n;

function demoSerials(units: number): string[] {
  return Array.from({ length: units }, (_, i) => `SN${String(i + 1).padStart(7, "0")}`);
}

function serialListCsv(serials: string[]): string {
  return ["serial", ...serials].join("\n") + "\n";
}

function demoLinks(
  provena: RunningProvena,
  options: DemoOptions,
  found: { lot: string; batchId: Hex; orderId: Hex; serials: string[]; serialRoot: Hex },
): DemoLinks {
  const publicBaseUrl = (options.publicBaseUrl ?? provena.url).replace(/\/+$/, "");
  // The printed form: the links name their chain and registry, which the passport page verifies against.
  const anchors = { chainId: provena.chain.deployment.chainId, registry: provena.chain.deployment.registry };
  return {
    gtin: DEMO_GTIN,
    ...found,
    batchUrl: buildDigitalLink(publicBaseUrl, DEMO_GTIN, found.lot, null, anchors),
    unitUrls: found.serials.slice(0, 3).map((serial) => buildDigitalLink(publicBaseUrl, DEMO_GTIN, found.lot, serial, anchors)),
  };
}

/** Seeds the whole demo trade on `options.lot` (default the first demo lot); participants already onboarded are kept. */
export async function runDemo(provena: RunningProvena, options: DemoOptions & { lot?: string } = {}): Promise<DemoResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const { provider, deployment } = provena.chain;
  if (provena.chain.kind === "rpc") throw new Error("the demo seeds the embedded chain only (it uses its funded dev accounts)");
  if (!provena.relayer) throw new Error("the demo needs the relayer");
  const abis = loadProvenaAbis();
  const units = options.units ?? 1_000;
  const disputeWindow = options.disputeWindowSeconds ?? 5;

  const admin = await provider.getSigner(0);
  const manufacturer = await provider.getSigner(1);
  const retailer = await provider.getSigner(2);
  // Gasless partners: keys that never hold ETH.
  const carrier = new Wallet(demoPartnerKey("carrier"));
  const customs = new Wallet(demoPartnerKey("customs"));
  const warehouse = new Wallet(demoPartnerKey("warehouse"));
  const inspector = new Wallet(demoPartnerKey("inspector"));

  const registryAs = (signer: JsonRpcSigner) => registryAt(deployment.registry, signer, abis.ProvenanceRegistry);
  const escrowAs = (signer: JsonRpcSigner) => escrowAt(deployment.escrow, signer, abis.TradeEscrow);
  const registryInterface = registryAs(admin).interface;
  const relay = createRelayClient({ apiUrl: provena.url, provider });
  const relayedRequestIds: string[] = [];

  async function relayed(label: string, signer: RelayClientSigner, data: string, to: string = deployment.registry): Promise<void> {
    const accepted = await relay.submit(signer, to, data);
    relayedRequestIds.push(accepted.id);
    const mined = await relay.waitForMined(accepted.id);
    log(`  ✓ ${label} (gasless: relayed request ${short(accepted.id)}, tx ${short(mined.transactionHash!)} in block ${mined.blockNumber})`);
  }
  async function sent(
    label: string,
    transaction: Promise<{ wait(): Promise<{ blockNumber: number; hash: string } | null> }>,
  ): Promise<void> {
    const receipt = await (await transaction).wait();
    log(`  ✓ ${label} (tx ${short(receipt!.hash)} in block ${receipt!.blockNumber})`);
  }

  // 1. The consortium.
  log("1/9 Admin onboards the consortium");
  const roster = [
    {
      key: "manufacturer",
      account: manufacturer,
      role: "MANUFACTURER",
      name: "Acme Olive Oil S.L.",
      gln: gln("841234500001"),
      gasless: false,
    },
    { key: "carrier", account: carrier, role: "CARRIER", name: "Mare Nostrum Freight", gln: gln("841234500002"), gasless: true },
    { key: "customs", account: customs, role: "REGULATOR", name: "Port of Rotterdam Customs", gln: gln("871234500003"), gasless: true },
    { key: "warehouse", account: warehouse, role: "CARRIER", name: "Maasvlakte Cold Store", gln: gln("871234500004"), gasless: true },
    { key: "inspector", account: inspector, role: "INSPECTOR", name: "Eurofins Food Lab", gln: gln("871234500005"), gasless: true },
    { key: "retailer", account: retailer, role: "RETAILER", name: "FreshMart Retail B.V.", gln: gln("871234500006"), gasless: false },
  ] as const;
  const participants = {} as DemoResult["participants"];
  participants.admin = { role: "ADMIN", name: "Consortium admin", address: lower(await admin.getAddress()), gln: "", gasless: false };
  for (const member of roster) {
    const address = lower(await member.account.getAddress());
    if (await isOnboarded(registryAs(admin), address)) log(`  ✓ ${member.name} (${member.role}) ${address} (onboarded by an earlier run)`);
    else
      await sent(
        `${member.name} (${member.role}) ${address}`,
        registryAs(admin).onboardParticipant(address, ROLE_HASHES[member.role], member.gln, member.name),
      );
    participants[member.key] = { role: member.role, name: member.name, address, gln: member.gln.toString(), gasless: member.gasless };
  }
  // As GS1 licensed it, the admin grants the manufacturer its company prefix: only it may register these GTINs.
  const gtin = DEMO_GTIN;
  const companyPrefix = gtin.slice(1, 8); // 9506000: the first 7 digits of the GTIN-13
  const prefixHolder = lower(await registryAs(admin).companyPrefixHolder(BigInt(companyPrefix), companyPrefix.length));
  if (prefixHolder === participants.manufacturer.address)
    log(`  ✓ company prefix ${companyPrefix} granted to the manufacturer (by an earlier run)`);
  else
    await sent(
      `company prefix ${companyPrefix} granted to the manufacturer`,
      registryAs(admin).grantCompanyPrefix(participants.manufacturer.address, BigInt(companyPrefix), companyPrefix.length),
    );

  // 2. Serial list and batch registration.
  const lot = options.lot ?? demoLot(1, options.coldChain);
  const serials = demoSerials(units);
  log(`2/9 Manufacturer uploads the serial list (${units.toLocaleString("en")} units, CSV) and registers batch ${gtin}/${lot}`);
  const serialService = createSerialService({ store: provena.store });
  const upload = await serialService.uploadSerialList(serialListCsv(serials), "csv");
  log(`  ✓ serial list stored, Merkle root ${short(upload.serialRoot)}`);
  const latest = await provider.getBlock("latest");
  await sent(
    "batch registered",
    registryAs(manufacturer).registerBatch(
      BigInt(gtin),
      lot,
      BigInt(units),
      latest!.timestamp - 86_400,
      BigInt(participants.manufacturer.gln),
      keccakText(`batch document ${lot}`),
      upload.serialRoot,
    ),
  );
  const batchId = lower(await registryAs(admin).batchIdOf(BigInt(gtin), lot));
  const scenario = options.coldChain ?? "kept";
  const coldChainAs = (runner: JsonRpcSigner) => (deployment.coldChain ? coldChainAt(deployment.coldChain, runner) : null);
  const conditions = {
    ...DEMO_CONDITIONS,
    ...(scenario === "breach" ? { allowedExcursionSeconds: WARM_AFTERNOON_ALLOWED_SECONDS } : {}),
  };
  const coldChainOfManufacturer = coldChainAs(manufacturer);
  if (coldChainOfManufacturer) {
    await sent(
      `cold-chain conditions set: ${conditionsInWords(conditions)}` +
        (scenario === "breach" ? " (a demo-sized allowance: the warm afternoon lasts about forty seconds here)" : ""),
      coldChainOfManufacturer.setBatchConditions(batchId, conditions),
    );
  }
  // One claim key per unit: the secrets are printed inside the packaging, the root goes on chain.
  const claimKeys = generateClaimKeys(serials);
  const claimTree = buildClaimTree(claimKeys);
  const unitOwnership = deployment.unitOwnership ? unitOwnershipAt(deployment.unitOwnership, manufacturer) : null;
  if (unitOwnership && (await unitOwnership.baseURI()) === "") {
    // Token metadata is served by this backend: tokenURI = base + token id.
    await sent(
      "ownership tokens' metadata URI set to this backend",
      unitOwnershipAt(deployment.unitOwnership!, admin).setBaseURI(`${provena.url}/api/v1/ownership/tokens/`),
    );
  }
  if (unitOwnership) {
    await sent(
      `claim keys of the ${units.toLocaleString("en")} units committed (root ${short(claimTree.root)}); each secret is printed inside its unit's box`,
      unitOwnership.commitClaimRoot(batchId, claimTree.root, serials.length),
    );
  }
  type Party = keyof DemoResult["participants"];
  /** Calldata of the batch's custody steps, at the GLN of the party where each happens. */
  const proposeTo = (to: Party, at: Party, businessStep: BusinessStep) =>
    registryInterface.encodeFunctionData("proposeHandoff", [
      batchId,
      participants[to].address,
      BigInt(participants[at].gln),
      step(businessStep),
    ]);
  const acceptAt = (at: Party, businessStep: BusinessStep) =>
    registryInterface.encodeFunctionData("acceptHandoff", [batchId, BigInt(participants[at].gln), step(businessStep)]);

  /**
   * The carrier's logger: registered once (a later run finds it), attached to the batch the carrier now holds, then
   * the simulated logger publishes the leg's signed readings over MQTT (the HTTP ingest when MQTT is off).
   */
  async function attachDeviceAndPublish(coldChain: ColdChain): Promise<Omit<DemoColdChainLeg, "scenario" | "breached">> {
    const coldChainAddress = deployment.coldChain!;
    const device = new Wallet(demoDeviceKey());
    const deviceAddress = lower(device.address);
    const [registeredTo, , leftAttached] = (await coldChain.device(deviceAddress)) as unknown as [string, boolean, string];
    if (registeredTo === ZERO_ADDRESS) {
      await relayed(
        `carrier registers its temperature logger ${deviceAddress}`,
        carrier,
        coldChain.interface.encodeFunctionData("registerDevice", [deviceAddress, participants.carrier.address]),
        coldChainAddress,
      );
    } else {
      log(`  ✓ carrier's temperature logger ${deviceAddress} (registered by an earlier run)`);
    }
    if (leftAttached !== ZERO_HASH) {
      await relayed(
        "carrier detaches its logger from the batch an interrupted run left it on",
        carrier,
        coldChain.interface.encodeFunctionData("detachDevice", [deviceAddress]),
        coldChainAddress,
      );
    }
    await relayed(
      "carrier attaches the logger to the batch it now holds (the conditions freeze)",
      carrier,
      coldChain.interface.encodeFunctionData("attachDevice", [deviceAddress, batchId]),
      coldChainAddress,
    );
    const [, , legId] = (await coldChain.device(deviceAddress)) as unknown as [string, boolean, string];
    const [, , , attachedAt] = (await coldChain.leg(legId)) as unknown as [string, string, string, bigint];
    // The ingest verifies readings against the mirrored leg: the mirror must have the attach first.
    await provena.indexer.waitForBlock(await provider.getBlockNumber(), { timeoutMs: 120_000 });
    const last = (await provena.store.lastReadingSequences([deviceAddress])).get(deviceAddress);
    const firstSequence = last === undefined || last === null ? 1 : last + 1;
    const { chainId } = await provider.getNetwork();
    const signer = createDeviceSigner(demoDeviceKey(), readingDomain(Number(chainId), coldChainAddress), firstSequence);
    // The logger keeps the chain's time, not this machine's: a leg counts only readings between the chain's attach
    // and handoff timestamps, and a dev chain's clock can drift from the wall clock either way (an in-process chain
    // lagged it by more than the whole series in the test suite, so every warm reading fell after the handoff).
    const chainClockOffsetMs = Number(attachedAt) * 1_000 - Date.now();
    const series = simulatedSeries({
      batchId,
      startTime: Number(attachedAt),
      ...(scenario === "breach"
        ? { intervalSeconds: 1, count: 40, profile: "warm-afternoon" as const }
        : { intervalSeconds: 1, count: 6, profile: "steady" as const }),
      seed: firstSequence,
    });
    const publisher: ReadingPublisher = provena.mqttUrl ? await connectMqttPublisher(provena.mqttUrl) : httpPublisher(provena.url);
    log(
      `  … the logger publishes ${series.length} signed readings (${scenario === "breach" ? "a warm afternoon" : "a steady fridge"}) to ${publisher.description}`,
    );
    let summary;
    try {
      summary = await simulateDevice({ signer, series, publisher, now: () => Date.now() + chainClockOffsetMs });
    } finally {
      await publisher.close();
    }
    log(
      `  ✓ ${summary.published} readings published, sequences ${summary.firstSequence}–${summary.lastSequence}, ${summary.minTemperature! / 100} to ${summary.maxTemperature! / 100} °C` +
        (summary.rejected > 0 ? ` (${summary.rejected} refused by the ingest)` : ""),
    );
    return {
      device: deviceAddress,
      legId: lower(legId),
      publishedVia: publisher.description,
      readings: summary.published,
      firstSequence: summary.firstSequence!,
      lastSequence: summary.lastSequence!,
      minTemperature: summary.minTemperature!,
      maxTemperature: summary.maxTemperature!,
    };
  }

  // 3. The buyer pays into escrow.
  log("3/9 Retailer opens and funds an escrow order (1 ETH)");
  const [platformRecipient, platformBps] = (await escrowAs(admin).platformFee()) as [string, bigint];
  const carrierBps = 800;
  const order = {
    buyer: participants.retailer.address,
    seller: participants.manufacturer.address,
    carrier: participants.carrier.address,
    token: "0x0000000000000000000000000000000000000000",
    amount: parseEther("1"),
    batchId,
    sellerBps: 10_000 - carrierBps - Number(platformBps),
    carrierBps,
    platformBps: Number(platformBps),
    deliveryDeadline: latest!.timestamp + 7 * 24 * 3600,
    disputeWindow,
    // The demo's inspector is the order's: only its attestation counts for the release.
    inspector: participants.inspector.address,
    fallbackBuyerBps: 5_000,
    salt: keccakText(`order ${lot}`),
    // With a cold chain, the freight is paid only on verified arrival: a breach refunds it to the buyer.
    breachTerms: deployment.coldChain ? BREACH_TERMS_REFUND_FREIGHT : 0,
  };
  // The seller consents to exactly these terms (EIP-712); without it the escrow refuses the order.
  const sellerConsent = await signOrderConsentOn(escrowAs(admin), manufacturer, order);
  log(`  ✓ manufacturer signed its consent to the order terms`);
  await sent(
    `order funded: seller ${order.sellerBps / 100}%, carrier ${carrierBps / 100}%, platform ${Number(platformBps) / 100}%, dispute window ${disputeWindow}s`,
    escrowAs(retailer).openOrder(order, sellerConsent, { value: order.amount }),
  );
  if (order.breachTerms === BREACH_TERMS_REFUND_FREIGHT)
    log(
      "  ✓ the order requires verified arrival: the carrier's freight is paid only if no breach of the conditions is established on its leg; a breach refunds it to the buyer",
    );
  const orderId = lower(await escrowAs(admin).orderIdOf(order));

  // 4-6. Custody chain.
  log("4/9 Carrier picks the batch up");
  await sent(
    "manufacturer proposes the handoff to the carrier",
    registryAs(manufacturer).proposeHandoff(batchId, participants.carrier.address, BigInt(participants.manufacturer.gln), step("shipping")),
  );
  await relayed("carrier accepts at the manufacturer's dock", carrier, acceptAt("manufacturer", "departing"));
  const coldChain = coldChainAs(admin);
  let refrigerated: DemoColdChainLeg | null = null;
  let legDevice: Hex | null = null;
  if (coldChain) {
    const leg = await attachDeviceAndPublish(coldChain);
    legDevice = leg.device;
    refrigerated = { scenario, breached: false, ...leg };
  }
  log("5/9 Customs and a warehouse take custody");
  await relayed("carrier hands over to customs", carrier, proposeTo("customs", "customs", "arriving"));
  await relayed("customs accepts (entering the EU)", customs, acceptAt("customs", "entering_exiting"));
  if (coldChain && refrigerated && legDevice) {
    await relayed(
      "carrier detaches its logger at the handoff (the leg ends when customs took the batch)",
      carrier,
      coldChain.interface.encodeFunctionData("detachDevice", [legDevice]),
      deployment.coldChain,
    );
    if (scenario === "breach") {
      log("  … waiting for the backend to establish the warm afternoon's breach on chain (from the logger's signed readings)");
      await waitForBreach(coldChain, refrigerated.legId, options.breachTimeoutMs ?? 120_000);
      refrigerated.breached = true;
      const [, , , , , excursionSeconds] = (await coldChain.leg(refrigerated.legId)) as unknown as [
        unknown,
        unknown,
        unknown,
        unknown,
        unknown,
        bigint,
      ];
      log(
        `  ✗ breach established on chain: the batch spent ${Number(excursionSeconds)} s above ${conditions.maxTemperature / 100} °C on ${participants.carrier.name}'s leg (allowed ${conditions.allowedExcursionSeconds} s)`,
      );
    }
  }
  await relayed("customs releases to the warehouse", customs, proposeTo("warehouse", "warehouse", "departing"));
  await relayed("warehouse accepts into cold storage", warehouse, acceptAt("warehouse", "storing"));
  log("6/9 The order's named inspector attests the batch");
  await relayed(
    "quality attested: pass (the order's named inspector)",
    inspector,
    registryInterface.encodeFunctionData("attestQuality", [batchId, true, keccakText(`lab report ${lot}`)]),
  );

  // 7. Delivery to the buyer.
  log("7/9 Retailer receives the batch");
  await relayed("warehouse ships to the retailer", warehouse, proposeTo("retailer", "warehouse", "shipping"));
  const balancesBefore = await Promise.all([order.seller, order.carrier, platformRecipient].map((a) => provider.getBalance(a)));
  const creditsBefore = await creditsOf(escrowAs(admin), [order.seller, order.carrier, platformRecipient]);
  await sent(
    "retailer accepts delivery",
    registryAs(retailer).acceptHandoff(batchId, BigInt(participants.retailer.gln), step("receiving")),
  );

  // 8. Nobody pushes a button: the keeper settles once the dispute window passed.
  log(`8/9 Waiting for the keeper to release the escrow (after the ${disputeWindow}s dispute window)…`);
  const releasedBlock = await waitForRelease(provena, orderId, options.releaseTimeoutMs ?? 120_000);
  const balancesAfter = await Promise.all([order.seller, order.carrier, platformRecipient].map((a) => provider.getBalance(a)));
  const creditsAfter = await creditsOf(escrowAs(admin), [order.seller, order.carrier, platformRecipient]);
  const paid = balancesAfter.map((balance, i) => balance - balancesBefore[i] + (creditsAfter[i] - creditsBefore[i]));
  const payouts = { seller: paid[0], carrier: paid[1], platform: paid[2] };
  log(
    `  ✓ released by the keeper in block ${releasedBlock}: seller ${fmt(payouts.seller)}, carrier ${fmt(payouts.carrier)}, platform ${fmt(payouts.platform)} ETH`,
  );
  if (refrigerated) {
    const freight = (order.amount * BigInt(carrierBps)) / 10_000n;
    const range = `${refrigerated.readings} device-signed readings, ${refrigerated.minTemperature / 100} to ${refrigerated.maxTemperature / 100} °C`;
    if (!refrigerated.breached) {
      log(
        `  ✓ verified arrival: kept between ${conditions.minTemperature / 100} and ${conditions.maxTemperature / 100} °C for the carrier's whole leg (${range}); no breach, so ${participants.carrier.name} got its freight, ${fmt(payouts.carrier)} ETH`,
      );
    } else {
      log(
        `  ✗ no verified arrival: the cold chain broke on the carrier's leg (${range}); by the order's terms (refund the freight) ${participants.carrier.name} got ${fmt(payouts.carrier)} ETH and ${participants.retailer.name} got its ${fmt(freight)} ETH of freight back; the seller and the platform were paid`,
      );
    }
  }

  // 9. A shopper owns the unit: the secret inside the box signs the claim, the relayer pays the gas.
  let claimed: DemoResult["claimed"] = null;
  if (unitOwnership && deployment.unitOwnership) {
    const serial = serials[0]!;
    log(`9/9 A shopper claims the ownership token of unit ${serial} with the secret printed inside its box; the relayer pays the gas`);
    await postUntilAccepted(`${provena.url}/api/v1/ownership/claim-trees`, { batchId, tree: claimTree.dump() }, 60_000);
    log("  ✓ the manufacturer's claim tree (no secrets) uploaded to the backend");
    const shopper = lower(Wallet.createRandom().address);
    const tokenId = unitTokenId(batchId, serial);
    const { chainId } = await provider.getNetwork();
    const signature = await signUnitClaim(
      new Wallet(claimKeys[0]!.claimSecret),
      { chainId, address: deployment.unitOwnership },
      {
        tokenId,
        recipient: shopper,
      },
    );
    await postUntilAccepted(`${provena.url}/api/v1/ownership/claims`, { batchId, serial, recipient: shopper, signature }, 10_000);
    await waitForOwner(provena, batchId, serial, shopper, options.releaseTimeoutMs ?? 120_000);
    log(`  ✓ token ${short(`0x${tokenId.toString(16)}`)} minted to the shopper ${shopper}; the unit's passport shows its owner`);
    claimed = { serial, tokenId: tokenId.toString(), owner: shopper };
  } else {
    log("9/9 (skipped: this deployment predates the ownership tokens)");
  }

  return {
    ...demoLinks(provena, options, { lot, batchId, orderId, serials, serialRoot: upload.serialRoot }),
    claimed,
    coldChain: refrigerated,
    participants,
    order: order as unknown as Order,
    payouts,
    platformRecipient: lower(platformRecipient),
    relayedRequestIds,
  };
}

/**
 * POSTs JSON until the backend accepts it (2xx); a 409 means the mirror has not indexed what it needs yet (the claim
 * root's commitment), so it is tried again until `timeoutMs`.
 */
async function postUntilAccepted(url: string, body: unknown, timeoutMs: number): Promise<unknown> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const answer = (await response.json().catch(() => ({}))) as { detail?: string };
    if (response.ok) return answer;
    if (response.status !== 409 || Date.now() > deadline) {
      throw new Error(`POST ${url} answered ${response.status}: ${answer.detail ?? "no detail"}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Waits until the mirror shows `owner` holding the unit's token. */
async function waitForOwner(provena: RunningProvena, batchId: Hex, serial: string, owner: Hex, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await fetch(`${provena.url}/api/v1/batches/${batchId}/units/${encodeURIComponent(serial)}/ownership`);
    if (response.ok && ((await response.json()) as { owner: string | null }).owner === owner) return;
    if (Date.now() > deadline) throw new Error(`the token of unit ${serial} did not reach ${owner} within ${timeoutMs / 1000}s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Waits until the order is released on chain and the mirror shows it; returns the release block. */
async function waitForRelease(provena: RunningProvena, orderId: Hex, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const mirrored = await provena.store.getOrder(orderId);
    if (mirrored?.state === "released") return mirrored.lastEvent.blockNumber;
    if (mirrored && mirrored.state !== "delivered" && mirrored.state !== "funded") {
      throw new Error(`order ${orderId} ended ${mirrored.state} instead of released`);
    }
    if (Date.now() > deadline)
      throw new Error(
        `the keeper did not release order ${orderId} within ${timeoutMs} ms (mirror state: ${mirrored?.state ?? "not mirrored"})`,
      );
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";
const ZERO_HASH = `0x${"00".repeat(32)}`;

/** Waits until the chain established a breach of the leg; the error says what was waited for. */
async function waitForBreach(coldChain: ColdChain, legId: Hex, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [, , , , , , breached] = (await coldChain.leg(legId)) as unknown as [
      unknown,
      unknown,
      unknown,
      unknown,
      unknown,
      unknown,
      boolean,
    ];
    if (breached) return;
    if (Date.now() > deadline) {
      throw new Error(
        `no breach of leg ${legId} was established on chain within ${timeoutMs / 1000} s: the backend's breach submitter did not submit the warm afternoon's readings (is it part of this build, and is the relayer running?)`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function conditionsInWords(conditions: typeof DEMO_CONDITIONS): string {
  const allowed = conditions.allowedExcursionSeconds;
  return `${conditions.minTemperature / 100} to ${conditions.maxTemperature / 100} °C, at most ${allowed % 60 === 0 ? `${allowed / 60} min` : `${allowed} s`} outside it in total`;
}

/** Escrow credits (pull payments) of each account in ETH: the platform share, and any push that failed. */
async function creditsOf(escrow: TradeEscrow, accounts: string[]): Promise<bigint[]> {
  return Promise.all(accounts.map(async (account) => BigInt(await escrow.creditOf(account, "0x0000000000000000000000000000000000000000"))));
}

async function isOnboarded(registry: ProvenanceRegistry, account: Hex): Promise<boolean> {
  const [participantId] = (await registry.participant(account)) as [bigint, bigint, boolean];
  return participantId !== 0n;
}

function lower(address: string): Hex {
  return address.toLowerCase() as Hex;
}

function short(hex: string): string {
  return `${hex.slice(0, 10)}…`;
}

function fmt(wei: bigint): string {
  const whole = wei / 10n ** 18n;
  const fraction = (wei % 10n ** 18n).toString().padStart(18, "0").replace(/0+$/, "").slice(0, 6);
  return fraction ? `${whole}.${fraction}` : `${whole}`;
}
