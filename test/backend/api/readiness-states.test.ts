/**
 * /readyz and /healthz in every indexer state: the exact sentence, the status code, the machine-readable fields,
 * and a body that matches the OpenAPI document's schema (Readiness for 200, NotReady for 503).
 */
import { expect } from "chai";
import request from "supertest";
import type { IndexerStatusView } from "../../../backend/api/indexer-status.ts";
import { notReadySchema, readinessSchema } from "../../../backend/api/operations-routes.ts";
import { createTestApp } from "./fixtures/test-app.ts";

const EXPIRES_AT = Date.UTC(2026, 11, 2, 16, 0, 15);
const EXPIRES = "2026-12-02T16:00:15.000Z";
const MAX_LAG = 5;

/** This instance ("here") holds the lease, the mirror at block 118 of 120, CONFIRMATIONS 2. */
const indexing: IndexerStatusView = {
  chainId: 31337,
  instanceId: "here",
  isLeader: true,
  phase: "live",
  headBlock: 120,
  indexedBlock: 118,
  lagBlocks: 2,
  eventsIndexed: 40,
  deployBlock: 7,
  confirmations: 2,
  lastError: null,
  lease: { kind: "held-here", expiresAt: EXPIRES_AT },
};

const standingBy: Partial<IndexerStatusView> = {
  isLeader: false,
  phase: "following",
  lease: { kind: "held-elsewhere", holder: "there", expiresAt: EXPIRES_AT },
};

async function probe(indexer: Partial<IndexerStatusView>) {
  const { app } = await createTestApp({ indexer: { ...indexing, ...indexer }, readyMaxLagBlocks: MAX_LAG });
  const readiness = await request(app).get("/readyz");
  const health = await request(app).get("/healthz").expect(200);
  if (readiness.status === 200) readinessSchema.parse(readiness.body);
  else notReadySchema.parse(readiness.body);
  expect(health.body.indexer, "/healthz says the same").to.deep.equal({
    state: readiness.body.indexer.state,
    message: readiness.body.indexer.message,
  });
  return readiness;
}

function expectReady(response: request.Response, state: string, message: string) {
  expect(response.status, response.text).to.equal(200);
  expect(response.body.indexer).to.deep.include({ state, message });
}

function expectNotReady(response: request.Response, state: string, reasons: string[]) {
  expect(response.status, response.text).to.equal(503);
  expect(response.body.indexer.state).to.equal(state);
  expect(response.body.reasons).to.deep.equal(reasons);
  expect(response.body.detail).to.equal(`Not ready. ${reasons.join(" ")}`);
}

