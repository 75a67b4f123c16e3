/**
 * Default transport emission factors and routing (detour) factors, per mode: DEFAULTS TO OVERRIDE with a carrier's
 * own measured intensities (ISO 14083:2023 prefers primary data) whenever they are known.
 *
 * Source cited: Smart Freight Centre, "Global Logistics Emissions Council Framework for Logistics Emissions
 * Accounting and Reporting", version 3.0 (2023), Module 2 default GHG emission intensity values (well-to-wheel,
 * g CO2e per tonne-km, average load factors and empty running), the framework ISO 14083:2023 builds on.
 *
 * STATUS, stated honestly: these values were entered without the published tables at hand, and this repository
 * has no network access to check them. Each mode below says which GLEC default it stands for and is marked
 * `confirmed: false`; the footprint API and the JSON-LD passport carry that status (`emissionFactors`). Before anyone
 * reports with them, compare each with the GLEC v3.0 table named in `glecDefault` and replace the number.
 * What is confirmed: for air, GLEC (following EN 16258) takes the great-circle distance plus 95 km; the other
 * modes' detour factors are Provena's own assumption for "great-circle × factor ≈ shortest feasible distance"
 * (GLEC asks for the shortest feasible distance, or the actual one), not GLEC values.
 */
import type { TransportMode } from "./product-data-schema.ts";

export interface TransportModeDefaults {
  /** Well-to-wheel grams CO2e per tonne-kilometre. */
  gCO2ePerTonneKm: number;
  /** Great-circle distance × this. */
  detourFactor: number;
  /** Kilometres added after the detour factor. */
  addedKm: number;
  /** The GLEC Framework v3.0 default this factor stands for. */
  glecDefault: string;
  /** Whether the value was checked against the published table (none is yet: see the module comment). */
  confirmed: boolean;
}

export const EMISSION_FACTORS_SOURCE =
  "GLEC Framework v3.0 (Smart Freight Centre, 2023), Module 2 default WTW intensities, as used by ISO 14083:2023; values NOT yet confirmed against the published tables: defaults to override";

export const TRANSPORT_MODE_DEFAULTS: Readonly<Record<TransportMode, TransportModeDefaults>> = {
  road: {
    gCO2ePerTonneKm: 105,
    detourFactor: 1.2,
    addedKm: 0,
    glecDefault: "road, Europe, average/mixed truck fleet (rigid and articulated), diesel, average load",
    confirmed: false,
  },
  rail: {
    gCO2ePerTonneKm: 22,
    detourFactor: 1.2,
    addedKm: 0,
    glecDefault: "rail, Europe, average freight train, mixed diesel/electric traction",
    confirmed: false,
  },
  sea: {
    gCO2ePerTonneKm: 12,
    detourFactor: 1.3,
    addedKm: 0,
    glecDefault: "sea, deep-sea container ship, average size and trade lane",
    confirmed: false,
  },
  air: {
    gCO2ePerTonneKm: 800,
    detourFactor: 1,
    addedKm: 95, // confirmed: GLEC / EN 16258 great-circle distance + 95 km
    glecDefault: "air, long-haul freight, average of belly and freighter",
    confirmed: false,
  },
  inlandWaterway: {
    gCO2ePerTonneKm: 31,
    detourFactor: 1.3,
    addedKm: 0,
    glecDefault: "inland waterway, Europe, average motor vessel",
    confirmed: false,
  },
};

/** The mode of a leg whose mode nobody declared: road, the most common and a conservative middle. */
export const DEFAULT_TRANSPORT_MODE: TransportMode = "road";
