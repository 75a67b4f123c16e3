/**
 * describeIndexer: which state holds for each combination of lease, phase and progress, and the exact sentence
 * it says; and the lag an empty store reports.
 */
import { expect } from "chai";
import { createIndexerProgress, describeIndexer, publicErrorText, type IndexerConditionInput } from "../../../backend/indexer/status.ts";

const EXPIRES_AT = Date.UTC(2026, 11, 2, 16, 0, 15);
const EXPIRES = "2026-12-02T16:00:15.000Z";

/** This instance ("here") holding the lease and caught up at block 118 of 120, with 2 confirmations. */
function status(overrides: Partial<IndexerConditionInput> = {}): IndexerConditionInput {
  return {
    isLeader: true,
    instanceId: "here",
    phase: "live",
    headBlock: 120,
    indexedBlock: 118,
    lagBlocks: 2,
    deployBlock: 7,
    confirmations: 2,
    lastError: null,
    lease: { kind: "held-here", expiresAt: EXPIRES_AT },
    ...overrides,
  };
}

const standby = (overrides: Partial<IndexerConditionInput> = {}) =>
  status({ isLeader: false, phase: "following", lease: { kind: "held-elsewhere", holder: "there", expiresAt: EXPIRES_AT }, ...overrides });

describe("indexer status: describeIndexer", function () {
  describe("when this instance holds the lease", function () {
    it("test_describeIndexer_caughtUpWithinConfirmations_saysCaughtUp", function () {
      expect(describeIndexer(status())).to.deep.equal({
        state: "indexing",
        message:
          "This instance is indexing and is caught up: the mirror is at block 118, 2 blocks behind the chain head at block 120, within the 2 confirmations it waits for.",
        leaseHolder: "here",
        leaseExpiresAt: EXPIRES,
        error: null,
      });
    });

    it("test_describeIndexer_atTheHead_saysCaughtUpWithTheHead", function () {
      const { state, message } = describeIndexer(status({ indexedBlock: 120, lagBlocks: 0, confirmations: 0 }));
      expect({ state, message }).to.deep.equal({
        state: "indexing",
        message: "This instance is indexing and is caught up with the chain head at block 120.",
      });
    });

    it("test_describeIndexer_behind_saysHowFar", function () {
      const { state, message } = describeIndexer(status({ indexedBlock: 100, lagBlocks: 20 }));
      expect(state).to.equal("indexing");
      expect(message).to.equal("This instance is indexing: the mirror is at block 100, 20 blocks behind the chain head at block 120.");
      expect(describeIndexer(status({ indexedBlock: 117, lagBlocks: 3, confirmations: 0 })).message).to.equal(
        "This instance is indexing: the mirror is at block 117, 3 blocks behind the chain head at block 120.",
      );
      expect(describeIndexer(status({ indexedBlock: 119, lagBlocks: 1, confirmations: 0 })).message).to.equal(
        "This instance is indexing: the mirror is at block 119, 1 block behind the chain head at block 120.",
      );
    });

    it("test_describeIndexer_emptyStore_saysBackfillBeganAtTheDeployBlock", function () {
      const { state, message } = describeIndexer(status({ phase: "backfill", indexedBlock: null, lagBlocks: 114 }));
      expect(state).to.equal("backfill-started");
      expect(message).to.equal(
        "The store is empty and this instance has begun backfilling from the deploy block 7, 114 blocks behind the chain head at block 120.",
      );
    });

    it("test_describeIndexer_headNotRead_saysSoWithoutAHead", function () {
      const described = describeIndexer(status({ phase: "starting", headBlock: null, indexedBlock: 118, lagBlocks: null }));
      expect(described.state).to.equal("head-unknown");
      expect(described.message).to.equal("This instance holds the indexing lease but has not read the chain head yet.");
      expect(described.message).to.not.match(/\d{3}/);
    });

    it("test_describeIndexer_headNotReadAfterAFailure_saysTheLastError", function () {
      const { message } = describeIndexer(
        status({ phase: "starting", headBlock: null, lagBlocks: null, lastError: "fetch failed (ECONNREFUSED 127.0.0.1:8545)." }),
      );
      expect(message).to.equal(
        "This instance holds the indexing lease but has not read the chain head yet; the last attempt failed: fetch failed (ECONNREFUSED 127.0.0.1:8545).",
      );
    });

    it("test_describeIndexer_lastStepFailed_saysItIsBeingRetried", function () {
      const { state, message } = describeIndexer(status({ indexedBlock: 100, lagBlocks: 20, lastError: "fetch failed: ECONNREFUSED" }));
      expect(state).to.equal("indexing");
      expect(message).to.equal(
        "This instance is indexing: the mirror is at block 100, 20 blocks behind the chain head at block 120; its last step failed and is being retried: fetch failed: ECONNREFUSED.",
      );
    });
  });

  describe("when another instance holds the lease", function () {
    it("test_describeIndexer_holderRenews_saysWhoAndUntilWhenAndStandingBy", function () {
      expect(describeIndexer(standby())).to.deep.equal({
        state: "standby",
        message: `Another instance (there) holds the indexing lease until ${EXPIRES} and this instance is standing by; the mirror is at block 118, 2 blocks behind the chain head at block 120.`,
        leaseHolder: "there",
        leaseExpiresAt: EXPIRES,
        error: null,
      });
    });

    it("test_describeIndexer_standbyOnAnEmptyStore_saysTheStoreIsStillEmpty", function () {
      const { state, message } = describeIndexer(standby({ indexedBlock: null, lagBlocks: 114 }));
      expect(state).to.equal("standby");
      expect(message).to.equal(
        `Another instance (there) holds the indexing lease until ${EXPIRES} and this instance is standing by; the store is still empty, 114 blocks behind the chain head at block 120 (backfill starts at the deploy block 7).`,
      );
    });

    it("test_describeIndexer_standbyWithoutAHead_showsNoHead", function () {
      const { message } = describeIndexer(standby({ headBlock: null, lagBlocks: null }));
      expect(message).to.equal(
        `Another instance (there) holds the indexing lease until ${EXPIRES} and this instance is standing by; the mirror is at block 118 and this instance has not read the chain head yet.`,
      );
    });

    it("test_describeIndexer_holderStoppedRenewing_saysNoInstanceIsIndexing", function () {
      const described = describeIndexer(
        standby({ lease: { kind: "lapsed", holder: "dead", expiresAt: EXPIRES_AT, reason: "not-renewed" } }),
      );
      expect(described).to.deep.equal({
        state: "lease-lapsed",
        message: `No instance is indexing: dead has stopped renewing its lease, which expires at ${EXPIRES}, when this instance takes it over; the mirror is at block 118, 2 blocks behind the chain head at block 120.`,
        leaseHolder: "dead",
        leaseExpiresAt: EXPIRES,
        error: null,
      });
    });

    it("test_describeIndexer_holderLeaseExpired_saysItIsBeingTakenOver", function () {
      const { state, message } = describeIndexer(
        standby({ lease: { kind: "lapsed", holder: "dead", expiresAt: EXPIRES_AT, reason: "expired" } }),
      );
      expect(state).to.equal("lease-lapsed");
      expect(message).to.equal(
        `No instance is indexing: the lease of dead expired at ${EXPIRES} and this instance is taking it over; the mirror is at block 118, 2 blocks behind the chain head at block 120.`,
      );
    });

    it("test_describeIndexer_ownRenewalLate_saysThisInstanceLostItsLease", function () {
      const { state, message } = describeIndexer(
        standby({ phase: "live", lease: { kind: "lapsed", holder: "here", expiresAt: EXPIRES_AT, reason: "expired" } }),
      );
      expect(state).to.equal("lease-lapsed");
      expect(message).to.equal(
        `No instance is indexing: this instance could not renew its lease in time (it expired at ${EXPIRES}) and writes again only once it renews it; the mirror is at block 118, 2 blocks behind the chain head at block 120.`,
      );
    });

    it("test_describeIndexer_nobodyHoldsIt_saysNoInstanceIsIndexing", function () {
      const described = describeIndexer(standby({ lease: { kind: "free" } }));
      expect(described).to.deep.include({ state: "lease-lapsed", leaseHolder: null, leaseExpiresAt: null });
      expect(described.message).to.equal(
        "No instance is indexing: nobody holds the lease and this instance is taking it; the mirror is at block 118, 2 blocks behind the chain head at block 120.",
      );
    });
  });

  describe("when the indexer is not running", function () {
    it("test_describeIndexer_failed_saysTheErrorWithCredentialsMasked", function () {
      const described = describeIndexer(
        status({ phase: "failed", lastError: "The store rejected the data: E11000 at mongodb://admin:s3cret@10.0.0.5:27017/provena." }),
      );
      expect(described).to.deep.include({
        state: "failed",
        message:
          "The indexer stopped on an error that needs an operator: The store rejected the data: E11000 at mongodb://***@10.0.0.5:27017/provena.",
        error: "The store rejected the data: E11000 at mongodb://***@10.0.0.5:27017/provena",
      });
      expect(JSON.stringify(described)).to.not.contain("s3cret");
    });

    it("test_describeIndexer_failedWithoutAnError_pointsAtTheLogs", function () {
      expect(describeIndexer(status({ phase: "failed" })).message).to.equal(
        "The indexer stopped on an error that needs an operator (see the logs).",
      );
    });

    it("test_describeIndexer_stopped_saysTheInstanceIsShuttingDown", function () {
      expect(describeIndexer(status({ phase: "stopped", isLeader: false }))).to.deep.include({
        state: "stopped",
        message: "The indexer has stopped because this instance is shutting down.",
      });
    });

    it("test_describeIndexer_notStartedYet_saysTheHeadIsUnread", function () {
      const described = describeIndexer(
        status({ isLeader: false, phase: "starting", headBlock: null, indexedBlock: null, lagBlocks: null, lease: { kind: "unknown" } }),
      );
      expect(described).to.deep.equal({
        state: "head-unknown",
        message: "The indexer has not read the chain head yet.",
        leaseHolder: null,
        leaseExpiresAt: null,
        error: null,
      });
    });
  });

  describe("publicErrorText", function () {
    it("test_publicErrorText_oneLineShortNoCredentials", function () {
      const long = `connect to https://user:pw@rpc.example/v1\n  at x\n${"y".repeat(400)}`;
      const text = publicErrorText(long);
      expect(text).to.not.contain("pw@").and.to.not.contain("\n");
      expect(text).to.match(/^connect to https:\/\/\*\*\*@rpc\.example\/v1 at x y+…$/);
      expect(text.length).to.equal(300);
    });
  });
});

describe("indexer status: progress", function () {
  it("test_setHead_emptyStore_lagCountsFromTheDeployBlock", function () {
    const progress = createIndexerProgress({ chainId: 31337, instanceId: "here", blockRange: 100, deployBlock: 7, confirmations: 0 });
    expect(progress.status.lagBlocks).to.equal(null);
    progress.setHead(120);
    expect(progress.status.lagBlocks).to.equal(114); // blocks 7..120 are not mirrored yet
    progress.setIndexed(50);
    expect(progress.status.lagBlocks).to.equal(70);
    progress.setIndexed(null);
    expect(progress.status.lagBlocks).to.equal(114);
  });
});
