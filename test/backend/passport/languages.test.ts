/**
 * The passport in English and Simplified Chinese: chosen by Accept-Language, switched by ?lang= and remembered in a
 * cookie, said to caches; error pages and the claim flow in both.
 */
import { expect } from "chai";
import request from "supertest";
import { digitalLinkPath } from "../../../backend/passport/digital-link.ts";
import { LOCALE_COOKIE } from "../../../backend/passport/locale-negotiation.ts";
import { createModule, createPassportWorld, passportTestApp, type PassportWorld } from "./fixture.ts";

const HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

function jsonScript(html: string, id: string): unknown {
  const match = new RegExp(`<script type="application/(?:ld\\+)?json" id="${id}">([^<]*)</script>`).exec(html);
  expect(match, id).to.not.equal(null);
  return JSON.parse(match![1]!);
}

describe("passport languages", function () {
  let world: PassportWorld;
  let app: ReturnType<typeof passportTestApp>;

  before(async function () {
    world = await createPassportWorld();
    app = passportTestApp(createModule(world));
  });

  const unitPath = (serial: string) => digitalLinkPath(world.traded.gtin, world.traded.lot, serial);
  const page = (path: string, language?: string) => {
    const req = request(app).get(path).set("Accept", HTML);
    return language === undefined ? req : req.set("Accept-Language", language);
  };

  describe("passport page", function () {
    it("test_unitPage_acceptLanguageChinese_chinesePageWithLocaleDates", async function () {
      const res = await page(unitPath("A/0003"), "zh-CN,zh;q=0.9,en;q=0.8").expect(200);
      const html = res.text;
      expect(html).to.match(/^<!doctype html>\n<html lang="zh-CN">/);
      expect(res.headers["content-language"]).to.equal("zh-CN");
      expect(html).to.include('<h2 id="verify-title">区块链验证</h2>');
      expect(html).to.include('<h2 id="timeline-title">保管记录</h2>');
      expect(html).to.include("<h1>序列号 A/0003 ");
      expect(html).to.match(/<dt>生产日期<\/dt><dd><time datetime="\d{4}-\d{2}-\d{2}">\d{4}年\d{1,2}月\d{1,2}日<\/time><\/dd>/);
      expect(html).to.match(/<time datetime="[^"]+">\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2} UTC<\/time> · 区块 \d+/);
      expect(html).to.include("<h3>检验合格</h3>");
      expect(html).to.include("业务环节：零售");
      // Names stay as registered, lots and serials as GS1 characters.
      expect(html).to.include("Acme Olive Oil S.L.");
      expect(html).to.not.include("Custody timeline");
      expect(html).to.not.include("Blockchain verification");
    });

    it("test_unitPage_noOrUnknownLanguage_englishPage", async function () {
      for (const language of [undefined, "fr-FR, de;q=0.5", "en-US"]) {
        const res = await page(unitPath("A/0003"), language).expect(200);
        expect(res.text, String(language)).to.match(/<html lang="en">/);
        expect(res.text).to.include('<h2 id="timeline-title">Custody timeline</h2>');
        expect(res.text).to.match(/<dt>Produced<\/dt><dd><time datetime="[^"]+">\d{1,2} [A-Z][a-z]{2} \d{4}<\/time>/);
        expect(res.headers["content-language"]).to.equal("en");
      }
    });

    it("test_unitPage_verifierMessages_inThePageInItsLanguage", async function () {
      const zh = (await page(unitPath("A/0003"), "zh").expect(200)).text;
      const messages = jsonScript(zh, "passport-messages") as Record<string, string>;
      expect(messages["verify.verified"]).to.equal("✓ 已在区块 {block} 核验，{total} 个节点中有 {agreeing} 个一致：本页与区块链相符。");
      expect(messages["verify.unverifiable"]).to.include("无法核验");
      expect(Object.keys(messages).every((key) => key.startsWith("verify.") || key.startsWith("ownership.claim."))).to.equal(true);
      const en = jsonScript((await page(unitPath("A/0003"), "en").expect(200)).text, "passport-messages") as Record<string, string>;
      expect(en["verify.mismatch"]).to.equal("✗ This page does not match the blockchain. Do not trust the details below.");
    });

    it("test_unitPage_jsonLd_sameInEveryLanguage", async function () {
      // Each page view is a scan: the counter is the only thing allowed to differ between the two.
      const withoutScans = (doc: unknown) => ({ ...(doc as Record<string, unknown>), "provena:scans": null });
      const zh = withoutScans(jsonScript((await page(unitPath("A/0003"), "zh-CN").expect(200)).text, "passport-data"));
      const en = withoutScans(jsonScript((await page(unitPath("A/0003"), "en").expect(200)).text, "passport-data"));
      expect(zh).to.deep.equal(en);
      const machine = await request(app)
        .get(unitPath("A/0003"))
        .set("Accept", "application/ld+json")
        .set("Accept-Language", "zh-CN")
        .expect(200);
      expect(machine.headers["content-language"]).to.equal(undefined);
      expect(withoutScans(JSON.parse(machine.text))).to.deep.equal(en);
    });

    it("test_unitPage_cacheHeaders_varyOnLanguageAndEtagPerLanguage", async function () {
      const zh = await page(unitPath("A-0001"), "zh-CN").expect(200);
      const en = await page(unitPath("A-0001"), "en").expect(200);
      for (const res of [zh, en]) {
        const vary = String(res.headers.vary).split(/\s*,\s*/);
        expect(vary).to.include.members(["Accept", "Accept-Language", "Cookie"]);
        expect(res.headers["cache-control"]).to.equal("no-cache");
      }
      expect(zh.headers.etag).to.be.a("string");
      expect(zh.headers.etag).to.not.equal(en.headers.etag);
    });

    it("test_languageSwitch_queryChoosesAndCookieRemembers", async function () {
      const { chainId, registry } = world.deployment;
      const anchored = `${unitPath("A-0001")}?chain=${chainId}&registry=${registry}`;
      const english = await page(anchored, "zh-CN").expect(200);
      // The switch names each language in itself and keeps the scanned code's trust anchors.
      expect(english.text).to.include(
        `<a href="?chain=${chainId}&amp;registry=${registry}&amp;lang=en" lang="en" hreflang="en">English</a>`,
      );
      expect(english.text).to.include(`lang="zh-CN" hreflang="zh-CN" aria-current="true"><strong>简体中文</strong></a>`);
      expect(english.headers["set-cookie"]).to.equal(undefined);

      const switched = await page(`${anchored}&lang=en`, "zh-CN").expect(200);
      expect(switched.text).to.match(/<html lang="en">/);
      const cookie = String(switched.headers["set-cookie"]);
      expect(cookie).to.match(new RegExp(`^${LOCALE_COOKIE}=en; Max-Age=31536000; Path=/; Expires=[^;]+; HttpOnly; SameSite=Lax$`));

      const remembered = await page(anchored, "zh-CN").set("Cookie", `other=1; ${LOCALE_COOKIE}=en`).expect(200);
      expect(remembered.text).to.match(/<html lang="en">/);
      const back = await page(`${anchored}&lang=zh-CN`, "en").set("Cookie", `${LOCALE_COOKIE}=en`).expect(200);
      expect(back.text).to.match(/<html lang="zh-CN">/);
      expect(String(back.headers["set-cookie"])).to.match(new RegExp(`^${LOCALE_COOKIE}=zh-CN;`));
    });

    it("test_languageSwitch_forgedLangOrCookie_ignoredAndNeverStored", async function () {
      for (const lang of ["fr", "%3Cscript%3E", "zh-CN%0D%0ASet-Cookie:%20x=1", ""]) {
        const res = await page(`${unitPath("A-0001")}?lang=${lang}`, "zh-CN").expect(200);
        expect(res.text, lang).to.match(/<html lang="zh-CN">/);
        expect(res.headers["set-cookie"], lang).to.equal(undefined);
        expect(res.text).to.not.include("<script>");
      }
      // Repeated keys are arrays under the simple query parser: neither value is taken.
      const repeated = await page(`${unitPath("A-0001")}?lang=en&lang=zh-CN`, "zh-CN").expect(200);
      expect(repeated.headers["set-cookie"]).to.equal(undefined);
      const forged = await page(unitPath("A-0001"), "zh-CN").set("Cookie", `${LOCALE_COOKIE}=<script>`).expect(200);
      expect(forged.text).to.match(/<html lang="zh-CN">/);
    });
  });

  describe("error pages", function () {
    it("test_errorPage_unknownProduct_404InBothLanguages", async function () {
      const zh = await page("/01/04006381333931/10/NOPE", "zh-CN")
        .expect(404)
        .expect("Content-Type", /text\/html/);
      expect(zh.text).to.match(/<html lang="zh-CN">/);
      expect(zh.text).to.include("<h1>未找到产品</h1>");
      expect(zh.text).to.include("代码可能输入有误");
      // The problem's own detail is English, and marked so.
      expect(zh.text).to.match(/<p lang="en">[^<]+<\/p>/);
      expect(String(zh.headers.vary)).to.include("Accept-Language");
      const en = await page("/01/04006381333931/10/NOPE", "en-GB").expect(404);
      expect(en.text).to.match(/<html lang="en">/);
      expect(en.text).to.include("<h1>Product not found</h1>");
      expect(en.text).to.not.include('<p lang="en">');
      expect(zh.headers.etag).to.not.equal(en.headers.etag);
    });

    it("test_errorPage_badLink_400InChineseWithSwitch", async function () {
      const zh = await page("/01/4006381333932/10/LOT?lang=zh-CN").expect(400);
      expect(zh.text).to.include("<h1>这不是有效的产品链接</h1>");
      expect(zh.text).to.include("Provena 链接的格式为 /01/{GTIN}/10/{lot}/21/{serial}。");
      expect(zh.text).to.include('<a href="?lang=en" lang="en" hreflang="en">English</a>');
      expect(String(zh.headers["set-cookie"])).to.match(new RegExp(`^${LOCALE_COOKIE}=zh-CN;`));
      const en = await page("/01/4006381333932/10/LOT", "en").expect(400);
      expect(en.text).to.include("<h1>This is not a valid product link</h1>");
      expect(en.text).to.include("Provena links look like /01/{GTIN}/10/{lot}/21/{serial}.");
    });

    it("test_errorPage_problemJsonClients_unaffectedByLanguage", async function () {
      const res = await request(app)
        .get("/01/04006381333931/10/NOPE")
        .set("Accept", "application/json")
        .set("Accept-Language", "zh-CN")
        .expect(404)
        .expect("Content-Type", /problem\+json/);
      expect(res.body.title).to.equal("Not Found");
    });
  });

  describe("claim flow", function () {
    it("test_claimForm_chinese_formConfirmationAndConflictInChinese", async function () {
      const serial = "A-0002";
      const form = await page(unitPath(serial), "zh-CN").expect(200);
      expect(form.text).to.include('<label for="owner">所有者标识</label>');
      expect(form.text).to.include('<button type="submit">认领此商品</button>');
      const action = /<form method="post" action="([^"]+)">/.exec(form.text)![1]!;
      const posted = await request(app)
        .post(action)
        .set("Accept", HTML)
        .set("Accept-Language", "zh-CN")
        .type("form")
        .send({ owner: "我的秘密短语" })
        .expect(303);
      const confirmed = await page(posted.headers.location!, "zh-CN").expect(200);
      expect(confirmed.text).to.include("<strong>谢谢：此商品现已登记为已认领。</strong>");
      expect(confirmed.text).to.match(/已由其所有者于 <time datetime="[^"]+">\d{4}年\d{1,2}月\d{1,2}日<\/time> <strong>认领<\/strong>/);
      // The language switch does not repeat the confirmation.
      expect(confirmed.text).to.include('<a href="?lang=en" lang="en" hreflang="en">English</a>');

      // The claim endpoint lives under /api, where every error is problem+json (issue 16), in any language.
      const conflict = await request(app)
        .post(action)
        .set("Accept", HTML)
        .set("Accept-Language", "zh-CN")
        .type("form")
        .send({ owner: "另一个人的短语" })
        .expect(409)
        .expect("Content-Type", /application\/problem\+json/);
      expect((conflict.body as { detail: string }).detail).to.match(/already claimed/);
    });
  });
});
