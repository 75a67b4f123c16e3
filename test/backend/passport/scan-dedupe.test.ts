import { expect } from "chai";
import { randomBytes } from "node:crypto";
import {
  createClusterScanDeduper,
  createScanDeduper,
  createSeenScanKeys,
  isScanKey,
  type ClusterScanDeduper,
  type ClusterScanDeduperOptions,
  type ScanKeyQuestion,
} from "../../../backend/passport/scan-dedupe.ts";
import type { Hex } from "../../../backend/domain/model.ts";

const BATCH = `0x${"ab".repeat(32)}` as Hex;
const OTHER_BATCH = `0x${"cd".repeat(32)}` as Hex;
const HOUR = 3_600_000;

describe("createScanDeduper", function () {
  it("test_firstInWindow_repeatsOfOneClient_countOnce", async function () {
    const dedupe = createScanDeduper({ windowMs: HOUR, now: () => 10 * HOUR });
    expect(await dedupe.firstInWindow(BATCH, "S-1", "203.0.113.7")).to.equal(true);
    for (let i = 0; i < 50; i += 1) expect(await dedupe.firstInWindow(BATCH, "S-1", "203.0.113.7")).to.equal(false);
  });

  it("test_firstInWindow_otherClientsUnitsAndBatches_countSeparately", async function () {
    const dedupe = createScanDeduper({ windowMs: HOUR, now: () => 10 * HOUR });
    expect(await dedupe.firstInWindow(BATCH, "S-1", "client-a")).to.equal(true);
    expect(await dedupe.firstInWindow(BATCH, "S-1", "client-b")).to.equal(true);
    expect(await dedupe.firstInWindow(BATCH, "S-2", "client-a")).to.equal(true);
    expect(await dedupe.firstInWindow(BATCH, null, "client-a")).to.equal(true);
    expect(await dedupe.firstInWindow(OTHER_BATCH, "S-1", "client-a")).to.equal(true);
    // The batch id's letter case does not make a new unit.
    expect(await dedupe.firstInWindow(BATCH.toUpperCase().replace("0X", "0x") as Hex, "S-1", "client-a")).to.equal(false);
  });

  it("test_firstInWindow_nextWindow_countsAgain", async function () {
    let now = 10 * HOUR;
    const dedupe = createScanDeduper({ windowMs: HOUR, now: () => now });
    expect(await dedupe.firstInWindow(BATCH, "S-1", "client-a")).to.equal(true);
    now += HOUR / 2;
    expect(await dedupe.firstInWindow(BATCH, "S-1", "client-a")).to.equal(false);
    now += HOUR;
    expect(await dedupe.firstInWindow(BATCH, "S-1", "client-a")).to.equal(true);
  });

  it("test_firstInWindow_beyondMaxEntries_forgetsTheOldestFirst", async function () {
    const dedupe = createScanDeduper({ windowMs: HOUR, maxEntries: 3, now: () => 0 });
    for (const client of ["a", "b", "c", "d"]) expect(await dedupe.firstInWindow(BATCH, "S-1", client)).to.equal(true);
    // "a" was forgotten to make room for "d".
    expect(await dedupe.firstInWindow(BATCH, "S-1", "d")).to.equal(false);
    expect(await dedupe.firstInWindow(BATCH, "S-1", "a")).to.equal(true);
  });

  it("test_createScanDeduper_nonPositiveWindow_throws", function () {
    expect(() => createScanDeduper({ windowMs: 0 })).to.throw(RangeError, /windowMs must be positive/);
  });

  it("test_createSeenScanKeys_nonPositiveMaxEntries_throws", function () {
    expect(() => createSeenScanKeys(0)).to.throw(RangeError, /maxEntries must be a positive integer/);
  });
});

const SHARED_SECRET = randomBytes(32);

/** A worker's deduper wired to a stand-in primary that holds its questions until told to answer. */
function workerDeduper(overrides: Partial<ClusterScanDeduperOptions> & { primaryKeys?: ReturnType<typeof createSeenScanKeys> } = {}) {
  const questions: ScanKeyQuestion[] = [];
  const warnings: string[] = [];
  const primaryKeys = overrides.primaryKeys ?? createSeenScanKeys();
  const dedupe: ClusterScanDeduper = createClusterScanDeduper({
    windowMs: HOUR,
    secret: SHARED_SECRET,
    now: () => 10 * HOUR,
    ask: (question) => {
      questions.push(question);
      return true;
    },
    logger: { warn: (_fields: object, message: string) => void warnings.push(message) } as unknown as ClusterScanDeduperOptions["logger"],
    ...overrides,
  });
  /** Lets the primary answer every question asked so far, as api-workers.ts does. */
  const answerAll = () => {
    for (const question of questions.splice(0)) dedupe.answer({ id: question.id, first: primaryKeys.firstTime(question.key) });
  };
  return { dedupe, questions, warnings, answerAll };
}

