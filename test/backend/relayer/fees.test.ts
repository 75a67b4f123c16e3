import { expect } from "chai";
import { bumpedFees, decodeFees, encodeFees } from "../../../backend/relayer/fees.ts";

describe("relayer fees", function () {
  it("test_encodeFees_roundTripsBothKinds", function () {
    const eip1559 = { type: 2 as const, maxFeePerGas: 30n, maxPriorityFeePerGas: 2n };
    expect(decodeFees(encodeFees(eip1559))).to.deep.equal(eip1559);
    expect(decodeFees(encodeFees({ type: 0, gasPrice: 7n }))).to.deep.equal({ type: 0, gasPrice: 7n });
    expect(decodeFees(null)).to.equal(null);
  });

  it("test_bumpedFees_replacement_paysAtLeastTheBumpOverThePrevious", function () {
    const previous = { type: 2 as const, maxFeePerGas: 100n, maxPriorityFeePerGas: 10n };
    const current = { type: 2 as const, maxFeePerGas: 90n, maxPriorityFeePerGas: 50n };
    expect(bumpedFees(current, previous, 15n)).to.deep.equal({ type: 2, maxFeePerGas: 116n, maxPriorityFeePerGas: 50n });
    expect(bumpedFees({ type: 0, gasPrice: 1n }, { type: 0, gasPrice: 100n }, 15n)).to.deep.equal({ type: 0, gasPrice: 116n });
  });

  it("test_bumpedFees_firstSendOrOtherKind_takesTheCurrentFees", function () {
    const current = { type: 2 as const, maxFeePerGas: 90n, maxPriorityFeePerGas: 5n };
    expect(bumpedFees(current, null, 15n)).to.equal(current);
    expect(bumpedFees(current, { type: 0, gasPrice: 500n }, 15n)).to.equal(current);
  });
});
