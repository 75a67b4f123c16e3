/**
 * A mirror holding one refrigerated leg of a device whose key the test holds, an ingest over it, and helpers to
 * sign readings as that device (or another).
 */
import { Wallet, type TypedDataDomain } from "ethers";
import { Registry } from "prom-client";
import { createDeviceSigner, type DeviceSigner } from "../../../backend/coldchain/device-signer.ts";
import { createReadingIngest, type ReadingIngest } from "../../../backend/coldchain/ingest-service.ts";
import { readingDomain } from "../../../backend/coldchain/reading-codec.ts";
import { createReadingVerifier } from "../../../backend/coldchain/reading-verifier.ts";
import type { Hex, Participant } from "../../../backend/domain/model.ts";
import type { MirrorStore } from "../../../backend/store/port.ts";
import { createSqliteStore } from "../../../backend/store/sqlite/index.ts";
import { ACCOUNTS, bytes32, timestampOf } from "../projections/event-factory.ts";
import { COLD_CHAIN_ADDRESS, COLD_CHAIN_DEPLOYMENT, createColdChainEventFactory, legIdOf } from "./cold-chain-events.ts";
import { commitColdChainBlock } from "./cold-chain-scenario.ts";

export const DEVICE_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
export const OTHER_DEVICE_KEY = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";
export const STRANGER_KEY = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6";
export const COLD_BATCH: Hex = bytes32("batch:fridge");
export const OTHER_BATCH: Hex = bytes32("batch:elsewhere");
export const LEG_START = timestampOf(11);
export const LEG_END = LEG_START + 86_400;
export const domain: TypedDataDomain = readingDomain(COLD_CHAIN_DEPLOYMENT.chainId, COLD_CHAIN_ADDRESS);

export const addressOf = (key: string) => new Wallet(key).address.toLowerCase() as Hex;

export interface IngestFixture {
  store: MirrorStore;
  ingest: ReadingIngest;
  registry: Registry;
  device: DeviceSigner;
  otherDevice: DeviceSigner;
  legId: Hex;
  close(): Promise<void>;
}

/**
 * Device and otherDevice are registered to the carrier; device is attached to COLD_BATCH from LEG_START to
 * LEG_END, otherDevice to OTHER_BATCH (open leg). `suspendCarrier` mirrors the carrier as suspended.
 */
export async function createIngestFixture({ suspendCarrier = false, path = ":memory:" } = {}): Promise<IngestFixture> {
  const store = createSqliteStore({ path });
  await store.init();
  const factory = createColdChainEventFactory(10);
  const device = addressOf(DEVICE_KEY);
  const other = addressOf(OTHER_DEVICE_KEY);
  const legId = legIdOf(device, COLD_BATCH);
  await commitColdChainBlock(store, [
    factory.event("DeviceRegistered", [device, ACCOUNTS.carrier]),
    factory.event("DeviceRegistered", [other, ACCOUNTS.carrier]),
  ]);
  factory.nextBlock();
  await commitColdChainBlock(store, [
    factory.event("DeviceAttached", [legId, device, COLD_BATCH, ACCOUNTS.carrier, LEG_START]),
    factory.event("DeviceAttached", [legIdOf(other, OTHER_BATCH), other, OTHER_BATCH, ACCOUNTS.carrier, LEG_START]),
  ]);
  factory.nextBlock();
  await commitColdChainBlock(store, [factory.event("DeviceDetached", [legId, device, COLD_BATCH, LEG_END])]);
  if (suspendCarrier) {
    const ref = { eventId: "31337:000000000001:000000", blockNumber: 1, blockTimestamp: 1, transactionHash: bytes32("tx") };
    const carrier: Participant = {
      address: ACCOUNTS.carrier,
      participantId: 3,
      gln: "0614141000036",
      name: "Carrier",
      roles: ["CARRIER"],
      companyPrefixes: [],
      suspended: true,
      onboarded: ref,
      lastEvent: ref,
    };
    await store.commitRange({
      chainId: 31337,
      events: [],
      blocks: [],
      batches: [],
      participants: [carrier],
      orders: [],
      checkpoint: { chainId: 31337, blockNumber: 12, blockHash: bytes32("b12"), updatedAt: 1 },
    });
  }
  const registry = new Registry();
  const verifier = createReadingVerifier({ store, domain, cacheTtlMs: 0 });
  const ingest = createReadingIngest({ store, verifier, registry, maxDelayMs: 1 });
  return {
    store,
    ingest,
    registry,
    device: createDeviceSigner(DEVICE_KEY, domain),
    otherDevice: createDeviceSigner(OTHER_DEVICE_KEY, domain),
    legId,
    async close() {
      await ingest.close();
      await store.close();
    },
  };
}

/** A measurement in the fridge range `minutes` into the leg. */
export const measurement = (minutes: number, temperature = 450, batchId: Hex = COLD_BATCH) => ({
  batchId,
  timestamp: LEG_START + minutes * 60,
  temperature,
  humidity: 6_000,
  latitude: 52_520_008,
  longitude: 13_404_954,
});
