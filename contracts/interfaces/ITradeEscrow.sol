// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ICustodyObserver} from "./ICustodyObserver.sol";

/// @title Escrow settlement of trade against Provena provenance
/// @notice A buyer opens and funds an order for a registered batch in one transaction (ETH or an allowlisted
/// ERC-20), with the seller's EIP-712 consent to exactly those terms (ERC-1271 for contract wallets). The delivery
/// deadline and the dispute window are bounded by the admin's limits, so every order can be cleared in bounded time.
/// Money moves only by rule: released to seller/carrier/platform once the registry shows the batch
/// delivered to the buyer (and, if the order names an inspector, that inspector passed it) and the dispute window passed;
/// refunded when undelivered by the deadline, on a recall before delivery, or on mutual cancellation before
/// shipment; split by an arbiter on dispute (a recall after delivery is one), or by the order's fallback rule
/// when the arbiter stays silent.
/// No admin key can move escrowed funds.
/// Orders are committed by hash: `orderId = keccak256(abi.encode(order))`; every call after opening passes
/// the full `Order` (the indexer has it from `OrderOpened`). At most one open order per batch.
/// Storage keeps, per batch, the latest order's full id and its state, so the custody hook, which only
/// learns the batch, finds the order; every later call must pass terms that hash to exactly that id.
/// An order may name its inspector: only that inspector's attestations, made while the order is open,
/// decide whether the goods passed inspection (the registry reports them through `onQualityAttested`).
interface ITradeEscrow is ICustodyObserver {
    enum OrderState {
        None,
        Funded,    // money held, not yet delivered to the buyer
        Delivered, // custody accepted by the buyer; dispute window running
        Disputed,  // buyer disputed; awaiting the arbiter or the fallback rule
        Released,  // paid out to seller, carrier and platform (terminal)
        Refunded,  // returned to the buyer (terminal)
        Resolved,  // split by the arbiter or the fallback rule (terminal)
        Cancelled  // mutually cancelled before shipment, buyer refunded (terminal)
    }

    enum RefundReason {
        DeadlinePassed,
        BatchRecalled,
        InspectionFailed,
        ConditionsBreached // the order's BreachTerms were RejectGoods and its carrier breached the conditions
    }

    /// @notice What happens to an order whose carrier breached the goods' conditions (a breach the cold chain
    /// established for the order's batch and carrier, from an excursion ending at or after the order opened).
    /// Whatever the terms, a breach never pays the carrier its freight.
    enum BreachTerms {
        None,          // the order does not require verified conditions: the cold chain is never consulted
        RefundFreight, // on release the carrier's share goes back to the buyer; seller and platform are paid
        RejectGoods,   // on release the buyer is refunded in full (the goods are rejected)
        Dispute        // release opens a dispute instead; the arbiter (or the fallback rule) splits, freight to the buyer
    }

    struct Order {
        address buyer;
        address seller;
        address carrier;
        address token; // address(0) for ETH
        uint256 amount;
        bytes32 batchId;
        uint16 sellerBps;
        uint16 carrierBps;
        uint16 platformBps; // must equal the platform fee in force when the order opens
        uint40 deliveryDeadline;
        uint32 disputeWindow; // seconds after delivery during which the buyer may dispute
        address inspector; // the inspector whose passing attestation release requires; address(0) for none
        uint16 fallbackBuyerBps; // buyer's share if a dispute is not resolved within the arbitration period
        bytes32 salt; // makes otherwise equal orders distinct
        BreachTerms breachTerms; // whether the order requires verified conditions, and what a breach does
    }

