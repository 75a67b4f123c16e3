import { createRequire } from "node:module";
import { defineConfig } from "hardhat/config";
import hardhatToolboxMochaEthers from "@nomicfoundation/hardhat-toolbox-mocha-ethers";

const require = createRequire(import.meta.url);

export default defineConfig({
  plugins: [hardhatToolboxMochaEthers],
  solidity: {
    profiles: {
      default: {
        version: "0.8.30",
        path: require.resolve("solc/soljson.js"),
        settings: { optimizer: { enabled: true, runs: 10_000 }, evmVersion: "cancun" },
      },
    },
  },
  networks: {
    hardhatMainnet: { type: "edr-simulated", chainType: "l1" },
  },
  paths: {
    // Ignition modules live under scripts/ (the top level holds only contracts/ backend/ scripts/ test/).
    ignition: "scripts/ignition",
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
