/** `provena document … <subject>`: a batch (id or GTIN/LOT) or a product model (a GTIN alone), told apart exactly. */
import { expect } from "chai";
import { InvalidArgumentError } from "commander";
import { batchIdOf } from "../../../backend/chain/gs1.ts";
import { documentSubject } from "../../../scripts/cli/arguments.ts";

describe("document CLI subject", function () {
  const gtin = "04012345000016";

  it("test_documentSubject_gtinAlone_isTheProductModel_zeroPaddedTo14", function () {
    expect(documentSubject(gtin)).to.deep.equal({ kind: "product", gtin });
    expect(documentSubject(gtin.slice(1))).to.deep.equal({ kind: "product", gtin });
  });

  it("test_documentSubject_batchIdOrGtinLot_isTheBatch", function () {
    const batchId = batchIdOf(gtin, "LOT-1");
    expect(documentSubject(`${gtin}/LOT-1`)).to.deep.equal({ kind: "batch", batchId });
    expect(documentSubject(batchId)).to.deep.equal({ kind: "batch", batchId });
  });

  it("test_documentSubject_badCheckDigitOrGarbage_isRefused", function () {
    expect(() => documentSubject("04012345000019")).to.throw(InvalidArgumentError);
    expect(() => documentSubject("not-a-subject")).to.throw(InvalidArgumentError, /GTIN alone/);
  });
});
