import { expect } from "chai";
import { pino } from "pino";
import request from "supertest";
import { buildAnchorTree, verifyReadingProof } from "../../../backend/coldchain/anchor-tree.ts";
import { toWireReading } from "../../../backend/coldchain/reading-codec.ts";
import { ACCOUNTS } from "../projections/event-factory.ts";
import { commitColdChainBlock } from "./cold-chain-scenario.ts";
import { loadConfig } from "../../../backend/config.ts";
import { createProvenaHttpApp, type ProvenaHttpDeps } from "../../../backend/main.ts";
import type { ProvenaApp } from "../../../backend/api/app.ts";
import { bytes32 } from "../projections/event-factory.ts";
import { COLD_CHAIN_DEPLOYMENT, createColdChainEventFactory } from "./cold-chain-events.ts";
import { COLD_BATCH, LEG_START, STRANGER_KEY, addressOf, createIngestFixture, measurement, type IngestFixture } from "./ingest-fixture.ts";

const indexerStatus = () => ({
  chainId: 31337,
  state: "live",
  headBlock: 20,
  indexedBlock: 20,
  lagBlocks: 0,
  eventsIndexed: 0,
  isLeader: true,
  lastError: null,
});

describe("Cold-chain HTTP API", function () {
  let fixture: IngestFixture;
  let app: ProvenaApp;

  const makeApp = (env: Record<string, string> = {}) =>
    createProvenaHttpApp({
      config: loadConfig({ LOG_LEVEL: "silent", MQTT_PORT: "0", ...env }),
      store: fixture.store,
      logger: pino({ level: "silent" }),
      chain: { chainId: 31337, provider: {} as ProvenaHttpDeps["chain"]["provider"], deployment: COLD_CHAIN_DEPLOYMENT },
      indexerStatus: indexerStatus as unknown as ProvenaHttpDeps["indexerStatus"],
      relay: null,
      coldChainIngest: fixture.ingest,
    });

  beforeEach(async function () {
    fixture = await createIngestFixture();
    app = makeApp();
  });
  afterEach(async function () {
    await fixture.close();
  });

  describe("POST /api/v1/telemetry/readings", function () {
    it("test_postReadings_oneOrMany_aResultEach_inOrder", async function () {
      const single = fixture.device.sign(measurement(1));
      const one = await request(app).post("/api/v1/telemetry/readings").send(toWireReading(single)).expect(200);
      expect(one.body).to.deep.equal({
        accepted: 1,
        rejected: 0,
        results: [{ accepted: true, device: single.device, sequence: single.sequence, legId: fixture.legId }],
      });
      const good = fixture.device.sign(measurement(2));
      const forged = { ...toWireReading(fixture.device.sign(measurement(3))), temperature: 100 };
      const many = await request(app)
        .post("/api/v1/telemetry/readings")
        .send([toWireReading(good), forged, { nonsense: true }])
        .expect(200);
      expect(many.body.accepted).to.equal(1);
      expect(many.body.results.map((result: { accepted: boolean; reason?: string }) => result.reason ?? "accepted")).to.deep.equal([
        "accepted",
        "bad-signature",
        "malformed",
      ]);
      expect(await fixture.store.countReadings({ legId: fixture.legId })).to.equal(2);
    });

    it("test_postReadings_malformedBodies_areProblemJson", async function () {
      for (const body of ["[]", "42", "null", JSON.stringify(Array.from({ length: 501 }, () => ({})))]) {
        const response = await request(app).post("/api/v1/telemetry/readings").set("content-type", "application/json").send(body);
        expect(response.status, body.slice(0, 20)).to.equal(400);
        expect(response.headers["content-type"]).to.match(/application\/problem\+json/);
      }
      const broken = await request(app).post("/api/v1/telemetry/readings").set("content-type", "application/json").send("{not json");
      expect(broken.status).to.equal(400);
      const text = await request(app).post("/api/v1/telemetry/readings").set("content-type", "text/plain").send("hello");
      expect(text.status).to.equal(415);
      const huge = await request(app)
        .post("/api/v1/telemetry/readings")
        .set("content-type", "application/json")
        .send(JSON.stringify({ pad: "x".repeat(300_000) }));
      expect(huge.status).to.equal(413);
    });

    it("test_postReadings_rateLimited_likeOtherWrites", async function () {
      app = makeApp({ WRITE_RATE_LIMIT_PER_MINUTE: "2" });
      const reading = () => toWireReading(fixture.device.sign(measurement(1)));
      await request(app).post("/api/v1/telemetry/readings").send(reading()).expect(200);
      await request(app).post("/api/v1/telemetry/readings").send(reading()).expect(200);
      const third = await request(app).post("/api/v1/telemetry/readings").send(reading());
      expect(third.status).to.equal(429);
    });

    it("test_postReadings_withoutAColdChainContract_is503", async function () {
      const withoutColdChain = createProvenaHttpApp({
        config: loadConfig({ LOG_LEVEL: "silent", MQTT_PORT: "0" }),
        store: fixture.store,
        logger: pino({ level: "silent" }),
        chain: {
          chainId: 31337,
          provider: {} as ProvenaHttpDeps["chain"]["provider"],
          deployment: { ...COLD_CHAIN_DEPLOYMENT, coldChain: undefined },
        },
        indexerStatus: indexerStatus as unknown as ProvenaHttpDeps["indexerStatus"],
        relay: null,
      });
      await request(withoutColdChain)
        .post("/api/v1/telemetry/readings")
        .send(toWireReading(fixture.device.sign(measurement(1))))
        .expect(503);
    });
  });

  describe("reads", function () {
    it("test_batchColdChain_legsAndReadingPages", async function () {
      const readings = [1, 2, 3].map((minute) => fixture.device.sign(measurement(minute)));
      await request(app).post("/api/v1/telemetry/readings").send(readings.map(toWireReading)).expect(200);

      const coldChain = await request(app).get(`/api/v1/batches/${COLD_BATCH}/cold-chain`).expect(200);
      expect(coldChain.body).to.include({ batchId: COLD_BATCH, readings: 3, conditions: null });
      expect(coldChain.body.legs.map((leg: { legId: string }) => leg.legId)).to.deep.equal([fixture.legId]);
      expect(coldChain.body.breaches).to.deep.equal([]);

      const first = await request(app).get(`/api/v1/batches/${COLD_BATCH}/readings?limit=2`).expect(200);
      expect(first.body.items.map((item: { sequence: number }) => item.sequence)).to.deep.equal([1, 2]);
      const second = await request(app).get(`/api/v1/batches/${COLD_BATCH}/readings?limit=2&cursor=${first.body.nextCursor}`).expect(200);
      expect(second.body).to.deep.include({ nextCursor: null });
      expect(second.body.items.map((item: { sequence: number }) => item.sequence)).to.deep.equal([3]);

      const leg = await request(app).get(`/api/v1/legs/${fixture.legId}/readings`).expect(200);
      expect(leg.body.items).to.have.length(3);
      await request(app)
        .get(`/api/v1/legs/${bytes32("no leg")}/readings`)
        .expect(404);
      await request(app).get(`/api/v1/legs/0x12/readings`).expect(400);
      await request(app).get(`/api/v1/batches/${COLD_BATCH}/readings?cursor=garbage`).expect(400);
      await request(app)
        .get(`/api/v1/batches/${bytes32("unknown")}/cold-chain`)
        .expect(404);
    });

    it("test_readingProof_anchoredByTheBackend_provesAgainstTheRoot_otherwise404", async function () {
      const readings = [1, 2, 3, 4].map((minute) => fixture.device.sign(measurement(minute)));
      await request(app).post("/api/v1/telemetry/readings").send(readings.map(toWireReading)).expect(200);
      const stored = (await fixture.store.listReadings({ legId: fixture.legId }, { limit: 10 })).items;
      const window = { firstSequence: 1, lastSequence: 3, fromTime: stored[0]!.timestamp, toTime: stored[2]!.timestamp };
      const tree = buildAnchorTree(stored.slice(0, 3));
      await fixture.store.putReadingsAnchorPlan({
        legId: fixture.legId,
        root: tree.root,
        count: 3,
        ...window,
        jobId: "anchor:test",
        plannedAt: 1,
      });
      // On chain: the backend's root, and a carrier's junk root over the same readings.
      const factory = createColdChainEventFactory(20);
      const junk = bytes32("junk");
      await commitColdChainBlock(fixture.store, [
        factory.event("ReadingsAnchored", [fixture.legId, junk, ACCOUNTS.carrier, 4, 1n, 4n, LEG_START, LEG_START + 600]),
        factory.event("ReadingsAnchored", [fixture.legId, tree.root, ACCOUNTS.admin, 3, 1n, 3n, window.fromTime, window.toTime]),
      ]);

      const proof = await request(app).get(`/api/v1/legs/${fixture.legId}/readings/2/proof`).expect(200);
      expect(proof.body.anchor).to.include({ root: tree.root, count: 3, blockNumber: 20 });
      expect(proof.body.reading.sequence).to.equal(2);
      expect(verifyReadingProof(tree.root, proof.body.reading, proof.body.proof)).to.equal(true);
      expect(
        verifyReadingProof(tree.root, { ...proof.body.reading, timestamp: proof.body.reading.timestamp + 1 }, proof.body.proof),
      ).to.equal(false);

      const listed = await request(app).get(`/api/v1/legs/${fixture.legId}/readings`).expect(200);
      expect(listed.body.items.map((item: { anchor: { root: string } | null }) => item.anchor?.root ?? null)).to.deep.equal([
        tree.root,
        tree.root,
        tree.root,
        null, // only the carrier's junk root covers it: nothing the backend can prove
      ]);
      const notAnchored = await request(app).get(`/api/v1/legs/${fixture.legId}/readings/4/proof`).expect(404);
      expect(notAnchored.headers["content-type"]).to.match(/application\/problem\+json/);
      await request(app).get(`/api/v1/legs/${fixture.legId}/readings/99/proof`).expect(404);
      await request(app)
        .get(`/api/v1/legs/${bytes32("no leg")}/readings/1/proof`)
        .expect(404);
      await request(app).get(`/api/v1/legs/${fixture.legId}/readings/-1/proof`).expect(400);
    });

    it("test_device_showsCarrierAndLegs_unknownIs404", async function () {
      const device = await request(app)
        .get(`/api/v1/devices/${fixture.device.address.toUpperCase().replace("0X", "0x")}`)
        .expect(200);
      expect(device.body).to.include({ address: fixture.device.address, retired: false, currentLegId: null });
      expect(device.body.legs).to.have.length(1);
      await request(app)
        .get(`/api/v1/devices/${addressOf(STRANGER_KEY)}`)
        .expect(404);
      await request(app).get(`/api/v1/devices/nonsense`).expect(400);
    });
  });
});
