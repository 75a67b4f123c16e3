/**
 * The seller's consent to an escrow order: an EIP-712 signature over the order's terms, field for field, under
 * the escrow's domain (name, version, chain id, escrow address). The escrow checks it on `openOrder`
 * (ECDSA for an account, ERC-1271 `isValidSignature` for a contract wallet), so no order names a seller
 * that did not agree to exactly these terms on this chain and escrow.
 */
import type { TypedDataDomain, TypedDataField } from "ethers";
import type { OrderStruct } from "./contracts.ts";

/** The escrow's EIP-712 domain name and version (TradeEscrow's constructor). */
export const ORDER_CONSENT_DOMAIN_NAME = "Provena TradeEscrow";
export const ORDER_CONSENT_DOMAIN_VERSION = "1";

/** The typed-data types of the consent: TradeEscrow.ORDER_TYPEHASH. */
export const ORDER_CONSENT_TYPES: Record<string, TypedDataField[]> = {
  Order: [
    { name: "buyer", type: "address" },
    { name: "seller", type: "address" },
    { name: "carrier", type: "address" },
    { name: "token", type: "address" },
    { name: "amount", type: "uint256" },
    { name: "batchId", type: "bytes32" },
    { name: "sellerBps", type: "uint16" },
    { name: "carrierBps", type: "uint16" },
    { name: "platformBps", type: "uint16" },
    { name: "deliveryDeadline", type: "uint40" },
    { name: "disputeWindow", type: "uint32" },
    { name: "inspector", type: "address" },
    { name: "fallbackBuyerBps", type: "uint16" },
    { name: "salt", type: "bytes32" },
    { name: "breachTerms", type: "uint8" },
  ],
};

/** The escrow's EIP-712 domain on `chainId`. */
export function orderConsentDomain(chainId: bigint | number, escrowAddress: string): TypedDataDomain {
  return { name: ORDER_CONSENT_DOMAIN_NAME, version: ORDER_CONSENT_DOMAIN_VERSION, chainId, verifyingContract: escrowAddress };
}

/** Anything that signs EIP-712 typed data (an ethers Wallet or a JSON-RPC signer). */
export interface TypedDataSigner {
  signTypedData(domain: TypedDataDomain, types: Record<string, TypedDataField[]>, value: Record<string, unknown>): Promise<string>;
}

/** The seller's signature consenting to `order` on the escrow at `escrowAddress` on `chainId`. */
export function signOrderConsent(
  seller: TypedDataSigner,
  escrow: { chainId: bigint | number; address: string },
  order: OrderStruct,
): Promise<string> {
  return seller.signTypedData(orderConsentDomain(escrow.chainId, escrow.address), ORDER_CONSENT_TYPES, { ...order });
}

/** A signer connected to the chain it signs for. */
export interface ConnectedTypedDataSigner extends TypedDataSigner {
  provider: { getNetwork(): Promise<{ chainId: bigint }> } | null;
}

/** The seller's consent to `order` on `escrow`, on the chain the seller is connected to. */
export async function signOrderConsentOn(
  escrow: { getAddress(): Promise<string> },
  seller: ConnectedTypedDataSigner,
  order: OrderStruct,
): Promise<string> {
  if (seller.provider === null) throw new Error("the seller's signer is not connected to a chain");
  const { chainId } = await seller.provider.getNetwork();
  return signOrderConsent(seller, { chainId, address: await escrow.getAddress() }, order);
}
