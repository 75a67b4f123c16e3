import { expect } from "chai";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  DeploymentFileError,
  defaultDeploymentFile,
  readDeployment,
  resolveDeploymentFile,
  writeDeployment,
  type Deployment,
} from "../../../backend/chain/deployment.ts";
import { ChainMismatchError, RpcUnreachableError, connectProvider } from "../../../backend/chain/provider.ts";

const DEPLOYMENT: Deployment = {
  chainId: 11155111,
  forwarder: "0x00000000000000000000000000000000000000f0",
  registry: "0x00000000000000000000000000000000000000a1",
  escrow: "0x00000000000000000000000000000000000000e5",
  deployBlock: 6_000_000,
};

describe("deployment file", function () {
  let dir: string;
  beforeEach(async function () {
    dir = await mkdtemp(path.join(tmpdir(), "provena-deployment-"));
  });
  afterEach(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  it("test_defaultDeploymentFile_keyedByChainId", function () {
    expect(defaultDeploymentFile(11155111)).to.match(/backend\/chain\/deployments\/11155111\.json$/);
    expect(resolveDeploymentFile(null, 1)).to.equal(defaultDeploymentFile(1));
    expect(resolveDeploymentFile("rel/d.json", 1)).to.equal(path.resolve("rel/d.json"));
  });

  it("test_writeThenRead_roundTripsAndNormalisesAddresses", async function () {
    const file = path.join(dir, "nested", "deployment.json");
    await writeDeployment(file, { ...DEPLOYMENT, registry: "0x00000000000000000000000000000000000000A1" as `0x${string}` });
    expect(await readDeployment(file, 11155111)).to.deep.equal(DEPLOYMENT);
    expect(JSON.parse(await readFile(file, "utf8"))).to.deep.equal(DEPLOYMENT);
  });

  it("test_readDeployment_missingFileIsNull", async function () {
    expect(await readDeployment(path.join(dir, "none.json"))).to.equal(null);
  });

  it("test_readDeployment_invalidFile_namesEachBadField", async function () {
    const file = path.join(dir, "bad.json");
    await writeFile(file, JSON.stringify({ chainId: "1", forwarder: "0x12", registry: DEPLOYMENT.registry, deployBlock: -1 }));
    const error = await readDeployment(file).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(error).to.be.instanceOf(DeploymentFileError);
    expect(error!.message).to.include(file);
    expect(error!.message).to.match(/chainId must be a positive integer/);
    expect(error!.message).to.match(/forwarder must be 0x followed by 40 hexadecimal digits/);
    expect(error!.message).to.match(/escrow/);
    expect(error!.message).to.match(/deployBlock/);
  });

  it("test_readDeployment_notJson", async function () {
    const file = path.join(dir, "bad.json");
    await writeFile(file, "{ nope");
    await expectRejection(readDeployment(file), DeploymentFileError, /invalid/);
  });

  it("test_readDeployment_otherChain", async function () {
    const file = path.join(dir, "d.json");
    await writeDeployment(file, DEPLOYMENT);
    await expectRejection(readDeployment(file, 1), DeploymentFileError, /is for chain 11155111, but the RPC endpoint serves chain 1/);
  });
});

describe("connectProvider", function () {
  let server: Server | undefined;
  afterEach(async function () {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  async function serve(handler: (body: string) => { status: number; body: string } | null): Promise<string> {
    server = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk) => (body += chunk));
      request.on("end", () => {
        const answer = handler(body);
        if (answer === null) return; // never answer
        response.writeHead(answer.status, { "content-type": "application/json" }).end(answer.body);
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
  }

  const jsonRpc = (body: string, result: unknown) => ({
    status: 200,
    body: JSON.stringify({ jsonrpc: "2.0", id: JSON.parse(body).id, result }),
  });

  it("test_connectProvider_refusedPort_failsFastWithOneLine", async function () {
    const url = await serve(() => null);
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
    const startedAt = Date.now();
    const error = await expectRejection(connectProvider({ rpcUrl: url, timeoutMs: 2000 }), RpcUnreachableError, /ECONNREFUSED/);
    expect(error.message).to.match(new RegExp(`^Cannot reach the JSON-RPC endpoint at ${url}: `));
    expect(error.message).to.not.include("\n");
    expect(Date.now() - startedAt).to.be.below(2000);
  });

  it("test_connectProvider_silentEndpoint_timesOut", async function () {
    const url = await serve(() => null);
    const startedAt = Date.now();
    await expectRejection(connectProvider({ rpcUrl: url, timeoutMs: 300 }), RpcUnreachableError, /no answer within 300 ms/);
    expect(Date.now() - startedAt).to.be.below(2000);
  });

  it("test_connectProvider_notJsonRpc", async function () {
    const url = await serve(() => ({ status: 404, body: "not here" }));
    await expectRejection(connectProvider({ rpcUrl: url }), RpcUnreachableError, /HTTP 404/);
  });

  it("test_connectProvider_redactsApiKeysInErrors", async function () {
    const url = await serve(() => ({ status: 500, body: "" }));
    const error = await expectRejection(
      connectProvider({ rpcUrl: `${url}/v2/abcdefghijklmnopqrstuvwxyz` }),
      RpcUnreachableError,
      /HTTP 500/,
    );
    expect(error.message).to.not.include("abcdefghijklmnopqrstuvwxyz");
  });

  it("test_connectProvider_reachable_returnsChainId", async function () {
    const url = await serve((body) => {
      const method = JSON.parse(body).method;
      return jsonRpc(body, method === "eth_chainId" ? "0x7a69" : "0x10");
    });
    const { provider, chainId } = await connectProvider({ rpcUrl: url });
    expect(chainId).to.equal(31337);
    expect(await provider.getBlockNumber()).to.equal(16);
    await provider.destroy();
  });

  it("test_connectProvider_wrongChain", async function () {
    const url = await serve((body) => jsonRpc(body, "0x1"));
    await expectRejection(
      connectProvider({ rpcUrl: url, expectedChainId: 31337 }),
      ChainMismatchError,
      /serves chain 1, expected chain 31337/,
    );
  });
});

async function expectRejection<T extends Error>(promise: Promise<unknown>, type: new (...args: never[]) => T, pattern: RegExp): Promise<T> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(type);
    expect((error as Error).message).to.match(pattern);
    return error as T;
  }
  throw new Error(`expected a ${type.name}`);
}
