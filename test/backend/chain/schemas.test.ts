import { expect } from "chai";
import { getAddress } from "ethers";
import { addressSchema, bytes32Schema, glnSchema, gtinSchema, lotSchema } from "../../../backend/chain/schemas.ts";

const messages = (result: { success: boolean; error?: { issues: { message: string }[] } }) =>
  result.error?.issues.map((issue) => issue.message) ?? [];

describe("chain schemas", function () {
  const lower = "0x8ba1f109551bd432803012645ac136ddd64dba72";

  it("test_addressSchema_anyValidCase_answersLowerCase", function () {
    expect(addressSchema.parse(lower)).to.equal(lower);
    expect(addressSchema.parse(getAddress(lower))).to.equal(lower);
    expect(addressSchema.parse(lower.toUpperCase().replace("0X", "0x"))).to.equal(lower);
  });

  it("test_addressSchema_mixedCaseWithWrongChecksum_isRefused", function () {
    const checksummed = getAddress(lower);
    const wrong = checksummed.replace(/[a-f]/, (c) => c.toUpperCase());
    expect(wrong).to.not.equal(checksummed);
    expect(messages(addressSchema.safeParse(wrong))).to.deep.equal([
      "has an invalid EIP-55 checksum (use all lower-case to skip the check)",
    ]);
  });

  it("test_addressSchema_notFortyHexDigits_saysSoOnce", function () {
    expect(messages(addressSchema.safeParse("0x123"))).to.deep.equal(["must be 0x followed by 40 hexadecimal digits"]);
    expect(messages(addressSchema.safeParse(lower.slice(2)))).to.deep.equal(["must be 0x followed by 40 hexadecimal digits"]);
  });

  it("test_bytes32Schema_lowerCasesAndRejectsShortValues", function () {
    expect(bytes32Schema.parse(`0x${"AB".repeat(32)}`)).to.equal(`0x${"ab".repeat(32)}`);
    expect(messages(bytes32Schema.safeParse("0x12"))).to.deep.equal(["must be 0x followed by 64 hexadecimal digits"]);
  });

  it("test_gtinSchema_padsToFourteenDigitsAndChecksTheCheckDigit", function () {
    expect(gtinSchema.parse("4006381333931")).to.equal("04006381333931");
    expect(messages(gtinSchema.safeParse("4006381333932"))).to.deep.equal(["has a wrong GS1 check digit"]);
    expect(messages(gtinSchema.safeParse("40063813339"))).to.deep.equal(["must be a GTIN of 8, 12, 13 or 14 digits"]);
  });

  it("test_glnSchema_thirteenDigitsWithCheckDigit", function () {
    expect(glnSchema.parse("9520123456788")).to.equal("9520123456788");
    expect(messages(glnSchema.safeParse("9520123456787"))).to.deep.equal(["has a wrong GS1 check digit"]);
    expect(messages(glnSchema.safeParse("95201234567"))).to.deep.equal(["must be a 13-digit GLN"]);
  });

  it("test_lotSchema_charset82", function () {
    expect(lotSchema.parse("LOT-1/A")).to.equal("LOT-1/A");
    expect(lotSchema.safeParse("LOT 1").success).to.equal(false);
  });
});
