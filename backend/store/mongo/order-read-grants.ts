/**
 * Order read grants on MongoDB: one document per (seller, financier), replaced whole (upsert on the unique pair).
 */
import type { OrderReadGrants } from "../port.ts";
import { assertGrantFilter, assertOrderReadGrant, MAX_GRANTS_LISTED } from "../order-read-grant-rules.ts";
import { documents, type MongoCollections } from "./collections.ts";

export function createOrderReadGrants(collections: MongoCollections): OrderReadGrants {
  return {
    async putOrderReadGrant(grant) {
      assertOrderReadGrant(grant, "MongoDB");
      const doc = documents.orderReadGrant.toDocument(grant);
      await collections.orderReadGrants.replaceOne({ seller: grant.seller, financier: grant.financier }, doc, { upsert: true });
    },

    async listOrderReadGrants(filter) {
      assertGrantFilter(filter, "MongoDB");
      const query: Record<string, unknown> = {
        ...(filter.seller === undefined ? {} : { seller: filter.seller }),
        ...(filter.financier === undefined ? {} : { financier: filter.financier }),
        ...(filter.activeAt === undefined ? {} : { revokedAt: null, expiresAt: { $gt: filter.activeAt } }),
      };
      const sort: Record<string, 1> = filter.seller !== undefined ? { grantedAt: 1, financier: 1 } : { grantedAt: 1, seller: 1 };
      const docs = await collections.orderReadGrants.find(query).sort(sort).limit(MAX_GRANTS_LISTED).toArray();
      return docs.map((doc) => documents.orderReadGrant.fromDocument(doc));
    },
  };
}
