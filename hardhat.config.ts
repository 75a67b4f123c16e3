import { createRequire } from "node:module";
import { configVariable, defineConfig } from "hardhat/config";
import hardhatToolboxMochaEthers from "@nomicfoundation/hardhat-toolbox-mocha-ethers";

const require = createRequire(import.meta.url);

/** A positive integer from the environment variable `name`, or `fallback` when it is unset or empty. */
function positiveIntFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return value;
}

export default defineConfig({
  plugins: [hardhatToolboxMochaEthers],
  solidity: {
    profiles: {
      default: {
        compilers: [
          {
            version: "0.8.30",
            path: require.resolve("solc/soljson.js"),
            settings: { optimizer: { enabled: true, runs: 10_000 }, evmVersion: "cancun" },
          },
        ],
        overrides: {
          // The registry is close to the 24,576-byte code size limit; fewer optimizer runs keep it deployable.
          "contracts/ProvenanceRegistry.sol": {
            version: "0.8.30",
            path: require.resolve("solc/soljson.js"),
            settings: { optimizer: { enabled: true, runs: 2_000 }, evmVersion: "cancun" },
          },
          // The escrow's settlement paths are gas-budgeted (open+fund + release <= 150,000 gas in ETH);
          // the IR pipeline saves about 4,000 gas on them. Only this file pays its slower compilation.
          "contracts/TradeEscrow.sol": {
            version: "0.8.30",
            path: require.resolve("solc/soljson.js"),
            settings: { optimizer: { enabled: true, runs: 10_000 }, evmVersion: "cancun", viaIR: true },
          },
        },
      },
    },
  },
  networks: {
    hardhatMainnet: { type: "edr-simulated", chainType: "l1" },
    // Deployment targets for `npm run deploy -- --network <name>` (scripts/deploy.ts). Every value is a
    // configuration variable, read only when that network is used: from the environment, or from Hardhat's
    // encrypted keystore (`npx hardhat keystore set DEPLOYER_PRIVATE_KEY`). See the README, "Deploying".
    sepolia: {
      type: "http",
      chainType: "l1",
      url: configVariable("SEPOLIA_RPC_URL"),
      accounts: [configVariable("DEPLOYER_PRIVATE_KEY")],
    },
    baseSepolia: {
      type: "http",
      chainType: "op",
      url: configVariable("BASE_SEPOLIA_RPC_URL"),
      accounts: [configVariable("DEPLOYER_PRIVATE_KEY")],
    },
    // A permissioned consortium chain (Hyperledger Besu, QBFT/IBFT); free-gas networks run with min-gas-price 0.
    besu: {
      type: "http",
      chainType: "generic",
      url: configVariable("BESU_RPC_URL"),
      accounts: [configVariable("DEPLOYER_PRIVATE_KEY")],
    },
    // Any other EVM network: DEPLOY_RPC_URL names it.
    custom: {
      type: "http",
      chainType: "generic",
      url: configVariable("DEPLOY_RPC_URL"),
      accounts: [configVariable("DEPLOYER_PRIVATE_KEY")],
    },
  },
  paths: {
    // The Ignition module lives with the deployment code that runs it (backend/deploy); journals go under it too.
    ignition: "backend/deploy/ignition",
  },
  test: {
    mocha: { timeout: 120_000 },
    // Solidity tests: every .sol under test/ (and *.t.sol under contracts/). The default fuzz/invariant
    // budgets keep `npm test` fast on a small machine; a deeper run (a CI profile, or locally) raises them
    // through the environment, e.g. `FUZZ_RUNS=5000 INVARIANT_RUNS=500 INVARIANT_DEPTH=100 npm test`.
    solidity: {
      fuzz: { runs: positiveIntFromEnv("FUZZ_RUNS", 256) },
      invariant: { runs: positiveIntFromEnv("INVARIANT_RUNS", 48), depth: positiveIntFromEnv("INVARIANT_DEPTH", 40) },
    },
  },
});
