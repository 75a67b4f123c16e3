/**
 * Gas per operation on Hardhat's in-process network (`npm run bench:gas`).
 *
 * Prints one table: each provenance operation called directly by the participant and relayed through
 * the ProvenaForwarder (the relayer pays), with the target beside it and PASS/FAIL. Figures are the
 * transaction's gasUsed, including the 21,000 base cost and calldata.
 *
 * The table is built from sections; each section deploys nothing itself but measures on the shared
 * deployment from scripts/fixtures/provena-deployment.ts. To add rows (e.g. escrow), add a section to SECTIONS.
 *
 * Every row is also compared with the committed snapshot `test/gas-snapshot.json`: a row costing more than
 * the snapshot (beyond GAS_SNAPSHOT_TOLERANCE) or missing from it fails the run. `GAS_SNAPSHOT=update npm run
 * bench:gas` rewrites the snapshot; commit it with the change that moved the figures, so the diff shows before/after.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { network } from "hardhat";
import type { HardhatEthers, HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { Wallet, ZeroHash, type ContractTransactionResponse, type Interface } from "ethers";
import { buildDesignTree, designSalt, type DesignLeaf } from "../backend/designs/design-tree.ts";
import type { Hex } from "../backend/domain/model.ts";
import { deployDesignRegistry } from "./fixtures/design-registry.ts";
import {
  deployLogisticUnits,
  deployProvena,
  deployTransformations,
  deployUnitOwnership,
  type ProvenaDeployment,
} from "./fixtures/provena-deployment.ts";
import { buildClaimTree, claimProofOf, signUnitClaim, unitTokenId } from "../backend/chain/unit-claim.ts";
import { buildSerialTree as buildFastSerialTree } from "../backend/passport/serial-tree.ts";
import { READING_TYPES } from "../backend/coldchain/reading-codec.ts";
import { signOrderConsentOn } from "../backend/chain/order-consent.ts";
import { signForwardRequest } from "../test/helpers/forwarder.ts";
import { batchIdOf, glnFrom, gtinFrom, ssccFrom } from "../test/helpers/gs1.ts";
import { buildSerialTree, makeSerials } from "../test/helpers/serials.ts";

export interface GasRow {
  operation: string;
  /** "direct" or "relayed" (through the forwarder). */
  path: "direct" | "relayed";
  gasUsed: bigint;
  /** Upper bound the operation must stay within, when it has one. */
  target?: bigint;
  /**
   * Why missing `target` is accepted (a security fix that costs gas): the row then shows "MISS (accepted)" and the
   * run does not fail for it, while the snapshot still fails it on any further regression. Reviewed in the diff.
   */
  acceptedMiss?: string;
  note?: string;
}

export interface BenchContext {
  ethers: HardhatEthers;
  deployment: ProvenaDeployment;
}

export interface BenchSection {
  title: string;
  measure(context: BenchContext): Promise<GasRow[]>;
}

/** Mines `tx` and returns its gasUsed. */
export async function gasOf(tx: Promise<ContractTransactionResponse>): Promise<bigint> {
  const receipt = await (await tx).wait();
  if (receipt === null) throw new Error("transaction was not mined");
  return receipt.gasUsed;
}

/** Relays `data` to `target` for `signer` through the forwarder; returns the relayer's gasUsed. */
export async function relayedGasOf(
  deployment: ProvenaDeployment,
  signer: HardhatEthersSigner,
  target: { getAddress(): Promise<string> },
  data: string,
): Promise<bigint> {
  const { forwarder, relayer } = deployment;
  const request = await signForwardRequest({ forwarder, signer, target: await target.getAddress(), data });
  const receipt = await (await forwarder.connect(relayer).execute(request)).wait();
  if (receipt === null) throw new Error("forwarded transaction was not mined");
  // execute() does not revert when the target call fails; ERC2771Forwarder then reverts with
  // FailedCall, so a mined receipt here means the relayed call succeeded.
  return receipt.gasUsed;
}

// ------------------------------------------------------------------------------------------------
// Provenance
// ------------------------------------------------------------------------------------------------

const PRODUCT_GTIN = gtinFrom("0841234500010"); // GTIN-14 with its check digit
const ORIGIN_GLN = glnFrom("841234500001");
const PORT_GLN = glnFrom("871234500003");
const DOCUMENT_HASH = `0x${"d0".repeat(32)}`;

