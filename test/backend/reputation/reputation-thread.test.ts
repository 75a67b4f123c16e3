/**
 * Track records computed on the reputation thread (reputation-thread.ts): the same record as in-process over the
 * same store, a thread that dies fails its computations and the next one starts a new thread, close() stops it, the
 * queue is bounded, and the event loop stays free while a large record is computed.
 */
import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { isDomainError } from "../../../backend/domain/errors.ts";
import type { Hex } from "../../../backend/domain/model.ts";
import { DEFAULT_REPUTATION_POLICY } from "../../../backend/reputation/reputation.ts";
import { createReputationService } from "../../../backend/reputation/reputation-service.ts";
import { createReputationThread, ReputationThreadError, type ReputationThread } from "../../../backend/reputation/reputation-thread.ts";
import type { MirrorStore } from "../../../backend/store/port.ts";
import { createSqliteStore } from "../../../backend/store/sqlite/index.ts";
import { CHAIN_ID, ChainHistory, labelAddress, REGISTRY_ADDRESS } from "../../../scripts/fixtures/chain-history.ts";
import { digitalLinkPath } from "../../../backend/passport/digital-link.ts";
import { createPassportModule } from "../../../backend/passport/passport-module.ts";
import { passportTestApp, silentLogger } from "../passport/fixture.ts";
import request from "supertest";
import { rejectionOf } from "../../helpers/rejection.ts";

const GTIN = "09506000134352";

/** A small trade: a lot made, carried, inspected, refused once, delivered and paid; a second lot recalled. */
function tradeHistory(lots = 1) {
  const history = new ChainHistory();
  const acme = history.onboard("acme", "MANUFACTURER");
  const swift = history.onboard("swift", "CARRIER");
  const shop = history.onboard("shop", "RETAILER");
  const lab = history.onboard("lab", "INSPECTOR");
  for (let lot = 0; lot < lots; lot++) {
    const batchId = history.registerBatch({ manufacturer: acme, gtin: GTIN, lot: `L-${lot}`, quantity: 100 });
    const orderId = history.openOrder({ label: `o${lot}`, buyer: shop, seller: acme, carrier: swift, batchId });
    history.handOver(batchId, acme, swift);
    history.attest(batchId, lab, lot % 7 !== 3);
    history.proposeHandoff(batchId, swift, shop);
    history.rejectHandoff(batchId, swift, shop);
    history.handOver(batchId, swift, shop);
    history.deliverOrder(orderId);
    history.releaseOrder(orderId);
  }
  const recalled = history.registerBatch({ manufacturer: acme, gtin: GTIN, lot: "R-1", quantity: 5 });
  history.recall(recalled, acme);
  return { history, participants: [acme, swift, shop, lab] };
}

