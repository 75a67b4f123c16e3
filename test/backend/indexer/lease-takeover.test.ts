/**
 * The indexer's own status and log through the lease's life, end to end with /readyz, over a scripted chain with no
 * events (no node needed): a lease left by a killed holder (kill -9), an empty store being backfilled, a standby
 * beside a live holder, and a fatal error. Real timers, with a lease long enough for each state to be seen.
 */
import { expect } from "chai";
import type { Block, Log } from "ethers";
import request from "supertest";
import type { ChainReader } from "../../../backend/chain/chain-access.ts";
import type { Deployment } from "../../../backend/chain/deployment.ts";
import { createIndexer, type Indexer, type IndexerConfig } from "../../../backend/indexer/index.ts";
import type { MirrorStore } from "../../../backend/store/port.ts";
import { createMemoryStore, createTestApp } from "../api/fixtures/test-app.ts";
import { waitUntil } from "./harness.ts";
import { recordingLogger } from "../../helpers/recording-logger.ts";

const CHAIN_ID = 31337;
const DEPLOY_BLOCK = 5;
const HEAD = 100;
const LEASE_TTL_MS = 1_500;
const LEASE = `indexer:${CHAIN_ID}`;

const deployment: Deployment = {
  chainId: CHAIN_ID,
  forwarder: "0x1000000000000000000000000000000000000001",
  registry: "0x1000000000000000000000000000000000000002",
  escrow: "0x1000000000000000000000000000000000000003",
  deployBlock: DEPLOY_BLOCK,
};

const hashOf = (n: number) => `0x${n.toString(16).padStart(64, "0")}`;

/** A chain of `HEAD` empty blocks; `getLogs` may be held back or made to fail. */
function scriptedChain(options: { getLogs?: () => Promise<Log[]> } = {}): ChainReader {
  return {
    getBlockNumber: async () => HEAD,
    getLogs: options.getLogs ?? (async () => []),
    getBlock: async (n: number) =>
      n > HEAD ? null : ({ number: n, hash: hashOf(n), parentHash: hashOf(n - 1), timestamp: 1_700_000_000 + n } as unknown as Block),
  };
}

