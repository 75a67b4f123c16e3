import { expect } from "chai";
import { anchoredReadings, buildAnchorTree, planAnchorWindow, verifyReadingProof } from "../../../backend/coldchain/anchor-tree.ts";
import { NO_HUMIDITY, NO_POSITION, type StoredReading } from "../../../backend/domain/cold-chain.ts";
import type { Hex } from "../../../backend/domain/model.ts";

const LEG = `0x${"1e".repeat(32)}` as Hex;
const reading = (sequence: number, timestamp: number): StoredReading => ({
  device: `0x${"de".repeat(20)}` as Hex,
  batchId: `0x${"ba".repeat(32)}` as Hex,
  sequence,
  timestamp,
  temperature: 450,
  humidity: NO_HUMIDITY,
  latitude: NO_POSITION,
  longitude: NO_POSITION,
  signature: `0x${"11".repeat(65)}` as Hex,
  legId: LEG,
  receivedAt: 1,
});
const open = { anchoredUntil: 0, attachedAt: 1_000, detachedAt: null, chainTime: 10_000, intervalSeconds: 300, maxReadings: 100 };
const sequencesOf = (plan: ReturnType<typeof planAnchorWindow>) => plan?.readings.map((item) => item.sequence) ?? null;

describe("anchor windows", function () {
  it("test_planAnchorWindow_closedWindow_takesItsReadings_andTheRuleRebuildsExactlyThem", function () {
    const readings = [reading(1, 1_000), reading(2, 1_100), reading(3, 1_299), reading(4, 1_300), reading(5, 1_400)];
    const plan = planAnchorWindow({ ...open, readings });
    expect(plan?.window).to.deep.equal({ firstSequence: 1, lastSequence: 3, fromTime: 1_000, toTime: 1_299 });
    expect(anchoredReadings(readings, plan!.window)).to.deep.equal(plan!.readings);
  });

  it("test_planAnchorWindow_openWindow_waits_untilClosedOrFull", function () {
    const readings = [reading(1, 9_800), reading(2, 9_900)];
    expect(planAnchorWindow({ ...open, readings })).to.equal(null);
    expect(sequencesOf(planAnchorWindow({ ...open, readings, maxReadings: 2 }))).to.deep.equal([1, 2]);
    expect(sequencesOf(planAnchorWindow({ ...open, readings, chainTime: 10_100 }))).to.deep.equal([1, 2]);
  });

  it("test_planAnchorWindow_detachedLeg_anchorsAtOnce_skippingReadingsItCanNeverAnchor", function () {
    // Before the anchorer's cursor, inside the window, after the leg's end: only the middle ones are anchorable.
    const readings = [reading(5, 1_400), reading(6, 1_600), reading(7, 1_650), reading(8, 2_500), reading(9, 1_700)];
    const plan = planAnchorWindow({ ...open, anchoredUntil: 1_500, detachedAt: 2_000, readings });
    expect(plan?.window).to.deep.equal({ firstSequence: 6, lastSequence: 9, fromTime: 1_600, toTime: 1_700 });
    expect(sequencesOf(plan)).to.deep.equal([6, 7, 9]);
    expect(anchoredReadings(readings, plan!.window)).to.deep.equal(plan!.readings);
  });

  it("test_planAnchorWindow_openLeg_readingAheadOfTheChain_waitsForIt", function () {
    const readings = [reading(1, 9_000), reading(2, 10_500), reading(3, 9_100)];
    expect(sequencesOf(planAnchorWindow({ ...open, readings, intervalSeconds: 60 }))).to.deep.equal([1]);
    expect(sequencesOf(planAnchorWindow({ ...open, readings: readings.slice(1) }))).to.equal(null);
  });

  it("test_buildAnchorTree_proofOfEachReading_holds_andNoOtherReadingsDoes", function () {
    const readings = [1, 2, 3, 4, 5].map((n) => reading(n, 1_000 + n));
    const tree = buildAnchorTree(readings);
    readings.forEach((item, index) => {
      expect(verifyReadingProof(tree.root, item, tree.proof(index))).to.equal(true);
      expect(verifyReadingProof(tree.root, reading(6, 1_006), tree.proof(index))).to.equal(false);
    });
    expect(() => buildAnchorTree([])).to.throw(RangeError);
  });
});
