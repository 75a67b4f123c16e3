// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {Context} from "@openzeppelin/contracts/utils/Context.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {IColdChain} from "./interfaces/IColdChain.sol";
import {ICustodyObserver} from "./interfaces/ICustodyObserver.sol";
import {IProvenanceRegistry} from "./interfaces/IProvenanceRegistry.sol";
import {ITradeEscrow} from "./interfaces/ITradeEscrow.sol";

/// @title TradeEscrow: rule-based settlement of trade in Provena batches
/// @notice Holds a buyer's deposit (ETH or an ERC-20) for one batch and pays it out by rule, with the
/// provenance registry as the source of truth. The escrow is the registry's custody observer: opening an
/// order makes the registry watch the batch, and the registry reports every accepted handoff of it, so
/// delivery to the buyer is recorded in the very transaction in which the buyer takes custody.
///
/// Rules beyond the interface:
/// - The seller must be the batch's custodian when the order opens (it sells what it holds); "before
///   shipment" means the seller still holds the batch with no handoff pending.
/// - An order may name its inspector (an active INSPECTOR, none of the parties). Only that inspector's
///   attestations made while the order awaits settlement count (the registry reports them through
///   `onQualityAttested`, and the batch stays watched until the order settles); any other inspector's result
///   changes nothing. A failed inspection before delivery lets the buyer take the deposit back
///   (`RefundReason.InspectionFailed`). After delivery the goods are with the buyer, so a missing or failed
///   inspection goes to arbitration instead: the buyer may dispute within the window as usual, and once the
///   window closed either the buyer or the seller may dispute while the inspection has not passed, so an
///   order never stays stuck on an inspection nobody performs.
/// - A recall (of the batch or of an ancestor lot) before delivery refunds the buyer and blocks release. After
///   delivery the buyer holds the goods, so a recall goes to arbitration instead: either party may dispute at
///   once, and the arbiter or the fallback rule decides; a recall never refunds a buyer who keeps the goods.
/// - A funded order is not refunded for its deadline or a failed inspection while the batch is on offer to
///   the buyer (a handoff to it pending): the buyer first accepts (delivery) or rejects the goods.
/// - The seller may decline a funded order before shipment (buyer refunded in full, `OrderCancelled`), so a
///   stranger cannot block a batch with an unwanted order until its deadline.
/// - The platform fee rate is fixed per order (`platformBps`); the platform share is credited to the fee
///   recipient in force at settlement, who withdraws it (ETH accrues in the slot that holds the recipient,
///   so a settlement pays no extra storage write for it).
/// - Seller, carrier and buyer payments are pushed (ETH with a bounded gas stipend, ERC-20 through a
///   non-reverting transfer); a failed push is credited to the payee for `withdraw`, so no payee can block
///   a settlement.
///
/// Storage: two slots per batch (`OrderRecord`) for the batch's latest order: its full id, and its state.
/// Every call passes the full order, whose hash must equal the id, so no one can act on an order with
/// terms other than those opened (a 160-bit tag would leave a 2^80 collision to whoever authors two
/// orders; the full id costs one more storage slot per batch's first order, about 22,000 gas).
/// An identical order (same salt) cannot be reopened while its id is still in its batch's record; once a
/// later order took the record, the earlier order reads as `None` and can no longer be acted on.
/// Consent and bounds: an order opens only with the seller's EIP-712 signature over its full terms (an
/// ERC-1271 contract wallet signs through `isValidSignature`), in an allowlisted token, with a delivery deadline
/// and a dispute window within the admin's limits. So no stranger can tie a seller's batch to an order, and
/// every order can be cleared by anyone within a bounded time (deadline, dispute window, arbitration period).
/// No admin function moves escrowed funds: the admin only sets the platform fee, the token allowlist and the
/// deadline limits for new orders and manages roles (ARBITER_ROLE); arbiters only decide disputes between the parties.
contract TradeEscrow is
    ITradeEscrow,
    AccessControlDefaultAdminRules,
    ERC2771Context,
    ReentrancyGuardTransient,
    EIP712
{
    using SafeERC20 for IERC20;

    /// @dev What the contract keeps per batch about its latest order: its id, then one slot of state
    /// (8 + 8 + 8 + 32 + 32 + 160 = 248 bits). Timestamps are uint32 seconds (good until 2106).
    /// `buyerIdOrDisputedAt` holds the buyer's registry participant id while the order is Funded (so the
    /// custody hook, which only learns the batch and the new custodian, can tell a delivery) and the
    /// dispute time once Disputed; the buyer id is not needed after delivery, the dispute time not before.
    /// `inspector` repeats the order's named inspector for the attestation hook, which only learns the batch;
    /// `inspection` is that inspector's latest result.
    struct OrderRecord {
        bytes32 id;
        OrderState state;
        uint8 cancellationApprovals; // bit 0: buyer, bit 1: seller
        IProvenanceRegistry.InspectionResult inspection;
        uint32 deliveredAt;
        uint32 buyerIdOrDisputedAt;
        address inspector;
    }

    /// @notice Role allowed to resolve disputes.
    bytes32 public constant ARBITER_ROLE = keccak256("ARBITER_ROLE");
    /// @notice Basis points in a whole.
    uint16 public constant BPS = 10_000;
    /// @notice Highest platform fee the admin can set (10 %).
    uint16 public constant MAX_PLATFORM_FEE_BPS = 1_000;
    /// @notice Gas forwarded with an ETH push; enough for a smart-contract wallet's receive hook, bounded so
    /// a payee cannot burn the settler's gas. A payee that needs more withdraws instead.
    uint256 public constant ETH_PUSH_GAS = 30_000;

    /// @notice EIP-712 type of the seller's consent: the order's terms, field for field.
    bytes32 public constant ORDER_TYPEHASH = keccak256(
        "Order(address buyer,address seller,address carrier,address token,uint256 amount,bytes32 batchId,uint16 sellerBps,"
        "uint16 carrierBps,uint16 platformBps,uint40 deliveryDeadline,uint32 disputeWindow,address inspector,"
        "uint16 fallbackBuyerBps,bytes32 salt,uint8 breachTerms)"
    );
    /// @notice Longest delivery window and dispute window the admin can allow (one year each).
    uint32 public constant MAX_ORDER_WINDOW = 365 days;
    /// @notice Delivery window (from opening to the delivery deadline) allowed at deployment.
    uint32 public constant DEFAULT_MAX_DELIVERY_WINDOW = 90 days;
    /// @notice Dispute window allowed at deployment.
    uint32 public constant DEFAULT_MAX_DISPUTE_WINDOW = 30 days;

    uint8 private constant _BUYER_APPROVED = 1;
    uint8 private constant _SELLER_APPROVED = 2;
    bytes32 private constant _INSPECTOR_ROLE = keccak256("INSPECTOR_ROLE");

    IProvenanceRegistry private immutable _registry;
    uint32 private immutable _arbitrationPeriod;

    // One slot: the recipient and the ETH it accrued (withdrawn with `withdraw`).
    address private _platformRecipient;
    uint80 private _platformEthAccrued;

    // One slot, the only one of the escrow's settings an opening reads: the fee, the deadline limits and whether
    // ETH is allowed.
    uint16 private _platformFeeBps;
    uint32 private _maxDeliveryWindow;
    uint32 private _maxDisputeWindow;
    bool private _ethAllowed;

    mapping(address token => bool) private _allowedTokens;
    mapping(bytes32 batchId => OrderRecord) private _orders;
    mapping(address account => mapping(address token => uint256 amount)) private _credits;
    /// @dev Set once by the admin; consulted only by orders whose terms require verified conditions.
    IColdChain private _coldChain;
    /// @dev When the batch's latest order with breach terms opened: breaches from then on count against its carrier.
    mapping(bytes32 batchId => uint256 openedAt) private _coldChainOpenedAt;

    /// @notice Reverts when an address that must be a real, distinct party is zero, the escrow itself,
    /// or the buyer acting as seller.
    error EscrowInvalidParty(address party);
    /// @notice Reverts when an order's amount is zero.
    error EscrowZeroAmount();
    /// @notice Reverts when anyone but the provenance registry calls the custody hook.
    error EscrowNotRegistry(address caller);
    /// @notice Reverts when the seller named in an order is not the batch's custodian.
    error EscrowSellerNotCustodian(bytes32 batchId, address seller, address custodian);
    /// @notice Reverts on release when the order requires a passing inspection and the batch has none.
    error EscrowInspectionNotPassed(bytes32 orderId, IProvenanceRegistry.InspectionResult inspection);
    /// @notice Reverts on cancellation when the batch already left the seller (or a handoff is pending), and on
    /// a refund (other than for a recall) while a handoff of the batch to the buyer awaits the buyer's answer.
    error EscrowAlreadyShipped(bytes32 orderId);
    /// @notice Reverts when a party approves the cancellation of the same order twice.
    error EscrowCancellationAlreadyApproved(bytes32 orderId, address party);
    /// @notice Reverts when the admin sets a platform fee above `MAX_PLATFORM_FEE_BPS`.
    error EscrowPlatformFeeTooHigh(uint16 feeBps, uint16 maxFeeBps);
    /// @notice Reverts at deployment when the arbitration period is zero.
    error EscrowInvalidArbitrationPeriod(uint32 period);
    /// @notice Reverts when the buyer is not an onboarded participant of the registry (it could never take custody),
    /// or is suspended (a suspended participant can do nothing, so it opens no order either).
    error EscrowBuyerNotParticipant(address buyer);

    /// @notice Reverts when an order requires verified conditions and the escrow has no cold chain yet.
    error EscrowColdChainNotSet();
    /// @notice Reverts when the admin sets the cold chain a second time.
    error EscrowColdChainAlreadySet(address coldChain);

    /// @notice Emitted once when the admin sets the cold chain orders with breach terms consult.
    event ColdChainSet(address indexed coldChain);
    /// @notice Emitted when an order's settlement found its carrier breached the conditions: the carrier's
    /// `forfeitedFreight` went to the buyer (RejectGoods: the whole deposit was refunded, Dispute: a dispute opened).
    event OrderBreachApplied(bytes32 indexed orderId, BreachTerms terms, uint256 forfeitedFreight);

    /// @notice Deploys the escrow for `registry_`, with its admin, platform fee and arbitration period.
    /// @param registry_ The provenance registry (the admin of the registry must make this escrow its
    /// custody observer with `setCustodyObserver`).
    /// @param trustedForwarder_ The ERC-2771 forwarder relayed calls come through.
    /// @param admin The default admin (transfers are two-step with `adminDelay`).
    /// @param adminDelay Delay of a default admin transfer, in seconds.
    /// @param platformRecipient Receives the platform share of each settlement.
    /// @param platformFeeBps Platform fee for new orders, in basis points.
    /// @param arbitrationPeriod_ Seconds an arbiter has to resolve a dispute before the order's fallback rule applies.
    constructor(
        IProvenanceRegistry registry_,
        address trustedForwarder_,
        address admin,
        uint48 adminDelay,
        address platformRecipient,
        uint16 platformFeeBps,
        uint32 arbitrationPeriod_
    )
        AccessControlDefaultAdminRules(adminDelay, admin)
        ERC2771Context(trustedForwarder_)
        EIP712("Provena TradeEscrow", "1")
    {
        if (address(registry_) == address(0)) revert EscrowInvalidParty(address(0));
        if (arbitrationPeriod_ == 0) revert EscrowInvalidArbitrationPeriod(arbitrationPeriod_);
        _registry = registry_;
        _arbitrationPeriod = arbitrationPeriod_;
        _setPlatformFee(platformRecipient, platformFeeBps);
        _setOrderLimits(DEFAULT_MAX_DELIVERY_WINDOW, DEFAULT_MAX_DISPUTE_WINDOW);
        _setTokenAllowed(address(0), true);
    }

    // ---------------------------------------------------------------------------------------------
    // Orders
    // ---------------------------------------------------------------------------------------------

    /// @inheritdoc ITradeEscrow
    /// @dev The caller (or the signer of a forwarded request) must be `order.buyer`, so a consent seen in the
    /// mempool is of no use to anyone else. For ETH `msg.value` must equal `order.amount`; for an ERC-20 the
    /// escrow pulls `order.amount` with `transferFrom` and rejects the order if it received a different amount
    /// (fee-on-transfer tokens). The consent cannot be replayed: it covers the whole order (batch, buyer, amount,
    /// salt) and the domain (chain, escrow), an identical order cannot reopen while it is its batch's latest,
    /// and it dies with the order's delivery deadline.
    function openOrder(Order calldata order, bytes calldata sellerSignature)
        external
        payable
        nonReentrant
        returns (bytes32 orderId)
    {
        orderId = keccak256(abi.encode(order));
        address buyer = _msgSender();
        if (order.buyer != buyer) revert EscrowUnauthorized(orderId, buyer);
        _validateTerms(order);
        if (!_isSellerConsent(order.seller, _consentDigest(order), sellerSignature)) {
            revert EscrowInvalidSellerConsent(orderId, order.seller);
        }

        bytes32 batchId = order.batchId;
        OrderRecord storage record = _orders[batchId];
        (bytes32 previousId, OrderState previousState) = (record.id, record.state);
        if (previousId == orderId) revert EscrowOrderExists(orderId);
        if (_isOpen(previousState)) revert EscrowBatchBusy(batchId, previousId);
        uint32 buyerId = _watchAvailableBatch(batchId, order.seller, buyer);

        _orders[batchId] = OrderRecord({
            id: orderId,
            state: OrderState.Funded,
            cancellationApprovals: 0,
            inspection: IProvenanceRegistry.InspectionResult.None,
            deliveredAt: 0,
            buyerIdOrDisputedAt: buyerId,
            inspector: order.inspector
        });
        if (order.breachTerms != BreachTerms.None) _coldChainOpenedAt[batchId] = block.timestamp;
        emit OrderOpened(orderId, buyer, batchId, order);
        _collectDeposit(order, buyer);
    }

    /// @inheritdoc ICustodyObserver
    /// @dev Records delivery when custody of the batch of an open, funded order passes to its buyer; any
    /// other handoff is ignored. Never reverts for the registry's own calls, so it cannot block custody.
    function onCustodyAccepted(bytes32 batchId, address, /* from */ address to) external nonReentrant {
        if (msg.sender != address(_registry)) revert EscrowNotRegistry(msg.sender);
        OrderRecord storage record = _orders[batchId];
        if (record.state != OrderState.Funded) return;
        // Participant ids are never reassigned, so equal ids mean the buyer itself took custody.
        (uint32 custodianId,,) = _registry.participant(to);
        if (custodianId != record.buyerIdOrDisputedAt) return;
        uint32 deliveredAt = uint32(block.timestamp);
        record.state = OrderState.Delivered;
        record.deliveredAt = deliveredAt;
        record.buyerIdOrDisputedAt = 0;
        emit OrderDelivered(record.id, batchId, deliveredAt);
        // Without a named inspector delivery is the only event the escrow needs: stop the hooks for later
        // handoffs (cheap here, where the registry's storage is already warm, rather than in the settlement).
        // With one, its attestation at arrival still counts, so the batch stays watched until settlement.
        if (record.inspector == address(0)) _registry.setBatchWatched(batchId, false);
    }

    /// @inheritdoc ICustodyObserver
    /// @dev Records the result when `inspector` is the named inspector of the batch's order and the order awaits
    /// settlement (Funded or Delivered); any other attestation is ignored. Never reverts for the registry's own
    /// calls, so it cannot block an attestation. Not `nonReentrant`: it only records a result for an order still
    /// awaiting settlement, which is the same whether it runs inside another escrow call (a payee or token that
    /// attests another batch) or not; every settlement marks its order settled before paying anyone.
    function onQualityAttested(bytes32 batchId, address inspector, bool passed) external {
        if (msg.sender != address(_registry)) revert EscrowNotRegistry(msg.sender);
        OrderRecord storage record = _orders[batchId];
        OrderState state = record.state;
        if (record.inspector != inspector || (state != OrderState.Funded && state != OrderState.Delivered)) return;
        record.inspection =
            passed ? IProvenanceRegistry.InspectionResult.Passed : IProvenanceRegistry.InspectionResult.Failed;
        emit OrderInspected(record.id, passed);
    }

    /// @inheritdoc ITradeEscrow
    /// @dev Reverts while the batch is recalled (refund instead) or a required inspection has not passed.
    function release(Order calldata order) external nonReentrant {
        (bytes32 orderId, OrderRecord storage record) = _load(order);
        if (record.state != OrderState.Delivered) revert EscrowInvalidState(orderId, record.state);
        if (_msgSender() != order.buyer) {
            uint256 availableAt = uint256(record.deliveredAt) + order.disputeWindow;
            if (block.timestamp < availableAt) revert EscrowTooEarly(orderId, availableAt);
        }
        (IProvenanceRegistry.BatchStatus status,) = _registry.batchStatus(order.batchId);
        if (status == IProvenanceRegistry.BatchStatus.Recalled) revert EscrowNotDeliverable(orderId);
        bool inspected = order.inspector != address(0);
        if (inspected && record.inspection != IProvenanceRegistry.InspectionResult.Passed) {
            revert EscrowInspectionNotPassed(orderId, record.inspection);
        }

        if (_carrierBreached(order)) {
            _settleBreach(order, orderId, record, inspected);
            return;
        }
        record.state = OrderState.Released;
        if (inspected) _stopWatching(order.batchId);
        (uint256 sellerAmount, uint256 carrierAmount, uint256 platformAmount) = _split(order, order.amount);
        emit OrderReleased(orderId, sellerAmount, carrierAmount, platformAmount);
        _payOut(order, sellerAmount, carrierAmount, platformAmount);
    }

    /// @inheritdoc ITradeEscrow
    /// @dev Only a funded (undelivered) order is refunded: anyone may refund it when its batch (or an
    /// ancestor lot) was recalled or its delivery deadline passed; only the buyer when its required inspection
    /// failed (a later passing inspection could still save the trade). Except on recall, a funded order is
    /// not refunded while a handoff of its batch to the buyer is pending (`EscrowAlreadyShipped`): the buyer
    /// accepts it (delivery) or rejects it, and only then is refunded, so it can never keep both.
    function refund(Order calldata order) external nonReentrant {
        (bytes32 orderId, OrderRecord storage record) = _load(order);
        OrderState state = record.state;
        // After delivery the buyer holds the goods: a recall then goes to dispute, never to a refund.
        if (state != OrderState.Funded) revert EscrowInvalidState(orderId, state);
        (IProvenanceRegistry.BatchStatus status,) = _registry.batchStatus(order.batchId);
        RefundReason reason;
        if (status == IProvenanceRegistry.BatchStatus.Recalled) {
            reason = RefundReason.BatchRecalled;
        } else if (
            order.inspector != address(0) && record.inspection == IProvenanceRegistry.InspectionResult.Failed
                && _msgSender() == order.buyer
        ) {
            reason = RefundReason.InspectionFailed;
        } else if (block.timestamp > order.deliveryDeadline) {
            reason = RefundReason.DeadlinePassed;
        } else {
            revert EscrowTooEarly(orderId, uint256(order.deliveryDeadline) + 1);
        }
        if (status == IProvenanceRegistry.BatchStatus.InTransit) {
            // The hook stops watching at the refund: a buyer refunded with the goods on offer to it could then
            // accept them unpaid. It answers the offer first: accepting is delivery, rejecting allows the refund.
            // (Only an in-transit batch has a pending handoff; a recalled one never does.)
            (,, address pendingCustodian,,,,,) = _registry.batch(order.batchId);
            if (pendingCustodian == order.buyer) revert EscrowAlreadyShipped(orderId);
        }

        record.state = OrderState.Refunded;
        _stopWatching(order.batchId);
        emit OrderRefunded(orderId, reason, order.amount);
        _pay(order.token, order.buyer, order.amount);
    }

    /// @inheritdoc ITradeEscrow
    /// @dev The buyer may dispute while `block.timestamp < deliveredAt + disputeWindow`. When the order
    /// requires a passing inspection that is still missing or failed, the buyer may also dispute after the
    /// window, and so may the seller, so that arbitration (or the fallback rule) settles the order. When the
    /// batch (or an ancestor lot) was recalled after delivery, either party may dispute at any time.
    function dispute(Order calldata order, bytes32 reasonHash) external nonReentrant {
        (bytes32 orderId, OrderRecord storage record) = _load(order);
        if (record.state != OrderState.Delivered) revert EscrowInvalidState(orderId, record.state);
        address caller = _msgSender();
        if (caller != order.buyer && caller != order.seller) revert EscrowUnauthorized(orderId, caller);
        uint256 closesAt = uint256(record.deliveredAt) + order.disputeWindow;
        if (caller == order.seller || block.timestamp >= closesAt) {
            // Only a recall or a stuck inspection opens a dispute outside the buyer's window.
            (IProvenanceRegistry.BatchStatus status,) = _registry.batchStatus(order.batchId);
            if (status != IProvenanceRegistry.BatchStatus.Recalled) {
                bool inspectionPending = order.inspector != address(0)
                    && record.inspection != IProvenanceRegistry.InspectionResult.Passed;
                if (!inspectionPending) {
                    if (caller == order.seller) revert EscrowUnauthorized(orderId, caller);
                    revert EscrowTooLate(orderId, closesAt);
                }
                if (block.timestamp < closesAt) revert EscrowTooEarly(orderId, closesAt);
            }
        }

        record.state = OrderState.Disputed;
        record.buyerIdOrDisputedAt = uint32(block.timestamp);
        emit OrderDisputed(orderId, caller, reasonHash);
    }

    /// @inheritdoc ITradeEscrow
    /// @dev Only within the arbitration period (afterwards the fallback rule applies), and never by an
    /// arbiter who is the buyer, the seller or the carrier of the order (the carrier's freight is a share of
    /// what the buyer does not get back).
    function resolveDispute(Order calldata order, uint16 buyerBps) external onlyRole(ARBITER_ROLE) nonReentrant {
        (bytes32 orderId, OrderRecord storage record) = _load(order);
        if (record.state != OrderState.Disputed) revert EscrowInvalidState(orderId, record.state);
        address arbiter = _msgSender();
        if (arbiter == order.buyer || arbiter == order.seller || arbiter == order.carrier) {
            revert EscrowUnauthorized(orderId, arbiter);
        }
        if (buyerBps > BPS) revert EscrowInvalidSplit(buyerBps);
        uint256 closesAt = uint256(record.buyerIdOrDisputedAt) + _arbitrationPeriod;
        if (block.timestamp >= closesAt) revert EscrowTooLate(orderId, closesAt);
        _settleDispute(order, orderId, record, arbiter, buyerBps);
    }

    /// @inheritdoc ITradeEscrow
    function resolveExpiredDispute(Order calldata order) external nonReentrant {
        (bytes32 orderId, OrderRecord storage record) = _load(order);
        if (record.state != OrderState.Disputed) revert EscrowInvalidState(orderId, record.state);
        uint256 availableAt = uint256(record.buyerIdOrDisputedAt) + _arbitrationPeriod;
        if (block.timestamp < availableAt) revert EscrowTooEarly(orderId, availableAt);
        _settleDispute(order, orderId, record, address(0), order.fallbackBuyerBps);
    }

    /// @inheritdoc ITradeEscrow
    /// @dev "Before shipment": the seller is still the custodian and no handoff is pending.
    function approveCancellation(Order calldata order) external nonReentrant {
        (bytes32 orderId, OrderRecord storage record) = _load(order);
        if (record.state != OrderState.Funded) revert EscrowInvalidState(orderId, record.state);
        address party = _msgSender();
        uint8 approval;
        if (party == order.buyer) approval = _BUYER_APPROVED;
        else if (party == order.seller) approval = _SELLER_APPROVED;
        else revert EscrowUnauthorized(orderId, party);
        _requireNotShipped(order, orderId);
        uint8 approvals = record.cancellationApprovals;
        if (approvals & approval != 0) revert EscrowCancellationAlreadyApproved(orderId, party);
        approvals |= approval;
        record.cancellationApprovals = approvals;
        emit CancellationApproved(orderId, party);
        if (approvals == _BUYER_APPROVED | _SELLER_APPROVED) _cancel(order, orderId, record);
    }

    /// @notice The seller declines a funded order before shipment: the buyer gets the whole deposit back.
    /// @dev Emits `OrderCancelled`, like a mutual cancellation: the buyer loses nothing by it, and it stops a
    /// stranger from blocking the seller's batch with an unwanted order until its deadline.
    function declineOrder(Order calldata order) external nonReentrant {
        (bytes32 orderId, OrderRecord storage record) = _load(order);
        if (record.state != OrderState.Funded) revert EscrowInvalidState(orderId, record.state);
        address caller = _msgSender();
        if (caller != order.seller) revert EscrowUnauthorized(orderId, caller);
        _requireNotShipped(order, orderId);
        _cancel(order, orderId, record);
    }

    // ---------------------------------------------------------------------------------------------
    // Credits (pull payments)
    // ---------------------------------------------------------------------------------------------

    /// @inheritdoc ITradeEscrow
    function withdraw(address token) external nonReentrant {
        address account = _msgSender();
        _withdraw(account, token, account);
    }

    /// @notice Withdraws the caller's credit in `token` (address(0) for ETH) to `recipient`, for payees
    /// that cannot receive the asset themselves.
    function withdrawTo(address token, address recipient) external nonReentrant {
        if (recipient == address(0)) revert EscrowInvalidParty(recipient);
        _withdraw(_msgSender(), token, recipient);
    }

    // ---------------------------------------------------------------------------------------------
    // Admin
    // ---------------------------------------------------------------------------------------------

    /// @notice The admin sets the platform fee for orders opened from now on, and the account the platform
    /// share of every later settlement is paid to.
    function setPlatformFee(address recipient, uint16 feeBps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setPlatformFee(recipient, feeBps);
    }

    /// @inheritdoc ITradeEscrow
    function setOrderLimits(uint32 maxDeliveryWindow, uint32 maxDisputeWindow) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setOrderLimits(maxDeliveryWindow, maxDisputeWindow);
    }

    /// @inheritdoc ITradeEscrow
    function setTokenAllowed(address token, bool allowed) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setTokenAllowed(token, allowed);
    }

    /// @notice The admin sets, once, the cold chain that orders with breach terms consult before paying freight.
    function setColdChain(IColdChain coldChain_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (address(_coldChain) != address(0)) revert EscrowColdChainAlreadySet(address(_coldChain));
        if (address(coldChain_) == address(0)) revert EscrowInvalidParty(address(0));
        _coldChain = coldChain_;
        emit ColdChainSet(address(coldChain_));
    }

    // ---------------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------------

    /// @notice The cold chain orders with breach terms consult (zero until the admin sets it).
    function coldChain() external view returns (IColdChain) {
        return _coldChain;
    }

    /// @inheritdoc ITradeEscrow
    function orderLimits() external view returns (uint32 maxDeliveryWindow, uint32 maxDisputeWindow) {
        return (_maxDeliveryWindow, _maxDisputeWindow);
    }

    /// @inheritdoc ITradeEscrow
    function isTokenAllowed(address token) external view returns (bool) {
        return token == address(0) ? _ethAllowed : _allowedTokens[token];
    }

    /// @inheritdoc ITradeEscrow
    function consentDigest(Order calldata order) external view returns (bytes32) {
        return _consentDigest(order);
    }

    /// @inheritdoc ITradeEscrow
    function orderState(Order calldata order) external view returns (OrderState state, uint40 deliveredAt, uint40 disputedAt) {
        OrderRecord memory record = _orders[order.batchId];
        if (record.id != keccak256(abi.encode(order))) return (OrderState.None, 0, 0);
        state = record.state;
        deliveredAt = record.deliveredAt;
        // Before delivery the field holds the buyer's participant id, after it the dispute time (or zero).
        if (deliveredAt != 0) disputedAt = record.buyerIdOrDisputedAt;
    }

    /// @notice Whether the buyer and the seller approved cancelling `order` (both false once it is not Funded).
    function cancellationApprovals(Order calldata order) external view returns (bool buyer, bool seller) {
        OrderRecord memory record = _orders[order.batchId];
        if (record.id != keccak256(abi.encode(order)) || record.state != OrderState.Funded) return (false, false);
        uint8 approvals = record.cancellationApprovals;
        return (approvals & _BUYER_APPROVED != 0, approvals & _SELLER_APPROVED != 0);
    }

    /// @inheritdoc ITradeEscrow
    function orderIdOf(Order calldata order) external pure returns (bytes32) {
        return keccak256(abi.encode(order));
    }

    /// @notice The id of the batch's open order (Funded, Delivered or Disputed), zero when the batch has none.
    function openOrderOf(bytes32 batchId) external view returns (bytes32 orderId) {
        OrderRecord storage record = _orders[batchId];
        if (_isOpen(record.state)) orderId = record.id;
    }

    /// @notice The latest result the named inspector of `order` attested while the order awaited settlement
    /// (None when it names no inspector, has not been attested, or is not the batch's latest order).
    function orderInspection(Order calldata order) external view returns (IProvenanceRegistry.InspectionResult) {
        OrderRecord storage record = _orders[order.batchId];
        if (record.id != keccak256(abi.encode(order))) return IProvenanceRegistry.InspectionResult.None;
        return record.inspection;
    }

    /// @notice What `account` may withdraw in `token` (address(0) for ETH), platform fees included.
    function creditOf(address account, address token) external view returns (uint256) {
        uint256 credit = _credits[account][token];
        if (token == address(0) && account == _platformRecipient) credit += _platformEthAccrued;
        return credit;
    }

    /// @notice The platform fee required of new orders and the account the platform share is paid to.
    function platformFee() external view returns (address recipient, uint16 feeBps) {
        return (_platformRecipient, _platformFeeBps);
    }

    /// @notice The provenance registry this escrow settles against.
    function registry() external view returns (IProvenanceRegistry) {
        return _registry;
    }

    /// @notice Seconds an arbiter has to resolve a dispute before the order's fallback rule applies.
    function arbitrationPeriod() external view returns (uint32) {
        return _arbitrationPeriod;
    }

    /// @inheritdoc AccessControlDefaultAdminRules
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(ITradeEscrow).interfaceId || interfaceId == type(ICustodyObserver).interfaceId
            || super.supportsInterface(interfaceId);
    }

    // ---------------------------------------------------------------------------------------------
    // Internal
    // ---------------------------------------------------------------------------------------------

    function _validateTerms(Order calldata order) private view {
        if (order.amount == 0) revert EscrowZeroAmount();
        address seller = order.seller;
        if (seller == address(0) || seller == order.buyer || seller == address(this)) revert EscrowInvalidParty(seller);
        if ((order.carrierBps != 0 && order.carrier == address(0)) || order.carrier == address(this)) {
            revert EscrowInvalidParty(order.carrier);
        }
        uint256 totalBps = uint256(order.sellerBps) + order.carrierBps + order.platformBps;
        if (totalBps != BPS) revert EscrowInvalidSplit(totalBps);
        if (order.platformBps != _platformFeeBps) revert EscrowInvalidPlatformFee(order.platformBps, _platformFeeBps);
        if (order.fallbackBuyerBps > BPS) revert EscrowInvalidSplit(order.fallbackBuyerBps);
        if (order.deliveryDeadline <= block.timestamp) revert EscrowInvalidDeadline(order.deliveryDeadline);
        (uint32 maxDeliveryWindow, uint32 maxDisputeWindow, bool ethAllowed) =
            (_maxDeliveryWindow, _maxDisputeWindow, _ethAllowed);
        uint256 latestDeadline = block.timestamp + maxDeliveryWindow;
        if (order.deliveryDeadline > latestDeadline) revert EscrowDeadlineTooFar(order.deliveryDeadline, latestDeadline);
        if (order.disputeWindow > maxDisputeWindow) revert EscrowDisputeWindowTooLong(order.disputeWindow, maxDisputeWindow);
        address token = order.token;
        if (token == address(0) ? !ethAllowed : !_allowedTokens[token]) revert EscrowTokenNotAllowed(token);
        if (order.breachTerms != BreachTerms.None && address(_coldChain) == address(0)) revert EscrowColdChainNotSet();
        address inspector = order.inspector;
        if (inspector != address(0)) {
            // An inspector paid by neither side's outcome: none of the parties, and an active INSPECTOR today.
            if (inspector == order.buyer || inspector == seller || inspector == order.carrier || inspector == address(this)) {
                revert EscrowInvalidParty(inspector);
            }
            if (!_registry.isActiveParticipant(inspector, _INSPECTOR_ROLE)) revert EscrowInvalidInspector(inspector);
        }
    }

    /// @dev The EIP-712 digest the seller signs: the order's terms under this escrow's domain (name, version,
    /// chain id, address). `abi.encode` of the typehash and the all-static struct is its EIP-712 encoding.
    function _consentDigest(Order calldata order) private view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(ORDER_TYPEHASH, order)));
    }

    /// @dev An ECDSA signature by the seller's key, else the seller's ERC-1271 answer. ECDSA first spares an
    /// account's seller the code-size lookup (2,600 gas); it is as sound, since no one holds a key to an address
    /// that only contract code controls (and an EIP-7702 account's own key may sign for it).
    function _isSellerConsent(address seller, bytes32 digest, bytes calldata signature) private view returns (bool) {
        (address signer, ECDSA.RecoverError error,) = ECDSA.tryRecoverCalldata(digest, signature);
        if (error == ECDSA.RecoverError.NoError && signer == seller) return true;
        return SignatureChecker.isValidERC1271SignatureNowCalldata(seller, digest, signature);
    }

    function _setOrderLimits(uint32 maxDeliveryWindow, uint32 maxDisputeWindow) private {
        if (maxDeliveryWindow == 0 || maxDeliveryWindow > MAX_ORDER_WINDOW || maxDisputeWindow > MAX_ORDER_WINDOW) {
            revert EscrowInvalidOrderLimits(maxDeliveryWindow, maxDisputeWindow);
        }
        _maxDeliveryWindow = maxDeliveryWindow;
        _maxDisputeWindow = maxDisputeWindow;
        emit OrderLimitsChanged(maxDeliveryWindow, maxDisputeWindow);
    }

    function _setTokenAllowed(address token, bool allowed) private {
        if (token == address(this)) revert EscrowInvalidParty(token);
        if (token == address(0)) _ethAllowed = allowed;
        else _allowedTokens[token] = allowed;
        emit TokenAllowedChanged(token, allowed);
    }

    /// @dev The batch must exist, be neither split nor recalled, and be held by the seller; the buyer must be
    /// an onboarded participant, not suspended. Makes the registry watch the batch (one call both checks and watches).
    /// Returns the buyer's participant id.
    function _watchAvailableBatch(bytes32 batchId, address seller, address buyer) private returns (uint32 buyerId) {
        address custodian;
        IProvenanceRegistry.BatchStatus status;
        bool buyerSuspended;
        try _registry.watchBatch(batchId, buyer) returns (
            address custodian_, address, IProvenanceRegistry.BatchStatus status_, uint32 buyerId_, bool buyerSuspended_
        ) {
            (custodian, status, buyerId, buyerSuspended) = (custodian_, status_, buyerId_, buyerSuspended_);
        } catch {
            // The registry reverts for an unknown batch.
            revert EscrowBatchNotAvailable(batchId);
        }
        if (status == IProvenanceRegistry.BatchStatus.Split || status == IProvenanceRegistry.BatchStatus.Recalled) {
            revert EscrowBatchNotAvailable(batchId);
        }
        if (custodian != seller) revert EscrowSellerNotCustodian(batchId, seller, custodian);
        if (buyerId == 0 || buyerSuspended) revert EscrowBuyerNotParticipant(buyer);
    }

    function _collectDeposit(Order calldata order, address buyer) private {
        if (order.token == address(0)) {
            if (msg.value != order.amount) revert EscrowInvalidAmount(order.amount, msg.value);
            return;
        }
        if (msg.value != 0) revert EscrowInvalidAmount(0, msg.value);
        IERC20 token = IERC20(order.token);
        uint256 balanceBefore = token.balanceOf(address(this));
        token.safeTransferFrom(buyer, address(this), order.amount);
        uint256 received = token.balanceOf(address(this)) - balanceBefore;
        if (received != order.amount) revert EscrowInvalidAmount(order.amount, received);
    }

    /// @dev The record of `order`'s batch, which must hold `order` (ids are never zero, so a match means opened).
    function _load(Order calldata order) private view returns (bytes32 orderId, OrderRecord storage record) {
        orderId = keccak256(abi.encode(order));
        record = _orders[order.batchId];
        if (record.id != orderId) revert EscrowUnknownOrder(orderId);
    }

    /// @dev Funded, Delivered or Disputed: money held, the batch taken.
    function _isOpen(OrderState state) private pure returns (bool) {
        return state == OrderState.Funded || state == OrderState.Delivered || state == OrderState.Disputed;
    }

    function _requireNotShipped(Order calldata order, bytes32 orderId) private view {
        (, address custodian, address pendingCustodian,,,,,) = _registry.batch(order.batchId);
        if (custodian != order.seller || pendingCustodian != address(0)) revert EscrowAlreadyShipped(orderId);
    }

    function _cancel(Order calldata order, bytes32 orderId, OrderRecord storage record) private {
        record.state = OrderState.Cancelled;
        _stopWatching(order.batchId);
        emit OrderCancelled(orderId, order.amount);
        _pay(order.token, order.buyer, order.amount);
    }

    function _settleDispute(
        Order calldata order,
        bytes32 orderId,
        OrderRecord storage record,
        address arbiter,
        uint16 buyerBps
    ) private {
        record.state = OrderState.Resolved;
        if (order.inspector != address(0)) _stopWatching(order.batchId);
        uint256 buyerAmount = Math.mulDiv(order.amount, buyerBps, BPS);
        (uint256 sellerAmount, uint256 carrierAmount, uint256 platformAmount) = _split(order, order.amount - buyerAmount);
        if (carrierAmount != 0 && _carrierBreached(order)) {
            emit OrderBreachApplied(orderId, order.breachTerms, carrierAmount);
            buyerAmount += carrierAmount;
            carrierAmount = 0;
        }
        emit DisputeResolved(
            orderId, arbiter, arbiter != address(0), buyerBps, buyerAmount, sellerAmount, carrierAmount, platformAmount
        );
        _pay(order.token, order.buyer, buyerAmount);
        _payOut(order, sellerAmount, carrierAmount, platformAmount);
    }

    /// @dev Whether the order requires verified conditions and the cold chain established a breach of its carrier
    /// on its batch from an excursion ending at or after the order opened.
    function _carrierBreached(Order calldata order) private view returns (bool) {
        if (order.breachTerms == BreachTerms.None) return false;
        return _coldChain.breachedSince(order.batchId, order.carrier, uint40(_coldChainOpenedAt[order.batchId]));
    }

    /// @dev Release of a delivered order whose carrier breached: by the order's terms, never paying the carrier.
    function _settleBreach(Order calldata order, bytes32 orderId, OrderRecord storage record, bool inspected) private {
        BreachTerms terms = order.breachTerms;
        if (terms == BreachTerms.Dispute) {
            record.state = OrderState.Disputed;
            record.buyerIdOrDisputedAt = uint32(block.timestamp);
            emit OrderBreachApplied(orderId, terms, 0);
            emit OrderDisputed(orderId, _msgSender(), bytes32(0));
            return;
        }
        if (inspected) _stopWatching(order.batchId);
        if (terms == BreachTerms.RejectGoods) {
            record.state = OrderState.Refunded;
            emit OrderBreachApplied(orderId, terms, 0);
            emit OrderRefunded(orderId, RefundReason.ConditionsBreached, order.amount);
            _pay(order.token, order.buyer, order.amount);
            return;
        }
        record.state = OrderState.Released;
        (uint256 sellerAmount, uint256 carrierAmount, uint256 platformAmount) = _split(order, order.amount);
        emit OrderBreachApplied(orderId, terms, carrierAmount);
        emit OrderReleased(orderId, sellerAmount, 0, platformAmount);
        _pay(order.token, order.buyer, carrierAmount);
        _payOut(order, sellerAmount, 0, platformAmount);
    }

    /// @dev Stops the registry's hook for a batch whose order ends before delivery (the hook itself stops
    /// it at delivery). A registry that refuses (its admin moved the observer role elsewhere) must not lock
    /// the deposit, so its failure is ignored.
    function _stopWatching(bytes32 batchId) private {
        // solhint-disable-next-line no-empty-blocks
        try _registry.setBatchWatched(batchId, false) {} catch {}
    }

    /// @dev Splits `amount` by the order's ratios; rounding dust goes to the seller so the parts add up.
    function _split(Order calldata order, uint256 amount)
        private
        pure
        returns (uint256 sellerAmount, uint256 carrierAmount, uint256 platformAmount)
    {
        carrierAmount = Math.mulDiv(amount, order.carrierBps, BPS);
        platformAmount = Math.mulDiv(amount, order.platformBps, BPS);
        sellerAmount = amount - carrierAmount - platformAmount;
    }

    function _payOut(Order calldata order, uint256 sellerAmount, uint256 carrierAmount, uint256 platformAmount)
        private
    {
        address token = order.token;
        _creditPlatform(token, platformAmount);
        _pay(token, order.seller, sellerAmount);
        _pay(token, order.carrier, carrierAmount);
    }

    /// @dev Credits the platform share to the fee recipient in force: ETH accrues beside the recipient (the
    /// slot is never empty, so this costs no zero-to-nonzero write), tokens in the recipient's credit.
    function _creditPlatform(address token, uint256 amount) private {
        if (amount == 0) return;
        if (token == address(0)) {
            uint256 accrued = _platformEthAccrued + amount;
            if (accrued <= type(uint80).max) {
                _platformEthAccrued = uint80(accrued);
                return;
            }
        }
        _credits[_platformRecipient][token] += amount;
    }

    /// @dev Pushes `amount` to `payee`, crediting it for `withdraw` when the push fails. ETH goes with at
    /// most `ETH_PUSH_GAS` and without copying return data, so a payee can neither block nor grief.
    function _pay(address token, address payee, uint256 amount) private {
        if (amount == 0) return;
        bool paid;
        if (token == address(0)) {
            // solhint-disable-next-line no-inline-assembly
            assembly ("memory-safe") {
                paid := call(ETH_PUSH_GAS, payee, amount, 0, 0, 0, 0)
            }
        } else {
            paid = IERC20(token).trySafeTransfer(payee, amount);
        }
        if (!paid) {
            _credits[payee][token] += amount;
            emit PaymentCredited(payee, token, amount);
        }
    }

    function _withdraw(address account, address token, address recipient) private {
        uint256 amount = _credits[account][token];
        if (token == address(0) && account == _platformRecipient) {
            amount += _platformEthAccrued;
            _platformEthAccrued = 0;
        }
        if (amount == 0) revert EscrowNothingToWithdraw(account, token);
        delete _credits[account][token];
        emit Withdrawn(account, token, amount);
        if (token == address(0)) Address.sendValue(payable(recipient), amount);
        else IERC20(token).safeTransfer(recipient, amount);
    }

    function _setPlatformFee(address recipient, uint16 feeBps) private {
        if (feeBps > MAX_PLATFORM_FEE_BPS) revert EscrowPlatformFeeTooHigh(feeBps, MAX_PLATFORM_FEE_BPS);
        // Never zero, even at a zero fee: orders opened under an earlier fee still pay their platform share.
        if (recipient == address(0) || recipient == address(this)) revert EscrowInvalidParty(recipient);
        address previous = _platformRecipient;
        uint256 accrued = _platformEthAccrued;
        if (recipient != previous && accrued != 0) {
            // What the previous recipient accrued stays its own, as an ordinary credit.
            _credits[previous][address(0)] += accrued;
            _platformEthAccrued = 0;
        }
        _platformRecipient = recipient;
        _platformFeeBps = feeBps;
        emit PlatformFeeChanged(recipient, feeBps);
    }

    // ERC-2771: the forwarder's appended sender is the caller for every role check and party check.

    function _msgSender() internal view override(Context, ERC2771Context) returns (address) {
        return ERC2771Context._msgSender();
    }

    function _msgData() internal view override(Context, ERC2771Context) returns (bytes calldata) {
        return ERC2771Context._msgData();
    }

    function _contextSuffixLength() internal view override(Context, ERC2771Context) returns (uint256) {
        return ERC2771Context._contextSuffixLength();
    }
}
