/**
 * The indexer's hot path to the chain: logs and block headers as plain lower-case data, read with raw JSON-RPC
 * (headers in one batched request) instead of through ethers' Log and Block objects, whose formatting
 * (checksummed addresses, per-field normalisation) cost more than the store writes did.
 *
 * `indexerChainReaderOf` picks the fastest path a provider allows: the fetch-based client of json-rpc-client.ts
 * for an ethers JsonRpcProvider over http(s); the provider's own `send` for other JSON-RPC providers (WebSocket,
 * Hardhat's in-process EIP-1193 network); and the plain ChainReader methods for anything else.
 */
import { AbstractProvider, JsonRpcApiProvider, JsonRpcProvider, type Log } from "ethers";
import type { Hex } from "../domain/model.ts";
import type { ChainReader } from "./chain-access.ts";
import type { RawLog } from "./events.ts";
import { createJsonRpcClient, type JsonRpcCall, type JsonRpcClient } from "./json-rpc-client.ts";

export interface ChainLog extends RawLog {
  /** The node withdrew the log (a reorg between its lookups). */
  removed: boolean;
}

export interface BlockHeader {
  number: number;
  hash: Hex;
  parentHash: Hex;
  timestamp: number;
}

export interface IndexerChainReader {
  getLogs(filter: { address: readonly Hex[]; fromBlock: number; toBlock: number }): Promise<ChainLog[]>;
  /** Headers in the order asked, null where the node has no such block (yet, or any more). */
  getHeaders(blockNumbers: readonly number[]): Promise<(BlockHeader | null)[]>;
}

/** Raw JSON-RPC: one call, or several (in one request where the transport can). */
export type JsonRpcTransport = Pick<JsonRpcClient, "request" | "batch">;

/** The node's answer did not have the shape JSON-RPC specifies for the method. */
export class MalformedRpcAnswerError extends Error {
  constructor(method: string, detail: string) {
    super(`The node's answer to ${method} is malformed: ${detail}`);
    this.name = "MalformedRpcAnswerError";
  }
}

export function indexerChainReaderOf(provider: ChainReader): IndexerChainReader {
  // The raw paths bypass getLogs and getBlock; a wrapper that overrides them (a test double) is read through them.
  if (!readsAsEthers(provider)) return chainReaderOfProvider(provider);
  if (provider instanceof JsonRpcProvider) {
    const connection = provider._getConnection();
    if (/^https?:/i.test(connection.url)) {
      return createJsonRpcChainReader(createJsonRpcClient({ url: connection.url, timeoutMs: connection.timeout }));
    }
  }
  if (provider instanceof JsonRpcApiProvider) {
    return createJsonRpcChainReader({
      request: (method, params) => provider.send(method, [...params]),
      batch: (calls: readonly JsonRpcCall[]) => Promise.all(calls.map((call) => provider.send(call.method, [...call.params]))),
    });
  }
  return chainReaderOfProvider(provider);
}

function readsAsEthers(provider: ChainReader): boolean {
  return provider.getLogs === AbstractProvider.prototype.getLogs && provider.getBlock === AbstractProvider.prototype.getBlock;
}

export function createJsonRpcChainReader(rpc: JsonRpcTransport): IndexerChainReader {
  return {
    async getLogs({ address, fromBlock, toBlock }) {
      const answer = await rpc.request("eth_getLogs", [{ address, fromBlock: quantity(fromBlock), toBlock: quantity(toBlock) }]);
      if (!Array.isArray(answer)) throw new MalformedRpcAnswerError("eth_getLogs", "not an array");
      return answer.map((log) => logOfJson(log));
    },
    async getHeaders(blockNumbers) {
      if (blockNumbers.length === 0) return [];
      const calls = blockNumbers.map((number) => ({ method: "eth_getBlockByNumber", params: [quantity(number), false] }));
      const answers = await rpc.batch(calls);
      return answers.map((answer, index) => headerOfJson(answer, blockNumbers[index]!));
    },
  };
}

