/**
 * A passport world on Hardhat's network: the Provena contracts with the demo consortium, a traded batch with a
 * full custody story and uploaded serials, a split batch (moved and inspected before the split) with a recalled child, all mirrored into an in-memory
 * SQLite store by team 5's indexer, and the passport module mounted on a small Express app.
 */
import express from "express";
import { network } from "hardhat";
import { keccak256, toUtf8Bytes, type Eip1193Provider } from "ethers";
import { pino } from "pino";
import type { Deployment } from "../../../backend/chain/deployment.ts";
import { providerFromEip1193 } from "../../../backend/chain/provider.ts";
import { problemErrorHandler, unmatchedRouteHandler } from "../../../backend/api/problem-middleware.ts";
import {
  createPassportModule,
  type PassportModule,
  type PassportModuleConfig,
  type PassportModuleDeps,
} from "../../../backend/passport/passport-module.ts";
import { createSerialService } from "../../../backend/passport/serials.ts";
import type { MirrorStore } from "../../../backend/store/port.ts";
import type { Batch, Hex } from "../../../backend/domain/model.ts";
import { createSqliteStore } from "../../../backend/store/sqlite/index.ts";
import { registerBatch } from "../../helpers/batches.ts";
import { syncToHead } from "../../helpers/indexer-sync.ts";
import { DEMO_DC_GLN, DEMO_PORT_GLN, deployProvena, type ProvenaDeployment } from "../../../scripts/fixtures/provena-deployment.ts";
import { BusinessStep } from "../../../scripts/fixtures/registry-enums.ts";

export const silentLogger = () => pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });

export interface PassportWorld {
  deployed: ProvenaDeployment;
  deployment: Deployment;
  store: MirrorStore;
  /** EIP-1193 provider of the in-process chain. */
  eip1193: Eip1193Provider;
  /** The traded batch: 5 serials, full custody story, inspected. */
  traded: { batchId: Hex; gtin: string; lot: string; serials: string[] };
  /** The split parent (handed to the carrier and inspected before the carrier split it) and its two children; the second child is recalled. */
  parent: { batchId: Hex; lot: string };
  children: { batchId: Hex; lot: string; serials: string[] }[];
  /** A registered batch whose serial list was never uploaded. */
  unlisted: { batchId: Hex; lot: string };
  /** Mines pending work into the mirror: runs the indexer until it holds the chain head. */
  sync(): Promise<void>;
  connection: Awaited<ReturnType<typeof network.create>>;
}

export async function createPassportWorld(): Promise<PassportWorld> {
  const connection = await network.create();
  const { ethers } = connection;
  const deployed = await deployProvena(ethers);
  const { registry, manufacturer, carrier, inspector, retailer, customs } = deployed;
  const wait = async (sent: Promise<{ wait(): Promise<unknown> }>) => {
    await (await sent).wait();
  };

  const store = createSqliteStore({ path: ":memory:" });
  await store.init();
  const eip1193 = connection.provider as unknown as Eip1193Provider;
  const { provider, chainId } = await providerFromEip1193(eip1193, 20);
  const deployment: Deployment = {
    chainId,
    forwarder: (await deployed.forwarder.getAddress()).toLowerCase() as Hex,
    registry: (await registry.getAddress()).toLowerCase() as Hex,
    escrow: ((await deployed.escrow?.getAddress()) ?? (await deployed.forwarder.getAddress())).toLowerCase() as Hex,
    deployBlock: 0,
  };

  // The traded batch: the manufacturer's serial list goes through the passport service, as in production.
  const tradedSerials = ["A-0001", "A-0002", "A/0003", "A%0004", "A-0005"];
  // "%" must be percent-encoded in a Digital Link ("/" too, but registered lots never contain it: see the split).
  const traded = await registerBatch(registry, manufacturer, { lot: "PP-2025%A", quantity: 5n, serials: tradedSerials });
  await wait(registry.connect(manufacturer).proposeHandoff(traded.batchId, carrier.address, DEMO_PORT_GLN, BusinessStep.Shipping));
  await wait(registry.connect(carrier).acceptHandoff(traded.batchId, DEMO_PORT_GLN, BusinessStep.Receiving));
  await wait(registry.connect(inspector).attestQuality(traded.batchId, true, keccak256(toUtf8Bytes("lab report 17"))));
  await wait(registry.connect(carrier).proposeHandoff(traded.batchId, retailer.address, DEMO_DC_GLN, BusinessStep.Retail));
  await wait(registry.connect(retailer).acceptHandoff(traded.batchId, DEMO_DC_GLN, BusinessStep.Receiving));

  // A split: the parent travels to the carrier and is inspected, then the carrier splits it into two children
  // (PP-SPLIT/1 and PP-SPLIT/2, carrying the parent's serial root: the C1-* units go into the first, the C2-* into
  // the second); the second child is recalled.
  const childSerials = [
    ["C1-1", "C1-2", "C1-3", "C1-4"],
    ["C2-1", "C2-2"],
  ];
  const parent = await registerBatch(registry, manufacturer, { lot: "PP-SPLIT", quantity: 6n, serials: childSerials.flat() });
  await wait(registry.connect(manufacturer).proposeHandoff(parent.batchId, carrier.address, DEMO_PORT_GLN, BusinessStep.Shipping));
  await wait(registry.connect(carrier).acceptHandoff(parent.batchId, DEMO_PORT_GLN, BusinessStep.Receiving));
  await wait(registry.connect(inspector).attestQuality(parent.batchId, true, keccak256(toUtf8Bytes("pallet lab report"))));
  const children = [
    { lot: "PP-SPLIT/1", quantity: 4n, serialRoot: parent.tree.root },
    { lot: "PP-SPLIT/2", quantity: 2n, serialRoot: parent.tree.root },
  ];
  await wait(registry.connect(carrier).splitBatch(parent.batchId, children));
  const childIds = await Promise.all(children.map((child) => registry.batchIdOf(parent.input.gtin, child.lot)));
  await wait(registry.connect(customs).recallBatch(childIds[1]!, keccak256(toUtf8Bytes("contamination notice"))));

  // A batch whose serial list was never uploaded: its units get pages but no proofs.
  const unlisted = await registerBatch(registry, manufacturer, { lot: "PP-NOLIST", quantity: 3n });

  // The manufacturer's serial lists, stored as the upload endpoint (or the CLI) stores them.
  const serialService = createSerialService({ store });
  for (const list of [tradedSerials, childSerials.flat()]) await serialService.storeSerials(list);

  // A stopped indexer stays stopped: each sync runs a fresh one, as a restarted backend would.
  const sync = () => syncToHead({ provider, deployment, store, instanceId: "passport-test" });
  await sync();

  return {
    deployed,
    deployment,
    store,
    eip1193,
    traded: {
      batchId: traded.batchId.toLowerCase() as Hex,
      gtin: traded.input.gtin.toString().padStart(14, "0"),
      lot: traded.input.lot,
      serials: tradedSerials,
    },
    parent: { batchId: parent.batchId.toLowerCase() as Hex, lot: parent.input.lot },
    unlisted: { batchId: unlisted.batchId.toLowerCase() as Hex, lot: unlisted.input.lot },
    children: children.map((child, i) => ({ batchId: childIds[i]!.toLowerCase() as Hex, lot: child.lot, serials: childSerials[i]! })),
    sync,
    connection,
  };
}