const provenanceSection: BenchSection = {
  title: "Provenance",
  async measure({ ethers, deployment }) {
    const { registry, manufacturer, carrier, warehouse, inspector, customs } = deployment;
    const rows: GasRow[] = [];
    const latest = await ethers.provider.getBlock("latest");
    const productionDate = BigInt(latest!.timestamp) - 86_400n;
    let lotCounter = 0;
    const nextLot = (prefix: string) => `${prefix}-${String(++lotCounter).padStart(4, "0")}`;

    const oneUnitRoot = buildSerialTree(["SN-000001"]).root;
    const started = Date.now();
    const bigTree = buildSerialTree(makeSerials(100_000));
    const treeSeconds = ((Date.now() - started) / 1000).toFixed(1);

    const registerArgs = (lot: string, quantity: bigint, root: string): [bigint, string, bigint, bigint, bigint, string, string] => [
      PRODUCT_GTIN,
      lot,
      quantity,
      productionDate,
      ORIGIN_GLN,
      DOCUMENT_HASH,
      root,
    ];
    const register = async (lot: string, quantity = 100n, root = oneUnitRoot) => {
      await gasOf(registry.connect(manufacturer).registerBatch(...registerArgs(lot, quantity, root)));
      return batchIdOf(PRODUCT_GTIN, lot);
    };
    const calls = registry.interface;

    // Every signer's first forwarded request also initialises its forwarder nonce (+17,100 gas once);
    // warm the nonces up so the relayed rows show the steady-state cost of each operation.
    for (const signer of [manufacturer, carrier, warehouse, inspector, customs]) {
      await relayedGasOf(deployment, signer, registry, calls.encodeFunctionData("batchIdOf", [PRODUCT_GTIN, "WARMUP"]));
    }

    // Register
    rows.push({
      operation: "registerBatch, 1 unit serial",
      path: "direct",
      gasUsed: await gasOf(registry.connect(manufacturer).registerBatch(...registerArgs(nextLot("L1"), 1n, oneUnitRoot))),
      target: 100_000n,
    });
    rows.push({
      operation: "registerBatch, 100,000 unit serials",
      path: "direct",
      gasUsed: await gasOf(registry.connect(manufacturer).registerBatch(...registerArgs(nextLot("L100K"), 100_000n, bigTree.root))),
      target: 100_000n,
      note: `tree of 100,000 serials built off-chain in ${treeSeconds}s`,
    });
    rows.push({
      operation: "registerBatch, 1 unit serial",
      path: "relayed",
      gasUsed: await relayedGasOf(
        deployment,
        manufacturer,
        registry,
        calls.encodeFunctionData("registerBatch", registerArgs(nextLot("L1R"), 1n, oneUnitRoot)),
      ),
    });
    rows.push({
      operation: "registerBatch, 100,000 unit serials",
      path: "relayed",
      gasUsed: await relayedGasOf(
        deployment,
        manufacturer,
        registry,
        calls.encodeFunctionData("registerBatch", registerArgs(nextLot("L100KR"), 100_000n, bigTree.root)),
      ),
    });

    // Handoff: manufacturer -> carrier, then carrier -> warehouse (a Delivered batch)
    const direct = await register(nextLot("H"));
    rows.push({
      operation: "proposeHandoff",
      path: "direct",
      gasUsed: await gasOf(registry.connect(manufacturer).proposeHandoff(direct, carrier.address, ORIGIN_GLN, 0)),
      target: 50_000n,
    });
    rows.push({
      operation: "acceptHandoff",
      path: "direct",
      gasUsed: await gasOf(registry.connect(carrier).acceptHandoff(direct, ORIGIN_GLN, 1)),
      target: 45_000n,
    });
    await gasOf(registry.connect(carrier).proposeHandoff(direct, warehouse.address, PORT_GLN, 0));
    rows.push({
      operation: "rejectHandoff",
      path: "direct",
      gasUsed: await gasOf(registry.connect(warehouse).rejectHandoff(direct, DOCUMENT_HASH)),
    });
    await gasOf(registry.connect(carrier).proposeHandoff(direct, warehouse.address, PORT_GLN, 0));
    rows.push({
      operation: "cancelHandoff",
      path: "direct",
      gasUsed: await gasOf(registry.connect(carrier).cancelHandoff(direct)),
    });

    const relayed = await register(nextLot("HR"));
    rows.push({
      operation: "proposeHandoff",
      path: "relayed",
      gasUsed: await relayedGasOf(
        deployment,
        manufacturer,
        registry,
        calls.encodeFunctionData("proposeHandoff", [relayed, carrier.address, ORIGIN_GLN, 0]),
      ),
    });
    rows.push({
      operation: "acceptHandoff",
      path: "relayed",
      gasUsed: await relayedGasOf(deployment, carrier, registry, calls.encodeFunctionData("acceptHandoff", [relayed, ORIGIN_GLN, 1])),
    });
    await gasOf(registry.connect(carrier).proposeHandoff(relayed, warehouse.address, PORT_GLN, 0));
    rows.push({
      operation: "rejectHandoff",
      path: "relayed",
      gasUsed: await relayedGasOf(deployment, warehouse, registry, calls.encodeFunctionData("rejectHandoff", [relayed, DOCUMENT_HASH])),
    });
    await gasOf(registry.connect(carrier).proposeHandoff(relayed, warehouse.address, PORT_GLN, 0));
    rows.push({
      operation: "cancelHandoff",
      path: "relayed",
      gasUsed: await relayedGasOf(deployment, carrier, registry, calls.encodeFunctionData("cancelHandoff", [relayed])),
    });

    // Quality
    rows.push({
      operation: "attestQuality",
      path: "direct",
      gasUsed: await gasOf(registry.connect(inspector).attestQuality(direct, true, DOCUMENT_HASH)),
      target: 50_000n,
    });
    rows.push({
      operation: "attestQuality",
      path: "relayed",
      gasUsed: await relayedGasOf(
        deployment,
        inspector,
        registry,
        calls.encodeFunctionData("attestQuality", [relayed, true, DOCUMENT_HASH]),
      ),
    });

    // Split
    const children = (parentLot: string, count: number, quantityEach: bigint) =>
      Array.from({ length: count }, (_, i) => ({
        lot: `${parentLot}/${i + 1}`,
        quantity: quantityEach,
        serialRoot: oneUnitRoot, // a child carries its parent's serial root
      }));
    for (const count of [2, 10]) {
      const lot = nextLot(`S${count}`);
      const parent = await register(lot, 1_000n);
      rows.push({
        operation: `splitBatch into ${count}`,
        path: "direct",
        gasUsed: await gasOf(registry.connect(manufacturer).splitBatch(parent, children(lot, count, 1_000n / BigInt(count)))),
      });
      const lotRelayed = nextLot(`S${count}R`);
      const parentRelayed = await register(lotRelayed, 1_000n);
      rows.push({
        operation: `splitBatch into ${count}`,
        path: "relayed",
        gasUsed: await relayedGasOf(
          deployment,
          manufacturer,
          registry,
          calls.encodeFunctionData("splitBatch", [parentRelayed, children(lotRelayed, count, 1_000n / BigInt(count))]),
        ),
      });
    }

    // Recall (by a regulator: customs)
    rows.push({
      operation: "recallBatch",
      path: "direct",
      gasUsed: await gasOf(registry.connect(customs).recallBatch(await register(nextLot("R")), DOCUMENT_HASH)),
    });
    rows.push({
      operation: "recallBatch",
      path: "relayed",
      gasUsed: await relayedGasOf(
        deployment,
        customs,
        registry,
        calls.encodeFunctionData("recallBatch", [await register(nextLot("RR")), DOCUMENT_HASH]),
      ),
    });

    return rows;
  },
};

// ------------------------------------------------------------------------------------------------
// Escrow (owned by the escrow team)
// ------------------------------------------------------------------------------------------------

/** Target of the whole ETH happy path: open+fund, then release with a 3-way split. */
const ESCROW_HAPPY_PATH_TARGET = 150_000n;

