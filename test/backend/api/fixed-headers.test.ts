/** fixedHeaders (backend/api/fixed-headers.ts): helmet's headers computed once, the same as helmet sets per request. */
import { expect } from "chai";
import express, { type RequestHandler } from "express";
import helmet from "helmet";
import request from "supertest";
import { fixedHeaders } from "../../../backend/api/fixed-headers.ts";

function appWith(headers: RequestHandler) {
  const app = express();
  app.use((_req, res, next) => {
    res.setHeader("X-Powered-By", "something");
    next();
  });
  app.use(headers);
  app.get("/", (_req, res) => {
    res.json({ ok: true });
  });
  return app;
}

describe("fixedHeaders", function () {
  it("test_fixedHeaders_helmet_setsAndRemovesExactlyWhatHelmetDoes", async function () {
    const withHelmet = await request(appWith(helmet())).get("/").expect(200);
    const fixed = await request(appWith(fixedHeaders(helmet())))
      .get("/")
      .expect(200);
    const security = (headers: Record<string, unknown>) => {
      const { date: _date, etag: _etag, ...rest } = headers;
      return rest;
    };
    expect(security(fixed.headers)).to.deep.equal(security(withHelmet.headers));
    expect(fixed.headers["x-powered-by"]).to.equal(undefined);
    expect(fixed.headers["content-security-policy"]).to.be.a("string").that.includes("default-src");
  });

  it("test_fixedHeaders_middlewareReadingTheRequest_throwsAtOnce", function () {
    const perRequest: RequestHandler = (req, res, next) => {
      res.setHeader("X-Path", req.path);
      next();
    };
    expect(() => fixedHeaders(perRequest)).to.throw(/reads the request/);
    const late: RequestHandler = (_req, _res, next) => {
      setTimeout(next, 1);
    };
    expect(() => fixedHeaders(late)).to.throw(/did not call next/);
  });
});
