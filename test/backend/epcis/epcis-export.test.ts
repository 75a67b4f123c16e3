/**
 * EPCIS 2.0 export of a mirrored history (the API tests' supply chain, ChainHistory -> real projections -> SQLite):
 * documents valid against GS1's EPCIS 2.0 JSON Schema, events that tell the history Provena shows, event ids that
 * are the EPCIS event hash, the chain log in the extension fields; the HTTP routes, the CLI, and the refusals.
 */
import { expect } from "chai";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import request from "supertest";
import type { Batch, Hex } from "../../../backend/domain/model.ts";
import { isDomainError } from "../../../backend/domain/errors.ts";
import { eventHashId, type JsonObject } from "../../../backend/epcis/event-hash.ts";
import { EPCIS_CONTEXT_URL, MAX_EPCIS_EVENTS, createEpcisService, type EpcisDocument } from "../../../backend/epcis/epcis-service.ts";
import { createEpcisModule } from "../../../backend/epcis/epcis-routes.ts";
import { EXTENSION_NAMESPACES } from "../../../backend/epcis/events.ts";
import type { MirrorStore } from "../../../backend/store/port.ts";
import { buildScenario, type Scenario } from "../api/fixtures/scenario.ts";
import { createMemoryStore, createTestApp, type TestApp } from "../api/fixtures/test-app.ts";
import { runCli } from "../../helpers/cli-process.ts";
import { epcisSchemaValidator } from "./gs1-schema.ts";

const ACME_PREFIX = "4012345";
const UNIT_SERIALS = ["S-1", "S/2"];

type Event = JsonObject & { type: string };
const eventsOf = (document: EpcisDocument) => document.epcisBody.eventList as Event[];

