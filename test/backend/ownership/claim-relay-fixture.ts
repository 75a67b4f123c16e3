/**
 * The claim relay's world on Hardhat's in-process chain: UnitOwnershipDouble (contracts/mocks) standing in for the
 * real UnitOwnership, a registered batch of three units and a split child lot mirrored into an in-memory store, the
 * units' claim keys and committed claim tree, the ownership service and its routes in the real app.
 */
import { network } from "hardhat";
import { Interface, Wallet, ZeroHash, type InterfaceAbi } from "ethers";
import { createApp } from "../../../backend/api/app.ts";
import { createMetrics } from "../../../backend/api/metrics.ts";
import { routeModuleFromTable } from "../../../backend/api/route-table.ts";
import { loadArtifact } from "../../../backend/chain/artifacts.ts";
import { providerFromEip1193 } from "../../../backend/chain/provider.ts";
import type { Batch, Hex } from "../../../backend/domain/model.ts";
import { buildClaimTree, signUnitClaim, unitTokenId } from "../../../backend/chain/unit-claim.ts";
import { createOwnershipService, type OwnershipService } from "../../../backend/ownership/ownership-service.ts";
import { ownershipRoutes } from "../../../backend/ownership/ownership-routes.ts";
import { createSerialService } from "../../../backend/passport/serials.ts";
import { passportWriteRateLimiter } from "../../../backend/passport/write-limits.ts";
import { createStore } from "../../../backend/store/index.ts";
import type { MirrorStore } from "../../../backend/store/port.ts";
import { silentLogger } from "../relayer/relayer-fixture.ts";

export const SERIALS = ["SN-1", "SN-2", "SN-3"];
const EVENT_REF = { eventId: "31337:000000000001:000000", blockNumber: 1, blockTimestamp: 1_767_225_600, transactionHash: ZeroHash as Hex };

function batchDocument(batchId: Hex, lot: string, serialRoot: Hex, parentId: Hex | null): Batch {
  return {
    batchId,
    gtin: "04012345000009",
    lot,
    quantity: "3",
    productionDate: 1_767_000_000,
    originGln: "4012345000009",
    documentHash: ZeroHash as Hex,
    serialRoot,
    manufacturer: "0x1000000000000000000000000000000000000002",
    custodian: "0x1000000000000000000000000000000000000002",
    pendingCustodian: null,
    status: parentId === null ? "split" : "registered",
    inspection: "none",
    inspections: [],
    custody: [],
    parentId,
    childIds: [],
    recall: null,
    watched: false,
    registered: EVENT_REF,
    lastEvent: EVENT_REF,
  };
}

