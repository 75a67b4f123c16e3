/**
 * The recall desk in a real browser (Debian's Chromium through playwright-core): a wallet injected as
 * `window.ethereum` (an ethers Wallet behind page.exposeFunction) signs in as a regulator; the page builds the
 * EIP-4361 message, the backend accepts it and sets its cookie, and the reloaded page is the desk. A phone-sized
 * screenshot of a recall is kept in the test's temp dir.
 */
import { existsSync, mkdtempSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { CHROMIUM, injectWallet, launchChromium } from "../../helpers/browser.ts";
import { createDeskWorld, type DeskWorld } from "./desk-fixture.ts";

describe("recall desk in a browser", function () {
  this.timeout(120_000);
  let world: DeskWorld;
  let server: Server;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const screenshotDir = mkdtempSync(path.join(tmpdir(), "provena-desk-"));

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      console.log(`\n  !!! SKIPPING the recall desk browser test: no Chromium at ${CHROMIUM} (or set CHROMIUM_PATH) !!!\n`);
      this.skip();
    }
    world = await createDeskWorld();
    server = createServer(world.t.app);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  });

  after(async function () {
    await browser?.close();
    server?.closeAllConnections();
    if (server) await new Promise((resolve) => server.close(resolve));
    await world?.t.store.close();
  });

  beforeEach(async function () {
    context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    page = await context.newPage();
    await injectWallet(page, world.regulatorWallet);
  });

  afterEach(async function () {
    await context?.close();
  });

  it("test_deskInBrowser_walletSignIn_asRegulator_showsTheDesk", async function () {
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(`${base}/desk/recalls`);
    await page.locator("#desk-sign-in").click();
    await page.locator("#recalls").waitFor();
    expect(await page.locator("#signed-in-as").textContent()).to.contain("Food Safety Authority");
    expect(await page.locator("#recalls tbody tr").count()).to.equal(2);

    await page.locator(`a[href="/desk/recalls/${world.ids.root}"]`).click();
    await page.locator("#affected-lots").waitFor();
    expect(await page.locator("#affected-lots tbody tr").count()).to.equal(4);
    expect(await page.locator(`tr[data-batch-id="${world.ids.grandchild}"]`).getAttribute("data-acknowledged")).to.equal("yes");
    // The markup in a participant's name stays text.
    expect(await page.locator("#affected-lots img").count()).to.equal(0);
    expect(await page.locator("#affected-lots").textContent()).to.contain(`<img src=x onerror="alert(1)">`);
    const screenshot = path.join(screenshotDir, "recall-desk-phone.png");
    await page.screenshot({ path: screenshot, fullPage: true });
    expect(statSync(screenshot).size).to.be.greaterThan(10_000);
    console.log(`      screenshot: ${screenshot}`);
    expect(errors).to.deep.equal([]);
  });

  it("test_deskInBrowser_walletOfAShopper_getsThe403Page", async function () {
    await context.close();
    context = await browser.newContext();
    page = await context.newPage();
    await injectWallet(page, world.shop);
    const first = await page.goto(`${base}/desk/recalls`);
    expect(first?.status()).to.equal(401);
    const reloaded = page.waitForEvent("load");
    await page.locator("#desk-sign-in").click();
    await reloaded;
    await page.locator("h1").filter({ hasText: "The recall desk is for regulators" }).waitFor();
    expect(await page.content()).to.not.contain(world.ids.root);
  });
});
