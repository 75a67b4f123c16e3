/**
 * The container read model over HTTP against a real in-process chain: LogisticUnits packs, nests, hands off and
 * unpacks; the indexer mirrors it; the API answers what is inside, who holds it and where, and the batch API and the
 * trace say the packed lots are held by the outermost container's custodian.
 *
 * Who could abuse what: a stranger packing someone else's lot into its own container (the contract refuses, and
 * nothing of the reverted pack may show), a participant squatting an SSCC under another company's prefix (refused,
 * so unknown here), a client sending malformed SSCCs or flooding a huge container (bounded answers).
 */
import { expect } from "chai";
import { network } from "hardhat";
import { pino } from "pino";
import request from "supertest";
import { providerFromEip1193 } from "../../../backend/chain/provider.ts";
import { businessStepValue } from "../../../backend/chain/vocabulary.ts";
import { createContainerModule } from "../../../backend/containers/container-routes.ts";
import { MAX_LISTED_BATCHES, createContainerService, type ContainerView } from "../../../backend/containers/container-service.ts";
import type { Container, Hex } from "../../../backend/domain/model.ts";
import { createIndexer, type Indexer } from "../../../backend/indexer/index.ts";
import type { MirrorStore } from "../../../backend/store/port.ts";
import { createTraceModule } from "../../../backend/trace/trace-routes.ts";
import { containerSummaryPageSchema, containerViewSchema } from "../../../backend/containers/container-models.ts";
import { createEpcisModule } from "../../../backend/epcis/epcis-routes.ts";
import type { EpcisDocument } from "../../../backend/epcis/epcis-service.ts";
import { eventHashId, type JsonObject } from "../../../backend/epcis/event-hash.ts";
import { EXTENSION_NAMESPACES } from "../../../backend/epcis/events.ts";
import { epcisSchemaValidator } from "../epcis/gs1-schema.ts";
import { createTraceService, type Trace } from "../../../backend/trace/trace-service.ts";
import { DEMO_DC_GLN, DEMO_PORT_GLN, deployLogisticUnits, deployProvena } from "../../../scripts/fixtures/provena-deployment.ts";
import type { LogisticUnits } from "../../../types/ethers-contracts/index.ts";
import { registerBatch } from "../../helpers/batches.ts";
import { mirrorViewLines } from "../../../scripts/cli/container-commands.ts";
import { ssccFrom } from "../../helpers/gs1.ts";
import { createMemoryStore, createTestApp, type TestApp } from "../api/fixtures/test-app.ts";

const LOADING = businessStepValue("loading");
const SHIPPING = businessStepValue("shipping");
const RECEIVING = businessStepValue("receiving");
const digits = (sscc: bigint) => sscc.toString().padStart(18, "0");
/** SSCCs under the manufacturer's granted prefix 8412345, and one under an ungranted prefix for the retailer. */
const PALLET = ssccFrom("08412345000000101");
const CARTON = ssccFrom("08412345000000102");
const STRANGER_BOX = ssccFrom("09506000000000103");
const SQUATTED = ssccFrom("08412345000000104");

