import { expect } from "chai";
import { AbiCoder, Interface, ZeroAddress, getAddress, ZeroHash, keccak256, toUtf8Bytes } from "ethers";
import { ArtifactNotFoundError, loadArtifact, loadProvenaAbis } from "../../../backend/chain/artifacts.ts";
import { roleHash, roleName } from "../../../backend/chain/vocabulary.ts";
import { EventDecodeError, createEventDecoder, toJsonValue } from "../../../backend/chain/events.ts";
import type { Hex } from "../../../backend/domain/model.ts";
import { ACCOUNTS, TEST_DEPLOYMENT, bytes32, createEventFactory, orderTerms, timestampOf } from "../projections/event-factory.ts";

// Checksummed (mixed-case) as ethers returns addresses; the mirror stores them lower-case.
const MIXED_CASE_MANUFACTURER = getAddress("0xabcdef0000000000000000000000000000000002");

describe("chain artifacts", function () {
  it("test_loadProvenaAbis_readsTheThreeDeployedContracts", function () {
    const abis = loadProvenaAbis();
    const eventNames = (abi: typeof abis.ProvenanceRegistry) => abi.filter((f) => f.type === "event").map((f) => f.name);
    expect(eventNames(abis.ProvenanceRegistry)).to.include.members([
      "BatchRegistered",
      "HandoffAccepted",
      "RoleGranted",
      "ParticipantOnboarded",
    ]);
    expect(eventNames(abis.TradeEscrow)).to.include.members(["OrderOpened", "OrderReleased", "RoleGranted"]);
    expect(eventNames(abis.ProvenaForwarder)).to.include("ExecutedForwardRequest");
  });

  it("test_loadArtifact_missing_tellsToBuild", function () {
    expect(() => loadArtifact("Nope")).to.throw(ArtifactNotFoundError, /Nope\.json: run `npx hardhat build` first/);
    expect(() => loadProvenaAbis({ artifactsDir: "/nonexistent" })).to.throw(ArtifactNotFoundError, /npx hardhat build/);
  });
});

