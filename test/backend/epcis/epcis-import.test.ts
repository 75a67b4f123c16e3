/**
 * EPCIS 2.0 import against a running Provena (in-process chain, embedded store, relayer), as partners use it: each
 * party imports the same warehouse document (commissioning -> shipping -> receiving -> inspecting) with
 * `provena epcis import`, which records its own events through the relayer and names everyone else's; the mirror then
 * tells the same history, and a re-export rebuilds the imported events. Every bad input gets a reason; importing twice
 * sends nothing; a call signed for another party's event is refused by the relayer and the chain.
 */
import { expect } from "chai";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Wallet, parseEther, type ContractRunner } from "ethers";
import { pino } from "pino";
import { loadProvenaAbis } from "../../../backend/chain/artifacts.ts";
import { logisticUnitsAt, registryAt } from "../../../backend/chain/contracts.ts";
import { batchIdOf, gs1CheckDigit } from "../../../backend/chain/gs1.ts";
import { ROLE_HASHES } from "../../../backend/chain/vocabulary.ts";
import { loadConfig } from "../../../backend/config.ts";
import type { Batch, Hex } from "../../../backend/domain/model.ts";
import { eventHashId, type JsonObject } from "../../../backend/epcis/event-hash.ts";
import { EPCIS_CONTEXT_URL, createEpcisService } from "../../../backend/epcis/epcis-service.ts";
import { EXTENSION_NAMESPACES, PROVENA_EPCIS_PREFIX } from "../../../backend/epcis/events.ts";
import { lotUri, locationUri, partyUri, unitUri } from "../../../backend/epcis/identifiers.ts";
import { digestOf, type ImportPlan } from "../../../backend/epcis/import-plan.ts";
import { MAX_IMPORT_EVENTS } from "../../../backend/epcis/import-service.ts";
import { startProvena, type RunningProvena } from "../../../backend/main.ts";
import { createRelayClient, RelayRefusedError } from "../../../backend/relayer/relay-client.ts";
import { runCli } from "../../helpers/cli-process.ts";

// Hardhat's well-known development account 0: the deployer and admin of the in-process chain.
const ADMIN_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const gln = (twelve: string) => twelve + gs1CheckDigit(twelve);
const GTIN = "0950600013437" + gs1CheckDigit("0950600013437");
const ACME_PREFIX = "9506000";
/** The partners' own GS1 company prefix, used only to write their GLNs as EPC URIs (SGLN, PGLN). */
const SITE_PREFIX = "8412345";
const ACME_GLN = gln("841234500001");
const WAREHOUSE_GLN = gln("841234500002");
const INSPECTOR_GLN = gln("841234500003");
const LOT = "EPCIS-1";
const SERIALS = ["SN-1", "SN-2", "SN-3"];
const DAY = 86_400_000;

const sgln = (value: string) => locationUri(value, [SITE_PREFIX]);
const pgln = (value: string) => partyUri(value, [SITE_PREFIX]);
const lgtin = (lot: string) => lotUri(GTIN, lot, [ACME_PREFIX]);

