/**
 * Domain objects <-> MongoDB documents (collections.ts): each object is stored whole with its natural key as
 * `_id`. Through the driver's BSON codec, what the adapter would send is serialised and read back the way a
 * query returns it, and must map back to a value deep-equal to the one written. No server needed.
 */
import { expect } from "chai";
import { encodeContribution, orderContribution } from "../../../backend/reputation/track-record.ts";
import mongoose from "mongoose";

import { COLLECTIONS, documents, withoutUndefined, type FieldPath, type MongoDocument } from "../../../backend/store/mongo/collections.ts";
import { rollbackItemsOf } from "../../../backend/store/mongo/mirror-log.ts";
import { chunkSerials, mergeRegionStats } from "../../../backend/store/mongo/passport-records.ts";
import { relayPatchToSet } from "../../../backend/store/mongo/relay-queue.ts";
import type {
  Batch,
  ChainEvent,
  DesignLinkChange,
  DesignRegistration,
  Order,
  Participant,
  Transformation,
} from "../../../backend/domain/model.ts";
import { bytes32, eventsThrough, relayRequest, serials, stateAt, supplyChainScenario } from "./fixtures.ts";

const { BSON } = mongoose.mongo;

/** What the server would store and give back: the document serialised to BSON and read as a query returns it. */
function throughBson(document: MongoDocument): MongoDocument {
  return BSON.deserialize(BSON.serialize(document)) as MongoDocument;
}

