/**
 * A simulated sensor: a plausible temperature and humidity series for a refrigerated leg, signed reading by reading
 * with the device's key (device-signer.ts) and published the way a real device does: over MQTT with QoS 1 to its
 * readings topic (mqtt-transport.ts), or POSTed to the HTTP ingest. `provena device simulate` and the demo's
 * refrigerated leg both run it.
 *
 * A reading is published once its timestamp is no longer in the future (the ingest refuses readings from the
 * future), so a series starting now is paced in real time and one starting in the past is sent at once.
 */
import mqtt, { type MqttClient } from "mqtt";
import type { SignedReading } from "../domain/cold-chain.ts";
import type { Hex } from "../domain/model.ts";
import type { DeviceSigner, Measurement } from "./device-signer.ts";
import { readingsTopic } from "./mqtt-transport.ts";
import { toWireReading } from "./reading-codec.ts";

/** `steady`: a healthy fridge around 4.5 °C; `warm-afternoon`: the same, climbing to about 11 °C over the leg's middle third. */
export const SIMULATION_PROFILES = ["steady", "warm-afternoon"] as const;
export type SimulationProfile = (typeof SIMULATION_PROFILES)[number];

export interface SeriesParameters {
  batchId: Hex;
  /** Unix seconds of the first reading. */
  startTime: number;
  intervalSeconds: number;
  count: number;
  profile: SimulationProfile;
  /** Same seed, same series (default 1). */
  seed?: number;
}

/** Hundredths of a degree / of a percent, the contract's units. */
const STEADY_TEMPERATURE = 450;
const STEADY_HUMIDITY = 8_500;
/** The warm afternoon peaks this far above the steady temperature (6.5 °C: about 11 °C at the top). */
const WARM_AFTERNOON_RISE = 650;

