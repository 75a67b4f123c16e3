/**
 * Every way a request can fail, answered as RFC 9457 problem+json with the right status and no stack trace
 * or internal message: malformed ids and queries (400 listing the bad fields), unknown resources and routes
 * (404), wrong methods (405), bad bodies (400/413/415) and programmer errors (500, logged with their stack).
 */
import { expect } from "chai";
import express, { Router } from "express";
import request from "supertest";
import { z } from "zod";
import { jsonResponse, problemResponse } from "../../../backend/api/openapi.ts";
import type { RouteModule } from "../../../backend/api/route-module.ts";
import { routeModuleFromTable } from "../../../backend/api/route-table.ts";
import { parseBody } from "../../../backend/api/validate.ts";
import { seedScenario, type Scenario } from "./fixtures/scenario.ts";
import { createTestApp, type TestApp } from "./fixtures/test-app.ts";
import { labelBytes32 } from "../../../scripts/fixtures/chain-history.ts";

const SECRET = "mongodb://provena:hunter2@db.internal:27017";

/** A module as a feature team would plug in: a JSON write endpoint and two routes that fail like buggy code. */
function probeModule(): RouteModule {
  const echoBody = z.strictObject({ lot: z.string().min(1), quantity: z.int().positive() });
  return routeModuleFromTable("/test", [
    {
      method: "post",
      path: "/echo",
      operation: {
        operationId: "testEcho",
        requestBody: { content: { "application/json": { schema: { type: "object" } } } },
        responses: { 200: jsonResponse("The body back.", { type: "object" }), 400: problemResponse(400), 413: problemResponse(413) },
      },
      handler: (req, res) => {
        res.json(parseBody(echoBody, req));
      },
    },
    {
      method: "get",
      path: "/throws",
      operation: { operationId: "testThrows", responses: { 500: problemResponse(500) } },
      handler: () => {
        throw new Error(`cannot connect to ${SECRET}`);
      },
    },
    {
      method: "get",
      path: "/rejects",
      operation: { operationId: "testRejects", responses: { 500: problemResponse(500) } },
      handler: async () => {
        await Promise.resolve();
        throw new TypeError(`Cannot read properties of undefined (reading '${SECRET}')`);
      },
    },
  ]);
}

/** A module that parses its own bodies with a tighter limit than the app's, as the relayer does. */
function ownBodyModule(): RouteModule {
  const router = Router();
  router.post("/echo", express.json({ limit: 64 }), (req, res) => {
    res.json(req.body);
  });
  const operation = {
    operationId: "ownEcho",
    requestBody: { content: { "application/json": { schema: { type: "object" } } } },
    responses: { 200: jsonResponse("The body back.", { type: "object" }), 413: problemResponse(413) },
  };
  return { basePath: "/own", router, paths: { "/own/echo": { post: operation } }, parsesOwnBody: true };
}

/** The exact problem+json contract: media type, no caching, the RFC 9457 members, nothing that leaks internals. */
function expectProblem(response: request.Response, status: number, title: string, instance: string): Record<string, unknown> {
  expect(response.status, JSON.stringify(response.body)).to.equal(status);
  expect(response.headers["content-type"]).to.equal("application/problem+json; charset=utf-8");
  expect(response.headers["cache-control"]).to.equal("no-store");
  const body = response.body as Record<string, unknown>;
  expect(body).to.include({ title, status, instance });
  expect(body.type).to.equal(`https://provena.dev/problems/${title.toLowerCase().replace(/ /g, "-")}`);
  expect(body.detail).to.be.a("string").and.not.equal("");
  expect(response.text).to.not.match(/\bat .+\.ts:\d+|node_modules|stack/i);
  return body;
}

