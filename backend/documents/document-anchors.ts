/**
 * The mirror's index of document anchors: each BatchDocumentAnchored and ProductDocumentAnchored event becomes one
 * record keyed by the event's id and looked up by the anchored hash, so a holder of any document can ask where it
 * is anchored without naming its batch, and without the backend holding the bytes. A pure function, so a replay or
 * a rollback (which deletes the records above the fork with their events) converges on the same records.
 */
import type { ChainEvent, DocumentAnchorRecord, Hex } from "../domain/model.ts";

const lower = (value: unknown): Hex => (typeof value === "string" ? value.toLowerCase() : "") as Hex;

/** The document anchors of `events`, in chain order (other events are skipped). */
export function documentAnchorsOf(events: readonly ChainEvent[]): DocumentAnchorRecord[] {
  const records: DocumentAnchorRecord[] = [];
  for (const event of events) {
    if (event.contract !== "ProductDataRegistry") continue;
    const subject =
      event.name === "BatchDocumentAnchored"
        ? { kind: "batch" as const, batchId: lower(event.args.batchId) }
        : event.name === "ProductDocumentAnchored"
          ? { kind: "product" as const, gtin: typeof event.args.gtin === "string" ? event.args.gtin : "" }
          : null;
    if (subject === null) continue;
    records.push({
      eventId: event.id,
      chainId: event.chainId,
      blockNumber: event.blockNumber,
      transactionHash: event.transactionHash,
      contentHash: lower(event.args.contentHash),
      subject,
      anchoredBy: lower(event.args.anchoredBy),
      anchoredAt: event.blockTimestamp,
    });
  }
  return records.sort((a, b) => (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0));
}
