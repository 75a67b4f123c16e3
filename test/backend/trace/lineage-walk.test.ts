/**
 * The lineage walk over splits and merges (read-model/lineage.ts) on a hand-built graph: each lot once at its nearest
 * generation, every edge kept (also into a lot reached earlier), one transformation lookup and one batch read per
 * generation, and a recall carried along the longer of two paths.
 */
import { expect } from "chai";
import type { Batch, Hex, Transformation } from "../../../backend/domain/model.ts";
import { recalledViaOf, walkLineage, type LineageStore } from "../../../backend/read-model/lineage.ts";

const id = (label: string) => `0x${Buffer.from(label).toString("hex").padEnd(64, "0")}` as Hex;
const at = (block: number) => ({
  eventId: `1:${String(block).padStart(12, "0")}:000000`,
  blockNumber: block,
  blockTimestamp: block,
  transactionHash: id("tx"),
});

function lot(label: string, options: { parent?: string; children?: string[]; consumed?: boolean; recalled?: boolean } = {}): Batch {
  return {
    batchId: id(label),
    gtin: "09506000134352",
    lot: label,
    quantity: "1",
    productionDate: 0,
    originGln: "4012345000009",
    documentHash: id("doc"),
    serialRoot: id("root"),
    manufacturer: id("maker").slice(0, 42) as Hex,
    custodian: id("maker").slice(0, 42) as Hex,
    pendingCustodian: null,
    status: "registered",
    inspection: "none",
    inspections: [],
    custody: options.consumed
      ? [
          {
            kind: "accepted",
            from: id("maker").slice(0, 42) as Hex,
            to: id("tf").slice(0, 42) as Hex,
            locationGln: null,
            businessStep: "receiving",
            reasonHash: null,
            at: at(5),
          },
        ]
      : [],
    parentId: options.parent ? id(options.parent) : null,
    childIds: (options.children ?? []).map(id),
    recall: options.recalled ? { by: id("regulator").slice(0, 42) as Hex, reasonHash: id("why"), at: at(9) } : null,
    watched: false,
    registered: at(1),
    lastEvent: at(1),
  };
}

function merge(transformationId: string, inputs: string[], outputs: string[]): Transformation {
  return {
    transformationId,
    processor: id("maker").slice(0, 42) as Hex,
    locationGln: "4012345000009",
    documentHash: id("sheet"),
    inputs: inputs.map((label) => ({ batchId: id(label), quantity: "1" })),
    outputIds: outputs.map(id),
    recallFlags: [],
    recorded: at(Number(transformationId)),
    lastEvent: at(Number(transformationId)),
  };
}

/**
 * A is split into B and C; C is split into E. B and E are merged into D (merge 1). So D is reached from A at
 * generation 2 (through B) and at generation 3 (through C, E); E is recalled.
 */
const LOTS = [
  lot("A", { children: ["B", "C"] }),
  lot("B", { parent: "A", consumed: true }),
  lot("C", { parent: "A", children: ["E"] }),
  lot("E", { parent: "C", consumed: true, recalled: true }),
  lot("D"),
];
const MERGES = [merge("1", ["B", "E"], ["D"])];

function countingStore(): LineageStore & { calls: string[] } {
  const calls: string[] = [];
  const byId = new Map(LOTS.map((batch) => [batch.batchId, batch]));
  return {
    calls,
    getBatches: async (ids) => {
      calls.push(`getBatches:${ids.length}`);
      return ids.flatMap((batchId) => (byId.has(batchId) ? [byId.get(batchId)!] : []));
    },
    findTransformationsConsuming: async (ids) => {
      calls.push(`consuming:${ids.length}`);
      return MERGES.filter((item) => item.inputs.some((input) => ids.includes(input.batchId)));
    },
    findTransformationsProducing: async (ids) => {
      calls.push(`producing:${ids.length}`);
      return MERGES.filter((item) => item.outputIds.some((output) => ids.includes(output)));
    },
  };
}

describe("lineage walk", function () {
  it("test_walkLineage_forward_eachLotOnceAtItsNearestGeneration_everyEdgeKept", async function () {
    const store = countingStore();
    const walk = await walkLineage(store, [LOTS[0]!], "forward", { maxLots: 100, maxGenerations: 10 });
    expect(walk.lots.map((item) => [item.batch.lot, item.generation])).to.deep.equal([
      ["B", 1],
      ["C", 1],
      ["E", 2],
      ["D", 2],
    ]);
    expect(walk.limit).to.equal(null);
    // E -> D is kept although D was reached a generation earlier: the recall travels along it.
    expect(walk.edges).to.deep.include({ from: id("E"), to: id("D"), transformationId: "1" });
    // One batch read per generation; only lots that may have been consumed (last custody step accepted) are looked
    // up: none of A's generation, then B, then E.
    expect(store.calls).to.deep.equal(["getBatches:2", "consuming:1", "getBatches:2", "consuming:1"]);
    const via = recalledViaOf([LOTS[0]!, ...walk.lots.map((item) => item.batch)], walk.edges);
    expect(via.get(id("D"))).to.equal(id("E"));
    expect(via.get(id("B"))).to.equal(null);
  });

  it("test_walkLineage_back_throughTheMergeToBothPaths_andItsLimits", async function () {
    const back = await walkLineage(countingStore(), [LOTS[4]!], "back", { maxLots: 100, maxGenerations: 10 });
    expect(back.lots.map((item) => [item.batch.lot, item.generation])).to.deep.equal([
      ["B", 1],
      ["E", 1],
      ["A", 2],
      ["C", 2],
    ]);
    expect(back.transformations.map((item) => item.transformationId)).to.deep.equal(["1"]);
    expect((await walkLineage(countingStore(), [LOTS[4]!], "back", { maxLots: 3, maxGenerations: 10 })).limit).to.equal("lots");
    expect((await walkLineage(countingStore(), [LOTS[4]!], "back", { maxLots: 100, maxGenerations: 1 })).limit).to.equal("generations");
  });
});
