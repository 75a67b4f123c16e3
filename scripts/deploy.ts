/**
 * Deploys Provena to any EVM network with its Ignition module and writes the one deployment file the backend
 * and the CLI read:
 *
 *   npm run deploy -- --network sepolia        (hardhat run scripts/deploy.ts --network sepolia)
 *
 * Networks and keys are configured in hardhat.config.ts from configuration variables (environment or
 * `npx hardhat keystore set …`). Ignition journals every step under backend/deploy/ignition/deployments/chain-<id>,
 * so an interrupted deployment resumes where it stopped when run again.
 *
 * Environment:
 *   DEPLOY_PARAMETERS  Ignition parameters JSON file ({ "ProvenaModule": { "admin": "0x…", … } }); set "anchorer" to
 *                      the relayer's address so the backend can anchor cold-chain readings (ANCHORER_ROLE)
 *   DEPLOYMENT_FILE    where to write the deployment (default backend/chain/deployments/<chainId>.json)
 */
import path from "node:path";
import { network } from "hardhat";
import { resolveDeploymentFile, writeDeployment, type Deployment } from "../backend/chain/deployment.ts";
import { assertDeployedCode, creationBlock, ignitionJournalDir } from "../backend/deploy/deploy-provena.ts";
import ProvenaModule from "../backend/deploy/ignition/ProvenaModule.ts";
import type { Hex } from "../backend/domain/model.ts";

const connection = await network.connect();
const { ethers, ignition, networkName } = connection;
const chainId = Number((await ethers.provider.getNetwork()).chainId);
const [deployer] = await ethers.getSigners();
if (!deployer) throw new Error(`network ${networkName} has no account to deploy from: set DEPLOYER_PRIVATE_KEY`);
console.log(
  `Deploying Provena to ${networkName} (chain ${chainId}) from ${deployer.address}, balance ${ethers.formatEther(await ethers.provider.getBalance(deployer.address))} ETH`,
);

const startBlock = await ethers.provider.getBlockNumber();
const deployed = await ignition.deploy(ProvenaModule, {
  parameters: process.env.DEPLOY_PARAMETERS ?? {},
  displayUi: true,
});
const contracts = deployed as unknown as Record<string, { getAddress(): Promise<string> } | undefined>;
const addressOf = async (key: string): Promise<Hex> => {
  const contract = contracts[key];
  if (!contract) throw new Error(`ProvenaModule returned no ${key}: it must return { forwarder, registry, escrow, coldChain }`);
  return (await contract.getAddress()).toLowerCase() as Hex;
};
const addresses = {
  forwarder: await addressOf("forwarder"),
  registry: await addressOf("registry"),
  escrow: await addressOf("escrow"),
  coldChain: await addressOf("coldChain"),
  ...(contracts.designRegistry ? { designRegistry: await addressOf("designRegistry") } : {}),
  ...(contracts.productData ? { productData: await addressOf("productData") } : {}),
  ...(contracts.unitOwnership ? { unitOwnership: await addressOf("unitOwnership") } : {}),
  ...(contracts.logisticUnits ? { logisticUnits: await addressOf("logisticUnits") } : {}),
  ...(contracts.transformations ? { transformations: await addressOf("transformations") } : {}),
};
await assertDeployedCode(ethers.provider, chainId, addresses, path.relative(process.cwd(), ignitionJournalDir(chainId)));
// Where the indexer starts: the block the first contract got its code (a resumed deployment started earlier).
const blocks = await Promise.all(
  Object.values(addresses).map((address) => creationBlock(ethers.provider, address).catch(() => startBlock)),
);
const deployment: Deployment = { chainId, ...addresses, deployBlock: Math.min(...blocks) };

if (connection.networkConfig.type === "edr-simulated") {
  console.log(
    `\n${networkName} is an in-process simulated network: it vanishes when this process exits, so no deployment file was written.`,
  );
  console.log("Pass --network <name> to deploy to a real chain (see hardhat.config.ts).");
} else {
  const file = resolveDeploymentFile(process.env.DEPLOYMENT_FILE ?? null, chainId);
  await writeDeployment(file, deployment);
  console.log(`\nDeployment file written: ${file}`);
}
console.log(JSON.stringify(deployment, null, 2));
console.log("\nNext: RPC_URL=<this network's URL> RELAYER_PRIVATE_KEY=<a funded key> npm start");
await connection.close();
