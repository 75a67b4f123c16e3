/**
 * LogisticUnits containers on MongoDB (containers, _id the SSCC): written by the mirror log's commits
 * (projections.ts writeProjections), read here by SSCC and as keyset-paginated lists. The multikey index on
 * `batchIds` answers "which container holds this batch".
 */
import { checkPageLimit, pageCursor, toPage } from "../cursor.ts";
import type { ContainerReads } from "../port.ts";
import { documents, type MongoCollections, type MongoDocument } from "./collections.ts";
import { CONTAINER_SORT, containerFilter, distinctInOrder, inKeyOrder } from "./filters.ts";

export function createContainerReads(collections: MongoCollections): ContainerReads {
  const { containers } = collections;
  const containerOf = (doc: MongoDocument) => documents.container.fromDocument(doc);
  return {
    async getContainer(sscc) {
      if (typeof sscc !== "string") throw new TypeError("MongoDB store: getContainer takes a string key");
      const doc = await containers.findOne({ _id: sscc });
      return doc === null ? null : containerOf(doc);
    },

    async getContainers(ssccs) {
      if (!Array.isArray(ssccs) || !ssccs.every((sscc) => typeof sscc === "string")) {
        throw new TypeError("MongoDB store: getContainers takes an array of strings");
      }
      const distinct = distinctInOrder(ssccs);
      if (distinct.length === 0) return [];
      const found = await containers.find({ _id: { $in: distinct } }).toArray();
      return inKeyOrder(distinct, found, (doc) => doc._id as string).map(containerOf);
    },

    async listContainers(filter, page) {
      const limit = checkPageLimit(page);
      const found = await containers
        .find(containerFilter(filter, pageCursor("containers", page)))
        .sort(CONTAINER_SORT)
        .limit(limit + 1)
        .toArray();
      return toPage(found, limit, "containers", (doc) => [doc.created.eventId, doc._id as string], containerOf);
    },

    async findContainerHoldingBatch(batchId) {
      if (typeof batchId !== "string") throw new TypeError("MongoDB store: findContainerHoldingBatch takes a string key");
      const doc = await containers.findOne({ batchIds: batchId }, { sort: { "lastEvent.eventId": -1 } });
      return doc === null ? null : containerOf(doc);
    },
  };
}
