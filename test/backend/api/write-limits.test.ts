/**
 * writeLimits: the rate limiter and size-capped body parsers every write endpoint runs behind; their refusals
 * are answered by the app's one error middleware as problem+json.
 */
import { expect } from "chai";
import request from "supertest";
import { jsonResponse } from "../../../backend/api/openapi.ts";
import { routeModuleFromTable } from "../../../backend/api/route-table.ts";
import { describeWriteLimits, writeLimits, type WriteLimitsOptions } from "../../../backend/api/write-limits.ts";
import { createTestApp } from "./fixtures/test-app.ts";

/** POST /w/echo behind writeLimits(options), answering what the parsers made of the body. */
function echoModule(options: WriteLimitsOptions) {
  return routeModuleFromTable(
    "/w",
    [
      {
        method: "post",
        path: "/echo",
        operation: { operationId: "echo", responses: { 200: jsonResponse("The body back.", { type: "object" }) } },
        middleware: writeLimits(options),
        handler: (req, res) => void res.json({ body: req.body as unknown }),
      },
    ],
    undefined,
    { parsesOwnBody: true },
  );
}

describe("writeLimits", function () {
  it("test_writeLimits_textAndFormParsers_readUpToTheLimit", async function () {
    const options: WriteLimitsOptions = {
      label: "serial-list uploads",
      bodyLimit: 64,
      ratePerMinute: 100,
      parsers: [{ kind: "text", type: ["text/csv"] }, { kind: "urlencoded" }],
    };
    const { app, store } = await createTestApp({ modules: [echoModule(options)] });
    const csv = await request(app).post("/w/echo").set("content-type", "text/csv").send("serial\nA1").expect(200);
    expect(csv.body).to.deep.equal({ body: "serial\nA1" });
    const form = await request(app).post("/w/echo").type("form").send("owner=alice").expect(200);
    expect(form.body).to.deep.equal({ body: { owner: "alice" } });
    const tooLarge = await request(app).post("/w/echo").set("content-type", "text/csv").send("x".repeat(65));
    expect(tooLarge.status).to.equal(413);
    expect(tooLarge.headers["content-type"]).to.equal("application/problem+json; charset=utf-8");
    expect(tooLarge.body).to.include({ detail: "The request body exceeds the limit of 64 bytes for serial-list uploads", limit: 64 });
    await store.close();
  });

  it("test_writeLimits_overTheRate_is429ProblemWithRateLimitHeaders", async function () {
    const { app, store } = await createTestApp({ modules: [echoModule({ label: "claims", bodyLimit: "1kb", ratePerMinute: 1 })] });
    await request(app).post("/w/echo").send({ a: 1 }).expect(200);
    const refused = await request(app).post("/w/echo").send({ a: 1 });
    expect(refused.status).to.equal(429);
    expect(refused.body).to.include({ title: "Too Many Requests", detail: "at most 1 claims per minute per client; retry later" });
    expect(refused.headers["ratelimit-policy"]).to.be.a("string");
    expect(Number(refused.headers["retry-after"])).to.be.greaterThan(0);
    await store.close();
  });

  it("test_describeWriteLimits_namesBothLimits", function () {
    expect(describeWriteLimits({ label: "relay requests", bodyLimit: "64kb", ratePerMinute: 60 })).to.equal(
      "Limits: bodies up to 64kb; at most 60 relay requests per minute per client (429 with Retry-After beyond).",
    );
    expect(describeWriteLimits({ label: "claims", bodyLimit: 4096, ratePerMinute: 5 })).to.include("bodies up to 4096 bytes");
  });
});
