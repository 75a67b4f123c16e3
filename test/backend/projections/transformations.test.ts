import { expect } from "chai";
import { Interface } from "ethers";
import { loadProvenaAbis } from "../../../backend/chain/artifacts.ts";
import { createEventDecoder } from "../../../backend/chain/events.ts";
import type { ChainEvent, Hex } from "../../../backend/domain/model.ts";
import { ProjectionError } from "../../../backend/projections/event-ref.ts";
import { planRollback } from "../../../backend/projections/rollback.ts";
import {
  foldTransformations,
  reduceTransformation,
  rollBackTransformation,
  transformationKeysOfAll,
} from "../../../backend/projections/transformations.ts";
import { createSqliteStore } from "../../../backend/store/sqlite/index.ts";
import { ChainHistory } from "../../../scripts/fixtures/chain-history.ts";
import { ACCOUNTS, TEST_DEPLOYMENT, blockHashOf, bytes32, timestampOf } from "./event-factory.ts";

const TRANSFORMATIONS = "0x00000000000000000000000000000000000000c6";
const abis = loadProvenaAbis();
const decoder = createEventDecoder({ deployment: { ...TEST_DEPLOYMENT, transformations: TRANSFORMATIONS }, abis });
const iface = new Interface(abis.Transformations!);

/** The event as the indexer decodes it from a log of block `blockNumber`. */
function decoded(blockNumber: number, logIndex: number, name: string, values: unknown[]): ChainEvent {
  const { topics, data } = iface.encodeEventLog(name, values);
  return decoder.decode(
    {
      address: TRANSFORMATIONS,
      topics,
      data,
      blockNumber,
      blockHash: blockHashOf(blockNumber),
      transactionHash: bytes32(`tx ${blockNumber}`),
      transactionIndex: 0,
      index: logIndex,
    },
    timestampOf(blockNumber),
  );
}

const [WHEAT, RYE, FLOUR, BRAN] = ["wheat", "rye", "flour", "bran"].map((label) => bytes32(label)) as [Hex, Hex, Hex, Hex];
const recorded = decoded(10, 2, "TransformationRecorded", [
  1n,
  ACCOUNTS.manufacturer,
  8712345000202n,
  [WHEAT, RYE],
  [400n, 600n],
  [FLOUR, BRAN],
  bytes32("recipe"),
]);
const flagged = decoded(12, 0, "RecalledInputFlagged", [FLOUR, RYE, 1n, ACCOUNTS.carrier]);

describe("transformation projection", function () {
  it("test_reduceTransformation_recorded_inputsWithTheirQuantitiesInOrder", function () {
    const transformation = reduceTransformation(null, recorded, "1")!;
    expect(transformation).to.deep.include({
      transformationId: "1",
      processor: ACCOUNTS.manufacturer.toLowerCase(),
      locationGln: "8712345000202",
      documentHash: bytes32("recipe"),
      inputs: [
        { batchId: WHEAT, quantity: "400" },
        { batchId: RYE, quantity: "600" },
      ],
      outputIds: [FLOUR, BRAN],
      recallFlags: [],
    });
    expect(transformation.recorded).to.deep.equal(transformation.lastEvent);
    expect(transformation.recorded.blockNumber).to.equal(10);
    // Replays and other transformations' events change nothing.
    expect(reduceTransformation(transformation, recorded, "1")).to.equal(transformation);
    expect(reduceTransformation(transformation, flagged, "2")).to.equal(transformation);
  });

  it("test_reduceTransformation_recalledInputFlagged_appendsTheFlag", function () {
    const transformation = reduceTransformation(reduceTransformation(null, recorded, "1"), flagged, "1")!;
    expect(transformation.recallFlags).to.deep.equal([
      { outputId: FLOUR, inputId: RYE, flaggedBy: ACCOUNTS.carrier.toLowerCase(), at: transformation.lastEvent },
    ]);
    expect(transformation.lastEvent.blockNumber).to.equal(12);
  });

  it("test_reduceTransformation_contradictions_throwProjectionError", function () {
    expect(() => reduceTransformation(null, flagged, "1")).to.throw(ProjectionError, "never recorded");
    const again = decoded(11, 0, "TransformationRecorded", [
      1n,
      ACCOUNTS.manufacturer,
      8712345000202n,
      [WHEAT],
      [1n],
      [FLOUR],
      bytes32("x"),
    ]);
    expect(() => reduceTransformation(reduceTransformation(null, recorded, "1"), again, "1")).to.throw(ProjectionError, "already recorded");
  });

  it("test_foldTransformations_onlyChangedDocuments_anyEventOrder", function () {
    const events = [flagged, recorded];
    const [folded] = foldTransformations(transformationKeysOfAll(events), [], events);
    expect(folded!.recallFlags).to.have.length(1);
    expect(foldTransformations(["1"], [folded!], events)).to.deep.equal([]);
  });

  it("test_rollBackTransformation_everyForkEqualsAFreshFoldOfWhatRemains", function () {
    const events = [recorded, flagged];
    const [whole] = foldTransformations(["1"], [], events);
    for (const forkBlock of [9, 10, 11, 12]) {
      const fresh =
        foldTransformations(
          ["1"],
          [],
          events.filter((event) => event.blockNumber <= forkBlock),
        )[0] ?? null;
      expect(rollBackTransformation(whole!, forkBlock), `fork ${forkBlock}`).to.deep.equal(fresh);
    }
  });
});