const escrowSection: BenchSection = {
  title: "Escrow",
  async measure({ ethers, deployment }) {
    const { registry, escrow, manufacturer, carrier, retailer: buyer, inspector, outsider, admin } = deployment;
    if (escrow === undefined) throw new Error("TradeEscrow is not deployed: compile the contracts first");
    const rows: GasRow[] = [];
    const escrowAddress = await escrow.getAddress();
    const stablecoin = await ethers.deployContract("MockStablecoin");
    await (await stablecoin.mint(buyer.address, 10n ** 15n)).wait();
    await (await stablecoin.connect(buyer).approve(escrowAddress, ethers.MaxUint256)).wait();
    await (await escrow.connect(admin).setTokenAllowed(await stablecoin.getAddress(), true)).wait();
    const [, platformFeeBps] = await escrow.platformFee();

    const latest = await ethers.provider.getBlock("latest");
    const productionDate = BigInt(latest!.timestamp) - 86_400n;
    let lotCounter = 0;
    const newBatch = async () => {
      const lot = `ESC-${String(++lotCounter).padStart(4, "0")}`;
      await gasOf(
        registry
          .connect(manufacturer)
          .registerBatch(PRODUCT_GTIN, lot, 100n, productionDate, ORIGIN_GLN, DOCUMENT_HASH, `0x${"e5".repeat(32)}`),
      );
      return batchIdOf(PRODUCT_GTIN, lot);
    };
    const now = async () => BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
    const makeOrder = async (batchId: string, token: string, amount: bigint) => ({
      buyer: buyer.address,
      seller: manufacturer.address,
      carrier: carrier.address,
      token,
      amount,
      batchId,
      sellerBps: 10_000n - 1_000n - platformFeeBps,
      carrierBps: 1_000n,
      platformBps: platformFeeBps,
      deliveryDeadline: (await now()) + 30n * 86_400n,
      disputeWindow: 3n * 86_400n,
      inspector: ethers.ZeroAddress,
      fallbackBuyerBps: 5_000n,
      salt: ethers.id(`bench ${batchId}`),
      breachTerms: 0,
    });
    type Order = Awaited<ReturnType<typeof makeOrder>>;
    /** The seller's EIP-712 consent, signed off-chain (it costs the seller no gas). */
    const consentTo = (order: Order) => signOrderConsentOn(escrow, manufacturer, order);
    const open = async (order: Order) =>
      gasOf(
        escrow.connect(buyer).openOrder(order, await consentTo(order), { value: order.token === ethers.ZeroAddress ? order.amount : 0n }),
      );
    /** Manufacturer -> carrier -> buyer; returns the gas of the buyer's acceptance (it records the delivery). */
    const deliver = async (batchId: string) => {
      await gasOf(registry.connect(manufacturer).proposeHandoff(batchId, carrier.address, PORT_GLN, 0));
      await gasOf(registry.connect(carrier).acceptHandoff(batchId, PORT_GLN, 1));
      await gasOf(registry.connect(carrier).proposeHandoff(batchId, buyer.address, PORT_GLN, 0));
      return gasOf(registry.connect(buyer).acceptHandoff(batchId, PORT_GLN, 1));
    };
    const ETH = ethers.ZeroAddress;
    const token = await stablecoin.getAddress();

    // Happy path in ETH: open+fund, delivery (recorded by the registry's hook), release by the buyer.
    const happy = await makeOrder(await newBatch(), ETH, ethers.parseEther("1"));
    const openEth = await open(happy);
    rows.push({ operation: "openOrder + fund (ETH)", path: "direct", gasUsed: openEth });
    rows.push({
      operation: "acceptHandoff by the buyer (delivery hook)",
      path: "direct",
      gasUsed: await deliver(happy.batchId),
      note: "registry tx; records delivery in the escrow",
    });
    const releaseEth = await gasOf(escrow.connect(buyer).release(happy));
    rows.push({ operation: "release, 3-way split (ETH)", path: "direct", gasUsed: releaseEth });
    rows.push({
      operation: "happy path: open+fund + release (ETH)",
      path: "direct",
      gasUsed: openEth + releaseEth,
      target: ESCROW_HAPPY_PATH_TARGET,
      acceptedMiss:
        "issue 11: the seller's EIP-712 consent on openOrder (~10k; ecrecover alone 3,000) and the full order id " +
        "(one more storage slot per batch's first order, ~22k); without them a stranger could tie up a seller's batch, " +
        "and the author of two orders with equal 160-bit tags could settle one with the other's terms",
    });

    // An order naming its inspector: the registry reports the attestation to the escrow in the same transaction.
    const inspected = { ...(await makeOrder(await newBatch(), ETH, ethers.parseEther("1"))), inspector: inspector.address };
    rows.push({ operation: "openOrder + fund, named inspector (ETH)", path: "direct", gasUsed: await open(inspected) });
    await deliver(inspected.batchId);
    rows.push({
      operation: "attestQuality by the order's inspector",
      path: "direct",
      gasUsed: await gasOf(registry.connect(inspector).attestQuality(inspected.batchId, true, ethers.id("report"))),
      target: 50_000n,
      acceptedMiss:
        "issue 11 item 8: the escrow records the named inspector's result in the same transaction (~15k: one call, " +
        "two storage reads, one write, an event naming the order); a plain attestation stays at the target",
    });
    rows.push({
      operation: "release, named inspector (ETH)",
      path: "direct",
      gasUsed: await gasOf(escrow.connect(buyer).release(inspected)),
      note: "also stops the registry watching the batch",
    });

    // The same in the stablecoin.
    const happyToken = await makeOrder(await newBatch(), token, 1_000_000_000n);
    const openToken = await open(happyToken);
    rows.push({ operation: "openOrder + fund (ERC-20)", path: "direct", gasUsed: openToken });
    await deliver(happyToken.batchId);
    const releaseToken = await gasOf(escrow.connect(buyer).release(happyToken));
    rows.push({ operation: "release, 3-way split (ERC-20)", path: "direct", gasUsed: releaseToken });
    rows.push({ operation: "happy path: open+fund + release (ERC-20)", path: "direct", gasUsed: openToken + releaseToken });

    // Relayed opening: the relayer fronts the ETH with the forwarded call (its nonce warmed up first).
    await relayedGasOf(deployment, buyer, escrow, escrow.interface.encodeFunctionData("orderIdOf", [happy]));
    const relayedOrder = await makeOrder(await newBatch(), token, 1_000_000_000n);
    rows.push({
      operation: "openOrder + fund (ERC-20)",
      path: "relayed",
      gasUsed: await relayedGasOf(
        deployment,
        buyer,
        escrow,
        escrow.interface.encodeFunctionData("openOrder", [relayedOrder, await consentTo(relayedOrder)]),
      ),
    });

    // Refund after the delivery deadline (anyone may trigger it).
    const late = await makeOrder(await newBatch(), ETH, ethers.parseEther("1"));
    await open(late);
    await ethers.provider.send("evm_setNextBlockTimestamp", [Number(late.deliveryDeadline + 1n)]);
    rows.push({
      operation: "refund after the deadline (ETH)",
      path: "direct",
      gasUsed: await gasOf(escrow.connect(outsider).refund(late)),
    });

    // Dispute and arbitration.
    const disputed = await makeOrder(await newBatch(), ETH, ethers.parseEther("1"));
    await open(disputed);
    await deliver(disputed.batchId);
    const disputeGas = await gasOf(escrow.connect(buyer).dispute(disputed, ethers.id("damaged")));
    const resolveGas = await gasOf(escrow.connect(admin).resolveDispute(disputed, 3_000));
    rows.push({ operation: "dispute (ETH)", path: "direct", gasUsed: disputeGas });
    rows.push({ operation: "resolveDispute, buyer + 3-way split (ETH)", path: "direct", gasUsed: resolveGas });
    rows.push({ operation: "dispute + resolveDispute (ETH)", path: "direct", gasUsed: disputeGas + resolveGas });

    // Mutual cancellation before shipment.
    const cancelled = await makeOrder(await newBatch(), ETH, ethers.parseEther("1"));
    await open(cancelled);
    const approveGas = await gasOf(escrow.connect(buyer).approveCancellation(cancelled));
    const cancelGas = await gasOf(escrow.connect(manufacturer).approveCancellation(cancelled));
    rows.push({ operation: "approveCancellation x2 (ETH)", path: "direct", gasUsed: approveGas + cancelGas });
    return rows;
  },
};

// ------------------------------------------------------------------------------------------------
// Design proofs (the DesignRegistry, deployed here beside the shared deployment)
// ------------------------------------------------------------------------------------------------

