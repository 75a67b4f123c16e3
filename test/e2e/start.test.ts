/**
 * The composed backend as `npm start` builds it (backend/main.ts): limits that only exist once the pieces are
 * wired together with the configuration.
 */
import { expect } from "chai";
import { pino } from "pino";
import { loadConfig } from "../../backend/config.ts";
import { startProvena, type RunningProvena } from "../../backend/main.ts";

async function postRelay(provena: RunningProvena, bytes: number): Promise<number> {
  const body = JSON.stringify({ data: `0x${"ab".repeat(Math.max(0, Math.floor((bytes - 20) / 2)))}` });
  const response = await fetch(`${provena.url}/api/v1/relay/requests`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
  await response.arrayBuffer();
  return response.status;
}

describe("npm start's backend", function () {
  this.timeout(120_000);

  async function withProvena(env: Record<string, string>, run: (provena: RunningProvena) => Promise<void>): Promise<void> {
    const config = {
      ...loadConfig({ LOG_LEVEL: "silent", SQLITE_PATH: ":memory:", EMBEDDED_CHAIN: "hardhat", MQTT_PORT: "0", ...env }),
      port: 0,
    };
    const provena = await startProvena(config, { logger: pino({ level: "silent" }) });
    try {
      await run(provena);
    } finally {
      await provena.stop();
    }
  }

  it("test_start_relayBodyLimit_isTheRelaysOwnNotTheUploadSizedBodyLimit", async function () {
    // BODY_LIMIT defaults to 100kb (uploads have their own UPLOAD_BODY_LIMIT, 8mb); the relay's own RELAY_BODY_LIMIT
    // (64kb by default) refuses a 100 kB "forward request" unread.
    await withProvena({}, async (provena) => {
      expect(await postRelay(provena, 100 * 1024)).to.equal(413);
      expect(await postRelay(provena, 1024)).to.equal(400); // small enough to be read, then refused as malformed
    });
  });

  it("test_start_relayBodyLimit_followsASmallerBodyLimit", async function () {
    await withProvena({ BODY_LIMIT: "2kb" }, async (provena) => {
      expect(await postRelay(provena, 4 * 1024)).to.equal(413);
      expect(await postRelay(provena, 1024)).to.equal(400);
    });
  });
});
