/**
 * The import planner alone (backend/epcis/import-plan.ts), over a hand-built state of lots, participants and
 * containers: packing and unpacking (AggregationEvent), transformations, the serial-root extension, and the state the
 * plan carries from one event to the next. The running chain is epcis-import.test.ts's.
 */
import { expect } from "chai";
import { Interface, ZeroHash, getAddress } from "ethers";
import { logisticUnitsAbi, provenaAbi, transformationsAbi } from "../../../backend/chain/contracts.ts";
import { batchIdOf, gs1CheckDigit } from "../../../backend/chain/gs1.ts";
import { businessStepValue } from "../../../backend/chain/vocabulary.ts";
import type { Batch, Hex, Participant } from "../../../backend/domain/model.ts";
import type { JsonObject } from "../../../backend/epcis/event-hash.ts";
import { EPCIS_CONTEXT_URL } from "../../../backend/epcis/epcis-service.ts";
import { PROVENA_EPCIS_NAMESPACE } from "../../../backend/epcis/events.ts";
import { lotUri, locationUri } from "../../../backend/epcis/identifiers.ts";
import { digestOf, planImport, type ImportLookups, type ImportPlan, type ImportTarget } from "../../../backend/epcis/import-plan.ts";

const PROCESSOR = "0x00000000000000000000000000000000000000a1" as Hex;
const OTHER = "0x00000000000000000000000000000000000000b2" as Hex;
const DEPLOYMENT = {
  registry: "0x00000000000000000000000000000000000000c1" as Hex,
  logisticUnits: "0x00000000000000000000000000000000000000c2" as Hex,
  transformations: "0x00000000000000000000000000000000000000c3" as Hex,
};
const ABIS = { registry: provenaAbi("ProvenanceRegistry"), logisticUnits: logisticUnitsAbi(), transformations: transformationsAbi() };
const PREFIX = "9506000";
const GTIN = "0950600013437" + gs1CheckDigit("0950600013437");
const SITE = "841234500001" + gs1CheckDigit("841234500001");
const SSCC = "09506000" + "000000001" + gs1CheckDigit("09506000000000001");
const lot = (name: string) => lotUri(GTIN, name, [PREFIX]);
const idOf = (name: string) => batchIdOf(GTIN, name).toLowerCase() as Hex;

function participant(address: Hex, roles: string[], gln: string, prefixes: string[] = []): Participant {
  const at = { eventId: "1:1:0", blockNumber: 1, blockTimestamp: 1, transactionHash: ZeroHash as Hex };
  return {
    address,
    participantId: 1,
    gln,
    name: address.slice(-2),
    roles,
    companyPrefixes: prefixes,
    suspended: false,
    onboarded: at,
    lastEvent: at,
  };
}

function batch(name: string, fields: Partial<Batch> = {}): Batch {
  const at = { eventId: "1:2:0", blockNumber: 2, blockTimestamp: 2, transactionHash: ZeroHash as Hex };
  return {
    batchId: idOf(name),
    gtin: GTIN,
    lot: name,
    quantity: "10",
    productionDate: 1,
    originGln: SITE,
    documentHash: ZeroHash as Hex,
    serialRoot: `0x${"22".repeat(32)}` as Hex,
    manufacturer: PROCESSOR,
    custodian: PROCESSOR,
    pendingCustodian: null,
    status: "registered",
    inspection: "none",
    inspections: [],
    custody: [],
    parentId: null,
    childIds: [],
    recall: null,
    watched: false,
    registered: at,
    lastEvent: at,
    ...fields,
  };
}

interface World {
  batches: Batch[];
  containers?: Record<string, Hex>;
  packing?: Record<Hex, { sscc: string | null; releasedTo: Hex | null }>;
  produced?: Hex[];
}