const designSection: BenchSection = {
  title: "Design proofs",
  async measure({ ethers, deployment }) {
    const { manufacturer } = deployment;
    const designs = await deployDesignRegistry(ethers, deployment);
    const owner = manufacturer.address.toLowerCase() as Hex;
    const treeOf = (files: number, label: string) => {
      const leaves: DesignLeaf[] = Array.from({ length: files }, (_, index) => ({
        fileHash: ethers.sha256(ethers.toUtf8Bytes(`${label} file ${index}`)) as Hex,
        owner,
        salt: designSalt(),
      }));
      return buildDesignTree(leaves).root;
    };
    const started = Date.now();
    const bigRoots = [treeOf(10_000, "direct"), treeOf(10_000, "relayed")];
    const treeSeconds = ((Date.now() - started) / 2000).toFixed(1);
    const title = "Bottle 2027";
    const licence = "CC-BY-4.0";
    const calls = designs.interface;
    // Warm the manufacturer's forwarder nonce, as the provenance section does, so relayed rows are steady-state.
    await relayedGasOf(
      deployment,
      manufacturer,
      designs,
      calls.encodeFunctionData("registerDesign", [treeOf(1, "warm-up"), "", "", ZeroHash]),
    );

    const rows: GasRow[] = [];
    const register = (root: string) => gasOf(designs.connect(manufacturer).registerDesign(root, title, licence, ZeroHash));
    const registerRelayed = (root: string) =>
      relayedGasOf(deployment, manufacturer, designs, calls.encodeFunctionData("registerDesign", [root, title, licence, ZeroHash]));
    const linkedRoot = treeOf(1, "direct");
    rows.push({ operation: "registerDesign, 1 file", path: "direct", gasUsed: await register(linkedRoot), target: 60_000n });
    rows.push({
      operation: "registerDesign, 10,000 files",
      path: "direct",
      gasUsed: await register(bigRoots[0]!),
      target: 60_000n,
      note: `tree of 10,000 files built off-chain in ${treeSeconds}s; same gas as 1 file`,
    });
    rows.push({ operation: "registerDesign, 1 file", path: "relayed", gasUsed: await registerRelayed(treeOf(1, "relayed")) });
    rows.push({ operation: "registerDesign, 10,000 files", path: "relayed", gasUsed: await registerRelayed(bigRoots[1]!) });
    rows.push({
      operation: "linkDesign",
      path: "direct",
      gasUsed: await gasOf(designs.connect(manufacturer).linkDesign(PRODUCT_GTIN, manufacturer.address, linkedRoot)),
      // Two reads of the participant registry (prefix holder, suspension) and one new slot; once per product and design.
      target: 70_000n,
    });
    rows.push({
      operation: "linkDesign",
      path: "relayed",
      gasUsed: await relayedGasOf(
        deployment,
        manufacturer,
        designs,
        calls.encodeFunctionData("linkDesign", [PRODUCT_GTIN, manufacturer.address, bigRoots[0]!]),
      ),
    });
    return rows;
  },
};

// Cold chain: devices, legs, anchors and excursion evidence (ColdChain is deployed here on the shared registry).
// ------------------------------------------------------------------------------------------------

const coldChainSection: BenchSection = {
  title: "Cold chain",
  async measure({ ethers, deployment }) {
    const { registry, forwarder, admin, manufacturer, carrier } = deployment;
    const rows: GasRow[] = [];
    const coldChain = await ethers.deployContract("ColdChain", [
      await registry.getAddress(),
      await forwarder.getAddress(),
      admin.address,
      0n,
    ]);
    const conditions = { minTemperature: 200, maxTemperature: 800, minHumidity: 0, maxHumidity: 10_000, allowedExcursionSeconds: 1_800n };
    await gasOf(coldChain.connect(manufacturer).setProductConditions(PRODUCT_GTIN, conditions));
    const latest = await ethers.provider.getBlock("latest");
    const productionDate = BigInt(latest!.timestamp) - 86_400n;
    const devices = [1, 2, 3, 4].map((index) => new Wallet(ethers.id(`bench sensor ${index}`)));
    const legs: { legId: string; batchId: string; attachedAt: bigint; device: Wallet }[] = [];
    for (const [index, device] of devices.entries()) {
      const registered = await gasOf(coldChain.connect(carrier).registerDevice(device.address, carrier.address));
      if (index === 0) rows.push({ operation: "registerDevice", path: "direct", gasUsed: registered, target: 60_000n });
      const lot = `COLD-${index}`;
      await gasOf(
        registry
          .connect(manufacturer)
          .registerBatch(PRODUCT_GTIN, lot, 100n, productionDate, ORIGIN_GLN, DOCUMENT_HASH, `0x${"c0".repeat(32)}`),
      );
      const batchId = batchIdOf(PRODUCT_GTIN, lot);
      await gasOf(registry.connect(manufacturer).proposeHandoff(batchId, carrier.address, PORT_GLN, 0));
      await gasOf(registry.connect(carrier).acceptHandoff(batchId, PORT_GLN, 1));
      const attached = await gasOf(coldChain.connect(carrier).attachDevice(device.address, batchId));
      if (index === 0) {
        rows.push({
          operation: "attachDevice (first leg: freezes the conditions)",
          path: "direct",
          gasUsed: attached,
          target: 160_000n,
          note: "new leg (2 slots), current leg, frozen conditions; two registry reads",
        });
      }
      const [, , legId] = await coldChain.device(device.address);
      legs.push({ legId, batchId, attachedAt: (await coldChain.leg(legId)).attachedAt, device });
    }
    await ethers.provider.send("evm_increaseTime", [86_400]);
    await ethers.provider.send("evm_mine", []);

    // Anchoring: one root per call, whatever the reading count (each leg's first anchor, so the rows compare).
    for (const [leg, count] of [
      [legs[0], 10n],
      [legs[1], 10_000n],
    ] as const) {
      rows.push({
        operation: `anchorReadings, ${count.toLocaleString("en-US")} readings`,
        path: "direct",
        gasUsed: await gasOf(
          coldChain
            .connect(carrier)
            .anchorReadings(leg.legId, ethers.id(`root ${count}`), count, 1n, count, leg.attachedAt, leg.attachedAt + count),
        ),
        target: 80_000n,
      });
    }

    // Evidence: runs of device-signed warm readings on a fresh leg each; the marginal cost is per reading.
    const domain = {
      name: "Provena ColdChain",
      version: "1",
      chainId: (await ethers.provider.getNetwork()).chainId,
      verifyingContract: await coldChain.getAddress(),
    };
    const evidence = async (leg: (typeof legs)[number], count: number) => {
      const readings = Array.from({ length: count }, (_, index) => ({
        device: leg.device.address,
        batchId: leg.batchId,
        sequence: BigInt(index + 1),
        timestamp: leg.attachedAt + 60n * BigInt(index + 1),
        temperature: 1_200,
        humidity: 0xffff,
        latitude: 52_370_216,
        longitude: 4_895_168,
      }));
      const signatures = await Promise.all(readings.map((reading) => leg.device.signTypedData(domain, READING_TYPES, reading)));
      return gasOf(coldChain.connect(carrier).submitExcursion(leg.legId, readings, signatures));
    };
    const ten = await evidence(legs[2], 10);
    const hundred = await evidence(legs[3], 100);
    rows.push({
      operation: "submitExcursion, 10 readings",
      path: "direct",
      gasUsed: ten,
      note: "a 9-minute run at a reading a minute",
    });
    rows.push({ operation: "submitExcursion, 100 readings (establishes the breach)", path: "direct", gasUsed: hundred });
    rows.push({
      operation: "submitExcursion, per reading (marginal, calldata included)",
      path: "direct",
      gasUsed: (hundred - ten) / 90n,
      target: 10_000n,
      note: "signature check, range and sequence checks, interval bitmap",
    });
    rows.push(...(await verifiedArrivalRows({ ethers, deployment }, coldChain)));
    return rows;
  },
};

