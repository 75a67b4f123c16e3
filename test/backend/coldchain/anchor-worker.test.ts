import { expect } from "chai";
import * as ethers from "ethers";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { createAnchorWorker, anchorJobId, type AnchorWorker } from "../../../backend/coldchain/anchor-worker.ts";
import { createReadingProofs } from "../../../backend/coldchain/anchor-proofs.ts";
import { verifyReadingProof } from "../../../backend/coldchain/anchor-tree.ts";
import { createDeviceSigner, type DeviceSigner } from "../../../backend/coldchain/device-signer.ts";
import { readingDomain, readingHash } from "../../../backend/coldchain/reading-codec.ts";
import type { ChainAccess } from "../../../backend/chain/chain-access.ts";
import type { ColdChain } from "../../../backend/chain/contracts.ts";
import type { StoredReading } from "../../../backend/domain/cold-chain.ts";
import type { Hex } from "../../../backend/domain/model.ts";
import { createIndexer, type Indexer } from "../../../backend/indexer/index.ts";
import { checkReadingAnchors, standardTreeRoot, type ListedLeg } from "../../../backend/passport/assets/reading-anchors.js";
import { sayInEnglish } from "../../../backend/passport/verify-url.ts";
import { registerBatch } from "../../helpers/batches.ts";
import { glnFrom } from "../../helpers/gs1.ts";
import { createRelayerFixture, silentLogger, type RelayerFixture } from "../relayer/relayer-fixture.ts";

const DEVICE_KEY = "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba";
const WINDOW_SECONDS = 300;
const SHIPPING = 0;
const RECEIVING = 1;

