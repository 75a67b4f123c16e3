import type { ChainEvent, EventRef, Hex, JsonValue } from "../domain/model.ts";

/** The thrown when an event cannot be applied to the projections it names (the log contradicts the mirror). */
export class ProjectionError extends Error {
  readonly eventId: string;

  constructor(event: ChainEvent, message: string) {
    super(`${event.contract}.${event.name} ${event.id} (tx ${event.transactionHash}): ${message}`);
    this.name = "ProjectionError";
    this.eventId = event.id;
  }
}

export function eventRef(event: ChainEvent): EventRef {
  return {
    eventId: event.id,
    blockNumber: event.blockNumber,
    blockTimestamp: event.blockTimestamp,
    transactionHash: event.transactionHash,
  };
}

/**
 * True when `event` is already reflected in a projection last changed by `lastEvent`. Event ids sort in chain
 * order (chainEventId pads block and log index), so replaying a partly written range changes nothing twice.
 */
export function isAlreadyApplied(projection: { lastEvent: EventRef } | null, event: ChainEvent): boolean {
  return projection !== null && event.id <= projection.lastEvent.eventId;
}

// Typed readers of decoded args: a missing or mistyped arg means the ABI and the reducers disagree.

export function stringArg(event: ChainEvent, name: string): string {
  const value = event.args[name];
  if (typeof value !== "string") throw new ProjectionError(event, `arg "${name}" is ${JSON.stringify(value)}, expected a string`);
  return value;
}

export function hexArg(event: ChainEvent, name: string): Hex {
  const value = stringArg(event, name);
  if (!value.startsWith("0x")) throw new ProjectionError(event, `arg "${name}" is ${JSON.stringify(value)}, expected 0x hex`);
  return value as Hex;
}

export function numberArg(event: ChainEvent, name: string): number {
  const value = event.args[name];
  if (typeof value !== "number") throw new ProjectionError(event, `arg "${name}" is ${JSON.stringify(value)}, expected a number`);
  return value;
}

export function booleanArg(event: ChainEvent, name: string): boolean {
  const value = event.args[name];
  if (typeof value !== "boolean") throw new ProjectionError(event, `arg "${name}" is ${JSON.stringify(value)}, expected a boolean`);
  return value;
}

export function objectArg(event: ChainEvent, name: string): { [key: string]: JsonValue } {
  const value = event.args[name];
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new ProjectionError(event, `arg "${name}" is ${JSON.stringify(value)}, expected a struct`);
  }
  return value;
}
