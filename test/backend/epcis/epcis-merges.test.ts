/**
 * Merges in EPCIS 2.0: a TransformationEvent per merge (input lots in with the quantities the chain recorded, output
 * lots out, transformationID, bizStep commissioning at the processor's place), in the exports of its input and output
 * lots and in a recall of an input; valid against GS1's schema, and the events rebuild the lineage the trace shows.
 */
import { expect } from "chai";
import type { Hex } from "../../../backend/domain/model.ts";
import type { JsonObject } from "../../../backend/epcis/event-hash.ts";
import { canonicalUri, createEpcisQueryService, type EpcisEventQuery } from "../../../backend/epcis/epcis-query.ts";
import { createEpcisService, type EpcisDocument } from "../../../backend/epcis/epcis-service.ts";
import { mergeTransformationId } from "../../../backend/epcis/events.ts";
import { lotUri } from "../../../backend/epcis/identifiers.ts";
import type { MirrorStore } from "../../../backend/store/port.ts";
import { createTraceService } from "../../../backend/trace/trace-service.ts";
import { ChainHistory, gtin14 } from "../../../scripts/fixtures/chain-history.ts";
import { createMemoryStore } from "../api/fixtures/test-app.ts";
import { epcisSchemaValidator } from "./gs1-schema.ts";

const FARM_PREFIX = "4012345";
const MILL_PREFIX = "4098765";
const PREFIXES = [FARM_PREFIX, MILL_PREFIX];
const GRAIN = gtin14(`${FARM_PREFIX}00001`);
const FLOUR = gtin14(`${MILL_PREFIX}00001`);
const BREAD = gtin14(`${MILL_PREFIX}00002`);

type Event = JsonObject & { type: string };
const eventsOf = (document: EpcisDocument) => document.epcisBody.eventList as Event[];
const merges = (document: EpcisDocument) => eventsOf(document).filter((event) => event.transformationID !== undefined);

