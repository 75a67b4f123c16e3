/**
 * Read grants: a seller lets a financier (a bank, a factoring company) read its orders as seller in the mirror's API,
 * with their terms and escrow events, until the grant expires or the seller revokes it. The financier signs in with
 * its own key; its roles and grants are read from the store on every request, so a revocation holds at once.
 *
 * Who could abuse it, and why they can't (each has a test):
 * - a third party granting access to someone else's orders: the seller is always the signed-in caller;
 * - a financier widening its access: a grant covers the granting seller's orders as seller, nothing else (not its
 *   purchases, not other sellers'); it cannot be granted to oneself;
 * - a seller flooding the store: at most MAX_ACTIVE_GRANTS active grants per seller, each at most MAX_GRANT_DAYS long;
 * - a stale grant: expiry and revocation are checked at every request, never cached in the session.
 */
import type { Viewer } from "../auth/auth-service.ts";
import { invalidInput, notFound, rejected, unauthenticated } from "../domain/errors.ts";
import type { Hex, OrderReadGrant } from "../domain/model.ts";
import type { OrderReadGrants } from "../store/port.ts";

export const MAX_ACTIVE_GRANTS = 50;
export const MAX_GRANT_DAYS = 366;
const DAY_MS = 86_400_000;

export interface OrderReadGrantService {
  grant(viewer: Viewer, request: { financier: Hex; expiresAt: number }): Promise<OrderReadGrant>;
  revoke(viewer: Viewer, financier: Hex): Promise<OrderReadGrant>;
  list(viewer: Viewer): Promise<{ given: OrderReadGrant[]; received: OrderReadGrant[] }>;
}

export function createOrderReadGrantService({
  store,
  now = Date.now,
}: {
  store: OrderReadGrants;
  now?: () => number;
}): OrderReadGrantService {
  const signedIn = (viewer: Viewer) => {
    if (!viewer.signedIn) throw unauthenticated("Sign in with the seller's key to manage who may read its orders");
    return viewer;
  };
  return {
    async grant(viewer, { financier, expiresAt }) {
      const seller = signedIn(viewer).address;
      const at = now();
      if (financier === seller) throw invalidInput("A seller cannot grant itself access to its own orders", { reason: "self-grant" });
      if (!(expiresAt > at)) throw invalidInput("expiresAt must be in the future", { reason: "expired" });
      if (expiresAt > at + MAX_GRANT_DAYS * DAY_MS) {
        throw invalidInput(`A grant lasts at most ${MAX_GRANT_DAYS} days; grant again when it ends`, { reason: "too-long" });
      }
      const active = await store.listOrderReadGrants({ seller, activeAt: at });
      if (active.length >= MAX_ACTIVE_GRANTS && !active.some((grant) => grant.financier === financier)) {
        throw rejected(`A seller has at most ${MAX_ACTIVE_GRANTS} active grants; revoke one first`, {
          reason: "too-many-grants",
          limit: MAX_ACTIVE_GRANTS,
        });
      }
      const grant: OrderReadGrant = { seller, financier, grantedAt: at, expiresAt, revokedAt: null };
      await store.putOrderReadGrant(grant);
      return grant;
    },
    async revoke(viewer, financier) {
      const seller = signedIn(viewer).address;
      const [grant] = await store.listOrderReadGrants({ seller, financier, activeAt: now() });
      if (grant === undefined) throw notFound(`No active grant from ${seller} to ${financier}`);
      const revoked = { ...grant, revokedAt: now() };
      await store.putOrderReadGrant(revoked);
      return revoked;
    },
    async list(viewer) {
      const me = signedIn(viewer).address;
      const [given, received] = await Promise.all([
        store.listOrderReadGrants({ seller: me }),
        store.listOrderReadGrants({ financier: me }),
      ]);
      return { given, received };
    },
  };
}
