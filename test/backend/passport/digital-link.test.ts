import { expect } from "chai";
import { AbiCoder, keccak256 } from "ethers";
import {
  buildDigitalLink,
  DigitalLinkError,
  encodeAiValue,
  normalizeGtin,
  parseDigitalLinkPath,
  parseDigitalLinkUri,
} from "../../../backend/passport/digital-link.ts";
import { gs1CheckDigit } from "../../../backend/chain/gs1.ts";
import { digitalLinkOfPath } from "../../../backend/passport/assets/verify-core.js";

function expectLinkError(fn: () => unknown, ai: string | null, message: RegExp) {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(DigitalLinkError);
    expect((error as DigitalLinkError).ai).to.equal(ai);
    expect((error as Error).message).to.match(message);
    return;
  }
  expect.fail("expected a DigitalLinkError");
}

describe("GS1 Digital Link", function () {
  describe("GTIN check digits", function () {
    it("test_gs1CheckDigit_knownCodes_matchesMod10", function () {
      expect(gs1CheckDigit("400638133393")).to.equal(1); // EAN-13 4006381333931
      expect(gs1CheckDigit("9638507")).to.equal(4); // GTIN-8 96385074
      expect(gs1CheckDigit("03600029145")).to.equal(2); // UPC-A 036000291452
      expect(gs1CheckDigit("1001234567890")).to.equal(2); // GTIN-14 10012345678902 (GS1 General Specifications example)
    });

    it("test_normalizeGtin_gtin8To13_padsTo14Digits", function () {
      expect(normalizeGtin("96385074")).to.equal("00000096385074");
      expect(normalizeGtin("036000291452")).to.equal("00036000291452");
      expect(normalizeGtin("4006381333931")).to.equal("04006381333931");
      expect(normalizeGtin("04006381333931")).to.equal("04006381333931");
    });

    it("test_normalizeGtin_wrongCheckDigit_namesExpectedDigit", function () {
      expectLinkError(() => normalizeGtin("4006381333932"), "01", /check digit 2, but its digits require 1/);
    });

    it("test_normalizeGtin_badLengthNonDigitsOrZero_throws", function () {
      expectLinkError(() => normalizeGtin("1234567"), "01", /7 digits/);
      expectLinkError(() => normalizeGtin("400638133393100"), "01", /15 digits/);
      expectLinkError(() => normalizeGtin("40063813339A1"), "01", /digits only/);
      expectLinkError(() => normalizeGtin("00000000"), "01", /GTIN 0/);
    });
  });

  describe("parsing paths", function () {
    it("test_parseDigitalLinkPath_unitLink_derivesBatchId", function () {
      const link = parseDigitalLinkPath("/01/04006381333931/10/LOT-7/21/SN0001");
      expect(link).to.deep.equal({
        gtin: "04006381333931",
        lot: "LOT-7",
        serial: "SN0001",
        batchId: keccak256(AbiCoder.defaultAbiCoder().encode(["uint64", "string"], [4006381333931n, "LOT-7"])),
      });
    });

    it("test_parseDigitalLinkPath_batchLinkGtin13TrailingSlash_parses", function () {
      const link = parseDigitalLinkPath("/01/4006381333931/10/LOT-7/");
      expect(link.gtin).to.equal("04006381333931");
      expect(link.serial).to.equal(null);
    });

    it("test_parseDigitalLinkPath_percentEncodedSet82_decodes", function () {
      const link = parseDigitalLinkPath("/01/04006381333931/10/A%2FB%25C/21/x%3F%26%22%3C%3E!'()*+,;=:y");
      expect(link.lot).to.equal("A/B%C");
      expect(link.serial).to.equal(`x?&"<>!'()*+,;=:y`);
    });

    it("test_parseDigitalLinkPath_charactersOutsideSet82_throws", function () {
      expectLinkError(() => parseDigitalLinkPath("/01/04006381333931/10/LOT%20A"), "10", /a space.*character set 82/);
      expectLinkError(() => parseDigitalLinkPath("/01/04006381333931/10/LOT/21/%C3%A9"), "21", /"é"/);
      expectLinkError(() => parseDigitalLinkPath("/01/04006381333931/10/LOT/21/a~b"), "21", /"~"/);
      expectLinkError(() => parseDigitalLinkPath("/01/04006381333931/10/LOT/21/a%00b"), "21", /control character U\+0000/);
    });

    it("test_parseDigitalLinkPath_malformedEscapeOrInvalidUtf8_throws", function () {
      expectLinkError(() => parseDigitalLinkPath("/01/04006381333931/10/50%"), "10", /%25/);
      expectLinkError(() => parseDigitalLinkPath("/01/04006381333931/10/5%G1"), "10", /%XX/);
      expectLinkError(() => parseDigitalLinkPath("/01/04006381333931/10/A%FF"), "10", /UTF-8/);
    });

    it("test_parseDigitalLinkPath_lotOrSerialOutside1To20Characters_throws", function () {
      expect(parseDigitalLinkPath(`/01/04006381333931/10/${"L".repeat(20)}/21/${"S".repeat(20)}`).serial).to.equal("S".repeat(20));
      expectLinkError(() => parseDigitalLinkPath(`/01/04006381333931/10/${"L".repeat(21)}`), "10", /21 characters/);
      expectLinkError(() => parseDigitalLinkPath(`/01/04006381333931/10/L/21/${"S".repeat(21)}`), "21", /21 characters/);
      expectLinkError(() => parseDigitalLinkPath("/01/04006381333931/10//21/S"), "10", /no batch\/lot/);
    });

    it("test_parseDigitalLinkPath_otherStructure_throws", function () {
      expectLinkError(() => parseDigitalLinkPath("/01/04006381333931"), "10", /no batch/);
      expectLinkError(() => parseDigitalLinkPath("/01/04006381333931/21/S1"), "10", /serial without a batch/);
      expectLinkError(() => parseDigitalLinkPath("/01/04006381333931/10/L/22/X"), "21", /Expected \/21/);
      expectLinkError(() => parseDigitalLinkPath("/01/04006381333931/10/L/21/S/extra"), "21", /extra path segments/);
      expectLinkError(() => parseDigitalLinkPath("/00/123"), null, /starts with "\/01\//);
      expectLinkError(() => parseDigitalLinkPath("/01/4006381333932/10/L"), "01", /check digit/);
    });
  });

  describe("building URIs", function () {
    it("test_encodeAiValue_reservedCharacters_percentEncodedUpperHex", function () {
      expect(encodeAiValue(`A/B%C?&"<>!'()*+,;=:_-.z`)).to.equal("A%2FB%25C%3F%26%22%3C%3E%21%27%28%29%2A%2B%2C%3B%3D%3A_-.z");
    });

    it("test_buildDigitalLink_everySet82Character_roundTrips", function () {
      const set82 = `!"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz`;
      for (let i = 0; i < set82.length; i += 20) {
        const value = set82.slice(i, i + 20);
        const uri = buildDigitalLink("https://id.example.com/", "4006381333931", value, value);
        expect(uri.startsWith("https://id.example.com/01/04006381333931/10/")).to.equal(true);
        const parsed = parseDigitalLinkUri(uri);
        expect([parsed.lot, parsed.serial]).to.deep.equal([value, value]);
      }
    });

    it("test_buildDigitalLink_batchLinkOnBaseUrlWithPath_keepsPrefix", function () {
      const uri = buildDigitalLink("https://example.com/provena", "96385074", "L1");
      expect(uri).to.equal("https://example.com/provena/01/00000096385074/10/L1");
      expect(parseDigitalLinkUri(uri)).to.include({ gtin: "00000096385074", lot: "L1", serial: null, origin: "https://example.com" });
    });

    it("test_digitalLinkOfPath_scannedLink_matchesServerParse", function () {
      for (const path of ["/01/4006381333931/10/A%2FB/21/x%25y", "/provena/01/04006381333931/10/01/21/10/", "/01/96385074/10/L1"]) {
        const { gtin, lot, serial } = parseDigitalLinkPath(path, { prefixAllowed: true });
        expect(digitalLinkOfPath(path), path).to.deep.equal({ gtin, lot, serial });
      }
      expect(digitalLinkOfPath("/api/v1/batches")).to.equal(null);
      expect(digitalLinkOfPath("/01/4006381333931/10/%E0%A4%A/21/S")).to.equal(null);
    });

    it("test_buildDigitalLink_invalidLotOrSerial_throws", function () {
      expectLinkError(() => buildDigitalLink("https://x.test", "4006381333931", "bad lot"), "10", /a space/);
      expectLinkError(() => buildDigitalLink("https://x.test", "4006381333931", "L", ""), "21", /empty/);
    });
  });
});
