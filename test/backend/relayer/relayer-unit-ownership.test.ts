/**
 * UnitOwnership as a forward target: a token's owner (a shopper holding no ETH) transfers it, and a manufacturer
 * commits a claim root, through the relayer. Who could abuse it: a stranger asking the relayer to move someone
 * else's token, an owner asking for a transfer the chain would refuse, anyone replaying a signed request, or anyone
 * asking the relayer to pay for approvals or claims that skip the claim relay's checks.
 */
import { expect } from "chai";
import request from "supertest";
import { Wallet, type HDNodeWallet } from "ethers";
import { buildClaimTree, claimProofOf, signUnitClaim, unitTokenId } from "../../../backend/chain/unit-claim.ts";
import { createRelayService } from "../../../backend/relayer/index.ts";
import { createStore } from "../../../backend/store/index.ts";
import type { Hex } from "../../../backend/domain/model.ts";
import { registerBatch, type RegisteredBatch } from "../../helpers/batches.ts";
import { serialProof } from "../../helpers/serials.ts";
import { createRelayerFixture, type RelayerFixture } from "./relayer-fixture.ts";

describe("relayer: unit ownership tokens as a forward target", function () {
  let fx: RelayerFixture;
  let batch: RegisteredBatch;
  /** Claimed the first unit's token; holds no ETH. */
  let owner: HDNodeWallet;
  let tokenId: bigint;
  let lotCounter = 0;

  /** Registers a lot of three units as the manufacturer and builds its claim keys. */
  async function registeredLot() {
    const registered = await registerBatch(fx.deployment.registry, fx.deployment.manufacturer, {
      lot: `LOT-OWN-${++lotCounter}`,
      quantity: 3n,
    });
    const keys = new Map(registered.serials.map((serial) => [serial, Wallet.createRandom()]));
    const claimTree = buildClaimTree(registered.serials.map((serial) => ({ serial, claimKey: keys.get(serial)!.address })));
    return { registered, keys, claimTree };
  }

  /** Runs worker rounds until the request is mined or failed; returns its final record. */
  async function settle(id: string) {
    const worker = fx.worker();
    for (let round = 0; round < 10; round++) {
      await worker.tick();
      const relay = await fx.store.getRelay(id);
      if (relay?.status === "mined" || relay?.status === "failed") return relay;
    }
    throw new Error(`relay request ${id} did not settle`);
  }

  const relayerNonce = () => fx.provider.getTransactionCount(fx.relayerWallet.address, "latest");
  const transfer = (from: string, to: string, id = tokenId) =>
    fx.unitOwnership.interface.encodeFunctionData("safeTransferFrom(address,address,uint256)", [from, to, id]);

  beforeEach(async function () {
    fx = await createRelayerFixture();
    const lot = await registeredLot();
    batch = lot.registered;
    const { unitOwnership, deployment } = fx;
    await (await unitOwnership.connect(deployment.manufacturer).commitClaimRoot(batch.batchId, lot.claimTree.root, 3)).wait();
    owner = Wallet.createRandom().connect(fx.provider);
    const serial = batch.serials[0]!;
    tokenId = unitTokenId(batch.batchId, serial);
    const { chainId } = fx.chain;
    const signature = await signUnitClaim(
      lot.keys.get(serial)!,
      { chainId, address: fx.chain.addresses.unitOwnership! },
      { tokenId, recipient: owner.address },
    );
    const { claimKey, proof } = claimProofOf(lot.claimTree, serial)!;
    const args = [batch.batchId, serial, claimKey, serialProof(batch.tree, serial), proof, owner.address, signature] as const;
    await (await unitOwnership.connect(deployment.admin).claim(...args)).wait();
  });

  afterEach(async function () {
    await fx.store.close();
    await fx.connection.close();
  });

  it("test_relayedTransfer_byTheOwner_movesTheTokenWithoutEth", async function () {
    const friend = Wallet.createRandom().address;
    const body = await fx.signedRequest(owner, "unitOwnership", transfer(owner.address, friend));
    const accepted = await request(fx.app).post("/api/v1/relay/requests").send(body).expect(202);

    expect((await settle(accepted.body.id)).status).to.equal("mined");
    expect(await fx.unitOwnership.ownerOf(tokenId)).to.equal(friend);
    expect(await fx.provider.getBalance(owner.address)).to.equal(0n);
    const info = await request(fx.app).get("/api/v1/relay/forwarder").expect(200);
    expect(info.body.targets.unitOwnership).to.equal(fx.chain.addresses.unitOwnership);
  });

  it("test_relayedTransfer_signedByANonOwner_isRefusedBeforeTheRelayerPays", async function () {
    const thief = Wallet.createRandom();
    const before = await relayerNonce();
    const stolen = await fx.signedRequest(thief, "unitOwnership", transfer(owner.address, thief.address));
    const response = await request(fx.app).post("/api/v1/relay/requests").send(stolen).expect(403);
    expect(response.body.code).to.equal("NOT_TOKEN_OWNER");
    // Naming itself as the holder changes nothing: the token is still the owner's.
    const named = await fx.signedRequest(thief, "unitOwnership", transfer(thief.address, thief.address));
    expect((await request(fx.app).post("/api/v1/relay/requests").send(named).expect(403)).body.code).to.equal("NOT_TOKEN_OWNER");
    const unclaimed = unitTokenId(batch.batchId, batch.serials[1]!);
    const nothing = await fx.signedRequest(thief, "unitOwnership", transfer(thief.address, owner.address, unclaimed));
    expect((await request(fx.app).post("/api/v1/relay/requests").send(nothing).expect(403)).body.detail).to.contain("not been claimed");

    expect(await fx.store.listRelays(["queued", "submitted", "mined", "failed"], 100)).to.have.length(0);
    expect(await relayerNonce()).to.equal(before);
    expect(await fx.unitOwnership.ownerOf(tokenId)).to.equal(owner.address);
  });

  it("test_relayedTransfer_theChainWouldRefuse_failsInTheSimulationWithoutATransaction", async function () {
    const before = await relayerNonce();
    // A contract that cannot hold ERC-721 tokens: safeTransferFrom reverts, and the acceptance simulation says so.
    const toContract = await fx.signedRequest(owner, "unitOwnership", transfer(owner.address, fx.chain.addresses.registry));
    const refused = await request(fx.app).post("/api/v1/relay/requests").send(toContract).expect(422);
    expect(refused.body).to.include({ code: "SIMULATION_REVERTED", error: "ERC721InvalidReceiver" });

    // Two transfers of one token queued in a row: the second is accepted behind the first (not simulated yet), and
    // the worker's last simulation fails it once the first has moved the token, without sending it.
    const first = await fx.signedRequest(owner, "unitOwnership", transfer(owner.address, Wallet.createRandom().address));
    const second = await fx.signedRequest(owner, "unitOwnership", transfer(owner.address, Wallet.createRandom().address), {
      nonce: BigInt(first.nonce) + 1n,
    });
    const firstId = (await request(fx.app).post("/api/v1/relay/requests").send(first).expect(202)).body.id;
    const secondId = (await request(fx.app).post("/api/v1/relay/requests").send(second).expect(202)).body.id;
    expect((await settle(firstId)).status).to.equal("mined");
    const failed = await settle(secondId);
    expect(failed).to.include({ status: "failed", transactionHash: null });
    expect(failed.error).to.contain(`may not transfer unit token ${tokenId}`);
    expect(await relayerNonce()).to.equal(before + 1);
  });

  it("test_relayedTransfer_replayedRequest_isNeverSentTwice", async function () {
    const friend = Wallet.createRandom().connect(fx.provider);
    const body = await fx.signedRequest(owner, "unitOwnership", transfer(owner.address, friend.address));
    const accepted = await request(fx.app).post("/api/v1/relay/requests").send(body).expect(202);
    await settle(accepted.body.id);
    // The friend gives it back, so replaying the owner's request would move it again if the nonce did not stop it.
    const back = await fx.signedRequest(friend, "unitOwnership", transfer(friend.address, owner.address));
    await settle((await request(fx.app).post("/api/v1/relay/requests").send(back).expect(202)).body.id);
    expect(await fx.unitOwnership.ownerOf(tokenId)).to.equal(owner.address);
    const sent = await relayerNonce();

    // The same relayer answers with the request it already has.
    const again = await request(fx.app).post("/api/v1/relay/requests").send(body).expect(200);
    expect(again.body).to.include({ id: accepted.body.id, status: "mined" });
    // Another relayer (a fresh store) finds the forwarder nonce used.
    const otherStore = await createStore({ sqlitePath: ":memory:" });
    try {
      const other = createRelayService({
        store: otherStore,
        chain: fx.chain,
        relayerAddress: fx.relayerWallet.address.toLowerCase() as Hex,
      });
      const replay = await other.accept(body).then(
        () => null,
        (error: unknown) => error as { details?: { code?: string } },
      );
      expect(replay?.details?.code).to.equal("NONCE_USED");
    } finally {
      await otherStore.close();
    }
    await fx.worker().tick();
    expect(await relayerNonce()).to.equal(sent);
    expect(await fx.unitOwnership.ownerOf(tokenId)).to.equal(owner.address);
  });

  it("test_relayedCommitClaimRoot_byTheManufacturer_mined_byAnOutsider_refused", async function () {
    const { registered, claimTree } = await registeredLot();
    const data = fx.unitOwnership.interface.encodeFunctionData("commitClaimRoot", [registered.batchId, claimTree.root, 3]);
    const manufacturerBalance = await fx.provider.getBalance(fx.deployment.manufacturer.address);
    const outsider = await fx.signedRequest(fx.deployment.outsider, "unitOwnership", data);
    expect((await request(fx.app).post("/api/v1/relay/requests").send(outsider).expect(403)).body.code).to.equal("NOT_A_PARTICIPANT");
    const carrier = await fx.signedRequest(fx.deployment.carrier, "unitOwnership", data);
    expect((await request(fx.app).post("/api/v1/relay/requests").send(carrier).expect(403)).body.code).to.equal("MISSING_ROLE");

    const body = await fx.signedRequest(fx.deployment.manufacturer, "unitOwnership", data);
    const accepted = await request(fx.app).post("/api/v1/relay/requests").send(body).expect(202);
    expect((await settle(accepted.body.id)).status).to.equal("mined");
    expect(await fx.unitOwnership.claimRootOf(registered.batchId)).to.equal(claimTree.root);
    expect(await fx.provider.getBalance(fx.deployment.manufacturer.address)).to.equal(manufacturerBalance);
  });

  it("test_relayedApprovalsAndClaims_areNotSponsored", async function () {
    const { interface: iface } = fx.unitOwnership;
    for (const data of [
      iface.encodeFunctionData("approve", [Wallet.createRandom().address, tokenId]),
      iface.encodeFunctionData("setApprovalForAll", [Wallet.createRandom().address, true]),
    ]) {
      const body = await fx.signedRequest(owner, "unitOwnership", data);
      expect((await request(fx.app).post("/api/v1/relay/requests").send(body).expect(422)).body.code).to.equal("FUNCTION_NOT_RELAYABLE");
    }
  });
});
