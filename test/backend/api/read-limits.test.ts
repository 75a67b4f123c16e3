/**
 * Per-client rate limits on reads. Attacker: one scraper hammering the API or the passport pages from one address
 * (or rotating through a whole IPv6 range to exhaust the limiter's memory). Legitimate load: many scanners behind
 * distinct addresses, and the orchestrator's probes, which must never be throttled.
 */
import { expect } from "chai";
import request from "supertest";
import { readBudgetOf } from "../../../backend/api/read-limits.ts";
import { createBoundedRateLimitStore } from "../../../backend/api/rate-limit-store.ts";
import { ConfigError, LIMIT_DEFAULTS, loadConfig } from "../../../backend/config.ts";
import { createTestApp } from "./fixtures/test-app.ts";

const PROBLEM = "application/problem+json; charset=utf-8";

describe("read rate limits", function () {
  it("test_readLimits_apiOverBudget_is429ProblemWithRateLimitHeadersAndRetryAfter", async function () {
    const { app, store } = await createTestApp({ readLimits: { apiPerMinute: 3, passportPerMinute: 100 } });
    for (let i = 0; i < 3; i++) {
      const ok = await request(app).get("/api/v1/batches").expect(200);
      expect(ok.headers.ratelimit, "RateLimit header on every counted answer").to.match(/^"3-in-1min"; r=\d; t=\d+$/);
    }
    const refused = await request(app).get("/api/v1/participants");
    expect(refused.status).to.equal(429);
    expect(refused.headers["content-type"]).to.equal(PROBLEM);
    expect(refused.body).to.include({
      status: 429,
      title: "Too Many Requests",
      detail: "at most 3 API requests per minute per client; retry later",
      instance: "/api/v1/participants",
    });
    expect(refused.headers["ratelimit-policy"]).to.match(/q=3; w=60/);
    expect(Number(refused.headers["retry-after"])).to.be.within(1, 60);
    // Bad requests count too: a flood of 400s is still a flood.
    await request(app).get("/api/v1/batches?limit=0x10").expect(429);
    await store.close();
  });

  it("test_readLimits_probesAreNeverLimited", async function () {
    const { app, store } = await createTestApp({ readLimits: { apiPerMinute: 1, passportPerMinute: 1 } });
    await request(app).get("/api/v1/batches").expect(200);
    await request(app).get("/api/v1/batches").expect(429);
    for (let i = 0; i < 5; i++) {
      for (const probe of ["/healthz", "/readyz", "/metrics", "/HEALTHZ", "/healthz/"]) {
        const res = await request(app).get(probe);
        expect(res.status, probe).to.equal(200);
        expect(res.headers.ratelimit, probe).to.equal(undefined);
      }
    }
    await store.close();
  });

  it("test_readLimits_apiAndPassportBudgetsAreSeparate", async function () {
    const { app, store } = await createTestApp({ readLimits: { apiPerMinute: 2, passportPerMinute: 4 } });
    await request(app).get("/api/v1/batches").expect(200);
    await request(app).get("/openapi.json").expect(200);
    await request(app).get("/api/v1/batches").expect(429);
    await request(app).get("/openapi.json").expect(429);
    // Outside /api (no passport module here: the pages' paths answer 404) the other budget is untouched.
    for (let i = 0; i < 4; i++) await request(app).get("/01/09506000134352/10/LOT").expect(404);
    const refused = await request(app).get("/01/09506000134352/10/LOT");
    expect(refused.status).to.equal(429);
    expect(refused.body.detail).to.equal("at most 4 passport requests per minute per client; retry later");
    await store.close();
  });

  it("test_readLimits_keyedByTheClientAsTrustProxyNamesIt", async function () {
    // Behind one trusted proxy hop, X-Forwarded-For names the client: two scanners, two budgets.
    const proxied = await createTestApp({ readLimits: { apiPerMinute: 1 }, trustProxy: 1 });
    await request(proxied.app).get("/api/v1/batches").set("X-Forwarded-For", "198.51.100.7").expect(200);
    await request(proxied.app).get("/api/v1/batches").set("X-Forwarded-For", "198.51.100.7").expect(429);
    await request(proxied.app).get("/api/v1/batches").set("X-Forwarded-For", "203.0.113.9").expect(200);
    await proxied.store.close();
    // With no trusted proxy, a client cannot buy a fresh budget by naming itself.
    const direct = await createTestApp({ readLimits: { apiPerMinute: 1 } });
    await request(direct.app).get("/api/v1/batches").set("X-Forwarded-For", "198.51.100.7").expect(200);
    await request(direct.app).get("/api/v1/batches").set("X-Forwarded-For", "203.0.113.9").expect(429);
    await direct.store.close();
  });

  it("test_readBudgetOf_pathsAndCase", function () {
    expect(readBudgetOf("/healthz")).to.equal("unlimited");
    expect(readBudgetOf("/Metrics/")).to.equal("unlimited");
    expect(readBudgetOf("/API/v1/batches")).to.equal("api");
    expect(readBudgetOf("/openapi.json")).to.equal("api");
    expect(readBudgetOf("/api")).to.equal("api");
    expect(readBudgetOf("/apix")).to.equal("passport");
    expect(readBudgetOf("/01/09506000134352/10/LOT")).to.equal("passport");
    expect(readBudgetOf("/healthz/extra")).to.equal("passport");
  });
});

