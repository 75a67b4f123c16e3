import { expect } from "chai";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { pino } from "pino";
import { createDeviceSigner } from "../../../backend/coldchain/device-signer.ts";
import {
  connectMqttPublisher,
  httpPublisher,
  simulateDevice,
  simulatedSeries,
  type PublishOutcome,
} from "../../../backend/coldchain/device-simulator.ts";
import { startEmbeddedBroker, type MqttReadingSource } from "../../../backend/coldchain/mqtt-transport.ts";
import { loadConfig } from "../../../backend/config.ts";
import { createProvenaHttpApp, type ProvenaHttpDeps } from "../../../backend/main.ts";
import { COLD_CHAIN_DEPLOYMENT } from "./cold-chain-events.ts";
import { COLD_BATCH, DEVICE_KEY, LEG_END, LEG_START, createIngestFixture, domain, type IngestFixture } from "./ingest-fixture.ts";

describe("Cold-chain device simulator", function () {
  this.timeout(20_000);

  describe("simulatedSeries", function () {
    it("test_steadyProfile_staysInsideTheFridgeBand_atTheInterval", function () {
      const series = simulatedSeries({ batchId: COLD_BATCH, startTime: 1_000, intervalSeconds: 60, count: 200, profile: "steady" });
      expect(series).to.have.length(200);
      expect(series.map((m) => m.timestamp)).to.deep.equal(Array.from({ length: 200 }, (_, i) => 1_000 + i * 60));
      for (const m of series) {
        expect(m.temperature).to.be.within(300, 600);
        expect(m.humidity).to.be.within(8_000, 9_000);
      }
      // Not a flat line: a plausible sensor wanders.
      expect(new Set(series.map((m) => m.temperature)).size).to.be.greaterThan(20);
    });

    it("test_warmAfternoon_leavesTheBandForMoreThanHalfAnHour_inTheMiddle", function () {
      const series = simulatedSeries({ batchId: COLD_BATCH, startTime: 0, intervalSeconds: 300, count: 48, profile: "warm-afternoon" });
      const warm = series.filter((m) => m.temperature > 800);
      const warmSeconds = warm.length * 300;
      expect(warmSeconds).to.be.greaterThan(30 * 60);
      expect(Math.max(...series.map((m) => m.temperature))).to.be.within(1_000, 1_200);
      expect(series[0]!.temperature).to.be.below(800);
      expect(series.at(-1)!.temperature).to.be.below(800);
    });

    it("test_sameSeed_sameSeries_badParametersRefused", function () {
      const parameters = { batchId: COLD_BATCH, startTime: 0, intervalSeconds: 60, count: 5, profile: "steady" as const, seed: 7 };
      expect(simulatedSeries(parameters)).to.deep.equal(simulatedSeries(parameters));
      expect(() => simulatedSeries({ ...parameters, count: 0 })).to.throw(RangeError, "count must be a positive integer");
      expect(() => simulatedSeries({ ...parameters, intervalSeconds: 0.5 })).to.throw(RangeError, "whole number of seconds");
    });
  });

  describe("publishing to the backend's ingest", function () {
    let fixture: IngestFixture;
    let broker: MqttReadingSource;

    beforeEach(async function () {
      fixture = await createIngestFixture();
      broker = await startEmbeddedBroker({ ingest: fixture.ingest, host: "127.0.0.1", port: 0, logger: pino({ level: "silent" }) });
    });
    afterEach(async function () {
      await broker.close();
      await fixture.close();
    });

    it("test_overMqtt_everyReadingSignedAndStoredOnItsLeg_inSequence", async function () {
      const signer = createDeviceSigner(DEVICE_KEY, domain, 100);
      const series = simulatedSeries({ batchId: COLD_BATCH, startTime: LEG_START, intervalSeconds: 60, count: 12, profile: "steady" });
      const publisher = await connectMqttPublisher(broker.url);
      const outcomes: PublishOutcome[] = [];
      let slept = 0;
      const summary = await simulateDevice({
        signer,
        series,
        publisher,
        onReading: (_reading, outcome) => outcomes.push(outcome),
        // The leg is in the past: nothing waits.
        sleep: async () => void slept++,
      });
      await publisher.close();
      expect(slept).to.equal(0);
      expect(summary).to.include({ published: 12, rejected: 0, firstSequence: 100, lastSequence: 111 });
      expect(outcomes.every((outcome) => "delivered" in outcome)).to.equal(true);
      // The QoS 1 PUBACK came after the store write: every reading is there, verified, on the fixture's leg.
      const stored = await fixture.store.listReadings({ legId: fixture.legId }, { limit: 50 });
      expect(stored.items.map((reading) => reading.sequence)).to.deep.equal(Array.from({ length: 12 }, (_, i) => 100 + i));
      expect(stored.items.map((reading) => reading.temperature)).to.deep.equal(series.map((m) => m.temperature));
      expect(await fixture.store.rejectionCounts()).to.deep.equal({});
    });

    it("test_readingsDueLater_arePacedByTheirTimestamps", async function () {
      const signer = createDeviceSigner(DEVICE_KEY, domain);
      const series = simulatedSeries({ batchId: COLD_BATCH, startTime: LEG_START, intervalSeconds: 60, count: 3, profile: "steady" });
      let clock = (LEG_START - 30) * 1_000;
      const waits: number[] = [];
      const published: number[] = [];
      await simulateDevice({
        signer,
        series,
        publisher: {
          description: "memory",
          publish: async (r) => (published.push(r.timestamp), { delivered: true }),
          close: async () => {},
        },
        now: () => clock,
        sleep: async (ms) => {
          waits.push(ms);
          clock += ms;
        },
      });
      expect(waits).to.deep.equal([30_000, 60_000, 60_000]);
      expect(published).to.deep.equal(series.map((m) => m.timestamp));
    });

    it("test_overHttp_theIngestsVerdictComesBack_aReadingAfterTheLegIsRejectedWithItsReason", async function () {
      const app = createProvenaHttpApp({
        config: loadConfig({ LOG_LEVEL: "silent", MQTT_PORT: "0" }),
        store: fixture.store,
        logger: pino({ level: "silent" }),
        chain: { chainId: 31337, provider: {} as ProvenaHttpDeps["chain"]["provider"], deployment: COLD_CHAIN_DEPLOYMENT },
        indexerStatus: (() => ({ chainId: 31337, state: "live" })) as unknown as ProvenaHttpDeps["indexerStatus"],
        relay: null,
        coldChainIngest: fixture.ingest,
      });
      const server: Server = await new Promise((resolve) => {
        const listening = app.listen(0, "127.0.0.1", () => resolve(listening));
      });
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      try {
        const signer = createDeviceSigner(DEVICE_KEY, domain);
        // Two readings at the leg's end: the second is a minute after the device was detached.
        const series = simulatedSeries({ batchId: COLD_BATCH, startTime: LEG_END - 60, intervalSeconds: 120, count: 2, profile: "steady" });
        const outcomes: PublishOutcome[] = [];
        const summary = await simulateDevice({
          signer,
          series,
          publisher: httpPublisher(url),
          onReading: (_r, outcome) => outcomes.push(outcome),
        });
        expect(summary).to.include({ published: 2, rejected: 1 });
        expect(outcomes[0]).to.deep.equal({ accepted: true });
        expect(outcomes[1]).to.include({ accepted: false, reason: "not-attached" });
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
      // The backend is gone: the failure names where it tried.
      const signer = createDeviceSigner(DEVICE_KEY, domain);
      expect(
        await rejectionOf(httpPublisher(url).publish(signer.sign({ batchId: COLD_BATCH, timestamp: LEG_START, temperature: 450 }))),
      ).to.contain("cannot reach");
    });

    it("test_unreachableBroker_isNamed", async function () {
      const url = broker.url;
      await broker.close();
      broker = await startEmbeddedBroker({ ingest: fixture.ingest, host: "127.0.0.1", port: 0, logger: pino({ level: "silent" }) });
      expect(await rejectionOf(connectMqttPublisher(url, { connectTimeoutMs: 1_000 }))).to.contain(
        `cannot connect to the MQTT broker at ${url}`,
      );
    });
  });
});

async function rejectionOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected a rejection");
}
