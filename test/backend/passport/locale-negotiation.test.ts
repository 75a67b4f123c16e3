import { expect } from "chai";
import {
  chooseLocale,
  languageLinks,
  localeForRange,
  negotiateLocale,
  parseAcceptLanguage,
} from "../../../backend/passport/locale-negotiation.ts";

describe("passport language negotiation", function () {
  describe("negotiateLocale", function () {
    it("test_negotiateLocale_chineseTags_allSimplifiedChinese", function () {
      // Documented choice: Simplified Chinese is the only Chinese, and closer to a Traditional reader than English.
      for (const tag of ["zh", "zh-CN", "zh-cn", "ZH-CN", "zh-Hans", "zh-Hans-CN", "zh-SG", "zh-TW", "zh-HK", "zh-Hant"]) {
        expect(negotiateLocale(tag), tag).to.equal("zh-CN");
      }
    });

    it("test_negotiateLocale_englishVariants_english", function () {
      for (const tag of ["en", "en-US", "en-GB", "EN-us"]) expect(negotiateLocale(tag), tag).to.equal("en");
    });

    it("test_negotiateLocale_unknownOrMissing_english", function () {
      for (const header of [undefined, "", "fr-FR", "de, ja;q=0.5", "*", "fr, *;q=0.1"])
        expect(negotiateLocale(header), String(header)).to.equal("en");
    });

    it("test_negotiateLocale_qValues_highestSupportedWins", function () {
      expect(negotiateLocale("en;q=0.5, zh-CN;q=0.9")).to.equal("zh-CN");
      expect(negotiateLocale("zh;q=0.4, en-US;q=0.8, fr")).to.equal("en");
      expect(negotiateLocale("fr-FR, fr;q=0.9, zh-CN;q=0.8, en;q=0.7")).to.equal("zh-CN");
      // Equal weights keep the header's order.
      expect(negotiateLocale("zh-CN;q=0.7, en;q=0.7")).to.equal("zh-CN");
      expect(negotiateLocale("en;q=0.7, zh-CN;q=0.7")).to.equal("en");
      // q=0 is "not acceptable", not "least preferred".
      expect(negotiateLocale("zh-CN;q=0, en;q=0.1")).to.equal("en");
      expect(negotiateLocale("en;q=0, zh;q=0.2")).to.equal("zh-CN");
      // "*" before any supported tag is the default.
      expect(negotiateLocale("fr, *;q=0.5, zh;q=0.1")).to.equal("en");
    });

    it("test_negotiateLocale_badHeaders_skipMalformedRangesAndNeverThrow", function () {
      expect(negotiateLocale("zh-CN;q=2, en")).to.equal("en"); // q beyond 1: that range is ignored
      expect(negotiateLocale("zh-CN;q=abc, en;q=0.5")).to.equal("en");
      expect(negotiateLocale("<script>, zh")).to.equal("zh-CN");
      expect(negotiateLocale(";;;,,,==")).to.equal("en");
      expect(negotiateLocale("zh-CN;q=0.5;q=")).to.equal("en");
      expect(negotiateLocale("x".repeat(10_000))).to.equal("en");
      // Only the first 32 ranges are read: a header padded with junk cannot make the server work through it.
      expect(negotiateLocale(`${"fr, ".repeat(40)}zh`)).to.equal("en");
      expect(parseAcceptLanguage("en-US;q=0.8, zh ; q = 0.9")).to.deep.equal([
        { tag: "zh", q: 0.9 },
        { tag: "en-US", q: 0.8 },
      ]);
    });
  });

  describe("chooseLocale", function () {
    it("test_chooseLocale_queryThenCookieThenHeader", function () {
      expect(chooseLocale({ query: "zh-CN", cookie: "en", acceptLanguage: "en" })).to.deep.equal({ locale: "zh-CN", chosenByQuery: true });
      expect(chooseLocale({ query: "zh", cookie: undefined, acceptLanguage: "en" })).to.deep.equal({
        locale: "zh-CN",
        chosenByQuery: true,
      });
      expect(chooseLocale({ query: undefined, cookie: "zh-CN", acceptLanguage: "en" })).to.deep.equal({
        locale: "zh-CN",
        chosenByQuery: false,
      });
      expect(chooseLocale({ query: undefined, cookie: undefined, acceptLanguage: "zh-TW" })).to.deep.equal({
        locale: "zh-CN",
        chosenByQuery: false,
      });
    });

    it("test_chooseLocale_forgedQueryOrCookie_ignored", function () {
      for (const query of ["fr", "zh-CN<script>", "en\r\nSet-Cookie: x=1", "", ["zh-CN", "en"], { a: 1 }]) {
        expect(chooseLocale({ query, cookie: undefined, acceptLanguage: "en" }), JSON.stringify(query)).to.deep.equal({
          locale: "en",
          chosenByQuery: false,
        });
      }
      for (const cookie of ["zh", "zh-cn ", "toString", "__proto__", "zh-CN; other"]) {
        expect(chooseLocale({ query: undefined, cookie, acceptLanguage: "en" }).locale, cookie).to.equal("en");
      }
    });

    it("test_localeForRange_unsupported_null", function () {
      expect(localeForRange("fr")).to.equal(null);
      expect(localeForRange("english")).to.equal(null);
    });
  });

  it("test_languageLinks_keepTrustAnchorsReplaceLangDropClaimed", function () {
    expect(languageLinks("/01/09506000134352/10/L1/21/S1?chain=31337&registry=0xab&lang=en&claimed=1")).to.deep.equal([
      { tag: "en", href: "?chain=31337&registry=0xab&lang=en" },
      { tag: "zh-CN", href: "?chain=31337&registry=0xab&lang=zh-CN" },
    ]);
    expect(languageLinks("/01/09506000134352/10/L1")).to.deep.equal([
      { tag: "en", href: "?lang=en" },
      { tag: "zh-CN", href: "?lang=zh-CN" },
    ]);
  });
});
