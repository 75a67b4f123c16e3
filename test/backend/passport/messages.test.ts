import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { PROJECT_ROOT } from "../../../backend/chain/artifacts.ts";
import { createFindingFormatter, finding } from "../../../backend/passport/assets/verify-core.js";
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

describe("the verifier's messages", function () {
  const assets = path.join(PROJECT_ROOT, "backend", "passport", "assets");
  /** Every message code the page's scripts name: findings, progress, errors and the page's own lines. */
  const codesInScripts = [
    ...new Set(
      ["verify-core.js", "reading-anchors.js", "passport.js"].flatMap((file) =>
        [...readFileSync(path.join(assets, file), "utf8").matchAll(/"((?:verify|ownership\.claim)\.[A-Za-z.]+)"/g)].map((m) => m[1]!),
      ),
    ),
  ].sort();

  it("test_verifierCodes_scannedFromTheScripts_areMany", function () {
    // The scan itself must find the findings, or the next test would pass on nothing.
    expect(codesInScripts).to.include.members(["verify.finding.unitNotInSerialRoot", "verify.readings.notRebuilt", "verify.rpc.timeout"]);
    expect(codesInScripts.length).to.be.greaterThan(100);
  });

  for (const [tag, table] of Object.entries(MESSAGE_TABLES)) {
    it(`test_verifierCodes_eachHasAMessage_in_${tag}`, function () {
      const missing = codesInScripts.filter((code) => typeof (table as Record<string, string>)[code] !== "string");
      expect(missing, `${tag} has no message for`).to.deep.equal([]);
    });
  }

  it("test_createFindingFormatter_chinese_nestedFindingsCountsAndTimesInChinese", function () {
    const zh = localeOf("zh-CN");
    const say = createFindingFormatter({
      messages: zh.messages,
      locale: "zh-CN",
      number: (n) => zh.number(n),
      time: (seconds) => zh.time(seconds),
    });
    const seconds = Date.UTC(2026, 2, 7, 13, 5) / 1000;
    const through = finding("verify.finding.throughOnly", {
      urls: { list: ["https://a.example", "https://b.example"], separator: "comma" },
      finding: finding("verify.finding.entryOtherTime", {
        where: finding("verify.where.historyEntry", { index: "6" }),
        label: "保管已接受",
        shown: { time: seconds },
        block: "12345",
        chain: { time: seconds + 60 },
      }),
    });
    expect(say(through)).to.equal(
      "仅经由 https://a.example、https://b.example：第 6 条历史记录：“保管已接受”的日期显示为 2026年3月7日 13:05 UTC，但区块 12345 的生成时间是 2026年3月7日 13:06 UTC",
    );
    expect(say(finding("verify.readings.countMismatch", { root: "0xr", committed: 1200, leg: "0xl", shown: 1199 }))).to.equal(
      "根 0xr 承诺了运输段 0xl 的 1,200 条读数，但其窗口内显示了 1,199 条",
    );
    // A code without a message shows itself rather than silently switching language.
    expect(say(finding("verify.finding.noSuchCode"))).to.equal("verify.finding.noSuchCode");
  });

  it("test_createFindingFormatter_english_pluralsAsTheTerminalPrintsThem", function () {
    const say = createFindingFormatter({ messages: en });
    expect(say(finding("verify.checked.lineage", { count: 1 }))).to.equal("lineage through 1 parent batch");
    expect(say(finding("verify.checked.lineage", { count: 2 }))).to.equal("lineage through 2 parent batches");
    expect(say(finding("verify.finding.tooFewEndpoints", { count: 1000, min: 1001 }))).to.equal(
      "Only 1000 endpoints answered, but you asked for at least 1001",
    );
  });
});
