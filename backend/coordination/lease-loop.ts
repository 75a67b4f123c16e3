/**
 * The single-writer lease that the indexer and the relayer each hold while they write: taken through the store's
 * compare-and-set (`acquireLease`), renewed on a schedule while the holder runs, given up when the holder stops.
 * A renewal that finds another holder reports the loss at once (`onLost`), so the work stops before its next write.
 *
 * An instance that is refused reads who holds the lease, logs it once per holder, and tells from the expiry whether
 * that holder still renews it: every instance renews at a third of the TTL, so a lease with less than a third of
 * its TTL left has missed a renewal (its holder stalled or died, e.g. kill -9) and nobody is writing until it
 * expires. This assumes every instance runs with the same LEASE_TTL_MS.
 */
import type { Logger } from "pino";
import type { LeaseHolding, Leases } from "../store/port.ts";

/** What one attempt to take or renew the lease found. */
export type LeaseAcquisition = "taken" | "renewed" | "refused";

/** Who holds the lease, as this instance last saw it, judged at the time of asking. */
export type LeaseView =
  /** Not asked the store yet. */
  | { kind: "unknown" }
  /** Nobody held it at the last look (released, or never taken): the next attempt takes it. */
  | { kind: "free" }
  | { kind: "held-here"; expiresAt: number }
  /** Another instance holds it and renews it on time. */
  | { kind: "held-elsewhere"; holder: string; expiresAt: number }
  /**
   * Nobody is writing: the holder (possibly this instance, whose renewal did not come back) let it expire, or
   * has missed a renewal and is expected to let it expire at `expiresAt`.
   */
  | { kind: "lapsed"; holder: string; expiresAt: number; reason: "expired" | "not-renewed" };

export interface CreateLeaseLoopParameters {
  store: Leases;
  /** Lease name, one per kind of writer (e.g. `indexer:<chainId>`, `relayer`). */
  name: string;
  /** This instance's id. */
  holder: string;
  ttlMs: number;
  logger: Logger;
  /** Called once each time a held lease turns out to be held by another instance. */
  onLost?: (reason: string) => void;
  now?: () => number;
}

export interface LeaseLoop {
  readonly name: string;
  /** Takes the lease, or renews it when this instance holds it already. */
  acquire(): Promise<LeaseAcquisition>;
  /** True while this instance holds the lease by its own clock (a renewal that did not come back in time counts as lost). */
  isHeld(): boolean;
  /** Who holds the lease now, as far as this instance knows; cheap, never asks the store. */
  view(): LeaseView;
  /** Before a write: true when the lease is still held, renewing it first unless it was renewed in the last third of its TTL. */
  confirm(): Promise<boolean>;
  /** Renews the lease every third of its TTL while it is held, until stop(); idempotent. */
  start(): void;
  /** Stops renewing and gives the lease up, so another instance takes over without waiting for it to expire. */
  stop(): Promise<void>;
}

/** Renewals happen at most this often, however short the TTL. */
const MIN_RENEW_INTERVAL_MS = 100;

/** Another instance's lease as last read from the store. */
interface ObservedLease extends LeaseHolding {
  /** It had less time left when read than a holder renewing on schedule ever leaves. */
  renewalOverdue: boolean;
}

