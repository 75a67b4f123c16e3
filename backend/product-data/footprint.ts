/**
 * A batch's carbon footprint: the manufacturer's declared product footprint per unit × the batch's units, plus the
 * transport emissions of each custody leg (ISO 14083 / GLEC style: distance × tonnes × the mode's factor).
 *
 * Legs: the batch's journey is its lineage's accepted handoffs in chain order (a split child's journey starts with
 * its ancestors'), each leg from the previous place (the registered origin GLN, then each acceptance's location) to
 * the GLN where custody was accepted. Places (GLN → coordinates) come from the `places` of the product or batch data.
 * The mode of a leg is declared with the batch (or product) data as `transportModes` by destination GLN: a handoff's
 * CBV business step ("shipping", "receiving") says what happened, not how the goods moved. Undeclared legs count as
 * DEFAULT_TRANSPORT_MODE and say so. Emissions are allocated to the batch by its own mass (quantity × unitMassKg),
 * so a child batch carries its share of the legs before its split.
 */
import type { Batch } from "../domain/model.ts";
import { DEFAULT_TRANSPORT_MODE, EMISSION_FACTORS_SOURCE, TRANSPORT_MODE_DEFAULTS } from "./emission-factors.ts";
import type { ProductData, TransportMode } from "./product-data-schema.ts";

/** Mean Earth radius (IUGG), km. */
const EARTH_RADIUS_KM = 6371.0088;

export interface FootprintPlace {
  gln: string;
  name: { en?: string; zh?: string } | null;
}

export interface FootprintLeg {
  from: FootprintPlace;
  to: FootprintPlace;
  mode: TransportMode;
  modeDeclared: boolean;
  /** Null when either place has no coordinates in the product data. */
  greatCircleKm: number | null;
  distanceKm: number | null;
  detourFactor: number;
  gCO2ePerTonneKm: number;
  tonnes: number | null;
  kgCO2e: number | null;
}

export interface BatchFootprint {
  batchId: string;
  units: number;
  unitMassKg: number | null;
  product: { kgCO2ePerUnit: number; method: string; sourceDocumentHash: string; kgCO2e: number } | null;
  legs: FootprintLeg[];
  transportKgCO2e: number;
  totalKgCO2e: number;
  /** False when the product footprint, the unit mass or a leg's places are missing (the total then leaves them out). */
  complete: boolean;
  emissionFactors: string;
}

/** Great-circle distance in km (haversine). */
export function greatCircleKm(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** The accepted handoffs of the batch's lineage, oldest first, and the origin GLN of its registered ancestor. */
export function journeyOf(lineage: readonly Pick<Batch, "originGln" | "custody">[]): { originGln: string; arrivals: string[] } {
  // `lineage` runs from the registered ancestor down to the batch itself.
  const arrivals = lineage.flatMap((batch) =>
    batch.custody.filter((step) => step.kind === "accepted" && step.locationGln !== null).map((step) => step.locationGln!),
  );
  return { originGln: lineage[0]!.originGln, arrivals };
}

const round = (value: number, digits = 3) => Math.round(value * 10 ** digits) / 10 ** digits;

export function batchFootprint(
  batch: Pick<Batch, "batchId" | "quantity">,
  journey: { originGln: string; arrivals: string[] },
  data: Partial<ProductData>,
): BatchFootprint {
  const units = Number(batch.quantity);
  const unitMassKg = data.unitMassKg ?? null;
  const tonnes = unitMassKg === null ? null : (units * unitMassKg) / 1000;
  const places = new Map((data.places ?? []).map((place) => [place.gln, place]));
  const modes = new Map((data.transportModes ?? []).map((entry) => [entry.toGln, entry.mode]));
  const placeOf = (gln: string): FootprintPlace => ({ gln, name: places.get(gln)?.name ?? null });

  const legs: FootprintLeg[] = [];
  let from = journey.originGln;
  for (const to of journey.arrivals) {
    if (to === from) continue; // custody changed hands without the goods moving
    const declared = modes.get(to);
    const mode = declared ?? DEFAULT_TRANSPORT_MODE;
    const defaults = TRANSPORT_MODE_DEFAULTS[mode];
    const a = places.get(from);
    const b = places.get(to);
    const gc = a && b ? greatCircleKm(a, b) : null;
    const distance = gc === null ? null : gc * defaults.detourFactor + defaults.addedKm;
    const kg = distance === null || tonnes === null ? null : (distance * tonnes * defaults.gCO2ePerTonneKm) / 1000;
    legs.push({
      from: placeOf(from),
      to: placeOf(to),
      mode,
      modeDeclared: declared !== undefined,
      greatCircleKm: gc === null ? null : round(gc),
      distanceKm: distance === null ? null : round(distance),
      detourFactor: defaults.detourFactor,
      gCO2ePerTonneKm: defaults.gCO2ePerTonneKm,
      tonnes,
      kgCO2e: kg === null ? null : round(kg),
    });
    from = to;
  }
  const declaredFootprint = data.carbonFootprint;
  const product = declaredFootprint ? { ...declaredFootprint, kgCO2e: round(declaredFootprint.kgCO2ePerUnit * units) } : null;
  const transportKgCO2e = round(legs.reduce((sum, leg) => sum + (leg.kgCO2e ?? 0), 0));
  return {
    batchId: batch.batchId,
    units,
    unitMassKg,
    product,
    legs,
    transportKgCO2e,
    totalKgCO2e: round((product?.kgCO2e ?? 0) + transportKgCO2e),
    complete: product !== null && unitMassKg !== null && legs.every((leg) => leg.kgCO2e !== null),
    emissionFactors: EMISSION_FACTORS_SOURCE,
  };
}
