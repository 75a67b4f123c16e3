/**
 * Passport data on MongoDB: serial sets (chunked below the 16 MiB document limit), scans and unit claims.
 */
import type { ScanRecord, ScanStats, SerialSet, UnitClaim } from "../../domain/model.ts";
import type { Hex } from "../../domain/model.ts";
import { isDuplicateKeyError } from "./errors.ts";
import { chunkSerials, claimFromDoc, claimToDoc, scanToDoc, serialSetFromDocs } from "./mapping.ts";
import { upsertAll } from "./mirror.ts";
import type { ClaimDoc, MirrorModels, SerialChunkDoc, SerialSetDoc } from "./models.ts";
import { serialChunkId } from "./models.ts";

/**
 * First put of a root wins. The chunks go first and the header last, so a header always means a complete set;
 * a put cut short leaves chunks without a header, which the next put overwrites.
 */
export async function putSerialSet(models: MirrorModels, set: SerialSet): Promise<void> {
  if (typeof set?.serialRoot !== "string" || !Array.isArray(set.serials) || typeof set.createdAt !== "number") {
    throw new TypeError("MongoDB store: a serial set needs serialRoot, serials and createdAt");
  }
  if ((await models.serialSets.exists({ _id: set.serialRoot })) !== null) return;
  const chunks = chunkSerials(set.serials);
  const chunkDocs: SerialChunkDoc[] = chunks.map((serials, index) => ({
    _id: serialChunkId(set.serialRoot, index),
    serialRoot: set.serialRoot,
    index,
    serials,
  }));
  // One chunk per bulkWrite: each is up to 4 MiB, and a wire message holds at most 48 MB.
  for (const doc of chunkDocs) {
    await upsertAll(models.serialChunks, [doc], { key: (d) => ({ _id: d._id, serialRoot: d.serialRoot }), guardByLastEvent: false });
  }
  const header: SerialSetDoc = { _id: set.serialRoot, count: set.serials.length, chunkCount: chunkDocs.length, createdAt: set.createdAt };
  try {
    // $setOnInsert: if another instance finished the same set meanwhile, its header (and createdAt) stays.
    await models.serialSets.updateOne(
      { _id: header._id },
      { $setOnInsert: { count: header.count, chunkCount: header.chunkCount, createdAt: header.createdAt } },
      { upsert: true },
    );
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error; // a concurrent put inserted the header first: same outcome
  }
}

export async function getSerialSet(models: MirrorModels, serialRoot: Hex): Promise<SerialSet | null> {
  const header = await models.serialSets.findById(serialRoot).lean<SerialSetDoc>();
  if (header === null) return null;
  const chunks = await models.serialChunks
    .find({ serialRoot, index: { $lt: header.chunkCount } })
    .sort({ index: 1 })
    .lean<SerialChunkDoc[]>();
  const complete = chunks.length === header.chunkCount && chunks.every((chunk, i) => chunk.index === i);
  const set = serialSetFromDocs(serialRoot, header.createdAt, chunks.map((chunk) => chunk.serials));
  if (!complete || set.serials.length !== header.count) {
    throw new Error(`MongoDB store: the serial set ${serialRoot} is damaged (expected ${header.count} serials in ${header.chunkCount} chunks)`);
  }
  return set;
}

export async function recordScan(models: MirrorModels, scan: ScanRecord): Promise<void> {
  await models.scans.insertOne(scanToDoc(scan));
}

interface RegionStats {
  _id: string;
  total: number;
  firstAt: number;
  lastAt: number;
  recent: number;
}

export async function scanStats(models: MirrorModels, batchId: Hex, serial: string | null, recentSinceMs: number): Promise<ScanStats> {
  if (typeof batchId !== "string" || (serial !== null && typeof serial !== "string") || typeof recentSinceMs !== "number") {
    throw new TypeError("MongoDB store: scanStats takes a batch id, a serial or null, and a unix ms instant");
  }
  // One pass over the (batchId, serial, at) index range, grouped by region; the few regions are merged here.
  // Aggregation stages are not cast by mongoose, so the values are checked above and used as is.
  const rows = await models.scans.aggregate<RegionStats>([
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
  ]);
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
export async function claimUnit(models: MirrorModels, claim: UnitClaim): Promise<UnitClaim> {
  const doc = claimToDoc(claim);
  try {
    await models.claims.insertOne(doc);
    return claimFromDoc(doc);
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
  }
  const existing = await models.claims.findOne({ batchId: doc.batchId, serial: doc.serial }).lean<ClaimDoc>();
  if (existing === null) throw new Error(`MongoDB store: the claim of ${doc.batchId}/${doc.serial} collided but cannot be read`);
  return claimFromDoc(existing);
}

export async function getUnitClaim(models: MirrorModels, batchId: Hex, serial: string): Promise<UnitClaim | null> {
  if (typeof batchId !== "string" || typeof serial !== "string") throw new TypeError("MongoDB store: getUnitClaim takes two strings");
  const doc = await models.claims.findOne({ batchId, serial }).lean<ClaimDoc>();
  return doc === null ? null : claimFromDoc(doc);
}
