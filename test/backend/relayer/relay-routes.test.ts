/**
 * The relay's HTTP face without a chain: a stub service behind the real app, to prove the limits
 * (body size, rate, media type) and request validation, and that every refusal is the app's problem+json.
 */
import { expect } from "chai";
import request from "supertest";
import type { RelayRequest } from "../../../backend/domain/model.ts";
import { queuedRelayRequest } from "../../../backend/relayer/queued-request.ts";
import { createRelayModule, type RelayModuleOptions } from "../../../backend/relayer/relay-routes.ts";
import type { ForwardRequestInput, RelayService } from "../../../backend/relayer/relay-service.ts";
import { createTestApp } from "../api/fixtures/test-app.ts";

const PATH = "/api/v1/relay/requests";

const validBody = {
  from: `0x${"ab".repeat(20)}`,
  to: `0x${"cd".repeat(20)}`,
  value: "0",
  gas: "100000",
  nonce: "0",
  deadline: 1_900_000_000,
  data: "0x12345678",
  signature: `0x${"11".repeat(65)}`,
};

/** A service that accepts everything and records what it was given. */
function stubService(accepted: ForwardRequestInput[]): RelayService {
  return {
    accept: async (input) => {
      accepted.push(input);
      const stored = queuedRelayRequest(
        {
          id: `0x${"ee".repeat(32)}`,
          chainId: 31337,
          from: input.from as RelayRequest["from"],
          to: input.to as RelayRequest["to"],
          value: String(input.value),
          gas: String(input.gas),
          nonce: String(input.nonce),
          deadline: Number(input.deadline),
          data: input.data as RelayRequest["data"],
          signature: input.signature as RelayRequest["signature"],
          kind: "partner",
        },
        Date.now(),
      );
      return { request: stored, created: true };
    },
    get: async () => {
      throw new Error("not used");
    },
    signingInfo: async () => {
      throw new Error("not used");
    },
    nonces: async () => {
      throw new Error("not used");
    },
    describeCall: () => null,
  };
}

async function relayApp(options: Partial<RelayModuleOptions> = {}) {
  const accepted: ForwardRequestInput[] = [];
  const { app, store } = await createTestApp({ modules: [createRelayModule({ service: stubService(accepted), ...options })] });
  return { app, store, accepted };
}

function expectProblem(response: request.Response, status: number, title: string): Record<string, unknown> {
  expect(response.status).to.equal(status);
  expect(response.headers["content-type"]).to.equal("application/problem+json; charset=utf-8");
  expect(response.body).to.include({ status, title, instance: PATH });
  return response.body as Record<string, unknown>;
}

