/** Input checks of listLegReadingRange, shared by both adapters (backend/store/port.ts ReadingAnchorRecords). */
import { MAX_READING_RANGE } from "./port.ts";

export function checkReadingRange(fromSequence: number, toSequence: number, limit: number): void {
  if (!Number.isSafeInteger(fromSequence) || !Number.isSafeInteger(toSequence) || fromSequence < 0 || toSequence < 0) {
    throw new TypeError("store: a reading range is two non-negative whole sequences");
  }
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_READING_RANGE) {
    throw new TypeError(`store: a reading range limit is 1..${MAX_READING_RANGE}`);
  }
}
