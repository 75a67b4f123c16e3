/**
 * Shared pieces of the indexer end-to-end tests: a supply-chain story on Hardhat's network, indexer set-up,
 * store wrappers that crash or count writes, and a store dump to compare two mirrors.
 */
import { pino } from "pino";
import { ZeroAddress, keccak256, toUtf8Bytes, type AbstractProvider, type Eip1193Provider } from "ethers";
import type { Deployment } from "../../../backend/chain/deployment.ts";
import { providerFromEip1193 } from "../../../backend/chain/provider.ts";
import { createIndexer, type CreateIndexerParameters, type Indexer, type IndexerConfig } from "../../../backend/indexer/index.ts";
import type { MirrorStore, RangeCommit } from "../../../backend/store/port.ts";
import type { Batch, ChainEvent, Hex, Order, Page, Participant } from "../../../backend/domain/model.ts";
import { registerBatch } from "../../helpers/batches.ts";
import { DEMO_DC_GLN, DEMO_PORT_GLN, type ProvenaDeployment } from "../../../scripts/fixtures/provena-deployment.ts";
import { BusinessStep } from "../../../scripts/fixtures/registry-enums.ts";
import { signOrderConsentOn } from "../../../backend/chain/order-consent.ts";
import type { ITradeEscrow } from "../../../types/ethers-contracts/TradeEscrow.js";

export const silentLogger = () => pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });

export function indexerConfig(overrides: Partial<IndexerConfig> = {}): IndexerConfig {
  return { confirmations: 0, indexerBlockRange: 1_000, indexerPollMs: 20, leaseTtlMs: 1_000, instanceId: "test-indexer", ...overrides };
}

export async function indexerProviderOf(connectionProvider: unknown): Promise<AbstractProvider> {
  return (await providerFromEip1193(connectionProvider as Eip1193Provider, 20)).provider;
}

export async function deploymentOf(deployed: ProvenaDeployment, deployBlock: number): Promise<Deployment> {
  if (deployed.escrow === undefined) throw new Error("TradeEscrow is not compiled");
  return {
    chainId: Number((await deployed.registry.runner!.provider!.getNetwork()).chainId),
    forwarder: (await deployed.forwarder.getAddress()).toLowerCase() as Hex,
    registry: (await deployed.registry.getAddress()).toLowerCase() as Hex,
    escrow: (await deployed.escrow.getAddress()).toLowerCase() as Hex,
    deployBlock,
  };
}

export function startIndexer(
  parameters: Omit<CreateIndexerParameters, "logger" | "config"> & { config?: Partial<IndexerConfig> },
): Indexer {
  const indexer = createIndexer({ ...parameters, logger: silentLogger(), config: indexerConfig(parameters.config) });
  indexer.start();
  return indexer;
}

export interface StoryResult {
  batchIds: string[];
  orderIds: string[];
  /** The opened orders, in the order of `orderIds` (the escrow's views take the whole order). */
  orders: ITradeEscrow.OrderStruct[];
}

/**
 * One trade told through every kind of event: registration, an escrow order, handoffs (accepted, rejected,
 * cancelled), an inspection by the order's named inspector, delivery to the buyer, release, a split and a recall. `tag` makes lots unique.
 */
export async function tellStory(deployed: ProvenaDeployment, tag: string): Promise<StoryResult> {
  const { registry, escrow, manufacturer, carrier, customs, inspector, retailer, warehouse } = deployed;
  if (escrow === undefined) throw new Error("TradeEscrow is not compiled");
  const wait = async (sent: Promise<{ wait(): Promise<unknown> }>) => {
    await (await sent).wait();
  };

  const traded = await registerBatch(registry, manufacturer, { lot: `${tag}-T`, quantity: 50n });
  const latest = await manufacturer.provider!.getBlock("latest");
  const order = {
    buyer: retailer.address,
    seller: manufacturer.address,
    carrier: carrier.address,
    token: ZeroAddress,
    amount: 10n ** 15n,
    batchId: traded.batchId,
    sellerBps: 9_000,
    carrierBps: 900,
    platformBps: 100,
    deliveryDeadline: latest!.timestamp + 30 * 86_400,
    disputeWindow: 3_600,
    inspector: inspector.address, // its attestation below, while the order is funded, is the order's inspection
    fallbackBuyerBps: 5_000,
    salt: keccak256(toUtf8Bytes(tag)),
    breachTerms: 0,
  };
  const consent = await signOrderConsentOn(escrow, manufacturer, order);
  await wait(escrow.connect(retailer).openOrder(order, consent, { value: order.amount }));
  const orderId = await escrow.orderIdOf(order);

  await wait(registry.connect(manufacturer).proposeHandoff(traded.batchId, carrier.address, DEMO_PORT_GLN, BusinessStep.Shipping));
  await wait(registry.connect(carrier).rejectHandoff(traded.batchId, keccak256(toUtf8Bytes("paperwork"))));
  await wait(registry.connect(manufacturer).proposeHandoff(traded.batchId, carrier.address, DEMO_PORT_GLN, BusinessStep.Shipping));
  await wait(registry.connect(carrier).acceptHandoff(traded.batchId, DEMO_PORT_GLN, BusinessStep.Receiving));
  await wait(registry.connect(inspector).attestQuality(traded.batchId, true, keccak256(toUtf8Bytes(`${tag} report`))));
  await wait(registry.connect(carrier).proposeHandoff(traded.batchId, warehouse.address, DEMO_DC_GLN, BusinessStep.Storing));
  await wait(registry.connect(carrier).cancelHandoff(traded.batchId));
  await wait(registry.connect(carrier).proposeHandoff(traded.batchId, retailer.address, DEMO_DC_GLN, BusinessStep.Retail));
  await wait(registry.connect(retailer).acceptHandoff(traded.batchId, DEMO_DC_GLN, BusinessStep.Receiving));
  await wait(escrow.connect(retailer).release(order));

  const split = await registerBatch(registry, manufacturer, { lot: `${tag}-S`, quantity: 10n });
  const children = [
    { lot: `${tag}-S/1`, quantity: 6n, serialRoot: split.tree.root },
    { lot: `${tag}-S/2`, quantity: 4n, serialRoot: split.tree.root },
  ];
  await wait(registry.connect(manufacturer).splitBatch(split.batchId, children));
  const childIds = await Promise.all(children.map((child) => registry.batchIdOf(split.input.gtin, child.lot)));
  await wait(registry.connect(customs).recallBatch(childIds[1]!, keccak256(toUtf8Bytes(`${tag} recall`))));
  return { batchIds: [traded.batchId, split.batchId, ...childIds], orderIds: [orderId], orders: [order] };
}

