/**
 * The MongoBulkWriteError an unordered bulkWrite throws, built without a server by the driver's own bulk-result code
 * (mongodb/lib/bulk/common.js, the version mongoose 9 loads) from a server reply shaped as the MongoDB docs describe it.
 */
import { createRequire } from "node:module";

// The driver mongoose itself resolves, so the tests exercise the exact classes the adapter meets.
const requireFromMongoose = createRequire(createRequire(import.meta.url).resolve("mongoose"));
export const bulk = requireFromMongoose("mongodb/lib/bulk/common.js") as {
  Batch: new (type: number, originalZeroIndex: number) => { operations: unknown[]; originalIndexes: number[] };
  BatchType: { INSERT: number; UPDATE: number; DELETE: number };
  BulkWriteResult: new (bulkResult: unknown, ordered: boolean) => unknown;
  MongoBulkWriteError: new (error: unknown, result: unknown) => Error;
  WriteConcernError: new (error: unknown) => unknown;
  mergeBatchResults: (batch: unknown, bulkResult: unknown, err: unknown, result: unknown) => void;
};

/** What the server answers to an unordered bulkWrite. */
export interface BulkWriteReply {
  n: number;
  nModified?: number;
  upserted?: Array<{ index: number; _id: unknown }>;
  writeErrors?: Array<{ index: number; code: number; errmsg: string }>;
  writeConcernError?: unknown;
}

/** The error an unordered bulkWrite of `count` operations throws after the server sent `reply` (as handleWriteError builds it). */
export function bulkWriteError(type: "insert" | "update", count: number, reply: BulkWriteReply): Error {
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

/** The message of an E11000 duplicate key error on `index` of `collection`. */
export const duplicateKeyMessage = (collection: string, index: string) =>
  `E11000 duplicate key error collection: provena.${collection} index: ${index} dup key: { _id: "31337:000000000001:000000" }`;
