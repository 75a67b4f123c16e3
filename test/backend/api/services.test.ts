/**
 * The batch service on data the indexer would never write but a damaged or partly restored store could
 * hold: a lineage cycle, a missing parent, a parent chain deeper than the walk allows. The service must
 * answer, bounded, instead of looping or failing.
 */
import { expect } from "chai";
import { createBatchService, MAX_LINEAGE_DEPTH } from "../../../backend/api/services/batches.ts";
import type { MirrorStore } from "../../../backend/store/port.ts";
import type { Batch, Hex } from "../../../backend/domain/model.ts";
import { buildScenario } from "./fixtures/scenario.ts";
import { CHAIN_ID, labelBytes32 } from "../../../scripts/fixtures/chain-history.ts";
import { createMemoryStore } from "./fixtures/test-app.ts";

describe("batch service on damaged lineage", function () {
  let store: MirrorStore;
  let template: Batch;

  before(async function () {
    store = await createMemoryStore();
    const scenario = buildScenario();
    await scenario.history.mirrorInto(store);
    template = (await store.getBatch(scenario.batches.root))!;
  });

  after(async function () {
    await store.close();
  });

  const write = (batches: Batch[]) =>
    store.commitRange({
      chainId: CHAIN_ID,
      events: [],
      blocks: [],
      batches,
      participants: [],
      orders: [],
      checkpoint: { chainId: CHAIN_ID, blockNumber: 10_000, blockHash: null, updatedAt: Date.now() },
    });
  const batchWith = (label: string, parentId: Hex | null): Batch => ({
    ...template,
    batchId: labelBytes32(label),
    lot: label.slice(0, 20),
    parentId,
    childIds: [],
    status: "registered",
  });

  it("test_get_lineageCycle_stopsAtTheFirstRepeat", async function () {
    const a = batchWith("cycle-a", labelBytes32("cycle-b"));
    const b = batchWith("cycle-b", labelBytes32("cycle-a"));
    await write([a, b]);
    const detail = await createBatchService({ store }).get(a.batchId);
    expect(detail.lineage.ancestors.map((batch) => batch.batchId)).to.deep.equal([b.batchId]);
  });

  it("test_get_missingParent_endsTheChain", async function () {
    const orphan = batchWith("orphan", labelBytes32("never stored"));
    await write([orphan]);
    const detail = await createBatchService({ store }).get(orphan.batchId);
    expect(detail.parentId).to.equal(labelBytes32("never stored"));
    expect(detail.lineage.ancestors).to.deep.equal([]);
  });

  it("test_get_veryDeepChain_isCutAtMaxDepth", async function () {
    const chain: Batch[] = [];
    for (let i = 0; i <= MAX_LINEAGE_DEPTH + 5; i++) chain.push(batchWith(`deep-${i}`, i === 0 ? null : labelBytes32(`deep-${i - 1}`)));
    await write(chain);
    const detail = await createBatchService({ store }).get(chain.at(-1)!.batchId);
    expect(detail.lineage.ancestors).to.have.length(MAX_LINEAGE_DEPTH);
    expect(detail.lineage.ancestors[0]!.batchId).to.equal(chain.at(-2)!.batchId);
  });

  it("test_get_childMissingFromStore_isLeftOutOfChildren", async function () {
    const parent = { ...batchWith("parent-of-ghost", null), childIds: [labelBytes32("ghost child")], status: "split" as const };
    await write([parent]);
    const detail = await createBatchService({ store }).get(parent.batchId);
    expect(detail.childIds).to.deep.equal([labelBytes32("ghost child")]);
    expect(detail.lineage.children).to.deep.equal([]);
    // Without a child document the split has no known time, so it is not put on the timeline.
    expect(detail.timeline.map((entry) => entry.type)).to.not.include("split");
  });
});
