/**
 * Verifying a passport through several JSON-RPC endpoints: the same reads through each, compared. Endpoints here
 * are the passport server's /rpc proxy on Hardhat's network and small loopback JSON-RPC proxies in front of it that
 * pass everything through but lie about one thing, serve another chain, lag behind, hang, or answer nonsense.
 */
import { execFile } from "node:child_process";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import * as ethers from "ethers";
import { loadArtifact, PROJECT_ROOT } from "../../../backend/chain/artifacts.ts";
import { ENUM_VALUE_NAMES } from "../../../backend/chain/vocabulary.ts";
import { digitalLinkPath } from "../../../backend/passport/digital-link.ts";
import { englishMessageOf, inEnglish, rpcUrlsOf, verifyPassportUrl } from "../../../backend/passport/verify-url.ts";
import {
  claimsFromJsonLd,
  createJsonRpc,
  verifyPassportAcrossEndpoints,
  type PassportClaims,
  type RpcCall,
} from "../../../backend/passport/assets/verify-core.js";
import { createModule, createPassportWorld, passportTestApp, tamperBatch, type PassportWorld } from "./fixture.ts";

const run = promisify(execFile);
const { abi } = loadArtifact("ProvenanceRegistry");
const registryInterface = new ethers.Interface(abi);

/** What a proxy does with one call: pass it through (undefined), answer this result, send this raw body, or hang. */
type Rewrite = (
  method: string,
  params: unknown[],
  forward: () => Promise<unknown>,
) => Promise<{ result: unknown } | { raw: string } | "hang" | undefined>;

