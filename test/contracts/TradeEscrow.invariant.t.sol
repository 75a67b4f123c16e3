// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ProvenaForwarder} from "../../contracts/ProvenaForwarder.sol";
import {ProvenanceRegistry} from "../../contracts/ProvenanceRegistry.sol";
import {TradeEscrow} from "../../contracts/TradeEscrow.sol";
import {IProvenanceRegistry} from "../../contracts/interfaces/IProvenanceRegistry.sol";
import {IColdChain} from "../../contracts/interfaces/IColdChain.sol";
import {ITradeEscrow} from "../../contracts/interfaces/ITradeEscrow.sol";
import {EthRejectingReceiver} from "../../contracts/mocks/EthRejectingReceiver.sol";
import {MockStablecoin} from "../../contracts/mocks/MockStablecoin.sol";
import {CheatsBase} from "../helpers/Vm.sol";

uint64 constant GTIN = 8412345000102; // GTIN-13 with its check digit
uint64 constant GLN = 8412345000012;

/// @dev A cold chain whose breaches the handler establishes at will: for any batch and carrier, ending at any
/// time (before the order opened, while it is open, between its dispute and its resolution).
contract AdversarialColdChain {
    mapping(bytes32 batchId => mapping(address carrier => uint40 breachEnd)) public breachEnd;

    function establishBreach(bytes32 batchId, address carrier, uint40 end) external {
        if (end > breachEnd[batchId][carrier]) breachEnd[batchId][carrier] = end;
    }

    function breachedSince(bytes32 batchId, address carrier, uint40 since) external view returns (bool) {
        uint40 end = breachEnd[batchId][carrier];
        return end != 0 && end >= since;
    }
}

/// @dev The cheatcodes this suite needs beyond test/helpers/Vm.sol (same cheatcode address).
interface VmDeal {
    function deal(address account, uint256 newBalance) external;
}

/// @dev Deploys forwarder, registry and escrow (this contract administers both), onboards the trade's
/// participants and a stablecoin. Shared by the fuzz and invariant suites.
abstract contract TradeEscrowSetup is CheatsBase {
    uint16 internal constant PLATFORM_FEE_BPS = 250;
    uint32 internal constant ARBITRATION_PERIOD = 7 days;

    ProvenanceRegistry internal registry;
    TradeEscrow internal escrow;
    MockStablecoin internal stablecoin;
    EthRejectingReceiver internal rejectingCarrier;

    /// @dev The seller signs its consent to each order, so it needs a key.
    uint256 internal constant MANUFACTURER_KEY = 0xA11CE;
    address internal manufacturer = vm.addr(MANUFACTURER_KEY);
    address internal carrier = address(0x1002);
    address internal inspector = address(0x1004);
    address internal rivalInspector = address(0x1006);
    address internal regulator = address(0x1005);
    address internal buyerA = address(0x2001);
    address internal buyerB = address(0x2002);
    address internal platform = address(0x3001);
    address internal arbiter = address(0x3002);

    function _deploy() internal {
        vm.warp(1_750_000_000);
        ProvenaForwarder forwarder = new ProvenaForwarder();
        registry = new ProvenanceRegistry(address(forwarder), address(this), 0);
        escrow = new TradeEscrow(
            IProvenanceRegistry(address(registry)),
            address(forwarder),
            address(this),
            0,
            platform,
            PLATFORM_FEE_BPS,
            ARBITRATION_PERIOD
        );
        registry.setCustodyObserver(address(escrow));
        escrow.grantRole(escrow.ARBITER_ROLE(), arbiter);
        registry.onboardParticipant(manufacturer, registry.MANUFACTURER_ROLE(), GLN, "manufacturer");
        registry.grantCompanyPrefix(manufacturer, 8412345, 7); // the company prefix of GTIN
        registry.onboardParticipant(carrier, registry.CARRIER_ROLE(), GLN, "carrier");
        registry.onboardParticipant(inspector, registry.INSPECTOR_ROLE(), GLN, "inspector");
        registry.onboardParticipant(rivalInspector, registry.INSPECTOR_ROLE(), GLN, "rival inspector");
        registry.onboardParticipant(regulator, registry.REGULATOR_ROLE(), GLN, "regulator");
        registry.onboardParticipant(buyerA, registry.RETAILER_ROLE(), GLN, "buyer A");
        registry.onboardParticipant(buyerB, registry.RETAILER_ROLE(), GLN, "buyer B");
        stablecoin = new MockStablecoin();
        escrow.setTokenAllowed(address(stablecoin), true);
        rejectingCarrier = new EthRejectingReceiver();
    }

    /// @dev `signer`'s EIP-712 consent to `o` on `escrow_` (65 bytes, r || s || v).
    function _consentOf(TradeEscrow escrow_, uint256 signerKey, ITradeEscrow.Order memory o) internal view returns (bytes memory) {
        return _signature(signerKey, escrow_.consentDigest(o));
    }

    function _signature(uint256 signerKey, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(signerKey, digest);
        return abi.encodePacked(r, s, v);
    }
}