describe("MongoDB store: documents", function () {
  const scenario = supplyChainScenario();
  const final = stateAt(scenario, 12);

  describe("whole-document round trip", function () {
    it("test_events_roundTripExactly_throughBson", function () {
      const events = eventsThrough(scenario);
      expect(events.length).to.be.greaterThan(10);
      for (const event of events) {
        const stored = throughBson(documents.event.toDocument(event));
        expect(stored._id).to.equal(event.id);
        expect(documents.event.fromDocument(stored)).to.deep.equal(event);
      }
    });

    it("test_eventArgs_keepNestedValues_emptyObjects_andNumberTypes", function () {
      const event = {
        ...eventsThrough(scenario)[0]!,
        args: {
          empty: {},
          list: [],
          nested: { deep: [1, -2.5, "3", true, null, { x: "" }] },
          big: "115792089237316195423570985008687907853269984665640564039457584007913129639935",
          n: 2 ** 40,
          small: 7,
        },
      };
      const stored = throughBson(documents.event.toDocument(event));
      expect(documents.event.fromDocument(stored)).to.deep.equal(event);
      expect(typeof stored.args.n).to.equal("number");
      expect(typeof stored.args.small).to.equal("number");
      expect(stored.args.empty).to.deep.equal({});
    });

    it("test_projections_roundTripExactly_throughBson", function () {
      expect(final.batches.length).to.equal(5);
      for (const batch of final.batches)
        expect(documents.batch.fromDocument(throughBson(documents.batch.toDocument(batch)))).to.deep.equal(batch);
      for (const participant of final.participants) {
        expect(documents.participant.fromDocument(throughBson(documents.participant.toDocument(participant)))).to.deep.equal(participant);
      }
      for (const order of final.orders)
        expect(documents.order.fromDocument(throughBson(documents.order.toDocument(order)))).to.deep.equal(order);
    });

    it("test_designRecords_roundTripExactly_throughBson_keyedByTheirEventId", function () {
      const registration: DesignRegistration = {
        eventId: "31337:000000000007:000002",
        chainId: 31337,
        blockNumber: 7,
        transactionHash: bytes32("tx"),
        registrant: `0x${"ab".repeat(20)}`,
        root: bytes32("root"),
        registeredAt: 1_767_225_684,
        title: "Bottle 2027",
        licence: "",
        licenceHash: `0x${"00".repeat(32)}`,
      };
      const stored = throughBson(documents.designRegistration.toDocument(registration));
      expect(stored._id).to.equal(registration.eventId);
      expect(documents.designRegistration.fromDocument(stored)).to.deep.equal(registration);
      const change: DesignLinkChange = {
        eventId: "31337:000000000008:000000",
        chainId: 31337,
        blockNumber: 8,
        transactionHash: bytes32("tx2"),
        gtin: "08412345000102",
        registrant: registration.registrant,
        root: registration.root,
        linked: false,
        by: registration.registrant,
        at: 1_767_225_696,
      };
      expect(documents.designLinkChange.fromDocument(throughBson(documents.designLinkChange.toDocument(change)))).to.deep.equal(change);
    });

    it("test_batch_nullableFields_andRecall_roundTrip", function () {
      const recalled = final.batches.find((doc) => doc.recall !== null)!;
      const registered = final.batches.find((doc) => doc.recall === null && doc.parentId === null)!;
      expect(recalled, "fixture has a recalled batch").to.not.equal(undefined);
      const withPending: Batch = { ...registered, pendingCustodian: scenario.accounts.carrier, inspection: "failed" };
      for (const batch of [recalled, registered, withPending]) {
        const stored = throughBson(documents.batch.toDocument(batch));
        expect(documents.batch.fromDocument(stored)).to.deep.equal(batch);
        expect(Object.keys(stored), "the key is stored once, as _id").to.not.include.members(["__v", "id", "batchId"]);
      }
    });

    it("test_toDocument_naturalKeyIsTheId_everyOtherFieldAsGiven", function () {
      const order = final.orders[0]!;
      const { orderId, ...fields } = order;
      // Plus the order's track-record share (withTrackRecord), which reads drop again.
      const contribution = orderContribution(order);
      expect(documents.order.toDocument(order)).to.deep.equal({
        _id: orderId,
        ...fields,
        trackRecord: { participants: Object.keys(contribution.counts), contribution: encodeContribution(contribution) },
      });
      expect(Object.keys(contribution.counts)).to.include(order.seller);
      const checkpoint = { chainId: 31337, blockNumber: 12, blockHash: bytes32("h"), updatedAt: 5 };
      expect(documents.checkpoint.toDocument(checkpoint)).to.deep.equal({
        _id: 31337,
        blockNumber: 12,
        blockHash: bytes32("h"),
        updatedAt: 5,
      });
      const block = scenario.steps[0]!.block;
      expect(documents.block.toDocument(block)).to.deep.equal({ _id: `${block.chainId}:${block.number}`, ...block });
    });

    it("test_fromDocument_stripsTheId_andKeepsAFieldTheAdapterDoesNotKnow", function () {
      // A field added to the domain model later is stored and read back with no change to the adapter.
      const participant = { ...final.participants[0]!, telemetry: { sensors: 3 } } as Participant;
      expect(documents.participant.fromDocument(throughBson(documents.participant.toDocument(participant)))).to.deep.equal(participant);
      const claim = { batchId: bytes32("b"), serial: "SN-1", owner: "0xowner", claimedAt: 5 };
      const withServerId = { ...documents.claim.toDocument(claim), _id: new BSON.ObjectId() };
      expect(documents.claim.fromDocument(throughBson(withServerId))).to.deep.equal(claim);
    });

    it("test_toDocument_undefinedFields_areDropped_likeJson", function () {
      const order = {
        ...final.orders[0]!,
        refundReason: undefined,
        payouts: { buyer: "1", seller: undefined },
      } as unknown as Order;
      const stored = throughBson(documents.order.toDocument(order));
      expect(stored).to.not.have.property("refundReason");
      expect(stored.payouts).to.deep.equal({ buyer: "1" });
      expect(documents.order.fromDocument(stored)).to.deep.equal(JSON.parse(JSON.stringify(order)));
      expect(withoutUndefined({ a: null, b: 0, c: "", d: [undefined, 1], e: undefined })).to.deep.equal({
        a: null,
        b: 0,
        c: "",
        d: [null, 1],
      });
    });

    it("test_toDocument_doesNotChangeTheObjectGiven", function () {
      const batch = final.batches[0]!;
      const before = structuredClone(batch);
      const stored = documents.batch.toDocument(batch);
      stored.custody.push("changed");
      expect(batch).to.deep.equal(before);
    });

    it("test_blocksCheckpointsClaimsScansRelays_roundTrip", function () {
      for (const step of scenario.steps)
        expect(documents.block.fromDocument(throughBson(documents.block.toDocument(step.block)))).to.deep.equal(step.block);
      const checkpoints = [
        { chainId: 31337, blockNumber: 12, blockHash: bytes32("h"), updatedAt: 1_767_225_600_123 },
        { chainId: 1, blockNumber: 0, blockHash: null, updatedAt: 1 },
      ];
      for (const checkpoint of checkpoints) {
        expect(documents.checkpoint.fromDocument(throughBson(documents.checkpoint.toDocument(checkpoint)))).to.deep.equal(checkpoint);
      }
      const claim = { batchId: bytes32("b"), serial: "SN-1", owner: "0xowner", claimedAt: 5 };
      expect(documents.claim.fromDocument(throughBson(documents.claim.toDocument(claim)))).to.deep.equal(claim);
      const scan = { batchId: bytes32("b"), serial: null, at: 9, region: "NL" };
      expect(documents.scan.fromDocument(throughBson(documents.scan.toDocument(scan)))).to.deep.equal(scan);
      const mined = relayRequest("mined", {
        status: "mined",
        transactionHash: bytes32("tx"),
        relayerNonce: 3,
        gasPrice: "7",
        blockNumber: 9,
        attempts: 2,
      });
      for (const request of [relayRequest("queued"), mined, relayRequest("keeper", { kind: "keeper", signature: "0x" })]) {
        expect(documents.relay.fromDocument(throughBson(documents.relay.toDocument(request)))).to.deep.equal(request);
      }
    });

    it("test_rollbackItem_keepsTheRecomputedProjectionVerbatim", function () {
      const batch = final.batches[0]!;
      const checkpoint = { chainId: 31337, blockNumber: 3, blockHash: bytes32("h3"), updatedAt: 1 };
      const items = rollbackItemsOf(
        {
          chainId: 31337,
          forkBlock: 3,
          batches: [batch],
          participants: [],
          orders: [],
          deleteBatchIds: [bytes32("gone")],
          deleteParticipantAddresses: [],
          deleteOrderIds: [],
          checkpoint,
        },
        "t",
      );
      expect(items.map((item) => [item._id, item.seq, item.kind, item.key])).to.deep.equal([
        ["31337:t:0", 0, "batch", batch.batchId],
        ["31337:t:1", 1, "batch", bytes32("gone")],
      ]);
      const stored = throughBson(items[0]!);
      expect(documents.batch.fromDocument(stored.doc)).to.deep.equal(batch);
      expect(throughBson(items[1]!).doc).to.equal(null);
    });
  });

  describe("indexes", function () {
    it("test_indexes_nameOnlyPathsOfTheStoredDocuments", function () {
      const stored: Record<string, MongoDocument[]> = {
        events: eventsThrough(scenario).map((event) => documents.event.toDocument(event)),
        batches: final.batches.map((batch) => documents.batch.toDocument(batch)),
        participants: final.participants.map((participant) => documents.participant.toDocument(participant)),
        orders: final.orders.map((order) => documents.order.toDocument(order)),
        blocks: scenario.steps.map((step) => documents.block.toDocument(step.block)),
        relays: [documents.relay.toDocument(relayRequest("queued"))],
      };
      const valueAt = (doc: MongoDocument, path: string) =>
        path
          .split(".")
          .reduce<unknown>((value, key) => (value === null || value === undefined ? undefined : (value as MongoDocument)[key]), doc);
      for (const [collection, docs] of Object.entries(stored)) {
        const spec = COLLECTIONS[collection as keyof typeof COLLECTIONS];
        expect(spec.indexes.length, collection).to.be.greaterThan(0);
        for (const index of spec.indexes) {
          for (const path of Object.keys(index.key)) {
            expect(
              docs.some((doc) => valueAt(doc, path) !== undefined),
              `${collection}.${path}`,
            ).to.equal(true);
          }
        }
      }
    });

    it("test_transformations_lotIndexesNameStoredPaths_andTheDocumentSurvivesBson", function () {
      const at = { eventId: "31337:000000000009:000002", blockNumber: 9, blockTimestamp: 1_700_000_108, transactionHash: bytes32("tx") };
      const transformation: Transformation = {
        transformationId: "18446744073709551615",
        processor: `0x${"ab".repeat(20)}`,
        locationGln: "4012345000030",
        documentHash: bytes32("sheet"),
        inputs: [
          { batchId: bytes32("wheat"), quantity: "18446744073709551615" },
          { batchId: bytes32("rye"), quantity: "1" },
        ],
        outputIds: [bytes32("flour")],
        recallFlags: [{ outputId: bytes32("flour"), inputId: bytes32("rye"), flaggedBy: `0x${"cd".repeat(20)}`, at }],
        recorded: at,
        lastEvent: at,
      };
      const stored = throughBson(documents.transformation.toDocument(transformation));
      expect(stored._id).to.equal(transformation.transformationId);
      expect(documents.transformation.fromDocument(stored)).to.deep.equal(transformation);
      // Multikey paths: "inputs.batchId" reaches into the array of inputs, as MongoDB indexes it.
      const valuesAt = (value: unknown, path: string[]): unknown[] => {
        if (path.length === 0) return [value];
        if (Array.isArray(value)) return value.flatMap((item) => valuesAt(item, path));
        if (value === null || typeof value !== "object") return [];
        return valuesAt((value as Record<string, unknown>)[path[0]!], path.slice(1));
      };
      expect(COLLECTIONS.transformations.indexes.map((index) => index.key)).to.deep.equal([
        { "inputs.batchId": 1, "recorded.eventId": 1 },
        { outputIds: 1, "recorded.eventId": 1 },
      ]);
      for (const index of COLLECTIONS.transformations.indexes) {
        for (const path of Object.keys(index.key)) expect(valuesAt(stored, path.split(".")), path).not.to.deep.equal([]);
      }
      expect(valuesAt(stored, ["inputs", "batchId"])).to.deep.equal([bytes32("wheat"), bytes32("rye")]);
    });

    it("test_indexes_keepTheirNames_andCollectionsTheirNames", function () {
      const names = Object.values(COLLECTIONS).map((spec) => spec.name);
      expect(names).to.have.members([
        "events",
        "participants",
        "batches",
        "orders",
        "blocks",
        "checkpoints",
        "leases",
        "serialsets",
        "serialchunks",
        "scans",
        "claims",
        "relays",
        "rollbacks",
        "storemigrations",
        "rollbackitems",
        "recallacknowledgements",
        "orderreadgrants",
        "designregistrations",
        "designlinkchanges",
        "productdatadocuments",
        "batchdocuments",
        "productdocuments",
        "documentanchors",
        "unittokens",
        "claimroots",
        "containers",
        "claimtrees",
        "claimregions",
        "transformations",
        "signinnonces",
        "colddevices",
        "coldlegs",
        "coldconditions",
        "coldanchors",
        "coldbreaches",
        "readings",
        "rejectedreadings",
        "rejectioncounts",
        "readinganchorplans",
      ]);
      // The readings time series: per batch by time, per leg by sequence, a device's last sequence.
      expect(COLLECTIONS.readings.indexes.map((index) => index.key)).to.deep.equal([
        { batchId: 1, timestamp: 1, device: 1, sequence: 1 },
        { legId: 1, sequence: 1 },
        { device: 1, sequence: -1 },
      ]);
      // Spent sign-in nonces are removed by MongoDB's TTL monitor once they expire.
      expect(COLLECTIONS.signInNonces.indexes).to.deep.equal([{ key: { expiresAt: 1 }, expireAfterSeconds: 0 }]);
      const indexNames = COLLECTIONS.batches.indexes.map((index) =>
        Object.entries(index.key)
          .map(([field, order]) => `${field}_${order}`)
          .join("_"),
      );
      expect(indexNames).to.include("gtin_1_lot_1");
      expect(COLLECTIONS.events.indexes.map((index) => Object.keys(index.key).join(","))).to.have.members([
        "batchIds,_id",
        "orderIds,_id",
        "accounts,_id",
        "accounts,name,_id",
        "transactionHash,_id",
        "name,_id",
        "chainId,blockNumber",
      ]);
    });

    it("test_containerIndexes_eachListFilterThenCreationOrder", function () {
      // "Which container holds this batch" walks the multikey batchIds index; every list ends with its sort key.
      expect(COLLECTIONS.containers.indexes.map((index) => Object.keys(index.key).join(","))).to.have.members([
        "created.eventId,_id",
        "custodian,created.eventId,_id",
        "parentSscc,created.eventId,_id",
        "batchIds,created.eventId,_id",
      ]);
    });

    it("test_batchIndexes_manufacturerAndStatus_oneRangeInListOrder", function () {
      // Equality fields first, then the list's sort key: a page filtered on both is one index walk, however rare the status.
      expect(COLLECTIONS.batches.indexes.map((index) => Object.keys(index.key).join(","))).to.include(
        "manufacturer,status,registered.eventId,_id",
      );
    });

    it("test_fieldPath_acceptsModelPaths_only", function () {
      const paths: Array<FieldPath<ChainEvent> | FieldPath<Batch>> = ["batchIds", "registered.eventId", "recall.by"];
      // @ts-expect-error a path the model does not have does not type-check
      const typo: FieldPath<Batch> = "registered.eventid";
      expect(paths.length + typo.length).to.be.greaterThan(0);
    });
  });

  describe("relay patches", function () {
    it("test_relayPatchToSet_dropsIdAndUndefined_keepsNull", function () {
      expect(relayPatchToSet({ id: "0xother", status: "queued", error: null, gasPrice: undefined })).to.deep.equal({
        status: "queued",
        error: null,
      });
    });

    it("test_relayPatchToSet_operatorOrPathField_isRefused", function () {
      for (const field of ["$inc", "status.x", "_id"]) {
        expect(() => relayPatchToSet({ [field]: 1 } as never), field).to.throw(TypeError, field);
      }
    });
  });

  describe("serial chunks", function () {
    it("test_chunkSerials_100000_stayFarBelowTheDocumentLimit_andKeepOrder", function () {
      const list = serials(100_000, "SN-TOM-2026");
      const chunks = chunkSerials(list);
      expect(chunks.flat()).to.deep.equal(list);
      expect(chunks.length).to.equal(5);
      for (const [index, chunk] of chunks.entries()) {
        const size = BSON.calculateObjectSize({
          _id: `${bytes32("root")}:${index}`,
          serialRoot: bytes32("root"),
          index,
          serials: chunk,
        });
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

    it("test_serialChunk_roundTripsExactly_throughBson", function () {
      const list = ["B-2", "A-1", "x/y%z", '"quoted"', "a+b=c;d<e>f?_!'&(*),:.", "", "ünïcødé", "nul\u0000inside"];
      const stored = throughBson({ _id: "r:0", serialRoot: bytes32("r"), index: 0, serials: list });
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
      expect(mergeRegionStats(rows)).to.deep.equal({
        total: 6,
        regions: ["AT", "NL", "BE", "unknown"],
        firstAt: 5,
        lastAt: 90,
        recent: 3,
      });
      expect(mergeRegionStats([])).to.deep.equal({ total: 0, regions: [], firstAt: null, lastAt: null, recent: 0 });
    });
  });
});
