/**
 * `provena container …`: its SSCC argument (a typo in the check digit is caught before anything is sent) and what
 * `show` / `unpack` read from the chain (contents kept only where the contract still shows them inside).
 */
import { expect } from "chai";
import { network } from "hardhat";
import { ZeroHash } from "ethers";
import { readContainer, sscc, ssccDigits } from "../../../scripts/cli/container-commands.ts";
import { DEMO_PORT_GLN, deployLogisticUnits, deployProvena } from "../../../scripts/fixtures/provena-deployment.ts";
import type { LogisticUnits } from "../../../types/ethers-contracts/index.ts";
import { registerBatch } from "../../helpers/batches.ts";
import { runCli } from "../../helpers/cli-process.ts";
import { ssccFrom } from "../../helpers/gs1.ts";

const LOADING = 5;
const PALLET = ssccFrom("08412345000000001");
const CARTON = ssccFrom("08412345000000002");

describe("provena container (CLI)", function () {
  it("test_ssccArgument_acceptsTheGs1FormAndSaysTheExpectedCheckDigit", function () {
    const digits = ssccDigits(PALLET);
    expect(sscc(digits)).to.equal(PALLET);
    expect(sscc(`(00)${digits}`)).to.equal(PALLET);
    const wrong = digits.slice(0, 17) + String((Number(digits[17]) + 1) % 10);
    expect(() => sscc(wrong)).to.throw(`has a wrong check digit (expected ${digits[17]})`);
    expect(() => sscc("12345")).to.throw("must be an 18-digit SSCC");
    expect(() => sscc("08412345000000001x")).to.throw("must be an 18-digit SSCC");
  });

  it("test_cli_containerCreate_wrongCheckDigit_exits1BeforeConnecting", async function () {
    this.timeout(60_000);
    const digits = ssccDigits(PALLET);
    const wrong = digits.slice(0, 17) + String((Number(digits[17]) + 1) % 10);
    // No RPC_URL or key: the argument is refused before the CLI would need either.
    const outcome = await runCli(["container", "create", wrong, "--location", DEMO_PORT_GLN.toString()]);
    expect(outcome.code).to.equal(1);
    expect(outcome.stderr).to.include(`wrong check digit (expected ${digits[17]})`);
  });

  it("test_readContainer_showsHolderNestingContentsAndRecallFlag", async function () {
    const { ethers } = await network.create();
    const deployment = await deployProvena(ethers, { escrow: false });
    const { registry, manufacturer, carrier } = deployment;
    const units: LogisticUnits = await deployLogisticUnits(ethers, deployment);
    const unitsAddress = await units.getAddress();
    const lots = [];
    for (const lot of ["LOT-CLI-1", "LOT-CLI-2"]) lots.push((await registerBatch(registry, manufacturer, { lot, quantity: 5n })).batchId);
    for (const id of [PALLET, CARTON]) await (await units.connect(manufacturer).createContainer(id, DEMO_PORT_GLN)).wait();
    for (const batchId of lots) {
      await (await registry.connect(manufacturer).proposeHandoff(batchId, unitsAddress, DEMO_PORT_GLN, LOADING)).wait();
    }
    await (await units.connect(manufacturer).packBatches(CARTON, lots, DEMO_PORT_GLN)).wait();
    await (await units.connect(manufacturer).unpackBatches(CARTON, [lots[1]!], DEMO_PORT_GLN)).wait();
    await (await units.connect(manufacturer).packContainer(PALLET, CARTON, DEMO_PORT_GLN)).wait();
    await (await units.connect(manufacturer).proposeContainerHandoff(PALLET, carrier.address, DEMO_PORT_GLN, 0)).wait();
    await (await registry.connect(manufacturer).recallBatch(lots[0]!, ZeroHash)).wait();
    await (await units.flagRecalledBatch(lots[0]!)).wait();

    const carton = await readContainer(units, CARTON);
    expect(carton).to.deep.equal({
      sscc: ssccDigits(CARTON),
      custodian: manufacturer.address.toLowerCase(),
      pendingCustodian: null,
      packedIn: ssccDigits(PALLET),
      outermost: { sscc: ssccDigits(PALLET), custodian: manufacturer.address.toLowerCase() },
      batches: [lots[0]!.toLowerCase()], // the unpacked lot is no longer listed
      containers: [],
      recalledContents: 1,
    });
    const pallet = await readContainer(units, PALLET);
    expect(pallet).to.include({ packedIn: null, pendingCustodian: carrier.address.toLowerCase(), recalledContents: 1 });
    expect(pallet.containers).to.deep.equal([ssccDigits(CARTON)]);
    expect(pallet.batches).to.deep.equal([]);
    await readContainer(units, ssccFrom("08412345000000003")).then(
      () => expect.fail("an unknown SSCC must be refused"),
      (error: Error) => expect(error.message).to.equal(`no container has SSCC ${ssccDigits(ssccFrom("08412345000000003"))}`),
    );
  });
});