describe("transformation mirror (SQLite store, through project and planRollback)", function () {
  it("test_reorg_removingAMerge_deletesItAndItsLinksBothWays", async function () {
    const store = createSqliteStore({ path: ":memory:" });
    await store.init();
    try {
      const history = new ChainHistory();
      const mill = history.onboard("mill", "MANUFACTURER");
      const wheat = history.registerBatch({ manufacturer: mill, gtin: "09506000134352", lot: "WHEAT", quantity: 400 });
      const rye = history.registerBatch({ manufacturer: mill, gtin: "09506000134352", lot: "RYE", quantity: 600 });
      const flour = history.registerBatch({ manufacturer: mill, gtin: "09506000134369", lot: "FLOUR" });
      const beforeMerge = history.headBlock;
      const id = history.transform({ processor: mill, inputIds: [wheat, rye], outputIds: [flour] });
      const merged = history.headBlock;
      history.recall(rye, mill);
      history.flagRecalledInput({ transformationId: id, outputId: flour, inputId: rye, flaggedBy: mill });
      await history.mirrorInto(store, { rangeSize: 2 });

      const stored = (await store.getTransformation(id))!;
      expect(stored.inputs).to.deep.equal([
        { batchId: wheat, quantity: "400" },
        { batchId: rye, quantity: "600" },
      ]);
      expect(stored.recallFlags.map((flag) => flag.inputId)).to.deep.equal([rye]);
      expect(await store.findTransformationsConsuming([wheat])).to.deep.equal([stored]);
      expect(await store.findTransformationsProducing([flour])).to.deep.equal([stored]);

      const rollBackTo = async (forkBlock: number) => {
        const checkpoint = {
          chainId: history.chainId,
          blockNumber: forkBlock,
          blockHash: history.blocks[forkBlock - 1]!.hash,
          updatedAt: 2,
        };
        await store.rollback((await planRollback({ store, chainId: history.chainId, forkBlock, checkpoint })).commit);
      };
      // A reorg of the flag's block keeps the merge and drops the flag.
      await rollBackTo(merged + 1);
      expect((await store.getTransformation(id))!.recallFlags).to.deep.equal([]);
      // A reorg of the merge's block removes it, and with it both directions of the lineage.
      await rollBackTo(beforeMerge);
      expect(await store.getTransformation(id)).to.equal(null);
      expect(await store.findTransformationsConsuming([wheat, rye])).to.deep.equal([]);
      expect(await store.findTransformationsProducing([flour])).to.deep.equal([]);
      // The inputs' registry custody of the merge goes with it: they are back with the mill, undelivered.
      expect((await store.getBatch(wheat))!.custody).to.deep.equal([]);
    } finally {
      await store.close();
    }
  });
});
