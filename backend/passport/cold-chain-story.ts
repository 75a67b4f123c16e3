/**
 * The cold chain in plain words, for the passport: from the conditions in force, the monitored legs and the breaches
 * the chain established, what a shopper needs to read ("kept between 2 and 8 °C for the whole 41-hour journey", or
 * when, where and for how long it was not, and on whose leg). Pure: the page's messages turn it into sentences.
 *
 * Only what is established counts as a breach (BreachEstablished on chain); excursions within the allowance are
 * reported as such, so the story never overstates either way. Gaps (time between legs with no device attached)
 * are told too: "monitored for 38 of the 41 hours".
 */

export interface StoryConditions {
  /** Hundredths of a degree Celsius. */
  minTemperature: number;
  maxTemperature: number;
  allowedExcursionSeconds: number;
}

export interface StoryLeg {
  carrier: string;
  carrierName: string | null;
  /** Unix seconds; `detachedAt` null while the leg is open. */
  attachedAt: number;
  detachedAt: number | null;
  excursionSeconds: number;
  breached: boolean;
}

export interface StoryBreach {
  carrier: string;
  carrierName: string | null;
  /** Unix seconds the leg's cumulative excursion passed the allowance. */
  breachedAt: number;
  cumulativeSeconds: number;
  /** Where the breaching readings were taken, when the device had a position (millionths of a degree). */
  position: { latitude: number; longitude: number } | null;
}

export type ColdChainStory =
  | { kind: "unmonitored" }
  | {
      kind: "kept" | "excursions-within-allowance" | "breached";
      band: { minCelsius: number; maxCelsius: number };
      /** From the first leg's start to the last leg's end (or `now` while one is open), in whole hours. */
      journeyHours: number;
      monitoredHours: number;
      /** Whether every moment between the first and the last reading time was under some leg. */
      fullyMonitored: boolean;
      excursionMinutes: number;
      allowedMinutes: number;
      carriers: number;
      breaches: { carrier: string; carrierName: string | null; at: number; minutes: number; position: StoryBreach["position"] }[];
    };

export function coldChainStory(
  conditions: StoryConditions | null,
  legs: readonly StoryLeg[],
  breaches: readonly StoryBreach[],
  now: number,
): ColdChainStory {
  if (conditions === null || legs.length === 0) return { kind: "unmonitored" };
  const spans = legs
    .map((leg) => ({ from: leg.attachedAt, to: Math.max(leg.attachedAt, leg.detachedAt ?? now) }))
    .sort((a, b) => a.from - b.from);
  const start = spans[0]!.from;
  const end = Math.max(...spans.map((span) => span.to));
  // Union of the legs' spans: overlapping legs (two devices on one batch) count once.
  let monitored = 0;
  let coveredUntil = start;
  for (const span of spans) {
    const from = Math.max(span.from, coveredUntil);
    if (span.to > from) monitored += span.to - from;
    coveredUntil = Math.max(coveredUntil, span.to);
  }
  const excursionSeconds = legs.reduce((sum, leg) => sum + leg.excursionSeconds, 0);
  const hours = (seconds: number) => Math.round(seconds / 3_600);
  return {
    kind: breaches.length > 0 ? "breached" : excursionSeconds > 0 ? "excursions-within-allowance" : "kept",
    band: { minCelsius: conditions.minTemperature / 100, maxCelsius: conditions.maxTemperature / 100 },
    journeyHours: hours(end - start),
    monitoredHours: hours(monitored),
    fullyMonitored: monitored >= end - start,
    excursionMinutes: Math.round(excursionSeconds / 60),
    allowedMinutes: Math.round(conditions.allowedExcursionSeconds / 60),
    carriers: new Set(legs.map((leg) => leg.carrier)).size,
    breaches: [...breaches]
      .sort((a, b) => a.breachedAt - b.breachedAt)
      .map((breach) => ({
        carrier: breach.carrier,
        carrierName: breach.carrierName,
        at: breach.breachedAt,
        minutes: Math.round(breach.cumulativeSeconds / 60),
        position: breach.position,
      })),
  };
}