/**
 * Verified arrival: an order with breach terms opens (it records when, for `breachedSince`) and is released with
 * no breach established; beside it the same order without breach terms, so the rows show the cold chain's share.
 */
async function verifiedArrivalRows({ ethers, deployment }: BenchContext, coldChain: { getAddress(): Promise<string> }): Promise<GasRow[]> {
  const { registry, escrow, admin, manufacturer, carrier, retailer: buyer } = deployment;
  if (escrow === undefined) throw new Error("TradeEscrow is not deployed: compile the contracts first");
  await gasOf(escrow.connect(admin).setColdChain(await coldChain.getAddress()));
  const [, platformFeeBps] = await escrow.platformFee();
  const latest = await ethers.provider.getBlock("latest");
  const measured: Record<"plain" | "terms", { open: bigint; release: bigint }> = {
    plain: { open: 0n, release: 0n },
    terms: { open: 0n, release: 0n },
  };
  for (const [key, breachTerms] of [
    ["plain", 0],
    ["terms", 1], // RefundFreight
  ] as const) {
    const lot = `ARRIVAL-${key}`;
    await gasOf(
      registry
        .connect(manufacturer)
        .registerBatch(PRODUCT_GTIN, lot, 100n, BigInt(latest!.timestamp) - 86_400n, ORIGIN_GLN, DOCUMENT_HASH, `0x${"a5".repeat(32)}`),
    );
    const order = {
      buyer: buyer.address,
      seller: manufacturer.address,
      carrier: carrier.address,
      token: ethers.ZeroAddress,
      amount: ethers.parseEther("1"),
      batchId: batchIdOf(PRODUCT_GTIN, lot),
      sellerBps: 10_000n - 1_000n - platformFeeBps,
      carrierBps: 1_000n,
      platformBps: platformFeeBps,
      deliveryDeadline: BigInt(latest!.timestamp) + 30n * 86_400n,
      disputeWindow: 3n * 86_400n,
      inspector: ethers.ZeroAddress,
      fallbackBuyerBps: 5_000n,
      salt: ethers.id(`bench arrival ${key}`),
      breachTerms,
    };
    const consent = await signOrderConsentOn(escrow, manufacturer, order);
    measured[key].open = await gasOf(escrow.connect(buyer).openOrder(order, consent, { value: order.amount }));
    await gasOf(registry.connect(manufacturer).proposeHandoff(order.batchId, carrier.address, PORT_GLN, 0));
    await gasOf(registry.connect(carrier).acceptHandoff(order.batchId, PORT_GLN, 1));
    await gasOf(registry.connect(carrier).proposeHandoff(order.batchId, buyer.address, PORT_GLN, 0));
    await gasOf(registry.connect(buyer).acceptHandoff(order.batchId, PORT_GLN, 1));
    measured[key].release = await gasOf(escrow.connect(buyer).release(order));
  }
  const extra = (field: "open" | "release") => formatGas(measured.terms[field] - measured.plain[field]);
  return [
    {
      operation: "openOrder + fund, breach terms (ETH)",
      path: "direct",
      gasUsed: measured.terms.open,
      note: `+${extra("open")} over no breach terms: when the order opened, for breachedSince`,
    },
    {
      operation: "release, verified arrival (breach terms, no breach; ETH)",
      path: "direct",
      gasUsed: measured.terms.release,
      target: 85_000n,
      note: `+${extra("release")} over no breach terms: the cold chain's breachedSince`,
    },
  ];
}

// ------------------------------------------------------------------------------------------------
// Unit ownership tokens (issue 15): claim roots, claims, transfers
// ------------------------------------------------------------------------------------------------

const unitOwnershipSection: BenchSection = {
  title: "Unit ownership",
  async measure({ ethers, deployment }) {
    const { registry, manufacturer, relayer, signers } = deployment;
    const [shopper, secondOwner] = [signers[10], signers[11]];
    const unitOwnership = await deployUnitOwnership(ethers, deployment);
    const rows: GasRow[] = [];
    const latest = await ethers.provider.getBlock("latest");
    const productionDate = BigInt(latest!.timestamp) - 86_400n;
    const chainId = (await ethers.provider.getNetwork()).chainId;
    const unitOwnershipAddress = await unitOwnership.getAddress();
    const calls = unitOwnership.interface;

    /** Registers `lot` with `serials` and returns its id and serial tree (built the way the backend builds it). */
    const register = async (lot: string, serials: string[]) => {
      const serialTree = await buildFastSerialTree(serials);
      await gasOf(
        registry
          .connect(manufacturer)
          .registerBatch(PRODUCT_GTIN, lot, BigInt(serials.length), productionDate, ORIGIN_GLN, DOCUMENT_HASH, serialTree.root),
      );
      return { batchId: batchIdOf(PRODUCT_GTIN, lot), serialTree };
    };
    // Claim keys: only their addresses reach the chain, so the big tree uses derived stand-ins (a real batch
    // generates one random key per unit; `provena ownership keys`).
    const keyFor = (index: number) => ethers.getAddress(ethers.dataSlice(ethers.id(`claim key ${index}`), 12));

    const one = await register("OWN-1", ["SN-000001"]);
    const oneTree = buildClaimTree([{ serial: "SN-000001", claimKey: keyFor(0) }]);
    rows.push({
      operation: "commitClaimRoot, 1 unit",
      path: "direct",
      gasUsed: await gasOf(unitOwnership.connect(manufacturer).commitClaimRoot(one.batchId, oneTree.root, 1)),
      target: 70_000n,
    });

    const serials = makeSerials(100_000);
    const big = await register("OWN-100K", serials);
    // One real key among the stand-ins, so a claim can be signed.
    // A fixed key, so the proofs (and the gas) are the same on every run.
    const claimSecret = new ethers.Wallet(ethers.id("bench claim secret"));
    const claimedSerial = serials[54_321];
    const started = Date.now();
    const bigTree = buildClaimTree(
      serials.map((serial, index) => ({ serial, claimKey: serial === claimedSerial ? claimSecret.address : keyFor(index) })),
    );
    const treeSeconds = ((Date.now() - started) / 1000).toFixed(1);
    rows.push({
      operation: "commitClaimRoot, 100,000 units",
      path: "direct",
      gasUsed: await gasOf(unitOwnership.connect(manufacturer).commitClaimRoot(big.batchId, bigTree.root, 100_000)),
      target: 70_000n,
      note: `same as for 1 unit; claim tree built off-chain in ${treeSeconds}s`,
    });
    const relayedBatch = await register("OWN-R", ["SN-000001"]);
    // Warm the manufacturer's forwarder nonce, so the row shows the steady-state cost.
    await relayedGasOf(deployment, manufacturer, unitOwnership, calls.encodeFunctionData("claimRootOf", [relayedBatch.batchId]));
    rows.push({
      operation: "commitClaimRoot, 1 unit",
      path: "relayed",
      gasUsed: await relayedGasOf(
        deployment,
        manufacturer,
        unitOwnership,
        calls.encodeFunctionData("commitClaimRoot", [relayedBatch.batchId, oneTree.root, 1]),
      ),
    });

    // Claim: the relayer submits the shopper's signed claim (the shopper pays nothing and needs no account).
    const tokenId = unitTokenId(big.batchId, claimedSerial);
    const signature = await signUnitClaim(claimSecret, { chainId, address: unitOwnershipAddress }, { tokenId, recipient: shopper.address });
    const committed = claimProofOf(bigTree, claimedSerial)!;
    rows.push({
      operation: "claim, unit of a 100,000-unit batch",
      path: "direct",
      gasUsed: await gasOf(
        unitOwnership
          .connect(relayer)
          .claim(
            big.batchId,
            claimedSerial,
            committed.claimKey,
            big.serialTree.proof(claimedSerial)!,
            committed.proof,
            shopper.address,
            signature,
          ),
      ),
      // Four new storage slots (owner, owner's balance, the unit's batch id and serial) are ~88,000 of it.
      target: 170_000n,
      note: `sent by the relayer; two proofs of ${committed.proof.length} hashes; 4 new storage slots`,
    });

    // Transfers (resale, gifting): plain ERC-721, directly or gasless through the forwarder.
    rows.push({
      operation: "transferFrom (resale)",
      path: "direct",
      gasUsed: await gasOf(unitOwnership.connect(shopper).transferFrom(shopper.address, secondOwner.address, tokenId)),
      target: 60_000n,
    });
    await relayedGasOf(deployment, secondOwner, unitOwnership, calls.encodeFunctionData("claimRootOf", [big.batchId]));
    rows.push({
      operation: "transferFrom (resale)",
      path: "relayed",
      gasUsed: await relayedGasOf(
        deployment,
        secondOwner,
        unitOwnership,
        calls.encodeFunctionData("transferFrom", [secondOwner.address, shopper.address, tokenId]),
      ),
    });
    return rows;
  },
};

