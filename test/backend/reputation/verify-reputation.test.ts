/**
 * scripts/verify-reputation.ts's check, end to end on Hardhat's in-process chain: a realistic trading history
 * (on-time, late and never-delivered orders, a lost dispute, a dust order, a refused handoff, inspections, a split
 * lot with a recalled child, three months apart), mirrored by the real indexer and served by the real API over HTTP.
 * Every participant's answer equals the independent fold of the raw logs; a server that inflates a score, or a
 * mirror that lost an event, is caught.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import { keccak256, toUtf8Bytes, ZeroAddress, type Eip1193Provider, type Provider } from "ethers";
import { network } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { Deployment } from "../../../backend/chain/deployment.ts";
import type { OrderStruct } from "../../../backend/chain/contracts.ts";
import { signOrderConsentOn } from "../../../backend/chain/order-consent.ts";
import { providerFromEip1193 } from "../../../backend/chain/provider.ts";
import type { Hex } from "../../../backend/domain/model.ts";
import type { Reputation } from "../../../backend/reputation/reputation.ts";
import { createReputationModule } from "../../../backend/reputation/reputation-routes.ts";
import { createReputationService } from "../../../backend/reputation/reputation-service.ts";
import { httpReputationApi, verifyReputation, type ReputationApi } from "../../../backend/reputation/verify-reputation.ts";
import type { MirrorStore } from "../../../backend/store/port.ts";
import { deployProvena, DEMO_PORT_GLN, type ProvenaDeployment } from "../../../scripts/fixtures/provena-deployment.ts";
import { BusinessStep } from "../../../scripts/fixtures/registry-enums.ts";
import { registerBatch } from "../../helpers/batches.ts";
import { syncToHead } from "../../helpers/indexer-sync.ts";
import { createMemoryStore, createTestApp } from "../api/fixtures/test-app.ts";

const DAY = 86_400;
const ONE_ETH = 10n ** 18n;

describe("verify-reputation against the chain", function () {
  this.timeout(120_000);
  let connection: Awaited<ReturnType<typeof network.create>>;
  let d: ProvenaDeployment;
  let store: MirrorStore;
  let server: Server;
  let api: ReputationApi;
  let provider: Provider;
  let deployment: Deployment;

  const address = (signer: HardhatEthersSigner) => signer.address.toLowerCase() as Hex;
  const mine = async (sent: Promise<{ wait(): Promise<unknown> }>) => void (await (await sent).wait());

  async function order(batchId: string, overrides: Partial<OrderStruct> = {}): Promise<OrderStruct> {
    const now = (await connection.ethers.provider.getBlock("latest"))!.timestamp;
    const terms: OrderStruct = {
      buyer: d.retailer.address,
      seller: d.manufacturer.address,
      carrier: d.carrier.address,
      token: ZeroAddress,
      amount: ONE_ETH,
      batchId,
      sellerBps: 8_900,
      carrierBps: 1_000,
      platformBps: 100,
      deliveryDeadline: now + 14 * DAY,
      disputeWindow: 3 * DAY,
      breachTerms: 0,
      inspector: ZeroAddress,
      fallbackBuyerBps: 5_000,
      salt: keccak256(toUtf8Bytes(`salt ${batchId} ${now}`)),
      ...overrides,
    };
    const consent = await signOrderConsentOn(d.escrow!, d.manufacturer, terms);
    await mine(d.escrow!.connect(d.retailer).openOrder(terms, consent, { value: terms.amount }));
    return terms;
  }
  const handOver = async (batchId: string, from: HardhatEthersSigner, to: HardhatEthersSigner) => {
    await mine(d.registry.connect(from).proposeHandoff(batchId, to.address, DEMO_PORT_GLN, BusinessStep.Shipping));
    await mine(d.registry.connect(to).acceptHandoff(batchId, DEMO_PORT_GLN, BusinessStep.Receiving));
  };
  const travel = (seconds: number) => connection.networkHelpers.time.increase(seconds);

  async function sync(): Promise<void> {
    const { provider: mirrorProvider } = await providerFromEip1193(connection.provider as unknown as Eip1193Provider, 20);
    await syncToHead({ provider: mirrorProvider, deployment, store, instanceId: "reputation-test" });
  }

  before(async function () {
    connection = await network.create();
    d = await deployProvena(connection.ethers);
    const { registry, manufacturer, carrier, warehouse, retailer, inspector, customs, admin } = d;
    ({ provider } = await providerFromEip1193(connection.provider as unknown as Eip1193Provider, 20));
    deployment = {
      chainId: Number((await provider.getNetwork()).chainId),
      forwarder: (await d.forwarder.getAddress()).toLowerCase() as Hex,
      registry: (await registry.getAddress()).toLowerCase() as Hex,
      escrow: (await d.escrow!.getAddress()).toLowerCase() as Hex,
      deployBlock: 0,
    };

    // Months ago: one order delivered on time, one delivered after its deadline.
    const onTime = await registerBatch(registry, manufacturer, { lot: "R-1", quantity: 10n });
    const onTimeOrder = await order(onTime.batchId);
    await handOver(onTime.batchId, manufacturer, carrier);
    await handOver(onTime.batchId, carrier, retailer);
    await mine(d.escrow!.connect(retailer).release(onTimeOrder));
    await mine(registry.connect(inspector).attestQuality(onTime.batchId, true, keccak256(toUtf8Bytes("report R-1"))));

    const late = await registerBatch(registry, manufacturer, { lot: "R-2", quantity: 10n });
    const lateOrder = await order(late.batchId);
    await handOver(late.batchId, manufacturer, carrier);
    await travel(15 * DAY);
    await handOver(late.batchId, carrier, retailer);
    await mine(d.escrow!.connect(retailer).release(lateOrder));

    await travel(100 * DAY);

    // Recent: a dispute the seller loses, an order never delivered (refunded), a dust order, a refused handoff,
    // a failed inspection while the carrier holds a lot, and a split lot whose child is recalled.
    const disputed = await registerBatch(registry, manufacturer, { lot: "R-3", quantity: 10n });
    const disputedOrder = await order(disputed.batchId);
    await handOver(disputed.batchId, manufacturer, carrier);
    await handOver(disputed.batchId, carrier, retailer);
    await mine(d.escrow!.connect(retailer).dispute(disputedOrder, keccak256(toUtf8Bytes("broken seals"))));
    await mine(d.escrow!.connect(admin).resolveDispute(disputedOrder, 8_000));

    const stuck = await registerBatch(registry, manufacturer, { lot: "R-4", quantity: 10n });
    const stuckOrder = await order(stuck.batchId);
    await handOver(stuck.batchId, manufacturer, carrier);
    await mine(registry.connect(inspector).attestQuality(stuck.batchId, false, keccak256(toUtf8Bytes("report R-4"))));
    await travel(15 * DAY);
    await mine(d.escrow!.connect(retailer).refund(stuckOrder));

    const dust = await registerBatch(registry, manufacturer, { lot: "R-5", quantity: 10n });
    const dustOrder = await order(dust.batchId, { amount: 1n });
    await handOver(dust.batchId, manufacturer, carrier);
    await handOver(dust.batchId, carrier, retailer);
    await mine(d.escrow!.connect(retailer).release(dustOrder));

    const refused = await registerBatch(registry, manufacturer, { lot: "R-6", quantity: 10n });
    await mine(registry.connect(manufacturer).proposeHandoff(refused.batchId, warehouse.address, DEMO_PORT_GLN, BusinessStep.Shipping));
    await mine(registry.connect(warehouse).rejectHandoff(refused.batchId, keccak256(toUtf8Bytes("no space"))));
    await mine(
      registry.connect(manufacturer).splitBatch(refused.batchId, [
        { lot: "R-6/A", quantity: 5n, serialRoot: refused.tree.root },
        { lot: "R-6/B", quantity: 5n, serialRoot: refused.tree.root },
      ]),
    );
    const childB = await registry.batchIdOf(refused.input.gtin, "R-6/B");
    await mine(registry.connect(customs).recallBatch(childB, keccak256(toUtf8Bytes("contamination"))));

    store = await createMemoryStore();
    await sync();
    const { app } = await createTestApp({
      store,
      modules: [createReputationModule({ service: createReputationService({ store, chainId: deployment.chainId }) })],
    });
    server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    api = httpReputationApi(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });

  after(async function () {
    if (server) await new Promise((resolve) => server.close(resolve));
    await store?.close();
    await connection?.close();
  });

  const verify = (reputationApi: ReputationApi = api) =>
    verifyReputation({ api: reputationApi, provider, contracts: deployment, deployBlock: deployment.deployBlock });

  it("test_verifyReputation_everyParticipantMatchesTheRawLogs", async function () {
    const result = await verify();
    expect(result.checks.filter((check) => check.mismatches.length > 0)).to.deep.equal([]);
    expect(result.ok).to.equal(true);
    const checked = result.checks.map((check) => check.address);
    for (const signer of [d.manufacturer, d.carrier, d.warehouse, d.retailer, d.inspector, d.customs])
      expect(checked).to.include(address(signer));
  });

  it("test_scenario_scoresAreTheOnesTheHistoryMeans", async function () {
    const seller = (await api.reputation(address(d.manufacturer))).body as Reputation;
    // All time: on time; late R-2 (delivered late) and R-4 (never delivered); the dust order R-5 not counted.
    expect(seller.allTime.deliveryAsSeller).to.deep.include({ onTime: 2, late: 2 });
    expect(seller.lastDays.deliveryAsSeller).to.deep.include({ onTime: 1, late: 1 });
    expect(seller.allTime.excludedOrders).to.deep.equal({ belowMinimum: 1, selfDealing: 0 });
    expect(seller.allTime.disputes).to.deep.include({ opened: 0, lost: 1, settledOrders: 4 });
    expect(seller.allTime.recalls).to.deep.include({ lots: 6, recalled: 1 });
    expect(seller.allTime.handoffsSent).to.deep.include({ refusedByRecipient: 1 });
    expect(seller.allTime.inspectionsAsMaker).to.deep.include({ passed: 1, failed: 1 });
    const carrier = (await api.reputation(address(d.carrier))).body as Reputation;
    expect(carrier.allTime.deliveryAsCarrier).to.deep.include({ onTime: 2, late: 2 });
    expect(carrier.allTime.inspectionsAsHolder).to.deep.include({ passed: 0, failed: 1 });
    const buyer = (await api.reputation(address(d.retailer))).body as Reputation;
    expect(buyer.allTime.disputes).to.deep.include({ opened: 1, lost: 0 });
    const warehouse = (await api.reputation(address(d.warehouse))).body as Reputation;
    expect(warehouse.allTime.handoffsReceived).to.deep.include({ accepted: 0, refused: 1 });
  });

  it("test_verifyReputation_aServerInflatingAScore_isAMismatch", async function () {
    const inflating: ReputationApi = {
      participants: () => api.participants(),
      async reputation(account) {
        const answer = await api.reputation(account);
        if (account !== address(d.manufacturer)) return answer;
        const body = structuredClone(answer.body) as Reputation;
        body.allTime.deliveryAsSeller.late = 0;
        return { status: 200, body };
      },
    };
    const result = await verify(inflating);
    expect(result.ok).to.equal(false);
    const check = result.checks.find((candidate) => candidate.address === address(d.manufacturer))!;
    expect(check.mismatches).to.deep.equal(["allTime.deliveryAsSeller.late: chain gives 2, API says 0"]);
  });

  it("test_verifyReputation_aMirrorMissingAParticipantOrAnEvent_isAMismatch", async function () {
    const hiding: ReputationApi = {
      participants: async () => (await api.participants()).filter((account) => account !== address(d.warehouse)),
      reputation: async (account) => (account === address(d.warehouse) ? { status: 404, body: {} } : api.reputation(account)),
    };
    const result = await verify(hiding);
    expect(result.checks.find((check) => check.address === address(d.warehouse))!.mismatches).to.deep.equal(["the API answered HTTP 404"]);

    // A mirror that dropped the recall: its answer at the same block disagrees with the chain.
    const forgetful: ReputationApi = {
      participants: () => api.participants(),
      async reputation(account) {
        const answer = await api.reputation(account);
        const body = structuredClone(answer.body) as Reputation;
        if (account === address(d.manufacturer)) body.allTime.recalls = { ...body.allTime.recalls, recalled: 0 };
        return { status: answer.status, body };
      },
    };
    expect((await verify(forgetful)).ok).to.equal(false);
  });
});
