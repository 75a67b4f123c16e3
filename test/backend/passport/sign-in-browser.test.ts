/**
 * The passport's "Partner or authority? Sign in" in a real browser (Debian's Chromium through playwright-core), on
 * the Chinese page: a wallet injected as `window.ethereum` (an ethers Wallet behind page.exposeFunction) signs the
 * EIP-4361 message, the backend sets its cookie, and the reloaded page (the same passport, still in Chinese) shows
 * the partners' section; signing out brings back the public page. Without a wallet the button says so.
 */
import { existsSync, mkdtempSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { CHROMIUM, injectWallet, launchChromium } from "../../helpers/browser.ts";
import { digitalLinkPath } from "../../../backend/passport/digital-link.ts";
import { createSignInWorld, GTIN, PARTNER_FACILITY, PRIVATE_STRINGS, type SignInWorld } from "./sign-in-fixture.ts";

describe("passport sign-in in a browser", function () {
  this.timeout(120_000);
  let world: SignInWorld;
  let server: Server;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const screenshotDir = mkdtempSync(path.join(tmpdir(), "provena-passport-sign-in-"));

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      console.log(`\n  !!! SKIPPING the passport sign-in browser test: no Chromium at ${CHROMIUM} (or set CHROMIUM_PATH) !!!\n`);
      this.skip();
    }
    world = await createSignInWorld();
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
    context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    page = await context.newPage();
  });

  afterEach(async function () {
    await context?.close();
  });

  it("test_passportInBrowser_chinesePage_walletSignIn_asPartner_showsThePartnersSection_thenSignsOut", async function () {
    const wallet = world.partner;
    await injectWallet(page, wallet);
    const url = `${base}${digitalLinkPath(GTIN, world.batch.lot)}?lang=zh-CN`;
    await page.goto(url);
    expect(await page.getAttribute("html", "lang")).to.equal("zh-CN");
    await page.screenshot({ path: path.join(screenshotDir, "passport-public-zh-phone.png") });
    expect(await page.locator("#private-partners").count()).to.equal(0);
    for (const secret of PRIVATE_STRINGS) expect(await page.content()).to.not.contain(secret);

    const signIn = page.locator("#passport-sign-in");
    expect(await signIn.textContent()).to.equal("合作伙伴或监管机构？登录");
    await signIn.click();
    await page.locator("#private-partners").waitFor();
    expect(page.url()).to.equal(url);
    expect(await page.locator("#private-partners-title").textContent()).to.equal("仅对本批次监管链中的合作伙伴可见");
    expect(await page.locator("#private-partners").textContent()).to.contain(PARTNER_FACILITY);
    expect(await page.locator("#signed-in-as").textContent())
      .to.contain("已登录为")
      .and.contain("Lisbon Grocer");
    expect(await page.locator("#private-authorities").count()).to.equal(0);
    const cookies = await context.cookies();
    const session = cookies.find((cookie) => cookie.name === "provena_session");
    expect(session?.httpOnly).to.equal(true);
    expect(session?.sameSite).to.equal("Strict");
    const screenshot = path.join(screenshotDir, "passport-partner-zh-phone.png");
    await page.screenshot({ path: screenshot, fullPage: true });
    expect(statSync(screenshot).size).to.be.greaterThan(10_000);
    console.log(`      screenshot: ${screenshot}`);

    await page.locator("#passport-sign-out").click();
    await page.locator("#passport-sign-in").waitFor();
    expect(await page.locator("#private-partners").count()).to.equal(0);
    expect(await page.content()).to.not.contain(PARTNER_FACILITY);
  });

  it("test_passportInBrowser_noWallet_theButtonSaysSo", async function () {
    await page.goto(`${base}${digitalLinkPath(GTIN, world.batch.lot)}?lang=zh-CN`);
    await page.locator("#passport-sign-in").click();
    await page.locator("#passport-sign-in-status").filter({ hasText: "未找到钱包" }).waitFor();
    expect(await page.locator("#private-partners").count()).to.equal(0);
  });
});
