/**
 * QR codes drawn off the event loop (qr-renderer.ts): the worker pool's bounded queue, the byte-budget cache, ETags
 * and 304s, the width and sheet bounds, and that /healthz keeps answering while large codes are being drawn.
 */
import { once } from "node:events";
import type { Server } from "node:http";
import { expect } from "chai";
import jsQRImport from "jsqr";
import { PNG } from "pngjs";
import { createApp } from "../../../backend/api/app.ts";
import { createMetrics } from "../../../backend/api/metrics.ts";
import { ConfigError, loadConfig, QR_LIMIT_DEFAULTS } from "../../../backend/config.ts";
import { isDomainError } from "../../../backend/domain/errors.ts";
import { buildDigitalLink } from "../../../backend/passport/digital-link.ts";
import { createPassportModule, type PassportModule } from "../../../backend/passport/passport-module.ts";
import { createQrCodeCache } from "../../../backend/passport/qr-cache.ts";
import {
  createQrRenderer,
  QrRenderQueueFullError,
  type QrRenderer,
  type QrRendererOptions,
} from "../../../backend/passport/qr-renderer.ts";
import { qrRenderRequest } from "../../../backend/passport/qr.ts";
import type { MirrorStore } from "../../../backend/store/port.ts";
import { createQrLinkMemo } from "../../../backend/passport/qr-link-memo.ts";
import { createLoopSlices } from "../../../backend/passport/qr-loop-slices.ts";
import { createPassportWorld, passportConfig, silentLogger, tamperBatch, type PassportWorld } from "./fixture.ts";

// jsqr is CommonJS whose types declare an ES default export: at runtime the default import is the function itself.
const jsQR = jsQRImport as unknown as typeof jsQRImport.default;

function decodeQr(png: Buffer): string | null {
  const image = PNG.sync.read(png);
  return jsQR(new Uint8ClampedArray(image.data), image.width, image.height)?.data ?? null;
}

const LINK = "https://id.provena.test/01/09506000134352/10/LOT-7/21/S-0001?chain=31337&registry=0x1111111111111111111111111111111111111111";
const SMALL_LIMITS: QrRendererOptions = { threads: 1, queueLimit: 8, cacheBytes: 1024 * 1024 };
/** A code that takes a worker a while: a wide PNG of a distinct link. */
const largeCode = (n: number, width = 2048) => qrRenderRequest(`${LINK}&n=${n}`, "png", { width });

