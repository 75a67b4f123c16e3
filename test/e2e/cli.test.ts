/**
 * The CLI as its users run it: a separate process per command against a running Provena (in-process chain,
 * embedded store, relayer), keys only from the environment or a keystore.
 */
import { expect } from "chai";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { Contract, Wallet, encryptKeystoreJson } from "ethers";
import jsQRImport from "jsqr";
import { PNG } from "pngjs";
import { pino } from "pino";
import { loadProvenaAbis } from "../../backend/chain/artifacts.ts";
import { loadConfig } from "../../backend/config.ts";
import { startProvena, type RunningProvena } from "../../backend/main.ts";
import { batchIdOf, gs1CheckDigit } from "../../backend/chain/gs1.ts";
import { unitOwnershipAt } from "../../backend/chain/contracts.ts";
import { claimProofOf, signUnitClaim, unitTokenId, type ClaimTree } from "../../backend/chain/unit-claim.ts";
import { defaultClaimTreeFile } from "../../scripts/cli/ownership-commands.ts";
import { buildSerialTree, serialProof } from "../helpers/serials.ts";
import { runCli } from "../helpers/cli-process.ts";

// jsqr is CommonJS whose types declare an ES default export: at runtime the default import is the function itself.
const jsQR = jsQRImport as unknown as typeof jsQRImport.default;
// Hardhat's well-known development accounts 0 (admin, deployer) and 1.
const ADMIN_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const MANUFACTURER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

const gln = (twelve: string) => twelve + gs1CheckDigit(twelve);
const GTIN = "0950600013437" + gs1CheckDigit("0950600013437");

