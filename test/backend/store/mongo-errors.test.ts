/**
 * Error classification of the MongoDB adapter, on the errors the real driver builds. Without a server, the
 * driver's own bulk-result code (mongodb/lib/bulk/common.js, the version mongoose 9 loads) turns server replies
 * shaped as the MongoDB docs describe them into the MongoBulkWriteError an unordered bulkWrite throws.
 */
import { expect } from "chai";
import { createRequire } from "node:module";
import mongoose from "mongoose";

import {
  appliedCount,
  duplicateKeyFailures,
  duplicateKeyIndexName,
  isDuplicateKeyError,
  RollbackCompletedError,
} from "../../../backend/store/mongo/errors.ts";

// The driver mongoose itself resolves, so the test exercises the exact classes the adapter meets.
const requireFromMongoose = createRequire(createRequire(import.meta.url).resolve("mongoose"));
const bulk = requireFromMongoose("mongodb/lib/bulk/common.js") as {
  Batch: new (type: number, originalZeroIndex: number) => { operations: unknown[]; originalIndexes: number[] };
  BatchType: { INSERT: number; UPDATE: number; DELETE: number };
  BulkWriteResult: new (bulkResult: unknown, ordered: boolean) => unknown;
  MongoBulkWriteError: new (error: unknown, result: unknown) => Error;
  WriteConcernError: new (error: unknown) => unknown;
  mergeBatchResults: (batch: unknown, bulkResult: unknown, err: unknown, result: unknown) => void;
};

const dupMessage = (collection: string, index: string) =>
  `E11000 duplicate key error collection: provena.${collection} index: ${index} dup key: { _id: "31337:000000000001:000000" }`;

/** The error an unordered bulkWrite of `count` operations throws after the server sent `reply` (as handleWriteError builds it). */
function bulkError(type: "insert" | "update", count: number, reply: Record<string, unknown>): Error {
  const batch = new bulk.Batch(type === "insert" ? bulk.BatchType.INSERT : bulk.BatchType.UPDATE, 0);
  batch.operations = Array.from({ length: count }, (_, i) => ({ i }));
  batch.originalIndexes = Array.from({ length: count }, (_, i) => i);
  const bulkResult = {
    ok: 1,
    writeErrors: [] as Array<{ errmsg?: string; code?: number }>,
    writeConcernErrors: [] as unknown[],
    insertedIds: [],
    nInserted: 0,
    nUpserted: 0,
    nMatched: 0,
    nModified: 0,
    nRemoved: 0,
    upserted: [],
  };
  bulk.mergeBatchResults(batch, bulkResult, undefined, { ok: 1, ...reply });
  const result = new bulk.BulkWriteResult(bulkResult, false);
  if (bulkResult.writeErrors.length > 0) {
    return new bulk.MongoBulkWriteError(
      { message: bulkResult.writeErrors[0]!.errmsg, code: bulkResult.writeErrors[0]!.code, writeErrors: bulkResult.writeErrors },
      result,
    );
  }
  return new bulk.MongoBulkWriteError(bulkResult.writeConcernErrors[0] ?? new Error("network"), result);
}

