/**
 * API_WORKERS=2 (backend/api-workers.ts): two worker processes serve the API on one port over the same SQLite file
 * while the primary alone indexes, relays and keeps. The seeded demo runs through them: relay submissions, the
 * serial-list upload and passports all go to workers, the relayer in the primary is poked and the indexer mirrors.
 */
import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Wallet } from "ethers";
import { pino } from "pino";
import { SiweMessage } from "siwe";
import { apiWorkerCount } from "../../backend/api-workers.ts";
import { loadConfig } from "../../backend/config.ts";
import { startProvena, type RunningProvena } from "../../backend/main.ts";
import { runDemo, type DemoResult } from "../../scripts/demo.ts";

/** One GET on a connection of its own, so cluster's round robin hands each to the next worker. */
function getOnNewConnection(
  url: string,
  accept = "application/json",
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { agent: false, headers: { ...headers, accept, connection: "close" } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode!, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** One POST of a JSON body on a connection of its own. */
function postJsonOnNewConnection(url: string, body: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = httpRequest(
      url,
      {
        method: "POST",
        agent: false,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload), connection: "close" },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () => resolve({ status: res.statusCode!, body: text }));
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Two API workers over a store and an embedded chain in `dir`: a fresh chain each run (the default EMBEDDED_CHAIN_DIR
 * keeps the last run's demo); the test client is on loopback, trusted as a proxy, so its X-Forwarded-For names it.
 */
function twoWorkerConfig(dir: string, env: Record<string, string> = {}) {
  return {
    ...loadConfig({
      LOG_LEVEL: "silent",
      SQLITE_PATH: join(dir, "provena.db"),
      EMBEDDED_CHAIN_DIR: join(dir, "chain"),
      API_WORKERS: "2",
      MQTT_PORT: "0", // no MQTT broker: parallel test processes would collide on port 1883
      TRUST_PROXY: "loopback",
      ...env,
    }),
    port: 0,
  };
}

describe("API worker processes", function () {
  this.timeout(240_000);
  let dir: string;
  let provena: RunningProvena;
  let demo: DemoResult;
  let workerPids: number[];

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), "provena-api-workers-"));
    const config = { ...twoWorkerConfig(dir), keeperIntervalMs: 250, indexerPollMs: 100 };
    provena = await startProvena(config, { logger: pino({ level: "silent" }) });
    workerPids = provena.apiWorkers?.pids() ?? [];
    demo = await runDemo(provena, { log: () => undefined, units: 20, disputeWindowSeconds: 2 });
  });

  after(async function () {
    await provena?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("test_apiWorkerCount_inMemorySqlite_servedByThePrimaryAlone", function () {
    expect(apiWorkerCount({ apiWorkers: 4, mongodbUri: null, sqlitePath: ":memory:" })).to.equal(1);
    expect(apiWorkerCount({ apiWorkers: 4, mongodbUri: null, sqlitePath: "data/provena.db" })).to.equal(4);
    expect(apiWorkerCount({ apiWorkers: 3, mongodbUri: "mongodb://127.0.0.1/provena", sqlitePath: ":memory:" })).to.equal(3);
  });

  it("test_startProvena_twoApiWorkers_bothAnswerOnOnePort", async function () {
    expect(workerPids).to.have.length(2);
    expect(workerPids).to.not.include(process.pid);
    for (let i = 0; i < 8; i++) expect((await getOnNewConnection(`${provena.url}/healthz`)).status).to.equal(200);
    const served = await provena.apiWorkers!.servedRequests();
    expect([...served.keys()].sort()).to.deep.equal([...workerPids].sort());
    for (const [pid, count] of served) expect(count, `requests served by worker ${pid}`).to.be.greaterThan(0);
  });

  it("test_startProvena_writesThroughWorkers_relayedIndexedAndServed", async function () {
    // The demo relayed every gasless step through a worker (the primary's relayer sent them) and uploaded the
    // serial list through one; the unit's passport, served by a worker, shows the full custody story.
    const passport = await getOnNewConnection(demo.unitUrls[0]!, "application/ld+json");
    expect(passport.status).to.equal(200);
    const ld = JSON.parse(passport.body) as Record<string, any>;
    expect(ld["provena:history"].numberOfItems).to.be.greaterThan(3);
    expect(ld["provena:verification"].proof).to.be.an("array").that.is.not.empty;
  });

  it("test_startProvena_twoApiWorkers_onlyThePrimaryIndexes", async function () {
    const status = provena.indexer.status();
    expect(status.isLeader).to.equal(true);
    // The workers report the primary's indexer (forwarded every second): ready, the same chain.
    const ready = await getOnNewConnection(`${provena.url}/readyz`);
    expect(ready.status, ready.body).to.equal(200);
    expect(status.eventsIndexed).to.be.greaterThan(0);
  });

  /** Loads a unit's passport page `times` times on new connections; returns the requests each worker served meanwhile. */
  async function loadPassportPage(url: string, times: number, headers: Record<string, string> = {}): Promise<number[]> {
    const before = await provena.apiWorkers!.servedRequests();
    for (let i = 0; i < times; i++) expect((await getOnNewConnection(url, "text/html", headers)).status).to.equal(200);
    const after = await provena.apiWorkers!.servedRequests();
    return [...after].map(([pid, served]) => served - (before.get(pid) ?? 0));
  }

  it("test_passportScans_oneClientOnBothWorkers_countsOnce", async function () {
    const serial = demo.serials[1]!;
    const before = await provena.store.scanStats(demo.batchId, serial, 0);
    const servedPerWorker = await loadPassportPage(demo.unitUrls[1]!, 12);
    expect(servedPerWorker).to.have.length(2);
    for (const served of servedPerWorker) expect(served, "each worker served some of the page loads").to.be.greaterThan(0);
    const after = await provena.store.scanStats(demo.batchId, serial, 0);
    expect(after.total - before.total).to.equal(1);
  });

  it("test_signIn_twoApiWorkers_sessionHoldsOnEveryWorker_andANonceIsSpentOnceForAll", async function () {
    const wallet = Wallet.createRandom();
    const fields = JSON.parse((await getOnNewConnection(`${provena.url}/api/v1/auth/challenge`)).body) as Record<string, any>;
    const message = new SiweMessage({
      domain: fields.domain,
      address: wallet.address,
      uri: fields.uri,
      version: "1",
      chainId: fields.chainId,
      nonce: fields.nonce,
      issuedAt: new Date().toISOString(),
    }).prepareMessage();
    const signed = { message, signature: await wallet.signMessage(message) };
    const first = await postJsonOnNewConnection(`${provena.url}/api/v1/auth/sessions`, signed);
    expect(first.status, first.body).to.equal(201);
    const { token } = JSON.parse(first.body) as { token: string };
    // A replay on any worker finds the nonce spent: the store, not a worker's memory, keeps it.
    for (let i = 0; i < 3; i++) expect((await postJsonOnNewConnection(`${provena.url}/api/v1/auth/sessions`, signed)).status).to.equal(401);
    const before = await provena.apiWorkers!.servedRequests();
    for (let i = 0; i < 6; i++) {
      const session = await getOnNewConnection(`${provena.url}/api/v1/auth/session`, "application/json", {
        authorization: `Bearer ${token}`,
      });
      expect(session.status, session.body).to.equal(200);
      expect(JSON.parse(session.body)).to.include({ signedIn: true, address: wallet.address.toLowerCase() });
    }
    const after = await provena.apiWorkers!.servedRequests();
    for (const [pid, served] of after) expect(served - (before.get(pid) ?? 0), `worker ${pid} checked some sessions`).to.be.greaterThan(0);
  });

  it("test_passportScans_twoClientsOnBothWorkers_countTwice", async function () {
    const serial = demo.serials[2]!;
    const before = await provena.store.scanStats(demo.batchId, serial, 0);
    for (const client of ["203.0.113.7", "198.51.100.9"]) {
      const servedPerWorker = await loadPassportPage(demo.unitUrls[2]!, 6, { "x-forwarded-for": client });
      for (const served of servedPerWorker) expect(served, `each worker served client ${client}`).to.be.greaterThan(0);
    }
    const after = await provena.store.scanStats(demo.batchId, serial, 0);
    expect(after.total - before.total).to.equal(2);
  });

  it("test_stop_twoApiWorkers_allExit", async function () {
    expect(workerPids.every(isAlive)).to.equal(true);
    await provena.stop();
    expect(workerPids.filter(isAlive)).to.deep.equal([]);
    const refused = await getOnNewConnection(`${provena.url}/healthz`).then(
      () => false,
      () => true,
    );
    expect(refused).to.equal(true);
  });
});

