/**
 * The server's own limits, enforced by Node before Express: a client sending headers over MAX_HEADER_SIZE gets a 431
 * problem naming the configured limit, and a slow-loris client trickling its headers is cut off with a 408 problem
 * after HEADERS_TIMEOUT_MS, while the server keeps answering everyone else.
 */
import { once } from "node:events";
import type { Server } from "node:http";
import { connect, type AddressInfo } from "node:net";
import { expect } from "chai";
import request from "supertest";
import { createHttpServer } from "../../../backend/api/http-server.ts";
import { createTestApp, type TestApp } from "./fixtures/test-app.ts";

async function exchange(server: Server, bytes: string, options: { trickle?: boolean } = {}): Promise<string> {
  const { port } = server.address() as AddressInfo;
  const socket = connect(port, "127.0.0.1");
  await once(socket, "connect");
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  if (options.trickle)
    socket.write(bytes); // never finished: no blank line ends the headers
  else socket.end(bytes);
  await once(socket, "close");
  return Buffer.concat(chunks).toString("utf8");
}

describe("createHttpServer", function () {
  let t: TestApp;
  let server: Server;

  before(async function () {
    t = await createTestApp();
    server = createHttpServer(t.app, { maxHeaderSize: 2_048, headersTimeoutMs: 600, requestTimeoutMs: 1_000 });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
  });

  after(async function () {
    await new Promise((resolve) => server.close(resolve));
    await t.store.close();
  });

  it("test_createHttpServer_headersOverMaxHeaderSize_is431ProblemNamingTheLimit", async function () {
    const answer = await exchange(server, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Junk: ${"b".repeat(3_000)}\r\n\r\n`);
    expect(answer).to.match(/^HTTP\/1\.1 431 /);
    expect(answer).to.include("Content-Type: application/problem+json");
    const problem = JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4)) as Record<string, unknown>;
    expect(problem).to.include({ status: 431, limit: 2_048, detail: "The request line and headers exceed 2048 bytes" });
    // Just under the limit is fine.
    await request(server).get("/healthz").set("X-Junk", "b".repeat(1_500)).expect(200);
  });

  it("test_createHttpServer_slowLorisHeaders_is408ProblemAndOthersAreServed", async function () {
    this.timeout(10_000);
    const slow = exchange(server, "GET /api/v1/batches HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n", { trickle: true });
    await request(server).get("/healthz").expect(200);
    const answer = await slow;
    expect(answer).to.match(/^HTTP\/1\.1 408 /);
    expect(answer).to.include('"title":"Request Timeout"');
  });
});
