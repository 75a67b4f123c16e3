/** Input checks the readings section of both adapters shares (backend/store/port.ts ColdChainReadings). */
import { invalidInput } from "../domain/errors.ts";
import type { ReadingFilter } from "./port.ts";

export function checkReadingFilter(filter: ReadingFilter): void {
  const given = [filter?.batchId, filter?.legId].filter((value) => value !== undefined);
  if (given.length !== 1 || typeof given[0] !== "string") throw new TypeError("store: a reading filter names exactly one batchId or legId");
}

/** A cursor key that must be a whole number (cursors carry strings); a "invalid-input" DomainError otherwise. */
export function cursorNumber(value: string): number {
  const number = Number(value);
  if (!/^-?\d{1,16}$/.test(value) || !Number.isSafeInteger(number)) {
    throw invalidInput("Invalid cursor", { errors: [{ in: "query", path: "cursor", message: "not a cursor of this list" }] });
  }
  return number;
}
