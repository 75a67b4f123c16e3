/**
 * Solidity builds on every core. Hardhat runs one solc-js compilation job per core but one (os.cpus() - 1), which
 * leaves one job at a time on a 2-core machine; its solc-js jobs are child processes while Hardhat's own process
 * waits, so the spare core only idles. The project has three jobs (the contracts, the registry with fewer optimizer
 * runs, the escrow through the IR pipeline): on two cores the escrow's IR compile now runs beside the others, which
 * is most of a first `npm start`'s compile. A caller that chose a concurrency keeps it.
 */
import { availableParallelism } from "node:os";
import type { SolidityHooks } from "hardhat/types/hooks";

export default async (): Promise<Partial<SolidityHooks>> => ({
  build: async (context, rootFilePaths, options, next) =>
    next(context, rootFilePaths, { ...options, concurrency: options?.concurrency ?? availableParallelism() }),
});
