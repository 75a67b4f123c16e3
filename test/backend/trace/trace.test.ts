/**
 * Trace forward and back over HTTP: a lot's ancestors and descendants with where each is, who holds it, who held it
 * and the recall that reaches it, in one answer; bad input and oversized trees are refused with clear problems.
 */
import { expect } from "chai";
import request from "supertest";
import type { Hex } from "../../../backend/domain/model.ts";
import { createTraceModule } from "../../../backend/trace/trace-routes.ts";
import { createTraceService, MAX_TRACE_LOTS, type Trace } from "../../../backend/trace/trace-service.ts";
import { ChainHistory } from "../../../scripts/fixtures/chain-history.ts";
import { createMemoryStore, createTestApp, type TestApp } from "../api/fixtures/test-app.ts";

const GTIN = "09506000134352";

describe("trace forward and back", function () {
  let t: TestApp;
  let ids: { root: Hex; a: Hex; b: Hex; a1: Hex; a2: Hex; unrelated: Hex };
  let who: { acme: Hex; swift: Hex; depot: Hex; shop: Hex; regulator: Hex };

  before(async function () {
    const history = new ChainHistory();
    const acme = history.onboard("acme", "MANUFACTURER", "4012345000009");
    const swift = history.onboard("swift", "CARRIER");
    const depot = history.onboard("depot", "CARRIER");
    const shop = history.onboard("shop", "RETAILER");
    const regulator = history.onboard("regulator", "REGULATOR");
    const root = history.registerBatch({ manufacturer: acme, gtin: GTIN, lot: "T-1", quantity: 100 });
    history.handOver(root, acme, swift);
    history.handOver(root, swift, depot);
    const [a, b] = history.split(root, GTIN, depot, [
      { lot: "T-1/A", quantity: 60 },
      { lot: "T-1/B", quantity: 40 },
    ]) as [Hex, Hex];
    history.handOver(a, depot, shop);
    const [a1, a2] = history.split(a, GTIN, shop, [
      { lot: "T-1/A/1", quantity: 30 },
      { lot: "T-1/A/2", quantity: 30 },
    ]) as [Hex, Hex];
    history.proposeHandoff(a2, shop, swift);
    const unrelated = history.registerBatch({ manufacturer: acme, gtin: GTIN, lot: "U-1" });
    history.recall(a, regulator);
    ids = { root, a, b, a1, a2, unrelated };
    who = { acme, swift, depot, shop, regulator };
    const store = await createMemoryStore();
    await history.mirrorInto(store);
    t = await createTestApp({ store, modules: [createTraceModule({ service: createTraceService({ store }) })] });
  });

  after(async function () {
    await t.store.close();
  });

  const trace = async (batchId: Hex, query = ""): Promise<Trace> =>
    (await request(t.app).get(`/api/v1/batches/${batchId}/trace${query}`).expect(200)).body as Trace;

  it("test_trace_fromTheRoot_reachesEveryDescendantWithHolderAndPlace", async function () {
    const result = await trace(ids.root);
    expect(result.ancestors).to.deep.equal([]);
    expect(result.descendants.map((lot) => [lot.lot, lot.generation])).to.deep.equal([
      ["T-1/A", 1],
      ["T-1/B", 1],
      ["T-1/A/1", 2],
      ["T-1/A/2", 2],
    ]);
    expect(result.lot.holders).to.deep.equal([who.acme, who.swift, who.depot]);
    expect(result.lot.location).to.equal("4012345000023");
    const a = result.descendants.find((lot) => lot.batchId === ids.a)!;
    expect(a).to.include({ custodian: who.shop, status: "recalled", recalledVia: ids.a });
    expect(a.holders).to.deep.equal([who.depot, who.shop]);
    const a2 = result.descendants.find((lot) => lot.batchId === ids.a2)!;
    expect(a2).to.include({ custodian: who.shop, pendingCustodian: who.swift, status: "recalled", recalledVia: ids.a });
    const b = result.descendants.find((lot) => lot.batchId === ids.b)!;
    expect(b).to.include({ custodian: who.depot, recalledVia: null });
    expect(b.status).to.not.equal("recalled");
    expect(result.summary).to.deep.equal({ lots: 5, holdersNow: 2, recalledLots: 3 });
    expect(result.participants[who.shop]).to.include({ name: "Shop Ltd" });
    expect(JSON.stringify(result)).to.not.contain(ids.unrelated);
  });

  it("test_trace_fromALeaf_backToTheRoot_nearestFirst", async function () {
    const result = await trace(ids.a1, "?direction=back");
    expect(result.ancestors.map((lot) => [lot.batchId, lot.generation])).to.deep.equal([
      [ids.a, -1],
      [ids.root, -2],
    ]);
    expect(result.descendants).to.deep.equal([]);
    expect(result.lot).to.include({ status: "recalled", recalledVia: ids.a, custodian: who.shop });
    expect(result.ancestors[1]!.recalledVia).to.equal(null);
  });

  it("test_trace_directionForward_leavesOutAncestors_andBothIsTheDefault", async function () {
    const forward = await trace(ids.a, "?direction=forward");
    expect(forward.ancestors).to.deep.equal([]);
    expect(forward.descendants.map((lot) => lot.batchId)).to.deep.equal([ids.a1, ids.a2]);
    const both = await trace(ids.a);
    expect(both.direction).to.equal("both");
    expect(both.ancestors.map((lot) => lot.batchId)).to.deep.equal([ids.root]);
    expect(both.descendants).to.have.length(2);
  });

  it("test_trace_badInput_isAProblem_notA500", async function () {
    const unknown = await request(t.app)
      .get(`/api/v1/batches/0x${"ab".repeat(32)}/trace`)
      .expect(404);
    expect(unknown.headers["content-type"]).to.match(/problem\+json/);
    await request(t.app).get("/api/v1/batches/0x1234/trace").expect(400);
    const badDirection = await request(t.app).get(`/api/v1/batches/${ids.root}/trace?direction=sideways`).expect(400);
    expect(JSON.stringify(badDirection.body)).to.contain("direction");
    await request(t.app).get(`/api/v1/batches/${ids.root}/trace?depth=3`).expect(400);
  });

  it("test_trace_largerThanTheBound_isRefusedNotTruncated", async function () {
    const history = new ChainHistory();
    const acme = history.onboard("acme", "MANUFACTURER");
    const root = history.registerBatch({ manufacturer: acme, gtin: GTIN, lot: "BIG", quantity: 1_000_000 });
    // A store whose root lists more children than the bound: the trace refuses before reading them.
    const store = await createMemoryStore();
    await history.mirrorInto(store);
    const stored = (await store.getBatch(root))!;
    const many = Array.from({ length: MAX_TRACE_LOTS }, (_, index) => `0x${index.toString(16).padStart(64, "0")}` as Hex);
    const service = createTraceService({
      store: {
        getBatch: async (id) => (id === root ? { ...stored, childIds: many } : store.getBatch(id)),
        getBatches: store.getBatches.bind(store),
        getParticipants: store.getParticipants.bind(store),
        findTransformationsProducing: store.findTransformationsProducing.bind(store),
        findTransformationsConsuming: store.findTransformationsConsuming.bind(store),
      },
    });
    const app = await createTestApp({ store, modules: [createTraceModule({ service })] });
    const refused = await request(app.app).get(`/api/v1/batches/${root}/trace`).expect(422);
    expect(refused.body).to.include({ reason: "trace-too-large", limit: MAX_TRACE_LOTS });
    await store.close();
  });
});
