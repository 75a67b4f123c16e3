/**
 * End-to-end behaviour of the indexer, from the contracts on Hardhat's in-process network into a store: a full
 * story mirrored and checked against the chain, a reorg, a crash mid-backfill, two instances racing for the
 * lease, a node refusing large ranges and an ABI that does not match. Runs against any store adapter.
 */
import { expect } from "chai";
import { network } from "hardhat";
import type { AbstractProvider, Filter } from "ethers";
import { loadProvenaAbis } from "../../../backend/chain/artifacts.ts";
import type { Deployment } from "../../../backend/chain/deployment.ts";
import { ENUM_VALUE_NAMES } from "../../../backend/chain/vocabulary.ts";
import { NonRetryableIndexerError, type Indexer } from "../../../backend/indexer/index.ts";
import type { MirrorStore } from "../../../backend/store/port.ts";
import type { Hex } from "../../../backend/domain/model.ts";
import { deployProvena, type ProvenaDeployment } from "../../../scripts/fixtures/provena-deployment.ts";
import {
  countingStore,
  crashingStore,
  deploymentOf,
  dumpMirror,
  indexerProviderOf,
  registerMany,
  startIndexer,
  tellStory,
  waitUntil,
  type MirrorDump,
} from "./harness.ts";

/** Opens empty stores for one test; `reopen` opens another connection to the same data (a second process). */
export interface StoreFactory {
  create(): Promise<{ store: MirrorStore; reopen(): Promise<MirrorStore> }>;
}

