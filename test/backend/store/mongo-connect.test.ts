/**
 * Connecting: with no server, createMongoStore must fail within seconds with one line that names the host and
 * never the credentials. Runs the real driver against a loopback port nothing listens on.
 */
import { expect } from "chai";

import { createMongoStore, MongoStoreConnectionError, MongoUriError } from "../../../backend/store/mongo/index.ts";

async function failure(action: () => Promise<unknown>): Promise<Error> {
  try {
    await action();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a failure");
}

describe("MongoDB store: connecting", function () {
  it("test_createMongoStore_unreachable_failsWithinTheTimeout_withOneCleanLine", async function () {
    this.timeout(20_000);
    const started = Date.now();
    const error = await failure(() =>
      createMongoStore({ uri: "mongodb://provena:s3cret-password@127.0.0.1:9/mirror?authSource=admin", connectTimeoutMs: 1_000 }),
    );
    const elapsed = Date.now() - started;
    expect(error).to.be.instanceOf(MongoStoreConnectionError);
    expect(error.message).to.match(/^Cannot reach MongoDB at mongodb:\/\/127\.0\.0\.1:9\/mirror: no server answered within 1000 ms \(/);
    expect(error.message).to.not.include("s3cret-password");
    expect(error.message).to.not.include("provena:");
    expect(error.message).to.not.include("authSource");
    expect(error.message).to.not.include("\n");
    expect(elapsed, "ms to fail").to.be.below(8_000);
  });

  it("test_createMongoStore_malformedUri_failsAtOnce_withoutEchoingIt", async function () {
    const error = await failure(() => createMongoStore({ uri: "mongodb://app:pa/ss@db.example/provena" }));
    expect(error).to.be.instanceOf(MongoUriError);
    expect(error.message).to.not.include("pa/ss");
    expect(error.message).to.not.include("app:");
  });

  it("test_createMongoStore_badDatabaseName_isRefused", async function () {
    const error = await failure(() => createMongoStore({ uri: "mongodb://127.0.0.1:9", dbName: "my.db" }));
    expect(error).to.be.instanceOf(MongoStoreConnectionError);
    expect(error.message).to.match(/database name/);
  });
});
