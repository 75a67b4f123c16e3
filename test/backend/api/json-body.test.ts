/**
 * The JSON nesting limit every body parser applies (backend/api/json-body.ts). Attacker: anyone who can POST, sending
 * a small body nested thousands of levels deep so that recursive code after JSON.parse overflows its stack. These
 * tests show every parser refuses it with the same 400 before parsing, and the server answers normally afterwards.
 */
import { expect } from "chai";
import request from "supertest";
import { jsonNestingExceeds } from "../../../backend/api/json-body.ts";
import { jsonResponse } from "../../../backend/api/openapi.ts";
import { routeModuleFromTable } from "../../../backend/api/route-table.ts";
import { writeLimits } from "../../../backend/api/write-limits.ts";
import { createTestApp } from "./fixtures/test-app.ts";

const nested = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;

/** POST /j/echo: behind writeLimits when `ownParser`, else behind the app's JSON parser. */
function echoModule(ownParser: boolean) {
  return routeModuleFromTable(
    "/j",
    [
      {
        method: "post",
        path: "/echo",
        operation: { operationId: "echo", responses: { 200: jsonResponse("The body back.", { type: "object" }) } },
        ...(ownParser ? { middleware: writeLimits({ label: "echoes", bodyLimit: "1mb", ratePerMinute: 1000, jsonMaxDepth: 8 }) } : {}),
        handler: (req, res) => void res.json({ body: req.body as unknown }),
      },
    ],
    undefined,
    { parsesOwnBody: ownParser },
  );
}

describe("JSON nesting limit", function () {
  it("test_jsonNestingExceeds_countsContainersOutsideStringsOnly", function () {
    expect(jsonNestingExceeds("[[1]]", 2)).to.equal(false);
    expect(jsonNestingExceeds("[[[1]]]", 2)).to.equal(true);
    expect(jsonNestingExceeds('{"a":{"b":[]}}', 3)).to.equal(false);
    expect(jsonNestingExceeds('{"a":{"b":[{}]}}', 3)).to.equal(true);
    expect(jsonNestingExceeds(`["${"[{".repeat(50)}"]`, 1)).to.equal(false);
    // An escaped quote does not end the string; an escaped backslash does not escape the quote after it.
    expect(jsonNestingExceeds('["\\"[[[["]', 1)).to.equal(false);
    expect(jsonNestingExceeds('["\\\\",[[]]]', 2)).to.equal(true);
    expect(jsonNestingExceeds(Buffer.from(nested(33)), 32)).to.equal(true);
    expect(jsonNestingExceeds(Buffer.from(`["ü${"[".repeat(40)}"]`), 1)).to.equal(false);
  });

  for (const ownParser of [false, true]) {
    const which = ownParser ? "a write endpoint's parser" : "the app's parser";
    it(`test_jsonBody_${ownParser ? "writeLimits" : "appParser"}_deepBodyIs400AtAnyDepthAndServerStaysUp (${which})`, async function () {
      const { app, store } = await createTestApp({ modules: [echoModule(ownParser)] });
      const maxDepth = ownParser ? 8 : 32;
      // 10,000 levels are 20 kB, well within the app's 100 kB body limit; the write endpoint's 1 MB takes 100,000.
      for (const depth of [maxDepth + 1, 5_000, 10_000, ...(ownParser ? [100_000] : [])]) {
        const res = await request(app).post("/j/echo").set("Content-Type", "application/json").send(nested(depth));
        expect(res.status, `depth ${depth}`).to.equal(400);
        expect(res.headers["content-type"]).to.equal("application/problem+json; charset=utf-8");
        expect(res.body).to.include({ title: "Bad Request", detail: `The JSON body is nested deeper than ${maxDepth} levels`, maxDepth });
      }
      const ok = await request(app).post("/j/echo").set("Content-Type", "application/json").send(nested(maxDepth)).expect(200);
      expect(JSON.stringify(ok.body.body)).to.equal(nested(maxDepth));
      await request(app).get("/healthz").expect(200);
      await store.close();
    });
  }

  it("test_jsonBody_utf16Body_decodedBeforeCounting", async function () {
    const { app, store } = await createTestApp({ modules: [echoModule(true)] });
    const res = await request(app)
      .post("/j/echo")
      .set("Content-Type", "application/json; charset=utf-16le")
      // superagent would JSON-encode a Buffer sent as JSON: send the bytes as they are.
      .serialize((bytes: unknown) => bytes as string)
      .send(Buffer.from(nested(9), "utf16le"));
    expect(res.status).to.equal(400);
    expect(res.body, JSON.stringify(res.body)).to.include({ maxDepth: 8 });
    await store.close();
  });
});
