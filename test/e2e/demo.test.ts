/**
 * The seeded demo, end to end, exactly as `npm start` runs it: the in-process chain served over JSON-RPC, the
 * Ignition deployment, the mirror store, the indexer, the relayer, the keeper and the HTTP API, then the demo
 * trade. Asserts what a consumer and the trading parties see: the unit's passport (JSON-LD over the GS1 Digital
 * Link) with its full custody history and inspection, and the escrow released by the keeper with the right payouts.
 *
 * Runs on the embedded SQLite store always, and on MongoDB when MONGODB_URI is set (a fresh database, dropped
 * afterwards); without it the MongoDB run is skipped with one loud line.
 */
import { expect } from "chai";
import { unitOwnershipAt } from "../../backend/chain/contracts.ts";
import { randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import path from "node:path";
import { Wallet } from "ethers";
import mongoose from "mongoose";
import { pino } from "pino";
import { signInWithKey } from "../../backend/auth/sign-in-client.ts";
import { loadConfig, type Config } from "../../backend/config.ts";
import { startProvena, type RunningProvena } from "../../backend/main.ts";
import { demoPartnerKey, runDemo, type DemoResult } from "../../scripts/demo.ts";
import { withDatabase } from "../helpers/mongodb-uri.ts";

const DISPUTE_WINDOW_SECONDS = 2;

function e2eConfig(overrides: Partial<Config>): Config {
  return {
    ...loadConfig({ LOG_LEVEL: "silent", SQLITE_PATH: ":memory:", EMBEDDED_CHAIN: "hardhat" }),
    port: 0,
    // The embedded MQTT broker on a free port, as `npm start` runs it on 1883: the demo's logger publishes to it.
    mqtt: { kind: "embedded", host: "127.0.0.1", port: 0 },
    keeperIntervalMs: 250,
    indexerPollMs: 100,
    ...overrides,
  };
}

function describeDemoOn(storeName: string, configFor: () => Promise<{ config: Partial<Config>; cleanup: () => Promise<void> } | null>) {
  describe(`the seeded demo on ${storeName}`, function () {
    this.timeout(180_000);
    let provena: RunningProvena;
    let demo: DemoResult;
    let cleanup: () => Promise<void> = async () => undefined;
    const progress: string[] = [];

    before(async function () {
      const target = await configFor();
      if (target === null) return this.skip();
      cleanup = target.cleanup;
      provena = await startProvena(e2eConfig(target.config), { logger: pino({ level: "silent" }) });
      demo = await runDemo(provena, { log: (line) => progress.push(line), units: 250, disputeWindowSeconds: DISPUTE_WINDOW_SECONDS });
    });

    after(async function () {
      await provena?.stop();
      await cleanup();
    });

    it("test_demo_printsProgressForEveryStep", function () {
      for (const step of ["1/9", "2/9", "3/9", "4/9", "5/9", "6/9", "7/9", "8/9", "9/9"]) {
        expect(
          progress.some((line) => line.startsWith(step)),
          `progress line ${step}`,
        ).to.equal(true);
      }
      // Seven custody and inspection actions, and the carrier's logger: registered, attached, detached.
      expect(progress.filter((line) => line.includes("gasless")).length).to.equal(10);
    });

    it("test_demo_refrigeratedLeg_signedReadingsOverMqtt_keptInRange_verifiedArrivalPaysTheFreight", async function () {
      const leg = demo.coldChain!;
      expect(leg).to.include({ scenario: "kept", breached: false, readings: 6 });
      expect(leg.publishedVia).to.equal(`MQTT ${provena.mqttUrl}`);
      expect(leg.minTemperature).to.be.at.least(200);
      expect(leg.maxTemperature).to.be.at.most(800);
      // Every reading the logger published was verified and stored on its leg; none refused.
      const stored = await provena.store.listReadings({ legId: leg.legId }, { limit: 50 });
      expect(stored.items.map((reading) => reading.sequence)).to.deep.equal(
        Array.from({ length: leg.readings }, (_, i) => leg.firstSequence + i),
      );
      expect(await provena.store.rejectionCounts()).to.deep.equal({});
      // The API shows the batch's frozen conditions and the leg, detached at the handoff to customs.
      const coldChain = (await (await fetch(`${provena.url}/api/v1/batches/${demo.batchId}/cold-chain`)).json()) as Record<string, any>;
      expect(coldChain.conditions).to.include({ minTemperature: 200, maxTemperature: 800, allowedExcursionSeconds: 1_800 });
      expect(coldChain.conditionsSource).to.equal("frozen");
      expect(coldChain.legs).to.have.length(1);
      expect(coldChain.legs[0]).to.include({ legId: leg.legId, carrier: demo.participants.carrier.address, breached: false });
      expect(coldChain.legs[0].detachedAt).to.be.a("number");
      expect(coldChain.breaches).to.deep.equal([]);
      // The order required verified arrival (RefundFreight), and the words say what was kept and who got what.
      expect((demo.order as unknown as { breachTerms: number }).breachTerms).to.equal(1);
      const verified = progress.find((line) => line.includes("verified arrival: kept between 2 and 8 °C"));
      expect(verified, progress.join("\n")).to.contain("6 device-signed readings").and.contain("got its freight");
    });

    it("test_demo_shopperClaimsTheUnitsToken_andThePassportShowsTheOwner", async function () {
      expect(demo.claimed).to.not.equal(null);
      const { serial, owner, tokenId } = demo.claimed!;
      expect(progress.some((line) => line.startsWith("9/9 A shopper claims the ownership token"))).to.equal(true);
      const answer = (await (await fetch(`${provena.url}/api/v1/batches/${demo.batchId}/units/${serial}/ownership`)).json()) as Record<
        string,
        unknown
      >;
      expect(answer).to.include({ owner, tokenId });
      const passport = (await (
        await fetch(`${provena.url}/01/${demo.gtin}/10/${encodeURIComponent(demo.lot)}/21/${serial}`, {
          headers: { accept: "application/ld+json" },
        })
      ).json()) as Record<string, any>;
      expect(JSON.stringify(passport["provena:ownershipToken"])).to.contain(owner);
      // Its metadata is this backend's, and it points at the unit's passport.
      const unitOwnership = unitOwnershipAt(provena.chain.deployment.unitOwnership!, provena.chain.provider);
      const metadata = (await (await fetch(await unitOwnership.tokenURI(BigInt(tokenId)))).json()) as { external_url: string };
      expect(metadata.external_url).to.contain(`/21/${serial}`);
      // The token exists on chain, owned by the shopper, who never held ETH.
      const provider = provena.chain.provider;
      expect(await provider.getBalance(owner)).to.equal(0n);
    });

    it("test_demo_unitPassportShowsTheFullCustodyHistoryAndInspection", async function () {
      const serial = demo.serials[0];
      const unitUrl = `${provena.url}/01/${demo.gtin}/10/${encodeURIComponent(demo.lot)}/21/${serial}`;
      const response = await fetch(unitUrl, { headers: { accept: "application/ld+json" } });
      expect(response.status).to.equal(200);
      expect(response.headers.get("content-type")).to.contain("application/ld+json");
      const passport = (await response.json()) as Record<string, any>;
      expect(passport["@type"]).to.equal("IndividualProduct");
      expect(passport.serialNumber).to.equal(serial);
      expect(passport.gtin).to.equal(demo.gtin);
      expect(passport["gs1:hasBatchLotNumber"]).to.equal(demo.lot);
      expect(passport.manufacturer.identifier).to.equal(demo.participants.manufacturer.address);
      expect(passport.manufacturer.name).to.equal(demo.participants.manufacturer.name);
      expect(passport["provena:state"]).to.include({
        status: "delivered",
        custodian: demo.participants.retailer.address,
        inspection: "passed",
      });
      expect(passport["provena:recalled"]).to.equal(false);

      const history = (passport["provena:history"].itemListElement as { item: Record<string, any> }[]).map((element) => element.item);
      expect(history[0]["provena:event"]).to.equal("BatchRegistered");
      // Every custody step, in order: manufacturer -> carrier -> customs -> warehouse -> retailer.
      const accepted = history.filter((item) => item["provena:event"] === "HandoffAccepted").map((item) => item["provena:args"]);
      const p = demo.participants;
      expect(accepted.map((args) => [args.from, args.to])).to.deep.equal([
        [p.manufacturer.address, p.carrier.address],
        [p.carrier.address, p.customs.address],
        [p.customs.address, p.warehouse.address],
        [p.warehouse.address, p.retailer.address],
      ]);
      expect(history.filter((item) => item["provena:event"] === "HandoffProposed")).to.have.length(4);
      const inspections = history.filter((item) => item["provena:event"] === "QualityAttested");
      expect(inspections).to.have.length(1);
      expect(inspections[0]["provena:args"]).to.include({ inspector: p.inspector.address, passed: true });
      // History entries are in chain order.
      const blocks = history.map((item) => item["provena:blockNumber"] as number);
      expect(blocks).to.deep.equal([...blocks].sort((a, b) => a - b));
      // The unit's Merkle proof is there for verifiers.
      expect(passport["provena:verification"]).to.include({ serial, serialRoot: demo.serialRoot, batchId: demo.batchId });
      expect(passport["provena:verification"].proof).to.be.an("array").that.is.not.empty;
    });

    it("test_demo_escrowIsReleasedByTheKeeperWithTheAgreedSplit", async function () {
      const order = demo.order as unknown as { amount: bigint; sellerBps: number; carrierBps: number; platformBps: number };
      const amount = BigInt(order.amount);
      expect(demo.payouts).to.deep.equal({
        seller: (amount * BigInt(order.sellerBps)) / 10_000n,
        carrier: (amount * BigInt(order.carrierBps)) / 10_000n,
        platform: amount - (amount * BigInt(order.sellerBps)) / 10_000n - (amount * BigInt(order.carrierBps)) / 10_000n,
      });

      // The mirror shows an order to its parties: its named inspector signs in with its key (EIP-4361) to read it.
      const anonymous = await fetch(`${provena.url}/api/v1/orders/${demo.orderId}`, { headers: { accept: "application/json" } });
      expect(anonymous.status).to.equal(401);
      const token = await signInWithKey(provena.url, new Wallet(demoPartnerKey("inspector")));
      const response = await fetch(`${provena.url}/api/v1/orders/${demo.orderId}`, {
        headers: { accept: "application/json", authorization: `Bearer ${token}` },
      });
      expect(response.status).to.equal(200);
      const mirrored = (await response.json()) as Record<string, any>;
      const view = mirrored;
      expect(view.state).to.equal("released");
      // The demo's inspector is the order's named inspector, and its pass is what the escrow released on.
      expect(view).to.include({ inspector: demo.participants.inspector.address, inspection: "passed" });
      expect(view.payouts).to.deep.include({
        seller: demo.payouts.seller.toString(),
        carrier: demo.payouts.carrier.toString(),
        platform: demo.payouts.platform.toString(),
      });

      // Nobody but the keeper released it: the release came from the relayer's own keeper job.
      // The mirror may show the release a moment before the relayer's next round records its job as mined.
      const jobId = `keeper:${provena.chain.chainId}:${demo.orderId}:release`;
      let job = await provena.store.getRelay(jobId);
      for (let i = 0; i < 50 && job?.status === "submitted"; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        job = await provena.store.getRelay(jobId);
      }
      expect(job).to.include({ status: "mined", kind: "keeper", from: provena.relayer!.address });
      const releaseEvents = await provena.store.listEvents({ orderId: demo.orderId, name: "OrderReleased" }, { limit: 10 });
      expect(releaseEvents.items).to.have.length(1);
      expect(releaseEvents.items[0].transactionHash).to.equal(job!.transactionHash);
    });

    it("test_demo_everyGaslessActionWasMinedOnceThroughTheRelayer", async function () {
      for (const id of demo.relayedRequestIds) {
        const response = await fetch(`${provena.url}/api/v1/relay/requests/${id}`);
        const body = (await response.json()) as Record<string, unknown>;
        expect(body, id).to.include({ status: "mined", error: null, attempts: 1 });
      }
      for (const key of ["carrier", "customs", "warehouse", "inspector"] as const) {
        // They never held ETH to pay gas with; the carrier's only ETH is its freight share from the escrow.
        const expected = key === "carrier" ? demo.payouts.carrier : 0n;
        expect(await provena.chain.provider.getBalance(demo.participants[key].address), `${key}'s balance`).to.equal(expected);
        expect(await provena.chain.provider.getTransactionCount(demo.participants[key].address), `${key} sent nothing itself`).to.equal(0);
      }
    });
  });
}

/** The backend's automatic breach submitter (backend/coldchain/breach-*.ts), which the warm-afternoon demo waits for. */
const breachSubmitterFiles = readdirSync(path.resolve("backend/coldchain")).filter((name) => /^breach-.*\.ts$/.test(name));

describe("the seeded demo's warm afternoon (--cold-chain-breach)", function () {
  this.timeout(300_000);
  let provena: RunningProvena | undefined;
  after(async function () {
    await provena?.stop();
  });

  it("test_demoBreach_warmAfternoon_breachEstablished_freightRefundedToTheBuyer", async function () {
    if (breachSubmitterFiles.length === 0) {
      console.log(
        "\n  !!! PENDING: the warm-afternoon demo waits for the backend's automatic breach submitter (backend/coldchain/breach-*.ts), which this build does not have yet !!!\n",
      );
      return this.skip();
    }
    provena = await startProvena(e2eConfig({}), { logger: pino({ level: "silent" }) });
    const progress: string[] = [];
    const demo = await runDemo(provena, {
      log: (line) => progress.push(line),
      units: 20,
      disputeWindowSeconds: DISPUTE_WINDOW_SECONDS,
      coldChain: "breach",
    });
    expect(demo.lot).to.equal("OLV-WARM-1");
    expect(demo.coldChain).to.include({ scenario: "breach", breached: true });
    expect(demo.coldChain!.maxTemperature).to.be.above(800);
    // A breach never pays the carrier: by RefundFreight its share went back to the buyer.
    expect(demo.payouts.carrier).to.equal(0n);
    expect(progress.some((line) => line.includes("breach established on chain"))).to.equal(true);
    expect(progress.some((line) => line.includes("no verified arrival"))).to.equal(true);
  });
});

describeDemoOn("the embedded SQLite store", async () => ({ config: {}, cleanup: async () => undefined }));

describeDemoOn("MongoDB", async () => {
  const uri = process.env.MONGODB_URI;
  if (!uri) {
    console.log(
      "\n  !!! SKIPPED: the demo on MongoDB (MONGODB_URI is not set; set it to run the seeded demo against a MongoDB server) !!!\n",
    );
    return null;
  }
  const database = `provena_e2e_${randomBytes(4).toString("hex")}`;
  const databaseUri = withDatabase(uri, database);
  return {
    config: { mongodbUri: databaseUri },
    cleanup: async () => {
      const connection = await mongoose.createConnection(databaseUri).asPromise();
      await connection.dropDatabase();
      await connection.close();
    },
  };
});
