/**
 * The passport's compact partner line: the manufacturer and the carrier that held the goods, with the same all-time
 * counts as the reputation API, in HTML (both languages) and JSON-LD; read once per partner and indexed block.
 */
import { expect } from "chai";
import request from "supertest";
import type { Hex } from "../../../backend/domain/model.ts";
import { createPassportModule } from "../../../backend/passport/passport-module.ts";
import { digitalLinkPath } from "../../../backend/passport/digital-link.ts";
import { createReputationService, type ReputationService } from "../../../backend/reputation/reputation-service.ts";
import { createPassportWorld, passportConfig, passportTestApp, silentLogger, type PassportWorld } from "./fixture.ts";

const HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

describe("passport partner reputation", function () {
  let world: PassportWorld;
  let manufacturer: Hex;
  let carrier: Hex;

  before(async function () {
    world = await createPassportWorld();
    manufacturer = world.deployed.manufacturer.address.toLowerCase() as Hex;
    carrier = world.deployed.carrier.address.toLowerCase() as Hex;
  });

  function appWith(reputation: ReputationService) {
    const module = createPassportModule({
      store: world.store,
      config: passportConfig(world),
      chain: world.eip1193 as never,
      logger: silentLogger(),
      reputation,
    });
    return passportTestApp(module);
  }

  const batchPath = () => digitalLinkPath(world.traded.gtin, world.traded.lot);

  it("test_passportJsonLd_manufacturerAndCarrier_carryTheApisAllTimeCounts", async function () {
    const reputation = createReputationService({ store: world.store, chainId: world.deployment.chainId });
    const doc = (await request(appWith(reputation)).get(batchPath()).set("Accept", "application/ld+json").expect(200)).body;
    const partners = doc["provena:partnerReputation"] as Record<string, unknown>[];
    expect(partners.map((partner) => [partner["provena:role"], partner.identifier])).to.deep.equal([
      ["manufacturer", manufacturer],
      ["carrier", carrier],
    ]);
    const made = (await reputation.get(manufacturer)).allTime;
    expect(partners[0]!["provena:recalls"]).to.deep.equal({
      lots: made.recalls.lots,
      recalled: made.recalls.recalled,
      ...made.recalls.score,
    });
    expect(made.recalls.lots).to.be.greaterThan(0);
    const carried = (await reputation.get(carrier)).allTime;
    expect(partners[1]!["provena:handoffs"]).to.deep.include({
      accepted: carried.handoffsSent.accepted,
      sampleSize: carried.handoffsSent.score.sampleSize,
    });
    expect(carried.handoffsSent.accepted).to.be.greaterThan(0);
    expect(partners[0]!["provena:method"]).to.equal("provena-reputation/1");
  });

  it("test_passportHtml_showsOneLinePerPartner_inEnglishAndChinese", async function () {
    const app = appWith(createReputationService({ store: world.store, chainId: world.deployment.chainId }));
    const english = (await request(app).get(batchPath()).set("Accept", HTML).expect(200)).text;
    expect(english).to.include("Partners&#39; track record");
    expect(english).to.match(/<li data-role="manufacturer">[^<]*Acme[^]*?deliveries on time, \d+ of \d+ lots recalled/);
    expect(english).to.match(/<li data-role="carrier">[^]*?, carrier: \d+ of \d+ deliveries on time, \d+ of \d+ handoffs refused/);
    const chinese = (await request(app).get(batchPath()).set("Accept", HTML).set("Accept-Language", "zh-CN").expect(200)).text;
    expect(chinese).to.include("合作方履约记录");
    expect(chinese).to.match(/（承运方）：\d+ 次交付中 \d+ 次准时/);
  });

  it("test_passport_trackRecordsReadOncePerPartnerPerBlock", async function () {
    const inner = createReputationService({ store: world.store, chainId: world.deployment.chainId });
    const asked: Hex[] = [];
    const counting: ReputationService = {
      get: (address) => inner.get(address),
      getMany: (addresses) => inner.getMany(addresses),
      getTrackRecords: (addresses) => {
        asked.push(...addresses);
        return inner.getTrackRecords(addresses);
      },
    };
    const app = appWith(counting);
    for (let i = 0; i < 5; i++) await request(app).get(batchPath()).set("Accept", "application/ld+json").expect(200);
    // Rendered once: the view cache answers the rest until the mirror moves.
    expect(asked).to.deep.equal([manufacturer, carrier]);
  });
});
