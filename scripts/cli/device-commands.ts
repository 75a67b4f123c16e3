/**
 * `provena device …` and `provena conditions …`: the cold chain from the command line (contracts/ColdChain.sol).
 * Carriers register their sensors (each its own key, made by `device keygen`), attach one to a batch they hold for
 * a leg and detach it at handoff; manufacturers set the conditions goods must be kept in, in human units (°C, %,
 * 30m) that go on chain in the contract's (hundredths, seconds). `device simulate` plays a sensor: it signs readings
 * with the device's key and publishes them over MQTT (QoS 1) or HTTP, like a real one (backend/coldchain/device-simulator.ts).
 */
import { readFile, writeFile } from "node:fs/promises";
import { InvalidArgumentError, Option, type Command } from "commander";
import { Wallet, ZeroHash } from "ethers";
import { gtinSchema } from "../../backend/chain/schemas.ts";
import { createDeviceSigner } from "../../backend/coldchain/device-signer.ts";
import {
  SIMULATION_PROFILES,
  connectMqttPublisher,
  httpPublisher,
  simulateDevice,
  simulatedSeries,
  type ReadingPublisher,
  type SimulationProfile,
} from "../../backend/coldchain/device-simulator.ts";
import { readingDomain } from "../../backend/coldchain/reading-codec.ts";
import { NO_HUMIDITY, type ColdChainDevice, type ColdChainLeg, type StoredReading } from "../../backend/domain/cold-chain.ts";
import type { Hex, Page } from "../../backend/domain/model.ts";
import { apiJson } from "./api-client.ts";
import { address, batchRef, celsius, duration, hex32, nonNegativeInteger, percent, positiveInteger } from "./arguments.ts";
import { CliError, type CliContext, type WithContext } from "./context.ts";

type DeviceView = ColdChainDevice & { legs: ColdChainLeg[] };