export function createLeaseLoop({ store, name, holder, ttlMs, logger, onLost, now = Date.now }: CreateLeaseLoopParameters): LeaseLoop {
  const renewIntervalMs = Math.max(MIN_RENEW_INTERVAL_MS, Math.floor(ttlMs / 3));
  let held = false;
  let expiresAt = 0;
  let renewTimer: ReturnType<typeof setInterval> | undefined;
  let renewal: Promise<unknown> | null = null;
  let running = false;
  /** undefined: never looked; null: nobody else held it at the last look. */
  let elsewhere: ObservedLease | null | undefined;
  /** What was last logged about another holder, so each thing is said once. */
  let announced: { holder: string; renewalOverdue: boolean } | null = null;

  async function acquire(): Promise<LeaseAcquisition> {
    const startedAt = now();
    const taken = await store.acquireLease(name, holder, ttlMs);
    if (taken) {
      const wasHeld = held;
      held = true;
      expiresAt = startedAt + ttlMs;
      if (!wasHeld) announceTakeover(startedAt);
      elsewhere = null;
      return wasHeld ? "renewed" : "taken";
    }
    if (held) {
      held = false;
      onLost?.("another instance holds the lease");
    }
    await observeHolder();
    return "refused";
  }

  /** After a refusal: who holds it, and whether they still renew it. A failed read keeps the last observation. */
  async function observeHolder() {
    const readAt = now();
    let lease: LeaseHolding | null;
    try {
      lease = await store.readLease(name);
    } catch (error) {
      logger.debug({ err: error, lease: name }, "could not read who holds the lease");
      return;
    }
    if (lease === null || lease.holder === holder) {
      elsewhere = null;
      return;
    }
    const renewalOverdue = lease.expiresAt - readAt < ttlMs - 2 * renewIntervalMs;
    elsewhere = { ...lease, renewalOverdue };
    const until = new Date(lease.expiresAt).toISOString();
    const fields = { lease: name, holder: lease.holder, expiresAt: until };
    const before = announced?.holder === lease.holder ? announced : null;
    announced = { holder: lease.holder, renewalOverdue };
    if (before === null && !renewalOverdue) {
      logger.info(fields, `lease ${name} is held by ${lease.holder} until ${until}; standing by to take it over if it is not renewed`);
    } else if (renewalOverdue && !before?.renewalOverdue) {
      logger.info(
        fields,
        `lease ${name} is held by ${lease.holder} but was not renewed on time (its holder may have died); nobody is writing until it expires at ${until}, then this instance takes it over`,
      );
    } else if (before?.renewalOverdue && !renewalOverdue) {
      // Only slow (a long pause), not dead: say so, so that a second lapse is said again.
      logger.info(fields, `lease ${name} was renewed again by ${lease.holder}, until ${until}; standing by`);
    }
  }

  function announceTakeover(takenAt: number) {
    const previous = elsewhere;
    announced = null;
    if (!previous) return;
    const fields = { lease: name, previousHolder: previous.holder, previousExpiresAt: new Date(previous.expiresAt).toISOString() };
    if (takenAt >= previous.expiresAt) {
      logger.info(fields, `took over lease ${name}: the previous holder ${previous.holder}'s lease expired at ${fields.previousExpiresAt}`);
    } else {
      logger.info(fields, `took over lease ${name}: the previous holder ${previous.holder} released it`);
    }
  }

  function view(): LeaseView {
    const at = now();
    if (held) {
      return at < expiresAt ? { kind: "held-here", expiresAt } : { kind: "lapsed", holder, expiresAt, reason: "expired" };
    }
    if (elsewhere === undefined) return { kind: "unknown" };
    if (elsewhere === null) return { kind: "free" };
    const { holder: other, expiresAt: otherExpiresAt } = elsewhere;
    if (at >= otherExpiresAt) return { kind: "lapsed", holder: other, expiresAt: otherExpiresAt, reason: "expired" };
    if (elsewhere.renewalOverdue) return { kind: "lapsed", holder: other, expiresAt: otherExpiresAt, reason: "not-renewed" };
    return { kind: "held-elsewhere", holder: other, expiresAt: otherExpiresAt };
  }

  function renewOnSchedule() {
    if (!running || !held || renewal !== null) return;
    renewal = acquire()
      .catch((error: unknown) => logger.warn({ err: error, lease: name }, "could not renew the lease; will retry"))
      .finally(() => {
        renewal = null;
      });
  }

  return {
    name,
    acquire,

    isHeld() {
      return held && now() < expiresAt;
    },

    view,

    async confirm() {
      if (!held) return false;
      if (expiresAt - now() > (ttlMs * 2) / 3) return true;
      return (await acquire()) !== "refused";
    },

    start() {
      if (running) return;
      running = true;
      renewTimer = setInterval(renewOnSchedule, renewIntervalMs);
      renewTimer.unref?.();
    },

    async stop() {
      running = false;
      clearInterval(renewTimer);
      renewTimer = undefined;
      // A renewal still in flight would take the lease back after the release.
      await renewal;
      if (!held) return;
      held = false;
      await store
        .releaseLease(name, holder)
        .catch((error: unknown) => logger.warn({ err: error, lease: name }, "could not release the lease"));
    },
  };
}
