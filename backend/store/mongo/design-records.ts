/**
 * DesignRegistry records on MongoDB: one document per event with its eventId as `_id`, so inserting a replayed
 * range keeps what is stored (commitRange writes them before the checkpoint), and sorting by `_id` is chain order.
 * A rollback deletes them above the fork with their events (mirror-log.ts).
 */
import type { DesignLinkChange, DesignRegistration } from "../../domain/model.ts";
import type { DesignProofRecords } from "../port.ts";
import { insertKeepingExisting } from "./bulk-writes.ts";
import { documents, type MongoCollections } from "./collections.ts";

export async function writeDesignRecords(
  collections: MongoCollections,
  registrations: readonly DesignRegistration[],
  linkChanges: readonly DesignLinkChange[],
): Promise<void> {
  if (registrations.length > 0) {
    await insertKeepingExisting(
      collections.designRegistrations,
      registrations.map((record) => documents.designRegistration.toDocument(record)),
    );
  }
  if (linkChanges.length > 0) {
    await insertKeepingExisting(
      collections.designLinkChanges,
      linkChanges.map((record) => documents.designLinkChange.toDocument(record)),
    );
  }
}

export async function deleteDesignRecordsAboveFork(collections: MongoCollections, chainId: number, forkBlock: number): Promise<void> {
  await collections.designRegistrations.deleteMany({ chainId, blockNumber: { $gt: forkBlock } });
  await collections.designLinkChanges.deleteMany({ chainId, blockNumber: { $gt: forkBlock } });
}

/** A plain string where a query takes one: anything else could be an operator ({ $ne: null }). */
function checkString(what: string, value: unknown): string {
  if (typeof value !== "string") throw new TypeError(`MongoDB store: ${what} takes a string`);
  return value;
}

export function createDesignProofRecords(collections: MongoCollections): DesignProofRecords {
  return {
    async listDesignRegistrations(root) {
      const stored = await collections.designRegistrations
        .find({ root: checkString("listDesignRegistrations", root) })
        .sort({ _id: 1 })
        .toArray();
      return stored.map((doc) => documents.designRegistration.fromDocument(doc));
    },

    async listDesignLinkChanges(gtin) {
      const stored = await collections.designLinkChanges
        .find({ gtin: checkString("listDesignLinkChanges", gtin) })
        .sort({ _id: 1 })
        .toArray();
      return stored.map((doc) => documents.designLinkChange.fromDocument(doc));
    },
  };
}