export function registerDeviceCommands(program: Command, withContext: WithContext): void {
  const device = program
    .command("device")
    .description("cold-chain sensors: keys, registration (carrier), legs on batches, readings, and a simulated sensor");

  device
    .command("keygen")
    .description("make a new device key: the device signs its readings with it, its address is what you register")
    .option("--out <file>", "write the key to this file (mode 0600, never overwritten) instead of printing it")
    .action(async (options: { out?: string }) => {
      const wallet = Wallet.createRandom();
      if (options.out === undefined) {
        console.error("! the private key below is the device's SECRET: load it into the sensor, keep no other copy");
        console.log(JSON.stringify({ address: wallet.address, privateKey: wallet.privateKey }, null, 2));
        return;
      }
      try {
        await writeFile(options.out, `${JSON.stringify({ address: wallet.address, privateKey: wallet.privateKey }, null, 2)}\n`, {
          encoding: "utf8",
          flag: "wx",
          mode: 0o600,
        });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "EEXIST")
          throw new CliError(`${options.out} already exists: device keys are never overwritten`);
        throw new CliError(`cannot write ${options.out}: ${(error as Error).message}`, { cause: error });
      }
      console.error(`! ${options.out} holds the device's SECRET key: load it into the sensor, then keep it offline or destroy it`);
      console.log(
        `✓ device key written to ${options.out}; address ${wallet.address} (register it with: provena device register ${wallet.address})`,
      );
    });

  device
    .command("register")
    .argument("<address>", "the device's address (from `device keygen`)", address)
    .description("register a device, bound to its carrier for life (the carrier itself, or the admin for it)")
    .option("--carrier <address>", "the carrier the device belongs to (default: the caller)", address)
    .action(
      withContext(async (context, deviceAddress: string, options: { carrier?: string }) => {
        const carrier = options.carrier ?? (await context.signer()).address;
        const [registeredTo] = await (await context.coldChain()).device(deviceAddress);
        if (registeredTo !== `0x${"00".repeat(20)}`)
          throw new CliError(`device ${deviceAddress} is already registered to carrier ${registeredTo}; a device's carrier never changes`);
        await context.send(`device ${deviceAddress} registered to carrier ${carrier}`, "coldChain", "registerDevice", [
          deviceAddress,
          carrier,
        ]);
      }),
    );

  device
    .command("retire")
    .argument("<address>", "the device's address", address)
    .description("retire a device for good (its carrier or the admin); an open leg ends now, past legs keep their evidence")
    .action(
      withContext(async (context, deviceAddress: string) => {
        const [, retired] = await registeredDevice(context, deviceAddress);
        if (retired) throw new CliError(`device ${deviceAddress} is already retired`);
        await context.send(`device ${deviceAddress} retired`, "coldChain", "retireDevice", [deviceAddress]);
      }),
    );

  device
    .command("attach")
    .argument("<device>", "the device's address", address)
    .description("the carrier attaches its device to a batch it holds: a leg starts, the batch's conditions freeze")
    .requiredOption("--batch <batch>", "batch id (0x + 64 hex digits) or GTIN/LOT", batchRef)
    .action(
      withContext(async (context, deviceAddress: string, options: { batch: Hex }) => {
        const [, retired, currentLeg] = await registeredDevice(context, deviceAddress);
        if (retired) throw new CliError(`device ${deviceAddress} is retired: register a new one`);
        if (currentLeg !== ZeroHash)
          throw new CliError(
            `device ${deviceAddress} is still attached (leg ${currentLeg}): detach it first with \`provena device detach\``,
          );
        const { logs } = await context.send(`device ${deviceAddress} attached to batch ${options.batch}`, "coldChain", "attachDevice", [
          deviceAddress,
          options.batch,
        ]);
        const coldChain = await context.coldChain();
        for (const log of logs as { topics: string[]; data: string }[]) {
          const parsed = coldChain.interface.parseLog(log);
          if (parsed?.name === "DeviceAttached") console.log(`  leg ${String(parsed.args.legId)}`);
        }
      }),
    );

  device
    .command("detach")
    .argument("<device>", "the device's address", address)
    .description("end the device's leg: its carrier any time; anyone once the batch was handed on (the leg then ends at the handoff)")
    .action(
      withContext(async (context, deviceAddress: string) => {
        const [, , currentLeg] = await registeredDevice(context, deviceAddress);
        if (currentLeg === ZeroHash) throw new CliError(`device ${deviceAddress} is not attached to any batch`);
        await context.send(`device ${deviceAddress} detached (leg ${currentLeg} ended)`, "coldChain", "detachDevice", [deviceAddress]);
      }),
    );

  device
    .command("show")
    .argument("<address>", "the device's address", address)
    .description("a device as the backend mirrors it: its carrier, whether it is retired, its current leg and all its legs (JSON)")
    .action(async (deviceAddress: string) => {
      const view = await deviceView(apiOf(program), deviceAddress);
      console.log(JSON.stringify(view, null, 2));
    });

  device
    .command("readings")
    .description("accepted readings of a batch (by time) or a leg (by sequence), a page at a time")
    .option("--batch <batch>", "batch id (0x + 64 hex digits) or GTIN/LOT", batchRef)
    .option("--leg <legId>", "leg id (from `device attach` or `device show`)", hex32)
    .addOption(new Option("--limit <n>", "readings per page, 1-500").default(50).argParser(pageLimit))
    .option("--cursor <cursor>", "continue from the `next` cursor a previous page printed")
    .option("--all", "follow the cursor to the last page", false)
    .option("--json", "print the pages' readings as JSON lines", false)
    .action(async (options: { batch?: Hex; leg?: Hex; limit: number; cursor?: string; all: boolean; json: boolean }) => {
      if ((options.batch === undefined) === (options.leg === undefined)) throw new CliError("name exactly one of --batch or --leg");
      const api = apiOf(program);
      const base = options.leg !== undefined ? `/api/v1/legs/${options.leg}/readings` : `/api/v1/batches/${options.batch}/readings`;
      let cursor = options.cursor ?? null;
      let shown = 0;
      for (;;) {
        const query = new URLSearchParams({ limit: String(options.limit), ...(cursor === null ? {} : { cursor }) });
        const { body: page } = await apiJson<Page<StoredReading>>(api, `${base}?${query.toString()}`);
        for (const reading of page.items) {
          console.log(options.json ? JSON.stringify(reading) : readingLine(reading));
        }
        shown += page.items.length;
        cursor = page.nextCursor;
        if (cursor === null || !options.all) break;
      }
      if (cursor !== null) console.error(`… more: --cursor ${cursor}`);
      else if (shown === 0) console.error("no readings");
    });

  device
    .command("simulate")
    .description(
      "play the device: sign a plausible temperature/humidity series with its key and publish it (MQTT QoS 1, or HTTP), a reading each interval",
    )
    .requiredOption("--key <file|hex>", "the device's private key: 0x + 64 hex digits, or a file written by `device keygen`")
    .requiredOption("--batch <batch>", "the batch the device is attached to: id or GTIN/LOT", batchRef)
    .option("--mqtt <url>", "the MQTT broker (default: MQTT_URL, else mqtt://127.0.0.1:1883, the one `npm start` runs)")
    .option("--http <url>", "POST to this Provena backend's HTTP ingest instead of MQTT")
    .addOption(new Option("--interval <duration>", "time between readings, e.g. 60s or 5m").default(60, "60s").argParser(duration))
    .addOption(new Option("--count <n>", "how many readings").default(10).argParser(positiveInteger))
    .addOption(new Option("--profile <profile>", "the temperature series").choices(SIMULATION_PROFILES).default("steady"))
    .option("--start-sequence <n>", "the first reading's sequence (default: one after the last the backend accepted)", nonNegativeInteger)
    .action(
      withContext(
        async (
          context,
          options: {
            key: string;
            batch: Hex;
            mqtt?: string;
            http?: string;
            interval: number;
            count: number;
            profile: SimulationProfile;
            startSequence?: number;
          },
        ) => {
          if (options.mqtt !== undefined && options.http !== undefined) throw new CliError("publish over --mqtt or --http, not both");
          const privateKey = await readDeviceKey(options.key);
          const deviceAddress = new Wallet(privateKey).address;
          const view = await deviceView(context, deviceAddress);
          if (view.retired) throw new CliError(`device ${deviceAddress} is retired: its readings count for nothing`);
          const leg = view.legs.find((candidate) => candidate.legId === view.currentLegId);
          if (leg === undefined || leg.batchId !== options.batch.toLowerCase()) {
            throw new CliError(
              `device ${deviceAddress} is not attached to batch ${options.batch}` +
                (leg === undefined ? "" : ` (it is attached to ${leg.batchId})`) +
                `: the carrier attaches it with \`provena device attach ${deviceAddress} --batch ${options.batch}\``,
            );
          }
          const { coldChain } = await context.deployment();
          const firstSequence = options.startSequence ?? (await nextSequenceOf(context, view));
          const signer = createDeviceSigner(privateKey, readingDomain(context.chainId, coldChain as Hex), firstSequence);
          // Readings before the attach would be refused: a series starts at the attach at the earliest.
          const startTime = Math.max(Math.floor(Date.now() / 1_000), leg.attachedAt);
          const series = simulatedSeries({
            batchId: options.batch,
            startTime,
            intervalSeconds: options.interval,
            count: options.count,
            profile: options.profile,
            seed: firstSequence,
          });
          const publisher: ReadingPublisher =
            options.http !== undefined
              ? httpPublisher(options.http)
              : await connectMqttPublisher(options.mqtt ?? process.env.MQTT_URL ?? "mqtt://127.0.0.1:1883").catch((error: Error) => {
                  throw new CliError(error.message);
                });
          console.error(
            `… device ${deviceAddress} publishing ${options.count} ${options.profile} readings every ${options.interval}s to ${publisher.description}, from sequence ${firstSequence}`,
          );
          const abort = new AbortController();
          const onSignal = () => abort.abort();
          process.once("SIGINT", onSignal);
          try {
            const summary = await simulateDevice({
              signer,
              series,
              publisher,
              signal: abort.signal,
              onReading: (reading, outcome) =>
                console.log(
                  `${readingLine({ ...reading })}  ${"delivered" in outcome ? "delivered" : outcome.accepted ? "accepted" : `REJECTED ${outcome.reason}: ${outcome.detail}`}`,
                ),
            });
            const range = summary.minTemperature === null ? "" : `, ${summary.minTemperature / 100} to ${summary.maxTemperature! / 100} °C`;
            console.log(
              `✓ ${summary.published} readings published (sequences ${summary.firstSequence}-${summary.lastSequence}${range})` +
                (summary.rejected > 0 ? `; ${summary.rejected} REJECTED by the ingest` : ""),
            );
            if (summary.rejected > 0) process.exitCode = 1;
          } catch (error) {
            throw new CliError(`publishing failed: ${(error as Error).message}`, { cause: error });
          } finally {
            process.off("SIGINT", onSignal);
            await publisher.close();
          }
        },
      ),
    );

  const conditions = program.command("conditions").description("the conditions goods must be kept in (manufacturer)");
  conditions
    .command("set")
    .description(
      "set a batch's conditions (until its first leg freezes them) or a product's (its GTIN: every batch without its own); human units in",
    )
    .option("--gtin <gtin>", "the product (8, 12, 13 or 14 digits)", gtin)
    .option("--batch <batch>", "the batch: id or GTIN/LOT", batchRef)
    .requiredOption("--min-temp <°C>", "lowest temperature, °C (e.g. 2)", celsius)
    .requiredOption("--max-temp <°C>", "highest temperature, °C (e.g. 8)", celsius)
    .option("--min-humidity <%>", "lowest relative humidity, % (default: unconstrained)", percent)
    .option("--max-humidity <%>", "highest relative humidity, % (default: unconstrained)", percent)
    .requiredOption(
      "--allowed-excursion <duration>",
      "cumulative time out of range a leg may have before it is a breach, e.g. 30m",
      duration,
    )
    .action(
      withContext(
        async (
          context,
          options: {
            gtin?: string;
            batch?: Hex;
            minTemp: number;
            maxTemp: number;
            minHumidity?: number;
            maxHumidity?: number;
            allowedExcursion: number;
          },
        ) => {
          if ((options.gtin === undefined) === (options.batch === undefined)) throw new CliError("name exactly one of --gtin or --batch");
          if (options.minTemp >= options.maxTemp)
            throw new CliError(`--min-temp ${options.minTemp / 100} °C must be below --max-temp ${options.maxTemp / 100} °C`);
          const minHumidity = options.minHumidity ?? 0;
          const maxHumidity = options.maxHumidity ?? 10_000;
          if (minHumidity >= maxHumidity)
            throw new CliError(`--min-humidity ${minHumidity / 100} % must be below --max-humidity ${maxHumidity / 100} %`);
          const struct = {
            minTemperature: options.minTemp,
            maxTemperature: options.maxTemp,
            minHumidity,
            maxHumidity,
            allowedExcursionSeconds: options.allowedExcursion,
          };
          const words =
            `${options.minTemp / 100} to ${options.maxTemp / 100} °C` +
            (options.minHumidity === undefined && options.maxHumidity === undefined
              ? ""
              : `, ${minHumidity / 100} to ${maxHumidity / 100} % humidity`) +
            `, ${formatDuration(options.allowedExcursion)} allowed excursion`;
          if (options.batch !== undefined) {
            const [, , frozen] = await (await context.coldChain()).conditionsOf(options.batch);
            if (frozen)
              throw new CliError(`batch ${options.batch}'s conditions froze when its first leg started; they can no longer change`);
            await context.send(`conditions of batch ${options.batch}: ${words}`, "coldChain", "setBatchConditions", [
              options.batch,
              struct,
            ]);
          } else {
            await context.send(`conditions of GTIN ${options.gtin}: ${words}`, "coldChain", "setProductConditions", [
              BigInt(options.gtin!),
              struct,
            ]);
          }
        },
      ),
    );
}

