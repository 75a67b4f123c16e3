import { expect } from "chai";
import { EventDecodeError } from "../../../backend/chain/events.ts";
import {
  BlockRangeTooLargeError,
  ChainMovedError,
  LeaseLostError,
  NonRetryableIndexerError,
  RetryableIndexerError,
  classifyError,
  isRangeTooLarge,
  recoveryFor,
} from "../../../backend/indexer/errors.ts";
import { ProjectionError } from "../../../backend/projections/event-ref.ts";
import { conflict, invalidInput, unavailable } from "../../../backend/domain/errors.ts";

/** An error shaped the way ethers v6 reports a JSON-RPC error answer. */
const rpcError = (code: number, message: string) =>
  Object.assign(new Error("could not coalesce error"), { code: "UNKNOWN_ERROR", error: { code, message } });

describe("indexer errors", function () {
  it("test_isRangeTooLarge_recognisesNodeRefusals", function () {
    for (const message of [
      "query returned more than 10000 results",
      "Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range",
      "block range is too wide",
      "exceed maximum block range: 5000",
      "eth_getLogs is limited to a 10,000 range",
      "range too large, max range: 1000",
      "too many blocks requested",
    ]) {
      expect(isRangeTooLarge(rpcError(-32000, message)), message).to.equal(true);
    }
    expect(isRangeTooLarge(rpcError(-32005, "slow down"))).to.equal(true);
    expect(isRangeTooLarge(rpcError(-32000, "header not found"))).to.equal(false);
    expect(isRangeTooLarge(new Error("connect ECONNREFUSED 127.0.0.1:8545"))).to.equal(false);
  });

  it("test_classifyError_permanentFailuresAreNonRetryable", function () {
    const log = {
      address: "0x",
      topics: [],
      data: "0x",
      blockNumber: 1,
      blockHash: "0x",
      transactionHash: "0x",
      transactionIndex: 0,
      index: 0,
    };
    for (const error of [
      new EventDecodeError("abi mismatch", log),
      new TypeError("Cannot read properties of undefined"),
      invalidInput("limit must be 1..500"),
      conflict("batches document 0x01 conflicts with a stored document on gtin_1_lot_1"),
    ]) {
      const classified = classifyError(error);
      expect(classified, error.message).to.be.instanceOf(NonRetryableIndexerError);
      expect(classified.retryable).to.equal(false);
      expect(classified.cause).to.equal(error);
    }
    expect(classifyError(unavailable("the store is not ready")).retryable, "an unavailable store may come back").to.equal(true);
    const projection = Object.create(ProjectionError.prototype) as ProjectionError;
    expect(classifyError(projection).retryable).to.equal(false);
  });

  it("test_classifyError_transientFailuresAreRetryable", function () {
    for (const error of [
      Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNREFUSED" } }),
      Object.assign(new Error("request timeout"), { code: "TIMEOUT" }),
      new Error("MongoNetworkError: connection reset"),
      rpcError(-32603, "internal error"),
    ]) {
      expect(classifyError(error), error.message).to.be.instanceOf(RetryableIndexerError);
    }
    const own = new BlockRangeTooLargeError(1, 100);
    expect(classifyError(own)).to.equal(own);
    expect(own.message).to.equal("The node refused eth_getLogs for blocks 1-100 (100 blocks)");
    expect(classifyError(new ChainMovedError("moved")).retryable).to.equal(true);
  });

  it("test_recoveryFor_eachKindOfFailure_hasItsOwnRecovery", function () {
    expect(recoveryFor(new LeaseLostError("lost")).kind).to.equal("follow");
    expect(recoveryFor(conflict("the store refuses it")).kind).to.equal("stop");
    expect(recoveryFor(new BlockRangeTooLargeError(10, 19)).kind).to.equal("shrink-range");
    expect(recoveryFor(new BlockRangeTooLargeError(10, 10)).kind, "one block cannot shrink").to.equal("back-off");
    expect(recoveryFor(unavailable("the store is not ready")).kind).to.equal("back-off");
    expect(recoveryFor(new Error("connect ECONNREFUSED 127.0.0.1:8545")).kind).to.equal("back-off");
  });
});