describe("event decoding", function () {
  const batchId = bytes32("batch-1");
  const orderId = bytes32("order-1");

  it("test_decode_BatchRegistered_jsonSafeArgsAndKeys", function () {
    const factory = createEventFactory(42);
    factory.event("ProvenanceRegistry", "ParticipantUpdated", [ACCOUNTS.admin, 1n, "pad"]); // log index 0
    const event = factory.event("ProvenanceRegistry", "BatchRegistered", [
      batchId,
      MIXED_CASE_MANUFACTURER,
      4_012_345_000_009n,
      "LOT-7",
      18_446_744_073_709_551_615n,
      1_717_200_000n,
      841_234_500_001n,
      bytes32("doc"),
      bytes32("root"),
    ]);
    expect(event).to.deep.include({
      id: "31337:000000000042:000001",
      chainId: 31337,
      blockNumber: 42,
      blockTimestamp: timestampOf(42),
      logIndex: 1,
      contract: "ProvenanceRegistry",
      address: TEST_DEPLOYMENT.registry,
      name: "BatchRegistered",
    });
    expect(event.args).to.deep.equal({
      batchId,
      manufacturer: MIXED_CASE_MANUFACTURER.toLowerCase(),
      gtin: "04012345000009",
      lot: "LOT-7",
      quantity: "18446744073709551615",
      productionDate: 1_717_200_000,
      originGln: "0841234500001",
      documentHash: bytes32("doc"),
      serialRoot: bytes32("root"),
    });
    expect(event.batchIds).to.deep.equal([batchId]);
    expect(event.orderIds).to.deep.equal([]);
    expect(event.accounts).to.deep.equal([MIXED_CASE_MANUFACTURER.toLowerCase()]);
    expect(JSON.parse(JSON.stringify(event))).to.deep.equal(event);
  });

  it("test_decode_HandoffProposed_businessStepByCbvName", function () {
    const event = createEventFactory().event("ProvenanceRegistry", "HandoffProposed", [
      batchId,
      ACCOUNTS.manufacturer,
      ACCOUNTS.carrier,
      8_712_345_000_032n,
      10,
    ]);
    expect(event.args).to.deep.include({ businessStep: "entering_exiting", locationGln: "8712345000032" });
    expect(event.accounts).to.deep.equal([ACCOUNTS.manufacturer, ACCOUNTS.carrier]);
  });

  it("test_decode_BatchSplit_keysParentAndChild", function () {
    const child = bytes32("child");
    const event = createEventFactory().event("ProvenanceRegistry", "BatchSplit", [
      batchId,
      child,
      ACCOUNTS.carrier,
      "LOT-7A",
      10n,
      bytes32("r"),
    ]);
    expect(event.batchIds).to.deep.equal([batchId, child]);
    expect(event.args.quantity).to.equal("10");
  });

  it("test_decode_OrderOpened_structAsObject", function () {
    const order = orderTerms(batchId, { amount: 10n ** 21n });
    const event = createEventFactory().event("TradeEscrow", "OrderOpened", [orderId, ACCOUNTS.retailer, batchId, order]);
    expect(event.contract).to.equal("TradeEscrow");
    expect(event.args.order).to.deep.equal({ ...order, amount: "1000000000000000000000", breachTerms: "none" });
    expect(event.orderIds).to.deep.equal([orderId]);
    expect(event.batchIds).to.deep.equal([batchId]);
    // The token is an asset, not an actor; the named inspector is one, so its orders' events are found by its address.
    expect(event.accounts).to.have.members([ACCOUNTS.retailer, ACCOUNTS.manufacturer, ACCOUNTS.carrier, ACCOUNTS.inspector]);
    // The zero address (no inspector) is nobody.
    const uninspected = orderTerms(batchId, { inspector: ZeroAddress as Hex });
    const plain = createEventFactory().event("TradeEscrow", "OrderOpened", [orderId, ACCOUNTS.retailer, batchId, uninspected]);
    expect(plain.accounts).to.have.members([ACCOUNTS.retailer, ACCOUNTS.manufacturer, ACCOUNTS.carrier]);
  });

  it("test_decode_OrderDeliveredAndOrderInspected_carryTheFullOrderId", function () {
    const factory = createEventFactory();
    const delivered = factory.event("TradeEscrow", "OrderDelivered", [orderId, batchId, 1_750_000_000]);
    expect(delivered.args).to.deep.equal({ orderId, batchId, deliveredAt: 1_750_000_000 });
    expect(delivered).to.deep.include({ orderIds: [orderId], batchIds: [batchId] });
    const inspected = factory.event("TradeEscrow", "OrderInspected", [orderId, false]);
    expect(inspected.args).to.deep.equal({ orderId, passed: false });
    expect(inspected).to.deep.include({ orderIds: [orderId], batchIds: [], accounts: [] });
  });

  it("test_decode_OrderRefunded_reasonByName", function () {
    const event = createEventFactory().event("TradeEscrow", "OrderRefunded", [orderId, 1, 5n]);
    expect(event.args).to.deep.equal({ orderId, reason: "batch_recalled", amount: "5" });
  });

  it("test_decode_RoleGranted_onEitherContract", function () {
    const factory = createEventFactory();
    const registryGrant = factory.event("ProvenanceRegistry", "RoleGranted", [
      roleHash("MANUFACTURER_ROLE"),
      ACCOUNTS.manufacturer,
      ACCOUNTS.admin,
    ]);
    const escrowGrant = factory.event("TradeEscrow", "RoleGranted", [ZeroHash, ACCOUNTS.admin, ACCOUNTS.admin]);
    expect(registryGrant.args.role).to.equal(keccak256(toUtf8Bytes("MANUFACTURER_ROLE")));
    expect(registryGrant.accounts).to.deep.equal([ACCOUNTS.manufacturer, ACCOUNTS.admin]);
    expect(escrowGrant.contract).to.equal("TradeEscrow");
    expect(escrowGrant.accounts).to.deep.equal([ACCOUNTS.admin]);
  });

  it("test_decode_forwarderEvent", function () {
    const event = createEventFactory().event("ProvenaForwarder", "ExecutedForwardRequest", [ACCOUNTS.carrier, 3n, true]);
    expect(event).to.deep.include({ contract: "ProvenaForwarder", name: "ExecutedForwardRequest" });
    expect(event.args).to.deep.equal({ signer: ACCOUNTS.carrier, nonce: "3", success: true });
  });

  it("test_decode_unknownTopic_throwsEventDecodeError", function () {
    const factory = createEventFactory();
    const log = factory.log("ProvenanceRegistry", "ParticipantReinstated", [ACCOUNTS.carrier]);
    const foreign = { ...log, topics: [keccak256(toUtf8Bytes("Surprise(address)")), ...log.topics.slice(1)] };
    expect(() => factory.decode(foreign)).to.throw(EventDecodeError, /does not know.*rebuild or redeploy/);
    expect(() => factory.decode({ ...log, address: ACCOUNTS.admin })).to.throw(EventDecodeError, /not from a Provena contract/);
  });

  it("test_decode_truncatedData_throwsEventDecodeError", function () {
    const factory = createEventFactory();
    const log = factory.log("ProvenanceRegistry", "QualityAttested", [batchId, ACCOUNTS.inspector, true, bytes32("r")]);
    expect(() => factory.decode({ ...log, data: log.data.slice(0, 40) })).to.throw(
      EventDecodeError,
      /Cannot decode ProvenanceRegistry\.QualityAttested/,
    );
  });

  it("test_toJsonValue_widthsEnumsAndArrays", function () {
    expect(toJsonValue(2n ** 48n - 1n, { type: "uint48", name: "x" })).to.equal(2 ** 48 - 1);
    expect(toJsonValue(2n ** 56n, { type: "uint64", name: "x" })).to.equal("72057594037927936");
    expect(toJsonValue(-5n, { type: "int256", name: "x" })).to.equal("-5");
    expect(toJsonValue(3n, { type: "uint8", name: "s", internalType: "enum IProvenanceRegistry.BatchStatus" })).to.equal("delivered");
    expect(toJsonValue(99n, { type: "uint8", name: "s", internalType: "enum IProvenanceRegistry.BatchStatus" })).to.equal(99);
    expect(toJsonValue([1n, 2n], { type: "uint16[]", name: "xs" })).to.deep.equal([1, 2]);
    expect(toJsonValue("0xABCD", { type: "bytes", name: "b" })).to.equal("0xabcd");
    expect(AbiCoder.defaultAbiCoder()).to.exist;
  });

  it("test_roleName_namesEveryRole", function () {
    expect(roleName(roleHash("REGULATOR_ROLE"), "ProvenanceRegistry")).to.equal("REGULATOR");
    expect(roleName(roleHash("ARBITER_ROLE"), "TradeEscrow")).to.equal("ARBITER");
    expect(roleName(ZeroHash, "ProvenanceRegistry")).to.equal("ADMIN");
    expect(roleName(ZeroHash, "TradeEscrow")).to.equal("ESCROW_ADMIN");
    expect(roleName(bytes32("other"), "TradeEscrow")).to.equal(bytes32("other"));
  });
});

