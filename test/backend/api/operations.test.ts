/**
 * Operational endpoints and cross-cutting HTTP behaviour: liveness, readiness both ways (store answering or
 * not, mirror lag under or over the threshold), Prometheus metrics fed from the indexer status and the
 * latency histogram, request ids, structured request logs and security headers.
 */
import { expect } from "chai";
import request from "supertest";
import type { MirrorStore } from "../../../backend/store/port.ts";
import { readinessSchema } from "../../../backend/api/operations-routes.ts";
import { seedScenario, type Scenario } from "./fixtures/scenario.ts";
import { createMemoryStore, createTestApp, type TestApp } from "./fixtures/test-app.ts";

/** The value of one sample line of a Prometheus text exposition, or undefined when absent. */
function sample(exposition: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of exposition.split("\n")) {
    if (line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const lineLabels = Object.fromEntries([...(match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => lineLabels[key] === value)) return Number(match[3]);
  }
  return undefined;
}

const flushLogs = () => new Promise((resolve) => setImmediate(resolve));

describe("operations endpoints", function () {
  let t: TestApp;
  let s: Scenario;

  beforeEach(async function () {
    t = await createTestApp({ readyMaxLagBlocks: 5 });
    s = await seedScenario(t.store);
  });

  afterEach(async function () {
    await t.store.close();
  });

  describe("GET /healthz", function () {
    it("test_healthz_answersWhileTheProcessRuns", async function () {
      const response = await request(t.app).get("/healthz").expect(200);
      expect(response.body.status).to.equal("ok");
      expect(response.body.uptimeSeconds).to.be.a("number").and.greaterThan(0);
      expect(response.headers["cache-control"]).to.equal("no-store");
    });

    it("test_healthz_doesNotDependOnTheStore", async function () {
      await t.store.close();
      await request(t.app).get("/healthz").expect(200);
      t.store = await createMemoryStore(); // for afterEach
    });
  });

  describe("GET /readyz", function () {
    it("test_readyz_lagUnderThreshold_is200", async function () {
      Object.assign(t.indexer, { headBlock: 105, indexedBlock: 100, lagBlocks: 5, eventsIndexed: s.history.events.length });
      const response = await request(t.app).get("/readyz").expect(200);
      expect(readinessSchema.parse(response.body)).to.deep.equal({
        status: "ready",
        store: { kind: "sqlite", answered: true },
        indexer: {
          state: "indexing",
          message: "This instance is indexing: the mirror is at block 100, 5 blocks behind the chain head at block 105.",
          chainId: 31337,
          headBlock: 105,
          indexedBlock: 100,
          lagBlocks: 5,
          maxLagBlocks: 5,
          eventsIndexed: s.history.events.length,
          isLeader: true,
          leaseHolder: null,
          leaseExpiresAt: null,
          error: null,
        },
      });
    });

    it("test_readyz_lagOverThreshold_is503WithTheReason", async function () {
      Object.assign(t.indexer, { headBlock: 200, indexedBlock: 100, lagBlocks: 100 });
      const response = await request(t.app).get("/readyz").expect(503);
      expect(response.headers["content-type"]).to.equal("application/problem+json; charset=utf-8");
      expect(response.body).to.deep.include({
        type: "https://provena.dev/problems/service-unavailable",
        title: "Service Unavailable",
        status: 503,
        detail:
          "Not ready. This instance is indexing: the mirror is at block 100, 100 blocks behind the chain head at block 200. " +
          "The mirror may be at most 5 blocks behind the chain head to be ready (READY_MAX_LAG_BLOCKS) and it is 100 behind.",
        reasons: [
          "This instance is indexing: the mirror is at block 100, 100 blocks behind the chain head at block 200.",
          "The mirror may be at most 5 blocks behind the chain head to be ready (READY_MAX_LAG_BLOCKS) and it is 100 behind.",
        ],
        store: { kind: "sqlite", answered: true },
      });
      expect(response.body.indexer).to.include({ lagBlocks: 100, maxLagBlocks: 5 });
    });

    it("test_readyz_indexerFailed_is503_evenWithItsLastLagSmall", async function () {
      Object.assign(t.indexer, { headBlock: 105, indexedBlock: 104, lagBlocks: 1, phase: "failed" });
      const response = await request(t.app).get("/readyz").expect(503);
      expect(response.body.reasons).to.deep.equal(["The indexer stopped on an error that needs an operator (see the logs)."]);
    });

    it("test_readyz_headUnknown_is503", async function () {
      Object.assign(t.indexer, { headBlock: null, indexedBlock: null, lagBlocks: null });
      const response = await request(t.app).get("/readyz").expect(503);
      expect(response.body.reasons).to.deep.equal(["This instance holds the indexing lease but has not read the chain head yet."]);
    });

    it("test_readyz_storeDown_is503WithoutTheStoreError", async function () {
      const failing: MirrorStore = Object.create(t.store, {
        getCheckpoint: { value: async () => Promise.reject(new Error(`connect ECONNREFUSED mongodb://admin:s3cret@10.0.0.5`)) },
      });
      const down = await createTestApp({ store: failing });
      const response = await request(down.app).get("/readyz").expect(503);
      expect(response.body.reasons).to.deep.equal(["The mirror store (sqlite) did not answer within 2000 ms."]);
      expect(response.body.store).to.deep.equal({ kind: "sqlite", answered: false });
      expect(response.text).to.not.contain("s3cret");
      await flushLogs();
      const logged = down.logs.find((line) => line.msg === "readiness: the mirror store did not answer");
      expect((logged?.err as { message?: string } | undefined)?.message).to.contain("ECONNREFUSED");
    });

    it("test_readyz_storeClosed_is503", async function () {
      await t.store.close();
      const response = await request(t.app).get("/readyz").expect(503);
      expect(response.body.store.answered).to.equal(false);
      t.store = await createMemoryStore();
    });

    it("test_readyz_statusSourceThrows_is503", async function () {
      const broken = await createTestApp({
        store: t.store,
        indexerStatus: () => {
          throw new Error("indexer not started");
        },
      });
      const response = await request(broken.app).get("/readyz");
      expect(response.body.reasons).to.deep.equal(["The indexer status could not be read."]);
      expect(response.status).to.equal(503);
    });
  });

  describe("GET /metrics", function () {
    it("test_metrics_indexerGauges_areReadAtScrapeTime", async function () {
      Object.assign(t.indexer, { headBlock: 150, indexedBlock: 147, lagBlocks: 3, eventsIndexed: 1234, isLeader: true });
      const first = await request(t.app).get("/metrics").expect(200);
      expect(first.headers["content-type"]).to.match(/^text\/plain; version=0\.0\.4/);
      const labels = { chain_id: "31337" };
      expect(sample(first.text, "provena_indexer_head_block", labels)).to.equal(150);
      expect(sample(first.text, "provena_indexer_indexed_block", labels)).to.equal(147);
      expect(sample(first.text, "provena_indexer_lag_blocks", labels)).to.equal(3);
      expect(sample(first.text, "provena_indexer_events_indexed", labels)).to.equal(1234);
      expect(sample(first.text, "provena_indexer_is_leader", labels)).to.equal(1);

      Object.assign(t.indexer, { headBlock: 151, lagBlocks: 4, isLeader: false });
      const second = await request(t.app).get("/metrics").expect(200);
      expect(sample(second.text, "provena_indexer_head_block", labels)).to.equal(151);
      expect(sample(second.text, "provena_indexer_lag_blocks", labels)).to.equal(4);
      expect(sample(second.text, "provena_indexer_is_leader", labels)).to.equal(0);
    });

    it("test_metrics_unknownHead_leavesTheGaugeAbsent", async function () {
      Object.assign(t.indexer, { headBlock: null, lagBlocks: null });
      const response = await request(t.app).get("/metrics").expect(200);
      expect(sample(response.text, "provena_indexer_head_block")).to.equal(undefined);
      expect(sample(response.text, "provena_indexer_indexed_block")).to.equal(118);
    });

    it("test_metrics_latencyHistogram_byRouteTemplateAndStatus", async function () {
      await request(t.app).get(`/api/v1/batches/${s.batches.root}`).expect(200);
      await request(t.app).get(`/api/v1/batches/${s.batches.childA}`).expect(200);
      await request(t.app).get("/api/v1/batches/0x12").expect(400);
      await request(t.app).get("/no/such/route").expect(404);
      const response = await request(t.app).get("/metrics").expect(200);
      const ok = { method: "GET", route: "/api/v1/batches/:batchId", status_code: "200" };
      expect(sample(response.text, "http_request_duration_seconds_count", ok)).to.equal(2);
      expect(sample(response.text, "http_request_duration_seconds_bucket", { ...ok, le: "+Inf" })).to.equal(2);
      expect(sample(response.text, "http_request_duration_seconds_count", { ...ok, status_code: "400" })).to.equal(1);
      expect(sample(response.text, "http_request_duration_seconds_count", { route: "unmatched", status_code: "404" })).to.equal(1);
      // Raw URLs never become labels: the label set stays bounded whatever clients request.
      expect(response.text).to.not.contain(s.batches.root);
      expect(response.text).to.not.contain("/no/such/route");
    });

    it("test_metrics_processMetrics_areExposed", async function () {
      const response = await request(t.app).get("/metrics").expect(200);
      expect(sample(response.text, "process_cpu_user_seconds_total")).to.be.a("number");
      expect(sample(response.text, "nodejs_heap_size_used_bytes")).to.be.greaterThan(0);
    });
  });

  describe("request ids, logs and headers", function () {
    it("test_requestId_isGeneratedAndEchoed", async function () {
      const response = await request(t.app).get("/healthz").expect(200);
      expect(response.headers["x-request-id"]).to.match(/^[0-9a-f-]{36}$/);
    });

    it("test_requestId_fromTheCaller_isKeptWhenSane", async function () {
      const kept = await request(t.app).get("/healthz").set("X-Request-Id", "lb-7f3a.42").expect(200);
      expect(kept.headers["x-request-id"]).to.equal("lb-7f3a.42");
      const replaced = await request(t.app).get("/healthz").set("X-Request-Id", "<script>alert(1)</script>").expect(200);
      expect(replaced.headers["x-request-id"]).to.match(/^[0-9a-f-]{36}$/);
    });

    it("test_requestLog_isOneStructuredLinePerRequest", async function () {
      await request(t.app)
        .get(`/api/v1/batches/${s.batches.root}`)
        .set("X-Request-Id", "trace-1")
        .set("Authorization", "Bearer top-secret")
        .expect(200);
      await request(t.app).get("/api/v1/batches/0x12").set("X-Request-Id", "trace-2").expect(400);
      await flushLogs();
      const ok = t.logs.filter((line) => (line.req as { id?: string } | undefined)?.id === "trace-1");
      expect(ok).to.have.length(1);
      // At debug by default (LOG_REQUESTS): at passport load a line per request is CPU and disk nobody reads.
      expect(ok[0]).to.deep.include({ level: 20, msg: `GET /api/v1/batches/${s.batches.root} 200` });
      expect(ok[0]!.res).to.deep.equal({ statusCode: 200 });
      expect(ok[0]!.responseTime).to.be.a("number");
      expect(JSON.stringify(ok[0])).to.not.contain("top-secret");
      const bad = t.logs.find((line) => (line.req as { id?: string } | undefined)?.id === "trace-2");
      expect(bad!.level).to.equal(20);
    });

    it("test_requestLog_logRequests_successfulRequestsAtInfo_refusedOnesStillAtDebug", async function () {
      const logged = await createTestApp({ store: t.store, logRequests: true });
      await request(logged.app).get(`/api/v1/batches/${s.batches.root}`).set("X-Request-Id", "trace-3").expect(200);
      await request(logged.app).get("/api/v1/batches/0x12").set("X-Request-Id", "trace-4").expect(400);
      await flushLogs();
      const byId = (id: string) => logged.logs.find((line) => (line.req as { id?: string } | undefined)?.id === id);
      expect(byId("trace-3")).to.deep.include({ level: 30, msg: `GET /api/v1/batches/${s.batches.root} 200` });
      expect(byId("trace-4")!.level).to.equal(20);
    });

    // A scraper (or fuzzer) sending thousands of bad requests must not write thousands of warn or info lines.
    it("test_requestLog_clientErrors_stayBelowInfoSoAFloodIsSilent", async function () {
      const before = t.logs.length;
      const bad = ["/api/v1/batches/0x12", "/api/v1/batches?limit=0x10", "/api/v1/nope", "/api/v1/participants?bogus=1"];
      for (let i = 0; i < 50; i++)
        await request(t.app)
          .get(bad[i % bad.length]!)
          .expect((res) => expect(res.status).to.be.within(400, 499));
      await flushLogs();
      const lines = t.logs.slice(before).filter((line) => typeof line.req === "object");
      expect(lines).to.have.length(50);
      expect(lines.filter((line) => (line.level as number) >= 30)).to.deep.equal([]);
    });

    it("test_probeRequests_areLoggedAtDebug", async function () {
      await request(t.app).get("/healthz").set("X-Request-Id", "probe-1").expect(200);
      await flushLogs();
      const line = t.logs.find((entry) => (entry.req as { id?: string } | undefined)?.id === "probe-1");
      expect(line!.level).to.equal(20);
    });

    it("test_securityHeaders_areSet", async function () {
      const response = await request(t.app).get("/api/v1/participants").expect(200);
      expect(response.headers["x-content-type-options"]).to.equal("nosniff");
      expect(response.headers["content-security-policy"]).to.contain("default-src 'self'");
      expect(response.headers["strict-transport-security"]).to.match(/max-age=\d+/);
      expect(response.headers).to.not.have.property("x-powered-by");
    });
  });
});