/** The global --api, else PROVENA_API_URL, for commands that only read the backend (no chain needed). */
function apiOf(program: Command): Pick<CliContext, "apiUrl"> {
  const { api } = program.opts<{ api?: string }>();
  return { apiUrl: (api ?? process.env.PROVENA_API_URL ?? "http://127.0.0.1:3000").replace(/\/+$/, "") };
}

/** The device on chain; a CliError naming the fix when it was never registered. */
async function registeredDevice(context: CliContext, deviceAddress: string): Promise<[string, boolean, string]> {
  const [carrier, retired, currentLeg] = await (await context.coldChain()).device(deviceAddress);
  if (carrier === `0x${"00".repeat(20)}`)
    throw new CliError(
      `device ${deviceAddress} is not registered: its carrier registers it with \`provena device register ${deviceAddress}\``,
    );
  return [carrier, retired, currentLeg];
}

async function deviceView(api: Pick<CliContext, "apiUrl">, deviceAddress: string): Promise<DeviceView> {
  try {
    return (await apiJson<DeviceView>(api, `/api/v1/devices/${deviceAddress.toLowerCase()}`)).body;
  } catch (error) {
    if (error instanceof CliError && error.message.includes("HTTP 404"))
      throw new CliError(`device ${deviceAddress} is not registered (the backend at ${api.apiUrl} knows no such device)`);
    throw error;
  }
}

