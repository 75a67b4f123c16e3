/**
 * Read grants over HTTP: a seller lets a financier read its orders as seller until a time; the financier then sees
 * them (by id, by listing, with escrow events), sees nothing else, and loses access the moment the seller revokes.
 */
import { expect } from "chai";
import { Wallet } from "ethers";
import request from "supertest";
import type { Hex } from "../../../backend/domain/model.ts";
import { createOrderReadGrantModule } from "../../../backend/finance/order-read-grant-routes.ts";
import { MAX_ACTIVE_GRANTS, createOrderReadGrantService } from "../../../backend/finance/order-read-grants.ts";
import { buildScenario, type Scenario } from "../api/fixtures/scenario.ts";
import { createMemoryStore, createTestApp, type TestApp } from "../api/fixtures/test-app.ts";

const DAY = 86_400_000;

describe("read grants for financiers", function () {
  let t: TestApp;
  let scenario: Scenario;
  const bank = Wallet.createRandom().address.toLowerCase() as Hex;

  beforeEach(async function () {
    const store = await createMemoryStore();
    scenario = buildScenario();
    await scenario.history.mirrorInto(store);
    t = await createTestApp({
      store,
      modules: (auth) => [
        createOrderReadGrantModule({ service: createOrderReadGrantService({ store }), auth, writeRateLimitPerMinute: 10_000 }),
      ],
    });
  });

  afterEach(async function () {
    await t.store.close();
  });

  const as = (address: string) => ({ Authorization: t.sessionFor(address) });
  const grant = (seller: string, body: unknown) =>
    request(t.app).post("/api/v1/finance/read-grants").set(as(seller)).set("Content-Type", "application/json").send(JSON.stringify(body));
  const order = (orderId: Hex, viewer: string) => request(t.app).get(`/api/v1/orders/${orderId}`).set(as(viewer));

  it("test_grant_financierSeesTheSellersOrders_andNothingElse", async function () {
    const { acme } = scenario.accounts;
    const { released, funded } = scenario.orders; // released: sold by acme; funded: sold by bolt
    await order(released, bank).expect(404);
    const created = await grant(acme, { financier: bank, expiresAt: Date.now() + 30 * DAY }).expect(201);
    expect(created.body).to.include({ seller: acme, financier: bank, revokedAt: null });
    expect((await order(released, bank).expect(200)).body).to.include({ orderId: released, seller: acme });
    await order(funded, bank).expect(404);
    const listed = await request(t.app).get(`/api/v1/orders?seller=${acme}`).set(as(bank)).expect(200);
    expect(listed.body.items.map((item: { orderId: Hex }) => item.orderId)).to.deep.equal([released]);
    await request(t.app).get(`/api/v1/orders?seller=${scenario.accounts.bolt}`).set(as(bank)).expect(403);
    await request(t.app).get(`/api/v1/orders?buyer=${scenario.accounts.warehouse}`).set(as(bank)).expect(403);
    const events = await request(t.app).get("/api/v1/events?contract=TradeEscrow&limit=100").set(as(bank)).expect(200);
    type Event = { orderIds: Hex[]; args: { withheld?: boolean } };
    const ofOrder = (orderId: Hex) => (events.body.items as Event[]).filter((event) => event.orderIds.includes(orderId));
    expect(ofOrder(released).length).to.be.greaterThan(0);
    expect(ofOrder(released).every((event) => event.args.withheld === undefined)).to.equal(true);
    expect(ofOrder(funded).length).to.be.greaterThan(0);
    expect(ofOrder(funded).every((event) => event.args.withheld === true)).to.equal(true);
  });

  it("test_revoke_takesEffectOnTheNextRequest_andOnlyTheSellerManagesItsGrants", async function () {
    const { acme, bolt } = scenario.accounts;
    await grant(acme, { financier: bank, expiresAt: new Date(Date.now() + DAY).toISOString() }).expect(201);
    await order(scenario.orders.released, bank).expect(200);
    await request(t.app).delete(`/api/v1/finance/read-grants/${bank}`).set(as(bolt)).expect(404); // bolt granted nothing
    const revoked = await request(t.app).delete(`/api/v1/finance/read-grants/${bank}`).set(as(acme)).expect(200);
    expect(revoked.body.revokedAt).to.be.a("number");
    await order(scenario.orders.released, bank).expect(404);
    await request(t.app).delete(`/api/v1/finance/read-grants/${bank}`).set(as(acme)).expect(404);
    const listing = await request(t.app).get("/api/v1/finance/read-grants").set(as(bank)).expect(200);
    expect(listing.body.received).to.have.length(1);
    expect(listing.body.given).to.deep.equal([]);
  });

  it("test_grant_expired_givesNoAccess", async function () {
    const service = createOrderReadGrantService({ store: t.store, now: () => Date.now() - 2 * DAY });
    await service.grant(
      {
        signedIn: true,
        address: scenario.accounts.acme,
        roles: [],
        participant: null,
        sessionExpiresAt: Date.now() + DAY,
        readGrantsFrom: [],
      },
      { financier: bank, expiresAt: Date.now() - DAY },
    );
    await order(scenario.orders.released, bank).expect(404);
  });

  it("test_grant_badRequests_areProblems", async function () {
    const { acme } = scenario.accounts;
    await request(t.app)
      .post("/api/v1/finance/read-grants")
      .set("Content-Type", "application/json")
      .send(JSON.stringify({ financier: bank, expiresAt: Date.now() + DAY }))
      .expect(401);
    expect((await grant(acme, { financier: acme, expiresAt: Date.now() + DAY }).expect(400)).body).to.include({ reason: "self-grant" });
    expect((await grant(acme, { financier: bank, expiresAt: Date.now() - 1 }).expect(400)).body).to.include({ reason: "expired" });
    expect((await grant(acme, { financier: bank, expiresAt: Date.now() + 400 * DAY }).expect(400)).body).to.include({ reason: "too-long" });
    await grant(acme, { financier: "0x1234", expiresAt: Date.now() + DAY }).expect(400);
    await grant(acme, { financier: bank, expiresAt: "tomorrow" }).expect(400);
    await grant(acme, { financier: bank, expiresAt: Date.now() + DAY, seller: scenario.accounts.bolt }).expect(400);
    await request(t.app).post("/api/v1/finance/read-grants").set(as(acme)).set("Content-Type", "text/plain").send("x").expect(415);
  });

  it("test_grant_atMostFiftyActivePerSeller_butRenewingOneIsFine", async function () {
    const { acme } = scenario.accounts;
    const financiers = Array.from({ length: MAX_ACTIVE_GRANTS }, () => Wallet.createRandom().address.toLowerCase());
    for (const financier of financiers) await grant(acme, { financier, expiresAt: Date.now() + DAY }).expect(201);
    const refused = await grant(acme, { financier: bank, expiresAt: Date.now() + DAY }).expect(422);
    expect(refused.body).to.include({ reason: "too-many-grants" });
    await grant(acme, { financier: financiers[0], expiresAt: Date.now() + 2 * DAY }).expect(201);
  });
});
