/**
 * The cold chain on MongoDB. Versioned documents (devices, legs, conditions) are one MongoDB document per
 * version, `_id` "key:eventId", the domain document under `doc`; facts (anchors, breaches) have the event id as
 * `_id`. Both carry chainId and blockNumber so a rollback deletes what events above the fork made. Readings are
 * flat documents with `_id` "device:sequence", so the natural key is unique without a second unique index.
 */
import { randomUUID } from "node:crypto";

import type {
  BatchColdChainConditions,
  ColdChainBreach,
  ColdChainChanges,
  ColdChainDevice,
  ColdChainLeg,
  ProductColdChainConditions,
  ReadingsAnchor,
  RejectionReason,
  StoredReading,
} from "../../domain/cold-chain.ts";
import type { Hex } from "../../domain/model.ts";
import { checkReadingFilter, cursorNumber } from "../reading-keys.ts";
import { checkPageLimit, pageCursor, toPage } from "../cursor.ts";
import type { ColdChainReadings, ColdChainReads, StoredRejectedReading } from "../port.ts";
import { chunks, insertKeepingExisting } from "./bulk-writes.ts";
import { withoutUndefined, type MongoCollection, type MongoCollections, type MongoDocument } from "./collections.ts";
import { duplicateKeyFailures } from "./errors.ts";

const version = (key: string, chainId: number, ref: { eventId: string; blockNumber: number }, doc: object, extra: object = {}) =>
  ({
    _id: `${key}:${ref.eventId}`,
    key,
    eventId: ref.eventId,
    chainId,
    blockNumber: ref.blockNumber,
    ...extra,
    doc: withoutUndefined(doc),
  }) as MongoDocument;

const fact = (chainId: number, ref: { eventId: string; blockNumber: number }, doc: object, extra: object) =>
  ({ _id: ref.eventId, chainId, blockNumber: ref.blockNumber, ...extra, doc: withoutUndefined(doc) }) as MongoDocument;

/** Inserts the versions and facts of one range (before the checkpoint moves); existing ones stay. */
export async function writeColdChainChanges(collections: MongoCollections, chainId: number, changes: ColdChainChanges): Promise<void> {
  await insertKeepingExisting(
    collections.coldDevices,
    changes.devices.map((device) => version(device.address, chainId, device.lastEvent, device)),
  );
  await insertKeepingExisting(
    collections.coldLegs,
    changes.legs.map((leg) =>
      version(leg.legId, chainId, leg.lastEvent, leg, { batchId: leg.batchId, device: leg.device, attachedEventId: leg.attached.eventId }),
    ),
  );
  await insertKeepingExisting(collections.coldConditions, [
    ...changes.batchConditions.map((conditions) => version(`b:${conditions.batchId}`, chainId, conditions.lastEvent, conditions)),
    ...changes.productConditions.map((conditions) => version(`g:${conditions.gtin}`, chainId, conditions.lastEvent, conditions)),
  ]);
  await insertKeepingExisting(
    collections.coldAnchors,
    changes.anchors.map((anchor) => fact(chainId, anchor.at, anchor, { legId: anchor.legId })),
  );
  await insertKeepingExisting(
    collections.coldBreaches,
    changes.breaches.map((breach) => fact(chainId, breach.at, breach, { batchId: breach.batchId, legId: breach.legId })),
  );
}

/** Deletes what events above the fork made (part of applying a rollback; idempotent). */
export async function deleteColdChainAboveFork(collections: MongoCollections, chainId: number, forkBlock: number): Promise<void> {
  for (const collection of [
    collections.coldDevices,
    collections.coldLegs,
    collections.coldConditions,
    collections.coldAnchors,
    collections.coldBreaches,
  ]) {
    await collection.deleteMany({ chainId, blockNumber: { $gt: forkBlock } });
  }
}

function checkKeys(what: string, keys: unknown): string[] {
  if (!Array.isArray(keys) || !keys.every((key) => typeof key === "string")) throw new TypeError(`MongoDB store: ${what} takes strings`);
  return keys as string[];
}

