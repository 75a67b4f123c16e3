/**
 * The MongoDB adapter's keyset cursors and page cutting. No server needed.
 */
import { expect } from "chai";

import { DomainError } from "../../../backend/domain/errors.ts";
import { checkPageLimit, decodeCursor, encodeCursor, pageCursor, toPage } from "../../../backend/store/cursor.ts";

function expectInvalidInput(action: () => unknown): DomainError {
  try {
    action();
  } catch (error) {
    expect(error).to.be.instanceOf(DomainError);
    expect((error as DomainError).kind).to.equal("invalid-input");
    return error as DomainError;
  }
  throw new Error("expected an invalid-input DomainError");
}

describe("store cursors", function () {
  it("test_cursor_roundTripsTheSortKey_andIsUrlSafe", function () {
    const keys = ["31337:000000000012:000003", "0xabc/+=?&"];
    const cursor = encodeCursor("batches", keys);
    expect(cursor).to.match(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor("batches", cursor)).to.deep.equal(keys);
    expect(decodeCursor("events", encodeCursor("events", ["1:000000000001:000000"]))).to.deep.equal(["1:000000000001:000000"]);
  });

  it("test_cursor_ofAnotherList_is400", function () {
    const cursor = encodeCursor("orders", ["e", "0x1"]);
    expectInvalidInput(() => decodeCursor("participants", cursor));
    expectInvalidInput(() => decodeCursor("batches", cursor));
    expectInvalidInput(() => decodeCursor("events", cursor));
  });

  it("test_cursor_malformed_is400_withTheFieldNamed", function () {
    const malformed = [
      "",
      "not a cursor!",
      "%%%",
      "x".repeat(2000),
      Buffer.from("plain text").toString("base64url"),
      Buffer.from(JSON.stringify({ after: "x" })).toString("base64url"),
      Buffer.from(JSON.stringify(["events"])).toString("base64url"),
      Buffer.from(JSON.stringify(["events", 12])).toString("base64url"),
      Buffer.from(JSON.stringify(["events", "a", "b"])).toString("base64url"),
      Buffer.from(JSON.stringify(["events", { $gt: "" }])).toString("base64url"),
      `${encodeCursor("events", ["1:000000000001:000000"])}A`, // trailing garbage the decoder would skip
      `${encodeCursor("events", ["1:000000000001:000000"])}=`,
    ];
    for (const cursor of malformed) {
      const problem = expectInvalidInput(() => decodeCursor("events", cursor));
      expect(problem.details.errors).to.deep.equal([
        { in: "query", path: "cursor", message: "not a cursor of this list; pass the nextCursor of the previous page" },
      ]);
    }
  });

  it("test_pageCursor_nullOrAbsent_isFirstPage", function () {
    expect(pageCursor("events", { limit: 5 })).to.equal(null);
    expect(pageCursor("events", { limit: 5, cursor: null })).to.equal(null);
    expectInvalidInput(() => pageCursor("events", { limit: 5, cursor: "" }));
  });

  it("test_checkPageLimit_acceptsOnlyIntegers1to500", function () {
    for (const limit of [1, 250, 500]) expect(checkPageLimit({ limit })).to.equal(limit);
    for (const limit of [0, -1, 501, 2.5, Number.NaN, Number.POSITIVE_INFINITY, "10" as unknown as number]) {
      expectInvalidInput(() => checkPageLimit({ limit }));
    }
  });

  describe("toPage", function () {
    const rows = [{ k: "a" }, { k: "b" }, { k: "c" }];
    const cut = (read: typeof rows, limit: number) =>
      toPage(
        read,
        limit,
        "events",
        (row) => [row.k],
        (row) => row.k,
      );

    it("test_toPage_moreThanLimitRead_givesCursorOfLastItem", function () {
      const page = cut(rows, 2);
      expect(page.items).to.deep.equal(["a", "b"]);
      expect(decodeCursor("events", page.nextCursor!)).to.deep.equal(["b"]);
    });

    it("test_toPage_limitOrFewerRead_givesNullCursor", function () {
      expect(cut(rows, 3)).to.deep.equal({ items: ["a", "b", "c"], nextCursor: null });
      expect(cut([], 3)).to.deep.equal({ items: [], nextCursor: null });
    });
  });
});
