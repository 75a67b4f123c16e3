/**
 * Shared fixture and helpers of the TradeEscrow suites: a real ProvenaForwarder + ProvenanceRegistry +
 * TradeEscrow (the escrow installed as the registry's custody observer), onboarded participants, one
 * registered batch held by the manufacturer, and a 6-decimal stablecoin the buyer holds and approved.
 */
import { network } from "hardhat";
import { ORDER_CONSENT_TYPES, orderConsentDomain } from "../../backend/chain/order-consent.ts";
import { signForwardRequest as signRequest } from "../helpers/forwarder.ts";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { BaseContract, BigNumberish, ContractTransactionResponse } from "ethers";

export const connection = await network.create();
export const { ethers, networkHelpers } = connection;

export const BPS = 10_000n;
export const PLATFORM_FEE_BPS = 250n;
export const ARBITRATION_PERIOD = 7n * 24n * 3600n;
export const DISPUTE_WINDOW = 3n * 24n * 3600n;
export const DELIVERY_PERIOD = 30n * 24n * 3600n;
export const GLN = 9_506_000_000_001n;
export const ETH = ethers.ZeroAddress;

export enum OrderState {
  None,
  Funded,
  Delivered,
  Disputed,
  Released,
  Refunded,
  Resolved,
  Cancelled,
}

export enum RefundReason {
  DeadlinePassed,
  BatchRecalled,
  InspectionFailed,
  ConditionsBreached,
}

export enum InspectionResult {
  None,
  Passed,
  Failed,
}

export enum BusinessStep {
  Shipping,
  Receiving,
}

export interface Order {
  buyer: string;
  seller: string;
  carrier: string;
  token: string;
  amount: bigint;
  batchId: string;
  sellerBps: bigint;
  carrierBps: bigint;
  platformBps: bigint;
  deliveryDeadline: bigint;
  disputeWindow: bigint;
  inspector: string;
  fallbackBuyerBps: bigint;
  salt: string;
  breachTerms: bigint;
}

/** ITradeEscrow.BreachTerms */
export enum BreachTerms {
  None,
  RefundFreight,
  RejectGoods,
  Dispute,
}

const ORDER_TUPLE =
  "tuple(address buyer,address seller,address carrier,address token,uint256 amount,bytes32 batchId," +
  "uint16 sellerBps,uint16 carrierBps,uint16 platformBps,uint40 deliveryDeadline,uint32 disputeWindow," +
  "address inspector,uint16 fallbackBuyerBps,bytes32 salt,uint8 breachTerms)";

/** The order id as the contract derives it: keccak256(abi.encode(order)). */
export function orderIdOf(order: Order): string {
  return ethers.keccak256(ethers.AbiCoder.defaultAbiCoder().encode([ORDER_TUPLE], [order]));
}

/** `openOrderOf` of a batch without an open order. */
export const NO_ORDER = ethers.ZeroHash;

/** Appends the GS1 mod-10 check digit to a GTIN's data digits. */
export function gtinWithCheckDigit(data: bigint): bigint {
  let sum = 0n;
  let rest = data;
  let weight = 3n;
  while (rest > 0n) {
    sum += (rest % 10n) * weight;
    rest /= 10n;
    weight = weight === 3n ? 1n : 3n;
  }
  return data * 10n + ((10n - (sum % 10n)) % 10n);
}

let batchCounter = 0;
/** The lot of each batch `registerBatch` made, for splits (a child's lot is `<parent lot>/<suffix>`). */
export const lotOfBatch = new Map<string, string>();