async function latestVersions<T>(collection: MongoCollection, keys: string[]): Promise<T[]> {
  const unique = [...new Set(keys)];
  if (unique.length === 0) return [];
  const stored = await collection
    .aggregate<{ _id: string; doc: T }>([
      { $match: { key: { $in: unique } } },
      { $sort: { key: 1, eventId: -1 } },
      { $group: { _id: "$key", doc: { $first: "$doc" } } },
    ])
    .toArray();
  const byKey = new Map(stored.map((entry) => [entry._id, entry.doc]));
  return unique.flatMap((key) => (byKey.has(key) ? [byKey.get(key)!] : []));
}

export function createColdChainReads(collections: MongoCollections): ColdChainReads {
  return {
    getColdChainDevices: (addresses) =>
      latestVersions<ColdChainDevice>(collections.coldDevices, checkKeys("getColdChainDevices", addresses)),
    getColdChainLegs: (legIds) => latestVersions<ColdChainLeg>(collections.coldLegs, checkKeys("getColdChainLegs", legIds)),
    async listColdChainLegs(filter) {
      const match: Record<string, string> = {};
      if (filter.batchId !== undefined) match.batchId = checkKeys("listColdChainLegs", [filter.batchId])[0]!;
      if (filter.device !== undefined) match.device = checkKeys("listColdChainLegs", [filter.device])[0]!;
      const stored = await collections.coldLegs
        .aggregate<{ doc: ColdChainLeg }>([
          { $match: match },
          { $sort: { key: 1, eventId: -1 } },
          { $group: { _id: "$key", doc: { $first: "$doc" }, attachedEventId: { $first: "$attachedEventId" } } },
          { $sort: { attachedEventId: 1, _id: 1 } },
        ])
        .toArray();
      return stored.map((entry) => entry.doc);
    },
    getBatchConditions: (batchIds) =>
      latestVersions<BatchColdChainConditions>(
        collections.coldConditions,
        checkKeys("getBatchConditions", batchIds).map((id) => `b:${id}`),
      ),
    getProductConditions: (gtins) =>
      latestVersions<ProductColdChainConditions>(
        collections.coldConditions,
        checkKeys("getProductConditions", gtins).map((gtin) => `g:${gtin}`),
      ),
    async listReadingsAnchors(legId) {
      const stored = await collections.coldAnchors
        .find({ legId: checkKeys("listReadingsAnchors", [legId])[0] })
        .sort({ _id: 1 })
        .toArray();
      return stored.map((document) => document.doc as ReadingsAnchor);
    },
    async listColdChainBreaches(filter) {
      const query: Record<string, string> = {};
      if (filter.batchId !== undefined) query.batchId = checkKeys("listColdChainBreaches", [filter.batchId])[0]!;
      if (filter.legId !== undefined) query.legId = checkKeys("listColdChainBreaches", [filter.legId])[0]!;
      const stored = await collections.coldBreaches.find(query).sort({ _id: 1 }).toArray();
      return stored.map((document) => document.doc as ColdChainBreach);
    },
  };
}

const readingId = (device: Hex, sequence: number) => `${device}:${sequence}`;

function readingOf({ _id, ...fields }: MongoDocument): StoredReading {
  return fields as unknown as StoredReading;
}

/** Rejected readings get a sortable id: the receipt time, then a random tail. */
const rejectedId = (receivedAt: number) => `${String(receivedAt).padStart(15, "0")}-${randomUUID()}`;

