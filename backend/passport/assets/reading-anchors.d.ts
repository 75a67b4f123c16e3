/** Types of reading-anchors.js (the passport's check of cold-chain readings against anchored roots). */
export declare const COLD_CHAIN_ABI: string[];
export declare const READING_TYPES: Record<string, { name: string; type: string }[]>;
export declare const MAX_CHECKED_READINGS: number;

export interface ListedReading {
  device: string;
  batchId: string;
  sequence: number;
  timestamp: number;
  temperature: number;
  humidity: number;
  latitude: number;
  longitude: number;
  legId: string;
  anchor: { root: string; blockNumber: number } | null;
}

export interface ListedLeg {
  legId: string;
  readings: ListedReading[];
  /** False when the leg has more readings than were fetched. */
  complete: boolean;
}

/** What did not match: a message code (a key of backend/passport/messages) and its parameters. */
export interface ReadingFinding {
  code: string;
  params: Record<string, string | number>;
}

export declare class ReadingsUnavailableError extends Error {
  constructor(legId: string, status: number);
  finding: ReadingFinding;
}

export interface ReadingCheck {
  /** Readings proved to be in a root anchored on chain. */
  readings: number;
  /** Roots rebuilt from the readings and found on chain. */
  roots: number;
  /** Listed readings no root holds yet. */
  unanchored: number;
  /** What did not match, one finding each. */
  failures: ReadingFinding[];
  /** Some leg had more readings than were fetched: roots past them were not judged. */
  partial: boolean;
}

export declare function standardTreeRoot(ethers: unknown, values: string[]): string;
export declare function readingHashOf(ethers: unknown, reading: ListedReading): string;
export declare function fetchLegReadings(input: { fetch: typeof fetch; apiBase: string; legId: string; max: number }): Promise<ListedLeg>;
export declare function checkReadingAnchors(input: {
  ethers: unknown;
  rpc: (method: string, params: unknown[]) => Promise<unknown>;
  coldChain: string;
  registry: string;
  batchIds: string[];
  legs: ListedLeg[];
}): Promise<ReadingCheck>;
