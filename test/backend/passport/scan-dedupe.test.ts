import { expect } from "chai";
import { createScanDeduper } from "../../../backend/passport/scan-dedupe.ts";
import type { Hex } from "../../../backend/domain/model.ts";

const BATCH = `0x${"ab".repeat(32)}` as Hex;
const OTHER_BATCH = `0x${"cd".repeat(32)}` as Hex;
const HOUR = 3_600_000;

describe("createScanDeduper", function () {
  it("test_firstInWindow_repeatsOfOneClient_countOnce", function () {
    const dedupe = createScanDeduper({ windowMs: HOUR, now: () => 10 * HOUR });
    expect(dedupe.firstInWindow(BATCH, "S-1", "203.0.113.7")).to.equal(true);
    for (let i = 0; i < 50; i += 1) expect(dedupe.firstInWindow(BATCH, "S-1", "203.0.113.7")).to.equal(false);
  });

  it("test_firstInWindow_otherClientsUnitsAndBatches_countSeparately", function () {
    const dedupe = createScanDeduper({ windowMs: HOUR, now: () => 10 * HOUR });
    expect(dedupe.firstInWindow(BATCH, "S-1", "client-a")).to.equal(true);
    expect(dedupe.firstInWindow(BATCH, "S-1", "client-b")).to.equal(true);
    expect(dedupe.firstInWindow(BATCH, "S-2", "client-a")).to.equal(true);
    expect(dedupe.firstInWindow(BATCH, null, "client-a")).to.equal(true);
    expect(dedupe.firstInWindow(OTHER_BATCH, "S-1", "client-a")).to.equal(true);
    // Ids are hex: the same batch in another case is the same batch.
    expect(dedupe.firstInWindow(BATCH.toUpperCase().replace("0X", "0x") as Hex, "S-1", "client-a")).to.equal(false);
  });

  it("test_firstInWindow_nextWindow_countsAgain", function () {
    let now = 10 * HOUR;
    const dedupe = createScanDeduper({ windowMs: HOUR, now: () => now });
    expect(dedupe.firstInWindow(BATCH, "S-1", "client-a")).to.equal(true);
    now += HOUR - 1;
    expect(dedupe.firstInWindow(BATCH, "S-1", "client-a")).to.equal(false);
    now += 1;
    expect(dedupe.firstInWindow(BATCH, "S-1", "client-a")).to.equal(true);
  });

  it("test_firstInWindow_beyondMaxEntries_forgetsTheOldestFirst", function () {
    const dedupe = createScanDeduper({ windowMs: HOUR, maxEntries: 3, now: () => 0 });
    for (const client of ["a", "b", "c", "d"]) expect(dedupe.firstInWindow(BATCH, "S-1", client)).to.equal(true);
    // "a" was the oldest and is forgotten (counted again: fewer warnings, never more); "d" is still known.
    expect(dedupe.firstInWindow(BATCH, "S-1", "d")).to.equal(false);
    expect(dedupe.firstInWindow(BATCH, "S-1", "a")).to.equal(true);
  });

  it("test_createScanDeduper_nonPositiveWindow_throws", function () {
    expect(() => createScanDeduper({ windowMs: 0 })).to.throw(RangeError, /windowMs must be positive/);
  });
});
