/**
 * The Node options for a worker thread whose entry is TypeScript (the signature pool, the QR renderer, the SQLite
 * readings writer). The thread inherits the parent's options (`undefined`), and Node strips its types itself where
 * it can (22.18+, 23.6+); elsewhere tsx's loader, which `hardhat` registers in-process only, is passed on. A parent
 * started with --eval and --input-type passes on nothing of its own: --input-type stops a worker loading a file, and
 * an explicit list may not hold the V8 options (--expose-gc) that inheritance allows.
 */
export function typeScriptThreadExecArgv(): string[] | undefined {
  const stripsTypes = Boolean((process.features as { typescript?: unknown }).typescript);
  if (process.execArgv.some((argument) => argument.startsWith("--input-type"))) return stripsTypes ? [] : ["--import", "tsx"];
  if (stripsTypes || process.execArgv.some((argument) => argument.includes("tsx"))) return undefined;
  return [...process.execArgv, "--import", "tsx"];
}