describe("MongoDB store: error classification", function () {
  describe("unordered bulkWrite", function () {
    it("test_duplicateEventsOnly_areRecognised_withCounts", function () {
      const error = bulkError("insert", 3, {
        n: 1,
        writeErrors: [
          { index: 0, code: 11000, errmsg: dupMessage("events", "_id_") },
          { index: 2, code: 11000, errmsg: dupMessage("events", "_id_") },
        ],
      });
      expect(error.name).to.equal("MongoBulkWriteError");
      expect(duplicateKeyFailures(error)).to.deep.equal([
        { index: 0, keyIndex: "_id_" },
        { index: 2, keyIndex: "_id_" },
      ]);
      expect(appliedCount(error)).to.equal(1);
    });

    it("test_guardedUpserts_staleOnes_reportTheirIndex_andAppliedCountsMatchedAndUpserted", function () {
      const error = bulkError("update", 4, {
        n: 2, // one matched, one upserted
        nModified: 1,
        upserted: [{ index: 3, _id: "0xnew" }],
        writeErrors: [
          { index: 1, code: 11000, errmsg: dupMessage("batches", "_id_") },
          { index: 2, code: 11000, errmsg: dupMessage("batches", "gtin_1_lot_1") },
        ],
      });
      expect(duplicateKeyFailures(error)).to.deep.equal([
        { index: 1, keyIndex: "_id_" },
        { index: 2, keyIndex: "gtin_1_lot_1" },
      ]);
      expect(appliedCount(error)).to.equal(2);
    });

    it("test_anyOtherWriteError_isNotSwallowed", function () {
      const error = bulkError("insert", 2, {
        n: 0,
        writeErrors: [
          { index: 0, code: 11000, errmsg: dupMessage("events", "_id_") },
          { index: 1, code: 121, errmsg: "Document failed validation" },
        ],
      });
      expect(duplicateKeyFailures(error)).to.equal(null);
    });

    it("test_writeConcernError_isNotSwallowed_evenWithOnlyDuplicates", function () {
      const error = bulkError("insert", 2, {
        n: 1,
        writeErrors: [{ index: 0, code: 11000, errmsg: dupMessage("events", "_id_") }],
        writeConcernError: { code: 64, errmsg: "waiting for replication timed out" },
      });
      expect(duplicateKeyFailures(error)).to.equal(null);
    });

    it("test_networkErrorWrappedAsBulkError_isNotSwallowed", function () {
      expect(duplicateKeyFailures(bulkError("insert", 2, { n: 0 }))).to.equal(null);
    });

    it("test_mongooseValidationErrors_makeItNotDuplicateOnly", function () {
      const error = bulkError("insert", 2, { n: 0, writeErrors: [{ index: 0, code: 11000, errmsg: dupMessage("events", "_id_") }] });
      Object.assign(error, { mongoose: { validationErrors: [new Error("status: `lost` is not a valid enum value")], results: [] } });
      expect(duplicateKeyFailures(error)).to.equal(null);
    });

    it("test_otherErrorKinds_areNotBulkDuplicates", function () {
      expect(duplicateKeyFailures(new mongoose.mongo.MongoServerError({ message: "E11000", code: 11000 }))).to.equal(null);
      expect(duplicateKeyFailures(new Error("boom"))).to.equal(null);
      expect(duplicateKeyFailures(null)).to.equal(null);
      expect(appliedCount(new Error("boom"))).to.equal(null);
    });
  });

  describe("single-document writes", function () {
    it("test_isDuplicateKeyError_serverError11000", function () {
      expect(
        isDuplicateKeyError(new mongoose.mongo.MongoServerError({ message: dupMessage("claims", "batchId_1_serial_1"), code: 11000 })),
      ).to.equal(true);
      expect(isDuplicateKeyError(new mongoose.mongo.MongoServerError({ message: "old server", code: 11001 }))).to.equal(true);
    });

    it("test_isDuplicateKeyError_otherErrors_false", function () {
      expect(isDuplicateKeyError(new mongoose.mongo.MongoServerError({ message: "Authentication failed.", code: 18 }))).to.equal(false);
      expect(isDuplicateKeyError(new Error("E11000 in a message is not a code"))).to.equal(false);
      expect(isDuplicateKeyError(undefined)).to.equal(false);
      // A bulk error whose first write error is a duplicate carries code 11000 at the top: never a single-write duplicate.
      const mixed = bulkError("insert", 2, {
        n: 0,
        writeErrors: [
          { index: 0, code: 11000, errmsg: dupMessage("events", "_id_") },
          { index: 1, code: 121, errmsg: "Document failed validation" },
        ],
      });
      expect((mixed as Error & { code?: unknown }).code).to.equal(11000);
      expect(isDuplicateKeyError(mixed)).to.equal(false);
    });
  });

  it("test_duplicateKeyIndexName_readsTheServerMessage", function () {
    expect(duplicateKeyIndexName(dupMessage("batches", "gtin_1_lot_1"))).to.equal("gtin_1_lot_1");
    expect(duplicateKeyIndexName(dupMessage("events", "_id_"))).to.equal("_id_");
    expect(duplicateKeyIndexName("E11000 duplicate key error")).to.equal(null);
    expect(duplicateKeyIndexName(undefined)).to.equal(null);
  });

  it("test_rollbackCompletedError_isRetryable_andSaysWhatHappened", function () {
    const error = new RollbackCompletedError(31337, 6);
    expect(error.retryable).to.equal(true);
    expect(error.message).to.match(/chain 31337 to block 6/);
  });
});
