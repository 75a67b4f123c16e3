/**
 * The recall desk pages over HTTP, on a mirrored recall: anonymous callers get the sign-in page and nothing of the
 * desk, other roles a 403 page, regulators the recalls and each recall's lots, holders and acknowledgements, in
 * English or Chinese, with every name escaped and the passport's security headers.
 */
import { expect } from "chai";
import { SiweMessage } from "siwe";
import request from "supertest";
import { DESK_CONTENT_SECURITY_POLICY, renderRecallPage } from "../../../backend/desk/desk-html.ts";
import { createDeskViews } from "../../../backend/desk/desk-view.ts";
import { DESK_MESSAGE_TABLES, deskLocaleOf } from "../../../backend/desk/desk-messages.ts";
import { placeholdersOf } from "../../../backend/passport/messages/index.ts";
import { signInMessage } from "../../../backend/passport/assets/sign-in-message.js";
import { digitalLinkPath } from "../../../backend/passport/digital-link.ts";
import { createDeskWorld, GTIN, XSS_LABEL, type DeskWorld } from "./desk-fixture.ts";

describe("recall desk pages", function () {
  let world: DeskWorld;

  beforeEach(async function () {
    world = await createDeskWorld();
  });

  afterEach(async function () {
    await world.t.store.close();
  });

  const page = (path: string, cookie?: string, language?: string) => {
    const req = request(world.t.app).get(path).set("Accept", "text/html");
    if (cookie) req.set("Cookie", cookie);
    if (language) req.set("Accept-Language", language);
    return req;
  };
  const asRegulator = () => world.cookieFor(world.accounts.regulator);
  /** Nothing of the desk's data: no lot, no batch id, no holder. */
  const expectNoDeskData = (html: string) => {
    for (const secret of ["R-1", "L-2", world.ids.root, world.ids.later, world.shop.address.toLowerCase(), "Swift Ltd", "alert(1)"])
      expect(html).to.not.contain(secret);
  };

  it("test_deskPages_anonymous_getTheSignInPage_withoutData", async function () {
    for (const path of ["/desk/recalls", `/desk/recalls/${world.ids.root}`]) {
      const answer = await page(path)
        .expect(401)
        .expect("Content-Type", /text\/html/);
      expect(answer.text).to.contain('id="desk-sign-in"').and.contain('src="/desk/assets/desk-sign-in.js"');
      expect(answer.text).to.contain("npx provena recalls");
      expectNoDeskData(answer.text);
    }
  });

  it("test_deskPages_forgedOrExpiredCookie_isTheSignInPage", async function () {
    const answer = await page("/desk/recalls", "provena_session=v1.forged.token").expect(401);
    expectNoDeskData(answer.text);
  });

  it("test_deskPages_nonRegulatorSession_gets403Page_withoutData", async function () {
    for (const account of [world.accounts.acme, world.accounts.swift, world.shop.address]) {
      for (const path of ["/desk/recalls", `/desk/recalls/${world.ids.root}`]) {
        const answer = await page(path, world.cookieFor(account))
          .expect(403)
          .expect("Content-Type", /text\/html/);
        expect(answer.text).to.contain("The recall desk is for regulators");
        expect(answer.text).to.contain(account.toLowerCase());
        expectNoDeskData(answer.text.replace(world.shop.address.toLowerCase(), "[the viewer]"));
      }
    }
  });

  it("test_deskPages_everyAnswer_carriesTheSecurityHeaders", async function () {
    for (const [cookie, status] of [
      [undefined, 401],
      [world.cookieFor(world.accounts.acme), 403],
      [asRegulator(), 200],
    ] as const) {
      const answer = await page("/desk/recalls", cookie).expect(status);
      expect(answer.headers["content-security-policy"]).to.equal(DESK_CONTENT_SECURITY_POLICY);
      expect(answer.headers["x-content-type-options"]).to.equal("nosniff");
      expect(answer.headers["cache-control"]).to.equal("no-store");
      expect(answer.headers.vary).to.match(/Cookie/);
    }
    expect(DESK_CONTENT_SECURITY_POLICY).to.contain("script-src 'self'").and.contain("frame-ancestors 'none'");
  });

  it("test_recallList_regulator_seesRecallsNewestFirst_withCounts", async function () {
    const html = (await page("/desk/recalls", asRegulator()).expect(200)).text;
    expect(html).to.contain('<html lang="en">');
    const rows = [...html.matchAll(/<tr data-batch-id="(0x[0-9a-f]{64})">([\s\S]*?)<\/tr>/g)];
    expect(rows.map((row) => row[1])).to.deep.equal([world.ids.later, world.ids.root]);
    const rootRow = rows[1]![2];
    expect(rootRow).to.contain(`href="/desk/recalls/${world.ids.root}"`).and.contain(`GTIN ${GTIN} · lot <bdi>R-1</bdi>`);
    expect(rootRow).to.match(/class="lots">4</);
    expect(rootRow).to.contain("1 of 3");
    expect(rows[0]![2]).to.contain("0 of 1");
    expect(html).to.match(/id="signed-in-as">Signed in as <bdi>Regulator Ltd<\/bdi>/);
  });

  it("test_recallPage_regulator_seesEveryAffectedLot_holderPlaceAndAcknowledgement", async function () {
    const html = (await page(`/desk/recalls/${world.ids.root}`, asRegulator()).expect(200)).text;
    const rows = Object.fromEntries(
      [...html.matchAll(/<tr data-batch-id="(0x[0-9a-f]{64})" data-acknowledged="(yes|no)">([\s\S]*?)<\/tr>/g)].map((m) => [
        m[1],
        { acknowledged: m[2], html: m[3]! },
      ]),
    );
    const { root, childA, childB, grandchild } = world.ids;
    expect(Object.keys(rows)).to.have.members([root, childA, childB, grandchild]);
    expect(rows[grandchild]).to.include({ acknowledged: "yes" });
    expect(rows[grandchild]!.html).to.contain(world.shop.address.toLowerCase()).and.contain("Yes, <time");
    expect(rows[grandchild]!.html).to.contain("Generation 2");
    expect(rows[childB]).to.include({ acknowledged: "no" });
    expect(rows[root]).to.include({ acknowledged: "no" });
    expect(rows[root]!.html).to.contain("The recalled lot").and.contain(world.warehouse.address.toLowerCase());
    // Its place: the GLN of its last accepted handoff.
    expect(rows[childA]!.html).to.match(/GLN \d{13}/);
    expect(rows[grandchild]!.html).to.contain(`href="/api/v1/batches/${grandchild}/trace"`);
    expect(rows[grandchild]!.html).to.contain(`href="${digitalLinkPath(GTIN, "R-1/A/1")}"`);
    expect(html).to.contain(`href="/api/v1/epcis/recalls/${root}" download=`);
    expect(html).to.contain("4 affected lots, 3 holders, 1 acknowledged.");
    expect(html).to.contain("Regulator Ltd");
  });

  it("test_recallPage_participantNameWithMarkup_isEscaped", async function () {
    const html = (await page(`/desk/recalls/${world.ids.root}`, asRegulator()).expect(200)).text;
    expect(html).to.not.contain("<img src=x");
    expect(html).to.contain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&#39;&amp; Ltd");
    expect(XSS_LABEL).to.contain("<img");
  });

  it("test_deskPages_chinese_byAcceptLanguage_andBySwitch", async function () {
    const byHeader = await page(`/desk/recalls/${world.ids.root}`, asRegulator(), "zh-CN,zh;q=0.9,en;q=0.5").expect(200);
    expect(byHeader.text).to.contain('<html lang="zh-CN">').and.contain("批次 <bdi>R-1</bdi> 的召回");
    expect(byHeader.text).to.contain("受影响批次 4 个，持有方 3 个，已确认 1 个。");
    expect(byHeader.headers["content-language"]).to.equal("zh-CN");
    // Dates per locale: Chinese dates read "2026年…月…日".
    expect(byHeader.text).to.match(/<time datetime="[^"]+">\d{4}年\d{1,2}月\d{1,2}日/);
    const bySwitch = await page("/desk/recalls?lang=zh-CN", asRegulator()).expect(200);
    expect(bySwitch.text).to.contain("进行中的召回");
    expect(bySwitch.headers["set-cookie"]?.[0]).to.match(/^provena_lang=zh-CN/);
    const signIn = await page("/desk/recalls", undefined, "zh").expect(401);
    expect(signIn.text).to.contain("使用钱包登录");
  });

  it("test_recallPage_notARecall_or_malformedId_isAnHtmlErrorPage_forRegulatorsOnly", async function () {
    const notRecalled = await page(`/desk/recalls/${world.ids.childA}`, asRegulator())
      .expect(404)
      .expect("Content-Type", /text\/html/);
    expect(notRecalled.headers["content-security-policy"]).to.equal(DESK_CONTENT_SECURITY_POLICY);
    await page("/desk/recalls/0x1234", asRegulator())
      .expect(400)
      .expect("Content-Type", /text\/html/);
    // Before the session is checked nothing is said about the batch.
    expectNoDeskData((await page(`/desk/recalls/${world.ids.childA}`).expect(401)).text);
    await page("/desk/recalls?page=9", asRegulator()).expect(404);
    await page("/desk/recalls?sort=x", asRegulator()).expect(400);
  });

  it("test_signInMessage_isTheTextSiweBuilds", function () {
    const challenge = {
      domain: "desk.example:8443",
      uri: "https://desk.example:8443",
      chainId: 31337,
      statement: "Sign in.",
      nonce: "n0nce1234567",
    };
    const address = world.regulatorWallet.address;
    const issuedAt = "2026-12-03T14:00:00.000Z";
    const siwe = new SiweMessage({ ...challenge, address, version: "1", issuedAt }).prepareMessage();
    expect(signInMessage(challenge, address, issuedAt)).to.equal(siwe);
  });

  it("test_signInMessage_signedByTheRegulator_opensTheDesk", async function () {
    const challenge = (await request(world.t.app).get("/api/v1/auth/challenge").expect(200)).body;
    const message = signInMessage(challenge, world.regulatorWallet.address, new Date().toISOString());
    const signedIn = await request(world.t.app)
      .post("/api/v1/auth/sessions")
      .send({ message, signature: await world.regulatorWallet.signMessage(message) })
      .expect(201);
    const cookie = (signedIn.headers["set-cookie"] as unknown as string[])[0]!.split(";")[0]!;
    const html = (await page("/desk/recalls", cookie).expect(200)).text;
    expect(html).to.contain("Food Safety Authority");
  });

  it("test_deskAssets_serveTheSignInScripts", async function () {
    const script = await request(world.t.app)
      .get("/desk/assets/desk-sign-in.js")
      .expect(200)
      .expect("Content-Type", /javascript/);
    expect(script.text).to.contain('from "/passport/assets/wallet-sign-in.js"');
    // The flow is the passport's, shared with its page, not a copy.
    await request(world.t.app).get("/desk/assets/sign-in-message.js").expect(400);
    await request(world.t.app).get("/passport/assets/sign-in-message.js").expect(200);
    expect((await request(world.t.app).get("/passport/assets/wallet-sign-in.js").expect(200)).text).to.contain("eth_requestAccounts");
    await request(world.t.app).get("/desk/assets/..%2Fdesk-module.ts").expect(400);
  });

  it("test_recallPages_productAndPlaceNames_fromProductData_inThePageLanguage", async function () {
    await world.t.store.close();
    const asked: string[] = [];
    world = await createDeskWorld({
      productData: {
        batchPassportData: async (viewer, batch) => {
          asked.push(`${viewer.signedIn ? viewer.address : "anonymous"} ${batch.batchId}`);
          return {
            name: { en: "Olive oil <1L>", zh: "橄榄油" },
            places: [{ gln: "4012345000023", name: { en: "Valencia depot", zh: "瓦伦西亚仓库" }, country: "ES", lat: 0, lon: 0 }],
          };
        },
      },
    });
    const list = (await page("/desk/recalls", asRegulator()).expect(200)).text;
    expect(list).to.contain("<bdi>Olive oil &lt;1L&gt;</bdi>");
    const english = (await page(`/desk/recalls/${world.ids.root}`, asRegulator()).expect(200)).text;
    expect(english).to.contain('<bdi>Valencia depot</bdi> <span class="mono">GLN 4012345000023</span>');
    const chinese = (await page(`/desk/recalls/${world.ids.root}`, asRegulator(), "zh-CN").expect(200)).text;
    expect(chinese).to.contain("<bdi>橄榄油</bdi>").and.contain("<bdi>瓦伦西亚仓库</bdi>");
    // Read as the regulator who asked.
    expect(asked).to.not.be.empty;
    expect(asked.every((entry) => entry.startsWith(world.accounts.regulator))).to.equal(true);
  });

  it("test_deskMessageTables_samePlaceholdersAsEnglish_andNoMarkup", function () {
    const english = DESK_MESSAGE_TABLES.en;
    for (const [tag, table] of Object.entries(DESK_MESSAGE_TABLES)) {
      for (const key of Object.keys(english) as (keyof typeof english)[]) {
        expect(placeholdersOf(table[key]), `${tag} ${key}`).to.deep.equal(placeholdersOf(english[key]));
        expect(table[key], `${tag} ${key}`).to.not.match(/[<>]/);
      }
    }
  });

  it("test_recallPage_lotsTheServiceReachesOtherwise_areShownWithWhatItSays_escaped", async function () {
    const regulator = {
      signedIn: true as const,
      address: world.accounts.regulator,
      roles: ["REGULATOR"],
      participant: null,
      sessionExpiresAt: Date.now() + 60_000,
      readGrantsFrom: [],
    };
    // A service that also reaches lots through containers or merges says how, in fields this page does not know.
    const views = createDeskViews({
      desk: {
        ...world.desk,
        get: async (batchId, viewer) => {
          const detail = await world.desk.get(batchId, viewer);
          const [first, ...rest] = detail.affectedLots;
          return {
            ...detail,
            affectedLots: [first!, ...rest.map((lot) => ({ ...lot, reachedVia: "container", container: "<b>SSCC</b>" }))],
          };
        },
      },
      store: world.t.store,
    });
    const html = renderRecallPage(await views.recall(world.ids.root, regulator), {
      locale: deskLocaleOf("en"),
      languages: undefined,
      viewer: { address: world.accounts.regulator, name: null },
    });
    expect(html).to.contain('<span class="mono">reachedVia: container</span>');
    expect(html).to.contain("container: &lt;b&gt;SSCC&lt;/b&gt;").and.not.contain("<b>SSCC");
  });
});
