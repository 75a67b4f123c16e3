/**
 * The relayer fixture's chain with a ColdChain deployed on its registry and set in the escrow, an indexer
 * mirroring it, the HTTP app ingesting readings (the verifier's clock follows the chain's), the keeper, the breach
 * submitter and a relayer worker: everything between a device's reading and the escrow's payout.
 */
import { ZeroAddress, id as keccakText, Wallet } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import request from "supertest";
import { createProvenaHttpApp, type ProvenaHttpDeps } from "../../../backend/main.ts";
import { loadConfig } from "../../../backend/config.ts";
import type { ChainAccess } from "../../../backend/chain/chain-access.ts";
import { signOrderConsentOn } from "../../../backend/chain/order-consent.ts";
import { createBreachSubmitter, type BreachSubmitterOptions } from "../../../backend/coldchain/breach-submitter.ts";
import { createDeviceSigner, type DeviceSigner, type Measurement } from "../../../backend/coldchain/device-signer.ts";
import { createReadingIngest } from "../../../backend/coldchain/ingest-service.ts";
import { readingDomain, toWireReading } from "../../../backend/coldchain/reading-codec.ts";
import { createReadingVerifier } from "../../../backend/coldchain/reading-verifier.ts";
import type { Hex } from "../../../backend/domain/model.ts";
import { createIndexer } from "../../../backend/indexer/index.ts";
import { createKeeper } from "../../../backend/keeper/keeper.ts";
import { createRelayerWorker, type RelayerWorker } from "../../../backend/relayer/index.ts";
import type { ColdChain } from "../../../types/ethers-contracts/index.js";
import { glnFrom, gtinFrom } from "../../helpers/gs1.ts";
import { buildSerialTree, makeSerials } from "../../helpers/serials.ts";
import { createRelayerFixture, silentLogger } from "../relayer/relayer-fixture.ts";

export const HOUR = 3_600;
/** 2 to 8 °C, humidity unconstrained, 30 minutes of excursion allowed. */
export const CHILLED = { minTemperature: 200, maxTemperature: 800, minHumidity: 0, maxHumidity: 10_000, allowedExcursionSeconds: 1_800 };
export const BREACH_TERMS = { none: 0, refundFreight: 1, rejectGoods: 2, dispute: 3 } as const;
export const ORDER_AMOUNT = 10_000_000n;
const LOCATION = glnFrom("871234500099");

