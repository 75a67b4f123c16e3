/**
 * The embedded chain `npm start` runs when RPC_URL is unset: Foundry's anvil (the `@foundry-rs/anvil` npm package,
 * whose platform package carries the binary) as a child process on 127.0.0.1, keeping the chain in a state file so
 * a restart resumes the same blocks, contracts and balances.
 *
 * anvil writes the state file when it exits on SIGTERM, and every STATE_INTERVAL_SECONDS while it runs, so a
 * `kill -9` of the whole machine loses at most that many seconds of blocks; the mirror may then be ahead of the
 * chain, which the indexer treats as the reorg it is (backend/indexer/leader.ts rolls back to the fork point).
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { HDNodeWallet } from "ethers";

/** The platform packages `@foundry-rs/anvil` lists as optional dependencies, by `${process.platform}-${process.arch}`. */
export const ANVIL_PLATFORM_PACKAGES: Readonly<Record<string, string>> = {
  "linux-x64": "@foundry-rs/anvil-linux-amd64",
  "linux-arm64": "@foundry-rs/anvil-linux-arm64",
  "darwin-x64": "@foundry-rs/anvil-darwin-amd64",
  "darwin-arm64": "@foundry-rs/anvil-darwin-arm64",
  "win32-x64": "@foundry-rs/anvil-win32-amd64",
};

/** The dev chain's accounts: anvil's (and Hardhat's) well-known test mnemonic, funded with 10,000 ETH each at genesis. */
export const DEV_MNEMONIC = "test test test test test test test test test test test junk";
export const EMBEDDED_CHAIN_ID = 31_337;
/** Seconds between anvil's state dumps while it runs. */
export const STATE_INTERVAL_SECONDS = 2;
/** The dev account the embedded chain's relayer signs with (the demo's own parties use accounts 0-2). */
export const RELAYER_DEV_ACCOUNT_INDEX = 9;

/** anvil cannot run here: no binary for this platform, or it exited before it answered. `message` is the one line to show. */
export class EmbeddedAnvilError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "EmbeddedAnvilError";
  }
}

export interface ResolveAnvilBinaryParameters {
  platform?: string;
  arch?: string;
  /** Where packages are resolved from (default: this module). */
  resolveFrom?: string;
}

/** The path of the anvil binary from its platform package; throws EmbeddedAnvilError naming the package when it is absent. */
export function resolveAnvilBinary({
  platform = process.platform,
  arch = process.arch,
  resolveFrom = import.meta.url,
}: ResolveAnvilBinaryParameters = {}): string {
  const target = `${platform}-${arch}`;
  const packageName = ANVIL_PLATFORM_PACKAGES[target];
  if (packageName === undefined) {
    throw new EmbeddedAnvilError(
      `@foundry-rs/anvil has no binary for ${target} (it ships ${Object.keys(ANVIL_PLATFORM_PACKAGES).join(", ")})`,
    );
  }
  let packageDir: string;
  try {
    packageDir = path.dirname(createRequire(resolveFrom).resolve(`${packageName}/package.json`));
  } catch (error) {
    throw new EmbeddedAnvilError(`${packageName} is not installed (the anvil binary for ${target}; run npm ci)`, { cause: error });
  }
  const binary = path.join(packageDir, "bin", platform === "win32" ? "anvil.exe" : "anvil");
  if (!existsSync(binary)) throw new EmbeddedAnvilError(`${packageName} is installed but has no ${binary}`);
  return binary;
}

/** The relayer's key on the embedded chain: a funded dev account, the same on every start (see README, "What npm start does"). */
export function embeddedRelayerKey(): string {
  return HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, `m/44'/60'/0'/0/${RELAYER_DEV_ACCOUNT_INDEX}`).privateKey;
}

export interface StartEmbeddedAnvilParameters {
  binary: string;
  /** Directory of the state file (created when missing). */
  dir: string;
  /** Port to listen on; 0 lets anvil pick a free one. */
  port: number;
  /** Longest wait for anvil to listen. */
  startTimeoutMs?: number;
}

export interface EmbeddedAnvil {
  rpcUrl: string;
  stateFile: string;
  /** True when the chain was loaded from an earlier run's state file, false when it started empty. */
  resumed: boolean;
  /** Stops anvil with SIGTERM, so it writes its state, and waits for it to exit (SIGKILL after `timeoutMs`). */
  stop(timeoutMs?: number): Promise<void>;
}

