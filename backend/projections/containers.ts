/**
 * Container projection: each logistic unit of LogisticUnits (an SSCC) with its custodian, pending handoff,
 * location, the container it is packed in, its direct contents and the recalls flagged inside, from the contract's
 * events alone.
 *
 * A container's document carries its whole history (`history`, one step per event that changed it), and its state
 * is the fold of those steps (applyContainerStep). Undoing blocks after a reorg is therefore a cut of the history
 * and a refold (rollBackContainer), as for unit tokens, with no need to read the event log again.
 *
 * What the projection does not store: who holds the goods of a packed container. A handoff of the outer container
 * moves the custody of everything inside without an event for the inner ones, so readers resolve the holder by
 * walking `parentSscc` up to the outermost container (backend/containers/container-service.ts).
 */
import type { ChainEvent, Container, ContainerStep, Hex } from "../domain/model.ts";
import { ProjectionError, booleanArg, eventRef, hexArg, isAlreadyApplied, stringArg } from "./event-ref.ts";

/** The LogisticUnits events that change a container (BatchReleaseRenewed concerns the registry custody of a batch only). */
export const CONTAINER_EVENTS = new Set([
  "ContainerCreated",
  "BatchPacked",
  "BatchUnpacked",
  "ContainerPacked",
  "ContainerUnpacked",
  "ContainerHandoffProposed",
  "ContainerHandoffAccepted",
  "ContainerHandoffRejected",
  "ContainerHandoffCancelled",
  "PackedBatchRecallFlagged",
]);

/** The containers an event changes: packing or unpacking a container changes both the outer and the inner one. */
export function containerKeysOf(event: ChainEvent): string[] {
  if (event.contract !== "LogisticUnits" || !CONTAINER_EVENTS.has(event.name)) return [];
  if (event.name === "ContainerPacked" || event.name === "ContainerUnpacked") {
    return [stringArg(event, "outerSscc"), stringArg(event, "innerSscc")];
  }
  return [stringArg(event, "sscc")];
}

export function containerKeysOfAll(events: Iterable<ChainEvent>): string[] {
  const keys = new Set<string>();
  for (const event of events) for (const sscc of containerKeysOf(event)) keys.add(sscc);
  return [...keys];
}

/** The step `event` makes in the history of container `sscc` (one of its containerKeysOf). */
export function containerStepOf(event: ChainEvent, sscc: string): ContainerStep {
  const step: ContainerStep = {
    kind: "created",
    by: event.name === "PackedBatchRecallFlagged" ? ZERO : hexArg(event, event.name.startsWith("ContainerHandoff") ? "from" : "custodian"),
    to: null,
    batchId: null,
    sscc: null,
    locationGln: null,
    businessStep: null,
    reasonHash: null,
    released: null,
    at: eventRef(event),
  };
  switch (event.name) {
    case "ContainerCreated":
      return { ...step, locationGln: stringArg(event, "locationGln") };
    case "BatchPacked":
      return { ...step, kind: "batch_packed", batchId: hexArg(event, "batchId"), locationGln: stringArg(event, "locationGln") };
    case "BatchUnpacked":
      return {
        ...step,
        kind: "batch_unpacked",
        batchId: hexArg(event, "batchId"),
        locationGln: stringArg(event, "locationGln"),
        released: booleanArg(event, "released"),
      };
    case "ContainerPacked":
    case "ContainerUnpacked": {
      const outer = stringArg(event, "outerSscc");
      const inner = stringArg(event, "innerSscc");
      const packing = event.name === "ContainerPacked";
      const isOuter = sscc === outer;
      const kind = isOuter ? (packing ? "container_packed" : "container_unpacked") : packing ? "packed_into" : "unpacked_from";
      return { ...step, kind, sscc: isOuter ? inner : outer, locationGln: stringArg(event, "locationGln") };
    }
    case "ContainerHandoffProposed":
      return {
        ...step,
        kind: "handoff_proposed",
        to: hexArg(event, "to"),
        locationGln: stringArg(event, "locationGln"),
        businessStep: stringArg(event, "businessStep"),
      };
    case "ContainerHandoffAccepted":
      return {
        ...step,
        kind: "handoff_accepted",
        by: hexArg(event, "to"),
        to: hexArg(event, "to"),
        locationGln: stringArg(event, "locationGln"),
        businessStep: stringArg(event, "businessStep"),
      };
    case "ContainerHandoffRejected":
      return {
        ...step,
        kind: "handoff_rejected",
        by: hexArg(event, "to"),
        to: hexArg(event, "to"),
        reasonHash: hexArg(event, "reasonHash"),
      };
    case "ContainerHandoffCancelled":
      return { ...step, kind: "handoff_cancelled", to: hexArg(event, "to") };
    case "PackedBatchRecallFlagged":
      // Anyone may flag; the event names no caller, so `by` is the zero address (set above).
      return { ...step, kind: "recall_flagged", batchId: hexArg(event, "batchId") };
    default:
      throw new ProjectionError(event, `not a container event`);
  }
}

const ZERO = "0x0000000000000000000000000000000000000000" as Hex;

/**
 * The container after `step`; pure. Throws a ProjectionError (through `event` when given, for its message) when
 * the step contradicts the state, which means the mirror and the chain disagree.
 */