/** For a ChainReader that is not a JSON-RPC provider (a test double, a custom provider). */
export function chainReaderOfProvider(provider: ChainReader): IndexerChainReader {
  return {
    async getLogs({ address, fromBlock, toBlock }) {
      const logs: Log[] = await provider.getLogs({ address: [...address], fromBlock, toBlock });
      return logs.map((log) => ({
        address: log.address.toLowerCase(),
        topics: log.topics.map((topic) => topic.toLowerCase()),
        data: log.data.toLowerCase(),
        blockNumber: log.blockNumber,
        blockHash: log.blockHash.toLowerCase(),
        transactionHash: log.transactionHash.toLowerCase(),
        transactionIndex: log.transactionIndex,
        index: log.index,
        removed: log.removed,
      }));
    },
    async getHeaders(blockNumbers) {
      return Promise.all(
        blockNumbers.map(async (number) => {
          const block = await provider.getBlock(number);
          if (block === null || block.hash === null) return null;
          return {
            number: block.number,
            hash: block.hash.toLowerCase() as Hex,
            parentHash: block.parentHash.toLowerCase() as Hex,
            timestamp: block.timestamp,
          };
        }),
      );
    },
  };
}

const quantity = (value: number): string => `0x${value.toString(16)}`;

function hexQuantity(method: string, field: string, value: unknown): number {
  if (typeof value !== "string" || !/^0x[0-9a-f]{1,13}$/i.test(value)) {
    throw new MalformedRpcAnswerError(method, `${field} is ${JSON.stringify(value)}, not a hex quantity`);
  }
  return Number.parseInt(value.slice(2), 16);
}

function hexString(method: string, field: string, value: unknown, bytes?: number): string {
  if (typeof value !== "string" || !/^0x[0-9a-f]*$/i.test(value) || value.length % 2 !== 0) {
    throw new MalformedRpcAnswerError(method, `${field} is ${JSON.stringify(value)?.slice(0, 80)}, not hex data`);
  }
  if (bytes !== undefined && value.length !== 2 + 2 * bytes) {
    throw new MalformedRpcAnswerError(method, `${field} is ${JSON.stringify(value)}, not ${bytes} bytes`);
  }
  return value.toLowerCase();
}

function logOfJson(raw: unknown): ChainLog {
  const method = "eth_getLogs";
  if (raw === null || typeof raw !== "object") throw new MalformedRpcAnswerError(method, "a log is not an object");
  const log = raw as Record<string, unknown>;
  if (!Array.isArray(log.topics)) throw new MalformedRpcAnswerError(method, "a log has no topics array");
  return {
    address: hexString(method, "address", log.address, 20),
    topics: log.topics.map((topic) => hexString(method, "topic", topic, 32)),
    data: hexString(method, "data", log.data),
    blockNumber: hexQuantity(method, "blockNumber", log.blockNumber),
    blockHash: hexString(method, "blockHash", log.blockHash, 32),
    transactionHash: hexString(method, "transactionHash", log.transactionHash, 32),
    transactionIndex: hexQuantity(method, "transactionIndex", log.transactionIndex),
    index: hexQuantity(method, "logIndex", log.logIndex),
    removed: log.removed === true,
  };
}

function headerOfJson(raw: unknown, expected: number): BlockHeader | null {
  const method = `eth_getBlockByNumber(${expected})`;
  if (raw === null || raw === undefined) return null;
  if (typeof raw !== "object") throw new MalformedRpcAnswerError(method, "the block is not an object");
  const block = raw as Record<string, unknown>;
  // A pending block has no hash yet.
  if (block.hash === null || block.hash === undefined) return null;
  const number = hexQuantity(method, "number", block.number);
  if (number !== expected) throw new MalformedRpcAnswerError(method, `it returned block ${number}`);
  return {
    number,
    hash: hexString(method, "hash", block.hash, 32) as Hex,
    parentHash: hexString(method, "parentHash", block.parentHash, 32) as Hex,
    timestamp: hexQuantity(method, "timestamp", block.timestamp),
  };
}
