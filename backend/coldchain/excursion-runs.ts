/**
 * Excursion evidence as ColdChain.submitExcursion takes it, worked out from a leg's stored readings: which
 * readings are out of the frozen conditions, the runs they form, and the pieces of each run still worth sending.
 * Pure functions; the breach submitter (breach-submitter.ts) feeds them and checks every piece on chain anyway.
 */
import type { ColdChainConditions, StoredReading } from "../domain/cold-chain.ts";
import { HUMIDITY_LIMIT } from "./reading-verifier.ts";

/** A run of consecutive out-of-range readings of one leg; `ongoing` while the next reading may still extend it. */
export interface ExcursionRun {
  readings: StoredReading[];
  ongoing: boolean;
}

/** ColdChain `_outOfRange`: temperature outside its band, or humidity outside its band when the reading has one. */
export function isOutOfRange(reading: Pick<StoredReading, "temperature" | "humidity">, conditions: ColdChainConditions): boolean {
  const { temperature, humidity } = reading;
  return (
    temperature < conditions.minTemperature ||
    temperature > conditions.maxTemperature ||
    (humidity <= HUMIDITY_LIMIT && (humidity < conditions.minHumidity || humidity > conditions.maxHumidity))
  );
}

/**
 * The maximal runs of out-of-range readings among `readings` (one leg's, by sequence), as the contract accepts a
 * run: each reading the next sequence after the previous one and not earlier than it. A run of one reading spans
 * no time and is left out. The last run is `ongoing` when it ends at the leg's last reading and the leg is open.
 */
export function outOfRangeRuns(readings: readonly StoredReading[], conditions: ColdChainConditions, legOpen: boolean): ExcursionRun[] {
  const runs: ExcursionRun[] = [];
  let current: StoredReading[] = [];
  const close = () => {
    if (current.length >= 2) runs.push({ readings: current, ongoing: false });
    current = [];
  };
  for (const reading of readings) {
    if (!isOutOfRange(reading, conditions)) {
      close();
      continue;
    }
    const previous = current.at(-1);
    if (previous !== undefined && (reading.sequence !== previous.sequence + 1 || reading.timestamp < previous.timestamp)) close();
    current.push(reading);
  }
  const last = readings.at(-1);
  const tail = current;
  close();
  if (legOpen && last !== undefined && tail.at(-1) === last && runs.at(-1)?.readings === tail) runs.at(-1)!.ongoing = true;
  return runs;
}

/**
 * The pieces of `run` to submit: its stretches of intervals not yet `taken` (counted on chain or in a pending
 * job; interval `s` is reading `s` to `s + 1`), each cut into pieces of at most `maxReadings` readings, adjacent
 * pieces sharing their boundary reading. Pieces start at a stretch's first reading, so the same readings and the
 * same counted intervals always give the same pieces (and the same job ids).
 */
export function evidencePieces(
  run: readonly StoredReading[],
  taken: (sequence: number) => boolean,
  maxReadings: number,
): StoredReading[][] {
  if (maxReadings < 2) throw new RangeError("a piece of evidence needs at least 2 readings");
  const pieces: StoredReading[][] = [];
  let stretchStart: number | null = null;
  const cut = (from: number, to: number) => {
    for (let start = from; start < to; start += maxReadings - 1) pieces.push(run.slice(start, Math.min(to, start + maxReadings - 1) + 1));
  };
  for (let index = 0; index < run.length - 1; index++) {
    if (taken(run[index]!.sequence)) {
      if (stretchStart !== null) cut(stretchStart, index);
      stretchStart = null;
    } else if (stretchStart === null) {
      stretchStart = index;
    }
  }
  if (stretchStart !== null) cut(stretchStart, run.length - 1);
  return pieces;
}

/** Seconds of excursion a piece adds to its leg (the contract's `toTime - fromTime`). */
export const pieceSeconds = (piece: readonly StoredReading[]): number => piece.at(-1)!.timestamp - piece[0]!.timestamp;
