/**
 * The MongoDB adapter's list filters: the queries they build, that every path they query exists in the stored
 * documents (the domain objects stored whole), and that an index serves each filter in the list's sort order.
 * No server needed: the filters are pure functions and the indexes a declared list.
 */
import { expect } from "chai";

import { DomainError } from "../../../backend/domain/errors.ts";
import {
  BATCH_SORT,
  batchFilter,
  EVENT_SORT,
  eventFilter,
  inKeyOrder,
  ORDER_SORT,
  orderFilter,
  CONTAINER_SORT,
  containerFilter,
  PARTICIPANT_SORT,
  participantFilter,
  type MongoFilter,
  type MongoSort,
} from "../../../backend/store/mongo/filters.ts";
import { COLLECTIONS, documents, type CollectionSpec, type MongoDocument } from "../../../backend/store/mongo/collections.ts";
import { chainEventId } from "../../../backend/domain/model.ts";
import { eventsThrough, stateAt, supplyChainScenario } from "./fixtures.ts";

const hex = (n: number) => `0x${n.toString(16).padStart(40, "0")}` as const;

/** The value at a dotted path of a document ("registered.eventId"). */
function valueAt(document: MongoDocument, path: string): unknown {
  return path
    .split(".")
    .reduce<unknown>(
      (value, key) => (value === null || value === undefined ? undefined : (value as Record<string, unknown>)[key]),
      document,
    );
}

/** Every field path a filter queries (inside $or too), operators left out. */
function filterPaths(filter: MongoFilter): string[] {
  return Object.entries(filter).flatMap(([key, value]) =>
    key === "$or" ? (value as MongoFilter[]).flatMap(filterPaths) : key.startsWith("$") ? [] : [key],
  );
}

