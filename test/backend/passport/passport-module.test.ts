/**
 * The passport module inside the real app (createApp): its write limits, and which failures the app's one error
 * middleware answers as the passport's HTML pages. No chain is needed: every request here fails or writes to the store.
 */
import { expect } from "chai";
import request from "supertest";
import { createApp } from "../../../backend/api/app.ts";
import { createMetrics } from "../../../backend/api/metrics.ts";
import { createPassportModule, type PassportModuleDeps } from "../../../backend/passport/passport-module.ts";
import type { MirrorStore } from "../../../backend/store/port.ts";
import { createSqliteStore } from "../../../backend/store/sqlite/index.ts";
import { silentLogger } from "./fixture.ts";

const HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
const UNKNOWN_BATCH = `0x${"ab".repeat(32)}`;
const claimPath = (serial: string) => `/api/v1/batches/${UNKNOWN_BATCH}/units/${serial}/claim`;

describe("passport module in the app", function () {
  let store: MirrorStore;

  before(async function () {
    store = createSqliteStore({ path: ":memory:" });
    await store.init();
  });
  after(async function () {
    await store.close();
  });

  function appWithPassports(limits: Pick<PassportModuleDeps, "uploadBodyLimit" | "writeRateLimitPerMinute"> = {}) {
    const passports = createPassportModule({
      store,
      config: {
        publicBaseUrl: "https://id.example.com",
        publicRpcUrl: "https://id.example.com/rpc",
        chainId: 31337,
        registryAddress: `0x${"11".repeat(20)}`,
      },
      chain: { send: () => Promise.reject(new Error("no chain in this test")) },
      logger: silentLogger(),
      ...limits,
    });
    return createApp({
      store,
      logger: silentLogger(),
      metrics: createMetrics(),
      indexerStatus: () => ({ chainId: 31337, headBlock: null, indexedBlock: null, lagBlocks: null, eventsIndexed: 0, isLeader: false }),
      readyMaxLagBlocks: 10,
      modules: [passports],
    });
  }

  describe("write limits", function () {
    it("test_uploadSerialSet_overUploadBodyLimit_answers413Problem", async function () {
      const app = appWithPassports({ uploadBodyLimit: "1kb" });
      const small = Array.from({ length: 10 }, (_, i) => `S-${i}`).join("\n");
      await request(app).post("/api/v1/serial-sets").set("Content-Type", "text/csv").send(small).expect(201);
      const large = Array.from({ length: 200 }, (_, i) => `LARGE-${String(i).padStart(10, "0")}`).join("\n");
      const res = await request(app).post("/api/v1/serial-sets").set("Content-Type", "text/csv").send(large).expect(413);
      expect(res.headers["content-type"]).to.match(/application\/problem\+json/);
      expect(res.body).to.include({ status: 413, limit: 1024 });
    });

    it("test_uploadSerialSet_defaultLimit_takesMoreThanTheAppJsonLimit", async function () {
      // 200 kB of JSON: over the app's 100kb JSON limit, well under the uploads' default 8 MB.
      const serials = Array.from({ length: 10_000 }, (_, i) => `JSON-${String(i).padStart(12, "0")}`);
      const res = await request(appWithPassports())
        .post("/api/v1/serial-sets")
        .set("Content-Type", "application/json")
        .send(JSON.stringify(serials));
      expect(res.status).to.equal(201);
      expect(res.body.count).to.equal(10_000);
    });

    it("test_passportWrites_overWriteRateLimit_answer429Problem", async function () {
      const app = appWithPassports({ writeRateLimitPerMinute: 2 });
      await request(app).post("/api/v1/serial-sets").set("Content-Type", "text/csv").send("R-1\nR-2").expect(201);
      await request(app).post(claimPath("R-1")).send({ owner: "someone" }).expect(404);
      // Uploads and claims share one budget per client.
      const upload = await request(app).post("/api/v1/serial-sets").set("Content-Type", "text/csv").send("R-3").expect(429);
      expect(upload.headers["content-type"]).to.match(/application\/problem\+json/);
      expect(upload.body.detail).to.match(/at most 2 passport writes/);
      const claim = await request(app).post(claimPath("R-1")).set("Accept", HTML).send({ owner: "someone" }).expect(429);
      expect(claim.headers["content-type"]).to.match(/application\/problem\+json/);
      // Reads are not limited.
      await request(app).get(`/api/v1/batches/${UNKNOWN_BATCH}/qr`).expect(404);
    });

    it("test_claimUnit_bodyOverClaimLimit_answers413Problem", async function () {
      const res = await request(appWithPassports())
        .post(claimPath("C-1"))
        .send({ owner: "x".repeat(5_000) })
        .expect(413);
      expect(res.headers["content-type"]).to.match(/application\/problem\+json/);
    });
  });

  describe("error pages", function () {
    it("test_renderErrorPage_passportPageInABrowser_isHtmlWithCsp", async function () {
      const app = appWithPassports();
      const page = await request(app).get("/01/04006381333931/10/NOPE").set("Accept", HTML).expect(404);
      expect(page.headers["content-type"]).to.match(/text\/html/);
      expect(page.headers["content-security-policy"]).to.match(/default-src/);
      expect(page.headers["cache-control"]).to.equal("no-store");
      expect(page.text).to.include("Product not found");
      // "*/*" gets the page as HTML, so it gets the error as HTML too.
      await request(app)
        .get("/01/04006381333931/10/NOPE")
        .set("Accept", "*/*")
        .expect(404)
        .expect("Content-Type", /text\/html/);
      const json = await request(app).get("/01/04006381333931/10/NOPE").set("Accept", "application/ld+json").expect(404);
      expect(json.headers["content-type"]).to.match(/application\/problem\+json/);
      expect(json.body).to.include({ reason: "unknown-batch" });
    });

    it("test_renderErrorPage_digitalLinkError_is400InvalidDigitalLink", async function () {
      const app = appWithPassports();
      const json = await request(app).get("/01/04006381333932/10/LOT").set("Accept", "application/json").expect(400);
      expect(json.body).to.include({ title: "Bad Request", reason: "invalid-digital-link", ai: "01" });
      const html = await request(app)
        .get("/01/4006381333932")
        .set("Accept", HTML)
        .expect(400)
        .expect("Content-Type", /text\/html/);
      expect(html.text).to.include("This is not a valid product link");
    });

    // Everything under /api answers problem+json, so a client can always parse an error, whatever its Accept header.
    it("test_renderErrorPage_claimEndpoint_isProblemJsonEvenForBrowsers", async function () {
      const app = appWithPassports();
      const browser = await request(app).post(claimPath("C-1")).set("Accept", HTML).type("form").send({ owner: "someone" }).expect(404);
      expect(browser.headers["content-type"]).to.match(/problem\+json/);
      await request(app)
        .post(claimPath("C-1"))
        .set("Accept", "*/*")
        .send({ owner: "someone" })
        .expect(404)
        .expect("Content-Type", /problem\+json/);
      // A body the parser refuses never reached the route's handler: problem+json, as before.
      await request(app)
        .post(claimPath("C-1"))
        .set("Accept", HTML)
        .set("Content-Type", "application/json")
        .send("{")
        .expect(400)
        .expect("Content-Type", /problem\+json/);
    });

    it("test_renderErrorPage_otherRoutes_answerProblemJson", async function () {
      const app = appWithPassports();
      await request(app)
        .get(`/api/v1/batches/${UNKNOWN_BATCH}/qr`)
        .set("Accept", HTML)
        .expect(404)
        .expect("Content-Type", /problem\+json/);
      await request(app)
        .get("/passport/assets/nope.js")
        .set("Accept", HTML)
        .expect(404)
        .expect("Content-Type", /problem\+json/);
      await request(app)
        .get(`/api/v1/batches/${UNKNOWN_BATCH}`)
        .set("Accept", HTML)
        .expect(404)
        .expect("Content-Type", /problem\+json/);
      await request(app)
        .get("/no/such/route")
        .set("Accept", HTML)
        .expect(404)
        .expect("Content-Type", /problem\+json/);
    });

    it("test_renderErrorPage_methodOnPassportLink_is405WithAllow", async function () {
      const res = await request(appWithPassports()).delete("/01/04006381333931/10/LOT").set("Accept", "application/json").expect(405);
      expect(res.headers.allow).to.match(/GET/);
    });
  });
});
