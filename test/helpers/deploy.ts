/**
 * Test deployment of Provena on a Hardhat connection: forwarder, provenance registry, the escrow when it
 * is compiled, and six onboarded demo participants.
 *
 * Usage (inside a `loadFixture` fixture):
 *
 *   const { ethers, networkHelpers } = await network.create();
 *   const deployFixture = () => deployProvena(ethers);
 *   const { registry, forwarder, escrow, manufacturer, carrier, participants } =
 *     await networkHelpers.loadFixture(deployFixture);
 *
 * Signer layout (from `ethers.getSigners()`; tests are free to use index 10 and up):
 *   0 admin (consortium admin, DEFAULT_ADMIN_ROLE, escrow admin/arbiter), 1 manufacturer, 2 carrier,
 *   3 customs (REGULATOR), 4 warehouse (CARRIER), 5 inspector, 6 retailer (= buyer, RETAILER),
 *   7 relayer (not onboarded, pays gas for forwarded calls), 8 outsider (never onboarded),
 *   9 platform (escrow fee recipient).
 * Participants are onboarded in the order of DEMO_PARTICIPANTS, so their ids are 1..6 in that order.
 */
import { artifacts } from "hardhat";
import type { HardhatEthers, HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { ProvenaForwarder, ProvenanceRegistry, TradeEscrow } from "../../types/ethers-contracts/index.js";
import { glnFrom } from "./gs1.ts";

export type ParticipantRoleName = "MANUFACTURER_ROLE" | "CARRIER_ROLE" | "INSPECTOR_ROLE" | "RETAILER_ROLE" | "REGULATOR_ROLE";

export type DemoParticipantKey = "manufacturer" | "carrier" | "customs" | "warehouse" | "inspector" | "retailer";

export interface DemoParticipantSpec {
  key: DemoParticipantKey;
  /** Index into `ethers.getSigners()`. */
  signerIndex: number;
  roleName: ParticipantRoleName;
  name: string;
  /** 13-digit GLN with a valid check digit. */
  gln: bigint;
}

/** The demo consortium, in onboarding order (participant ids 1..6). */
export const DEMO_PARTICIPANTS: readonly DemoParticipantSpec[] = [
  { key: "manufacturer", signerIndex: 1, roleName: "MANUFACTURER_ROLE", name: "Acme Olive Oil S.L.", gln: glnFrom("841234500001") },
  { key: "carrier", signerIndex: 2, roleName: "CARRIER_ROLE", name: "Mare Nostrum Freight", gln: glnFrom("841234500002") },
  { key: "customs", signerIndex: 3, roleName: "REGULATOR_ROLE", name: "Port of Rotterdam Customs", gln: glnFrom("871234500003") },
  { key: "warehouse", signerIndex: 4, roleName: "CARRIER_ROLE", name: "Maasvlakte Cold Store", gln: glnFrom("871234500004") },
  { key: "inspector", signerIndex: 5, roleName: "INSPECTOR_ROLE", name: "Eurofins Food Lab", gln: glnFrom("871234500005") },
  { key: "retailer", signerIndex: 6, roleName: "RETAILER_ROLE", name: "FreshMart Retail B.V.", gln: glnFrom("871234500006") },
];

export interface DemoParticipant extends DemoParticipantSpec {
  signer: HardhatEthersSigner;
  address: string;
  /** The registry's participant id (0 when `onboard: false`). */
  id: bigint;
  role: string;
}

export interface EscrowDeployOptions {
  /** Platform fee in basis points every order must carry (default 100 = 1%). */
  platformFeeBps?: number;
  /** Seconds an arbiter has to resolve a dispute before the fallback rule applies (default 7 days). */
  arbitrationPeriod?: bigint;
}

export interface DeployProvenaOptions {
  /** Seconds a default-admin transfer waits (AccessControlDefaultAdminRules); default 0 for tests. */
  adminTransferDelay?: bigint;
  /** Onboard the demo participants (default true). */
  onboard?: boolean;
  /** Deploy the TradeEscrow when it is compiled and make it the custody observer (default true); false skips it. */
  escrow?: boolean | EscrowDeployOptions;
}

export interface ProvenaRoles {
  DEFAULT_ADMIN_ROLE: string;
  MANUFACTURER_ROLE: string;
  CARRIER_ROLE: string;
  INSPECTOR_ROLE: string;
  RETAILER_ROLE: string;
  REGULATOR_ROLE: string;
}

export interface ProvenaDeployment {
  forwarder: ProvenaForwarder;
  registry: ProvenanceRegistry;
  /** Undefined when TradeEscrow is not compiled or `escrow: false`. */
  escrow: TradeEscrow | undefined;
  admin: HardhatEthersSigner;
  manufacturer: HardhatEthersSigner;
  carrier: HardhatEthersSigner;
  customs: HardhatEthersSigner;
  warehouse: HardhatEthersSigner;
  inspector: HardhatEthersSigner;
  retailer: HardhatEthersSigner;
  /** The retailer, named for escrow tests. */
  buyer: HardhatEthersSigner;
  relayer: HardhatEthersSigner;
  outsider: HardhatEthersSigner;
  platform: HardhatEthersSigner;
  /** Every demo participant with its signer, id, role hash, GLN and name. */
  participants: Record<DemoParticipantKey, DemoParticipant>;
  roles: ProvenaRoles;
  /** All signers, for tests that need more accounts (use index 10 and up). */
  signers: HardhatEthersSigner[];
}

/** Deploys forwarder + registry (+ escrow) and onboards the demo consortium. See the file header. */
export async function deployProvena(ethers: HardhatEthers, options: DeployProvenaOptions = {}): Promise<ProvenaDeployment> {
  const signers = await ethers.getSigners();
  const [admin, , , , , , , relayer, outsider, platform] = signers;

  const forwarder = await ethers.deployContract("ProvenaForwarder", [], admin);
  await forwarder.waitForDeployment();
  const registry = await ethers.deployContract(
    "ProvenanceRegistry",
    [await forwarder.getAddress(), admin.address, options.adminTransferDelay ?? 0n],
    admin,
  );
  await registry.waitForDeployment();

  const roles: ProvenaRoles = {
    DEFAULT_ADMIN_ROLE: await registry.DEFAULT_ADMIN_ROLE(),
    MANUFACTURER_ROLE: await registry.MANUFACTURER_ROLE(),
    CARRIER_ROLE: await registry.CARRIER_ROLE(),
    INSPECTOR_ROLE: await registry.INSPECTOR_ROLE(),
    RETAILER_ROLE: await registry.RETAILER_ROLE(),
    REGULATOR_ROLE: await registry.REGULATOR_ROLE(),
  };

  const participants = {} as Record<DemoParticipantKey, DemoParticipant>;
  let nextId = 1n;
  for (const spec of DEMO_PARTICIPANTS) {
    const signer = signers[spec.signerIndex];
    const role = roles[spec.roleName];
    let id = 0n;
    if (options.onboard ?? true) {
      await (await registry.connect(admin).onboardParticipant(signer.address, role, spec.gln, spec.name)).wait();
      id = nextId++;
    }
    participants[spec.key] = { ...spec, signer, address: signer.address, id, role };
  }

  const escrow = options.escrow === false ? undefined : await deployEscrow(ethers, {
    registry,
    forwarder,
    admin,
    platform,
    options: typeof options.escrow === "object" ? options.escrow : {},
  });

  return {
    forwarder,
    registry,
    escrow,
    admin,
    manufacturer: participants.manufacturer.signer,
    carrier: participants.carrier.signer,
    customs: participants.customs.signer,
    warehouse: participants.warehouse.signer,
    inspector: participants.inspector.signer,
    retailer: participants.retailer.signer,
    buyer: participants.retailer.signer,
    relayer,
    outsider,
    platform,
    participants,
    roles,
    signers,
  };
}

// ------------------------------------------------------------------------------------------------
// Escrow (owned by the escrow team): everything escrow-specific about the test deployment lives here.
// ------------------------------------------------------------------------------------------------

interface EscrowDeployContext {
  registry: ProvenanceRegistry;
  forwarder: ProvenaForwarder;
  admin: HardhatEthersSigner;
  platform: HardhatEthersSigner;
  options: EscrowDeployOptions;
}

async function deployEscrow(ethers: HardhatEthers, context: EscrowDeployContext): Promise<TradeEscrow | undefined> {
  if (!(await artifacts.artifactExists("TradeEscrow"))) return undefined;
  const { registry, forwarder, admin, platform, options } = context;
  const escrow = await ethers.deployContract(
    "TradeEscrow",
    [
      await registry.getAddress(),
      await forwarder.getAddress(),
      admin.address,
      0n,
      platform.address,
      options.platformFeeBps ?? 100,
      options.arbitrationPeriod ?? 7n * 24n * 3600n,
    ],
    admin,
  );
  await escrow.waitForDeployment();
  await (await registry.connect(admin).setCustodyObserver(await escrow.getAddress())).wait();
  // The admin is also the demo arbiter (see the signer layout above).
  await (await escrow.connect(admin).grantRole(await escrow.ARBITER_ROLE(), admin.address)).wait();
  return escrow;
}
