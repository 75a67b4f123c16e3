/**
 * Error classification of the MongoDB adapter, on the errors the real driver builds (mongo-driver-errors.ts builds
 * them without a server).
 */
import { expect } from "chai";
import mongoose from "mongoose";

import {
  appliedCount,
  duplicateKeyFailures,
  duplicateKeyIndexName,
  isDuplicateKeyError,
  RollbackCompletedError,
} from "../../../backend/store/mongo/errors.ts";
import { bulkWriteError, duplicateKeyMessage } from "./mongo-driver-errors.ts";

describe("MongoDB store: error classification", function () {
  describe("unordered bulkWrite", function () {
    it("test_duplicateEventsOnly_areRecognised_withCounts", function () {
      const error = bulkWriteError("insert", 3, {
        n: 1,
        writeErrors: [
          { index: 0, code: 11000, errmsg: duplicateKeyMessage("events", "_id_") },
          { index: 2, code: 11000, errmsg: duplicateKeyMessage("events", "_id_") },
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
      const error = bulkWriteError("update", 4, {
        n: 2, // one matched, one upserted
        nModified: 1,
        upserted: [{ index: 3, _id: "0xnew" }],
        writeErrors: [
          { index: 1, code: 11000, errmsg: duplicateKeyMessage("batches", "_id_") },
          { index: 2, code: 11000, errmsg: duplicateKeyMessage("batches", "gtin_1_lot_1") },
        ],
      });
      expect(duplicateKeyFailures(error)).to.deep.equal([
        { index: 1, keyIndex: "_id_" },
        { index: 2, keyIndex: "gtin_1_lot_1" },
      ]);
      expect(appliedCount(error)).to.equal(2);
    });

    it("test_anyOtherWriteError_isNotSwallowed", function () {
      const error = bulkWriteError("insert", 2, {
        n: 0,
        writeErrors: [
          { index: 0, code: 11000, errmsg: duplicateKeyMessage("events", "_id_") },
          { index: 1, code: 121, errmsg: "Document failed validation" },
        ],
      });
      expect(duplicateKeyFailures(error)).to.equal(null);
    });

    it("test_writeConcernError_isNotSwallowed_evenWithOnlyDuplicates", function () {
      const error = bulkWriteError("insert", 2, {
        n: 1,
        writeErrors: [{ index: 0, code: 11000, errmsg: duplicateKeyMessage("events", "_id_") }],
        writeConcernError: { code: 64, errmsg: "waiting for replication timed out" },
      });
      expect(duplicateKeyFailures(error)).to.equal(null);
    });

    it("test_networkErrorWrappedAsBulkError_isNotSwallowed", function () {
      expect(duplicateKeyFailures(bulkWriteError("insert", 2, { n: 0 }))).to.equal(null);
    });

    it("test_mongooseValidationErrors_makeItNotDuplicateOnly", function () {
      const error = bulkWriteError("insert", 2, {
        n: 0,
        writeErrors: [{ index: 0, code: 11000, errmsg: duplicateKeyMessage("events", "_id_") }],
      });
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
        isDuplicateKeyError(
          new mongoose.mongo.MongoServerError({ message: duplicateKeyMessage("claims", "batchId_1_serial_1"), code: 11000 }),
        ),
      ).to.equal(true);
      expect(isDuplicateKeyError(new mongoose.mongo.MongoServerError({ message: "old server", code: 11001 }))).to.equal(true);
    });

    it("test_isDuplicateKeyError_otherErrors_false", function () {
      expect(isDuplicateKeyError(new mongoose.mongo.MongoServerError({ message: "Authentication failed.", code: 18 }))).to.equal(false);
      expect(isDuplicateKeyError(new Error("E11000 in a message is not a code"))).to.equal(false);
      expect(isDuplicateKeyError(undefined)).to.equal(false);
      // A bulk error whose first write error is a duplicate carries code 11000 at the top: never a single-write duplicate.
      const mixed = bulkWriteError("insert", 2, {
        n: 0,
        writeErrors: [
          { index: 0, code: 11000, errmsg: duplicateKeyMessage("events", "_id_") },
          { index: 1, code: 121, errmsg: "Document failed validation" },
        ],
      });
      expect((mixed as Error & { code?: unknown }).code).to.equal(11000);
      expect(isDuplicateKeyError(mixed)).to.equal(false);
    });
  });

  it("test_duplicateKeyIndexName_readsTheServerMessage", function () {
    expect(duplicateKeyIndexName(duplicateKeyMessage("batches", "gtin_1_lot_1"))).to.equal("gtin_1_lot_1");
    expect(duplicateKeyIndexName(duplicateKeyMessage("events", "_id_"))).to.equal("_id_");
    expect(duplicateKeyIndexName("E11000 duplicate key error")).to.equal(null);
    expect(duplicateKeyIndexName(undefined)).to.equal(null);
  });

  it("test_rollbackCompletedError_isRetryable_andSaysWhatHappened", function () {
    const error = new RollbackCompletedError(31337, 6);
    expect(error.retryable).to.equal(true);
    expect(error.message).to.match(/chain 31337 to block 6/);
  });
});
