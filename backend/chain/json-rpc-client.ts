/**
 * A small JSON-RPC 2.0 client over HTTP for the indexer's read path: one `fetch` per request or batch, the body
 * parsed by the runtime's native JSON.parse (ethers' JsonRpcProvider decodes every response to UTF-8 in
 * JavaScript, which dominated a backfill), batched requests, a timeout that covers the whole body, a cap on the
 * response size, and retries of transport failures. Only for idempotent reads: a retried call may run twice.
 * Signing and contract calls stay on ethers.
 */
import { redactUrl } from "../config.ts";

export interface JsonRpcCall {
  method: string;
  params: readonly unknown[];
}

/** The node answered the call with a JSON-RPC error object (the call itself failed; retrying will not help). */
export class JsonRpcError extends Error {
  readonly code: number;
  readonly data: unknown;
  readonly method: string;

  constructor(method: string, error: { code?: unknown; message?: unknown; data?: unknown }) {
    const code = typeof error.code === "number" ? error.code : 0;
    super(`${method} failed: ${typeof error.message === "string" ? error.message : "unknown error"} (JSON-RPC error ${code})`);
    this.name = "JsonRpcError";
    this.code = code;
    this.data = error.data;
    this.method = method;
  }
}

/** The request did not get a usable answer: the node is unreachable, slow, answered non-JSON or too much. */
export class JsonRpcTransportError extends Error {
  readonly url: string;
  /** Worth trying again later (network, timeout, HTTP 429/5xx); false for answers that will not change. */
  readonly transient: boolean;

  constructor(url: string, reason: string, transient: boolean, options?: { cause?: unknown }) {
    super(`JSON-RPC request to ${redactUrl(url)} failed: ${reason}`, options);
    this.name = "JsonRpcTransportError";
    this.url = url;
    this.transient = transient;
  }
}

export interface JsonRpcClient {
  readonly url: string;
  request(method: string, params: readonly unknown[]): Promise<unknown>;
  /** Results in the order of `calls`; throws JsonRpcError for the first call the node answered with an error. */
  batch(calls: readonly JsonRpcCall[]): Promise<unknown[]>;
}

export interface CreateJsonRpcClientParameters {
  url: string;
  /** Per attempt, from sending the request to the end of the body. */
  timeoutMs?: number;
  /** Attempts after the first for transient failures. */
  retries?: number;
  /** Pause before the first retry; doubles each time. */
  retryDelayMs?: number;
  /** Bodies larger than this are refused ("response size exceeded", which the indexer answers with a smaller range). */
  maxResponseBytes?: number;
  /** Calls per HTTP request; hosted nodes cap batches (often at 100 to 1,000). */
  maxBatchSize?: number;
  /** Batch chunks in flight at once. */
  batchConcurrency?: number;
}

export const DEFAULT_MAX_RESPONSE_BYTES = 128 * 1024 * 1024;

interface JsonRpcResponse {
  id?: unknown;
  result?: unknown;
  error?: { code?: unknown; message?: unknown; data?: unknown };
}

