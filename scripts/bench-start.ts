/**
 * Time to the first passport URL, as a newcomer meets it (`npm run bench:start`):
 *
 *   a fresh clone of this repository's HEAD (committed work only) in a temporary directory, with this checkout's
 *   node_modules linked in (the state right after `npm ci`), then `npm start` twice with PROVENA_EXIT_AFTER_DEMO=1:
 *   the first compiles the contracts, starts an empty chain, deploys and seeds the demo; the second resumes.
 *
 * Each run's milestones are read from its output as it arrives and printed as a table (seconds since `npm start`).
 * PORT (default 3999) is where the runs serve; the embedded chain takes 8545 when free. The clone is deleted afterwards.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { PROJECT_ROOT } from "../backend/chain/artifacts.ts";

const MILESTONES = [
  ["compiled, backend starting", (line: string) => line.startsWith("Provena: starting")],
  ["chain open", (line: string) => line.trimStart().startsWith("chain:")],
  ["API listening", (line: string) => line.trimStart().startsWith("API:")],
  ["first passport URL", (line: string) => /^\s+(batch|unit):\s+http/.test(line)],
  ["stopped", (line: string) => line.startsWith("PROVENA_EXIT_AFTER_DEMO")],
] as const;

type Timings = Partial<Record<(typeof MILESTONES)[number][0], number>>;

async function timeNpmStart(cwd: string, port: string): Promise<Timings> {
  const startedAt = performance.now();
  const child = spawn("npm", ["start"], {
    cwd,
    env: { ...process.env, PROVENA_EXIT_AFTER_DEMO: "1", PORT: port, LOG_LEVEL: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const timings: Timings = {};
  const seen = (line: string) => {
    for (const [name, matches] of MILESTONES) {
      if (timings[name] === undefined && matches(line)) timings[name] = (performance.now() - startedAt) / 1000;
    }
  };
  const errors: string[] = [];
  createInterface({ input: child.stdout }).on("line", seen);
  createInterface({ input: child.stderr }).on("line", (line) => {
    seen(line);
    errors.push(line);
  });
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  if (code !== 0) throw new Error(`npm start exited with ${code}:\n${errors.slice(-20).join("\n")}`);
  return timings;
}

async function main(): Promise<void> {
  const port = process.env.PORT || "3999";
  const clone = await mkdtemp(path.join(tmpdir(), "provena-bench-start-"));
  try {
    execFileSync("git", ["clone", "--quiet", PROJECT_ROOT, clone]);
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: clone, encoding: "utf8" }).trim();
    await symlink(path.join(PROJECT_ROOT, "node_modules"), path.join(clone, "node_modules"), "dir");
    console.log(`Fresh clone of ${head} in ${clone} (node_modules linked from ${PROJECT_ROOT})`);
    const first = await timeNpmStart(clone, port);
    const second = await timeNpmStart(clone, port);
    const rows = MILESTONES.map(([name]) => ({
      milestone: name,
      "first start (s)": first[name]?.toFixed(1) ?? "-",
      "second start (s)": second[name]?.toFixed(1) ?? "-",
    }));
    console.table(rows);
    console.log(
      "Seconds since `npm start` began. The first start compiles contracts/ (no Solidity tests), starts an empty anvil\n" +
        "chain, deploys and seeds the demo (its 5 s dispute window included); the second compiles nothing, resumes the\n" +
        "chain and seeds nothing. Target: the first passport URL within 60 s of `npm ci` on the first start.",
    );
  } finally {
    await rm(clone, { recursive: true, force: true });
  }
}

await main();
