/**
 * Passport records on MongoDB: serial sets (chunked below the 16 MiB document limit), scans and unit claims,
 * the last two stored whole.
 */
import type { Hex, ScanStats, SerialSet, UnitClaim } from "../../domain/model.ts";
import type { PassportRecords } from "../port.ts";
import { upsertAll } from "./bulk-writes.ts";
import { documents, serialChunkId, type MongoCollections, type SerialChunk, type SerialSetHeader } from "./collections.ts";
import { isDuplicateKeyError } from "./errors.ts";

/** BSON budget of one serial in an array: type byte, index key ("12345\0"), int32 length, bytes, NUL. */
function serialBsonSize(serial: string): number {
  return 1 + 8 + 4 + Buffer.byteLength(serial, "utf8") + 1;
}

/**
 * Splits a serial list into chunks that stay far below MongoDB's 16 MiB document limit (4 MiB or 20,000
 * serials each), keeping the order. 100,000 serials of 20 characters make 5 chunks of ~0.7 MiB.
 */
export function chunkSerials(serials: string[], maxBytes = 4 * 1024 * 1024, maxCount = 20_000): string[][] {
  const chunks: string[][] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const serial of serials) {
    if (typeof serial !== "string") throw new TypeError("MongoDB store: every serial must be a string");
    const size = serialBsonSize(serial);
    if (size > maxBytes) throw new RangeError(`MongoDB store: a serial of ${size} bytes exceeds the chunk size`);
    if (current.length > 0 && (current.length >= maxCount || bytes + size > maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(serial);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * First put of a root wins. The chunks go first and the header last, so a header always means a complete set;
 * a put cut short leaves chunks without a header, which the next put overwrites.
 */
async function putSerialSet(collections: MongoCollections, set: SerialSet): Promise<void> {
  if (typeof set?.serialRoot !== "string" || !Array.isArray(set.serials) || typeof set.createdAt !== "number") {
    throw new TypeError("MongoDB store: a serial set needs serialRoot, serials and createdAt");
  }
  if ((await collections.serialSets.countDocuments({ _id: set.serialRoot }, { limit: 1 })) > 0) return;
  const chunkDocs: SerialChunk[] = chunkSerials(set.serials).map((serials, index) => ({
    _id: serialChunkId(set.serialRoot, index),
    serialRoot: set.serialRoot,
    index,
    serials,
  }));
  // One chunk per bulkWrite: each is up to 4 MiB, and a wire message holds at most 48 MB.
  for (const doc of chunkDocs) {
    await upsertAll(collections.serialChunks, [doc], {
      key: (d) => ({ _id: d._id, serialRoot: d.serialRoot }),
      guardByLastEvent: false,
    });
  }
  const header: SerialSetHeader = {
    _id: set.serialRoot,
    count: set.serials.length,
    chunkCount: chunkDocs.length,
    createdAt: set.createdAt,
  };
  try {
    // $setOnInsert: if another instance finished the same set meanwhile, its header (and createdAt) stays.
    await collections.serialSets.updateOne(
      { _id: header._id },
      { $setOnInsert: { count: header.count, chunkCount: header.chunkCount, createdAt: header.createdAt } },
      { upsert: true },
    );
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error; // a concurrent put inserted the header first: same outcome
  }
}

async function getSerialSet(collections: MongoCollections, serialRoot: Hex): Promise<SerialSet | null> {
  if (typeof serialRoot !== "string") throw new TypeError("MongoDB store: a serial root is a string");
  const header = await collections.serialSets.findOne<SerialSetHeader>({ _id: serialRoot });
  if (header === null) return null;
  const chunks = await collections.serialChunks
    .find<SerialChunk>({ serialRoot, index: { $lt: header.chunkCount } })
    .sort({ index: 1 })
    .toArray();
  const complete = chunks.length === header.chunkCount && chunks.every((chunk, i) => chunk.index === i);
  const serials = chunks.flatMap((chunk) => chunk.serials);
  if (!complete || serials.length !== header.count) {
    throw new Error(
      `MongoDB store: the serial set ${serialRoot} is damaged (expected ${header.count} serials in ${header.chunkCount} chunks)`,
    );
  }
  return { serialRoot, serials, createdAt: header.createdAt };
}

export interface RegionStats {
  _id: string;
  total: number;
  firstAt: number;
  lastAt: number;
  recent: number;
}

async function scanStats(collections: MongoCollections, batchId: Hex, serial: string | null, recentSinceMs: number): Promise<ScanStats> {
  if (typeof batchId !== "string" || (serial !== null && typeof serial !== "string") || typeof recentSinceMs !== "number") {
    throw new TypeError("MongoDB store: scanStats takes a batch id, a serial or null, and a unix ms instant");
  }
  // One pass over the (batchId, serial, at) index range, grouped by region; the few regions are merged here.
  const rows = await collections.scans
    .aggregate<RegionStats>([
      { $match: { batchId, serial } },
      {
        $group: {
          _id: "$region",
          total: { $sum: 1 },
          firstAt: { $min: "$at" },
          lastAt: { $max: "$at" },
          recent: { $sum: { $cond: [{ $gte: ["$at", recentSinceMs] }, 1, 0] } },
        },
      },
    ])
    .toArray();
  return mergeRegionStats(rows);
}

/** Totals over regions; regions most frequent first, ties in ascending region order. */
export function mergeRegionStats(rows: RegionStats[]): ScanStats {
  const sorted = [...rows].sort((a, b) => b.total - a.total || (a._id < b._id ? -1 : a._id > b._id ? 1 : 0));
  return {
    total: rows.reduce((sum, row) => sum + row.total, 0),
    regions: sorted.map((row) => row._id),
    firstAt: rows.length === 0 ? null : Math.min(...rows.map((row) => row.firstAt)),
    lastAt: rows.length === 0 ? null : Math.max(...rows.map((row) => row.lastAt)),
    recent: rows.reduce((sum, row) => sum + row.recent, 0),
  };
}

/** First claim wins: the insert races on the unique (batchId, serial) index, and the loser reads the winner. */
async function claimUnit(collections: MongoCollections, claim: UnitClaim): Promise<UnitClaim> {
  if (typeof claim?.batchId !== "string" || typeof claim.serial !== "string") {
    throw new TypeError("MongoDB store: a claim needs a batch id and a serial");
  }
  const doc = documents.claim.toDocument(claim);
  try {
    await collections.claims.insertOne(doc); // adds the server-side _id to `doc`, which fromDocument removes
    return documents.claim.fromDocument(doc);
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
  }
  const existing = await collections.claims.findOne({ batchId: claim.batchId, serial: claim.serial });
  if (existing === null) throw new Error(`MongoDB store: the claim of ${claim.batchId}/${claim.serial} collided but cannot be read`);
  return documents.claim.fromDocument(existing);
}

export function createPassportRecords(collections: MongoCollections): PassportRecords {
  return {
    putSerialSet: (set) => putSerialSet(collections, set),
    getSerialSet: (serialRoot) => getSerialSet(collections, serialRoot),
    async recordScan(scan) {
      await collections.scans.insertOne(documents.scan.toDocument(scan));
    },
    scanStats: (batchId, serial, recentSinceMs) => scanStats(collections, batchId, serial, recentSinceMs),
    claimUnit: (claim) => claimUnit(collections, claim),
    async getUnitClaim(batchId, serial) {
      if (typeof batchId !== "string" || typeof serial !== "string") throw new TypeError("MongoDB store: getUnitClaim takes two strings");
      const doc = await collections.claims.findOne({ batchId, serial });
      return doc === null ? null : documents.claim.fromDocument(doc);
    },
  };
}
