/**
 * The request log's levels for server-side answers: a 500 is an error, a 503 that sheds load is a warning (a burst
 * of them must not become thousands of error lines), a probe's 503 stays at debug.
 */
import { expect } from "chai";
import express from "express";
import request from "supertest";
import { createRequestLogger } from "../../../backend/api/request-logging.ts";
import { recordingLogger } from "../../helpers/recording-logger.ts";

function appWithRecordedLog() {
  const { logger, lines } = recordingLogger();
  const app = express();
  app.use(createRequestLogger(logger));
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
});
