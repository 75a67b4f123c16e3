/**
 * Recall acknowledgements on MongoDB: stored whole; the unique (batchId, holder) index makes the first one win
 * however many instances race, and the loser reads the winner.
 */
import type { RecallAcknowledgements } from "../port.ts";
import { documents, type MongoCollections } from "./collections.ts";
import { isDuplicateKeyError } from "./errors.ts";

export function createRecallAcknowledgements(collections: MongoCollections): RecallAcknowledgements {
  return {
    async putRecallAcknowledgement(acknowledgement) {
      if (
        typeof acknowledgement?.batchId !== "string" ||
        typeof acknowledgement.holder !== "string" ||
        !Number.isFinite(acknowledgement.acknowledgedAt)
      ) {
        throw new TypeError("MongoDB store: a recall acknowledgement needs batchId, holder and a finite acknowledgedAt");
      }
      const doc = documents.recallAcknowledgement.toDocument(acknowledgement);
      try {
        await collections.recallAcknowledgements.insertOne(doc);
        return documents.recallAcknowledgement.fromDocument(doc);
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
      }
      const existing = await collections.recallAcknowledgements.findOne({
        batchId: acknowledgement.batchId,
        holder: acknowledgement.holder,
      });
      if (existing === null)
        throw new Error(
          `MongoDB store: the acknowledgement of ${acknowledgement.batchId} by ${acknowledgement.holder} collided but cannot be read`,
        );
      return documents.recallAcknowledgement.fromDocument(existing);
    },

    async listRecallAcknowledgements(batchId) {
      const docs = await collections.recallAcknowledgements.find({ batchId }).sort({ acknowledgedAt: 1, holder: 1 }).toArray();
      return docs.map((doc) => documents.recallAcknowledgement.fromDocument(doc));
    },
  };
}
