import { expect } from "chai";
import mqtt, { type MqttClient } from "mqtt";
import { pino } from "pino";
import { toWireReading } from "../../../backend/coldchain/reading-codec.ts";
import { readingsTopic, startEmbeddedBroker, type MqttReadingSource } from "../../../backend/coldchain/mqtt-transport.ts";
import { createIngestFixture, measurement, type IngestFixture } from "./ingest-fixture.ts";

describe("Cold-chain MQTT: a real client against the embedded broker", function () {
  this.timeout(20_000);
  let fixture: IngestFixture;
  let broker: MqttReadingSource;
  const clients: MqttClient[] = [];
  const connect = async () => {
    const client = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0, connectTimeout: 5_000 });
    clients.push(client);
    return client;
  };

  beforeEach(async function () {
    fixture = await createIngestFixture();
    broker = await startEmbeddedBroker({ ingest: fixture.ingest, host: "127.0.0.1", port: 0, logger: pino({ level: "silent" }) });
  });
  afterEach(async function () {
    for (const client of clients.splice(0)) await client.endAsync(true);
    await broker.close();
    await fixture.close();
  });

  it("test_qos1Publish_pubackedOnceStored_readingsOnTheirLeg", async function () {
    expect(broker.url).to.match(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
    const client = await connect();
    const readings = [0, 1, 2, 3].map((minute) => fixture.device.sign(measurement(minute)));
    for (const reading of readings) {
      await client.publishAsync(readingsTopic(reading.device), JSON.stringify(toWireReading(reading)), { qos: 1 });
    }
    // PUBACK came after the store write: the readings are there now, without waiting.
    const stored = await fixture.store.listReadings({ legId: fixture.legId }, { limit: 10 });
    expect(stored.items.map((item) => item.sequence)).to.deep.equal(readings.map((reading) => reading.sequence));
  });

  it("test_garbageOnTheTopic_isStoredAsMalformed_andTheBrokerKeepsServing", async function () {
    const client = await connect();
    const topic = readingsTopic(fixture.device.address);
    await client.publishAsync(topic, "garbage", { qos: 1 });
    await client.publishAsync(topic, Buffer.from([0, 1, 2, 255]), { qos: 1 });
    await client.publishAsync(topic, JSON.stringify({ device: fixture.device.address, pad: "x".repeat(10_000) }), { qos: 1 });
    const good = fixture.device.sign(measurement(5));
    await client.publishAsync(topic, JSON.stringify(toWireReading(good)), { qos: 1 });
    expect((await fixture.store.rejectionCounts()).malformed).to.equal(3);
    expect(await fixture.store.countReadings({ legId: fixture.legId })).to.equal(1);
  });

  it("test_readingOnAnotherDevicesTopic_isMalformed", async function () {
    const client = await connect();
    const reading = fixture.device.sign(measurement(1));
    await client.publishAsync(readingsTopic(fixture.otherDevice.address), JSON.stringify(toWireReading(reading)), { qos: 1 });
    const [kept] = (await fixture.store.listRejectedReadings({}, { limit: 10 })).items;
    expect(kept).to.include({ reason: "malformed", source: "mqtt", device: fixture.otherDevice.address });
  });

  it("test_forgedAndReplayedReadingsOverMqtt_areRejectedWithTheirReason", async function () {
    const client = await connect();
    const topic = readingsTopic(fixture.device.address);
    const genuine = fixture.device.sign(measurement(1));
    await client.publishAsync(topic, JSON.stringify(toWireReading(genuine)), { qos: 1 });
    await client.publishAsync(topic, JSON.stringify(toWireReading(genuine)), { qos: 1 });
    await client.publishAsync(topic, JSON.stringify(toWireReading({ ...genuine, sequence: genuine.sequence + 1, temperature: 2_000 })), {
      qos: 1,
    });
    expect(await fixture.store.rejectionCounts()).to.deep.equal({ replay: 1, "bad-signature": 1 });
  });

  it("test_publishOutsideTheReadingsTopics_disconnectsTheClient_andStoresNothing", async function () {
    const client = await connect();
    const closed = new Promise<void>((resolve) => client.once("close", () => resolve()));
    client.publish("provena/anything", "x", { qos: 1 });
    await closed;
    expect(await fixture.store.rejectionCounts()).to.deep.equal({});
  });

  it("test_subscribingToReadings_isRefused", async function () {
    const client = await connect();
    let refusal: unknown = null;
    await client.subscribeAsync("provena/devices/+/readings", { qos: 1 }).catch((error: unknown) => (refusal = error));
    expect(String(refusal)).to.match(/Subscribe error/); // SUBACK 0x80
    // The connection stays usable.
    const reading = fixture.device.sign(measurement(1));
    await client.publishAsync(readingsTopic(reading.device), JSON.stringify(toWireReading(reading)), { qos: 1 });
    expect(await fixture.store.countReadings({ legId: fixture.legId })).to.equal(1);
  });
});
