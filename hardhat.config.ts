import { createRequire } from "node:module";
import { configVariable, defineConfig, overrideTask } from "hardhat/config";
import type { HardhatPlugin } from "hardhat/types/plugins";
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

/**
 * Fuzz and invariant budgets per Solidity test profile, chosen with `HARDHAT_TEST_PROFILE=<name>` (or
 * `npx hardhat test solidity --test-profile <name>`): `default` keeps `npm test` fast on a laptop, `ci` is what
 * `.ci/run` uses, `deep` is for a nightly or pre-release run (`npm run test:deep`). FUZZ_RUNS, INVARIANT_RUNS
 * and INVARIANT_DEPTH override any profile's numbers. Measured times are in the README, "Tests".
 */
const FUZZ_BUDGETS = {
  default: { fuzzRuns: 256, invariantRuns: 48, invariantDepth: 40 },
  ci: { fuzzRuns: 5_000, invariantRuns: 300, invariantDepth: 64 },
  deep: { fuzzRuns: 50_000, invariantRuns: 2_000, invariantDepth: 100 },
};

const solidityTestProfiles = Object.fromEntries(
  Object.entries(FUZZ_BUDGETS).map(([name, budget]) => [
    name,
    {
      fuzz: { runs: positiveIntFromEnv("FUZZ_RUNS", budget.fuzzRuns) },
      invariant: {
        runs: positiveIntFromEnv("INVARIANT_RUNS", budget.invariantRuns),
        depth: positiveIntFromEnv("INVARIANT_DEPTH", budget.invariantDepth),
      },
    },
  ]),
);

// One line before the Solidity tests saying which budgets ran, so a CI log shows the depth it tested at.
const announceSolidityTestProfile = overrideTask(["test", "solidity"])
  .setInlineAction(async (args, hre, runSuper) => {
    const name = (args.testProfile as string | undefined) ?? process.env.HARDHAT_TEST_PROFILE ?? "default";
    const profile = hre.config.test.solidity.profiles[name];
    if (profile !== undefined) {
      console.log(
        `Solidity test profile "${name}": ${profile.fuzz.runs} fuzz runs, ${profile.invariant?.runs} invariant runs of depth ${profile.invariant?.depth}`,
      );
    }
    return runSuper(args);
  })
  .build();

const compileOnEveryCore: HardhatPlugin = {
  id: "provena:compile-on-every-core",
  hookHandlers: { solidity: () => import("./scripts/hardhat/compile-on-every-core.ts") },
};

export default defineConfig({
  plugins: [hardhatToolboxMochaEthers, compileOnEveryCore],
  tasks: [announceSolidityTestProfile],
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
    // Solidity tests: every .sol under test/ (and *.t.sol under contracts/), with the budgets of FUZZ_BUDGETS.
    solidity: { profiles: solidityTestProfiles },
  },
});
