/**
 * The worker thread of reputation-thread.ts: its own connection to the SQLite store's file (read use only; the
 * main process has migrated it), computing one track record at a time exactly as the reputation service does
 * in-process: the checkpoint, the participant's facts through the store port, then computeReputation.
 *
 * Started with `new Worker(...)`: it and everything it imports must load as plain ESM under Node's type stripping,
 * or under tsx where Node cannot strip types.
 */
import { parentPort, workerData } from "node:worker_threads";
import { createSqliteStore } from "../store/sqlite/index.ts";
import { computeReputation } from "./reputation.ts";
import type { ReputationThreadReply, ReputationThreadRequest, ReputationThreadSetup } from "./reputation-thread.ts";
import { loadReputationFacts, mirrorAsOf } from "./store-facts.ts";

const setup = workerData as ReputationThreadSetup;
const port = parentPort!;
// Opened when the thread starts: a file that cannot be opened ends the thread, and the parent fails its computations.
const store = createSqliteStore({
  path: setup.path,
  busyTimeoutMs: setup.busyTimeoutMs,
  readingWriterThread: false,
  ...(setup.cacheMb === undefined ? {} : { cacheMb: setup.cacheMb }),
});

const reply = (message: ReputationThreadReply) => port.postMessage(message);

async function compute(request: ReputationThreadRequest): Promise<void> {
  try {
    const [participant, mirror] = await Promise.all([store.getParticipant(request.subject), mirrorAsOf(store, setup.chainId)]);
    if (participant === null || mirror === null) {
      reply({ id: request.id, reputation: null });
      return;
    }
    const facts = await loadReputationFacts(store, request.subject);
    reply({ id: request.id, reputation: computeReputation(request.subject, facts, mirror.asOf, setup.policy) });
  } catch (error) {
    reply({ id: request.id, error: error instanceof Error ? error.message : String(error) });
  }
}

// One computation at a time, in the order asked. The parent stops the thread with terminate().
let queue = Promise.resolve();
port.on("message", (request: ReputationThreadRequest) => {
  queue = queue.then(() => compute(request));
});
