/**
 * The mirror's view of the DesignRegistry: each of its events becomes one record (a registration or a link
 * change) keyed by the event's id, and a GTIN's current links are a fold of its link changes. Pure functions, so
 * a replay or a rollback (which deletes the records above the fork with their events) converges on the same data.
 */
import type { ChainEvent, DesignLinkChange, DesignRegistration, Hex } from "../domain/model.ts";

/** The records a range of events adds, in chain order. */
export interface DesignRecordSet {
  registrations: DesignRegistration[];
  linkChanges: DesignLinkChange[];
}

/** The DesignRegistry records of `events` (events of other contracts are skipped). */
export function designRecordsOf(events: readonly ChainEvent[]): DesignRecordSet {
  const registrations: DesignRegistration[] = [];
  const linkChanges: DesignLinkChange[] = [];
  for (const event of events) {
    if (event.contract !== "DesignRegistry") continue;
    const common = {
      eventId: event.id,
      chainId: event.chainId,
      blockNumber: event.blockNumber,
      transactionHash: event.transactionHash,
      registrant: event.args.registrant as Hex,
      root: event.args.root as Hex,
    };
    if (event.name === "DesignRegistered") {
      registrations.push({
        ...common,
        registeredAt: event.blockTimestamp,
        title: event.args.title as string,
        licence: event.args.licence as string,
        licenceHash: event.args.licenceHash as Hex,
      });
    } else if (event.name === "DesignLinked" || event.name === "DesignUnlinked") {
      const linked = event.name === "DesignLinked";
      linkChanges.push({
        ...common,
        gtin: event.args.gtin as string,
        linked,
        by: (linked ? event.args.linkedBy : event.args.unlinkedBy) as Hex,
        at: event.blockTimestamp,
      });
    }
  }
  const byEventId = (a: { eventId: string }, b: { eventId: string }) => (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0);
  return { registrations: registrations.sort(byEventId), linkChanges: linkChanges.sort(byEventId) };
}

/** A design linked to a GTIN now: the link change that made it so. */
export type DesignLink = Omit<DesignLinkChange, "linked">;

/** The links in force after `changes` (one GTIN's, any order), oldest link first. */
export function currentDesignLinks(changes: readonly DesignLinkChange[]): DesignLink[] {
  const links = new Map<string, DesignLink>();
  for (const change of [...changes].sort((a, b) => (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0))) {
    const key = `${change.gtin}|${change.registrant}|${change.root}`;
    if (change.linked) {
      const { linked: _linked, ...link } = change;
      links.set(key, link);
    } else {
      links.delete(key);
    }
  }
  return [...links.values()].sort((a, b) => (a.eventId < b.eventId ? -1 : 1));
}
