/**
 * Cross-instance coordination on MongoDB: the single-writer lease and the relayer's queue. Each operation is
 * one atomic single-document command (compare-and-set in the filter), so no locks or transactions are needed.
 */
import type { RelayRequest, RelayStatus } from "../../domain/model.ts";
import { isDuplicateKeyError } from "./errors.ts";
import { relayFromDoc, relayPatchToSet, relayToDoc } from "./mapping.ts";
import type { LeaseDoc, MirrorModels, RelayDoc } from "./models.ts";

/**
 * One findOneAndUpdate: the filter matches the lease when `holder` has it or it has expired, and the update
 * takes it. When someone else holds it the filter matches nothing, the upsert tries to insert a second
 * document with the same _id, and the unique index refuses it (E11000): "not acquired". The server does not
 * retry that duplicate internally because the filter is not a plain equality match.
 */
export async function acquireLease(models: MirrorModels, name: string, holder: string, ttlMs: number): Promise<boolean> {
  if (typeof name !== "string" || name === "" || typeof holder !== "string" || holder === "") {
    throw new TypeError("MongoDB store: a lease needs a name and a holder");
  }
  if (typeof ttlMs !== "number" || !Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new RangeError(`Lease ttlMs must be a positive number, got ${ttlMs}`);
  }
  const now = Date.now();
  try {
    const lease = await models.leases
      .findOneAndUpdate(
        { _id: name, $or: [{ holder }, { expiresAt: { $lte: now } }] },
        { $set: { holder, expiresAt: now + ttlMs } },
        { upsert: true, returnDocument: "after", runValidators: true },
      )
      .lean<LeaseDoc>();
    return lease !== null && lease.holder === holder;
  } catch (error) {
    if (isDuplicateKeyError(error)) return false;
    throw error;
  }
}

export async function releaseLease(models: MirrorModels, name: string, holder: string): Promise<void> {
  await models.leases.deleteOne({ _id: name, holder });
}

export async function enqueueRelay(models: MirrorModels, request: RelayRequest): Promise<{ request: RelayRequest; created: boolean }> {
  const doc = relayToDoc(request);
  try {
    await models.relays.insertOne(doc);
    return { request: relayFromDoc(doc), created: true };
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
  }
  const existing = await models.relays.findById(doc._id).lean<RelayDoc>();
  if (existing === null) throw new Error(`MongoDB store: relay request ${doc._id} collided but cannot be read`);
  return { request: relayFromDoc(existing), created: false };
}

export async function getRelay(models: MirrorModels, id: string): Promise<RelayRequest | null> {
  if (typeof id !== "string") throw new TypeError("MongoDB store: a relay id is a string");
  const doc = await models.relays.findById(id).lean<RelayDoc>();
  return doc === null ? null : relayFromDoc(doc);
}

export async function listRelays(models: MirrorModels, statuses: RelayStatus[], limit: number): Promise<RelayRequest[]> {
  // A programmer error (the relayer asks for its own batch size), as in the SQLite adapter.
  if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1) {
    throw new RangeError(`listRelays limit must be a positive integer, got ${limit}`);
  }
  if (!Array.isArray(statuses) || !statuses.every((status) => typeof status === "string")) {
    throw new TypeError("MongoDB store: listRelays takes an array of statuses");
  }
  if (statuses.length === 0) return [];
  const docs = await models.relays
    .find({ status: { $in: statuses } })
    .sort({ createdAt: 1, _id: 1 })
    .limit(limit)
    .lean<RelayDoc[]>();
  return docs.map(relayFromDoc);
}

/** Compare-and-set on status: the filter carries the expected status, so two relayers cannot both move it. */
export async function updateRelay(
  models: MirrorModels,
  id: string,
  expected: RelayStatus,
  patch: Partial<RelayRequest>,
): Promise<boolean> {
  if (typeof id !== "string" || typeof expected !== "string") throw new TypeError("MongoDB store: updateRelay takes an id and a status");
  const set = relayPatchToSet(patch ?? {});
  if (Object.keys(set).length === 0) {
    // Nothing to change (MongoDB refuses an empty $set): "applied" iff the status is as expected.
    return (await models.relays.exists({ _id: id, status: expected })) !== null;
  }
  const result = await models.relays.updateOne({ _id: id, status: expected }, { $set: set }, { runValidators: true });
  // matched, not modified: a patch equal to the stored values is still applied.
  return result.matchedCount === 1;
}
