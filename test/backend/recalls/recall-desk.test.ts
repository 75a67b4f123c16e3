/**
 * The recall desk over HTTP: regulators see every lot a recall reaches and who holds it; holders acknowledge with
 * their own signature; outsiders, forgers, back-daters and non-holders are refused.
 */
import { expect } from "chai";
import { Wallet } from "ethers";
import request from "supertest";
import type { Hex } from "../../../backend/domain/model.ts";
import { recallAcknowledgementText } from "../../../backend/recalls/acknowledgement.ts";
import { createRecallDesk } from "../../../backend/recalls/recall-desk.ts";
import { createRecallModule } from "../../../backend/recalls/recall-routes.ts";
import { CHAIN_ID, ChainHistory } from "../../../scripts/fixtures/chain-history.ts";
import { createMemoryStore, createTestApp, type TestApp } from "../api/fixtures/test-app.ts";

const GTIN = "09506000134352";

describe("recall desk", function () {
  let t: TestApp;
  let history: ChainHistory;
  let ids: { root: Hex; childA: Hex; childB: Hex; grandchild: Hex; unrelated: Hex };
  let accounts: { acme: Hex; regulator: Hex; swift: Hex };
  const warehouse = Wallet.createRandom();
  const shop = Wallet.createRandom();
  const outsider = Wallet.createRandom();
  const holderOf = (wallet: { address: string }) => wallet.address.toLowerCase() as Hex;

  beforeEach(async function () {
    history = new ChainHistory();
    const acme = history.onboard("acme", "MANUFACTURER");
    const swift = history.onboard("swift", "CARRIER");
    const regulator = history.onboard("regulator", "REGULATOR");
    const root = history.registerBatch({ manufacturer: acme, gtin: GTIN, lot: "R-1", quantity: 1_000 });
    history.handOver(root, acme, swift);
    history.handOver(root, swift, holderOf(warehouse));
    const [childA, childB] = history.split(root, GTIN, holderOf(warehouse), [
      { lot: "R-1/A", quantity: 600 },
      { lot: "R-1/B", quantity: 400 },
    ]) as [Hex, Hex];
    history.handOver(childA, holderOf(warehouse), holderOf(shop));
    const [grandchild] = history.split(childA, GTIN, holderOf(shop), [{ lot: "R-1/A/1", quantity: 600 }]) as [Hex];
    const unrelated = history.registerBatch({ manufacturer: acme, gtin: GTIN, lot: "U-1", quantity: 5 });
    history.recall(root, regulator);
    ids = { root, childA, childB, grandchild, unrelated };
    accounts = { acme, regulator, swift };
    const store = await createMemoryStore();
    t = await createTestApp({
      store,
      modules: (auth) => [createRecallModule({ desk: createRecallDesk({ store, chainId: CHAIN_ID }), auth, chainId: CHAIN_ID })],
    });
    await history.mirrorInto(t.store);
  });

  afterEach(async function () {
    await t.store.close();
  });

  async function signedAcknowledgement(
    signer: Wallet | ReturnType<typeof Wallet.createRandom>,
    holder = holderOf(signer),
    at = Date.now(),
  ) {
    const text = recallAcknowledgementText({ batchId: ids.root, holder, chainId: CHAIN_ID, acknowledgedAt: at });
    return { holder, acknowledgedAt: at, signature: await signer.signMessage(text) };
  }
  const acknowledge = (body: unknown, batchId = ids.root) =>
    request(t.app).post(`/api/v1/recalls/${batchId}/acknowledgements`).set("Content-Type", "application/json").send(JSON.stringify(body));
  const asRegulator = () => t.sessionFor(accounts.regulator);

  it("test_recallDesk_anonymousIs401_andNonRegulatorIs403", async function () {
    await request(t.app).get("/api/v1/recalls").expect(401);
    await request(t.app).get(`/api/v1/recalls/${ids.root}`).expect(401);
    const asManufacturer = await request(t.app)
      .get(`/api/v1/recalls/${ids.root}`)
      .set("Authorization", t.sessionFor(accounts.acme))
      .expect(403);
    expect(asManufacturer.body).to.include({ reason: "not-a-regulator" });
  });

  it("test_listRecalls_regulator_seesTheRecalledLotOnly", async function () {
    const page = (await request(t.app).get("/api/v1/recalls").set("Authorization", asRegulator()).expect(200)).body;
    expect(page.items.map((item: { batchId: Hex }) => item.batchId)).to.deep.equal([ids.root]);
    expect(page.items[0].recall.by).to.equal(accounts.regulator);
  });

  it("test_getRecall_reachesEveryDescendant_withItsHolderNow", async function () {
    const detail = (await request(t.app).get(`/api/v1/recalls/${ids.root}`).set("Authorization", asRegulator()).expect(200)).body;
    const lots = Object.fromEntries(detail.affectedLots.map((lot: { batchId: Hex }) => [lot.batchId, lot]));
    expect(Object.keys(lots)).to.have.members([ids.root, ids.childA, ids.childB, ids.grandchild]);
    expect(lots[ids.grandchild]).to.include({ depth: 2, custodian: holderOf(shop), acknowledged: false });
    expect(lots[ids.childB]).to.include({ depth: 1, custodian: holderOf(warehouse) });
    expect(detail.summary).to.deep.equal({ lots: 4, holders: 2, acknowledgedHolders: 0 });
    const shopHolder = detail.holders.find((holder: { address: Hex }) => holder.address === holderOf(shop));
    expect(shopHolder.lots).to.have.members([ids.childA, ids.grandchild]);
  });

  it("test_getRecall_ofAMergedInput_reachesTheMergesOutputBeforeTheChainFlagsIt", async function () {
    const merged = new ChainHistory();
    const acme = merged.onboard("acme", "MANUFACTURER");
    const regulator = merged.onboard("regulator", "REGULATOR");
    const input = merged.registerBatch({ manufacturer: acme, gtin: GTIN, lot: "IN-1", quantity: 10 });
    const output = merged.registerBatch({ manufacturer: acme, gtin: GTIN, lot: "MIX-1", quantity: 10 });
    merged.transform({ processor: acme, inputIds: [input], outputIds: [output] });
    const [outputPart] = merged.split(output, GTIN, acme, [{ lot: "MIX-1/A", quantity: 10 }]) as [Hex];
    merged.recall(input, regulator);
    const store = await createMemoryStore();
    const app = await createTestApp({
      store,
      modules: (auth) => [createRecallModule({ desk: createRecallDesk({ store, chainId: CHAIN_ID }), auth, chainId: CHAIN_ID })],
    });
    try {
      await merged.mirrorInto(app.store);
      const detail = (await request(app.app).get(`/api/v1/recalls/${input}`).set("Authorization", app.sessionFor(regulator)).expect(200))
        .body;
      const depths = Object.fromEntries(detail.affectedLots.map((lot: { batchId: Hex; depth: number }) => [lot.batchId, lot.depth]));
      expect(depths).to.deep.equal({ [input]: 0, [output]: 1, [outputPart]: 2 });
      expect(detail.summary).to.include({ lots: 3 });
    } finally {
      await app.store.close();
    }
  });

  it("test_acknowledge_holderSignature_isStoredOnce_andShownOnTheDesk", async function () {
    const body = await signedAcknowledgement(shop);
    const first = await acknowledge(body).expect(201);
    expect(first.body).to.include({ holder: holderOf(shop), batchId: ids.root });
    expect(first.body.heldBatchIds).to.have.members([ids.childA, ids.grandchild]);
    const again = await acknowledge(await signedAcknowledgement(shop, holderOf(shop), Date.now() + 1)).expect(200);
    expect(again.body.signature).to.equal(body.signature);
    const detail = (await request(t.app).get(`/api/v1/recalls/${ids.root}`).set("Authorization", asRegulator()).expect(200)).body;
    expect(detail.summary.acknowledgedHolders).to.equal(1);
    const grandchild = detail.affectedLots.find((lot: { batchId: Hex }) => lot.batchId === ids.grandchild);
    expect(grandchild.acknowledged).to.equal(true);
  });

  it("test_acknowledge_nonHolder_is403_evenWithItsOwnValidSignature", async function () {
    const answer = await acknowledge(await signedAcknowledgement(outsider)).expect(403);
    expect(answer.body).to.include({ reason: "not-a-holder" });
    // The manufacturer handed the root on long ago: it holds nothing the recall reaches now.
    expect(
      (await request(t.app).get(`/api/v1/recalls/${ids.root}`).set("Authorization", asRegulator())).body.summary.acknowledgedHolders,
    ).to.equal(0);
  });

  it("test_acknowledge_signatureByAnotherKeyForTheHolder_is422", async function () {
    const forged = await signedAcknowledgement(outsider, holderOf(shop));
    expect((await acknowledge(forged).expect(422)).body).to.include({ reason: "signature" });
  });

  it("test_acknowledge_backDatedOrFutureDated_is422", async function () {
    expect((await acknowledge(await signedAcknowledgement(shop, holderOf(shop), Date.now() - 3_600_000)).expect(422)).body).to.include({
      reason: "stale",
    });
    expect((await acknowledge(await signedAcknowledgement(shop, holderOf(shop), Date.now() + 3_600_000)).expect(422)).body).to.include({
      reason: "stale",
    });
  });

  it("test_acknowledge_descendantOrUnrecalledBatch_is404", async function () {
    await acknowledge(await signedAcknowledgement(shop), ids.childA).expect(404);
    await acknowledge(await signedAcknowledgement(shop), ids.unrelated).expect(404);
  });

  it("test_acknowledge_malformedBodies_are400", async function () {
    await acknowledge({ holder: holderOf(shop), acknowledgedAt: "yesterday", signature: "0x00" }).expect(400);
    await acknowledge({ ...(await signedAcknowledgement(shop)), extra: true }).expect(400);
  });

  it("test_acknowledgementText_isWhatTheHolderSigns", async function () {
    const at = Date.now();
    const { text } = (
      await request(t.app)
        .get(`/api/v1/recalls/${ids.root}/acknowledgement-text?holder=${holderOf(shop)}&acknowledgedAt=${at}`)
        .expect(200)
    ).body as { text: string };
    await acknowledge({ holder: holderOf(shop), acknowledgedAt: at, signature: await shop.signMessage(text) }).expect(201);
  });

  it("test_getRecall_holderWhoPassedTheLotOn_isListedAsFormerHolder", async function () {
    await acknowledge(await signedAcknowledgement(shop)).expect(201);
    history.handOver(ids.grandchild, holderOf(shop), accounts.swift);
    history.handOver(ids.childA, holderOf(shop), accounts.swift);
    await history.mirrorInto(t.store);
    const detail = (await request(t.app).get(`/api/v1/recalls/${ids.root}`).set("Authorization", asRegulator()).expect(200)).body;
    expect(detail.formerHolderAcknowledgements.map((ack: { holder: Hex }) => ack.holder)).to.deep.equal([holderOf(shop)]);
    expect(detail.holders.map((holder: { address: Hex }) => holder.address)).to.not.include(holderOf(shop));
  });
});
