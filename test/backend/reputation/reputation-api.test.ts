/**
 * GET /api/v1/participants/{address}/reputation over a mirrored history: the scores the mirror's projections give,
 * problem+json for bad and unknown addresses, nothing of an order's terms, and a fresh answer once the mirror moves.
 */
import { expect } from "chai";
import request from "supertest";
import type { Hex } from "../../../backend/domain/model.ts";
import { createReputationModule, reputationSchema } from "../../../backend/reputation/reputation-routes.ts";
import { createReputationService } from "../../../backend/reputation/reputation-service.ts";
import { CHAIN_ID, ChainHistory, labelAddress } from "../../../scripts/fixtures/chain-history.ts";
import { createMemoryStore, createTestApp, type TestApp } from "../api/fixtures/test-app.ts";

const GTIN = "09506000134352";

describe("reputation API", function () {
  let t: TestApp;
  let history: ChainHistory;
  let acme: Hex, swift: Hex, shop: Hex, lab: Hex;
  let orderId: Hex;

  beforeEach(async function () {
    history = new ChainHistory();
    acme = history.onboard("acme", "MANUFACTURER");
    swift = history.onboard("swift", "CARRIER");
    shop = history.onboard("shop", "RETAILER");
    lab = history.onboard("lab", "INSPECTOR");
    const batchId = history.registerBatch({ manufacturer: acme, gtin: GTIN, lot: "L-1", quantity: 100 });
    orderId = history.openOrder({ label: "o1", buyer: shop, seller: acme, carrier: swift, batchId });
    history.handOver(batchId, acme, swift);
    history.attest(batchId, lab, true);
    history.proposeHandoff(batchId, swift, shop);
    history.rejectHandoff(batchId, swift, shop);
    history.handOver(batchId, swift, shop);
    history.deliverOrder(orderId);
    history.releaseOrder(orderId);
    const store = await createMemoryStore();
    t = await createTestApp({
      store,
      modules: [createReputationModule({ service: createReputationService({ store, chainId: CHAIN_ID }) })],
    });
    await history.mirrorInto(t.store);
  });

  afterEach(async function () {
    await t.store.close();
  });

  const reputationOf = (address: string) => request(t.app).get(`/api/v1/participants/${address}/reputation`);

  it("test_getReputation_sellerAndCarrier_scoresFromTheMirror", async function () {
    const seller = (await reputationOf(acme).expect(200)).body;
    expect(seller).to.include({ address: acme, method: "provena-reputation/1" });
    expect(reputationSchema.safeParse(seller).error).to.equal(undefined); // the documented response schema
    expect(seller.asOf).to.deep.include({ chainId: CHAIN_ID, blockNumber: history.headBlock });
    expect(seller.allTime.deliveryAsSeller).to.deep.include({ onTime: 1, late: 0 });
    expect(seller.allTime.deliveryAsSeller.score).to.deep.equal({ sampleSize: 1, ratio: 1, wilsonLowerBound: 0.2065 });
    expect(seller.allTime.recalls).to.deep.include({ lots: 1, recalled: 0 });
    expect(seller.allTime.inspectionsAsMaker).to.deep.include({ passed: 1, failed: 0 });
    expect(seller.allTime.handoffsSent).to.deep.include({ accepted: 1, refusedByRecipient: 0 });
    expect(seller.lastDays).to.deep.equal({ ...seller.allTime, from: seller.asOf.timestamp - 90 * 86_400 });

    const carrier = (await reputationOf(swift.toUpperCase().replace("0X", "0x")).expect(200)).body;
    expect(carrier.address).to.equal(swift);
    expect(carrier.allTime.deliveryAsCarrier).to.deep.include({ onTime: 1, late: 0 });
    expect(carrier.allTime.handoffsReceived).to.deep.include({ accepted: 1, refused: 0 });
    expect(carrier.allTime.handoffsSent).to.deep.include({ accepted: 1, refusedByRecipient: 1 });
    expect(carrier.allTime.inspectionsAsHolder).to.deep.include({ passed: 1, failed: 0 });

    const buyer = (await reputationOf(shop).expect(200)).body;
    expect(buyer.allTime.handoffsReceived).to.deep.include({ accepted: 1, refused: 1 });
    expect(buyer.allTime.disputes).to.deep.include({ opened: 0, lost: 0, settledOrders: 1 });
  });

  it("test_getReputation_holdsNoOrderTerms_orCounterparties", async function () {
    const response = await reputationOf(acme).expect(200);
    const text = JSON.stringify(response.body);
    expect(text).to.not.include(orderId.slice(2));
    expect(text).to.not.include(shop.slice(2));
    expect(text).to.not.include(swift.slice(2));
    expect(text).to.not.include("2500000000000000000"); // the order's amount
  });

  it("test_getReputation_badAddress_is400Problem_andUnknownIs404", async function () {
    const bad = await reputationOf("0x1234").expect(400);
    expect(bad.headers["content-type"]).to.match(/application\/problem\+json/);
    expect(bad.body.errors[0]).to.include({ in: "params", path: "address" });
    const unknown = await reputationOf(labelAddress("nobody")).expect(404);
    expect(unknown.headers["content-type"]).to.match(/application\/problem\+json/);
    await request(t.app).get(`/api/v1/participants/${acme}/reputation?window=7`).expect(400);
  });

  it("test_getReputation_afterNewEvents_answersAfresh", async function () {
    const before = (await reputationOf(acme).expect(200)).body;
    history.registerBatch({ manufacturer: acme, gtin: GTIN, lot: "L-2", quantity: 5 });
    await history.mirrorInto(t.store);
    const after = (await reputationOf(acme).expect(200)).body;
    expect(after.asOf.blockNumber).to.be.greaterThan(before.asOf.blockNumber);
    expect(after.allTime.recalls).to.deep.include({ lots: 2, recalled: 0 });
  });

  it("test_reputationService_concurrentRequestsShareOneComputation_untilTheMirrorMoves", async function () {
    let orderReads = 0;
    const counting = new Proxy(t.store, {
      get(target, property, receiver) {
        if (property === "listOrders") orderReads++;
        const value = Reflect.get(target, property, receiver) as unknown;
        return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    const service = createReputationService({ store: counting, chainId: CHAIN_ID });
    const [first, second] = await Promise.all([service.get(acme), service.get(acme)]);
    expect(second).to.equal(first);
    await service.get(acme);
    expect(orderReads).to.equal(3); // as buyer, seller and carrier, once
    history.registerBatch({ manufacturer: acme, gtin: GTIN, lot: "L-3", quantity: 5 });
    await history.mirrorInto(t.store);
    expect((await service.get(acme)).allTime.recalls.lots).to.equal(2);
    expect(orderReads).to.equal(6);
  });

  it("test_getTrackRecords_equalTheComputedAllTimeRecord_andMoveWithTheMirror", async function () {
    let historyReads = 0;
    const counting = new Proxy(t.store, {
      get(target, property, receiver) {
        if (property === "listOrders" || property === "listBatches" || property === "listEvents") historyReads++;
        const value = Reflect.get(target, property, receiver) as unknown;
        return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    const service = createReputationService({ store: counting, chainId: CHAIN_ID });
    const unknown = "0x00000000000000000000000000000000000000aa" as Hex;
    const records = await service.getTrackRecords([acme, swift, unknown, acme.toUpperCase().replace("0X", "0x") as Hex]);
    expect([...records.keys()]).to.have.members([acme, swift]);
    expect(historyReads).to.equal(0);
    const computed = createReputationService({ store: t.store, chainId: CHAIN_ID, cacheEntries: 0 });
    for (const address of [acme, swift]) {
      const full = await computed.get(address);
      expect(records.get(address)).to.deep.equal({ address, method: full.method, asOf: full.asOf, allTime: full.allTime });
    }
    history.registerBatch({ manufacturer: acme, gtin: GTIN, lot: "L-4", quantity: 5 });
    await history.mirrorInto(t.store);
    const moved = (await service.getTrackRecords([acme])).get(acme)!;
    expect(moved.asOf.blockNumber).to.be.greaterThan(records.get(acme)!.asOf.blockNumber);
    expect(moved.allTime).to.deep.equal((await computed.get(acme)).allTime);
    expect(moved.allTime.recalls.lots).to.equal(records.get(acme)!.allTime.recalls.lots + 1);
  });
});
