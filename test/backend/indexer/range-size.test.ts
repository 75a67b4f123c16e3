import { expect } from "chai";
import { RANGE_CEILING_RESET, createRangeSize } from "../../../backend/indexer/range-size.ts";

describe("range size", function () {
  it("test_refused_halvesTheRefusedRange", function () {
    const size = createRangeSize(1_000);
    size.refused(1, 1_000);
    expect(size.current()).to.equal(500);
    size.refused(1, 500);
    expect(size.current()).to.equal(250);
  });

  it("test_succeeded_growsBackOnlyBelowTheRefusedSize", function () {
    const size = createRangeSize(1_000);
    size.refused(1, 1_000);
    size.succeeded();
    expect(size.current()).to.equal(999);
    size.succeeded();
    expect(size.current()).to.equal(999);
  });

  it("test_succeeded_manyTimesAfterARefusal_triesTheFullRangeAgain", function () {
    const size = createRangeSize(1_000);
    size.refused(1, 1_000);
    for (let i = 0; i < RANGE_CEILING_RESET - 1; i++) size.succeeded();
    expect(size.current()).to.equal(999);
    size.succeeded();
    expect(size.current()).to.equal(1_000);
  });

  it("test_refused_neverBelowOneBlock", function () {
    const size = createRangeSize(8);
    size.refused(5, 5);
    expect(size.current()).to.equal(1);
  });
});