export function shouldIndexProvena(factory: StoreFactory): void {
  let connection: Awaited<ReturnType<typeof network.create>>;
  let provider: AbstractProvider;
  const opened: MirrorStore[] = [];
  const running: Indexer[] = [];

  before(async function () {
    connection = await network.create();
    provider = await indexerProviderOf(connection.provider);
  });

  afterEach(async function () {
    for (const indexer of running.splice(0)) await indexer.stop();
    for (const store of opened.splice(0)) await store.close().catch(() => undefined);
  });

  async function deployFixture(): Promise<{ deployed: ProvenaDeployment; deployment: Deployment }> {
    const deployBlock = (await connection.ethers.provider.getBlockNumber()) + 1;
    const deployed = await deployProvena(connection.ethers);
    return { deployed, deployment: await deploymentOf(deployed, deployBlock) };
  }

  async function newStore() {
    const created = await factory.create();
    opened.push(created.store);
    return {
      store: created.store,
      reopen: async () => {
        const again = await created.reopen();
        opened.push(again);
        return again;
      },
    };
  }

  function start(...args: Parameters<typeof startIndexer>): Indexer {
    const indexer = startIndexer(...args);
    running.push(indexer);
    return indexer;
  }

  const head = () => connection.ethers.provider.getBlockNumber();

  /** Indexes the chain from scratch into a new store, up to `toBlock`: what an uninterrupted run produces. */
  async function freshIndex(deployment: Deployment, toBlock: number): Promise<MirrorDump> {
    const { store } = await newStore();
    const indexer = start({ provider, deployment, store, config: { instanceId: "fresh" } });
    await indexer.waitForBlock(toBlock);
    await indexer.stop();
    return dumpMirror(store, deployment.chainId);
  }

  async function chainLogCount(deployment: Deployment, toBlock: number): Promise<number> {
    const filter: Filter = {
      address: [deployment.registry, deployment.escrow, deployment.forwarder],
      fromBlock: deployment.deployBlock,
      toBlock,
    };
    return (await provider.getLogs(filter)).length;
  }

  it("test_indexer_mirrorsTheStory_matchingTheChain", async function () {
    const { deployed, deployment } = await connection.networkHelpers.loadFixture(deployFixture);
    const { store } = await newStore();
    const indexer = start({ provider, deployment, store });
    const story = await tellStory(deployed, "e2e");
    const target = await head();
    await indexer.waitForBlock(target);

    const status = indexer.status();
    expect(status).to.deep.include({ chainId: deployment.chainId, isLeader: true, indexedBlock: target, headBlock: target, lagBlocks: 0 });
    expect(status.phase).to.equal("live");
    const events = await chainLogCount(deployment, target);
    expect(await store.countEvents(deployment.chainId)).to.equal(events);
    expect(status.eventsIndexed).to.equal(events);
    expect(await store.getCheckpoint(deployment.chainId)).to.deep.include({
      blockNumber: target,
      blockHash: (await provider.getBlock(target))!.hash!.toLowerCase(),
    });

    // Every batch projection agrees with what the registry stores.
    for (const batchId of story.batchIds) {
      const [manufacturer, custodian, pendingCustodian, status, inspection, quantity, , serialRoot] =
        await deployed.registry.batch(batchId);
      const mirrored = await store.getBatch(batchId as Hex);
      expect(mirrored, batchId).to.not.equal(null);
      expect(mirrored).to.deep.include({
        manufacturer: manufacturer.toLowerCase(),
        custodian: custodian.toLowerCase(),
        pendingCustodian: pendingCustodian === "0x0000000000000000000000000000000000000000" ? null : pendingCustodian.toLowerCase(),
        status: ENUM_VALUE_NAMES.BatchStatus![Number(status)],
        inspection: ENUM_VALUE_NAMES.InspectionResult![Number(inspection)],
        quantity: quantity.toString(),
        serialRoot: serialRoot.toLowerCase(),
      });
    }
    const [traded, parent, childA, childB] = story.batchIds.map((id) => id.toLowerCase() as Hex);
    const tradedBatch = (await store.getBatch(traded!))!;
    expect(tradedBatch.custody.map((step) => step.kind)).to.deep.equal([
      "proposed",
      "rejected",
      "proposed",
      "accepted",
      "proposed",
      "cancelled",
      "proposed",
      "accepted",
    ]);
    expect(tradedBatch.custody.at(-1)).to.deep.include({ to: deployed.retailer.address.toLowerCase(), businessStep: "receiving" });
    expect(tradedBatch.inspections).to.have.length(1);
    expect((await store.getBatch(parent!))!.childIds).to.deep.equal([childA, childB]);
    expect((await store.getBatch(childB!))!.recall!.by).to.equal(deployed.customs.address.toLowerCase());

    const [orderId] = story.orderIds;
    const [state] = await deployed.escrow!.orderState(story.orders[0]!);
    const order = (await store.getOrder(orderId!.toLowerCase() as Hex))!;
    expect(order.state).to.equal(ENUM_VALUE_NAMES.OrderState![Number(state)]);
    expect(order).to.deep.include({ state: "released", buyer: deployed.retailer.address.toLowerCase(), amount: (10n ** 15n).toString() });
    expect(order.payouts).to.deep.equal({ buyer: "0", seller: "900000000000000", carrier: "90000000000000", platform: "10000000000000" });
    // The order named the story's inspector, whose pass the escrow recorded (OrderInspected) and released on.
    expect(order).to.deep.include({ inspector: deployed.inspector.address.toLowerCase(), inspection: "passed" });
    const orderEvents = await store.listEvents({ orderId: orderId!.toLowerCase() as Hex }, { limit: 100 });
    expect(orderEvents.items.map((event) => event.name)).to.deep.equal([
      "OrderOpened",
      "OrderInspected",
      "OrderDelivered",
      "OrderReleased",
    ]);
    // The delivery names its order by full id and its batch, so it is found by either.
    const delivered = orderEvents.items.find((event) => event.name === "OrderDelivered")!;
    expect(delivered.batchIds).to.deep.equal([traded]);

    for (const participant of Object.values(deployed.participants)) {
      const mirrored = await store.getParticipant(participant.address.toLowerCase() as Hex);
      expect(mirrored).to.deep.include({
        participantId: Number(participant.id),
        name: participant.name,
        gln: participant.gln.toString().padStart(13, "0"),
        roles: [participant.roleName.replace(/_ROLE$/, "")],
        suspended: false,
      });
    }
    const admin = await store.getParticipant(deployed.admin.address.toLowerCase() as Hex);
    expect(admin).to.deep.include({ participantId: 0 });
    expect(admin!.roles).to.include.members(["ADMIN", "ESCROW_ADMIN"]);

    // Events of a batch and of a transaction are there for the API.
    const batchEvents = await store.listEvents({ batchId: traded! }, { limit: 100 });
    expect(batchEvents.items.map((event) => event.name)).to.include.members([
      "BatchRegistered",
      "OrderOpened",
      "HandoffAccepted",
      "QualityAttested",
    ]);
  });

  it("test_indexer_reorg_rollsBackAndMatchesAFreshIndex", async function () {
    const { deployed, deployment } = await connection.networkHelpers.loadFixture(deployFixture);
    const { store } = await newStore();
    const indexer = start({ provider, deployment, store });
    await tellStory(deployed, "base");
    await indexer.waitForBlock(await head());

    const snapshot = await connection.networkHelpers.takeSnapshot();
    await tellStory(deployed, "lost");
    await indexer.waitForBlock(await head());
    expect(await store.findBatchByGtinLot((await store.listBatches({}, { limit: 1 })).items[0]!.gtin, "lost-T")).to.not.equal(null);

    // The blocks the mirror holds vanish; a different history of greater length replaces them.
    await snapshot.restore();
    await tellStory(deployed, "kept");
    await connection.networkHelpers.mine(3);
    const newHead = await head();
    const newHeadHash = (await provider.getBlock(newHead))!.hash!.toLowerCase();
    await waitUntil(
      async () => (await store.getCheckpoint(deployment.chainId))?.blockHash === newHeadHash,
      "the mirror to follow the new chain",
    );
    expect(indexer.status().reorgs).to.be.at.least(1);
    await indexer.stop();

    const mirrored = await dumpMirror(store, deployment.chainId);
    expect(mirrored.batches.map((batch) => batch.lot)).to.not.include.members(["lost-T", "lost-S", "lost-S/1", "lost-S/2"]);
    expect(mirrored.batches.map((batch) => batch.lot)).to.include.members(["base-T", "kept-T", "kept-S/1"]);
    expect(mirrored.events).to.have.length(await chainLogCount(deployment, newHead));
    expect(mirrored).to.deep.equal(await freshIndex(deployment, newHead));
  });

  it("test_indexer_killedMidBackfill_restartLeavesNothingMissingOrDoubled", async function () {
    const { deployed, deployment } = await connection.networkHelpers.loadFixture(deployFixture);
    await registerMany(deployed, "bulk", 6);
    await tellStory(deployed, "crash");
    const target = await head();

    // Two-block ranges: the tenth commit lands among the story's handoffs, so the half-written range holds
    // custody steps that a careless replay would append twice.
    const { store, reopen } = await newStore();
    const doomed = crashingStore(store, 10);
    const first = start({
      provider,
      deployment,
      store: doomed.store,
      config: { instanceId: "first", indexerBlockRange: 2, leaseTtlMs: 600 },
    });
    await waitUntil(() => doomed.crashed, "the simulated crash");
    await first.stop(); // a dead process: its lease is never released, the next one waits for it to expire
    const partial = await store.getCheckpoint(deployment.chainId);
    expect(partial!.blockNumber).to.be.below(target);

    const restarted = start({
      provider,
      deployment,
      store: await reopen(),
      config: { instanceId: "restarted", indexerBlockRange: 2, leaseTtlMs: 600 },
    });
    await restarted.waitForBlock(target);
    await restarted.stop();

    const mirrored = await dumpMirror(store, deployment.chainId);
    const ids = mirrored.events.map((event) => event.id);
    expect(new Set(ids).size).to.equal(ids.length);
    expect(ids).to.have.length(await chainLogCount(deployment, target));
    expect(mirrored).to.deep.equal(await freshIndex(deployment, target));
  });

  it("test_indexer_killedMidCommitThenReorg_restartDropsTheUncommittedWrites", async function () {
    const { deployed, deployment } = await connection.networkHelpers.loadFixture(deployFixture);
    const { store, reopen } = await newStore();
    const before = start({ provider, deployment, store, config: { instanceId: "before" } });
    await tellStory(deployed, "base");
    await catchUpAndStop(before);

    // The process dies in the middle of committing blocks that a reorg then replaces, before it restarts: the
    // half-written range (events, some projections, no checkpoint) belongs to a chain that no longer exists.
    const snapshot = await connection.networkHelpers.takeSnapshot();
    await tellStory(deployed, "lost");
    const doomed = crashingStore(store, 0);
    const dying = start({ provider, deployment, store: doomed.store, config: { instanceId: "dying", leaseTtlMs: 600 } });
    await waitUntil(() => doomed.crashed, "the simulated crash");
    await dying.stop();
    await snapshot.restore();
    await tellStory(deployed, "kept");
    await connection.networkHelpers.mine(3);
    const newHead = await head();

    const restarted = start({ provider, deployment, store: await reopen(), config: { instanceId: "restarted", leaseTtlMs: 600 } });
    await restarted.waitForBlock(newHead);
    await restarted.stop();

    const mirrored = await dumpMirror(store, deployment.chainId);
    expect(mirrored.batches.map((batch) => batch.lot)).to.not.include.members(["lost-T"]);
    expect(mirrored.events).to.have.length(await chainLogCount(deployment, newHead));
    expect(mirrored).to.deep.equal(await freshIndex(deployment, newHead));
  });

  async function catchUpAndStop(indexer: Indexer): Promise<void> {
    await indexer.waitForBlock(await head());
    await indexer.stop();
  }

  it("test_indexer_twoInstances_exactlyOneWrites_theOtherTakesOver", async function () {
    const { deployed, deployment } = await connection.networkHelpers.loadFixture(deployFixture);
    const { store, reopen } = await newStore();
    const a = countingStore(store);
    const b = countingStore(await reopen());
    const first = start({ provider, deployment, store: a.store, config: { instanceId: "instance-a" } });
    const second = start({ provider, deployment, store: b.store, config: { instanceId: "instance-b" } });
    await tellStory(deployed, "race");
    const target = await head();
    await first.waitForBlock(target);
    await second.waitForBlock(target);

    const leaders = [first, second].filter((indexer) => indexer.status().isLeader);
    expect(leaders, "leaders").to.have.length(1);
    const [leader, follower] = first.status().isLeader ? [first, second] : [second, first];
    const [leaderWrites, followerWrites] = first.status().isLeader ? [a.writes, b.writes] : [b.writes, a.writes];
    expect(leaderWrites()).to.be.above(0);
    expect(followerWrites()).to.equal(0);
    expect(follower.status()).to.deep.include({ phase: "following", indexedBlock: target });

    await leader.stop(); // releases the lease: the follower takes over without waiting for expiry
    await tellStory(deployed, "after");
    const later = await head();
    await follower.waitForBlock(later);
    expect(follower.status().isLeader).to.equal(true);
    expect(followerWrites()).to.be.above(0);
    await follower.stop();

    expect(await dumpMirror(store, deployment.chainId)).to.deep.equal(await freshIndex(deployment, later));
  });

  it("test_indexer_bulkMinedPlaceholderBlocks_smallAndLargeRanges_reachTheHead", async function () {
    // hardhat_mine fills the blocks it mines in bulk with placeholders whose parentHash is zero.
    const { deployed, deployment } = await connection.networkHelpers.loadFixture(deployFixture);
    await registerMany(deployed, "before-bulk", 2);
    await connection.provider.request({ method: "hardhat_mine", params: ["0x12c"] });
    await registerMany(deployed, "after-bulk", 2);
    await connection.provider.request({ method: "hardhat_mine", params: ["0x64"] });
    const target = await head();
    const placeholder = (await connection.provider.request({
      method: "eth_getBlockByNumber",
      params: ["0x" + (target - 50).toString(16), false],
    })) as {
      parentHash: string;
    };
    expect(placeholder.parentHash).to.match(/^0x0{64}$/);

    const dumps: MirrorDump[] = [];
    for (const indexerBlockRange of [16, 2_000]) {
      const { store } = await newStore();
      const indexer = start({ provider, deployment, store, config: { instanceId: `bulk-${indexerBlockRange}`, indexerBlockRange } });
      await indexer.waitForBlock(target, { timeoutMs: 60_000 });
      expect(indexer.status().lastError).to.equal(null);
      expect(indexer.status().reorgs).to.equal(0);
      await indexer.stop();
      dumps.push(await dumpMirror(store, deployment.chainId));
    }
    expect(dumps[0]!.events).to.have.length(await chainLogCount(deployment, target));
    expect(dumps[0]!.checkpoint?.blockNumber).to.equal(target);
    expect(dumps[0]).to.deep.equal(dumps[1]);
  });

  it("test_indexer_nodeRefusesLargeRanges_halvesAndCompletes", async function () {
    const { deployed, deployment } = await connection.networkHelpers.loadFixture(deployFixture);
    await registerMany(deployed, "wide", 12);
    const target = await head();
    let refusals = 0;
    let largestServed = 0;
    // A node that refuses eth_getLogs over more than 3 blocks, the way hosted RPC services answer.
    const refusing = new Proxy(provider, {
      get(targetProvider, property) {
        const value = Reflect.get(targetProvider, property);
        if (property === "getLogs") {
          return async (filter: Filter) => {
            const span = Number(filter.toBlock) - Number(filter.fromBlock) + 1;
            if (span > 3) {
              refusals += 1;
              throw Object.assign(new Error("could not coalesce error"), {
                code: "UNKNOWN_ERROR",
                error: { code: -32005, message: "query returned more than 10000 results. Try with this block range [0x1, 0x3]." },
              });
            }
            largestServed = Math.max(largestServed, span);
            return targetProvider.getLogs(filter);
          };
        }
        return typeof value === "function" ? value.bind(targetProvider) : value;
      },
    });
    const { store } = await newStore();
    const indexer = start({ provider: refusing, deployment, store, config: { indexerBlockRange: 64 } });
    await indexer.waitForBlock(target);
    await indexer.stop();
    // Each too-large size is refused once while halving; then ranges grow back only up to what the node accepted.
    expect(refusals).to.be.within(1, 6);
    expect(largestServed).to.equal(3);
    expect(indexer.status().lastError).to.equal(null);
    expect(await dumpMirror(store, deployment.chainId)).to.deep.equal(await freshIndex(deployment, target));
  });

  it("test_indexer_nodeUnreachableForAWhile_retriesAndCatchesUp", async function () {
    const { deployed, deployment } = await connection.networkHelpers.loadFixture(deployFixture);
    await registerMany(deployed, "flaky", 3);
    const target = await head();
    let outages = 3;
    const errorsSeen: string[] = [];
    const flaky = new Proxy(provider, {
      get(targetProvider, property) {
        const value = Reflect.get(targetProvider, property);
        if (property === "getBlockNumber") {
          return async () => {
            if (outages > 0) {
              outages -= 1;
              throw Object.assign(new Error("request failed"), { code: "SERVER_ERROR", cause: { code: "ECONNREFUSED" } });
            }
            return targetProvider.getBlockNumber();
          };
        }
        return typeof value === "function" ? value.bind(targetProvider) : value;
      },
    });
    const { store } = await newStore();
    const indexer = start({ provider: flaky, deployment, store, metrics: { errorOccurred: (error) => errorsSeen.push(error.name) } });
    await waitUntil(() => indexer.status().lastError !== null, "the first failure to show in the status");
    expect(indexer.status().lastErrorRetryable).to.equal(true);
    await indexer.waitForBlock(target);
    expect(errorsSeen).to.deep.equal(["RetryableIndexerError", "RetryableIndexerError", "RetryableIndexerError"]);
    expect(indexer.status()).to.deep.include({ lastError: null, phase: "live" });
    await indexer.stop();
    expect(await dumpMirror(store, deployment.chainId)).to.deep.equal(await freshIndex(deployment, target));
  });

  it("test_indexer_abiNotMatchingDeployment_stopsWithNonRetryableError", async function () {
    const { deployed, deployment } = await connection.networkHelpers.loadFixture(deployFixture);
    await registerMany(deployed, "bad", 1);
    const abis = loadProvenaAbis();
    const stale = { ...abis, ProvenanceRegistry: abis.ProvenanceRegistry.filter((fragment) => fragment.name !== "BatchRegistered") };
    const fatal: Error[] = [];
    const { store } = await newStore();
    const indexer = start({ provider, deployment, store, abis: stale, onFatal: (error) => fatal.push(error) });
    await waitUntil(() => indexer.status().phase === "failed", "the indexer to give up");
    expect(fatal).to.have.length(1);
    expect(fatal[0]).to.be.instanceOf(NonRetryableIndexerError);
    expect(fatal[0]!.message).to.match(/ProvenanceRegistry .* logged an event the compiled ABI does not know/);
    expect(indexer.status()).to.deep.include({ lastErrorRetryable: false });
    const checkpoint = await store.getCheckpoint(deployment.chainId);
    expect(checkpoint === null || checkpoint.blockNumber < (await head())).to.equal(true);
    await expectRejection(indexer.waitForBlock(await head(), { timeoutMs: 1_000 }), /indexer failed/);
  });
}

async function expectRejection(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    await promise;
  } catch (error) {
    expect((error as Error).message).to.match(pattern);
    return;
  }
  throw new Error("expected a rejection");
}