describe("MongoDB store: list filters", function () {
  const scenario = supplyChainScenario();
  const final = stateAt(scenario, 12);
  const stored = {
    events: eventsThrough(scenario).map((event) => documents.event.toDocument(event)),
    batches: final.batches.map((batch) => documents.batch.toDocument(batch)),
    participants: final.participants.map((participant) => documents.participant.toDocument(participant)),
    orders: final.orders.map((order) => documents.order.toDocument(order)),
  };

  /** A typo in a filter would match nothing: every path it queries must exist in some stored document. */
  function expectPathsStored(collection: keyof typeof stored, filter: MongoFilter): void {
    for (const path of filterPaths(filter)) {
      expect(
        stored[collection].some((doc) => valueAt(doc, path) !== undefined),
        `${collection}.${path}`,
      ).to.equal(true);
    }
  }

  /** True when some index starts with the equality fields and continues with the sort key. */
  function servedByIndex(spec: CollectionSpec, equality: string[], sort: MongoSort): boolean {
    const wanted = [...equality, ...Object.keys(sort)];
    const indexes = spec.indexes.map((index) => Object.keys(index.key));
    if (equality.length === 0 && Object.keys(sort).join() === "_id") return true; // the built-in _id index
    return indexes.some((fields) => wanted.every((field, i) => fields[i] === field));
  }

  describe("events", function () {
    it("test_eventFilter_entityFields_matchArrayMembers_andAllMustMatch", function () {
      const query = eventFilter(
        { chainId: 31337, batchId: hex(1), orderId: hex(2), account: hex(3), name: "X", contract: "TradeEscrow" },
        null,
      );
      expect(query).to.deep.equal({
        chainId: 31337,
        batchIds: hex(1),
        orderIds: hex(2),
        accounts: hex(3),
        name: "X",
        contract: "TradeEscrow",
      });
      expectPathsStored("events", query);
    });

    it("test_eventFilter_blockRangeOfOneChain_alsoBoundsTheIdRange", function () {
      const query = eventFilter({ chainId: 31337, fromBlock: 3, toBlock: 6 }, null);
      expect(query).to.deep.equal({
        chainId: 31337,
        blockNumber: { $gte: 3, $lte: 6 },
        _id: { $gte: chainEventId(31337, 3, 0), $lt: chainEventId(31337, 7, 0) },
      });
      // Every id of blocks 3..6 is inside the bounds, none of 2 or 7 is.
      const inside = (id: string) => id >= chainEventId(31337, 3, 0) && id < chainEventId(31337, 7, 0);
      expect(inside(chainEventId(31337, 3, 0))).to.equal(true);
      expect(inside(chainEventId(31337, 6, 999_999))).to.equal(true);
      expect(inside(chainEventId(31337, 2, 999_999))).to.equal(false);
      expect(inside(chainEventId(31337, 7, 0))).to.equal(false);
      expectPathsStored("events", query);
    });

    it("test_eventFilter_blockRangeWithoutChain_filtersBlockNumberOnly", function () {
      expect(eventFilter({ fromBlock: 8 }, null)).to.deep.equal({ blockNumber: { $gte: 8 } });
    });

    it("test_eventFilter_afterCursor_combinesWithTheIdBounds", function () {
      const after = chainEventId(31337, 4, 2);
      expect(eventFilter({ chainId: 31337, fromBlock: 3 }, [after])).to.deep.equal({
        chainId: 31337,
        blockNumber: { $gte: 3 },
        _id: { $gte: chainEventId(31337, 3, 0), $gt: after },
      });
      expect(eventFilter({}, [after])).to.deep.equal({ _id: { $gt: after } });
    });

    it("test_eventFilter_valuesOfTheWrongType_are400_notOperators", function () {
      const bad: Array<Record<string, unknown>> = [
        { batchId: { $ne: null } },
        { account: ["0x1"] },
        { chainId: "31337" },
        { chainId: 1.5 },
        { fromBlock: -1 },
        { toBlock: Number.NaN },
        { name: { $regex: ".*" } },
      ];
      for (const filter of bad) {
        expect(() => eventFilter(filter as never, null), JSON.stringify(filter)).to.throw(DomainError);
      }
    });

    it("test_eventLists_areServedByIndexesInIdOrder", function () {
      for (const field of ["batchIds", "orderIds", "accounts", "transactionHash", "name"]) {
        expect(servedByIndex(COLLECTIONS.events, [field], EVENT_SORT), field).to.equal(true);
      }
      expect(servedByIndex(COLLECTIONS.events, [], EVENT_SORT)).to.equal(true);
    });
  });

  describe("projections", function () {
    it("test_batchFilter_everyField_andKeysetAfterCursor", function () {
      const filter = {
        gtin: "09506000134352",
        lot: "L1",
        manufacturer: hex(1),
        custodian: hex(2),
        status: "in_transit" as const,
        parentId: hex(3),
      };
      const query = batchFilter(filter, ["31337:000000000003:000001", hex(9)]);
      expect(query).to.deep.equal({
        ...filter,
        $or: [
          { "registered.eventId": { $gt: "31337:000000000003:000001" } },
          { "registered.eventId": "31337:000000000003:000001", _id: { $gt: hex(9) } },
        ],
      });
      expectPathsStored("batches", query);
      expect(batchFilter({}, null)).to.deep.equal({});
    });

    it("test_participantAndOrderFilters_queryPathsOfTheirDocuments", function () {
      const participants = participantFilter({ role: "CARRIER", suspended: false }, ["e", hex(1)]);
      expect(participants).to.deep.include({ roles: "CARRIER", suspended: false });
      expectPathsStored("participants", participants);
      const orders = orderFilter({ buyer: hex(1), seller: hex(2), carrier: hex(3), batchId: hex(4), state: "funded" }, ["e", hex(5)]);
      expectPathsStored("orders", orders);
      expect(() => participantFilter({ suspended: "yes" as never }, null)).to.throw(DomainError);
      expect(() => orderFilter({ buyer: { $gt: "" } as never }, null)).to.throw(DomainError);
    });

    it("test_expectPathsStored_aMistypedField_isCaught", function () {
      // The check above must be able to fail: a typo ("custodain") is a path no stored batch has.
      expect(() => expectPathsStored("batches", { custodain: hex(1) })).to.throw(/batches.custodain/);
    });

    it("test_projectionLists_areServedByIndexesInSortOrder", function () {
      for (const field of ["gtin", "lot", "manufacturer", "custodian", "status", "parentId"]) {
        expect(servedByIndex(COLLECTIONS.batches, [field], BATCH_SORT), `batches.${field}`).to.equal(true);
      }
      expect(servedByIndex(COLLECTIONS.batches, [], BATCH_SORT)).to.equal(true);
      for (const field of ["buyer", "seller", "carrier", "batchId", "state"]) {
        expect(servedByIndex(COLLECTIONS.orders, [field], ORDER_SORT), `orders.${field}`).to.equal(true);
      }
      expect(servedByIndex(COLLECTIONS.orders, [], ORDER_SORT)).to.equal(true);
      for (const field of ["roles", "suspended"]) {
        expect(servedByIndex(COLLECTIONS.participants, [field], PARTICIPANT_SORT), `participants.${field}`).to.equal(true);
      }
      expect(servedByIndex(COLLECTIONS.participants, [], PARTICIPANT_SORT)).to.equal(true);
    });

    it("test_containerFilter_fieldsOfTheDocument_servedByIndexes_andRefusesOperators", function () {
      const sample = documents.container.toDocument({
        sscc: "084123450000001011",
        creator: hex(1),
        custodian: hex(2),
        pendingHandoff: null,
        locationGln: "8712345000202",
        parentSscc: null,
        state: "open",
        batchIds: [`0x${"ab".repeat(32)}`],
        containerSsccs: [],
        recallFlaggedBatchIds: [],
        history: [],
        created: { eventId: "e", blockNumber: 1, blockTimestamp: 1, transactionHash: `0x${"cd".repeat(32)}` },
        lastEvent: { eventId: "e", blockNumber: 1, blockTimestamp: 1, transactionHash: `0x${"cd".repeat(32)}` },
      });
      const filter = containerFilter({ custodian: hex(2), batchId: `0x${"ab".repeat(32)}`, parentSscc: null }, ["e", "0"]);
      expect(filter).to.deep.include({ custodian: hex(2), batchIds: `0x${"ab".repeat(32)}`, parentSscc: null });
      for (const path of filterPaths(filter)) expect(valueAt(sample, path), `containers.${path}`).to.not.equal(undefined);
      expect(containerFilter({ parentSscc: "084123450000001011" }, null)).to.deep.equal({ parentSscc: "084123450000001011" });
      for (const field of ["custodian", "batchIds", "parentSscc"]) {
        expect(servedByIndex(COLLECTIONS.containers, [field], CONTAINER_SORT), `containers.${field}`).to.equal(true);
      }
      expect(servedByIndex(COLLECTIONS.containers, [], CONTAINER_SORT)).to.equal(true);
      expect(() => containerFilter({ batchId: { $ne: null } as never }, null)).to.throw(DomainError);
      expect(() => containerFilter({ parentSscc: { $gt: "" } as never }, null)).to.throw(DomainError);
    });

    it("test_uniqueIndexes_guardNaturalKeys", function () {
      const unique = (spec: CollectionSpec) =>
        spec.indexes.filter((index) => index.unique === true).map((index) => Object.keys(index.key).join(","));
      expect(unique(COLLECTIONS.batches)).to.deep.equal(["gtin,lot"]);
      expect(unique(COLLECTIONS.blocks)).to.deep.equal(["chainId,number"]);
      expect(unique(COLLECTIONS.claims)).to.deep.equal(["batchId,serial"]);
      expect(unique(COLLECTIONS.serialChunks)).to.deep.equal(["serialRoot,index"]);
    });
  });

  describe("inKeyOrder", function () {
    it("test_inKeyOrder_argumentOrder_onceEach_unknownLeftOut", function () {
      const docs = [{ _id: "b" }, { _id: "a" }];
      expect(inKeyOrder(["a", "x", "b", "a"], docs, (doc) => doc._id)).to.deep.equal([{ _id: "a" }, { _id: "b" }]);
    });
  });
});