export function applyContainerStep(container: Container | null, step: ContainerStep, sscc: string): Container {
  const fail = (message: string): never => {
    throw new Error(`container ${sscc}: ${step.kind} at ${step.at.eventId} (tx ${step.at.transactionHash}): ${message}`);
  };
  if (step.kind === "created") {
    if (container !== null) fail(`already created at ${container.created.eventId}`);
    return {
      sscc,
      creator: step.by,
      custodian: step.by,
      pendingHandoff: null,
      locationGln: step.locationGln!,
      parentSscc: null,
      state: "open",
      batchIds: [],
      containerSsccs: [],
      recallFlaggedBatchIds: [],
      history: [step],
      created: step.at,
      lastEvent: step.at,
    };
  }
  if (container === null) return fail("the container was never created");
  const next: Container = { ...container, history: [...container.history, step], lastEvent: step.at };
  if (step.locationGln !== null && step.kind !== "handoff_proposed") next.locationGln = step.locationGln;
  switch (step.kind) {
    case "batch_packed":
      if (!next.batchIds.includes(step.batchId!)) next.batchIds = [...next.batchIds, step.batchId!];
      break;
    case "batch_unpacked":
      next.batchIds = next.batchIds.filter((batchId) => batchId !== step.batchId);
      next.recallFlaggedBatchIds = next.recallFlaggedBatchIds.filter((batchId) => batchId !== step.batchId);
      break;
    case "container_packed":
      if (!next.containerSsccs.includes(step.sscc!)) next.containerSsccs = [...next.containerSsccs, step.sscc!];
      break;
    case "container_unpacked":
      next.containerSsccs = next.containerSsccs.filter((inner) => inner !== step.sscc);
      break;
    case "packed_into":
      next.parentSscc = step.sscc;
      next.state = "packed";
      next.custodian = step.by;
      break;
    case "unpacked_from":
      // The contract makes whoever unpacks it (the outermost custodian) its custodian.
      next.parentSscc = null;
      next.state = "open";
      next.custodian = step.by;
      break;
    case "handoff_proposed":
      next.pendingHandoff = { to: step.to!, locationGln: step.locationGln!, businessStep: step.businessStep!, proposed: step.at };
      break;
    case "handoff_accepted":
      next.custodian = step.to!;
      next.pendingHandoff = null;
      break;
    case "handoff_rejected":
    case "handoff_cancelled":
      next.pendingHandoff = null;
      break;
    case "recall_flagged":
      if (!next.recallFlaggedBatchIds.includes(step.batchId!)) next.recallFlaggedBatchIds = [...next.recallFlaggedBatchIds, step.batchId!];
      break;
  }
  return next;
}

/**
 * Next state of container `sscc` after `event`. Events of other containers and events already applied
 * (id <= lastEvent) return `container` itself.
 */
export function reduceContainer(container: Container | null, event: ChainEvent, sscc: string): Container | null {
  if (!containerKeysOf(event).includes(sscc)) return container;
  if (isAlreadyApplied(container, event)) return container;
  try {
    return applyContainerStep(container, containerStepOf(event, sscc), sscc);
  } catch (error) {
    if (error instanceof ProjectionError) throw error;
    throw new ProjectionError(event, (error as Error).message);
  }
}

/** The stored containers of some SSCCs (unknown ones left out). */
export type LoadCurrentContainers = (ssccs: string[]) => Promise<Container[]>;

/** Pure core of projectContainers: the containers that `events` (any order; applied in chain order) change. */
export function foldContainers(ssccs: readonly string[], current: readonly Container[], events: readonly ChainEvent[]): Container[] {
  const containers = new Map<string, Container | null>(ssccs.map((sscc) => [sscc, null]));
  for (const container of current) containers.set(container.sscc, container);
  const initial = new Map(containers);
  for (const event of [...events].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    for (const sscc of containerKeysOf(event)) {
      if (containers.has(sscc)) containers.set(sscc, reduceContainer(containers.get(sscc) ?? null, event, sscc));
    }
  }
  return [...containers]
    .filter(([sscc, container]) => container !== null && container !== initial.get(sscc))
    .map(([, container]) => container!);
}

/** Folds a range's events into the container documents to write: only those that changed. */
export async function projectContainers(events: readonly ChainEvent[], loadCurrent: LoadCurrentContainers): Promise<Container[]> {
  const ssccs = containerKeysOfAll(events);
  if (ssccs.length === 0) return [];
  return foldContainers(ssccs, await loadCurrent(ssccs), events);
}

/** A container as it was at the end of block `forkBlock`: null when created after it, else its history cut there and refolded. */
export function rollBackContainer(container: Container, forkBlock: number): Container | null {
  if (container.created.blockNumber > forkBlock) return null;
  let rolledBack: Container | null = null;
  for (const step of container.history) {
    if (step.at.blockNumber > forkBlock) break;
    rolledBack = applyContainerStep(rolledBack, step, container.sscc);
  }
  return rolledBack;
}

/** What a rollback to `forkBlock` writes and deletes of the given stored containers. */
export function rollBackContainers(
  stored: readonly Container[],
  forkBlock: number,
): { containers: Container[]; deleteContainerSsccs: string[] } {
  const containers: Container[] = [];
  const deleteContainerSsccs: string[] = [];
  for (const container of stored) {
    const rolledBack = rollBackContainer(container, forkBlock);
    if (rolledBack === null) deleteContainerSsccs.push(container.sscc);
    else containers.push(rolledBack);
  }
  return { containers, deleteContainerSsccs };
}
