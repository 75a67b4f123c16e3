/**
 * The cold-chain chart: a bounded SVG for any number of readings that keeps one-reading spikes, shades breaches,
 * marks the band, and escapes every text.
 */
import { expect } from "chai";
import { renderColdChainChart, type ChartReading } from "../../../backend/passport/cold-chain-chart.ts";

const HOUR = 3_600;
const band = { min: 200, max: 800 };
const steady = (count: number, every = 60, temperature = 500): ChartReading[] =>
  Array.from({ length: count }, (_, index) => ({ timestamp: 1_700_000_000 + index * every, temperature }));
const pointsOf = (svg: string) =>
  /points="([^"]*)"/
    .exec(svg)![1]!
    .split(" ")
    .map((point) => point.split(",").map(Number) as [number, number]);

describe("cold-chain chart", function () {
  it("test_renderColdChainChart_millionReadings_staysBoundedAndKeepsASpike", function () {
    const readings = steady(1_000_000, 1);
    readings[500_000] = { timestamp: readings[500_000]!.timestamp, temperature: 1_200 };
    const svg = renderColdChainChart({ readings, band, breaches: [], title: "t", description: "d" });
    expect(svg.length).to.be.lessThan(40_000);
    const ys = pointsOf(svg).map(([, y]) => y);
    const spikeY = Math.min(...ys);
    const steadyY = Math.max(...ys);
    expect(spikeY).to.be.lessThan(steadyY); // the one 12 °C reading is drawn above the 5 °C line
  });

  it("test_renderColdChainChart_breachShaded_bandLabelled_legTicks", function () {
    const readings = steady(41 * 60, 60);
    const start = readings[0]!.timestamp;
    const svg = renderColdChainChart({
      readings,
      band,
      breaches: [{ from: start + 10 * HOUR, to: start + 11 * HOUR }],
      legBoundaries: [start + 20 * HOUR],
      title: "Kept between 2 and 8 °C",
      description: "for 41 hours",
    });
    expect(svg.match(/class="breach"/g)).to.have.length(1);
    expect(svg.match(/class="leg"/g)).to.have.length(1);
    expect(svg).to.contain(">8 °C<").and.contain(">2 °C<");
    expect(svg).to.contain('role="img"').and.contain('<title id="cc-title">Kept between 2 and 8 °C</title>');
    expect(svg).to.match(/UTC<\/text>/);
  });

  it("test_renderColdChainChart_textsEscaped_andNoScript", function () {
    const svg = renderColdChainChart({
      readings: steady(3),
      band,
      breaches: [],
      title: '<script>alert("x")</script>',
      description: "a & b",
    });
    expect(svg).to.not.contain("<script>");
    expect(svg).to.contain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;").and.contain("a &amp; b");
  });

  it("test_renderColdChainChart_noReadings_drawsTheBandOnly", function () {
    const svg = renderColdChainChart({ readings: [], band, breaches: [{ from: 1, to: 2 }], title: "t", description: "d" });
    expect(svg).to.contain("<rect").and.not.contain("polyline").and.not.contain('class="breach"');
  });

  it("test_renderColdChainChart_garbageValues_areSkipped", function () {
    const svg = renderColdChainChart({
      readings: [...steady(5), { timestamp: Number.NaN, temperature: 1 }, { timestamp: 1, temperature: Number.POSITIVE_INFINITY }],
      band,
      breaches: [],
      title: "t",
      description: "d",
    });
    expect(svg).to.not.contain("NaN").and.not.contain("Infinity");
  });
});
