/**
 * The MongoDB adapter's list filters: the queries they build, that mongoose (strictQuery "throw") accepts them
 * against the schemas, and that an index serves each filter in the list's sort order. No server needed: the
 * models are compiled on a connection that is never opened.
 */
import { expect } from "chai";
import mongoose from "mongoose";

import { DomainError } from "../../../backend/domain/errors.ts";
import {
  BATCH_SORT,
  batchFilter,
  EVENT_SORT,
  eventFilter,
  inKeyOrder,
  ORDER_SORT,
  orderFilter,
  PARTICIPANT_SORT,
  participantFilter,
  type MongoFilter,
  type MongoSort,
} from "../../../backend/store/mongo/filters.ts";
import { createModels, type MirrorModels } from "../../../backend/store/mongo/models.ts";
import { chainEventId } from "../../../backend/domain/model.ts";

const hex = (n: number) => `0x${n.toString(16).padStart(40, "0")}` as const;

describe("MongoDB store: list filters", function () {
  let connection: mongoose.Connection;
  let models: MirrorModels;

  before(function () {
    connection = mongoose.createConnection(); // compiled models, no server
    models = createModels(connection);
  });

  after(async function () {
    await connection.close();
  });

  /** What mongoose would send: the filter cast against the schema (throws on a path the schema lacks). */
  const cast = (model: mongoose.Model<any>, filter: MongoFilter) => model.find(filter).cast(); // eslint-disable-line @typescript-eslint/no-explicit-any

  /** True when some index starts with the equality fields and continues with the sort key. */
  function servedByIndex(model: mongoose.Model<any>, equality: string[], sort: MongoSort): boolean { // eslint-disable-line @typescript-eslint/no-explicit-any
    const wanted = [...equality, ...Object.keys(sort)];
    const indexes = model.schema.indexes().map(([fields]) => Object.keys(fields));
    if (equality.length === 0 && Object.keys(sort).join() === "_id") return true; // the built-in _id index
    return indexes.some((fields) => wanted.every((field, i) => fields[i] === field));
  }

  describe("events", function () {
    it("test_eventFilter_entityFields_matchArrayMembers_andAllMustMatch", function () {
      const query = eventFilter({ chainId: 31337, batchId: hex(1), orderId: hex(2), account: hex(3), name: "X", contract: "TradeEscrow" }, null);
      expect(query).to.deep.equal({ chainId: 31337, batchIds: hex(1), orderIds: hex(2), accounts: hex(3), name: "X", contract: "TradeEscrow" });
      expect(() => cast(models.events, query)).to.not.throw();
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
      expect(() => cast(models.events, query)).to.not.throw();
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
        expect(servedByIndex(models.events, [field], EVENT_SORT), field).to.equal(true);
      }
      expect(servedByIndex(models.events, [], EVENT_SORT)).to.equal(true);
    });
  });

  describe("projections", function () {
    it("test_batchFilter_everyField_andKeysetAfterCursor", function () {
      const filter = { gtin: "09506000134352", lot: "L1", manufacturer: hex(1), custodian: hex(2), status: "in_transit" as const, parentId: hex(3) };
      const query = batchFilter(filter, ["31337:000000000003:000001", hex(9)]);
      expect(query).to.deep.equal({
        ...filter,
        $or: [
          { "registered.eventId": { $gt: "31337:000000000003:000001" } },
          { "registered.eventId": "31337:000000000003:000001", _id: { $gt: hex(9) } },
        ],
      });
      expect(() => cast(models.batches, query)).to.not.throw();
      expect(batchFilter({}, null)).to.deep.equal({});
    });

    it("test_participantAndOrderFilters_castAgainstTheirSchemas", function () {
      const participants = participantFilter({ role: "CARRIER", suspended: false }, ["e", hex(1)]);
      expect(participants).to.deep.include({ roles: "CARRIER", suspended: false });
      expect(() => cast(models.participants, participants)).to.not.throw();
      const orders = orderFilter({ buyer: hex(1), seller: hex(2), carrier: hex(3), batchId: hex(4), state: "funded" }, ["e", hex(5)]);
      expect(() => cast(models.orders, orders)).to.not.throw();
      expect(() => participantFilter({ suspended: "yes" as never }, null)).to.throw(DomainError);
      expect(() => orderFilter({ buyer: { $gt: "" } as never }, null)).to.throw(DomainError);
    });

    it("test_aFieldTheSchemaLacks_isRefusedByMongoose_notDroppedFromTheFilter", function () {
      // strictQuery "throw": a typo would otherwise widen the query to every document.
      expect(() => cast(models.batches, { custodain: hex(1) })).to.throw(/custodain/);
    });

    it("test_projectionLists_areServedByIndexesInSortOrder", function () {
      for (const field of ["gtin", "lot", "manufacturer", "custodian", "status", "parentId"]) {
        expect(servedByIndex(models.batches, [field], BATCH_SORT), `batches.${field}`).to.equal(true);
      }
      expect(servedByIndex(models.batches, [], BATCH_SORT)).to.equal(true);
      for (const field of ["buyer", "seller", "carrier", "batchId", "state"]) {
        expect(servedByIndex(models.orders, [field], ORDER_SORT), `orders.${field}`).to.equal(true);
      }
      expect(servedByIndex(models.orders, [], ORDER_SORT)).to.equal(true);
      for (const field of ["roles", "suspended"]) {
        expect(servedByIndex(models.participants, [field], PARTICIPANT_SORT), `participants.${field}`).to.equal(true);
      }
      expect(servedByIndex(models.participants, [], PARTICIPANT_SORT)).to.equal(true);
    });

    it("test_uniqueIndexes_guardNaturalKeys", function () {
      const unique = (model: mongoose.Model<any>) => // eslint-disable-line @typescript-eslint/no-explicit-any
        model.schema.indexes().filter(([, options]) => options.unique === true).map(([fields]) => Object.keys(fields).join(","));
      expect(unique(models.batches)).to.deep.equal(["gtin,lot"]);
      expect(unique(models.blocks)).to.deep.equal(["chainId,number"]);
      expect(unique(models.claims)).to.deep.equal(["batchId,serial"]);
      expect(unique(models.serialChunks)).to.deep.equal(["serialRoot,index"]);
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
  let connection: mongoose.Connection;
  let models: MirrorModels;

  before(function () {
    connection = mongoose.createConnection();
    models = createModels(connection);
  });

  after(async function () {
    await connection.close();
  });

  it("test_projectionUpsertFilters_castUnderStrictQuery_andCarryTheBatchShardKey", async function () {
    const { projectionKeys, upsertFilter } = await import("../../../backend/store/mongo/mirror.ts");
    const { batchToDoc, orderToDoc, participantToDoc } = await import("../../../backend/store/mongo/mapping.ts");
    const { stateAt, supplyChainScenario } = await import("./fixtures.ts");
    const final = stateAt(supplyChainScenario(), 12);
    const batch = batchToDoc(final.batches[0]!);
    const filter = upsertFilter({ key: projectionKeys.batch, guardByLastEvent: true }, batch);
    expect(filter).to.deep.equal({ _id: batch._id, gtin: batch.gtin, lot: batch.lot, "lastEvent.eventId": { $lte: batch.lastEvent.eventId } });
    expect(() => models.batches.find(filter).cast()).to.not.throw();
    const participant = participantToDoc(final.participants[0]!);
    expect(() => models.participants.find(upsertFilter({ key: projectionKeys.participant, guardByLastEvent: true }, participant)).cast()).to.not.throw();
    const order = orderToDoc(final.orders[0]!);
    expect(upsertFilter({ key: projectionKeys.order, guardByLastEvent: false }, order)).to.deep.equal({ _id: order._id });
  });
});
