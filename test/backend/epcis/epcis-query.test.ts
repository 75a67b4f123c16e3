/**
 * The EPCIS 2.0 event query (GET /api/v1/epcis/events) and round trips: query documents valid against GS1's schema,
 * filters by business step, disposition, time, location and lot class, pages linked by nextPageToken that together
 * hold every event exactly once; and the events of an export or of the query rebuild the same lineage and custody
 * the mirror holds.
 */
import { expect } from "chai";
import request from "supertest";
import { gs1CheckDigit } from "../../../backend/chain/gs1.ts";
import type { Batch, Hex } from "../../../backend/domain/model.ts";
import type { JsonObject } from "../../../backend/epcis/event-hash.ts";
import { canonicalUri } from "../../../backend/epcis/epcis-query.ts";
import { createEpcisModule } from "../../../backend/epcis/epcis-routes.ts";
import { createEpcisService } from "../../../backend/epcis/epcis-service.ts";
import { lotUri, partyUri } from "../../../backend/epcis/identifiers.ts";
import type { MirrorStore } from "../../../backend/store/port.ts";
import { ChainHistory, gtin14 } from "../../../scripts/fixtures/chain-history.ts";
import { createMemoryStore, createTestApp, type TestApp } from "../api/fixtures/test-app.ts";
import { epcisSchemaValidator } from "./gs1-schema.ts";

const PREFIX = "4012345";
const GTIN = gtin14("401234500007");
const gln = (twelve: string) => twelve + gs1CheckDigit(twelve);

type Event = JsonObject & { type: string; eventID: string; eventTime: string };

