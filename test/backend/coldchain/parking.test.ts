import { expect } from "chai";
import { Wallet } from "ethers";
import mqtt, { type MqttClient } from "mqtt";
import { pino } from "pino";
import { Registry } from "prom-client";
import { createDeviceSigner } from "../../../backend/coldchain/device-signer.ts";
import {
  createReadingIngest,
  type IngestOutcome,
  type ParkingParameters,
  type ReadingIngest,
} from "../../../backend/coldchain/ingest-service.ts";
import { readingsTopic, startEmbeddedBroker, type MqttReadingSource } from "../../../backend/coldchain/mqtt-transport.ts";
import { toWireReading } from "../../../backend/coldchain/reading-codec.ts";
import { createReadingVerifier } from "../../../backend/coldchain/reading-verifier.ts";
import type { MirrorStore } from "../../../backend/store/port.ts";
import { createSqliteStore } from "../../../backend/store/sqlite/index.ts";
import { ACCOUNTS } from "../projections/event-factory.ts";
import { COLD_CHAIN_DEPLOYMENT, createColdChainEventFactory, legIdOf } from "./cold-chain-events.ts";
import { commitColdChainBlock } from "./cold-chain-scenario.ts";
import { COLD_BATCH, DEVICE_KEY, LEG_START, STRANGER_KEY, addressOf, domain, measurement } from "./ingest-fixture.ts";

const until = async (condition: () => boolean, what: string, timeoutMs = 5_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((candidate) => candidate.name === name);
  const value = (metric?.values ?? []).find((candidate) =>
    Object.entries(labels).every(([key, expected]) => (candidate.labels as Record<string, unknown>)[key] === expected),
  );
  return Number(value?.value ?? 0);
}

