import { expect } from "chai";
import { relayRequirement } from "../../../backend/relayer/relay-policy.ts";

describe("relay policy", function () {
  it("test_relayRequirement_escrowOrderLimitsAndAllowlist_areAdminOnly", function () {
    expect(relayRequirement("escrow", "setOrderLimits")).to.deep.equal({ kind: "admin" });
    expect(relayRequirement("escrow", "setTokenAllowed")).to.deep.equal({ kind: "admin" });
  });

  it("test_relayRequirement_openOrder_needsAnActiveParticipant", function () {
    // The chain then refuses, in the acceptance simulation, an order without the seller's consent.
    expect(relayRequirement("escrow", "openOrder")).to.deep.equal({ kind: "participant" });
  });

  it("test_relayRequirement_registryHooksOfTheEscrow_areNeverRelayed", function () {
    // Only the registry calls them; the escrow refuses anyone else, so relaying them would only burn the relayer's gas.
    expect(relayRequirement("escrow", "onCustodyAccepted")).to.include({ kind: "refused" });
    expect(relayRequirement("escrow", "onQualityAttested")).to.include({ kind: "refused" });
  });

  it("test_relayRequirement_designRegistry_anyActiveParticipant_theContractChecksPrefixes", function () {
    // Registering needs no role; linking is refused by the contract (so by the acceptance simulation) for non-holders.
    for (const fn of ["registerDesign", "linkDesign", "unlinkDesign"]) {
      expect(relayRequirement("designRegistry", fn)).to.deep.equal({ kind: "participant" });
    }
  });

  it("test_relayRequirement_coldChain_carriersForDevicesManufacturersForConditionsAnyoneForEvidence", function () {
    for (const name of ["registerDevice", "retireDevice", "attachDevice", "detachDevice", "anchorReadings"]) {
      expect(relayRequirement("coldChain", name)).to.deep.equal({ kind: "role", anyOf: ["CARRIER"] });
    }
    expect(relayRequirement("coldChain", "setProductConditions")).to.deep.equal({ kind: "role", anyOf: ["MANUFACTURER"] });
    expect(relayRequirement("coldChain", "setBatchConditions")).to.deep.equal({ kind: "role", anyOf: ["MANUFACTURER"] });
    expect(relayRequirement("coldChain", "submitExcursion")).to.deep.equal({ kind: "participant" });
    expect(relayRequirement("coldChain", "grantRole")).to.deep.equal({ kind: "admin" });
    expect(relayRequirement("escrow", "setColdChain")).to.deep.equal({ kind: "admin" });
  });

  it("test_relayRequirement_productData_publishingNeedsTheManufacturerRole", function () {
    expect(relayRequirement("productData", "publishProductData")).to.deep.equal({ kind: "role", anyOf: ["MANUFACTURER"] });
    expect(relayRequirement("productData", "publishBatchData")).to.deep.equal({ kind: "role", anyOf: ["MANUFACTURER"] });
    expect(relayRequirement("productData", "anchorBatchDocument")).to.deep.equal({ kind: "participant" });
    expect(relayRequirement("productData", "anchorProductDocument")).to.deep.equal({ kind: "role", anyOf: ["MANUFACTURER"] });
    expect(relayRequirement("productData", "registry")).to.have.property("kind", "refused");
  });

  it("test_relayRequirement_unitOwnership_ownersTransferManufacturersCommit_noApprovalsOrClaims", function () {
    expect(relayRequirement("unitOwnership", "transferFrom")).to.deep.equal({ kind: "tokenOwner" });
    expect(relayRequirement("unitOwnership", "safeTransferFrom")).to.deep.equal({ kind: "tokenOwner" });
    expect(relayRequirement("unitOwnership", "commitClaimRoot")).to.deep.equal({ kind: "role", anyOf: ["MANUFACTURER"] });
    expect(relayRequirement("unitOwnership", "setBaseURI")).to.deep.equal({ kind: "admin" });
    // Claims have their own relay (the claim key is checked before the relayer pays); approvals move nothing.
    for (const name of ["claim", "approve", "setApprovalForAll", "renounceRole", "grantRole", "beginDefaultAdminTransfer"]) {
      expect(relayRequirement("unitOwnership", name)).to.include({ kind: "refused" });
    }
  });

  it("test_relayRequirement_logisticUnits_custodiansMoveContainersAnyoneFlagsARecall", function () {
    for (const name of ["createContainer", "packBatches", "packContainer", "unpackBatches", "unpackContainer"]) {
      expect(relayRequirement("logisticUnits", name)).to.deep.equal({ kind: "participant" });
    }
    for (const name of ["proposeContainerHandoff", "acceptContainerHandoff", "rejectContainerHandoff", "cancelContainerHandoff"]) {
      expect(relayRequirement("logisticUnits", name)).to.deep.equal({ kind: "participant" });
    }
    expect(relayRequirement("logisticUnits", "renewBatchRelease")).to.deep.equal({ kind: "participant" });
    expect(relayRequirement("logisticUnits", "flagRecalledBatch")).to.deep.equal({ kind: "anyone" });
    expect(relayRequirement("logisticUnits", "somethingNew")).to.include({ kind: "refused" });
  });
});