describe("EPCIS 2.0 event query and round trips", function () {
  let store: MirrorStore;
  let t: TestApp;
  let validate: Awaited<ReturnType<typeof epcisSchemaValidator>>;
  let lots: { root: Hex; a: Hex; b: Hex; a1: Hex; other: Hex };
  let times: { splitAt: number };

  before(async function () {
    validate = await epcisSchemaValidator();
    const history = new ChainHistory();
    const acme = history.onboard("acme", "MANUFACTURER", gln("401234500001"));
    const swift = history.onboard("swift", "CARRIER", gln("401234500002"));
    const depot = history.onboard("depot", "CARRIER", gln("401234500003"));
    const shop = history.onboard("shop", "RETAILER", gln("401234500004"));
    const lab = history.onboard("lab", "INSPECTOR", gln("401234500005"));
    const regulator = history.onboard("regulator", "REGULATOR", gln("401234500006"));
    history.grantCompanyPrefix(acme, PREFIX);
    const root = history.registerBatch({ manufacturer: acme, gtin: GTIN, lot: "Q-1", quantity: 100, originGln: gln("401234500001") });
    history.handOver(root, acme, swift);
    history.attest(root, lab, true);
    history.handOver(root, swift, depot);
    const [a, b] = history.split(root, GTIN, depot, [
      { lot: "Q-1/A", quantity: 70 },
      { lot: "Q-1/B", quantity: 30 },
    ]) as [Hex, Hex];
    history.handOver(a, depot, shop);
    history.rejectHandoff(b, depot, swift);
    const [a1] = history.split(a, GTIN, shop, [{ lot: "Q-1/A/1", quantity: 70 }]) as [Hex];
    const other = history.registerBatch({ manufacturer: acme, gtin: GTIN, lot: "Q-2", quantity: 5 });
    history.attest(other, lab, false);
    history.recall(other, regulator);
    lots = { root, a, b, a1, other };
    store = await createMemoryStore();
    await history.mirrorInto(store);
    times = { splitAt: (await store.getBatch(a))!.registered.blockTimestamp };
    t = await createTestApp({ store, modules: [createEpcisModule({ store })] });
  });

  after(async function () {
    await store.close();
  });

  const query = async (parameters: string) => {
    const response = await request(t.app).get(`/api/v1/epcis/events?${parameters}`).expect(200);
    expect(response.headers["content-type"]).to.match(/^application\/ld\+json/);
    const document = JSON.parse(response.text) as { type: string; epcisBody: { queryResults: { resultsBody: { eventList: Event[] } } } };
    expect(validate(document), JSON.stringify(validate.errors?.slice(0, 3))).to.equal(true);
    expect(document.type).to.equal("EPCISQueryDocument");
    return { events: document.epcisBody.queryResults.resultsBody.eventList, link: response.headers.link as string | undefined };
  };
  /** Every event of a query, following the Link headers. */
  const queryAll = async (parameters: string) => {
    const all: Event[] = [];
    let next: string | undefined = `/api/v1/epcis/events?${parameters}`;
    for (let pages = 0; next !== undefined; pages++) {
      expect(pages).to.be.lessThan(100);
      const { events, link }: { events: Event[]; link: string | undefined } = await query(next.split("?")[1]!);
      all.push(...events);
      next = link === undefined ? undefined : /^<([^>]+)>; rel="next"$/.exec(link)![1];
    }
    return all;
  };
  const lotClass = async (batchId: Hex) => {
    const batch = (await store.getBatch(batchId))!;
    return lotUri(batch.gtin, batch.lot, [PREFIX]);
  };
  const classesOf = (event: Event, list: string) =>
    ((event[list] as { epcClass: string }[] | undefined) ?? []).map((item) => item.epcClass);

  it("test_queryEvents_pagesTogether_holdEveryGoodsEventOnce_andMatchTheExports", async function () {
    const paged = await queryAll("perPage=4");
    const ids = paged.map((event) => event.eventID);
    expect(new Set(ids).size).to.equal(ids.length);
    const exported = new Set<string>();
    const service = createEpcisService({ store });
    for (const batchId of Object.values(lots)) {
      for (const event of (await service.exportLot(batchId)).epcisBody.eventList) exported.add(event.eventID as string);
    }
    expect([...exported].sort()).to.deep.equal([...ids].sort());
    const times = paged.map((event) => Date.parse(event.eventTime));
    expect(times).to.deep.equal([...times].sort((x, y) => x - y));
  });

  it("test_queryEvents_bizStepAndDisposition_inBareOrUriForm", async function () {
    const shipping = (await queryAll("EQ_bizStep=shipping")).map((event) => event.bizStep);
    expect(shipping.length).to.be.greaterThan(0);
    expect(new Set(shipping)).to.deep.equal(new Set(["shipping"]));
    const byUri = await queryAll(`EQ_bizStep=${encodeURIComponent("https://ref.gs1.org/cbv/BizStep-shipping")}`);
    expect(byUri).to.have.length(shipping.length);
    const inspected = await queryAll("EQ_bizStep=inspecting&EQ_disposition=non_conformant|recalled");
    expect(inspected).to.have.length(1);
    expect(inspected[0]).to.include({ disposition: "non_conformant" });
    const recalled = await queryAll(`EQ_disposition=${encodeURIComponent("urn:epcglobal:cbv:disp:recalled")}`);
    expect(classesOf(recalled[0]!, "quantityList")).to.deep.equal([await lotClass(lots.other)]);
  });

  it("test_queryEvents_lotClass_asEpcUriOrDigitalLink_givesTheLotsEventsIncludingItsSplits", async function () {
    const aClass = await lotClass(lots.a);
    const events = await queryAll(`MATCH_anyEPCClass=${encodeURIComponent(aClass)}`);
    for (const event of events) {
      expect([
        ...classesOf(event, "quantityList"),
        ...classesOf(event, "inputQuantityList"),
        ...classesOf(event, "outputQuantityList"),
      ]).to.include(aClass);
    }
    expect(events.filter((event) => event.type === "TransformationEvent")).to.have.length(2); // made from root, split into a1
    const link = canonicalUri(aClass);
    expect(link).to.match(/^https:\/\/id\.gs1\.org\/01\/\d{14}\/10\//);
    const byLink = await queryAll(`MATCH_epcClass=${encodeURIComponent(link)}`);
    expect(byLink.map((event) => event.eventID)).to.deep.equal(events.map((event) => event.eventID));
    const both = await queryAll(`MATCH_anyEPCClass=${encodeURIComponent(aClass)}|${encodeURIComponent(await lotClass(lots.other))}`);
    expect(both.length).to.be.greaterThan(events.length);
  });

  it("test_queryEvents_timeWindowAndLocation", async function () {
    const before = await queryAll(`LT_eventTime=${new Date(times.splitAt * 1_000).toISOString()}`);
    expect(before.every((event) => Date.parse(event.eventTime) < times.splitAt * 1_000)).to.equal(true);
    const after = await queryAll(`GE_eventTime=${encodeURIComponent(new Date(times.splitAt * 1_000).toISOString())}`);
    expect(before.length + after.length).to.equal((await queryAll("perPage=500")).length);
    const pointOf = (event: Event) => (event.readPoint as { id?: string } | undefined)?.id;
    const readPoint = pointOf(before.find((event) => pointOf(event) !== undefined)!)!;
    const here = await queryAll(`EQ_readPoint=${encodeURIComponent(readPoint)}`);
    expect(here.length).to.be.greaterThan(0);
    expect(here.every((event) => pointOf(event) === readPoint)).to.equal(true);
    expect(await queryAll(`EQ_readPoint=${encodeURIComponent(canonicalUri(readPoint))}`)).to.have.length(here.length);
  });

  it("test_queryEvents_badParameters_areProblems", async function () {
    for (const bad of [
      "perPage=0",
      "perPage=501",
      "GE_eventTime=yesterday",
      "EQ_bizStep=",
      "unknownParameter=1",
      "nextPageToken=garbage",
      `MATCH_anyEPC=${encodeURIComponent("urn:epc:id:sgtin:4012345.000007.S1")}`,
    ]) {
      const response = await request(t.app).get(`/api/v1/epcis/events?${bad}`);
      expect(response.status, bad).to.equal(400);
      expect(response.headers["content-type"], bad).to.match(/problem\+json/);
    }
  });

  /** Lineage and custody as the events tell them: each lot class's parent class and its receivers in order. */
  function rebuild(events: Event[]) {
    const parentOf = new Map<string, string>();
    const receivers = new Map<string, string[]>();
    for (const event of events) {
      if (event.type === "TransformationEvent") {
        parentOf.set(classesOf(event, "outputQuantityList")[0]!, classesOf(event, "inputQuantityList")[0]!);
      } else if (event["provena:handoff"] === "accepted") {
        const lot = classesOf(event, "quantityList")[0]!;
        const to = (event.destinationList as { destination: string }[])[0]!.destination;
        receivers.set(lot, [...(receivers.get(lot) ?? []), to]);
      }
    }
    return { parentOf, receivers };
  }
  const mirrorReceivers = async (batch: Batch) => {
    const participants = new Map((await store.getParticipants(batch.custody.map((step) => step.to))).map((item) => [item.address, item]));
    return batch.custody.filter((step) => step.kind === "accepted").map((step) => partyUri(participants.get(step.to)!.gln, [PREFIX]));
  };

  it("test_roundTrip_exportedLot_rebuildsTheMirrorsLineageAndCustody", async function () {
    const document = await createEpcisService({ store }).exportLot(lots.a1);
    const { parentOf, receivers } = rebuild(document.epcisBody.eventList as Event[]);
    const chain: string[] = [await lotClass(lots.a1)];
    while (parentOf.has(chain.at(-1)!)) chain.push(parentOf.get(chain.at(-1)!)!);
    expect(chain).to.deep.equal([await lotClass(lots.a1), await lotClass(lots.a), await lotClass(lots.root)]);
    for (const batchId of [lots.root, lots.a]) {
      const batch = (await store.getBatch(batchId))!;
      expect(receivers.get(await lotClass(batchId)) ?? [], batch.lot).to.deep.equal(await mirrorReceivers(batch));
    }
  });

  it("test_roundTrip_wholeQuery_rebuildsEveryLotsParentAndReceivers", async function () {
    const { parentOf, receivers } = rebuild(await queryAll("perPage=7"));
    for (const batchId of Object.values(lots)) {
      const batch = (await store.getBatch(batchId))!;
      const parent = batch.parentId === null ? undefined : await lotClass(batch.parentId);
      expect(parentOf.get(await lotClass(batchId)), batch.lot).to.equal(parent);
      expect(receivers.get(await lotClass(batchId)) ?? [], batch.lot).to.deep.equal(await mirrorReceivers(batch));
    }
  });
});
