/**
 * The OpenAPI 3.1 document: valid against the official schema, every $ref resolvable, and equal to the
 * routes the app really mounts (walked from the Express router stack), both ways.
 */
import { Validator } from "@seriousme/openapi-schema-validator";
import { expect } from "chai";
import { Router } from "express";
import request from "supertest";
import { buildOpenApiDocument, problemResponse, type OpenApiDocument } from "../../../backend/api/openapi.ts";
import type { RouteModule } from "../../../backend/api/route-module.ts";
import { routeModuleFromTable, toOpenApiPaths } from "../../../backend/api/route-table.ts";
import { loadConfig } from "../../../backend/config.ts";
import { createProvenaHttpApp, type ProvenaHttpDeps } from "../../../backend/main.ts";
import { createRelayModule } from "../../../backend/relayer/relay-routes.ts";
import type { RelayService } from "../../../backend/relayer/relay-service.ts";
import { documentedOperations, mountedOperations } from "./fixtures/route-coverage.ts";
import { createTestApp, type TestApp } from "./fixtures/test-app.ts";

/** Every "#/..." reference in `document` that points nowhere. */
function unresolvedRefs(document: unknown): string[] {
  const missing: string[] = [];
  const resolve = (ref: string) =>
    ref
      .slice(2)
      .split("/")
      .map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"))
      .reduce<unknown>((node, key) => (node && typeof node === "object" ? (node as Record<string, unknown>)[key] : undefined), document);
  const walk = (node: unknown) => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === "object") {
      for (const [key, value] of Object.entries(node)) {
        if (key === "$ref" && typeof value === "string" && (!value.startsWith("#/") || resolve(value) === undefined)) missing.push(value);
        else walk(value);
      }
    }
  };
  walk(document);
  return missing;
}

async function expectValidOpenApi31(document: OpenApiDocument): Promise<void> {
  const validator = new Validator();
  const result = await validator.validate(structuredClone(document) as unknown as Record<string, unknown>);
  expect(result.errors, JSON.stringify(result.errors, null, 2)).to.equal(undefined);
  expect(result.valid).to.equal(true);
  expect(validator.version).to.equal("3.1");
  expect(unresolvedRefs(document)).to.deep.equal([]);
}

