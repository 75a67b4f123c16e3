import { execFile } from "node:child_process";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import * as ethers from "ethers";
import { keccak256, toUtf8Bytes } from "ethers";
import { digitalLinkPath } from "../../../backend/passport/digital-link.ts";
import { sayInEnglish, verifyPassportUrl } from "../../../backend/passport/verify-url.ts";
import { claimsFromJsonLd, createJsonRpc, digitalLinkOfPath, verifyPassport } from "../../../backend/passport/assets/verify-core.js";
import { loadArtifact } from "../../../backend/chain/artifacts.ts";
import { ENUM_VALUE_NAMES } from "../../../backend/chain/vocabulary.ts";
import type { Batch, Participant } from "../../../backend/domain/model.ts";
import { PROJECT_ROOT } from "../../../backend/chain/artifacts.ts";
import { createModule, createPassportWorld, lineageFamily, passportTestApp, tamperBatch, type PassportWorld } from "./fixture.ts";
import { DEMO_PORT_GLN } from "../../../scripts/fixtures/provena-deployment.ts";
import { createBatchService } from "../../../backend/api/services/batches.ts";
import { createSerialService } from "../../../backend/passport/serials.ts";
import { registerBatch } from "../../helpers/batches.ts";

const run = promisify(execFile);

describe("passport verification against the chain", function () {
  let world: PassportWorld;
  let server: Server;
  let base: string;

  before(async function () {
    world = await createPassportWorld();
    // The module needs its public URLs before the server exists; a late-bound app answers with the real port.
    let app: ReturnType<typeof passportTestApp> | null = null;
    const { createServer } = await import("node:http");
    server = createServer((req, res) => app!(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // No rendered-passport cache: these tests rewrite the mirror behind the indexer's back (a compromised server),
    // without the new checkpoint a real commit brings, and the page must show each rewrite at once.
    app = passportTestApp(createModule(world, { publicBaseUrl: base, publicRpcUrl: `${base}/rpc`, viewCacheMb: 0 }), { jsonBodies: true });
  });

  after(async function () {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const unitUrl = (serial: string) => `${base}${digitalLinkPath(world.traded.gtin, world.traded.lot, serial)}`;

  it("test_verifyPassport_unitPassport_verifiesHistoryStateSerialAndParticipants", async function () {
    const result = await verifyPassportUrl({ url: unitUrl("A/0003") });
    expect(result.mismatches).to.deep.equal([]);
    expect(result.ok).to.equal(true);
    expect(result.blockNumber).to.equal((await world.store.getCheckpoint(world.deployment.chainId))!.blockNumber);
    expect(result.checked.join("\n")).to.include('serial "A/0003" is in the batch\'s on-chain serial root');
    expect(result.checked.join("\n")).to.include("6 history entries");
    expect(result.rpcUrl).to.equal(`${base}/rpc`);
  });

  it("test_verifyPassport_recalledChildBatch_verifiesThroughLineage", async function () {
    const child = await verifyPassportUrl({ url: `${base}${digitalLinkPath(world.traded.gtin, world.children[1]!.lot, "C2-2")}` });
    expect(child.mismatches).to.deep.equal([]);
    expect(child.checked.join("\n")).to.include("lineage through 1 parent batch");
    expect(child.checked.join("\n")).to.include("3 history entries of earlier lots before their splits");
    const parent = await verifyPassportUrl({ url: `${base}${digitalLinkPath(world.traded.gtin, world.parent.lot)}` });
    expect(parent.mismatches).to.deep.equal([]);
  });

  it("test_verifyPassport_wrongCustodyDetail_reportsExactlyIt", async function () {
    await tamperBatch(
      world,
      world.traded.batchId,
      (batch) => {
        batch.custody[1]!.locationGln = "4000000000003";
        return batch;
      },
      async () => {
        const result = await verifyPassportUrl({ url: unitUrl("A-0001") });
        expect(result.ok).to.equal(false);
        expect(result.mismatches).to.have.length(1);
        expect(result.mismatches[0]).to.match(
          /History entry 3: "Custody accepted" at block \d+: location GLN is shown as "4000000000003", but the chain says "\d{13}"/,
        );
      },
    );
  });

  it("test_verifyPassport_forgedOrHiddenParentEvent_reported", async function () {
    const childUnit = `${base}${digitalLinkPath(world.traded.gtin, world.children[0]!.lot, "C1-1")}`;
    const ancestor = new RegExp(
      `^Ancestor batch 1 \\(lot "PP-SPLIT", ${world.parent.batchId.slice(0, 8)}…${world.parent.batchId.slice(-4)}\\)`,
    );
    await tamperBatch(
      world,
      world.parent.batchId,
      (batch) => {
        batch.custody[1]!.locationGln = "4000000000003";
        return batch;
      },
      async () => {
        const result = await verifyPassportUrl({ url: childUnit });
        expect(result.ok).to.equal(false);
        expect(result.mismatches).to.have.length(1);
        expect(result.mismatches[0]).to.match(ancestor);
        expect(result.mismatches[0]).to.match(
          /, history entry 2: "Custody accepted" at block \d+: location GLN is shown as "4000000000003", but the chain says "\d{13}"$/,
        );
      },
    );
    await tamperBatch(
      world,
      world.parent.batchId,
      (batch) => ({ ...batch, inspections: [], inspection: "none" }),
      async () => {
        const result = await verifyPassportUrl({ url: childUnit });
        expect(result.ok).to.equal(false);
        expect(result.mismatches).to.have.length(1);
        expect(result.mismatches[0]).to.match(ancestor);
        expect(result.mismatches[0]).to.match(
          /: the chain has an event of this earlier lot that the page does not show: QualityAttested\(inspector=0x[0-9a-f]{40}, passed=true, reportHash=0x[0-9a-f]{64}\) at block \d+/,
        );
      },
    );
  });

  it("test_verifyPassport_twoLevelLineage_verifiesAndNamesForgedGrandparent", async function () {
    const family = await lineageFamily(world);
    const childUnit = `${base}${digitalLinkPath(world.traded.gtin, family.child.lot, "G2-2")}`;
    const result = await verifyPassportUrl({ url: childUnit });
    expect(result.mismatches).to.deep.equal([]);
    expect(result.ok).to.equal(true);
    expect(result.claims.lineage.map((a) => [a.lot, a.batchId, a.history.length])).to.deep.equal([
      ["PP-GEN-0/1", family.parent.batchId, 3],
      ["PP-GEN-0", family.grandparent.batchId, 3],
    ]);
    expect(result.checked).to.include.members([
      "lineage through 2 parent batches",
      "6 history entries of earlier lots before their splits",
    ]);
    expect(result.checked.join("\n")).to.include('serial "G2-2" is in the batch\'s on-chain serial root');

    const short = (id: string) => `${id.slice(0, 8)}…${id.slice(-4)}`;
    await tamperBatch(
      world,
      family.grandparent.batchId,
      (batch) => {
        const accepted = batch.custody.find((step) => step.kind === "accepted")!;
        accepted.locationGln = "4000000000003";
        return batch;
      },
      async () => {
        const forged = await verifyPassportUrl({ url: childUnit });
        expect(forged.ok).to.equal(false);
        expect(forged.mismatches).to.have.length(1);
        expect(forged.mismatches[0]).to.match(
          new RegExp(
            `^Ancestor batch 2 \\(lot "PP-GEN-0", ${short(family.grandparent.batchId)}\\), history entry 2: "Custody accepted" at block \\d+: location GLN is shown as "4000000000003", but the chain says "${DEMO_PORT_GLN}"$`,
          ),
        );
      },
    );
    await tamperBatch(
      world,
      family.grandparent.batchId,
      (batch) => ({ ...batch, custody: batch.custody.filter((step) => step.kind !== "proposed") }),
      async () => {
        const hidden = await verifyPassportUrl({ url: childUnit });
        expect(hidden.ok).to.equal(false);
        expect(hidden.mismatches).to.have.length(1);
        expect(hidden.mismatches[0]).to.match(
          new RegExp(
            `^Ancestor batch 2 \\(lot "PP-GEN-0", ${short(family.grandparent.batchId)}\\): the chain has an event of this earlier lot that the page does not show: HandoffProposed\\(`,
          ),
        );
      },
    );
    // The mirror is whole again.
    expect((await verifyPassportUrl({ url: childUnit })).mismatches).to.deep.equal([]);
  });

  it("test_verifyPassport_hiddenInspectionForgedRootRenamedParticipant_reported", async function () {
    await tamperBatch(
      world,
      world.traded.batchId,
      (batch) => ({ ...batch, inspections: [], inspection: "none" }),
      async () => {
        const result = await verifyPassportUrl({ url: unitUrl("A-0001") });
        expect(result.mismatches.join("\n")).to.match(/the chain has an event of this batch that the page does not show: QualityAttested/i);
        expect(result.mismatches.join("\n")).to.match(/inspection is shown as "none", but the registry stores "passed"/);
      },
    );
    await tamperBatch(
      world,
      world.traded.batchId,
      (batch) => ({ ...batch, serialRoot: keccak256(toUtf8Bytes("forged")) as `0x${string}` }),
      async () => {
        // The forged root has no stored serial list: the page cannot prove the unit, and the root differs on chain.
        const result = await verifyPassportUrl({ url: unitUrl("A-0001") });
        expect(result.ok).to.equal(false);
        expect(result.mismatches.join("\n")).to.match(/serial root is shown as .*, but the registry stores/);
      },
    );
    const manufacturer = (await world.store.getParticipant(world.deployed.manufacturer.address.toLowerCase() as `0x${string}`))!;
    const checkpoint = (await world.store.getCheckpoint(world.deployment.chainId))!;
    const putParticipant = (participant: Participant) =>
      world.store.commitRange({
        chainId: world.deployment.chainId,
        events: [],
        blocks: [],
        batches: [],
        participants: [participant],
        orders: [],
        checkpoint,
      });
    await putParticipant({ ...manufacturer, name: "Totally Legit Oils" });
    try {
      const result = await verifyPassportUrl({ url: unitUrl("A-0001") });
      expect(result.mismatches.join("\n")).to.include('is named "Acme Olive Oil S.L." on chain');
    } finally {
      await putParticipant(manufacturer);
    }
  });

  it("test_verifyPassport_unprovableSerial_notVerified", async function () {
    // This batch's serial list was never uploaded: any serial on its lot gets a page, but no proof.
    const result = await verifyPassportUrl({ url: `${base}${digitalLinkPath(world.traded.gtin, world.unlisted.lot, "FAKE-0001")}` });
    expect(result.claims.proof).to.equal(null);
    expect(result.ok).to.equal(false);
    expect(result.mismatches).to.have.length(1);
    expect(result.mismatches[0]).to.match(/Serial "FAKE-0001" cannot be proven to be one of this batch's registered units/);
  });

  it("test_verifyPassport_childUnit_provenInEveryEarlierLotsRoot", async function () {
    const childUnit = `${base}${digitalLinkPath(world.traded.gtin, world.children[0]!.lot, "C1-3")}`;
    const result = await verifyPassportUrl({ url: childUnit });
    expect(result.mismatches).to.deep.equal([]);
    expect(result.checked.join("\n")).to.include('serial "C1-3" is one of the units the manufacturer registered');
  });

  it("test_verifyPassport_childUnitOutsideTheManufacturersRoot_fails", async function () {
    // A registry letting a custodian give a child its own root (as before issue 11) would verify a forged serial
    // against the child alone: the verifier also asks every earlier lot, where the forged serial is not.
    const childUnit = `${base}${digitalLinkPath(world.traded.gtin, world.children[0]!.lot, "C1-3")}`;
    const claims = claimsFromJsonLd(await (await fetch(childUnit, { headers: { accept: "application/ld+json" } })).json());
    const { abi } = loadArtifact("ProvenanceRegistry");
    const registry = new ethers.Interface(abi);
    const realRpc = createJsonRpc(`${base}/rpc`);
    const verifyUnitOf = (id: string) => registry.encodeFunctionData("verifyUnit", [id, "C1-3", claims.proof]).toLowerCase();
    const result = await verifyPassport({
      claims,
      rpc: async (method, params) => {
        const data = String((params[0] as { data?: string } | undefined)?.data ?? "").toLowerCase();
        if (method === "eth_call" && data === verifyUnitOf(world.parent.batchId)) {
          return registry.encodeFunctionResult("verifyUnit", [false]);
        }
        return realRpc(method, params);
      },
      ethers,
      abi,
      enums: ENUM_VALUE_NAMES,
    });
    expect(result.mismatches.map(sayInEnglish)).to.deep.equal([
      `Serial "C1-3" is NOT one of the units the manufacturer registered: its proof does not hold in the serial root of earlier lot ${world.parent.batchId.slice(0, 8)}…${world.parent.batchId.slice(-4)}`,
    ]);
  });

  it("test_verifyPassport_pageForAnotherProduct_fails", async function () {
    // A mirror answering one link with another genuine unit's record: everything on the page matches the chain.
    const shown = unitUrl("A-0001");
    const claims = claimsFromJsonLd(await (await fetch(shown, { headers: { accept: "application/ld+json" } })).json());
    const { abi } = loadArtifact("ProvenanceRegistry");
    const verifyAgainst = (scannedPath: string) =>
      verifyPassport({
        claims,
        rpc: createJsonRpc(`${base}/rpc`),
        ethers,
        abi,
        enums: ENUM_VALUE_NAMES,
        expected: { link: digitalLinkOfPath(scannedPath)! },
      });

    expect((await verifyAgainst(new URL(shown).pathname)).mismatches).to.deep.equal([]);
    const inEnglish = (findings: Parameters<typeof sayInEnglish>[0][]) => findings.map(sayInEnglish);
    const otherLot = await verifyAgainst(digitalLinkPath(world.traded.gtin, world.children[0]!.lot, "A-0001"));
    expect(otherLot.ok).to.equal(false);
    expect(otherLot.mismatches).to.have.length(1);
    expect(inEnglish(otherLot.mismatches)[0]).to.match(
      /^The link you opened names GTIN \d{14} lot "PP-SPLIT\/1" \(batch 0x.*\), but the page shows batch 0x.* lot "PP-2025%A"\)$/,
    );
    const otherSerial = await verifyAgainst(digitalLinkPath(world.traded.gtin, world.traded.lot, "A-0002"));
    expect(inEnglish(otherSerial.mismatches)).to.deep.equal([
      'The link you opened names serial "A-0002", but the page shows serial "A-0001"',
    ]);
  });

  it("test_verifyPassport_batchOnlyInMirror_isMismatch", async function () {
    const genuine = (await world.store.getBatch(world.traded.batchId))!;
    const lot = "GHOST-1";
    const ghostId = keccak256(
      ethers.AbiCoder.defaultAbiCoder().encode(["uint64", "string"], [BigInt(world.traded.gtin), lot]),
    ) as `0x${string}`;
    const checkpoint = (await world.store.getCheckpoint(world.deployment.chainId))!;
    const ghost: Batch = { ...structuredClone(genuine), batchId: ghostId, lot };
    await world.store.commitRange({
      chainId: world.deployment.chainId,
      events: [],
      blocks: [],
      batches: [ghost],
      participants: [],
      orders: [],
      checkpoint,
    });
    const result = await verifyPassportUrl({ url: `${base}${digitalLinkPath(world.traded.gtin, lot)}` });
    expect(result.ok).to.equal(false);
    expect(result.mismatches).to.include(`The registry has no batch ${ghostId}`);
  });

  it("test_verifyCli_unfetchablePassport_exits2WithReason", async function () {
    const closed = (await import("node:http")).createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const script = path.join(PROJECT_ROOT, "scripts", "verify.ts");
    const failed = await run(process.execPath, [
      script,
      `http://127.0.0.1:${port}${digitalLinkPath(world.traded.gtin, world.traded.lot)}`,
    ]).then(
      () => expect.fail("expected exit status 2"),
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed.code).to.equal(2);
    expect(failed.stderr).to.match(
      /Cannot verify: Cannot fetch http:\/\/127\.0\.0\.1:\d+\/01\/.*: fetch failed \(connect ECONNREFUSED 127\.0\.0\.1:\d+\)/,
    );
  });

  it("test_verifyPassport_otherDeployment_refused", async function () {
    const result = await verifyPassportUrl({ url: unitUrl("A-0001"), expected: { registry: `0x${"42".repeat(20)}` } });
    expect(result.ok).to.equal(false);
    expect(result.mismatches[0]).to.match(/names registry .* but you expected 0x4242/);
  });

  it("test_verifyPassportUrl_compromisedServerWithLookAlikeRegistry_failsOnTheLinksAnchors", async function () {
    const lookAlike = `0x${"5e".repeat(20)}` as const;
    let rogueApp: ReturnType<typeof passportTestApp> | null = null;
    const { createServer } = await import("node:http");
    const rogue = createServer((req, res) => rogueApp!(req, res));
    await new Promise<void>((resolve) => rogue.listen(0, "127.0.0.1", resolve));
    const rogueBase = `http://127.0.0.1:${(rogue.address() as AddressInfo).port}`;
    rogueApp = passportTestApp(
      createModule(world, { publicBaseUrl: rogueBase, publicRpcUrl: `${rogueBase}/rpc`, registryAddress: lookAlike }),
      {
        jsonBodies: true,
      },
    );
    const { chainId, registry } = world.deployment;
    const linkPath = digitalLinkPath(world.traded.gtin, world.traded.lot, "A-0001");
    const printed = `${rogueBase}${linkPath}?chain=${chainId}&registry=${registry}`;
    try {
      const result = await verifyPassportUrl({ url: printed });
      expect(result.ok).to.equal(false);
      expect(result.mismatches).to.deep.equal([`The passport names registry ${lookAlike}, but you expected ${registry}`]);
      expect(result.anchors).to.deep.equal({ chainId, registry, source: "link" });

      const script = path.join(PROJECT_ROOT, "scripts", "verify.ts");
      const env = { ...process.env, RPC_URL: "" };
      const failed = await run(process.execPath, [script, printed], { env }).then(
        () => expect.fail("expected exit status 1"),
        (error: { code: number; stdout: string }) => error,
      );
      expect(failed.code).to.equal(1);
      expect(failed.stdout).to.include(`registry ${registry} (named by the link)`);
      const conflicting = await run(process.execPath, [script, printed, "--registry", lookAlike], { env }).then(
        () => expect.fail("expected exit status 2"),
        (error: { code: number; stderr: string }) => error,
      );
      expect(conflicting.code).to.equal(2);
      expect(conflicting.stderr).to.include(`The link names registry ${registry}, but you asked for registry ${lookAlike}`);

      // Without anchors in the link the report says whose word the registry was.
      const unanchored = await verifyPassportUrl({ url: `${base}${linkPath}` });
      expect(unanchored.ok).to.equal(true);
      expect(unanchored.anchors.source).to.equal("passport");
      expect(unanchored.warnings.join("\n")).to.include("the passport server's word");
      expect(unanchored.warnings.join("\n")).to.include("pass --rpc (or RPC_URL)");
      const anchored = await verifyPassportUrl({ url: `${base}${linkPath}?chain=${chainId}&registry=${registry}`, rpcUrl: `${base}/rpc` });
      expect(anchored.mismatches).to.deep.equal([]);
      expect(anchored.warnings).to.deep.equal([]);
      expect(anchored).to.deep.include({ rpcSource: "caller" });
    } finally {
      rogue.closeAllConnections();
      await new Promise((resolve) => rogue.close(resolve));
    }
  });

  it("test_verifyPassportUrl_malformedAnchors_refused", async function () {
    const linkPath = digitalLinkPath(world.traded.gtin, world.traded.lot, "A-0001");
    for (const [query, message] of [
      ["?chain=31337", /"registry" parameter must be a contract address \(got none\)/],
      [`?chain=x&registry=${world.deployment.registry}`, /"chain" parameter must be a chain id \(got "x"\)/],
    ] as const) {
      let error: unknown = null;
      await verifyPassportUrl({ url: `${base}${linkPath}${query}` }).catch((caught: unknown) => (error = caught));
      expect(String(error)).to.match(message);
    }
  });

  it("test_verifyCli_verifiedOrMismatch_exits0Or1", async function () {
    const script = path.join(PROJECT_ROOT, "scripts", "verify.ts");
    const ok = await run(process.execPath, [script, unitUrl("A-0002")], { env: { ...process.env, RPC_URL: "" } });
    expect(ok.stdout).to.match(/✓ Verified at block \d+/);

    await tamperBatch(
      world,
      world.traded.batchId,
      (batch) => ({ ...batch, quantity: "500" }),
      async () => {
        const failed = await run(process.execPath, [script, unitUrl("A-0002"), "--json"], { env: { ...process.env, RPC_URL: "" } }).then(
          () => expect.fail("expected exit status 1"),
          (error: { code: number; stdout: string }) => error,
        );
        expect(failed.code).to.equal(1);
        const report = JSON.parse(failed.stdout);
        expect(report.ok).to.equal(false);
        expect(report.mismatches.join("\n")).to.match(/quantity is shown as "500"/);
      },
    );
  });

  it("test_verifyCli_mismatch_printsEveryLineInEnglishAsBefore", async function () {
    // The terminal says the verifier's findings through the English messages: the whole report, line for line, as it
    // was printed before findings became codes (progress on stderr included).
    const script = path.join(PROJECT_ROOT, "scripts", "verify.ts");
    const url = unitUrl("A-0002");
    const rpc = `${base}/rpc`;
    const { chainId, registry } = world.deployment;
    await tamperBatch(
      world,
      world.traded.batchId,
      (batch) => {
        batch.custody[3]!.locationGln = "4000000000003";
        return batch;
      },
      async () => {
        const failed = await run(process.execPath, [script, url], { env: { ...process.env, RPC_URL: "" } }).then(
          () => expect.fail("expected exit status 1"),
          (error: { code: number; stdout: string; stderr: string }) => error,
        );
        expect(failed.code).to.equal(1);
        const block = /checked at block (\d+)/.exec(failed.stdout)?.[1];
        const head = /, head (\d+)\)/.exec(failed.stdout)?.[1];
        const shownBlock = /History entry 6: "Custody accepted" at block (\d+)/.exec(failed.stdout)?.[1];
        const chainGln = /but the chain says "(\d{13})"/.exec(failed.stdout)?.[1];
        expect([block, head, shownBlock, chainGln].every(Boolean), failed.stdout).to.equal(true);
        expect(failed.stdout.split("\n")).to.deep.equal([
          `Passport ${url}`,
          `  chain ${chainId} and registry ${registry} (named by the passport server only), RPC ${rpc} (named by the passport server)`,
          `✗ MISMATCH (checked at block ${block}): the passport does not match the chain.`,
          `  endpoint ${rpc} answered (chain ${chainId}, head ${head})`,
          `  - History entry 6: "Custody accepted" at block ${shownBlock}: location GLN is shown as "4000000000003", but the chain says "${chainGln}"`,
          "  ! The link names no chain and registry and you gave none (--chain-id, --registry): which registry was checked is the passport server's word",
          `  ! The JSON-RPC endpoint ${rpc} is the one the passport names: pass --rpc (or RPC_URL) to check through one you trust`,
          "",
        ]);
        expect(failed.stderr.split("\n")).to.deep.equal([
          `… Fetching the passport ${url}`,
          "… Connecting to 1 endpoint",
          `… Reading the chain through 1 endpoint at block ${head}`,
          "",
        ]);
      },
    );
  });

  it("test_verifyPassport_parentRecalledAfterSplit_childShowsRecallAndForgedNotRecalledFails", async function () {
    const { registry, manufacturer, carrier } = world.deployed;
    const childSerials = ["RC1-1", "RC1-2"];
    // Split children carry their parent's serial root (only the manufacturer's registered serials verify).
    const lot = await registerBatch(registry, manufacturer, { lot: "PP-RECALL", quantity: 3n, serials: childSerials });
    const root = lot.tree.root;
    await (await registry.connect(manufacturer).proposeHandoff(lot.batchId, carrier.address, DEMO_PORT_GLN, 0)).wait();
    await (await registry.connect(carrier).acceptHandoff(lot.batchId, DEMO_PORT_GLN, 1)).wait();
    await (
      await registry.connect(carrier).splitBatch(lot.batchId, [
        { lot: "PP-RECALL/1", quantity: 2n, serialRoot: root },
        { lot: "PP-RECALL/2", quantity: 1n, serialRoot: root },
      ])
    ).wait();
    await (await registry.connect(manufacturer).recallBatch(lot.batchId, keccak256(toUtf8Bytes("contaminated before the split")))).wait();
    await createSerialService({ store: world.store }).storeSerials(childSerials);
    await world.sync();
    const parentId = lot.batchId.toLowerCase() as `0x${string}`;
    const childId = (await registry.batchIdOf(lot.input.gtin, "PP-RECALL/1")).toLowerCase() as `0x${string}`;

    // The API agrees with the registry: the child reads recalled, though only the parent's recall names a batch.
    const batches = createBatchService({ store: world.store });
    expect((await batches.get(childId)).status).to.equal("recalled");
    expect((await batches.list({ parent: parentId, limit: 10 })).items.map((batch) => batch.status)).to.deep.equal([
      "recalled",
      "recalled",
    ]);
    expect((await batches.list({ status: "registered", limit: 500 })).items.map((batch) => batch.batchId)).not.to.include(childId);
    expect((await batches.list({ status: "recalled", limit: 500 })).items.map((batch) => batch.batchId)).to.include(parentId);

    const url = `${base}${digitalLinkPath(world.traded.gtin, "PP-RECALL/1", "RC1-2")}`;
    const passport = (await (await fetch(url, { headers: { accept: "application/ld+json" } })).json()) as Record<string, any>;
    expect(passport["provena:recalled"]).to.equal(true);
    expect(passport["provena:state"].status).to.equal("recalled");
    const html = await (await fetch(url, { headers: { accept: "text/html" } })).text();
    expect(html).to.include("Recalled: do not use this product");
    const verified = await verifyPassportUrl({ url });
    expect(verified.mismatches).to.deep.equal([]);
    expect(verified.checked.join("\n")).to.include("the registry's stored batch state (recalled)");

    // A mirror hiding the parent's recall makes the child look fine: the registry's own status says otherwise.
    await tamperBatch(
      world,
      parentId,
      (batch) => ({ ...batch, status: "split", recall: null }),
      async () => {
        const forged = await verifyPassportUrl({ url });
        expect(forged.claims.recalled).to.equal(false);
        expect(forged.ok).to.equal(false);
        expect(forged.mismatches).to.include(
          "The registry reports this batch RECALLED (itself or through an earlier lot it was split from), but the page does not show a recall",
        );
        expect(forged.mismatches.join("\n")).to.match(/The batch's status is shown as "registered", but the registry stores "recalled"/);
      },
    );
  });

  it("test_verifyPassport_newerChainEvents_reportedAndUnshownRecallFails", async function () {
    const { registry, inspector, manufacturer } = world.deployed;
    await (await registry.connect(inspector).attestQuality(world.children[0]!.batchId, true, keccak256(toUtf8Bytes("late report")))).wait();
    const url = `${base}${digitalLinkPath(world.traded.gtin, world.children[0]!.lot, "C1-1")}`;
    const newer = await verifyPassportUrl({ url });
    expect(newer.ok).to.equal(true);
    expect(newer.warnings.join("\n")).to.match(/Newer than this page: QualityAttested/);

    await (await registry.connect(manufacturer).recallBatch(world.children[0]!.batchId, keccak256(toUtf8Bytes("late recall")))).wait();
    const recalled = await verifyPassportUrl({ url });
    expect(recalled.ok).to.equal(false);
    expect(recalled.mismatches.join("\n")).to.match(/recall of this batch that the page does not show yet/);

    await world.sync();
    expect((await verifyPassportUrl({ url })).mismatches).to.deep.equal([]);
  });
});