describe("indexer status through the lease's life", function () {
  this.timeout(20_000);
  let store: MirrorStore;
  const running: Indexer[] = [];

  beforeEach(async function () {
    store = await createMemoryStore();
  });

  afterEach(async function () {
    for (const indexer of running.splice(0)) await indexer.stop();
    await store.close();
  });

  function start(instanceId: string, chain: ChainReader = scriptedChain()) {
    const { logger, lines } = recordingLogger("info");
    const config: IndexerConfig = { confirmations: 0, indexerBlockRange: 1_000, indexerPollMs: 20, leaseTtlMs: LEASE_TTL_MS, instanceId };
    const indexer = createIndexer({ provider: chain, deployment, store, config, logger });
    running.push(indexer);
    indexer.start();
    return { indexer, lines, infoLines: () => lines.filter((line) => line.level === 30).map((line) => String(line.msg)) };
  }

  async function readyz(indexer: Indexer) {
    const { app } = await createTestApp({ store, indexerStatus: () => indexer.status(), readyMaxLagBlocks: 10 });
    return request(app).get("/readyz");
  }

  it("test_indexer_leaseLeftByAKilledHolder_saysNoOneIndexesUntilItTakesOver", async function () {
    // The killed process took the lease and will never renew or release it.
    expect(await store.acquireLease(LEASE, "killed", LEASE_TTL_MS)).to.equal(true);
    const until = new Date((await store.readLease(LEASE))!.expiresAt).toISOString();
    const { indexer, infoLines } = start("restarted");

    await waitUntil(() => indexer.status().leaseHolder === "killed", "the restarted instance to read the lease");
    expect(indexer.status()).to.deep.include({ state: "standby", leaseExpiresAt: until, isLeader: false });
    expect(infoLines()).to.include(`lease ${LEASE} is held by killed until ${until}; standing by to take it over if it is not renewed`);

    await waitUntil(() => indexer.status().state === "lease-lapsed", "the missed renewal to show");
    const lapsed = indexer.status();
    expect(Date.now(), "before the killed holder's lease expires").to.be.below(Date.parse(until));
    expect(lapsed).to.deep.include({ isLeader: false, indexedBlock: null, leaseHolder: "killed" });
    expect(lapsed.message).to.equal(
      `No instance is indexing: killed has stopped renewing its lease, which expires at ${until}, when this instance takes it over; ` +
        `the store is still empty, 96 blocks behind the chain head at block ${HEAD} (backfill starts at the deploy block ${DEPLOY_BLOCK}).`,
    );
    const notReady = await readyz(indexer);
    expect(notReady.status).to.equal(503);
    expect(notReady.body.indexer).to.deep.include({ state: "lease-lapsed", leaseHolder: "killed", leaseExpiresAt: until, isLeader: false });
    expect(notReady.body.reasons[0]).to.equal(lapsed.message);
    expect(await store.getCheckpoint(CHAIN_ID), "nobody wrote meanwhile").to.equal(null);

    await indexer.waitForBlock(HEAD, { timeoutMs: 10_000 });
    expect(Date.now(), "taken only once expired").to.be.at.least(Date.parse(until));
    expect(infoLines()).to.include.members([
      `lease ${LEASE} is held by killed but was not renewed on time (its holder may have died); nobody is writing until it expires at ${until}, then this instance takes it over`,
      `took over lease ${LEASE}: the previous holder killed's lease expired at ${until}`,
    ]);
    expect(indexer.status()).to.deep.include({
      state: "indexing",
      message: `This instance is indexing and is caught up with the chain head at block ${HEAD}.`,
      leaseHolder: "restarted",
    });
    const ready = await readyz(indexer);
    expect(ready.status).to.equal(200);
    expect(ready.body.indexer).to.deep.include({ state: "indexing", isLeader: true, lagBlocks: 0 });
  });

  it("test_indexer_emptyStore_saysBackfillBeganFromTheDeployBlock", async function () {
    let releaseLogs!: () => void;
    const held = new Promise<void>((resolve) => (releaseLogs = resolve));
    const { indexer } = start(
      "only",
      scriptedChain({
        getLogs: async () => {
          await held;
          return [];
        },
      }),
    );
    await waitUntil(() => indexer.status().state === "backfill-started", "the backfill to begin");
    expect(indexer.status()).to.deep.include({
      message: `The store is empty and this instance has begun backfilling from the deploy block ${DEPLOY_BLOCK}, 96 blocks behind the chain head at block ${HEAD}.`,
      headBlock: HEAD,
      indexedBlock: null,
      lagBlocks: 96,
    });
    const response = await readyz(indexer);
    expect(response.status).to.equal(503);
    expect(response.body.reasons).to.deep.equal([
      `The store is empty and this instance has begun backfilling from the deploy block ${DEPLOY_BLOCK}, 96 blocks behind the chain head at block ${HEAD}.`,
      "The mirror may be at most 10 blocks behind the chain head to be ready (READY_MAX_LAG_BLOCKS) and it is 96 behind.",
    ]);
    expect(response.body.indexer).to.deep.include({ headBlock: HEAD, indexedBlock: null, lagBlocks: 96 });
    releaseLogs();
    await indexer.waitForBlock(HEAD);
    expect((await readyz(indexer)).status).to.equal(200);
  });

  it("test_indexer_besideALiveHolder_standsByAndIsReadyWhileTheStoreIsCurrent", async function () {
    const { indexer: holder } = start("holder");
    await holder.waitForBlock(HEAD);
    const { indexer: standby, infoLines } = start("standby");
    await waitUntil(() => standby.status().indexedBlock === HEAD && standby.status().state === "standby", "the standby to follow");
    const status = standby.status();
    expect(status.message).to.equal(
      `Another instance (holder) holds the indexing lease until ${status.leaseExpiresAt} and this instance is standing by; ` +
        `the mirror is at block ${HEAD}, 0 blocks behind the chain head at block ${HEAD}.`,
    );
    const response = await readyz(standby);
    expect(response.status).to.equal(200);
    expect(response.body.indexer).to.deep.include({ state: "standby", isLeader: false, leaseHolder: "holder" });
    expect(infoLines().filter((line) => line.startsWith(`lease ${LEASE} is held by holder`))).to.have.length(1);

    await holder.stop(); // releases it: the standby takes over at once and says how
    running.splice(running.indexOf(holder), 1);
    await waitUntil(() => standby.status().isLeader, "the standby to take over");
    expect(infoLines()).to.include(`took over lease ${LEASE}: the previous holder holder released it`);
  });

  it("test_indexer_fatalError_saysItStoppedWithTheError", async function () {
    const { indexer } = start(
      "broken",
      scriptedChain({
        getLogs: async () => {
          throw new TypeError("decoder.addresses is not iterable");
        },
      }),
    );
    await waitUntil(() => indexer.status().state === "failed", "the indexer to stop");
    const response = await readyz(indexer);
    expect(response.status).to.equal(503);
    expect(response.body.reasons).to.deep.equal([
      "The indexer stopped on an error that needs an operator: Internal error: decoder.addresses is not iterable.",
    ]);
    expect(response.body.indexer).to.deep.include({ state: "failed", error: "Internal error: decoder.addresses is not iterable" });
  });
});
