/**
 * Who holds what is packed. A container handoff moves the custody of everything inside without an event for the
 * inner containers or the batches, so the holder of a packed batch is the custodian of the outermost container
 * enclosing it, and its place is that container's location. These helpers resolve it from the container projection
 * (backend/projections/containers.ts), a level of nesting per store read, for any number of batches at once.
 */
import type { Batch, Container, Hex } from "../domain/model.ts";
import type { ContainerReads } from "../store/port.ts";

/** LogisticUnits.MAX_NESTING_LEVELS; a parent chain longer than this (plus slack) means the mirror is inconsistent. */
export const MAX_NESTING_LEVELS = 4;
const MAX_WALK = MAX_NESTING_LEVELS + 4;

/** Where packed goods are: the container holding them directly, the outermost one, its custodian and location. */
export interface PackedHolding {
  /** The container holding the batch (or container) directly. */
  sscc: string;
  outermostSscc: string;
  /** The outermost container's custodian: who holds the goods. */
  custodian: Hex;
  locationGln: string;
  /** Innermost first: the directly holding container, then each enclosing one up to the outermost. */
  path: string[];
}

type ContainerSource = Partial<Pick<ContainerReads, "getContainers">>;

/**
 * The outermost container of each given SSCC, with the path to it, reading a generation of parents per store call.
 * Unknown SSCCs are left out.
 */
export async function resolveOutermost(
  store: ContainerSource,
  ssccs: readonly string[],
): Promise<Map<string, { outermost: Container; path: string[] }>> {
  const result = new Map<string, { outermost: Container; path: string[] }>();
  if (store.getContainers === undefined || ssccs.length === 0) return result;
  const known = new Map<string, Container>();
  let wanted = [...new Set(ssccs)];
  for (let level = 0; level <= MAX_WALK && wanted.length > 0; level++) {
    for (const container of await store.getContainers(wanted)) known.set(container.sscc, container);
    wanted = [...new Set(wanted.flatMap((sscc) => known.get(sscc)?.parentSscc ?? []))].filter((sscc) => !known.has(sscc));
  }
  for (const sscc of new Set(ssccs)) {
    let current = known.get(sscc);
    if (current === undefined) continue;
    const path = [current.sscc];
    while (current.parentSscc !== null && path.length <= MAX_WALK) {
      const parent = known.get(current.parentSscc);
      if (parent === undefined) break; // a parent the mirror lacks: the best known enclosing container stands
      current = parent;
      path.push(current.sscc);
    }
    result.set(sscc, { outermost: current, path });
  }
  return result;
}

/** The holding of each packed batch among `batches` (by batch id); batches not packed are absent. */
export async function packedHoldingsOf(store: ContainerSource, batches: readonly Batch[]): Promise<Map<Hex, PackedHolding>> {
  const packed = batches.filter((batch) => typeof batch.packedIn === "string");
  const outermost = await resolveOutermost(
    store,
    packed.map((batch) => batch.packedIn!),
  );
  const holdings = new Map<Hex, PackedHolding>();
  for (const batch of packed) {
    const resolved = outermost.get(batch.packedIn!);
    if (resolved === undefined) continue;
    holdings.set(batch.batchId, {
      sscc: batch.packedIn!,
      outermostSscc: resolved.outermost.sscc,
      custodian: resolved.outermost.custodian,
      locationGln: resolved.outermost.locationGln,
      path: resolved.path,
    });
  }
  return holdings;
}

/**
 * The batches with `custodian` replaced by who holds the goods: the outermost container's custodian for a packed
 * batch, unchanged otherwise. For readers that show or group by the holder (trace, recall desk).
 */
export async function withEffectiveCustodians<B extends Pick<Batch, "batchId" | "custodian" | "packedIn">>(
  store: ContainerSource,
  batches: readonly B[],
): Promise<{ batches: B[]; holdings: Map<Hex, PackedHolding> }> {
  const holdings = await packedHoldingsOf(store, batches as unknown as Batch[]);
  return {
    batches: batches.map((batch) => {
      const holding = holdings.get(batch.batchId);
      return holding === undefined ? batch : { ...batch, custodian: holding.custodian };
    }),
    holdings,
  };
}
