/** Product data versions on MongoDB: one document per (subject, contentHash), the first upload kept (unique index). */
import { MAX_PRODUCT_DATA_LISTED, type ProductDataDocuments } from "../port.ts";
import { isDuplicateKeyError } from "./errors.ts";
import { documents, type MongoCollections } from "./collections.ts";

export function createProductDataDocuments(collections: MongoCollections): ProductDataDocuments {
  const codec = documents.productDataDocument;
  return {
    async putProductDataDocument(document) {
      const doc = codec.toDocument(document);
      try {
        await collections.productDataDocuments.insertOne(doc);
        return codec.fromDocument(doc);
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
      }
      const existing = await collections.productDataDocuments.findOne({ subject: document.subject, contentHash: document.contentHash });
      if (existing === null) throw new Error("MongoDB store: a product data version refused as a duplicate is not there");
      return codec.fromDocument(existing);
    },

    async getProductDataDocument(subject, contentHash) {
      const found = await collections.productDataDocuments.findOne({ subject, contentHash }, { projection: { _id: 0 } });
      return found === null ? null : codec.fromDocument(found);
    },

    async listProductDataDocuments(subject) {
      const found = await collections.productDataDocuments
        .find({ subject }, { projection: { _id: 0 } })
        .sort({ subject: 1, uploadedAt: 1, contentHash: 1 })
        .limit(MAX_PRODUCT_DATA_LISTED)
        .toArray();
      return found.map((doc) => codec.fromDocument(doc));
    },
  };
}
