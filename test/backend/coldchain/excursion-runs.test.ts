import { expect } from "chai";
import { evidencePieces, isOutOfRange, outOfRangeRuns, pieceSeconds } from "../../../backend/coldchain/excursion-runs.ts";
import { NO_HUMIDITY, NO_POSITION, type ColdChainConditions, type StoredReading } from "../../../backend/domain/cold-chain.ts";
import type { Hex } from "../../../backend/domain/model.ts";

const CHILLED: ColdChainConditions = {
  minTemperature: 200,
  maxTemperature: 800,
  minHumidity: 3_000,
  maxHumidity: 7_000,
  allowedExcursionSeconds: 1_800,
};
const LEG = `0x${"11".repeat(32)}` as Hex;

/** Readings with sequences 1.. a minute apart, at the given temperatures (humidity 50 %). */
function readingsAt(temperatures: number[], { firstSequence = 1, humidity = 5_000 } = {}): StoredReading[] {
  return temperatures.map((temperature, index) => ({
    device: `0x${"22".repeat(20)}` as Hex,
    batchId: `0x${"33".repeat(32)}` as Hex,
    sequence: firstSequence + index,
    timestamp: 1_000 + 60 * index,
    temperature,
    humidity,
    latitude: NO_POSITION,
    longitude: NO_POSITION,
    signature: "0x" as Hex,
    legId: LEG,
    receivedAt: 0,
  }));
}

const sequencesOf = (runs: { readings: StoredReading[] }[]) => runs.map((run) => run.readings.map((reading) => reading.sequence));

describe("excursion runs", function () {
  it("test_isOutOfRange_boundsAreInRange_humidityOnlyWhenMeasured", function () {
    expect(isOutOfRange({ temperature: 200, humidity: 5_000 }, CHILLED)).to.equal(false);
    expect(isOutOfRange({ temperature: 800, humidity: 5_000 }, CHILLED)).to.equal(false);
    expect(isOutOfRange({ temperature: 801, humidity: 5_000 }, CHILLED)).to.equal(true);
    expect(isOutOfRange({ temperature: 199, humidity: 5_000 }, CHILLED)).to.equal(true);
    expect(isOutOfRange({ temperature: 500, humidity: 7_001 }, CHILLED)).to.equal(true);
    expect(isOutOfRange({ temperature: 500, humidity: NO_HUMIDITY }, CHILLED)).to.equal(false);
  });

  it("test_outOfRangeRuns_splitAtInRangeReadings_gaps_andClockGoingBack", function () {
    const readings = readingsAt([500, 900, 900, 900, 500, 900, 500, 900, 900, 900, 900]);
    readings.splice(9, 1); // sequence 10 never arrived: 8, 9 | 11
    const runs = outOfRangeRuns(readings, CHILLED, false);
    // A lone warm reading (6) spans no time; 11 alone after the gap neither.
    expect(sequencesOf(runs)).to.deep.equal([
      [2, 3, 4],
      [8, 9],
    ]);
    const backwards = readingsAt([900, 900, 900]);
    backwards[2]!.timestamp = backwards[1]!.timestamp - 1;
    expect(sequencesOf(outOfRangeRuns(backwards, CHILLED, false))).to.deep.equal([[1, 2]]);
  });

  it("test_outOfRangeRuns_lastRunOfAnOpenLeg_isOngoing_onlyWhileItEndsTheReadings", function () {
    const readings = readingsAt([900, 900, 500, 900, 900]);
    expect(outOfRangeRuns(readings, CHILLED, true).map((run) => run.ongoing)).to.deep.equal([false, true]);
    expect(outOfRangeRuns(readings, CHILLED, false).map((run) => run.ongoing)).to.deep.equal([false, false]);
    expect(outOfRangeRuns(readingsAt([900, 900, 500]), CHILLED, true).map((run) => run.ongoing)).to.deep.equal([false]);
  });

  it("test_evidencePieces_shareBoundaries_andStartAtEachUncountedStretch", function () {
    const run = readingsAt(Array.from({ length: 10 }, () => 900)); // sequences 1..10
    const bounds = (pieces: StoredReading[][]) => pieces.map((piece) => [piece[0]!.sequence, piece.at(-1)!.sequence]);
    expect(bounds(evidencePieces(run, () => false, 4))).to.deep.equal([
      [1, 4],
      [4, 7],
      [7, 10],
    ]);
    // Intervals 3→4 and 4→5 counted by someone else: the pieces go around them.
    const counted = new Set([3, 4]);
    expect(bounds(evidencePieces(run, (sequence) => counted.has(sequence), 4))).to.deep.equal([
      [1, 3],
      [5, 8],
      [8, 10],
    ]);
    expect(evidencePieces(run, () => true, 4)).to.deep.equal([]);
    expect(pieceSeconds(run)).to.equal(9 * 60);
    expect(() => evidencePieces(run, () => false, 1)).to.throw(RangeError);
  });
});
