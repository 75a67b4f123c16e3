/**
 * The passport's cold-chain view of a batch: the legs, conditions, breaches, anchors and readings of the lot and of
 * the lots it came from (their journeys before the split are this product's journey too), read from the mirror and
 * turned into the story (cold-chain-story.ts) and the chart's data (cold-chain-chart.ts).
 *
 * Bounded for a hot page: at most MAX_CHART_READINGS readings are read (the chart draws a min/max envelope of them
 * anyway); beyond that the view says it is truncated.
 */
import type { Hex, Participant } from "../domain/model.ts";
import type { ColdChainConditions, StoredReading } from "../domain/cold-chain.ts";
import type { MirrorStore } from "../store/port.ts";
import type { ChartSpan } from "./cold-chain-chart.ts";
import { coldChainStory } from "./cold-chain-story.ts";
import type { PassportColdChain } from "./passport-view.ts";

export const MAX_CHART_READINGS = 20_000;
const PAGE = 500;
const NO_POSITION = -2_147_483_648;

export async function loadPassportColdChain(
  store: Pick<
    MirrorStore,
    "listColdChainLegs" | "getBatchConditions" | "getProductConditions" | "listColdChainBreaches" | "listReadingsAnchors" | "listReadings"
  >,
  lots: { batchId: Hex; gtin: string }[],
  participants: ReadonlyMap<Hex, Participant>,
  now: number,
): Promise<PassportColdChain | null> {
  const legs = (await Promise.all(lots.map(({ batchId }) => store.listColdChainLegs({ batchId })))).flat();
  if (legs.length === 0) return null;
  const conditions = await conditionsOf(store, lots);
  if (conditions === null) return null;
  const breaches = (await Promise.all(lots.map(({ batchId }) => store.listColdChainBreaches({ batchId })))).flat();
  const anchors = (await Promise.all(legs.map((leg) => store.listReadingsAnchors(leg.legId)))).flat();

  const readings: StoredReading[] = [];
  let truncated = false;
  for (const { batchId } of lots) {
    let cursor: string | null = null;
    do {
      const page = await store.listReadings({ batchId }, { limit: PAGE, cursor });
      readings.push(...page.items);
      cursor = page.nextCursor;
      if (readings.length >= MAX_CHART_READINGS) {
        truncated = cursor !== null || readings.length > MAX_CHART_READINGS;
        break;
      }
    } while (cursor !== null);
    if (readings.length >= MAX_CHART_READINGS) break;
  }
  readings.splice(MAX_CHART_READINGS);
  readings.sort((a, b) => a.timestamp - b.timestamp);

  const nameOf = (address: Hex) => participants.get(address)?.name ?? null;
  const lastPositionBefore = (legId: Hex, at: number) => {
    const fixes = readings.filter((reading) => reading.legId === legId && reading.timestamp <= at && reading.latitude !== NO_POSITION);
    const last = fixes.at(-1);
    return last === undefined ? null : { latitude: last.latitude, longitude: last.longitude };
  };
  const story = coldChainStory(
    conditions,
    legs.map((leg) => ({ ...leg, carrierName: nameOf(leg.carrier) })),
    breaches.map((breach) => ({
      carrier: breach.carrier,
      carrierName: nameOf(breach.carrier),
      breachedAt: breach.breachedAt,
      cumulativeSeconds: breach.cumulativeSeconds,
      position: lastPositionBefore(breach.legId, breach.breachedAt),
    })),
    Math.floor(now / 1_000),
  );
  if (story.kind === "unmonitored") return null;
  const band = { min: conditions.minTemperature, max: conditions.maxTemperature };
  const sortedLegStarts = legs.map((leg) => leg.attachedAt).sort((a, b) => a - b);
  return {
    story,
    band,
    readings: readings.map((reading) => ({ timestamp: reading.timestamp, temperature: reading.temperature })),
    excursions: excursionSpans(readings, band),
    legBoundaries: sortedLegStarts.slice(1),
    anchoredReadings: anchors.reduce((sum, anchor) => sum + anchor.count, 0),
    truncated,
    legIds: legs.map((leg) => leg.legId),
  };
}

/** The conditions in force: the first lot's frozen or own, else the nearest ancestor's, else the product's. */
async function conditionsOf(
  store: Pick<MirrorStore, "getBatchConditions" | "getProductConditions">,
  lots: { batchId: Hex; gtin: string }[],
): Promise<ColdChainConditions | null> {
  const byBatch = new Map((await store.getBatchConditions(lots.map((lot) => lot.batchId))).map((item) => [item.batchId, item]));
  for (const { batchId } of lots) {
    const found = byBatch.get(batchId);
    if (found?.frozen) return found.frozen;
    if (found?.own) return found.own;
  }
  const [product] = await store.getProductConditions([lots[0]!.gtin]);
  return product?.conditions ?? null;
}

/** Consecutive out-of-band readings as spans; a lone out-of-band reading is a span of zero length. */
function excursionSpans(readings: readonly StoredReading[], band: { min: number; max: number }): ChartSpan[] {
  const spans: ChartSpan[] = [];
  let open: ChartSpan | null = null;
  for (const reading of readings) {
    const outside = reading.temperature < band.min || reading.temperature > band.max;
    if (outside) {
      if (open === null) open = { from: reading.timestamp, to: reading.timestamp };
      else open.to = reading.timestamp;
    } else if (open !== null) {
      spans.push(open);
      open = null;
    }
  }
  if (open !== null) spans.push(open);
  return spans;
}
