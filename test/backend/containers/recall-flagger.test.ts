/**
 * The recall flagger flags every packed batch a recall reaches, so the containers holding it stop moving.
 *
 * Who could abuse what: the flag is permissionless on chain, so the risk is the flagger's own failure modes - not
 * flagging (a recalled lot keeps travelling in a container), flagging twice (relayer gas burnt on reverts, or a
 * job storm across instances), or flagging a clean batch (the contract refuses it; the flagger must not queue it).
 */
import { expect } from "chai";
import { ZeroHash } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { createIndexer, type Indexer } from "../../../backend/indexer/index.ts";
import {
  createRecallFlagger,
  mirrorMayShowRecall,
  recallFlagJobId,
  type RecallFlagger,
} from "../../../backend/containers/recall-flagger.ts";
import type { Hex } from "../../../backend/domain/model.ts";
import { queuedRelayRequest } from "../../../backend/relayer/queued-request.ts";
import type { LogisticUnits } from "../../../types/ethers-contracts/index.ts";
import { DEMO_DC_GLN, DEMO_PORT_GLN, deployLogisticUnits } from "../../../scripts/fixtures/provena-deployment.ts";
import { registerBatch } from "../../helpers/batches.ts";
import { ssccFrom } from "../../helpers/gs1.ts";
import { createRelayerFixture, silentLogger, type RelayerFixture } from "../relayer/relayer-fixture.ts";

const SHIPPING = 0;
/** SSCCs under the manufacturer's granted prefix 8412345. */
const sscc = (serial: number) => ssccFrom(`08412345${String(serial).padStart(9, "0")}`);

