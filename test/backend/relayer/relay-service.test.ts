import { expect } from "chai";
import { firstFreeNonce } from "../../../backend/relayer/acceptance-checks.ts";
import { createKeyedQueue, parseForwardRequestInput } from "../../../backend/relayer/relay-service.ts";

describe("relay service steps", function () {
  it("test_parseForwardRequestInput_lowerCasesAndTurnsNumbersIntoBigints", function () {
    const parsed = parseForwardRequestInput({
      from: "0xAB",
      to: "0xCD",
      value: 0,
      gas: "500000",
      nonce: 3,
      deadline: "1700000000",
      data: "0xEF",
      signature: "0xAA",
    });
    expect(parsed).to.deep.equal({
      from: "0xab",
      to: "0xcd",
      value: 0n,
      gas: 500_000n,
      nonce: 3n,
      deadline: 1_700_000_000,
      data: "0xef",
      signature: "0xaa",
    });
  });

  it("test_firstFreeNonce_skipsTheNoncesPendingRequestsHold", function () {
    expect(
      firstFreeNonce(
        2n,
        new Map([
          [2n, {}],
          [3n, {}],
          [5n, {}],
        ]),
      ),
    ).to.equal(4n);
    expect(firstFreeNonce(2n, new Map())).to.equal(2n);
  });

  it("test_createKeyedQueue_sameKeyRunsInTurn_otherKeysDoNotWait", async function () {
    const inTurn = createKeyedQueue();
    const events: string[] = [];
    let releaseFirst!: () => void;
    const first = inTurn("a", async () => {
      events.push("a1 start");
      await new Promise<void>((resolve) => (releaseFirst = resolve));
      events.push("a1 end");
      throw new Error("a1 failed");
    });
    const second = inTurn("a", async () => void events.push("a2"));
    await inTurn("b", async () => void events.push("b1"));
    expect(events).to.deep.equal(["a1 start", "b1"]);
    releaseFirst();
    await first.catch(() => undefined);
    await second;
    expect(events).to.deep.equal(["a1 start", "b1", "a1 end", "a2"]);
  });
});
