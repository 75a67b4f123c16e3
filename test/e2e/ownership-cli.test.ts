/**
 * `provena ownership keys` as a manufacturer runs it (a separate process, key from the environment) against a
 * JSON-RPC node with a deployment file: the secrets file and the claim tree it writes, the root it commits, and a
 * shopper's claim made with a secret from that file.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { type Contract, ContractFactory, Wallet, keccak256, toUtf8Bytes, type JsonRpcSigner } from "ethers";
import { loadArtifact } from "../../backend/chain/artifacts.ts";
import { writeDeployment } from "../../backend/chain/deployment.ts";
import { connectProvider, type ConnectedProvider } from "../../backend/chain/provider.ts";
import { claimProofOf, signUnitClaim, unitTokenId, type ClaimTree } from "../../backend/chain/unit-claim.ts";
import type { Hex } from "../../backend/domain/model.ts";
import { buildSerialTree, makeSerials, serialProof } from "../helpers/serials.ts";
import { runCli } from "../helpers/cli-process.ts";

// Hardhat's well-known development account 1 (the manufacturer here).
const MANUFACTURER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const GTIN = 8_412_345_000_102n;

async function deployContract(name: string, signer: JsonRpcSigner, args: unknown[]): Promise<Contract> {
  const artifact = loadArtifact(name);
  const contract = await new ContractFactory(artifact.abi, artifact.bytecode, signer).deploy(...args);
  await contract.waitForDeployment();
  return contract as Contract;
}

describe("provena ownership (CLI)", function () {
  this.timeout(180_000);
  let server: Awaited<ReturnType<typeof network.createServer>>;
  let connected: ConnectedProvider;
  let dir: string;
  let rpcUrl: string;
  let deploymentFile: string;
  let registry: Contract;
  let unitOwnership: Contract;
  let admin: JsonRpcSigner;
  let manufacturer: JsonRpcSigner;

  const cli = (args: string[]) => runCli(args, { RPC_URL: rpcUrl, DEPLOYMENT_FILE: deploymentFile, PROVENA_PRIVATE_KEY: MANUFACTURER_KEY });

  /** Registers lot `lot` with `count` serials as the manufacturer and writes its serial file. */
  async function registeredBatch(lot: string, count: number) {
    const serials = makeSerials(count, `${lot}-`);
    const tree = buildSerialTree(serials);
    await (
      await (registry.connect(manufacturer) as Contract).getFunction("registerBatch")(
        GTIN,
        lot,
        BigInt(count),
        1_700_000_000n,
        8_412_345_000_019n,
        keccak256(toUtf8Bytes(lot)),
        tree.root,
      )
    ).wait();
    const batchId = ((await registry.getFunction("batchIdOf")(GTIN, lot)) as string).toLowerCase() as Hex;
    const serialFile = path.join(dir, `${lot}.csv`);
    await writeFile(serialFile, `${serials.join("\n")}\n`);
    return { batchId, serials, tree, serialFile };
  }

  before(async function () {
    server = await network.createServer(undefined, "127.0.0.1", 0);
    const { address, port } = await server.listen();
    rpcUrl = `http://${address}:${port}`;
    connected = await connectProvider({ rpcUrl, timeoutMs: 5_000, expectedChainId: 31337, pollingIntervalMs: 50 });
    dir = await mkdtemp(path.join(tmpdir(), "provena-ownership-"));
    const { provider, chainId } = connected;
    [admin, manufacturer] = await Promise.all([0, 1].map((index) => provider.getSigner(index)));
    const deployBlock = (await provider.getBlockNumber()) + 1;
    const forwarder = await deployContract("ProvenaForwarder", admin, []);
    registry = await deployContract("ProvenanceRegistry", admin, [await forwarder.getAddress(), admin.address, 0]);
    const escrow = await deployContract("TradeEscrow", admin, [
      await registry.getAddress(),
      await forwarder.getAddress(),
      admin.address,
      0,
      admin.address,
      100,
      86_400,
    ]);
    unitOwnership = await deployContract("UnitOwnership", admin, [
      await registry.getAddress(),
      await forwarder.getAddress(),
      admin.address,
      0,
    ]);
    deploymentFile = path.join(dir, `${chainId}.json`);
    await writeDeployment(deploymentFile, {
      chainId,
      forwarder: (await forwarder.getAddress()) as Hex,
      registry: (await registry.getAddress()) as Hex,
      escrow: (await escrow.getAddress()) as Hex,
      unitOwnership: (await unitOwnership.getAddress()) as Hex,
      deployBlock,
    });
    const manufacturerRole = keccak256(toUtf8Bytes("MANUFACTURER_ROLE"));
    await (await registry.getFunction("onboardParticipant")(manufacturer.address, manufacturerRole, 8_412_345_000_019n, "Acme")).wait();
    await (await registry.getFunction("grantCompanyPrefix")(manufacturer.address, 8_412_345n, 7)).wait();
  });

  after(async function () {
    await connected?.provider.destroy();
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("test_ownershipKeys_writesSecretsAndTreeAndCommitsTheRoot_aSecretClaimsItsUnit", async function () {
    const batch = await registeredBatch("OWN-1", 25);
    const out = path.join(dir, "own-1-keys.csv");
    const result = await cli(["ownership", "keys", batch.batchId, "--serials", batch.serialFile, "--out", out]);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stderr).to.contain("holds the claim SECRETS");
    expect(result.stdout).to.contain(`✓ committed claim root`);

    // The secrets: one per serial, readable by the owner only.
    const lines = (await readFile(out, "utf8")).trim().split("\n");
    expect(lines[0]).to.equal("serial,claimSecret");
    const secrets = new Map(lines.slice(1).map((line) => line.split(",") as [string, string]));
    expect([...secrets.keys()]).to.deep.equal(batch.serials);
    expect((await stat(out)).mode & 0o777).to.equal(0o600);

    // The tree: public (serials and claim-key addresses only), its root the one committed.
    const treeText = await readFile(path.join(dir, "own-1-keys.claim-tree.json"), "utf8");
    for (const secret of secrets.values()) expect(treeText).to.not.contain(secret.slice(2));
    const claimTree = StandardMerkleTree.load(JSON.parse(treeText)) as ClaimTree;
    expect(await unitOwnership.getFunction("claimRootOf")(batch.batchId)).to.equal(claimTree.root);
    for (const [, [serial, claimKey]] of claimTree.entries()) {
      expect(new Wallet(secrets.get(serial)!).address).to.equal(claimKey);
    }

    // A shopper who opened unit 7 claims its token with the printed secret; the admin's account relays it.
    const serial = batch.serials[6];
    const shopper = Wallet.createRandom().address;
    const tokenId = unitTokenId(batch.batchId, serial);
    const committed = claimProofOf(claimTree, serial)!;
    const signature = await signUnitClaim(
      new Wallet(secrets.get(serial)!),
      { chainId: connected.chainId, address: await unitOwnership.getAddress() },
      { tokenId, recipient: shopper },
    );
    await (
      await (unitOwnership.connect(admin) as Contract).getFunction("claim")(
        batch.batchId,
        serial,
        committed.claimKey,
        serialProof(batch.tree, serial),
        committed.proof,
        shopper,
        signature,
      )
    ).wait();
    expect(await unitOwnership.getFunction("ownerOf")(tokenId)).to.equal(shopper);

    // Run again: the secrets file is never overwritten, and the root never changes.
    const again = await cli(["ownership", "keys", batch.batchId, "--serials", batch.serialFile, "--out", out]);
    expect(again.code).to.equal(1);
    expect(again.stderr).to.contain("already has claim root");
    const elsewhere = await cli([
      "ownership",
      "keys",
      batch.batchId,
      "--serials",
      batch.serialFile,
      "--out",
      path.join(dir, "other.csv"),
      "--no-commit",
    ]);
    expect(elsewhere.code, elsewhere.stderr).to.equal(0);
    const overwrite = await cli([
      "ownership",
      "keys",
      batch.batchId,
      "--serials",
      batch.serialFile,
      "--out",
      path.join(dir, "other.csv"),
      "--no-commit",
    ]);
    expect(overwrite.stderr).to.contain("already exists: claim keys are never overwritten");
  });

  it("test_ownershipKeys_serialFileOtherThanRegistered_refusesBeforeWritingAnything", async function () {
    const batch = await registeredBatch("OWN-2", 5);
    const wrongFile = path.join(dir, "wrong.csv");
    await writeFile(wrongFile, `${makeSerials(5, "OTHER-").join("\n")}\n`);
    const out = path.join(dir, "own-2-keys.csv");
    const result = await cli(["ownership", "keys", batch.batchId, "--serials", wrongFile, "--out", out]);
    expect(result.code).to.equal(1);
    expect(result.stderr).to.contain("is not batch").and.contain("registered serial root");
    await stat(out).then(
      () => expect.fail("wrote secrets for keys that can never be committed"),
      (error: NodeJS.ErrnoException) => expect(error.code).to.equal("ENOENT"),
    );
  });

  it("test_ownershipKeysNoCommit_thenCommit_commitsTheTreesRoot", async function () {
    const batch = await registeredBatch("OWN-3", 4);
    const out = path.join(dir, "own-3-keys.csv");
    const tree = path.join(dir, "own-3-tree.json");
    const written = await cli([
      "ownership",
      "keys",
      batch.batchId,
      "--serials",
      batch.serialFile,
      "--out",
      out,
      "--tree",
      tree,
      "--no-commit",
    ]);
    expect(written.code, written.stderr).to.equal(0);
    expect(await unitOwnership.getFunction("claimRootOf")(batch.batchId)).to.equal(`0x${"0".repeat(64)}`);
    const committed = await cli(["ownership", "commit", `0${GTIN}/OWN-3`, "--tree", tree]);
    expect(committed.code, committed.stderr).to.equal(0);
    const root = StandardMerkleTree.load(JSON.parse(await readFile(tree, "utf8"))).root;
    expect(await unitOwnership.getFunction("claimRootOf")(batch.batchId)).to.equal(root);
  });
});
