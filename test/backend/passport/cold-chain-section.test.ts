/**
 * The passport's cold-chain section over a mirrored history: a refrigerated leg whose readings left the band and whose
 * breach the chain established reads as a breach on the carrier's leg (HTML in both languages, with the chart), and
 * as `provena:coldChain` in the JSON-LD; a batch without monitoring shows no section.
 */
import { expect } from "chai";
import request from "supertest";
import type { StoredReading } from "../../../backend/domain/cold-chain.ts";
import { NO_HUMIDITY, NO_POSITION } from "../../../backend/domain/cold-chain.ts";
import type { Hex } from "../../../backend/domain/model.ts";
import { digitalLinkPath } from "../../../backend/passport/digital-link.ts";
import { createPassportModule } from "../../../backend/passport/passport-module.ts";
import type { MirrorStore } from "../../../backend/store/port.ts";
import { CHAIN_ID, ChainHistory } from "../../../scripts/fixtures/chain-history.ts";
import { createMemoryStore } from "../api/fixtures/test-app.ts";
import { FRIDGE, createColdChainEventFactory, legIdOf } from "../coldchain/cold-chain-events.ts";
import { commitColdChainBlock } from "../coldchain/cold-chain-scenario.ts";
import { timestampOf } from "../projections/event-factory.ts";
import { passportTestApp, silentLogger } from "./fixture.ts";

const GTIN = "09506000134352";
const HTML = "text/html,application/xhtml+xml";
const DEVICE: Hex = "0x2000000000000000000000000000000000000001";
const COLD_CHAIN: Hex = "0x3000000000000000000000000000000000000003";

describe("passport cold-chain section", function () {
  let store: MirrorStore;
  let app: ReturnType<typeof passportTestApp>;
  let carrier: Hex;
  let attachedAt: number;

  before(async function () {
    store = await createMemoryStore();
    const history = new ChainHistory();
    const acme = history.onboard("acme", "MANUFACTURER");
    carrier = history.onboard("swift", "CARRIER");
    const batchId = history.registerBatch({ manufacturer: acme, gtin: GTIN, lot: "COLD-1", quantity: 10 });
    history.handOver(batchId, acme, carrier);
    history.registerBatch({ manufacturer: acme, gtin: GTIN, lot: "WARM-1", quantity: 10 });
    await history.mirrorInto(store);

    const factory = createColdChainEventFactory(history.headBlock + 1);
    const leg = legIdOf(DEVICE, batchId);
    attachedAt = timestampOf(factory.blockNumber + 1);
    await commitColdChainBlock(store, [
      factory.event("DeviceRegistered", [DEVICE, carrier]),
      factory.event("BatchConditionsSet", [batchId, acme, FRIDGE]),
    ]);
    factory.nextBlock();
    await commitColdChainBlock(store, [
      factory.event("ConditionsFrozenFor", [batchId, FRIDGE]),
      factory.event("DeviceAttached", [leg, DEVICE, batchId, carrier, attachedAt]),
    ]);
    factory.nextBlock();
    await commitColdChainBlock(store, [
      factory.event("ReadingsAnchored", [leg, `0x${"ab".repeat(32)}`, carrier, 30, 1n, 30n, attachedAt, attachedAt + 29 * 120]),
      factory.event("ExcursionRecorded", [leg, 11n, 30n, attachedAt + 10 * 120, attachedAt + 29 * 120, 2_280]),
      factory.event("BreachEstablished", [batchId, leg, carrier, attachedAt + 29 * 120, 2_280]),
    ]);
    // 30 readings two minutes apart: 5 °C, then from the 11th on 12 °C (the excursion the chain established).
    const readings: StoredReading[] = Array.from({ length: 30 }, (_, index) => ({
      device: DEVICE,
      batchId,
      sequence: index + 1,
      timestamp: attachedAt + index * 120,
      temperature: index >= 10 ? 1_200 : 500,
      humidity: NO_HUMIDITY,
      latitude: index === 29 ? 31_230_000 : NO_POSITION,
      longitude: index === 29 ? 121_470_000 : NO_POSITION,
      signature: `0x${"11".repeat(65)}`,
      legId: leg,
      receivedAt: 1,
    }));
    await store.storeReadings(readings, []);

    const module = createPassportModule({
      store,
      config: {
        publicBaseUrl: "https://id.provena.test",
        publicRpcUrl: "https://id.provena.test/rpc",
        chainId: CHAIN_ID,
        registryAddress: `0x${"a1".repeat(20)}`,
        coldChainAddress: COLD_CHAIN,
      },
      chain: { send: async () => null },
      logger: silentLogger(),
    });
    app = passportTestApp(module);
  });

  after(async function () {
    await store.close();
  });

  it("test_passportHtml_breachedLeg_toldInPlainWordsWithTheChart", async function () {
    const page = (await request(app).get(digitalLinkPath(GTIN, "COLD-1")).set("Accept", HTML).expect(200)).text;
    expect(page).to.contain('<h2 id="cold-chain-title">Cold chain</h2>');
    expect(page).to.match(/Conditions breached: outside 2–8 °C for 38 minutes on the leg of Swift Ltd/);
    expect(page).to.contain("Last position: 31.2300, 121.4700.");
    expect(page).to.contain('class="cold-chain-chart"').and.contain('class="breach"').and.contain("<polyline");
    expect(page).to.contain("30 of them committed on chain");
    // What the browser checks the readings against: the leg and the cold-chain contract, and where it says the result.
    const leg = legIdOf(DEVICE, (await store.listColdChainLegs({}))[0]!.batchId);
    expect(page).to.contain(`data-cold-chain="${COLD_CHAIN}" data-legs="${leg}"`).and.contain('id="cold-chain-check"');
    const chinese = (
      await request(app).get(digitalLinkPath(GTIN, "COLD-1")).set("Accept", HTML).set("Accept-Language", "zh-CN").expect(200)
    ).text;
    expect(chinese).to.contain("冷链").and.contain("温控条件被违反");
  });

  it("test_passportJsonLd_coldChain_outcomeBandAndBreach", async function () {
    const doc = (await request(app).get(digitalLinkPath(GTIN, "COLD-1")).set("Accept", "application/ld+json").expect(200)).body;
    expect(doc["provena:coldChain"]).to.deep.include({
      "provena:outcome": "breached",
      "provena:minTemperatureCelsius": 2,
      "provena:maxTemperatureCelsius": 8,
      "provena:readings": 30,
      "provena:anchoredReadings": 30,
    });
    expect(doc["provena:coldChain"]["provena:breaches"]).to.deep.equal([
      {
        "provena:carrier": carrier,
        "provena:establishedAt": new Date((attachedAt + 29 * 120) * 1000).toISOString(),
        "provena:minutes": 38,
      },
    ]);
  });

  it("test_passport_unmonitoredBatch_hasNoColdChainSection", async function () {
    const page = (await request(app).get(digitalLinkPath(GTIN, "WARM-1")).set("Accept", HTML).expect(200)).text;
    expect(page).to.not.contain("cold-chain-title");
    const doc = (await request(app).get(digitalLinkPath(GTIN, "WARM-1")).set("Accept", "application/ld+json").expect(200)).body;
    expect(doc).to.not.have.property("provena:coldChain");
  });
});
