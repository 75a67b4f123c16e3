/**
 * `npm start` on the embedded chain: the relayer's key is made after the deployment, and the start grants it the
 * cold chain's ANCHORER_ROLE so the anchorer runs.
 */
import { expect } from "chai";
import { pino } from "pino";
import { ANCHORER_ROLE } from "../../backend/coldchain/anchor-start.ts";
import { coldChainAt } from "../../backend/chain/contracts.ts";
import { loadConfig } from "../../backend/config.ts";
import { startProvena, type RunningProvena } from "../../backend/main.ts";

describe("the anchorer at start", function () {
  this.timeout(120_000);
  let provena: RunningProvena | undefined;

  after(async function () {
    await provena?.stop();
  });

  it("test_startProvena_embeddedChain_grantsTheRelayerTheAnchorerRole", async function () {
    const config = { ...loadConfig({ LOG_LEVEL: "silent", SQLITE_PATH: ":memory:", EMBEDDED_CHAIN: "hardhat", MQTT_PORT: "0" }), port: 0 };
    provena = await startProvena(config, { logger: pino({ level: "silent" }) });
    const coldChain = coldChainAt(provena.chain.deployment.coldChain!, provena.chain.provider);
    expect(provena.relayer).to.not.equal(null);
    expect(await coldChain.hasRole(ANCHORER_ROLE, provena.relayer!.address)).to.equal(true);
  });
});
