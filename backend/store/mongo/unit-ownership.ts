/**
 * Unit ownership on MongoDB: tokens (unittokens) and claim roots (claimroots), written by the mirror log's commits
 * and read here by key, and the manufacturers' claim trees (claimtrees), first upload of a root kept.
 */
import type { Hex } from "../../domain/model.ts";
import type { UnitOwnershipRecords } from "../port.ts";
import { insertKeepingExisting } from "./bulk-writes.ts";
import { documents, type MongoCollection, type MongoCollections, type MongoDocument } from "./collections.ts";
import { distinctInOrder, inKeyOrder } from "./filters.ts";

function checkKey(what: string, key: unknown): void {
  if (typeof key !== "string") throw new TypeError(`MongoDB store: ${what} takes a string key`);
}

async function getMany(collection: MongoCollection, what: string, keys: unknown): Promise<MongoDocument[]> {
  if (!Array.isArray(keys) || !keys.every((key) => typeof key === "string")) {
    throw new TypeError(`MongoDB store: ${what} takes an array of strings`);
  }
  const distinct = distinctInOrder(keys as Hex[]);
  if (distinct.length === 0) return [];
  const found = await collection.find({ _id: { $in: distinct } }).toArray();
  return inKeyOrder(distinct, found, (doc) => doc._id as Hex);
}

export function createUnitOwnershipRecords(collections: MongoCollections): UnitOwnershipRecords {
  const { unitTokens, claimRoots, claimTrees, claimRegions } = collections;
  return {
    async getUnitToken(tokenId) {
      checkKey("getUnitToken", tokenId);
      const doc = await unitTokens.findOne({ _id: tokenId });
      return doc === null ? null : documents.unitToken.fromDocument(doc);
    },

    async getUnitTokens(tokenIds) {
      return (await getMany(unitTokens, "getUnitTokens", tokenIds)).map((doc) => documents.unitToken.fromDocument(doc));
    },

    async getClaimRoot(batchId) {
      checkKey("getClaimRoot", batchId);
      const doc = await claimRoots.findOne({ _id: batchId });
      return doc === null ? null : documents.claimRoot.fromDocument(doc);
    },

    async getClaimRoots(batchIds) {
      return (await getMany(claimRoots, "getClaimRoots", batchIds)).map((doc) => documents.claimRoot.fromDocument(doc));
    },

    async putClaimTree(tree) {
      checkKey("putClaimTree", tree.claimRoot);
      await insertKeepingExisting(claimTrees, [documents.claimTree.toDocument(tree)]);
      const doc = await claimTrees.findOne({ _id: tree.claimRoot });
      return documents.claimTree.fromDocument(doc!);
    },

    async getClaimTree(claimRoot) {
      checkKey("getClaimTree", claimRoot);
      const doc = await claimTrees.findOne({ _id: claimRoot });
      return doc === null ? null : documents.claimTree.fromDocument(doc);
    },

    async putClaimRegion(record) {
      checkKey("putClaimRegion", record.tokenId);
      const doc = documents.claimRegion.toDocument(record);
      await claimRegions.replaceOne({ _id: doc._id }, doc, { upsert: true });
    },

    async getClaimRegion(tokenId) {
      checkKey("getClaimRegion", tokenId);
      const doc = await claimRegions.findOne({ _id: tokenId });
      return doc === null ? null : documents.claimRegion.fromDocument(doc);
    },
  };
}