/** Registers `count` batches (one event-bearing block each) for backfill tests. */
export async function registerMany(deployed: ProvenaDeployment, tag: string, count: number): Promise<void> {
  for (let index = 0; index < count; index++) {
    await registerBatch(deployed.registry, deployed.manufacturer, { lot: `${tag}-${index}`, quantity: 1n, serials: [`${tag}-${index}-1`] });
  }
}

async function listAll<T>(fetch: (cursor: string | null) => Promise<Page<T>>): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const page: Page<T> = await fetch(cursor);
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return items;
}

export interface MirrorDump {
  checkpoint: { blockNumber: number; blockHash: string | null } | null;
  events: ChainEvent[];
  batches: Batch[];
  participants: Participant[];
  orders: Order[];
}

/** Everything the mirror holds for `chainId`, in a stable order, to compare two mirrors. */
export async function dumpMirror(store: MirrorStore, chainId: number): Promise<MirrorDump> {
  const checkpoint = await store.getCheckpoint(chainId);
  const byKey =
    <T>(key: (item: T) => string) =>
    (a: T, b: T) =>
      key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;
  return {
    checkpoint: checkpoint === null ? null : { blockNumber: checkpoint.blockNumber, blockHash: checkpoint.blockHash },
    events: await listAll((cursor) => store.listEvents({ chainId }, { limit: 500, cursor })),
    batches: (await listAll((cursor) => store.listBatches({}, { limit: 500, cursor }))).sort(byKey((batch) => batch.batchId)),
    participants: (await listAll((cursor) => store.listParticipants({}, { limit: 500, cursor }))).sort(byKey((p) => p.address)),
    orders: (await listAll((cursor) => store.listOrders({}, { limit: 500, cursor }))).sort(byKey((order) => order.orderId)),
  };
}

/** Wraps a store so every call fails once `crash()` was called, as if the process died there. */
export interface CrashingStore {
  store: MirrorStore;
  crashed: boolean;
  commits: number;
}

/**
 * A store that commits `commitsBeforeCrash` ranges normally, then dies in the middle of the next one: it writes
 * that range's events and part of its projections but not its checkpoint (what an interrupted non-atomic
 * MongoDB write can leave), and from then on every call throws.
 */
export function crashingStore(inner: MirrorStore, commitsBeforeCrash: number): CrashingStore {
  const state: CrashingStore = { store: undefined as unknown as MirrorStore, crashed: false, commits: 0 };
  state.store = new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      return async (...args: unknown[]) => {
        if (state.crashed) throw new Error("simulated crash: this process is dead");
        if (property === "commitRange") {
          if (state.commits === commitsBeforeCrash) {
            const commit = args[0] as RangeCommit;
            const previous = await target.getCheckpoint(commit.chainId);
            if (previous === null) throw new Error("crash test needs at least one committed range before the crash");
            await target.commitRange({
              ...commit,
              batches: commit.batches.slice(0, Math.ceil(commit.batches.length / 2)),
              participants: [],
              orders: [],
              checkpoint: previous,
            });
            state.crashed = true;
            throw new Error("simulated crash in the middle of commitRange");
          }
          state.commits += 1;
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return state;
}

/** Counts the mirror writes (commitRange, rollback) that go through this wrapper. */
export function countingStore(inner: MirrorStore): { store: MirrorStore; writes: () => number } {
  let writes = 0;
  const store = new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (property === "commitRange" || property === "rollback") writes += 1;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store, writes: () => writes };
}

export async function waitUntil(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