describe("recall flagger", function () {
  let fx: RelayerFixture;
  let indexer: Indexer;
  let logisticUnits: LogisticUnits;

  beforeEach(async function () {
    fx = await createRelayerFixture();
    logisticUnits = await deployLogisticUnits(fx.ethers, fx.deployment);
    fx.chain.addresses.logisticUnits = (await logisticUnits.getAddress()).toLowerCase() as Hex;
    indexer = createIndexer({
      provider: fx.provider,
      deployment: { chainId: fx.chain.chainId, ...fx.chain.addresses, deployBlock: 0 },
      store: fx.store,
      config: { confirmations: 0, indexerBlockRange: 1_000, indexerPollMs: 20, leaseTtlMs: 5_000, instanceId: "flagger-test" },
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

  function flagger(holder = "flagger-1"): RecallFlagger {
    const created = createRecallFlagger({
      store: fx.store,
      chain: fx.chain,
      relayerAddress: fx.relayerWallet.address.toLowerCase() as Hex,
      logger: silentLogger.child({ holder }),
    });
    if (created === null) throw new Error("the deployment has logistic units");
    return created;
  }

  /** `custodian` creates container `container` and packs `batchIds` into it. */
  async function packInto(custodian: HardhatEthersSigner, container: bigint, batchIds: string[]): Promise<void> {
    const unitsAddress = await logisticUnits.getAddress();
    await (await logisticUnits.connect(custodian).createContainer(container, DEMO_PORT_GLN)).wait();
    for (const batchId of batchIds) {
      await (await fx.deployment.registry.connect(custodian).proposeHandoff(batchId, unitsAddress, DEMO_PORT_GLN, SHIPPING)).wait();
    }
    await (await logisticUnits.connect(custodian).packBatches(container, batchIds, DEMO_PORT_GLN)).wait();
  }

  async function mine(jobId: string): Promise<void> {
    const worker = fx.worker();
    for (let i = 0; i < 5 && (await fx.store.getRelay(jobId))?.status !== "mined"; i++) await worker.tick();
    expect(await fx.store.getRelay(jobId)).to.include({ status: "mined", kind: "recall-flag", error: null });
  }

  it("test_recallFlagger_flagsARecalledPackedBatchAndASplitChildOfARecalledLot_once_andTheirContainersStop", async function () {
    const { registry, manufacturer, carrier } = fx.deployment;
    const recalled = await registerBatch(registry, manufacturer, { lot: "LOT-RF-1", quantity: 10n });
    const clean = await registerBatch(registry, manufacturer, { lot: "LOT-RF-2", quantity: 10n });
    const parent = await registerBatch(registry, manufacturer, { lot: "LOT-RF-P", quantity: 10n });
    await (
      await registry.connect(manufacturer).splitBatch(parent.batchId, [
        { lot: "LOT-RF-P/A", quantity: 4n, serialRoot: parent.tree.root },
        { lot: "LOT-RF-P/B", quantity: 6n, serialRoot: parent.tree.root },
      ])
    ).wait();
    const child = (await registry.batchIdOf(parent.input.gtin, "LOT-RF-P/A")).toLowerCase() as Hex;
    const [pallet, carton] = [sscc(1), sscc(2)];
    await packInto(manufacturer, pallet, [recalled.batchId, clean.batchId]);
    await packInto(manufacturer, carton, [child]);

    // Nothing is recalled yet: nothing to flag.
    await mirrorCaughtUp();
    expect(await flagger().tick()).to.deep.equal({ checked: 3, queued: [] });

    await (await registry.connect(manufacturer).recallBatch(recalled.batchId, ZeroHash)).wait();
    // Until the flag lands, the pallet can still move: exactly the gap the flagger closes.
    await logisticUnits.connect(manufacturer).proposeContainerHandoff.staticCall(pallet, carrier.address, DEMO_PORT_GLN, SHIPPING);
    await mirrorCaughtUp();
    const recalledId = recalled.batchId.toLowerCase() as Hex;
    const firstJob = recallFlagJobId(fx.chain.chainId, recalledId);
    expect((await flagger().tick()).queued).to.deep.equal([{ batchId: recalledId, sscc: pallet.toString(), jobId: firstJob }]);
    // Another round, and another instance, find the job already there.
    expect((await flagger().tick()).queued).to.deep.equal([]);
    expect((await flagger("flagger-2").tick()).queued).to.deep.equal([]);
    await mine(firstJob);
    const [packedIn, recallFlagged] = await logisticUnits.packedBatch(recalled.batchId);
    expect([packedIn, recallFlagged]).to.deep.equal([pallet, true]);
    await expect(logisticUnits.connect(manufacturer).proposeContainerHandoff(pallet, carrier.address, DEMO_PORT_GLN, SHIPPING))
      .to.be.revertedWithCustomError(logisticUnits, "ContainerHoldsRecalled")
      .withArgs(pallet, 1n);

    // A recall of the parent lot reaches its packed split child.
    await (await registry.connect(manufacturer).recallBatch(parent.batchId, ZeroHash)).wait();
    await mirrorCaughtUp();
    const childJob = recallFlagJobId(fx.chain.chainId, child);
    expect((await flagger().tick()).queued).to.deep.equal([{ batchId: child, sscc: carton.toString(), jobId: childJob }]);
    await mine(childJob);
    expect((await logisticUnits.container(carton))[4]).to.equal(1n);
    await expect(logisticUnits.connect(manufacturer).proposeContainerHandoff(carton, carrier.address, DEMO_DC_GLN, SHIPPING))
      .to.be.revertedWithCustomError(logisticUnits, "ContainerHoldsRecalled")
      .withArgs(carton, 1n);

    // Everything flagged; the clean batch was never queued; later rounds queue nothing.
    await mirrorCaughtUp();
    expect(await flagger().tick()).to.deep.equal({ checked: 3, queued: [] });
    expect(await fx.store.getRelay(recallFlagJobId(fx.chain.chainId, clean.batchId.toLowerCase() as Hex))).to.equal(null);
    expect(await fx.store.listRelays(["queued", "submitted", "failed"], 10)).to.have.length(0);
  });

  it("test_recallFlagger_unpackedRecalledBatch_isNotFlagged", async function () {
    const { registry, manufacturer } = fx.deployment;
    const lot = await registerBatch(registry, manufacturer, { lot: "LOT-RF-U", quantity: 10n });
    const box = sscc(3);
    await packInto(manufacturer, box, [lot.batchId]);
    await (await logisticUnits.connect(manufacturer).unpackBatches(box, [lot.batchId], DEMO_PORT_GLN)).wait();
    await (await registry.connect(manufacturer).recallBatch(lot.batchId, ZeroHash)).wait();
    await mirrorCaughtUp();
    // The mirror shows it unpacked, and the chain agrees: the contract would refuse the flag.
    expect(await flagger().tick()).to.deep.equal({ checked: 0, queued: [] });
    // The mirror's recall view: the recalled lot yes; a lot the mirror has not seen yet is left to the chain.
    expect(await mirrorMayShowRecall(fx.store, lot.batchId.toLowerCase() as Hex)).to.equal(true);
    expect(await mirrorMayShowRecall(fx.store, `0x${"ab".repeat(32)}`)).to.equal(true);
  });

  it("test_recallFlagger_aPartnersPendingRelayOfTheSameFlag_isNotDuplicated", async function () {
    const { registry, manufacturer } = fx.deployment;
    const lot = await registerBatch(registry, manufacturer, { lot: "LOT-RF-D", quantity: 10n });
    await packInto(manufacturer, sscc(4), [lot.batchId]);
    await (await registry.connect(manufacturer).recallBatch(lot.batchId, ZeroHash)).wait();
    await mirrorCaughtUp();
    // Someone had the same (permissionless) flag relayed; it is still queued.
    const data = logisticUnits.interface.encodeFunctionData("flagRecalledBatch", [lot.batchId]) as Hex;
    const partner = queuedRelayRequest(
      {
        id: "partner-flag",
        chainId: fx.chain.chainId,
        from: `0x${"11".repeat(20)}`,
        to: fx.chain.addresses.logisticUnits!,
        value: "0",
        gas: "200000",
        nonce: "0",
        deadline: 0,
        data,
        signature: "0x",
        kind: "partner",
      },
      Date.now(),
    );
    await fx.store.enqueueRelay(partner);
    expect((await flagger().tick()).queued).to.deep.equal([]);
    // It failed (e.g. expired): the flagger's own job takes over.
    await fx.store.updateRelay("partner-flag", "queued", { status: "failed", error: "expired", updatedAt: Date.now() });
    expect((await flagger().tick()).queued.map((job) => job.batchId)).to.deep.equal([lot.batchId.toLowerCase()]);
  });
});