async function plan(
  world: World,
  events: JsonObject[],
  deployment: Partial<typeof DEPLOYMENT> = DEPLOYMENT,
  unrelayedTargets: Partial<Record<ImportTarget, string>> = {},
  chainTime?: number,
): Promise<ImportPlan> {
  const participants = [participant(PROCESSOR, ["MANUFACTURER"], SITE, [PREFIX]), participant(OTHER, ["RETAILER"], "8412345000027")];
  const lookups: ImportLookups = {
    participant: (address) => participants.find((p) => p.address === address) ?? null,
    participantByGln: (gln) => participants.find((p) => p.gln === gln) ?? null,
    batch: (gtin, name) => Promise.resolve(world.batches.find((b) => b.gtin === gtin && b.lot === name) ?? null),
    container: (sscc) => Promise.resolve(world.containers?.[sscc] ? { custodian: world.containers[sscc] } : null),
    packing: (batchId) => Promise.resolve(world.packing?.[batchId] ?? { sscc: null, releasedTo: null }),
    wasProduced: (batchId) => Promise.resolve(world.produced?.includes(batchId) ?? false),
  };
  const document = {
    "@context": [EPCIS_CONTEXT_URL, { ext: PROVENA_EPCIS_NAMESPACE }],
    type: "EPCISDocument",
    schemaVersion: "2.0",
    creationDate: "2026-01-01T00:00:00Z",
    epcisBody: { eventList: events },
  };
  return planImport({
    document,
    partner: PROCESSOR,
    deployment: { registry: DEPLOYMENT.registry, ...deployment },
    abis: ABIS,
    lookups,
    serialRootOf: () => Promise.resolve(`0x${"99".repeat(32)}` as Hex),
    unrelayedTargets,
    ...(chainTime === undefined ? {} : { chainTime }),
  });
}

const place = { readPoint: { id: locationUri(SITE, []) } };
const aggregation = (
  action: "ADD" | "DELETE",
  lots: string[],
  parentID = `urn:epc:id:sscc:${PREFIX}.${SSCC.slice(0, 1)}${SSCC.slice(8, 17)}`,
) => ({
  type: "AggregationEvent",
  eventTime: "2026-01-01T10:00:00Z",
  eventTimeZoneOffset: "+00:00",
  parentID,
  childQuantityList: lots.map((name) => ({ epcClass: lot(name), quantity: 10 })),
  action,
  bizStep: action === "ADD" ? "packing" : "unpacking",
  ...place,
});
const calls = (result: ImportPlan, index = 0) => result.events[index]!.calls.map((call) => `${call.target}.${call.function}`);
const decoded = (result: ImportPlan, index: number, callIndex: number) => {
  const call = result.events[index]!.calls[callIndex]!;
  const abi = call.target === "registry" ? ABIS.registry : call.target === "logisticUnits" ? ABIS.logisticUnits : ABIS.transformations;
  return new Interface(abi).decodeFunctionData(call.function, call.data).toArray();
};

