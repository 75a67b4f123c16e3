/**
 * Default transport emission factors and routing (detour) factors, per mode: DEFAULTS TO OVERRIDE with a carrier's
 * own measured intensities (ISO 14083) whenever they are known.
 *
 * Factors are well-to-wheel gCO2e per tonne-km, rounded values in the range of the default intensities of the
 * GLEC Framework for Logistics Emissions Accounting (Smart Freight Centre, version 3.0, 2023; also used by
 * ISO 14083:2023) for average loads: road, an average articulated truck; rail, an average mixed diesel/electric
 * freight train; sea, an average deep-sea container ship; air, average long-haul air freight; inland waterway, an
 * average motor vessel. They were entered from that range without the tables at hand: check them against the
 * framework's current tables before reporting with them.
 *
 * Distance is the great-circle distance between the two places times a detour factor (roads, rails and shipping
 * lanes are not straight); for air, GLEC/EN 16258 add 95 km to the great-circle distance instead.
 */
import type { TransportMode } from "./product-data-schema.ts";

export interface TransportModeDefaults {
  /** Well-to-wheel grams CO2e per tonne-kilometre. */
  gCO2ePerTonneKm: number;
  /** Great-circle distance × this. */
  detourFactor: number;
  /** Kilometres added after the detour factor. */
  addedKm: number;
}

export const EMISSION_FACTORS_SOURCE = "GLEC Framework v3.0 (Smart Freight Centre, 2023) default range; defaults to override";

export const TRANSPORT_MODE_DEFAULTS: Readonly<Record<TransportMode, TransportModeDefaults>> = {
  road: { gCO2ePerTonneKm: 105, detourFactor: 1.2, addedKm: 0 },
  rail: { gCO2ePerTonneKm: 22, detourFactor: 1.2, addedKm: 0 },
  sea: { gCO2ePerTonneKm: 12, detourFactor: 1.3, addedKm: 0 },
  air: { gCO2ePerTonneKm: 800, detourFactor: 1, addedKm: 95 },
  inlandWaterway: { gCO2ePerTonneKm: 31, detourFactor: 1.3, addedKm: 0 },
};

/** The mode of a leg whose mode nobody declared: road, the most common and a conservative middle. */
export const DEFAULT_TRANSPORT_MODE: TransportMode = "road";
