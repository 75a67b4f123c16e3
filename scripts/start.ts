/**
 * `npm start`: the whole system on embedded defaults, seeded with a demo trade, serving until Ctrl-C.
 *
 *   hardhat build --no-tests --quiet && node --import tsx scripts/start.ts          (npm start)
 *
 * The build compiles only contracts/ (and nothing when the sources are unchanged); this script reads the
 * artifacts and needs no Hardhat runtime unless the chain is Hardhat's in-process one.
 *
 * Configuration comes from the environment (backend/config.ts). Without RPC_URL the chain is the embedded one
 * (anvil keeping its state in data/chain, JSON-RPC on 127.0.0.1:8545 when free) and the demo is seeded where it is
 * missing; with RPC_URL the backend follows that chain and no demo is seeded. PROVENA_EXIT_AFTER_DEMO=1 stops after
 * the demo (CI, smoke tests). PROVENA_DEMO=0 skips the demo. `npm start -- --cold-chain-breach` (or
 * DEMO_COLD_CHAIN=breach) seeds the warm-afternoon demo instead: its refrigerated leg breaches the conditions.
 */
import { createServer } from "node:net";
import { Writable } from "node:stream";
import { pino, type Logger } from "pino";
import QRCode from "qrcode";
import { ConfigError, loadConfig, type Config } from "../backend/config.ts";
import { startProvena, type RunningProvena } from "../backend/main.ts";
import { coldChainScenarioOf, seedDemoUnlessPresent } from "./demo.ts";

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const env = process.env;
  const exitAfterDemo = env.PROVENA_EXIT_AFTER_DEMO === "1" || env.PROVENA_EXIT_AFTER_DEMO === "true";
  const seedDemo = env.PROVENA_DEMO !== "0" && config.rpcUrl === null;
  // The demo reads best without a JSON log line per request: warnings only, as sentences. LOG_LEVEL brings back the
  // JSON log at that level.
  const logger = env.LOG_LEVEL ? pino({ level: config.logLevel }) : sentenceLogger();
  // A demo should settle within seconds, not the production keeper cadence.
  if (seedDemo && !env.KEEPER_INTERVAL_MS) config = { ...config, keeperIntervalMs: 1_000 };

  // Signals are handled from the start: a Ctrl-C while the chain starts must still stop it (it runs in its own
  // process group, so the terminal's signal reaches Provena only).
  let provena: RunningProvena | null = null;
  let stopping = false;
  const stopAndExit = async () => {
    const force = setTimeout(() => {
      console.error("provena: shutdown took longer than 10 s; exiting");
      process.exit(1);
    }, 10_000);
    force.unref();
    await provena!.stop();
    console.log("stopped.");
    process.exit(0);
  };
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: shutting down (workers, HTTP server, store, chain)…`);
    // Still starting: startProvena's caller stops it as soon as it is up.
    if (provena !== null) await stopAndExit();
  };
  process.once("SIGINT", () => void shutdown("SIGINT"));
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  // A closed terminal: stop cleanly too, so the embedded chain saves its state instead of being left running.
  process.once("SIGHUP", () => void shutdown("SIGHUP"));

  console.log("Provena: starting…");
  try {
    provena = await startProvena(config, { logger, embeddedChainPort: (await isPortFree(8545)) ? 8545 : 0 });
  } catch (error) {
    console.error(`provena: ${(error as Error).message}`);
    process.exit(1);
  }
  if (stopping) return stopAndExit();

  const { chain } = provena;
  console.log(`  chain:     ${chain.description}`);
  console.log(
    `  contracts: forwarder ${chain.deployment.forwarder}, registry ${chain.deployment.registry}, escrow ${chain.deployment.escrow}${chain.deployedNow ? " (deployed now with the Ignition module)" : ""}`,
  );
  console.log(`  store:     ${provena.store.describe()}`);
  console.log(`  relayer:   ${provena.relayer ? provena.relayer.address : "off (no RELAYER_PRIVATE_KEY / RELAYER_KEYSTORE)"}`);
  console.log(`  API:       ${provena.url}  (OpenAPI: ${provena.url}/openapi.json)`);

  if (seedDemo) {
    try {
      const seeded = await seedDemoUnlessPresent(provena, {
        publicBaseUrl: config.publicBaseUrl,
        log: (line) => console.log(line),
        onSeeding: () => console.log("\nSeeding a demo trade:"),
        coldChain: coldChainScenarioOf(process.argv, env),
      });
      const demo = seeded.seededNow ? seeded.result : seeded.links;
      if (!seeded.seededNow)
        console.log(`\nThe demo trade is on the chain from an earlier run (batch ${demo.gtin}/${demo.lot}); nothing to seed.`);
      console.log("\nPassports (GS1 Digital Link; HTML in a browser, JSON-LD with Accept: application/ld+json):");
      console.log(`  batch: ${demo.batchUrl}`);
      for (const url of demo.unitUrls) console.log(`  unit:  ${url}`);
      console.log(`\nScan unit ${demo.serials[0]}:`);
      console.log(await QRCode.toString(demo.unitUrls[0], { type: "terminal", small: true }));
      console.log(
        `Order ${demo.orderId} was released by the keeper; the relay status of every gasless action is at ${provena.url}/api/v1/relay/requests/<id>.`,
      );
    } catch (error) {
      console.error(`provena: the demo failed: ${(error as Error).message}`);
      await provena.stop();
      process.exit(1);
    }
  } else if (config.rpcUrl !== null) {
    console.log("\nRPC_URL is set: following that chain; no demo is seeded (it needs the embedded chain's funded dev accounts).");
  }

  if (exitAfterDemo) {
    await provena.stop();
    console.log("PROVENA_EXIT_AFTER_DEMO: stopped after the demo.");
    process.exit(0);
  }
  console.log("\nServing. Press Ctrl-C to stop.");
}

/**
 * Warnings and errors as one readable line each on stderr ("warning (indexer): reorg detected; … [reason: …]"),
 * instead of pino's JSON, for a person watching the demo.
 */
const LOG_BOOKKEEPING_KEYS = new Set(["level", "time", "pid", "hostname", "msg", "component", "instanceId", "chainId"]);

function sentenceLogger(): Logger {
  const lines = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const raw of chunk.toString("utf8").split("\n").filter(Boolean)) {
        let entry: Record<string, unknown>;
        try {
          entry = JSON.parse(raw) as Record<string, unknown>;
        } catch {
          console.error(raw);
          continue;
        }
        const label = typeof entry.level === "number" && entry.level >= 50 ? "error" : "warning";
        const component = typeof entry.component === "string" ? ` (${entry.component})` : "";
        const facts = Object.entries(entry)
          .filter(([key]) => !LOG_BOOKKEEPING_KEYS.has(key))
          .map(([key, value]) => `${key}: ${typeof value === "string" ? value : JSON.stringify(value)}`)
          .join("; ");
        console.error(`${label}${component}: ${String(entry.msg)}${facts ? ` [${facts}]` : ""}`);
      }
      done();
    },
  });
  return pino({ level: "warn" }, lines);
}

function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}

await main();