describe("EPCIS 2.0 export", function () {
  let store: MirrorStore;
  let scenario: Scenario;
  let validate: Awaited<ReturnType<typeof epcisSchemaValidator>>;
  const service = () => createEpcisService({ store, now: () => new Date("2026-02-01T00:00:00Z") });

  function expectValid(document: unknown) {
    const valid = validate(document);
    expect(validate.errors ?? [], JSON.stringify(validate.errors?.slice(0, 5), null, 2)).to.deep.equal([]);
    expect(valid).to.equal(true);
  }

  before(async function () {
    validate = await epcisSchemaValidator();
    store = await createMemoryStore();
    scenario = buildScenario();
    scenario.history.grantCompanyPrefix(scenario.accounts.acme, ACME_PREFIX);
    scenario.history.recall(scenario.batches.root, scenario.accounts.regulator);
    await scenario.history.mirrorInto(store, { rangeSize: 7 });
    const grandchild = (await store.getBatch(scenario.batches.grandchild))!;
    await store.putSerialSet({ serialRoot: grandchild.serialRoot, serials: UNIT_SERIALS, createdAt: 1 });
  });

  after(async function () {
    await store.close();
  });

  describe("a lot", function () {
    let document: EpcisDocument;
    let grandchild: Batch;

    before(async function () {
      document = await service().exportLot(scenario.batches.grandchild);
      grandchild = (await store.getBatch(scenario.batches.grandchild))!;
    });

    it("test_exportLot_splitLotWithLineage_validAgainstGs1Schema", function () {
      expectValid(document);
      expect(document["@context"]).to.deep.equal([EPCIS_CONTEXT_URL, EXTENSION_NAMESPACES]);
      expect(document).to.include({ type: "EPCISDocument", schemaVersion: "2.0", creationDate: "2026-02-01T00:00:00.000Z" });
    });

    it("test_exportLot_splitLotWithLineage_tellsTheHistoryInChainOrder", function () {
      const summary = eventsOf(document).map((event) =>
        [event.type, event.action, event.bizStep, event.disposition, event["provena:handoff"]]
          .filter((part): part is string => typeof part === "string")
          .join(" "),
      );
      expect(summary).to.deep.equal([
        "ObjectEvent ADD commissioning active", // root registered
        "ObjectEvent OBSERVE shipping in_transit proposed", // acme -> swift
        "ObjectEvent OBSERVE receiving in_progress accepted",
        "ObjectEvent OBSERVE shipping in_transit proposed", // swift -> warehouse
        "ObjectEvent OBSERVE receiving in_progress accepted",
        "ObjectEvent OBSERVE inspecting conformant",
        "TransformationEvent", // root -> LOT-001/A
        "ObjectEvent OBSERVE shipping in_transit proposed", // warehouse -> shop
        "ObjectEvent OBSERVE receiving in_progress accepted",
        "TransformationEvent", // LOT-001/A -> LOT-001/A/1
        "ObjectEvent OBSERVE recalled", // the root's recall reaches the grandchild
      ]);
      const times = eventsOf(document).map((event) => event.eventTime as string);
      expect([...times].sort()).to.deep.equal(times);
      for (const event of eventsOf(document)) expect(event.eventTimeZoneOffset).to.equal("+00:00");
    });

    it("test_exportLot_grantedPrefix_epcUrisSplitAtThePrefix", function () {
      const [commissioning, , , , , , rootToChild, , , childToGrandchild] = eventsOf(document);
      // GTIN_A = 0 4012345 00001 c: indicator 0, prefix 4012345, item reference 0 + 00001.
      expect(commissioning!.quantityList).to.deep.equal([
        { epcClass: `urn:epc:class:lgtin:${ACME_PREFIX}.000001.LOT-001`, quantity: 1000 },
      ]);
      expect(commissioning!.readPoint).to.deep.equal({ id: "urn:epc:id:sgln:4012345.00000.0" }); // origin GLN 4012345000009
      expect(rootToChild).to.deep.include({
        inputQuantityList: [{ epcClass: "urn:epc:class:lgtin:4012345.000001.LOT-001", quantity: 600 }],
        outputQuantityList: [{ epcClass: "urn:epc:class:lgtin:4012345.000001.LOT-001%2FA", quantity: 600 }],
      });
      expect(childToGrandchild!.outputQuantityList).to.deep.equal([
        { epcClass: "urn:epc:class:lgtin:4012345.000001.LOT-001%2FA%2F1", quantity: 600 },
      ]);
    });

    it("test_exportLot_custody_partiesAndPlacesRebuildTheCustodyTimeline", async function () {
      const participants = await store.getParticipants(Object.values(scenario.accounts));
      const pglnOf = (address: Hex) => {
        const gln = participants.find((participant) => participant.address === address)!.gln;
        return `urn:epc:id:pgln:${gln.slice(0, 7)}.${gln.slice(7, 12)}`;
      };
      const accepted = eventsOf(document).filter((event) => event["provena:handoff"] === "accepted");
      const { acme, swift, warehouse, shop } = scenario.accounts;
      expect(accepted.map((event) => event.sourceList)).to.deep.equal(
        [acme, swift, warehouse].map((from) => [{ type: "possessing_party", source: pglnOf(from) }]),
      );
      expect(accepted.map((event) => event.destinationList)).to.deep.equal(
        [swift, warehouse, shop].map((to) => [{ type: "possessing_party", destination: pglnOf(to) }]),
      );
      expect(accepted[0]).to.deep.include({
        readPoint: { id: "urn:epc:id:sgln:4012345.00002.0" },
        bizLocation: { id: "urn:epc:id:sgln:4012345.00002.0" },
      });
      expect(grandchild.custodian).to.equal(shop);
    });

    it("test_exportLot_everyEvent_eventIdIsTheEventHashAndChainLogIsInTheExtensions", async function () {
      for (const event of eventsOf(document)) {
        const { eventID, ...rest } = event;
        expect(eventID).to.match(/^ni:\/\/\/sha-256;[0-9a-f]{64}\?ver=CBV2\.0$/);
        expect(eventHashId({ eventID: "ignored", ...rest }, EXTENSION_NAMESPACES)).to.equal(eventID);
        const logs = await store.listEvents({ transactionHash: event["provena:transactionHash"] as Hex }, { limit: 10 });
        const log = logs.items.find((item) => item.logIndex === event["provena:logIndex"]);
        expect(log, `log of ${eventID as string}`).to.not.equal(undefined);
        expect(log!.blockNumber).to.equal(event["provena:blockNumber"]);
        expect(new Date(log!.blockTimestamp * 1000).toISOString()).to.equal(event.eventTime);
      }
      expect(new Set(eventsOf(document).map((event) => event.eventID)).size).to.equal(eventsOf(document).length);
    });

    it("test_exportLot_noGrantedPrefixAndRejectedHandoff_digitalLinksAndVoidShipping", async function () {
      const rejected = await service().exportLot(scenario.batches.rejected);
      expectValid(rejected);
      const events = eventsOf(rejected);
      expect(events[0]!.quantityList).to.deep.equal([
        { epcClass: `https://id.gs1.org/01/${(await store.getBatch(scenario.batches.rejected))!.gtin}/10/B-1`, quantity: 80 },
      ]);
      expect(events.at(-1)).to.deep.include({ bizStep: "void_shipping", "provena:handoff": "rejected" });
      expect(events.at(-1)!["provena:reasonHash"]).to.match(/^0x[0-9a-f]{64}$/);
    });

    it("test_exportLot_unknownBatch_notFound", async function () {
      const error = await service()
        .exportLot(`0x${"ab".repeat(32)}`)
        .catch((caught: unknown) => caught);
      expect(isDomainError(error, "not-found")).to.equal(true);
    });

    it("test_exportLot_moreEventsThanTheBound_refusedNotTruncated", async function () {
      const real = (await store.getBatch(scenario.batches.inTransit))!;
      const step = real.custody[0]!;
      const huge: Batch = {
        ...real,
        custody: Array.from({ length: MAX_EPCIS_EVENTS }, (_, i) => ({
          ...step,
          at: { ...step.at, eventId: `${step.at.eventId}:${i}`, blockNumber: i },
        })),
      };
      const bounded = createEpcisService({ store: { ...store, getBatch: async () => huge } as MirrorStore });
      const error = await bounded.exportLot(real.batchId).catch((caught: unknown) => caught);
      expect(isDomainError(error, "rejected")).to.equal(true);
      expect((error as { details: Record<string, unknown> }).details).to.deep.equal({ maxEvents: MAX_EPCIS_EVENTS });
    });
  });

  describe("a unit", function () {
    it("test_exportUnit_storedSerial_sgtinThroughItsLineage", async function () {
      const document = await service().exportUnit(scenario.batches.grandchild, "S/2");
      expectValid(document);
      const objectEvents = eventsOf(document).filter((event) => event.type === "ObjectEvent");
      expect(objectEvents).to.have.length(9);
      for (const event of objectEvents) expect(event.epcList).to.deep.equal([`urn:epc:id:sgtin:${ACME_PREFIX}.000001.S%2F2`]);
      // Splits stay lot-level: they say which lot the unit's lot came from.
      expect(eventsOf(document).filter((event) => event.type === "TransformationEvent")).to.have.length(2);
    });

    it("test_exportUnit_serialNotInTheLotOrListUnknownOrMalformed_refused", async function () {
      const notInLot = await service()
        .exportUnit(scenario.batches.grandchild, "S-3")
        .catch((caught: unknown) => caught);
      expect(isDomainError(notInLot, "not-found")).to.equal(true);
      const noList = await service()
        .exportUnit(scenario.batches.rejected, "S-1")
        .catch((caught: unknown) => caught);
      expect(isDomainError(noList, "not-found")).to.equal(true);
      const malformed = await service()
        .exportUnit(scenario.batches.grandchild, "bad serial\u0000")
        .catch((caught: unknown) => caught);
      expect(isDomainError(malformed, "invalid-input")).to.equal(true);
    });
  });

  describe("a recall", function () {
    it("test_exportRecall_recalledRoot_everyDescendantOnceEachEvent", async function () {
      const document = await service().exportRecall(scenario.batches.root);
      expectValid(document);
      const events = eventsOf(document);
      const lots = new Set(
        events.flatMap((event) =>
          ["quantityList", "outputQuantityList"].flatMap((list) =>
            ((event[list] as JsonObject[] | undefined) ?? []).map((element) => element.epcClass),
          ),
        ),
      );
      expect([...lots].sort()).to.deep.equal(
        ["LOT-001", "LOT-001%2FA", "LOT-001%2FA%2F1", "LOT-001%2FB"].map((lot) => `urn:epc:class:lgtin:${ACME_PREFIX}.000001.${lot}`),
      );
      expect(events.filter((event) => event.type === "TransformationEvent")).to.have.length(3);
      expect(events.filter((event) => event.disposition === "recalled")).to.have.length(1);
      expect(new Set(events.map((event) => event.eventID)).size).to.equal(events.length);
    });

    it("test_exportRecall_notRecalledOrOnlyAnAncestorRecalled_notFoundNamingTheRecall", async function () {
      const never = await service()
        .exportRecall(scenario.batches.inTransit)
        .catch((caught: unknown) => caught);
      expect(isDomainError(never, "not-found")).to.equal(true);
      const inherited = await service()
        .exportRecall(scenario.batches.childB)
        .catch((caught: unknown) => caught);
      expect(isDomainError(inherited, "not-found")).to.equal(true);
      expect((inherited as { details: Record<string, unknown> }).details.recalledBatchId).to.equal(scenario.batches.root);
    });
  });

  describe("over HTTP", function () {
    let t: TestApp;

    before(async function () {
      t = await createTestApp({ store, modules: [createEpcisModule({ store })] });
    });

    it("test_getEpcisLot_knownLot_ldJsonValidDocument", async function () {
      const response = await request(t.app).get(`/api/v1/epcis/lots/${scenario.batches.recalled}`).expect(200);
      expect(response.headers["content-type"]).to.match(/^application\/ld\+json/);
      const document = JSON.parse(response.text) as EpcisDocument;
      expectValid(document);
      expect(eventsOf(document).map((event) => event.disposition)).to.deep.equal(["active", "non_conformant", "recalled"]);
    });

    it("test_getEpcisUnit_percentEncodedSerial_exported", async function () {
      const response = await request(t.app).get(`/api/v1/epcis/units/${scenario.batches.grandchild}/S%2F2`).expect(200);
      expectValid(JSON.parse(response.text));
    });

    it("test_getEpcis_malformedOrUnknownIds_problemJson4xx", async function () {
      const cases: [string, number][] = [
        ["/api/v1/epcis/lots/0x1234", 400],
        ["/api/v1/epcis/lots/not-a-batch", 400],
        [`/api/v1/epcis/lots/0x${"cd".repeat(32)}`, 404],
        [`/api/v1/epcis/units/${scenario.batches.grandchild}/${"x".repeat(21)}`, 400],
        [`/api/v1/epcis/units/${scenario.batches.grandchild}/S%20%01`, 400],
        [`/api/v1/epcis/units/${scenario.batches.grandchild}/S-9`, 404],
        [`/api/v1/epcis/recalls/${scenario.batches.inTransit}`, 404],
      ];
      for (const [url, status] of cases) {
        const response = await request(t.app).get(url);
        expect(response.status, url).to.equal(status);
        expect(response.headers["content-type"], url).to.match(/^application\/problem\+json/);
      }
    });

    it("test_openApi_epcisRoutes_documented", function () {
      for (const route of ["/api/v1/epcis/lots/{batchId}", "/api/v1/epcis/units/{batchId}/{serial}", "/api/v1/epcis/recalls/{batchId}"]) {
        const operation = (t.app.openApiDocument.paths[route] as Record<string, { responses: Record<string, { content?: object }> }>)?.get;
        expect(operation, route).to.not.equal(undefined);
        expect(operation!.responses["200"]!.content).to.have.property("application/ld+json");
      }
    });

    describe("provena epcis export (CLI)", function () {
      this.timeout(60_000);
      let server: ReturnType<TestApp["app"]["listen"]>;
      let apiUrl: string;
      let workdir: string;
      const cli = (args: string[]) => runCli(["--api", apiUrl, ...args], {}, 30_000);

      before(async function () {
        server = t.app.listen(0, "127.0.0.1");
        await new Promise((resolve) => server.once("listening", resolve));
        apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        workdir = await mkdtemp(path.join(tmpdir(), "provena-epcis-"));
      });

      after(async function () {
        await new Promise((resolve) => server.close(resolve));
        await rm(workdir, { recursive: true, force: true });
      });

      it("test_epcisQuery_everyPageToOneFile_validAndFiltered", async function () {
        const out = path.join(workdir, "shipping.jsonld");
        const result = await cli(["epcis", "query", "--biz-step", "shipping", "--biz-step", "receiving", "--out", out]);
        expect(result.code, result.stderr).to.equal(0);
        const document = JSON.parse(await readFile(out, "utf8")) as {
          type: string;
          epcisBody: { queryResults: { resultsBody: { eventList: Event[] } } };
        };
        expectValid(document);
        expect(document.type).to.equal("EPCISQueryDocument");
        const steps = document.epcisBody.queryResults.resultsBody.eventList.map((event) => event.bizStep);
        expect(steps.length).to.be.greaterThan(2);
        expect(new Set(steps)).to.deep.equal(new Set(["shipping", "receiving"]));
        expect(result.stderr).to.contain(`✓ ${steps.length} EPCIS events written to ${out}`);
      });

      it("test_epcisExport_recallToFile_writesTheDocument", async function () {
        const out = path.join(workdir, "recall.jsonld");
        const result = await cli(["epcis", "export", "recall", scenario.batches.root, "--out", out]);
        expect(result.code, result.stderr).to.equal(0);
        const document = JSON.parse(await readFile(out, "utf8")) as EpcisDocument;
        expectValid(document);
        expect(document.epcisBody.eventList).to.deep.equal((await service().exportRecall(scenario.batches.root)).epcisBody.eventList);
      });

      it("test_epcisExport_unitByGtinLot_toStdout", async function () {
        const batch = (await store.getBatch(scenario.batches.grandchild))!;
        const result = await cli(["epcis", "export", "unit", `${batch.gtin}/${batch.lot}`, "S-1"]);
        expect(result.code, result.stderr).to.equal(0);
        expectValid(JSON.parse(result.stdout));
      });

      it("test_epcisExport_badInput_exitsOneWithTheReason", async function () {
        const unknown = await cli(["epcis", "export", "lot", `0x${"ef".repeat(32)}`]);
        expect(unknown.code).to.equal(1);
        expect(unknown.stderr).to.match(/EPCIS export failed \(404\): No batch/);
        const noSerial = await cli(["epcis", "export", "unit", scenario.batches.grandchild]);
        expect(noSerial.code).to.equal(1);
        expect(noSerial.stderr).to.match(/needs the serial/);
        const badKind = await cli(["epcis", "export", "pallet", scenario.batches.root]);
        expect(badKind.code).to.equal(1);
        const badSscc = await cli(["epcis", "export", "container", "123"]);
        expect(badSscc.code).to.equal(1);
        expect(badSscc.stderr).to.match(/SSCC "123" must be an 18-digit SSCC/);
        // A well-formed SSCC goes to the container export, which knows no such container here.
        const unknownContainer = await cli(["epcis", "export", "container", "084123450000000010"]);
        expect(unknownContainer.code).to.equal(1);
        expect(unknownContainer.stderr).to.match(/EPCIS export failed \(404\)/);
      });
    });
  });
});
