/**
 * What a lease loop that does not hold the lease knows and says about the one that does: who it is and until when
 * (logged once), whether it still renews (a holder killed with -9 stops renewing and nobody writes until its lease
 * expires), and how the lease was taken over. The real SQLite store, with the clock faked as in lease-loop.test.ts.
 */
import { expect } from "chai";
import { mock } from "node:test";
import { createLeaseLoop, type CreateLeaseLoopParameters } from "../../../backend/coordination/lease-loop.ts";
import { createStore, type MirrorStore } from "../../../backend/store/index.ts";
import { recordingLogger } from "../../helpers/recording-logger.ts";

const TTL_MS = 300;
const START = 1_000_000;
const iso = (ms: number) => new Date(ms).toISOString();

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => queueMicrotask(resolve));
}

const flushLogs = () => new Promise((resolve) => setImmediate(resolve));

describe("lease loop: the holder as seen by the others", function () {
  let store: MirrorStore;

  beforeEach(async function () {
    store = await createStore({ sqlitePath: ":memory:" });
    mock.timers.enable({ apis: ["setInterval", "setTimeout", "Date"], now: START });
  });

  afterEach(async function () {
    mock.timers.reset();
    await store.close();
  });

  function lease(holder: string, overrides: Partial<CreateLeaseLoopParameters> = {}) {
    const { logger, lines } = recordingLogger();
    const loop = createLeaseLoop({ store, name: "indexer:31337", holder, ttlMs: TTL_MS, logger, ...overrides });
    return { loop, lines };
  }

  async function infoLines(lines: Record<string, unknown>[]) {
    await flushLogs();
    return lines.filter((line) => line.level === 30).map((line) => line.msg);
  }

  it("test_view_beforeAskingTheStore_isUnknown", function () {
    expect(lease("b").loop.view()).to.deep.equal({ kind: "unknown" });
  });

  it("test_acquire_refused_logsWhoHoldsItAndUntilWhen_once", async function () {
    const a = lease("a");
    const b = lease("b");
    await a.loop.acquire();
    a.loop.start();
    for (let i = 0; i < 4; i++) {
      expect(await b.loop.acquire()).to.equal("refused");
      mock.timers.tick(TTL_MS / 3);
      await settle();
    }
    expect(b.loop.view()).to.deep.include({ kind: "held-elsewhere", holder: "a" });
    const logged = await infoLines(b.lines);
    expect(logged).to.have.length(1);
    expect(logged[0]).to.match(
      /^lease indexer:31337 is held by a until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z; standing by to take it over if it is not renewed$/,
    );
    expect(b.lines.find((line) => line.level === 30)).to.deep.include({ lease: "indexer:31337", holder: "a" });
    await a.loop.stop();
  });

  describe("when the holder dies without releasing it (kill -9)", function () {
    it("test_view_holderStopsRenewing_isLapsedThenTakenOverWithTheReasonLogged", async function () {
      // "dead" took the lease at START and never renews it, as a killed process would.
      expect(await store.acquireLease("indexer:31337", "dead", TTL_MS)).to.equal(true);
      const deadExpiresAt = START + TTL_MS;
      const b = lease("b");

      expect(await b.loop.acquire()).to.equal("refused");
      expect(b.loop.view()).to.deep.equal({ kind: "held-elsewhere", holder: "dead", expiresAt: deadExpiresAt });

      // A live holder renews every third of the TTL, so never has less than a third left; this one does.
      mock.timers.tick(TTL_MS - TTL_MS / 3 + 1);
      expect(await b.loop.acquire()).to.equal("refused");
      expect(b.loop.view()).to.deep.equal({ kind: "lapsed", holder: "dead", expiresAt: deadExpiresAt, reason: "not-renewed" });

      mock.timers.tick(TTL_MS / 3);
      expect(b.loop.view(), "past its expiry, before anyone took it").to.deep.equal({
        kind: "lapsed",
        holder: "dead",
        expiresAt: deadExpiresAt,
        reason: "expired",
      });
      expect(await b.loop.acquire()).to.equal("taken");
      expect(b.loop.view()).to.deep.equal({ kind: "held-here", expiresAt: Date.now() + TTL_MS });

      expect(await infoLines(b.lines)).to.deep.equal([
        `lease indexer:31337 is held by dead until ${iso(deadExpiresAt)}; standing by to take it over if it is not renewed`,
        `lease indexer:31337 is held by dead but was not renewed on time (its holder may have died); nobody is writing until it expires at ${iso(deadExpiresAt)}, then this instance takes it over`,
        `took over lease indexer:31337: the previous holder dead's lease expired at ${iso(deadExpiresAt)}`,
      ]);
    });

    it("test_acquire_firstSeenAlreadyOverdue_logsOneLineSayingSo", async function () {
      expect(await store.acquireLease("indexer:31337", "dead", TTL_MS)).to.equal(true);
      mock.timers.tick(TTL_MS - 50);
      const b = lease("b");
      expect(await b.loop.acquire()).to.equal("refused");
      expect(await b.loop.acquire()).to.equal("refused");
      expect(await infoLines(b.lines)).to.deep.equal([
        `lease indexer:31337 is held by dead but was not renewed on time (its holder may have died); nobody is writing until it expires at ${iso(START + TTL_MS)}, then this instance takes it over`,
      ]);
    });
  });

  it("test_acquire_lateHolderRenewsAgain_saysItWasOnlySlow", async function () {
    expect(await store.acquireLease("indexer:31337", "slow", TTL_MS)).to.equal(true);
    const b = lease("b");
    mock.timers.tick(TTL_MS - TTL_MS / 3 + 1);
    expect(await b.loop.acquire()).to.equal("refused");
    expect(b.loop.view()).to.deep.include({ kind: "lapsed", reason: "not-renewed" });
    expect(await store.acquireLease("indexer:31337", "slow", TTL_MS)).to.equal(true); // it wakes up and renews
    const renewedUntil = Date.now() + TTL_MS;
    expect(await b.loop.acquire()).to.equal("refused");
    expect(b.loop.view()).to.deep.equal({ kind: "held-elsewhere", holder: "slow", expiresAt: renewedUntil });
    const logged = await infoLines(b.lines);
    expect(logged).to.have.length(2);
    expect(logged[1]).to.equal(`lease indexer:31337 was renewed again by slow, until ${iso(renewedUntil)}; standing by`);
  });

  it("test_acquire_afterTheHolderReleasedIt_logsTheRelease", async function () {
    const a = lease("a");
    const b = lease("b");
    await a.loop.acquire();
    expect(await b.loop.acquire()).to.equal("refused");
    await a.loop.stop();
    expect(await b.loop.acquire()).to.equal("taken");
    const logged = await infoLines(b.lines);
    expect(logged.at(-1)).to.equal("took over lease indexer:31337: the previous holder a released it");
  });

  it("test_view_releasedBetweenTheRefusalAndTheRead_isFree", async function () {
    const a = lease("a");
    await a.loop.acquire();
    const racing = lease("b", {
      store: {
        acquireLease: (name, holder, ttlMs) => store.acquireLease(name, holder, ttlMs),
        releaseLease: (name, holder) => store.releaseLease(name, holder),
        readLease: async (name) => {
          await a.loop.stop(); // the holder lets go between the refusal and the read
          return store.readLease(name);
        },
      },
    });
    expect(await racing.loop.acquire()).to.equal("refused");
    expect(racing.loop.view()).to.deep.equal({ kind: "free" });
  });

  it("test_view_ownRenewalNotBackInTime_isLapsedHere", async function () {
    const a = lease("a");
    await a.loop.acquire();
    mock.timers.tick(TTL_MS);
    expect(a.loop.view()).to.deep.equal({ kind: "lapsed", holder: "a", expiresAt: START + TTL_MS, reason: "expired" });
  });

  it("test_acquire_readingTheHolderFails_keepsTheRefusalAndTheLastView", async function () {
    const a = lease("a");
    await a.loop.acquire();
    let failRead = false;
    const b = lease("b", {
      store: {
        acquireLease: (name, holder, ttlMs) => store.acquireLease(name, holder, ttlMs),
        releaseLease: (name, holder) => store.releaseLease(name, holder),
        readLease: async (name) => {
          if (failRead) throw new Error("store unreachable");
          return store.readLease(name);
        },
      },
    });
    expect(await b.loop.acquire()).to.equal("refused");
    failRead = true;
    expect(await b.loop.acquire()).to.equal("refused");
    expect(b.loop.view()).to.deep.include({ kind: "held-elsewhere", holder: "a" });
  });
});
