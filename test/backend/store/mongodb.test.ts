/**
 * The store contract suite on MongoDB: against MONGODB_URI when set (a real server or replica set), else against
 * a single-node replica set from mongodb-memory-server when it finds a mongod binary on this machine
 * (MONGOMS_SYSTEM_BINARY or its cache; it is never allowed to download here). Otherwise the suite is skipped
 * with one loud line saying why. Each store gets a fresh database, all dropped at the end.
 */
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import mongoose from "mongoose";

import { createStore, StoreUnavailableError } from "../../../backend/store/index.ts";
import type { MirrorStore } from "../../../backend/store/port.ts";
import { shouldBehaveLikeMirrorStore } from "./store.behavior.ts";
import { withDatabase } from "../../helpers/mongodb-uri.ts";

interface MongoAdapterModule {
  createMongoStore(options: { uri: string }): MirrorStore | Promise<MirrorStore>;
}

interface MongoTarget {
  uri: string;
  origin: string; // what the suite runs against, for the log line
  stop: () => Promise<void>;
}

const BINARY_LOOKUP_TIMEOUT_MS = 5_000;
const SERVER_START_TIMEOUT_MS = 30_000;

function timeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
    }),
  ]);
}

const firstLine = (error: unknown) => (error instanceof Error ? error.message : String(error)).split("\n")[0]!;

/** A MongoDB to test against, or the reason there is none. MONGODB_URI set but unreachable is an error, not a skip. */
async function findMongo(): Promise<MongoTarget | { skip: string }> {
  const configured = process.env.MONGODB_URI;
  if (configured !== undefined && configured !== "") {
    return { uri: configured, origin: "MONGODB_URI", stop: async () => undefined };
  }
  // Never let mongodb-memory-server try a download: there is no internet here, and it would hang on it.
  process.env.MONGOMS_RUNTIME_DOWNLOAD ??= "false";
  const memoryServer = await import("mongodb-memory-server-core");
  let binary: string;
  try {
    binary = await timeout(memoryServer.MongoBinary.getPath(), BINARY_LOOKUP_TIMEOUT_MS, "looking for a mongod binary");
  } catch (error) {
    return { skip: `no MONGODB_URI and no mongod binary for mongodb-memory-server (${firstLine(error)})` };
  }
  try {
    const replSet = await timeout(
      memoryServer.MongoMemoryReplSet.create({ replSet: { count: 1, storageEngine: "wiredTiger" }, binary: { systemBinary: binary } }),
      SERVER_START_TIMEOUT_MS,
      "starting mongod",
    );
    return { uri: replSet.getUri(), origin: `mongodb-memory-server (${binary})`, stop: () => replSet.stop().then(() => undefined) };
  } catch (error) {
    return { skip: `no MONGODB_URI, and mongod at ${binary} did not start (${firstLine(error)})` };
  }
}

async function loadAdapter(): Promise<MongoAdapterModule | { skip: string }> {
  const adapterPath = "../../../backend/store/mongo/index.ts"; // a variable, so type-checking does not need the file yet
  try {
    const adapter = (await import(adapterPath)) as Partial<MongoAdapterModule>;
    if (typeof adapter.createMongoStore !== "function") return { skip: "backend/store/mongo/index.ts exports no createMongoStore" };
    return adapter as MongoAdapterModule;
  } catch (error) {
    return { skip: `the MongoDB adapter (backend/store/mongo/index.ts) does not load (${firstLine(error)})` };
  }
}

describe("MongoDB store", function () {
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString("hex")}`;
  const databases: string[] = [];
  let adapter: MongoAdapterModule;
  let target: MongoTarget | undefined;

  before(async function () {
    this.timeout(SERVER_START_TIMEOUT_MS + BINARY_LOOKUP_TIMEOUT_MS + 10_000);
    const loaded = await loadAdapter();
    if ("skip" in loaded) {
      console.warn(`SKIPPED MongoDB store suite: ${loaded.skip}`);
      this.skip();
    }
    adapter = loaded as MongoAdapterModule;
    const found = await findMongo();
    if ("skip" in found) {
      console.warn(`SKIPPED MongoDB store suite: ${found.skip}`);
      this.skip();
    }
    target = found as MongoTarget;
    console.log(`      (MongoDB store suite against ${target.origin}, databases provena_test_${runId}_*)`);
  });

  after(async function () {
    this.timeout(60_000);
    if (target === undefined) return;
    if (databases.length > 0) {
      const connection = await mongoose.createConnection(target.uri, { serverSelectionTimeoutMS: 5_000 }).asPromise();
      try {
        for (const name of databases) await connection.useDb(name, { useCache: false }).dropDatabase();
      } finally {
        await connection.close();
      }
    }
    await target.stop();
  });

  describe("contract", function () {
    shouldBehaveLikeMirrorStore(async () => {
      const database = `provena_test_${runId}_${databases.length + 1}`;
      databases.push(database);
      const store = await adapter.createMongoStore({ uri: withDatabase(target!.uri, database) });
      await store.init();
      return store;
    });
  });

  describe("createStore", function () {
    it("test_createStore_withMongoUri_opensMongoReadyToUse", async function () {
      const database = `provena_test_${runId}_factory`;
      databases.push(database);
      const store = await createStore({ mongodbUri: withDatabase(target!.uri, database), sqlitePath: "unused.db" });
      try {
        expect(store.kind).to.equal("mongodb");
        expect(store.describe()).to.match(/mongodb/i);
        expect(store.describe()).to.not.match(/:[^/@]*@/); // no password in the start-up line
        expect(await store.countEvents()).to.equal(0);
      } finally {
        await store.close();
      }
    });
  });
});

describe("createStore with an unreachable MongoDB", function () {
  it("test_createStore_unreachableMongo_failsWithinSecondsWithOneClearLine", async function () {
    this.timeout(45_000);
    const loaded = await loadAdapter();
    if ("skip" in loaded) {
      console.warn(`SKIPPED unreachable-MongoDB check: ${loaded.skip}`);
      this.skip();
    }
    // Port 9 (discard) on loopback: nothing listens there, so every connection attempt is refused.
    const uri = "mongodb://provena:s3cret-password@127.0.0.1:9/provena";
    const started = Date.now();
    let failure: unknown;
    try {
      const store = await createStore({ mongodbUri: uri, sqlitePath: "unused.db" });
      await store.close();
    } catch (error) {
      failure = error;
    }
    const elapsed = Date.now() - started;
    expect(failure).to.be.instanceOf(StoreUnavailableError);
    const message = (failure as Error).message;
    expect(message).to.match(/^Cannot reach MongoDB at mongodb:\/\/(\*\*\*@)?127\.0\.0\.1:9\/provena/);
    expect(message).to.not.include("s3cret-password");
    expect(message.match(/Cannot reach MongoDB/g), "said once").to.have.length(1);
    expect(message).to.not.include("\n");
    expect(elapsed, "time to fail").to.be.below(30_000);
    console.log(`      (unreachable MongoDB reported in ${elapsed} ms: ${message})`);
  });
});
