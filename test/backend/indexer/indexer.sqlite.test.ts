/** The indexer end to end into the embedded SQLite store (a temporary file, so a second connection can reopen it). */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createSqliteStore } from "../../../backend/store/sqlite/index.ts";
import { shouldIndexProvena } from "./indexer.behavior.ts";

describe("indexer on SQLite", function () {
  let dir: string;
  let count = 0;

  before(async function () {
    dir = await mkdtemp(path.join(tmpdir(), "provena-indexer-"));
  });
  after(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  shouldIndexProvena({
    async create() {
      const file = path.join(dir, `mirror-${++count}.db`);
      const open = async () => {
        const store = createSqliteStore({ path: file });
        await store.init();
        return store;
      };
      return { store: await open(), reopen: open };
    },
  });
});
