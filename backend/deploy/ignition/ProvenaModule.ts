/**
 * Hardhat Ignition module: deploys Provena's ERC-2771 forwarder and provenance registry.
 *
 *   npx hardhat ignition deploy backend/deploy/ignition/ProvenaModule.ts --network <name> \
 *     --parameters '{"ProvenaModule":{"admin":"0x…","adminTransferDelay":172800}}'
 *
 * Parameters:
 *   admin               consortium admin (DEFAULT_ADMIN_ROLE); default: the deploying account
 *   adminTransferDelay  seconds a scheduled admin transfer must wait (AccessControlDefaultAdminRules);
 *                       default 2 days
 *   platformRecipient   escrow: account paid the platform share of each settlement; default: the deployer
 *   platformFeeBps      escrow: platform fee every new order must carry, in basis points; default 100 (1 %)
 *   arbitrationPeriod   escrow: seconds an arbiter has to resolve a dispute before the order's fallback
 *                       rule applies; default 7 days
 *
 * The escrow gets the same admin (and delay) as the registry; the admin grants ARBITER_ROLE afterwards.
 * Making the escrow the registry's custody observer (registry.setCustodyObserver(escrow)) is a call only the
 * registry admin may make, and the module sends it from the deploying account (Ignition's default sender):
 * deploy from the admin's account, or deploy with the default admin and hand the role over afterwards with
 * beginDefaultAdminTransfer. With any other `admin` the deployment stops at that call.
 */
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

/** Two days: long enough for the consortium to notice and cancel an unwanted admin transfer. */
export const DEFAULT_ADMIN_TRANSFER_DELAY = 2n * 24n * 60n * 60n;

/** Escrow platform fee for new orders: 1 %. */
export const DEFAULT_PLATFORM_FEE_BPS = 100;

/** Seven days for an arbiter to decide a dispute before the order's fallback rule applies. */
export const DEFAULT_ARBITRATION_PERIOD = 7n * 24n * 60n * 60n;

const ProvenaModule = buildModule("ProvenaModule", (m) => {
  const admin = m.getParameter("admin", m.getAccount(0));
  const adminTransferDelay = m.getParameter("adminTransferDelay", DEFAULT_ADMIN_TRANSFER_DELAY);

  const forwarder = m.contract("ProvenaForwarder");
  const registry = m.contract("ProvenanceRegistry", [forwarder, admin, adminTransferDelay]);

  // Escrow: settles trade against the registry, which reports custody acceptances of watched batches
  // to it once it is the custody observer.
  const platformRecipient = m.getParameter("platformRecipient", m.getAccount(0));
  const platformFeeBps = m.getParameter("platformFeeBps", DEFAULT_PLATFORM_FEE_BPS);
  const arbitrationPeriod = m.getParameter("arbitrationPeriod", DEFAULT_ARBITRATION_PERIOD);
  const escrow = m.contract("TradeEscrow", [
    registry,
    forwarder,
    admin,
    adminTransferDelay,
    platformRecipient,
    platformFeeBps,
    arbitrationPeriod,
  ]);
  // Sent by the deploying account (Ignition's default sender), which must be the registry admin.
  m.call(registry, "setCustodyObserver", [escrow]);

  return { forwarder, registry, escrow };
});

export default ProvenaModule;
