/** The fees the relayer offers, and the bump a replacement needs to displace a stuck transaction. */
import type { Provider } from "ethers";

export interface Fees {
  type: 2 | 0;
  maxFeePerGas?: bigint;
  maxPriorityFeePerGas?: bigint;
  gasPrice?: bigint;
}

/** Fees as stored in RelayRequest.gasPrice: "maxFee/priority" (EIP-1559) or "gasPrice" (legacy). */
export function encodeFees(fees: Fees): string {
  return fees.type === 2 ? `${fees.maxFeePerGas}/${fees.maxPriorityFeePerGas}` : `${fees.gasPrice}`;
}

export function decodeFees(encoded: string | null): Fees | null {
  if (!encoded) return null;
  const [first, second] = encoded.split("/");
  return second === undefined
    ? { type: 0, gasPrice: BigInt(first) }
    : { type: 2, maxFeePerGas: BigInt(first), maxPriorityFeePerGas: BigInt(second) };
}

/**
 * The node's current fees; when replacing a transaction sent with `previous`, at least `bumpPercent` more than
 * those (plus one wei), since nodes refuse a replacement that does not pay more.
 */
export function bumpedFees(current: Fees, previous: Fees | null, bumpPercent: bigint): Fees {
  if (!previous || previous.type !== current.type) return current;
  const bump = (value: bigint) => value + (value * bumpPercent) / 100n + 1n;
  if (current.type === 2) {
    return {
      type: 2,
      maxFeePerGas: max(current.maxFeePerGas!, bump(previous.maxFeePerGas!)),
      maxPriorityFeePerGas: max(current.maxPriorityFeePerGas!, bump(previous.maxPriorityFeePerGas!)),
    };
  }
  return { type: 0, gasPrice: max(current.gasPrice!, bump(previous.gasPrice!)) };
}

/** The fees to send with now: bumped over `previous` when replacing a transaction. */
export async function feesFor(provider: Pick<Provider, "getFeeData">, previous: Fees | null, bumpPercent: bigint): Promise<Fees> {
  const data = await provider.getFeeData();
  const current: Fees =
    data.maxFeePerGas !== null && data.maxPriorityFeePerGas !== null
      ? { type: 2, maxFeePerGas: data.maxFeePerGas, maxPriorityFeePerGas: data.maxPriorityFeePerGas }
      : // Chains without EIP-1559 (some permissioned networks, e.g. Besu with free gas) take legacy prices.
        { type: 0, gasPrice: data.gasPrice ?? 0n };
  return bumpedFees(current, previous, bumpPercent);
}

function max(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
