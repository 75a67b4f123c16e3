/**
 * `provena reputation`'s report (scripts/cli/reputation-command.ts reputationText): both windows, every score with
 * its sample size and lower bound, and what was not counted.
 */
import { expect } from "chai";
import type { Hex } from "../../../backend/domain/model.ts";
import { computeReputation, type OrderFact } from "../../../backend/reputation/reputation.ts";
import { reputationText } from "../../../scripts/cli/reputation-command.ts";

const DAY = 86_400;
const NOW = 1_800_000_000;
const seller = "0x00000000000000000000000000000000000000a1" as Hex;

function order(n: number, overrides: Partial<OrderFact> = {}): OrderFact {
  return {
    orderId: `0x${n.toString(16).padStart(64, "0")}` as Hex,
    buyer: "0x00000000000000000000000000000000000000b1" as Hex,
    seller,
    carrier: "0x00000000000000000000000000000000000000c1" as Hex,
    token: "0x0000000000000000000000000000000000000000" as Hex,
    amount: "1000000000000000000",
    deliveryDeadline: NOW - 100 * DAY,
    openedAt: NOW - 120 * DAY,
    state: "released",
    deliveredAt: NOW - 101 * DAY,
    disputedBy: null,
    disputedAt: null,
    closedAt: NOW - 99 * DAY,
    disputeBuyerAmount: null,
    ...overrides,
  };
}

describe("provena reputation (report)", function () {
  it("test_reputationText_showsBothWindowsWithSampleSizesAndBounds", function () {
    const orders = [order(1), order(2), order(3, { deliveredAt: NOW - 5 * DAY, deliveryDeadline: NOW - 6 * DAY, closedAt: NOW - 4 * DAY })];
    orders.push(order(4, { amount: "1" }));
    const text = reputationText(computeReputation(seller, { orders, lots: [] }, { chainId: 31337, blockNumber: 77, timestamp: NOW }));
    const lines = text.split("\n");
    expect(lines[0]).to.equal(`reputation of ${seller} (provena-reputation/1), as of block 77 (2027-01-15T08:00:00.000Z)`);
    expect(lines[2]).to.match(/^\s+last 90 days\s+all time$/);
    const sellerRow = lines.find((line) => line.startsWith("deliveries as seller"))!;
    // Last 90 days: the one late delivery; all time: two on time and that one.
    expect(sellerRow).to.match(/0 on time, 1 late \(n=1, ≥0\.0%\)\s+2 on time, 1 late \(n=3, ≥20\.8%\)$/);
    expect(lines.find((line) => line.startsWith("deliveries as carrier"))).to.match(/\(n=0, ≥–\)\s+0 on time, 0 late \(n=0, ≥–\)$/);
    expect(lines.at(-1)).to.equal("not counted: 1 orders below the minimum amount, 0 self-dealt");
  });
});
