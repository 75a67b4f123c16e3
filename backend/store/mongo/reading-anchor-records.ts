/**
 * The anchorer's plans on MongoDB: one document per leg and root (`_id` "legId:root", so a second put of the same
 * root is a duplicate key and the first stays), and a leg's readings by sequence range.
 */
import type { ReadingsAnchorPlan, StoredReading } from "../../domain/cold-chain.ts";
import type { ReadingAnchorRecords } from "../port.ts";
import { checkReadingRange } from "../reading-range.ts";
import { withoutUndefined, type MongoCollections, type MongoDocument } from "./collections.ts";
import { isDuplicateKeyError } from "./errors.ts";

const planId = (plan: Pick<ReadingsAnchorPlan, "legId" | "root">) => `${plan.legId}:${plan.root}`;

function checkLegId(legId: unknown): string {
  if (typeof legId !== "string") throw new TypeError("MongoDB store: a leg id is a string");
  return legId;
}

export function createReadingAnchorRecords(collections: MongoCollections): ReadingAnchorRecords {
  return {
    async putReadingsAnchorPlan(plan) {
      try {
        await collections.readingAnchorPlans.insertOne({ _id: planId(plan), ...withoutUndefined(plan) } as MongoDocument);
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
      }
    },

    async listReadingsAnchorPlans(legId) {
      const stored = await collections.readingAnchorPlans
        .find({ legId: checkLegId(legId) }, { projection: { _id: 0 } })
        .sort({ legId: 1, firstSequence: 1, root: 1 })
        .toArray();
      return stored as unknown as ReadingsAnchorPlan[];
    },

    async listLegReadingRange(legId, fromSequence, toSequence, limit) {
      checkReadingRange(fromSequence, toSequence, limit);
      const stored = await collections.readings
        .find({ legId: checkLegId(legId), sequence: { $gte: fromSequence, $lte: toSequence } }, { projection: { _id: 0 } })
        .sort({ legId: 1, sequence: 1 })
        .limit(limit)
        .toArray();
      return stored as unknown as StoredReading[];
    },
  };
}