/** A small deterministic generator (mulberry32): the series is plausible noise, yet repeatable in tests. */
function randomSequence(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * The measurements of one leg, in order: temperature wandering ±0.8 °C around 4.5 °C (inside a 2–8 °C band), humidity
 * around 85 %; the warm-afternoon profile adds a smooth bump centred on the leg's middle.
 */
export function simulatedSeries({ batchId, startTime, intervalSeconds, count, profile, seed = 1 }: SeriesParameters): Measurement[] {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be a positive integer (got ${count})`);
  if (!Number.isInteger(intervalSeconds) || intervalSeconds < 1)
    throw new RangeError(`the interval must be a whole number of seconds, at least 1 (got ${intervalSeconds})`);
  const random = randomSequence(seed);
  const span = (count - 1) * intervalSeconds;
  // The middle third of the leg, above 8 °C for about two thirds of it (over 30 minutes of a leg of 2.5 hours or more).
  const warmHalfWidth = span / 6;
  let drift = 0;
  return Array.from({ length: count }, (_, index) => {
    const elapsed = index * intervalSeconds;
    // A random walk pulled back to the set point, the way a thermostat keeps it.
    drift = Math.max(-80, Math.min(80, drift * 0.8 + (random() - 0.5) * 40));
    let temperature = STEADY_TEMPERATURE + drift;
    if (profile === "warm-afternoon") {
      const fromMiddle = warmHalfWidth === 0 ? 1 : Math.abs(elapsed - span / 2) / warmHalfWidth;
      if (fromMiddle < 1) temperature += WARM_AFTERNOON_RISE * Math.cos((fromMiddle * Math.PI) / 2);
    }
    const humidity = STEADY_HUMIDITY + (random() - 0.5) * 300 - (temperature - STEADY_TEMPERATURE) * 2;
    return { batchId, timestamp: startTime + elapsed, temperature: Math.round(temperature), humidity: Math.round(humidity) };
  });
}

/** Where readings go. `publish` resolves when the receiver has them (MQTT: the PUBACK; HTTP: the ingest's answer). */
export interface ReadingPublisher {
  readonly description: string;
  publish(reading: SignedReading): Promise<PublishOutcome>;
  close(): Promise<void>;
}

/** MQTT only tells a device its reading arrived; the HTTP ingest also says whether it was accepted, and why not. */
export type PublishOutcome = { delivered: true } | { accepted: true } | { accepted: false; reason: string; detail: string };

/** A device's MQTT connection to `url`: each reading published with QoS 1 to `provena/devices/<device>/readings`. */
export async function connectMqttPublisher(url: string, options: { connectTimeoutMs?: number } = {}): Promise<ReadingPublisher> {
  let client: MqttClient;
  try {
    client = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: options.connectTimeoutMs ?? 5_000 });
  } catch (error) {
    throw new Error(`cannot connect to the MQTT broker at ${url}: ${(error as Error).message}`, { cause: error });
  }
  const shown = url.replace(/^([a-z]+:\/\/)[^@/]*@/i, "$1***@");
  return {
    description: `MQTT ${shown}`,
    async publish(reading) {
      await client.publishAsync(readingsTopic(reading.device), JSON.stringify(toWireReading(reading)), { qos: 1 });
      return { delivered: true };
    },
    async close() {
      await client.endAsync();
    },
  };
}

/** The HTTP ingest of a Provena backend at `apiUrl`: POST /api/v1/telemetry/readings, one reading a request. */
export function httpPublisher(apiUrl: string): ReadingPublisher {
  const endpoint = `${apiUrl.replace(/\/+$/, "")}/api/v1/telemetry/readings`;
  return {
    description: `HTTP ${endpoint}`,
    async publish(reading) {
      let response: Response;
      try {
        response = await fetch(endpoint, {
          method: "POST",
          headers: { "content-type": "application/json", accept: "application/json" },
          body: JSON.stringify(toWireReading(reading)),
        });
      } catch (error) {
        throw new Error(`cannot reach ${endpoint}: ${(error as Error).message}`, { cause: error });
      }
      const body = (await response.json().catch(() => ({}))) as {
        detail?: string;
        results?: ({ accepted: true } | { accepted: false; reason: string; detail: string })[];
      };
      if (!response.ok) throw new Error(`${endpoint} answered ${response.status}: ${body.detail ?? "no detail"}`);
      const result = body.results?.[0];
      if (result === undefined) throw new Error(`${endpoint} answered without a result for the reading`);
      return result.accepted ? { accepted: true } : { accepted: false, reason: result.reason, detail: result.detail };
    },
    async close() {},
  };
}

export interface SimulateDeviceParameters {
  signer: DeviceSigner;
  series: Measurement[];
  publisher: ReadingPublisher;
  /** Called after each reading is published. */
  onReading?: (reading: SignedReading, outcome: PublishOutcome) => void;
  /** Wall clock in unix ms (tests). */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  signal?: AbortSignal;
}

export interface SimulationSummary {
  published: number;
  /** Readings the HTTP ingest refused (MQTT cannot tell). */
  rejected: number;
  firstSequence: number | null;
  lastSequence: number | null;
  minTemperature: number | null;
  maxTemperature: number | null;
}

/** Signs and publishes each measurement once its time has come; stops early when `signal` aborts. */
export async function simulateDevice({
  signer,
  series,
  publisher,
  onReading,
  now = Date.now,
  sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  signal,
}: SimulateDeviceParameters): Promise<SimulationSummary> {
  const summary: SimulationSummary = {
    published: 0,
    rejected: 0,
    firstSequence: null,
    lastSequence: null,
    minTemperature: null,
    maxTemperature: null,
  };
  for (const measurement of series) {
    const wait = measurement.timestamp * 1_000 - now();
    if (wait > 0) await sleep(wait);
    if (signal?.aborted) break;
    const reading = signer.sign(measurement);
    const outcome = await publisher.publish(reading);
    summary.published++;
    if ("accepted" in outcome && !outcome.accepted) summary.rejected++;
    summary.firstSequence ??= reading.sequence;
    summary.lastSequence = reading.sequence;
    summary.minTemperature = Math.min(summary.minTemperature ?? reading.temperature, reading.temperature);
    summary.maxTemperature = Math.max(summary.maxTemperature ?? reading.temperature, reading.temperature);
    onReading?.(reading, outcome);
  }
  return summary;
}