export function createJsonRpcClient({
  url,
  timeoutMs = 10_000,
  retries = 2,
  retryDelayMs = 100,
  maxResponseBytes = DEFAULT_MAX_RESPONSE_BYTES,
  maxBatchSize = 100,
  batchConcurrency = 4,
}: CreateJsonRpcClientParameters): JsonRpcClient {
  const { endpoint, headers } = endpointOf(url);
  let nextId = 1;
  /** Set once the node answers a batch with a single object: it does not take batches, so calls go one by one. */
  let batchesRefused = false;

  async function post(body: string, what: string): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await postOnce(body, what);
      } catch (error) {
        if (!(error instanceof JsonRpcTransportError) || !error.transient || attempt >= retries) throw error;
        await new Promise((resolve) => setTimeout(resolve, retryDelayMs * 2 ** attempt));
      }
    }
  }

  async function postOnce(body: string, what: string): Promise<unknown> {
    const signal = AbortSignal.timeout(timeoutMs);
    let response: Response;
    try {
      response = await fetch(endpoint, { method: "POST", headers, body, signal });
    } catch (error) {
      throw new JsonRpcTransportError(url, `${what}: ${describeFetchFailure(error, timeoutMs)}`, true, { cause: error });
    }
    let text: string;
    try {
      text = await readBody(response, maxResponseBytes);
    } catch (error) {
      if (error instanceof ResponseTooLargeError) {
        throw new JsonRpcTransportError(url, `${what}: response size exceeded ${maxResponseBytes} bytes`, false);
      }
      throw new JsonRpcTransportError(url, `${what}: ${describeFetchFailure(error, timeoutMs)} while reading the answer`, true, {
        cause: error,
      });
    }
    if (!response.ok) {
      // Nodes answer some JSON-RPC errors with HTTP 4xx and a JSON body (geth: 413/400); keep the body when it is one.
      const parsed = tryParse(text);
      if (parsed !== undefined && response.status < 500 && response.status !== 429) return parsed;
      const transient = response.status === 429 || response.status >= 500;
      throw new JsonRpcTransportError(url, `${what}: HTTP ${response.status} ${snippet(text)}`.trim(), transient);
    }
    const parsed = tryParse(text);
    if (parsed === undefined) {
      // A proxy's error page in front of the node is usually brief; a node that answers non-JSON will again.
      throw new JsonRpcTransportError(url, `${what}: the answer is not JSON (is this a JSON-RPC endpoint?): ${snippet(text)}`, true);
    }
    return parsed;
  }

  async function request(method: string, params: readonly unknown[]): Promise<unknown> {
    const id = nextId++;
    const answer = (await post(JSON.stringify({ jsonrpc: "2.0", id, method, params }), method)) as JsonRpcResponse;
    return resultOf(method, answer);
  }

  function resultOf(method: string, answer: JsonRpcResponse | undefined): unknown {
    if (answer === null || typeof answer !== "object" || Array.isArray(answer)) {
      throw new JsonRpcTransportError(url, `${method}: the answer is not a JSON-RPC response object`, false);
    }
    if (answer.error !== undefined && answer.error !== null) throw new JsonRpcError(method, answer.error);
    if (!("result" in answer)) throw new JsonRpcTransportError(url, `${method}: the answer has neither result nor error`, false);
    return answer.result;
  }

  async function batchChunk(calls: readonly JsonRpcCall[]): Promise<unknown[]> {
    if (batchesRefused || calls.length === 1) return Promise.all(calls.map((call) => request(call.method, call.params)));
    const firstId = nextId;
    nextId += calls.length;
    const body = JSON.stringify(
      calls.map((call, index) => ({ jsonrpc: "2.0", id: firstId + index, method: call.method, params: call.params })),
    );
    const what = `batch of ${calls.length} (${calls[0]!.method}${calls.length > 1 ? ", ..." : ""})`;
    const answer = await post(body, what);
    if (!Array.isArray(answer)) {
      const single = answer as JsonRpcResponse;
      if (single?.error !== undefined) {
        // The node rejected the batch as a whole (some do not take batches at all): fall back to single calls.
        batchesRefused = true;
        return Promise.all(calls.map((call) => request(call.method, call.params)));
      }
      throw new JsonRpcTransportError(url, `${what}: the answer to a batch is not an array`, false);
    }
    const byId = new Map<unknown, JsonRpcResponse>();
    for (const element of answer as JsonRpcResponse[]) {
      if (element !== null && typeof element === "object") byId.set(element.id, element);
    }
    return calls.map((call, index) => {
      const element = byId.get(firstId + index);
      if (element === undefined) {
        throw new JsonRpcTransportError(url, `${what}: the answer lacks call ${index} (${call.method})`, true);
      }
      return resultOf(`${call.method} (call ${index} of the batch)`, element);
    });
  }

  return {
    url,
    request,
    async batch(calls) {
      const chunks: JsonRpcCall[][] = [];
      for (let start = 0; start < calls.length; start += maxBatchSize) chunks.push(calls.slice(start, start + maxBatchSize));
      const results: unknown[][] = new Array(chunks.length);
      let next = 0;
      const worker = async () => {
        while (next < chunks.length) {
          const index = next++;
          results[index] = await batchChunk(chunks[index]!);
        }
      };
      await Promise.all(Array.from({ length: Math.min(batchConcurrency, chunks.length) }, worker));
      return results.flat();
    },
  };
}

class ResponseTooLargeError extends Error {}

/** fetch refuses URLs with credentials in them; send those as HTTP basic authentication instead. */
function endpointOf(url: string): { endpoint: string; headers: Record<string, string> } {
  const headers: Record<string, string> = { "content-type": "application/json" };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { endpoint: url, headers };
  }
  if (parsed.username === "" && parsed.password === "") return { endpoint: url, headers };
  const credentials = `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`;
  headers.authorization = `Basic ${Buffer.from(credentials).toString("base64")}`;
  parsed.username = "";
  parsed.password = "";
  return { endpoint: parsed.toString(), headers };
}

/** Reads the body as UTF-8 text, refusing it past `limit` bytes (by Content-Length when given, else as it streams). */
async function readBody(response: Response, limit: number): Promise<string> {
  const declared = Number(response.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > limit) {
    await response.body?.cancel().catch(() => undefined);
    throw new ResponseTooLargeError();
  }
  if (response.body === null) return "";
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => undefined);
      throw new ResponseTooLargeError();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total).toString("utf8");
}

function tryParse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > 120 ? `${JSON.stringify(flat.slice(0, 120))}...` : JSON.stringify(flat);
}

function describeFetchFailure(error: unknown, timeoutMs: number): string {
  const err = error as Error & { cause?: { code?: string; message?: string } };
  if (err.name === "TimeoutError" || err.name === "AbortError") return `no complete answer within ${timeoutMs} ms (TIMEOUT)`;
  const cause = err.cause;
  if (cause?.code !== undefined) return `${cause.code}${cause.message ? ` (${cause.message})` : ""}`;
  return cause?.message ?? err.message;
}
