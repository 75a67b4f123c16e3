/**
 * A read-only JSON-RPC proxy (POST /rpc): browsers verifying a passport read the chain through it when no other
 * public RPC URL is configured. Only methods that read are forwarded to the backend's provider; anything that
 * writes, signs or manages the node is refused with a JSON-RPC error. Calls and log queries are limited to the
 * deployment's contracts, so the proxy cannot be used as a free general-purpose node.
 */
import type { Request, Response } from "express";
import type { Logger } from "pino";
import { jsonBodyParser } from "../api/json-body.ts";
import { jsonResponse } from "../api/openapi.ts";
import type { RouteDefinition } from "../api/route-table.ts";

import type { ChainRpc } from "../chain/chain-access.ts";

export const READ_METHODS = new Set([
  "eth_chainId",
  "net_version",
  "eth_blockNumber",
  "eth_call",
  "eth_getLogs",
  "eth_getBlockByNumber",
  "eth_getBlockByHash",
  "eth_getTransactionByHash",
  "eth_getTransactionReceipt",
  "eth_getCode",
]);

export const MAX_BATCH_SIZE = 50;

interface JsonRpcError {
  code: number;
  message: string;
  data?: unknown;
}

type JsonRpcId = string | number | null;

export interface RpcProxyOptions {
  chain: ChainRpc;
  /** Contracts eth_call and eth_getLogs may address (lower-case). */
  allowedContracts: readonly string[];
  logger?: Pick<Logger, "warn">;
  /** Deepest nesting of a request body (config JSON_MAX_DEPTH). */
  jsonMaxDepth?: number;
}

function invokeChain(chain: ChainRpc, method: string, params: unknown[]): Promise<unknown> {
  return "send" in chain ? chain.send(method, params) : chain.request({ method, params });
}

/** The node's own JSON-RPC error, whether ethers wrapped it (`info.error`, `error`) or an EIP-1193 provider threw it. */
function upstreamError(error: unknown): JsonRpcError {
  const candidates = [(error as { info?: { error?: unknown } })?.info?.error, (error as { error?: unknown })?.error, error];
  for (const candidate of candidates) {
    const { code, message, data } = (candidate ?? {}) as { code?: unknown; message?: unknown; data?: unknown };
    if (typeof code === "number" && typeof message === "string") return { code, message, ...(data === undefined ? {} : { data }) };
  }
  // An ethers CALL_EXCEPTION carries the revert data itself.
  const revertData = (error as { data?: unknown })?.data;
  if (typeof revertData === "string" && revertData.startsWith("0x")) return { code: 3, message: "execution reverted", data: revertData };
  return { code: -32603, message: "The upstream node failed to answer" };
}

export function createRpcProxyHandler({ chain, allowedContracts, logger }: RpcProxyOptions) {
  const allowed = new Set(allowedContracts.map((a) => a.toLowerCase()));

  function checkScope(method: string, params: unknown[]): JsonRpcError | null {
    if (method === "eth_call") {
      const to = (params[0] as { to?: unknown } | undefined)?.to;
      if (typeof to !== "string" || !allowed.has(to.toLowerCase())) {
        return { code: -32602, message: "eth_call is only served for the Provena contracts of this deployment" };
      }
    }
    if (method === "eth_getLogs") {
      const address = (params[0] as { address?: unknown } | undefined)?.address;
      const addresses = (Array.isArray(address) ? address : [address]).map((a) => String(a ?? "").toLowerCase());
      if (addresses.length === 0 || addresses.some((a) => !allowed.has(a))) {
        return { code: -32602, message: "eth_getLogs needs an `address` filter naming Provena contracts of this deployment" };
      }
    }
    return null;
  }

  async function answer(request: unknown): Promise<{ jsonrpc: "2.0"; id: JsonRpcId; result?: unknown; error?: JsonRpcError }> {
    const body = request as { jsonrpc?: unknown; id?: unknown; method?: unknown; params?: unknown };
    const id: JsonRpcId = typeof body?.id === "string" || typeof body?.id === "number" ? body.id : null;
    if (typeof body !== "object" || body === null || Array.isArray(body) || body.jsonrpc !== "2.0" || typeof body.method !== "string") {
      return {
        jsonrpc: "2.0",
        id,
        error: { code: -32600, message: 'Invalid request: expected {"jsonrpc": "2.0", "method": string, "params": array, "id"}' },
      };
    }
    const method = body.method;
    if (!READ_METHODS.has(method)) {
      return {
        jsonrpc: "2.0",
        id,
        error: {
          code: -32601,
          message: `${method} is not available: this endpoint is read-only (allowed: ${[...READ_METHODS].join(", ")})`,
        },
      };
    }
    const params = body.params === undefined ? [] : body.params;
    if (!Array.isArray(params)) return { jsonrpc: "2.0", id, error: { code: -32602, message: "params must be an array" } };
    const outOfScope = checkScope(method, params);
    if (outOfScope) return { jsonrpc: "2.0", id, error: outOfScope };
    try {
      return { jsonrpc: "2.0", id, result: (await invokeChain(chain, method, params)) ?? null };
    } catch (error) {
      const rpcError = upstreamError(error);
      if (rpcError.code === -32603) logger?.warn({ err: error, method }, "RPC proxy: upstream call failed");
      return { jsonrpc: "2.0", id, error: rpcError };
    }
  }

  return async (req: Request, res: Response) => {
    res.setHeader("Cache-Control", "no-store");
    const body: unknown = req.body;
    // Express leaves the body undefined when no JSON parser accepted it (wrong or missing Content-Type).
    if (body === undefined) {
      res.status(415).json({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "Send the JSON-RPC request as application/json" } });
      return;
    }
    if (Array.isArray(body)) {
      if (body.length === 0 || body.length > MAX_BATCH_SIZE) {
        res.json({ jsonrpc: "2.0", id: null, error: { code: -32600, message: `A batch holds 1 to ${MAX_BATCH_SIZE} requests` } });
        return;
      }
      res.json(await Promise.all(body.map(answer)));
      return;
    }
    res.json(await answer(body));
  };
}

/** POST /rpc with its OpenAPI operation; a JSON-RPC request (or batch of 50) fits in 64 kB. */
export function rpcProxyRoute(options: RpcProxyOptions): RouteDefinition {
  return {
    method: "post",
    path: "/rpc",
    operation: {
      operationId: "readOnlyJsonRpc",
      tags: ["Passports"],
      summary: "Read-only JSON-RPC proxy",
      description:
        "Forwards eth_chainId, net_version, eth_blockNumber, eth_call, eth_getLogs, eth_getBlockByNumber, eth_getBlockByHash, " +
        "eth_getTransactionByHash, eth_getTransactionReceipt and eth_getCode to the backend's node (single or batched, up to 50). " +
        "eth_call and eth_getLogs must address the deployment's contracts. Every other method gets JSON-RPC error -32601.",
      requestBody: {
        required: true,
        content: { "application/json": { schema: { oneOf: [{ type: "object" }, { type: "array", items: { type: "object" } }] } } },
      },
      responses: {
        200: jsonResponse("JSON-RPC response (or array of responses); errors are JSON-RPC error objects.", {
          oneOf: [{ type: "object" }, { type: "array" }],
        }),
      },
    },
    middleware: [jsonBodyParser({ limit: "64kb", ...(options.jsonMaxDepth === undefined ? {} : { maxDepth: options.jsonMaxDepth }) })],
    handler: createRpcProxyHandler(options),
  };
}