describe("API errors", function () {
  let t: TestApp;
  let s: Scenario;

  before(async function () {
    t = await createTestApp({ modules: [probeModule(), ownBodyModule()], bodyLimit: "1kb" });
    s = await seedScenario(t.store);
  });

  after(async function () {
    await t.store.close();
  });

  describe("when a path parameter is malformed", function () {
    it("test_getBatch_malformedId_is400ListingTheField", async function () {
      const response = await request(t.app).get("/api/v1/batches/0x1234");
      const body = expectProblem(response, 400, "Bad Request", "/api/v1/batches/0x1234");
      expect(body).to.deep.equal({
        type: "https://provena.dev/problems/bad-request",
        title: "Bad Request",
        status: 400,
        detail: "Invalid request params",
        instance: "/api/v1/batches/0x1234",
        errors: [{ in: "params", path: "batchId", message: "must be 0x followed by 64 hexadecimal digits" }],
      });
    });

    it("test_getParticipant_badChecksum_is400", async function () {
      const badChecksum = `0x${s.accounts.acme.slice(2, 10).toUpperCase()}${s.accounts.acme.slice(10)}`;
      // Only a wrong EIP-55 checksum makes a mixed-case address invalid; make sure this one is wrong.
      const { isAddress } = await import("ethers");
      expect(isAddress(badChecksum)).to.equal(false);
      const body = expectProblem(
        await request(t.app).get(`/api/v1/participants/${badChecksum}`),
        400,
        "Bad Request",
        `/api/v1/participants/${badChecksum}`,
      );
      expect(body.errors).to.deep.equal([
        { in: "params", path: "address", message: "has an invalid EIP-55 checksum (use all lower-case to skip the check)" },
      ]);
    });

    for (const path of [
      "/api/v1/participants/0xZZ",
      "/api/v1/orders/not-an-id",
      "/api/v1/transactions/0x00/events",
      "/api/v1/batches/0x12/events",
    ]) {
      it(`test_malformedId_is400_${path}`, async function () {
        const body = expectProblem(await request(t.app).get(path), 400, "Bad Request", path);
        expect(body.errors).to.have.length(1);
        expect((body.errors as { in: string }[])[0]!.in).to.equal("params");
      });
    }
    it("test_getBatch_pathNotValidPercentEncoding_is400NotLogged500", async function () {
      const path = "/api/v1/batches/%E0%A4%A";
      const before = t.logs.length;
      const body = expectProblem(await request(t.app).get(path), 400, "Bad Request", path);
      expect(body.detail).to.equal("The request path is not valid percent-encoding");
      expect(t.logs.slice(before).filter((line) => (line.level as number) >= 50)).to.deep.equal([]);
    });
  });

  describe("when a query string is malformed", function () {
    it("test_listBatches_everyBadFieldIsListed", async function () {
      const response = await request(t.app).get("/api/v1/batches?limit=0&status=lost&gtin=12345678&lot=&custodian=0x12");
      const body = expectProblem(response, 400, "Bad Request", "/api/v1/batches");
      expect(body.detail).to.equal("Invalid request query");
      const errors = body.errors as { in: string; path: string; message: string }[];
      expect(errors.map((error) => error.path)).to.have.members(["limit", "status", "gtin", "lot", "custodian"]);
      expect(errors.every((error) => error.in === "query")).to.equal(true);
      expect(errors.find((error) => error.path === "gtin")!.message).to.equal("has a wrong GS1 check digit");
      expect(errors.find((error) => error.path === "limit")!.message).to.equal("must be at least 1");
    });

    it("test_listBatches_unknownParameter_is400NotIgnored", async function () {
      const body = expectProblem(await request(t.app).get("/api/v1/batches?gtn=1234"), 400, "Bad Request", "/api/v1/batches");
      expect(JSON.stringify(body.errors)).to.contain("gtn");
    });

    it("test_listBatches_repeatedParameter_is400", async function () {
      const body = expectProblem(
        await request(t.app).get("/api/v1/batches?status=split&status=recalled"),
        400,
        "Bad Request",
        "/api/v1/batches",
      );
      expect((body.errors as { path: string }[]).map((error) => error.path)).to.deep.equal(["status"]);
    });

    it("test_listBatches_limitAbove500_is400", async function () {
      const body = expectProblem(await request(t.app).get("/api/v1/batches?limit=501"), 400, "Bad Request", "/api/v1/batches");
      expect(body.errors).to.deep.equal([{ in: "query", path: "limit", message: "must be at most 500" }]);
    });

    it("test_listEvents_invertedBlockRange_is400OnToBlock", async function () {
      const body = expectProblem(await request(t.app).get("/api/v1/events?fromBlock=10&toBlock=5"), 400, "Bad Request", "/api/v1/events");
      expect(body.errors).to.deep.equal([{ in: "query", path: "toBlock", message: "must not be below fromBlock" }]);
    });

    it("test_listEvents_negativeAndFractionalBlocks_are400", async function () {
      const body = expectProblem(await request(t.app).get("/api/v1/events?fromBlock=-1&toBlock=1.5"), 400, "Bad Request", "/api/v1/events");
      expect((body.errors as { path: string }[]).map((error) => error.path)).to.have.members(["fromBlock", "toBlock"]);
    });

    it("test_listEvents_emptyOrNonDecimalBlocks_are400NotReadAsNumbers", async function () {
      // `?toBlock=` must not turn into block 0, nor "0x10" into 16.
      for (const query of ["toBlock=", "fromBlock=%20", "fromBlock=0x10", "toBlock=1e3"]) {
        const body = expectProblem(await request(t.app).get(`/api/v1/events?${query}`), 400, "Bad Request", "/api/v1/events");
        expect(
          (body.errors as { path: string }[]).map((error) => error.path),
          query,
        ).to.deep.equal([query.split("=")[0]]);
      }
    });

    it("test_listParticipants_suspendedNotBoolean_is400", async function () {
      const body = expectProblem(
        await request(t.app).get("/api/v1/participants?suspended=maybe"),
        400,
        "Bad Request",
        "/api/v1/participants",
      );
      expect((body.errors as { path: string }[])[0]!.path).to.equal("suspended");
    });

    it("test_listOrders_unknownState_is400", async function () {
      const body = expectProblem(await request(t.app).get("/api/v1/orders?state=paid"), 400, "Bad Request", "/api/v1/orders");
      expect((body.errors as { path: string }[])[0]!.path).to.equal("state");
    });

    it("test_forgedCursor_is400", async function () {
      const forged = Buffer.from(JSON.stringify(["orders", "x", "y"])).toString("base64url");
      const response = await request(t.app).get(`/api/v1/batches?cursor=${forged}`);
      expectProblem(response, 400, "Bad Request", "/api/v1/batches");
      const garbage = await request(t.app).get("/api/v1/events?cursor=%25%25%25");
      expectProblem(garbage, 400, "Bad Request", "/api/v1/events");
    });
  });

  describe("when the resource is unknown", function () {
    const unknownId = labelBytes32("never registered");
    const unknownAddress = `0x${"ab".repeat(20)}`;
    const cases: [string, string][] = [
      [`/api/v1/batches/${unknownId}`, `No batch with id ${unknownId}`],
      [`/api/v1/batches/${unknownId}/events`, `No batch with id ${unknownId}`],
      [`/api/v1/participants/${unknownAddress}`, `No participant with address ${unknownAddress}`],
      [`/api/v1/orders/${unknownId}`, `No order with id ${unknownId}`],
    ];
    for (const [path, detail] of cases) {
      it(`test_unknown_is404_${path.split("/")[3]}${path.endsWith("events") ? "_events" : ""}`, async function () {
        // Signed in (as a stranger), so the orders route gets past its sign-in check to the lookup.
        const signedIn = request(t.app).get(path).set("Authorization", t.sessionFor(unknownAddress));
        const body = expectProblem(await signedIn, 404, "Not Found", path);
        expect(body.detail).to.equal(detail);
      });
    }

    it("test_transactionWithoutProvenaEvents_is404", async function () {
      const body = expectProblem(
        await request(t.app).get(`/api/v1/transactions/${unknownId}/events`),
        404,
        "Not Found",
        `/api/v1/transactions/${unknownId}/events`,
      );
      expect(body.detail).to.match(/^No Provena events in transaction/);
    });

    it("test_unknownRoute_is404", async function () {
      const body = expectProblem(await request(t.app).get("/api/v1/shipments?x=1"), 404, "Not Found", "/api/v1/shipments");
      expect(body.detail).to.equal("No route for GET /api/v1/shipments");
      expectProblem(await request(t.app).get("/"), 404, "Not Found", "/");
    });
  });

  describe("when the method is wrong", function () {
    it("test_postOnAReadRoute_is405WithAllow", async function () {
      const response = await request(t.app).post(`/api/v1/batches/${s.batches.root}`).send({});
      const body = expectProblem(response, 405, "Method Not Allowed", `/api/v1/batches/${s.batches.root}`);
      expect(response.headers.allow).to.equal("GET, HEAD");
      expect(body.detail).to.equal(`POST is not supported on /api/v1/batches/${s.batches.root}; use GET, HEAD`);
    });

    it("test_deleteOnAWriteRoute_is405", async function () {
      const response = await request(t.app).delete("/test/echo");
      expectProblem(response, 405, "Method Not Allowed", "/test/echo");
      expect(response.headers.allow).to.equal("POST");
    });
  });

  describe("when the body is bad", function () {
    it("test_validBody_reachesTheModule", async function () {
      const response = await request(t.app).post("/test/echo").send({ lot: "L1", quantity: 3 }).expect(200);
      expect(response.body).to.deep.equal({ lot: "L1", quantity: 3 });
    });

    it("test_malformedJson_is400", async function () {
      const response = await request(t.app).post("/test/echo").set("Content-Type", "application/json").send('{"lot": "L1",');
      const body = expectProblem(response, 400, "Bad Request", "/test/echo");
      expect(body.detail).to.equal("The request body is not valid JSON");
      expect(response.text).to.not.contain("Unexpected end");
    });

    it("test_bodyOverTheLimit_is413", async function () {
      const response = await request(t.app)
        .post("/test/echo")
        .send({ lot: "x".repeat(2_000), quantity: 1 });
      const body = expectProblem(response, 413, "Content Too Large", "/test/echo");
      expect(body).to.include({ detail: "The request body exceeds the limit of 1024 bytes", limit: 1024 });
    });

    it("test_moduleParsingItsOwnBody_getsItsOwnLimit", async function () {
      await request(t.app).post("/own/echo").send({ a: "small" }).expect(200, { a: "small" });
      // 200 bytes: under the app's 1 kB, over the module's 64 bytes.
      const response = await request(t.app)
        .post("/own/echo")
        .send({ a: "x".repeat(200) });
      const body = expectProblem(response, 413, "Content Too Large", "/own/echo");
      expect(body.limit).to.equal(64);
    });

    it("test_unsupportedCharset_is415", async function () {
      const response = await request(t.app)
        .post("/test/echo")
        .set("Content-Type", "application/json; charset=latin-9")
        .send('{"lot":"L","quantity":1}');
      expectProblem(response, 415, "Unsupported Media Type", "/test/echo");
    });

    it("test_invalidBody_is400ListingBodyFields", async function () {
      const response = await request(t.app).post("/test/echo").send({ lot: "", quantity: -1, extra: true });
      const body = expectProblem(response, 400, "Bad Request", "/test/echo");
      const errors = body.errors as { in: string; path: string }[];
      expect(errors.every((error) => error.in === "body")).to.equal(true);
      expect(errors.map((error) => error.path)).to.include.members(["lot", "quantity"]);
    });
  });

  describe("when the code fails", function () {
    for (const path of ["/test/throws", "/test/rejects"]) {
      it(`test_programmerError_is500WithoutLeak_${path.slice(6)}`, async function () {
        const response = await request(t.app)
          .get(path)
          .set("X-Request-Id", `req-${path.slice(6)}`);
        const body = expectProblem(response, 500, "Internal Server Error", path);
        expect(body).to.deep.equal({
          type: "https://provena.dev/problems/internal-server-error",
          title: "Internal Server Error",
          status: 500,
          detail: `An unexpected error occurred; quote request id req-${path.slice(6)} when reporting it`,
          instance: path,
        });
        expect(response.text).to.not.contain("hunter2");
        expect(response.text).to.not.contain("Cannot");

        // The log has what the client must not see: the message and the stack, under the request id.
        await new Promise((resolve) => setImmediate(resolve));
        const line = t.logs.find((log) => (log.req as { id?: string } | undefined)?.id === `req-${path.slice(6)}`);
        expect(line, "request log line").to.not.equal(undefined);
        expect(line!.level).to.equal(50);
        const err = line!.err as { message: string; stack: string };
        expect(err.message).to.contain("hunter2");
        expect(err.stack).to.contain("errors.test.ts");
      });
    }
  });
});
