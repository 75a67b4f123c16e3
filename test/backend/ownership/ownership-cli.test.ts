/**
 * `provena ownership claim` and `provena ownership show` as a separate process against the claim relay's app: the
 * secret is read from a file and signs locally; only the signature reaches the backend.
 */
import { expect } from "chai";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { Wallet } from "ethers";
import type { Hex } from "../../../backend/domain/model.ts";
import { unitTokenId } from "../../../backend/chain/unit-claim.ts";
import { loadClaimTree } from "../../../backend/ownership/claim-tree.ts";
import { createClaimRelayFixture } from "./claim-relay-fixture.ts";
import { runCli } from "../../helpers/cli-process.ts";
import { writeClaimKeys } from "../../../scripts/cli/ownership-claim-commands.ts";

const SHOPPER = "0x3000000000000000000000000000000000000001";

describe("provena ownership (CLI)", function () {
  this.timeout(120_000);
  let fixture: Awaited<ReturnType<typeof createClaimRelayFixture>>;
  let server: Server;
  let apiUrl: string;
  let workdir: string;

  const cli = (args: string[]) => runCli(args, { PROVENA_API_URL: apiUrl });

  before(async function () {
    fixture = await createClaimRelayFixture();
    server = await new Promise<Server>((resolve) => {
      const listening = fixture.app.listen(0, "127.0.0.1", () => resolve(listening));
    });
    apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    workdir = await mkdtemp(path.join(tmpdir(), "provena-ownership-"));
  });
  after(async function () {
    await new Promise((resolve) => server?.close(resolve));
    await fixture?.store.close();
    if (workdir) await rm(workdir, { recursive: true, force: true });
  });

  it("test_cli_claim_secretFromAFile_signsLocally_queuedGasless", async function () {
    const secretFile = path.join(workdir, "SN-1.secret");
    await writeFile(secretFile, `${fixture.claimKeys.get("SN-1")!.privateKey.slice(2)}\n`);
    const claimed = await cli(["ownership", "claim", fixture.batchId, "SN-1", "--secret", secretFile, "--to", SHOPPER]);
    expect(claimed.stderr).to.equal("");
    expect(claimed.code).to.equal(0);
    expect(claimed.stdout).to.include(`claim of SN-1 for ${SHOPPER}: queued (token ${unitTokenId(fixture.batchId, "SN-1")}`);
    const [job] = await fixture.queuedJobs();
    // The backend got a signature, never the secret: the job's call carries the claim key's address only.
    expect(job!.data).to.not.include(fixture.claimKeys.get("SN-1")!.privateKey.slice(2));
    await fixture.submit(job!);
    expect(`0x${await fixture.ownerOf(unitTokenId(fixture.batchId, "SN-1").toString())}`).to.equal(SHOPPER);
  });

  it("test_cli_claim_wrongSecret_exits1WithTheBackendsReason", async function () {
    const refused = await cli([
      "ownership",
      "claim",
      fixture.batchId,
      "SN-2",
      "--secret",
      Wallet.createRandom().privateKey,
      "--to",
      SHOPPER,
    ]);
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.match(/HTTP 422.*not the unit's claim key/);
    const malformed = await cli(["ownership", "claim", fixture.batchId, "SN-2", "--secret", "not-a-secret", "--to", SHOPPER]);
    expect(malformed.code).to.equal(1);
    expect(malformed.stderr).to.include("--secret must be the claim secret");
  });

  it("test_claimKeysFile_secretsMatchTheTree_andUploadTreeChecksTheRoot", async function () {
    const serialFile = path.join(workdir, "serials.csv");
    await writeFile(serialFile, 'serial\nK-1\n"K,2"\n');
    const out = path.join(workdir, "keys");
    // The offline writer (the chain-committing `provena ownership keys` is tested end to end in test/e2e).
    const made = await writeClaimKeys(serialFile, out);
    const tree = loadClaimTree(JSON.parse(await readFile(path.join(out, "claim-tree.json"), "utf8")));
    expect(made).to.deep.include({ root: tree.root, units: 2 });
    const rows = (await readFile(path.join(out, "secrets.csv"), "utf8")).trim().split("\n");
    expect(rows[0]).to.equal("serial,claimSecret");
    expect(rows[2]!.startsWith('"K,2",0x')).to.equal(true);
    for (const [serial, row] of [
      ["K-1", rows[1]!],
      ["K,2", rows[2]!],
    ] as const) {
      const secret = row.slice(row.lastIndexOf(",") + 1);
      expect(tree.leafOf(serial)?.claimKey).to.equal(new Wallet(secret).address.toLowerCase());
    }
    // Not the root committed for the fixture's batch: refused.
    const refused = await cli(["ownership", "upload-tree", fixture.batchId, path.join(out, "claim-tree.json")]);
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.include("is not the claim root");
    const committedFile = path.join(workdir, "committed-tree.json");
    await writeFile(committedFile, JSON.stringify(fixture.tree.dump()));
    const again = await cli(["ownership", "upload-tree", fixture.batchId, committedFile]);
    expect(again.stdout).to.include(`claim tree ${fixture.tree.root} of 3 units was already stored`);
  });

  it("test_cli_show_unclaimedThenOwned", async function () {
    const unclaimed = await cli(["ownership", "show", fixture.childId, "SN-3"]);
    expect(unclaimed.code).to.equal(0);
    expect(unclaimed.stdout).to.include(`SN-3: not yet claimed; token ${unitTokenId(fixture.batchId, "SN-3")}`);
    const at = {
      eventId: "31337:000000000009:000000",
      blockNumber: 9,
      blockTimestamp: 1_772_323_200,
      transactionHash: `0x${"ab".repeat(32)}` as Hex,
    };
    const previous = "0x4000000000000000000000000000000000000004" as Hex;
    await fixture.store.commitRange({
      chainId: fixture.chainId,
      events: [],
      blocks: [],
      batches: [],
      participants: [],
      orders: [],
      unitTokens: [
        {
          tokenId: unitTokenId(fixture.batchId, "SN-3").toString(),
          batchId: fixture.batchId,
          serial: "SN-3",
          owner: SHOPPER as Hex,
          ownedSince: at.blockTimestamp,
          claimedAt: at.blockTimestamp - 86_400,
          previousOwners: [previous],
          transfers: [{ from: previous, to: SHOPPER as Hex, at }],
          claimed: { ...at, eventId: "31337:000000000008:000000", blockNumber: 8 },
          lastEvent: at,
        },
      ],
      checkpoint: { chainId: fixture.chainId, blockNumber: 9, blockHash: null, updatedAt: 3 },
    });
    const owned = await cli(["ownership", "show", fixture.childId, "SN-3"]);
    expect(owned.stdout).to.include(`SN-3: owned by ${SHOPPER} since 2026-03-01T00:00:00.000Z · 1 previous owner (${previous})`);
  });
});
