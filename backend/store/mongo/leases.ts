/**
 * Single-writer leases on MongoDB: each operation is one atomic single-document command (compare-and-set in the
 * filter), so no locks or transactions are needed.
 */
import type { Leases } from "../port.ts";
import type { MongoCollections } from "./collections.ts";
import { isDuplicateKeyError } from "./errors.ts";

/**
 * One findOneAndUpdate: the filter matches the lease when `holder` has it or it has expired, and the update
 * takes it. When someone else holds it the filter matches nothing, the upsert tries to insert a second
 * document with the same _id, and the unique index refuses it (E11000): "not acquired". The server does not
 * retry that duplicate internally because the filter is not a plain equality match.
 */
async function acquireLease(collections: MongoCollections, name: string, holder: string, ttlMs: number): Promise<boolean> {
  if (typeof name !== "string" || name === "" || typeof holder !== "string" || holder === "") {
    throw new TypeError("MongoDB store: a lease needs a name and a holder");
  }
  if (typeof ttlMs !== "number" || !Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new RangeError(`Lease ttlMs must be a positive number, got ${ttlMs}`);
  }
  const now = Date.now();
  try {
    const lease = await collections.leases.findOneAndUpdate(
      { _id: name, $or: [{ holder }, { expiresAt: { $lte: now } }] },
      { $set: { holder, expiresAt: now + ttlMs } },
      { upsert: true, returnDocument: "after", includeResultMetadata: false },
    );
    return lease !== null && lease.holder === holder;
  } catch (error) {
    if (isDuplicateKeyError(error)) return false;
    throw error;
  }
}

export function createLeases(collections: MongoCollections): Leases {
  return {
    acquireLease: (name, holder, ttlMs) => acquireLease(collections, name, holder, ttlMs),
    async releaseLease(name, holder) {
      if (typeof name !== "string" || typeof holder !== "string") throw new TypeError("MongoDB store: a lease needs a name and a holder");
      await collections.leases.deleteOne({ _id: name, holder });
    },
    async readLease(name) {
      if (typeof name !== "string") throw new TypeError("MongoDB store: a lease needs a name");
      const lease = await collections.leases.findOne({ _id: name });
      return lease === null ? null : { holder: lease.holder, expiresAt: lease.expiresAt };
    },
  };
}