export async function deployEscrowFixture() {
  const [admin, manufacturer, carrier, buyer, inspector, regulator, arbiter, platform, stranger, relayer, otherBuyer] =
    await ethers.getSigners();

  const forwarder = await ethers.deployContract("ProvenaForwarder");
  const registry = await ethers.deployContract("ProvenanceRegistry", [await forwarder.getAddress(), admin.address, 0]);
  const escrow = await ethers.deployContract("TradeEscrow", [
    await registry.getAddress(),
    await forwarder.getAddress(),
    admin.address,
    0,
    platform.address,
    PLATFORM_FEE_BPS,
    ARBITRATION_PERIOD,
  ]);
  await registry.connect(admin).setCustodyObserver(await escrow.getAddress());
  await escrow.connect(admin).grantRole(await escrow.ARBITER_ROLE(), arbiter.address);

  const onboard = async (account: string, role: string, name: string) =>
    registry.connect(admin).onboardParticipant(account, role, GLN, name);
  await onboard(manufacturer.address, await registry.MANUFACTURER_ROLE(), "Acme Coffee Roasters");
  // The GS1 company prefix of the fixture GTIN (0950600013435 + check digit), so the manufacturer may register it.
  await registry.connect(admin).grantCompanyPrefix(manufacturer.address, 9506000n, 7);
  await onboard(carrier.address, await registry.CARRIER_ROLE(), "Oceanic Freight");
  await onboard(buyer.address, await registry.RETAILER_ROLE(), "Corner Grocer");
  await onboard(otherBuyer.address, await registry.RETAILER_ROLE(), "Second Grocer");
  await onboard(inspector.address, await registry.INSPECTOR_ROLE(), "SGS Inspection");
  await onboard(regulator.address, await registry.REGULATOR_ROLE(), "Food Safety Agency");

  const stablecoin = await ethers.deployContract("MockStablecoin");
  await stablecoin.mint(buyer.address, 1_000_000n * 10n ** 6n);
  await stablecoin.connect(buyer).approve(await escrow.getAddress(), ethers.MaxUint256);
  await escrow.connect(admin).setTokenAllowed(await stablecoin.getAddress(), true);

  const fixture = {
    admin,
    manufacturer,
    carrier,
    buyer,
    inspector,
    regulator,
    arbiter,
    platform,
    stranger,
    relayer,
    otherBuyer,
    forwarder,
    registry,
    escrow,
    stablecoin,
  };
  const batchId = await registerBatch(fixture);
  return { ...fixture, batchId };
}

export type EscrowFixture = Awaited<ReturnType<typeof deployEscrowFixture>>;
type FixtureBase = Omit<EscrowFixture, "batchId">;

/** Registers a new batch held by `holder` (default: the manufacturer) and returns its id. */
export async function registerBatch(fx: FixtureBase): Promise<string> {
  batchCounter += 1;
  const gtin = gtinWithCheckDigit(950_600_013_435n);
  const lot = `LOT-${batchCounter}`;
  const now = BigInt(await networkHelpers.time.latest());
  await fx.registry
    .connect(fx.manufacturer)
    .registerBatch(gtin, lot, 1_000n, now - 86_400n, GLN, ethers.id(`doc ${lot}`), ethers.id(`serials ${lot}`));
  const batchId = await fx.registry.batchIdOf(gtin, lot);
  lotOfBatch.set(batchId, lot);
  return batchId;
}

/** An order of `amount` (default 1 ETH or 1,000 stablecoin units) by the buyer to the manufacturer, 3-way split. */
export async function makeOrder(fx: EscrowFixture, overrides: Partial<Order> = {}): Promise<Order> {
  const now = BigInt(await networkHelpers.time.latest());
  const token = overrides.token ?? ETH;
  return {
    buyer: fx.buyer.address,
    seller: fx.manufacturer.address,
    carrier: fx.carrier.address,
    token,
    amount: token === ETH ? ethers.parseEther("1") : 1_000n * 10n ** 6n,
    batchId: fx.batchId,
    sellerBps: 8_750n,
    carrierBps: 1_000n,
    platformBps: PLATFORM_FEE_BPS,
    deliveryDeadline: now + DELIVERY_PERIOD,
    disputeWindow: DISPUTE_WINDOW,
    inspector: ethers.ZeroAddress,
    fallbackBuyerBps: 5_000n,
    salt: ethers.id(`salt ${now} ${Math.random()}`),
    breachTerms: 0n,
    ...overrides,
  };
}

/** `signer`'s EIP-712 consent to `order` on the fixture's escrow (default chain: the network's). */
export async function signConsent(fx: EscrowFixture, order: Order, signer: HardhatEthersSigner, chainId?: bigint): Promise<string> {
  // The backend's typed data, so these tests also prove it matches the contract's ORDER_TYPEHASH and domain.
  const domain = orderConsentDomain(chainId ?? (await ethers.provider.getNetwork()).chainId, await fx.escrow.getAddress());
  return signer.signTypedData(domain, ORDER_CONSENT_TYPES, order);
}

