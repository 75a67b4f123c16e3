/**
 * Track records on MongoDB (backend/reputation/track-record.ts). Without multi-document transactions a running
 * total could drift from the documents (a crash between a document's write and its total's), so each batch and
 * order carries its own contribution (collections.ts, `withTrackRecord`) and a participant's totals are summed at
 * read time over the documents that name it, found by the `trackRecord.participants` index. That costs a read of
 * the participant's documents' small `trackRecord` fields, not of the documents; recalls are resolved to their
 * split roots here, as they need other documents.
 */
import type { Hex } from "../../domain/model.ts";
import {
  addCounters,
  decodeContribution,
  MAX_SPLIT_DEPTH,
  splitRootOf,
  zeroCounters,
  type TrackRecordTotals,
} from "../../reputation/track-record.ts";
import { documents, type MongoCollection, type MongoCollections, type MongoDocument } from "./collections.ts";

const BACKFILL_CHUNK = 500;

function checkAddresses(addresses: unknown): Hex[] {
  if (!Array.isArray(addresses) || !addresses.every((address) => typeof address === "string")) {
    throw new TypeError("MongoDB store: getTrackRecordTotals takes an array of address strings");
  }
  return addresses as Hex[];
}

async function totalsOf(collections: MongoCollections, address: Hex, asOf: number): Promise<TrackRecordTotals> {
  const totals: TrackRecordTotals = { counters: zeroCounters(), lateOpenOrders: { seller: 0, carrier: 0 }, recalledLots: 0 };
  for (const collection of [collections.batches, collections.orders]) {
    const cursor = collection.find({ "trackRecord.participants": address }, { projection: { "trackRecord.contribution": 1 } });
    for await (const doc of cursor) {
      const contribution = decodeContribution((doc.trackRecord as { contribution?: string } | undefined)?.contribution);
      addCounters(totals.counters, contribution.counts[address] ?? {});
      for (const { participant, role, deadline } of contribution.openDeadlines) {
        if (participant === address && deadline < asOf) totals.lateOpenOrders[role]++;
      }
    }
  }
  totals.recalledLots = await recalledRoots(collections.batches, address);
  return totals;
}

/** The distinct registered lots of `manufacturer` that were recalled, themselves or through a lot split from them. */
async function recalledRoots(batches: MongoCollection, manufacturer: Hex): Promise<number> {
  type Lot = { _id: Hex; parentId?: Hex | null };
  const projection = { _id: 1, parentId: 1 };
  // Any string is > "": the index on (manufacturer, recall.by) bounds this to the recalled lots.
  const recalled = (await batches.find({ manufacturer, "recall.by": { $gt: "" } }, { projection }).toArray()) as unknown as Lot[];
  // Their ancestors, one query per generation; splitRootOf then applies the same rule as the SQLite store.
  const parents = new Map<Hex, Hex | null>();
  const unseen = (lots: Lot[]) =>
    [...new Set(lots.map((lot) => lot.parentId ?? null))].filter((id): id is Hex => id !== null && !parents.has(id));
  let generation = recalled;
  // Generations 0 (the recalled lots) to MAX_SPLIT_DEPTH, as far as splitRootOf walks.
  for (let depth = 0; depth <= MAX_SPLIT_DEPTH; depth++) {
    for (const lot of generation) parents.set(lot._id, lot.parentId ?? null);
    const next = unseen(generation);
    if (next.length === 0 || depth === MAX_SPLIT_DEPTH) break;
    generation = (await batches.find({ _id: { $in: next } }, { projection }).toArray()) as unknown as Lot[];
  }
  const roots = recalled.map((lot) => splitRootOf({ batchId: lot._id, parentId: lot.parentId ?? null }, (batchId) => parents.get(batchId)));
  return new Set(roots.filter((root) => root !== null)).size;
}

const BACKFILL_DONE = "trackRecords";

/**
 * Gives every batch and order stored before documents carried `trackRecord` their contribution, once per database
 * (a `storemigrations` marker, written when it finished, spares later starts the scan). Guarded by the document's
 * lastEvent, so a document a writer replaced meanwhile (which now carries one) is left alone; a run cut short is
 * simply run again.
 */
export async function backfillTrackRecords(collections: MongoCollections): Promise<void> {
  if ((await collections.storeMigrations.findOne({ _id: BACKFILL_DONE })) !== null) return;
  const kinds = [
    { collection: collections.batches, codec: documents.batch },
    { collection: collections.orders, codec: documents.order },
  ] as const;
  for (const { collection, codec } of kinds) {
    let chunk: MongoDocument[] = [];
    const flush = async () => {
      if (chunk.length === 0) return;
      await collection.bulkWrite(
        chunk.map((stored) => {
          const { trackRecord } = codec.toDocument(codec.fromDocument(stored) as never);
          const lastEventId = (stored.lastEvent as { eventId: string }).eventId;
          return { updateOne: { filter: { _id: stored._id, "lastEvent.eventId": lastEventId }, update: { $set: { trackRecord } } } };
        }),
        { ordered: false },
      );
      chunk = [];
    };
    for await (const stored of collection.find({ trackRecord: { $exists: false } })) {
      chunk.push(stored);
      if (chunk.length >= BACKFILL_CHUNK) await flush();
    }
    await flush();
  }
  await collections.storeMigrations.updateOne({ _id: BACKFILL_DONE }, { $set: { finishedAt: Date.now() } }, { upsert: true });
}

export function createTrackRecordReads(collections: MongoCollections) {
  return {
    async getTrackRecordTotals(addresses: Hex[], asOf: number): Promise<Map<Hex, TrackRecordTotals>> {
      if (typeof asOf !== "number" || !Number.isFinite(asOf))
        throw new TypeError("MongoDB store: getTrackRecordTotals takes a numeric asOf");
      const unique = [...new Set(checkAddresses(addresses))];
      const totals = await Promise.all(unique.map(async (address) => [address, await totalsOf(collections, address, asOf)] as const));
      return new Map(totals);
    },
  };
}