export function passportConfig(world: PassportWorld, overrides: Partial<PassportModuleConfig> = {}): PassportModuleConfig {
  return {
    publicBaseUrl: "https://id.provena.test",
    publicRpcUrl: "https://id.provena.test/rpc",
    chainId: world.deployment.chainId,
    registryAddress: world.deployment.registry,
    otherContracts: [world.deployment.escrow, world.deployment.forwarder],
    deployBlock: 0,
    ...overrides,
  };
}

/**
 * The app the passport module is mounted on in tests, as createApp mounts it: JSON bodies parsed first when asked,
 * the module's error pages offered to the app's one error middleware, which answers everything else as problem+json.
 */
export function passportTestApp(module: PassportModule, options: { jsonBodies?: boolean; trustProxy?: boolean } = {}) {
  const app = express();
  app.set("query parser", "simple");
  // Behind a trusted proxy, X-Forwarded-For names the client: how tests play several scanners from one machine.
  if (options.trustProxy) app.set("trust proxy", true);
  if (options.jsonBodies) app.use(express.json({ limit: "10mb" }));
  app.use((_req, res, next) => {
    res.locals.renderErrorPage = module.renderErrorPage;
    next();
  }, module.router);
  app.use(unmatchedRouteHandler(module.paths));
  app.use(problemErrorHandler());
  return app;
}

/** Limits of the module's write endpoints, for the tests that exercise them. */
export type PassportWriteLimits = Pick<PassportModuleDeps, "uploadBodyLimit" | "writeRateLimitPerMinute" | "jsonMaxDepth">;

export function createModule(
  world: PassportWorld,
  overrides: Partial<PassportModuleConfig> = {},
  limits: PassportWriteLimits = {},
): PassportModule {
  const config = passportConfig(world, overrides);
  return createPassportModule({ store: world.store, config, chain: world.eip1193 as never, logger: silentLogger(), ...limits });
}

export interface LineageFamily {
  /** The original lot: handed to the carrier and inspected, then split by the carrier into `parent` and a sibling. */
  grandparent: { batchId: Hex; lot: string };
  /** Handed from the carrier to the retailer and inspected, then split by the retailer into `child` and a sibling. */
  parent: { batchId: Hex; lot: string };
  child: { batchId: Hex; lot: string; serials: string[] };
  /** The grandparent's other child (moved and inspected after the split) and the parent's other child. */
  siblings: { batchId: Hex; lot: string }[];
}

const lineageFamilies = new WeakMap<PassportWorld, Promise<LineageFamily>>();

/**
 * A two-level lineage (grandparent lot -> parent lot -> child lot), added to the world's chain and mirror on first use
 * only, so tests that never ask for it see the world as createPassportWorld made it.
 */