describe("containers API", function () {
  this.timeout(120_000);
  let t: TestApp;
  let store: MirrorStore;
  let indexer: Indexer;
  let units: LogisticUnits;
  let deployment: Awaited<ReturnType<typeof deployProvena>>;
  let provider: Awaited<ReturnType<typeof providerFromEip1193>>["provider"];
  let lots: { a: Hex; b: Hex; c: Hex };

  const caughtUp = async () => indexer.waitForBlock(await provider.getBlockNumber(), { timeoutMs: 20_000 });
  // Every answer must be what the OpenAPI document promises (strict: no field more, none less).
  const container = async (sscc: bigint): Promise<ContainerView> =>
    containerViewSchema.parse(
      (
        await request(t.app)
          .get(`/api/v1/containers/${digits(sscc)}`)
          .expect(200)
      ).body,
    );
  const address = (signer: { address: string }) => signer.address.toLowerCase() as Hex;

  before(async function () {
    const connection = await network.create();
    deployment = await deployProvena(connection.ethers);
    const { registry, manufacturer, carrier, retailer, forwarder, escrow } = deployment;
    units = await deployLogisticUnits(connection.ethers, deployment);
    ({ provider } = await providerFromEip1193(connection.provider, 50));
    store = await createMemoryStore();
    indexer = createIndexer({
      provider,
      deployment: {
        chainId: Number((await provider.getNetwork()).chainId),
        forwarder: (await forwarder.getAddress()).toLowerCase() as Hex,
        registry: (await registry.getAddress()).toLowerCase() as Hex,
        escrow: (await escrow!.getAddress()).toLowerCase() as Hex,
        logisticUnits: (await units.getAddress()).toLowerCase() as Hex,
        deployBlock: 0,
      },
      store,
      config: { confirmations: 0, indexerBlockRange: 1_000, indexerPollMs: 20, leaseTtlMs: 5_000, instanceId: "containers-api" },
      logger: pino({ level: "silent" }),
    });
    indexer.start();

    const unitsAddress = await units.getAddress();
    const register = async (lot: string) =>
      (await registerBatch(registry, manufacturer, { lot, quantity: 5n })).batchId.toLowerCase() as Hex;
    lots = { a: await register("LOT-CT-A"), b: await register("LOT-CT-B"), c: await register("LOT-CT-C") };
    for (const id of [PALLET, CARTON]) await (await units.connect(manufacturer).createContainer(id, DEMO_PORT_GLN)).wait();
    for (const batchId of [lots.a, lots.b, lots.c]) {
      await (await registry.connect(manufacturer).proposeHandoff(batchId, unitsAddress, DEMO_PORT_GLN, LOADING)).wait();
    }
    await (await units.connect(manufacturer).packBatches(CARTON, [lots.a], DEMO_PORT_GLN)).wait();
    await (await units.connect(manufacturer).packBatches(PALLET, [lots.b], DEMO_PORT_GLN)).wait();
    await (await units.connect(manufacturer).packContainer(PALLET, CARTON, DEMO_PORT_GLN)).wait();

    // A stranger: its own container under an unclaimed prefix, then an attempt to pack the manufacturer's offered lot C.
    await (await units.connect(retailer).createContainer(STRANGER_BOX, DEMO_PORT_GLN)).wait();
    await units
      .connect(retailer)
      .packBatches(STRANGER_BOX, [lots.c], DEMO_PORT_GLN)
      .then(
        () => expect.fail("the contract must refuse packing someone else's lot"),
        (error: Error) => expect(error.message).to.match(/BatchNotOfferedForPacking|reverted/),
      );
    // Squatting an SSCC under the manufacturer's prefix.
    await units
      .connect(retailer)
      .createContainer(SQUATTED, DEMO_PORT_GLN)
      .then(
        () => expect.fail("the contract must refuse an SSCC under another company's prefix"),
        (error: Error) => expect(error.message).to.match(/ContainerSsccNotLicensed|reverted/),
      );

    // The pallet (with the carton and lot A inside) goes to the carrier.
    await (await units.connect(manufacturer).proposeContainerHandoff(PALLET, carrier.address, DEMO_PORT_GLN, SHIPPING)).wait();
    await (await units.connect(carrier).acceptContainerHandoff(PALLET, DEMO_DC_GLN, RECEIVING)).wait();
    await caughtUp();

    t = await createTestApp({
      store,
      modules: [
        createContainerModule({ service: createContainerService({ store }) }),
        createTraceModule({ service: createTraceService({ store }) }),
        createEpcisModule({ store }),
      ],
    });
  });

  after(async function () {
    await indexer?.stop();
    await store?.close();
  });

  it("test_getContainer_outerAfterHandoff_listsNestedContentsAndTheNewHolder", async function () {
    const { manufacturer, carrier } = deployment;
    const pallet = await container(PALLET);
    expect(pallet).to.deep.include({ sscc: digits(PALLET), state: "open", parentSscc: null, path: [digits(PALLET)] });
    expect(pallet.holder).to.deep.equal({ address: address(carrier), name: "Mare Nostrum Freight", outermostSscc: digits(PALLET) });
    expect(pallet.custodian).to.deep.equal({ address: address(carrier), name: "Mare Nostrum Freight" });
    expect(pallet.creator).to.deep.equal({ address: address(manufacturer), name: "Acme Olive Oil S.L." });
    expect(pallet.creatorLicensed).to.equal(true); // under the manufacturer's granted prefix 8412345
    expect(pallet.locationGln).to.equal(DEMO_DC_GLN.toString());
    expect(pallet.pendingHandoff).to.equal(null);
    expect(pallet.contents.batches.map((batch) => [batch.batchId, batch.sscc, batch.lot])).to.deep.equal([
      [lots.b, digits(PALLET), "LOT-CT-B"],
      [lots.a, digits(CARTON), "LOT-CT-A"],
    ]);
    expect(pallet.contents.batches[0]).to.include({ gtin: "08412345000102", recallFlagged: false });
    expect(pallet.contents).to.deep.include({ totalBatches: 2, truncated: false });
    expect(pallet.contents.containers).to.deep.equal([{ sscc: digits(CARTON), parentSscc: digits(PALLET), batches: 1, containers: 0 }]);
    expect(pallet.history.map((step) => step.kind)).to.deep.equal([
      "created",
      "batch_packed",
      "container_packed",
      "handoff_proposed",
      "handoff_accepted",
    ]);
    expect(pallet.recall).to.deep.equal({ flaggedBatchIds: [], recalledBatchIds: [], blocked: false });
  });

  it("test_getContainer_innerCarton_isHeldByTheOutermostCustodian_notItsStaleRecord", async function () {
    const { manufacturer, carrier } = deployment;
    const carton = await container(CARTON);
    expect(carton).to.deep.include({ state: "packed", parentSscc: digits(PALLET), path: [digits(CARTON), digits(PALLET)] });
    expect(carton.custodian.address).to.equal(address(manufacturer)); // the contract's record, stale while packed
    expect(carton.holder).to.deep.equal({ address: address(carrier), name: "Mare Nostrum Freight", outermostSscc: digits(PALLET) });
    expect(carton.locationGln).to.equal(DEMO_DC_GLN.toString());
  });

  it("test_batchApi_packedLot_saysInContainerHeldByTheCarrier", async function () {
    const body = (await request(t.app).get(`/api/v1/batches/${lots.a}`).expect(200)).body;
    expect(body.packedIn).to.equal(digits(CARTON));
    expect(body.custodian).to.equal((await units.getAddress()).toLowerCase()); // the registry's record
    expect(body.container).to.deep.include({ sscc: digits(CARTON), outermostSscc: digits(PALLET), locationGln: DEMO_DC_GLN.toString() });
    expect(body.container.holder).to.deep.equal({ address: address(deployment.carrier), name: "Mare Nostrum Freight" });
    expect(body.container.description).to.equal(`in container ${digits(CARTON)} (inside ${digits(PALLET)}) held by Mare Nostrum Freight`);
    const unpacked = (await request(t.app).get(`/api/v1/batches/${lots.c}`).expect(200)).body;
    expect(unpacked.container).to.equal(null);
  });

  it("test_trace_packedLot_holderAndPlaceAreTheOutermostContainers", async function () {
    const trace = (await request(t.app).get(`/api/v1/batches/${lots.a}/trace`).expect(200)).body as Trace;
    expect(trace.lot).to.deep.include({ custodian: address(deployment.carrier), location: DEMO_DC_GLN.toString() });
    expect(trace.lot.container).to.deep.equal({ sscc: digits(CARTON), outermostSscc: digits(PALLET) });
  });

  it("test_listContainers_byHolderAndByBatch", async function () {
    const list = async (query: string) =>
      containerSummaryPageSchema
        .parse((await request(t.app).get(`/api/v1/containers${query}`).expect(200)).body)
        .items.map((item) => item.sscc);
    expect(await list(`?custodian=${address(deployment.carrier)}`)).to.deep.equal([digits(PALLET)]);
    expect(await list(`?custodian=${address(deployment.retailer)}`)).to.deep.equal([digits(STRANGER_BOX)]);
    expect(await list(`?batchId=${lots.a}`)).to.deep.equal([digits(CARTON)]);
    expect(await list(`?batchId=${lots.c}`)).to.deep.equal([]);
    const first = (await request(t.app).get("/api/v1/containers?limit=2").expect(200)).body;
    expect(first.items).to.have.length(2);
    const rest = (await request(t.app).get(`/api/v1/containers?limit=2&cursor=${first.nextCursor}`).expect(200)).body;
    expect([...first.items, ...rest.items].map((item: { sscc: string }) => item.sscc)).to.have.members([
      digits(PALLET),
      digits(CARTON),
      digits(STRANGER_BOX),
    ]);
  });

  it("test_strangersRevertedPack_andSquattedSscc_neverShow", async function () {
    const box = await container(STRANGER_BOX);
    expect(box.contents.batches).to.deep.equal([]);
    expect(box.creatorLicensed).to.equal(false); // prefix 9506000 is granted to nobody: the SSCC is the retailer's say-so
    expect(box.history.map((step) => step.kind)).to.deep.equal(["created"]);
    expect((await request(t.app).get(`/api/v1/batches/${lots.c}`).expect(200)).body.packedIn).to.equal(undefined);
    const squatted = await request(t.app)
      .get(`/api/v1/containers/${digits(SQUATTED)}`)
      .expect(404);
    expect(squatted.headers["content-type"]).to.match(/application\/problem\+json/);
  });

  it("test_badSscc_isAProblemNamingTheCheckDigitOrShape", async function () {
    const good = digits(PALLET);
    const wrongCheck = good.slice(0, 17) + String((Number(good[17]) + 1) % 10);
    for (const [value, message] of [
      [wrongCheck, /check digit/],
      ["12345", /18-digit SSCC/],
      [`${good}0`, /18-digit SSCC/],
      ["0841234500000010x", /18-digit SSCC/],
    ] as const) {
      const response = await request(t.app).get(`/api/v1/containers/${value}`).expect(400);
      expect(response.headers["content-type"]).to.match(/application\/problem\+json/);
      expect(JSON.stringify(response.body), value).to.match(message);
    }
    await request(t.app).get("/api/v1/containers?custodian=0xnot").expect(400);
    await request(t.app).get("/api/v1/containers?owner=x").expect(400);
  });

  type Event = JsonObject & { type: string };
  const epcis = async (path: string) => {
    const response = await request(t.app).get(`/api/v1/epcis/${path}`).expect(200);
    expect(response.headers["content-type"]).to.match(/application\/ld\+json/);
    const document = JSON.parse(response.text) as EpcisDocument;
    const validate = await epcisSchemaValidator();
    expect(validate(document), JSON.stringify(validate.errors?.slice(0, 5), null, 2)).to.equal(true);
    for (const event of document.epcisBody.eventList) {
      const { eventID, ...rest } = event;
      expect(eventID).to.equal(eventHashId(rest as JsonObject, EXTENSION_NAMESPACES));
    }
    return document.epcisBody.eventList as Event[];
  };
  // The demo manufacturer holds prefix 8412345: SSCCs and GTINs under it are written as EPC URIs.
  const ssccEpc = (sscc: bigint) => `urn:epc:id:sscc:8412345.${digits(sscc)[0]}${digits(sscc).slice(8, 17)}`;

  it("test_epcis_containerExport_commissioningPackingAndHandoffs_validAgainstTheSchema", async function () {
    const events = await epcis(`containers/${digits(PALLET)}`);
    expect(events.map((event) => [event.type, event.action, event.bizStep])).to.deep.equal([
      ["ObjectEvent", "ADD", "commissioning"],
      ["AggregationEvent", "ADD", "packing"],
      ["AggregationEvent", "ADD", "packing"],
      ["ObjectEvent", "OBSERVE", "shipping"],
      ["ObjectEvent", "OBSERVE", "receiving"],
    ]);
    expect(events[0]!.epcList).to.deep.equal([ssccEpc(PALLET)]);
    expect(events[1]).to.deep.include({ parentID: ssccEpc(PALLET) });
    expect(events[1]!.childQuantityList).to.deep.equal([{ epcClass: "urn:epc:class:lgtin:8412345.000010.LOT-CT-B", quantity: 5 }]);
    expect(events[2]).to.deep.include({ parentID: ssccEpc(PALLET), childEPCs: [ssccEpc(CARTON)] });
    expect(events[4]).to.deep.include({ disposition: "in_progress", "provena:handoff": "accepted" });
    expect(events[4]!.destinationList).to.deep.equal([{ type: "possessing_party", destination: "urn:epc:id:pgln:8412345.00002" }]);
    expect(events[4]).to.have.property("provena:transactionHash");
    // The carton's export tells its packing onto the pallet as the same event (same hash).
    const carton = await epcis(`containers/${digits(CARTON)}`);
    expect(carton.map((event) => event.eventID)).to.include(events[2]!.eventID);
    await request(t.app)
      .get(`/api/v1/epcis/containers/${digits(SQUATTED)}`)
      .expect(404);
    await request(t.app).get("/api/v1/epcis/containers/123").expect(400);
  });

  it("test_epcisQuery_containerEvents_sameAsTheContainersExport_eachOnce", async function () {
    const response = await request(t.app).get("/api/v1/epcis/events?perPage=500").expect(200);
    const document = JSON.parse(response.text) as { epcisBody: { queryResults: { resultsBody: { eventList: Event[] } } } };
    const validate = await epcisSchemaValidator();
    expect(validate(document), JSON.stringify(validate.errors?.slice(0, 5), null, 2)).to.equal(true);
    const queried = document.epcisBody.queryResults.resultsBody.eventList;
    const ids = queried.map((event) => event.eventID);
    expect(new Set(ids).size, "no event twice (a nested pack is one event)").to.equal(ids.length);
    const exported = [...(await epcis(`containers/${digits(PALLET)}`)), ...(await epcis(`containers/${digits(CARTON)}`))];
    for (const event of exported) expect(queried, `${event.type} ${event.eventID as string}`).to.deep.include(event);
    const packings = queried.filter((event) => event.type === "AggregationEvent" && event.bizStep === "packing");
    expect(packings.map((event) => event.parentID)).to.have.members([ssccEpc(CARTON), ssccEpc(PALLET), ssccEpc(PALLET)]);
    // Filtered by bizStep like any other event.
    const shipping = await request(t.app).get("/api/v1/epcis/events?EQ_bizStep=shipping&perPage=500").expect(200);
    const shipped = (JSON.parse(shipping.text) as typeof document).epcisBody.queryResults.resultsBody.eventList;
    expect(shipped.filter((event) => JSON.stringify(event.epcList ?? []).includes(ssccEpc(PALLET)))).to.have.length(1);
  });

  it("test_epcis_lotExport_includesItsPackingAndTheOuterContainersHandoffs", async function () {
    const events = await epcis(`lots/${lots.a}`);
    const aggregations = events.filter((event) => event.type === "AggregationEvent");
    expect(aggregations.map((event) => [event.parentID, event.action])).to.deep.equal([
      [ssccEpc(CARTON), "ADD"], // lot A into the carton
      [ssccEpc(PALLET), "ADD"], // the carton onto the pallet
    ]);
    const onPallet = events.filter((event) => JSON.stringify(event.epcList ?? []).includes(ssccEpc(PALLET)));
    expect(onPallet.map((event) => event.bizStep)).to.deep.equal(["shipping", "receiving"]);
    // A lot never packed has no container events.
    expect((await epcis(`lots/${lots.c}`)).filter((event) => event.type === "AggregationEvent")).to.deep.equal([]);
  });

  it("test_cli_containerShowMirror_printsTheApiViewWithNamesAndLots", async function () {
    // `provena container show --mirror` prints these lines from the same API answer (the CLI needs a JSON-RPC
    // endpoint to start, which the in-process chain does not serve, so the printing is checked here).
    const lines = mirrorViewLines(await container(CARTON));
    expect(lines).to.deep.equal([
      `container ${digits(CARTON)} at GLN ${DEMO_DC_GLN}`,
      `  held by    Mare Nostrum Freight (${address(deployment.carrier)}) (packed in ${digits(PALLET)}, outermost ${digits(PALLET)})`,
      "  batches    08412345000102/LOT-CT-A",
      "  containers none",
    ]);
  });

  it("test_unpack_freesTheCartonAndTheLot", async function () {
    const { carrier } = deployment;
    await (await units.connect(carrier).unpackContainer(PALLET, CARTON, DEMO_DC_GLN)).wait();
    await (await units.connect(carrier).unpackBatches(CARTON, [lots.a], DEMO_DC_GLN)).wait();
    await caughtUp();
    const carton = await container(CARTON);
    expect(carton).to.deep.include({ state: "open", parentSscc: null, path: [digits(CARTON)] });
    expect(carton.custodian.address).to.equal(address(carrier));
    expect(carton.contents.batches).to.deep.equal([]);
    expect((await container(PALLET)).contents.containers).to.deep.equal([]);
    const lot = (await request(t.app).get(`/api/v1/batches/${lots.a}`).expect(200)).body;
    expect(lot).to.deep.include({ packedIn: null, container: null, pendingCustodian: address(carrier) });
    const deletes = (await epcis(`lots/${lots.a}`)).filter((event) => event.type === "AggregationEvent" && event.action === "DELETE");
    expect(deletes.map((event) => [event.parentID, event.bizStep])).to.deep.equal([
      [ssccEpc(PALLET), "unpacking"],
      [ssccEpc(CARTON), "unpacking"],
    ]);
  });

  it("test_recallOfAPackedLot_flaggedOnChain_blocksThePalletInTheView", async function () {
    const { registry, manufacturer } = deployment;
    await (await registry.connect(manufacturer).recallBatch(lots.b, `0x${"00".repeat(32)}`)).wait();
    await caughtUp();
    // Recalled in the registry but not yet flagged in LogisticUnits: listed as recalled, the pallet still moves.
    const before = await container(PALLET);
    expect(before.recall).to.deep.equal({ flaggedBatchIds: [], recalledBatchIds: [lots.b], blocked: false });
    expect(before.contents.batches.find((batch) => batch.batchId === lots.b)).to.include({ status: "recalled", recallFlagged: false });
    await (await units.flagRecalledBatch(lots.b)).wait();
    await caughtUp();
    const after = await container(PALLET);
    expect(after.recall).to.deep.equal({ flaggedBatchIds: [lots.b], recalledBatchIds: [lots.b], blocked: true });
    expect(after.history.at(-1)).to.deep.include({ kind: "recall_flagged", batchId: lots.b });
    const summary = (await request(t.app).get(`/api/v1/containers?batchId=${lots.b}`).expect(200)).body.items[0];
    expect(summary).to.include({ sscc: digits(PALLET), recallFlagged: 1 });
  });

  it("test_hugeContainer_listsABoundedNumberOfBatches_andSaysSo", async function () {
    const huge = await createMemoryStore();
    const created = { eventId: "1:000000000001:000000", blockNumber: 1, blockTimestamp: 1, transactionHash: `0x${"1".repeat(64)}` as Hex };
    const batchIds = Array.from({ length: MAX_LISTED_BATCHES + 500 }, (_, i) => `0x${i.toString(16).padStart(64, "0")}` as Hex);
    const doc: Container = {
      sscc: digits(PALLET),
      creator: address(deployment.manufacturer),
      custodian: address(deployment.manufacturer),
      pendingHandoff: null,
      locationGln: DEMO_PORT_GLN.toString(),
      parentSscc: null,
      state: "open",
      batchIds,
      containerSsccs: [],
      recallFlaggedBatchIds: [],
      history: [],
      created,
      lastEvent: created,
    };
    await huge.commitRange({
      chainId: 1,
      events: [],
      blocks: [],
      batches: [],
      participants: [],
      orders: [],
      containers: [doc],
      checkpoint: { chainId: 1, blockNumber: 1, blockHash: null, updatedAt: 0 },
    });
    let asked = 0;
    const service = createContainerService({
      store: Object.assign(Object.create(huge) as MirrorStore, {
        getBatches: async (ids: Hex[]) => {
          asked = Math.max(asked, ids.length);
          return [];
        },
      }),
    });
    const view = await service.get(digits(PALLET));
    expect(asked).to.equal(MAX_LISTED_BATCHES);
    expect(view.contents).to.deep.include({ totalBatches: MAX_LISTED_BATCHES + 500, truncated: true });
    await huge.close();
  });
});
