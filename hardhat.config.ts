import { createRequire } from "node:module";
import { configVariable, defineConfig } from "hardhat/config";
import hardhatToolboxMochaEthers from "@nomicfoundation/hardhat-toolbox-mocha-ethers";

const require = createRequire(import.meta.url);

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
          // The escrow's settlement paths are gas-budgeted (issue 3: open+fund + release <= 150,000 in ETH);
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
    // Solidity tests: every .sol under test/ (and *.t.sol under contracts/). Modest fuzz/invariant
    // budgets keep the suite fast on a shared 2-core machine; raise them locally for deeper runs.
    solidity: {
      fuzz: { runs: 256 },
      invariant: { runs: 48, depth: 40 },
    },
  },
});
