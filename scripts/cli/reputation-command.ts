/**
 * `provena reputation <address> [--json]`: a participant's track record from the backend's reputation API
 * (PROVENA_API_URL or --api), as a table of counts with each score's sample size and 95% lower bound.
 */
import type { Command } from "commander";
import type { Reputation, ReputationMetrics, Score } from "../../backend/reputation/reputation.ts";
import { address } from "./arguments.ts";
import { CliError, DEFAULT_API_URL, type GlobalOptions } from "./context.ts";

/** Rows of the table: what is counted, how it is split, and the score's name for the good outcome. */
const ROWS: { label: string; metric: (m: ReputationMetrics) => { counts: string; score: Score } }[] = [
  {
    label: "deliveries as seller",
    metric: (m) => ({ counts: `${m.deliveryAsSeller.onTime} on time, ${m.deliveryAsSeller.late} late`, score: m.deliveryAsSeller.score }),
  },
  {
    label: "deliveries as carrier",
    metric: (m) => ({
      counts: `${m.deliveryAsCarrier.onTime} on time, ${m.deliveryAsCarrier.late} late`,
      score: m.deliveryAsCarrier.score,
    }),
  },
  {
    label: "handoffs received",
    metric: (m) => ({
      counts: `${m.handoffsReceived.accepted} accepted, ${m.handoffsReceived.refused} refused`,
      score: m.handoffsReceived.score,
    }),
  },
  {
    label: "handoffs sent",
    metric: (m) => ({
      counts: `${m.handoffsSent.accepted} accepted, ${m.handoffsSent.refusedByRecipient} refused`,
      score: m.handoffsSent.score,
    }),
  },
  {
    label: "inspections, made",
    metric: (m) => ({
      counts: `${m.inspectionsAsMaker.passed} passed, ${m.inspectionsAsMaker.failed} failed`,
      score: m.inspectionsAsMaker.score,
    }),
  },
  {
    label: "inspections, held",
    metric: (m) => ({
      counts: `${m.inspectionsAsHolder.passed} passed, ${m.inspectionsAsHolder.failed} failed`,
      score: m.inspectionsAsHolder.score,
    }),
  },
  {
    label: "settled orders",
    metric: (m) => ({ counts: `${m.disputes.opened} disputes opened, ${m.disputes.lost} lost`, score: m.disputes.score }),
  },
  { label: "lots registered", metric: (m) => ({ counts: `${m.recalls.recalled} recalled of ${m.recalls.lots}`, score: m.recalls.score }) },
];

const percent = (value: number | null) => (value === null ? "–" : `${(value * 100).toFixed(1)}%`);

/** The human-readable report of `reputation`: both windows side by side, every score with its sample size. */
export function reputationText(reputation: Reputation): string {
  const header = [
    `reputation of ${reputation.address} (${reputation.method}), as of block ${reputation.asOf.blockNumber} ` +
      `(${new Date(reputation.asOf.timestamp * 1000).toISOString()})`,
    `scores: good outcomes / sample, and the 95% Wilson lower bound`,
  ];
  const cell = (m: ReputationMetrics, row: (typeof ROWS)[number]) => {
    const { counts, score } = row.metric(m);
    return `${counts} (n=${score.sampleSize}, ≥${percent(score.wilsonLowerBound)})`;
  };
  const width = Math.max(...ROWS.map((row) => row.label.length));
  const lastDays = ROWS.map((row) => cell(reputation.lastDays, row));
  const columnWidth = Math.max(`last ${reputation.policy.windowDays} days`.length, ...lastDays.map((text) => text.length));
  const lines = [
    `${"".padEnd(width)}  ${`last ${reputation.policy.windowDays} days`.padEnd(columnWidth)}  all time`,
    ...ROWS.map((row, index) => `${row.label.padEnd(width)}  ${lastDays[index]!.padEnd(columnWidth)}  ${cell(reputation.allTime, row)}`),
  ];
  const excluded = reputation.allTime.excludedOrders;
  const footer =
    excluded.belowMinimum + excluded.selfDealing > 0
      ? [`not counted: ${excluded.belowMinimum} orders below the minimum amount, ${excluded.selfDealing} self-dealt`]
      : [];
  return [...header, ...lines, ...footer].join("\n");
}

export function registerReputationCommand(program: Command): void {
  program
    .command("reputation")
    .argument("<address>", "the participant's account address", address)
    .option("--json", "print the backend's JSON")
    .description("a participant's track record from on-chain performance (deliveries, handoffs, inspections, disputes, recalls)")
    .action(async (account: string, options: { json?: boolean }) => {
      const apiUrl = (program.opts<GlobalOptions>().api ?? process.env.PROVENA_API_URL ?? DEFAULT_API_URL).replace(/\/+$/, "");
      let response: Response;
      try {
        response = await fetch(`${apiUrl}/api/v1/participants/${account.toLowerCase()}/reputation`, {
          headers: { accept: "application/json" },
          signal: AbortSignal.timeout(60_000),
        });
      } catch (error) {
        throw new CliError(`no Provena backend at ${apiUrl} (${(error as Error).message}); set PROVENA_API_URL or --api`);
      }
      const body = (await response.json().catch(() => ({}))) as Reputation & { detail?: string };
      if (!response.ok) throw new CliError(`the backend refused (HTTP ${response.status}): ${body.detail ?? "no detail"}`);
      console.log(options.json ? JSON.stringify(body, null, 2) : reputationText(body));
    });
}