/** The warehouse system's document: what happened to lot EPCIS-1, in EPCIS 2.0 as any partner's system writes it. */
function warehouseDocument(startMs: number): JsonObject & { epcisBody: { eventList: JsonObject[] } } {
  const at = (hours: number) => new Date(startMs + hours * 3_600_000).toISOString();
  const lotQuantity = [{ epcClass: lgtin(LOT), quantity: SERIALS.length }];
  return {
    "@context": [EPCIS_CONTEXT_URL],
    type: "EPCISDocument",
    schemaVersion: "2.0",
    creationDate: at(4),
    epcisBody: {
      eventList: [
        {
          type: "ObjectEvent",
          eventTime: at(0),
          eventTimeZoneOffset: "+00:00",
          epcList: SERIALS.map((serial) => unitUri(GTIN, serial, [ACME_PREFIX])),
          quantityList: lotQuantity,
          action: "ADD",
          bizStep: "commissioning",
          disposition: "active",
          readPoint: { id: sgln(ACME_GLN) },
          bizLocation: { id: sgln(ACME_GLN) },
        },
        {
          type: "ObjectEvent",
          eventTime: at(1),
          eventTimeZoneOffset: "+00:00",
          quantityList: lotQuantity,
          action: "OBSERVE",
          bizStep: "shipping",
          disposition: "in_transit",
          readPoint: { id: sgln(ACME_GLN) },
          sourceList: [{ type: "possessing_party", source: pgln(ACME_GLN) }],
          destinationList: [{ type: "possessing_party", destination: pgln(WAREHOUSE_GLN) }],
        },
        {
          type: "ObjectEvent",
          eventTime: at(2),
          eventTimeZoneOffset: "+00:00",
          quantityList: lotQuantity,
          action: "OBSERVE",
          // The CBV Web URI form: partners' systems write it or the bare term.
          bizStep: "https://ref.gs1.org/cbv/BizStep-receiving",
          disposition: "in_progress",
          readPoint: { id: sgln(WAREHOUSE_GLN) },
          bizLocation: { id: sgln(WAREHOUSE_GLN) },
          sourceList: [{ type: "possessing_party", source: pgln(ACME_GLN) }],
          destinationList: [{ type: "possessing_party", destination: pgln(WAREHOUSE_GLN) }],
        },
        {
          type: "ObjectEvent",
          eventTime: at(3),
          eventTimeZoneOffset: "+00:00",
          quantityList: lotQuantity,
          action: "OBSERVE",
          bizStep: "inspecting",
          disposition: "conformant",
        },
      ],
    },
  };
}

