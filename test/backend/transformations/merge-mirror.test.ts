/**
 * A merge on the real contracts, mirrored by the real indexer: the Transformation document carries the registry
 * quantities the chain logged, the lineage reads both ways, and a recall of an input reaches the output in the trace
 * before the contract flags it (recalledVia the input) and after (the output's own registry recall).
 */
import { expect } from "chai";
import { ZeroHash } from "ethers";
import { createIndexer, type Indexer } from "../../../backend/indexer/index.ts";
import type { Hex } from "../../../backend/domain/model.ts";
import { createTraceService } from "../../../backend/trace/trace-service.ts";
import type { Transformations } from "../../../types/ethers-contracts/index.ts";
import { DEMO_DC_GLN, DEMO_PORT_GLN, deployTransformations } from "../../../scripts/fixtures/provena-deployment.ts";
import { registerBatch } from "../../helpers/batches.ts";
import { createRelayerFixture, silentLogger, type RelayerFixture } from "../relayer/relayer-fixture.ts";

const SHIPPING = 0;
const RECIPE = `0x${"5e".repeat(32)}`;

describe("merges mirrored from the chain", function () {
  let fx: RelayerFixture;
  let indexer: Indexer;
  let transformations: Transformations;

  before(async function () {
    fx = await createRelayerFixture();
    transformations = await deployTransformations(fx.ethers, fx.deployment);
    fx.chain.addresses.transformations = (await transformations.getAddress()).toLowerCase() as Hex;
    indexer = createIndexer({
      provider: fx.provider,
      deployment: { chainId: fx.chain.chainId, ...fx.chain.addresses, deployBlock: 0 },
      store: fx.store,
      config: { confirmations: 0, indexerBlockRange: 1_000, indexerPollMs: 20, leaseTtlMs: 5_000, instanceId: "merge-mirror-test" },
      logger: silentLogger,
    });
    indexer.start();
  });

  after(async function () {
    await indexer.stop();
    await fx.store.close();
    await fx.connection.close();
  });

  const mirrorCaughtUp = async () => indexer.waitForBlock(await fx.provider.getBlockNumber(), { timeoutMs: 10_000 });

  it("test_mirror_transformationRecorded_andFlag_readBothWays_andTheRecallReachesTheOutput", async function () {
    const { registry, manufacturer } = fx.deployment;
    const transformationsAddress = await transformations.getAddress();
    const wheat = await registerBatch(registry, manufacturer, { lot: "LOT-MM-WHEAT", quantity: 40n });
    const rye = await registerBatch(registry, manufacturer, { lot: "LOT-MM-RYE", quantity: 60n });
    const flour = await registerBatch(registry, manufacturer, { lot: "LOT-MM-FLOUR", quantity: 100n });
    for (const input of [wheat, rye]) {
      await (await registry.connect(manufacturer).proposeHandoff(input.batchId, transformationsAddress, DEMO_PORT_GLN, SHIPPING)).wait();
    }
    await (
      await transformations.connect(manufacturer).transform([wheat.batchId, rye.batchId], [flour.batchId], DEMO_DC_GLN, RECIPE)
    ).wait();
    await mirrorCaughtUp();

    const [wheatId, ryeId, flourId] = [wheat, rye, flour].map((lot) => lot.batchId.toLowerCase() as Hex) as [Hex, Hex, Hex];
    const stored = (await fx.store.getTransformation("1"))!;
    expect(stored).to.deep.include({
      processor: manufacturer.address.toLowerCase(),
      locationGln: String(DEMO_DC_GLN).padStart(13, "0"),
      documentHash: RECIPE,
      inputs: [
        { batchId: wheatId, quantity: "40" },
        { batchId: ryeId, quantity: "60" },
      ],
      outputIds: [flourId],
      recallFlags: [],
    });
    expect(await fx.store.findTransformationsConsuming([ryeId])).to.deep.equal([stored]);
    expect(await fx.store.findTransformationsProducing([flourId])).to.deep.equal([stored]);

    // The input is recalled (by its manufacturer); until the contract flags the output, the trace already shows it recalled.
    await (await registry.connect(manufacturer).recallBatch(rye.batchId, ZeroHash)).wait();
    await mirrorCaughtUp();
    const trace = createTraceService({ store: fx.store });
    expect((await trace.trace(ryeId, "forward")).descendants).to.deep.equal([
      { ...(await trace.trace(flourId, "both")).lot, generation: 1 },
    ]);
    expect((await trace.trace(flourId, "back")).lot).to.deep.include({ status: "recalled", recalledVia: ryeId, producedBy: "1" });

    // Anyone flags it: the registry recalls the output with the input as reason, and the merge records the flag.
    await (await transformations.connect(fx.relayerWallet).flagRecalledInput(flour.batchId, rye.batchId)).wait();
    await mirrorCaughtUp();
    const flagged = (await fx.store.getTransformation("1"))!;
    expect(flagged.recallFlags.map((flag) => [flag.outputId, flag.inputId, flag.flaggedBy])).to.deep.equal([
      [flourId, ryeId, fx.relayerWallet.address.toLowerCase()],
    ]);
    expect((await fx.store.getBatch(flourId))!.recall).to.deep.include({ reasonHash: ryeId });
    expect((await trace.trace(flourId, "back")).lot).to.deep.include({ status: "recalled", recalledVia: flourId });
  });
});
