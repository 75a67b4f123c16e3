/**
 * Port types <-> MongoDB documents, through the real mongoose 9 schemas and the driver's BSON codec: what
 * mongoose would send for a write is serialised and read back the way a lean() query returns it, and must map
 * back to a value deep-equal to the one written. No server needed: the models are compiled on a connection
 * that is never opened.
 */
import { expect } from "chai";
import mongoose from "mongoose";

import {
  assertComplete,
  batchFromDoc,
  batchToDoc,
  blockFromDoc,
  blockToDoc,
  checkpointFromDoc,
  checkpointToDoc,
  chunkSerials,
  claimFromDoc,
  claimToDoc,
  eventFromDoc,
  eventToDoc,
  orderFromDoc,
  orderToDoc,
  participantFromDoc,
  participantToDoc,
  relayFromDoc,
  relayPatchToSet,
  relayToDoc,
} from "../../../backend/store/mongo/mapping.ts";
import { createModels, type MirrorModels } from "../../../backend/store/mongo/models.ts";
import { mergeRegionStats } from "../../../backend/store/mongo/passports.ts";
import type { Batch } from "../../../backend/domain/model.ts";
import { bytes32, eventsThrough, relayRequest, serials, stateAt, supplyChainScenario } from "./fixtures.ts";

const { BSON } = mongoose.mongo;

