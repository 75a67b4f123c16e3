/**
 * Sign-In with Ethereum through the HTTP app: the happy path, every refusal an attacker could try, roles read from
 * the mirror at each request, and the session cookie's flags.
 */
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { Wallet } from "ethers";
import { pino } from "pino";
import { SiweMessage } from "siwe";
import request from "supertest";
import { createApp, type ProvenaApp } from "../../../backend/api/app.ts";
import { createMetrics } from "../../../backend/api/metrics.ts";
import { createAuthModule, SESSION_COOKIE } from "../../../backend/auth/auth-routes.ts";
import { createAuthService } from "../../../backend/auth/auth-service.ts";
import { createSignedTokens } from "../../../backend/auth/signed-tokens.ts";
import type { Hex, Participant } from "../../../backend/domain/model.ts";
import { createSqliteStore } from "../../../backend/store/sqlite/index.ts";
import type { MirrorStore } from "../../../backend/store/port.ts";
import { chainEvent, participant } from "../store/fixtures.ts";

const CHAIN_ID = 31337;
const BASE_URL = "https://id.provena.test";

describe("sign-in with Ethereum (HTTP)", function () {
  let store: MirrorStore;
  let app: ProvenaApp;
  let clock: number;
  const regulator = Wallet.createRandom();
  const carrier = Wallet.createRandom();
  const stranger = Wallet.createRandom();

  const participantOf = (wallet: { address: string }, id: number, roles: string[], suspended = false, lastBlock = id): Participant => ({
    ...participant({
      label: `p${id}`,
      participantId: id,
      roles,
      suspended,
      onboarded: chainEvent({ chainId: CHAIN_ID, blockNumber: id, logIndex: 0, name: "ParticipantOnboarded" }),
      lastEvent: chainEvent({ chainId: CHAIN_ID, blockNumber: lastBlock, logIndex: 0, name: "ParticipantSuspended" }),
    }),
    address: wallet.address.toLowerCase() as Hex,
  });
  const putParticipants = (participants: Participant[], block: number) =>
    store.commitRange({
      chainId: CHAIN_ID,
      events: [],
      blocks: [],
      batches: [],
      participants,
      orders: [],
      checkpoint: { chainId: CHAIN_ID, blockNumber: block, blockHash: null, updatedAt: Date.now() },
    });

  beforeEach(async function () {
    clock = Date.now();
    store = createSqliteStore({ path: ":memory:" });
    await store.init();
    await putParticipants([participantOf(regulator, 1, ["REGULATOR"]), participantOf(carrier, 2, ["CARRIER"], true)], 10);
    const service = createAuthService({
      store,
      tokens: createSignedTokens({ secret: randomBytes(32), nonceTtlMs: 600_000, now: () => clock }),
      publicBaseUrl: BASE_URL,
      chainId: CHAIN_ID,
      sessionTtlMs: 3_600_000,
      now: () => clock,
    });
    app = createApp({
      store,
      logger: pino({ level: "silent" }),
      metrics: createMetrics(),
      indexerStatus: () => ({
        chainId: CHAIN_ID,
        headBlock: 10,
        indexedBlock: 10,
        lagBlocks: 0,
        eventsIndexed: 0,
        isLeader: true,
        phase: "live",
      }),
      readyMaxLagBlocks: 10,
      modules: [createAuthModule({ service, secureCookie: true })],
    });
  });

  afterEach(async function () {
    await store.close();
  });

  async function challenge() {
    const response = await request(app).get("/api/v1/auth/challenge").expect(200);
    expect(response.headers["cache-control"]).to.equal("no-store");
    return response.body as { domain: string; uri: string; chainId: number; nonce: string; statement: string };
  }

  async function signedMessage(wallet: Pick<Wallet, "address" | "signMessage">, overrides: Partial<SiweMessage> = {}) {
    const fields = await challenge();
    const message = new SiweMessage({
      domain: fields.domain,
      address: wallet.address,
      statement: fields.statement,
      uri: fields.uri,
      version: "1",
      chainId: fields.chainId,
      nonce: fields.nonce,
      issuedAt: new Date(clock).toISOString(),
      ...overrides,
    }).prepareMessage();
    return { message, signature: await wallet.signMessage(message) };
  }

  const signIn = (body: unknown) =>
    request(app).post("/api/v1/auth/sessions").set("Content-Type", "application/json").send(JSON.stringify(body));

  it("test_signIn_regulator_getsSessionCookieAndRoles", async function () {
    const response = await signIn(await signedMessage(regulator)).expect(201);
    expect(response.body.viewer).to.include({ signedIn: true, address: regulator.address.toLowerCase() });
    expect(response.body.viewer.roles).to.deep.equal(["REGULATOR"]);
    const cookie = String(response.headers["set-cookie"]);
    expect(cookie).to.match(new RegExp(`^${SESSION_COOKIE}=pvs1\\.`));
    expect(cookie).to.include("HttpOnly").and.include("Secure").and.include("SameSite=Strict");

    const byCookie = await request(app).get("/api/v1/auth/session").set("Cookie", cookie.split(";")[0]!).expect(200);
    expect(byCookie.body).to.include({ signedIn: true, address: regulator.address.toLowerCase() });
    const byBearer = await request(app).get("/api/v1/auth/session").set("Authorization", `Bearer ${response.body.token}`).expect(200);
    expect(byBearer.body.roles).to.deep.equal(["REGULATOR"]);
  });

  it("test_getSession_noToken_isAnonymous_andBadTokenIs401", async function () {
    expect((await request(app).get("/api/v1/auth/session").expect(200)).body).to.deep.equal({ signedIn: false });
    const forged = await request(app)
      .get("/api/v1/auth/session")
      .set("Authorization", `Bearer pvs1.${"a".repeat(40)}.1.zzzzzz.${"A".repeat(43)}`);
    expect(forged.status).to.equal(401);
    expect(forged.headers["content-type"]).to.match(/problem\+json/);
    await request(app).get("/api/v1/auth/session").set("Authorization", "Basic dXNlcjpwYXNz").expect(401);
  });

  it("test_signIn_replayedMessage_isRefusedTheSecondTime", async function () {
    const signed = await signedMessage(regulator);
    await signIn(signed).expect(201);
    const replay = await signIn(signed).expect(401);
    expect(replay.body.reason).to.equal("nonce-used");
  });

  it("test_signIn_concurrentReplays_onlyOneSession", async function () {
    const signed = await signedMessage(regulator);
    const answers = await Promise.all(Array.from({ length: 5 }, () => signIn(signed)));
    expect(answers.map((answer) => answer.status).sort()).to.deep.equal([201, 401, 401, 401, 401]);
  });

  it("test_signIn_phishingDomainOrOriginOrChain_isRefused", async function () {
    for (const [overrides, reason] of [
      [{ domain: "provena-login.example" }, "domain"],
      [{ uri: "https://evil.example/login" }, "uri"],
      [{ chainId: 1 }, "chain"],
    ] as const) {
      const answer = await signIn(await signedMessage(regulator, overrides)).expect(401);
      expect(answer.body.reason, JSON.stringify(overrides)).to.equal(reason);
    }
  });

  it("test_signIn_nonceNotIssuedOrExpired_isRefused", async function () {
    const invented = await signIn(await signedMessage(regulator, { nonce: "a".repeat(50) })).expect(401);
    expect(invented.body.reason).to.equal("nonce");
    const signed = await signedMessage(regulator);
    clock += 601_000; // nonce expiries are whole seconds
    const late = await signIn(signed).expect(401);
    expect(late.body).to.include({ reason: "nonce" });
    expect(late.body.detail).to.match(/expired/);
  });

  it("test_signIn_signatureByAnotherKey_isRefused", async function () {
    const { message } = await signedMessage(regulator);
    const answer = await signIn({ message, signature: await stranger.signMessage(message) }).expect(401);
    expect(answer.body.reason).to.equal("signature");
    // The refused attempt did not spend the nonce: the real signer can still use it.
    await signIn({ message, signature: await regulator.signMessage(message) }).expect(201);
  });

  it("test_signIn_messageExpiredOrNotYetValidOrFromTheFuture_isRefused", async function () {
    const expired = await signedMessage(regulator, { expirationTime: new Date(clock - 1_000).toISOString() });
    expect((await signIn(expired).expect(401)).body.reason).to.equal("message");
    const notYet = await signedMessage(regulator, { notBefore: new Date(clock + 60_000).toISOString() });
    expect((await signIn(notYet).expect(401)).body.reason).to.equal("message");
    const future = await signedMessage(regulator, { issuedAt: new Date(clock + 3_600_000).toISOString() });
    expect((await signIn(future).expect(401)).body.reason).to.equal("issued-at");
  });

  it("test_signIn_messageExpirationTime_boundsTheSession", async function () {
    const expirationTime = new Date(clock + 120_000).toISOString();
    const answer = await signIn(await signedMessage(regulator, { expirationTime })).expect(201);
    expect(answer.body.viewer.sessionExpiresAt).to.equal(expirationTime);
  });

  it("test_signIn_malformedBodies_are400Or415", async function () {
    await signIn({ message: "hello", signature: `0x${"11".repeat(65)}` }).expect(400);
    await signIn({ message: (await signedMessage(regulator)).message, signature: "0x1234" }).expect(400);
    await signIn({ message: "x", signature: `0x${"11".repeat(65)}`, extra: 1 }).expect(400);
    await request(app).post("/api/v1/auth/sessions").set("Content-Type", "text/plain").send("hi").expect(415);
  });

  it("test_viewer_suspendedParticipant_hasNoRoles_andUnknownAddressSignsInWithNone", async function () {
    const suspended = await signIn(await signedMessage(carrier)).expect(201);
    expect(suspended.body.viewer.roles).to.deep.equal([]);
    expect(suspended.body.viewer.participant).to.include({ suspended: true });
    const unknown = await signIn(await signedMessage(stranger)).expect(201);
    expect(unknown.body.viewer).to.include({ participant: null });
    expect(unknown.body.viewer.roles).to.deep.equal([]);
  });

  it("test_viewer_rolesFollowTheMirror_withoutSigningInAgain", async function () {
    const { token } = (await signIn(await signedMessage(regulator)).expect(201)).body as { token: string };
    await putParticipants([participantOf(regulator, 1, ["REGULATOR"], true, 20)], 20);
    const after = await request(app).get("/api/v1/auth/session").set("Authorization", `Bearer ${token}`).expect(200);
    expect(after.body.roles).to.deep.equal([]);
  });

  it("test_signOut_clearsTheCookie", async function () {
    const answer = await request(app).delete("/api/v1/auth/session").expect(204);
    expect(String(answer.headers["set-cookie"])).to.match(new RegExp(`^${SESSION_COOKIE}=;.*Expires=Thu, 01 Jan 1970`));
  });
});