describe("Cold-chain ingest: readings parked until the mirror has their device", function () {
  this.timeout(30_000);
  let store: MirrorStore;
  let ingest: ReadingIngest;
  let registry: Registry;
  const factory = () => createColdChainEventFactory(10);
  const device = addressOf(DEVICE_KEY);
  const legId = legIdOf(device, COLD_BATCH);

  /** An empty mirror (the indexer has not seen the device yet) and a parking ingest over it. */
  async function start(parking: Partial<ParkingParameters> = {}) {
    store = createSqliteStore({ path: ":memory:" });
    await store.init();
    registry = new Registry();
    // The verifier's default cache: a mirror advance must clear it, or parked readings would see stale misses.
    const verifier = createReadingVerifier({ store, domain });
    ingest = createReadingIngest({
      store,
      verifier,
      registry,
      maxDelayMs: 1,
      parking: {
        mirrorHead: async () => (await store.getCheckpoint(COLD_CHAIN_DEPLOYMENT.chainId))?.blockHash ?? null,
        intervalMs: 20,
        ...parking,
      },
    });
  }

  afterEach(async function () {
    await ingest.close();
    await store.close();
  });

  describe("over MQTT", function () {
    let broker: MqttReadingSource;
    let client: MqttClient;
    afterEach(async function () {
      await client.endAsync(true);
      await broker.close();
    });

    it("test_readingsBeforeRegistrationAndAttachAreMirrored_pubackedAndStoredOnceTheMirrorHasThem_inOrder", async function () {
      await start({ timeoutMs: 60_000, intervalMs: 200 });
      broker = await startEmbeddedBroker({ ingest, host: "127.0.0.1", port: 0, logger: pino({ level: "silent" }) });
      client = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0, connectTimeout: 5_000 });
      const signer = createDeviceSigner(DEVICE_KEY, domain);
      const publish = (minute: number) =>
        client.publishAsync(readingsTopic(device), JSON.stringify(toWireReading(signer.sign(measurement(minute)))), { qos: 1 });
      let pubacks = 0;
      const early = [0, 1, 2].map((minute) => publish(minute).then(() => pubacks++));
      await until(() => ingest.parked.readings === 3, "three parked readings");
      const publishedBefore = Date.now();

      // The registration is mirrored, the attachment not yet: still waiting.
      const events = factory();
      await commitColdChainBlock(store, [events.event("DeviceRegistered", [device, ACCOUNTS.carrier])]);
      await sleep(500);
      expect(ingest.parked).to.deep.equal({ readings: 3, devices: 1 });
      expect(pubacks).to.equal(0);

      // The attachment is mirrored; a fourth reading arrives before the ingest has looked again: it waits its turn.
      events.nextBlock();
      await commitColdChainBlock(store, [events.event("DeviceAttached", [legId, device, COLD_BATCH, ACCOUNTS.carrier, LEG_START])]);
      const late = publish(3);
      await Promise.all([...early, late]);

      const stored = await store.listReadings({ legId }, { limit: 10 });
      expect(stored.items.map((reading) => reading.sequence)).to.deep.equal([1, 2, 3, 4]);
      // Stored as of their arrival, not of the retry.
      expect(stored.items.slice(0, 3).every((reading) => reading.receivedAt <= publishedBefore)).to.equal(true);
      expect(await store.rejectionCounts()).to.deep.equal({});
      expect(ingest.parked).to.deep.equal({ readings: 0, devices: 0 });
      expect(await metricValue(registry, "provena_coldchain_parked_readings")).to.equal(0);
      expect(await metricValue(registry, "provena_coldchain_parking_total", { event: "parked" })).to.be.at.least(3);
      expect(await metricValue(registry, "provena_coldchain_readings_total", { outcome: "accepted" })).to.equal(4);
    });
  });

  it("test_parkedReadingThatTimesOut_isStoredAsARejectionWithItsReason", async function () {
    await start({ timeoutMs: 150 });
    const events = factory();
    await commitColdChainBlock(store, [events.event("DeviceRegistered", [device, ACCOUNTS.carrier])]);
    const signer = createDeviceSigner(DEVICE_KEY, domain);
    const stranger = createDeviceSigner(STRANGER_KEY, domain);
    const started = Date.now();
    const [notAttached, unknown] = await Promise.all([
      ingest.submit(toWireReading(signer.sign(measurement(0))), "http"),
      ingest.submit(toWireReading(stranger.sign(measurement(0))), "http"),
    ]);
    expect(Date.now() - started).to.be.at.least(150);
    expect(notAttached).to.include({ accepted: false, reason: "not-attached" });
    expect(unknown).to.include({ accepted: false, reason: "unknown-device" });
    const kept = (await store.listRejectedReadings({}, { limit: 10 })).items;
    expect(kept.map((reading) => reading.reason).sort()).to.deep.equal(["not-attached", "unknown-device"]);
    expect(kept.every((reading) => /parked \d+ s waiting for the mirror/.test(reading.detail))).to.equal(true);
    expect(await metricValue(registry, "provena_coldchain_parking_total", { event: "timed-out" })).to.equal(2);
    expect(ingest.parked.readings).to.equal(0);
  });

  it("test_forgedReadings_areRejectedAtOnce_notParked", async function () {
    await start({ timeoutMs: 60_000 });
    const events = factory();
    await commitColdChainBlock(store, [events.event("DeviceRegistered", [device, ACCOUNTS.carrier])]);
    const forger = createDeviceSigner(STRANGER_KEY, domain);
    // The device's address, the stranger's signature: registered but not attached, yet not worth waiting for.
    const forged = { ...toWireReading(forger.sign(measurement(0))), device };
    // An unknown address, signed by another key.
    const madeUp = { ...toWireReading(forger.sign(measurement(1))), device: Wallet.createRandom().address.toLowerCase() };
    const outcomes = await Promise.all([ingest.submit(forged, "http"), ingest.submit(madeUp, "http")]);
    expect(outcomes.map((outcome) => (outcome as Extract<IngestOutcome, { accepted: false }>).reason)).to.deep.equal([
      "bad-signature",
      "bad-signature",
    ]);
    expect(ingest.parked.readings).to.equal(0);
  });

  it("test_parkingFullOfAKnownDevice_aMadeUpDeviceParks_theKnownDevicesOldestIsDropped", async function () {
    await start({ timeoutMs: 60_000, maxTotal: 3, maxPerDevice: 3 });
    const events = factory();
    await commitColdChainBlock(store, [events.event("DeviceRegistered", [device, ACCOUNTS.carrier])]);
    const signer = createDeviceSigner(DEVICE_KEY, domain);
    const first = ingest.submit(toWireReading(signer.sign(measurement(0))), "http");
    for (let minute = 1; minute < 3; minute++) void ingest.submit(toWireReading(signer.sign(measurement(minute))), "http");
    await ingest.drain();
    const madeUp = createDeviceSigner(Wallet.createRandom().privateKey, domain);
    void ingest.submit(toWireReading(madeUp.sign(measurement(0))), "http");
    expect(await first).to.include({ accepted: false, reason: "not-attached" });
    expect(ingest.parked).to.deep.equal({ readings: 3, devices: 2 });
    expect(await metricValue(registry, "provena_coldchain_parking_total", { event: "evicted-total-full" })).to.equal(1);
  });

  it("test_floodFromMadeUpKeys_staysBounded_unknownDevicesEvictedFirst_evictedStoredAndCounted", async function () {
    await start({ timeoutMs: 60_000, maxTotal: 8, maxPerDevice: 3 });
    const events = factory();
    await commitColdChainBlock(store, [events.event("DeviceRegistered", [device, ACCOUNTS.carrier])]);
    const signer = createDeviceSigner(DEVICE_KEY, domain);
    const outcomes: Promise<IngestOutcome>[] = [];
    // The registered device: five readings before its attachment is mirrored; it may park three.
    for (let minute = 0; minute < 5; minute++) outcomes.push(ingest.submit(toWireReading(signer.sign(measurement(minute))), "http"));
    await ingest.drain();
    expect(ingest.parked).to.deep.equal({ readings: 3, devices: 1 });

    // Forty made-up devices, each with a genuinely signed reading.
    let peak = 0;
    for (let index = 0; index < 40; index++) {
      const key = Wallet.createRandom().privateKey;
      outcomes.push(ingest.submit(toWireReading(createDeviceSigner(key, domain).sign(measurement(0))), "http"));
      if (index % 7 === 0) {
        await ingest.drain();
        peak = Math.max(peak, ingest.parked.readings);
      }
    }
    await ingest.drain();
    peak = Math.max(peak, ingest.parked.readings);
    expect(peak).to.equal(8);
    // The registered device kept its three; five made-up devices hold the rest.
    expect(ingest.parked).to.deep.equal({ readings: 8, devices: 6 });
    expect(await metricValue(registry, "provena_coldchain_parking_total", { event: "evicted-device-full" })).to.equal(2);
    expect(await metricValue(registry, "provena_coldchain_parking_total", { event: "evicted-total-full" })).to.equal(35);
    const counts = await store.rejectionCounts();
    expect(counts).to.deep.equal({ "not-attached": 2, "unknown-device": 35 });
    const dropped = (await store.listRejectedReadings({ reason: "not-attached" }, { limit: 10 })).items;
    expect(dropped.map((reading) => reading.sequence)).to.deep.equal([1, 2]);
    expect(dropped[0]!.detail).to.contain("parked, then dropped: 3 readings of the device were parked");

    // Now the attachment is mirrored: the device's three parked readings are accepted (1 and 2 were dropped).
    events.nextBlock();
    await commitColdChainBlock(store, [events.event("DeviceAttached", [legId, device, COLD_BATCH, ACCOUNTS.carrier, LEG_START])]);
    const [first, second, ...kept] = await Promise.all(outcomes.slice(0, 5));
    expect([first, second].map((outcome) => outcome!.accepted)).to.deep.equal([false, false]);
    expect(kept.map((outcome) => outcome.accepted)).to.deep.equal([true, true, true]);
    expect((await store.listReadings({ legId }, { limit: 10 })).items.map((reading) => reading.sequence)).to.deep.equal([3, 4, 5]);
  });
});
