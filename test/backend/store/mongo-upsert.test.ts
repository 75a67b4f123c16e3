/**
 * The MongoDB adapter's write loops (bulk-writes.ts insertKeepingExisting / upsertAll): how they react to what an
 * unordered bulkWrite reports. The "collection" here is a script, not a database: each bulkWrite call answers with
 * the next scripted outcome, built with the driver's own error classes, and the test checks which operations
 * the loop sends next. What a real server answers is the contract suite's job (mongodb.test.ts).
 */
import { expect } from "chai";

import { DomainError } from "../../../backend/domain/errors.ts";
import { insertKeepingExisting, upsertAll } from "../../../backend/store/mongo/bulk-writes.ts";
import { bulkWriteError, duplicateKeyMessage } from "./mongo-driver-errors.ts";

const dup = (index: number, keyIndex = "_id_") => ({ index, code: 11000, errmsg: duplicateKeyMessage("batches", keyIndex) });

interface Doc {
  _id: string;
  lastEvent: { eventId: string; blockNumber: number; blockTimestamp: number; transactionHash: `0x${string}` };
}
const doc = (id: string, eventId: string): Doc => ({
  _id: id,
  lastEvent: { eventId, blockNumber: 1, blockTimestamp: 1, transactionHash: "0x01" },
});

/** A scripted collection: bulkWrite answers from `outcomes` in turn (undefined = success); find answers `stored`. */
function scriptedCollection(outcomes: Array<Error | undefined>, stored: Array<{ _id: string; lastEvent: { eventId: string } }> = []) {
  const sent: Array<Array<Record<string, any>>> = [];
  const collection = {
    collectionName: "batches",
    async bulkWrite(ops: Array<Record<string, any>>, options: Record<string, unknown>) {
      expect(options).to.include({ ordered: false });
      sent.push(ops);
      const outcome = outcomes.shift();
      if (outcome !== undefined) throw outcome;
      return {};
    },
    find(filter: { _id: { $in: string[] } }, options: { projection: Record<string, 1> }) {
      expect(options.projection).to.deep.equal({ _id: 1, "lastEvent.eventId": 1 });
      return { toArray: async () => stored.filter((entry) => filter._id.$in.includes(entry._id)) };
    },
  };
  return { model: collection as never, sent };
}

const guarded = { key: (d: Doc) => ({ _id: d._id }), guardByLastEvent: true };
const sentIds = (ops: Array<Record<string, any>>) =>
  ops.map((op) => (op.replaceOne ?? op.insertOne).replacement?._id ?? op.insertOne.document._id);

