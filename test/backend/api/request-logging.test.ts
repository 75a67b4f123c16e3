/**
 * The request log's levels for server-side answers: a 500 is an error, a 503 that sheds load is a warning (a burst
 * of them must not become thousands of error lines), a probe's 503 stays at debug. Successful and refused requests
 * are at debug unless LOG_REQUESTS puts successful ones at info: a line per passport scan is CPU and disk at load.
 */
import { expect } from "chai";
import express from "express";
import request from "supertest";
import { createRequestLogger, type RequestLogOptions } from "../../../backend/api/request-logging.ts";
import { recordingLogger } from "../../helpers/recording-logger.ts";

function appWithRecordedLog(options: RequestLogOptions = {}) {
  const { logger, lines } = recordingLogger();
  const app = express();
  app.use(createRequestLogger(logger, options));
  app.get("/01/:gtin/10/:lot", (_req, res) => void res.status(200).send("passport"));
  app.get("/api/v1/batches", (_req, res) => void res.status(304).end());
  app.get("/api/v1/missing", (_req, res) => void res.status(404).end());
  app.get("/api/v1/qr", (_req, res) => void res.status(503).set("Retry-After", "2").end());
  app.get("/api/v1/broken", (_req, res) => void res.status(500).end());
  app.get("/readyz", (_req, res) => void res.status(503).end());
  return { app, lines };
}

const levelOf = (lines: Record<string, unknown>[], path: string) =>
  lines.find((line) => typeof line.msg === "string" && line.msg.startsWith(`GET ${path} `))?.level;

describe("request log levels", function () {
  it("test_requestLog_loadShedding503_isAWarningNotAnError", async function () {
    const { app, lines } = appWithRecordedLog();
    await request(app).get("/api/v1/qr").expect(503);
    await request(app).get("/api/v1/broken").expect(500);
    await request(app).get("/readyz").expect(503);
    await new Promise((resolve) => setImmediate(resolve));
    expect(levelOf(lines, "/api/v1/qr")).to.equal(40);
    expect(levelOf(lines, "/api/v1/broken")).to.equal(50);
    expect(levelOf(lines, "/readyz")).to.equal(20);
  });

  async function levelsOfEveryAnswer(options: RequestLogOptions) {
    const { app, lines } = appWithRecordedLog(options);
    await request(app).get("/01/09506000134352/10/L1").expect(200);
    await request(app).get("/api/v1/batches").expect(304);
    await request(app).get("/api/v1/missing").expect(404);
    await request(app).get("/api/v1/broken").expect(500);
    await request(app).get("/api/v1/qr").expect(503);
    await new Promise((resolve) => setImmediate(resolve));
    return ["/01/09506000134352/10/L1", "/api/v1/batches", "/api/v1/missing", "/api/v1/broken", "/api/v1/qr"].map((path) =>
      levelOf(lines, path),
    );
  }

  it("test_requestLog_byDefault_successfulAndRefusedRequestsAtDebug_failuresStillLogged", async function () {
    // The default is LIMIT_DEFAULTS.logRequests (false): at LOG_LEVEL=info only the 500 and the 503 are written.
    expect(await levelsOfEveryAnswer({})).to.deep.equal([20, 20, 20, 50, 40]);
  });

  it("test_requestLog_logRequests_successfulRequestsAtInfo", async function () {
    expect(await levelsOfEveryAnswer({ logRequests: true })).to.deep.equal([30, 30, 20, 50, 40]);
  });
});