    // Errors and events are declared here; implementations add what they need with the same naming.
    error EscrowOrderExists(bytes32 orderId);
    error EscrowUnknownOrder(bytes32 orderId);
    error EscrowInvalidState(bytes32 orderId, OrderState state);
    error EscrowUnauthorized(bytes32 orderId, address account);
    error EscrowInvalidSplit(uint256 totalBps);
    error EscrowInvalidPlatformFee(uint16 platformBps, uint16 required);
    error EscrowInvalidAmount(uint256 expected, uint256 received);
    error EscrowInvalidDeadline(uint40 deadline);
    error EscrowBatchBusy(bytes32 batchId, bytes32 openOrderId);
    error EscrowBatchNotAvailable(bytes32 batchId);
    error EscrowNotDeliverable(bytes32 orderId);
    error EscrowTooEarly(bytes32 orderId, uint256 availableAt);
    error EscrowTooLate(bytes32 orderId, uint256 closedAt);
    error EscrowNothingToWithdraw(address account, address token);
    /// @notice Reverts when `sellerSignature` is not the seller's EIP-712 consent to exactly this order on this
    /// chain and escrow (an ECDSA signature for an account, ERC-1271 `isValidSignature` for a contract wallet).
    error EscrowInvalidSellerConsent(bytes32 orderId, address seller);
    /// @notice Reverts when an order's token (address(0) for ETH) is not on the admin's allowlist.
    error EscrowTokenNotAllowed(address token);
    /// @notice Reverts when an order's delivery deadline lies beyond `latest` (now plus the longest delivery window).
    error EscrowDeadlineTooFar(uint40 deadline, uint256 latest);
    /// @notice Reverts when an order's dispute window is longer than the admin's limit.
    error EscrowDisputeWindowTooLong(uint32 disputeWindow, uint32 maxDisputeWindow);
    /// @notice Reverts when an order names an inspector that is not an active INSPECTOR of the registry.
    error EscrowInvalidInspector(address inspector);
    /// @notice Reverts when the admin sets a zero delivery window or a window beyond the hard cap.
    error EscrowInvalidOrderLimits(uint32 maxDeliveryWindow, uint32 maxDisputeWindow);

    /// @notice Emitted when a buyer opens and funds an order; carries the whole order.
    event OrderOpened(bytes32 indexed orderId, address indexed buyer, bytes32 indexed batchId, Order order);
    /// @notice Emitted when the registry reports custody of the order's batch accepted by its buyer.
    event OrderDelivered(bytes32 indexed orderId, bytes32 indexed batchId, uint40 deliveredAt);
    /// @notice Emitted when the order's named inspector (`order.inspector`) attests its batch while the order awaits
    /// settlement; the latest such result is the one release, the inspection refund and the late dispute go by.
    event OrderInspected(bytes32 indexed orderId, bool passed);
    /// @notice Emitted when the order pays out; amounts are what each party was paid or credited (the platform
    /// share is always credited to the fee recipient, for `withdraw`).
    event OrderReleased(bytes32 indexed orderId, uint256 sellerAmount, uint256 carrierAmount, uint256 platformAmount);
    /// @notice Emitted when the buyer gets the deposit back.
    event OrderRefunded(bytes32 indexed orderId, RefundReason reason, uint256 amount);
    /// @notice Emitted when a delivered order is disputed: by the buyer within its window, or by either party
    /// when a required inspection is still pending after it (`disputedBy` is the party, also when relayed).
    event OrderDisputed(bytes32 indexed orderId, address indexed disputedBy, bytes32 reasonHash);
    /// @notice Emitted when a dispute is settled; `byArbiter` is false when the fallback rule decided.
    event DisputeResolved(bytes32 indexed orderId, address indexed arbiter, bool byArbiter, uint16 buyerBps, uint256 buyerAmount, uint256 sellerAmount, uint256 carrierAmount, uint256 platformAmount);
    /// @notice Emitted when the buyer or the seller agrees to cancel.
    event CancellationApproved(bytes32 indexed orderId, address indexed party);
    /// @notice Emitted when both agreed and the order is cancelled (buyer refunded).
    event OrderCancelled(bytes32 indexed orderId, uint256 amount);
    /// @notice Emitted when a push payment failed and the amount was credited for withdrawal instead.
    event PaymentCredited(address indexed account, address indexed token, uint256 amount);
    /// @notice Emitted when credited funds are withdrawn.
    event Withdrawn(address indexed account, address indexed token, uint256 amount);
    /// @notice Emitted when the admin changes the platform fee or its recipient (affects new orders only).
    event PlatformFeeChanged(address indexed recipient, uint16 feeBps);

