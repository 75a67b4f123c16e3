/**
 * The passport's claim form in a real browser (Debian's Chromium through playwright-core): the page signs the claim
 * with the secret typed into it, using the domain and types the claim relay serves, and posts only the signature.
 * The relay accepts it only if the page signed exactly what the relay checks.
 */
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import { Wallet } from "ethers";
import type { Browser, Page } from "playwright-core";
import { CHROMIUM, launchChromium } from "../../helpers/browser.ts";
import { buildClaimTree, unitTokenId } from "../../../backend/chain/unit-claim.ts";
import type { Hex } from "../../../backend/domain/model.ts";
import { digitalLinkPath } from "../../../backend/passport/digital-link.ts";
import { createPassportModule, type PassportModule } from "../../../backend/passport/passport-module.ts";
import { createPassportWorld, passportConfig, passportTestApp, silentLogger, type PassportWorld } from "../passport/fixture.ts";

const CONTRACT = "0x00000000000000000000000000000000000000c7" as Hex;
const RELAYER = "0x00000000000000000000000000000000000000aa" as Hex;

describe("passport claim form in a browser", function () {
  this.timeout(120_000);
  let world: PassportWorld;
  let module: PassportModule;
  let server: Server;
  let base: string;
  let browser: Browser;
  let page: Page;
  let claimKeys: Map<string, Wallet>;

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      console.log(`\n  !!! SKIPPING the claim form browser test: no Chromium at ${CHROMIUM} (or set CHROMIUM_PATH) !!!\n`);
      this.skip();
    }
    world = await createPassportWorld();
    const { batchId, serials } = world.traded;
    claimKeys = new Map(serials.map((serial) => [serial, new Wallet(Wallet.createRandom().privateKey)]));
    const tree = buildClaimTree(serials.map((serial) => ({ serial, claimKey: claimKeys.get(serial)!.address })));
    const checkpoint = (await world.store.getCheckpoint(world.deployment.chainId))!;
    const committed = {
      eventId: "31337:000000000900:000000",
      blockNumber: 900,
      blockTimestamp: 1,
      transactionHash: `0x${"ab".repeat(32)}` as Hex,
    };
    await world.store.commitRange({
      chainId: world.deployment.chainId,
      events: [],
      blocks: [],
      batches: [],
      participants: [],
      orders: [],
      claimRoots: [{ batchId, manufacturer: RELAYER, claimRoot: tree.root as Hex, units: serials.length, committed }],
      checkpoint,
    });
    module = createPassportModule({
      store: world.store,
      config: passportConfig(world),
      chain: world.eip1193 as never,
      logger: silentLogger(),
      // The chain's answer to the relay's simulation: success (this test is about what the page signs).
      ownership: { unitOwnership: CONTRACT, provider: { call: async () => "0x" }, relayerAddress: RELAYER },
    });
    await module.ownership!.uploadClaimTree(batchId, tree.dump());
    const app = passportTestApp(module);
    server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
    page = await browser.newPage();
  });

  after(async function () {
    await browser?.close();
    server?.closeAllConnections();
    if (server) await new Promise((resolve) => server.close(resolve));
    await module?.close();
    await world?.store.close();
  });

  async function submitClaim(serial: string, secret: string, recipient: string): Promise<string> {
    await page.goto(`${base}${digitalLinkPath(world.traded.gtin, world.traded.lot, serial)}`);
    await page.fill("#claim-secret", secret);
    await page.fill("#claim-recipient", recipient);
    await page.click("#ownership-claim button[type=submit]");
    // Done once the "sending…" message gave way to the outcome.
    const result = page.locator("#claim-result");
    await result.filter({ hasText: /\S/ }).filter({ hasNotText: "…" }).waitFor();
    return (await result.textContent()) ?? "";
  }

  it("test_claimForm_anotherUnitsSecret_isRefusedAndNothingQueued", async function () {
    const [serial, other] = world.traded.serials as [string, string];
    const result = await submitClaim(serial, claimKeys.get(other)!.privateKey, Wallet.createRandom().address);
    expect(result).to.contain("not the unit's claim key");
    const tokenId = unitTokenId(world.traded.batchId, serial).toString();
    expect(await world.store.getRelay(module.ownership!.claimJobId(tokenId))).to.equal(null);
  });

  it("test_claimForm_theBoxsSecret_signsWhatTheRelayChecks_andTheClaimIsQueued", async function () {
    const serial = world.traded.serials[1]!;
    const recipient = Wallet.createRandom().address;
    const result = await submitClaim(serial, claimKeys.get(serial)!.privateKey, recipient);
    expect(result).to.contain("Your claim is on its way");
    const tokenId = unitTokenId(world.traded.batchId, serial).toString();
    const job = await world.store.getRelay(module.ownership!.claimJobId(tokenId));
    expect(job).to.include({ status: "queued", to: CONTRACT });
    expect(job!.data).to.contain(recipient.slice(2).toLowerCase());
  });
});