describe("MongoDB store: documents", function () {
  let connection: mongoose.Connection;
  let models: MirrorModels;
  const scenario = supplyChainScenario();
  const final = stateAt(scenario, 12);

  before(function () {
    connection = mongoose.createConnection();
    models = createModels(connection);
  });

  after(async function () {
    await connection.close();
  });

  /**
   * What the server would store and give back: mongoose casts and validates the document (as bulkWrite's
   * insertOne/replaceOne do), the driver serialises it, and a lean read deserialises the BSON.
   */
  async function throughMongo<T>(model: mongoose.Model<any>, doc: object): Promise<T> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const hydrated = new model(doc);
    await hydrated.validate();
    return BSON.deserialize(BSON.serialize(hydrated.toBSON())) as T;
  }

  it("test_events_roundTripExactly_throughMongoose", async function () {
    const events = eventsThrough(scenario);
    expect(events.length).to.be.greaterThan(10);
    for (const event of events) {
      const stored = await throughMongo<ReturnType<typeof eventToDoc>>(models.events, eventToDoc(event));
      expect(stored._id).to.equal(event.id);
      expect(eventFromDoc(stored)).to.deep.equal(event);
    }
  });

  it("test_eventArgs_keepNestedValues_emptyObjects_andNumberTypes", async function () {
    const event = {
      ...eventsThrough(scenario)[0]!,
      args: { empty: {}, list: [], nested: { deep: [1, -2.5, "3", true, null, { x: "" }] }, big: "115792089237316195423570985008687907853269984665640564039457584007913129639935", n: 2 ** 40 },
    };
    const stored = await throughMongo<ReturnType<typeof eventToDoc>>(models.events, eventToDoc(event));
    expect(eventFromDoc(stored)).to.deep.equal(event);
    expect(typeof (stored.args.n as number)).to.equal("number");
  });

  it("test_projections_roundTripExactly_throughMongoose", async function () {
    expect(final.batches.length).to.equal(5);
    for (const batch of final.batches) {
      expect(batchFromDoc(await throughMongo(models.batches, batchToDoc(batch)))).to.deep.equal(batch);
    }
    for (const participant of final.participants) {
      expect(participantFromDoc(await throughMongo(models.participants, participantToDoc(participant)))).to.deep.equal(participant);
    }
    for (const order of final.orders) {
      expect(orderFromDoc(await throughMongo(models.orders, orderToDoc(order)))).to.deep.equal(order);
    }
  });

  it("test_batch_nullableFields_andRecall_roundTrip", async function () {
    const recalled = final.batches.find((doc) => doc.recall !== null)!;
    const registered = final.batches.find((doc) => doc.recall === null && doc.parentId === null)!;
    expect(recalled, "fixture has a recalled batch").to.not.equal(undefined);
    const withPending: Batch = { ...registered, pendingCustodian: scenario.accounts.carrier, inspection: "failed" };
    for (const batch of [recalled, registered, withPending]) {
      const stored = await throughMongo<Record<string, unknown>>(models.batches, batchToDoc(batch));
      expect(batchFromDoc(stored as never)).to.deep.equal(batch);
      expect(Object.keys(stored), "no adapter fields but _id").to.not.include.members(["__v", "id", "batchId"]);
    }
  });

  it("test_blocksCheckpointsClaimsRelays_roundTrip", async function () {
    for (const step of scenario.steps) expect(blockFromDoc(await throughMongo(models.blocks, blockToDoc(step.block)))).to.deep.equal(step.block);
    const checkpoints = [
      { chainId: 31337, blockNumber: 12, blockHash: bytes32("h"), updatedAt: 1_767_225_600_123 },
      { chainId: 1, blockNumber: 0, blockHash: null, updatedAt: 1 },
    ];
    for (const checkpoint of checkpoints) {
      expect(checkpointFromDoc(await throughMongo(models.checkpoints, checkpointToDoc(checkpoint)))).to.deep.equal(checkpoint);
    }
    const claim = { batchId: bytes32("b"), serial: "SN-1", owner: "0xowner", claimedAt: 5 };
    expect(claimFromDoc(await throughMongo(models.claims, claimToDoc(claim)))).to.deep.equal(claim);
    const mined = relayRequest("mined", { status: "mined", transactionHash: bytes32("tx"), relayerNonce: 3, gasPrice: "7", blockNumber: 9, attempts: 2 });
    for (const request of [relayRequest("queued"), mined, relayRequest("keeper", { kind: "keeper", signature: "0x" })]) {
      expect(relayFromDoc(await throughMongo(models.relays, relayToDoc(request)))).to.deep.equal(request);
    }
  });

  it("test_rollbackItem_keepsTheRecomputedProjectionVerbatim", async function () {
    const batch = final.batches[0]!;
    const item = { _id: "31337:t:0", chainId: 31337, token: "t", seq: 0, kind: "batch", key: batch.batchId, doc: batchToDoc(batch) };
    const stored = await throughMongo<{ doc: ReturnType<typeof batchToDoc> }>(models.rollbackItems, item);
    expect(batchFromDoc(stored.doc)).to.deep.equal(batch);
    const deletion = await throughMongo<{ doc: unknown }>(models.rollbackItems, { ...item, doc: null });
    expect(deletion.doc).to.equal(null);
  });

  it("test_unknownField_isRefused_notDropped", async function () {
    const doc = { ...batchToDoc(final.batches[0]!), colour: "red" };
    expect(() => new models.batches(doc)).to.throw(/colour/);
  });

  it("test_wrongEnumValue_failsValidation", async function () {
    const doc = { ...batchToDoc(final.batches[0]!), status: "lost" };
    let failure: unknown;
    try {
      await new models.batches(doc).validate();
    } catch (error) {
      failure = error;
    }
    expect(failure).to.be.instanceOf(mongoose.Error.ValidationError);
  });

  it("test_missingField_isNamedBeforeAnyWrite", function () {
    const { gln: _gln, ...incomplete } = final.participants[0]!;
    expect(() => participantToDoc(incomplete as never)).to.throw(TypeError, /"gln"/);
    expect(() => batchToDoc({ ...final.batches[0]!, lastEvent: undefined } as never)).to.throw(TypeError, /lastEvent/);
    expect(() => assertComplete("x", { a: null, b: 0, c: "" })).to.not.throw();
  });

  describe("relay patches", function () {
    it("test_relayPatchToSet_dropsIdAndUndefined_keepsNull", function () {
      expect(relayPatchToSet({ id: "0xother", status: "queued", error: null, gasPrice: undefined })).to.deep.equal({ status: "queued", error: null });
    });

    it("test_relayPatchToSet_unknownField_isRefused", function () {
      expect(() => relayPatchToSet({ colour: "red" } as never)).to.throw(TypeError, /colour/);
    });
  });

  describe("serial chunks", function () {
    it("test_chunkSerials_100000_stayFarBelowTheDocumentLimit_andKeepOrder", function () {
      const list = serials(100_000, "SN-TOM-2026");
      const chunks = chunkSerials(list);
      expect(chunks.flat()).to.deep.equal(list);
      expect(chunks.length).to.equal(5);
      for (const [index, chunk] of chunks.entries()) {
        const size = BSON.calculateObjectSize({ _id: `${bytes32("root")}:${index}`, serialRoot: bytes32("root"), index, serials: chunk });
        expect(size).to.be.below(16 * 1024 * 1024);
      }
    });

    it("test_chunkSerials_longSerials_splitByBytes", function () {
      const long = Array.from({ length: 100 }, (_, i) => `${"x".repeat(100_000)}-${i}`); // ~10 MB in total
      const chunks = chunkSerials(long);
      expect(chunks.flat()).to.deep.equal(long);
      for (const chunk of chunks) expect(BSON.calculateObjectSize({ serials: chunk })).to.be.at.most(4 * 1024 * 1024 + 1024);
      expect(chunkSerials([])).to.deep.equal([]);
    });

    it("test_serialChunk_roundTripsExactly_throughMongoose", async function () {
      const list = ["B-2", "A-1", "x/y%z", "\"quoted\"", "a+b=c;d<e>f?_!'&(*),:.", "", "ünïcødé", "nul\u0000inside"];
      const stored = await throughMongo<{ serials: string[] }>(models.serialChunks, { _id: "r:0", serialRoot: bytes32("r"), index: 0, serials: list });
      expect(stored.serials).to.deep.equal(list);
    });
  });

  describe("scan statistics", function () {
    it("test_mergeRegionStats_totals_andRegionOrder", function () {
      const rows = [
        { _id: "unknown", total: 1, firstAt: 50, lastAt: 50, recent: 1 },
        { _id: "NL", total: 2, firstAt: 10, lastAt: 90, recent: 0 },
        { _id: "AT", total: 2, firstAt: 20, lastAt: 30, recent: 2 },
        { _id: "BE", total: 1, firstAt: 5, lastAt: 5, recent: 0 },
      ];
      expect(mergeRegionStats(rows)).to.deep.equal({ total: 6, regions: ["AT", "NL", "BE", "unknown"], firstAt: 5, lastAt: 90, recent: 3 });
      expect(mergeRegionStats([])).to.deep.equal({ total: 0, regions: [], firstAt: null, lastAt: null, recent: 0 });
    });
  });
});