/** One after the highest sequence the backend accepted from the device (its most recent leg with readings), else 1. */
async function nextSequenceOf(api: Pick<CliContext, "apiUrl">, view: DeviceView): Promise<number> {
  const legs = [...view.legs].sort((a, b) => b.attachedAt - a.attachedAt);
  for (const leg of legs) {
    let cursor: string | null = null;
    let last: number | null = null;
    do {
      const query: URLSearchParams = new URLSearchParams({ limit: "500", ...(cursor === null ? {} : { cursor }) });
      const { body: page }: { body: Page<StoredReading> } = await apiJson<Page<StoredReading>>(
        api,
        `/api/v1/legs/${leg.legId}/readings?${query.toString()}`,
      );
      for (const reading of page.items) last = Math.max(last ?? reading.sequence, reading.sequence);
      cursor = page.nextCursor;
    } while (cursor !== null);
    if (last !== null) return last + 1;
  }
  return 1;
}

/** A device key: 0x + 64 hex digits, or a file holding one (bare, or `device keygen`'s JSON). */
async function readDeviceKey(value: string): Promise<string> {
  const isKey = (text: string) => /^0x[0-9a-fA-F]{64}$/.test(text);
  if (isKey(value)) return value;
  let text: string;
  try {
    text = (await readFile(value, "utf8")).trim();
  } catch (error) {
    if (/^(0x)?[0-9a-fA-F]+$/.test(value)) throw new CliError("--key must be 0x + 64 hex digits, or a key file");
    throw new CliError(`cannot read the device key file ${value}: ${(error as Error).message}`, { cause: error });
  }
  if (isKey(text)) return text;
  try {
    const { privateKey } = JSON.parse(text) as { privateKey?: unknown };
    if (typeof privateKey === "string" && isKey(privateKey)) return privateKey;
  } catch {
    // not JSON: refused below
  }
  throw new CliError(`${value} holds no device key (0x + 64 hex digits, or the JSON \`device keygen --out\` writes)`);
}

function gtin(value: string): string {
  const parsed = gtinSchema.safeParse(value);
  if (!parsed.success) throw new InvalidArgumentError(parsed.error.issues[0]!.message);
  return parsed.data;
}

function pageLimit(value: string): number {
  const limit = positiveInteger(value);
  if (limit > 500) throw new InvalidArgumentError("must be 1-500");
  return limit;
}

function readingLine(reading: Pick<StoredReading, "sequence" | "timestamp" | "temperature" | "humidity" | "device">): string {
  const humidity = reading.humidity === NO_HUMIDITY ? "—" : `${(reading.humidity / 100).toFixed(1)} %`;
  return `#${reading.sequence}  ${new Date(reading.timestamp * 1_000).toISOString()}  ${(reading.temperature / 100).toFixed(2)} °C  ${humidity}`;
}

export function formatDuration(seconds: number): string {
  if (seconds % 3_600 === 0 && seconds > 0) return `${seconds / 3_600} h`;
  if (seconds % 60 === 0 && seconds > 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}