describe("provena CLI", function () {
  this.timeout(180_000);
  let provena: RunningProvena;
  let workdir: string;
  const carrier = Wallet.createRandom();
  const manufacturer = new Wallet(MANUFACTURER_KEY);

  const cli = (args: string[], env: Record<string, string> = {}) =>
    runCli(args, { RPC_URL: provena.chain.rpcUrl, PROVENA_API_URL: provena.url, ...env });

  before(async function () {
    const config = { ...loadConfig({ LOG_LEVEL: "silent", SQLITE_PATH: ":memory:", EMBEDDED_CHAIN: "hardhat", MQTT_PORT: "0" }), port: 0 };
    provena = await startProvena(config, { logger: pino({ level: "silent" }) });
    workdir = await mkdtemp(path.join(tmpdir(), "provena-cli-"));
  });

  after(async function () {
    await provena?.stop();
    if (workdir) await rm(workdir, { recursive: true, force: true });
  });

  it("test_cli_fullPartnerFlow_onboardRegisterHandoffGaslessAccept", async function () {
    const admin = { PROVENA_PRIVATE_KEY: ADMIN_KEY };
    let result = await cli(
      ["participant", "add", manufacturer.address, "--role", "manufacturer", "--gln", gln("841234500001"), "--name", "Acme"],
      admin,
    );
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.contain("✓ onboarded Acme as MANUFACTURER");
    result = await cli(
      ["participant", "add", carrier.address, "--role", "CARRIER", "--gln", gln("841234500002"), "--name", "Freight"],
      admin,
    );
    expect(result.code, result.stderr).to.equal(0);

    const serialFile = path.join(workdir, "serials.csv");
    await writeFile(serialFile, "serial\nSN-1\nSN-2\nSN-3\n");
    const register = ["batch", "register", "--gtin", GTIN, "--lot", "CLI-1", "--serials", serialFile, "--origin-gln", gln("841234500001")];
    // Until the admin grants the GTIN's company prefix, nobody may register it; the CLI says why.
    result = await cli(register, { PROVENA_PRIVATE_KEY: MANUFACTURER_KEY });
    expect(result.code).to.not.equal(0);
    expect(result.stderr).to.contain(`may not register GTIN ${BigInt(GTIN)}: no manufacturer holds its GS1 company prefix`);
    result = await cli(["prefix", "grant", "9506000", "--to", manufacturer.address], admin);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.contain(`✓ company prefix 9506000 granted to ${manufacturer.address}`);
    result = await cli(["prefix", "of", GTIN], admin);
    expect(JSON.parse(result.stdout)).to.deep.equal({ gtin: GTIN, companyPrefix: "9506000", holder: manufacturer.address.toLowerCase() });
    result = await cli(register, { PROVENA_PRIVATE_KEY: MANUFACTURER_KEY });
    expect(result.code, result.stderr).to.equal(0);
    const batchId = batchIdOf(GTIN, "CLI-1");
    expect(result.stdout).to.contain(batchId);
    const registry = new Contract(provena.chain.deployment.registry, loadProvenaAbis().ProvenanceRegistry, provena.chain.provider);
    const [batchManufacturer, , , status, , quantity, , serialRoot] = await registry.batch(batchId);
    expect(batchManufacturer).to.equal(manufacturer.address);
    expect(status).to.equal(1n);
    expect(quantity).to.equal(3n);
    // The serial list went to the backend too, under the root that is on chain.
    expect((await provena.store.getSerialSet(serialRoot.toLowerCase()))?.serials).to.deep.equal(["SN-1", "SN-2", "SN-3"]);

    // The manufacturer signs with an encrypted keystore this time.
    const keystore = path.join(workdir, "manufacturer.json");
    await writeFile(
      keystore,
      await encryptKeystoreJson({ address: manufacturer.address, privateKey: MANUFACTURER_KEY }, "correct horse", {
        scrypt: { N: 1 << 10 },
      }),
    );
    result = await cli(["handoff", "propose", `${GTIN}/CLI-1`, "--to", carrier.address, "--location", gln("841234500001")], {
      PROVENA_KEYSTORE: keystore,
      PROVENA_KEYSTORE_PASSWORD: "correct horse",
    });
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.contain("✓ handoff proposed");

    // The carrier holds no ETH: it accepts through the relayer.
    result = await cli(["--relay", "handoff", "accept", batchId, "--location", gln("841234500002"), "--step", "departing"], {
      PROVENA_PRIVATE_KEY: carrier.privateKey,
    });
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.contain("✓ handoff accepted (gasless, relayed as 0x");
    const [, custodian] = await registry.batch(batchId);
    expect(custodian).to.equal(carrier.address);
    expect(await provena.chain.provider.getBalance(carrier.address)).to.equal(0n);

    // The carrier splits the lot: children are named after it, and a name outside it is refused, readably.
    const asCarrier = { PROVENA_PRIVATE_KEY: carrier.privateKey };
    result = await cli(["--relay", "split", batchId, "--child", "CLI-2/A:2", "--child", "CLI-1/B:1"], asCarrier);
    expect(result.code).to.equal(1);
    expect(result.stderr).to.contain('child lot "CLI-2/A" is not derived from the lot of batch');
    result = await cli(["--relay", "split", batchId, "--child", "CLI-1/A:2", "--child", "CLI-1/B:1"], asCarrier);
    expect(result.code, result.stderr).to.equal(0);
    const [, , , childStatus, , childQuantity, , childRoot] = await registry.batch(batchIdOf(GTIN, "CLI-1/A"));
    expect([childStatus, childQuantity, childRoot]).to.deep.equal([1n, 2n, serialRoot]);
  });

  // The registry refuses a production date after block.timestamp; a chain lagging the wall clock used to make the
  // default ("now - 60 s" by this machine) revert with BatchInvalidProductionDate.
  it("test_cli_batchRegister_wallClockAheadOfTheChain_defaultsToTheChainsTime", async function () {
    const serialFile = path.join(workdir, "clock-serials.csv");
    await writeFile(serialFile, "serial\nCK-1\n");
    const aheadByAnHour = {
      PROVENA_PRIVATE_KEY: MANUFACTURER_KEY,
      NODE_OPTIONS: `--import=${pathToFileURL(path.resolve("test/helpers/clock-ahead.ts")).href}`,
      CLOCK_AHEAD_MS: String(3_600_000),
    };
    const register = [
      "batch",
      "register",
      "--gtin",
      GTIN,
      "--lot",
      "CLI-CLOCK",
      "--serials",
      serialFile,
      "--origin-gln",
      gln("841234500001"),
    ];
    const result = await cli(register, aheadByAnHour);
    expect(result.code, result.stderr).to.equal(0);
    const registry = new Contract(provena.chain.deployment.registry, loadProvenaAbis().ProvenanceRegistry, provena.chain.provider);
    const [, , , status] = await registry.batch(batchIdOf(GTIN, "CLI-CLOCK"));
    expect(status).to.equal(1n);

    const tomorrow = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
    const future = await cli([...register.slice(0, 5), "CLI-CLOCK2", ...register.slice(6), "--production-date", tomorrow], {
      PROVENA_PRIVATE_KEY: MANUFACTURER_KEY,
    });
    expect(future.code).to.equal(1);
    expect(future.stderr).to.contain(`--production-date ${tomorrow} is after the chain's current time`);
  });

  it("test_cli_orderDraftConsentOpen_theSellerConsentsAndTheBuyerOpensWithIt", async function () {
    // Runs after the full partner flow, which onboarded the manufacturer and the carrier.
    const buyer = Wallet.createRandom();
    const admin = new Wallet(ADMIN_KEY, provena.chain.provider);
    await (await admin.sendTransaction({ to: buyer.address, value: 10n ** 18n })).wait();
    let result = await cli(["participant", "add", buyer.address, "--role", "retailer", "--gln", gln("841234500003"), "--name", "Shop"], {
      PROVENA_PRIVATE_KEY: ADMIN_KEY,
    });
    expect(result.code, result.stderr).to.equal(0);
    const serialFile = path.join(workdir, "order-serials.csv");
    await writeFile(serialFile, "serial\nSN-9\n");
    const seller = { PROVENA_PRIVATE_KEY: MANUFACTURER_KEY };
    result = await cli(
      ["batch", "register", "--gtin", GTIN, "--lot", "CLI-ORDER", "--serials", serialFile, "--origin-gln", gln("841234500001")],
      seller,
    );
    expect(result.code, result.stderr).to.equal(0);

    const asBuyer = { PROVENA_PRIVATE_KEY: buyer.privateKey };
    const draft = path.join(workdir, "draft.json");
    const terms = ["--batch", `${GTIN}/CLI-ORDER`, "--seller", manufacturer.address, "--carrier", carrier.address];
    // An inspector paid by the outcome, or one that is no inspector, is refused before the seller is asked to sign.
    const draftNaming = (inspector: string) =>
      cli(["order", "draft", ...terms, "--amount", "0.01", "--carrier-bps", "500", "--inspector", inspector, "--out", draft], asBuyer);
    result = await draftNaming(carrier.address);
    expect(result.code).to.equal(1);
    expect(result.stderr).to.contain(`EscrowInvalidParty: ${carrier.address.toLowerCase()} cannot take this part in the order`);
    const stranger = Wallet.createRandom().address;
    result = await draftNaming(stranger);
    expect(result.code).to.equal(1);
    expect(result.stderr).to.contain(`EscrowInvalidInspector: ${stranger.toLowerCase()} is not an active inspector`);
    result = await draftNaming("0x1234");
    expect(result.code).to.not.equal(0);
    expect(result.stderr).to.contain("--inspector");
    result = await cli(["order", "draft", ...terms, "--amount", "0.01", "--carrier-bps", "500", "--out", draft], asBuyer);
    expect(result.code, result.stderr).to.equal(0);
    // Without the seller's consent the buyer cannot open it.
    result = await cli(["order", "open", draft], asBuyer);
    expect(result.code).to.not.equal(0);
    expect(result.stderr).to.contain("no seller consent");
    // Only the seller can consent.
    result = await cli(["order", "consent", draft], asBuyer);
    expect(result.code).to.not.equal(0);
    expect(result.stderr).to.contain(`the order's seller is ${manufacturer.address}`);

    const consented = path.join(workdir, "consented.json");
    result = await cli(["order", "consent", draft, "--out", consented], seller);
    expect(result.code, result.stderr).to.equal(0);
    const { orderId, sellerSignature } = JSON.parse(await readFile(consented, "utf8")) as { orderId: string; sellerSignature: string };
    expect(sellerSignature).to.match(/^0x[0-9a-f]{130}$/);
    result = await cli(["order", "open", consented], asBuyer);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.contain(`✓ order ${orderId} opened and funded`);
    result = await cli(["order", "show", consented], asBuyer);
    expect(result.code, result.stderr).to.equal(0);
    expect(JSON.parse(result.stdout)).to.deep.include({ orderId, state: "funded", inspector: null, inspection: "none" });

    // By id, from the mirror: the CLI signs in with the caller's key; a party sees the order, an outsider does not.
    for (let attempt = 0; attempt < 40; attempt++) {
      result = await cli(["order", "show", orderId], asBuyer);
      if (result.code === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 250)); // the indexer mirrors the opening
    }
    expect(result.code, result.stderr).to.equal(0);
    expect(JSON.parse(result.stdout)).to.deep.include({ orderId, state: "funded" });
    result = await cli(["order", "show", orderId], { PROVENA_PRIVATE_KEY: Wallet.createRandom().privateKey });
    expect(result.code).to.equal(1);
    expect(result.stderr).to.match(/shows no order .* only its parties and regulators see an order/);

    // The seller hands a financier a signed trade record; the financier's verification reads the chain itself.
    const record = path.join(workdir, "trade-record.json");
    result = await cli(["trade-record", "create", orderId, "--out", record], asBuyer);
    expect(result.code).to.equal(1);
    expect(result.stderr).to.contain("Only the order's seller issues its trade record");
    result = await cli(["trade-record", "create", orderId, "--out", record], seller);
    expect(result.code, result.stderr).to.equal(0);
    result = await cli(["trade-record", "verify", record], { PROVENA_PRIVATE_KEY: Wallet.createRandom().privateKey });
    expect(result.code, result.stdout + result.stderr).to.equal(0);
    expect(result.stdout).to.contain("✓ the trade record verifies against the chain").and.contain("escrow: funded when issued, funded now");
    const tampered = path.join(workdir, "trade-record-tampered.json");
    const signedRecord = JSON.parse(await readFile(record, "utf8")) as { escrowState: string };
    await writeFile(tampered, JSON.stringify({ ...signedRecord, escrowState: "delivered" }));
    result = await cli(["trade-record", "verify", tampered]);
    expect(result.code).to.equal(1);
    expect(result.stdout).to.contain("✗ signature");

    // The seller lets a financier read its orders; the financier then sees this one, until the seller revokes.
    const financier = Wallet.createRandom();
    const asFinancier = { PROVENA_PRIVATE_KEY: financier.privateKey };
    result = await cli(["read-grant", "add", financier.address, "--days", "30"], seller);
    expect(result.code, result.stderr).to.equal(0);
    result = await cli(["order", "show", orderId], asFinancier);
    expect(result.code, result.stderr).to.equal(0);
    expect(JSON.parse(result.stdout)).to.deep.include({ orderId, state: "funded" });
    result = await cli(["read-grant", "revoke", financier.address], seller);
    expect(result.code, result.stderr).to.equal(0);
    result = await cli(["order", "show", orderId], asFinancier);
    expect(result.code).to.equal(1);
  });

  it("test_cli_productPublish_uploadsAnchorsGasless_andShowReadsItBackByRole", async function () {
    // Runs after the full partner flow: the manufacturer is onboarded and holds the GTIN's company prefix.
    const asManufacturer = { PROVENA_PRIVATE_KEY: MANUFACTURER_KEY };
    const dataFile = path.join(workdir, "product.json");
    await writeFile(
      dataFile,
      JSON.stringify({ name: { en: "Olive oil", zh: "橄榄油" }, facility: { name: "Plant 7" }, countryOfOrigin: "ES" }),
    );
    let result = await cli(["product", "publish", GTIN, dataFile, "--relay"], asManufacturer);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.contain(`✓ version 1 of GTIN ${GTIN}`);
    for (let attempt = 0; attempt < 40; attempt++) {
      result = await cli(["product", "show", GTIN]);
      if (result.code === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(result.code, result.stderr).to.equal(0);
    const shown = JSON.parse(result.stdout) as { version: number; data: Record<string, unknown> };
    expect(shown.version).to.equal(1);
    expect(shown.data).to.deep.equal({ name: { en: "Olive oil", zh: "橄榄油" }, countryOfOrigin: "ES" }); // facility: partners only
    result = await cli(["product", "show", GTIN, "--signed-in"], asManufacturer);
    expect(JSON.parse(result.stdout).data.facility).to.deep.equal({ name: "Plant 7" });
    result = await cli(["product", "publish", GTIN, dataFile], { PROVENA_PRIVATE_KEY: carrier.privateKey });
    expect(result.code).to.equal(1);
    expect(result.stderr).to.contain("company prefix");
  });

  it("test_cli_recallDesk_holderAcknowledges_regulatorSeesIt", async function () {
    // Runs after the full partner flow: the manufacturer is onboarded and holds the GTIN's company prefix.
    const asManufacturer = { PROVENA_PRIVATE_KEY: MANUFACTURER_KEY };
    const serialFile = path.join(workdir, "recall-serials.csv");
    await writeFile(serialFile, "serial\nR-1\n");
    let result = await cli(
      ["batch", "register", "--gtin", GTIN, "--lot", "CLI-R", "--serials", serialFile, "--origin-gln", gln("841234500001")],
      asManufacturer,
    );
    expect(result.code, result.stderr).to.equal(0);
    result = await cli(["recall", `${GTIN}/CLI-R`, "--reason", "salmonella"], asManufacturer);
    expect(result.code, result.stderr).to.equal(0);
    for (let attempt = 0; attempt < 40; attempt++) {
      result = await cli(["acknowledge-recall", `${GTIN}/CLI-R`], asManufacturer);
      if (result.code === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 250)); // the indexer mirrors the recall
    }
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.match(/✓ recall of 0x[0-9a-f]{64} acknowledged by/);

    const regulator = Wallet.createRandom();
    // Not yet a regulator: the desk refuses.
    result = await cli(["recalls"], { PROVENA_PRIVATE_KEY: regulator.privateKey });
    expect(result.code).to.equal(1);
    expect(result.stderr).to.contain("HTTP 403");
    result = await cli(
      ["participant", "add", regulator.address, "--role", "regulator", "--gln", gln("841234500009"), "--name", "Food Agency"],
      {
        PROVENA_PRIVATE_KEY: ADMIN_KEY,
      },
    );
    expect(result.code, result.stderr).to.equal(0);
    for (let attempt = 0; attempt < 40; attempt++) {
      result = await cli(["recalls", `${GTIN}/CLI-R`], { PROVENA_PRIVATE_KEY: regulator.privateKey });
      if (result.code === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 250)); // the indexer mirrors the new role
    }
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.contain("1 lots, 1 holders, 1 acknowledged");
    expect(result.stdout).to.contain(`held by ${manufacturer.address.toLowerCase()} ✓ acknowledged`);

    // Anyone traces the lot: who holds it now and where, and that it is recalled.
    result = await cli(["trace", `${GTIN}/CLI-R`]);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.contain(`▶ ${GTIN}/CLI-R (1) RECALLED: held by`);
    expect(result.stdout).to.contain("1 lots, 1 holders now, 1 recalled");
    result = await cli(["trace", `${GTIN}/CLI-R`, "--direction", "sideways"]);
    expect(result.code).to.not.equal(0);
    expect(result.stderr).to.contain("--direction must be back, forward or both");
  });

  it("test_cli_ownershipTransfer_theOwnerGivesItsTokenGasless_aNonOwnerIsRefused", async function () {
    // Runs after the full partner flow: the manufacturer is onboarded and holds the GTIN's company prefix.
    const asManufacturer = { PROVENA_PRIVATE_KEY: MANUFACTURER_KEY };
    const serialFile = path.join(workdir, "owned-serials.csv");
    await writeFile(serialFile, "serial\nO-1\nO-2\n");
    const register = ["batch", "register", "--gtin", GTIN, "--lot", "CLI-O", "--serials", serialFile, "--origin-gln", gln("841234500001")];
    let result = await cli(register, asManufacturer);
    expect(result.code, result.stderr).to.equal(0);
    const batchId = batchIdOf(GTIN, "CLI-O");
    // The claim root goes through the relayer as well.
    const secretsFile = path.join(workdir, "owned-keys.csv");
    result = await cli(["--relay", "ownership", "keys", batchId, "--serials", serialFile, "--out", secretsFile], asManufacturer);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.contain("(gasless, relayed as 0x");

    // A shopper claims O-1 with its printed secret (here the admin submits the claim).
    const { deployment, provider, chainId } = provena.chain;
    const unitOwnership = unitOwnershipAt(deployment.unitOwnership!, new Wallet(ADMIN_KEY, provider));
    const claimTree = StandardMerkleTree.load(JSON.parse(await readFile(defaultClaimTreeFile(secretsFile), "utf8"))) as ClaimTree;
    const secret = (await readFile(secretsFile, "utf8"))
      .split("\n")
      .find((line) => line.startsWith("O-1,"))!
      .slice("O-1,".length);
    const shopper = Wallet.createRandom();
    const tokenId = unitTokenId(batchId, "O-1");
    const signature = await signUnitClaim(
      new Wallet(secret),
      { chainId, address: deployment.unitOwnership! },
      { tokenId, recipient: shopper.address },
    );
    const { claimKey, proof } = claimProofOf(claimTree, "O-1")!;
    const unitProof = serialProof(buildSerialTree(["O-1", "O-2"]), "O-1");
    await (await unitOwnership.claim(batchId, "O-1", claimKey, unitProof, proof, shopper.address, signature)).wait();

    const friend = Wallet.createRandom().address;
    result = await cli(["ownership", "transfer", tokenId.toString(), friend], { PROVENA_PRIVATE_KEY: carrier.privateKey });
    expect(result.code).to.equal(1);
    expect(result.stderr).to.contain(`is owned by ${shopper.address}`);
    result = await cli(["ownership", "transfer", tokenId.toString(), friend], { PROVENA_PRIVATE_KEY: shopper.privateKey });
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.contain(`✓ unit token ${tokenId} transferred to ${friend} (gasless, relayed as 0x`);
    expect(await unitOwnership.ownerOf(tokenId)).to.equal(friend);
    expect(await provider.getBalance(shopper.address)).to.equal(0n);
  });

  it("test_cli_revertsAndRefusalsAreReadableErrors", async function () {
    // A manufacturer is no inspector: the contract's custom error, decoded.
    let result = await cli(["attest", `${GTIN}/CLI-1`, "--result", "pass", "--report", "lab report"], {
      PROVENA_PRIVATE_KEY: MANUFACTURER_KEY,
    });
    expect(result.code).to.equal(1);
    expect(result.stderr).to.match(
      /^provena: quality attested: pass failed: ParticipantUnauthorized: 0x[0-9a-f]{40} is not an active participant with the INSPECTOR role/m,
    );
    // Through the relayer, the backend refuses it before anything is queued.
    result = await cli(["--relay", "attest", `${GTIN}/CLI-1`, "--result", "pass"], { PROVENA_PRIVATE_KEY: carrier.privateKey });
    expect(result.code).to.equal(1);
    expect(result.stderr).to.contain("relayer refused the request (403 MISSING_ROLE)");
    // No key: says how to give one.
    result = await cli(["handoff", "cancel", `${GTIN}/CLI-1`]);
    expect(result.code).to.equal(1);
    expect(result.stderr).to.contain("set PROVENA_PRIVATE_KEY, or PROVENA_KEYSTORE");
    // A bad serial row is reported by line number and nothing is registered.
    const badFile = path.join(workdir, "bad.csv");
    await writeFile(badFile, "SN-9\nSN-10\nSN 11 with spaces\n");
    result = await cli(["batch", "register", "--gtin", GTIN, "--lot", "CLI-2", "--serials", badFile, "--origin-gln", gln("841234500001")], {
      PROVENA_PRIVATE_KEY: MANUFACTURER_KEY,
    });
    expect(result.code).to.equal(1);
    expect(result.stderr).to.contain("line 3");
    // Bad arguments name the option.
    result = await cli(["handoff", "propose", `${GTIN}/CLI-1`, "--to", carrier.address, "--location", "1234567890123"], {
      PROVENA_PRIVATE_KEY: MANUFACTURER_KEY,
    });
    expect(result.code).to.equal(1);
    expect(result.stderr).to.contain("--location").and.contain("check digit");
  });

  it("test_cli_badPositionalArguments_areNamedAndRefusedBeforeConnecting", async function () {
    // An unreachable chain: a bad argument must be reported as such, not hidden behind the connection error.
    const offline = { RPC_URL: "http://127.0.0.1:1", PROVENA_PRIVATE_KEY: ADMIN_KEY };
    let result = await cli(["participant", "suspend", "0x123"], offline);
    expect(result.code).to.equal(1);
    expect(result.stderr).to.contain("'0x123'").and.contain("argument 'address'").and.contain("0x-prefixed 20-byte address");
    expect(result.stderr).to.not.contain("Cannot reach");
    result = await cli(["attest", "0x12", "--result", "pass"], offline);
    expect(result.code).to.equal(1);
    expect(result.stderr).to.contain("'0x12'").and.contain("argument 'batch'");
    result = await cli(["recall", "123/LOT-1", "--reason", "x"], offline);
    expect(result.code).to.equal(1);
    expect(result.stderr).to.contain("argument 'batch'").and.contain("GTIN 123");
    expect(result.stderr).to.not.match(/\n\s+at /); // no stack trace
  });

  it("test_cli_deploy_unreadableParametersFile_namesTheFileAndDeploysNothing", async function () {
    const deploymentFile = path.join(workdir, "deployment.json");
    const parameters = path.join(workdir, "parameters.json");
    await writeFile(parameters, "{ ProvenaModule: {} }");
    let result = await cli(["deploy", "--deployment", deploymentFile, "--parameters", parameters], { PROVENA_PRIVATE_KEY: ADMIN_KEY });
    expect(result.code).to.equal(1);
    expect(result.stderr).to.match(/^provena: cannot read the Ignition parameters file .*parameters\.json: /m);
    await writeFile(parameters, JSON.stringify({ ProvenaModule: 5 }));
    result = await cli(["deploy", "--deployment", deploymentFile, "--parameters", parameters], { PROVENA_PRIVATE_KEY: ADMIN_KEY });
    expect(result.code).to.equal(1);
    expect(result.stderr).to.contain("must be a JSON object of modules");
    result = await cli(["deploy", "--deployment", deploymentFile, "--parameters", path.join(workdir, "missing.json")], {
      PROVENA_PRIVATE_KEY: ADMIN_KEY,
    });
    expect(result.code).to.equal(1);
    expect(result.stderr).to.contain("missing.json");
    await readFile(deploymentFile).then(
      () => expect.fail("no deployment file may be written"),
      () => undefined,
    );
  });

  it("test_cli_relay_unreachableBackend_isNamedInOneLine", async function () {
    // The contracts come from the deployment file; only the relayer's backend is down.
    const deploymentFile = path.join(workdir, "relay-deployment.json");
    await writeFile(deploymentFile, JSON.stringify(provena.chain.deployment));
    const result = await cli(
      ["--relay", "--deployment", deploymentFile, "--api", "http://127.0.0.1:1", "handoff", "cancel", `${GTIN}/CLI-1`],
      { PROVENA_PRIVATE_KEY: carrier.privateKey },
    );
    expect(result.code).to.equal(1);
    expect(result.stderr.trim()).to.match(/^provena: cannot reach the Provena relayer at http:\/\/127\.0\.0\.1:1: [^\n]+$/);
  });

  it("test_cli_qr_baseThatIsNoUrl_isRefusedInsteadOfDrawingADeadCode", async function () {
    let result = await cli(["qr", GTIN, "CLI-1", "--base", "passports.example"]);
    expect(result.code).to.equal(1);
    expect(result.stderr).to.contain("--base").and.contain("absolute http(s) URL");
    expect(result.stdout).to.equal("");
    result = await cli(["qr", GTIN, "CLI-1"], { PUBLIC_BASE_URL: "ftp://passports.example" });
    expect(result.code).to.equal(1);
    expect(result.stderr).to.contain("PUBLIC_BASE_URL").and.contain("absolute http(s) URL");
  });

  it("test_cli_qr_writesAPngThatDecodesToTheDigitalLink", async function () {
    const png = path.join(workdir, "unit.png");
    const result = await cli(["qr", GTIN, "CLI-1", "SN-2", "--base", "https://provena.example", "--png", png]);
    expect(result.code, result.stderr).to.equal(0);
    const image = PNG.sync.read(await readFile(png));
    const decoded = jsQR(new Uint8ClampedArray(image.data), image.width, image.height);
    expect(decoded?.data).to.equal(`https://provena.example/01/${GTIN}/10/CLI-1/21/SN-2`);
  });

  it("test_cli_qr_trustAnchors_printedInTheCodeAndBothOrNeither", async function () {
    const png = path.join(workdir, "anchored.png");
    const registry = `0x${"ab".repeat(20)}`;
    const args = ["qr", GTIN, "CLI-1", "SN-2", "--base", "https://provena.example"];
    const result = await cli([...args, "--chain-id", "31337", "--registry", registry, "--png", png]);
    expect(result.code, result.stderr).to.equal(0);
    const image = PNG.sync.read(await readFile(png));
    const decoded = jsQR(new Uint8ClampedArray(image.data), image.width, image.height);
    expect(decoded?.data).to.equal(`https://provena.example/01/${GTIN}/10/CLI-1/21/SN-2?chain=31337&registry=${registry}`);
    const half = await cli([...args, "--chain-id", "31337"]);
    expect(half.code).to.equal(1);
    expect(half.stderr).to.contain("--chain-id and --registry go together");
  });

  it("test_cli_reputation_tableJsonAndUnknownParticipant", async function () {
    // The manufacturer onboarded and registered lots in the flows above.
    let result = await cli(["reputation", manufacturer.address]);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.contain(`reputation of ${manufacturer.address.toLowerCase()} (provena-reputation/1), as of block`);
    expect(result.stdout).to.match(/^lots registered\s+\d+ recalled of [1-9]\d* \(n=\d+, ≥[\d.]+%\)/m);
    result = await cli(["reputation", manufacturer.address, "--json"]);
    expect(result.code, result.stderr).to.equal(0);
    const body = JSON.parse(result.stdout) as { method: string; allTime: { recalls: { lots: number } } };
    expect(body.method).to.equal("provena-reputation/1");
    expect(body.allTime.recalls.lots).to.be.greaterThan(0);
    result = await cli(["reputation", Wallet.createRandom().address]);
    expect(result.code).to.equal(1);
    expect(result.stderr).to.contain("HTTP 404");
  });

  it("test_cli_proofCreateVerify_filesStayLocal_gaslessRegistration_tamperedFileRefused", async function () {
    const designer = Wallet.createRandom();
    const added = await cli(
      ["participant", "add", designer.address, "--role", "manufacturer", "--gln", gln("841234500077"), "--name", "Studio Nord"],
      { PROVENA_PRIVATE_KEY: ADMIN_KEY },
    );
    expect(added.code, added.stderr).to.equal(0);
    const bottle = path.join(workdir, "bottle.step");
    const label = path.join(workdir, "label.pdf");
    await writeFile(bottle, "solid bottle\n");
    await writeFile(label, "%PDF label\n");
    const out = path.join(workdir, "design-proofs");
    const key = { PROVENA_PRIVATE_KEY: designer.privateKey };

    const created = await cli(
      ["--relay", "proof", "create", bottle, label, "--title", "Bottle 2027", "--licence", "CC-BY-4.0", "--out", out],
      key,
    );
    expect(created.code, created.stderr).to.equal(0);
    expect(created.stdout).to.contain("✓ registered design root").and.contain("(2 file(s))").and.contain("gasless");
    const proof = JSON.parse(await readFile(path.join(out, "label.pdf.proof.json"), "utf8"));
    expect(proof).to.include({ registrant: designer.address.toLowerCase(), title: "Bottle 2027" });
    expect(proof.leaf.owner).to.equal(designer.address.toLowerCase());
    expect(proof.transactionHash).to.match(/^0x[0-9a-f]{64}$/);
    expect(JSON.stringify(proof)).to.not.contain("PDF label"); // only the hash leaves the file

    const verified = await cli(["proof", "verify", label, path.join(out, "label.pdf.proof.json")]);
    expect(verified.code, verified.stderr).to.equal(0);
    expect(verified.stdout).to.contain("existed on").and.contain("registered by Studio Nord").and.contain("owned by the registrant");

    await writeFile(label, "%PDF label, edited\n");
    const tampered = await cli(["proof", "verify", label, path.join(out, "label.pdf.proof.json")]);
    expect(tampered.code).to.equal(1);
    expect(tampered.stderr).to.contain("is not the file this proof is for");

    const granted = await cli(["prefix", "grant", "7612345", "--to", designer.address], { PROVENA_PRIVATE_KEY: ADMIN_KEY });
    expect(granted.code, granted.stderr).to.equal(0);
    const productGtin = "761234500001" + gs1CheckDigit("761234500001");
    const linked = await cli(["--relay", "proof", "link", productGtin, proof.root], key);
    expect(linked.code, linked.stderr).to.equal(0);
    expect(linked.stdout).to.contain(`✓ linked design ${proof.root}`);
  });
});
