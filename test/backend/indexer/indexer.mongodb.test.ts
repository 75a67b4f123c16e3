/**
 * The indexer end to end into MongoDB, wherever MONGODB_URI points at a server (each store gets its own database,
 * dropped at the end). Without MONGODB_URI the suite is skipped with one loud line.
 */
import { randomBytes } from "node:crypto";
import type { MirrorStore } from "../../../backend/store/port.ts";
import { shouldIndexProvena } from "./indexer.behavior.ts";

const uri = process.env.MONGODB_URI;

describe("indexer on MongoDB", function () {
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString("hex")}`;
  const databases: string[] = [];
  let count = 0;

  before(function () {
    if (uri === undefined || uri === "") {
      console.warn(
        "SKIPPED indexer on MongoDB: MONGODB_URI is not set (set it to a replica set to run the indexer end-to-end suite on MongoDB)",
      );
      this.skip();
    }
  });

  after(async function () {
    if (uri === undefined || uri === "" || databases.length === 0) return;
    this.timeout(60_000);
    const mongoose = (await import("mongoose")).default;
    const connection = await mongoose.createConnection(uri, { serverSelectionTimeoutMS: 5_000 }).asPromise();
    try {
      for (const name of databases) await connection.useDb(name, { useCache: false }).dropDatabase();
    } finally {
      await connection.close();
    }
  });

  shouldIndexProvena({
    async create() {
      const dbName = `provena_indexer_${runId}_${++count}`;
      databases.push(dbName);
      // A variable specifier: type-checking and SQLite-only runs never load mongoose.
      const adapterPath = "../../../backend/store/mongo/index.ts";
      const { createMongoStore } = (await import(adapterPath)) as {
        createMongoStore: (options: { uri: string; dbName?: string }) => Promise<MirrorStore>;
      };
      const open = async () => {
        const store = await createMongoStore({ uri: uri!, dbName });
        await store.init();
        return store;
      };
      return { store: await open(), reopen: open };
    },
  });
});