// ------------------------------------------------------------------------------------------------
// Sections to run, in order. Further sections (e.g. escrow) go here.
// ------------------------------------------------------------------------------------------------

// ------------------------------------------------------------------------------------------------
// Logistic units (containers identified by an SSCC)
// ------------------------------------------------------------------------------------------------

/** Batches packed into one container per packBatches transaction (about 6M gas, well under a block). */
const PACK_CHUNK = 100;
/** The container handoff must cost the same whatever the container holds: measured with 1 and with this many batches. */
const LARGE_CONTAINER_BATCHES = 1_000;

const logisticUnitsSection: BenchSection = {
  title: "Logistic units",
  async measure({ ethers, deployment }) {
    const { registry, manufacturer, carrier, warehouse, customs } = deployment;
    const logisticUnits = await deployLogisticUnits(ethers, deployment);
    const unitsAddress = await logisticUnits.getAddress();
    const calls = logisticUnits.interface;
    const rows: GasRow[] = [];
    const latest = await ethers.provider.getBlock("latest");
    const productionDate = BigInt(latest!.timestamp) - 86_400n;
    const serialRoot = ethers.id("logistic units bench serial root");
    const SHIPPING = 0;
    const RECEIVING = 1;
    let ssccSerial = 0;
    // SSCCs under the manufacturer's prefix 8412345, serial references 100000001, 100000002, ... (same byte length).
    const nextSscc = () => ssccFrom(`08412345${100_000_000 + ++ssccSerial}`);

    /** Registers `count` lots and offers each to the contract in the registry (the step before packing). */
    const offeredBatches = async (prefix: string, count: number): Promise<string[]> => {
      const batchIds: string[] = [];
      for (let index = 0; index < count; index++) {
        const lot = `${prefix}-${String(index).padStart(4, "0")}`;
        await gasOf(
          registry.connect(manufacturer).registerBatch(PRODUCT_GTIN, lot, 1n, productionDate, ORIGIN_GLN, DOCUMENT_HASH, serialRoot),
        );
        const batchId = batchIdOf(PRODUCT_GTIN, lot);
        await gasOf(registry.connect(manufacturer).proposeHandoff(batchId, unitsAddress, PORT_GLN, SHIPPING));
        batchIds.push(batchId);
      }
      return batchIds;
    };
    const createContainer = async () => {
      const sscc = nextSscc();
      return { sscc, gasUsed: await gasOf(logisticUnits.connect(manufacturer).createContainer(sscc, PORT_GLN)) };
    };

    const small = await createContainer();
    rows.push({ operation: "createContainer", path: "direct", gasUsed: small.gasUsed, target: 70_000n });
    const [single] = await offeredBatches("LU-ONE", 1);
    rows.push({
      operation: "packBatches, 1 batch",
      path: "direct",
      gasUsed: await gasOf(logisticUnits.connect(manufacturer).packBatches(small.sscc, [single], PORT_GLN)),
      target: 110_000n,
      note: "the registry's acceptHandoff into the contract, plus one new slot",
    });

    const large = await createContainer();
    const batchIds = await offeredBatches("LU-K", LARGE_CONTAINER_BATCHES);
    let chunkGas = 0n;
    for (let start = 0; start < batchIds.length; start += PACK_CHUNK) {
      const gasUsed = await gasOf(
        logisticUnits.connect(manufacturer).packBatches(large.sscc, batchIds.slice(start, start + PACK_CHUNK), PORT_GLN),
      );
      if (start === 0) chunkGas = gasUsed;
    }
    rows.push({
      operation: `packBatches, ${PACK_CHUNK} batches`,
      path: "direct",
      gasUsed: chunkGas,
      note: `${formatGas(chunkGas / BigInt(PACK_CHUNK))} per batch; ${LARGE_CONTAINER_BATCHES / PACK_CHUNK} such transactions pack ${formatGas(BigInt(LARGE_CONTAINER_BATCHES))}`,
    });

    const propose = (sscc: bigint) =>
      gasOf(logisticUnits.connect(manufacturer).proposeContainerHandoff(sscc, carrier.address, PORT_GLN, SHIPPING));
    const accept = (sscc: bigint) => gasOf(logisticUnits.connect(carrier).acceptContainerHandoff(sscc, PORT_GLN, RECEIVING));
    const proposeOne = await propose(small.sscc);
    const proposeMany = await propose(large.sscc);
    const acceptOne = await accept(small.sscc);
    const acceptMany = await accept(large.sscc);
    const sameAsOne = "target: the N = 1 figure (no loop over the contents)";
    rows.push({ operation: "proposeContainerHandoff, N = 1 batch", path: "direct", gasUsed: proposeOne, target: 50_000n });
    rows.push({
      operation: `proposeContainerHandoff, N = ${formatGas(BigInt(LARGE_CONTAINER_BATCHES))} batches`,
      path: "direct",
      gasUsed: proposeMany,
      target: proposeOne,
      note: sameAsOne,
    });
    rows.push({ operation: "acceptContainerHandoff, N = 1 batch", path: "direct", gasUsed: acceptOne, target: 50_000n });
    rows.push({
      operation: `acceptContainerHandoff, N = ${formatGas(BigInt(LARGE_CONTAINER_BATCHES))} batches`,
      path: "direct",
      gasUsed: acceptMany,
      target: acceptOne,
      note: sameAsOne,
    });

    // Relayed: the carrier hands the large container on to the warehouse, both through the forwarder.
    for (const signer of [carrier, warehouse]) {
      await relayedGasOf(deployment, signer, logisticUnits, calls.encodeFunctionData("outermostContainer", [large.sscc]));
    }
    rows.push({
      operation: `proposeContainerHandoff, N = ${formatGas(BigInt(LARGE_CONTAINER_BATCHES))} batches`,
      path: "relayed",
      gasUsed: await relayedGasOf(
        deployment,
        carrier,
        logisticUnits,
        calls.encodeFunctionData("proposeContainerHandoff", [large.sscc, warehouse.address, PORT_GLN, SHIPPING]),
      ),
    });
    rows.push({
      operation: `acceptContainerHandoff, N = ${formatGas(BigInt(LARGE_CONTAINER_BATCHES))} batches`,
      path: "relayed",
      gasUsed: await relayedGasOf(
        deployment,
        warehouse,
        logisticUnits,
        calls.encodeFunctionData("acceptContainerHandoff", [large.sscc, PORT_GLN, RECEIVING]),
      ),
    });

    rows.push({
      operation: "unpackBatches, 1 batch",
      path: "direct",
      gasUsed: await gasOf(logisticUnits.connect(warehouse).unpackBatches(large.sscc, [batchIds[0]], PORT_GLN)),
      target: 90_000n,
      note: "proposes the batch to the custodian in the registry; it accepts there",
    });

    // Nesting: the small container goes onto a pallet; a recall inside the small one blocks both.
    const pallet = await createContainer();
    await gasOf(logisticUnits.connect(carrier).proposeContainerHandoff(small.sscc, manufacturer.address, PORT_GLN, SHIPPING));
    await gasOf(logisticUnits.connect(manufacturer).acceptContainerHandoff(small.sscc, PORT_GLN, RECEIVING));
    rows.push({
      operation: "packContainer",
      path: "direct",
      gasUsed: await gasOf(logisticUnits.connect(manufacturer).packContainer(pallet.sscc, small.sscc, PORT_GLN)),
      target: 75_000n,
      note: "both containers checked (custodian, outermost, no handoff pending); the inner one's slot written from zero",
    });
    await gasOf(registry.connect(customs).recallBatch(single, DOCUMENT_HASH));
    rows.push({
      operation: "flagRecalledBatch, 2 container levels",
      path: "direct",
      gasUsed: await gasOf(logisticUnits.connect(customs).flagRecalledBatch(single)),
      target: 70_000n,
      note: "one counter per enclosing container (at most MAX_NESTING_LEVELS)",
    });
    return rows;
  },
};

