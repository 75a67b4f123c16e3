/**
 * Readings over MQTT. Devices publish each reading (reading-codec.ts wire format) with QoS 1 to
 * `provena/devices/<device address>/readings`. Either the backend runs an embedded broker (aedes) and takes every
 * publish on that topic straight from it, or it subscribes to an external broker (Mosquitto, EMQX, HiveMQ) at
 * MQTT_URL.
 *
 * On the embedded broker a QoS 1 publish is acknowledged (PUBACK) only once the reading's verdict is stored, so a
 * device that got its PUBACK knows the reading is not lost; one that did not sends it again and the duplicate is
 * a counted replay. Clients may publish only to a readings topic naming a well-formed address and may subscribe
 * to nothing (readings are the shippers' data); a topic that names another device than the reading is malformed.
 * Device identity is the signature, not the MQTT connection, so the broker asks no password.
 */
import { createServer, type AddressInfo, type Server } from "node:net";
import { Aedes } from "aedes";
import mqtt from "mqtt";
import type { Logger } from "pino";
import type { Hex } from "../domain/model.ts";
import type { ReadingIngest } from "./ingest-service.ts";

export const READINGS_TOPIC_FILTER = "provena/devices/+/readings";
const READINGS_TOPIC = /^provena\/devices\/(0x[0-9a-fA-F]{40})\/readings$/;
/** Publishes bigger than this are refused at the broker (the client is disconnected); smaller garbage is stored. */
export const MAX_MQTT_PAYLOAD_BYTES = 64 * 1024;

export const readingsTopic = (device: string) => `provena/devices/${device.toLowerCase()}/readings`;

/** The device a readings topic names, lower-case; null for any other topic. */
export function deviceOfTopic(topic: string): Hex | null {
  const match = READINGS_TOPIC.exec(topic);
  return match === null ? null : (match[1]!.toLowerCase() as Hex);
}

export interface MqttReadingSource {
  /** Where devices connect: "mqtt://127.0.0.1:1883", or the external broker's URL (credentials removed). */
  readonly url: string;
  close(): Promise<void>;
}

export interface StartEmbeddedBrokerParameters {
  ingest: ReadingIngest;
  host: string;
  /** 0 picks a free port. */
  port: number;
  logger: Logger;
}

export async function startEmbeddedBroker({ ingest, host, port, logger }: StartEmbeddedBrokerParameters): Promise<MqttReadingSource> {
  const log = logger.child({ component: "mqtt" });
  const broker = await Aedes.createBroker({
    maxTopicLevels: 8,
    drainTimeout: 30_000,
    // aedes sends a QoS 1 PUBACK as soon as the publish is authorised, so the reading is ingested here: its
    // verdict is stored before the device hears back. Publishes of one connection are authorised concurrently.
    authorizePublish(client, packet, callback) {
      if (client === null) return callback(null); // the broker's own ($SYS heartbeats)
      const device = deviceOfTopic(packet.topic);
      if (device === null) return callback(new Error(`publishing to ${packet.topic} is not allowed`));
      if (packet.payload.length > MAX_MQTT_PAYLOAD_BYTES) return callback(new Error("reading too large"));
      ingest.submit(packet.payload, "mqtt", device).then(
        () => callback(null),
        (error: unknown) => {
          log.error({ error: String(error) }, "a reading could not be stored; the device will send it again");
          callback(error instanceof Error ? error : new Error(String(error)));
        },
      );
    },
    // A negated subscription (SUBACK 0x80): the client stays connected, it just receives nothing.
    authorizeSubscribe(_client, _subscription, callback) {
      callback(null, null);
    },
  });
  broker.on("clientError", (client, error) => log.debug({ client: client.id, error: error.message }, "MQTT client error"));
  const server: Server = createServer(broker.handle);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const url = `mqtt://${address.family === "IPv6" ? `[${address.address}]` : address.address}:${address.port}`;
  log.info({ url }, `MQTT broker listening on ${url} (readings on ${READINGS_TOPIC_FILTER})`);
  return {
    url,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await ingest.drain();
    },
  };
}

export interface SubscribeExternalBrokerParameters {
  ingest: ReadingIngest;
  url: string;
  clientId: string;
  logger: Logger;
}

/** Subscribes to the readings topic on an external broker (QoS 1, a persistent session: nothing missed across restarts). */
export async function subscribeExternalBroker({
  ingest,
  url,
  clientId,
  logger,
}: SubscribeExternalBrokerParameters): Promise<MqttReadingSource> {
  const log = logger.child({ component: "mqtt" });
  const client = await mqtt.connectAsync(url, { clientId, clean: false, reconnectPeriod: 2_000, connectTimeout: 10_000 });
  client.on("message", (topic, payload) => {
    const device = deviceOfTopic(topic);
    if (device === null || payload.length > MAX_MQTT_PAYLOAD_BYTES) return;
    ingest.submit(payload, "mqtt", device).catch((error: unknown) => log.error({ error: String(error) }, "a reading could not be stored"));
  });
  client.on("error", (error) => log.warn({ error: error.message }, "MQTT broker connection error"));
  await client.subscribeAsync(READINGS_TOPIC_FILTER, { qos: 1 });
  const shown = url.replace(/^([a-z]+:\/\/)[^@/]*@/i, "$1***@");
  log.info({ url: shown }, `subscribed to ${READINGS_TOPIC_FILTER} on ${shown}`);
  return {
    url: shown,
    async close() {
      await client.endAsync();
      await ingest.drain();
    },
  };
}
