import { Validator } from "@seriousme/openapi-schema-validator";
import { expect } from "chai";
import { createApp } from "../../../backend/api/app.ts";
import { createMetrics } from "../../../backend/api/metrics.ts";
import { createPassportModule } from "../../../backend/passport/passport-module.ts";
import type { MirrorStore } from "../../../backend/store/port.ts";
import { createSqliteStore } from "../../../backend/store/sqlite/index.ts";
import { documentedOperations, mountedOperations } from "../api/fixtures/route-coverage.ts";
import { silentLogger } from "../passport/fixture.ts";

describe("ownership routes in the app's OpenAPI document", function () {
  let store: MirrorStore;

  before(async function () {
    store = createSqliteStore({ path: ":memory:" });
    await store.init();
  });
  after(async function () {
    await store.close();
  });

  it("test_openApiDocument_ownershipRoutes_documentedExactlyAndValid", async function () {
    const passports = createPassportModule({
      store,
      config: {
        publicBaseUrl: "https://id.example.com",
        publicRpcUrl: "https://id.example.com/rpc",
        chainId: 31337,
        registryAddress: `0x${"11".repeat(20)}`,
      },
      chain: { send: () => Promise.reject(new Error("no chain in this test")) },
      logger: silentLogger(),
      ownership: { unitOwnership: `0x${"c7".repeat(20)}`, provider: { call: async () => "0x" }, relayerAddress: `0x${"aa".repeat(20)}` },
    });
    const app = createApp({
      store,
      logger: silentLogger(),
      metrics: createMetrics(),
      indexerStatus: () => ({ chainId: 31337, headBlock: null, indexedBlock: null, lagBlocks: null, eventsIndexed: 0, isLeader: false }),
      readyMaxLagBlocks: 10,
      modules: [passports],
    });
    const mounted = mountedOperations(app);
    for (const operation of [
      "POST /api/v1/ownership/claim-trees",
      "GET /api/v1/ownership/claim-domain",
      "POST /api/v1/ownership/claims",
      "GET /api/v1/ownership/tokens/{tokenId}",
      "GET /api/v1/batches/{batchId}/units/{serial}/ownership",
      "POST /api/v1/batches/{batchId}/units/{serial}/claim",
    ]) {
      expect(mounted).to.include(operation);
    }
    expect(documentedOperations(app.openApiDocument)).to.deep.equal(mounted);
    const result = await new Validator().validate(structuredClone(app.openApiDocument) as unknown as Record<string, unknown>);
    expect(result.errors, JSON.stringify(result.errors, null, 2)).to.equal(undefined);
    expect(result.valid).to.equal(true);
    await passports.close();
  });
});
