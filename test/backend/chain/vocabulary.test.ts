import { expect } from "chai";
import { ZeroHash, id as keccakText } from "ethers";
import { loadProvenaAbis } from "../../../backend/chain/artifacts.ts";
import {
  ENUM_VALUE_NAMES,
  businessStepValue,
  ROLE_HASHES,
  enumNameOf,
  namedRoleOf,
  roleName,
  solidityMemberName,
} from "../../../backend/chain/vocabulary.ts";

describe("chain vocabulary", function () {
  const abis = loadProvenaAbis();

  it("test_roleHashes_equalTheContractsRoleConstants", function () {
    expect(ROLE_HASHES.CARRIER).to.equal(keccakText("CARRIER_ROLE"));
    expect(ROLE_HASHES.ARBITER).to.equal(keccakText("ARBITER_ROLE"));
    expect(namedRoleOf(keccakText("INSPECTOR_ROLE").toUpperCase().replace("0X", "0x"))).to.equal("INSPECTOR");
    expect(namedRoleOf(keccakText("OTHER_ROLE"))).to.equal(null);
  });

  it("test_roleName_defaultAdminDependsOnTheContract", function () {
    expect(roleName(ZeroHash, "ProvenanceRegistry")).to.equal("ADMIN");
    expect(roleName(ZeroHash, "TradeEscrow")).to.equal("ESCROW_ADMIN");
    expect(roleName(keccakText("REGULATOR_ROLE"), "ProvenanceRegistry")).to.equal("REGULATOR");
    const unknown = keccakText("OTHER_ROLE");
    expect(roleName(unknown.toUpperCase().replace("0X", "0x"), "ProvenanceRegistry")).to.equal(unknown);
  });

  it("test_enumValueNames_coverEveryEnumTheAbisUse", function () {
    const enums = new Set<string>();
    const visit = (params: readonly { internalType?: string; components?: readonly unknown[] }[] | undefined) => {
      for (const param of params ?? []) {
        const name = enumNameOf(param.internalType);
        if (name !== null) enums.add(name);
        visit(param.components as typeof params);
      }
    };
    for (const abi of Object.values(abis)) {
      for (const fragment of abi) {
        visit(fragment.inputs as never);
        visit(fragment.outputs as never);
      }
    }
    expect([...enums].filter((name) => ENUM_VALUE_NAMES[name] === undefined)).to.deep.equal([]);
    expect(enums.has("BusinessStep")).to.equal(true);
  });

  it("test_businessStepValue_isTheSolidityEnumValue", function () {
    expect(businessStepValue("shipping")).to.equal(0);
    expect(businessStepValue("entering_exiting")).to.equal(10);
    expect(businessStepValue("retail")).to.equal(11);
  });

  it("test_solidityMemberName_snakeToPascal", function () {
    expect(solidityMemberName("in_transit")).to.equal("InTransit");
    expect(solidityMemberName("none")).to.equal("None");
    expect(solidityMemberName("entering_exiting")).to.equal("EnteringExiting");
  });
});