export function anvilStateFile(dir: string): string {
  return path.join(dir, "anvil-state.json");
}

/** Names the anvil that uses the directory, so a second one never writes the same state file. */
function anvilPidFile(dir: string): string {
  return path.join(dir, "anvil.pid");
}

/**
 * Refuses a directory whose anvil still runs: another `npm start`, or an anvil left behind when its parent was killed
 * with SIGKILL (it would go on saving its state over the new chain's every few seconds).
 */
async function claimChainDir(dir: string): Promise<void> {
  let pid: number;
  try {
    pid = Number((await readFile(anvilPidFile(dir), "utf8")).trim());
  } catch {
    return;
  }
  if (!Number.isSafeInteger(pid) || pid <= 0 || !isRunning(pid)) return;
  throw new EmbeddedAnvilError(
    `the chain in ${dir} is in use by anvil (pid ${pid}): another npm start, or one left running when it was killed; stop it first (kill ${pid})`,
  );
}

/** Resolves once the node answers eth_chainId (it prints "Listening" a moment before it serves). */
async function untilAnswering(rpcUrl: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(rpcUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
        signal: AbortSignal.timeout(1_000),
      });
      if (response.ok) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new EmbeddedAnvilError(`anvil listens at ${rpcUrl} but did not answer within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Starts anvil on 127.0.0.1 with its state in `dir` and resolves once it listens. */
export async function startEmbeddedAnvil({
  binary,
  dir,
  port,
  startTimeoutMs = 30_000,
}: StartEmbeddedAnvilParameters): Promise<EmbeddedAnvil> {
  await mkdir(dir, { recursive: true });
  await claimChainDir(dir);
  const stateFile = anvilStateFile(dir);
  const resumed = existsSync(stateFile);
  const args = [
    ["--host", "127.0.0.1"],
    ["--port", String(port)],
    ["--chain-id", String(EMBEDDED_CHAIN_ID)],
    ["--mnemonic", DEV_MNEMONIC],
    ["--state", stateFile],
    ["--state-interval", String(STATE_INTERVAL_SECONDS)],
  ].flat();
  // Its own process group: a Ctrl-C in the terminal reaches Provena, which stops anvil last, after the workers.
  const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"], detached: process.platform !== "win32" });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const killOnExit = () => child.kill("SIGTERM");
  process.once("exit", killOnExit);

  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr = (stderr + chunk).slice(-4_000)));
  const listening = await new Promise<string>((resolve, reject) => {
    let stdout = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new EmbeddedAnvilError(`anvil did not listen within ${startTimeoutMs} ms`));
    }, startTimeoutMs);
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout = (stdout + chunk).slice(-4_000);
      const match = /Listening on (\S+:\d+)/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(new EmbeddedAnvilError(`cannot run anvil (${binary}): ${error.message}`, { cause: error }));
    });
    void exited.then((code) => {
      clearTimeout(timer);
      const reason = stderr.trim().split("\n")[0] || `exit code ${code}`;
      reject(new EmbeddedAnvilError(`anvil exited before it listened: ${reason}${resumed ? ` (state file ${stateFile})` : ""}`));
    });
  }).catch((error: unknown) => {
    process.removeListener("exit", killOnExit);
    throw error;
  });
  if (child.pid !== undefined) await writeFile(anvilPidFile(dir), `${child.pid}\n`, "utf8");
  const rpcUrl = `http://${listening}`;
  await untilAnswering(rpcUrl, startTimeoutMs).catch(async (error: unknown) => {
    child.kill("SIGKILL");
    await rm(anvilPidFile(dir), { force: true });
    throw error;
  });
  // Keep draining its output (a full pipe would stall it), without holding the event loop open.
  child.stdout.resume();
  child.unref();
  (child.stdout as unknown as { unref?: () => void }).unref?.();
  (child.stderr as unknown as { unref?: () => void }).unref?.();

  let stopping: Promise<void> | null = null;
  return {
    rpcUrl,
    stateFile,
    resumed,
    stop(timeoutMs = 10_000) {
      stopping ??= (async () => {
        process.removeListener("exit", killOnExit);
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
        await exited;
        clearTimeout(timer);
        await rm(anvilPidFile(dir), { force: true });
      })();
      return stopping;
    },
  };
}
