import { expect } from "chai";
import { createStore } from "../../../backend/store/index.ts";
import type { MirrorStore } from "../../../backend/store/port.ts";
import { queueBackgroundCall, type BackgroundCall } from "../../../backend/relayer/queued-request.ts";

describe("queueBackgroundCall (the keeper's, flaggers' and breach submitter's one way to queue a relayer call)", () => {
  let store: MirrorStore;
  let clock = 1_000;
  const options = { maxAttempts: 2, now: () => clock };
  const call: BackgroundCall = {
    id: "keeper:31337:0xabc:release",
    chainId: 31337,
    from: "0x00000000000000000000000000000000000000aa",
    to: "0x00000000000000000000000000000000000000bb",
    data: "0x1234",
    kind: "keeper",
  };

  beforeEach(async () => {
    store = await createStore({ sqlitePath: ":memory:" });
    clock = 1_000;
  });
  afterEach(() => store.close());

  async function failJob(attempts: number) {
    const job = await store.getRelay(call.id);
    expect(await store.updateRelay(call.id, job!.status, { status: "failed", attempts, error: "reverted", updatedAt: clock })).to.equal(
      true,
    );
  }

  it("test_queueBackgroundCall_newCall_queuesRelayerOwnJob", async () => {
    expect(await queueBackgroundCall(store, call, options)).to.equal(call.id);
    const job = await store.getRelay(call.id);
    expect(job).to.include({ status: "queued", attempts: 0, from: call.from, to: call.to, data: call.data, kind: "keeper" });
    expect(job).to.include({ value: "0", gas: "0", nonce: "0", deadline: 0, signature: "0x", createdAt: 1_000 });
  });

  it("test_queueBackgroundCall_jobPendingOrMined_changesNothing", async () => {
    await queueBackgroundCall(store, call, options);
    expect(await queueBackgroundCall(store, call, options)).to.equal(null);
    for (const status of ["submitted", "mined"] as const) {
      const job = await store.getRelay(call.id);
      await store.updateRelay(call.id, job!.status, { status });
      expect(await queueBackgroundCall(store, call, options)).to.equal(null);
      expect((await store.getRelay(call.id))!.status).to.equal(status);
    }
  });

  it("test_queueBackgroundCall_failedJob_requeuedUntilAttemptsRunOut", async () => {
    await queueBackgroundCall(store, call, options);
    await failJob(1);
    clock = 2_000;
    expect(await queueBackgroundCall(store, call, options)).to.equal(call.id);
    expect(await store.getRelay(call.id)).to.include({ status: "queued", error: null, attempts: 1, updatedAt: 2_000 });
    await failJob(2);
    expect(await queueBackgroundCall(store, call, options)).to.equal(null);
    expect(await store.getRelay(call.id)).to.include({ status: "failed", attempts: 2 });
  });
});
