/**
 * Trade records for financiers, end to end on Hardhat's chain: the seller drafts one from the mirror, signs it, and a
 * financier's verification passes only for the seller's signature over exactly what the chain holds. Sellers who
 * leave out an event, overstate the escrow, alter the terms or borrow another lot's events are caught; so is a
 * record for another deployment or a reorganised block.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { Interface, ZeroAddress, keccak256, toUtf8Bytes, type Eip1193Provider } from "ethers";
import request from "supertest";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { loadProvenaAbis } from "../../../backend/chain/artifacts.ts";
import type { Deployment } from "../../../backend/chain/deployment.ts";
import { signOrderConsentOn } from "../../../backend/chain/order-consent.ts";
import { providerFromEip1193 } from "../../../backend/chain/provider.ts";
import { orderTupleType, type TradeRecord, type TradeRecordClaims } from "../../../backend/finance/trade-record.ts";
import { createTradeRecordModule } from "../../../backend/finance/trade-record-routes.ts";
import { createTradeRecordService } from "../../../backend/finance/trade-record-service.ts";
import type { TradeRecordVerification } from "../../../backend/finance/trade-record-verifier.ts";
import type { Hex } from "../../../backend/domain/model.ts";
import { DEMO_DC_GLN, DEMO_PORT_GLN, deployProvena, type ProvenaDeployment } from "../../../scripts/fixtures/provena-deployment.ts";
import { BusinessStep } from "../../../scripts/fixtures/registry-enums.ts";
import { registerBatch } from "../../helpers/batches.ts";
import { syncToHead } from "../../helpers/indexer-sync.ts";
import { createMemoryStore, createTestApp, type TestApp } from "../api/fixtures/test-app.ts";

const DAY = 24 * 3600;

describe("trade records for financiers", function () {
  this.timeout(120_000);

  let connection: Awaited<ReturnType<typeof network.create>>;
  let deployed: ProvenaDeployment;
  let deployment: Deployment;
  let t: TestApp;
  let sync: () => Promise<void>;
  let ids: { parent: Hex; lot: Hex; other: Hex; orderId: Hex };
  let seller: HardhatEthersSigner;
  let buyer: HardhatEthersSigner;
  let outsider: HardhatEthersSigner;
  let disputeWindow: number;

  before(async function () {
    connection = await network.create();
    const { ethers } = connection;
    deployed = await deployProvena(ethers);
    const { registry, manufacturer, carrier, inspector, retailer } = deployed;
    const escrow = deployed.escrow!;
    [seller, buyer, outsider] = [manufacturer, retailer, (await ethers.getSigners())[8]!];
    const wait = async (sent: Promise<{ wait(): Promise<unknown> }>) => void (await (await sent).wait());

    const parent = await registerBatch(registry, manufacturer, { lot: "TR-PARENT", quantity: 10n });
    await wait(registry.connect(inspector).attestQuality(parent.batchId, true, keccak256(toUtf8Bytes("pallet report"))));
    const children = [
      { lot: "TR-PARENT/A", quantity: 6n, serialRoot: parent.tree.root },
      { lot: "TR-PARENT/B", quantity: 4n, serialRoot: parent.tree.root },
    ];
    await wait(registry.connect(manufacturer).splitBatch(parent.batchId, children));
    const lot = (await registry.batchIdOf(parent.input.gtin, children[0]!.lot)).toLowerCase() as Hex;
    const sibling = (await registry.batchIdOf(parent.input.gtin, children[1]!.lot)).toLowerCase() as Hex;
    const other = await registerBatch(registry, manufacturer, { lot: "TR-OTHER", quantity: 3n });

    const now = (await ethers.provider.getBlock("latest"))!.timestamp;
    disputeWindow = 3 * DAY;
    const escrowInterface = new Interface(loadProvenaAbis().TradeEscrow);
    const fieldNames = (orderTupleType(escrowInterface).components ?? []).map((component) => component.name);
    const terms: Record<string, unknown> = {
      buyer: retailer.address,
      seller: manufacturer.address,
      carrier: carrier.address,
      token: ZeroAddress,
      amount: ethers.parseEther("2"),
      batchId: lot,
      sellerBps: 8_900,
      carrierBps: 1_000,
      platformBps: 100,
      deliveryDeadline: now + 7 * DAY,
      disputeWindow,
      inspector: ZeroAddress,
      fallbackBuyerBps: 5_000,
      salt: keccak256(toUtf8Bytes("trade record order")),
    };
    // Fields a later escrow adds to its Order default to zero here (e.g. an enum of optional terms).
    const order = Object.fromEntries(fieldNames.map((name) => [name, terms[name] ?? 0]));
    const consent = await signOrderConsentOn(escrow, manufacturer, order as never);
    await wait(escrow.connect(retailer).openOrder(order as never, consent, { value: ethers.parseEther("2") }));
    const orderId = ((await escrow.orderIdOf(order as never)) as string).toLowerCase() as Hex;

    await wait(registry.connect(manufacturer).proposeHandoff(lot, carrier.address, DEMO_PORT_GLN, BusinessStep.Shipping));
    await wait(registry.connect(carrier).acceptHandoff(lot, DEMO_PORT_GLN, BusinessStep.Receiving));
    await wait(registry.connect(inspector).attestQuality(lot, true, keccak256(toUtf8Bytes("lab report"))));
    await wait(registry.connect(carrier).proposeHandoff(lot, retailer.address, DEMO_DC_GLN, BusinessStep.Retail));
    await wait(registry.connect(retailer).acceptHandoff(lot, DEMO_DC_GLN, BusinessStep.Receiving));
    // Noise that is not this order's story: the sibling lot moves, the other batch is inspected.
    await wait(registry.connect(manufacturer).proposeHandoff(sibling, carrier.address, DEMO_PORT_GLN, BusinessStep.Shipping));
    await wait(registry.connect(inspector).attestQuality(other.batchId, false, keccak256(toUtf8Bytes("other report"))));

    const { provider, chainId } = await providerFromEip1193(connection.provider as unknown as Eip1193Provider, 20);
    deployment = {
      chainId,
      forwarder: (await deployed.forwarder.getAddress()).toLowerCase() as Hex,
      registry: (await registry.getAddress()).toLowerCase() as Hex,
      escrow: (await escrow.getAddress()).toLowerCase() as Hex,
      deployBlock: 0,
    };
    const store = await createMemoryStore();
    sync = () => syncToHead({ provider, deployment, store, instanceId: "trade-record-test" });
    await sync();
    const service = createTradeRecordService({ store, chain: { provider, deployment, abis: loadProvenaAbis() } });
    t = await createTestApp({ store, modules: (auth) => [createTradeRecordModule({ service, auth, writeRateLimitPerMinute: 10_000 })] });
    ids = { parent: parent.batchId.toLowerCase() as Hex, lot, other: other.batchId.toLowerCase() as Hex, orderId };
  });

  after(async function () {
    await t?.store.close();
    await connection?.close();
  });

  const draftFor = async (address: string) =>
    request(t.app).get(`/api/v1/orders/${ids.orderId}/trade-record`).set("Authorization", t.sessionFor(address.toLowerCase()));
  const draft = async (): Promise<TradeRecordClaims> =>
    (await draftFor(seller.address).then((res) => res.body as { claims: TradeRecordClaims })).claims;
  const signed = async (claims: TradeRecordClaims, signer: HardhatEthersSigner = seller): Promise<TradeRecord> => {
    const { domain, types, message } = (await import("../../../backend/finance/trade-record.ts")).tradeRecordTypedData(claims);
    return { ...claims, signature: (await signer.signTypedData(domain, types, message)).toLowerCase() as Hex };
  };
  const verify = async (record: unknown): Promise<TradeRecordVerification> =>
    (
      await request(t.app)
        .post("/api/v1/trade-records/verifications")
        .set("Content-Type", "application/json")
        .send(JSON.stringify(record))
        .expect(200)
    ).body as TradeRecordVerification;
  const failed = (report: TradeRecordVerification) => report.checks.filter((check) => !check.ok).map((check) => check.check);

  it("test_draft_anonymous401_buyer403_outsider404", async function () {
    await request(t.app).get(`/api/v1/orders/${ids.orderId}/trade-record`).expect(401);
    const asBuyer = await draftFor(buyer.address);
    expect(asBuyer.status).to.equal(403);
    expect(asBuyer.body).to.include({ reason: "not-the-seller" });
    const asOutsider = await draftFor(outsider.address);
    expect(asOutsider.status).to.equal(404);
    const unknown = await request(t.app)
      .get(`/api/v1/orders/${keccak256(toUtf8Bytes("no such order"))}/trade-record`)
      .set("Authorization", t.sessionFor(outsider.address.toLowerCase()));
    expect(unknown.status).to.equal(404);
    expect(asOutsider.body.detail).to.equal(unknown.body.detail.replace(/0x[0-9a-f]{64}/, ids.orderId));
  });

  it("test_verify_sellersSignedDraft_passesWithLineageEventsAndReleaseTime", async function () {
    const claims = await draft();
    expect(claims.escrowState).to.equal("delivered");
    const report = await verify(await signed(claims));
    expect(failed(report), JSON.stringify(report.checks)).to.deep.equal([]);
    expect(report.valid).to.equal(true);
    expect(report.lineage).to.deep.equal([ids.lot, ids.parent]);
    const names = report.events.map((event) => event.name);
    expect(names).to.include.members([
      "BatchRegistered",
      "QualityAttested",
      "BatchSplit",
      "OrderOpened",
      "HandoffAccepted",
      "OrderDelivered",
    ]);
    expect(report.events).to.have.length(claims.events.length);
    // The other batch's failed inspection and the sibling's handoff are not this order's story.
    expect(report.events.some((event) => event.batchIds.includes(ids.other))).to.equal(false);
    expect(
      report.events.some(
        (event) =>
          event.name === "HandoffProposed" &&
          event.args.to === deployed.carrier.address.toLowerCase() &&
          event.args.batchId !== ids.lot &&
          event.args.batchId !== ids.parent,
      ),
    ).to.equal(false);
    expect(report.order).to.include({
      seller: seller.address.toLowerCase(),
      sellerPayout: ((2n * 10n ** 18n * 8_900n) / 10_000n).toString(),
    });
    expect(report.escrow!.stateNow).to.equal("delivered");
    expect(report.escrow!.releasableFrom).to.equal(report.escrow!.deliveredAt! + disputeWindow);
  });

  it("test_verify_withSellerReputation_foldsTheChainsLogs_andIsOffByDefault", async function () {
    const record = await signed(await draft());
    expect((await verify(record)).sellerReputation).to.equal(null);
    const response = await request(t.app)
      .post("/api/v1/trade-records/verifications?sellerReputation=true")
      .set("Content-Type", "application/json")
      .send(JSON.stringify(record))
      .expect(200);
    const reputation = (response.body as TradeRecordVerification).sellerReputation!;
    expect(reputation).to.include({ address: seller.address.toLowerCase(), method: "provena-reputation/1" });
    expect(reputation.asOf.blockNumber).to.equal(record.asOf.blockNumber);
    // The seller's one order was delivered before its deadline; it registered two lots and the other one, none recalled.
    expect(reputation.allTime.deliveryAsSeller).to.deep.include({ onTime: 1, late: 0 });
    expect(reputation.allTime.recalls).to.deep.include({ lots: 2, recalled: 0 });
    await request(t.app)
      .post("/api/v1/trade-records/verifications?sellerReputation=yes")
      .set("Content-Type", "application/json")
      .send(JSON.stringify(record))
      .expect(400);
  });

  it("test_verify_buyersSignature_failsSignature", async function () {
    const report = await verify(await signed(await draft(), buyer));
    expect(report.valid).to.equal(false);
    expect(failed(report)).to.deep.equal(["signature"]);
    expect(report.checks.find((check) => check.check === "signature")!.detail).to.include(buyer.address.toLowerCase());
  });

  it("test_verify_claimsChangedAfterSigning_failsSignature", async function () {
    const record = await signed(await draft());
    const report = await verify({ ...record, issuedAt: record.issuedAt + 1 });
    expect(failed(report)).to.deep.equal(["signature"]);
  });

  it("test_verify_omittedInspection_failsCompleteness", async function () {
    const claims = await draft();
    const full = await verify(await signed(claims));
    const inspection = full.events.find((event) => event.name === "QualityAttested" && event.args.batchId === ids.lot)!;
    const shorter = {
      ...claims,
      events: claims.events.filter((ref) => !(ref.transactionHash === inspection.transactionHash && ref.logIndex === inspection.logIndex)),
    };
    const report = await verify(await signed(shorter));
    expect(failed(report)).to.deep.equal(["completeness"]);
    expect(report.omitted.map((event) => event.name)).to.deep.equal(["QualityAttested"]);
  });

  it("test_verify_omittedParentRegistration_failsCompleteness", async function () {
    const claims = await draft();
    const full = await verify(await signed(claims));
    const registration = full.events.find((event) => event.name === "BatchRegistered")!;
    expect(registration.args.batchId).to.equal(ids.parent);
    const report = await verify(
      await signed({ ...claims, events: claims.events.filter((ref) => ref.transactionHash !== registration.transactionHash) }),
    );
    expect(failed(report)).to.include("completeness");
  });

  it("test_verify_anotherBatchsEvent_failsEvents", async function () {
    const claims = await draft();
    const foreign = await deployed.registry.queryFilter(deployed.registry.filters.QualityAttested(ids.other));
    const report = await verify(
      await signed({
        ...claims,
        events: [...claims.events, { transactionHash: foreign[0]!.transactionHash.toLowerCase() as Hex, logIndex: foreign[0]!.index }],
      }),
    );
    expect(failed(report)).to.deep.equal(["events"]);
    expect(report.checks.find((check) => check.check === "events")!.detail).to.include("not an event of this order or its goods");
  });

  it("test_verify_inventedOrDuplicateEvent_failsEvents", async function () {
    const claims = await draft();
    const invented = { transactionHash: keccak256(toUtf8Bytes("no such tx")) as Hex, logIndex: 0 };
    const report = await verify(await signed({ ...claims, events: [...claims.events, invented, claims.events[0]!] }));
    const detail = report.checks.find((check) => check.check === "events")!.detail;
    expect(detail).to.include("no such transaction").and.include("listed twice");
  });

  it("test_verify_overstatedEscrowState_failsEscrowState", async function () {
    const report = await verify(await signed({ ...(await draft()), escrowState: "released" }));
    expect(failed(report)).to.deep.equal(["escrow-state"]);
  });

  it("test_verify_alteredAmount_failsOrder", async function () {
    const claims = await draft();
    const report = await verify(await signed({ ...claims, order: { ...claims.order, amount: "20000000000000000000" } }));
    expect(failed(report)).to.deep.equal(["order"]);
    expect(report.valid).to.equal(false);
  });

  it("test_verify_otherDeploymentOrReorganisedBlock_fails", async function () {
    const claims = await draft();
    const elsewhere = await verify(await signed({ ...claims, escrow: ids.lot.slice(0, 42) as Hex }));
    expect(failed(elsewhere)).to.deep.equal(["deployment"]);
    const reorged = await verify(await signed({ ...claims, asOf: { ...claims.asOf, blockHash: keccak256(toUtf8Bytes("fork")) as Hex } }));
    expect(failed(reorged)).to.deep.equal(["block"]);
  });

  it("test_verify_malformedRecord_reportsShapeNot500", async function () {
    const garbage = await verify({ format: "something else", events: "all of them" });
    expect(garbage.valid).to.equal(false);
    expect(garbage.checks[0]).to.include({ check: "shape", ok: false });
    const claims = await draft();
    const huge = await verify({ ...(await signed(claims)), events: Array.from({ length: 2_001 }, () => claims.events[0]) });
    expect(huge.checks[0]!.detail).to.include("at most 2000 events");
    await request(t.app).post("/api/v1/trade-records/verifications").set("Content-Type", "text/plain").send("hello").expect(415);
  });

  it("test_verify_afterRelease_oldRecordValidAndStateNowReleased", async function () {
    const record = await signed(await draft());
    await connection.networkHelpers.time.increase(disputeWindow + 60);
    const escrow = deployed.escrow!;
    const order = Object.fromEntries(Object.entries(record.order));
    await (await escrow.connect(buyer).release(order as never)).wait();
    await sync();
    const report = await verify(record);
    expect(report.valid, JSON.stringify(report.checks)).to.equal(true);
    expect(report.escrow).to.include({ stateAtRecord: "delivered", stateNow: "released", releasableFrom: null });
    // A new draft now carries the release.
    const fresh = await draft();
    expect(fresh.escrowState).to.equal("released");
    expect(fresh.events.length).to.be.greaterThan(record.events.length);
  });
});
