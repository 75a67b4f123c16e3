import { expect } from "chai";
import {
  batchIdOf,
  gs1CheckDigit,
  hasValidCheckDigit,
  isValidGln,
  isValidGtin,
  isValidLotOrSerial,
  isValidSscc,
} from "../../../backend/chain/gs1.ts";

describe("GS1 identifiers", function () {
  it("test_gs1CheckDigit_matchesPublishedExamples", function () {
    // GS1's own examples: GTIN-13 400638133393-1 and GLN 506000000000-0 ... checked against the registry's rule.
    expect(gs1CheckDigit("400638133393")).to.equal(1);
    expect(gs1CheckDigit("0950600013435")).to.equal(2); // GTIN-14 09506000134352
    expect(gs1CheckDigit("9520123456788".slice(0, 12))).to.equal(8);
  });

  it("test_hasValidCheckDigit_wrongLastDigit_isFalse", function () {
    expect(hasValidCheckDigit("4006381333931")).to.equal(true);
    expect(hasValidCheckDigit("4006381333932")).to.equal(false);
    expect(hasValidCheckDigit("1")).to.equal(false);
    expect(hasValidCheckDigit("40063813339x1")).to.equal(false);
  });

  it("test_isValidGtin_acceptsEightTwelveThirteenFourteenDigits", function () {
    expect(isValidGtin("4006381333931")).to.equal(true);
    expect(isValidGtin("04006381333931")).to.equal(true);
    expect(isValidGtin("96385074")).to.equal(true);
    expect(isValidGtin("400638133393")).to.equal(false); // 12 digits, wrong check digit
    expect(isValidGtin("4006381333931234")).to.equal(false);
  });

  it("test_isValidGln_needsThirteenDigitsAndCheckDigit", function () {
    expect(isValidGln("9520123456788")).to.equal(true);
    expect(isValidGln("9520123456787")).to.equal(false);
    expect(isValidGln("952012345678")).to.equal(false);
  });

  it("test_isValidSscc_needsEighteenDigitsAndCheckDigit", function () {
    // The GS1 General Specifications' example SSCC: (00) 1 0614141 234567890 8.
    expect(isValidSscc("106141412345678908")).to.equal(true);
    expect(isValidSscc("106141412345678907")).to.equal(false);
    expect(isValidSscc("10614141234567890")).to.equal(false);
    expect(isValidSscc("0106141412345678908")).to.equal(false);
  });

  it("test_isValidLotOrSerial_charset82AndLength", function () {
    expect(isValidLotOrSerial(`LOT-2026/A!"%&'()*+,.:;<=>?_z`.slice(0, 20))).to.equal(true);
    expect(isValidLotOrSerial("")).to.equal(false);
    expect(isValidLotOrSerial("A".repeat(21))).to.equal(false);
    expect(isValidLotOrSerial("LOT A")).to.equal(false);
    expect(isValidLotOrSerial("LOT#1")).to.equal(false);
  });

  it("test_batchIdOf_sameForStringAndBigintGtin", function () {
    expect(batchIdOf("04006381333931", "L1")).to.equal(batchIdOf(4006381333931n, "L1"));
    expect(batchIdOf("04006381333931", "L1")).to.match(/^0x[0-9a-f]{64}$/);
  });
});