/** The consent of `order`'s seller to `order`; empty when the seller is none of the fixture's accounts. */
export async function sellerConsent(fx: EscrowFixture, order: Order): Promise<string> {
  const seller = (await ethers.getSigners()).find((candidate) => candidate.address === order.seller);
  return seller === undefined ? "0x" : signConsent(fx, order, seller);
}

/**
 * Opens and funds `order` from `from` (default: the buyer) with `consent` (default: the seller's own),
 * sending ETH when it is an ETH order.
 */
export async function openOrder(fx: EscrowFixture, order: Order, from: HardhatEthersSigner = fx.buyer, consent?: string) {
  const signature = consent ?? (await sellerConsent(fx, order));
  return fx.escrow.connect(from).openOrder(order, signature, { value: order.token === ETH ? order.amount : 0n });
}

/** Moves the batch from the manufacturer to the carrier (shipment), leaving it with the carrier. */
export async function ship(fx: EscrowFixture, batchId: string = fx.batchId) {
  await fx.registry.connect(fx.manufacturer).proposeHandoff(batchId, fx.carrier.address, GLN, BusinessStep.Shipping);
  await fx.registry.connect(fx.carrier).acceptHandoff(batchId, GLN, BusinessStep.Receiving);
}

/** Carrier hands the batch to `to` (default: the buyer); returns the accepting transaction. */
export async function handToBuyer(
  fx: EscrowFixture,
  batchId: string = fx.batchId,
  to: HardhatEthersSigner = fx.buyer,
): Promise<ContractTransactionResponse> {
  await fx.registry.connect(fx.carrier).proposeHandoff(batchId, to.address, GLN, BusinessStep.Shipping);
  return fx.registry.connect(to).acceptHandoff(batchId, GLN, BusinessStep.Receiving);
}

/** Ships and delivers the batch to the buyer; returns the buyer's accepting transaction. */
export async function deliver(fx: EscrowFixture, batchId: string = fx.batchId) {
  await ship(fx, batchId);
  return handToBuyer(fx, batchId);
}

/** The split the contract pays for `amount`: carrier and platform rounded down, dust to the seller. */
export function splitOf(order: Order, amount: bigint = order.amount) {
  const carrier = (amount * order.carrierBps) / BPS;
  const platform = (amount * order.platformBps) / BPS;
  return { seller: amount - carrier - platform, carrier, platform };
}

/** Balance of `account` in `token` (address(0) for ETH). */
export async function balanceOf(fx: EscrowFixture, token: string, account: string): Promise<bigint> {
  if (token === ETH) return ethers.provider.getBalance(account);
  const erc20 = await ethers.getContractAt("MockStablecoin", token);
  return erc20.balanceOf(account);
}

/** Signs an ERC-2771 ForwardRequest for `to.data` as `signer` and returns what `forwarder.execute` takes. */
export async function signForwardRequest(
  fx: EscrowFixture,
  signer: HardhatEthersSigner,
  to: BaseContract,
  data: string,
  value: BigNumberish = 0n,
  gas: BigNumberish = 1_000_000n,
) {
  return signRequest({ forwarder: fx.forwarder, signer, target: to, data, value: BigInt(value), gas: BigInt(gas) });
}

/** `order` as the positional tuple events and `withArgs` compare against. */
export function orderTuple(order: Order) {
  return [
    order.buyer,
    order.seller,
    order.carrier,
    order.token,
    order.amount,
    order.batchId,
    order.sellerBps,
    order.carrierBps,
    order.platformBps,
    order.deliveryDeadline,
    order.disputeWindow,
    order.inspector,
    order.fallbackBuyerBps,
    order.salt,
    order.breachTerms,
  ];
}

/** Timestamp of the block that mined `tx`. */
export async function timestampOf(tx: ContractTransactionResponse): Promise<bigint> {
  const receipt = await tx.wait();
  const block = await ethers.provider.getBlock(receipt!.blockNumber);
  return BigInt(block!.timestamp);
}

/** The two assets every settlement path is exercised in. */
export const ASSETS = ["ETH", "ERC-20"] as const;
export type Asset = (typeof ASSETS)[number];

/** Token address of `asset` in the fixture. */
export async function tokenOf(fx: EscrowFixture, asset: Asset): Promise<string> {
  return asset === "ETH" ? ETH : fx.stablecoin.getAddress();
}
