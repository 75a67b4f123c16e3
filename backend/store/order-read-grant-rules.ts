/** What both adapters check of order read grants, so they refuse and filter alike. */
import type { OrderReadGrant } from "../domain/model.ts";

export const MAX_GRANTS_LISTED = 500;

export function assertOrderReadGrant(grant: OrderReadGrant, adapter: string): void {
  if (
    typeof grant?.seller !== "string" ||
    typeof grant.financier !== "string" ||
    !Number.isFinite(grant.grantedAt) ||
    !Number.isFinite(grant.expiresAt) ||
    !(grant.revokedAt === null || Number.isFinite(grant.revokedAt))
  ) {
    throw new TypeError(
      `${adapter} store: an order read grant needs seller, financier, finite grantedAt and expiresAt, revokedAt null or finite`,
    );
  }
}

export function assertGrantFilter(filter: { seller?: string; financier?: string }, adapter: string): void {
  if (filter.seller === undefined && filter.financier === undefined) {
    throw new TypeError(`${adapter} store: list order read grants by seller or by financier`);
  }
}

/** Neither revoked nor expired at `at` (unix ms). */
export function isActiveGrant(grant: OrderReadGrant, at: number): boolean {
  return grant.revokedAt === null && grant.expiresAt > at;
}
