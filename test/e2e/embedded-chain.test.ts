/**
 * The embedded chain `npm start` runs without RPC_URL: anvil keeping its state in EMBEDDED_CHAIN_DIR, started through
 * startProvena exactly as `npm start` does, with a temporary data directory. A restart finds the same chain, the
 * same deployment and the same mirror; a state file older than the store (a crash between anvil's state saves) is
 * rolled back like the reorg it is; without the anvil binary the backend falls back to Hardhat's in-process chain.
 */
import { expect } from "chai";
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import { EmbeddedAnvilError, anvilStateFile, resolveAnvilBinary, startEmbeddedAnvil } from "../../backend/chain/embedded-anvil.ts";
import { registryAt } from "../../backend/chain/contracts.ts";
import { loadConfig, type Config } from "../../backend/config.ts";
import { startProvena, type RunningProvena, type StartProvenaOptions } from "../../backend/main.ts";
import { findDemoLot, seedDemoUnlessPresent } from "../../scripts/demo.ts";
import { ROLE_HASHES } from "../../backend/chain/vocabulary.ts";
import type { Hex } from "../../backend/domain/model.ts";
import { glnFrom } from "../helpers/gs1.ts";

const PUBLIC_BASE_URL = "https://provena.example.com";

let anvilAvailable = true;
try {
  resolveAnvilBinary();
} catch {
  anvilAvailable = false;
}

