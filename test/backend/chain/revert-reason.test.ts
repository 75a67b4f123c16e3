import { expect } from "chai";
import { AbiCoder, Interface, id as keccakText } from "ethers";
import { loadProvenaAbis } from "../../../backend/chain/artifacts.ts";
import { coldChainAbi, unitOwnershipAbi } from "../../../backend/chain/contracts.ts";
import { createRevertDecoder, extractRevertData } from "../../../backend/chain/revert-reason.ts";

describe("revert reasons", function () {
  const abis = loadProvenaAbis();
  const registry = new Interface(abis.ProvenanceRegistry);
  const escrow = new Interface(abis.TradeEscrow);
  const designs = new Interface(abis.DesignRegistry);
  const productData = new Interface(abis.ProductDataRegistry);
  const coldChain = new Interface(coldChainAbi());
  const decoder = createRevertDecoder([
    abis.ProvenanceRegistry,
    abis.TradeEscrow,
    abis.ProvenaForwarder,
    abis.DesignRegistry,
    abis.ProductDataRegistry,
    coldChain,
  ]);
  const account = "0x" + "ab".repeat(20);
  const batchId = "0x" + "12".repeat(32);

  it("test_decode_customErrorOfAnyProvenaContract_becomesASentence", function () {
    const data = registry.encodeErrorResult("BatchNotCustodian", [batchId, account]);
    const decoded = decoder.decode(data)!;
    expect(decoded.name).to.equal("BatchNotCustodian");
    expect(decoded.message).to.equal(`BatchNotCustodian: ${account} is not the custodian of batch ${batchId}`);
    const escrowError = escrow.encodeErrorResult("EscrowTooEarly", [batchId, 1_800_000_000n]);
    expect(decoder.decode(escrowError)!.message).to.equal(
      `EscrowTooEarly: too early for order ${batchId}: possible from 2027-01-15T08:00:00.000Z`,
    );
  });

  it("test_decode_everyErrorAPartnerCanMeet_hasASentence", function () {
    // Only the admin, the registry itself or a deployer meet these; they keep the generic Name(arg=value) form.
    // (InvalidShortString and StringTooLong come with the escrow's EIP-712 domain and revert only at its deployment.)
    const internal = new Set([
      "CustodyObserverUnauthorized",
      "EscrowNotRegistry",
      "EscrowInvalidArbitrationPeriod",
      "InvalidShortString",
      "StringTooLong",
    ]);
    const withoutSentence: string[] = [];
    for (const iface of [registry, escrow, designs, productData, coldChain]) {
      iface.forEachError((fragment) => {
        if (internal.has(fragment.name) || fragment.name.startsWith("AccessControl") || fragment.name.startsWith("SafeCast")) return;
        const data = iface.encodeErrorResult(
          fragment,
          fragment.inputs.map((input) => sampleArg(input.type)),
        );
        const message = decoder.decode(data)!.message;
        if (!message.startsWith(`${fragment.name}: `)) withoutSentence.push(message);
      });
    }
    expect(withoutSentence).to.deep.equal([]);
    const shipped = decoder.decode(escrow.encodeErrorResult("EscrowAlreadyShipped", [batchId]))!.message;
    expect(shipped).to.contain("waits until the buyer accepts or rejects");
    const consent = decoder.decode(escrow.encodeErrorResult("EscrowInvalidSellerConsent", [batchId, account]))!.message;
    expect(consent).to.contain(`the seller ${account.toLowerCase()} has not signed its consent`);
    const inspection = decoder.decode(escrow.encodeErrorResult("EscrowInspectionNotPassed", [batchId, 2]))!.message;
    expect(inspection).to.equal(
      `EscrowInspectionNotPassed: order ${batchId} requires a passing inspection by its named inspector; the escrow has recorded Failed from it`,
    );
  });

  it("test_decode_productDataNotPrefixHolder_namesTheHolderOrNobody", function () {
    const holder = "0x" + "cd".repeat(20);
    const held = decoder.decode(productData.encodeErrorResult("ProductDataNotPrefixHolder", [8412345000102n, account, holder]))!;
    expect(held.message).to.equal(
      `ProductDataNotPrefixHolder: ${account} may not publish product data of GTIN 8412345000102: its GS1 company prefix belongs to ${holder}`,
    );
    const nobody = decoder.decode(
      productData.encodeErrorResult("ProductDataNotPrefixHolder", [8412345000102n, account, "0x" + "00".repeat(20)]),
    )!;
    expect(nobody.message).to.contain("no manufacturer holds its GS1 company prefix");
  });

  it("test_decode_everyUnitOwnershipErrorAShopperOrManufacturerCanMeet_hasASentence", function () {
    const unitOwnership = new Interface(unitOwnershipAbi());
    const unitDecoder = createRevertDecoder([abis.ProvenanceRegistry, abis.TradeEscrow, abis.ProvenaForwarder, unitOwnership]);
    const internal = new Set(["RegistryZero", "InvalidShortString", "StringTooLong"]);
    const withoutSentence: string[] = [];
    unitOwnership.forEachError((fragment) => {
      if (internal.has(fragment.name) || fragment.name.startsWith("AccessControl") || fragment.name.startsWith("SafeCast")) return;
      const data = unitOwnership.encodeErrorResult(
        fragment,
        fragment.inputs.map((input) => (input.type === "string" ? "SN-000001" : sampleArg(input.type))),
      );
      const message = unitDecoder.decode(data)!.message;
      if (!message.startsWith(`${fragment.name}: `)) withoutSentence.push(message);
    });
    expect(withoutSentence).to.deep.equal([]);
    const notCommitted = unitDecoder.decode(unitOwnership.encodeErrorResult("ClaimKeyNotCommitted", [batchId, "SN-000001", account]))!;
    expect(notCommitted.message).to.equal(
      `ClaimKeyNotCommitted: claim key ${account} is not the one committed for unit "SN-000001" of batch ${batchId} (or its claim proof is wrong)`,
    );
  });

  it("test_decode_orderNamingAnInvalidInspector_saysWhatAnInspectorMustBe", function () {
    const notInspector = decoder.decode(escrow.encodeErrorResult("EscrowInvalidInspector", [account]))!;
    expect(notInspector.args).to.deep.equal({ inspector: account });
    expect(notInspector.message).to.equal(
      `EscrowInvalidInspector: ${account} is not an active inspector (onboarded with the INSPECTOR role and not suspended), so an order cannot name it`,
    );
    // The escrow raises EscrowInvalidParty(inspector) for an inspector that is a party: the sentence covers that case.
    const party = decoder.decode(escrow.encodeErrorResult("EscrowInvalidParty", [account]))!.message;
    expect(party).to.contain(`${account} cannot take this part in the order`);
    expect(party).to.contain("an inspector that is none of the buyer, seller and carrier");
  });

  it("test_decode_roleHashesAndEnumsAreNamed", function () {
    const unauthorized = registry.encodeErrorResult("ParticipantUnauthorized", [account, keccakText("INSPECTOR_ROLE")]);
    expect(decoder.decode(unauthorized)!.message).to.contain("with the INSPECTOR role");
    const status = registry.encodeErrorResult("BatchInvalidStatus", [batchId, 5]);
    expect(decoder.decode(status)!.args.status).to.equal("Recalled");
  });

  it("test_decode_requireStringsPanicsAndUnknownData", function () {
    const errorString = "0x08c379a0" + AbiCoder.defaultAbiCoder().encode(["string"], ["not allowed"]).slice(2);
    expect(decoder.decode(errorString)!.message).to.equal("not allowed");
    const panic = "0x4e487b71" + AbiCoder.defaultAbiCoder().encode(["uint256"], [0x11]).slice(2);
    expect(decoder.decode(panic)!.message).to.equal("panic: an arithmetic operation overflowed");
    expect(decoder.decode("0xdeadbeef")!.message).to.equal("reverted with unknown error data 0xdeadbeef");
    expect(decoder.decode("0x")).to.equal(null);
  });

  it("test_extractRevertData_findsDataNestedInProviderErrors", function () {
    const data = registry.encodeErrorResult("BatchUnknown", [batchId]);
    expect(extractRevertData({ info: { error: { data } } })).to.equal(data);
    expect(extractRevertData({ error: { error: { data: { data } } } })).to.equal(data);
    expect(decoder.describe({ shortMessage: "execution reverted", info: { error: { data } } })).to.equal(
      `BatchUnknown: no batch ${batchId} is registered`,
    );
    expect(decoder.describe(new Error("connection refused\nat …"))).to.equal("connection refused");
  });
});

function sampleArg(type: string): unknown {
  if (type === "address") return "0x" + "ab".repeat(20);
  const fixedBytes = /^bytes(\d+)$/.exec(type);
  if (fixedBytes) return "0x" + "12".repeat(Number(fixedBytes[1]));
  if (type === "bool") return true;
  if (type === "string") return "x";
  if (type === "bytes") return "0x";
  return 1n;
}