describe("QR rendering off the event loop", function () {
  const renderers: QrRenderer[] = [];
  const rendererWith = (options: Partial<QrRendererOptions> = {}) => {
    const renderer = createQrRenderer({ ...SMALL_LIMITS, ...options });
    renderers.push(renderer);
    return renderer;
  };
  after(async function () {
    await Promise.all(renderers.map((renderer) => renderer.close()));
  });

  describe("the code cache", function () {
    const code = (bytes: number) => ({ body: Buffer.alloc(bytes), etag: '"e"' });

    it("test_qrCodeCache_overBudget_evictsTheLeastRecentlyUsed", function () {
      const cache = createQrCodeCache(8 * 1024);
      cache.set("a", code(800));
      cache.set("b", code(800));
      expect(cache.get("a")).to.not.equal(undefined); // a is now the most recently used
      for (const key of ["c", "d", "e", "f", "g", "h", "i", "j"]) cache.set(key, code(800));
      expect(cache.bytes).to.be.at.most(8 * 1024);
      expect(cache.get("b")).to.equal(undefined);
      expect(cache.get("j")).to.not.equal(undefined);
    });

    it("test_qrCodeCache_entryOverAnEighthOfTheBudget_notKept", function () {
      const cache = createQrCodeCache(8 * 1024);
      cache.set("small", code(100));
      cache.set("huge", code(2 * 1024));
      expect(cache.get("huge")).to.equal(undefined);
      expect(cache.get("small")).to.not.equal(undefined);
      const none = createQrCodeCache(0);
      none.set("small", code(1));
      expect(none.entries).to.equal(0);
    });
  });

  describe("the renderer", function () {
    it("test_render_png_decodesToTheLink", async function () {
      const png = await rendererWith().render(qrRenderRequest(LINK, "png", { width: 400 }));
      expect(PNG.sync.read(png.body).width).to.equal(400);
      expect(decodeQr(png.body)).to.equal(LINK);
      const svg = await rendererWith().render(qrRenderRequest(LINK, "svg"));
      expect(svg.body.toString("utf8")).to.match(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    });

    it("test_render_sameCodeAgain_identicalBytesFromTheCacheNotDrawnAgain", async function () {
      const renderer = rendererWith();
      const request = qrRenderRequest(LINK, "png", { width: 300 });
      const first = await renderer.render(request);
      const second = await renderer.render(qrRenderRequest(LINK, "png", { width: 300 }));
      expect(second.body.equals(first.body)).to.equal(true);
      expect(second.etag).to.equal(first.etag).and.to.equal(renderer.etagOf(request));
      expect(renderer.stats()).to.include({ rendered: 1, cacheHits: 1, cacheEntries: 1 });
      // Any other field of the request is another code.
      const wider = await renderer.render(qrRenderRequest(LINK, "png", { width: 301 }));
      expect(wider.etag).to.not.equal(first.etag);
      expect(renderer.stats().rendered).to.equal(2);
    });

    it("test_render_concurrentRequestsForOneCode_shareOneRender", async function () {
      const renderer = rendererWith({ queueLimit: 0 });
      // With one thread and no queue, a second task would be refused: the nine others join the first.
      const codes = await Promise.all(Array.from({ length: 10 }, () => renderer.render(qrRenderRequest(LINK, "png", { width: 500 }))));
      expect(new Set(codes.map((code) => code.body)).size).to.equal(1);
      expect(renderer.stats()).to.include({ rendered: 1, refused: 0 });
    });

    it("test_render_queueFull_refusedAtOnceWithRetryAfter_thenServedOnceDrained", async function () {
      const renderer = rendererWith({ threads: 1, queueLimit: 1 });
      // The bound is checked as a render is asked for, so even small codes show it.
      const running = renderer.render(largeCode(1, 400));
      const waiting = renderer.render(largeCode(2, 400));
      let refusal: unknown;
      await renderer.render(largeCode(3, 400)).catch((error: unknown) => (refusal = error));
      expect(refusal).to.be.instanceOf(QrRenderQueueFullError);
      expect(isDomainError(refusal, "unavailable")).to.equal(true);
      expect((refusal as QrRenderQueueFullError).retryAfterSeconds).to.be.within(1, 60);
      // The accepted ones are unharmed, and the refused one succeeds once the queue has drained.
      const [first, second] = await Promise.all([running, waiting]);
      expect(decodeQr(first.body)).to.equal(`${LINK}&n=1`);
      expect(decodeQr(second.body)).to.equal(`${LINK}&n=2`);
      expect(decodeQr((await renderer.render(largeCode(3, 400))).body)).to.equal(`${LINK}&n=3`);
      expect(renderer.stats()).to.include({ rendered: 3, refused: 1, pendingTasks: 0 });
    });

    it("test_render_clientAtItsShare_refusedWhileOthersAreStillServed", async function () {
      const renderer = rendererWith({ threads: 1, queueLimit: 4, clientTasks: 2 });
      const greedy = [renderer.render(largeCode(30, 400), "greedy"), renderer.render(largeCode(31, 400), "greedy")];
      let refusal: unknown;
      await renderer.render(largeCode(32, 400), "greedy").catch((error: unknown) => (refusal = error));
      expect(refusal).to.be.instanceOf(QrRenderQueueFullError);
      expect((refusal as Error).message).to.include("This client's share");
      expect(renderer.refusalFor(undefined, "greedy")).to.include({ whose: "client" });
      // Another client still gets its code drawn, and the greedy one again once its own tasks are done.
      expect(renderer.refusalFor(undefined, "patient")).to.equal(null);
      expect(decodeQr((await renderer.render(largeCode(33, 400), "patient")).body)).to.equal(`${LINK}&n=33`);
      await Promise.all(greedy);
      expect(decodeQr((await renderer.render(largeCode(32, 400), "greedy")).body)).to.equal(`${LINK}&n=32`);
    });

    it("test_renderAll_sheetOfLabels_oneTaskAndCachedLabelsNotDrawnAgain", async function () {
      const renderer = rendererWith({ queueLimit: 0 });
      const labels = Array.from({ length: 20 }, (_, i) => qrRenderRequest(`${LINK}&label=${i}`, "svg"));
      await renderer.render(labels[0]!);
      // One thread, no queue: twenty labels only fit because they travel as one task.
      const codes = await renderer.renderAll(labels);
      expect(codes).to.have.length(20);
      expect(codes.every((code, i) => code.etag === renderer.etagOf(labels[i]!))).to.equal(true);
      expect(renderer.stats()).to.include({ rendered: 20, cacheHits: 1 });
    });

    it("test_close_laterRenders_failAsUnavailable", async function () {
      const renderer = createQrRenderer(SMALL_LIMITS);
      await renderer.render(qrRenderRequest(LINK, "svg"));
      await renderer.close();
      let failure: unknown;
      await renderer.render(qrRenderRequest(LINK, "png")).catch((error: unknown) => (failure = error));
      expect(isDomainError(failure, "unavailable")).to.equal(true);
    });
  });

  describe("the link memo", function () {
    it("test_qrLinkMemo_beyondItsBound_forgetsTheLeastRecentlyRemembered", function () {
      const memo = createQrLinkMemo(2);
      memo.remember("a", qrRenderRequest(`${LINK}&a`, "svg"));
      memo.remember("b", qrRenderRequest(`${LINK}&b`, "svg"));
      memo.remember("a", qrRenderRequest(`${LINK}&a2`, "svg")); // a is now the most recent, with its new link
      memo.remember("c", qrRenderRequest(`${LINK}&c`, "svg"));
      expect(memo.entries).to.equal(2);
      expect(memo.get("b")).to.equal(undefined);
      expect(memo.get("a")?.content).to.equal(`${LINK}&a2`);
      expect(memo.get("c")?.content).to.equal(`${LINK}&c`);
    });
  });

  describe("the event-loop slices of QR handlers", function () {
    /** Waiters of `slices` and an unrelated immediate queued after them, in the order they ran. */
    async function orderWith(sliceMs: number): Promise<string[]> {
      const slices = createLoopSlices(sliceMs);
      const order: string[] = [];
      const waiters = ["qr 1", "qr 2", "qr 3"].map((name) => slices.next().then(() => void order.push(name)));
      const other = new Promise<void>((resolve) => setImmediate(() => resolve(void order.push("other work"))));
      await Promise.all([...waiters, other]);
      return order;
    }

    it("test_loopSlices_sliceSpent_laterWaitersYieldToOtherWorkAndKeepTheirOrder", async function () {
      // A zero slice: the first waiter of each turn runs, the others wait until the loop has done everything else.
      expect(await orderWith(0)).to.deep.equal(["qr 1", "other work", "qr 2", "qr 3"]);
    });

    it("test_loopSlices_sliceLeft_waitersRunInTheSameTurn", async function () {
      expect(await orderWith(60_000)).to.deep.equal(["qr 1", "qr 2", "qr 3", "other work"]);
    });
  });

  describe("configuration", function () {
    it("test_loadConfig_qrLimits_defaultsAndEnvironment", function () {
      expect(loadConfig({}).qr).to.deep.include({ maxWidth: QR_LIMIT_DEFAULTS.maxWidth, cacheBytes: QR_LIMIT_DEFAULTS.cacheBytes });
      expect(loadConfig({}).qr.renderThreads).to.be.within(1, 4);
      expect(loadConfig({ QR_MAX_WIDTH: "1024", QR_CACHE_BYTES: "2mb", QR_RENDER_THREADS: "3", QR_QUEUE_LIMIT: "0" }).qr).to.deep.equal({
        maxWidth: 1024,
        cacheBytes: 2 * 1024 * 1024,
        renderThreads: 3,
        queueLimit: 0,
      });
    });

    it("test_loadConfig_badQrLimits_oneLineEach", function () {
      try {
        loadConfig({ QR_MAX_WIDTH: "10000", QR_CACHE_BYTES: "lots", QR_RENDER_THREADS: "0", QR_QUEUE_LIMIT: "-1" });
        expect.fail("expected a ConfigError");
      } catch (error) {
        expect(error).to.be.instanceOf(ConfigError);
        const issues = (error as ConfigError).issues;
        expect(issues.map((issue) => issue.variable)).to.deep.equal([
          "QR_MAX_WIDTH",
          "QR_CACHE_BYTES",
          "QR_RENDER_THREADS",
          "QR_QUEUE_LIMIT",
        ]);
        expect(issues[0]!.message).to.include("64-4096").and.include('"10000"');
      }
    });
  });

  describe("the QR routes", function () {
    let world: PassportWorld;
    const servers: Server[] = [];

    before(async function () {
      world = await createPassportWorld();
    });
    afterEach(function () {
      for (const server of servers.splice(0)) {
        server.closeAllConnections();
        server.close();
      }
    });

    const batchLink = () =>
      buildDigitalLink("https://id.provena.test", world.traded.gtin, world.traded.lot, null, {
        chainId: world.deployment.chainId,
        registry: world.deployment.registry,
      });
    const batchQr = (query = "") => `/api/v1/batches/${world.traded.batchId}/qr${query}`;

    /** The passport module in the real app (with /healthz), listening on loopback; returns its base URL. */
    async function serve(
      renderer: QrRenderer,
      qrMaxWidth?: number,
      store: MirrorStore = world.store,
    ): Promise<{ url: string; module: PassportModule }> {
      const module = createPassportModule({
        store,
        config: passportConfig(world),
        chain: world.eip1193 as never,
        logger: silentLogger(),
        qrRenderer: renderer,
        ...(qrMaxWidth === undefined ? {} : { qrMaxWidth }),
      });
      const app = createApp({
        store: world.store,
        logger: silentLogger(),
        metrics: createMetrics(),
        indexerStatus: () => ({ chainId: 31337, headBlock: null, indexedBlock: null, lagBlocks: null, eventsIndexed: 0, isLeader: false }),
        readyMaxLagBlocks: 10,
        modules: [module],
      });
      const server = app.listen(0, "127.0.0.1");
      servers.push(server);
      await once(server, "listening");
      const { port } = server.address() as { port: number };
      return { url: `http://127.0.0.1:${port}`, module };
    }

    it("test_qrCode_secondRequest_identicalBytesFromTheCacheNotDrawnAgain", async function () {
      const renderer = rendererWith();
      const { url } = await serve(renderer);
      const first = await fetch(`${url}${batchQr("?width=256")}`);
      expect(first.status).to.equal(200);
      expect(first.headers.get("cache-control")).to.equal("public, max-age=604800");
      const firstBody = Buffer.from(await first.arrayBuffer());
      expect(decodeQr(firstBody)).to.equal(batchLink());
      const second = await fetch(`${url}${batchQr("?width=256")}`);
      expect(Buffer.from(await second.arrayBuffer()).equals(firstBody)).to.equal(true);
      expect(second.headers.get("etag")).to.equal(first.headers.get("etag"));
      expect(renderer.stats()).to.include({ rendered: 1, cacheHits: 1 });
    });

    it("test_qrCode_ifNoneMatch_304WithoutDrawing", async function () {
      const renderer = rendererWith();
      const { url } = await serve(renderer);
      const svg = await fetch(`${url}${batchQr("?format=svg")}`);
      expect(svg.headers.get("content-type")).to.equal("image/svg+xml; charset=utf-8");
      const etag = svg.headers.get("etag")!;
      expect(etag).to.match(/^"[\w-]{32}"$/);
      for (const ifNoneMatch of [etag, `W/${etag}`, `"other", ${etag}`, "*"]) {
        const cached = await fetch(`${url}${batchQr("?format=svg")}`, { headers: { "If-None-Match": ifNoneMatch } });
        expect(cached.status, ifNoneMatch).to.equal(304);
        expect(cached.headers.get("etag")).to.equal(etag);
        expect(await cached.text()).to.equal("");
      }
      // A PNG's ETag is known before drawing: a client holding one costs no render at all.
      const pngEtag = renderer.etagOf(qrRenderRequest(batchLink(), "png", { width: 777 }));
      const png = await fetch(`${url}${batchQr("?width=777")}`, { headers: { "If-None-Match": pngEtag } });
      expect(png.status).to.equal(304);
      const stale = await fetch(`${url}${batchQr("?format=svg")}`, { headers: { "If-None-Match": '"stale"' } });
      expect(stale.status).to.equal(200);
      expect(renderer.stats().rendered).to.equal(1);
    });

    it("test_qrCode_widthBeyondTheBound_400NamingTheBound", async function () {
      const { url } = await serve(rendererWith(), 1000);
      const wide = await fetch(`${url}${batchQr("?width=1001")}`);
      expect(wide.status).to.equal(400);
      expect(wide.headers.get("content-type")).to.equal("application/problem+json; charset=utf-8");
      const problem = (await wide.json()) as { errors: { path: string; message: string }[] };
      expect(problem.errors).to.deep.equal([{ in: "query", path: "width", message: "must be at most 1000" }]);
      expect((await fetch(`${url}${batchQr("?width=1000")}`)).status).to.equal(200);
      // The default bound, and the sheet's bound on labels per page.
      const { url: defaultUrl } = await serve(rendererWith());
      expect((await fetch(`${defaultUrl}${batchQr(`?width=${QR_LIMIT_DEFAULTS.maxWidth + 1}`)}`)).status).to.equal(400);
      const sheet = await fetch(`${defaultUrl}/api/v1/batches/${world.traded.batchId}/qr-sheet?perPage=501`);
      expect(sheet.status).to.equal(400);
      expect(((await sheet.json()) as { errors: { message: string }[] }).errors[0]!.message).to.equal("must be at most 500");
    });

    it("test_qrCode_queueFull_503ProblemWithRetryAfter", async function () {
      const renderer = rendererWith({ threads: 1, queueLimit: 0 });
      const { url } = await serve(renderer);
      // The one thread is busy with a large code: nothing may wait behind it.
      const occupying = renderer.render(largeCode(10));
      const busy = await fetch(`${url}${batchQr("?width=200")}`);
      expect(busy.status).to.equal(503);
      expect(busy.headers.get("content-type")).to.equal("application/problem+json; charset=utf-8");
      expect(Number(busy.headers.get("retry-after"))).to.be.within(1, 60);
      expect(busy.headers.get("etag") ?? "").to.not.match(/^"[\w-]{32}"$/); // no code's ETag on a refusal
      expect(busy.headers.get("cache-control")).to.equal("no-store");
      expect(((await busy.json()) as { status: number }).status).to.equal(503);
      const sheet = await fetch(`${url}/api/v1/batches/${world.traded.batchId}/qr-sheet`);
      expect(sheet.status).to.equal(503);
      expect(sheet.headers.get("retry-after")).to.not.equal(null);
      await occupying;
      const served = await fetch(`${url}${batchQr("?width=200")}`);
      expect(served.status).to.equal(200);
      expect(decodeQr(Buffer.from(await served.arrayBuffer()))).to.equal(batchLink());
    });

    /** The world's store, counting every call made through it (the QR routes' lookups). */
    function countingStore(): { store: MirrorStore; calls: () => number } {
      let calls = 0;
      const store = new Proxy(world.store, {
        get(target, property, receiver) {
          const value = Reflect.get(target, property, receiver) as unknown;
          if (typeof value !== "function") return value;
          return (...args: unknown[]) => {
            calls += 1;
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      });
      return { store, calls: () => calls };
    }
    const unitQr = (serial: string, query = "") => `/api/v1/batches/${world.traded.batchId}/units/${encodeURIComponent(serial)}/qr${query}`;

    describe("when the render queue is full", function () {
      it("test_qrCode_queueFullAndNeverSeen_503BeforeAnyStoreLookup", async function () {
        const renderer = rendererWith({ threads: 1, queueLimit: 0 });
        const { store, calls } = countingStore();
        const { url } = await serve(renderer, undefined, store);
        const occupying = renderer.render(largeCode(20));
        const before = calls();
        for (const path of [unitQr(world.traded.serials[0]!, "?width=210"), batchQr("?width=210")]) {
          const busy = await fetch(`${url}${path}`);
          expect(busy.status, path).to.equal(503);
          expect(busy.headers.get("content-type")).to.equal("application/problem+json; charset=utf-8");
          expect(busy.headers.get("cache-control")).to.equal("no-store");
          const retryAfter = Number(busy.headers.get("retry-after"));
          expect(retryAfter).to.be.within(1, 60);
          // The problem the error middleware would have written for the renderer's refusal.
          expect(await busy.json()).to.deep.equal({
            type: "https://provena.dev/problems/service-unavailable",
            title: "Service Unavailable",
            status: 503,
            detail: `QR rendering is at capacity; retry in ${retryAfter} s`,
            instance: path.slice(0, path.indexOf("?")),
            retryAfterSeconds: retryAfter,
          });
        }
        expect(calls() - before, "store calls while shedding").to.equal(0);
        expect(renderer.stats()).to.include({ shed: 2, refused: 2 });
        await occupying;
        // Once a thread is free, the same request does its lookups and is served.
        const served = await fetch(`${url}${unitQr(world.traded.serials[0]!, "?width=210")}`);
        expect(served.status).to.equal(200);
        expect(calls() - before).to.be.at.least(1);
      });

      it("test_qrCode_queueFullAndKnownButNotCached_503BeforeAnyStoreLookup", async function () {
        const renderer = rendererWith({ threads: 1, queueLimit: 0, cacheBytes: 0 });
        const { store, calls } = countingStore();
        const { url } = await serve(renderer, undefined, store);
        const path = unitQr(world.traded.serials[1]!, "?width=220");
        expect((await fetch(`${url}${path}`)).status).to.equal(200);
        const occupying = renderer.render(largeCode(21));
        const before = calls();
        const busy = await fetch(`${url}${path}`);
        expect(busy.status).to.equal(503);
        expect(calls() - before).to.equal(0);
        await occupying;
      });

      it("test_qrCode_clientAtItsShare_503BeforeAnyStoreLookup", async function () {
        const renderer = rendererWith({ threads: 1, queueLimit: 8, clientTasks: 1 });
        const { store, calls } = countingStore();
        const { url } = await serve(renderer, undefined, store);
        // This client (loopback, as the routes name it) already has its one task; the queue itself has room.
        const occupying = renderer.render(largeCode(24), "127.0.0.1");
        const before = calls();
        const busy = await fetch(`${url}${unitQr(world.traded.serials[4]!, "?width=250")}`);
        expect(busy.status).to.equal(503);
        expect(Number(busy.headers.get("retry-after"))).to.be.within(1, 60);
        expect(((await busy.json()) as { detail: string }).detail).to.include("This client's share");
        expect(calls() - before).to.equal(0);
        await occupying;
      });

      it("test_qrCode_queueFullAndCodeCached_servedAfterItsOwnLookups", async function () {
        const renderer = rendererWith({ threads: 1, queueLimit: 0 });
        const { store, calls } = countingStore();
        const { url } = await serve(renderer, undefined, store);
        const path = unitQr(world.traded.serials[2]!, "?width=230");
        const first = await fetch(`${url}${path}`);
        expect(first.status).to.equal(200);
        const firstBody = Buffer.from(await first.arrayBuffer());
        const occupying = renderer.render(largeCode(22));
        const before = calls();
        const again = await fetch(`${url}${path}`);
        expect(again.status).to.equal(200);
        expect(Buffer.from(await again.arrayBuffer()).equals(firstBody)).to.equal(true);
        // Not shed, and not served on the memo's word: the unit was looked up again.
        expect(calls() - before).to.be.at.least(1);
        // A client holding the code gets its 304, also after the lookups.
        const held = await fetch(`${url}${path}`, { headers: { "If-None-Match": first.headers.get("etag")! } });
        expect(held.status).to.equal(304);
        expect(renderer.stats()).to.include({ shed: 0 });
        await occupying;
      });
    });

    describe("when the mirror changed since a code was drawn", function () {
      it("test_qrCode_unitNoLongerInItsBatch_404EvenThoughItsCodeIsCached", async function () {
        const renderer = rendererWith({ threads: 1, queueLimit: 0 });
        const { url } = await serve(renderer);
        const serial = world.traded.serials[3]!;
        expect((await fetch(`${url}${unitQr(serial)}`)).status).to.equal(200);
        // As after a reorg that replaced the batch's serial list with another (the first child's, without this serial).
        const otherRoot = (await world.store.getBatch(world.children[0]!.batchId))!.serialRoot;
        await tamperBatch(
          world,
          world.traded.batchId,
          (batch) => ({ ...batch, serialRoot: otherRoot }),
          async () => {
            expect((await fetch(`${url}${unitQr(serial)}`)).status).to.equal(404);
            const occupying = renderer.render(largeCode(23));
            expect((await fetch(`${url}${unitQr(serial)}`)).status, "queue full, code cached").to.equal(404);
            await occupying;
          },
        );
      });

      it("test_qrCode_batchLinkChanged_theNewLinksCodeNotTheRememberedOne", async function () {
        const renderer = rendererWith();
        const { url } = await serve(renderer);
        const path = batchQr("?width=240");
        expect(decodeQr(Buffer.from(await (await fetch(`${url}${path}`)).arrayBuffer()))).to.equal(batchLink());
        await tamperBatch(
          world,
          world.traded.batchId,
          (batch) => ({ ...batch, lot: "LOT-REORGED" }),
          async () => {
            const changed = await fetch(`${url}${path}`);
            expect(changed.status).to.equal(200);
            const link = decodeQr(Buffer.from(await changed.arrayBuffer()));
            expect(link).to.include("/10/LOT-REORGED").and.not.equal(batchLink());
          },
        );
      });
    });

    it("test_qrCode_burstBeyondTheQueue_everyResponseWholeCodeOr503", async function () {
      const renderer = rendererWith({ threads: 1, queueLimit: 2, clientTasks: 3 });
      const { url } = await serve(renderer);
      const widths = Array.from({ length: 8 }, (_, i) => 1600 - i);
      const responses = await Promise.all(
        widths.map(async (width) => {
          const res = await fetch(`${url}${batchQr(`?width=${width}`)}`);
          return { width, status: res.status, retryAfter: res.headers.get("retry-after"), body: Buffer.from(await res.arrayBuffer()) };
        }),
      );
      const served = responses.filter((res) => res.status === 200);
      const refused = responses.filter((res) => res.status === 503);
      expect(served.length + refused.length).to.equal(widths.length);
      expect(served.length).to.be.at.least(1);
      expect(refused.length).to.be.at.least(1);
      for (const res of served) {
        expect(PNG.sync.read(res.body).width).to.equal(res.width);
        expect(decodeQr(res.body)).to.equal(batchLink());
      }
      for (const res of refused) {
        expect(res.retryAfter).to.match(/^\d+$/);
        expect(JSON.parse(res.body.toString("utf8"))).to.include({ status: 503 });
      }
      expect(renderer.stats()).to.include({ rendered: served.length, refused: refused.length, pendingTasks: 0 });
    });

    it("test_healthz_whileTenLargeCodesAreDrawn_answersBeforeAnyOfThem", async function () {
      // One test client stands for ten here: its share is the whole queue.
      const renderer = rendererWith({ threads: 1, queueLimit: 16, clientTasks: 17 });
      const { url } = await serve(renderer);
      const finished: string[] = [];
      const codes = Array.from({ length: 10 }, (_, i) =>
        fetch(`${url}${batchQr(`?width=${2048 - i}`)}`).then(async (res) => {
          await res.arrayBuffer();
          finished.push(`qr ${res.status}`);
        }),
      );
      // Every render is handed to the pool before the health check is sent.
      while (renderer.stats().pendingTasks + renderer.stats().rendered < 10) await new Promise((resolve) => setTimeout(resolve, 5));
      const health = await fetch(`${url}/healthz`);
      finished.push(`healthz ${health.status}`);
      const inFlightWhenHealthAnswered = renderer.stats().pendingTasks;
      await Promise.all(codes);
      expect(finished[0]).to.equal("healthz 200");
      expect(finished.slice(1)).to.deep.equal(Array.from({ length: 10 }, () => "qr 200"));
      expect(inFlightWhenHealthAnswered).to.be.at.least(1);
    });
  });
});