describe("createBoundedRateLimitStore", function () {
  const options = { windowMs: 60_000 } as Parameters<NonNullable<ReturnType<typeof createBoundedRateLimitStore>["init"]>>[0];

  it("test_boundedStore_countsPerClientWithinTheWindow_andStartsAfresh", async function () {
    let now = 1_000;
    const store = createBoundedRateLimitStore({ maxClients: 10, now: () => now });
    void store.init!(options);
    expect((await store.increment("a")).totalHits).to.equal(1);
    expect((await store.increment("a")).totalHits).to.equal(2);
    expect((await store.increment("b")).totalHits).to.equal(1);
    expect((await store.increment("a")).resetTime!.getTime()).to.equal(61_000);
    now = 61_000;
    expect(await store.get!("a")).to.equal(undefined);
    expect((await store.increment("a")).totalHits).to.equal(1);
    await store.decrement("a");
    expect((await store.get!("a"))!.totalHits).to.equal(0);
  });

  // An attacker rotating through 100,000 addresses (an IPv6 range) must not grow the limiter's memory past its bound.
  it("test_boundedStore_manyClients_neverHoldsMoreThanMaxClients_andForgetsTheOldestFirst", async function () {
    let now = 0;
    const store = createBoundedRateLimitStore({ maxClients: 1_000, now: () => now });
    void store.init!(options);
    await store.increment("scraper");
    await store.increment("scraper");
    for (let i = 0; i < 100_000; i++) {
      now = i / 100; // all within one window
      await store.increment(`client-${i}`);
      if (store.size > 1_000) expect.fail(`holds ${store.size} clients`);
    }
    expect(store.size).to.equal(1_000);
    expect(await store.get!("scraper")).to.equal(undefined);
    expect(await store.get!("client-0")).to.equal(undefined);
    expect((await store.get!("client-99999"))!.totalHits).to.equal(1);
  });

  it("test_boundedStore_expiredWindowsAreDroppedBeforeLiveOnes", async function () {
    let now = 0;
    const store = createBoundedRateLimitStore({ maxClients: 3, now: () => now });
    void store.init!(options);
    await store.increment("old");
    now = 30_000;
    await store.increment("live");
    await store.increment("live");
    now = 61_000; // "old" has expired, "live" has not
    await store.increment("new");
    expect(store.size).to.equal(2);
    expect((await store.get!("live"))!.totalHits).to.equal(2);
  });

  it("test_createBoundedRateLimitStore_nonPositiveBound_throws", function () {
    expect(() => createBoundedRateLimitStore({ maxClients: 0 })).to.throw(RangeError);
  });
});

describe("limits configuration", function () {
  it("test_loadConfig_limits_defaultsAndOverrides", function () {
    expect(loadConfig({})).to.deep.include({
      readRateLimitPerMinute: LIMIT_DEFAULTS.readRateLimitPerMinute,
      passportReadRateLimitPerMinute: LIMIT_DEFAULTS.passportReadRateLimitPerMinute,
      rateLimitMaxClients: 100_000,
      maxHeaderSize: 16_384,
      headersTimeoutMs: 20_000,
      requestTimeoutMs: 120_000,
    });
    expect(
      loadConfig({
        READ_RATE_LIMIT_PER_MINUTE: "100",
        PASSPORT_READ_RATE_LIMIT_PER_MINUTE: "200",
        RATE_LIMIT_MAX_CLIENTS: "5000",
        MAX_HEADER_SIZE: "8192",
        HEADERS_TIMEOUT_MS: "5000",
        REQUEST_TIMEOUT_MS: "30000",
      }),
    ).to.deep.include({
      readRateLimitPerMinute: 100,
      passportReadRateLimitPerMinute: 200,
      rateLimitMaxClients: 5_000,
      maxHeaderSize: 8_192,
      headersTimeoutMs: 5_000,
      requestTimeoutMs: 30_000,
    });
    // A short request timeout pulls the default headers timeout down with it.
    expect(loadConfig({ REQUEST_TIMEOUT_MS: "5000" }).headersTimeoutMs).to.equal(5_000);
  });

  it("test_loadConfig_limits_badValues_oneLineEach", function () {
    try {
      loadConfig({
        READ_RATE_LIMIT_PER_MINUTE: "0",
        PASSPORT_READ_RATE_LIMIT_PER_MINUTE: "1e3",
        RATE_LIMIT_MAX_CLIENTS: "10",
        MAX_HEADER_SIZE: "16kb",
        HEADERS_TIMEOUT_MS: "60000",
        REQUEST_TIMEOUT_MS: "10000",
      });
      expect.fail("loadConfig accepted bad limits");
    } catch (error) {
      expect(error).to.be.instanceOf(ConfigError);
      expect((error as ConfigError).issues.map((issue) => issue.variable)).to.have.members([
        "READ_RATE_LIMIT_PER_MINUTE",
        "PASSPORT_READ_RATE_LIMIT_PER_MINUTE",
        "RATE_LIMIT_MAX_CLIENTS",
        "MAX_HEADER_SIZE",
        "HEADERS_TIMEOUT_MS",
      ]);
      expect((error as ConfigError).message).to.include("HEADERS_TIMEOUT_MS: must be at most REQUEST_TIMEOUT_MS (10000)");
    }
  });
});