    /// @notice Emitted when the admin changes the longest delivery window and dispute window of new orders.
    event OrderLimitsChanged(uint32 maxDeliveryWindow, uint32 maxDisputeWindow);
    /// @notice Emitted when the admin allows or disallows a token (address(0) for ETH) for new orders; orders
    /// already open settle in their token regardless.
    event TokenAllowedChanged(address indexed token, bool allowed);

    /// @notice The buyer opens and funds an order (msg.value for ETH, an allowance for ERC-20), with the seller's
    /// EIP-712 signature over `order` (see `consentDigest`).
    /// @param order The terms; `order.buyer` must be the caller.
    /// @param sellerSignature The seller's consent: a 65-byte ECDSA signature of `consentDigest(order)`, or
    /// whatever the seller's ERC-1271 wallet accepts for that digest.
    function openOrder(Order calldata order, bytes calldata sellerSignature) external payable returns (bytes32 orderId);

    /// @notice Anyone: pays out once delivered, inspected if required, and the dispute window passed (immediately when the buyer calls).
    function release(Order calldata order) external;

    /// @notice Anyone: refunds the buyer of an undelivered order past its deadline or whose batch (or an ancestor
    /// lot) was recalled; never after delivery. Except on recall, not while a handoff of the batch to the buyer is
    /// pending: the buyer accepts or rejects it first.
    function refund(Order calldata order) external;

    /// @notice The buyer disputes a delivered order within the dispute window; either party at any time once the
    /// batch was recalled, or after the window while a required inspection has not passed.
    function dispute(Order calldata order, bytes32 reasonHash) external;

    /// @notice An arbiter settles a dispute, giving `buyerBps` to the buyer and the rest by the order's split;
    /// never an arbiter who is the order's buyer, seller or carrier.
    function resolveDispute(Order calldata order, uint16 buyerBps) external;

    /// @notice Anyone: settles a dispute by the order's fallback rule once the arbitration period passed.
    function resolveExpiredDispute(Order calldata order) external;

    /// @notice The buyer or the seller agrees to cancel before shipment; when both agreed the buyer is refunded.
    function approveCancellation(Order calldata order) external;

    /// @notice Withdraws credited funds of the caller in `token` (address(0) for ETH).
    function withdraw(address token) external;

    /// @notice The state of `order` and its timestamps; `None` when it was never opened or its batch has
    /// since been taken by a later order.
    function orderState(Order calldata order) external view returns (OrderState state, uint40 deliveredAt, uint40 disputedAt);

    /// @notice The admin sets the longest delivery window (deadline minus opening time, at least one second) and
    /// the longest dispute window of orders opened from now on; each at most `MAX_ORDER_WINDOW`.
    function setOrderLimits(uint32 maxDeliveryWindow, uint32 maxDisputeWindow) external;

    /// @notice The admin allows or disallows `token` (address(0) for ETH) for orders opened from now on.
    function setTokenAllowed(address token, bool allowed) external;

    /// @notice The longest delivery window and dispute window a new order may have, in seconds.
    function orderLimits() external view returns (uint32 maxDeliveryWindow, uint32 maxDisputeWindow);

    /// @notice Whether new orders may be paid in `token` (address(0) for ETH).
    function isTokenAllowed(address token) external view returns (bool);

    /// @notice The EIP-712 digest the seller signs to consent to `order` on this escrow and chain.
    function consentDigest(Order calldata order) external view returns (bytes32);

    /// @notice The id of `order`.
    function orderIdOf(Order calldata order) external pure returns (bytes32);
}