interface RpcProxy {
  url: string;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** A loopback JSON-RPC endpoint forwarding to `upstream`, except where `rewrite` says otherwise. */
async function startRpcProxy(upstream: string, rewrite: Rewrite): Promise<RpcProxy> {
  const upstreamRpc = createJsonRpc(upstream);
  const server: Server = createServer(async (req, res) => {
    const request = JSON.parse(await readBody(req)) as { id: number; method: string; params: unknown[] };
    try {
      const outcome = await rewrite(request.method, request.params, () => upstreamRpc(request.method, request.params));
      if (outcome === "hang") return;
      res.setHeader("content-type", "application/json");
      if (outcome !== undefined && "raw" in outcome) return void res.end(outcome.raw);
      const result = outcome === undefined ? await upstreamRpc(request.method, request.params) : outcome.result;
      res.end(JSON.stringify({ jsonrpc: "2.0", id: request.id, result }));
    } catch (error) {
      res.end(JSON.stringify({ jsonrpc: "2.0", id: request.id, error: { code: -32000, message: (error as Error).message } }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The same lie as a function, for the core verifier without HTTP. */
function lyingRpc(honest: RpcCall, rewrite: (method: string, params: unknown[], result: unknown) => unknown): RpcCall {
  return async (method, params) => rewrite(method, params, await honest(method, params));
}

/** A batch() answer with one field changed, encoded as the registry would answer it. */
function batchAnswerWith(result: unknown, field: "quantity" | "status", value: bigint): string {
  const decoded = registryInterface.decodeFunctionResult("batch", result as string).toArray();
  const index = { status: 3, quantity: 5 }[field];
  decoded[index] = value;
  return registryInterface.encodeFunctionResult("batch", decoded);
}

const selectorOf = (name: string) => registryInterface.getFunction(name)!.selector;
const isCallOf = (name: string, method: string, params: unknown[]) =>
  method === "eth_call" && String((params[0] as { data: string }).data).startsWith(selectorOf(name));

describe("passport verification through several endpoints", function () {
  this.timeout(120_000);
  let world: PassportWorld;
  let server: Server;
  let base: string;
  let serverRpc: string;
  const proxies: RpcProxy[] = [];

  before(async function () {
    world = await createPassportWorld();
    let app: ReturnType<typeof passportTestApp> | null = null;
    server = createServer((req, res) => app!(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    serverRpc = `${base}/rpc`;
    app = passportTestApp(createModule(world, { publicBaseUrl: base, publicRpcUrl: serverRpc }), { jsonBodies: true });
  });

  after(async function () {
    for (const proxy of proxies) await proxy.close();
    server?.closeAllConnections();
    if (server) await new Promise((resolve) => server.close(resolve));
  });

  async function proxy(rewrite: Rewrite): Promise<string> {
    const started = await startRpcProxy(serverRpc, rewrite);
    proxies.push(started);
    return started.url;
  }

  const unitUrl = (serial: string) => `${base}${digitalLinkPath(world.traded.gtin, world.traded.lot, serial)}`;
  const anchored = (url: string) => `${url}?chain=${world.deployment.chainId}&registry=${world.deployment.registry}`;

  async function claimsOf(url: string): Promise<PassportClaims> {
    return claimsFromJsonLd(await (await fetch(url, { headers: { accept: "application/ld+json" } })).json());
  }

  async function verifyThrough(
    claims: PassportClaims,
    endpoints: { url: string; rpc: RpcCall }[],
    extra: { minAgreeing?: number; deadlineMs?: number } = {},
  ) {
    return inEnglish(
      await verifyPassportAcrossEndpoints({
        claims,
        endpoints,
        ethers,
        abi,
        enums: ENUM_VALUE_NAMES,
        expected: { chainId: world.deployment.chainId, registry: world.deployment.registry },
        ...extra,
      }),
    );
  }

  describe("verifyPassportAcrossEndpoints", function () {
    it("test_verifyPassportAcrossEndpoints_honestEndpoints_verifiedByAll", async function () {
      const passthrough = await proxy(async () => undefined);
      const claims = await claimsOf(unitUrl("A-0001"));
      const result = await verifyThrough(claims, [
        { url: serverRpc, rpc: createJsonRpc(serverRpc) },
        { url: passthrough, rpc: createJsonRpc(passthrough) },
        { url: "in-process", rpc: createJsonRpc(serverRpc) },
      ]);
      expect(result.mismatches).to.deep.equal([]);
      expect(result).to.deep.include({ ok: true, verdict: "verified", agreeing: 3, total: 3 });
      expect(result.endpoints.map((e) => e.status)).to.deep.equal(["answered", "answered", "answered"]);
      expect(result.checked.join("\n")).to.include('serial "A-0001" is in the batch\'s on-chain serial root');
    });

    it("test_verifyPassportAcrossEndpoints_liarConfirmsPageHidingARecall_disagreementNamesBothSides", async function () {
      // A compromised server hides the recall of a lot (mirror and page) and names its own endpoint, which hides it too.
      const recalled = world.children[1]!;
      const recallTopic = registryInterface.getEvent("BatchRecalled")!.topicHash;
      const registeredStatus = 1n;
      await tamperBatch(
        world,
        recalled.batchId,
        (batch) => ({ ...batch, status: "registered", recall: null }),
        async () => {
          const claims = await claimsOf(`${base}${digitalLinkPath(world.traded.gtin, recalled.lot, "C2-1")}`);
          expect(claims.recalled).to.equal(false);
          const honest = createJsonRpc(serverRpc);
          const liar = lyingRpc(honest, (method, params, result) => {
            if (method === "eth_getLogs") return (result as { topics: string[] }[]).filter((log) => log.topics[0] !== recallTopic);
            if (isCallOf("batch", method, params)) return batchAnswerWith(result, "status", registeredStatus);
            if (isCallOf("batchStatus", method, params)) {
              const [, inspection] = registryInterface.decodeFunctionResult("batchStatus", result as string);
              return registryInterface.encodeFunctionResult("batchStatus", [registeredStatus, inspection]);
            }
            return result;
          });
          // Through the liar alone the page passes: one endpoint proves only what that endpoint says.
          const alone = await verifyThrough(claims, [{ url: "liar", rpc: liar }]);
          expect(alone.verdict, alone.mismatches.join("\n")).to.equal("verified");

          const result = await verifyThrough(claims, [
            { url: "liar", rpc: liar },
            { url: "honest", rpc: honest },
          ]);
          expect(result).to.deep.include({ ok: false, verdict: "mismatch", agreeing: 0, total: 2 });
          const short = `${recalled.batchId.slice(0, 8)}…${recalled.batchId.slice(-4)}`;
          const disagreements = result.mismatches.filter((m) => m.startsWith("The endpoints DISAGREE"));
          expect(disagreements).to.have.length(3);
          expect(disagreements).to.include.members([
            `The endpoints DISAGREE on the registry's batch(${short}) at block ${result.blockNumber}: liar say status="registered"; honest say status="recalled"`,
            `The endpoints DISAGREE on the registry's batchStatus(${short}) at block ${result.blockNumber}: liar say status="registered"; honest say status="recalled"`,
          ]);
          expect(disagreements.join("\n")).to.match(
            /: honest return (\d+) logs where liar return \d+; they differ at BatchRecalled at block \d+ \(log \d+\)$/m,
          );
          expect(result.mismatches.join("\n")).to.include("Through honest only: The registry reports this batch RECALLED");
          expect(result.checked).to.include("the registry's stored batch state (recalled) (through honest only)");
        },
      );
    });

    it("test_verifyPassportAcrossEndpoints_liarHidesRecallLog_disagreementOnLogs", async function () {
      const recalled = world.children[1]!;
      const claims = await claimsOf(`${base}${digitalLinkPath(world.traded.gtin, recalled.lot, "C2-1")}`);
      const recallTopic = registryInterface.getEvent("BatchRecalled")!.topicHash;
      const liar = lyingRpc(createJsonRpc(serverRpc), (method, _params, result) =>
        method === "eth_getLogs" ? (result as { topics: string[] }[]).filter((log) => log.topics[0] !== recallTopic) : result,
      );
      const result = await verifyThrough(claims, [
        { url: "honest", rpc: createJsonRpc(serverRpc) },
        { url: "liar", rpc: liar },
      ]);
      expect(result.verdict).to.equal("mismatch");
      expect(result.mismatches[0]).to.match(
        /^The endpoints DISAGREE on the registry's logs from block \d+ to \d+: liar return \d+ logs where honest return \d+; they differ at BatchRecalled at block \d+ \(log \d+\)$/,
      );
    });

    it("test_verifyPassportAcrossEndpoints_forkWithSameChainId_disagreementOnBlockHash", async function () {
      const claims = await claimsOf(unitUrl("A-0002"));
      const fork = lyingRpc(createJsonRpc(serverRpc), (method, _params, result) =>
        method === "eth_getBlockByNumber" && result ? { ...(result as object), hash: `0x${"f0".repeat(32)}` } : result,
      );
      const result = await verifyThrough(claims, [
        { url: "honest", rpc: createJsonRpc(serverRpc) },
        { url: "fork", rpc: fork },
      ]);
      expect(result.verdict).to.equal("mismatch");
      expect(result.mismatches.join("\n")).to.match(
        /The endpoints DISAGREE on block \d+: honest say hash 0x[0-9a-f]{64}, time .*; fork say hash 0xf0f0/,
      );
    });

    it("test_verifyPassportAcrossEndpoints_endpointOnAnotherChain_reportedAndNotCounted", async function () {
      const claims = await claimsOf(unitUrl("A-0002"));
      const otherChain = lyingRpc(createJsonRpc(serverRpc), (method, _params, result) => (method === "eth_chainId" ? "0x1" : result));
      const endpoints = [
        { url: "honest", rpc: createJsonRpc(serverRpc) },
        { url: "mainnet", rpc: otherChain },
      ];
      const result = await verifyThrough(claims, endpoints);
      expect(result).to.deep.include({ ok: true, verdict: "verified", agreeing: 1, total: 2 });
      expect(result.endpoints[1]).to.deep.include({
        status: "wrong-chain",
        chainId: 1,
        detail: `serves chain 1, not chain ${world.deployment.chainId}`,
      });
      expect(result.warnings).to.include(`Endpoint mainnet was not used: serves chain 1, not chain ${world.deployment.chainId}`);

      const strict = await verifyThrough(claims, endpoints, { minAgreeing: 2 });
      expect(strict).to.deep.include({ ok: false, verdict: "unverifiable", agreeing: 1 });
      expect(strict.mismatches).to.deep.equal([]);
      expect(strict.warnings[0]).to.equal("Only 1 endpoint answered, but you asked for at least 2");

      const onlyWrong = await verifyThrough(claims, [endpoints[1]!]);
      expect(onlyWrong).to.deep.include({ ok: false, verdict: "unverifiable", agreeing: 0, blockNumber: null });
    });

    it("test_verifyPassportAcrossEndpoints_malformedOrHangingEndpoint_failsAloneWithinDeadline", async function () {
      const claims = await claimsOf(unitUrl("A-0002"));
      const garbled = lyingRpc(createJsonRpc(serverRpc), (method, params, result) => (isCallOf("batch", method, params) ? "0xzz" : result));
      const hanging: RpcCall = (method, params) =>
        method === "eth_getLogs" ? new Promise(() => undefined) : createJsonRpc(serverRpc)(method, params);
      const started = Date.now();
      const result = await verifyThrough(
        claims,
        [
          { url: "garbled", rpc: garbled },
          { url: "honest", rpc: createJsonRpc(serverRpc) },
          { url: "hanging", rpc: hanging },
        ],
        { deadlineMs: 1_500 },
      );
      expect(Date.now() - started).to.be.lessThan(10_000);
      expect(result).to.deep.include({ ok: true, verdict: "verified", agreeing: 1, total: 3 });
      expect(result.endpoints.map((e) => [e.url, e.status])).to.deep.equal([
        ["garbled", "failed"],
        ["honest", "answered"],
        ["hanging", "failed"],
      ]);
      expect(result.endpoints[2]!.detail).to.equal("the endpoint did not finish within 1500 ms");
    });

    it("test_verifyPassportAcrossEndpoints_endpointsAtDifferentHeads_pinnedToTheLowestAndAgree", async function () {
      const claims = await claimsOf(unitUrl("A-0005"));
      const eip1193 = world.eip1193 as unknown as { request(args: { method: string; params?: unknown[] }): Promise<unknown> };
      await eip1193.request({ method: "hardhat_mine", params: ["0x3"] });
      const head = Number(await eip1193.request({ method: "eth_blockNumber" }));
      const lagging = lyingRpc(createJsonRpc(serverRpc), (method, _params, result) =>
        method === "eth_blockNumber" ? `0x${(head - 2).toString(16)}` : result,
      );
      const stale = lyingRpc(createJsonRpc(serverRpc), (method, _params, result) =>
        method === "eth_blockNumber" ? `0x${(claims.asOfBlock! - 1).toString(16)}` : result,
      );
      const result = await verifyThrough(claims, [
        { url: "ahead", rpc: createJsonRpc(serverRpc) },
        { url: "lagging", rpc: lagging },
        { url: "stale", rpc: stale },
      ]);
      expect(result.mismatches).to.deep.equal([]);
      expect(result).to.deep.include({ verdict: "verified", agreeing: 2, total: 3, head: head - 2, blockNumber: claims.asOfBlock });
      expect(result.endpoints[2]).to.deep.include({
        status: "behind",
        detail: `its head is block ${claims.asOfBlock! - 1}, older than this page (block ${claims.asOfBlock})`,
      });
    });

    it("test_verifyPassportAcrossEndpoints_sameUrlTwice_countedOnce", async function () {
      const claims = await claimsOf(unitUrl("A-0002"));
      const result = await verifyThrough(
        claims,
        [
          { url: serverRpc, rpc: createJsonRpc(serverRpc) },
          { url: serverRpc, rpc: createJsonRpc(serverRpc) },
        ],
        { minAgreeing: 2 },
      );
      expect(result).to.deep.include({ verdict: "unverifiable", agreeing: 1, total: 1 });
      expect(result.endpoints[1]).to.deep.include({ status: "duplicate" });
    });
  });

  describe("createJsonRpc", function () {
    const answer = (body: ConstructorParameters<typeof Response>[0], init: ResponseInit = {}) =>
      (async () => new Response(body, init)) as unknown as typeof fetch;

    it("test_createJsonRpc_hugeAnswer_refusedWhileReading", async function () {
      const chunk = new Uint8Array(64 * 1024).fill(0x20);
      let sent = 0;
      const endless = new ReadableStream<Uint8Array>({
        pull(controller) {
          sent += chunk.byteLength;
          controller.enqueue(chunk);
        },
      });
      const rpc = createJsonRpc("http://rpc.invalid", { fetch: answer(endless), maxBytes: 1024 * 1024 });
      await rpc("eth_blockNumber", []).then(
        () => expect.fail("expected a refusal"),
        (error: Error) =>
          expect(englishMessageOf(error)).to.equal("eth_blockNumber: the RPC endpoint's answer is larger than 1048576 bytes"),
      );
      expect(sent).to.be.lessThan(2 * 1024 * 1024);
      const declared = createJsonRpc("http://rpc.invalid", {
        fetch: answer("{}", { headers: { "content-length": "99999999" } }),
        maxBytes: 1024,
      });
      await declared("eth_chainId", []).then(
        () => expect.fail("expected a refusal"),
        (error: Error) => expect(englishMessageOf(error)).to.match(/larger than 1024 bytes/),
      );
    });

    it("test_createJsonRpc_malformedOrForeignAnswer_refused", async function () {
      for (const [body, message] of [
        ["{not json", "eth_chainId: the RPC endpoint answered with malformed JSON"],
        [
          JSON.stringify({ jsonrpc: "2.0", id: 7, result: "0x1" }),
          "eth_chainId: the RPC endpoint's answer is not a JSON-RPC 2.0 response to this request",
        ],
        [
          JSON.stringify([{ jsonrpc: "2.0", id: 1, result: "0x1" }]),
          "eth_chainId: the RPC endpoint's answer is not a JSON-RPC 2.0 response to this request",
        ],
        [JSON.stringify({ jsonrpc: "2.0", id: 1 }), "eth_chainId: the RPC endpoint's answer carries no result"],
      ] as const) {
        const rpc = createJsonRpc("http://rpc.invalid", { fetch: answer(body) });
        await rpc("eth_chainId", []).then(
          () => expect.fail(`expected a refusal of ${body}`),
          (error: Error) => expect(englishMessageOf(error)).to.equal(message),
        );
      }
    });

    it("test_createJsonRpc_hangingEndpoint_timesOut", async function () {
      const hanging = await proxy(async () => "hang");
      const started = Date.now();
      await createJsonRpc(hanging, { timeoutMs: 300 })("eth_chainId", []).then(
        () => expect.fail("expected a timeout"),
        (error: Error) => expect(englishMessageOf(error)).to.equal("eth_chainId: the RPC endpoint did not answer within 300 ms"),
      );
      expect(Date.now() - started).to.be.lessThan(5_000);
    });
  });

  describe("terminal verifiers", function () {
    const script = path.join(PROJECT_ROOT, "scripts", "verify.ts");
    const cli = path.join(PROJECT_ROOT, "scripts", "cli.ts");
    const env = { ...process.env, RPC_URL: "" };
    const exitOf = (promise: Promise<{ stdout: string }>) =>
      promise.then(
        ({ stdout }) => ({ code: 0, stdout, stderr: "" }),
        (error: { code: number; stdout: string; stderr: string }) => error,
      );

    it("test_verifyPassportUrl_severalEndpointsAndLiar_mismatchThroughEveryEntryPoint", async function () {
      const passthrough = await proxy(async () => undefined);
      const liar = await proxy(async (method, params, forward) =>
        isCallOf("batch", method, params) ? { result: batchAnswerWith(await forward(), "quantity", 500n) } : undefined,
      );
      const url = anchored(unitUrl("A-0002"));
      const both = await verifyPassportUrl({ url, rpcUrls: [serverRpc, passthrough] });
      expect(both).to.deep.include({ ok: true, verdict: "verified", agreeing: 2, total: 2, rpcSource: "caller" });
      expect(both.rpcUrls).to.deep.equal([serverRpc, passthrough]);

      const verified = await exitOf(run(process.execPath, [script, url, "--rpc", serverRpc, "--rpc", passthrough], { env }));
      expect(verified.code).to.equal(0);
      expect(verified.stdout).to.match(/✓ Verified at block \d+ by 2 of 2 endpoints/);
      const viaCli = await exitOf(
        run(process.execPath, ["--import", "tsx", cli, "--rpc", serverRpc, "--rpc", passthrough, "verify", url], { env }),
      );
      expect(viaCli.code, viaCli.stderr).to.equal(0);
      expect(viaCli.stdout).to.match(/✓ Verified at block \d+ by 2 of 2 endpoints/);

      await tamperBatch(
        world,
        world.traded.batchId,
        (batch) => ({ ...batch, quantity: "500" }),
        async () => {
          const lied = await exitOf(run(process.execPath, [script, url, "--rpc", `${liar},${serverRpc}`], { env }));
          expect(lied.code).to.equal(1);
          expect(lied.stdout).to.include(`The endpoints DISAGREE on the registry's batch(`);
          expect(lied.stdout).to.include(`${liar} say quantity="500"; ${serverRpc} say quantity="5"`);
          const viaEnv = await exitOf(
            run(process.execPath, ["--import", "tsx", cli, "verify", url, "--json"], {
              env: { ...process.env, RPC_URL: `${liar},${serverRpc}` },
            }),
          );
          expect(viaEnv.code).to.equal(1);
          const report = JSON.parse(viaEnv.stdout);
          expect(report).to.deep.include({ verdict: "mismatch", agreeing: 0, total: 2 });
        },
      );
    });

    it("test_verifyCli_tooFewEndpointsAnswer_exits2", async function () {
      const otherChain = await proxy(async (method) => (method === "eth_chainId" ? { result: "0x1" } : undefined));
      const url = anchored(unitUrl("A-0002"));
      const failed = await exitOf(
        run(process.execPath, [script, url, "--rpc", serverRpc, "--rpc", otherChain, "--min-endpoints", "2"], { env }),
      );
      expect(failed.code).to.equal(2);
      expect(failed.stdout).to.include("? NOT VERIFIED: 1 of 2 endpoints answered, at least 2 needed.");
      expect(failed.stdout).to.include(`endpoint ${otherChain} wrong-chain: serves chain 1, not chain ${world.deployment.chainId}`);
      const refused = await exitOf(run(process.execPath, [script, url, "--rpc", "ftp://node.example"], { env }));
      expect(refused.code).to.equal(2);
      expect(refused.stderr).to.include("ftp://node.example is not an http(s) URL");
      expect(rpcUrlsOf([" http://a.example/ , http://b.example/", undefined, "http://c.example/"])).to.deep.equal([
        "http://a.example/",
        "http://b.example/",
        "http://c.example/",
      ]);
    });
  });
});
