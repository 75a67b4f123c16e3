/**
 * Lineage through merges (Transformations): the trace walks from a lot to the inputs that made it and to the outputs
 * it was consumed into, each lot once however many paths reach it; a recall of an input reaches the outputs in the
 * trace, the batch API and the transformation API; corrupt graphs (a cycle) and huge fan-ins stay bounded.
 */
import { expect } from "chai";
import request from "supertest";
import type { Hex, Transformation } from "../../../backend/domain/model.ts";
import type { MirrorStore } from "../../../backend/store/port.ts";
import { createTraceModule } from "../../../backend/trace/trace-routes.ts";
import { createTraceService, MAX_TRACE_LOTS, type Trace } from "../../../backend/trace/trace-service.ts";
import { ChainHistory } from "../../../scripts/fixtures/chain-history.ts";
import { traceLines } from "../../../scripts/cli/trace-commands.ts";
import { createMemoryStore, createTestApp, type TestApp } from "../api/fixtures/test-app.ts";

const GRAIN = "09506000134352";
const FLOUR = "09506000134369";
const BREAD = "09506000134376";

describe("trace through merges", function () {
  let t: TestApp;
  let ids: Record<"wheat" | "rye" | "grain" | "g1" | "g2" | "flour" | "bran" | "flourA" | "flourB" | "bread", Hex>;
  let who: { farm: Hex; mill: Hex; bakery: Hex; regulator: Hex };
  let merges: { milling: string; baking: string };

  before(async function () {
    const history = new ChainHistory();
    const farm = history.onboard("farm", "MANUFACTURER", "4012345000009");
    const mill = history.onboard("mill", "MANUFACTURER", "4012345000016");
    const bakery = history.onboard("bakery", "MANUFACTURER", "4012345000023");
    const regulator = history.onboard("regulator", "REGULATOR");
    const wheat = history.registerBatch({ manufacturer: farm, gtin: GRAIN, lot: "WHEAT", quantity: 500 });
    history.handOver(wheat, farm, mill);
    const rye = history.registerBatch({ manufacturer: mill, gtin: GRAIN, lot: "RYE", quantity: 300 });
    const grain = history.registerBatch({ manufacturer: mill, gtin: GRAIN, lot: "MIX", quantity: 200 });
    // A diamond: both halves of one lot go into the same merge.
    const [g1, g2] = history.split(grain, GRAIN, mill, [
      { lot: "MIX/1", quantity: 100 },
      { lot: "MIX/2", quantity: 100 },
    ]) as [Hex, Hex];
    const flour = history.registerBatch({ manufacturer: mill, gtin: FLOUR, lot: "F-1", quantity: 900 });
    const bran = history.registerBatch({ manufacturer: mill, gtin: FLOUR, lot: "B-1", quantity: 100 });
    const milling = history.transform({ processor: mill, inputIds: [wheat, rye, g1, g2], outputIds: [flour, bran] });
    const [flourA, flourB] = history.split(flour, FLOUR, mill, [
      { lot: "F-1/A", quantity: 450 },
      { lot: "F-1/B", quantity: 450 },
    ]) as [Hex, Hex];
    history.handOver(flourA, mill, bakery);
    const bread = history.registerBatch({ manufacturer: bakery, gtin: BREAD, lot: "BR-1", quantity: 1_000 });
    const baking = history.transform({ processor: bakery, inputIds: [flourA], outputIds: [bread] });
    history.recall(rye, regulator);
    ids = { wheat, rye, grain, g1, g2, flour, bran, flourA, flourB, bread };
    who = { farm, mill, bakery, regulator };
    merges = { milling, baking };
    const store = await createMemoryStore();
    await history.mirrorInto(store);
    t = await createTestApp({ store, modules: [createTraceModule({ service: createTraceService({ store }) })] });
  });

  after(async function () {
    await t.store.close();
  });

  const trace = async (batchId: Hex, query = ""): Promise<Trace> =>
    (await request(t.app).get(`/api/v1/batches/${batchId}/trace${query}`).expect(200)).body as Trace;
  const lotsOf = (lots: Trace["descendants"]) => lots.map((lot) => [lot.lot, lot.generation]);

  it("test_trace_forward_reachesTheOutputsALotWasConsumedInto_eachOnce", async function () {
    const result = await trace(ids.grain, "?direction=forward");
    // The merge's outputs are reached through both halves of the lot, and listed once.
    expect(lotsOf(result.descendants)).to.deep.equal([
      ["MIX/1", 1],
      ["MIX/2", 1],
      ["F-1", 2],
      ["B-1", 2],
      ["F-1/A", 3],
      ["F-1/B", 3],
      ["BR-1", 4],
    ]);
    const flour = result.descendants.find((lot) => lot.batchId === ids.flour)!;
    expect(flour).to.deep.include({ producedBy: merges.milling, consumedIn: null, custodian: who.mill });
    expect(result.descendants.find((lot) => lot.batchId === ids.g1)).to.deep.include({ consumedIn: merges.milling });
    expect(result.transformations.map((merge) => merge.transformationId)).to.deep.equal([merges.milling, merges.baking]);
    expect(result.transformations[0]).to.deep.include({ processor: who.mill, outputIds: [ids.flour, ids.bran] });
    expect(result.participants[who.mill]?.name).to.equal("Mill Ltd");
  });

  it("test_trace_back_reachesTheInputsOfMergesAndTheirAncestors_eachOnce", async function () {
    const result = await trace(ids.bread, "?direction=back");
    expect(lotsOf(result.ancestors)).to.deep.equal([
      ["F-1/A", -1],
      ["F-1", -2],
      ["WHEAT", -3],
      ["RYE", -3],
      ["MIX/1", -3],
      ["MIX/2", -3],
      ["MIX", -4],
    ]);
    expect(result.descendants).to.deep.equal([]);
    const wheat = result.ancestors.find((lot) => lot.batchId === ids.wheat)!;
    // A consumed input's custody ended at the Transformations contract, where the merge took it.
    expect(wheat.holders[0]).to.equal(who.farm);
    expect(wheat.consumedIn).to.equal(merges.milling);
    expect(result.transformations.map((merge) => merge.transformationId)).to.deep.equal([merges.baking, merges.milling]);
  });

  it("test_trace_recallOfAnInput_reachesEveryOutputDownstream", async function () {
    const fromRye = await trace(ids.rye);
    const recalled = fromRye.descendants.map((lot) => [lot.lot, lot.status, lot.recalledVia]);
    expect(recalled).to.deep.equal([
      ["F-1", "recalled", ids.rye],
      ["B-1", "recalled", ids.rye],
      ["F-1/A", "recalled", ids.rye],
      ["F-1/B", "recalled", ids.rye],
      ["BR-1", "recalled", ids.rye],
    ]);
    const fromBread = await trace(ids.bread, "?direction=both");
    expect(fromBread.lot).to.deep.include({ status: "recalled", recalledVia: ids.rye });
    // Lots beside the recalled input are not reached by its recall.
    expect(fromBread.ancestors.find((lot) => lot.batchId === ids.wheat)).to.deep.include({ status: "delivered", recalledVia: null });
    expect(fromBread.summary.recalledLots).to.equal(4); // rye, flour, flour/A, bread
  });

  it("test_cliTraceLines_nameTheRecalledInputAndTheMerges", async function () {
    const lines = traceLines(await trace(ids.bread, "?direction=back"));
    expect(lines[0]).to.match(/^from 09506000134352\/MIX \(200\) split/);
    expect(lines).to.include.members([
      `merge #${merges.milling} by Mill Ltd at 4012345000030: ${GRAIN}/WHEAT + ${GRAIN}/RYE + ${GRAIN}/MIX/1 + ${GRAIN}/MIX/2 → ${FLOUR}/F-1, ${ids.bran}`,
      `merge #${merges.baking} by Bakery Ltd at 4012345000030: ${FLOUR}/F-1/A → ${BREAD}/BR-1`,
    ]);
    const bread = lines.find((line) => line.startsWith("▶"))!;
    expect(bread).to.contain(`RECALLED (via ${GRAIN}/RYE)`);
    expect(bread).to.contain(`[made in merge #${merges.baking}]`);
  });

  it("test_batchApi_madeFromAndConsumedInto_withTheEffectiveStatusOfARecalledInput", async function () {
    const flour = (await request(t.app).get(`/api/v1/batches/${ids.flour}`).expect(200)).body;
    expect(flour.status).to.equal("recalled");
    expect(flour.lineage.madeFrom.transformationId).to.equal(merges.milling);
    expect(flour.lineage.madeFrom.inputs.map((lot: { lot: string; status: string }) => [lot.lot, lot.status])).to.deep.equal([
      ["WHEAT", "delivered"],
      ["RYE", "recalled"],
      ["MIX/1", "delivered"],
      ["MIX/2", "delivered"],
    ]);
    expect(flour.lineage.consumedInto).to.equal(null);
    // Through a split of the merged lot as well.
    const flourA = (await request(t.app).get(`/api/v1/batches/${ids.flourA}`).expect(200)).body;
    expect(flourA.status).to.equal("recalled");
    expect(flourA.lineage.madeFrom).to.equal(null);
    expect(flourA.lineage.consumedInto).to.deep.include({ transformationId: merges.baking });
    expect(flourA.lineage.consumedInto.outputs[0]).to.deep.include({ lot: "BR-1", status: "recalled" });
    // And in lists.
    const page = (await request(t.app).get(`/api/v1/batches?gtin=${BREAD}`).expect(200)).body;
    expect(page.items.map((batch: { lot: string; status: string }) => [batch.lot, batch.status])).to.deep.equal([["BR-1", "recalled"]]);
    const wheat = (await request(t.app).get(`/api/v1/batches/${ids.wheat}`).expect(200)).body;
    expect(wheat.status).to.equal("delivered");
  });

  it("test_transformationApi_oneMergeWithItsLots_badIdsAreProblems", async function () {
    const merge = (await request(t.app).get(`/api/v1/transformations/${merges.milling}`).expect(200)).body;
    expect(merge).to.deep.include({ transformationId: merges.milling, processor: who.mill, outputIds: [ids.flour, ids.bran] });
    expect(merge.inputs).to.deep.equal([
      { batchId: ids.wheat, quantity: "500" },
      { batchId: ids.rye, quantity: "300" },
      { batchId: ids.g1, quantity: "100" },
      { batchId: ids.g2, quantity: "100" },
    ]);
    expect(merge.outputLots.map((lot: { status: string }) => lot.status)).to.deep.equal(["recalled", "recalled"]);
    const missing = await request(t.app).get("/api/v1/transformations/99").expect(404);
    expect(missing.headers["content-type"]).to.match(/^application\/problem\+json/);
    for (const bad of ["0", "01", "abc", "-1", "18446744073709551616", "1e3"]) {
      const refused = await request(t.app).get(`/api/v1/transformations/${bad}`).expect(400);
      expect(refused.headers["content-type"], bad).to.match(/^application\/problem\+json/);
    }
    await request(t.app).get("/api/v1/transformations/18446744073709551615").expect(404);
  });

  describe("corrupt or hostile graphs", function () {
    /** The stored graph plus one fake transformation the contracts could never record. */
    const withFakeMerge = (store: MirrorStore, fake: Transformation) => ({
      getBatch: store.getBatch.bind(store),
      getBatches: store.getBatches.bind(store),
      getParticipants: store.getParticipants.bind(store),
      findTransformationsProducing: async (batchIds: Hex[]) => [
        ...(await store.findTransformationsProducing(batchIds)),
        ...(fake.outputIds.some((id) => batchIds.includes(id)) ? [fake] : []),
      ],
      findTransformationsConsuming: async (batchIds: Hex[]) => [
        ...(await store.findTransformationsConsuming(batchIds)),
        ...(fake.inputs.some((input) => batchIds.includes(input.batchId)) ? [fake] : []),
      ],
    });
    const fakeMerge = (inputs: Hex[], outputs: Hex[]): Transformation => {
      const at = { eventId: "31337:999999999999:000000", blockNumber: 999_999_999_999, blockTimestamp: 0, transactionHash: ids.bread };
      return {
        transformationId: "999",
        processor: who.bakery,
        locationGln: "4012345000023",
        documentHash: ids.bread,
        inputs: inputs.map((batchId) => ({ batchId, quantity: "1" })),
        outputIds: outputs,
        recallFlags: [],
        recorded: at,
        lastEvent: at,
      };
    };

    it("test_trace_cycle_terminatesWithEveryLotOnce", async function () {
      // bread "made" grain: a cycle through two merges and a split.
      const service = createTraceService({ store: withFakeMerge(t.store, fakeMerge([ids.bread], [ids.grain])) });
      for (const from of [ids.grain, ids.bread, ids.flour]) {
        const result = await service.trace(from, "both");
        const all = [...result.ancestors, result.lot, ...result.descendants].map((lot) => lot.batchId);
        expect(new Set(all).size, `from ${from}`).to.equal(all.length);
      }
    });

    it("test_trace_hugeFanIn_isRefusedNotTruncated", async function () {
      const many = Array.from({ length: MAX_TRACE_LOTS }, (_, index) => `0x${index.toString(16).padStart(64, "0")}` as Hex);
      const service = createTraceService({ store: withFakeMerge(t.store, fakeMerge(many, [ids.bread])) });
      let failure: unknown;
      try {
        await service.trace(ids.bread, "back");
      } catch (error) {
        failure = error;
      }
      expect(failure).to.have.property("details").that.deep.includes({ reason: "trace-too-large" });
    });
  });
});
