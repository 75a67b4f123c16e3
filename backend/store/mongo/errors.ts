/**
 * Classifying MongoDB errors. Only one kind is ever swallowed: a duplicate key (E11000) on a write whose
 * duplicate is expected (a replayed event, a claim already made, a lease someone else holds). Everything else
 * (write-concern failures, validation errors, network errors) propagates.
 */

/** E11000 duplicate key; 11001 is the same error as reported by old servers for updates. */
export const DUPLICATE_KEY_CODES: ReadonlySet<unknown> = new Set([11000, 11001]);

interface WriteErrorLike {
  code?: unknown;
  index?: unknown;
  errmsg?: unknown;
}

/** A single-document write (insertOne, findOneAndUpdate with upsert, ...) failed on a unique index. */
export function isDuplicateKeyError(error: unknown): boolean {
  if (error === null || typeof error !== "object") return false;
  const { code, writeErrors } = error as { code?: unknown; writeErrors?: unknown };
  // A bulk error's top-level code is only its first write error's: never classify a bulk error here.
  if (Array.isArray(writeErrors) && writeErrors.length > 0) return false;
  return DUPLICATE_KEY_CODES.has(code);
}

/** One operation of a bulkWrite refused with a duplicate key. */
export interface DuplicateKeyFailure {
  /** Position of the operation in the list sent. */
  index: number;
  /** The unique index that refused it ("_id_", "gtin_1_lot_1"), when the server's message names it. */
  keyIndex: string | null;
}

/**
 * The outcome of an unordered bulkWrite that threw: the operations that hit a duplicate key, when duplicate
 * keys are ALL that went wrong; null when anything else failed, in which case the caller must rethrow.
 */
export function duplicateKeyFailures(error: unknown): DuplicateKeyFailure[] | null {
  if (error === null || typeof error !== "object") return null;
  const bulk = error as {
    name?: unknown;
    writeErrors?: unknown;
    result?: { getWriteConcernError?: () => unknown } | null;
    mongoose?: { validationErrors?: unknown[] };
    errorResponse?: { writeConcernError?: unknown };
  };
  if (bulk.name !== "MongoBulkWriteError") return null;
  // mongoose validated the ops locally: any it rejected were never sent, so this is not a duplicate-only failure.
  if (Array.isArray(bulk.mongoose?.validationErrors) && bulk.mongoose.validationErrors.length > 0) return null;
  if (typeof bulk.result?.getWriteConcernError === "function" && bulk.result.getWriteConcernError() != null) return null;
  if (bulk.errorResponse?.writeConcernError != null) return null;
  const writeErrors = bulk.writeErrors;
  // A network or server error wrapped as a bulk error has no write errors: not ours to swallow.
  if (!Array.isArray(writeErrors) || writeErrors.length === 0) return null;
  const failures: DuplicateKeyFailure[] = [];
  for (const writeError of writeErrors as WriteErrorLike[]) {
    if (!DUPLICATE_KEY_CODES.has(writeError?.code) || typeof writeError.index !== "number") return null;
    failures.push({ index: writeError.index, keyIndex: duplicateKeyIndexName(writeError.errmsg) });
  }
  return failures;
}

/** "E11000 duplicate key error collection: provena.batches index: gtin_1_lot_1 dup key: {...}" -> "gtin_1_lot_1". */
export function duplicateKeyIndexName(message: unknown): string | null {
  if (typeof message !== "string") return null;
  const match = /\bindex: (\S+) dup key/.exec(message);
  return match === null ? null : match[1];
}

/** How many operations of an unordered bulkWrite that threw were applied (inserted, matched or upserted). */
export function appliedCount(error: unknown): number | null {
  const result = (error as { result?: { insertedCount?: unknown; matchedCount?: unknown; upsertedCount?: unknown } })?.result;
  if (result === null || typeof result !== "object") return null;
  const counts = [result.insertedCount, result.matchedCount, result.upsertedCount];
  if (!counts.every((count) => typeof count === "number")) return null;
  return (counts as number[]).reduce((sum, count) => sum + count, 0);
}

/** The store could not reach or use the configured MongoDB; the message names the host, never credentials. */
export class MongoStoreConnectionError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "MongoStoreConnectionError";
  }
}

/**
 * A rollback interrupted earlier (process killed mid-way) was completed by this call before it did anything
 * else; the projections the caller computed may predate it, so the caller must recompute and call again.
 * Retrying is always safe and converges.
 */
export class RollbackCompletedError extends Error {
  readonly retryable = true;
  constructor(chainId: number, forkBlock: number) {
    super(
      `MongoDB store: completed an interrupted rollback of chain ${chainId} to block ${forkBlock} first; ` +
        "recompute the range from the rolled-back state and commit it again",
    );
    this.name = "RollbackCompletedError";
  }
}