describe("reputation thread", function () {
  this.timeout(120_000);
  let directory: string;
  let path: string;
  let store: MirrorStore;
  let participants: Hex[];
  const threads: ReputationThread[] = [];

  const threadOn = (file: string, options: { maxQueued?: number } = {}) => {
    const thread = createReputationThread({ path: file, chainId: CHAIN_ID, policy: DEFAULT_REPUTATION_POLICY }, options);
    threads.push(thread);
    return thread;
  };

  before(async function () {
    directory = mkdtempSync(join(tmpdir(), "provena-reputation-thread-"));
    path = join(directory, "mirror.db");
    store = createSqliteStore({ path });
    await store.init();
    const trade = tradeHistory(3);
    participants = trade.participants;
    await trade.history.mirrorInto(store);
  });

  afterEach(async function () {
    await Promise.all(threads.splice(0).map((thread) => thread.close()));
  });

  after(async function () {
    await store.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it("test_compute_sameStore_equalsTheInProcessRecord", async function () {
    const inProcess = createReputationService({ store, chainId: CHAIN_ID });
    const threaded = createReputationService({ store, chainId: CHAIN_ID, thread: threadOn(path) });
    for (const participant of participants) expect(await threaded.get(participant)).to.deep.equal(await inProcess.get(participant));
    const made = (await threaded.get(participants[0]!)).allTime;
    expect(made.recalls).to.deep.include({ lots: 4, recalled: 1 });
    expect(made.deliveryAsSeller).to.deep.include({ onTime: 3, late: 0 });
  });

  it("test_compute_unknownParticipant_null_andTheServiceSaysNotFound", async function () {
    const thread = threadOn(path);
    const stranger = labelAddress("stranger");
    expect(await thread.compute(stranger)).to.equal(null);
    const threaded = createReputationService({ store, chainId: CHAIN_ID, thread });
    expect((await rejectionOf(threaded.get(stranger))).message).to.include("No participant");
  });

  it("test_compute_threadDies_failsWithAClearError_andTheNextComputationStartsANewThread", async function () {
    const broken = join(directory, "broken.db");
    writeFileSync(broken, "this is not an SQLite database, and it is long enough to have a header".repeat(20));
    const thread = threadOn(broken);
    const failure = await rejectionOf(thread.compute(participants[0]!));
    expect(failure).to.be.instanceOf(ReputationThreadError);
    expect(failure.message).to.match(/The reputation thread (failed|stopped).*before computing 0x/);
    // The file is a store now: the next computation starts a thread that opens it.
    rmSync(broken);
    const replacement = createSqliteStore({ path: broken });
    await replacement.init();
    await tradeHistory(1).history.mirrorInto(replacement);
    try {
      const record = await thread.compute(participants[0]!);
      expect(record?.allTime.recalls.lots).to.equal(2);
    } finally {
      await replacement.close();
    }
  });

  it("test_close_stopsTheThread_andRefusesLaterComputations", async function () {
    const thread = threadOn(path);
    await thread.compute(participants[0]!);
    await thread.close();
    await thread.close(); // again: the same, harmless
    const refused = await rejectionOf(thread.compute(participants[0]!));
    expect(refused).to.be.instanceOf(ReputationThreadError);
    expect(refused.message).to.equal("The reputation thread is closed");
  });

  it("test_close_computationPending_failsWithAClearError_andCloseEnds", async function () {
    const thread = threadOn(path);
    const pending = thread.compute(participants[0]!);
    await thread.close();
    const failure = await rejectionOf(pending);
    expect(failure).to.be.instanceOf(ReputationThreadError);
    expect(failure.message).to.equal(`The reputation thread was closed before computing ${participants[0]}`);
  });

  it("test_compute_queueFull_refusedAsUnavailable_othersAnswered", async function () {
    const thread = threadOn(path, { maxQueued: 2 });
    const first = thread.compute(participants[0]!);
    const second = thread.compute(participants[1]!);
    const refused = await rejectionOf(thread.compute(participants[2]!));
    expect(isDomainError(refused, "unavailable")).to.equal(true);
    expect(refused.message).to.include(`the record of ${participants[2]} was not started`);
    expect((await first)?.address).to.equal(participants[0]);
    expect((await second)?.address).to.equal(participants[1]);
  });

  describe("when a record takes long to compute", function () {
    let bigDirectory: string;
    let bigPath: string;
    let bigStore: MirrorStore;
    let manufacturer: Hex;

    before(async function () {
      bigDirectory = mkdtempSync(join(tmpdir(), "provena-reputation-thread-big-"));
      bigPath = join(bigDirectory, "mirror.db");
      bigStore = createSqliteStore({ path: bigPath });
      await bigStore.init();
      const trade = tradeHistory(LARGE_LOTS);
      manufacturer = trade.participants[0]!;
      await trade.history.mirrorInto(bigStore, { rangeSize: 5_000 });
    });

    after(async function () {
      await bigStore.close();
      rmSync(bigDirectory, { recursive: true, force: true });
    });

    /** How busy the event loop was while the service computed the manufacturer's record (event-loop utilization, 0..1). */
    async function busyWhileComputing(thread: ReputationThread | null): Promise<number> {
      const reputation = createReputationService({ store: bigStore, chainId: CHAIN_ID, thread });
      const before = performance.eventLoopUtilization();
      const record = await reputation.get(manufacturer);
      const busy = performance.eventLoopUtilization(before).utilization;
      expect(record.allTime.recalls.lots).to.equal(LARGE_LOTS + 1);
      return busy;
    }

    it("test_passport_showsThePartnersRecordAtOnce_withoutComputingItFromHistory", async function () {
      const reputation = createReputationService({ store: bigStore, chainId: CHAIN_ID, thread: threadOn(bigPath) });
      const module = createPassportModule({
        store: bigStore,
        config: {
          publicBaseUrl: "https://id.provena.test",
          publicRpcUrl: "https://id.provena.test/rpc",
          chainId: CHAIN_ID,
          registryAddress: REGISTRY_ADDRESS,
        },
        chain: { request: () => Promise.reject(new Error("no chain in this test")) } as never,
        logger: silentLogger(),
        reputation,
      });
      const app = passportTestApp(module);
      try {
        // The first page already carries the record: the store's totals, not a computation over LARGE_LOTS lots.
        const page = (await request(app).get(digitalLinkPath(GTIN, "L-0")).set("Accept", "application/ld+json").expect(200)).body;
        const partners = page["provena:partnerReputation"] as Record<string, unknown>[];
        const shown = partners.find((partner) => partner["provena:role"] === "manufacturer")!;
        expect(shown.identifier).to.equal(manufacturer);
        const computed = (await reputation.get(manufacturer)).allTime;
        expect(shown["provena:recalls"]).to.deep.equal({
          lots: computed.recalls.lots,
          recalled: computed.recalls.recalled,
          ...computed.recalls.score,
        });
        expect(computed.recalls.lots).to.equal(LARGE_LOTS + 1);
      } finally {
        await module.close();
      }
    });

    it("test_compute_onTheThread_eventLoopFreeWhileItRuns", async function () {
      const inProcess = await busyWhileComputing(null);
      const threaded = await busyWhileComputing(threadOn(bigPath));
      // In-process, the computation holds the event loop for all of its run; on the thread the loop waits, free.
      expect(inProcess).to.be.greaterThan(0.8);
      expect(threaded).to.be.lessThan(0.3);
    });
  });
});

const LARGE_LOTS = 8_000;