// ------------------------------------------------------------------------------------------------
// Transformations (issue 12): inputs consumed whole into a new lot; gas grows with the inputs, nothing else.
// ------------------------------------------------------------------------------------------------

const transformationsSection: BenchSection = {
  title: "Transformations",
  async measure({ ethers, deployment }) {
    const { registry, manufacturer, customs } = deployment;
    const transformations = await deployTransformations(ethers, deployment);
    const transformationsAddress = await transformations.getAddress();
    const rows: GasRow[] = [];
    const latest = await ethers.provider.getBlock("latest");
    const productionDate = BigInt(latest!.timestamp) - 86_400n;
    const serialRoot = ethers.id("transformations bench serial root");
    const recipe = ethers.id("transformations bench batch sheet");
    const SHIPPING = 0;
    let lotCounter = 0;

    /** Registers one lot as the manufacturer (here also the processor) and returns its id. */
    const registerLot = async (prefix: string) => {
      const lot = `${prefix}-${String(++lotCounter).padStart(4, "0")}`;
      await gasOf(
        registry.connect(manufacturer).registerBatch(PRODUCT_GTIN, lot, 10n, productionDate, ORIGIN_GLN, DOCUMENT_HASH, serialRoot),
      );
      return batchIdOf(PRODUCT_GTIN, lot);
    };
    /** `count` input lots offered to the contract in the registry, and a fresh output lot. */
    const prepare = async (count: number) => {
      const inputIds: string[] = [];
      for (let index = 0; index < count; index++) {
        const inputId = await registerLot("TR-IN");
        await gasOf(registry.connect(manufacturer).proposeHandoff(inputId, transformationsAddress, PORT_GLN, SHIPPING));
        inputIds.push(inputId);
      }
      return { inputIds, outputId: await registerLot("TR-OUT") };
    };

    // Warm-up: the very first transformation also writes the counter from zero (about 17,100 more, once).
    const warmUp = await prepare(1);
    await gasOf(transformations.connect(manufacturer).transform(warmUp.inputIds, [warmUp.outputId], PORT_GLN, recipe));

    const two = await prepare(2);
    const twoGas = await gasOf(transformations.connect(manufacturer).transform(two.inputIds, [two.outputId], PORT_GLN, recipe));
    rows.push({
      operation: "transform, 2 inputs into 1 output",
      path: "direct",
      gasUsed: twoGas,
      target: 180_000n,
      note: "per input: the registry's acceptHandoff into the contract, plus one new slot (consumedIn)",
    });
    const ten = await prepare(10);
    const tenGas = await gasOf(transformations.connect(manufacturer).transform(ten.inputIds, [ten.outputId], PORT_GLN, recipe));
    rows.push({
      operation: "transform, 10 inputs into 1 output",
      path: "direct",
      gasUsed: tenGas,
      target: 550_000n,
      note: `${formatGas((tenGas - twoGas) / 8n)} per further input`,
    });

    const relayed = await prepare(2);
    await relayedGasOf(deployment, manufacturer, transformations, transformations.interface.encodeFunctionData("transformationCount"));
    rows.push({
      operation: "transform, 2 inputs into 1 output",
      path: "relayed",
      gasUsed: await relayedGasOf(
        deployment,
        manufacturer,
        transformations,
        transformations.interface.encodeFunctionData("transform", [relayed.inputIds, [relayed.outputId], PORT_GLN, recipe]),
      ),
    });

    await gasOf(registry.connect(customs).recallBatch(two.inputIds[0], DOCUMENT_HASH));
    rows.push({
      operation: "flagRecalledInput",
      path: "direct",
      gasUsed: await gasOf(transformations.connect(customs).flagRecalledInput(two.outputId, two.inputIds[0])),
      target: 70_000n,
      note: "two lookups, two registry status reads, then the registry's recallBatch of the output",
    });
    return rows;
  },
};

// Product data: DPP versions and document anchors (ProductDataRegistry is deployed here on the shared registry).
// ------------------------------------------------------------------------------------------------

