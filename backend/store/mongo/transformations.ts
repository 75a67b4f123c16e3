/**
 * Transformations (merges) on MongoDB (collection transformations, _id the transformation id): written by the mirror
 * log's commits, read here by id and by lot through the multikey indexes on `inputs.batchId` and `outputIds`.
 */
import { invalidInput } from "../../domain/errors.ts";
import type { Hex, Transformation } from "../../domain/model.ts";
import { MAX_TRANSFORMATION_LOTS, type TransformationRecords } from "../port.ts";
import { documents, type MongoCollections } from "./collections.ts";
import { distinctInOrder, inKeyOrder } from "./filters.ts";

/** Lookup keys as plain strings, never objects MongoDB would read as operators. */
function checkKeys(what: string, keys: unknown): string[] {
  if (!Array.isArray(keys) || !keys.every((key) => typeof key === "string")) {
    throw new TypeError(`MongoDB store: ${what} takes an array of strings`);
  }
  return distinctInOrder(keys as string[]);
}

export function createTransformationRecords(collections: MongoCollections): TransformationRecords {
  const { transformations } = collections;

  async function byLots(what: string, field: "inputs.batchId" | "outputIds", batchIds: Hex[]): Promise<Transformation[]> {
    const keys = checkKeys(what, batchIds);
    if (keys.length > MAX_TRANSFORMATION_LOTS)
      throw invalidInput(`${what} takes at most ${MAX_TRANSFORMATION_LOTS} lots, got ${keys.length}`);
    if (keys.length === 0) return [];
    // At most one transformation consumes (or produces) a lot, so the answer has at most keys.length documents.
    const found = await transformations
      .find({ [field]: { $in: keys } })
      .sort({ "recorded.eventId": 1, _id: 1 })
      .toArray();
    return found.map((doc) => documents.transformation.fromDocument(doc));
  }

  return {
    async getTransformation(transformationId) {
      if (typeof transformationId !== "string") throw new TypeError("MongoDB store: getTransformation takes a string key");
      const doc = await transformations.findOne({ _id: transformationId });
      return doc === null ? null : documents.transformation.fromDocument(doc);
    },

    async getTransformations(transformationIds) {
      const keys = checkKeys("getTransformations", transformationIds);
      if (keys.length === 0) return [];
      const found = await transformations.find({ _id: { $in: keys } }).toArray();
      return inKeyOrder(keys, found, (doc) => doc._id as string).map((doc) => documents.transformation.fromDocument(doc));
    },

    findTransformationsConsuming: (batchIds) => byLots("findTransformationsConsuming", "inputs.batchId", batchIds),
    findTransformationsProducing: (batchIds) => byLots("findTransformationsProducing", "outputIds", batchIds),
  };
}
