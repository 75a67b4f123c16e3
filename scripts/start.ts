/**
 * `npm start`: the whole system on embedded defaults, seeded with a demo trade, serving until Ctrl-C.
 *
 *   hardhat run scripts/start.ts          (npm start)
 *
 * Configuration comes from the environment (backend/config.ts). Without RPC_URL the chain is Hardhat's
 * in-process one (JSON-RPC on 127.0.0.1:8545 when free) and the demo is seeded; with RPC_URL the backend
 * follows that chain and no demo is seeded. PROVENA_EXIT_AFTER_DEMO=1 stops after the demo (CI, smoke tests).
 * PROVENA_DEMO=0 skips the demo.
 */
import { createServer } from "node:net";
import { pino } from "pino";
import QRCode from "qrcode";
import { ConfigError, loadConfig, type Config } from "../backend/config.ts";
import { startProvena, type RunningProvena } from "../backend/main.ts";
import { runDemo } from "./demo.ts";

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
  // The demo reads best without a JSON log line per request; LOG_LEVEL=info brings them back.
  const logger = pino({ level: env.LOG_LEVEL ? config.logLevel : "warn" });
  // A demo should settle within seconds, not the production keeper cadence.
  if (seedDemo && !env.KEEPER_INTERVAL_MS) config = { ...config, keeperIntervalMs: 1_000 };

  console.log("Provena: starting…");
  let provena: RunningProvena;
  try {
    provena = await startProvena(config, { logger, inProcessRpcPort: (await isPortFree(8545)) ? 8545 : 0 });
  } catch (error) {
    console.error(`provena: ${(error as Error).message}`);
    process.exit(1);
  }

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: shutting down (workers, HTTP server, store, chain)…`);
    const force = setTimeout(() => {
      console.error("provena: shutdown took longer than 10 s; exiting");
      process.exit(1);
    }, 10_000);
    force.unref();
    await provena.stop();
    console.log("stopped.");
    process.exit(0);
  };
  process.once("SIGINT", () => void shutdown("SIGINT"));
  process.once("SIGTERM", () => void shutdown("SIGTERM"));

  const { chain } = provena;
  console.log(`  chain:     ${chain.description}`);
  console.log(
    `  contracts: forwarder ${chain.deployment.forwarder}, registry ${chain.deployment.registry}, escrow ${chain.deployment.escrow}${chain.deployedNow ? " (deployed now with the Ignition module)" : ""}`,
  );
  console.log(`  store:     ${provena.store.describe()}`);
  console.log(`  relayer:   ${provena.relayer ? provena.relayer.address : "off (no RELAYER_PRIVATE_KEY / RELAYER_KEYSTORE)"}`);
  console.log(`  API:       ${provena.url}  (OpenAPI: ${provena.url}/openapi.json)`);

  if (seedDemo) {
    console.log("\nSeeding a demo trade:");
    try {
      const demo = await runDemo(provena, { publicBaseUrl: config.publicBaseUrl });
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
    console.log("\nRPC_URL is set: following that chain; no demo is seeded (it needs the in-process chain's funded accounts).");
  }

  if (exitAfterDemo) {
    await provena.stop();
    console.log("PROVENA_EXIT_AFTER_DEMO: stopped after the demo.");
    process.exit(0);
  }
  console.log("\nServing. Press Ctrl-C to stop.");
}

function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}

await main();