describe("logistic units events", function () {
  const LOGISTIC_UNITS = "0x00000000000000000000000000000000000000c5";
  const abis = loadProvenaAbis();
  const decoder = createEventDecoder({ deployment: { ...TEST_DEPLOYMENT, logisticUnits: LOGISTIC_UNITS }, abis });
  const iface = new Interface(abis.LogisticUnits!);
  const decode = (name: string, values: unknown[]) => {
    const { topics, data } = iface.encodeEventLog(name, values);
    return decoder.decode(
      {
        address: LOGISTIC_UNITS,
        topics,
        data,
        blockNumber: 7,
        blockHash: bytes32("block 7"),
        transactionHash: bytes32("tx"),
        transactionIndex: 0,
        index: 3,
      },
      timestampOf(7),
    );
  };

  it("test_decode_BatchPacked_keepsTheSsccAsEighteenDigitsAndKeysTheBatch", function () {
    const batchId = bytes32("packed batch");
    const event = decode("BatchPacked", [84123450000000017n, batchId, ACCOUNTS.manufacturer, 8712345000103n]);
    expect(event.contract).to.equal("LogisticUnits");
    expect(event.args).to.deep.equal({
      sscc: "084123450000000017",
      batchId,
      custodian: ACCOUNTS.manufacturer.toLowerCase(),
      locationGln: "8712345000103",
    });
    expect(event.batchIds).to.deep.equal([batchId]);
    expect(decoder.addresses).to.include(LOGISTIC_UNITS);
  });

  it("test_decode_ContainerHandoffAccepted_namesTheBusinessStep", function () {
    const event = decode("ContainerHandoffAccepted", [106141412345678908n, ACCOUNTS.manufacturer, ACCOUNTS.carrier, 8712345000103n, 1]);
    expect(event.args.sscc).to.equal("106141412345678908");
    expect(event.args.businessStep).to.equal("receiving");
    expect(event.accounts).to.have.members([ACCOUNTS.manufacturer.toLowerCase(), ACCOUNTS.carrier.toLowerCase()]);
  });
});