describe("MongoDB store: write filters", function () {
  it("test_projectionUpsertFilters_carryTheBatchShardKey_andTheLastEventGuard", async function () {
    const { projectionKeys } = await import("../../../backend/store/mongo/projections.ts");
    const { upsertFilter } = await import("../../../backend/store/mongo/bulk-writes.ts");
    const final = stateAt(supplyChainScenario(), 12);
    const batch = documents.batch.toDocument(final.batches[0]!);
    const filter = upsertFilter({ key: projectionKeys.batch, guardByLastEvent: true }, batch);
    expect(filter).to.deep.equal({
      _id: batch._id,
      gtin: batch.gtin,
      lot: batch.lot,
      "lastEvent.eventId": { $lte: batch.lastEvent.eventId },
    });
    for (const path of filterPaths(filter)) expect(valueAt(batch, path), path).to.not.equal(undefined);
    const participant = documents.participant.toDocument(final.participants[0]!);
    expect(upsertFilter({ key: projectionKeys.participant, guardByLastEvent: true }, participant)).to.deep.equal({
      _id: participant._id,
      "lastEvent.eventId": { $lte: participant.lastEvent.eventId },
    });
    const order = documents.order.toDocument(final.orders[0]!);
    expect(upsertFilter({ key: projectionKeys.order, guardByLastEvent: false }, order)).to.deep.equal({ _id: order._id });
  });
});