describe("EPCIS 2.0 import (a running Provena, the CLI, the relayer)", function () {
  this.timeout(300_000);
  let provena: RunningProvena;
  let workdir: string;
  let documentFile: string;
  let document: ReturnType<typeof warehouseDocument>;
  const acme = Wallet.createRandom();
  const warehouse = Wallet.createRandom();
  const inspector = Wallet.createRandom();
  const stranger = Wallet.createRandom();
  const batchId = batchIdOf(GTIN, LOT).toLowerCase() as Hex;

  const cli = (args: string[], key: string) =>
    runCli(args, { RPC_URL: provena.chain.rpcUrl, PROVENA_API_URL: provena.url, PROVENA_PRIVATE_KEY: key }, 180_000);
  const registryAs = (runner: ContractRunner) =>
    registryAt(provena.chain.deployment.registry, runner, loadProvenaAbis().ProvenanceRegistry);

  async function planFor(partner: string, body: unknown, contentType = "application/ld+json") {
    const response = await fetch(`${provena.url}/api/v1/epcis/import-plans?partner=${partner}`, {
      method: "POST",
      headers: { "content-type": contentType },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    return {
      status: response.status,
      type: response.headers.get("content-type") ?? "",
      body: (await response.json()) as Record<string, unknown>,
    };
  }

  /** Polls the mirror until `accept` holds for the lot (the indexer follows the chain a moment behind). */
  async function mirroredBatch(id: Hex, accept: (batch: Batch) => boolean): Promise<Batch> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const batch = await provena.store.getBatch(id);
      if (batch && accept(batch)) return batch;
      if (Date.now() > deadline) throw new Error(`the mirror did not show the expected state of ${id}: ${JSON.stringify(batch?.custody)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  before(async function () {
    const config = { ...loadConfig({ LOG_LEVEL: "silent", SQLITE_PATH: ":memory:", EMBEDDED_CHAIN: "hardhat", MQTT_PORT: "0" }), port: 0 };
    provena = await startProvena(config, { logger: pino({ level: "silent" }) });
    workdir = await mkdtemp(path.join(tmpdir(), "provena-epcis-import-"));
    const admin = new Wallet(ADMIN_KEY, provena.chain.provider);
    const registry = registryAs(admin);
    await (await registry.onboardParticipant(acme.address, ROLE_HASHES.MANUFACTURER, BigInt(ACME_GLN), "Acme")).wait();
    await (await registry.onboardParticipant(warehouse.address, ROLE_HASHES.RETAILER, BigInt(WAREHOUSE_GLN), "Warehouse")).wait();
    await (await registry.onboardParticipant(inspector.address, ROLE_HASHES.INSPECTOR, BigInt(INSPECTOR_GLN), "Inspector")).wait();
    await (await registry.grantCompanyPrefix(acme.address, BigInt(ACME_PREFIX), ACME_PREFIX.length)).wait();
    const deadline = Date.now() + 30_000;
    while ((await provena.store.getParticipant(acme.address.toLowerCase() as Hex))?.companyPrefixes.length !== 1) {
      if (Date.now() > deadline) throw new Error("the mirror did not show the participants");
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    // A day back, so every eventTime (the production date among them) is before the chain's clock.
    document = warehouseDocument(Date.now() - DAY);
    documentFile = path.join(workdir, "warehouse.jsonld");
    await writeFile(documentFile, JSON.stringify(document));
  });

  after(async function () {
    await provena?.stop();
    if (workdir) await rm(workdir, { recursive: true, force: true });
  });

  describe("refusals of the whole document (problem+json)", function () {
    it("test_planImport_schemaInvalidDocument_400NamingTheViolations", async function () {
      const broken = structuredClone(document);
      delete broken.epcisBody.eventList[1]!.eventTimeZoneOffset;
      broken.epcisBody.eventList[2]!.action = "MOVE";
      const { status, type, body } = await planFor(acme.address, broken);
      expect(status).to.equal(400);
      expect(type).to.contain("application/problem+json");
      expect(body.code).to.equal("SCHEMA_INVALID");
      const paths = (body.violations as { path: string }[]).map((violation) => violation.path);
      expect(paths).to.include("/epcisBody/eventList/1");
      expect(paths).to.include("/epcisBody/eventList/2/action");
    });

    it("test_planImport_notAnEpcisDocumentOrNotJson_400", async function () {
      expect((await planFor(acme.address, { type: "EPCISQueryDocument" })).body.code).to.equal("NOT_AN_EPCIS_DOCUMENT");
      expect((await planFor(acme.address, "[1,2")).status).to.equal(400);
      expect((await planFor(acme.address, JSON.stringify(document), "text/plain")).status).to.equal(415);
      expect((await planFor("0x1234", document)).status).to.equal(400);
    });

    it("test_planImport_partnerNotOnboarded_403", async function () {
      const { status, body } = await planFor(stranger.address, document);
      expect(status).to.equal(403);
      expect(body.code).to.equal("NOT_PARTICIPANT");
    });

    it("test_planImport_tooManyEventsOrOversizedBody_refusedBeforeAnyWork", async function () {
      const many = structuredClone(document);
      many.epcisBody.eventList = Array.from({ length: MAX_IMPORT_EVENTS + 1 }, () => document.epcisBody.eventList[3]!);
      const tooMany = await planFor(acme.address, many);
      expect(tooMany.status).to.equal(422);
      expect(tooMany.body).to.include({ code: "TOO_MANY_EVENTS", maxEvents: MAX_IMPORT_EVENTS });
      const huge = structuredClone(document);
      huge.epcisBody.eventList[0]!["rdfs:comment"] = "x".repeat(3 * 1024 * 1024);
      const oversized = await planFor(acme.address, huge);
      expect(oversized.status).to.equal(413);
      expect(oversized.body.detail).to.contain("EPCIS import plans");
    });
  });

  describe("each party imports the same document", function () {
    it("test_cliImport_dryRun_manufacturerPlansItsOwnEventsAndNamesTheOthers", async function () {
      const { status, body } = await planFor(acme.address, document, "application/json");
      expect(status).to.equal(200);
      const plan = body as unknown as ImportPlan;
      expect(plan.events.map((event) => [event.status, event.code ?? null])).to.deep.equal([
        ["planned", null],
        ["planned", null],
        ["refused", "OTHER_PARTY"], // the warehouse receives
        ["refused", "MISSING_ROLE"], // only an inspector attests
      ]);
      expect(plan.events.map((event) => event.calls.map((call) => call.function))).to.deep.equal([
        ["registerBatch"],
        ["proposeHandoff"],
        [],
        [],
      ]);
      for (const [index, event] of plan.events.entries())
        expect(event.eventHash).to.equal(eventHashId(document.epcisBody.eventList[index]!));
      expect(plan.events[0]!.serials).to.deep.equal(SERIALS);
      const register = plan.events[0]!.calls[0]!;
      expect(register.to).to.equal(provena.chain.deployment.registry.toLowerCase());
      // The chain records the source event's hash as the lot's document hash.
      expect(register.args.slice(0, 5)).to.deep.equal([BigInt(GTIN).toString(), LOT, "3", register.args[3], BigInt(ACME_GLN).toString()]);
      expect(register.args[5]).to.equal(digestOf(plan.events[0]!.eventHash!));

      const dryRun = await cli(["epcis", "import", documentFile, "--dry-run"], acme.privateKey);
      expect(dryRun.code, dryRun.stderr).to.equal(0);
      expect(dryRun.stdout).to.contain(`plan for ${acme.address.toLowerCase()}: 2 to record (2 calls), 0 already recorded, 2 refused`);
      expect(dryRun.stdout).to.contain("#2 ObjectEvent refused OTHER_PARTY");
      expect(dryRun.stdout).to.contain("-> registry.registerBatch(");
      expect(await provena.store.getBatch(batchId)).to.equal(null);
    });

    it("test_cliImport_manufacturer_recordsCommissioningAndShippingGasless", async function () {
      const result = await cli(["epcis", "import", documentFile], acme.privateKey);
      expect(result.code, result.stderr + result.stdout).to.equal(0);
      expect(result.stdout, result.stdout).to.match(/#0 ni:\/\/\/sha-256;[0-9a-f]{64}\?ver=CBV2\.0 recorded \(tx 0x[0-9a-f]{64}\)/);
      expect(result.stdout, result.stdout).to.match(/#1 \S+ recorded/);
      expect(result.stdout, result.stdout).to.match(/#2 \S+ refused OTHER_PARTY/);
      expect(await provena.chain.provider.getBalance(acme.address)).to.equal(0n);
      const batch = await mirroredBatch(batchId, (b) => b.custody.length === 1);
      expect(batch).to.include({ manufacturer: acme.address.toLowerCase(), quantity: "3", status: "in_transit", originGln: ACME_GLN });
      expect(batch.pendingCustodian).to.equal(warehouse.address.toLowerCase());
      expect(batch.custody[0]).to.include({ kind: "proposed", businessStep: "shipping", to: warehouse.address.toLowerCase() });
      // The serial list went to the backend under the root that is on chain.
      expect((await provena.store.getSerialSet(batch.serialRoot))?.serials).to.deep.equal(SERIALS);
    });

    it("test_cliImport_receiverThenInspector_eachRecordsOnlyItsOwnEvent", async function () {
      let result = await cli(["epcis", "import", documentFile], warehouse.privateKey);
      expect(result.code, result.stderr + result.stdout).to.equal(0);
      expect(result.stdout).to.contain("plan for");
      expect(result.stdout, result.stdout).to.match(/#0 \S+ already recorded/);
      expect(result.stdout, result.stdout).to.match(/#1 \S+ already recorded/);
      expect(result.stdout, result.stdout).to.match(/#2 \S+ recorded \(tx/);
      expect(result.stdout, result.stdout).to.match(/#3 \S+ refused MISSING_ROLE/);
      await mirroredBatch(batchId, (b) => b.status === "delivered");

      result = await cli(["epcis", "import", documentFile], inspector.privateKey);
      expect(result.code, result.stderr + result.stdout).to.equal(0);
      expect(result.stdout, result.stdout).to.match(/#3 \S+ recorded \(tx/);
      const batch = await mirroredBatch(batchId, (b) => b.inspections.length === 1);
      expect(batch.custodian).to.equal(warehouse.address.toLowerCase());
      expect(batch.custody.map((step) => [step.kind, step.businessStep, step.locationGln?.padStart(13, "0")])).to.deep.equal([
        ["proposed", "shipping", ACME_GLN],
        ["accepted", "receiving", WAREHOUSE_GLN],
      ]);
      const inspectingHash = eventHashId(document.epcisBody.eventList[3]!);
      expect(batch.inspections[0]).to.include({
        inspector: inspector.address.toLowerCase(),
        passed: true,
        reportHash: digestOf(inspectingHash),
      });
    });

    it("test_cliImport_twice_sendsNothingTheSecondTime", async function () {
      for (const party of [acme, warehouse, inspector]) {
        const result = await cli(["epcis", "import", documentFile], party.privateKey);
        expect(result.code, result.stderr).to.equal(0);
        expect(result.stdout, result.stdout).to.contain("nothing to send");
        expect(result.stderr).to.not.contain("relayed as");
      }
      const plan = (await planFor(inspector.address, document)).body as unknown as ImportPlan;
      expect(plan.summary).to.deep.equal({ planned: 0, alreadyRecorded: 4, refused: 0, calls: 0 });
    });

    it("test_roundTrip_reExportRebuildsEachImportedEvent", async function () {
      const exported = (await createEpcisService({ store: provena.store }).exportLot(batchId)).epcisBody.eventList;
      expect(exported.map((event) => [event.type, event.bizStep ?? null])).to.deep.equal([
        ["ObjectEvent", "commissioning"],
        ["ObjectEvent", "shipping"],
        ["ObjectEvent", "receiving"],
        ["ObjectEvent", "inspecting"],
      ]);
      // The export's eventIDs hash chain facts the partner's events cannot hold: the block's time (not the
      // partner's eventTime) and the log's position (provena:transactionHash, blockNumber, logIndex, handoff,
      // reportHash). A lot-level export lists the lot, not its units (epcList). Take exactly those away and the
      // hashes are equal: every field the import mapped comes back as the partner wrote it.
      for (const [index, imported] of document.epcisBody.eventList.entries()) {
        const { eventID: _id, ...rest } = exported[index]!;
        const chainFacts = Object.keys(rest).filter((key) => key.startsWith(`${PROVENA_EPCIS_PREFIX}:`));
        const rebuilt: JsonObject = Object.fromEntries(Object.entries(rest).filter(([key]) => !chainFacts.includes(key)));
        rebuilt.eventTime = imported.eventTime!;
        const { epcList: _units, ...asMapped } = imported;
        expect(eventHashId(rebuilt, EXTENSION_NAMESPACES), `event ${index}`).to.equal(eventHashId(asMapped));
      }
    });
  });

  describe("per-event refusals", function () {
    it("test_planImport_unknownEpcDuplicateWrongPartyUnsupported_eachWithItsReason", async function () {
      const [commissioning, shipping, , inspecting] = document.epcisBody.eventList;
      const unknownLot = { ...shipping!, quantityList: [{ epcClass: lgtin("NO-SUCH-LOT"), quantity: 1 }] };
      const unknownParty = { ...shipping!, destinationList: [{ type: "possessing_party", destination: pgln(gln("841234500099")) }] };
      // Acme's shipping of the lot onwards: the warehouse may not send it in Acme's name.
      const shippedByWarehouseForAcme = {
        ...shipping!,
        destinationList: [{ type: "possessing_party", destination: pgln(INSPECTOR_GLN) }],
      };
      const unsupported = { ...inspecting!, bizStep: "destroying", disposition: "destroyed" };
      const { quantityList: _lots, ...inspectingNoLots } = inspecting!;
      const units = { ...inspectingNoLots, epcList: [unitUri(GTIN, "SN-1", [ACME_PREFIX])] };
      const transaction = {
        type: "TransactionEvent",
        eventTime: commissioning!.eventTime!,
        eventTimeZoneOffset: "+00:00",
        action: "ADD",
        bizTransactionList: [{ type: "po", bizTransaction: "urn:epcglobal:cbv:bt:0614141000005:PO-1" }],
        epcList: [],
      };
      // A merge with no place (readPoint or bizLocation): the contract needs the plant's GLN.
      const transformation = {
        type: "TransformationEvent",
        eventTime: commissioning!.eventTime!,
        eventTimeZoneOffset: "+00:00",
        inputQuantityList: [{ epcClass: lgtin(LOT), quantity: 3 }],
        outputQuantityList: [{ epcClass: lgtin("EPCIS-JAM"), quantity: 3 }],
      };
      const documentWith = (events: JsonObject[]) => ({ ...document, epcisBody: { eventList: events } });
      const { status, body } = await planFor(
        warehouse.address,
        documentWith([unknownLot, unknownParty, shippedByWarehouseForAcme, unsupported, units, transaction, unsupported, transformation]),
      );
      expect(status).to.equal(200);
      const plan = body as unknown as ImportPlan;
      expect(plan.events.map((event) => [event.status, event.code])).to.deep.equal([
        ["refused", "UNKNOWN_EPC"],
        ["refused", "UNKNOWN_EPC"],
        ["refused", "OTHER_PARTY"],
        ["refused", "UNSUPPORTED_EVENT"],
        ["refused", "UNSUPPORTED_EVENT"],
        ["refused", "UNSUPPORTED_EVENT"],
        ["refused", "DUPLICATE_EVENT"],
        ["refused", "INVALID_EVENT"],
      ]);
      expect(plan.events[7]!.reason).to.contain("needs its place");
      expect(plan.events[0]!.reason).to.contain("NO-SUCH-LOT");
      expect(plan.events[1]!.reason).to.contain("is not an onboarded participant");
      expect(plan.events[2]!.reason).to.contain("Acme");
      expect(plan.events[6]!.reason).to.contain("event 3");
      expect(plan.summary.calls).to.equal(0);
    });

    it("test_planImport_recalledLot_shippingRefusedAsRecalled", async function () {
      // Acme registers and recalls a second lot itself (paying gas here: the relayer is not what this test is about).
      const admin = new Wallet(ADMIN_KEY, provena.chain.provider);
      await (await admin.sendTransaction({ to: acme.address, value: parseEther("1") })).wait();
      const registry = registryAs(acme.connect(provena.chain.provider));
      const recalledLot = "EPCIS-R";
      const now = (await provena.chain.provider.getBlock("latest"))!.timestamp;
      await (
        await registry.registerBatch(
          BigInt(GTIN),
          recalledLot,
          5n,
          now - 60,
          BigInt(ACME_GLN),
          `0x${"11".repeat(32)}`,
          `0x${"22".repeat(32)}`,
        )
      ).wait();
      const recalledId = batchIdOf(GTIN, recalledLot).toLowerCase() as Hex;
      await (await registry.recallBatch(recalledId, `0x${"33".repeat(32)}`)).wait();
      await mirroredBatch(recalledId, (batch) => batch.status === "recalled");
      const shipping = { ...document.epcisBody.eventList[1]!, quantityList: [{ epcClass: lgtin(recalledLot), quantity: 5 }] };
      const plan = (await planFor(acme.address, { ...document, epcisBody: { eventList: [shipping] } })).body as unknown as ImportPlan;
      expect(plan.events[0]).to.include({ status: "refused", code: "LOT_RECALLED" });
    });

    it("test_relay_callPlannedForAnotherParty_signedByTheWrongPartner_refusedByTheChain", async function () {
      // The warehouse holds lot EPCIS-1 now. Acme asks for a plan shipping it onwards as if it still held it; the
      // plan refuses. Acme signs the call anyway (its calldata is public): the relayer's simulation, i.e. the chain, refuses it.
      const onwards = {
        ...document.epcisBody.eventList[1]!,
        eventTime: new Date(Date.now() - 60_000).toISOString(),
        sourceList: [{ type: "possessing_party", source: pgln(ACME_GLN) }],
        destinationList: [{ type: "possessing_party", destination: pgln(INSPECTOR_GLN) }],
      };
      const plan = (await planFor(acme.address, { ...document, epcisBody: { eventList: [onwards] } })).body as unknown as ImportPlan;
      expect(plan.events[0]).to.include({ status: "refused", code: "OTHER_PARTY" });
      expect(plan.events[0]!.reason).to.contain("is held by Warehouse");
      const warehousePlan = (
        await planFor(warehouse.address, {
          ...document,
          epcisBody: { eventList: [{ ...onwards, sourceList: [{ type: "possessing_party", source: pgln(WAREHOUSE_GLN) }] }] },
        })
      ).body as unknown as ImportPlan;
      expect(warehousePlan.events[0]!.status).to.equal("planned");
      const call = warehousePlan.events[0]!.calls[0]!;
      const relay = createRelayClient({ apiUrl: provena.url });
      const refusal = await relay.submit(acme, call.to, call.data).then(
        () => expect.fail("the relayer must refuse acme's proposeHandoff of a lot the warehouse holds"),
        (error: unknown) => error,
      );
      expect(refusal).to.be.instanceOf(RelayRefusedError);
      expect((refusal as RelayRefusedError).problem.code).to.equal("SIMULATION_REVERTED");
      expect((refusal as RelayRefusedError).message).to.contain("BatchNotCustodian");
    });
  });
  describe("packing into a logistic unit (AggregationEvent)", function () {
    it("test_cliImport_packAndUnpackIntoANewSscc_relayedInOrderAndRecordedOnce", async function () {
      // An SSCC under a prefix nobody was granted: any participant may create it.
      const ssccData = "18412345000000001";
      const sscc = ssccData + gs1CheckDigit(ssccData);
      const parentID = `urn:epc:id:sscc:${SITE_PREFIX}.1000000001`;
      const at = (minutes: number) => new Date(Date.now() - 60 * 60_000 + minutes * 60_000).toISOString();
      const aggregation = (action: "ADD" | "DELETE", minutes: number) => ({
        type: "AggregationEvent",
        eventTime: at(minutes),
        eventTimeZoneOffset: "+00:00",
        parentID,
        childQuantityList: [{ epcClass: lgtin(LOT), quantity: SERIALS.length }],
        action,
        bizStep: action === "ADD" ? "packing" : "unpacking",
        readPoint: { id: sgln(WAREHOUSE_GLN) },
      });
      const packingFile = path.join(workdir, "packing.jsonld");
      await writeFile(
        packingFile,
        JSON.stringify({ ...document, epcisBody: { eventList: [aggregation("ADD", 0), aggregation("DELETE", 5)] } }),
      );
      const units = provena.chain.deployment.logisticUnits!.toLowerCase();

      let result = await cli(["epcis", "import", packingFile], warehouse.privateKey);
      expect(result.code, result.stderr + result.stdout).to.equal(0);
      expect(result.stdout).to.contain("-> logisticUnits.createContainer");
      expect(result.stdout, result.stdout).to.match(/#0 \S+ recorded \(tx 0x[0-9a-f]{64}, 0x[0-9a-f]{64}, 0x[0-9a-f]{64}\)/);
      expect(result.stdout, result.stdout).to.match(/#1 \S+ recorded \(tx 0x[0-9a-f]{64}, 0x[0-9a-f]{64}\)/);
      const batch = await mirroredBatch(batchId, (b) => b.custody.length === 6);
      expect(
        batch.custody.slice(2).map((step) => [step.kind, step.from === units ? "units" : "warehouse", step.businessStep]),
      ).to.deep.equal([
        ["proposed", "warehouse", "loading"],
        ["accepted", "warehouse", "loading"],
        ["proposed", "units", "unloading"],
        ["accepted", "units", "unloading"],
      ]);
      expect(batch.custodian).to.equal(warehouse.address.toLowerCase());
      const [containerCustodian, , , contentCount] = await logisticUnitsAt(units, provena.chain.provider).container(BigInt(sscc));
      expect([containerCustodian.toLowerCase(), contentCount]).to.deep.equal([warehouse.address.toLowerCase(), 0n]);

      result = await cli(["epcis", "import", packingFile], warehouse.privateKey);
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout, result.stdout).to.contain("nothing to send");
    });
  });
});
