/** The transaction a relay request becomes: its call, why it would revert, its gas limit, and the signed bytes. */
import { Transaction, type TransactionLike } from "ethers";
import type { Hex, RelayRequest } from "../domain/model.ts";
import { NEXT_BLOCK } from "../chain/chain-access.ts";
import { forwardedCalldata } from "./forward-request.ts";
import type { Fees } from "./fees.ts";
import type { RelayerContext } from "./relayer-context.ts";
import { extractRevertData } from "../chain/revert-reason.ts";

type TransactionContext = Pick<RelayerContext, "chain" | "contracts" | "provider" | "address" | "signer">;

export interface RelayCall {
  to: string;
  data: string;
  value: bigint;
}

/** The call a request becomes: forwarder.execute for partners, a direct call for keeper jobs. */
export function relayCall({ chain, contracts }: Pick<TransactionContext, "chain" | "contracts">, request: RelayRequest): RelayCall {
  if (request.kind === "partner") {
    const data = contracts.interfaces.forwarder.encodeFunctionData("execute", [
      {
        from: request.from,
        to: request.to,
        value: BigInt(request.value),
        gas: BigInt(request.gas),
        deadline: request.deadline,
        data: request.data,
        signature: request.signature,
      },
    ]);
    return { to: chain.addresses.forwarder, data, value: BigInt(request.value) };
  }
  return { to: request.to, data: request.data, value: BigInt(request.value) };
}

/** Why a request's call reverts now, in words; null when it would succeed. */
export async function simulationFailure(context: TransactionContext, request: RelayRequest): Promise<string | null> {
  const { provider, contracts, chain, address } = context;
  try {
    await provider.call({ from: address, ...relayCall(context, request), blockTag: NEXT_BLOCK });
    return null;
  } catch (error) {
    const decoded = contracts.decoder.decode(extractRevertData(error));
    if (request.kind === "partner" && (decoded === null || decoded.name === "FailedCall")) {
      try {
        const data = forwardedCalldata(request.data, request.from);
        await provider.call({ from: chain.addresses.forwarder, to: request.to, data, value: BigInt(request.value), blockTag: NEXT_BLOCK });
        return "the forwarded call ran out of gas (the request's gas is too low)";
      } catch (inner) {
        return contracts.decoder.describe(inner);
      }
    }
    return decoded ? decoded.message : contracts.decoder.describe(error);
  }
}

export async function gasLimitOf(context: TransactionContext, request: RelayRequest): Promise<bigint> {
  try {
    const estimate = await context.provider.estimateGas({ from: context.address, ...relayCall(context, request), blockTag: NEXT_BLOCK });
    return (estimate * 125n) / 100n + 10_000n;
  } catch {
    // The forwarder needs the forwarded gas plus its own overhead; 63/64 of it must reach the target (EIP-150).
    return request.kind === "partner" ? (BigInt(request.gas) * 64n) / 63n + 100_000n : 500_000n;
  }
}

export interface SignedRelayTransaction {
  raw: string;
  hash: Hex;
}

export async function signRelayTransaction(
  context: TransactionContext,
  request: RelayRequest,
  { nonce, gasLimit, fee }: { nonce: number; gasLimit: bigint; fee: Fees },
): Promise<SignedRelayTransaction> {
  const call = relayCall(context, request);
  const tx: TransactionLike<string> = {
    chainId: BigInt(context.chain.chainId),
    nonce,
    to: call.to,
    data: call.data,
    value: call.value,
    gasLimit,
    type: fee.type,
    ...(fee.type === 2 ? { maxFeePerGas: fee.maxFeePerGas, maxPriorityFeePerGas: fee.maxPriorityFeePerGas } : { gasPrice: fee.gasPrice }),
  };
  const raw = await context.signer.signTransaction(tx);
  return { raw, hash: Transaction.from(raw).hash!.toLowerCase() as Hex };
}
