/**
 * MongoDB filters for the paginated lists: the caller's filter (every given field must match) AND the keyset
 * condition "after the cursor" in the list's sort order. Pure functions, tested without a server.
 *
 * Values are checked for their type here because a filter object is the one place where a caller's value
 * becomes part of a query: an object where a string belongs ({ $ne: null }) would turn a lookup into an
 * operator, so it is refused with an "invalid-input" DomainError (a 400 at the API) instead.
 */
import { invalidInput } from "../../domain/errors.ts";
import { chainEventId } from "../../domain/model.ts";
import type { BatchFilter, ContainerFilter, EventFilter, OrderFilter, ParticipantFilter } from "../port.ts";

export type MongoFilter = Record<string, unknown>;
export type MongoSort = Record<string, 1>;

/** Highest block number chainEventId can pad (12 digits); beyond it ids stop sorting by block. */
const MAX_PADDED_BLOCK = 999_999_999_999;

function invalidFilter(field: string, expected: string): never {
  throw invalidInput("Invalid filter", { errors: [{ in: "query", path: field, message: `must be ${expected}` }] });
}

function text(field: string, value: unknown): string {
  if (typeof value !== "string") invalidFilter(field, "a string");
  return value;
}

function wholeNumber(field: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) invalidFilter(field, "a non-negative integer");
  return value;
}

function flag(field: string, value: unknown): boolean {
  if (typeof value !== "boolean") invalidFilter(field, "true or false");
  return value;
}

// --- events: sorted by id (= _id) ----------------------------------------------------------------------------

export const EVENT_SORT: MongoSort = { _id: 1 };

export function eventFilter(filter: EventFilter, after: string[] | null): MongoFilter {
  const query: MongoFilter = {};
  const id: Record<string, string> = {};
  if (filter.chainId !== undefined) query.chainId = wholeNumber("chainId", filter.chainId);
  // The entity arrays are multikey: { batchIds: x } matches when x is one of the event's batch ids.
  if (filter.batchId !== undefined) query.batchIds = text("batchId", filter.batchId);
  if (filter.orderId !== undefined) query.orderIds = text("orderId", filter.orderId);
  if (filter.account !== undefined) query.accounts = text("account", filter.account);
  if (filter.transactionHash !== undefined) query.transactionHash = text("transactionHash", filter.transactionHash);
  if (filter.contract !== undefined) query.contract = text("contract", filter.contract);
  if (filter.name !== undefined) query.name = text("name", filter.name);
  const blockNumber: Record<string, number> = {};
  if (filter.fromBlock !== undefined) blockNumber.$gte = wholeNumber("fromBlock", filter.fromBlock);
  if (filter.toBlock !== undefined) blockNumber.$lte = wholeNumber("toBlock", filter.toBlock);
  if (Object.keys(blockNumber).length > 0) {
    query.blockNumber = blockNumber;
    // Ids of one chain sort by block, so a block range of one chain is also an _id range: the planner can
    // then walk the _id index in sort order and stop after the page instead of sorting every match.
    if (filter.chainId !== undefined) {
      if (filter.fromBlock !== undefined && filter.fromBlock <= MAX_PADDED_BLOCK) {
        id.$gte = chainEventId(filter.chainId, filter.fromBlock, 0);
      }
      if (filter.toBlock !== undefined && filter.toBlock < MAX_PADDED_BLOCK) {
        id.$lt = chainEventId(filter.chainId, filter.toBlock + 1, 0);
      }
    }
  }
  if (after !== null) id.$gt = after[0];
  if (Object.keys(id).length > 0) query._id = id;
  return query;
}

// --- projections: sorted by (creation event id, natural key) -------------------------------------------------

function keysetAfter(sortField: string, after: string[] | null): MongoFilter {
  if (after === null) return {};
  const [eventId, key] = after;
  return { $or: [{ [sortField]: { $gt: eventId } }, { [sortField]: eventId, _id: { $gt: key } }] };
}

export const BATCH_SORT: MongoSort = { "registered.eventId": 1, _id: 1 };

export function batchFilter(filter: BatchFilter, after: string[] | null): MongoFilter {
  const query: MongoFilter = {};
  if (filter.gtin !== undefined) query.gtin = text("gtin", filter.gtin);
  if (filter.lot !== undefined) query.lot = text("lot", filter.lot);
  if (filter.manufacturer !== undefined) query.manufacturer = text("manufacturer", filter.manufacturer);
  if (filter.custodian !== undefined) query.custodian = text("custodian", filter.custodian);
  if (filter.status !== undefined) query.status = text("status", filter.status);
  if (filter.parentId !== undefined) query.parentId = text("parentId", filter.parentId);
  return { ...query, ...keysetAfter("registered.eventId", after) };
}

export const PARTICIPANT_SORT: MongoSort = { "onboarded.eventId": 1, _id: 1 };

export function participantFilter(filter: ParticipantFilter, after: string[] | null): MongoFilter {
  const query: MongoFilter = {};
  if (filter.role !== undefined) query.roles = text("role", filter.role);
  if (filter.suspended !== undefined) query.suspended = flag("suspended", filter.suspended);
  return { ...query, ...keysetAfter("onboarded.eventId", after) };
}

export const ORDER_SORT: MongoSort = { "opened.eventId": 1, _id: 1 };

export function orderFilter(filter: OrderFilter, after: string[] | null): MongoFilter {
  const query: MongoFilter = {};
  if (filter.buyer !== undefined) query.buyer = text("buyer", filter.buyer);
  if (filter.seller !== undefined) query.seller = text("seller", filter.seller);
  if (filter.carrier !== undefined) query.carrier = text("carrier", filter.carrier);
  if (filter.batchId !== undefined) query.batchId = text("batchId", filter.batchId);
  if (filter.state !== undefined) query.state = text("state", filter.state);
  return { ...query, ...keysetAfter("opened.eventId", after) };
}

export const CONTAINER_SORT: MongoSort = { "created.eventId": 1, _id: 1 };

export function containerFilter(filter: ContainerFilter, after: string[] | null): MongoFilter {
  const query: MongoFilter = {};
  if (filter.custodian !== undefined) query.custodian = text("custodian", filter.custodian);
  // batchIds is multikey: { batchIds: x } matches the container holding x.
  if (filter.batchId !== undefined) query.batchIds = text("batchId", filter.batchId);
  if (filter.parentSscc !== undefined) query.parentSscc = filter.parentSscc === null ? null : text("parentSscc", filter.parentSscc);
  return { ...query, ...keysetAfter("created.eventId", after) };
}

/** Distinct keys in first-occurrence order (getBatches & co. return each document once, in that order). */
export function distinctInOrder<T>(keys: T[]): T[] {
  return [...new Set(keys)];
}

/** Orders documents found by key like the keys asked for, leaving out unknown ones. */
export function inKeyOrder<Doc, Key>(keys: Key[], docs: Doc[], keyOf: (doc: Doc) => Key): Doc[] {
  const byKey = new Map(docs.map((doc) => [keyOf(doc), doc]));
  const ordered: Doc[] = [];
  for (const key of distinctInOrder(keys)) {
    const doc = byKey.get(key);
    if (doc !== undefined) ordered.push(doc);
  }
  return ordered;
}
