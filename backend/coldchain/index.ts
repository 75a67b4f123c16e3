/**
 * The cold chain's composition: the ingest over a store for a deployment's cold-chain contract, and the MQTT
 * source the configuration asks for.
 */
import { availableParallelism } from "node:os";
import type { Logger } from "pino";
import type { Deployment } from "../chain/deployment.ts";
import type { MqttConfig } from "../config.ts";
import type { MirrorStore } from "../store/port.ts";
import { createReadingIngest, type ReadingIngest } from "./ingest-service.ts";
import { startEmbeddedBroker, subscribeExternalBroker, type MqttReadingSource } from "./mqtt-transport.ts";
import { readingDomain } from "./reading-codec.ts";
import { createSignaturePool } from "./signature-pool.ts";
import { createReadingVerifier } from "./reading-verifier.ts";

export { createBreachSubmitter } from "./breach-submitter.ts";
export { createColdChainModule } from "./cold-chain-routes.ts";
export { createColdChainView } from "./cold-chain-view.ts";
export type { ReadingIngest } from "./ingest-service.ts";

/**
 * Signature threads for `npm start`: every core but the event loop's, at least one (on 2 cores the second core
 * digests and checks signatures while the first takes MQTT publishes and writes readings).
 */
export function defaultSignatureThreads(): number {
  return Math.max(1, availableParallelism() - 1);
}

/**
 * The ingest for the deployment's cold-chain contract; null when the deployment has none. With
 * `signatureThreads` > 0 signatures are checked on that many worker threads (closed with the ingest).
 */
export function createColdChainIngest({
  store,
  deployment,
  logger,
  signatureThreads = 0,
}: {
  store: MirrorStore;
  deployment: Pick<Deployment, "chainId" | "coldChain">;
  logger: Logger;
  signatureThreads?: number;
}): ReadingIngest | null {
  if (deployment.coldChain === undefined) return null;
  const log = logger.child({ component: "coldchain" });
  const signaturePool = signatureThreads > 0 ? createSignaturePool({ threads: signatureThreads }) : undefined;
  const ingest = createReadingIngest({
    store,
    verifier: createReadingVerifier({ store, domain: readingDomain(deployment.chainId, deployment.coldChain), signaturePool }),
    onError: (error) => log.error({ error: String(error) }, "reading ingest failure"),
    // Readings of a device whose registration or attachment the indexer has not mirrored yet wait for it.
    parking: {
      mirrorHead: async () => {
        const checkpoint = await store.getCheckpoint(deployment.chainId);
        return checkpoint === null ? null : `${checkpoint.blockNumber}:${checkpoint.blockHash}`;
      },
    },
  });
  if (signaturePool === undefined) return ingest;
  return {
    submit: (message, source, topicDevice) => ingest.submit(message, source, topicDevice),
    drain: () => ingest.drain(),
    async close() {
      await ingest.close();
      await signaturePool.close();
    },
    metrics: ingest.metrics,
    get queued() {
      return ingest.queued;
    },
    get parked() {
      return ingest.parked;
    },
  };
}

/** Starts the embedded broker or subscribes to the external one, as configured; null when MQTT is off. */
export async function startMqttReadingSource({
  mqtt,
  ingest,
  clientId,
  logger,
}: {
  mqtt: MqttConfig;
  ingest: ReadingIngest;
  clientId: string;
  logger: Logger;
}): Promise<MqttReadingSource | null> {
  switch (mqtt.kind) {
    case "off":
      return null;
    case "embedded":
      try {
        return await startEmbeddedBroker({ ingest, host: mqtt.host, port: mqtt.port, logger });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") {
          throw new Error(
            `MQTT port ${mqtt.host}:${mqtt.port} is in use: set MQTT_PORT to a free port, or MQTT_PORT=0 to run without the broker`,
            { cause: error },
          );
        }
        throw error;
      }
    case "external":
      return subscribeExternalBroker({ ingest, url: mqtt.url, clientId: `provena-${clientId}`.slice(0, 64), logger });
  }
}