describe("MongoDB store: write loops", function () {
  describe("upsertAll with the lastEvent guard", function () {
    it("test_upsertAll_filterRequiresNoNewerStoredDocument_andUpserts", async function () {
      const { model, sent } = scriptedCollection([undefined]);
      await upsertAll(model, [doc("a", "1:000000000005:000000")], guarded);
      expect(sent[0]).to.deep.equal([
        {
          replaceOne: {
            filter: { _id: "a", "lastEvent.eventId": { $lte: "1:000000000005:000000" } },
            replacement: doc("a", "1:000000000005:000000"),
            upsert: true,
          },
        },
      ]);
    });

    it("test_upsertAll_staleWrite_isSkipped_notRetried", async function () {
      const stale = doc("a", "1:000000000004:000000");
      const { model, sent } = scriptedCollection(
        [bulkWriteError("update", 2, { n: 1, nModified: 1, writeErrors: [dup(0)] })],
        [{ _id: "a", lastEvent: { eventId: "1:000000000008:000000" } }],
      );
      await upsertAll(model, [stale, doc("b", "1:000000000004:000001")], guarded);
      expect(sent).to.have.length(1);
    });

    it("test_upsertAll_insertRace_isRetriedOnlyForTheRacingDocument", async function () {
      const { model, sent } = scriptedCollection(
        [bulkWriteError("update", 2, { n: 1, nModified: 1, writeErrors: [dup(1)] }), undefined],
        [
          { _id: "b", lastEvent: { eventId: "1:000000000001:000000" } }, // inserted by another writer meanwhile, older
        ],
      );
      await upsertAll(model, [doc("a", "1:000000000004:000000"), doc("b", "1:000000000004:000001")], guarded);
      expect(sent.map(sentIds)).to.deep.equal([["a", "b"], ["b"]]);
    });

    it("test_upsertAll_clashOnAnotherUniqueIndex_isAConflictProblem_afterOneMoreTry", async function () {
      const clash = () => bulkWriteError("update", 1, { n: 0, writeErrors: [dup(0, "gtin_1_lot_1")] });
      const { model, sent } = scriptedCollection([clash(), clash()]); // no stored document has the clashing _id
      let failure: unknown;
      try {
        await upsertAll(model, [doc("clash", "1:000000000004:000000")], guarded);
      } catch (error) {
        failure = error;
      }
      expect(failure).to.be.instanceOf(DomainError);
      expect((failure as DomainError).kind).to.equal("conflict");
      expect((failure as DomainError).message).to.match(/clash.*gtin_1_lot_1/);
      expect(sent).to.have.length(2);
    });

    it("test_upsertAll_staleBatchReportedOnTheGtinLotIndex_isStillJustStale", async function () {
      // A stale batch's insert collides on _id AND (gtin, lot); the server may name either index.
      const { model, sent } = scriptedCollection(
        [bulkWriteError("update", 1, { n: 0, writeErrors: [dup(0, "gtin_1_lot_1")] })],
        [{ _id: "tomatoes", lastEvent: { eventId: "1:000000000008:000000" } }],
      );
      await upsertAll(model, [doc("tomatoes", "1:000000000004:000000")], guarded);
      expect(sent).to.have.length(1);
    });

    it("test_upsertAll_raceReportedOnTheGtinLotIndex_isRetried", async function () {
      const { model, sent } = scriptedCollection(
        [bulkWriteError("update", 1, { n: 0, writeErrors: [dup(0, "gtin_1_lot_1")] }), undefined],
        [{ _id: "tomatoes", lastEvent: { eventId: "1:000000000002:000000" } }],
      );
      await upsertAll(model, [doc("tomatoes", "1:000000000004:000000")], guarded);
      expect(sent.map(sentIds)).to.deep.equal([["tomatoes"], ["tomatoes"]]);
    });

    it("test_upsertAll_driverStoppedBeforeSomeOps_resendsAllButStale", async function () {
      // 3 ops: 1 duplicate reported, 1 applied, 1 never sent (the driver stopped after a wire batch).
      const { model, sent } = scriptedCollection(
        [bulkWriteError("update", 3, { n: 1, nModified: 1, writeErrors: [dup(0)] }), undefined],
        [
          { _id: "a", lastEvent: { eventId: "1:000000000009:000000" } },
          { _id: "b", lastEvent: { eventId: "1:000000000004:000001" } },
        ],
      );
      await upsertAll(
        model,
        [doc("a", "1:000000000004:000000"), doc("b", "1:000000000004:000001"), doc("c", "1:000000000004:000002")],
        guarded,
      );
      expect(sent.map(sentIds)).to.deep.equal([
        ["a", "b", "c"],
        ["b", "c"],
      ]);
    });

    it("test_upsertAll_persistentRace_givesUpWithTheDriverError", async function () {
      const race = () => bulkWriteError("update", 1, { n: 0, writeErrors: [dup(0)] });
      const { model, sent } = scriptedCollection([race(), race(), race(), race(), race()], []);
      let failure: unknown;
      try {
        await upsertAll(model, [doc("a", "1:000000000004:000000")], guarded);
      } catch (error) {
        failure = error;
      }
      expect((failure as Error).name).to.equal("MongoBulkWriteError");
      expect(sent).to.have.length(5);
    });

    it("test_upsertAll_nonDuplicateError_isRethrownUntouched", async function () {
      const network = new Error("connection reset");
      const { model } = scriptedCollection([network]);
      let failure: unknown;
      try {
        await upsertAll(model, [doc("a", "1:000000000004:000000")], guarded);
      } catch (error) {
        failure = error;
      }
      expect(failure).to.equal(network);
    });

    it("test_upsertAll_withoutGuard_replacesByKeyOnly", async function () {
      const { model, sent } = scriptedCollection([undefined]);
      await upsertAll(model, [doc("a", "1:000000000004:000000")], { key: (d: Doc) => ({ _id: d._id, shard: 1 }), guardByLastEvent: false });
      expect(sent[0]![0]!.replaceOne.filter).to.deep.equal({ _id: "a", shard: 1 });
    });

    it("test_upsertAll_chunksLargeLists", async function () {
      const docs = Array.from({ length: 1_201 }, (_, i) => doc(`d${i}`, "1:000000000001:000000"));
      const { model, sent } = scriptedCollection([]);
      await upsertAll(model, docs, guarded);
      expect(sent.map((ops) => ops.length)).to.deep.equal([500, 500, 201]);
    });
  });

  describe("insertKeepingExisting", function () {
    const events = (n: number) => Array.from({ length: n }, (_, i) => ({ _id: `1:000000000001:${String(i).padStart(6, "0")}` }));

    it("test_insertKeepingExisting_replayedEvents_areKept_notResent", async function () {
      const { model, sent } = scriptedCollection([bulkWriteError("insert", 3, { n: 1, writeErrors: [dup(0), dup(2)] })]);
      await insertKeepingExisting(model, events(3));
      expect(sent).to.have.length(1);
      expect(sent[0]![0]).to.deep.equal({ insertOne: { document: events(1)[0] } });
    });

    it("test_insertKeepingExisting_driverStoppedEarly_resendsTheChunk", async function () {
      const { model, sent } = scriptedCollection([bulkWriteError("insert", 3, { n: 0, writeErrors: [dup(0)] }), undefined]);
      await insertKeepingExisting(model, events(3));
      expect(sent).to.have.length(2);
    });

    it("test_insertKeepingExisting_otherWriteError_isRethrown", async function () {
      const invalid = bulkWriteError("insert", 2, {
        n: 0,
        writeErrors: [dup(0), { index: 1, code: 121, errmsg: "Document failed validation" }],
      });
      const { model } = scriptedCollection([invalid]);
      let failure: unknown;
      try {
        await insertKeepingExisting(model, events(2));
      } catch (error) {
        failure = error;
      }
      expect(failure).to.equal(invalid);
    });
  });
});