describe("OpenAPI document", function () {
  let t: TestApp;

  before(async function () {
    t = await createTestApp();
  });

  after(async function () {
    await t.store.close();
  });

  it("test_openApi_isAValidOpenApi31Document", async function () {
    await expectValidOpenApi31(t.app.openApiDocument);
  });

  it("test_openApi_validatorRejectsABrokenDocument", async function () {
    // Guards the check above: a response without its required description must fail validation.
    const broken = structuredClone(t.app.openApiDocument) as unknown as {
      paths: Record<string, { get: { responses: Record<string, unknown> } }>;
    };
    broken.paths["/healthz"]!.get.responses["200"] = { content: {} };
    const result = await new Validator().validate(broken as unknown as Record<string, unknown>);
    expect(result.valid).to.equal(false);
    expect(unresolvedRefs({ a: { $ref: "#/components/schemas/Nope" } })).to.deep.equal(["#/components/schemas/Nope"]);
  });

  it("test_openApi_documentsEveryMountedRouteAndNothingElse", function () {
    const mounted = mountedOperations(t.app);
    expect(mounted).to.include("GET /api/v1/batches/{batchId}");
    expect(mounted).to.include("GET /readyz");
    expect(documentedOperations(t.app.openApiDocument)).to.deep.equal(mounted);
  });

  it("test_openApi_servedAtOpenapiJson", async function () {
    const response = await request(t.app).get("/openapi.json").expect(200);
    expect(response.body).to.deep.equal(JSON.parse(JSON.stringify(t.app.openApiDocument)));
    expect(response.body.openapi).to.equal("3.1.0");
    expect(response.body.info.version).to.match(/^\d+\.\d+\.\d+/);
  });

  it("test_openApi_operationIdsAreUnique_andPathParametersMatchTheirTemplates", function () {
    const operationIds: string[] = [];
    for (const [path, item] of Object.entries(t.app.openApiDocument.paths)) {
      const templateNames = [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]).sort();
      for (const [method, operation] of Object.entries(
        item as Record<string, { operationId: string; parameters?: { in: string; name: string }[] }>,
      )) {
        operationIds.push(operation.operationId);
        const pathParameters = (operation.parameters ?? [])
          .filter((parameter) => parameter.in === "path")
          .map((parameter) => parameter.name)
          .sort();
        expect(pathParameters, `${method.toUpperCase()} ${path}`).to.deep.equal(templateNames);
      }
    }
    expect(new Set(operationIds).size).to.equal(operationIds.length);
  });

  it("test_openApi_queryParameters_comeFromTheValidationSchemas", function () {
    const operation = (t.app.openApiDocument.paths["/api/v1/batches"] as { get: { parameters: Record<string, unknown>[] } }).get;
    const byName = Object.fromEntries(operation.parameters.map((parameter) => [parameter.name, parameter]));
    expect(Object.keys(byName)).to.have.members(["gtin", "lot", "manufacturer", "custodian", "status", "parent", "limit", "cursor"]);
    expect(byName.limit).to.deep.include({
      in: "query",
      required: false,
      schema: { type: "integer", minimum: 1, maximum: 500, default: 50 },
    });
    expect(byName.status).to.deep.include({
      schema: { type: "string", enum: ["registered", "in_transit", "delivered", "split", "recalled"] },
    });
    expect((byName.gtin as { schema: { pattern: string } }).schema.pattern).to.equal("^(\\d{8}|\\d{12,14})$");
    expect(byName.gtin!.description).to.be.a("string");
    const events = (t.app.openApiDocument.paths["/api/v1/events"] as { get: { parameters: Record<string, unknown>[] } }).get;
    const fromBlock = events.parameters.find((parameter) => parameter.name === "fromBlock");
    expect(fromBlock).to.deep.include({
      in: "query",
      required: false,
      schema: { type: "integer", minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
    });
  });

  it("test_openApi_responseSchemas_areComponentsGeneratedFromTheModels", function () {
    const schemas = t.app.openApiDocument.components.schemas;
    for (const name of [
      "Batch",
      "BatchDetail",
      "BatchPage",
      "Participant",
      "Order",
      "ChainEvent",
      "TimelineEntry",
      "Problem",
      "Readiness",
      "Health",
    ]) {
      expect(schemas, name).to.have.property(name);
    }
    const batch = schemas.Batch as { properties: Record<string, unknown>; required: string[]; additionalProperties: boolean };
    expect(batch.required).to.include.members(["batchId", "gtin", "lot", "custody", "recall"]);
    expect(batch.additionalProperties).to.equal(false);
    expect(batch.properties.custodian).to.deep.equal({ $ref: "#/components/schemas/Address" });
  });

  it("test_openApi_pluggedInRelayModule_isDocumentedAndRouted", async function () {
    // Handlers are never called here: only the module's routes and documentation are inspected.
    const relay = createRelayModule({ service: {} as RelayService });
    const withRelay = await createTestApp({ store: t.store, modules: [relay] });
    await expectValidOpenApi31(withRelay.app.openApiDocument);
    const mounted = mountedOperations(withRelay.app);
    expect(mounted).to.include("POST /api/v1/relay/requests");
    expect(documentedOperations(withRelay.app.openApiDocument)).to.deep.equal(mounted);
  });

  it("test_openApi_appAsMainAssemblesIt_documentsEveryMountedRouteAndNothingElse", async function () {
    // Every module npm start mounts (operations, read API, passports and uploads, relay); handlers are never called.
    const chain = {
      chainId: 31337,
      provider: {} as ProvenaHttpDeps["chain"]["provider"],
      deployment: {
        chainId: 31337,
        registry: `0x${"1".repeat(40)}`,
        escrow: `0x${"2".repeat(40)}`,
        forwarder: `0x${"3".repeat(40)}`,
        deployBlock: 0,
      },
    } as ProvenaHttpDeps["chain"];
    const app = createProvenaHttpApp({
      config: loadConfig({ LOG_LEVEL: "silent" }),
      store: t.store,
      logger: t.logger,
      chain,
      indexerStatus: () => t.indexer,
      relay: { service: {} as RelayService, onAccepted: () => {} },
    });
    await expectValidOpenApi31(app.openApiDocument);
    const mounted = mountedOperations(app);
    const oneOfEachModule = [
      "GET /readyz",
      "GET /api/v1/batches/{batchId}",
      "POST /api/v1/relay/requests",
      "POST /api/v1/serial-sets",
      "GET /01/{gtin}/10/{lot}",
      "POST /api/v1/telemetry/readings",
      "GET /api/v1/legs/{legId}/readings",
    ];
    expect(mounted).to.include.members(oneOfEachModule);
    expect(documentedOperations(app.openApiDocument)).to.deep.equal(mounted);
  });

  it("test_routeCoverage_detectsAnUndocumentedRoute", async function () {
    const router = Router();
    router.get("/hidden", (_req, res) => {
      res.end();
    });
    const sneaky: RouteModule = { basePath: "/x", router, paths: {} };
    const app = await createTestApp({ store: t.store, modules: [sneaky] });
    expect(mountedOperations(app.app)).to.include("GET /x/hidden");
    expect(documentedOperations(app.app.openApiDocument)).to.not.include("GET /x/hidden");
  });

  describe("buildOpenApiDocument", function () {
    const module = (operationId: string, schemas?: Record<string, unknown>) =>
      routeModuleFromTable(
        "/m",
        [
          {
            method: "get",
            path: "/a",
            operation: { operationId, responses: { 404: problemResponse(404) } },
            handler: (_req, res) => void res.end(),
          },
        ],
        schemas,
      );

    it("test_build_twoModulesDocumentingOneOperation_throws", function () {
      expect(() => buildOpenApiDocument({ title: "t", version: "1.0.0", modules: [module("a"), module("b")] })).to.throw(
        "OpenAPI: get /m/a is documented by two route modules",
      );
    });

    it("test_build_conflictingSchemaNames_throw", function () {
      const first = module("a", { Thing: { type: "string" } });
      const second = routeModuleFromTable("/n", [], { Thing: { type: "integer" } });
      expect(() => buildOpenApiDocument({ title: "t", version: "1.0.0", modules: [first, second] })).to.throw(
        "different schemas named Thing",
      );
      const same = routeModuleFromTable("/n", [], { Thing: { type: "string" } });
      expect(() => buildOpenApiDocument({ title: "t", version: "1.0.0", modules: [first, same] })).to.not.throw();
    });
  });

  describe("toOpenApiPaths", function () {
    it("test_toOpenApiPaths_parametersAndOptionalGroups", function () {
      expect(toOpenApiPaths("/api/v1/batches/:batchId/events")).to.deep.equal(["/api/v1/batches/{batchId}/events"]);
      expect(toOpenApiPaths("/01/:gtin/10/:lot{/21/:serial}")).to.deep.equal(["/01/{gtin}/10/{lot}", "/01/{gtin}/10/{lot}/21/{serial}"]);
      expect(() => toOpenApiPaths("/files/*path")).to.throw("cannot be documented");
    });
  });
});
