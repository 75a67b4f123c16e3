/**
 * The indexer's JSON-RPC transport (backend/chain/json-rpc-client.ts) and the chain reader on top of it, against a
 * scripted HTTP server on 127.0.0.1: batches, an error in one element, and answers that are not JSON, too large,
 * too slow or failing, which must end in clear errors (retried where a retry can help), never in a hang.
 */
import { expect } from "chai";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { JsonRpcError, JsonRpcTransportError, createJsonRpcClient } from "../../../backend/chain/json-rpc-client.ts";
import { MalformedRpcAnswerError, createJsonRpcChainReader } from "../../../backend/chain/json-rpc-chain-reader.ts";
import { isRangeTooLarge } from "../../../backend/indexer/errors.ts";
import { rejectionOf } from "../../helpers/rejection.ts";

interface RpcRequest {
  id: number;
  method: string;
  params: unknown[];
}

type Handler = (body: RpcRequest | RpcRequest[], request: IncomingMessage, response: ServerResponse) => void;

describe("JSON-RPC client", function () {
  let server: Server;
  let url: string;
  let handler: Handler;
  let posts: (RpcRequest | RpcRequest[])[];
  let headers: IncomingMessage["headers"][];

  before(async function () {
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as RpcRequest | RpcRequest[];
        posts.push(body);
        headers.push(request.headers);
        handler(body, request, response);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  beforeEach(function () {
    posts = [];
    headers = [];
    handler = (body, _request, response) => sendJson(response, answerEcho(body));
  });

  after(async function () {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const sendJson = (response: ServerResponse, body: unknown, status = 200) => {
    response.writeHead(status, { "content-type": "application/json" });
    response.end(JSON.stringify(body));
  };
  /** Answers every call with its method and params, as if the node echoed. */
  const answerEcho = (body: RpcRequest | RpcRequest[]) =>
    Array.isArray(body)
      ? body.map((call) => ({ jsonrpc: "2.0", id: call.id, result: `${call.method}:${JSON.stringify(call.params)}` }))
      : { jsonrpc: "2.0", id: body.id, result: `${body.method}:${JSON.stringify(body.params)}` };

  it("test_request_singleCall_returnsTheResult", async function () {
    const client = createJsonRpcClient({ url });
    expect(await client.request("eth_blockNumber", [])).to.equal("eth_blockNumber:[]");
    expect(posts).to.have.length(1);
  });

  it("test_batch_sendsOneRequest_andOrdersResultsByCall", async function () {
    handler = (body, _request, response) => sendJson(response, (answerEcho(body) as unknown[]).reverse());
    const client = createJsonRpcClient({ url });
    const results = await client.batch([1, 2, 3].map((n) => ({ method: "eth_getBlockByNumber", params: [n, false] })));
    expect(results).to.deep.equal([1, 2, 3].map((n) => `eth_getBlockByNumber:[${n},false]`));
    expect(posts).to.have.length(1);
    expect(posts[0]).to.be.an("array").with.length(3);
  });

  it("test_batch_largerThanMaxBatchSize_splitsIntoSeveralRequests", async function () {
    const client = createJsonRpcClient({ url, maxBatchSize: 100 });
    const results = await client.batch(Array.from({ length: 250 }, (_, n) => ({ method: "m", params: [n] })));
    expect(results).to.have.length(250);
    expect(results[249]).to.equal("m:[249]");
    expect(posts.map((post) => (post as RpcRequest[]).length)).to.have.members([100, 100, 50]);
  });

  it("test_batch_errorInOneElement_throwsJsonRpcErrorNamingTheCall", async function () {
    handler = (body, _request, response) => {
      const answers = answerEcho(body) as { id: number; result?: unknown; error?: unknown }[];
      answers[1] = { id: answers[1]!.id, error: { code: -32000, message: "header not found" } };
      sendJson(response, answers);
    };
    const client = createJsonRpcClient({ url });
    const error = await rejectionOf(client.batch([1, 2, 3].map((n) => ({ method: "eth_getBlockByNumber", params: [n] }))));
    expect(error).to.be.instanceOf(JsonRpcError);
    expect(error.message).to.equal("eth_getBlockByNumber (call 1 of the batch) failed: header not found (JSON-RPC error -32000)");
    expect((error as JsonRpcError).code).to.equal(-32000);
    expect(posts).to.have.length(1); // an answered error is not retried
  });

  it("test_batch_answerLacksAnElement_isTransportError", async function () {
    handler = (body, _request, response) => sendJson(response, (answerEcho(body) as unknown[]).slice(0, 1));
    const client = createJsonRpcClient({ url, retries: 0 });
    const error = await rejectionOf(
      client.batch([
        { method: "a", params: [] },
        { method: "b", params: [] },
      ]),
    );
    expect(error).to.be.instanceOf(JsonRpcTransportError);
    expect(error.message).to.match(/the answer lacks call 1 \(b\)/);
  });

  it("test_batch_nodeRefusesBatches_fallsBackToSingleCalls", async function () {
    handler = (body, _request, response) => {
      if (Array.isArray(body))
        sendJson(response, { jsonrpc: "2.0", id: null, error: { code: -32600, message: "batch requests are not supported" } });
      else sendJson(response, answerEcho(body));
    };
    const client = createJsonRpcClient({ url });
    expect(
      await client.batch([
        { method: "a", params: [] },
        { method: "b", params: [] },
      ]),
    ).to.deep.equal(["a:[]", "b:[]"]);
    expect(
      await client.batch([
        { method: "c", params: [] },
        { method: "d", params: [] },
      ]),
    ).to.deep.equal(["c:[]", "d:[]"]);
    expect(posts.filter((post) => Array.isArray(post))).to.have.length(1); // it stopped trying batches
  });

  it("test_request_nonJsonAnswer_retriesThenFailsClearly", async function () {
    handler = (_body, _request, response) => {
      response.writeHead(200, { "content-type": "text/html" });
      response.end("<html><body>Bad gateway</body></html>");
    };
    const client = createJsonRpcClient({ url, retries: 2, retryDelayMs: 1 });
    const error = await rejectionOf(client.request("eth_getLogs", [{}]));
    expect(error).to.be.instanceOf(JsonRpcTransportError);
    expect(error.message).to.match(/^JSON-RPC request to http:\/\/127\.0\.0\.1:\d+ failed: eth_getLogs: the answer is not JSON/);
    expect(error.message).to.include("Bad gateway");
    expect(posts).to.have.length(3);
  });

  it("test_request_http503ThenOk_retriesAndSucceeds", async function () {
    let calls = 0;
    handler = (body, _request, response) => {
      if (++calls === 1) {
        response.writeHead(503);
        response.end("overloaded");
      } else sendJson(response, answerEcho(body));
    };
    const client = createJsonRpcClient({ url, retryDelayMs: 1 });
    expect(await client.request("eth_chainId", [])).to.equal("eth_chainId:[]");
    expect(posts).to.have.length(2);
  });

  it("test_request_jsonErrorWithHttp400_isTheNodesError", async function () {
    handler = (body, _request, response) =>
      sendJson(
        response,
        { jsonrpc: "2.0", id: (body as RpcRequest).id, error: { code: -32005, message: "query returned more than 10000 results" } },
        400,
      );
    const client = createJsonRpcClient({ url });
    const error = await rejectionOf(client.request("eth_getLogs", [{}]));
    expect(error).to.be.instanceOf(JsonRpcError);
    expect(isRangeTooLarge(error)).to.equal(true);
  });

  describe("when the answer is too large", function () {
    it("test_request_declaredLengthOverLimit_refusedWithoutRetry_asRangeTooLarge", async function () {
      handler = (body, _request, response) =>
        sendJson(response, { jsonrpc: "2.0", id: (body as RpcRequest).id, result: "x".repeat(5_000) });
      const client = createJsonRpcClient({ url, maxResponseBytes: 1_000 });
      const error = await rejectionOf(client.request("eth_getLogs", [{}]));
      expect(error).to.be.instanceOf(JsonRpcTransportError);
      expect(error.message).to.match(/eth_getLogs: response size exceeded 1000 bytes/);
      expect(isRangeTooLarge(error)).to.equal(true);
      expect(posts).to.have.length(1);
    });

    it("test_request_streamedBodyOverLimit_refused", async function () {
      handler = (body, _request, response) => {
        response.writeHead(200, { "content-type": "application/json" }); // chunked: no Content-Length
        response.write(`{"jsonrpc":"2.0","id":${(body as RpcRequest).id},"result":"`);
        for (let chunk = 0; chunk < 10; chunk++) response.write("y".repeat(500));
        response.end(`"}`);
      };
      const client = createJsonRpcClient({ url, maxResponseBytes: 2_000 });
      const error = await rejectionOf(client.request("eth_getLogs", [{}]));
      expect(error.message).to.match(/response size exceeded 2000 bytes/);
    });
  });

  describe("when the node is slow", function () {
    it("test_request_noAnswer_timesOutRetriesAndFails", async function () {
      handler = () => undefined; // never answers
      const client = createJsonRpcClient({ url, timeoutMs: 150, retries: 1, retryDelayMs: 1 });
      const startedAt = Date.now();
      const error = await rejectionOf(client.request("eth_getLogs", [{}]));
      expect(error).to.be.instanceOf(JsonRpcTransportError);
      expect(error.message).to.match(/eth_getLogs: no complete answer within 150 ms/);
      expect((error as JsonRpcTransportError).transient).to.equal(true);
      expect(posts).to.have.length(2);
      expect(Date.now() - startedAt).to.be.below(10_000); // bounded, not a hang
    });

    it("test_request_bodyStallsMidway_timesOut", async function () {
      handler = (_body, _request, response) => {
        response.writeHead(200, { "content-type": "application/json" });
        response.write(`{"jsonrpc":"2.0","id":1,"result":"`); // and nothing more
      };
      const client = createJsonRpcClient({ url, timeoutMs: 150, retries: 0 });
      const error = await rejectionOf(client.request("eth_getLogs", [{}]));
      expect(error.message).to.match(/no complete answer within 150 ms/);
    });
  });

  it("test_request_nodeDown_failsWithTheNetworkCause", async function () {
    const down = createServer();
    await new Promise<void>((resolve) => down.listen(0, "127.0.0.1", resolve));
    const port = (down.address() as AddressInfo).port;
    await new Promise<void>((resolve) => down.close(() => resolve()));
    const client = createJsonRpcClient({ url: `http://127.0.0.1:${port}`, retries: 1, retryDelayMs: 1 });
    const error = await rejectionOf(client.request("eth_blockNumber", []));
    expect(error).to.be.instanceOf(JsonRpcTransportError);
    expect(error.message).to.match(/ECONNREFUSED/);
  });

  it("test_request_credentialsInUrl_sentAsBasicAuth", async function () {
    const withCredentials = url.replace("http://", "http://user:s3cret@");
    const client = createJsonRpcClient({ url: withCredentials });
    await client.request("eth_chainId", []);
    expect(headers[0]!.authorization).to.equal(`Basic ${Buffer.from("user:s3cret").toString("base64")}`);
  });

  describe("the chain reader over it", function () {
    const log = {
      address: "0xABCDEF0000000000000000000000000000000001",
      topics: [`0x${"AA".repeat(32)}`],
      data: "0x",
      blockNumber: "0x10",
      blockHash: `0x${"BB".repeat(32)}`,
      transactionHash: `0x${"cc".repeat(32)}`,
      transactionIndex: "0x2",
      logIndex: "0x7",
      removed: false,
    };
    const block = (number: number) => ({
      number: `0x${number.toString(16)}`,
      hash: `0x${number.toString(16).padStart(64, "0")}`,
      parentHash: `0x${(number - 1).toString(16).padStart(64, "0")}`,
      timestamp: "0x6553f100",
    });

    it("test_getLogsAndGetHeaders_parseTheAnswersLowerCased", async function () {
      handler = (body, _request, response) => {
        if (Array.isArray(body)) {
          sendJson(
            response,
            body.map((call) => ({ id: call.id, result: Number(call.params[0]) === 99 ? null : block(Number(call.params[0])) })),
          );
        } else sendJson(response, { id: body.id, result: [log] });
      };
      const reader = createJsonRpcChainReader(createJsonRpcClient({ url }));
      expect(await reader.getLogs({ address: ["0xabcdef0000000000000000000000000000000001"], fromBlock: 1, toBlock: 20 })).to.deep.equal([
        {
          address: "0xabcdef0000000000000000000000000000000001",
          topics: [`0x${"aa".repeat(32)}`],
          data: "0x",
          blockNumber: 16,
          blockHash: `0x${"bb".repeat(32)}`,
          transactionHash: `0x${"cc".repeat(32)}`,
          transactionIndex: 2,
          index: 7,
          removed: false,
        },
      ]);
      expect((posts[0] as RpcRequest).params).to.deep.equal([
        { address: ["0xabcdef0000000000000000000000000000000001"], fromBlock: "0x1", toBlock: "0x14" },
      ]);
      const headers = await reader.getHeaders([16, 99]);
      expect(headers[0]).to.deep.equal({ number: 16, hash: block(16).hash, parentHash: block(16).parentHash, timestamp: 0x6553f100 });
      expect(headers[1]).to.equal(null);
      expect(posts).to.have.length(2);
    });

    it("test_getLogs_malformedLog_throwsMalformedRpcAnswer", async function () {
      handler = (body, _request, response) =>
        sendJson(response, { id: (body as RpcRequest).id, result: [{ ...log, blockHash: "0x1234" }] });
      const reader = createJsonRpcChainReader(createJsonRpcClient({ url }));
      const error = await rejectionOf(reader.getLogs({ address: [], fromBlock: 1, toBlock: 2 }));
      expect(error).to.be.instanceOf(MalformedRpcAnswerError);
      expect(error.message).to.equal(`The node's answer to eth_getLogs is malformed: blockHash is "0x1234", not 32 bytes`);
    });

    it("test_getHeaders_wrongBlockNumber_throwsMalformedRpcAnswer", async function () {
      handler = (body, _request, response) =>
        sendJson(
          response,
          (body as RpcRequest[]).map((call) => ({ id: call.id, result: block(5) })),
        );
      const reader = createJsonRpcChainReader(createJsonRpcClient({ url }));
      const error = await rejectionOf(reader.getHeaders([6, 7]));
      expect(error).to.be.instanceOf(MalformedRpcAnswerError);
      expect(error.message).to.match(/eth_getBlockByNumber\(6\) is malformed: it returned block 5/);
    });
  });
});