describe("createClusterScanDeduper", function () {
  it("test_firstInWindow_answeredByThePrimary_oneClientOnTwoWorkersCountsOnce", async function () {
    const primaryKeys = createSeenScanKeys();
    const workerA = workerDeduper({ primaryKeys });
    const workerB = workerDeduper({ primaryKeys });
    const first = workerA.dedupe.firstInWindow(BATCH, "S-1", "203.0.113.7");
    workerA.answerAll();
    expect(await first).to.equal(true);
    for (const worker of [workerA, workerB, workerB]) {
      const repeat = worker.dedupe.firstInWindow(BATCH, "S-1", "203.0.113.7");
      worker.answerAll();
      expect(await repeat).to.equal(false);
    }
    const otherClient = workerB.dedupe.firstInWindow(BATCH, "S-1", "198.51.100.9");
    workerB.answerAll();
    expect(await otherClient).to.equal(true);
    expect(workerA.warnings).to.deep.equal([]);
    expect(workerB.warnings).to.deep.equal([]);
  });

  it("test_firstInWindow_question_carriesAKeyedHashNotTheAddress", async function () {
    const { dedupe, questions, answerAll } = workerDeduper();
    const answered = dedupe.firstInWindow(BATCH, "S-1", "203.0.113.7");
    expect(questions).to.have.length(1);
    expect(isScanKey(questions[0]!.key)).to.equal(true);
    expect(questions[0]!.key).to.not.include("203");
    answerAll();
    await answered;
  });

  it("test_firstInWindow_primarySilent_fallsBackToTheWorkersOwnSetAndWarnsOnce", async function () {
    const { dedupe, questions, warnings } = workerDeduper({ timeoutMs: 20 });
    expect(await dedupe.firstInWindow(BATCH, "S-1", "client-a")).to.equal(true);
    expect(await dedupe.firstInWindow(BATCH, "S-1", "client-a")).to.equal(false);
    expect(await dedupe.firstInWindow(BATCH, "S-1", "client-b")).to.equal(true);
    expect(questions).to.have.length(3);
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.match(/did not answer .* in time/);
    // A late answer changes nothing (its question was settled already).
    dedupe.answer({ id: questions[0]!.id, first: false });
  });

  it("test_firstInWindow_tooManyOutstanding_excessAnsweredLocallyAtOnce", async function () {
    const { dedupe, questions, warnings, answerAll } = workerDeduper({ maxPending: 2, timeoutMs: 60_000 });
    const outstanding = [dedupe.firstInWindow(BATCH, "S-1", "a"), dedupe.firstInWindow(BATCH, "S-2", "a")];
    // The third question is not sent: the worker's own set answers it without waiting for the primary.
    expect(await dedupe.firstInWindow(BATCH, "S-3", "a")).to.equal(true);
    expect(await dedupe.firstInWindow(BATCH, "S-3", "a")).to.equal(false);
    expect(questions).to.have.length(2);
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.match(/too many .* outstanding/);
    answerAll();
    expect(await Promise.all(outstanding)).to.deep.equal([true, true]);
    // With room again, questions go to the primary.
    const next = dedupe.firstInWindow(BATCH, "S-4", "a");
    expect(questions).to.have.length(1);
    answerAll();
    expect(await next).to.equal(true);
  });

  it("test_firstInWindow_channelGone_answersLocallyWithoutWaiting", async function () {
    const refused = workerDeduper({ ask: () => false, timeoutMs: 60_000 });
    expect(await refused.dedupe.firstInWindow(BATCH, "S-1", "a")).to.equal(true);
    expect(await refused.dedupe.firstInWindow(BATCH, "S-1", "a")).to.equal(false);
    expect(refused.warnings).to.have.length(1);
    expect(refused.warnings[0]).to.match(/cannot be asked/);

    const throwing = workerDeduper({
      ask: () => {
        throw new Error("Channel closed");
      },
      timeoutMs: 60_000,
    });
    expect(await throwing.dedupe.firstInWindow(BATCH, "S-1", "a")).to.equal(true);

    const undelivered = workerDeduper({
      ask: (_question, failed) => {
        setImmediate(failed);
        return true;
      },
      timeoutMs: 60_000,
    });
    expect(await undelivered.dedupe.firstInWindow(BATCH, "S-1", "a")).to.equal(true);
    expect(await undelivered.dedupe.firstInWindow(BATCH, "S-1", "a")).to.equal(false);
  });

  it("test_disconnected_settlesOutstandingAndStopsAsking", async function () {
    const { dedupe, questions, warnings } = workerDeduper({ timeoutMs: 60_000 });
    const outstanding = dedupe.firstInWindow(BATCH, "S-1", "a");
    dedupe.disconnected();
    expect(await outstanding).to.equal(true);
    expect(await dedupe.firstInWindow(BATCH, "S-1", "a")).to.equal(false);
    expect(questions).to.have.length(1);
    expect(warnings).to.have.length(1);
  });
});