export function createColdChainReadings(collections: MongoCollections): ColdChainReadings {
  return {
    async storeReadings(accepted, rejected) {
      const duplicates: StoredReading[] = [];
      for (const chunk of chunks(accepted, 1000)) {
        try {
          await collections.readings.bulkWrite(
            chunk.map((reading) => ({ insertOne: { document: { _id: readingId(reading.device, reading.sequence), ...reading } } })),
            { ordered: false },
          );
        } catch (error) {
          const failures = duplicateKeyFailures(error);
          if (failures === null) throw error;
          for (const failure of failures) duplicates.push(chunk[failure.index]!);
        }
      }
      if (rejected.length > 0) {
        await collections.rejectedReadings.insertMany(
          rejected.map((reading) => ({ _id: rejectedId(reading.receivedAt), ...withoutUndefined(reading) })),
          { ordered: false },
        );
        const counts = new Map<RejectionReason, number>();
        for (const reading of rejected) counts.set(reading.reason, (counts.get(reading.reason) ?? 0) + 1);
        await collections.rejectionCounts.bulkWrite(
          [...counts].map(([reason, n]) => ({ updateOne: { filter: { _id: reason }, update: { $inc: { count: n } }, upsert: true } })),
        );
      }
      return { duplicates };
    },

    async hasReading(device, sequence) {
      if (typeof device !== "string" || typeof sequence !== "number")
        throw new TypeError("MongoDB store: hasReading takes an address and a number");
      return (await collections.readings.countDocuments({ _id: readingId(device, sequence) }, { limit: 1 })) > 0;
    },

    async lastReadingSequences(devices) {
      const unique = [...new Set(checkKeys("lastReadingSequences", devices))];
      const result = new Map<Hex, number>();
      if (unique.length === 0) return result;
      const stored = await collections.readings
        .aggregate<{ _id: Hex; sequence: number }>([
          { $match: { device: { $in: unique } } },
          { $group: { _id: "$device", sequence: { $max: "$sequence" } } },
        ])
        .toArray();
      for (const entry of stored) result.set(entry._id, entry.sequence);
      return result;
    },

    async listReadings(filter, page) {
      checkReadingFilter(filter);
      const limit = checkPageLimit(page);
      if (filter.batchId !== undefined) {
        const after = pageCursor("batchReadings", page);
        const query: Record<string, unknown> = { batchId: filter.batchId };
        if (after !== null) {
          const [timestamp, device, sequence] = [cursorNumber(after[0]!), after[1]!, cursorNumber(after[2]!)];
          query.$or = [
            { timestamp: { $gt: timestamp } },
            { timestamp, device: { $gt: device } },
            { timestamp, device, sequence: { $gt: sequence } },
          ];
        }
        const stored = await collections.readings
          .find(query)
          .sort({ batchId: 1, timestamp: 1, device: 1, sequence: 1 })
          .limit(limit + 1)
          .toArray();
        return toPage(
          stored,
          limit,
          "batchReadings",
          (doc) => [String(doc.timestamp), String(doc.device), String(doc.sequence)],
          readingOf,
        );
      }
      const after = pageCursor("legReadings", page);
      const stored = await collections.readings
        .find({ legId: filter.legId, ...(after === null ? {} : { sequence: { $gt: cursorNumber(after[0]!) } }) })
        .sort({ legId: 1, sequence: 1 })
        .limit(limit + 1)
        .toArray();
      return toPage(stored, limit, "legReadings", (doc) => [String(doc.sequence)], readingOf);
    },

    async countReadings(filter) {
      checkReadingFilter(filter);
      return collections.readings.countDocuments(filter.batchId !== undefined ? { batchId: filter.batchId } : { legId: filter.legId });
    },

    async rejectionCounts() {
      const stored = await collections.rejectionCounts.find({}).sort({ _id: 1 }).toArray();
      return Object.fromEntries(stored.map((entry) => [entry._id, entry.count as number]));
    },

    async listRejectedReadings(filter, page) {
      const limit = checkPageLimit(page);
      const after = pageCursor("rejectedReadings", page);
      const query: Record<string, unknown> = {};
      if (filter.reason !== undefined) query.reason = String(filter.reason);
      if (after !== null) query._id = { $gt: after[0] };
      const stored = await collections.rejectedReadings
        .find(query)
        .sort({ _id: 1 })
        .limit(limit + 1)
        .toArray();
      return toPage(
        stored,
        limit,
        "rejectedReadings",
        (doc) => [String(doc._id)],
        ({ _id, ...fields }) => ({ ...(fields as object), id: String(_id) }) as StoredRejectedReading,
      );
    },
  };
}