/// @dev The invariant fuzzer calls these actions in random order. Every action tries what a real party
/// could try (often out of order, so many calls revert); each successful settlement is checked on the
/// spot: the escrow's holdings drop by exactly the deposit, counting what it credited instead of paying.
contract TradeEscrowHandler is CheatsBase {
    uint256 internal constant STRANGER_KEY = 0xBAD;
    ProvenanceRegistry internal immutable registry;
    TradeEscrow internal immutable escrow;
    MockStablecoin internal immutable stablecoin;
    address internal immutable manufacturer;
    address internal immutable carrier;
    address internal immutable altCarrier;
    address internal immutable inspector;
    address internal immutable rivalInspector;
    address internal immutable regulator;
    address internal immutable arbiter;
    address[2] internal buyers;
    address internal immutable registryAdmin;
    AdversarialColdChain internal immutable coldChain;
    /// @dev The carrier's ETH or token balance plus its credit before the settlement being checked.
    /// @dev The settling order's carrier's holdings just before the settlement call (every settling action sets it).
    uint256 internal _carrierBefore;

    ITradeEscrow.Order[] internal _orders;
    bytes[] internal _consents;
    uint256 internal immutable sellerKey;
    /// @notice A token nobody allowed: what a griefer would deploy to pay one unit with.
    MockStablecoin internal immutable dustToken;
    /// @notice When each order opened, to check that it can be cleared in bounded time.
    mapping(bytes32 orderId => uint256) public openedAt;
    /// @notice Every address that may hold a credit, for the solvency check.
    address[] public payees;
    mapping(bytes32 orderId => uint256) public settlements;
    mapping(bytes32 orderId => ITradeEscrow.OrderState) public settledAs;
    /// @notice The latest result each order's named inspector attested while the order awaited settlement.
    mapping(bytes32 orderId => IProvenanceRegistry.InspectionResult) public namedResult;
    /// @notice The buyer of an order took custody of its batch at some point.
    mapping(bytes32 batchId => address) public receivedBy;

    /// @notice Broken rules seen by the actions; must stay 0.
    uint256 public violations;
    string public lastViolation;
    /// @notice Successful calls per action, to see that runs reach interesting states.
    mapping(bytes4 selector => uint256) public successes;
    uint256 internal lotNonce;
    mapping(bytes32 batchId => string) internal _lotOf;

    constructor(
        ProvenanceRegistry registry_,
        TradeEscrow escrow_,
        MockStablecoin stablecoin_,
        address[10] memory actors, // manufacturer, carrier, altCarrier, inspector, regulator, arbiter, buyerA, buyerB, platform, rivalInspector
        address registryAdmin_,
        uint256 sellerKey_,
        AdversarialColdChain coldChain_
    ) {
        sellerKey = sellerKey_;
        coldChain = coldChain_;
        dustToken = new MockStablecoin();
        registryAdmin = registryAdmin_;
        registry = registry_;
        escrow = escrow_;
        stablecoin = stablecoin_;
        manufacturer = actors[0];
        carrier = actors[1];
        altCarrier = actors[2];
        inspector = actors[3];
        regulator = actors[4];
        arbiter = actors[5];
        buyers = [actors[6], actors[7]];
        rivalInspector = actors[9];
        for (uint256 i; i < actors.length; ++i) {
            payees.push(actors[i]);
        }
    }

    function orderCount() external view returns (uint256) {
        return _orders.length;
    }

    function order(uint256 index) external view returns (ITradeEscrow.Order memory) {
        return _orders[index];
    }

    function payeeCount() external view returns (uint256) {
        return payees.length;
    }

    // ------------------------------------------------------------------ actions

    /// @dev A new batch by the manufacturer and an order for it, in ETH or the stablecoin.
    function open(uint256 assetSeed, uint256 amountSeed, uint256 carrierBpsSeed, uint256 flagsSeed) external {
        string memory lot = string.concat("ESC-", _decimal(++lotNonce));
        vm.prank(manufacturer);
        bytes32 batchId = registry.registerBatch(GTIN, lot, 10, 1_700_000_000, GLN, bytes32(0), keccak256("serials"));
        _lotOf[batchId] = lot;

        bool inEth = assetSeed % 2 == 0;
        uint16 carrierBps = uint16(bound(carrierBpsSeed, 0, 3_000));
        ITradeEscrow.Order memory newOrder = ITradeEscrow.Order({
            buyer: buyers[flagsSeed % 2],
            seller: manufacturer,
            carrier: (flagsSeed >> 1) % 3 == 0 ? altCarrier : carrier,
            token: inEth ? address(0) : address(stablecoin),
            amount: bound(amountSeed, 1, 1_000 ether),
            batchId: batchId,
            sellerBps: 10_000 - 250 - carrierBps,
            carrierBps: carrierBps,
            platformBps: 250,
            deliveryDeadline: uint40(block.timestamp + 1 + (flagsSeed >> 3) % 20 days),
            disputeWindow: uint32((flagsSeed >> 8) % 5 days),
            inspector: _namedInspector(flagsSeed >> 16),
            fallbackBuyerBps: uint16((flagsSeed >> 20) % 10_001),
            salt: keccak256(abi.encode(lotNonce)),
            breachTerms: ITradeEscrow.BreachTerms((flagsSeed >> 40) % 4)
        });

        bytes memory consent = _sign(sellerKey, escrow.consentDigest(newOrder));
        if (inEth) {
            // A pranked call's value comes out of the pranked account.
            VmDeal(address(vm)).deal(newOrder.buyer, newOrder.buyer.balance + newOrder.amount);
            vm.prank(newOrder.buyer);
            escrow.openOrder{value: newOrder.amount}(newOrder, consent);
        } else {
            stablecoin.mint(newOrder.buyer, newOrder.amount);
            vm.prank(newOrder.buyer);
            stablecoin.approve(address(escrow), newOrder.amount);
            vm.prank(newOrder.buyer);
            escrow.openOrder(newOrder, consent);
        }
        _orders.push(newOrder);
        _consents.push(consent);
        openedAt[escrow.orderIdOf(newOrder)] = block.timestamp;
        ++successes[msg.sig];
    }

    /// @dev A griefer tries to tie the batch of an existing order (often in transit, or with another order) to an
    /// order of its own naming the custodian as seller: without consent, with a consent replayed from another order,
    /// batch or chain, by front-running a buyer's consent, with a far deadline or a dust token. None may open.
    function griefOrder(uint256 orderSeed, uint256 kindSeed, uint256 farSeed) external {
        if (_orders.length == 0) return;
        uint256 index = _pick(orderSeed);
        ITradeEscrow.Order memory victim = _orders[index];
        (, address custodian,,,,,,) = registry.batch(victim.batchId);
        address griefer = victim.buyer == buyers[0] ? buyers[1] : buyers[0];
        ITradeEscrow.Order memory o = victim;
        o.buyer = griefer;
        o.seller = custodian;
        o.amount = 1;
        o.deliveryDeadline = uint40(block.timestamp + 1 days);
        o.salt = keccak256(abi.encode("grief", lotNonce, kindSeed));
        bytes memory consent;
        address caller = griefer;
        uint256 kind = kindSeed % 6;
        if (kind == 0) {
            consent = _sign(STRANGER_KEY, escrow.consentDigest(o)); // the griefer signs for the seller
        } else if (kind == 1) {
            consent = _consents[index]; // the victim order's consent, for other terms
        } else if (kind == 2) {
            o.deliveryDeadline = uint40(block.timestamp + 91 days + farSeed % (type(uint40).max - block.timestamp - 91 days));
            consent = _sign(sellerKey, escrow.consentDigest(o));
        } else if (kind == 3) {
            o.token = address(dustToken);
            dustToken.mint(griefer, 1);
            vm.prank(griefer);
            dustToken.approve(address(escrow), 1);
            consent = _sign(sellerKey, escrow.consentDigest(o));
        } else if (kind == 4) {
            consent = _sign(sellerKey, _digestOnOtherChain(o)); // a consent given on another chain
        } else {
            o = victim; // front-running: the griefer submits the buyer's own order and consent
            consent = _consents[index];
            caller = griefer;
        }
        if (o.token == address(0)) VmDeal(address(vm)).deal(caller, caller.balance + o.amount);
        vm.prank(caller);
        try escrow.openOrder{value: o.token == address(0) ? o.amount : 0}(o, consent) {
            _violation("an order opened without the seller's consent to exactly its bounded terms");
        } catch {}
    }

    function _digestOnOtherChain(ITradeEscrow.Order memory o) internal view returns (bytes32) {
        bytes32 domainSeparator = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("Provena TradeEscrow"),
                keccak256("1"),
                block.chainid + 1,
                address(escrow)
            )
        );
        bytes32 structHash = keccak256(abi.encode(escrow.ORDER_TYPEHASH(), o));
        return keccak256(abi.encodePacked("\x19\x01", domainSeparator, structHash));
    }

    function _sign(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    /// @dev Moves the order's batch one to four steps along manufacturer -> carrier -> buyer.
    function advanceCustody(uint256 orderSeed, uint256 stepsSeed) external {
        if (_orders.length == 0) return;
        ITradeEscrow.Order memory o = _orders[_pick(orderSeed)];
        uint256 steps = 1 + stepsSeed % 4;
        for (uint256 i; i < steps; ++i) {
            if (!_advance(o)) return;
        }
    }

    function _advance(ITradeEscrow.Order memory o) internal returns (bool moved) {
        (, address custodian, address pending, IProvenanceRegistry.BatchStatus status,,,,) = registry.batch(o.batchId);
        if (status == IProvenanceRegistry.BatchStatus.Recalled || status == IProvenanceRegistry.BatchStatus.Split) {
            return false;
        }
        if (pending != address(0)) {
            vm.prank(pending);
            registry.acceptHandoff(o.batchId, GLN, IProvenanceRegistry.BusinessStep.Receiving);
            if (pending == o.buyer) receivedBy[o.batchId] = o.buyer;
        } else if (custodian == manufacturer) {
            vm.prank(manufacturer);
            registry.proposeHandoff(o.batchId, carrier, GLN, IProvenanceRegistry.BusinessStep.Shipping);
        } else if (custodian == carrier) {
            vm.prank(carrier);
            registry.proposeHandoff(o.batchId, o.buyer, GLN, IProvenanceRegistry.BusinessStep.Shipping);
        } else {
            return false;
        }
        ++successes[TradeEscrowHandler.advanceCustody.selector];
        return true;
    }

    /// @dev Either inspector attests an order's batch; only the order's named inspector's result may count for it
    /// (and only while the order awaits settlement), whoever attested last.
    function attest(uint256 orderSeed, bool passed, bool byRival) external {
        if (_orders.length == 0) return;
        bytes32 batchId = _orders[_pick(orderSeed)].batchId;
        address attester = byRival ? rivalInspector : inspector;
        uint256 count = _orders.length;
        bool[] memory awaiting = new bool[](count);
        for (uint256 i; i < count; ++i) {
            (ITradeEscrow.OrderState state,,) = escrow.orderState(_orders[i]);
            awaiting[i] = state == ITradeEscrow.OrderState.Funded || state == ITradeEscrow.OrderState.Delivered;
        }
        vm.prank(attester);
        try registry.attestQuality(batchId, passed, bytes32(0)) {
            for (uint256 i; i < count; ++i) {
                ITradeEscrow.Order memory o = _orders[i];
                if (o.batchId != batchId || !awaiting[i] || o.inspector != attester) continue;
                namedResult[escrow.orderIdOf(o)] =
                    passed ? IProvenanceRegistry.InspectionResult.Passed : IProvenanceRegistry.InspectionResult.Failed;
            }
            ++successes[msg.sig];
        } catch {}
    }

    function recall(uint256 orderSeed) external {
        if (_orders.length == 0) return;
        vm.prank(regulator);
        try registry.recallBatch(_orders[_pick(orderSeed)].batchId, bytes32(0)) {} catch {}
    }

    /// @dev Whoever holds the order's batch tries to split it: refused while an order awaits its delivery (or its named inspection), and
    /// allowed to a buyer after delivery (the children then carry the goods it holds).
    function split(uint256 orderSeed) external {
        if (_orders.length == 0) return;
        ITradeEscrow.Order memory o = _orders[_pick(orderSeed)];
        (, address custodian,,,,,,) = registry.batch(o.batchId);
        IProvenanceRegistry.ChildBatch[] memory children = new IProvenanceRegistry.ChildBatch[](2);
        // Children are named after the parent lot and carry its serial root (issue 11, items 1 and 2).
        children[0] = IProvenanceRegistry.ChildBatch(string.concat(_lotOf[o.batchId], "/A"), 5, keccak256("serials"));
        children[1] = IProvenanceRegistry.ChildBatch(string.concat(_lotOf[o.batchId], "/B"), 5, keccak256("serials"));
        bool watched = registry.isBatchWatched(o.batchId);
        vm.prank(custodian);
        try registry.splitBatch(o.batchId, children) {
            if (watched) _violation("a batch under escrow was split");
            ++successes[msg.sig];
        } catch {}
    }

    /// @dev The registry admin tries to swap the custody observer (and puts the escrow back at once).
    function moveObserver() external {
        uint256 watched = registry.watchedBatchCount();
        vm.prank(registryAdmin);
        try registry.setCustodyObserver(address(0xDEAD)) {
            if (watched != 0) _violation("the observer moved while batches awaited delivery");
            vm.prank(registryAdmin);
            registry.setCustodyObserver(address(escrow));
            ++successes[msg.sig];
        } catch {}
    }

    function passTime(uint256 secondsSeed) external {
        vm.warp(block.timestamp + bound(secondsSeed, 1, 10 days));
    }

    function release(uint256 orderSeed, bool asBuyer) external {
        if (_orders.length == 0) return;
        uint256 index = _pick(orderSeed);
        (uint256 before, uint256 creditsBefore) = _holdings(_orders[index].token);
        _carrierBefore = _carrierHoldings(_orders[index]);
        vm.prank(asBuyer ? _orders[index].buyer : address(0xBEEF));
        try escrow.release(_orders[index]) {
            ITradeEscrow.Order memory o = _orders[index];
            if (o.inspector != address(0) && namedResult[escrow.orderIdOf(o)] != IProvenanceRegistry.InspectionResult.Passed) {
                _violation("released without the named inspector's pass");
            }
            if (!_breachCounts(o)) {
                _settled(index, before, creditsBefore, ITradeEscrow.OrderState.Released);
            } else if (o.breachTerms == ITradeEscrow.BreachTerms.Dispute) {
                (ITradeEscrow.OrderState state,,) = escrow.orderState(o);
                if (state != ITradeEscrow.OrderState.Disputed) _violation("a breach under Dispute terms did not open a dispute");
                ++successes[bytes4(keccak256("breachDispute()"))];
            } else {
                _settled(
                    index,
                    before,
                    creditsBefore,
                    o.breachTerms == ITradeEscrow.BreachTerms.RejectGoods
                        ? ITradeEscrow.OrderState.Refunded
                        : ITradeEscrow.OrderState.Released
                );
            }
        } catch {}
    }

    function refund(uint256 orderSeed, bool asBuyer) external {
        if (_orders.length == 0) return;
        uint256 index = _pick(orderSeed);
        (uint256 before, uint256 creditsBefore) = _holdings(_orders[index].token);
        _carrierBefore = _carrierHoldings(_orders[index]);
        (,, address pendingBefore, IProvenanceRegistry.BatchStatus statusBefore,,,,) =
            registry.batch(_orders[index].batchId);
        vm.prank(asBuyer ? _orders[index].buyer : address(0xBEEF));
        try escrow.refund(_orders[index]) {
            // Refunded with the goods on offer to it, the buyer could accept them too and keep both.
            if (pendingBefore == _orders[index].buyer && statusBefore != IProvenanceRegistry.BatchStatus.Recalled) {
                _violation("refunded while the batch was on offer to the buyer");
            }
            if (receivedBy[_orders[index].batchId] == _orders[index].buyer) {
                _violation("a buyer who took the goods (or split them) was refunded");
            }
            // Neither recalled nor past its deadline: only the named inspector's failure refunds.
            if (
                statusBefore != IProvenanceRegistry.BatchStatus.Recalled && block.timestamp <= _orders[index].deliveryDeadline
                    && namedResult[escrow.orderIdOf(_orders[index])] != IProvenanceRegistry.InspectionResult.Failed
            ) _violation("refunded for a failure the named inspector did not attest");
            _settled(index, before, creditsBefore, ITradeEscrow.OrderState.Refunded);
        } catch {}
    }

    function dispute(uint256 orderSeed, bool asSeller) external {
        if (_orders.length == 0) return;
        ITradeEscrow.Order memory o = _orders[_pick(orderSeed)];
        vm.prank(asSeller ? o.seller : o.buyer);
        try escrow.dispute(o, keccak256("reason")) {
            ++successes[msg.sig];
        } catch {}
    }

    function resolve(uint256 orderSeed, uint256 buyerBpsSeed) external {
        if (_orders.length == 0) return;
        uint256 index = _pick(orderSeed);
        (uint256 before, uint256 creditsBefore) = _holdings(_orders[index].token);
        _carrierBefore = _carrierHoldings(_orders[index]);
        vm.prank(arbiter);
        try escrow.resolveDispute(_orders[index], uint16(bound(buyerBpsSeed, 0, 10_000))) {
            _settled(index, before, creditsBefore, ITradeEscrow.OrderState.Resolved);
        } catch {}
    }

    function resolveExpired(uint256 orderSeed) external {
        if (_orders.length == 0) return;
        uint256 index = _pick(orderSeed);
        (uint256 before, uint256 creditsBefore) = _holdings(_orders[index].token);
        _carrierBefore = _carrierHoldings(_orders[index]);
        try escrow.resolveExpiredDispute(_orders[index]) {
            _settled(index, before, creditsBefore, ITradeEscrow.OrderState.Resolved);
        } catch {}
    }

    function approveCancellation(uint256 orderSeed, bool asSeller) external {
        if (_orders.length == 0) return;
        uint256 index = _pick(orderSeed);
        (uint256 before, uint256 creditsBefore) = _holdings(_orders[index].token);
        _carrierBefore = _carrierHoldings(_orders[index]);
        vm.prank(asSeller ? _orders[index].seller : _orders[index].buyer);
        try escrow.approveCancellation(_orders[index]) {
            (ITradeEscrow.OrderState state,,) = escrow.orderState(_orders[index]);
            if (state == ITradeEscrow.OrderState.Cancelled) {
                _settled(index, before, creditsBefore, ITradeEscrow.OrderState.Cancelled);
            }
        } catch {}
    }

    function decline(uint256 orderSeed) external {
        if (_orders.length == 0) return;
        uint256 index = _pick(orderSeed);
        (uint256 before, uint256 creditsBefore) = _holdings(_orders[index].token);
        _carrierBefore = _carrierHoldings(_orders[index]);
        vm.prank(_orders[index].seller);
        try escrow.declineOrder(_orders[index]) {
            _settled(index, before, creditsBefore, ITradeEscrow.OrderState.Cancelled);
        } catch {}
    }

    function withdraw(uint256 payeeSeed, bool inEth) external {
        address payee = payees[payeeSeed % payees.length];
        address token = inEth ? address(0) : address(stablecoin);
        uint256 credit = escrow.creditOf(payee, token);
        (uint256 before,) = _holdings(token);
        vm.prank(payee);
        try escrow.withdrawTo(token, address(0xCAFE)) {
            (uint256 afterwards,) = _holdings(token);
            if (before - afterwards != credit) _violation("withdrawal paid other than the credit");
            if (escrow.creditOf(payee, token) != 0) _violation("credit left after withdrawal");
            ++successes[msg.sig];
        } catch {}
    }

    // ------------------------------------------------------------------ checks

    /// @dev Mostly the newest order (so one order gets far along its life), sometimes any order.
    function _pick(uint256 seed) internal view returns (uint256) {
        return seed % 4 != 0 ? _orders.length - 1 : (seed >> 2) % _orders.length;
    }

    /// @dev What the escrow holds of `token` and what it owes as credits of `token`.
    function _holdings(address token) internal view returns (uint256 balance, uint256 credits) {
        balance = token == address(0) ? address(escrow).balance : IERC20(token).balanceOf(address(escrow));
        for (uint256 i; i < payees.length; ++i) {
            credits += escrow.creditOf(payees[i], token);
        }
    }

    /// @dev After a settlement: it happened once, left the expected terminal state, and the parts paid out
    /// plus the parts credited add up to exactly the deposit.
    function _settled(uint256 index, uint256 before, uint256 creditsBefore, ITradeEscrow.OrderState expected)
        internal
    {
        ITradeEscrow.Order memory o = _orders[index];
        bytes32 orderId = escrow.orderIdOf(o);
        if (++settlements[orderId] > 1) _violation("order settled twice");
        (ITradeEscrow.OrderState state,,) = escrow.orderState(o);
        if (state != expected) _violation("unexpected terminal state");
        settledAs[orderId] = state;
        (uint256 afterwards, uint256 creditsAfter) = _holdings(o.token);
        if ((before - afterwards) + (creditsAfter - creditsBefore) != o.amount) {
            _violation("payouts and credits do not add up to the deposit");
        }
        if (escrow.openOrderOf(o.batchId) != bytes32(0)) _violation("settled order still open on its batch");
        if (_breachCounts(o) && _carrierHoldings(o) != _carrierBefore) _violation("a breach paid the carrier");
        ++successes[msg.sig];
    }

    /// @dev An adversary establishes a breach of an order's carrier on its batch, ending at any moment: before
    /// the order opened (must not count), now, or later than now.
    function establishBreach(uint256 orderSeed, uint256 whenSeed) external {
        if (_orders.length == 0) return;
        ITradeEscrow.Order memory o = _orders[_pick(orderSeed)];
        uint256 opened = openedAt[escrow.orderIdOf(o)];
        uint256 kind = whenSeed % 3;
        uint256 end = kind == 0 ? opened - 1 - (whenSeed >> 8) % 1 days : kind == 1 ? block.timestamp : block.timestamp + (whenSeed >> 8) % 1 days;
        coldChain.establishBreach(o.batchId, (whenSeed / 3) % 4 == 3 ? altCarrier : o.carrier, uint40(end));
        ++successes[msg.sig];
    }

    /// @dev Whether the order's terms make a breach count and the cold chain shows one since it opened.
    function _breachCounts(ITradeEscrow.Order memory o) internal view returns (bool) {
        return o.breachTerms != ITradeEscrow.BreachTerms.None
            && coldChain.breachedSince(o.batchId, o.carrier, uint40(openedAt[escrow.orderIdOf(o)]));
    }

    function _carrierHoldings(ITradeEscrow.Order memory o) internal view returns (uint256) {
        uint256 balance = o.token == address(0) ? o.carrier.balance : IERC20(o.token).balanceOf(o.carrier);
        return balance + escrow.creditOf(o.carrier, o.token);
    }

    /// @dev The fixture's inspector, the rival one, or none (half the orders).
    function _namedInspector(uint256 seed) internal view returns (address) {
        uint256 pick = seed % 4;
        if (pick == 0) return inspector;
        if (pick == 1) return rivalInspector;
        return address(0);
    }

    function _violation(string memory what) internal {
        ++violations;
        lastViolation = what;
    }

    function _decimal(uint256 value) internal pure returns (string memory) {
        if (value == 0) return "0";
        uint256 length;
        for (uint256 rest = value; rest != 0; rest /= 10) ++length;
        bytes memory digits = new bytes(length);
        for (; value != 0; value /= 10) digits[--length] = bytes1(uint8(48 + value % 10));
        return string(digits);
    }
}

