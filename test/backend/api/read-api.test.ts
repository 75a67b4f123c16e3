/**
 * The read API end to end over the embedded SQLite store, seeded through the real projection reducers:
 * every endpoint, every filter, pagination across pages, and every response checked against the zod
 * models the OpenAPI document is generated from.
 */
import { expect } from "chai";
import request from "supertest";
import type { z } from "zod";
import {
  batchDetailSchema,
  batchPageSchema,
  chainEventPageSchema,
  orderPageSchema,
  orderSchema,
  participantPageSchema,
  participantSchema,
} from "../../../backend/api/models.ts";
import type { Batch, ChainEvent, Hex, Order, Participant } from "../../../backend/domain/model.ts";
import { GTIN_A, GTIN_B, seedScenario, type Scenario } from "./fixtures/scenario.ts";
import { ChainHistory } from "../../../scripts/fixtures/chain-history.ts";
import { createTestApp, type TestApp } from "./fixtures/test-app.ts";

/** GETs `path`, expects 200 JSON and parses the body with `schema` (strict: unknown fields fail). */
async function getJson<S extends z.ZodType>(app: TestApp["app"], path: string, schema: S, authorization?: string): Promise<z.output<S>> {
  const response = await (
    authorization === undefined ? request(app).get(path) : request(app).get(path).set("Authorization", authorization)
  ).expect(200);
  expect(response.headers["content-type"]).to.match(/^application\/json/);
  const parsed = schema.safeParse(response.body);
  if (!parsed.success) throw new Error(`${path}: response does not match its model: ${parsed.error.message}`);
  return parsed.data;
}

/** Follows nextCursor from `path` (which has no cursor yet) to the end; returns the items and page count. */
async function readAllPages<T>(
  app: TestApp["app"],
  path: string,
  schema: z.ZodType<{ items: T[]; nextCursor: string | null }>,
  authorization?: string,
) {
  const items: T[] = [];
  let pages = 0;
  let cursor: string | null = null;
  do {
    const separator = path.includes("?") ? "&" : "?";
    const page: { items: T[]; nextCursor: string | null } = await getJson(
      app,
      cursor === null ? path : `${path}${separator}cursor=${encodeURIComponent(cursor)}`,
      schema,
      authorization,
    );
    items.push(...page.items);
    cursor = page.nextCursor;
    if (++pages > 100) throw new Error("pagination does not end");
  } while (cursor !== null);
  return { items, pages };
}