export async function createBreachFixture() {
  const fx = await createRelayerFixture();
  const { registry, forwarder, escrow, admin } = fx.deployment;
  const coldChain = (await fx.ethers.deployContract("ColdChain", [
    await registry.getAddress(),
    await forwarder.getAddress(),
    admin.address,
    0n,
  ])) as unknown as ColdChain;
  await (await escrow!.connect(admin).setColdChain(await coldChain.getAddress())).wait();
  const coldChainAddress = (await coldChain.getAddress()).toLowerCase() as Hex;
  const chain: ChainAccess = { ...fx.chain, addresses: { ...fx.chain.addresses, coldChain: coldChainAddress } };
  const deployment = { chainId: chain.chainId, ...chain.addresses, deployBlock: 0 };
  const indexer = createIndexer({
    provider: fx.provider,
    deployment,
    store: fx.store,
    config: { confirmations: 0, indexerBlockRange: 1_000, indexerPollMs: 20, leaseTtlMs: 5_000, instanceId: "breach-test" },
    logger: silentLogger,
  });
  indexer.start();

  /** The chain's clock, for the verifier (readings are stamped in chain time, which the tests move forward). */
  let chainSeconds = (await fx.provider.getBlock("latest"))!.timestamp;
  const ingest = createReadingIngest({
    store: fx.store,
    verifier: createReadingVerifier({
      store: fx.store,
      domain: readingDomain(chain.chainId, coldChainAddress),
      cacheTtlMs: 0,
      now: () => chainSeconds * 1000,
    }),
    maxDelayMs: 1,
  });
  const app = createProvenaHttpApp({
    config: loadConfig({ LOG_LEVEL: "silent", MQTT_PORT: "0" }),
    store: fx.store,
    logger: silentLogger,
    chain: { chainId: chain.chainId, provider: fx.provider as ProvenaHttpDeps["chain"]["provider"], deployment },
    indexerStatus: (() => indexer.status()) as unknown as ProvenaHttpDeps["indexerStatus"],
    relay: null,
    coldChainIngest: ingest,
  });

  const relayerAddress = fx.relayerWallet.address.toLowerCase() as Hex;
  const workers: RelayerWorker[] = [];
  const worker = () => {
    const created = createRelayerWorker({
      store: fx.store,
      chain,
      signer: fx.relayerWallet,
      logger: silentLogger,
      holder: "breach-relayer",
      pollMs: 20,
    });
    workers.push(created);
    return created;
  };
  const relayer = worker();
  const keeper = createKeeper({ store: fx.store, chain, relayerAddress, logger: silentLogger });
  const submitter = (options: Partial<BreachSubmitterOptions> = {}) =>
    createBreachSubmitter({ store: fx.store, chain, relayerAddress, logger: silentLogger, maxReadingsPerPiece: 20, ...options });

  async function mirrorCaughtUp(): Promise<void> {
    await indexer.waitForBlock(await fx.provider.getBlockNumber(), { timeoutMs: 10_000 });
  }

  async function advance(seconds: number): Promise<void> {
    await fx.networkHelpers.time.increase(seconds);
    chainSeconds = (await fx.provider.getBlock("latest"))!.timestamp;
  }

  /** Runs the relayer until every queued or submitted job is settled (mined or failed). */
  async function relayAll(): Promise<void> {
    for (let round = 0; round < 10 && (await fx.store.listRelays(["queued", "submitted"], 100)).length > 0; round++) {
      await relayer.tick();
    }
  }

  async function handoff(batchId: string, from: HardhatEthersSigner, to: HardhatEthersSigner): Promise<void> {
    await (await registry.connect(from).proposeHandoff(batchId, to.address, LOCATION, 0)).wait();
    await (await registry.connect(to).acceptHandoff(batchId, LOCATION, 1)).wait();
  }

  let lotCounter = 0;
  let deviceCounter = 0;
  /**
   * A chilled batch with an ETH order on it (no inspector) under `breachTerms`, handed to the carrier, who
   * registers a fresh device and attaches it: the leg starts. Returns what a test drives the leg with.
   */
  async function refrigeratedLeg(breachTerms: number) {
    const { manufacturer, carrier, retailer } = fx.deployment;
    const lot = `COLD-${++lotCounter}`;
    const latest = await fx.provider.getBlock("latest");
    const gtin = gtinFrom("0841234567890");
    await (
      await registry
        .connect(manufacturer)
        .registerBatch(
          gtin,
          lot,
          2n,
          latest!.timestamp - 86_400,
          glnFrom("841234500001"),
          keccakText("doc"),
          buildSerialTree(makeSerials(2)).root,
        )
    ).wait();
    const batchId = (await registry.batchIdOf(gtin, lot)).toLowerCase() as Hex;
    await (await coldChain.connect(manufacturer).setBatchConditions(batchId, CHILLED)).wait();
    const order = {
      buyer: retailer.address,
      seller: manufacturer.address,
      carrier: carrier.address,
      token: ZeroAddress,
      amount: ORDER_AMOUNT,
      batchId,
      sellerBps: 8_900,
      carrierBps: 1_000,
      platformBps: 100,
      deliveryDeadline: latest!.timestamp + 7 * 24 * HOUR,
      disputeWindow: 24 * HOUR,
      inspector: ZeroAddress,
      fallbackBuyerBps: 5_000,
      salt: keccakText(lot),
      breachTerms,
    };
    const consent = await signOrderConsentOn(escrow!, manufacturer, order);
    await (await escrow!.connect(retailer).openOrder(order, consent, { value: order.amount })).wait();
    await handoff(batchId, manufacturer, carrier);
    const deviceKey = keccakText(`breach test device ${++deviceCounter}`);
    const deviceAddress = new Wallet(deviceKey).address;
    await (await coldChain.connect(carrier).registerDevice(deviceAddress, carrier.address)).wait();
    await (await coldChain.connect(carrier).attachDevice(deviceAddress, batchId)).wait();
    const [, , legId] = await coldChain.device(deviceAddress);
    const attachedAt = Number((await coldChain.leg(legId)).attachedAt);
    const device: DeviceSigner = createDeviceSigner(deviceKey, readingDomain(chain.chainId, coldChainAddress));
    /** A measurement `minutes` into the leg at `temperature` centi-degrees. */
    const at = (minutes: number, temperature: number): Measurement => ({ batchId, timestamp: attachedAt + minutes * 60, temperature });
    return { batchId, order, legId: legId.toLowerCase() as Hex, attachedAt, device, at };
  }

  /** Posts signed readings through the HTTP ingest (500 per request); every one must be accepted. */
  async function postReadings(readings: ReturnType<DeviceSigner["sign"]>[]): Promise<void> {
    for (let start = 0; start < readings.length; start += 500) {
      const response = await request(app)
        .post("/api/v1/telemetry/readings")
        .send(readings.slice(start, start + 500).map(toWireReading))
        .expect(200);
      if (response.body.rejected !== 0)
        throw new Error(`readings rejected: ${JSON.stringify(response.body.results.find((r: { accepted: boolean }) => !r.accepted))}`);
    }
  }

  async function close(): Promise<void> {
    await Promise.all(workers.map((w) => w.stop()));
    await ingest.close();
    await indexer.stop();
    await fx.store.close();
    await fx.connection.close();
  }

  return {
    fx,
    chain,
    coldChain,
    app,
    indexer,
    keeper,
    relayer,
    relayerAddress,
    submitter,
    mirrorCaughtUp,
    advance,
    relayAll,
    handoff,
    refrigeratedLeg,
    postReadings,
    close,
  };
}

export type BreachFixture = Awaited<ReturnType<typeof createBreachFixture>>;
