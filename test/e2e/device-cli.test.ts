/**
 * `provena device …` and `provena conditions set` as carriers and manufacturers run them (a process per command,
 * keys from the environment) against a running Provena: in-process chain, embedded store, relayer, and the embedded
 * MQTT broker the simulated device publishes to.
 */
import { expect } from "chai";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { Wallet, id as keccakText, parseEther, type JsonRpcSigner } from "ethers";
import { pino } from "pino";
import { loadProvenaAbis } from "../../backend/chain/artifacts.ts";
import { coldChainAt, registryAt } from "../../backend/chain/contracts.ts";
import { batchIdOf, gs1CheckDigit } from "../../backend/chain/gs1.ts";
import { ROLE_HASHES, businessStepValue } from "../../backend/chain/vocabulary.ts";
import { loadConfig } from "../../backend/config.ts";
import { startProvena, type RunningProvena } from "../../backend/main.ts";
import type { Hex } from "../../backend/domain/model.ts";

const run = promisify(execFile);
const CLI = path.resolve("scripts/cli.ts");
// Hardhat's well-known development account 1, the manufacturer here.
const MANUFACTURER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const gln = (twelve: string) => BigInt(twelve + gs1CheckDigit(twelve));
const GTIN = "0950600013442" + gs1CheckDigit("0950600013442");