describe("EPCIS import planner", function () {
  it("test_sscc_epcUriParentId_readsTheSameSsccAsTheDigitalLink", async function () {
    const viaLink = await plan({ batches: [batch("P-1")] }, [aggregation("ADD", ["P-1"], `https://id.gs1.org/00/${SSCC}`)]);
    const viaUri = await plan({ batches: [batch("P-1")] }, [aggregation("ADD", ["P-1"])]);
    expect(viaUri.events[0]!.calls).to.deep.equal(viaLink.events[0]!.calls);
  });

  describe("AggregationEvent", function () {
    it("test_aggregationAdd_newSscc_createsTheContainerHandsEachLotToItAndPacks", async function () {
      const result = await plan({ batches: [batch("P-1"), batch("P-2", { status: "delivered" })] }, [aggregation("ADD", ["P-1", "P-2"])]);
      expect(result.events[0]!.status).to.equal("planned");
      expect(calls(result)).to.deep.equal([
        "logisticUnits.createContainer",
        "registry.proposeHandoff",
        "registry.proposeHandoff",
        "logisticUnits.packBatches",
      ]);
      expect(decoded(result, 0, 1)).to.deep.equal([
        idOf("P-1"),
        getAddress(DEPLOYMENT.logisticUnits),
        BigInt(SITE),
        BigInt(businessStepValue("loading")),
      ]);
      expect(decoded(result, 0, 3)).to.deep.equal([BigInt(SSCC), [idOf("P-1"), idOf("P-2")], BigInt(SITE)]);
    });

    it("test_aggregationAdd_someoneElsesContainerOrLot_refusedAsOtherParty", async function () {
      let result = await plan({ batches: [batch("P-1")], containers: { [SSCC]: OTHER } }, [aggregation("ADD", ["P-1"])]);
      expect(result.events[0]).to.include({ status: "refused", code: "OTHER_PARTY" });
      result = await plan({ batches: [batch("P-1", { custodian: OTHER })], containers: { [SSCC]: PROCESSOR } }, [
        aggregation("ADD", ["P-1"]),
      ]);
      expect(result.events[0]).to.include({ status: "refused", code: "OTHER_PARTY" });
    });

    it("test_aggregationAdd_recalledLot_refusedAsRecalled", async function () {
      const result = await plan({ batches: [batch("P-1", { status: "recalled" })] }, [aggregation("ADD", ["P-1"])]);
      expect(result.events[0]).to.include({ status: "refused", code: "LOT_RECALLED" });
    });

    it("test_aggregationAdd_alreadyPacked_alreadyRecorded", async function () {
      const result = await plan(
        { batches: [batch("P-1")], containers: { [SSCC]: PROCESSOR }, packing: { [idOf("P-1")]: { sscc: SSCC, releasedTo: null } } },
        [aggregation("ADD", ["P-1"])],
      );
      expect(result.events[0]).to.include({ status: "already-recorded" });
      expect(result.summary.calls).to.equal(0);
    });

    it("test_aggregationAddThenDelete_inOneDocument_unpacksWhatThePlanPacked", async function () {
      const result = await plan(
        {
          batches: [batch("P-1"), batch("P-2", { status: "recalled" })],
          containers: { [SSCC]: PROCESSOR },
          packing: { [idOf("P-2")]: { sscc: SSCC, releasedTo: null } },
        },
        [aggregation("ADD", ["P-1"]), aggregation("DELETE", ["P-1", "P-2"])],
      );
      expect(calls(result, 0)).to.deep.equal(["registry.proposeHandoff", "logisticUnits.packBatches"]);
      // The recalled lot leaves the container but never moves again in the registry: no acceptance for it.
      expect(calls(result, 1)).to.deep.equal(["logisticUnits.unpackBatches", "registry.acceptHandoff"]);
      expect(decoded(result, 1, 1)).to.deep.equal([idOf("P-1"), BigInt(SITE), BigInt(businessStepValue("unloading"))]);
    });

    it("test_aggregationDelete_unpackedEarlier_alreadyRecorded_orAcceptedWhenCutShort", async function () {
      const released = { [idOf("P-1")]: { sscc: null, releasedTo: PROCESSOR } };
      const at = { eventId: "1:3:0", blockNumber: 3, blockTimestamp: 3, transactionHash: ZeroHash as Hex };
      const unloaded = {
        kind: "accepted" as const,
        from: DEPLOYMENT.logisticUnits,
        to: PROCESSOR,
        locationGln: SITE,
        businessStep: "unloading",
        reasonHash: null,
        at,
      };
      let result = await plan(
        { batches: [batch("P-1", { status: "delivered", custody: [unloaded] })], containers: { [SSCC]: PROCESSOR }, packing: released },
        [aggregation("DELETE", ["P-1"])],
      );
      expect(result.events[0]).to.include({ status: "already-recorded" });
      // Unpacked, but the import stopped before the acceptance: importing again finishes it.
      const pending = batch("P-1", { custodian: DEPLOYMENT.logisticUnits, pendingCustodian: PROCESSOR, status: "in_transit" });
      result = await plan({ batches: [pending], containers: { [SSCC]: PROCESSOR }, packing: released }, [aggregation("DELETE", ["P-1"])]);
      expect(calls(result)).to.deep.equal(["registry.acceptHandoff"]);
      // The packing before it is recorded too: the registry shows the contract accepting the lot, Loading, here.
      const loaded = { ...unloaded, kind: "accepted" as const, from: PROCESSOR, to: DEPLOYMENT.logisticUnits, businessStep: "loading" };
      result = await plan(
        {
          batches: [batch("P-1", { status: "delivered", custody: [loaded, unloaded] })],
          containers: { [SSCC]: PROCESSOR },
          packing: released,
        },
        [aggregation("ADD", ["P-1"]), aggregation("DELETE", ["P-1"])],
      );
      expect(result.events.map((event) => event.status)).to.deep.equal(["already-recorded", "already-recorded"]);
    });

    it("test_aggregationAdd_lotAlreadyOfferedToTheContract_onlyThePackIsLeft", async function () {
      // An import cut short after the proposeHandoff: importing again sends the pack alone.
      const offered = batch("P-1", { pendingCustodian: DEPLOYMENT.logisticUnits, status: "in_transit" });
      const result = await plan({ batches: [offered], containers: { [SSCC]: PROCESSOR } }, [aggregation("ADD", ["P-1"])]);
      expect(calls(result)).to.deep.equal(["logisticUnits.packBatches"]);
    });

    it("test_aggregation_parentNotAnSsccOrNoContractsDeployed_unsupported", async function () {
      let result = await plan({ batches: [batch("P-1")] }, [aggregation("ADD", ["P-1"], locationUri(SITE, []))]);
      expect(result.events[0]).to.include({ status: "refused", code: "UNSUPPORTED_EVENT" });
      result = await plan({ batches: [batch("P-1")] }, [aggregation("ADD", ["P-1"])], { logisticUnits: undefined });
      expect(result.events[0]!.reason).to.contain("no LogisticUnits contract");
    });
  });

  describe("TransformationEvent", function () {
    const transformation = (inputs: [string, number][], outputs: string[]) => ({
      type: "TransformationEvent",
      eventTime: "2026-01-01T11:00:00Z",
      eventTimeZoneOffset: "+00:00",
      inputQuantityList: inputs.map(([name, quantity]) => ({ epcClass: lot(name), quantity })),
      outputQuantityList: outputs.map((name) => ({ epcClass: lot(name), quantity: 10 })),
      bizStep: "commissioning",
      ...place,
    });

    it("test_transformation_handsEachInputToTheContractThenTransformsWithTheEventHash", async function () {
      const result = await plan({ batches: [batch("IN-1"), batch("IN-2"), batch("OUT-1")] }, [
        transformation(
          [
            ["IN-1", 10],
            ["IN-2", 10],
          ],
          ["OUT-1"],
        ),
      ]);
      expect(calls(result)).to.deep.equal(["registry.proposeHandoff", "registry.proposeHandoff", "transformations.transform"]);
      expect(decoded(result, 0, 0)).to.deep.equal([
        idOf("IN-1"),
        getAddress(DEPLOYMENT.transformations),
        BigInt(SITE),
        BigInt(businessStepValue("receiving")),
      ]);
      expect(decoded(result, 0, 2)).to.deep.equal([
        [idOf("IN-1"), idOf("IN-2")],
        [idOf("OUT-1")],
        BigInt(SITE),
        digestOf(result.events[0]!.eventHash!),
      ]);
    });

    it("test_transformation_contractTheRelayerDoesNotForwardTo_refusedWholeWithTheReason", async function () {
      const result = await plan({ batches: [batch("IN-1"), batch("OUT-1")] }, [transformation([["IN-1", 10]], ["OUT-1"])], DEPLOYMENT, {
        transformations: "the relayer does not forward calls to transformations",
      });
      // Not even the inputs' proposeHandoff: a lot offered to a contract that then cannot take it would be stuck.
      expect(result.events[0]).to.include({
        status: "refused",
        code: "UNSUPPORTED_EVENT",
        reason: "the relayer does not forward calls to transformations",
      });
      expect(result.events[0]!.calls).to.deep.equal([]);
    });

    it("test_transformation_partOfALotOrAnOutputNotFreshOrAlreadyProduced", async function () {
      let result = await plan({ batches: [batch("IN-1"), batch("OUT-1")] }, [transformation([["IN-1", 4]], ["OUT-1"])]);
      expect(result.events[0]).to.include({ status: "refused", code: "INVALID_EVENT" });
      expect(result.events[0]!.reason).to.contain("split it first");
      result = await plan({ batches: [batch("IN-1"), batch("OUT-1", { manufacturer: OTHER, custodian: OTHER })] }, [
        transformation([["IN-1", 10]], ["OUT-1"]),
      ]);
      expect(result.events[0]).to.include({ status: "refused", code: "OTHER_PARTY" });
      result = await plan({ batches: [batch("IN-1"), batch("OUT-1")], produced: [idOf("OUT-1")] }, [
        transformation([["IN-1", 10]], ["OUT-1"]),
      ]);
      expect(result.events[0]).to.include({ status: "already-recorded" });
      result = await plan({ batches: [batch("IN-1")] }, [transformation([["IN-1", 10]], ["OUT-1"])]);
      expect(result.events[0]).to.include({ status: "refused", code: "UNKNOWN_EPC" });
    });
  });

  describe("ObjectEvent commissioning", function () {
    const commissioning = (extra: JsonObject) => ({
      type: "ObjectEvent",
      eventTime: "2026-01-01T09:00:00Z",
      eventTimeZoneOffset: "+00:00",
      quantityList: [{ epcClass: lot("NEW-1"), quantity: 10 }],
      action: "ADD",
      bizStep: "commissioning",
      bizLocation: { id: locationUri(SITE, []) },
      ...extra,
    });

    it("test_commissioning_serialRootExtension_underTheDocumentsPrefix_isTheRegisteredRoot", async function () {
      const root = `0x${"ab".repeat(32)}`;
      const result = await plan({ batches: [] }, [commissioning({ "ext:serialRoot": root })]);
      expect(calls(result)).to.deep.equal(["registry.registerBatch"]);
      expect(decoded(result, 0, 0)[6]).to.equal(root);
      expect(decoded(result, 0, 0)[3]).to.equal(BigInt(Date.parse("2026-01-01T09:00:00Z") / 1000));
    });

    it("test_commissioning_afterTheChainsClockOrASplitLotNumber_refusedBeforeTheChainWould", async function () {
      const root = { "ext:serialRoot": `0x${"ab".repeat(32)}` };
      const chainTime = Date.parse("2026-01-01T08:00:00Z") / 1000; // an hour before the event
      let result = await plan({ batches: [] }, [commissioning(root)], DEPLOYMENT, {}, chainTime);
      expect(result.events[0]).to.include({ status: "refused", code: "INVALID_EVENT" });
      expect(result.events[0]!.reason).to.contain("after the chain's clock");
      result = await plan({ batches: [] }, [commissioning({ ...root, quantityList: [{ epcClass: lot("NEW/1"), quantity: 10 }] })]);
      expect(result.events[0]!.reason).to.contain("only split child lots carry");
    });

    it("test_commissioning_noUnitsAndNoRoot_refusedSayingWhatIsMissing", async function () {
      const result = await plan({ batches: [] }, [commissioning({})]);
      expect(result.events[0]).to.include({ status: "refused", code: "INVALID_EVENT" });
      expect(result.events[0]!.reason).to.contain("provena:serialRoot");
    });

    it("test_commissioning_gtinOfAnotherPrefix_refusedAsOtherParty", async function () {
      const foreignGtin = "0761234500001" + gs1CheckDigit("0761234500001");
      const result = await plan({ batches: [] }, [
        commissioning({
          quantityList: [{ epcClass: lotUri(foreignGtin, "X-1", []), quantity: 1 }],
          "ext:serialRoot": `0x${"ab".repeat(32)}`,
        }),
      ]);
      expect(result.events[0]).to.include({ status: "refused", code: "OTHER_PARTY" });
    });

    it("test_commissioningThenPack_inOneDocument_thePlanFollowsItsOwnEffects", async function () {
      const result = await plan({ batches: [] }, [
        commissioning({ "ext:serialRoot": `0x${"ab".repeat(32)}` }),
        aggregation("ADD", ["NEW-1"]),
      ]);
      // The lot is not on chain yet, but the plan registers it first: packing it is planned, in order.
      expect(result.events.map((event) => event.status)).to.deep.equal(["planned", "planned"]);
      expect(calls(result, 1)).to.deep.equal(["logisticUnits.createContainer", "registry.proposeHandoff", "logisticUnits.packBatches"]);
    });
  });

  describe("ObjectEvent shipping", function () {
    const shipping = (lots: string[]) => ({
      type: "ObjectEvent",
      eventTime: "2026-01-01T12:00:00Z",
      eventTimeZoneOffset: "+00:00",
      quantityList: lots.map((name) => ({ epcClass: lot(name), quantity: 10 })),
      action: "OBSERVE",
      bizStep: "shipping",
      ...place,
      destinationList: [{ type: "possessing_party", destination: "https://id.gs1.org/417/8412345000027" }],
    });

    it("test_shipping_refusedOnItsSecondLot_leavesTheFirstLotForTheNextEvents", async function () {
      const result = await plan({ batches: [batch("S-1"), batch("S-2", { custodian: OTHER })] }, [
        shipping(["S-1", "S-2"]),
        shipping(["S-1"]),
      ]);
      expect(result.events.map((event) => [event.status, event.code ?? null])).to.deep.equal([
        ["refused", "OTHER_PARTY"],
        ["planned", null],
      ]);
      expect(decoded(result, 1, 0)).to.deep.equal([idOf("S-1"), getAddress(OTHER), BigInt(SITE), BigInt(businessStepValue("shipping"))]);
    });
  });
});
