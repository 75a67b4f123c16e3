/**
 * The passport page by role (issue 14): a shopper, a signed-in partner outside the batch's chain of custody, a
 * suspended one, a partner in it and a regulator each see exactly what they should; the public page stays the same
 * bytes for everyone not entitled to more, and a private rendering is never cached or served to anyone else.
 *
 * Attackers written down and tried here:
 *   - cache poisoning: a private render first then a shopper on the same URL, and the reverse; If-None-Match with
 *     the public ETag (or *) from a partner, gzip variants; a private render must never reach the view cache;
 *   - a partner of a different batch of the same GTIN (who reads the GTIN's partner fields through the API) and a
 *     participant suspended since it held the batch: the public page;
 *   - forged, expired and malformed sessions: the public page, never an error;
 *   - CSRF: the session cookie is SameSite=Strict and HttpOnly, and the sign-in POST takes JSON only (no form post
 *     can make one); the page itself only reads;
 *   - session fixation: a cookie the attacker planted is no session, and signing in issues a new token whatever
 *     the request carried;
 *   - leaks through the page's embedded data (JSON-LD, verification) and its error pages.
 */
import { expect } from "chai";
import request from "supertest";
import { signInMessage } from "../../../backend/passport/assets/sign-in-message.js";
import { digitalLinkPath } from "../../../backend/passport/digital-link.ts";
import {
  AUTHORITY_DOCUMENT,
  AUTHORITY_DOSSIER,
  GTIN,
  PARTNER_DOCUMENT,
  PARTNER_FACILITY,
  PRIVATE_STRINGS,
  PUBLIC_DOCUMENT,
  PUBLIC_NAME,
  createSignInWorld,
  type SignInWorld,
} from "./sign-in-fixture.ts";

const HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
const PARTNERS_TITLE = "Visible to partners in this batch&#39;s chain of custody";
const AUTHORITIES_TITLE = "Visible to authorities";

