/**
 * The passport view cache (backend/passport/view-cache.ts) and the ETags it gives: a cached rendering is never
 * served once an indexed event, a scan or a claim has changed what the passport says; a repeat scan gets a 304.
 */
import { expect } from "chai";
import { keccak256, toUtf8Bytes } from "ethers";
import request from "supertest";
import { digitalLinkPath } from "../../../backend/passport/digital-link.ts";
import { createPassportViewCache, etagOf, ifNoneMatchHits, preferredEncoding } from "../../../backend/passport/view-cache.ts";
import type { Hex } from "../../../backend/domain/model.ts";
import type { MirrorStore } from "../../../backend/store/port.ts";
import { registerBatch } from "../../helpers/batches.ts";
import { createModule, createPassportWorld, passportTestApp, type PassportWorld } from "./fixture.ts";

const HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
const JSON_LD = "application/ld+json";

describe("passport view cache", function () {
  describe("createPassportViewCache", function () {
    const entry = (bytes: number) => ({ etag: '"x"', body: Buffer.alloc(bytes, 1) });

    it("test_set_beyondMaxBytes_evictsLeastRecentlyUsedAndStaysWithinBound", function () {
      const cache = createPassportViewCache(3_000);
      cache.set("a", entry(800));
      cache.set("b", entry(800));
      cache.set("c", entry(800));
      expect(cache.get("a")).to.not.equal(undefined); // "a" is now the most recently used
      cache.set("d", entry(800));
      expect(cache.get("b")).to.equal(undefined);
      expect(cache.get("a")).to.not.equal(undefined);
      expect(cache.get("d")).to.not.equal(undefined);
      expect(cache.size().bytes).to.be.at.most(3_000);
      for (let i = 0; i < 100; i++) cache.set(`k${i}`, entry(100 + i));
      expect(cache.size().bytes).to.be.at.most(3_000);
      expect(cache.size().entries).to.be.greaterThan(0);
    });

    it("test_set_entryLargerThanBound_notKept", function () {
      const cache = createPassportViewCache(1_000);
      cache.set("small", entry(100));
      cache.set("huge", entry(5_000));
      expect(cache.get("huge")).to.equal(undefined);
      expect(cache.get("small")).to.not.equal(undefined);
      expect(createPassportViewCache(0).size()).to.deep.equal({ entries: 0, bytes: 0 });
    });

    it("test_set_sameKeyTwice_countedOnce", function () {
      const cache = createPassportViewCache(10_000);
      cache.set("a", entry(1_000));
      cache.set("a", entry(2_000));
      expect(cache.size().entries).to.equal(1);
      expect(cache.get("a")!.body.length).to.equal(2_000);
      expect(cache.size().bytes).to.be.lessThan(2_500);
    });

    it("test_preferredEncoding_gzipOnlyWhenAccepted", function () {
      expect(preferredEncoding(undefined)).to.equal(null);
      expect(preferredEncoding("gzip, deflate, br, zstd")).to.equal("gzip");
      expect(preferredEncoding("br")).to.equal(null);
      expect(preferredEncoding("*")).to.equal("gzip");
      expect(preferredEncoding("gzip;q=0, *")).to.equal(null);
      expect(preferredEncoding("GZip;q=0.5")).to.equal("gzip");
      expect(preferredEncoding("gzip;q=nonsense")).to.equal(null);
    });

    it("test_createPassportViewCache_negativeOrFractionalBound_throws", function () {
      expect(() => createPassportViewCache(-1)).to.throw(RangeError);
      expect(() => createPassportViewCache(1.5)).to.throw(RangeError);
    });

    it("test_ifNoneMatchHits_listsWeakPrefixAndStar", function () {
      const etag = etagOf("abcdefghijklmnopqrstuvwxyz0123456789");
      expect(ifNoneMatchHits(undefined, etag)).to.equal(false);
      expect(ifNoneMatchHits(`"other", ${etag}`, etag)).to.equal(true);
      expect(ifNoneMatchHits(`W/${etag}`, etag)).to.equal(true);
      expect(ifNoneMatchHits("*", etag)).to.equal(true);
      expect(ifNoneMatchHits(`"${"abc"}"`, etag)).to.equal(false);
    });
  });

  describe("served passports", function () {
    this.timeout(120_000);
    let world: PassportWorld;
    let module: ReturnType<typeof createModule>;
    let app: ReturnType<typeof passportTestApp>;

    before(async function () {
      world = await createPassportWorld();
      module = createModule(world);
      app = passportTestApp(module, { trustProxy: true });
    });

    const unitPath = (serial: string) => digitalLinkPath(world.traded.gtin, world.traded.lot, serial);
    const batchPath = () => digitalLinkPath(world.traded.gtin, world.traded.lot);
    const get = (path: string, accept: string, client = "198.51.100.1") =>
      request(app).get(path).set("Accept", accept).set("X-Forwarded-For", client);
    const jsonLd = async (path: string) => JSON.parse((await get(path, JSON_LD).expect(200)).text) as Record<string, any>;

    it("test_servePassport_repeatRequest_servedFromCacheWithSameBytesAndEtag", async function () {
      const first = await get(unitPath("A-0002"), HTML).expect(200);
      const entries = module.viewCache.size().entries;
      const second = await get(unitPath("A-0002"), HTML).expect(200);
      expect(second.text).to.equal(first.text);
      expect(second.headers.etag).to.equal(first.headers.etag);
      expect(second.headers.etag).to.match(/^"[\w-]{32}(-gzip)?"$/);
      expect(module.viewCache.size().entries).to.equal(entries);
    });

    it("test_servePassport_ifNoneMatch_304StillCountingTheScanOfANewClient", async function () {
      const path = unitPath("A-0005");
      const first = await get(path, HTML, "198.51.100.7").expect(200);
      const etag = first.headers.etag!;
      const scansBefore = await world.store.scanStats(world.traded.batchId, "A-0005", 0);
      // The same client again: de-duplicated as always, nothing changed, so the page it has is current.
      const repeat = await get(path, HTML, "198.51.100.7").set("If-None-Match", etag).expect(304);
      expect(repeat.text).to.equal("");
      expect(repeat.headers.etag).to.equal(etag);
      expect(repeat.headers["cache-control"]).to.equal("no-cache");
      expect(String(repeat.headers.vary)).to.include("Accept-Language");
      expect((await world.store.scanStats(world.traded.batchId, "A-0005", 0)).total).to.equal(scansBefore.total);
      // Another client's scan counts, and the page now says so: its copy is out of date, so it gets the new one.
      const other = await get(path, HTML, "198.51.100.8").set("If-None-Match", etag).expect(200);
      expect(other.headers.etag).to.not.equal(etag);
      expect((await world.store.scanStats(world.traded.batchId, "A-0005", 0)).total).to.equal(scansBefore.total + 1);
    });

    it("test_servePassport_etag_differsPerLanguageAndRepresentation", async function () {
      const path = unitPath("A-0002");
      const en = await get(path, HTML).set("Accept-Language", "en").expect(200);
      const zh = await get(path, HTML).set("Accept-Language", "zh-CN").expect(200);
      const ld = await get(path, JSON_LD).expect(200);
      const json = await get(path, "application/json").expect(200);
      const etags = [en, zh, ld, json].map((res) => res.headers.etag);
      expect(new Set(etags).size).to.equal(4);
      expect(ld.headers["content-type"]).to.match(/application\/ld\+json/);
      expect(json.headers["content-type"]).to.match(/application\/json/);
      for (const res of [en, zh, ld, json]) expect(String(res.headers.vary)).to.include("Accept");
      // A page in one language is not the answer to a conditional request for the other.
      await get(path, HTML).set("Accept-Language", "zh-CN").set("If-None-Match", en.headers.etag!).expect(200);
      await get(path, HTML).set("Accept-Language", "zh-CN").set("If-None-Match", zh.headers.etag!).expect(304);
    });

    it("test_servePassport_claim_nextResponseShowsIt", async function () {
      const path = unitPath("A-0001");
      expect((await jsonLd(path))["provena:claimed"]).to.equal(false);
      const before = await get(path, HTML).expect(200);
      expect(before.text).to.include("/units/A-0001/claim");
      await module.passports.claimUnit(world.traded.batchId, "A-0001", "owner@example.com");
      const claimed = await jsonLd(path);
      expect(claimed["provena:claimed"]).to.equal(true);
      const after = await get(path, HTML).set("If-None-Match", before.headers.etag!).expect(200);
      expect(after.text).to.not.include("/units/A-0001/claim");
    });

    it("test_servePassport_scanByAnotherClient_jsonLdCountsIt", async function () {
      const path = unitPath("A/0003");
      const before = (await jsonLd(path))["provena:scans"].total as number;
      await get(path, HTML, "203.0.113.50").expect(200);
      expect((await jsonLd(path))["provena:scans"].total).to.equal(before + 1);
    });

    it("test_servePassport_eventIndexed_nextResponseReflectsItForBatchAndUnitInEveryRepresentation", async function () {
      const unit = unitPath("A%0004");
      const paths = [batchPath(), unit];
      const etags = new Map<string, string>();
      for (const path of paths) {
        // Twice each, so the second answer comes from the cache.
        for (let i = 0; i < 2; i++) {
          const ld = await jsonLd(path);
          expect(ld["provena:inspection"]["provena:result"]).to.equal("passed");
          const page = await get(path, HTML).expect(200);
          etags.set(path, page.headers.etag!);
          expect(page.text).to.not.include("Inspection failed");
        }
      }
      const { registry, inspector } = world.deployed;
      await (await registry.connect(inspector).attestQuality(world.traded.batchId, false, keccak256(toUtf8Bytes("re-test")))).wait();
      await world.sync();
      for (const path of paths) {
        const ld = await jsonLd(path);
        expect(ld["provena:inspection"]["provena:result"], path).to.equal("failed");
        const page = await get(path, HTML).set("If-None-Match", etags.get(path)!).expect(200);
        expect(page.headers.etag).to.not.equal(etags.get(path));
        expect(
          JSON.parse(/<script type="application\/ld\+json" id="passport-data">([^<]*)<\/script>/.exec(page.text)![1]!)[
            "provena:inspection"
          ]["provena:result"],
        ).to.equal("failed");
      }
    });

    it("test_servePassport_serialListUploaded_nextResponseCarriesTheProof", async function () {
      // A new batch whose serial list the manufacturer uploads only after its pages were first served (and cached).
      const serials = ["LATE-1", "LATE-2", "LATE-3"];
      const late = await registerBatch(world.deployed.registry, world.deployed.manufacturer, { lot: "PP-LATE", quantity: 3n, serials });
      await world.sync();
      const path = digitalLinkPath(late.input.gtin.toString().padStart(14, "0"), late.input.lot, "LATE-2");
      for (let i = 0; i < 2; i++) expect((await jsonLd(path))["provena:verification"].proof).to.equal(null);
      const page = await get(path, HTML).expect(200);
      expect(page.text).to.not.include("/units/LATE-2/claim"); // no proof, no claim form
      await module.serials.storeSerials(serials);
      const proven = await jsonLd(path);
      expect(proven["provena:verification"].proof).to.be.an("array").that.is.not.empty;
      const after = await get(path, HTML).set("If-None-Match", page.headers.etag!).expect(200);
      expect(after.text).to.include("/units/LATE-2/claim");
    });

    it("test_servePassport_repeatWhileStoreUnchanged_readsNothingFromTheStore_untilAWrite", async function () {
      // The fast path: while the store's change token stands, a repeat request is answered from the cache alone.
      const reads: string[] = [];
      const counting: MirrorStore = Object.create(world.store, {
        getCheckpoint: { value: (chainId: number) => (reads.push("getCheckpoint"), world.store.getCheckpoint(chainId)) },
        getBatch: { value: (batchId: Hex) => (reads.push("getBatch"), world.store.getBatch(batchId)) },
        scanStats: {
          value: (batchId: Hex, serial: string | null, since: number) => (
            reads.push("scanStats"),
            world.store.scanStats(batchId, serial, since)
          ),
        },
      }) as MirrorStore;
      const fast = createModule({ ...world, store: counting });
      const fastApp = passportTestApp(fast, { trustProxy: true });
      const path = unitPath("A-0002");
      const scansOf = async () =>
        (JSON.parse((await request(fastApp).get(path).set("Accept", JSON_LD).expect(200)).text) as Record<string, any>)["provena:scans"]
          .total as number;
      const page = () => request(fastApp).get(path).set("Accept", HTML).set("X-Forwarded-For", "198.51.100.1").expect(200);
      // This client's first view of the page is its one counted scan (a write); then both representations are cached.
      await page();
      const before = await scansOf();
      await page();
      reads.length = 0;
      expect(await scansOf()).to.equal(before);
      const repeat = await page();
      expect(repeat.text).to.include("A-0002");
      expect(reads).to.deep.equal([]);
      // Any write moves the token (here this connection's; another process's commit moves it too:
      // test/backend/store/sqlite.test.ts): the next request reads the store again and shows the change.
      await world.store.recordScan({ batchId: world.traded.batchId, serial: "A-0002", at: Date.now(), region: "FR" });
      expect(await scansOf()).to.equal(before + 1);
      expect(reads).to.include("getCheckpoint");
    });

    it("test_servePassport_acceptsGzip_compressedOnceWithItsOwnEtag", async function () {
      const path = unitPath("A-0002");
      const identity = await get(path, JSON_LD).set("Accept-Encoding", "identity").expect(200);
      expect(identity.headers["content-encoding"]).to.equal(undefined);
      const gzipped = await get(path, JSON_LD).set("Accept-Encoding", "gzip, deflate, br").expect(200);
      expect(gzipped.headers["content-encoding"]).to.equal("gzip");
      expect(gzipped.text).to.equal(identity.text); // supertest inflates it
      expect(gzipped.headers.etag).to.equal(identity.headers.etag!.replace(/"$/, '-gzip"'));
      for (const res of [identity, gzipped]) expect(String(res.headers.vary)).to.include("Accept-Encoding");
      await get(path, JSON_LD).set("Accept-Encoding", "gzip").set("If-None-Match", gzipped.headers.etag!).expect(304);
      // The other coding's validator names other bytes: not a match.
      await get(path, JSON_LD).set("Accept-Encoding", "identity").set("If-None-Match", gzipped.headers.etag!).expect(200);
      await get(path, JSON_LD)
        .set("Accept-Encoding", "gzip;q=0, br")
        .expect(200)
        .expect((res) => {
          expect(res.headers["content-encoding"]).to.equal(undefined);
        });
    });

    it("test_servePassport_manyDistinctLinks_cacheStaysWithinItsBound", async function () {
      // Attacker: a distinct (valid) GS1 data attribute on every request, to fill the server's memory with pages.
      const small = createModule(world, { viewCacheMb: 1 });
      const smallApp = passportTestApp(small);
      for (let i = 0; i < 80; i++) {
        await request(smallApp)
          .get(`${unitPath("A-0002")}?17=${String(260000 + i)}`)
          .set("Accept", HTML)
          .expect(200);
      }
      const { entries, bytes } = small.viewCache.size();
      expect(bytes).to.be.at.most(1024 * 1024);
      expect(entries).to.be.greaterThan(0).and.lessThan(80);
    });

    it("test_servePassport_cacheOff_rendersEveryRequestAndKeepsNothing", async function () {
      const uncached = createModule(world, { viewCacheMb: 0 });
      const uncachedApp = passportTestApp(uncached);
      const first = await request(uncachedApp).get(unitPath("A-0002")).set("Accept", JSON_LD).expect(200);
      const second = await request(uncachedApp).get(unitPath("A-0002")).set("Accept", JSON_LD).expect(200);
      expect(second.text).to.equal(first.text);
      expect(second.headers.etag).to.equal(first.headers.etag);
      expect(uncached.viewCache.size()).to.deep.equal({ entries: 0, bytes: 0 });
    });
  });
});