describe("cold chain anchorer", function () {
  let fx: RelayerFixture;
  let indexer: Indexer;
  let coldChain: ColdChain;
  let chain: ChainAccess;
  let carrier: HardhatEthersSigner;
  let device: DeviceSigner;
  let legId: Hex;
  let batchId: Hex;
  let attachedAt: number;
  const anchorers: AnchorWorker[] = [];

  beforeEach(async function () {
    fx = await createRelayerFixture();
    const { registry, forwarder, admin, manufacturer } = fx.deployment;
    carrier = fx.deployment.carrier;
    coldChain = (await fx.ethers.deployContract("ColdChain", [
      await registry.getAddress(),
      await forwarder.getAddress(),
      admin.address,
      0,
    ])) as unknown as ColdChain;
    const coldChainAddress = (await coldChain.getAddress()).toLowerCase() as Hex;
    await (await coldChain.connect(admin).grantRole(await coldChain.ANCHORER_ROLE(), fx.relayerWallet.address)).wait();
    chain = { ...fx.chain, addresses: { ...fx.chain.addresses, coldChain: coldChainAddress } };

    const batch = await registerBatch(registry, manufacturer, { lot: "CHILLED-1" });
    batchId = batch.batchId.toLowerCase() as Hex;
    await (await registry.connect(manufacturer).proposeHandoff(batchId, carrier.address, glnFrom("841234500001"), SHIPPING)).wait();
    await (await registry.connect(carrier).acceptHandoff(batchId, glnFrom("841234500001"), RECEIVING)).wait();
    device = createDeviceSigner(DEVICE_KEY, readingDomain(chain.chainId, coldChainAddress));
    await (await coldChain.connect(carrier).registerDevice(device.address, carrier.address)).wait();
    const attach = await (await coldChain.connect(carrier).attachDevice(device.address, batchId)).wait();
    const attached = coldChain.interface.parseLog(attach!.logs.at(-1)!)!;
    legId = String(attached.args.legId).toLowerCase() as Hex;
    attachedAt = Number(attached.args.attachedAt);

    indexer = createIndexer({
      provider: fx.provider,
      deployment: { chainId: chain.chainId, ...chain.addresses, deployBlock: 0 },
      store: fx.store,
      config: { confirmations: 0, indexerBlockRange: 1_000, indexerPollMs: 20, leaseTtlMs: 5_000, instanceId: "anchor-test" },
      logger: silentLogger,
    });
    indexer.start();
  });

  afterEach(async function () {
    for (const anchorer of anchorers.splice(0)) await anchorer.stop();
    await indexer.stop();
    await fx.store.close();
    await fx.connection.close();
  });

  const mirrorCaughtUp = async () => indexer.waitForBlock(await fx.provider.getBlockNumber(), { timeoutMs: 10_000 });

  function anchorer(): AnchorWorker {
    const worker = createAnchorWorker({
      store: fx.store,
      chain,
      relayerAddress: fx.relayerWallet.address.toLowerCase() as Hex,
      logger: silentLogger,
      windowMs: WINDOW_SECONDS * 1_000,
    });
    anchorers.push(worker);
    return worker;
  }

  /** `count` readings a minute apart from `from` seconds after the attachment, stored as the ingest stores them. */
  async function storeReadings(count: number, from = 0): Promise<StoredReading[]> {
    const readings = Array.from({ length: count }, (_, index) => ({
      ...device.sign({ batchId, timestamp: attachedAt + from + index * 60, temperature: 450 + index }),
      legId,
      receivedAt: Date.now(),
    }));
    await fx.store.storeReadings(readings, []);
    return readings;
  }

  async function sendQueuedJobs(jobIds: string[]): Promise<void> {
    const relayer = fx.worker();
    for (let i = 0; i < 6 && !(await allMined(jobIds)); i++) await relayer.tick();
    expect(await allMined(jobIds)).to.equal(true);
    await mirrorCaughtUp();
  }

  async function allMined(jobIds: string[]): Promise<boolean> {
    const jobs = await Promise.all(jobIds.map((id) => fx.store.getRelay(id)));
    return jobs.every((job) => job?.status === "mined");
  }

  it("test_tick_anchorsALegsReadings_oneRootPerClosedWindow_andEachReadingProvesAgainstTheRootOnChain", async function () {
    const readings = await storeReadings(8); // minutes 0..7: windows [0, 5) and [5, 8)
    await fx.networkHelpers.time.increase(3_600);
    await mirrorCaughtUp();

    const first = await anchorer().tick();
    expect(first.queued.map(({ count, jobId }) => ({ count, jobId }))).to.deep.equal([
      { count: 5, jobId: anchorJobId(chain.chainId, legId, 0) },
    ]);
    await sendQueuedJobs([first.queued[0]!.jobId]);
    expect(await coldChain.anchorCursor(legId, fx.relayerWallet.address)).to.deep.equal([6n, BigInt(attachedAt + 240)]);

    const second = await anchorer().tick();
    expect(second.queued.map(({ count }) => count)).to.deep.equal([3]);
    await sendQueuedJobs([second.queued[0]!.jobId]);
    expect((await anchorer().tick()).queued).to.deep.equal([]); // everything is anchored

    // The roots the chain logged are the ones the proofs use.
    const logged = await coldChain.queryFilter(coldChain.filters.ReadingsAnchored(legId));
    expect(
      logged.map((log) => [log.args.root, Number(log.args.count), Number(log.args.firstSequence), Number(log.args.lastSequence)]),
    ).to.deep.equal([
      [first.queued[0]!.root, 5, 1, 5],
      [second.queued[0]!.root, 3, 6, 8],
    ]);
    const proofs = createReadingProofs(fx.store);
    for (const reading of readings) {
      const proved = await proofs.readingProof(legId, reading.sequence);
      const rootOnChain = logged[reading.sequence <= 5 ? 0 : 1]!.args.root as Hex;
      expect(proved.anchor.root).to.equal(rootOnChain);
      expect(proved.anchor.transactionHash).to.equal(logged[reading.sequence <= 5 ? 0 : 1]!.transactionHash.toLowerCase());
      // The leaf value is what the contract hashes (hashReading), and the proof holds under OpenZeppelin's rule.
      expect(proved.readingHash).to.equal(await coldChain.hashReading(reading));
      expect(verifyReadingProof(rootOnChain, reading, proved.proof)).to.equal(true);
      const tampered = { ...reading, temperature: reading.temperature + 1 };
      expect(verifyReadingProof(rootOnChain, tampered, proved.proof)).to.equal(false);
    }
    const listed = await proofs.withAnchors(await fx.store.listReadings({ legId }, { limit: 10 }));
    expect(listed.items.map((item) => item.anchor?.root)).to.deep.equal([
      ...Array(5).fill(first.queued[0]!.root),
      ...Array(3).fill(second.queued[0]!.root),
    ]);

    // The passport's in-browser check, run here without a browser: the listed readings rebuild the roots on chain.
    const rpc = (method: string, params: unknown[]) => fx.connection.provider.request({ method, params });
    const check = (legs: ListedLeg[], batchIds: string[] = [batchId]) =>
      checkReadingAnchors({
        ethers,
        rpc,
        coldChain: chain.addresses.coldChain!,
        registry: chain.addresses.registry,
        batchIds,
        legs,
      });
    const leg = (items = listed.items): ListedLeg => ({ legId, readings: items, complete: true });
    expect(await check([leg()])).to.deep.equal({ readings: 8, roots: 2, unanchored: 0, failures: [], partial: false });
    const tampered = listed.items.map((item) => (item.sequence === 7 ? { ...item, temperature: item.temperature - 300 } : item));
    const failed = await check([leg(tampered)]);
    expect(failed).to.deep.include({ readings: 5, roots: 1 });
    expect(failed.failures).to.have.length(1);
    expect(sayInEnglish(failed.failures[0]!)).to.include(`do not rebuild it`).and.include(second.queued[0]!.root);
    const hidden = await check([leg(listed.items.filter((item) => item.sequence !== 2))]);
    expect(sayInEnglish(hidden.failures[0]!)).to.include("commits 5 readings").and.include("4 are shown");
    const otherBatch = await check([leg()], [ethers.id("another lot")]);
    expect(sayInEnglish(otherBatch.failures[0]!)).to.include("not on this product");
  });

  it("test_standardTreeRoot_isOpenZeppelinsRoot", function () {
    const values = [1, 2, 3, 4, 5].map((n) => ethers.id(`value ${n}`));
    for (let count = 1; count <= values.length; count++) {
      const expected = StandardMerkleTree.of(
        values.slice(0, count).map((value) => [value]),
        ["bytes32"],
      ).root;
      expect(standardTreeRoot(ethers, values.slice(0, count))).to.equal(expected);
    }
  });

  it("test_tick_openWindow_waits_andADetachedLeg_isAnchoredAtOnce", async function () {
    await storeReadings(3);
    await fx.networkHelpers.time.increase(150); // the window [0, 300) is still open
    await mirrorCaughtUp();
    expect((await anchorer().tick()).queued).to.deep.equal([]);
    await (await coldChain.connect(carrier).detachDevice(device.address)).wait();
    await mirrorCaughtUp();
    const worker = anchorer();
    const round = await worker.tick();
    expect(round.queued.map(({ count }) => count)).to.deep.equal([3]);
    await sendQueuedJobs([round.queued[0]!.jobId]);
    expect((await coldChain.anchorCursor(legId, fx.relayerWallet.address))[0]).to.equal(4n);
    // Settled: the next round finds nothing to anchor, and the rounds after it skip the leg.
    expect(await worker.tick()).to.deep.equal({ checked: 1, queued: [] });
    expect(await worker.tick()).to.deep.equal({ checked: 0, queued: [] });
  });

  it("test_tick_repeatedOrByAnotherAnchorer_queuesOneJobPerCursor", async function () {
    await storeReadings(4);
    await fx.networkHelpers.time.increase(3_600);
    await mirrorCaughtUp();
    const round = await anchorer().tick();
    expect(round.queued).to.have.length(1);
    // The same anchorer again, and a second instance, before the relayer sent anything: nothing new.
    expect((await anchorer().tick()).queued).to.deep.equal([]);
    expect((await anchorer().tick()).queued).to.deep.equal([]);
    const jobs = await fx.store.listRelays(["queued", "submitted", "mined", "failed"], 100);
    expect(jobs.filter((job) => job.kind === "anchor").map((job) => job.id)).to.deep.equal([round.queued[0]!.jobId]);
    await sendQueuedJobs([round.queued[0]!.jobId]);
    expect((await coldChain.anchorCursor(legId, fx.relayerWallet.address))[0]).to.equal(5n);
  });

  it("test_tick_failedJob_isPlannedAgainAndRequeued_untilItsAttemptsAreSpent", async function () {
    await storeReadings(2);
    await fx.networkHelpers.time.increase(3_600);
    await mirrorCaughtUp();
    const [queued] = (await anchorer().tick()).queued;
    const fail = (attempts: number) =>
      fx.store.updateRelay(queued!.jobId, "queued", { status: "failed", attempts, error: "lost a race", updatedAt: Date.now() });
    expect(await fail(1)).to.equal(true);
    await storeReadings(1, 120); // a third reading arrived meanwhile: the window is planned again with it
    const again = await anchorer().tick();
    expect(again.queued.map(({ jobId, count }) => ({ jobId, count }))).to.deep.equal([{ jobId: queued!.jobId, count: 3 }]);
    expect(await fx.store.getRelay(queued!.jobId)).to.include({ status: "queued", error: null });
    expect(await fail(3)).to.equal(true);
    expect((await anchorer().tick()).queued).to.deep.equal([]);
  });

  it("test_tick_carrierAnchoredJunkFirst_doesNotBlockTheBackend_andProvesNothing", async function () {
    const readings = await storeReadings(4);
    await fx.networkHelpers.time.increase(3_600);
    const now = await fx.networkHelpers.time.latest();
    // The carrier commits a junk root over every sequence there could ever be and the whole leg so far.
    const junk = fx.ethers.id("junk") as Hex;
    await (await coldChain.connect(carrier).anchorReadings(legId, junk, 1, 0, 2n ** 63n, attachedAt, now)).wait();
    await mirrorCaughtUp();

    const round = await anchorer().tick();
    expect(round.queued.map(({ count }) => count)).to.deep.equal([4]);
    await sendQueuedJobs([round.queued[0]!.jobId]);
    const proofs = createReadingProofs(fx.store);
    const proved = await proofs.readingProof(legId, readings[2]!.sequence);
    expect(proved.anchor.root).to.equal(round.queued[0]!.root);
    expect(proved.anchor.root).to.not.equal(junk);
    const listed = await proofs.withAnchors(await fx.store.listReadings({ legId }, { limit: 10 }));
    expect(listed.items.every((item) => item.anchor?.root === round.queued[0]!.root)).to.equal(true);
    expect(readingHash(readings[2]!)).to.equal(proved.readingHash);
  });
});
