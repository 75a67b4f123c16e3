/**
 * The passport's cold-chain chart: temperature over the journey as a small server-rendered SVG (no script, no client
 * framework), with the allowed band, the breaches as shaded spans, and the legs as ticks along the time axis.
 *
 * Thousands of readings become at most one vertical min–max segment per horizontal pixel column (a min/max
 * envelope), so a spike of one reading is never averaged away and the SVG stays a few kilobytes for any journey.
 * Every text in it is escaped; the caller gives the accessible title and description (the plain-words story, in the
 * page's language), which screen readers read instead of the drawing.
 */

export interface ChartReading {
  /** Unix seconds. */
  timestamp: number;
  /** Hundredths of a degree Celsius, as devices sign them. */
  temperature: number;
}

export interface ChartSpan {
  from: number;
  to: number;
}

export interface ColdChainChartInput {
  readings: readonly ChartReading[];
  /** The allowed range, hundredths of a degree Celsius. */
  band: { min: number; max: number };
  /** Breach spans (unix seconds): drawn shaded over the whole height. */
  breaches: readonly ChartSpan[];
  /** Where one carrier's leg hands over to the next (unix seconds): ticks on the time axis. */
  legBoundaries?: readonly number[];
  title: string;
  description: string;
  /** Drawing width in SVG units (default 600); height is a third of it plus the axes. */
  width?: number;
}

const PLOT_TOP = 8;
const AXIS_LEFT = 44;
const AXIS_BOTTOM = 22;

const escapeXml = (text: string) =>
  text.replace(/[<>&"']/g, (char) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&#39;" })[char]!);

const degrees = (centi: number) => `${(centi / 100).toFixed(Math.abs(centi) % 100 === 0 ? 0 : 1)} °C`;

const utc = (seconds: number) => new Date(seconds * 1_000).toISOString().slice(0, 16).replace("T", " ");

/** The chart as an SVG element (a string to embed in the page); an empty journey draws the band and a note. */
export function renderColdChainChart(input: ColdChainChartInput): string {
  const width = input.width ?? 600;
  const plotHeight = Math.round(width / 3);
  const height = PLOT_TOP + plotHeight + AXIS_BOTTOM;
  const plotWidth = width - AXIS_LEFT - 8;
  const readings = input.readings.filter((reading) => Number.isFinite(reading.timestamp) && Number.isFinite(reading.temperature));
  // Loops, not Math.min(...array): a long journey has more readings than a call's argument list may hold.
  let start = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  let low = input.band.min - 100;
  let high = input.band.max + 100;
  for (const reading of readings) {
    start = Math.min(start, reading.timestamp);
    last = Math.max(last, reading.timestamp);
    low = Math.min(low, reading.temperature - 100);
    high = Math.max(high, reading.temperature + 100);
  }
  if (readings.length === 0) [start, last] = [0, 1];
  const end = Math.max(last, start + 1);
  const x = (t: number) => AXIS_LEFT + ((t - start) / (end - start)) * plotWidth;
  const y = (centi: number) => PLOT_TOP + ((high - centi) / (high - low)) * plotHeight;
  const round = (value: number) => Math.round(value * 10) / 10;

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="cc-title cc-desc" class="cold-chain-chart">`,
    `<title id="cc-title">${escapeXml(input.title)}</title>`,
    `<desc id="cc-desc">${escapeXml(input.description)}</desc>`,
    `<rect x="${AXIS_LEFT}" y="${round(y(input.band.max))}" width="${plotWidth}" height="${round(y(input.band.min) - y(input.band.max))}" fill="#dff3e4"/>`,
  );
  for (const breach of input.breaches) {
    const from = Math.max(start, breach.from);
    const to = Math.min(end, Math.max(breach.to, breach.from));
    if (to < from || readings.length === 0) continue;
    parts.push(
      `<rect class="breach" x="${round(x(from))}" y="${PLOT_TOP}" width="${round(Math.max(2, x(to) - x(from)))}" height="${plotHeight}" fill="#f8d0cc" opacity="0.8"/>`,
    );
  }
  for (const boundary of input.legBoundaries ?? []) {
    if (boundary <= start || boundary >= end) continue;
    parts.push(
      `<line class="leg" x1="${round(x(boundary))}" x2="${round(x(boundary))}" y1="${PLOT_TOP}" y2="${PLOT_TOP + plotHeight}" stroke="#999" stroke-dasharray="3 3"/>`,
    );
  }
  if (readings.length > 0) {
    // One min–max segment per pixel column, joined in time order: spikes survive, size stays bounded.
    const columns = new Map<number, { min: number; max: number; first: number; last: number }>();
    for (const reading of [...readings].sort((a, b) => a.timestamp - b.timestamp)) {
      const column = Math.round(x(reading.timestamp));
      const current = columns.get(column);
      if (current === undefined)
        columns.set(column, { min: reading.temperature, max: reading.temperature, first: reading.temperature, last: reading.temperature });
      else {
        current.min = Math.min(current.min, reading.temperature);
        current.max = Math.max(current.max, reading.temperature);
        current.last = reading.temperature;
      }
    }
    const points: string[] = [];
    for (const [column, { min, max, first, last }] of [...columns.entries()].sort((a, b) => a[0] - b[0])) {
      points.push(`${column},${round(y(first))}`);
      if (min !== max) points.push(`${column},${round(y(max))}`, `${column},${round(y(min))}`);
      points.push(`${column},${round(y(last))}`);
    }
    parts.push(
      `<polyline class="temperature" points="${points.join(" ")}" fill="none" stroke="#1f5fa8" stroke-width="1.5" stroke-linejoin="round"/>`,
    );
  }
  const axisY = PLOT_TOP + plotHeight;
  parts.push(
    `<line x1="${AXIS_LEFT}" x2="${AXIS_LEFT + plotWidth}" y1="${axisY}" y2="${axisY}" stroke="#555"/>`,
    `<line x1="${AXIS_LEFT}" x2="${AXIS_LEFT}" y1="${PLOT_TOP}" y2="${axisY}" stroke="#555"/>`,
    `<text x="${AXIS_LEFT - 4}" y="${round(y(input.band.max)) + 4}" text-anchor="end" font-size="10">${escapeXml(degrees(input.band.max))}</text>`,
    `<text x="${AXIS_LEFT - 4}" y="${round(y(input.band.min)) + 4}" text-anchor="end" font-size="10">${escapeXml(degrees(input.band.min))}</text>`,
  );
  if (readings.length > 0) {
    parts.push(
      `<text x="${AXIS_LEFT}" y="${axisY + 15}" font-size="10">${escapeXml(utc(start))}</text>`,
      `<text x="${AXIS_LEFT + plotWidth}" y="${axisY + 15}" text-anchor="end" font-size="10">${escapeXml(utc(end))} UTC</text>`,
    );
  }
  parts.push("</svg>");
  return parts.join("");
}
