import { expect } from "chai";
import { network } from "hardhat";
import ProvenaModule, {
  ANCHORER_ROLE,
  DEFAULT_ADMIN_TRANSFER_DELAY,
  DEFAULT_ARBITRATION_PERIOD,
  DEFAULT_MAX_DELIVERY_WINDOW,
  DEFAULT_MAX_DISPUTE_WINDOW,
  DEFAULT_PLATFORM_FEE_BPS,
} from "../../backend/deploy/ignition/ProvenaModule.ts";

const { ethers, ignition, networkHelpers } = await network.create();

describe("TradeEscrow: Ignition ProvenaModule", function () {
  async function deployedByIgnition() {
    return ignition.deploy(ProvenaModule);
  }

  it("test_module_deploysTheEscrowWiredToRegistryAndForwarder", async function () {
    const { forwarder, registry, escrow } = await networkHelpers.loadFixture(deployedByIgnition);
    const [deployer] = await ethers.getSigners();
    const escrowAddress = await escrow.getAddress();
    const tradeEscrow = await ethers.getContractAt("TradeEscrow", escrowAddress);
    expect(await registry.custodyObserver()).to.equal(escrowAddress);
    expect(await tradeEscrow.registry()).to.equal(await registry.getAddress());
    expect(await tradeEscrow.trustedForwarder()).to.equal(await forwarder.getAddress());
    expect(await tradeEscrow.defaultAdmin()).to.equal(deployer.address);
    expect(await tradeEscrow.defaultAdminDelay()).to.equal(DEFAULT_ADMIN_TRANSFER_DELAY);
    expect(await tradeEscrow.platformFee()).to.deep.equal([deployer.address, BigInt(DEFAULT_PLATFORM_FEE_BPS)]);
    expect(await tradeEscrow.arbitrationPeriod()).to.equal(DEFAULT_ARBITRATION_PERIOD);
    expect(await tradeEscrow.orderLimits()).to.deep.equal([DEFAULT_MAX_DELIVERY_WINDOW, DEFAULT_MAX_DISPUTE_WINDOW]);
    expect(await tradeEscrow.isTokenAllowed(ethers.ZeroAddress)).to.equal(true);
  });

  it("test_module_deploysTheColdChainWiredToRegistryAndForwarder_deployerAnchors", async function () {
    const { forwarder, registry, escrow, coldChain } = await networkHelpers.loadFixture(deployedByIgnition);
    const [deployer] = await ethers.getSigners();
    const cold = await ethers.getContractAt("ColdChain", await coldChain.getAddress());
    expect(await cold.registry()).to.equal(await registry.getAddress());
    expect(await cold.trustedForwarder()).to.equal(await forwarder.getAddress());
    expect(await cold.defaultAdmin()).to.equal(deployer.address);
    expect(await cold.defaultAdminDelay()).to.equal(DEFAULT_ADMIN_TRANSFER_DELAY);
    expect(await cold.hasRole(ANCHORER_ROLE, deployer.address)).to.equal(true);
    expect(ANCHORER_ROLE).to.equal(await cold.ANCHORER_ROLE());
    const tradeEscrow = await ethers.getContractAt("TradeEscrow", await escrow.getAddress());
    expect(await tradeEscrow.coldChain()).to.equal(await cold.getAddress());
  });

  it("test_module_takesTheEscrowParametersAndWiresFromTheAdminAccount", async function () {
    const signers = await ethers.getSigners();
    const consortium = signers[11];
    const treasury = signers[12];
    const deployed = await ignition.deploy(ProvenaModule, {
      defaultSender: consortium.address,
      parameters: {
        ProvenaModule: {
          admin: consortium.address,
          adminTransferDelay: 60n,
          platformRecipient: treasury.address,
          platformFeeBps: 250,
          arbitrationPeriod: 3_600n,
          maxDeliveryWindow: 14n * 86_400n,
          maxDisputeWindow: 86_400n,
          allowedToken: treasury.address,
          ethAllowed: false,
        },
      },
    });
    const escrow = await ethers.getContractAt("TradeEscrow", await deployed.escrow.getAddress());
    expect(await deployed.registry.custodyObserver()).to.equal(await escrow.getAddress());
    expect(await escrow.defaultAdmin()).to.equal(consortium.address);
    expect(await escrow.platformFee()).to.deep.equal([treasury.address, 250n]);
    expect(await escrow.arbitrationPeriod()).to.equal(3_600n);
    expect(await escrow.orderLimits()).to.deep.equal([14n * 86_400n, 86_400n]);
    expect(await escrow.isTokenAllowed(treasury.address)).to.equal(true);
    expect(await escrow.isTokenAllowed(ethers.ZeroAddress)).to.equal(false);
  });
});
