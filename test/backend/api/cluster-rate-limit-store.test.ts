/**
 * Cluster-wide rate limits (backend/api/cluster-rate-limit-store.ts), with the IPC channel simulated in-process.
 * Attacker: one client spreading its requests over every API worker to get N times its budget. Failure modes: a
 * primary too busy to answer, an IPC channel that is gone, a flood of questions waiting at once; in each a
 * request must be answered promptly, and the client still gets no more than its budget in total.
 */
import { expect } from "chai";
import request from "supertest";
import {
  createClusterRateLimitClient,
  createRateLimitResponder,
  type RateLimitQuestion,
} from "../../../backend/api/cluster-rate-limit-store.ts";
import type { IncrementResponse, Options, Store } from "express-rate-limit";
import { createTestApp } from "./fixtures/test-app.ts";

interface Warning {
  details: object;
  message: string;
}

/** A worker's client whose questions reach `responder` on the next turn of the event loop, like IPC. */
function simulatedWorker(
  responder: ReturnType<typeof createRateLimitResponder> | null,
  options: { workers?: number; timeoutMs?: number; maxOutstanding?: number; retryAfterMs?: number; connected?: () => boolean } = {},
) {
  const warnings: Warning[] = [];
  const sent: RateLimitQuestion[] = [];
  const client = createClusterRateLimitClient({
    send: (question) => {
      sent.push(question);
      if (responder) setImmediate(() => responder.answer(question, (answer) => client.receive(answer)));
    },
    connected: options.connected ?? (() => true),
    workers: options.workers ?? 2,
    logger: { warn: (details, message) => warnings.push({ details, message }) },
    timeoutMs: options.timeoutMs ?? 250,
    ...(options.maxOutstanding === undefined ? {} : { maxOutstanding: options.maxOutstanding }),
    ...(options.retryAfterMs === undefined ? {} : { retryAfterMs: options.retryAfterMs }),
  });
  return { client, warnings, sent };
}

function initialised(store: Store): Store {
  void store.init!({ windowMs: 60_000 } as Options);
  return store;
}

const hits = async (store: Store, key: string) => ((await store.increment(key)) as IncrementResponse).totalHits;