export function lineageFamily(world: PassportWorld): Promise<LineageFamily> {
  let family = lineageFamilies.get(world);
  if (!family) {
    family = addLineageFamily(world);
    lineageFamilies.set(world, family);
  }
  return family;
}

async function addLineageFamily(world: PassportWorld): Promise<LineageFamily> {
  const { registry, manufacturer, carrier, inspector, retailer } = world.deployed;
  const wait = async (sent: Promise<{ wait(): Promise<unknown> }>) => {
    await (await sent).wait();
  };
  const idOf = async (gtin: bigint, lot: string) => (await registry.batchIdOf(gtin, lot)).toLowerCase() as Hex;

  // Every descendant carries the grandparent's serial root: its serials are all the family's units.
  const childSerials = ["G2-1", "G2-2", "G2-3", "G2-4"];
  const familySerials = [...childSerials, "G2B-1", "G2B-2", "G1B-1", "G1B-2"];
  const grandparent = await registerBatch(registry, manufacturer, { lot: "PP-GEN-0", quantity: 8n, serials: familySerials });
  const root = grandparent.tree.root;
  const gtin = grandparent.input.gtin;
  await wait(registry.connect(manufacturer).proposeHandoff(grandparent.batchId, carrier.address, DEMO_PORT_GLN, BusinessStep.Shipping));
  await wait(registry.connect(carrier).acceptHandoff(grandparent.batchId, DEMO_PORT_GLN, BusinessStep.Receiving));
  await wait(registry.connect(inspector).attestQuality(grandparent.batchId, true, keccak256(toUtf8Bytes("grandparent lab report"))));
  await wait(
    registry.connect(carrier).splitBatch(grandparent.batchId, [
      { lot: "PP-GEN-0/1", quantity: 6n, serialRoot: root },
      { lot: "PP-GEN-0/1B", quantity: 2n, serialRoot: root },
    ]),
  );
  const parentId = await idOf(gtin, "PP-GEN-0/1");
  const uncleId = await idOf(gtin, "PP-GEN-0/1B");
  // The grandparent's other child travels and is inspected too: none of that is the child's history.
  await wait(registry.connect(inspector).attestQuality(uncleId, false, keccak256(toUtf8Bytes("sibling lab report"))));

  await wait(registry.connect(carrier).proposeHandoff(parentId, retailer.address, DEMO_DC_GLN, BusinessStep.Retail));
  await wait(registry.connect(retailer).acceptHandoff(parentId, DEMO_DC_GLN, BusinessStep.Receiving));
  await wait(registry.connect(inspector).attestQuality(parentId, true, keccak256(toUtf8Bytes("parent lab report"))));
  await wait(
    registry.connect(retailer).splitBatch(parentId, [
      { lot: "PP-GEN-0/1/2", quantity: 4n, serialRoot: root },
      { lot: "PP-GEN-0/1/2B", quantity: 2n, serialRoot: root },
    ]),
  );
  const childId = await idOf(gtin, "PP-GEN-0/1/2");
  const cousinId = await idOf(gtin, "PP-GEN-0/1/2B");
  await wait(registry.connect(retailer).proposeHandoff(cousinId, carrier.address, DEMO_PORT_GLN, BusinessStep.Shipping));

  await createSerialService({ store: world.store }).storeSerials(familySerials);
  await world.sync();
  return {
    grandparent: { batchId: grandparent.batchId.toLowerCase() as Hex, lot: grandparent.input.lot },
    parent: { batchId: parentId, lot: "PP-GEN-0/1" },
    child: { batchId: childId, lot: "PP-GEN-0/1/2", serials: childSerials },
    siblings: [
      { batchId: uncleId, lot: "PP-GEN-0/1B" },
      { batchId: cousinId, lot: "PP-GEN-0/1/2B" },
    ],
  };
}

let lastCommitTime = 0;
/** A commit time later than any before it, even within one millisecond. */
const nextCommitTime = () => (lastCommitTime = Math.max(Date.now(), lastCommitTime + 1));

/**
 * Runs `body` while the mirror shows `change` applied to a batch (as a compromised or buggy server would), then puts
 * the batch back: how tests prove the verifiers catch a mirror that disagrees with the chain.
 */
export async function tamperBatch(world: PassportWorld, batchId: Hex, change: (batch: Batch) => Batch, body: () => Promise<void>) {
  const original = (await world.store.getBatch(batchId))!;
  const checkpoint = (await world.store.getCheckpoint(world.deployment.chainId))!;
  // Stamped anew, as every commit of the indexer is: cached passports are keyed on the checkpoint (view-cache.ts).
  const commit = (batch: Batch) =>
    world.store.commitRange({
      chainId: world.deployment.chainId,
      events: [],
      blocks: [],
      batches: [batch],
      participants: [],
      orders: [],
      checkpoint: { ...checkpoint, updatedAt: nextCommitTime() },
    });
  await commit(change(structuredClone(original)));
  try {
    await body();
  } finally {
    await commit(original);
  }
}
