/** The cold chain in plain words: kept, excursions within the allowance, breaches, gaps and open legs. */
import { expect } from "chai";
import { coldChainStory, type StoryLeg } from "../../../backend/passport/cold-chain-story.ts";

const HOUR = 3_600;
const T0 = 1_780_000_000;
const conditions = { minTemperature: 200, maxTemperature: 800, allowedExcursionSeconds: 30 * 60 };
const leg = (carrier: string, fromHour: number, toHour: number | null, extra: Partial<StoryLeg> = {}): StoryLeg => ({
  carrier,
  carrierName: carrier.toUpperCase(),
  attachedAt: T0 + fromHour * HOUR,
  detachedAt: toHour === null ? null : T0 + toHour * HOUR,
  excursionSeconds: 0,
  breached: false,
  ...extra,
});

describe("cold-chain story", function () {
  it("test_coldChainStory_noConditionsOrNoLegs_isUnmonitored", function () {
    expect(coldChainStory(null, [leg("a", 0, 1)], [], T0)).to.deep.equal({ kind: "unmonitored" });
    expect(coldChainStory(conditions, [], [], T0)).to.deep.equal({ kind: "unmonitored" });
  });

  it("test_coldChainStory_twoCarriersBackToBack_keptForTheWhole41Hours", function () {
    const story = coldChainStory(conditions, [leg("a", 0, 20), leg("b", 20, 41)], [], T0 + 50 * HOUR);
    expect(story).to.deep.include({ kind: "kept", journeyHours: 41, monitoredHours: 41, fullyMonitored: true, carriers: 2 });
    expect(story).to.deep.include({ band: { minCelsius: 2, maxCelsius: 8 }, allowedMinutes: 30, excursionMinutes: 0 });
  });

  it("test_coldChainStory_gapBetweenLegs_andOverlapCountedOnce", function () {
    const gap = coldChainStory(conditions, [leg("a", 0, 18), leg("b", 21, 41)], [], T0 + 50 * HOUR);
    expect(gap).to.deep.include({ journeyHours: 41, monitoredHours: 38, fullyMonitored: false });
    const overlap = coldChainStory(conditions, [leg("a", 0, 30), leg("a", 10, 41)], [], T0 + 50 * HOUR);
    expect(overlap).to.deep.include({ monitoredHours: 41, fullyMonitored: true, carriers: 1 });
  });

  it("test_coldChainStory_excursionWithinAllowance_isNotABreach", function () {
    const story = coldChainStory(conditions, [leg("a", 0, 10, { excursionSeconds: 12 * 60 })], [], T0 + 20 * HOUR);
    expect(story).to.deep.include({ kind: "excursions-within-allowance", excursionMinutes: 12 });
  });

  it("test_coldChainStory_breach_namesCarrierWhenWhereAndHowLong_openLegRunsToNow", function () {
    const story = coldChainStory(
      conditions,
      [leg("a", 0, 10), leg("b", 10, null, { excursionSeconds: 45 * 60, breached: true })],
      [
        {
          carrier: "b",
          carrierName: "B",
          breachedAt: T0 + 15 * HOUR,
          cumulativeSeconds: 45 * 60,
          position: { latitude: 31_230_000, longitude: 121_470_000 },
        },
      ],
      T0 + 16 * HOUR,
    );
    expect(story.kind).to.equal("breached");
    if (story.kind === "unmonitored") throw new Error("unreachable");
    expect(story.journeyHours).to.equal(16);
    expect(story.breaches).to.deep.equal([
      { carrier: "b", carrierName: "B", at: T0 + 15 * HOUR, minutes: 45, position: { latitude: 31_230_000, longitude: 121_470_000 } },
    ]);
  });
});
