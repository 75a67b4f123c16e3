/**
 * The transformation recall flagger recalls every output made from a recalled input, once.
 *
 * Who could abuse what: the flag is permissionless on chain, so the risk is the flagger's own failure modes - not
 * flagging (an output of a recalled input keeps selling), flagging twice (relayer gas burnt on reverts, or a job
 * storm across instances), or flagging a pair whose input is clean (the contract refuses it; the flagger must not
 * queue it).
 */
import { expect } from "chai";
import { ZeroHash } from "ethers";
import { createIndexer, type Indexer } from "../../../backend/indexer/index.ts";
import {
  createInputRecallFlagger,
  recallFlagInputJobId,
  type InputRecallFlagger,
} from "../../../backend/transformations/recall-flagger.ts";
import type { Hex } from "../../../backend/domain/model.ts";
import type { Transformations } from "../../../types/ethers-contracts/index.ts";
import { DEMO_DC_GLN, DEMO_PORT_GLN, deployTransformations } from "../../../scripts/fixtures/provena-deployment.ts";
import { registerBatch } from "../../helpers/batches.ts";
import { createRelayerFixture, silentLogger, type RelayerFixture } from "../relayer/relayer-fixture.ts";

const SHIPPING = 0;
const RECALLED_STATUS = 5n;
const RECIPE = `0x${"5e".repeat(32)}`;

describe("transformation recall flagger", function () {
  let fx: RelayerFixture;
  let indexer: Indexer;
  let transformations: Transformations;

  beforeEach(async function () {
    fx = await createRelayerFixture();
    transformations = await deployTransformations(fx.ethers, fx.deployment);
    fx.chain.addresses.transformations = (await transformations.getAddress()).toLowerCase() as Hex;
    indexer = createIndexer({
      provider: fx.provider,
      deployment: { chainId: fx.chain.chainId, ...fx.chain.addresses, deployBlock: 0 },
      store: fx.store,
      config: { confirmations: 0, indexerBlockRange: 1_000, indexerPollMs: 20, leaseTtlMs: 5_000, instanceId: "input-flagger-test" },
      logger: silentLogger,
    });
    indexer.start();
  });

  afterEach(async function () {
    await indexer.stop();
    await fx.store.close();
    await fx.connection.close();
  });

  async function mirrorCaughtUp(): Promise<void> {
    await indexer.waitForBlock(await fx.provider.getBlockNumber(), { timeoutMs: 10_000 });
  }

  function flagger(holder = "flagger-1"): InputRecallFlagger {
    const created = createInputRecallFlagger({
      store: fx.store,
      chain: fx.chain,
      relayerAddress: fx.relayerWallet.address.toLowerCase() as Hex,
      logger: silentLogger.child({ holder }),
    });
    if (created === null) throw new Error("the deployment has transformations");
    return created;
  }

  it("test_inputRecallFlagger_deploymentWithoutTransformations_hasNoFlagger", function () {
    const { transformations: _omitted, ...addresses } = fx.chain.addresses;
    const created = createInputRecallFlagger({
      store: fx.store,
      chain: { ...fx.chain, addresses },
      relayerAddress: fx.relayerWallet.address.toLowerCase() as Hex,
      logger: silentLogger,
    });
    expect(created).to.equal(null);
  });

  it("test_inputRecallFlagger_recalledInput_queuesOneJob_andTheRelayerRecallsTheOutput", async function () {
    const { registry, manufacturer } = fx.deployment;
    const transformationsAddress = await transformations.getAddress();
    const recalledInput = await registerBatch(registry, manufacturer, { lot: "LOT-TF-IN-1", quantity: 10n });
    const cleanInput = await registerBatch(registry, manufacturer, { lot: "LOT-TF-IN-2", quantity: 10n });
    const output = await registerBatch(registry, manufacturer, { lot: "LOT-TF-OUT", quantity: 5n });
    const inputs = [recalledInput.batchId, cleanInput.batchId];
    for (const inputId of inputs) {
      await (await registry.connect(manufacturer).proposeHandoff(inputId, transformationsAddress, DEMO_PORT_GLN, SHIPPING)).wait();
    }
    await (await transformations.connect(manufacturer).transform(inputs, [output.batchId], DEMO_DC_GLN, RECIPE)).wait();

    // Nothing recalled yet: nothing to flag.
    await mirrorCaughtUp();
    expect(await flagger().tick()).to.deep.equal({ checked: 2, queued: [] });

    await (await registry.connect(manufacturer).recallBatch(recalledInput.batchId, ZeroHash)).wait();
    // Until the flag lands, the output is not recalled: exactly the gap the flagger closes.
    expect((await registry.batchStatus(output.batchId))[0]).to.not.equal(RECALLED_STATUS);
    await mirrorCaughtUp();
    const outputId = output.batchId.toLowerCase() as Hex;
    const inputId = recalledInput.batchId.toLowerCase() as Hex;
    const jobId = recallFlagInputJobId(fx.chain.chainId, outputId, inputId);
    expect((await flagger().tick()).queued).to.deep.equal([{ outputId, inputId, jobId }]);
    // Another round, and another instance, find the job already there.
    expect((await flagger().tick()).queued).to.deep.equal([]);
    expect((await flagger("flagger-2").tick()).queued).to.deep.equal([]);

    const worker = fx.worker();
    for (let i = 0; i < 5 && (await fx.store.getRelay(jobId))?.status !== "mined"; i++) await worker.tick();
    expect(await fx.store.getRelay(jobId)).to.include({ status: "mined", kind: "recall-flag-input", error: null });
    expect((await registry.batchStatus(output.batchId))[0]).to.equal(RECALLED_STATUS);

    // The output is recalled: a later round queues nothing, and the clean input's pair was never queued.
    await mirrorCaughtUp();
    expect(await flagger().tick()).to.deep.equal({ checked: 2, queued: [] });
    expect(await fx.store.getRelay(recallFlagInputJobId(fx.chain.chainId, outputId, cleanInput.batchId.toLowerCase() as Hex))).to.equal(
      null,
    );
    expect(await fx.store.listRelays(["queued", "submitted", "failed"], 10)).to.have.length(0);
  });
});