describe("provena device (CLI)", function () {
  this.timeout(120_000);
  let provena: RunningProvena;
  let workdir: string;
  let batchId: Hex;
  const carrier = Wallet.createRandom();
  const asCarrier = () => ({ PROVENA_PRIVATE_KEY: carrier.privateKey });
  const asManufacturer = { PROVENA_PRIVATE_KEY: MANUFACTURER_KEY };

  async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await run(process.execPath, ["--import", "tsx", CLI, ...args], {
        env: {
          PATH: process.env.PATH ?? "",
          HOME: process.env.HOME ?? "",
          RPC_URL: provena.chain.rpcUrl,
          PROVENA_API_URL: provena.url,
          ...env,
        },
        timeout: 60_000,
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof failed.code === "number" ? failed.code : -1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
    }
  }

  before(async function () {
    const config = {
      ...loadConfig({ LOG_LEVEL: "silent", SQLITE_PATH: ":memory:", EMBEDDED_CHAIN: "hardhat" }),
      port: 0,
      // The embedded broker on a free port (MQTT_PORT=0 would turn it off).
      mqtt: { kind: "embedded" as const, host: "127.0.0.1", port: 0 },
    };
    provena = await startProvena(config, { logger: pino({ level: "silent" }) });
    workdir = await mkdtemp(path.join(tmpdir(), "provena-device-cli-"));
    // A manufacturer's batch, picked up by a carrier (funded, so it can also send its own transactions).
    const admin = await provena.chain.provider.getSigner(0);
    const manufacturer = await provena.chain.provider.getSigner(1);
    const registry = (signer: JsonRpcSigner | Wallet) =>
      registryAt(provena.chain.deployment.registry, signer, loadProvenaAbis().ProvenanceRegistry);
    const mined = async (tx: Promise<{ wait(): Promise<unknown> }>) => void (await (await tx).wait());
    await mined(registry(admin).onboardParticipant(await manufacturer.getAddress(), ROLE_HASHES.MANUFACTURER, gln("841234500001"), "Acme"));
    await mined(registry(admin).onboardParticipant(carrier.address, ROLE_HASHES.CARRIER, gln("841234500002"), "Reefer Lines"));
    await mined(registry(admin).grantCompanyPrefix(await manufacturer.getAddress(), 9_506_000n, 7));
    const { timestamp } = (await provena.chain.provider.getBlock("latest"))!;
    await mined(
      registry(manufacturer).registerBatch(
        BigInt(GTIN),
        "COLD-1",
        10n,
        timestamp - 3_600,
        gln("841234500001"),
        keccakText("doc"),
        keccakText("serials"),
      ),
    );
    batchId = batchIdOf(GTIN, "COLD-1") as Hex;
    await mined(registry(manufacturer).proposeHandoff(batchId, carrier.address, gln("841234500001"), businessStepValue("shipping")));
    await mined(admin.sendTransaction({ to: carrier.address, value: parseEther("1") }));
    const carrierSigner = new Wallet(carrier.privateKey, provena.chain.provider);
    await mined(registry(carrierSigner).acceptHandoff(batchId, gln("841234500002"), businessStepValue("departing")));
  });

  after(async function () {
    await provena?.stop();
    if (workdir) await rm(workdir, { recursive: true, force: true });
  });

  it("test_deviceCli_keygenRegisterConditionsAttachSimulateReadingsDetach", async function () {
    const keyFile = path.join(workdir, "sensor.json");
    const stranger = Wallet.createRandom().address;
    // Independent commands run side by side: each is a process of its own.
    const [keygen, unregistered, conditionsSet] = await Promise.all([
      cli(["device", "keygen", "--out", keyFile]),
      cli(["device", "attach", stranger, "--batch", batchId], asCarrier()),
      // The manufacturer sets the batch's conditions in °C and minutes; the chain holds hundredths and seconds.
      cli(
        ["conditions", "set", "--batch", `${GTIN}/COLD-1`, "--min-temp", "2", "--max-temp", "8°C", "--allowed-excursion", "30m"],
        asManufacturer,
      ),
    ]);
    expect(keygen.code, keygen.stderr).to.equal(0);
    const key = JSON.parse(await readFile(keyFile, "utf8")) as { address: string; privateKey: string };
    expect(new Wallet(key.privateKey).address).to.equal(key.address);
    expect((await stat(keyFile)).mode & 0o777).to.equal(0o600);
    expect(keygen.stdout).to.contain(key.address);
    expect(keygen.stderr).to.contain("SECRET");
    const device = key.address;
    const coldChain = coldChainAt(provena.chain.deployment.coldChain!, provena.chain.provider);
    // Unregistered, a device cannot be attached: the CLI says what to do.
    expect(unregistered.code).to.equal(1);
    expect(unregistered.stderr).to.contain(`device ${stranger} is not registered: its carrier registers it with \`provena device register`);
    expect(conditionsSet.code, conditionsSet.stderr).to.equal(0);
    expect(conditionsSet.stdout).to.contain("2 to 8 °C, 30 min allowed excursion");
    const [conditions, isSet] = await coldChain.conditionsOf(batchId);
    expect([...conditions].map(Number)).to.deep.equal([200, 800, 0, 10_000, 1_800]);
    expect(isSet).to.equal(true);

    // Registration goes gasless through the relayer.
    let result = await cli(["--relay", "device", "register", device], asCarrier());
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.contain(`✓ device ${device} registered to carrier ${carrier.address} (gasless`);
    expect((await coldChain.device(device))[0]).to.equal(carrier.address);

    result = await cli(["device", "attach", device, "--batch", batchId], asCarrier());
    expect(result.code, result.stderr).to.equal(0);
    const [, , legId] = await coldChain.device(device);
    expect(result.stdout).to.contain(`leg ${legId}`);
    await provena.indexer.waitForBlock(await provena.chain.provider.getBlockNumber(), { timeoutMs: 30_000 });

    // The device publishes three signed readings over MQTT (QoS 1) to the embedded broker, a second apart.
    result = await cli([
      "device",
      "simulate",
      "--key",
      keyFile,
      "--batch",
      batchId,
      "--mqtt",
      provena.mqttUrl!,
      "--interval",
      "1s",
      "--count",
      "3",
    ]);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.contain("✓ 3 readings published (sequences 1-3");
    const stored = await provena.store.listReadings({ legId: legId.toLowerCase() as Hex }, { limit: 10 });
    expect(stored.items.map((reading) => reading.sequence)).to.deep.equal([1, 2, 3]);

    // Over HTTP the next reading carries on from the last sequence the backend accepted, and says it was accepted.
    const [http, show] = await Promise.all([
      cli(["device", "simulate", "--key", key.privateKey, "--batch", batchId, "--http", provena.url, "--count", "1"]),
      cli(["device", "show", device]),
    ]);
    expect(http.code, http.stderr).to.equal(0);
    expect(http.stdout).to.match(/#4 .* accepted/);
    expect(show.code, show.stderr).to.equal(0);
    expect(JSON.parse(show.stdout)).to.deep.include({
      address: device.toLowerCase(),
      carrier: carrier.address.toLowerCase(),
      currentLegId: legId.toLowerCase(),
    });

    // A page of readings, and the cursor to continue from.
    result = await cli(["device", "readings", "--leg", legId, "--limit", "3", "--json"]);
    expect(result.code, result.stderr).to.equal(0);
    expect(
      result.stdout
        .trim()
        .split("\n")
        .map((line) => (JSON.parse(line) as { sequence: number }).sequence),
    ).to.deep.equal([1, 2, 3]);
    expect(result.stderr).to.match(/… more: --cursor \S+/);

    result = await cli(["device", "detach", device], asCarrier());
    expect(result.code, result.stderr).to.equal(0);
    expect((await coldChain.device(device))[2]).to.equal(`0x${"00".repeat(32)}`);
    // Detached, it is attached to nothing: the simulator refuses to publish rather than have every reading rejected.
    await provena.indexer.waitForBlock(await provena.chain.provider.getBlockNumber(), { timeoutMs: 30_000 });
    result = await cli(["device", "simulate", "--key", keyFile, "--batch", batchId, "--mqtt", provena.mqttUrl!, "--count", "1"]);
    expect(result.code).to.equal(1);
    expect(result.stderr).to.contain(`device ${device} is not attached to batch ${batchId}`);
    expect(await provena.store.rejectionCounts()).to.deep.equal({});
  });

  it("test_deviceCli_badUnitsAndUnknownDevices_areRefusedReadably", async function () {
    const [badDuration, minAboveMax, unknownDevice] = await Promise.all([
      cli(["conditions", "set", "--batch", batchId, "--min-temp", "2", "--max-temp", "8", "--allowed-excursion", "30x"]),
      cli(["conditions", "set", "--batch", batchId, "--min-temp", "8", "--max-temp", "2", "--allowed-excursion", "30m"], asManufacturer),
      cli(["device", "simulate", "--key", Wallet.createRandom().privateKey, "--batch", batchId, "--count", "1"]),
    ]);
    expect(badDuration.code).to.equal(1);
    expect(badDuration.stderr).to.contain("'30x' is invalid. must be a duration like 90, 90s, 30m");
    expect(minAboveMax.code).to.equal(1);
    expect(minAboveMax.stderr).to.contain("--min-temp 8 °C must be below --max-temp 2 °C");
    expect(unknownDevice.code).to.equal(1);
    expect(unknownDevice.stderr).to.match(/device 0x[0-9a-fA-F]{40} is not registered/);
  });
});