describe("cluster-wide rate limits", function () {
  it("test_clusterStore_twoWorkers_shareOneCountPerClient", async function () {
    const responder = createRateLimitResponder({ maxClients: 100 });
    const a = initialised(simulatedWorker(responder).client.storeFor("read-api", { maxClients: 100 }));
    const b = initialised(simulatedWorker(responder).client.storeFor("read-api", { maxClients: 100 }));
    expect(await hits(a, "1.2.3.4")).to.equal(1);
    expect(await hits(b, "1.2.3.4")).to.equal(2);
    expect(await hits(a, "1.2.3.4")).to.equal(3);
    const fromB = (await b.get!("1.2.3.4")) as IncrementResponse;
    expect(fromB.totalHits).to.equal(3);
    expect(fromB.resetTime!.getTime()).to.be.greaterThan(Date.now());
    // Another client, and another limiter, count apart.
    expect(await hits(b, "5.6.7.8")).to.equal(1);
    const other = initialised(simulatedWorker(responder).client.storeFor("read-passport", { maxClients: 100 }));
    expect(await hits(other, "1.2.3.4")).to.equal(1);
    expect(responder.limiters).to.equal(2);
    // resetKey and decrement reach the primary too.
    void b.decrement("1.2.3.4");
    await new Promise((resolve) => setImmediate(resolve));
    expect(await hits(a, "1.2.3.4")).to.equal(3);
    void a.resetKey("1.2.3.4");
    await new Promise((resolve) => setImmediate(resolve));
    expect(await a.get!("1.2.3.4")).to.equal(undefined);
  });

  it("test_clusterStore_appsOfTwoWorkers_oneBudgetForAClient", async function () {
    const responder = createRateLimitResponder({ maxClients: 100 });
    const apps = await Promise.all(
      [0, 1].map(() =>
        createTestApp({
          readLimits: { apiPerMinute: 5, passportPerMinute: 100, rateLimitStoreFor: simulatedWorker(responder).client.storeFor },
        }),
      ),
    );
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await request(apps[i % 2]!.app).get("/api/v1/batches")).status);
    expect(statuses).to.deep.equal([200, 200, 200, 200, 200, 429, 429, 429]);
    for (const { store } of apps) await store.close();
  });

  it("test_clusterStore_primaryDoesNotAnswer_countsLocallyWithTheBudgetDividedAndWarnsOnce", async function () {
    const { client, warnings } = simulatedWorker(null, { workers: 2, timeoutMs: 20 });
    const { app, store } = await createTestApp({
      readLimits: { apiPerMinute: 10, passportPerMinute: 100, rateLimitStoreFor: client.storeFor },
    });
    const statuses: number[] = [];
    const started = Date.now();
    for (let i = 0; i < 7; i++) statuses.push((await request(app).get("/api/v1/batches")).status);
    // Half of the budget in this worker: two workers in fallback let through 10 in all, never 20.
    expect(statuses).to.deep.equal([200, 200, 200, 200, 200, 429, 429]);
    // Only the first question waited: the worker then counts locally for retryAfterMs without asking.
    expect(Date.now() - started).to.be.below(5_000);
    expect(warnings).to.have.length(1);
    expect(warnings[0]!.message).to.match(/1\/2 of every per-client budget.*did not answer within 20 ms/);
    expect(client.outstanding).to.equal(0);
    await store.close();
  });

  it("test_clusterStore_afterRetryPause_asksThePrimaryAgain", async function () {
    let primaryAnswers = false;
    const responder = createRateLimitResponder({ maxClients: 100 });
    const warnings: Warning[] = [];
    const client = createClusterRateLimitClient({
      send: (question) => {
        if (primaryAnswers) setImmediate(() => responder.answer(question, (answer) => client.receive(answer)));
      },
      connected: () => true,
      workers: 3,
      logger: { warn: (details, message) => warnings.push({ details, message }) },
      timeoutMs: 10,
      retryAfterMs: 50,
    });
    const store = initialised(client.storeFor("write-relay", { maxClients: 100 }));
    expect(await hits(store, "k")).to.equal(3); // local, scaled by 3 workers
    primaryAnswers = true;
    expect(await hits(store, "k")).to.equal(6); // still pausing: local
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(await hits(store, "k")).to.equal(1); // the primary's count
    expect(warnings).to.have.length(1);
  });

  it("test_clusterStore_ipcChannelClosed_countsLocallyAtOnce", async function () {
    const { client, warnings, sent } = simulatedWorker(createRateLimitResponder({ maxClients: 10 }), {
      connected: () => false,
      timeoutMs: 10_000,
    });
    const store = initialised(client.storeFor("read-api", { maxClients: 10 }));
    expect(await hits(store, "k")).to.equal(2);
    expect(sent).to.deep.equal([]);
    expect(warnings[0]!.message).to.match(/IPC channel to the primary is closed/);
  });

  it("test_clusterStore_tooManyQuestionsWaiting_countsLocallyWithoutWaiting", async function () {
    const { client, warnings, sent } = simulatedWorker(null, { maxOutstanding: 2, timeoutMs: 10_000 });
    const store = initialised(client.storeFor("read-api", { maxClients: 10 }));
    const waiting = [store.increment("a"), store.increment("b")] as Promise<IncrementResponse>[];
    expect(client.outstanding).to.equal(2);
    expect(await hits(store, "c")).to.equal(2); // answered locally, at once
    expect(client.outstanding).to.equal(2);
    expect(warnings[0]!.message).to.match(/more than 2 rate-limit questions waiting/);
    // The primary's late answers release the waiting requests.
    for (const question of sent)
      client.receive({ type: "rate-limit-answer", id: question.id!, window: { totalHits: 7, resetTime: Date.now() + 1000 } });
    expect((await Promise.all(waiting)).map((window) => window.totalHits)).to.deep.equal([7, 7]);
    expect(client.outstanding).to.equal(0);
    // An answer nobody waits for (late, or forged) changes nothing.
    expect(client.receive({ type: "rate-limit-answer", id: 12345, window: null })).to.equal(true);
  });

  it("test_rateLimitResponder_otherOrMalformedMessages_notAnswered", function () {
    const responder = createRateLimitResponder({ maxClients: 10 });
    const replies: unknown[] = [];
    const reply = (answer: unknown) => replies.push(answer);
    expect(responder.answer({ type: "listening", port: 1 }, reply)).to.equal(false);
    expect(responder.answer(null, reply)).to.equal(false);
    expect(responder.answer({ type: "rate-limit", id: 1, op: "drop", limiter: "x", key: "k", windowMs: 1000 }, reply)).to.equal(false);
    expect(
      responder.answer({ type: "rate-limit", id: 1, op: "increment", limiter: "x", key: "k".repeat(513), windowMs: 1000 }, reply),
    ).to.equal(false);
    expect(responder.answer({ type: "rate-limit", id: 1, op: "increment", limiter: "x", key: "k", windowMs: 0 }, reply)).to.equal(false);
    expect(
      responder.answer({ type: "rate-limit", id: 1, op: "increment", limiter: "x".repeat(65), key: "k", windowMs: 1000 }, reply),
    ).to.equal(false);
    expect(replies).to.deep.equal([]);
    expect(responder.answer({ type: "rate-limit", id: 1, op: "increment", limiter: "x", key: "k", windowMs: 1000 }, reply)).to.equal(true);
    expect(replies).to.have.length(1);
  });

  it("test_rateLimitResponder_boundedClientsPerLimiter", async function () {
    const responder = createRateLimitResponder({ maxClients: 2 });
    const store = initialised(simulatedWorker(responder).client.storeFor("read-api", { maxClients: 2 }));
    for (const key of ["a", "b", "c"]) await hits(store, key);
    // "a" was the oldest window: evicted to make room for "c".
    expect(await store.get!("a")).to.equal(undefined);
    expect(((await store.get!("c")) as IncrementResponse).totalHits).to.equal(1);
  });
});