describe("passport page by role (sign-in)", function () {
  let world: SignInWorld;
  let path: string;

  before(async function () {
    world = await createSignInWorld();
    path = digitalLinkPath(GTIN, world.batch.lot);
  });

  after(async function () {
    await world?.t.store.close();
  });

  const page = (headers: Record<string, string> = {}, url = path) => {
    const req = request(world.t.app).get(url).set("Accept", HTML);
    for (const [name, value] of Object.entries(headers)) req.set(name, value);
    return req;
  };
  const cookie = (address: string, expiresAt?: number) => ({ Cookie: world.cookieFor(address, expiresAt) });
  const expectNoPrivate = (text: string) => {
    for (const secret of PRIVATE_STRINGS) expect(text).to.not.contain(secret);
    expect(text).to.not.contain(PARTNERS_TITLE).and.not.contain(AUTHORITIES_TITLE).and.not.contain('id="signed-in"');
  };
  const embeddedJsonLd = (text: string) => /<script type="application\/ld\+json" id="passport-data">(.*?)<\/script>/s.exec(text)?.[1];

  describe("test_passportPage_shopper", function () {
    it("test_passportPage_noSession_isThePublicPage_withTheSignInButton_cachedWithAnETag", async function () {
      const response = await page().expect(200);
      expect(response.text).to.contain(PUBLIC_NAME).and.contain(PUBLIC_DOCUMENT);
      expect(response.text).to.contain('id="passport-sign-in"').and.contain("Partner or authority? Sign in");
      expect(response.text).to.contain('src="/passport/assets/passport-sign-in.js"');
      expectNoPrivate(response.text);
      expect(response.headers["cache-control"]).to.equal("no-cache");
      expect(response.headers.etag).to.match(/^"[\w-]+"$/);
      expect(response.headers.vary).to.match(/\bCookie\b/);
    });
  });

  describe("when signed in but not entitled to more of this batch", function () {
    it("test_passportPage_partnerOfAnotherBatch_suspendedPartner_unknownAddress_getExactlyThePublicPage", async function () {
      const shopper = await page().expect(200);
      for (const address of [world.outsider.address, world.suspended.address, "0x" + "77".repeat(20)]) {
        const response = await page(cookie(address)).expect(200);
        expect(response.text, address).to.equal(shopper.text);
        expect(response.headers.etag, address).to.equal(shopper.headers.etag);
        expect(response.headers["cache-control"]).to.equal("no-cache");
      }
    });

    it("test_partnerOfAnotherBatch_stillSeesItsOwnBatch_privately", async function () {
      const own = await page(cookie(world.outsider.address), digitalLinkPath(GTIN, world.other.lot)).expect(200);
      expect(own.text).to.contain('id="signed-in"').and.contain("Other Batch Shop");
      expect(own.headers["cache-control"]).to.equal("private, no-store");
    });
  });

  describe("when a partner in the chain of custody is signed in", function () {
    it("test_passportPage_partnerInChain_seesThePartnersSection_labelled_andNothingForAuthorities", async function () {
      const response = await page(cookie(world.partner.address)).expect(200);
      const { text } = response;
      expect(text).to.contain(PUBLIC_NAME).and.contain(PUBLIC_DOCUMENT);
      expect(text).to.contain('id="private-partners"').and.contain(PARTNERS_TITLE);
      expect(text).to.contain(PARTNER_FACILITY).and.contain(PARTNER_DOCUMENT);
      // Values from the store stay text.
      expect(text).to.contain("Rua &lt;b&gt;Secreta&lt;/b&gt; 1, Porto").and.not.contain("<b>Secreta</b>");
      expect(text).to.contain(`/api/v1/batches/${world.batch.batchId}/documents/${world.documents.partner}/content`);
      expect(text).to.not.contain(AUTHORITY_DOSSIER).and.not.contain(AUTHORITY_DOCUMENT).and.not.contain(AUTHORITIES_TITLE);
      expect(text).to.contain("Signed in as Lisbon Grocer").and.contain("RETAILER").and.contain('id="passport-sign-out"');
      expect(text).to.not.contain('id="passport-sign-in"');
      expect(response.headers["cache-control"]).to.equal("private, no-store");
      expect(response.headers.etag).to.equal(undefined);
      expect(response.headers.vary).to.match(/\bCookie\b/);
    });

    it("test_passportPage_partner_embeddedJsonLd_isThePublicOne", async function () {
      const shopper = await page().expect(200);
      const partner = await page(cookie(world.partner.address)).expect(200);
      expect(embeddedJsonLd(partner.text)).to.be.a("string").and.equal(embeddedJsonLd(shopper.text));
      expectNoPrivate(embeddedJsonLd(partner.text)!);
    });

    it("test_partnersDownloadLink_isEnforcedByTheDocumentsApi", async function () {
      const url = `/api/v1/batches/${world.batch.batchId}/documents/${world.documents.partner}/content`;
      const partner = await request(world.t.app).get(url).set(cookie(world.partner.address)).expect(200);
      expect(partner.text).to.contain(PARTNER_DOCUMENT);
      await request(world.t.app).get(url).expect(404);
      await request(world.t.app).get(url).set(cookie(world.outsider.address)).expect(404);
    });

    it("test_unitPassport_partner_seesThePartnersSection", async function () {
      const unit = digitalLinkPath(GTIN, world.batch.lot, "U-1");
      const shopper = await page({}, unit).expect(200);
      expectNoPrivate(shopper.text);
      const partner = await page(cookie(world.partner.address), unit).expect(200);
      expect(partner.text).to.contain(PARTNER_FACILITY).and.contain(PARTNERS_TITLE);
      expect(partner.headers["cache-control"]).to.equal("private, no-store");
    });

    it("test_passportPage_partner_inChinese_labelsTheSection", async function () {
      const response = await page(cookie(world.partner.address), `${path}?lang=zh-CN`).expect(200);
      expect(response.text).to.contain("仅对本批次监管链中的合作伙伴可见").and.contain("已登录为").and.contain(PARTNER_FACILITY);
      const shopper = await page({}, `${path}?lang=zh-CN`).expect(200);
      expect(shopper.text).to.contain("合作伙伴或监管机构？登录");
      expectNoPrivate(shopper.text);
    });
  });

  describe("when the batch's manufacturer is signed in", function () {
    it("test_passportPage_manufacturer_seesEveryLevelOfItsOwnData", async function () {
      const { text } = await page(cookie(world.acme)).expect(200);
      expect(text).to.contain(PARTNER_FACILITY).and.contain(AUTHORITY_DOSSIER).and.contain(AUTHORITY_DOCUMENT);
      expect(text).to.contain("Signed in as Acme Ltd").and.contain("MANUFACTURER");
    });
  });

  describe("when a partner is suspended after signing in", function () {
    it("test_passportPage_partnerSuspended_sameSession_getsThePublicPage_untilReinstated", async function () {
      const session = cookie(world.partner.address);
      expect((await page(session).expect(200)).text).to.contain(PARTNER_FACILITY);
      const shopper = await page().expect(200);
      await world.setSuspended(world.partner.address, true);
      try {
        const suspended = await page(session).expect(200);
        expect(suspended.text).to.equal((await page().expect(200)).text);
        expectNoPrivate(suspended.text);
      } finally {
        await world.setSuspended(world.partner.address, false);
      }
      expect((await page(session).expect(200)).text).to.contain(PARTNER_FACILITY);
      expect(shopper.text).to.not.contain(PARTNER_FACILITY);
    });
  });

  describe("when a regulator is signed in", function () {
    it("test_passportPage_regulator_seesPartnersAndAuthoritiesSections", async function () {
      const { text } = await page(cookie(world.regulator.address)).expect(200);
      expect(text).to.contain('id="private-authorities"').and.contain(AUTHORITIES_TITLE);
      expect(text).to.contain(AUTHORITY_DOSSIER).and.contain(AUTHORITY_DOCUMENT);
      expect(text).to.contain(PARTNERS_TITLE).and.contain(PARTNER_FACILITY).and.contain(PARTNER_DOCUMENT);
      expect(text).to.contain("Signed in as Food Safety Authority").and.contain("REGULATOR");
      expect(text).to.contain(`/api/v1/batches/${world.batch.batchId}/documents/${world.documents.authorities}/content`);
    });
  });

  describe("cache poisoning", function () {
    it("test_privateRenderFirst_thenShopper_getsThePublicPage_andTheCacheHoldsNoPrivateBytes", async function () {
      const url = `${path}?lang=en`;
      const before = world.passport.viewCache.size().entries;
      await page(cookie(world.regulator.address), url).expect(200);
      await page(cookie(world.partner.address), url).set("Accept-Encoding", "gzip").expect(200);
      expect(world.passport.viewCache.size().entries).to.equal(before);
      const shopper = await page({}, url).expect(200);
      expectNoPrivate(shopper.text);
      const gzipped = await page({ "Accept-Encoding": "gzip" }, url).expect(200);
      expect(gzipped.headers["content-encoding"]).to.equal("gzip");
      expectNoPrivate(gzipped.text);
    });

    it("test_shopperFirst_thenPartner_getsItsOwnPage_notTheCachedOne", async function () {
      const shopper = await page({ "Accept-Encoding": "gzip" }).expect(200);
      await page({ "Accept-Encoding": "gzip" }).expect(200); // the fast path's cached answer
      const partner = await page({ ...cookie(world.partner.address), "Accept-Encoding": "gzip" }).expect(200);
      expect(partner.text).to.contain(PARTNER_FACILITY);
      expect(partner.headers.etag).to.equal(undefined);
      expect(shopper.text).to.not.equal(partner.text);
    });

    it("test_ifNoneMatch_publicEtag_fromAPartner_isAFullPrivatePage_notA304", async function () {
      const shopper = await page().expect(200);
      for (const tag of [shopper.headers.etag!, "*", `W/${shopper.headers.etag}`]) {
        const partner = await page({ ...cookie(world.partner.address), "If-None-Match": tag }).expect(200);
        expect(partner.text).to.contain(PARTNER_FACILITY);
      }
      // Someone not entitled has the public bytes: the public ETag still validates for them.
      await page({ ...cookie(world.outsider.address), "If-None-Match": shopper.headers.etag! }).expect(304);
    });

    it("test_jsonLd_withASession_isThePublicJsonLd", async function () {
      const shopper = await request(world.t.app).get(path).set("Accept", "application/ld+json").expect(200);
      const regulator = await request(world.t.app)
        .get(path)
        .set("Accept", "application/ld+json")
        .set(cookie(world.regulator.address))
        .expect(200);
      expect(regulator.text).to.equal(shopper.text);
      expect(regulator.headers.etag).to.equal(shopper.headers.etag);
      expectNoPrivate(regulator.text);
    });
  });

  describe("forged and stale sessions", function () {
    it("test_forgedExpiredMalformedSessions_getThePublicPage_notAnError", async function () {
      const shopper = await page().expect(200);
      const genuine = world.cookieFor(world.partner.address);
      const forged = `${genuine.slice(0, -4)}AAAA`;
      const impostor = genuine.replace(world.partner.address.slice(2).toLowerCase(), world.regulator.address.slice(2).toLowerCase());
      const sessions = [
        { Cookie: forged },
        { Cookie: impostor },
        cookie(world.partner.address, Date.now() - 1_000),
        { Cookie: "provena_session=" },
        { Cookie: "provena_session=attacker-chosen-session-id" },
        { Authorization: "Basic cGFydG5lcjpwYXNzd29yZA==" },
        { Authorization: "Bearer not-a-token" },
      ];
      for (const headers of sessions) {
        const response = await page(headers).expect(200);
        expect(response.text, JSON.stringify(headers)).to.equal(shopper.text);
      }
    });

    it("test_errorPage_withAPartnerSession_showsNothingPrivate", async function () {
      const missing = await page(cookie(world.regulator.address), digitalLinkPath(GTIN, "NO-SUCH-LOT")).expect(404);
      expectNoPrivate(missing.text);
    });
  });

  describe("sign-in: CSRF and session fixation", function () {
    async function signedMessage(wallet: SignInWorld["partner"]) {
      const challenge = (await request(world.t.app).get("/api/v1/auth/challenge").expect(200)).body;
      const message = signInMessage(challenge, wallet.address, new Date().toISOString());
      return { message, signature: await wallet.signMessage(message) };
    }

    it("test_signInPost_refusesWhatACrossSiteFormCanSend", async function () {
      const body = await signedMessage(world.partner);
      for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]) {
        const response = await request(world.t.app).post("/api/v1/auth/sessions").set("Content-Type", type).send(JSON.stringify(body));
        expect(response.status, type).to.be.oneOf([400, 415]);
        expect(response.headers["set-cookie"], type).to.equal(undefined);
      }
    });

    it("test_signIn_plantedCookie_isReplacedByANewSession_SameSiteStrict_HttpOnly", async function () {
      const planted = "provena_session=attacker-chosen-session-id";
      expectNoPrivate((await page({ Cookie: planted }).expect(200)).text);
      const response = await request(world.t.app)
        .post("/api/v1/auth/sessions")
        .set("Cookie", planted)
        .send(await signedMessage(world.partner))
        .expect(201);
      const setCookie = String(response.headers["set-cookie"]);
      expect(setCookie)
        .to.match(/SameSite=Strict/i)
        .and.match(/HttpOnly/i);
      const token = /provena_session=([^;]+)/.exec(setCookie)![1]!;
      expect(token).to.not.equal("attacker-chosen-session-id");
      const after = await page({ Cookie: `provena_session=${token}` }).expect(200);
      expect(after.text).to.contain(PARTNER_FACILITY).and.contain("Signed in as Lisbon Grocer");
    });
  });
});