const productDataSection: BenchSection = {
  title: "Product data",
  async measure({ ethers, deployment }) {
    const { registry, forwarder, manufacturer, inspector, admin } = deployment;
    const productData = await ethers.deployContract(
      "ProductDataRegistry",
      [await forwarder.getAddress(), await registry.getAddress()],
      admin,
    );
    await productData.waitForDeployment();
    const latest = await ethers.provider.getBlock("latest");
    const lot = "PD-0001";
    await gasOf(
      registry
        .connect(manufacturer)
        .registerBatch(PRODUCT_GTIN, lot, 10n, BigInt(latest!.timestamp) - 86_400n, ORIGIN_GLN, DOCUMENT_HASH, ethers.id("pd serials")),
    );
    const batchId = batchIdOf(PRODUCT_GTIN, lot);
    const hash = (label: string) => ethers.id(`product data bench ${label}`);
    const calls = productData.interface as unknown as Interface;
    // The first version of a subject writes a fresh counter slot (+17,100); rows measure a later version, as most are.
    await gasOf(productData.connect(manufacturer).publishProductData(PRODUCT_GTIN, hash("warm product")));
    await gasOf(productData.connect(manufacturer).publishBatchData(batchId, hash("warm batch")));
    await relayedGasOf(deployment, inspector, productData, calls.encodeFunctionData("anchorBatchDocument", [batchId, hash("warm")]));

    const rows: GasRow[] = [];
    const both = async (
      operation: string,
      signer: HardhatEthersSigner,
      fn: string,
      args: (label: string) => unknown[],
      target?: bigint,
    ) => {
      const direct = await gasOf(
        (productData.connect(signer) as unknown as Record<string, (...a: unknown[]) => Promise<ContractTransactionResponse>>)[fn]!(
          ...args("direct"),
        ),
      );
      rows.push({ operation, path: "direct", gasUsed: direct, ...(target === undefined ? {} : { target }) });
      rows.push({
        operation,
        path: "relayed",
        gasUsed: await relayedGasOf(deployment, signer, productData, calls.encodeFunctionData(fn, args("relayed"))),
      });
    };
    // Two registry reads (prefix holder, active manufacturer) and one counter update.
    await both("publishProductData (next version)", manufacturer, "publishProductData", (l) => [PRODUCT_GTIN, hash(`p ${l}`)], 55_000n);
    await both("publishBatchData (next version)", manufacturer, "publishBatchData", (l) => [batchId, hash(`b ${l}`)], 55_000n);
    // An event only: no storage is written for a document (a product document also reads the prefix holder).
    await both("anchorBatchDocument", inspector, "anchorBatchDocument", (l) => [batchId, hash(`bd ${l}`)], 40_000n);
    await both("anchorProductDocument", manufacturer, "anchorProductDocument", (l) => [PRODUCT_GTIN, hash(`pd ${l}`)], 45_000n);
    return rows;
  },
};

const SECTIONS: BenchSection[] = [
  provenanceSection,
  escrowSection,
  designSection,
  coldChainSection,
  unitOwnershipSection,
  logisticUnitsSection,
  transformationsSection,
  productDataSection,
];

function formatGas(value: bigint): string {
  return value.toLocaleString("en-US");
}

/** Notes each relayed row with its overhead over the direct row of the same operation. */
function withRelayOverhead(rows: GasRow[]): GasRow[] {
  return rows.map((row) => {
    if (row.path !== "relayed" || row.note !== undefined) return row;
    const direct = rows.find((other) => other.path === "direct" && other.operation === row.operation);
    if (direct === undefined) return row;
    return { ...row, note: `relay overhead +${formatGas(row.gasUsed - direct.gasUsed)}` };
  });
}

function printTable(title: string, rows: GasRow[]): boolean {
  const header = ["operation", "path", "gas used", "target", "result", "note"];
  const lines = rows.map((row) => [
    row.operation,
    row.path,
    formatGas(row.gasUsed),
    row.target === undefined ? "-" : `<= ${formatGas(row.target)}`,
    row.target === undefined ? "-" : row.gasUsed <= row.target ? "PASS" : row.acceptedMiss ? "MISS (accepted)" : "FAIL",
    row.acceptedMiss && row.target !== undefined && row.gasUsed > row.target ? `accepted: ${row.acceptedMiss}` : (row.note ?? ""),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((line) => line[i].length)));
  const render = (cells: string[]) =>
    `| ${cells.map((cell, i) => (i === 2 ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join(" | ")} |`;
  console.log(`\n### ${title}\n`);
  console.log(render(header));
  console.log(`|${widths.map((w, i) => (i === 2 ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2))).join("|")}|`);
  for (const line of lines) console.log(render(line));
  return rows.every((row) => row.target === undefined || row.gasUsed <= row.target || row.acceptedMiss !== undefined);
}

const SNAPSHOT_PATH = new URL("../test/gas-snapshot.json", import.meta.url);
/** Gas a row may gain over its snapshot before the run fails (timestamps and salts vary calldata slightly). */
const GAS_SNAPSHOT_TOLERANCE = 200n;

type GasSnapshot = Record<string, number>;

function snapshotKey(section: string, row: GasRow): string {
  return `${section} / ${row.operation} / ${row.path}`;
}

function readSnapshot(): GasSnapshot {
  try {
    return JSON.parse(readFileSync(SNAPSHOT_PATH, "utf8")) as GasSnapshot;
  } catch {
    return {};
  }
}

/** Lists every row that costs more than the snapshot allows, or is missing from it. */
function snapshotRegressions(measured: GasSnapshot, snapshot: GasSnapshot): string[] {
  const problems: string[] = [];
  for (const [key, gasUsed] of Object.entries(measured)) {
    const recorded = snapshot[key];
    if (recorded === undefined) problems.push(`${key}: ${formatGas(BigInt(gasUsed))} (not in the snapshot)`);
    else if (BigInt(gasUsed) > BigInt(recorded) + GAS_SNAPSHOT_TOLERANCE) {
      problems.push(`${key}: ${formatGas(BigInt(gasUsed))} > snapshot ${formatGas(BigInt(recorded))}`);
    }
  }
  return problems;
}

async function main(): Promise<void> {
  const { ethers } = await network.create();
  const deployment = await deployProvena(ethers);
  let allPass = true;
  const measured: GasSnapshot = {};
  for (const section of SECTIONS) {
    const rows = await section.measure({ ethers, deployment });
    for (const row of rows) measured[snapshotKey(section.title, row)] = Number(row.gasUsed);
    allPass = printTable(section.title, withRelayOverhead(rows)) && allPass;
  }
  if (process.env.GAS_SNAPSHOT === "update") {
    writeFileSync(SNAPSHOT_PATH, `${JSON.stringify(measured, null, 2)}\n`);
    console.log("\nGas snapshot written to test/gas-snapshot.json.");
  } else {
    const regressions = snapshotRegressions(measured, readSnapshot());
    if (regressions.length > 0) {
      console.log(`\nGas snapshot regressions (GAS_SNAPSHOT=update to accept):\n  ${regressions.join("\n  ")}`);
      allPass = false;
    } else {
      console.log("\nNo gas regression against test/gas-snapshot.json.");
    }
  }
  console.log(
    "\nGas is the transaction's gasUsed on Hardhat's in-process network (21,000 base + calldata included)." +
      "\nRelayed rows: the relayer's ERC2771Forwarder.execute transaction (signature check, nonce, call);" +
      "\na signer's very first relayed request costs 17,100 more (its forwarder nonce slot is initialised).",
  );
  console.log(allPass ? "\nAll targets met, or missed for a stated and accepted reason." : "\nSome targets FAILED.");
  if (!allPass) process.exitCode = 1;
}

await main();