describe("relay routes", function () {
  describe("when the body is within the limits", function () {
    it("test_submit_validRequest_reachesTheServiceWithAddressesLowerCased", async function () {
      const { app, store, accepted } = await relayApp();
      const checksummed = { ...validBody, from: "0x52908400098527886E0F7030069857D2E4169EE7" };
      const response = await request(app).post(PATH).send(checksummed).expect(202);
      expect(response.headers.location).to.equal(`${PATH}/0x${"ee".repeat(32)}`);
      expect(accepted[0]!.from).to.equal("0x52908400098527886e0f7030069857d2e4169ee7");
      await store.close();
    });
  });

  describe("when the body or the client must be refused", function () {
    it("test_submit_bodyOverTheRelayLimit_is413NamingTheRelayLimit", async function () {
      const { app, store, accepted } = await relayApp({ bodyLimit: "1kb" });
      const response = await request(app)
        .post(PATH)
        .set("content-type", "application/json")
        .send(`{"from":"${"a".repeat(2_000)}"}`);
      const body = expectProblem(response, 413, "Content Too Large");
      expect(body).to.include({ detail: "The request body exceeds the limit of 1024 bytes for relay requests", limit: 1024 });
      expect(body.type).to.equal("https://provena.dev/problems/content-too-large");
      expect(accepted).to.have.length(0);
      await store.close();
    });

    it("test_submit_defaultLimit_is64kb", async function () {
      const { app, store } = await relayApp();
      const response = await request(app)
        .post(PATH)
        .set("content-type", "application/json")
        .send(`{"from":"${"a".repeat(70_000)}"}`);
      expect(expectProblem(response, 413, "Content Too Large").limit).to.equal(65_536);
      await store.close();
    });

    it("test_submit_invalidJson_is400", async function () {
      const { app, store } = await relayApp();
      const response = await request(app).post(PATH).set("content-type", "application/json").send('{"from":');
      expect(expectProblem(response, 400, "Bad Request").detail).to.equal("The request body is not valid JSON");
      await store.close();
    });

    it("test_submit_unsupportedCharsetOrNotJson_is415", async function () {
      const { app, store } = await relayApp();
      const latin = await request(app).post(PATH).set("content-type", "application/json; charset=latin-9").send(JSON.stringify(validBody));
      expect(expectProblem(latin, 415, "Unsupported Media Type").detail).to.equal('Unsupported charset "LATIN-9"');
      const text = await request(app).post(PATH).set("content-type", "text/plain").send("hello");
      expect(expectProblem(text, 415, "Unsupported Media Type").detail).to.equal("send the forward request as application/json");
      await store.close();
    });

    it("test_submit_overTheRateLimit_is429WithRetryAfter", async function () {
      const { app, store, accepted } = await relayApp({ writeRateLimitPerMinute: 2 });
      await request(app).post(PATH).send(validBody).expect(202);
      await request(app).post(PATH).send(validBody).expect(202);
      const response = await request(app).post(PATH).send(validBody);
      const body = expectProblem(response, 429, "Too Many Requests");
      expect(body.detail).to.equal("at most 2 relay requests per minute per client; retry later");
      expect(Number(response.headers["retry-after"])).to.be.greaterThan(0);
      expect(accepted).to.have.length(2);
      await store.close();
    });

    it("test_submit_mixedCaseAddressWithABadChecksum_is400", async function () {
      const { app, store } = await relayApp();
      const response = await request(app)
        .post(PATH)
        .send({ ...validBody, to: "0x52908400098527886E0F7030069857D2E4169Ee7" });
      const body = expectProblem(response, 400, "Bad Request");
      expect(body.errors).to.deep.equal([
        { in: "body", path: "to", message: "has an invalid EIP-55 checksum (use all lower-case to skip the check)" },
      ]);
      await store.close();
    });

    // A client (or fuzzer) probing the numeric fields must get a 400 naming the field, never a 500 from BigInt().
    for (const field of ["value", "gas", "nonce", "deadline"] as const) {
      it(`test_submit_nonDigitOrFractional${field[0]!.toUpperCase()}${field.slice(1)}_is400NamingTheField`, async function () {
        const { app, store, accepted } = await relayApp();
        for (const bad of ["abc", "0x10", "1e2", " 1", "-1", "", 1.5, -1, 1e300]) {
          const response = await request(app)
            .post(PATH)
            .send({ ...validBody, [field]: bad });
          const body = expectProblem(response, 400, "Bad Request");
          const paths = (body.errors as { path: string }[]).map((error) => error.path);
          expect([...new Set(paths)], `${field}=${JSON.stringify(bad)}`).to.deep.equal([field]);
        }
        expect(accepted).to.have.length(0);
        await store.close();
      });
    }
  });

  describe("the OpenAPI operation", function () {
    it("test_submit_operationDocumentsTheEnforcedLimits", async function () {
      const { app, store } = await relayApp({ bodyLimit: "2kb", writeRateLimitPerMinute: 7 });
      type Operation = { description: string; responses: Record<string, { description: string }> };
      const operation = (app.openApiDocument.paths[PATH] as { post: Operation }).post;
      expect(operation.description).to.include("bodies up to 2kb; at most 7 relay requests per minute per client");
      expect(operation.responses["413"]!.description).to.equal("Body larger than 2kb");
      const schemas = app.openApiDocument.components.schemas;
      const forwardRequest = schemas.ForwardRequest as { required: string[]; additionalProperties: boolean };
      expect(forwardRequest.required).to.have.members(["from", "to", "value", "gas", "nonce", "deadline", "data", "signature"]);
      expect(forwardRequest.additionalProperties).to.equal(false);
      await store.close();
    });
  });
});
