/**
 * The relay queue on MongoDB: each request stored whole (its id as `_id`). Each operation is one atomic
 * single-document command, the status compare-and-set carried in the filter.
 */
import type { RelayRequest } from "../../domain/model.ts";
import type { RelayQueue } from "../port.ts";
import { documents, withoutUndefined, type MongoCollections } from "./collections.ts";
import { isDuplicateKeyError } from "./errors.ts";

/**
 * The fields of a relay patch as a $set document: `id` never changes, undefined fields are not part of it. A
 * field name that MongoDB would read as an operator or a path ("$inc", "a.b", "_id") is refused.
 */
export function relayPatchToSet(patch: Partial<RelayRequest>): Record<string, unknown> {
  const set: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(patch)) {
    if (field === "id" || value === undefined) continue;
    if (field === "_id" || field.startsWith("$") || field.includes(".")) {
      throw new TypeError(`MongoDB store: a relay request has no field "${field}"`);
    }
    set[field] = withoutUndefined(value);
  }
  return set;
}

async function enqueueRelay(collections: MongoCollections, request: RelayRequest): Promise<{ request: RelayRequest; created: boolean }> {
  const doc = documents.relay.toDocument(request);
  try {
    await collections.relays.insertOne({ ...doc });
    return { request: documents.relay.fromDocument(doc), created: true };
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
  }
  const existing = await collections.relays.findOne({ _id: doc._id });
  if (existing === null) throw new Error(`MongoDB store: relay request ${String(doc._id)} collided but cannot be read`);
  return { request: documents.relay.fromDocument(existing), created: false };
}

/** Compare-and-set on status: the filter carries the expected status, so two relayers cannot both move it. */
async function updateRelay(
  collections: MongoCollections,
  id: string,
  expected: RelayRequest["status"],
  patch: Partial<RelayRequest>,
): Promise<boolean> {
  if (typeof id !== "string" || typeof expected !== "string") throw new TypeError("MongoDB store: updateRelay takes an id and a status");
  const set = relayPatchToSet(patch ?? {});
  if (Object.keys(set).length === 0) {
    // Nothing to change (MongoDB refuses an empty $set): "applied" iff the status is as expected.
    return (await collections.relays.countDocuments({ _id: id, status: expected }, { limit: 1 })) === 1;
  }
  const result = await collections.relays.updateOne({ _id: id, status: expected }, { $set: set });
  // matched, not modified: a patch equal to the stored values is still applied.
  return result.matchedCount === 1;
}

export function createRelayQueue(collections: MongoCollections): RelayQueue {
  return {
    enqueueRelay: (request) => enqueueRelay(collections, request),
    updateRelay: (id, expected, patch) => updateRelay(collections, id, expected, patch),

    async getRelay(id) {
      if (typeof id !== "string") throw new TypeError("MongoDB store: a relay id is a string");
      const doc = await collections.relays.findOne({ _id: id });
      return doc === null ? null : documents.relay.fromDocument(doc);
    },

    async listRelays(statuses, limit) {
      // A programmer error (the relayer asks for its own batch size), as in the SQLite adapter.
      if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1) {
        throw new RangeError(`listRelays limit must be a positive integer, got ${limit}`);
      }
      if (!Array.isArray(statuses) || !statuses.every((status) => typeof status === "string")) {
        throw new TypeError("MongoDB store: listRelays takes an array of statuses");
      }
      if (statuses.length === 0) return [];
      const found = await collections.relays
        .find({ status: { $in: statuses } })
        .sort({ createdAt: 1, _id: 1 })
        .limit(limit)
        .toArray();
      return found.map((doc) => documents.relay.fromDocument(doc));
    },
  };
}
