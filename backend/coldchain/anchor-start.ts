/**
 * Starting the anchorer in the primary process: the relayer's account must hold ColdChain's ANCHORER_ROLE. The
 * Ignition module grants it to its `anchorer` parameter (default: the deploying account); on the embedded chain,
 * whose relayer key is made after the deployment, the node's admin account grants it here. On any other chain a
 * missing role is the operator's to fix: the anchorer stays off and says how.
 */
import { id, type Signer } from "ethers";
import type { ChainAccess } from "../chain/chain-access.ts";
import { coldChainAt } from "../chain/contracts.ts";
import { shortMessage } from "../chain/revert-reason.ts";
import { createAnchorWorker, type AnchorWorker, type AnchorWorkerOptions } from "./anchor-worker.ts";

/** ColdChain.ANCHORER_ROLE. */
export const ANCHORER_ROLE = id("ANCHORER_ROLE");

export interface StartAnchorerParameters extends Omit<AnchorWorkerOptions, "chain"> {
  chain: ChainAccess;
  /** The admin's signer, to grant the relayer the role when it lacks it (the embedded chain); null: never grant. */
  grantFrom: Signer | null;
}

/** The running anchorer; null when the deployment has no cold chain or the relayer may not anchor. */
export async function startAnchorer(parameters: StartAnchorerParameters): Promise<AnchorWorker | null> {
  const { chain, relayerAddress, grantFrom } = parameters;
  const log = parameters.logger.child({ component: "anchorer" });
  const address = chain.addresses.coldChain;
  if (address === undefined) return null;
  const coldChain = coldChainAt(address, chain.provider, chain.abis.coldChain);
  if (!(await coldChain.hasRole(ANCHORER_ROLE, relayerAddress))) {
    if (grantFrom === null) {
      log.warn(
        { relayer: relayerAddress, coldChain: address },
        `anchorer: off (the relayer ${relayerAddress} lacks ANCHORER_ROLE on ColdChain ${address}: the admin grants it with grantRole(${ANCHORER_ROLE}, ${relayerAddress}), or deploy with the ProvenaModule parameter "anchorer")`,
      );
      return null;
    }
    try {
      await (await coldChain.connect(grantFrom).grantRole(ANCHORER_ROLE, relayerAddress)).wait();
    } catch (error) {
      log.warn({ relayer: relayerAddress, error: shortMessage(error) }, "anchorer: off (could not grant the relayer ANCHORER_ROLE)");
      return null;
    }
  }
  const anchorer = createAnchorWorker(parameters);
  anchorer.start();
  return anchorer;
}
