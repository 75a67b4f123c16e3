/** The shared single-writer lease on the real SQLite store, with the clock faked (the store reads Date.now too). */
import { expect } from "chai";
import { mock } from "node:test";
import { pino } from "pino";
import { createLeaseLoop, type CreateLeaseLoopParameters } from "../../../backend/coordination/lease-loop.ts";
import type { Leases } from "../../../backend/store/port.ts";
import { createStore, type MirrorStore } from "../../../backend/store/index.ts";

const TTL_MS = 300;
const RENEW_EVERY_MS = TTL_MS / 3;
const silentLogger = pino({ level: "silent" });

/** Lets the store's promises settle after the fake clock fired a timer. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => queueMicrotask(resolve));
}

async function advance(ms: number): Promise<void> {
  mock.timers.tick(ms);
  await settle();
}

describe("lease loop", function () {
  let store: MirrorStore;

  beforeEach(async function () {
    store = await createStore({ sqlitePath: ":memory:" });
    mock.timers.enable({ apis: ["setInterval", "setTimeout", "Date"], now: 1_000_000 });
  });

  afterEach(async function () {
    mock.timers.reset();
    await store.close();
  });

  function lease(holder: string, overrides: Partial<CreateLeaseLoopParameters> = {}) {
    return createLeaseLoop({ store, name: "writer", holder, ttlMs: TTL_MS, logger: silentLogger, ...overrides });
  }

  describe("when nobody holds it", function () {
    it("test_acquire_freeLease_isTakenThenRenewed", async function () {
      const a = lease("a");
      expect(await a.acquire()).to.equal("taken");
      expect(a.isHeld()).to.equal(true);
      expect(await a.acquire()).to.equal("renewed");
    });

    it("test_acquire_leaseHeldByAnother_isRefusedUntilItExpires", async function () {
      const a = lease("a");
      const b = lease("b");
      await a.acquire();
      expect(await b.acquire()).to.equal("refused");
      expect(b.isHeld()).to.equal(false);
      await advance(TTL_MS);
      expect(await b.acquire()).to.equal("taken");
    });
  });

  describe("when started", function () {
    it("test_start_renewsOnScheduleSoAnotherInstanceNeverTakesIt", async function () {
      const a = lease("a");
      const b = lease("b");
      await a.acquire();
      a.start();
      for (let elapsed = 0; elapsed < TTL_MS * 5; elapsed += RENEW_EVERY_MS) {
        await advance(RENEW_EVERY_MS);
        expect(await b.acquire()).to.equal("refused");
      }
      expect(a.isHeld()).to.equal(true);
      await a.stop();
    });

    it("test_isHeld_notRenewedWithinTheTtl_isFalse", async function () {
      const a = lease("a");
      await a.acquire();
      await advance(TTL_MS - 1);
      expect(a.isHeld()).to.equal(true);
      await advance(1);
      expect(a.isHeld()).to.equal(false);
    });

    it("test_start_renewalThatFails_isRetriedOnTheNextTick", async function () {
      let failNext = false;
      const flaky: Leases = {
        async acquireLease(name, holder, ttlMs) {
          if (failNext) {
            failNext = false;
            throw new Error("store unreachable");
          }
          return store.acquireLease(name, holder, ttlMs);
        },
        releaseLease: (name, holder) => store.releaseLease(name, holder),
        readLease: (name) => store.readLease(name),
      };
      const a = lease("a", { store: flaky });
      await a.acquire();
      a.start();
      failNext = true;
      await advance(RENEW_EVERY_MS); // fails
      await advance(RENEW_EVERY_MS); // renews
      await advance(TTL_MS - RENEW_EVERY_MS - 1);
      expect(a.isHeld()).to.equal(true);
      await a.stop();
    });
  });

  describe("when another instance takes it", function () {
    it("test_start_renewalFindingAnotherHolder_reportsTheLossOnce", async function () {
      const losses: string[] = [];
      const a = lease("a", { onLost: (reason) => losses.push(reason) });
      const b = lease("b");
      await a.acquire();
      a.start();
      // a's process stalls past its TTL (the timer does not fire), and b takes over meanwhile.
      mock.timers.setTime(Date.now() + TTL_MS);
      expect(await b.acquire()).to.equal("taken");
      await advance(RENEW_EVERY_MS);
      await advance(RENEW_EVERY_MS);
      expect(losses).to.deep.equal(["another instance holds the lease"]);
      expect(a.isHeld()).to.equal(false);
      expect(await b.acquire()).to.equal("renewed");
      await a.stop();
    });

    it("test_confirm_afterAnotherInstanceTookIt_isFalse", async function () {
      const losses: string[] = [];
      const a = lease("a", { onLost: (reason) => losses.push(reason) });
      await a.acquire();
      mock.timers.setTime(Date.now() + TTL_MS);
      await lease("b").acquire();
      expect(await a.confirm()).to.equal(false);
      expect(losses).to.have.length(1);
    });

    it("test_confirm_renewedRecently_doesNotAskTheStore", async function () {
      let calls = 0;
      const counting: Leases = {
        acquireLease: (name, holder, ttlMs) => {
          calls += 1;
          return store.acquireLease(name, holder, ttlMs);
        },
        releaseLease: (name, holder) => store.releaseLease(name, holder),
        readLease: (name) => store.readLease(name),
      };
      const a = lease("a", { store: counting });
      await a.acquire();
      expect(await a.confirm()).to.equal(true);
      expect(calls).to.equal(1);
      await advance(RENEW_EVERY_MS + 1);
      expect(await a.confirm()).to.equal(true);
      expect(calls).to.equal(2);
    });
  });

  describe("when stopped", function () {
    it("test_stop_releasesTheLeaseSoAnotherInstanceTakesItAtOnce", async function () {
      const a = lease("a");
      await a.acquire();
      a.start();
      await a.stop();
      expect(a.isHeld()).to.equal(false);
      expect(await lease("b").acquire()).to.equal("taken");
    });

    it("test_stop_noMoreRenewals_afterwards", async function () {
      const a = lease("a");
      await a.acquire();
      a.start();
      await a.stop();
      const b = lease("b");
      await b.acquire();
      await b.stop(); // b gives it up: a renewal of a's would now take it back
      await advance(TTL_MS * 3);
      expect(await lease("c").acquire()).to.equal("taken");
    });

    it("test_stop_leaseNeverTaken_releasesNothingHeldByOthers", async function () {
      await lease("b").acquire();
      await lease("a").stop();
      expect(await lease("c").acquire()).to.equal("refused");
    });
  });
});
