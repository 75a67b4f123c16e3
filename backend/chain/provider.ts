/**
 * Providers for the chain the backend follows. `connectProvider` probes the endpoint first, so an unreachable
 * or misconfigured RPC_URL fails within the configured timeout with one clear line, instead of ethers
 * retrying network detection forever.
 */
import {
  BrowserProvider,
  FetchRequest,
  JsonRpcProvider,
  Network,
  WebSocketProvider,
  type AbstractProvider,
  type Eip1193Provider,
  type JsonRpcApiProviderOptions,
} from "ethers";
import { redactUrl } from "../config.ts";

/** The endpoint did not answer eth_chainId in time, or answered nonsense. */
export class RpcUnreachableError extends Error {
  readonly url: string;

  constructor(url: string, reason: string, options?: { cause?: unknown }) {
    super(`Cannot reach the JSON-RPC endpoint at ${redactUrl(url)}: ${reason}`, options);
    this.name = "RpcUnreachableError";
    this.url = url;
  }
}

/** The endpoint serves another chain than the one the deployment (or the operator) expects. */
export class ChainMismatchError extends Error {
  constructor(url: string, expected: number, actual: number) {
    super(`The JSON-RPC endpoint at ${redactUrl(url)} serves chain ${actual}, expected chain ${expected}`);
    this.name = "ChainMismatchError";
  }
}

export interface ConnectProviderParameters {
  rpcUrl: string;
  /** Start-up probe and per-request timeout, milliseconds. */
  timeoutMs?: number;
  /** Fail when the endpoint serves another chain. */
  expectedChainId?: number;
  /** How often ethers polls for new blocks when something subscribes (the indexer polls on its own). */
  pollingIntervalMs?: number;
}

export interface ConnectedProvider {
  provider: JsonRpcProvider | WebSocketProvider;
  chainId: number;
}

/** Connects to an http(s) or ws(s) JSON-RPC endpoint, failing fast with RpcUnreachableError. */
export async function connectProvider({
  rpcUrl,
  timeoutMs = 5_000,
  expectedChainId,
  pollingIntervalMs = 1_000,
}: ConnectProviderParameters): Promise<ConnectedProvider> {
  const protocol = safeProtocol(rpcUrl);
  let connected: ConnectedProvider;
  if (protocol === "http:" || protocol === "https:") {
    const chainId = await probeHttpChainId(rpcUrl, timeoutMs);
    const request = new FetchRequest(rpcUrl);
    request.timeout = timeoutMs;
    const provider = new JsonRpcProvider(request, Network.from(chainId), rpcProviderOptions(pollingIntervalMs));
    connected = { provider, chainId };
  } else if (protocol === "ws:" || protocol === "wss:") {
    connected = await connectWebSocket(rpcUrl, timeoutMs, pollingIntervalMs);
  } else {
    throw new RpcUnreachableError(rpcUrl, "not an http(s) or ws(s) URL");
  }
  if (expectedChainId !== undefined && connected.chainId !== expectedChainId) {
    await connected.provider.destroy();
    throw new ChainMismatchError(rpcUrl, expectedChainId, connected.chainId);
  }
  return connected;
}

/**
 * Wraps an EIP-1193 provider (Hardhat's in-process network connection) as an ethers provider with a fixed
 * network, for the zero-setup mode where no RPC_URL is configured.
 */
export async function providerFromEip1193(
  eip1193: Eip1193Provider,
  pollingIntervalMs = 1_000,
): Promise<{ provider: AbstractProvider; chainId: number }> {
  const chainId = Number(BigInt((await eip1193.request({ method: "eth_chainId", params: [] })) as string));
  const provider = new BrowserProvider(eip1193, Network.from(chainId), rpcProviderOptions(pollingIntervalMs));
  return { provider, chainId };
}

/**
 * Options for every provider the indexer reads through: a fixed network (no chain-id round trip per call),
 * no response cache (ethers reuses identical answers for 250 ms by default, which would hide a reorg from the
 * hash checks) and no batching delay (it adds to the live lag).
 */
export function rpcProviderOptions(pollingIntervalMs = 1_000): JsonRpcApiProviderOptions {
  return { staticNetwork: true, cacheTimeout: -1, batchStallTime: 0, pollingInterval: pollingIntervalMs };
}

async function probeHttpChainId(rpcUrl: string, timeoutMs: number): Promise<number> {
  let response: Response;
  try {
    response = await fetch(rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new RpcUnreachableError(rpcUrl, describeFetchError(error, timeoutMs), { cause: error });
  }
  if (!response.ok) {
    throw new RpcUnreachableError(rpcUrl, `HTTP ${response.status} ${response.statusText}`.trim());
  }
  let body: { result?: unknown; error?: { message?: string } };
  try {
    body = (await response.json()) as typeof body;
  } catch (error) {
    throw new RpcUnreachableError(rpcUrl, "the answer to eth_chainId is not JSON (is this a JSON-RPC endpoint?)", { cause: error });
  }
  return parseChainId(rpcUrl, body);
}

function parseChainId(rpcUrl: string, body: { result?: unknown; error?: { message?: string } }): number {
  if (body.error !== undefined) throw new RpcUnreachableError(rpcUrl, `eth_chainId failed: ${body.error.message ?? "unknown error"}`);
  if (typeof body.result !== "string" || !/^0x[0-9a-f]+$/i.test(body.result)) {
    throw new RpcUnreachableError(rpcUrl, `eth_chainId returned ${JSON.stringify(body.result)}, not a hex quantity`);
  }
  return Number(BigInt(body.result));
}

async function connectWebSocket(rpcUrl: string, timeoutMs: number, pollingIntervalMs: number): Promise<ConnectedProvider> {
  const provider = new WebSocketProvider(rpcUrl, undefined, { ...rpcProviderOptions(pollingIntervalMs), staticNetwork: false });
  let timer: NodeJS.Timeout | undefined;
  try {
    const chainIdHex = await Promise.race([
      provider.send("eth_chainId", []) as Promise<string>,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { provider, chainId: parseChainId(rpcUrl, { result: chainIdHex }) };
  } catch (error) {
    await provider.destroy().catch(() => undefined);
    if (error instanceof RpcUnreachableError) throw error;
    throw new RpcUnreachableError(rpcUrl, (error as Error).message, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}

function describeFetchError(error: unknown, timeoutMs: number): string {
  const err = error as Error & { cause?: { code?: string; message?: string } };
  if (err.name === "TimeoutError" || err.name === "AbortError") return `no answer within ${timeoutMs} ms`;
  const cause = err.cause;
  if (cause?.code !== undefined) return `${cause.code}${cause.message ? ` (${cause.message})` : ""}`;
  return cause?.message ?? err.message;
}

function safeProtocol(url: string): string | null {
  try {
    return new URL(url).protocol;
  } catch {
    return null;
  }
}
