/**
 * The passport as a shopper sees it: Debian's Chromium (through playwright-core) opens the URI decoded from the
 * unit's QR image, on the real app (createApp with the passport module) backed by contracts on Hardhat's network
 * and a mirror filled by the indexer. The page's own script verifies against the chain through /rpc; then the
 * mirror is tampered with and the page must say what does not match.
 */
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import jsQRImport from "jsqr";
import type { Browser, Page } from "playwright-core";
import { CHROMIUM, launchChromium } from "../../helpers/browser.ts";
import { PNG } from "pngjs";
import { createApp } from "../../../backend/api/app.ts";
import { createMetrics } from "../../../backend/api/metrics.ts";
import { digitalLinkPath } from "../../../backend/passport/digital-link.ts";
import type { Batch } from "../../../backend/domain/model.ts";
import { createModule, createPassportWorld, silentLogger, tamperBatch, type PassportWorld } from "./fixture.ts";

const jsQR = jsQRImport as unknown as typeof jsQRImport.default;

describe("passport in a browser", function () {
  this.timeout(120_000);
  let world: PassportWorld;
  let server: Server;
  let base: string;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      console.log(
        `\n  !!! SKIPPING the passport browser test: no Chromium at ${CHROMIUM} (apt-get update && apt-get install -y chromium, or set CHROMIUM_PATH) !!!\n`,
      );
      this.skip();
    }
    world = await createPassportWorld();
    let app: ReturnType<typeof createApp> | null = null;
    server = createServer((req, res) => app!(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const chainId = world.deployment.chainId;
    app = createApp({
      store: world.store,
      logger: silentLogger(),
      metrics: createMetrics(),
      indexerStatus: () => ({ chainId, headBlock: null, indexedBlock: null, lagBlocks: null, eventsIndexed: 0, isLeader: false }),
      readyMaxLagBlocks: 10,
      modules: [createModule(world, { publicBaseUrl: base, publicRpcUrl: `${base}/rpc` })],
    });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true });
    page.on("console", (message) => {
      if (message.type() === "error") consoleErrors.push(message.text());
    });
    page.on("pageerror", (error) => consoleErrors.push(error.message));
  });

  after(async function () {
    await browser?.close();
    server?.closeAllConnections();
    if (server) await new Promise((resolve) => server.close(resolve));
  });

  async function uriFromQr(batchId: string, serial: string): Promise<string> {
    const response = await fetch(`${base}/api/v1/batches/${batchId}/units/${encodeURIComponent(serial)}/qr`);
    expect(response.status).to.equal(200);
    const image = PNG.sync.read(Buffer.from(await response.arrayBuffer()));
    const decoded = jsQR(new Uint8ClampedArray(image.data), image.width, image.height);
    expect(decoded, "the QR code decodes").to.not.equal(null);
    return decoded!.data;
  }

  async function verificationOutcome() {
    await page.waitForSelector("#verification:not([data-state=pending])", { timeout: 60_000 });
    return {
      state: await page.getAttribute("#verification", "data-state"),
      status: (await page.textContent("#verify-status")) ?? "",
      details: await page.locator("#verify-details li").allTextContents(),
    };
  }

  it("test_passportPage_scannedFromQr_showsTimelineAndVerifies", async function () {
    const uri = await uriFromQr(world.traded.batchId, "A/0003");
    const { chainId, registry } = world.deployment;
    expect(uri).to.equal(`${base}${digitalLinkPath(world.traded.gtin, world.traded.lot, "A/0003")}?chain=${chainId}&registry=${registry}`);
    const response = await page.goto(uri);
    expect(response!.status()).to.equal(200);
    expect(await page.getAttribute("html", "lang")).to.equal("en");
    expect(await page.locator("main h1").count()).to.equal(1);
    const steps = await page.locator("#timeline > li h3").allTextContents();
    expect(steps).to.deep.equal([
      "Registered by the manufacturer",
      "Handoff proposed",
      "Custody accepted",
      "Inspection passed",
      "Handoff proposed",
      "Custody accepted",
    ]);
    expect(await page.textContent("#timeline")).to.include("Mare Nostrum Freight");

    const outcome = await verificationOutcome();
    expect(outcome.state, outcome.details.join("\n")).to.equal("verified");
    const checkpoint = await world.store.getCheckpoint(world.deployment.chainId);
    expect(outcome.status).to.include(`Verified at block ${checkpoint!.blockNumber}`);
    expect(outcome.details.join("\n")).to.include('serial "A/0003" is in the batch\'s on-chain serial root');
    expect(await page.textContent("#verify-anchors")).to.equal(
      `Checked against chain ${chainId} and registry ${registry}, as named by the code you scanned.`,
    );
    expect(consoleErrors, consoleErrors.join("\n")).to.deep.equal([]);
    // Only the page view counts as a scan: the script's ABI, ethers and RPC fetches do not.
    expect((await world.store.scanStats(world.traded.batchId, "A/0003", 0)).total).to.equal(1);
  });

  it("test_passportPage_tamperedMirror_reportsEachMismatch", async function () {
    const forgeLocation = (batch: Batch) => {
      batch.custody[3]!.locationGln = "4000000000003";
      return batch;
    };
    await tamperBatch(world, world.traded.batchId, forgeLocation, async () => {
      await page.reload();
      expect(await page.textContent("#timeline")).to.include("4000000000003");
      const outcome = await verificationOutcome();
      expect(outcome.state).to.equal("mismatch");
      expect(outcome.status).to.include("does not match the blockchain");
      expect(outcome.details).to.have.length(1);
      expect(outcome.details[0]).to.match(
        /History entry 6: "Custody accepted" at block \d+: location GLN is shown as "4000000000003", but the chain says "\d{13}"/,
      );
    });
  });

  it("test_passportPage_childUnit_showsParentJourneyAndVerifies", async function () {
    const child = world.children[0]!;
    await page.goto(await uriFromQr(child.batchId, "C1-2"));
    const steps = await page.locator("#timeline > li h3").allTextContents();
    expect(steps).to.deep.equal([
      "Registered by the manufacturer",
      "Handoff proposed",
      "Custody accepted",
      "Inspection passed",
      "Split from lot PP-SPLIT",
    ]);
    const earlier = page.locator("#timeline > li.earlier");
    expect(await earlier.count()).to.equal(4);
    for (const text of await earlier.allTextContents()) expect(text).to.include("On lot PP-SPLIT, before the split");
    expect(await page.locator("#timeline > li:not(.earlier)").allTextContents()).to.have.length(1);
    expect(await page.textContent("#timeline")).to.include("Mare Nostrum Freight");
    expect(await page.textContent("#timeline")).not.to.include(world.children[1]!.lot);

    const outcome = await verificationOutcome();
    expect(outcome.state, outcome.details.join("\n")).to.equal("verified");
    expect(outcome.status).to.include("Verified at block");
    expect(outcome.details.join("\n")).to.include("3 history entries of earlier lots before their splits");
    // Following the link to the parent lot keeps the scanned code's trust anchors.
    expect(await page.getAttribute("section[aria-labelledby=lineage-title] ol a", "href")).to.match(
      new RegExp(`^/01/\\d{14}/10/PP-SPLIT\\?chain=${world.deployment.chainId}&registry=${world.deployment.registry}$`),
    );
    expect(consoleErrors, consoleErrors.join("\n")).to.deep.equal([]);
  });

  it("test_passportPage_recalledUnit_showsRecallBannerAndVerifies", async function () {
    const recalled = world.children[1]!;
    await page.goto(await uriFromQr(recalled.batchId, "C2-1"));
    const banner = page.locator("section.recall[role=alert]");
    expect(await banner.isVisible()).to.equal(true);
    expect(await banner.textContent()).to.include("Recalled: do not use this product");
    const outcome = await verificationOutcome();
    expect(outcome.state, outcome.details.join("\n")).to.equal("verified");
  });

  it("test_passportPage_chineseBrowser_pageAndVerificationInChineseAndSwitchPersists", async function () {
    const context = await browser.newContext({ locale: "zh-CN", viewport: { width: 390, height: 844 }, isMobile: true });
    const zhPage = await context.newPage();
    const errors: string[] = [];
    zhPage.on("pageerror", (error) => errors.push(error.message));
    try {
      const { chainId, registry } = world.deployment;
      const path = digitalLinkPath(world.traded.gtin, world.traded.lot, "A-0002");
      await zhPage.goto(`${base}${path}?chain=${chainId}&registry=${registry}`);
      expect(await zhPage.getAttribute("html", "lang")).to.equal("zh-CN");
      expect(await zhPage.locator("#verify-title").textContent()).to.equal("区块链验证");
      expect(await zhPage.getByRole("heading", { name: "保管记录" }).isVisible()).to.equal(true);
      expect((await zhPage.locator("#timeline > li h3").allTextContents())[0]).to.equal("由制造商登记");
      await zhPage.waitForSelector("#verification:not([data-state=pending])", { timeout: 60_000 });
      expect(await zhPage.getAttribute("#verification", "data-state")).to.equal("verified");
      const checkpoint = await world.store.getCheckpoint(chainId);
      expect(await zhPage.textContent("#verify-status")).to.match(
        new RegExp(`^✓ 已在区块 ${checkpoint!.blockNumber} 核验，1 个节点中有 1 个一致：本页与区块链相符。$`),
      );
      expect(await zhPage.textContent("#verify-anchors")).to.equal(`已对照您扫描的代码所指定的链 ${chainId} 和登记合约 ${registry} 核验。`);
      expect(await zhPage.locator("#verify-status").isVisible()).to.equal(true);

      // Readable on the phone: nothing wider than the screen, body text at least 14 px; the screenshot is kept for a
      // reviewer (PASSPORT_SCREENSHOT_DIR, default the system's temp directory).
      const layout = await zhPage.evaluate<{ scrollWidth: number; innerWidth: number; fontPx: number }>(
        "({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth, fontPx: parseFloat(getComputedStyle(document.body).fontSize) })",
      );
      expect(layout.scrollWidth, "no horizontal scrolling on a phone").to.be.at.most(layout.innerWidth);
      expect(layout.fontPx).to.be.at.least(14);
      const shot = join(process.env.PASSPORT_SCREENSHOT_DIR ?? tmpdir(), "passport-phone-zh-CN.png");
      const png = PNG.sync.read(await zhPage.screenshot({ path: shot, fullPage: true }));
      expect(png.width).to.be.at.least(390);
      console.log(`      (phone screenshot of the Chinese page: ${shot})`);

      // The switch: English, kept (cookie) on the next visit although the browser still asks for Chinese, and the
      // scanned code's trust anchors kept in the switch's link.
      await zhPage.click("nav.languages a[hreflang=en]");
      expect(zhPage.url()).to.include(`chain=${chainId}&registry=${registry}&lang=en`);
      expect(await zhPage.getAttribute("html", "lang")).to.equal("en");
      await zhPage.goto(`${base}${path}?chain=${chainId}&registry=${registry}`);
      expect(await zhPage.getAttribute("html", "lang")).to.equal("en");
      expect(await zhPage.locator("#verify-title").textContent()).to.equal("Blockchain verification");
      expect(errors, errors.join("\n")).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it("test_passportPage_chineseBrowser_tamperedMirrorAndFailingNode_findingsInChinese", async function () {
    const context = await browser.newContext({ locale: "zh-CN", viewport: { width: 390, height: 844 }, isMobile: true });
    const zhPage = await context.newPage();
    const errors: string[] = [];
    zhPage.on("pageerror", (error) => errors.push(error.message));
    const { chainId, registry } = world.deployment;
    // A node that refuses every request, beside the server's own: its failure is said in Chinese too.
    const refusing = `${base}/rpc?refusing`;
    await zhPage.route(refusing, (route) => route.fulfill({ status: 503, body: "down" }));
    const forgeLocation = (batch: Batch) => {
      batch.custody[3]!.locationGln = "4000000000003";
      return batch;
    };
    try {
      await tamperBatch(world, world.traded.batchId, forgeLocation, async () => {
        await zhPage.goto(`${base}${digitalLinkPath(world.traded.gtin, world.traded.lot, "A-0002")}?chain=${chainId}&registry=${registry}`);
        expect(await zhPage.getAttribute("html", "lang")).to.equal("zh-CN");
        await zhPage.waitForSelector("#verification:not([data-state=pending])", { timeout: 60_000 });
        await zhPage.click("#verify-settings summary");
        await zhPage.fill("#rpc-urls", `${refusing}\n${base}/rpc/`);
        await zhPage.click("#rpc-form button[type=submit]");
        await zhPage.waitForSelector("#verification[data-rpc=chosen]:not([data-state=pending])", { timeout: 60_000 });
        expect(await zhPage.getAttribute("#verification", "data-state")).to.equal("mismatch");
        expect(await zhPage.textContent("#verify-status")).to.match(/^✗ 本页与区块链不符（在区块 \d+ 核验）。请勿信任以下信息。$/);
        const details = await zhPage.locator("#verify-details li").allTextContents();
        expect(details).to.have.length(2);
        // The entry's name is quoted as the passport's JSON-LD gives it (json-ld.ts names events in English).
        expect(details[0]).to.match(
          /^第 6 条历史记录：区块 \d+ 的“Custody accepted”中，地点 GLN 显示为 "4000000000003"，但链上记录为 "\d{13}"$/,
        );
        expect(details[1]).to.equal(`节点 ${refusing}：无法连接，eth_chainId：RPC 节点返回了 HTTP 503。`);
        // Nothing the verifier says is left in English.
        for (const line of details) expect(line).to.not.match(/\b(the|is|shown|but|chain|block|endpoint|answered)\b/i);
      });
      expect(errors, errors.join("\n")).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it("test_passportPage_compromisedServerWithLookAlikeRegistry_neverVerified", async function () {
    // The same mirror served by a server that names a look-alike registry (and its own RPC endpoint), while the
    // printed code names the real one.
    const lookAlike = `0x${"5e".repeat(20)}` as const;
    let rogueApp: ReturnType<typeof createApp> | null = null;
    const rogue = createServer((req, res) => rogueApp!(req, res));
    await new Promise<void>((resolve) => rogue.listen(0, "127.0.0.1", resolve));
    const rogueBase = `http://127.0.0.1:${(rogue.address() as AddressInfo).port}`;
    rogueApp = createApp({
      store: world.store,
      logger: silentLogger(),
      metrics: createMetrics(),
      indexerStatus: () => ({
        chainId: world.deployment.chainId,
        headBlock: null,
        indexedBlock: null,
        lagBlocks: null,
        eventsIndexed: 0,
        isLeader: false,
      }),
      readyMaxLagBlocks: 10,
      modules: [createModule(world, { publicBaseUrl: rogueBase, publicRpcUrl: `${rogueBase}/rpc`, registryAddress: lookAlike })],
    });
    try {
      const path = digitalLinkPath(world.traded.gtin, world.traded.lot, "A-0001");
      const { chainId, registry } = world.deployment;
      await page.goto(`${rogueBase}${path}?chain=${chainId}&registry=${registry}`);
      const anchored = await verificationOutcome();
      expect(anchored.state, anchored.status).to.equal("mismatch");
      expect(anchored.details[0]).to.equal(`The passport names registry ${lookAlike}, but you expected ${registry}`);
      expect(await page.textContent("#verify-anchors")).to.include(`registry ${registry}, as named by the code you scanned`);

      // A code without anchors: whatever the outcome, the page says whose word the registry is.
      await page.goto(`${rogueBase}${path}`);
      const unanchored = await verificationOutcome();
      expect(unanchored.state).not.to.equal("verified");
      expect(await page.getAttribute("#verification", "data-anchored")).to.equal("server");
      expect(await page.textContent("#verify-anchors")).to.include("names no registry, so this check relies on the server's word");
    } finally {
      rogue.closeAllConnections();
      await new Promise((resolve) => rogue.close(resolve));
    }
  });

  it("test_passportPage_chosenRpcEndpoint_rememberedAndUsed", async function () {
    const { chainId, registry } = world.deployment;
    await page.goto(`${base}${digitalLinkPath(world.traded.gtin, world.traded.lot, "A-0002")}?chain=${chainId}&registry=${registry}`);
    await verificationOutcome();
    expect(await page.textContent("#verify-rpc")).to.include("Read through the endpoint this server names");
    await page.click("#verify-settings summary");
    // Another address of the same proxy (a query string would be refused: /rpc documents none).
    await page.fill("#rpc-urls", `${base}/rpc/`);
    await page.click("#rpc-form button[type=submit]");
    await page.waitForSelector("#verification[data-rpc=chosen]:not([data-state=pending])", { timeout: 60_000 });
    const outcome = await verificationOutcome();
    expect(outcome.state, outcome.details.join("\n")).to.equal("verified");
    expect(await page.textContent("#verify-rpc")).to.equal(`Read through your node ${base}/rpc/.`);
    await page.reload();
    await verificationOutcome();
    expect(await page.textContent("#verify-rpc")).to.equal(`Read through your node ${base}/rpc/.`);
    await page.click("#verify-settings summary");
    await page.click("#rpc-reset");
    await page.waitForSelector("#verification[data-rpc=server]:not([data-state=pending])", { timeout: 60_000 });
  });

  it("test_passportPage_severalChosenEndpoints_comparedAndALiarIsAMismatch", async function () {
    const { chainId, registry } = world.deployment;
    // Three "nodes" on this origin (the page's Content-Security-Policy allows it and https:): two pass through to the
    // chain, the third is rewritten in the browser's network layer to lie about the pinned block's hash, like a fork
    // with the same chain id; a fourth serves another chain.
    // The server's /rpc documents no query string, so every "node" is sent on to the plain /rpc.
    const proxy = `${base}/rpc`;
    await page.route(`${base}/rpc?a`, (route) => route.continue({ url: proxy }));
    await page.route(`${base}/rpc?b`, (route) => route.continue({ url: proxy }));
    await page.route(`${base}/rpc?liar`, async (route) => {
      const request = route.request().postDataJSON() as { method: string };
      const response = await route.fetch({ url: proxy });
      const body = (await response.json()) as { result?: { hash?: string } | null };
      if (request.method === "eth_getBlockByNumber" && body.result) body.result.hash = `0x${"f0".repeat(32)}`;
      await route.fulfill({ response, json: body });
    });
    await page.route(`${base}/rpc?otherchain`, async (route) => {
      const request = route.request().postDataJSON() as { method: string; id: number };
      if (request.method === "eth_chainId") await route.fulfill({ json: { jsonrpc: "2.0", id: request.id, result: "0x1" } });
      else await route.continue({ url: proxy });
    });
    try {
      await page.goto(`${base}${digitalLinkPath(world.traded.gtin, world.traded.lot, "A-0002")}?chain=${chainId}&registry=${registry}`);
      await verificationOutcome();
      await page.click("#verify-settings summary");
      await page.fill("#rpc-urls", `${base}/rpc?a\n${base}/rpc?b\n${base}/rpc?otherchain`);
      await page.fill("#rpc-min", "2");
      await page.click("#rpc-form button[type=submit]");
      await page.waitForSelector("#verification[data-rpc=chosen]:not([data-state=pending])", { timeout: 60_000 });
      const agreed = await verificationOutcome();
      expect(agreed.state, agreed.details.join("\n")).to.equal("verified");
      expect(agreed.status).to.match(/^✓ Verified at block \d+ by 2 of 3 nodes: this page matches the blockchain\.$/);
      expect(agreed.details).to.include(`Node ${base}/rpc?otherchain: wrong chain, serves chain 1, not chain ${chainId}.`);
      expect(await page.textContent("#verify-rpc")).to.equal(
        `Read through your 3 nodes, compared: ${base}/rpc?a, ${base}/rpc?b, ${base}/rpc?otherchain; at least 2 must answer.`,
      );

      // Remembered: a reload checks through the same list.
      await page.reload();
      expect((await verificationOutcome()).status).to.include("by 2 of 3 nodes");
      expect(await page.inputValue("#rpc-urls")).to.equal(`${base}/rpc?a\n${base}/rpc?b\n${base}/rpc?otherchain`);

      await page.click("#verify-settings summary");
      await page.fill("#rpc-urls", `${base}/rpc?a\n${base}/rpc?liar`);
      await page.fill("#rpc-min", "1");
      await page.click("#rpc-form button[type=submit]");
      await page.waitForSelector("#verification:not([data-state=pending])[data-endpoints='0/2']", { timeout: 60_000 });
      const lied = await verificationOutcome();
      expect(lied.state).to.equal("mismatch");
      expect(lied.status).to.include("does not match the blockchain");
      expect(lied.details[0]).to.match(
        new RegExp(
          `^The endpoints DISAGREE on block \\d+: ${base}/rpc\\?a say hash 0x[0-9a-f]{64}, time .*; ${base}/rpc\\?liar say hash 0xf0f0`,
        ),
      );

      await page.fill("#rpc-urls", "ftp://node.example");
      await page.click("#rpc-form button[type=submit]");
      expect(await page.textContent("#verify-status")).to.equal('"ftp://node.example" is not an http(s) URL of a JSON-RPC endpoint.');
      expect(consoleErrors, consoleErrors.join("\n")).to.deep.equal([]);
    } finally {
      await page.unrouteAll();
      await page.click("#rpc-reset");
      await page.waitForSelector("#verification[data-rpc=server]:not([data-state=pending])", { timeout: 60_000 });
    }
  });
});