/// @notice Invariants over random sequences of trade actions: the escrow always holds exactly what it
/// owes in each asset, an order settles at most once (and stays settled), and every settlement's parts
/// add up to the deposit.
contract TradeEscrowInvariantTest is TradeEscrowSetup {
    TradeEscrowHandler internal handler;

    function setUp() public {
        _deploy();
        AdversarialColdChain coldChain = new AdversarialColdChain();
        escrow.setColdChain(IColdChain(address(coldChain)));
        handler = new TradeEscrowHandler(
            registry,
            escrow,
            stablecoin,
            [
                manufacturer,
                carrier,
                address(rejectingCarrier),
                inspector,
                regulator,
                arbiter,
                buyerA,
                buyerB,
                platform,
                rivalInspector
            ],
            address(this),
            MANUFACTURER_KEY,
            coldChain
        );
        handler.open(0, 1 ether, 1_000, (2 << 16) | (1 << 40)); // no inspector, RefundFreight
        handler.open(1, 5_000_000, 500, 7 | (1 << 16) | (3 << 40)); // rival inspector, Dispute
    }

    /// @notice The breach path is reachable: a breach while the order is open, delivery, release by the buyer
    /// (under RefundFreight) settles without paying the carrier, and the handler's check ran on it.
    function test_handler_breachThenRelease_refundsTheFreight() public {
        handler.establishBreach(0, 1); // the first order, its own carrier, ending now
        handler.advanceCustody(0, 3); // manufacturer -> carrier -> buyer
        handler.release(0, true);
        assertEq(handler.successes(TradeEscrowHandler.release.selector), 1, "released");
        assertEq(handler.violations(), 0, handler.lastViolation());
    }

    /// @notice Only the handler's actions are fuzzed.
    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function invariant_balanceOfEachAssetEqualsWhatTheEscrowOwes() public view {
        assertEq(address(escrow).balance, _owed(address(0)), "ETH held == open deposits + credits");
        assertEq(stablecoin.balanceOf(address(escrow)), _owed(address(stablecoin)), "stablecoin held == owed");
    }

    function invariant_anOrderSettlesAtMostOnceAndStaysSettled() public view {
        assertEq(handler.violations(), 0, handler.lastViolation());
        uint256 count = handler.orderCount();
        for (uint256 i; i < count; ++i) {
            ITradeEscrow.Order memory o = handler.order(i);
            bytes32 orderId = escrow.orderIdOf(o);
            uint256 settlements = handler.settlements(orderId);
            assertTrue(settlements <= 1, "settled at most once");
            (ITradeEscrow.OrderState state,,) = escrow.orderState(o);
            // A settled order's slot may since hold a later order of the same batch (state None for this one).
            if (settlements == 1) {
                assertTrue(
                    state == handler.settledAs(orderId) || state == ITradeEscrow.OrderState.None,
                    "terminal state never changes"
                );
            }
            else assertTrue(!_isTerminal(state), "unsettled order is not terminal");
        }
    }

    /// @notice The registry's count of watched batches is exactly the escrow's orders awaiting delivery or, for
    /// orders naming an inspector, settlement; so the observer can move only when no order relies on it.
    function invariant_watchedBatchesAreTheOrdersTheEscrowStillHears() public view {
        uint256 heard;
        uint256 count = handler.orderCount();
        for (uint256 i; i < count; ++i) {
            ITradeEscrow.Order memory o = handler.order(i);
            (ITradeEscrow.OrderState state,,) = escrow.orderState(o);
            bool awaitsInspection = o.inspector != address(0)
                && (state == ITradeEscrow.OrderState.Delivered || state == ITradeEscrow.OrderState.Disputed);
            if (state == ITradeEscrow.OrderState.Funded || awaitsInspection) {
                ++heard;
                assertTrue(registry.isBatchWatched(o.batchId), "the batch of an order the escrow must hear is watched");
            }
        }
        assertEq(registry.watchedBatchCount(), heard, "watched batches == orders awaiting delivery or inspection");
        assertEq(registry.custodyObserver(), address(escrow), "the escrow stays the observer");
    }

    /// @notice What the escrow goes by for an order's inspection is its named inspector's latest result, never
    /// another inspector's and never one attested before the order opened.
    function invariant_orderInspectionIsTheNamedInspectorsLatest() public view {
        assertEq(handler.violations(), 0, handler.lastViolation());
        uint256 count = handler.orderCount();
        for (uint256 i; i < count; ++i) {
            ITradeEscrow.Order memory o = handler.order(i);
            (ITradeEscrow.OrderState state,,) = escrow.orderState(o);
            if (state == ITradeEscrow.OrderState.None) continue;
            assertEq(
                uint256(escrow.orderInspection(o)),
                uint256(handler.namedResult(escrow.orderIdOf(o))),
                "order inspection == named inspector's latest result"
            );
        }
    }

    /// @notice No order blocks a batch forever: every order still open was opened with a deadline and a dispute
    /// window within the limits, so anyone can clear it after deadline + dispute window + arbitration period.
    function invariant_everyOpenOrderClearsInBoundedTime() public view {
        assertEq(handler.violations(), 0, handler.lastViolation());
        (uint32 maxDeliveryWindow, uint32 maxDisputeWindow) = escrow.orderLimits();
        uint256 count = handler.orderCount();
        for (uint256 i; i < count; ++i) {
            ITradeEscrow.Order memory o = handler.order(i);
            (ITradeEscrow.OrderState state,,) = escrow.orderState(o);
            if (state == ITradeEscrow.OrderState.None || _isTerminal(state)) continue;
            uint256 opened = handler.openedAt(escrow.orderIdOf(o));
            assertTrue(o.deliveryDeadline <= opened + maxDeliveryWindow, "delivery deadline within the limit");
            assertTrue(o.disputeWindow <= maxDisputeWindow, "dispute window within the limit");
        }
    }

    function invariant_settlementsAddUpToTheDeposit() public view {
        // Checked on every settlement by the handler; any mismatch is a violation.
        assertEq(handler.violations(), 0, handler.lastViolation());
    }

    function _owed(address token) internal view returns (uint256 owed) {
        uint256 count = handler.orderCount();
        for (uint256 i; i < count; ++i) {
            ITradeEscrow.Order memory o = handler.order(i);
            if (o.token != token) continue;
            (ITradeEscrow.OrderState state,,) = escrow.orderState(o);
            // None: the order's batch was since taken by a later order, so it settled.
            if (state != ITradeEscrow.OrderState.None && !_isTerminal(state)) owed += o.amount;
        }
        uint256 payeeCount = handler.payeeCount();
        for (uint256 i; i < payeeCount; ++i) {
            owed += escrow.creditOf(handler.payees(i), token);
        }
    }

    function _isTerminal(ITradeEscrow.OrderState state) internal pure returns (bool) {
        return state == ITradeEscrow.OrderState.Released || state == ITradeEscrow.OrderState.Refunded
            || state == ITradeEscrow.OrderState.Resolved || state == ITradeEscrow.OrderState.Cancelled;
    }
}

