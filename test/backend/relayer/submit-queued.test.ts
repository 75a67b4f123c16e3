import { expect } from "chai";
import type { RelayRequest } from "../../../backend/domain/model.ts";
import { classifyBroadcastError } from "../../../backend/relayer/broadcast.ts";
import { queuedRelayRequest } from "../../../backend/relayer/queued-request.ts";
import { submissionOrder } from "../../../backend/relayer/submit-queued.ts";

function queued(id: string, from: string, nonce: number, createdAt: number, kind: RelayRequest["kind"] = "partner"): RelayRequest {
  const job = {
    id,
    chainId: 31337,
    from,
    to: "0x01",
    value: "0",
    gas: "1",
    nonce: String(nonce),
    deadline: 0,
    data: "0x",
    signature: "0x",
    kind,
  };
  return queuedRelayRequest(job as Parameters<typeof queuedRelayRequest>[0], createdAt);
}

describe("submitting queued requests", function () {
  it("test_submissionOrder_aSignersRequestsGoInNonceOrder_othersByArrival", function () {
    const order = submissionOrder([queued("b", "0xb", 0, 3), queued("c", "0xa", 2, 1), queued("a", "0xa", 1, 2)]);
    expect(order.map((request) => request.id)).to.deep.equal(["a", "c", "b"]);
  });

  it("test_submissionOrder_sameArrival_isOrderedById", function () {
    const order = submissionOrder([queued("y", "0xa", 0, 5, "keeper"), queued("x", "0xb", 0, 5, "keeper")]);
    expect(order.map((request) => request.id)).to.deep.equal(["x", "y"]);
  });

  it("test_classifyBroadcastError_readsTheNodesRefusal", function () {
    const refusal = (message: string, code = "SERVER_ERROR") => Object.assign(new Error(message), { shortMessage: message, code });
    expect(classifyBroadcastError(refusal("already known"))).to.equal("known");
    expect(classifyBroadcastError(refusal("nonce too low: next nonce 5"))).to.equal("nonce-too-low");
    expect(classifyBroadcastError(refusal("replacement transaction underpriced"))).to.equal("underpriced");
    expect(classifyBroadcastError(refusal("insufficient funds for gas * price + value"))).to.equal("funds");
    expect(classifyBroadcastError(refusal("intrinsic gas too low"))).to.equal("rejected");
    expect(classifyBroadcastError(refusal("invalid sender"))).to.equal("invalid-sender");
    expect(classifyBroadcastError(refusal("connection reset"))).to.equal("unknown");
  });
});
