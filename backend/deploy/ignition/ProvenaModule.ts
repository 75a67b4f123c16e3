/**
 * Hardhat Ignition module: deploys Provena's ERC-2771 forwarder, provenance registry, trade escrow, unit
 * ownership tokens, logistic units (containers identified by an SSCC) and transformations.
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
 *   maxDeliveryWindow   escrow: longest delivery deadline of a new order, in seconds from its opening; default 90 days
 *   maxDisputeWindow    escrow: longest dispute window of a new order, in seconds; default 30 days
 *   allowedToken        escrow: an ERC-20 (e.g. the consortium's stablecoin) new orders may be paid in; default
 *                       none (the zero address, i.e. ETH only); more tokens: the admin calls setTokenAllowed
 *   ethAllowed          escrow: whether new orders may be paid in ETH; default true
 *   anchorer            cold chain: account granted ANCHORER_ROLE (anchors readings of any leg: the backend's
 *                       key); default: the deploying account
 *   logisticUnitsGln    logistic units: the GLN the contract is onboarded with as a registry participant (it holds
 *                       the registry custody of packed batches); default DEFAULT_LOGISTIC_UNITS_GLN
 *   transformationsGln  transformations: the GLN the contract is onboarded with (it holds the registry custody of
 *                       consumed inputs); default DEFAULT_TRANSFORMATIONS_GLN
 *
 * The DesignRegistry (design and IP proofs) and the ProductDataRegistry have no admin: who may use them is read from
 * the registry.
 *
 * The escrow and the cold chain get the same admin (and delay) as the registry; the admin grants ARBITER_ROLE afterwards.
 * The unit ownership tokens (UnitOwnership) read the registry and trust the same forwarder, with the same admin and
 * delay; the admin sets their base URI afterwards (setBaseURI), once the backend's public URL is known.
 * Making the escrow the registry's custody observer (registry.setCustodyObserver(escrow)) is a call only the
 * registry admin may make, and the module sends it from the deploying account (Ignition's default sender):
 * deploy from the admin's account, or deploy with the default admin and hand the role over afterwards with
 * beginDefaultAdminTransfer. With any other `admin` the deployment stops at that call. The escrow's order limits
 * and token allowlist, the escrow's cold chain and the anchorer's role are set the same way (admin calls from the
 * deploying account), and so is the logistic units' onboarding as a CARRIER participant of the registry (it has
 * no admin of its own), and the transformations' onboarding as a REGULATOR participant (its code recalls only the
 * outputs of recalled inputs, see Transformations.sol).
 */
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { id } from "ethers";

/** Two days: long enough for the consortium to notice and cancel an unwanted admin transfer. */
export const DEFAULT_ADMIN_TRANSFER_DELAY = 2n * 24n * 60n * 60n;

/** Escrow platform fee for new orders: 1 %. */
export const DEFAULT_PLATFORM_FEE_BPS = 100;

/** Seven days for an arbiter to decide a dispute before the order's fallback rule applies. */
export const DEFAULT_ARBITRATION_PERIOD = 7n * 24n * 60n * 60n;

/** Ninety days from opening an order to its latest delivery deadline (TradeEscrow.DEFAULT_MAX_DELIVERY_WINDOW). */
export const DEFAULT_MAX_DELIVERY_WINDOW = 90n * 24n * 60n * 60n;

/** Thirty days at most for the buyer to dispute after delivery (TradeEscrow.DEFAULT_MAX_DISPUTE_WINDOW). */
export const DEFAULT_MAX_DISPUTE_WINDOW = 30n * 24n * 60n * 60n;

/** keccak256("CARRIER_ROLE"): the registry role the logistic-units contract is onboarded with. */
export const CARRIER_ROLE = id("CARRIER_ROLE");

/**
 * The GLN the logistic-units contract is onboarded with unless `logisticUnitsGln` says otherwise: the registry
 * requires one of every participant, and a contract has no premises; the consortium sets its own.
 */
export const DEFAULT_LOGISTIC_UNITS_GLN = 1n;

/** keccak256("REGULATOR_ROLE"): the registry role the transformations contract is onboarded with (to recall outputs). */
export const REGULATOR_ROLE = id("REGULATOR_ROLE");

/** The GLN the transformations contract is onboarded with unless `transformationsGln` says otherwise. */
export const DEFAULT_TRANSFORMATIONS_GLN = 2n;

/** keccak256("ANCHORER_ROLE"): ColdChain.ANCHORER_ROLE. */
export const ANCHORER_ROLE = id("ANCHORER_ROLE");

const NO_TOKEN = "0x0000000000000000000000000000000000000000";

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
  // Bounds and allowlist of new orders, so no order ties a batch up for long or in a token nobody vetted.
  const maxDeliveryWindow = m.getParameter("maxDeliveryWindow", DEFAULT_MAX_DELIVERY_WINDOW);
  const maxDisputeWindow = m.getParameter("maxDisputeWindow", DEFAULT_MAX_DISPUTE_WINDOW);
  m.call(escrow, "setOrderLimits", [maxDeliveryWindow, maxDisputeWindow]);
  // The zero address (no token) re-allows ETH, which the next call then sets as asked.
  m.call(escrow, "setTokenAllowed", [m.getParameter("allowedToken", NO_TOKEN), true], { id: "allowToken" });
  m.call(escrow, "setTokenAllowed", [NO_TOKEN, m.getParameter("ethAllowed", true)], { id: "allowEth" });

  // Design proofs: no admin; reads participants and company prefixes from the registry.
  const designRegistry = m.contract("DesignRegistry", [forwarder, registry]);

  // Product-data anchors (Digital Product Passport versions): reads prefixes, batches and participants from the registry.
  const productData = m.contract("ProductDataRegistry", [forwarder, registry]);

  // Cold chain: devices, legs, anchored readings and breaches, read by the escrow before it pays freight.
  const coldChain = m.contract("ColdChain", [registry, forwarder, admin, adminTransferDelay]);
  m.call(escrow, "setColdChain", [coldChain]);
  m.call(coldChain, "grantRole", [ANCHORER_ROLE, m.getParameter("anchorer", m.getAccount(0))], { id: "grantAnchorer" });

  // Unit ownership tokens: one ERC-721 per claimed unit of a registered batch, checked against the registry.
  const unitOwnership = m.contract("UnitOwnership", [registry, forwarder, admin, adminTransferDelay]);

  // Logistic units: packed batches are in its registry custody, so the registry must know it as a participant.
  const logisticUnits = m.contract("LogisticUnits", [registry, forwarder]);
  m.call(
    registry,
    "onboardParticipant",
    [logisticUnits, CARRIER_ROLE, m.getParameter("logisticUnitsGln", DEFAULT_LOGISTIC_UNITS_GLN), "Provena logistic units"],
    { id: "onboardLogisticUnits" },
  );

  // Transformations: consumed inputs are in its registry custody, and it recalls outputs of recalled inputs.
  const transformations = m.contract("Transformations", [registry, forwarder]);
  m.call(
    registry,
    "onboardParticipant",
    [transformations, REGULATOR_ROLE, m.getParameter("transformationsGln", DEFAULT_TRANSFORMATIONS_GLN), "Provena transformations"],
    { id: "onboardTransformations" },
  );

  return { forwarder, registry, escrow, designRegistry, productData, coldChain, unitOwnership, logisticUnits, transformations };
});

export default ProvenaModule;
