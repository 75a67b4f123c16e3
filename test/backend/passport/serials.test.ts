import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { expect } from "chai";
import { DomainError } from "../../../backend/domain/errors.ts";
import { buildSerialTree, createSerialService, MAX_REPORTED_ERRORS, parseSerialList } from "../../../backend/passport/serials.ts";
import type { MirrorStore } from "../../../backend/store/port.ts";
import { createSqliteStore } from "../../../backend/store/sqlite/index.ts";

function parsed(text: string, format: "csv" | "json") {
  const result = parseSerialList(text, format);
  if (!result.ok) expect.fail(`expected a valid list, got ${JSON.stringify(result.errors)}`);
  return result.serials;
}

function failed(text: string, format: "csv" | "json") {
  const result = parseSerialList(text, format);
  if (result.ok) expect.fail("expected errors");
  return result;
}

describe("serial lists", function () {
  describe("CSV", function () {
    it("test_parseSerialList_csvOneSerialPerLine_skipsBlanksTrimsCrlfAndBom", function () {
      expect(parsed("\uFEFFSN1\r\n  SN2  \r\n\r\nSN3\r\n", "csv")).to.deep.equal(["SN1", "SN2", "SN3"]);
    });

    it("test_parseSerialList_csvHeaderRow_readsSerialColumnWithQuotedFields", function () {
      const csv = 'sku,Serial,note\nA,SN1,"first, best"\nB,"S""2",x\n';
      expect(parsed(csv, "csv")).to.deep.equal(["SN1", 'S"2']);
    });

    it("test_parseSerialList_csvSemicolonHeader_readsSemicolonSeparated", function () {
      expect(parsed("serial;date\nSN1;2025-01-01\nSN2;2025-01-02", "csv")).to.deep.equal(["SN1", "SN2"]);
    });

    it("test_parseSerialList_csvQuotedComma_acceptedUnquotedExtraFieldsReported", function () {
      expect(parsed('"A,1"\nB', "csv")).to.deep.equal(["A,1", "B"]);
      const result = failed("SN1\nSN2,2025-01-01\nSN3", "csv");
      expect(result.errors).to.have.length(1);
      expect(result.errors[0]).to.include({ line: 2 });
      expect(result.errors[0]!.message).to.match(/2 comma-separated fields.*header row/);
    });

    it("test_parseSerialList_csvBadRows_reportedByLineNumber", function () {
      const csv = ["serial,batch", "SN1,a", "SN 2,a", `${"X".repeat(21)},a`, '"SN3,a', "SN4", "SN1,b", "é,a", ",a"].join("\n");
      const result = failed(csv, "csv");
      expect(result.errorCount).to.equal(7);
      expect(result.errors.map((e) => e.line)).to.deep.equal([3, 4, 5, 6, 7, 8, 9]);
      const messages = result.errors.map((e) => e.message);
      expect(messages[0]).to.match(/"SN 2" contains " "/);
      expect(messages[1]).to.match(/21 characters/);
      expect(messages[2]).to.match(/quoted field is not closed/);
      expect(messages[3]).to.match(/Expected 2 fields.*found 1/);
      expect(messages[4]).to.match(/Duplicate serial "SN1" \(first on line 2\)/);
      expect(messages[5]).to.match(/"é"/);
      expect(messages[6]).to.match(/Empty serial/);
    });

    it("test_parseSerialList_csvManyErrors_capsListCountsAll", function () {
      const lines = Array.from({ length: 250 }, (_, i) => `bad serial ${i}`);
      const result = failed(lines.join("\n"), "csv");
      expect(result.errorCount).to.equal(250);
      expect(result.errors).to.have.length(MAX_REPORTED_ERRORS);
      expect(result.errors.at(-1)!.line).to.equal(MAX_REPORTED_ERRORS);
    });

    it("test_parseSerialList_csvEmptyList_rejected", function () {
      expect(failed("\n \n", "csv").errors[0]!.message).to.match(/no serials/);
      expect(failed("serial\n", "csv").errors[0]!.message).to.match(/no serials/);
    });
  });

  describe("JSON", function () {
    it("test_parseSerialList_jsonArrayOrSerialsObject_read", function () {
      expect(parsed('["SN1","SN2"]', "json")).to.deep.equal(["SN1", "SN2"]);
      expect(parsed('{"batch":"L1","serials":["SN1"]}', "json")).to.deep.equal(["SN1"]);
    });

    it("test_parseSerialList_jsonBadEntries_reportedWithLineAndPosition", function () {
      const json = '{\n  "serials": [\n    "SN1",\n    42,\n    "SN1",\n    "bad serial",\n    null\n  ]\n}';
      const result = failed(json, "json");
      expect(result.errors).to.deep.equal([
        { line: 4, entry: 2, message: "Expected a string, found number (write serials as strings: numbers lose leading zeros)" },
        { line: 5, entry: 3, message: 'Duplicate serial "SN1" (first on line 3)' },
        { line: 6, entry: 4, message: result.errors[2]!.message },
        { line: 7, entry: 5, message: "Expected a string, found null" },
      ]);
    });

    it("test_parseSerialList_jsonSyntaxError_reportedAtItsLine", function () {
      const result = failed('[\n  "SN1",\n  "SN2"\n  "SN3"\n]', "json");
      expect(result.errors[0]).to.deep.equal({ line: 4, message: 'Invalid JSON: Expected ","' });
      expect(failed('["SN1",]', "json").errors[0]!.message).to.match(/Expected a value/);
    });

    it("test_parseSerialList_jsonOtherShapes_rejected", function () {
      expect(failed('{"units":["a"]}', "json").errors[0]!.message).to.match(/array of serial strings/);
      expect(failed('"SN1"', "json").errors[0]!.message).to.match(/array of serial strings/);
    });
  });

  it("test_parseSerialList_100kSerialsOneBadRow_reportsExactlyThatRow", function () {
    const serials = Array.from({ length: 100_000 }, (_, i) => `SN-${String(i).padStart(12, "0")}`);
    serials[73_210] = "SN 73210";
    const result = failed(serials.join("\n"), "csv");
    expect(result.errorCount).to.equal(1);
    expect(result.errors[0]!.line).to.equal(73_211);
  });
});