describe("readiness in each indexer state", function () {
  describe("indexing", function () {
    it("test_readyz_indexingCaughtUp_is200", async function () {
      const response = await probe({});
      expectReady(
        response,
        "indexing",
        "This instance is indexing and is caught up: the mirror is at block 118, 2 blocks behind the chain head at block 120, within the 2 confirmations it waits for.",
      );
      expect(response.body.indexer).to.deep.equal({
        state: "indexing",
        message: response.body.indexer.message,
        chainId: 31337,
        headBlock: 120,
        indexedBlock: 118,
        lagBlocks: 2,
        maxLagBlocks: MAX_LAG,
        eventsIndexed: 40,
        isLeader: true,
        leaseHolder: "here",
        leaseExpiresAt: EXPIRES,
        error: null,
      });
    });

    it("test_readyz_indexingBehindWithinTheBound_is200", async function () {
      expectReady(
        await probe({ indexedBlock: 115, lagBlocks: 5 }),
        "indexing",
        "This instance is indexing: the mirror is at block 115, 5 blocks behind the chain head at block 120.",
      );
    });

    it("test_readyz_indexingBehindBeyondTheBound_is503", async function () {
      expectNotReady(await probe({ indexedBlock: 100, lagBlocks: 20, phase: "backfill" }), "indexing", [
        "This instance is indexing: the mirror is at block 100, 20 blocks behind the chain head at block 120.",
        "The mirror may be at most 5 blocks behind the chain head to be ready (READY_MAX_LAG_BLOCKS) and it is 20 behind.",
      ]);
    });
  });

  describe("another instance holds the lease", function () {
    it("test_readyz_standbyWithTheStoreCurrent_is200", async function () {
      const response = await probe(standingBy);
      expectReady(
        response,
        "standby",
        `Another instance (there) holds the indexing lease until ${EXPIRES} and this instance is standing by; the mirror is at block 118, 2 blocks behind the chain head at block 120.`,
      );
      expect(response.body.indexer).to.deep.include({ isLeader: false, leaseHolder: "there", leaseExpiresAt: EXPIRES });
    });

    it("test_readyz_standbyWithTheStoreBehind_is503", async function () {
      expectNotReady(await probe({ ...standingBy, indexedBlock: 110, lagBlocks: 10 }), "standby", [
        `Another instance (there) holds the indexing lease until ${EXPIRES} and this instance is standing by; the mirror is at block 110, 10 blocks behind the chain head at block 120.`,
        "The mirror may be at most 5 blocks behind the chain head to be ready (READY_MAX_LAG_BLOCKS) and it is 10 behind.",
      ]);
    });

    it("test_readyz_leaseLapsedWithTheStoreStillCurrent_is200", async function () {
      const response = await probe({
        ...standingBy,
        lease: { kind: "lapsed", holder: "dead", expiresAt: EXPIRES_AT, reason: "not-renewed" },
      });
      expectReady(
        response,
        "lease-lapsed",
        `No instance is indexing: dead has stopped renewing its lease, which expires at ${EXPIRES}, when this instance takes it over; the mirror is at block 118, 2 blocks behind the chain head at block 120.`,
      );
      expect(response.body.indexer).to.deep.include({ leaseHolder: "dead", leaseExpiresAt: EXPIRES });
    });

    it("test_readyz_leaseExpiredAndTheStoreBehind_is503", async function () {
      expectNotReady(
        await probe({
          ...standingBy,
          indexedBlock: 100,
          lagBlocks: 20,
          lease: { kind: "lapsed", holder: "dead", expiresAt: EXPIRES_AT, reason: "expired" },
        }),
        "lease-lapsed",
        [
          `No instance is indexing: the lease of dead expired at ${EXPIRES} and this instance is taking it over; the mirror is at block 100, 20 blocks behind the chain head at block 120.`,
          "The mirror may be at most 5 blocks behind the chain head to be ready (READY_MAX_LAG_BLOCKS) and it is 20 behind.",
        ],
      );
    });
  });

  describe("nothing to judge the lag by, or nothing indexing here", function () {
    it("test_readyz_failed_is503WithTheError", async function () {
      const response = await probe({ phase: "failed", lastError: "Internal error: x is not a function" });
      expectNotReady(response, "failed", ["The indexer stopped on an error that needs an operator: Internal error: x is not a function."]);
      expect(response.body.indexer.error).to.equal("Internal error: x is not a function");
    });

    it("test_readyz_headNotRead_is503AndShowsNoHead", async function () {
      const response = await probe({
        isLeader: false,
        phase: "starting",
        headBlock: null,
        indexedBlock: 118,
        lagBlocks: null,
        lease: { kind: "unknown" },
      });
      expectNotReady(response, "head-unknown", ["The indexer has not read the chain head yet."]);
      expect(response.body.indexer).to.deep.include({ headBlock: null, lagBlocks: null, indexedBlock: 118 });
    });

    it("test_readyz_emptyStoreBackfilling_is503WithTheDeployBlock", async function () {
      const response = await probe({ phase: "backfill", indexedBlock: null, lagBlocks: 114 });
      expectNotReady(response, "backfill-started", [
        "The store is empty and this instance has begun backfilling from the deploy block 7, 114 blocks behind the chain head at block 120.",
        "The mirror may be at most 5 blocks behind the chain head to be ready (READY_MAX_LAG_BLOCKS) and it is 114 behind.",
      ]);
      expect(response.body.indexer).to.deep.include({ headBlock: 120, indexedBlock: null, lagBlocks: 114 });
    });

    it("test_readyz_emptyStoreOnAFreshDeployment_is200", async function () {
      // Deployed at block 118: the blocks to backfill are within the bound, as any lag would be.
      const response = await probe({ phase: "backfill", indexedBlock: null, lagBlocks: 3, deployBlock: 118 });
      expectReady(
        response,
        "backfill-started",
        "The store is empty and this instance has begun backfilling from the deploy block 118, 3 blocks behind the chain head at block 120.",
      );
    });

    it("test_readyz_stopped_is503", async function () {
      expectNotReady(await probe({ phase: "stopped", isLeader: false }), "stopped", [
        "The indexer has stopped because this instance is shutting down.",
      ]);
    });
  });

  it("test_healthz_statusSourceThrows_isStill200WithoutIndexer", async function () {
    const { app } = await createTestApp({
      indexerStatus: () => {
        throw new Error("indexer not started");
      },
    });
    const response = await request(app).get("/healthz").expect(200);
    expect(response.body).to.include({ status: "ok", indexer: null });
  });
});
