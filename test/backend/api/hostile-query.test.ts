/**
 * Query strings and request heads as a scraper or fuzzer sends them. Attackers: anyone with a URL. They cannot make
 * a number mean something else ("0x10", "1e2", " 1"), slip an unknown parameter past an endpoint that would ignore
 * it, or get a bodyless answer from Node's HTTP parser: every refusal is a problem that names what was wrong.
 */
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import { connect, type AddressInfo } from "node:net";
import { expect } from "chai";
import request from "supertest";
import { answerClientErrorsAsProblems } from "../../../backend/api/client-errors.ts";
import { problemResponse } from "../../../backend/api/openapi.ts";
import { routeModuleFromTable } from "../../../backend/api/route-table.ts";
import { notFound } from "../../../backend/domain/errors.ts";
import { createTestApp, type TestApp } from "./fixtures/test-app.ts";

const PROBLEM = "application/problem+json; charset=utf-8";

/** Sends raw bytes and reads the whole response (the server closes the connection after a client error). */
async function rawExchange(server: Server, bytes: string): Promise<string> {
  const { port } = server.address() as AddressInfo;
  const socket = connect(port, "127.0.0.1");
  await once(socket, "connect");
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  socket.write(bytes);
  await once(socket, "close");
  return Buffer.concat(chunks).toString("utf8");
}

describe("hostile query strings and request heads", function () {
  let t: TestApp;

  before(async function () {
    t = await createTestApp();
  });

  after(async function () {
    await t.store.close();
  });

  it("test_pageLimit_nonDecimalForms_areRefusedNamingLimit", async function () {
    for (const limit of ["0x10", "1e2", "%20%201", "1.0", "+5", "-1", "", "０１", "Infinity", "99999999999999999"]) {
      const res = await request(t.app).get(`/api/v1/batches?limit=${limit}`);
      expect(res.status, `limit=${limit}`).to.equal(400);
      expect(res.headers["content-type"]).to.equal(PROBLEM);
      expect(res.body.errors, `limit=${limit}`).to.deep.include({ in: "query", path: "limit", message: res.body.errors[0].message });
      expect(res.body.errors.map((error: { path: string }) => error.path)).to.deep.equal(["limit"]);
    }
    await request(t.app).get("/api/v1/batches?limit=16").expect(200);
    await request(t.app).get("/api/v1/events?fromBlock=0x10").expect(400);
  });

  // One rule for every endpoint: the app's own document lists them all, so a new route cannot opt out unnoticed.
  it("test_everyGetOperation_unknownQueryParameter_is400NamingIt", async function () {
    const sample: Record<string, string> = {
      batchId: `0x${"ab".repeat(32)}`,
      orderId: `0x${"ab".repeat(32)}`,
      hash: `0x${"ab".repeat(32)}`,
      address: `0x${"cd".repeat(20)}`,
    };
    const paths = Object.entries(t.app.openApiDocument.paths).filter(([, item]) => "get" in item);
    expect(paths.length).to.be.greaterThan(8);
    for (const [template] of paths) {
      const path = template.replace(/\{(\w+)\}/g, (_match, name: string) => sample[name] ?? "x");
      const res = await request(t.app).get(`${path}?colour=red&limit=5`);
      expect(res.status, path).to.equal(400);
      expect(res.headers["content-type"], path).to.equal(PROBLEM);
      expect(res.body.errors, path).to.deep.include({ in: "query", path: "colour", message: "is not a parameter of this endpoint" });
    }
  });

  // The error middleware's own rule, whatever a module would render: a browser opening a bad link under /api (a
  // QR sheet) once got an HTML page there. The passport routes no longer offer pages under /api; this guards the rule.
  it("test_errorUnderApi_moduleOfferingAPage_isStillProblemJson", async function () {
    const pageModule = (basePath: string) =>
      routeModuleFromTable(
        basePath,
        [
          {
            method: "get",
            path: "/missing",
            operation: { operationId: `missing${basePath.replace(/\W/g, "")}`, responses: { 404: problemResponse(404) } },
            handler: () => {
              throw notFound("no such sheet");
            },
          },
        ],
        undefined,
        { renderErrorPage: () => ({ html: "<html><body>page</body></html>" }) },
      );
    const { app, store } = await createTestApp({ modules: [pageModule("/api/v1/sheets"), pageModule("/sheets")] });
    const underApi = await request(app).get("/api/v1/sheets/missing").set("Accept", "text/html");
    expect(underApi.status).to.equal(404);
    expect(underApi.headers["content-type"]).to.equal(PROBLEM);
    expect(underApi.body).to.include({ status: 404, detail: "no such sheet" });
    // Outside /api the module's page is the answer.
    const outside = await request(app).get("/sheets/missing").set("Accept", "text/html");
    expect(outside.status).to.equal(404);
    expect(outside.text).to.equal("<html><body>page</body></html>");
    await store.close();
  });

  it("test_clientError_headersOverTheLimit_is431ProblemAndServerStaysUp", async function () {
    const server = createServer(t.app);
    answerClientErrorsAsProblems(server);
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    try {
      const longUrl = await rawExchange(server, `GET /api/v1/batches?cursor=${"a".repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
      expect(longUrl).to.match(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
      expect(longUrl).to.include("Content-Type: application/problem+json");
      const body = JSON.parse(longUrl.slice(longUrl.indexOf("\r\n\r\n") + 4)) as Record<string, unknown>;
      expect(body).to.include({ status: 431, title: "Request Header Fields Too Large" });

      const longHeader = await rawExchange(server, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Junk: ${"b".repeat(20_000)}\r\n\r\n`);
      expect(longHeader).to.match(/^HTTP\/1\.1 431 /);

      const garbage = await rawExchange(server, "NOT HTTP AT ALL\r\n\r\n");
      expect(garbage).to.match(/^HTTP\/1\.1 400 Bad Request\r\n/);
      expect(garbage).to.include('"status":400');

      await request(server).get("/healthz").expect(200);
    } finally {
      server.close();
    }
  });
});
