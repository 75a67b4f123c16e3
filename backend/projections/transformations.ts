/**
 * Transformation projection: each merge the Transformations contract records (TransformationRecorded: inputs with
 * their registry quantities, outputs, processor, place, document hash) and the recalls it propagated from an input
 * to an output (RecalledInputFlagged), from that contract's events alone.
 *
 * A transformation's document carries its whole history (`recallFlags`), like a unit token's, so undoing blocks after
 * a reorg is a deletion when the recording is gone and otherwise a truncation of its flags (rollBackTransformation).
 * Lineage through merges is read from these documents by lot (the store indexes inputs and outputs), so the batch
 * projection is untouched and its reducers stay as they are.
 */
import type { ChainEvent, Hex, Transformation, TransformationInput } from "../domain/model.ts";
import { ProjectionError, eventRef, hexArg, isAlreadyApplied, stringArg } from "./event-ref.ts";

/** The transformation an event changes (its id in decimal), or null. */
export function transformationKeyOf(event: ChainEvent): string | null {
  if (event.contract !== "Transformations") return null;
  if (event.name !== "TransformationRecorded" && event.name !== "RecalledInputFlagged") return null;
  return stringArg(event, "transformationId");
}

export function transformationKeysOfAll(events: Iterable<ChainEvent>): string[] {
  const keys = new Set<string>();
  for (const event of events) {
    const key = transformationKeyOf(event);
    if (key !== null) keys.add(key);
  }
  return [...keys];
}

/** Next state of transformation `transformationId` after `event`; the document itself when the event does not change it. */
export function reduceTransformation(
  transformation: Transformation | null,
  event: ChainEvent,
  transformationId: string,
): Transformation | null {
  if (transformationKeyOf(event) !== transformationId) return transformation;
  if (isAlreadyApplied(transformation, event)) return transformation;
  const ref = eventRef(event);
  if (event.name === "TransformationRecorded") {
    if (transformation !== null) {
      throw new ProjectionError(event, `transformation ${transformationId} was already recorded in ${transformation.recorded.eventId}`);
    }
    const inputIds = hexListArg(event, "inputIds");
    const quantities = stringListArg(event, "inputQuantities");
    if (quantities.length !== inputIds.length) {
      throw new ProjectionError(event, `${inputIds.length} inputs but ${quantities.length} input quantities`);
    }
    const inputs: TransformationInput[] = inputIds.map((batchId, index) => ({ batchId, quantity: quantities[index]! }));
    return {
      transformationId,
      processor: hexArg(event, "processor"),
      locationGln: stringArg(event, "locationGln"),
      documentHash: hexArg(event, "documentHash"),
      inputs,
      outputIds: hexListArg(event, "outputIds"),
      recallFlags: [],
      recorded: ref,
      lastEvent: ref,
    };
  }
  // RecalledInputFlagged
  if (transformation === null)
    throw new ProjectionError(event, `recall flag of transformation ${transformationId}, which was never recorded`);
  const flag = { outputId: hexArg(event, "outputId"), inputId: hexArg(event, "inputId"), flaggedBy: hexArg(event, "flaggedBy"), at: ref };
  return { ...transformation, recallFlags: [...transformation.recallFlags, flag], lastEvent: ref };
}

/** The stored transformations of some ids (unknown ids left out). */
export type LoadCurrentTransformations = (transformationIds: string[]) => Promise<Transformation[]>;

/**
 * Folds a range's events (any order; applied in chain order) into the transformations to write: only those that
 * changed. Events already reflected (id <= lastEvent) change nothing, so re-projecting a range is harmless.
 */
export async function projectTransformations(
  events: readonly ChainEvent[],
  loadCurrent: LoadCurrentTransformations,
): Promise<{ transformations: Transformation[] }> {
  const keys = transformationKeysOfAll(events);
  if (keys.length === 0) return { transformations: [] };
  return { transformations: foldTransformations(keys, await loadCurrent(keys), events) };
}

/** Pure core of projectTransformations. */
export function foldTransformations(
  keys: readonly string[],
  current: readonly Transformation[],
  events: readonly ChainEvent[],
): Transformation[] {
  const documents = new Map<string, Transformation | null>(keys.map((key) => [key, null]));
  for (const transformation of current) documents.set(transformation.transformationId, transformation);
  const initial = new Map(documents);
  for (const event of [...events].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    const key = transformationKeyOf(event);
    if (key !== null && documents.has(key)) documents.set(key, reduceTransformation(documents.get(key) ?? null, event, key));
  }
  const changed: Transformation[] = [];
  for (const [key, document] of documents) if (document !== null && document !== initial.get(key)) changed.push(document);
  return changed;
}

/** A transformation as it was at the end of block `forkBlock`: null when recorded after it, else its flags cut there. */
export function rollBackTransformation(transformation: Transformation, forkBlock: number): Transformation | null {
  if (transformation.recorded.blockNumber > forkBlock) return null;
  const recallFlags = transformation.recallFlags.filter((flag) => flag.at.blockNumber <= forkBlock);
  return { ...transformation, recallFlags, lastEvent: recallFlags.at(-1)?.at ?? transformation.recorded };
}

/** What a rollback to `forkBlock` writes and deletes of the given stored transformations. */
export function rollBackTransformations(
  stored: readonly Transformation[],
  forkBlock: number,
): { transformations: Transformation[]; deleteTransformationIds: string[] } {
  const transformations: Transformation[] = [];
  const deleteTransformationIds: string[] = [];
  for (const transformation of stored) {
    const rolledBack = rollBackTransformation(transformation, forkBlock);
    if (rolledBack === null) deleteTransformationIds.push(transformation.transformationId);
    else transformations.push(rolledBack);
  }
  return { transformations, deleteTransformationIds };
}

/** A LoadCurrentTransformations reading from the store port. */
export function loadCurrentTransformationsFromStore(store: {
  getTransformations(transformationIds: string[]): Promise<Transformation[]>;
}): LoadCurrentTransformations {
  return (transformationIds) => (transformationIds.length > 0 ? store.getTransformations(transformationIds) : Promise.resolve([]));
}

function listArg(event: ChainEvent, name: string): unknown[] {
  const value = event.args[name];
  if (!Array.isArray(value)) throw new ProjectionError(event, `arg "${name}" is ${JSON.stringify(value)}, expected an array`);
  return value;
}

function hexListArg(event: ChainEvent, name: string): Hex[] {
  return listArg(event, name).map((item) => {
    if (typeof item !== "string" || !item.startsWith("0x"))
      throw new ProjectionError(event, `arg "${name}" holds ${JSON.stringify(item)}, expected 0x hex`);
    return item as Hex;
  });
}

function stringListArg(event: ChainEvent, name: string): string[] {
  return listArg(event, name).map((item) => {
    if (typeof item !== "string") throw new ProjectionError(event, `arg "${name}" holds ${JSON.stringify(item)}, expected a string`);
    return item;
  });
}