describe("EPCIS 2.0 export of merges", function () {
  let store: MirrorStore;
  let validate: Awaited<ReturnType<typeof epcisSchemaValidator>>;
  let ids: Record<"wheat" | "rye" | "flour" | "bran" | "flourA" | "bread", Hex>;
  let milling: string;
  const service = () => createEpcisService({ store, now: () => new Date("2026-02-01T00:00:00Z") });
  const classOf = async (batchId: Hex) => {
    const batch = (await store.getBatch(batchId))!;
    return lotUri(batch.gtin, batch.lot, PREFIXES);
  };

  function expectValid(document: unknown) {
    const valid = validate(document);
    expect(validate.errors ?? [], JSON.stringify(validate.errors?.slice(0, 5), null, 2)).to.deep.equal([]);
    expect(valid).to.equal(true);
  }

  before(async function () {
    validate = await epcisSchemaValidator();
    const history = new ChainHistory();
    const farm = history.onboard("farm", "MANUFACTURER", "4012345000009");
    const mill = history.onboard("mill", "MANUFACTURER", "4098765000001");
    const regulator = history.onboard("regulator", "REGULATOR");
    history.grantCompanyPrefix(farm, FARM_PREFIX);
    history.grantCompanyPrefix(mill, MILL_PREFIX);
    const wheat = history.registerBatch({ manufacturer: farm, gtin: GRAIN, lot: "WHEAT", quantity: 500 });
    const rye = history.registerBatch({ manufacturer: farm, gtin: GRAIN, lot: "RYE", quantity: 300 });
    history.handOver(wheat, farm, mill);
    history.handOver(rye, farm, mill);
    const flour = history.registerBatch({ manufacturer: mill, gtin: FLOUR, lot: "F-1", quantity: 700 });
    const bran = history.registerBatch({ manufacturer: mill, gtin: FLOUR, lot: "B-1", quantity: 100 });
    milling = history.transform({ processor: mill, inputIds: [wheat, rye], outputIds: [flour, bran], locationGln: "4098765000001" });
    const [flourA] = history.split(flour, FLOUR, mill, [
      { lot: "F-1/A", quantity: 350 },
      { lot: "F-1/B", quantity: 350 },
    ]) as [Hex, Hex];
    const bread = history.registerBatch({ manufacturer: mill, gtin: BREAD, lot: "BR-1", quantity: 2_000 });
    history.transform({ processor: mill, inputIds: [flourA], outputIds: [bread], locationGln: "4098765000001" });
    history.recall(rye, regulator);
    ids = { wheat, rye, flour, bran, flourA, bread };
    store = await createMemoryStore();
    await history.mirrorInto(store, { rangeSize: 5 });
  });

  after(async function () {
    await store.close();
  });

  it("test_exportLot_output_oneTransformationEventWithEveryInputAndOutputLot", async function () {
    const document = await service().exportLot(ids.flour);
    expectValid(document);
    const [merge, ...others] = merges(document);
    expect(others).to.deep.equal([]);
    expect(merge).to.deep.include({
      type: "TransformationEvent",
      transformationID: mergeTransformationId(31337, milling),
      bizStep: "commissioning",
      disposition: "active",
      readPoint: { id: `urn:epc:id:sgln:${MILL_PREFIX}.00000.0` },
      bizLocation: { id: `urn:epc:id:sgln:${MILL_PREFIX}.00000.0` },
      inputQuantityList: [
        { epcClass: `urn:epc:class:lgtin:${FARM_PREFIX}.000001.WHEAT`, quantity: 500 },
        { epcClass: `urn:epc:class:lgtin:${FARM_PREFIX}.000001.RYE`, quantity: 300 },
      ],
      outputQuantityList: [
        { epcClass: `urn:epc:class:lgtin:${MILL_PREFIX}.000001.F-1`, quantity: 700 },
        { epcClass: `urn:epc:class:lgtin:${MILL_PREFIX}.000001.B-1`, quantity: 100 },
      ],
      "provena:transformationId": milling,
    });
  });

  it("test_exportLot_input_holdsTheSameEventAsTheOutputsExport", async function () {
    const [fromInput] = merges(await service().exportLot(ids.wheat));
    const [fromOutput] = merges(await service().exportLot(ids.bran));
    expect(fromInput).to.deep.equal(fromOutput);
    expect(fromInput!.eventID).to.match(/^ni:\/\/\/sha-256;/);
  });

  it("test_exportLot_splitOfAMergedLot_tellsTheMergeThatMadeItsParent", async function () {
    const document = await service().exportLot(ids.flourA);
    expectValid(document);
    expect(merges(document).map((event) => event["provena:transformationId"])).to.deep.equal([milling, "2"]);
  });

  it("test_exportRecall_ofAnInput_reachesTheMergedOutputsAndWhatWasMadeOfThem", async function () {
    const document = await service().exportRecall(ids.rye);
    expectValid(document);
    const events = eventsOf(document);
    const outputs = new Set(
      events.flatMap((event) => ((event.outputQuantityList as JsonObject[] | undefined) ?? []).map((item) => item.epcClass)),
    );
    for (const lot of [ids.flour, ids.bran, ids.flourA, ids.bread]) expect([...outputs]).to.include(await classOf(lot));
    expect(merges(document)).to.have.length(2);
    expect(new Set(events.map((event) => event.eventID)).size).to.equal(events.length);
  });

  it("test_roundTrip_recallDocument_rebuildsTheLineageTheTraceShows", async function () {
    const document = await service().exportRecall(ids.rye);
    // What each lot was made from, as the document tells it: every TransformationEvent (splits and merges).
    const madeFrom = new Map<string, Set<string>>();
    for (const event of eventsOf(document).filter((item) => item.type === "TransformationEvent")) {
      for (const output of event.outputQuantityList as JsonObject[]) {
        const inputs = madeFrom.get(output.epcClass as string) ?? new Set<string>();
        for (const input of event.inputQuantityList as JsonObject[]) inputs.add(input.epcClass as string);
        madeFrom.set(output.epcClass as string, inputs);
      }
    }
    // What the trace shows: each descendant's split parent and the inputs of the merge that made it.
    const trace = await createTraceService({ store }).trace(ids.rye, "forward");
    expect(trace.descendants.map((lot) => lot.lot)).to.deep.equal(["F-1", "B-1", "F-1/A", "F-1/B", "BR-1"]);
    for (const lot of trace.descendants) {
      const merge = trace.transformations.find((item) => item.transformationId === lot.producedBy);
      const sources = [...(lot.parentId ? [lot.parentId] : []), ...(merge?.inputs.map((input) => input.batchId) ?? [])];
      const expected = new Set(await Promise.all(sources.map(classOf)));
      expect(madeFrom.get(await classOf(lot.batchId)), lot.lot).to.deep.equal(expected);
    }
    for (const lot of trace.descendants) expect(lot.recalledVia, lot.lot).to.equal(ids.rye);
  });
  it("test_queryEvents_merges_eachOnceWithTheExportsEventId_andFoundByALotOfEitherSide", async function () {
    const queryService = createEpcisQueryService({ store });
    const everything: EpcisEventQuery = {
      eventTypes: null,
      fromTime: null,
      untilTime: null,
      bizSteps: null,
      dispositions: null,
      bizLocations: null,
      readPoints: null,
      lotClasses: null,
      perPage: 3,
      nextPageToken: null,
    };
    const queried: Event[] = [];
    for (let token: string | null = null, pages = 0; pages === 0 || token !== null; pages++) {
      expect(pages).to.be.lessThan(50);
      const result = await queryService.query({ ...everything, nextPageToken: token });
      expectValid(result.document);
      queried.push(...(result.document.epcisBody.queryResults.resultsBody.eventList as Event[]));
      token = result.nextPageToken;
    }
    const exported = new Map<string, Event>();
    for (const batchId of Object.values(ids))
      for (const event of merges(await service().exportLot(batchId))) exported.set(event.eventID as string, event);
    const queriedMerges = queried.filter((event) => event.type === "TransformationEvent" && event.transformationID !== undefined);
    expect(queriedMerges.map((event) => event.eventID).sort()).to.deep.equal([...exported.keys()].sort());
    expect(queriedMerges).to.have.length(2);
    for (const event of queriedMerges) expect(event).to.deep.equal(exported.get(event.eventID as string));

    // A lot class of an input or of an output finds the merge among that lot's events.
    for (const lot of [ids.rye, ids.bran]) {
      const result = await queryService.query({ ...everything, perPage: 100, lotClasses: [canonicalUri(await classOf(lot))] });
      const found = (result.document.epcisBody.queryResults.resultsBody.eventList as Event[]).filter(
        (event) => event.transformationID !== undefined,
      );
      expect(found.map((event) => event.transformationID)).to.deep.equal([mergeTransformationId(31337, milling)]);
    }
  });
});