/// @notice Fuzzed dispute resolutions: whatever the deposit, ratios and buyer share, the buyer gets
/// exactly its share and seller + carrier + platform + buyer add up to the deposit.
contract TradeEscrowSplitFuzzTest is TradeEscrowSetup {
    function setUp() public {
        _deploy();
    }

    function testFuzz_resolveDispute_partsAddUpToTheDeposit(uint256 amount, uint16 carrierBps, uint16 buyerBps)
        public
    {
        amount = bound(amount, 1, 1e30);
        carrierBps = uint16(bound(carrierBps, 0, 9_750));
        buyerBps = uint16(bound(buyerBps, 0, 10_000));
        vm.prank(manufacturer);
        bytes32 batchId = registry.registerBatch(GTIN, "FUZZ-1", 10, 1_700_000_000, GLN, bytes32(0), keccak256("s"));
        ITradeEscrow.Order memory o = ITradeEscrow.Order({
            buyer: buyerA,
            seller: manufacturer,
            carrier: carrier,
            token: address(stablecoin),
            amount: amount,
            batchId: batchId,
            sellerBps: 9_750 - carrierBps,
            carrierBps: carrierBps,
            platformBps: PLATFORM_FEE_BPS,
            deliveryDeadline: uint40(block.timestamp + 1 days),
            disputeWindow: 1 days,
            inspector: address(0),
            fallbackBuyerBps: 0,
            salt: bytes32(0),
            breachTerms: ITradeEscrow.BreachTerms.None
        });
        stablecoin.mint(buyerA, amount);
        vm.startPrank(buyerA);
        stablecoin.approve(address(escrow), amount);
        escrow.openOrder(o, _consentOf(escrow, MANUFACTURER_KEY, o));
        vm.stopPrank();
        vm.prank(manufacturer);
        registry.proposeHandoff(batchId, buyerA, GLN, IProvenanceRegistry.BusinessStep.Shipping);
        vm.prank(buyerA);
        registry.acceptHandoff(batchId, GLN, IProvenanceRegistry.BusinessStep.Receiving);
        vm.prank(buyerA);
        escrow.dispute(o, bytes32(0));
        vm.prank(arbiter);
        escrow.resolveDispute(o, buyerBps);

        // The platform share is credited to the fee recipient, not pushed: it is all the escrow still holds.
        uint256 platformCredit = escrow.creditOf(platform, address(stablecoin));
        uint256 buyerAmount = stablecoin.balanceOf(buyerA);
        uint256 total = buyerAmount + stablecoin.balanceOf(manufacturer) + stablecoin.balanceOf(carrier) + platformCredit;
        assertEq(total, amount, "parts add up to the deposit");
        assertEq(buyerAmount, amount * buyerBps / 10_000, "buyer gets exactly its share");
        assertEq(stablecoin.balanceOf(address(escrow)), platformCredit, "nothing left behind but the platform's credit");
    }
}

