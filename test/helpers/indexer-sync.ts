import { pino } from "pino";
import { createIndexer, type CreateIndexerParameters } from "../../backend/indexer/index.ts";

/**
 * Mirrors the chain up to its current head into `store` with a fresh indexer, then stops it. A stopped indexer stays
 * stopped, so each call runs a new one, as a restarted backend would.
 */
export async function syncToHead({
  provider,
  deployment,
  store,
  instanceId,
}: Pick<CreateIndexerParameters, "provider" | "deployment" | "store"> & { instanceId: string }): Promise<void> {
  const indexer = createIndexer({
    provider,
    deployment,
    store,
    config: { confirmations: 0, indexerBlockRange: 1_000, indexerPollMs: 20, leaseTtlMs: 5_000, instanceId },
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }),
  });
  const head = await provider.getBlockNumber();
  indexer.start();
  await indexer.waitForBlock(head, { timeoutMs: 30_000 });
  await indexer.stop();
}
