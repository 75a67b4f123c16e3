import { expect } from "chai";
import request from "supertest";
import { buildDesignTree, designFileProofs, designSalt, type DesignLeaf } from "../../../backend/designs/design-tree.ts";
import { createDesignModule } from "../../../backend/designs/design-routes.ts";
import { createDesignService } from "../../../backend/designs/design-service.ts";
import type { Hex } from "../../../backend/domain/model.ts";
import { ChainHistory, labelBytes32 } from "../../../scripts/fixtures/chain-history.ts";
import { createMemoryStore, createTestApp, type TestApp } from "../api/fixtures/test-app.ts";

const GTIN = "09506000134352";

describe("design proof API", function () {
  let t: TestApp;
  let history: ChainHistory;
  let accounts: { acme: Hex; copier: Hex };
  let leaves: DesignLeaf[];
  let root: Hex;

  beforeEach(async function () {
    history = new ChainHistory();
    const acme = history.onboard("acme", "MANUFACTURER");
    const copier = history.onboard("copier", "CARRIER");
    accounts = { acme, copier };
    leaves = ["bottle", "label", "cap"].map((name) => ({ fileHash: labelBytes32(`file:${name}`), owner: acme, salt: designSalt() }));
    root = buildDesignTree(leaves).root as Hex;
    // The copier saw the designer's transaction and got the same root in first.
    history.registerDesign(copier, root, "Mine now");
    history.registerDesign(acme, root, "Bottle 2027", "CC-BY-4.0");
    history.linkDesign(GTIN, acme, root, acme);
    const store = await createMemoryStore();
    t = await createTestApp({ store, modules: [createDesignModule({ service: createDesignService({ store }) })] });
    await history.mirrorInto(t.store);
  });

  afterEach(async function () {
    await t.store.close();
  });

  const verify = (body: unknown) =>
    request(t.app).post("/api/v1/designs/verify").set("Content-Type", "application/json").send(JSON.stringify(body));
  const proofOf = (index: number) => designFileProofs(buildDesignTree(leaves), leaves)[index]!;

  describe("GET /api/v1/designs/{root}", function () {
    it("test_getDesignRegistrations_listsEveryRegistrantInChainOrder_withNames", async function () {
      const response = await request(t.app)
        .get(`/api/v1/designs/${root.toUpperCase().replace("0X", "0x")}`)
        .expect(200);
      expect(response.body.root).to.equal(root);
      expect(response.body.registrations.map((r: { registrant: string }) => r.registrant)).to.deep.equal([accounts.copier, accounts.acme]);
      expect(response.body.registrations[1]).to.include({ registrantName: "Acme Ltd", title: "Bottle 2027", licence: "CC-BY-4.0" });
      expect(response.body.registrations[1].registeredAt).to.match(/^\d{4}-\d{2}-\d{2}T/);
    });

    it("test_getDesignRegistrations_unknownRootIs404_malformedIs400_asProblemJson", async function () {
      const missing = await request(t.app)
        .get(`/api/v1/designs/${labelBytes32("nothing")}`)
        .expect(404);
      expect(missing.headers["content-type"]).to.contain("application/problem+json");
      const malformed = await request(t.app).get("/api/v1/designs/0x1234").expect(400);
      expect(malformed.headers["content-type"]).to.contain("application/problem+json");
    });
  });

  describe("POST /api/v1/designs/verify", function () {
    it("test_verify_ownersSingleFileProof_verifiesAndNamesTheCopierAsAnEarlierWitness", async function () {
      const { leaf, proof } = proofOf(1);
      const response = await verify({ root, registrant: accounts.acme, leaves: [leaf], proof }).expect(200);
      expect(response.body).to.include({ verified: true, reason: null });
      expect(response.body.registration).to.include({ registrant: accounts.acme, registrantName: "Acme Ltd" });
      expect(response.body.files).to.deep.equal([{ fileHash: leaf.fileHash, owner: accounts.acme, ownedByRegistrant: true }]);
      expect(response.body.earlierRegistrationsByOthers.map((r: { registrant: string }) => r.registrant)).to.deep.equal([accounts.copier]);
    });

    it("test_verify_againstTheCopiersRegistration_provesExistenceButNotTheCopiersOwnership", async function () {
      const { leaf, proof } = proofOf(0);
      const response = await verify({ root, registrant: accounts.copier, leaves: [leaf], proof }).expect(200);
      expect(response.body.verified).to.equal(true);
      expect(response.body.files[0]).to.deep.equal({ fileHash: leaf.fileHash, owner: accounts.acme, ownedByRegistrant: false });
    });

    it("test_verify_multiproofOfTwoFiles_verifies", async function () {
      const multiproof = buildDesignTree(leaves).getMultiProof([0, 2]);
      const body = {
        root,
        registrant: accounts.acme,
        leaves: multiproof.leaves.map(([fileHash, owner, salt]) => ({ fileHash, owner, salt })),
        proof: multiproof.proof,
        proofFlags: multiproof.proofFlags,
      };
      const response = await verify(body).expect(200);
      expect(response.body.verified).to.equal(true);
      expect(response.body.files).to.have.length(2);
    });

    it("test_verify_alteredFileOrUnregisteredRegistrant_doesNotVerify_andSaysWhy", async function () {
      const { leaf, proof } = proofOf(2);
      const altered = await verify({
        root,
        registrant: accounts.acme,
        leaves: [{ ...leaf, fileHash: labelBytes32("other") }],
        proof,
      }).expect(200);
      expect(altered.body).to.include({ verified: false, registration: null });
      expect(altered.body.reason).to.contain("does not lead");
      const stranger = await verify({ root, registrant: `0x${"77".repeat(20)}`, leaves: [leaf], proof }).expect(200);
      expect(stranger.body.verified).to.equal(false);
      expect(stranger.body.reason).to.contain("has not registered");
    });

    it("test_verify_malformedProofs_are400_notJsonIs415", async function () {
      const { leaf, proof } = proofOf(0);
      for (const body of [
        { root, registrant: accounts.acme, leaves: [], proof },
        { root, registrant: accounts.acme, leaves: [{ ...leaf, fileHash: "0x12" }], proof },
        { root, registrant: "acme", leaves: [leaf], proof },
        { root, registrant: accounts.acme, leaves: [leaf], proof, file: "the design itself" },
      ]) {
        const response = await verify(body).expect(400);
        expect(response.headers["content-type"]).to.contain("application/problem+json");
      }
      // Flags that do not fit the proof prove nothing, and fail cleanly.
      const misfit = await verify({ root, registrant: accounts.acme, leaves: [leaf], proof, proofFlags: [true, true, true, true] }).expect(
        200,
      );
      expect(misfit.body.verified).to.equal(false);
      await request(t.app).post("/api/v1/designs/verify").set("Content-Type", "text/plain").send("x").expect(415);
    });
  });

  describe("GET /api/v1/gtins/{gtin}/designs", function () {
    it("test_getGtinDesigns_linkedDesignWithItsRegistration_unlinkRemovesIt", async function () {
      const linked = await request(t.app).get(`/api/v1/gtins/${GTIN}/designs`).expect(200);
      expect(linked.body.designs).to.have.length(1);
      expect(linked.body.designs[0]).to.include({ registrant: accounts.acme, root, linkedBy: accounts.acme });
      expect(linked.body.designs[0].registration).to.include({ registrantName: "Acme Ltd", title: "Bottle 2027" });

      history.linkDesign(GTIN, accounts.acme, root, accounts.acme, false);
      await history.mirrorInto(t.store);
      expect((await request(t.app).get(`/api/v1/gtins/${GTIN}/designs`).expect(200)).body.designs).to.deep.equal([]);
    });

    it("test_getGtinDesigns_badCheckDigitIs400", async function () {
      const response = await request(t.app).get("/api/v1/gtins/09506000134353/designs").expect(400);
      expect(response.headers["content-type"]).to.contain("application/problem+json");
    });
  });
});