describe("the embedded chain", function () {
  this.timeout(180_000);
  let dataDir: string;
  const running: RunningProvena[] = [];

  beforeEach(async function () {
    dataDir = await mkdtemp(path.join(tmpdir(), "provena-embedded-"));
  });

  afterEach(async function () {
    for (const provena of running.splice(0)) await provena.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  function configIn(dir: string, overrides: Partial<Config> = {}): Config {
    return {
      ...loadConfig({
        LOG_LEVEL: "silent",
        MQTT_PORT: "0",
        SQLITE_PATH: path.join(dir, "provena.db"),
        EMBEDDED_CHAIN_DIR: path.join(dir, "chain"),
      }),
      port: 0,
      indexerPollMs: 100,
      keeperIntervalMs: 250,
      ...overrides,
    };
  }

  async function start(options: StartProvenaOptions = {}, overrides: Partial<Config> = {}): Promise<RunningProvena> {
    const provena = await startProvena(configIn(dataDir, overrides), { logger: pino({ level: "silent" }), ...options });
    running.push(provena);
    return provena;
  }

  async function stop(provena: RunningProvena): Promise<void> {
    running.splice(running.indexOf(provena), 1);
    await provena.stop();
  }

  /** Onboards `account` as a carrier from the admin's dev account and waits until the mirror has it. */
  async function onboard(provena: RunningProvena, account: Hex, name: string): Promise<number> {
    const admin = await provena.chain.provider.getSigner(0);
    const registry = registryAt(provena.chain.deployment.registry, admin);
    const receipt = await (await registry.onboardParticipant(account, ROLE_HASHES.CARRIER, glnFrom("841234500002"), name)).wait();
    await provena.indexer.waitForBlock(receipt!.blockNumber, { timeoutMs: 30_000 });
    return receipt!.blockNumber;
  }

  /** Waits until the leg's readings are anchored (when there is a leg) and the relayer has nothing queued or in flight. */
  async function backgroundWorkDone(provena: RunningProvena, legId: Hex | null): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const anchored = legId === null || (await provena.store.listReadingsAnchorPlans(legId)).length > 0;
      const pending = await provena.store.listRelays(["queued", "submitted"], 1);
      if (anchored && pending.length === 0) return;
      if (Date.now() > deadline)
        throw new Error(`background work not done in 60 s (leg anchored: ${anchored}, relay jobs pending: ${pending.length})`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  async function caughtUp(provena: RunningProvena): Promise<number> {
    const head = await provena.chain.provider.getBlockNumber();
    await provena.indexer.waitForBlock(head, { timeoutMs: 30_000 });
    return head;
  }

  describe("when anvil is installed", function () {
    before(function () {
      if (!anvilAvailable) {
        console.log("    skipped: no anvil binary for this platform (@foundry-rs/anvil's platform package is not installed)");
        this.skip();
      }
    });

    it("test_startProvena_anvilRestart_findsTheSameDeploymentAndHistoryWithoutRedeploying", async function () {
      const first = await start();
      expect(first.chain).to.include({ kind: "anvil", startedEmpty: true, deployedNow: true, chainId: 31337 });
      const carrier = "0x00000000000000000000000000000000000c0ffe" as Hex;
      const onboardedIn = await onboard(first, carrier, "Persistent Freight");
      const head = await caughtUp(first);
      const headHash = (await first.chain.provider.getBlock(head))!.hash;
      const events = await first.store.countEvents(31337);
      const deployment = first.chain.deployment;
      const relayer = first.relayer!.address;
      await stop(first);

      const deploymentFile = JSON.parse(await readFile(path.join(dataDir, "chain", "deployment.json"), "utf8")) as unknown;
      expect(deploymentFile).to.deep.equal(deployment);

      const second = await start();
      expect(second.chain).to.include({ kind: "anvil", startedEmpty: false, deployedNow: false });
      expect(second.chain.deployment).to.deep.equal(deployment);
      expect(second.relayer!.address).to.equal(relayer);
      expect((await second.chain.provider.getBlock(head))!.hash).to.equal(headHash);
      expect(await second.chain.provider.getBlockNumber()).to.equal(head);
      await caughtUp(second);
      expect(second.indexer.status().reorgs).to.equal(0);
      expect(await second.store.countEvents(31337)).to.equal(events);
      expect(await second.store.getParticipant(carrier)).to.include({ name: "Persistent Freight" });
      expect((await second.store.getParticipant(carrier))!.lastEvent.blockNumber).to.equal(onboardedIn);
    });

    it("test_startProvena_chainDeployedFromOlderContracts_refusesNamingThemAndHowToStartAnew", async function () {
      const first = await start();
      const { productData } = first.chain.deployment;
      // An upgrade of Provena between two starts: one contract's code is not this build's any more ...
      const other = JSON.parse(await readFile(path.join("artifacts", "contracts", "LogisticUnits.sol", "LogisticUnits.json"), "utf8")) as {
        deployedBytecode: string;
      };
      await first.chain.provider.send("anvil_setCode", [productData, other.deployedBytecode]);
      await stop(first);
      // ... and the deployment predates another one.
      const deploymentFile = path.join(dataDir, "chain", "deployment.json");
      const deployment = JSON.parse(await readFile(deploymentFile, "utf8")) as Record<string, unknown>;
      delete deployment.transformations;
      await writeFile(deploymentFile, JSON.stringify(deployment));

      const refused = await startProvena(configIn(dataDir), { logger: pino({ level: "silent" }) }).then(
        (provena) => {
          running.push(provena);
          throw new Error("started on a chain deployed from older contracts");
        },
        (error: unknown) => error as Error,
      );
      expect(refused.name).to.equal("StartupError");
      expect(refused.message).to.include("ProductDataRegistry changed since");
      expect(refused.message).to.include("Transformations not deployed there");
      expect(refused.message).to.include(`mv ${path.join(dataDir, "chain")} ${path.join(dataDir, "chain")}.old`);
      expect(refused.message).to.include(`mv ${path.join(dataDir, "provena.db")} ${path.join(dataDir, "provena.db")}.old`);
      expect(JSON.parse(await readFile(deploymentFile, "utf8")), "nothing redeployed").to.deep.equal(deployment);
    });

    it("test_startProvena_anvilStateOlderThanTheStore_mirrorRollsBackToTheChain", async function () {
      const first = await start();
      await onboard(first, "0x00000000000000000000000000000000000c0001" as Hex, "Kept Freight");
      const savedHead = await caughtUp(first);
      await stop(first);
      const stateFile = anvilStateFile(path.join(dataDir, "chain"));
      await copyFile(stateFile, `${stateFile}.saved`);

      const second = await start();
      const lost = "0x00000000000000000000000000000000000c0002" as Hex;
      await onboard(second, lost, "Lost Freight");
      await stop(second);
      // A crash after the store committed but before anvil's next state save: the chain comes back shorter.
      await copyFile(`${stateFile}.saved`, stateFile);

      const third = await start();
      expect(third.chain.deployedNow).to.equal(false);
      expect(await third.chain.provider.getBlockNumber()).to.equal(savedHead);
      const deadline = Date.now() + 30_000;
      while ((await third.store.getParticipant(lost)) !== null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(await third.store.getParticipant(lost), "the lost block's participant left the mirror").to.equal(null);
      expect(third.indexer.status().reorgs).to.be.at.least(1);
      expect(await third.store.getParticipant("0x00000000000000000000000000000000000c0001" as Hex)).to.include({ name: "Kept Freight" });
      // And the chain goes on from there: a new block is mirrored on top of the saved head.
      const next = await onboard(third, "0x00000000000000000000000000000000000c0003" as Hex, "New Freight");
      expect(next).to.equal(savedHead + 1);
    });

    it("test_seedDemoUnlessPresent_secondStart_seedsNothingAndFindsTheSameDemo", async function () {
      const first = await start();
      const seeded = await seedDemoUnlessPresent(first, {
        log: () => undefined,
        units: 20,
        disputeWindowSeconds: 1,
        publicBaseUrl: PUBLIC_BASE_URL,
      });
      expect(seeded.seededNow).to.equal(true);
      const demo = seeded.seededNow ? seeded.result : seeded.links;
      // The demo's detached leg is anchored by the backend right after the demo ends; a second start that sent that
      // late anchor would look like a second seeding, so the first start's own work has to be finished first.
      await backgroundWorkDone(first, seeded.seededNow ? (seeded.result.coldChain?.legId ?? null) : null);
      const head = await caughtUp(first);
      await stop(first);

      const second = await start();
      const lines: string[] = [];
      const again = await seedDemoUnlessPresent(second, { log: (line) => lines.push(line), units: 20, publicBaseUrl: PUBLIC_BASE_URL });
      expect(again.seededNow).to.equal(false);
      const links = again.seededNow ? again.result : again.links;
      expect(links).to.deep.include({ lot: demo.lot, batchId: demo.batchId, orderId: demo.orderId, batchUrl: demo.batchUrl });
      expect(links.unitUrls).to.deep.equal(demo.unitUrls);
      expect(await second.chain.provider.getBlockNumber(), "no transaction sent").to.equal(head);
      expect(lines).to.deep.equal([]);
      await stop(second);

      // A new store on the same chain: the mirror is rebuilt from the chain and the serial list stored again.
      const third = await start({}, { sqlitePath: path.join(dataDir, "new-store.db") });
      const onNewStore = await seedDemoUnlessPresent(third, { log: () => undefined, units: 20, publicBaseUrl: PUBLIC_BASE_URL });
      expect(onNewStore.seededNow).to.equal(false);
      expect(await third.chain.provider.getBlockNumber(), "no transaction sent").to.equal(head);
      expect((await third.store.getSerialSet(demo.serialRoot))?.serials).to.have.length(20);
      const unit = await fetch(`${third.url}/01/${demo.gtin}/10/${demo.lot}/21/SN0000001`, { headers: { accept: "application/ld+json" } });
      expect(unit.status).to.equal(200);
    });

    it("test_startEmbeddedAnvil_directoryInUseByARunningAnvil_refusesNamingItsPid", async function () {
      const dir = path.join(dataDir, "chain");
      const first = await startEmbeddedAnvil({ binary: resolveAnvilBinary(), dir, port: 0 });
      try {
        const second = await startEmbeddedAnvil({ binary: resolveAnvilBinary(), dir, port: 0 }).then(
          async (anvil) => {
            await anvil.stop();
            return "started";
          },
          (error: Error) => error.message,
        );
        expect(second).to.match(/is in use by anvil \(pid \d+\).*kill \d+/);
      } finally {
        await first.stop();
      }
      // Stopped cleanly: the directory is free again, and the chain resumes from the state anvil wrote on exit.
      const again = await startEmbeddedAnvil({ binary: resolveAnvilBinary(), dir, port: 0 });
      expect(again.resumed).to.equal(true);
      await again.stop();
    });

    it("test_findDemoLot_lotLeftHalfway_passesOverItToTheNextFreeLot", async function () {
      const provena = await start();
      // An interrupted run: the demo's first lot registered, then the process stopped before the order.
      const interrupted = seedDemoUnlessPresent(provena, {
        units: 5,
        log: (line) => {
          if (line.startsWith("3/9")) throw new Error("interrupted");
        },
      });
      const outcome = await interrupted.then(
        () => "completed",
        (error: Error) => error.message,
      );
      expect(outcome).to.equal("interrupted");
      const lines: string[] = [];
      const found = await findDemoLot(provena, { log: (line) => lines.push(line) });
      expect(found.kind).to.equal("free");
      expect(found.kind === "free" && found.lot).to.equal("OLV-DEMO-2");
      expect(lines.join("\n")).to.match(/OLV-DEMO-1 was left unfinished/);
    });
  });

  describe("when the anvil binary is missing", function () {
    it("test_startProvena_anvilMissing_fallsBackToTheInProcessChainWithAWarning", async function () {
      const warnings: string[] = [];
      const capture = new Writable({
        write(chunk: Buffer, _encoding, done) {
          warnings.push(chunk.toString("utf8"));
          done();
        },
      });
      const provena = await startProvena(configIn(dataDir), {
        logger: pino({ level: "warn" }, capture),
        resolveAnvilBinary: () => resolveAnvilBinary({ platform: "linux", arch: "riscv64" }),
      });
      running.push(provena);
      expect(provena.chain).to.include({ kind: "in-process", startedEmpty: true });
      expect(provena.chain.description).to.contain("vanishes on exit");
      const warning = warnings.map((line) => JSON.parse(line) as { msg: string }).find((entry) => entry.msg.includes("falling back"));
      expect(warning?.msg).to.contain("no binary for linux-riscv64");
      expect(warning?.msg).to.contain("will NOT persist");
    });

    it("test_resolveAnvilBinary_platformPackageNotInstalled_namesThePackage", function () {
      const other = process.platform === "darwin" ? { platform: "linux", arch: "arm64" } : { platform: "darwin", arch: "arm64" };
      const expected = other.platform === "darwin" ? "@foundry-rs/anvil-darwin-arm64" : "@foundry-rs/anvil-linux-arm64";
      expect(() => resolveAnvilBinary(other))
        .to.throw(EmbeddedAnvilError)
        .with.property("message")
        .that.contains(`${expected} is not installed`);
    });
  });
});