describe("serial Merkle tree", function () {
  const reference = (serials: string[]) =>
    StandardMerkleTree.of(
      serials.map((s) => [s]),
      ["string"],
    );

  it("test_buildSerialTree_anyList_matchesStandardMerkleTree", async function () {
    for (const size of [1, 2, 3, 7, 64, 257]) {
      const serials = Array.from({ length: size }, (_, i) => `S${i}${"!%&/".charAt(i % 4)}${(i * 7919) % 1000}`);
      const tree = await buildSerialTree(serials);
      const expected = reference(serials);
      expect(tree.root, `root for ${size}`).to.equal(expected.root);
      for (const serial of serials) expect(tree.proof(serial)).to.deep.equal(expected.getProof([serial]));
    }
  });

  it("test_buildSerialTree_longSerialOrNonMember_hashesAndReturnsNull", async function () {
    const serials = ["A".repeat(20), "B".repeat(32), "C".repeat(33)];
    const tree = await buildSerialTree(serials);
    expect(tree.root).to.equal(reference(serials).root);
    expect(tree.proof("nope")).to.equal(null);
    expect(tree.has("A".repeat(20))).to.equal(true);
  });
});

describe("serial service", function () {
  let store: MirrorStore;

  beforeEach(async function () {
    store = createSqliteStore({ path: ":memory:" });
    await store.init();
  });
  afterEach(async function () {
    await store.close();
  });

  it("test_serialService_validUpload_storedUnderRootAndProvesMembership", async function () {
    const service = createSerialService({ store });
    const summary = await service.uploadSerialList("serial\nSN1\nSN2\nSN3\n", "csv");
    const expected = StandardMerkleTree.of([["SN1"], ["SN2"], ["SN3"]], ["string"]);
    expect(summary).to.deep.equal({ serialRoot: expected.root, count: 3, created: true });
    expect((await store.getSerialSet(summary.serialRoot))!.serials).to.deep.equal(["SN1", "SN2", "SN3"]);
    expect((await service.uploadSerialList("SN1\nSN2\nSN3", "csv")).created).to.equal(false);

    // A fresh service (another process) rebuilds the tree from the store.
    const fresh = createSerialService({ store });
    expect(await fresh.proveSerial(summary.serialRoot, "SN2")).to.deep.equal({
      serialRoot: expected.root,
      serial: "SN2",
      proof: expected.getProof([["SN2"]][0]!),
    });
    expect(await fresh.proveSerial(summary.serialRoot, "SN9")).to.equal(null);
    expect(await fresh.hasSerial(summary.serialRoot, "SN9")).to.equal(false);
    expect(await fresh.proveSerial(`0x${"ab".repeat(32)}`, "SN1")).to.equal(null);
    expect(await fresh.hasSerial(`0x${"ab".repeat(32)}`, "SN1")).to.equal(null);
  });

  it("test_serialService_badRow_storesNothingAndIs422", async function () {
    const service = createSerialService({ store });
    let problem: DomainError | undefined;
    try {
      await service.uploadSerialList("SN1\nSN 2\nSN1", "csv");
    } catch (error) {
      problem = error as DomainError;
    }
    expect(problem).to.be.instanceOf(DomainError);
    expect(problem!.kind).to.equal("rejected");
    expect(problem!.details.errorCount).to.equal(2);
    expect((problem!.details.errors as { line: number }[]).map((e) => e.line)).to.deep.equal([2, 3]);
    const root = StandardMerkleTree.of([["SN1"]], ["string"]).root as `0x${string}`;
    expect(await store.getSerialSet(root)).to.equal(null);
  });

  it("test_serialService_concurrentProofs_buildTreeOnceAndCache", async function () {
    const serials = Array.from({ length: 2_000 }, (_, i) => `U${i}`);
    const { serialRoot } = await createSerialService({ store }).storeSerials(serials);
    let reads = 0;
    const counting: MirrorStore = Object.create(store, {
      getSerialSet: { value: (root: `0x${string}`) => (reads++, store.getSerialSet(root)) },
    });
    const service = createSerialService({ store: counting, cacheSize: 1 });
    const proofs = await Promise.all(["U1", "U2", "U3"].map((serial) => service.proveSerial(serialRoot, serial)));
    expect(proofs.every((p) => p !== null && StandardMerkleTree.verify(serialRoot, ["string"], [p.serial], p.proof))).to.equal(true);
    await service.proveSerial(serialRoot, "U4");
    expect(reads).to.equal(1);
  });

  it("test_serialService_100kSerials_handled", async function () {
    this.timeout(60_000);
    const serials = Array.from({ length: 100_000 }, (_, i) => `SN${String(i).padStart(18, "0")}`);
    const service = createSerialService({ store });
    const { serialRoot, count } = await service.uploadSerialList(JSON.stringify({ serials }), "json");
    expect(count).to.equal(100_000);
    const proof = await createSerialService({ store }).proveSerial(serialRoot, serials[99_999]!);
    expect(proof!.proof).to.have.length(17);
    expect(StandardMerkleTree.verify(serialRoot, ["string"], [serials[99_999]!], proof!.proof)).to.equal(true);
  });
});
