import { expect } from "chai";
import { jsonForScript } from "../../../backend/passport/html.ts";
import { en } from "../../../backend/passport/messages/en.ts";
import { localeOf, MESSAGE_TABLES, placeholdersOf, SUPPORTED_LOCALES } from "../../../backend/passport/messages/index.ts";

describe("passport messages", function () {
  const english = Object.keys(en).sort();

  for (const [tag, table] of Object.entries(MESSAGE_TABLES)) {
    describe(tag, function () {
      it("test_messageTable_keys_sameAsEnglish", function () {
        expect(Object.keys(table).sort()).to.deep.equal(english);
      });

      it("test_messageTable_placeholders_sameAsEnglish", function () {
        for (const key of english) {
          const message = (table as Record<string, string>)[key]!;
          expect(placeholdersOf(message), `${tag} ${key}`).to.deep.equal(placeholdersOf((en as Record<string, string>)[key]!));
        }
      });

      it("test_messageTable_messages_nonEmptyWithoutMarkupOrStrayBraces", function () {
        for (const [key, message] of Object.entries(table)) {
          expect(message.trim(), `${tag} ${key}`).to.not.equal("");
          expect(message, `${tag} ${key}`).to.not.match(/[<>]/);
          // A brace that is not part of a placeholder would be shown literally, or taken for one.
          expect(message.replace(/\{[A-Za-z][A-Za-z0-9]*\}/g, ""), `${tag} ${key}`).to.not.match(/[{}]/);
        }
      });
    });
  }

  it("test_supportedLocales_englishAndSimplifiedChinese", function () {
    expect(SUPPORTED_LOCALES).to.deep.equal(["en", "zh-CN"]);
  });

  it("test_localeHtml_escapesMessageButNotGivenMarkup_textEscapesNothing", function () {
    const zh = localeOf("zh-CN");
    expect(zh.html("timeline.by", { participant: "<b>橄榄油</b>" })).to.equal("操作方：<b>橄榄油</b>");
    expect(localeOf("en").html("verify.badUrl", { value: "x" })).to.equal("&quot;x&quot; is not an http(s) URL of a JSON-RPC endpoint.");
    expect(localeOf("en").text("verify.badUrl", { value: "<x>" })).to.equal('"<x>" is not an http(s) URL of a JSON-RPC endpoint.');
    // A missing parameter stays visible rather than becoming "undefined".
    expect(localeOf("en").text("passport.lotTitle")).to.equal("Lot {lot}");
  });

  it("test_localeFormats_datesAndNumbersPerLocale", function () {
    const seconds = Date.UTC(2026, 2, 7, 13, 5) / 1000;
    expect(localeOf("en").date(seconds)).to.equal("7 Mar 2026");
    expect(localeOf("zh-CN").date(seconds)).to.equal("2026年3月7日");
    expect(localeOf("zh-CN").time(seconds)).to.equal("2026年3月7日 13:05 UTC");
    expect(localeOf("en").number("1234567")).to.equal("1,234,567");
    // uint256 quantities beyond 2^53 are formatted exactly, not rounded through a Number.
    expect(localeOf("zh-CN").number("123456789012345678901")).to.equal("123,456,789,012,345,678,901");
    expect(localeOf("en").number("not a number")).to.equal("not a number");
  });

  it("test_jsonForScript_chineseText_keptReadableAndCannotCloseTheScript", function () {
    const json = jsonForScript({ message: "本页与区块链相符</script><!--\u2028" });
    expect(json).to.include("本页与区块链相符");
    expect(json).to.not.match(/<|>|\u2028/);
    expect(JSON.parse(json)).to.deep.equal({ message: "本页与区块链相符</script><!--\u2028" });
  });
});