describe("API worker processes: cluster-wide rate limits", function () {
  this.timeout(240_000);
  let dir: string;
  let provena: RunningProvena;

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), "provena-api-workers-limits-"));
    const config = twoWorkerConfig(dir, { READ_RATE_LIMIT_PER_MINUTE: "10" });
    provena = await startProvena(config, { logger: pino({ level: "silent" }) });
  });

  after(async function () {
    await provena?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("test_startProvena_twoApiWorkers_oneClientGetsOneBudgetNotOnePerWorker", async function () {
    const before = await provena.apiWorkers!.servedRequests();
    const statuses: number[] = [];
    for (let i = 0; i < 16; i++) statuses.push((await getOnNewConnection(`${provena.url}/api/v1/batches`)).status);
    // Both workers served this client, and together they let it through exactly READ_RATE_LIMIT_PER_MINUTE times.
    const after = await provena.apiWorkers!.servedRequests();
    for (const [pid, count] of after) expect(count - (before.get(pid) ?? 0), `requests served by worker ${pid}`).to.be.greaterThan(0);
    expect(statuses).to.deep.equal([...Array<number>(10).fill(200), ...Array<number>(6).fill(429)]);

    // Another client (behind the trusted loopback proxy) has a budget of its own.
    const other = { "x-forwarded-for": "203.0.113.7" };
    const otherStatuses: number[] = [];
    for (let i = 0; i < 12; i++)
      otherStatuses.push((await getOnNewConnection(`${provena.url}/api/v1/batches`, "application/json", other)).status);
    expect(otherStatuses).to.deep.equal([...Array<number>(10).fill(200), 429, 429]);
    // Probes stay unlimited.
    expect((await getOnNewConnection(`${provena.url}/healthz`)).status).to.equal(200);
  });
});