describe("read API", function () {
  let t: TestApp;
  let s: Scenario;

  const asRegulator = () => t.sessionFor(s.accounts.regulator);

  before(async function () {
    t = await createTestApp();
    s = await seedScenario(t.store);
  });

  after(async function () {
    await t.store.close();
  });

  describe("GET /api/v1/batches", function () {
    it("test_listBatches_noFilter_returnsEveryBatchOnce", async function () {
      const { items } = await readAllPages<Batch>(t.app, "/api/v1/batches?limit=500", batchPageSchema);
      const expected = [
        s.batches.root,
        s.batches.childA,
        s.batches.childB,
        s.batches.grandchild,
        s.batches.inTransit,
        s.batches.recalled,
        s.batches.rejected,
        ...s.batches.fillers,
      ];
      expect(items.map((batch) => batch.batchId)).to.have.members(expected);
      expect(items).to.have.length(expected.length);
    });

    it("test_listBatches_paginates_acrossPagesWithoutGapsOrDuplicates", async function () {
      const all = await readAllPages<Batch>(t.app, "/api/v1/batches?limit=500", batchPageSchema);
      const paged = await readAllPages<Batch>(t.app, "/api/v1/batches?limit=4", batchPageSchema);
      expect(paged.pages).to.equal(Math.ceil(all.items.length / 4));
      expect(paged.items.map((batch) => batch.batchId)).to.deep.equal(all.items.map((batch) => batch.batchId));
    });

    it("test_listBatches_defaultLimit_is50", async function () {
      const big = await createTestApp();
      const history = new ChainHistory();
      const maker = history.onboard("maker", "MANUFACTURER");
      for (let i = 0; i < 60; i++) history.registerBatch({ manufacturer: maker, gtin: GTIN_A, lot: `D-${i}` });
      await history.mirrorInto(big.store);
      const first = await getJson(big.app, "/api/v1/batches", batchPageSchema);
      expect(first.items).to.have.length(50);
      expect(first.nextCursor).to.be.a("string");
      const second = await getJson(big.app, `/api/v1/batches?cursor=${encodeURIComponent(first.nextCursor!)}`, batchPageSchema);
      expect(second.items).to.have.length(10);
      expect(second.nextCursor).to.equal(null);
      await big.store.close();
    });

    it("test_listBatches_gtinAndLot_findsExactlyOneBatch", async function () {
      const page = await getJson(t.app, `/api/v1/batches?gtin=${GTIN_A}&lot=LOT-002`, batchPageSchema);
      expect(page.items.map((batch) => batch.batchId)).to.deep.equal([s.batches.inTransit]);
    });

    it("test_listBatches_gtin13_isPaddedToGtin14", async function () {
      const page = await getJson(t.app, `/api/v1/batches?gtin=${GTIN_B.slice(1)}`, batchPageSchema);
      expect(page.items.map((batch) => batch.batchId)).to.deep.equal([s.batches.rejected]);
    });

    it("test_listBatches_lotWithReservedCharacters_isDecoded", async function () {
      const page = await getJson(t.app, `/api/v1/batches?gtin=${GTIN_A}&lot=${encodeURIComponent("LOT-001/A/1")}`, batchPageSchema);
      expect(page.items.map((batch) => batch.batchId)).to.deep.equal([s.batches.grandchild]);
    });

    it("test_listBatches_manufacturer_filters", async function () {
      const { items } = await readAllPages<Batch>(t.app, `/api/v1/batches?manufacturer=${s.accounts.bolt}`, batchPageSchema);
      expect(items.map((batch) => batch.batchId)).to.deep.equal([s.batches.rejected]);
    });

    it("test_listBatches_checksummedAddress_isAccepted", async function () {
      const { getAddress } = await import("ethers");
      const page = await getJson(t.app, `/api/v1/batches?manufacturer=${getAddress(s.accounts.bolt)}`, batchPageSchema);
      expect(page.items).to.have.length(1);
    });

    it("test_listBatches_custodian_filters", async function () {
      const { items } = await readAllPages<Batch>(t.app, `/api/v1/batches?custodian=${s.accounts.shop}`, batchPageSchema);
      expect(items.map((batch) => batch.batchId)).to.have.members([s.batches.childA, s.batches.grandchild]);
    });

    it("test_listBatches_status_filters", async function () {
      const byStatus = async (status: string) =>
        (await readAllPages<Batch>(t.app, `/api/v1/batches?status=${status}`, batchPageSchema)).items.map((batch) => batch.batchId);
      expect(await byStatus("in_transit")).to.deep.equal([s.batches.inTransit]);
      expect(await byStatus("recalled")).to.deep.equal([s.batches.recalled]);
      expect(await byStatus("split")).to.have.members([s.batches.root, s.batches.childA]);
      expect(await byStatus("delivered")).to.deep.equal([]);
    });

    it("test_listBatches_parent_listsChildren", async function () {
      const page = await getJson(t.app, `/api/v1/batches?parent=${s.batches.root}`, batchPageSchema);
      expect(page.items.map((batch) => batch.batchId)).to.have.members([s.batches.childA, s.batches.childB]);
    });

    it("test_listBatches_combinedFilters_intersect", async function () {
      const page = await getJson(t.app, `/api/v1/batches?manufacturer=${s.accounts.acme}&status=registered&limit=500`, batchPageSchema);
      // The split children inherit acme as manufacturer from the root; childA itself was split.
      expect(page.items.map((batch) => batch.batchId)).to.have.members([s.batches.childB, s.batches.grandchild, ...s.batches.fillers]);
    });

    it("test_listBatches_unknownGtin_returnsEmptyPage", async function () {
      const page = await getJson(t.app, `/api/v1/batches?gtin=${GTIN_B}&lot=NOPE`, batchPageSchema);
      expect(page).to.deep.equal({ items: [], nextCursor: null });
    });
  });

  describe("GET /api/v1/batches/{batchId}", function () {
    it("test_getBatch_timeline_isTheWholeHistoryInChainOrder", async function () {
      const batch = await getJson(t.app, `/api/v1/batches/${s.batches.root}`, batchDetailSchema);
      expect(batch.batchId).to.equal(s.batches.root);
      expect(batch.gtin).to.equal(GTIN_A);
      expect(batch.lot).to.equal("LOT-001");
      expect(batch.status).to.equal("split");
      expect(batch.custodian).to.equal(s.accounts.warehouse);
      expect(batch.timeline.map((entry) => entry.type)).to.deep.equal([
        "registered",
        "handoff_proposed",
        "handoff_accepted",
        "handoff_proposed",
        "handoff_accepted",
        "inspected",
        "split",
      ]);
      const eventIds = batch.timeline.map((entry) => entry.at.eventId);
      expect(eventIds).to.deep.equal([...eventIds].sort());
      const accepted = batch.timeline.filter((entry) => entry.type === "handoff_accepted");
      expect(accepted.map((entry) => ("to" in entry ? entry.to : null))).to.deep.equal([s.accounts.swift, s.accounts.warehouse]);
      const split = batch.timeline.at(-1)!;
      expect(split.type === "split" && split.childIds).to.deep.equal([s.batches.childA, s.batches.childB]);
    });

    it("test_getBatch_custodyAndInspections_areKept", async function () {
      const batch = await getJson(t.app, `/api/v1/batches/${s.batches.root}`, batchDetailSchema);
      expect(batch.custody).to.have.length(4);
      expect(batch.custody[0]).to.include({ kind: "proposed", from: s.accounts.acme, to: s.accounts.swift, businessStep: "shipping" });
      expect(batch.inspection).to.equal("passed");
      expect(batch.inspections).to.have.length(1);
      expect(batch.inspections[0]).to.include({ inspector: s.accounts.lab, passed: true });
    });

    it("test_getBatch_lineage_walksToTheRootAndListsChildren", async function () {
      const grandchild = await getJson(t.app, `/api/v1/batches/${s.batches.grandchild}`, batchDetailSchema);
      expect(grandchild.parentId).to.equal(s.batches.childA);
      expect(grandchild.lineage.ancestors.map((batch) => batch.batchId)).to.deep.equal([s.batches.childA, s.batches.root]);
      expect(grandchild.lineage.ancestors[1]).to.deep.equal({
        batchId: s.batches.root,
        gtin: GTIN_A,
        lot: "LOT-001",
        quantity: "1000",
        status: "split",
        custodian: s.accounts.warehouse,
        parentId: null,
      });
      expect(grandchild.lineage.children).to.deep.equal([]);
      expect(grandchild.timeline[0]).to.include({ type: "registered", parentId: s.batches.childA });

      const root = await getJson(t.app, `/api/v1/batches/${s.batches.root}`, batchDetailSchema);
      expect(root.lineage.ancestors).to.deep.equal([]);
      expect(root.lineage.children.map((batch) => batch.lot)).to.deep.equal(["LOT-001/A", "LOT-001/B"]);
    });

    it("test_getBatch_participants_namesEveryoneInTheHistory", async function () {
      const batch = await getJson(t.app, `/api/v1/batches/${s.batches.root}`, batchDetailSchema);
      expect(Object.keys(batch.participants)).to.have.members([s.accounts.acme, s.accounts.swift, s.accounts.warehouse, s.accounts.lab]);
      expect(batch.participants[s.accounts.acme]).to.deep.include({ name: "Acme Ltd", roles: ["MANUFACTURER"], suspended: false });
    });

    it("test_getBatch_recall_isInTheTimelineAndTheDocument", async function () {
      const batch = await getJson(t.app, `/api/v1/batches/${s.batches.recalled}`, batchDetailSchema);
      expect(batch.status).to.equal("recalled");
      expect(batch.inspection).to.equal("failed");
      expect(batch.recall).to.include({ by: s.accounts.regulator });
      expect(batch.timeline.map((entry) => entry.type)).to.deep.equal(["registered", "inspected", "recalled"]);
      expect(batch.participants).to.have.property(s.accounts.regulator);
    });

    it("test_getBatch_rejectedHandoff_showsTheReasonAndPendingCleared", async function () {
      const batch = await getJson(t.app, `/api/v1/batches/${s.batches.rejected}`, batchDetailSchema);
      expect(batch.status).to.equal("registered");
      expect(batch.pendingCustodian).to.equal(null);
      const rejected = batch.timeline.at(-1)!;
      expect(rejected.type).to.equal("handoff_rejected");
      expect("reasonHash" in rejected && rejected.reasonHash).to.match(/^0x[0-9a-f]{64}$/);
    });

    it("test_getBatch_inTransit_hasPendingCustodian", async function () {
      const batch = await getJson(t.app, `/api/v1/batches/${s.batches.inTransit}`, batchDetailSchema);
      expect(batch.status).to.equal("in_transit");
      expect(batch.pendingCustodian).to.equal(s.accounts.swift);
    });

    it("test_getBatch_upperCaseId_isNormalised", async function () {
      const upper = `0x${s.batches.root.slice(2).toUpperCase()}`;
      const batch = await getJson(t.app, `/api/v1/batches/${upper}`, batchDetailSchema);
      expect(batch.batchId).to.equal(s.batches.root);
    });
  });

  describe("GET /api/v1/batches/{batchId}/events", function () {
    it("test_listBatchEvents_returnsTheBatchEventsInChainOrder", async function () {
      const { items } = await readAllPages<ChainEvent>(t.app, `/api/v1/batches/${s.batches.root}/events?limit=3`, chainEventPageSchema);
      const expected = s.history.events.filter((event) => event.batchIds.includes(s.batches.root));
      expect(items.map((event) => event.id)).to.deep.equal(expected.map((event) => event.id));
      expect(items.map((event) => event.name)).to.include.members(["BatchRegistered", "OrderOpened", "QualityAttested", "BatchSplit"]);
      expect(items[0]).to.deep.equal(expected[0]);
    });
  });

  describe("GET /api/v1/participants", function () {
    it("test_listParticipants_all", async function () {
      const { items } = await readAllPages<Participant>(t.app, "/api/v1/participants?limit=3", participantPageSchema);
      // The eight onboarded participants; the admin that granted their roles holds none itself here, so has no record.
      expect(items.map((participant) => participant.address)).to.have.members(Object.values(s.accounts));
    });

    it("test_listParticipants_role_filters", async function () {
      const page = await getJson(t.app, "/api/v1/participants?role=CARRIER", participantPageSchema);
      expect(page.items.map((participant) => participant.address)).to.have.members([s.accounts.swift, s.accounts.slowpoke]);
      const lower = await getJson(t.app, "/api/v1/participants?role=carrier", participantPageSchema);
      expect(lower.items).to.have.length(2);
    });

    it("test_listParticipants_suspended_filters", async function () {
      const suspended = await getJson(t.app, "/api/v1/participants?suspended=true", participantPageSchema);
      expect(suspended.items.map((participant) => participant.address)).to.deep.equal([s.accounts.slowpoke]);
      const active = await getJson(t.app, "/api/v1/participants?suspended=false&role=CARRIER", participantPageSchema);
      expect(active.items.map((participant) => participant.address)).to.deep.equal([s.accounts.swift]);
    });
  });

  describe("GET /api/v1/participants/{address}", function () {
    it("test_getParticipant_returnsTheRecord", async function () {
      const participant = await getJson(t.app, `/api/v1/participants/${s.accounts.lab}`, participantSchema);
      expect(participant).to.deep.include({ address: s.accounts.lab, name: "Lab Ltd", roles: ["INSPECTOR"], suspended: false });
      expect(participant.gln).to.match(/^\d{13}$/);
    });
  });

  describe("GET /api/v1/orders", function () {
    it("test_listOrders_filtersByPartyBatchAndState", async function () {
      const ids = async (query: string) =>
        (await getJson(t.app, `/api/v1/orders${query}`, orderPageSchema, asRegulator())).items.map((order: Order) => order.orderId);
      expect(await ids("")).to.have.members([s.orders.released, s.orders.funded]);
      expect(await ids(`?buyer=${s.accounts.shop}`)).to.deep.equal([s.orders.funded]);
      expect(await ids(`?seller=${s.accounts.acme}`)).to.deep.equal([s.orders.released]);
      expect(await ids(`?carrier=${s.accounts.swift}`)).to.have.members([s.orders.released, s.orders.funded]);
      expect(await ids(`?batchId=${s.batches.rejected}`)).to.deep.equal([s.orders.funded]);
      expect(await ids("?state=released")).to.deep.equal([s.orders.released]);
      expect(await ids("?state=disputed")).to.deep.equal([]);
      expect(await ids(`?carrier=${s.accounts.swift}&state=funded`)).to.deep.equal([s.orders.funded]);
    });

    it("test_listOrders_paginates", async function () {
      const { items, pages } = await readAllPages<Order>(t.app, "/api/v1/orders?limit=1", orderPageSchema, asRegulator());
      expect(pages).to.equal(2);
      expect(items.map((order) => order.orderId)).to.have.members([s.orders.released, s.orders.funded]);
    });
  });

  describe("orders: who may see them", function () {
    it("test_listOrders_anonymous_is401", async function () {
      const response = await request(t.app).get("/api/v1/orders").expect(401);
      expect(response.body.detail).to.match(/sign in/);
      await request(t.app).get(`/api/v1/orders/${s.orders.released}`).expect(401);
    });

    it("test_listOrders_party_seesOnlyItsOwn_andMustSayWhichSide", async function () {
      const asShop = t.sessionFor(s.accounts.shop);
      const own = await getJson(t.app, `/api/v1/orders?buyer=${s.accounts.shop}`, orderPageSchema, asShop);
      expect(own.items.map((order: Order) => order.orderId)).to.deep.equal([s.orders.funded]);
      const unfiltered = await request(t.app).get("/api/v1/orders").set("Authorization", asShop).expect(403);
      expect(unfiltered.body).to.include({ reason: "not-a-party" });
      await request(t.app).get(`/api/v1/orders?seller=${s.accounts.acme}`).set("Authorization", asShop).expect(403);
    });

    it("test_getOrder_nonParty_is404LikeAnUnknownOrder_andPartiesIncludingTheInspectorSeeIt", async function () {
      const outsider = await request(t.app)
        .get(`/api/v1/orders/${s.orders.released}`)
        .set("Authorization", t.sessionFor(s.accounts.shop))
        .expect(404);
      expect(outsider.body.detail).to.equal(`No order with id ${s.orders.released}`);
      for (const party of [s.accounts.warehouse, s.accounts.acme, s.accounts.swift, s.accounts.lab]) {
        await getJson(t.app, `/api/v1/orders/${s.orders.released}`, orderSchema, t.sessionFor(party));
      }
    });

    it("test_getOrder_suspendedOrUnknownSigner_hasNoOversight", async function () {
      const stranger = "0x00000000000000000000000000000000000000aa";
      await request(t.app).get("/api/v1/orders").set("Authorization", t.sessionFor(stranger)).expect(403);
      await request(t.app).get(`/api/v1/orders/${s.orders.funded}`).set("Authorization", t.sessionFor(stranger)).expect(404);
    });

    it("test_listEvents_escrowTermsWithheldFromNonParties_shownToPartiesAndRegulators", async function () {
      const opened = async (authorization?: string) => {
        const page = await getJson(
          t.app,
          "/api/v1/events?contract=TradeEscrow&name=OrderOpened&limit=50",
          chainEventPageSchema,
          authorization,
        );
        return page.items.find((event) => event.orderIds.includes(s.orders.released))!;
      };
      const anonymous = await opened();
      expect(anonymous.args).to.deep.equal({ withheld: true, orderId: s.orders.released, batchId: s.batches.root });
      expect(anonymous.accounts).to.deep.equal([]);
      expect((await opened(t.sessionFor(s.accounts.shop))).args).to.have.property("withheld", true);
      expect((await opened(t.sessionFor(s.accounts.acme))).args).to.have.property("order");
      expect((await opened(asRegulator())).args).to.have.property("order");
      const batchEvents = await getJson(t.app, `/api/v1/batches/${s.batches.root}/events?limit=200`, chainEventPageSchema);
      for (const event of batchEvents.items.filter((item) => item.contract === "TradeEscrow"))
        expect(event.args).to.have.property("withheld", true);
    });

    it("test_listEvents_invalidSession_is401_notSilentlyAnonymous", async function () {
      await request(t.app).get("/api/v1/events").set("Authorization", "Bearer not-a-session").expect(401);
    });
  });

  describe("GET /api/v1/orders/{orderId}", function () {
    it("test_getOrder_returnsStateAndPayouts", async function () {
      const order = await getJson(t.app, `/api/v1/orders/${s.orders.released}`, orderSchema, asRegulator());
      expect(order).to.deep.include({ state: "released", buyer: s.accounts.warehouse, seller: s.accounts.acme, batchId: s.batches.root });
      expect(order.payouts).to.deep.equal({
        buyer: "0",
        seller: "2250000000000000000",
        carrier: "200000000000000000",
        platform: "50000000000000000",
      });
      expect(order.deliveredAt).to.be.a("number");
    });

    it("test_getOrder_showsItsNamedInspectorAndThatInspectorsResult", async function () {
      const inspected = await getJson(t.app, `/api/v1/orders/${s.orders.released}`, orderSchema, asRegulator());
      expect(inspected).to.deep.include({ inspector: s.accounts.lab, inspection: "passed" });
      const uninspected = await getJson(t.app, `/api/v1/orders/${s.orders.funded}`, orderSchema, asRegulator());
      expect(uninspected).to.deep.include({ inspector: null, inspection: "none" });
    });
  });

  describe("GET /api/v1/transactions/{hash}/events", function () {
    it("test_listTransactionEvents_returnsEveryLogOfTheTransaction", async function () {
      const splitEvents = s.history.events.filter((event) => event.name === "BatchSplit" && event.args.parentId === s.batches.root);
      const hash = splitEvents[0]!.transactionHash;
      const page = await getJson(t.app, `/api/v1/transactions/${hash}/events`, chainEventPageSchema);
      expect(page.items.map((event) => event.id)).to.deep.equal(splitEvents.map((event) => event.id));
      expect(page.items.every((event) => event.transactionHash === hash)).to.equal(true);
    });
  });

  describe("GET /api/v1/events", function () {
    it("test_listEvents_feed_isTheWholeLogInChainOrder", async function () {
      const { items } = await readAllPages<ChainEvent>(t.app, "/api/v1/events?limit=17", chainEventPageSchema);
      expect(items.map((event) => event.id)).to.deep.equal(s.history.events.map((event) => event.id));
    });

    it("test_listEvents_blockRange_isInclusive", async function () {
      const page = await getJson(t.app, "/api/v1/events?fromBlock=10&toBlock=12&limit=500", chainEventPageSchema);
      const expected = s.history.events.filter((event) => event.blockNumber >= 10 && event.blockNumber <= 12);
      expect(expected.length).to.be.greaterThan(0);
      expect(page.items.map((event) => event.id)).to.deep.equal(expected.map((event) => event.id));
    });

    it("test_listEvents_contractAndName_filter", async function () {
      const escrow = await getJson(t.app, "/api/v1/events?contract=TradeEscrow&limit=500", chainEventPageSchema);
      expect(escrow.items.map((event) => event.name)).to.deep.equal([
        "OrderOpened",
        "OrderInspected",
        "OrderDelivered",
        "OrderReleased",
        "OrderOpened",
      ]);
      const recalls = await getJson(t.app, "/api/v1/events?name=BatchRecalled", chainEventPageSchema);
      expect(recalls.items.map((event) => event.batchIds[0] as Hex)).to.deep.equal([s.batches.recalled]);
    });
  });

  describe("HEAD", function () {
    it("test_head_onAGetRoute_answersHeadersOnly", async function () {
      const response = await request(t.app).head(`/api/v1/batches/${s.batches.root}`).expect(200);
      expect(response.headers["content-type"]).to.match(/^application\/json/);
      expect(response.text ?? "").to.equal("");
    });
  });
});