export async function createClaimRelayFixture({ ratePerMinute = 1_000, uploadTree = true } = {}) {
  const connection = await network.create();
  const { ethers } = connection;
  const [deployer] = await ethers.getSigners();
  const artifact = loadArtifact("UnitOwnershipDouble", "contracts/mocks/UnitOwnershipDouble.sol");
  const factory = new ethers.ContractFactory(artifact.abi, artifact.bytecode, deployer);
  const contract = await factory.deploy();
  await contract.waitForDeployment();
  const unitOwnership = (await contract.getAddress()).toLowerCase() as Hex;
  const { provider, chainId } = await providerFromEip1193(connection.provider, 50);

  const relayer = Wallet.createRandom().connect(provider);
  await (await deployer!.sendTransaction({ to: relayer.address, value: ethers.parseEther("10") })).wait();

  const store: MirrorStore = await createStore({ sqlitePath: ":memory:" });
  const serials = createSerialService({ store });
  const { serialRoot } = await serials.storeSerials(SERIALS);
  const batchId = "0x" + "b1".repeat(32);
  const childId = "0x" + "c1".repeat(32);
  const registered = batchDocument(batchId as Hex, "LOT-1", serialRoot, null);
  const child = batchDocument(childId as Hex, "LOT-1-A", serialRoot, batchId as Hex);

  // Each unit's claim key: its private half is what the box holds.
  const claimKeys = new Map(SERIALS.map((serial) => [serial, Wallet.createRandom()]));
  const tree = buildClaimTree(SERIALS.map((serial) => ({ serial, claimKey: claimKeys.get(serial)!.address })));
  const double = new Interface(artifact.abi as InterfaceAbi);
  const call = (data: string) => deployer!.sendTransaction({ to: unitOwnership, data }).then((tx) => tx.wait());
  await call(double.encodeFunctionData("setSerialRoot", [batchId, serialRoot]));
  await call(double.encodeFunctionData("commitClaimRoot", [batchId, tree.root, SERIALS.length]));

  await store.commitRange({
    chainId,
    events: [],
    blocks: [],
    batches: [registered, child],
    participants: [],
    orders: [],
    claimRoots: [
      { batchId: batchId as Hex, manufacturer: registered.manufacturer, claimRoot: tree.root as Hex, units: 3, committed: EVENT_REF },
    ],
    checkpoint: { chainId, blockNumber: 1, blockHash: null, updatedAt: 1 },
  });

  const service: OwnershipService = createOwnershipService({
    store,
    serials,
    chain: { provider, chainId, unitOwnership },
    relayerAddress: relayer.address.toLowerCase() as Hex,
  });
  if (uploadTree) await service.uploadClaimTree(batchId as Hex, tree.dump());
  const routes = routeModuleFromTable(
    "",
    ownershipRoutes({
      ownership: service,
      passports: {
        getBatch: async (id) => (id === batchId ? registered : child),
        linkFor: (batch, serial) => `https://id.example.com/01/${batch.gtin}/10/${batch.lot}/21/${serial}`,
      },
      writeRateLimiter: passportWriteRateLimiter(ratePerMinute),
      uploadBodyLimit: "1mb",
    }),
    undefined,
    { parsesOwnBody: true },
  );
  const app = createApp({
    store,
    logger: silentLogger,
    metrics: createMetrics({ processMetrics: false }),
    indexerStatus: () => ({ chainId, headBlock: null, indexedBlock: null, lagBlocks: null, eventsIndexed: 0, isLeader: false }),
    readyMaxLagBlocks: 10,
    modules: [routes],
  });

  /** What the shopper's page does: sign the claim of `serial` for `recipient` with the box's secret. */
  async function signedClaim(serial: string, recipient: string, secret = claimKeys.get(serial)!.privateKey, onBatch = batchId) {
    const tokenId = unitTokenId(batchId as Hex, serial);
    const signature = await signUnitClaim(new Wallet(secret), { chainId, address: unitOwnership }, { tokenId, recipient });
    return { batchId: onBatch as Hex, serial, recipient, signature };
  }
  const claimInput = (body: Awaited<ReturnType<typeof signedClaim>>) => ({
    unit: { batchId: body.batchId, serial: body.serial },
    recipient: body.recipient,
    signature: body.signature,
  });
  const queuedJobs = () => store.listRelays(["queued", "submitted", "mined", "failed"], 500);
  /** The relayer's transaction for a job, sent as the worker would (a plain call from its account). */
  const submit = async (job: { to: string; data: string }) => (await relayer.sendTransaction({ to: job.to, data: job.data })).wait();
  const ownerOf = async (tokenId: string) =>
    (await provider.call({ to: unitOwnership, data: double.encodeFunctionData("ownerOf", [BigInt(tokenId)]) })).slice(-40);

  return {
    ethers,
    relayer,
    store,
    service,
    app,
    tree,
    claimKeys,
    signedClaim,
    claimInput,
    queuedJobs,
    submit,
    ownerOf,
    batchId: batchId as Hex,
    childId: childId as Hex,
    chainId,
    unitOwnership,
    provider,
    double,
    deployer: deployer!,
  };
}
