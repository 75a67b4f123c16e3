// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ProvenanceRegistry} from "../../contracts/ProvenanceRegistry.sol";
import {IProvenanceRegistry} from "../../contracts/interfaces/IProvenanceRegistry.sol";
import {CheatsBase} from "../helpers/Vm.sol";
import {ProvenanceRegistrySetup} from "./ProvenanceRegistry.setup.sol";

/// @dev The invariant fuzzer calls these actions in random order with random actors (participants and
/// outsiders, sometimes suspended). Each action records in ghost state only what a successful call
/// implies, and counts any success the rules forbid as a violation.
contract ProvenanceRegistryHandler is CheatsBase {
    uint64 internal constant GTIN = 8412345000102;
    uint64 internal constant GLN = 8412345000012;
    bytes32 internal constant SERIAL_ROOT = keccak256("serial root");

    ProvenanceRegistry internal immutable registry;
    address internal immutable admin;
    address internal immutable manufacturer;
    address internal immutable regulator;
    address[] internal actors;

    bytes32[] public batches;
    mapping(bytes32 batchId => address) public expectedCustodian;
    mapping(bytes32 batchId => address) public expectedPending;
    mapping(bytes32 batchId => bool) public recalled;
    mapping(bytes32 batchId => address) public custodianAtRecall;
    bytes32[] public splitParents;
    mapping(bytes32 parentId => bytes32[]) internal _childrenOf;
    mapping(bytes32 childId => bytes32) public parentOf;
    mapping(bytes32 batchId => uint256) public depthOf;
    mapping(address account => bool) public suspended;

    /// @notice Successful calls the rules forbid; must stay 0.
    uint256 public violations;
    string public lastViolation;
    /// @notice Successful calls per action, to see that the run reached interesting states.
    mapping(bytes4 selector => uint256) public successes;
    uint256 internal lotNonce;

    constructor(ProvenanceRegistry registry_, address admin_, address[] memory actors_, address manufacturer_, address regulator_) {
        registry = registry_;
        admin = admin_;
        actors = actors_;
        manufacturer = manufacturer_;
        regulator = regulator_;
    }

    function batchCount() external view returns (uint256) {
        return batches.length;
    }

    function splitParentCount() external view returns (uint256) {
        return splitParents.length;
    }

    function childrenOf(bytes32 parentId) external view returns (bytes32[] memory) {
        return _childrenOf[parentId];
    }

    // ------------------------------------------------------------------ actions

    function register(uint64 quantitySeed) external {
        uint64 quantity = uint64(bound(quantitySeed, 2, 1_000_000));
        string memory lot = string.concat("INV-", _decimal(++lotNonce));
        vm.prank(manufacturer);
        try registry.registerBatch(GTIN, lot, quantity, 1_700_000_000, GLN, bytes32(0), SERIAL_ROOT) returns (bytes32 id) {
            if (suspended[manufacturer]) _violation("suspended manufacturer registered");
            ++successes[msg.sig];
            batches.push(id);
            expectedCustodian[id] = manufacturer;
        } catch {}
    }

    function propose(uint256 actorSeed, uint256 batchSeed, uint256 receiverSeed) external {
        if (batches.length == 0) return;
        bytes32 id = _batch(batchSeed);
        // Mostly the custodian, sometimes anyone.
        address actor = actorSeed % 4 != 0 ? expectedCustodian[id] : _actor(actorSeed);
        address receiver = _actor(receiverSeed);
        vm.prank(actor);
        try registry.proposeHandoff(id, receiver, GLN, IProvenanceRegistry.BusinessStep.Shipping) {
            if (actor != expectedCustodian[id]) _violation("a non-custodian proposed a handoff");
            if (lineageRecalled(id)) _violation("a recalled batch (or a descendant of one) was proposed");
            if (suspended[actor]) _violation("a suspended custodian proposed");
            ++successes[msg.sig];
            expectedPending[id] = receiver;
        } catch {}
    }

    function accept(uint256 actorSeed, uint256 batchSeed) external {
        if (batches.length == 0) return;
        bytes32 id = _batch(batchSeed);
        // Mostly the pending receiver, sometimes anyone.
        address actor = actorSeed % 4 != 0 && expectedPending[id] != address(0) ? expectedPending[id] : _actor(actorSeed);
        vm.prank(actor);
        try registry.acceptHandoff(id, GLN, IProvenanceRegistry.BusinessStep.Receiving) {
            if (expectedPending[id] == address(0) || actor != expectedPending[id]) {
                _violation("custody accepted by someone the custodian did not propose");
            }
            if (lineageRecalled(id)) _violation("a recalled batch (or a descendant of one) changed hands");
            if (suspended[actor]) _violation("a suspended receiver accepted");
            ++successes[msg.sig];
            expectedCustodian[id] = actor;
            expectedPending[id] = address(0);
        } catch {}
    }

    function reject(uint256 actorSeed, uint256 batchSeed) external {
        if (batches.length == 0) return;
        bytes32 id = _batch(batchSeed);
        address actor = actorSeed % 2 == 0 && expectedPending[id] != address(0) ? expectedPending[id] : _actor(actorSeed);
        vm.prank(actor);
        try registry.rejectHandoff(id, bytes32(0)) {
            if (actor != expectedPending[id]) _violation("a handoff was rejected by someone other than its receiver");
            if (suspended[actor]) _violation("a suspended receiver rejected");
            ++successes[msg.sig];
            expectedPending[id] = address(0);
        } catch {}
    }

    function cancel(uint256 actorSeed, uint256 batchSeed) external {
        if (batches.length == 0) return;
        bytes32 id = _batch(batchSeed);
        address actor = actorSeed % 2 == 0 ? expectedCustodian[id] : _actor(actorSeed);
        vm.prank(actor);
        try registry.cancelHandoff(id) {
            if (actor != expectedCustodian[id]) _violation("a non-custodian cancelled a handoff");
            if (suspended[actor]) _violation("a suspended custodian cancelled");
            ++successes[msg.sig];
            expectedPending[id] = address(0);
        } catch {}
    }

    function split(uint256 actorSeed, uint256 batchSeed, uint256 countSeed, uint256 quantitySeed) external {
        if (batches.length == 0) return;
        bytes32 id = _batch(batchSeed);
        address actor = actorSeed % 2 == 0 ? expectedCustodian[id] : _actor(actorSeed);
        (,,,,, uint64 parentQuantity,,) = registry.batch(id);
        uint256 count = bound(countSeed, 1, 4);

        IProvenanceRegistry.ChildBatch[] memory children = new IProvenanceRegistry.ChildBatch[](count);
        uint64 remaining = parentQuantity;
        for (uint256 i; i < count; ++i) {
            uint64 quantity;
            if (i + 1 == count) {
                // Usually the exact remainder, sometimes off by one, to exercise the sum check.
                quantity = quantitySeed % 5 == 0 ? remaining + 1 : remaining;
            } else {
                uint256 maxQuantity = remaining > count - i ? remaining - (count - i - 1) : 1;
                quantity = uint64(bound(uint256(keccak256(abi.encode(quantitySeed, i))), 1, maxQuantity));
            }
            remaining = quantity <= remaining ? remaining - quantity : 0;
            children[i] = IProvenanceRegistry.ChildBatch({
                lot: string.concat("INV-", _decimal(++lotNonce)),
                quantity: quantity,
                serialRoot: SERIAL_ROOT
            });
        }

        vm.prank(actor);
        try registry.splitBatch(id, children) returns (bytes32[] memory childIds) {
            if (actor != expectedCustodian[id]) _violation("a non-custodian split a batch");
            if (lineageRecalled(id)) _violation("a recalled batch (or a descendant of one) was split");
            if (depthOf[id] + 1 > registry.MAX_LINEAGE_DEPTH()) _violation("a lineage grew beyond its maximum depth");
            if (suspended[actor]) _violation("a suspended custodian split");
            ++successes[msg.sig];
            splitParents.push(id);
            for (uint256 i; i < childIds.length; ++i) {
                batches.push(childIds[i]);
                _childrenOf[id].push(childIds[i]);
                expectedCustodian[childIds[i]] = actor;
                parentOf[childIds[i]] = id;
                depthOf[childIds[i]] = depthOf[id] + 1;
            }
        } catch {}
    }

    function recall(uint256 actorSeed, uint256 batchSeed) external {
        if (batches.length == 0) return;
        bytes32 id = _batch(batchSeed);
        address actor = actorSeed % 3 == 0 ? regulator : _actor(actorSeed);
        vm.prank(actor);
        try registry.recallBatch(id, bytes32(0)) {
            if (actor != manufacturer && actor != regulator) _violation("recalled by neither manufacturer nor regulator");
            if (suspended[actor]) _violation("a suspended participant recalled");
            if (lineageRecalled(id)) _violation("a batch was recalled twice");
            ++successes[msg.sig];
            recalled[id] = true;
            expectedPending[id] = address(0);
            _freezeCustody(id);
        } catch {}
    }

    /// @notice True when the batch or one of its ancestors was recalled.
    function lineageRecalled(bytes32 id) public view returns (bool) {
        for (bytes32 ancestor = id; ancestor != bytes32(0); ancestor = parentOf[ancestor]) {
            if (recalled[ancestor]) return true;
        }
        return false;
    }

    /// @dev Records the custodian of the batch and every descendant: a recall freezes them all.
    function _freezeCustody(bytes32 id) private {
        custodianAtRecall[id] = expectedCustodian[id];
        bytes32[] storage children = _childrenOf[id];
        for (uint256 i; i < children.length; ++i) {
            _freezeCustody(children[i]);
        }
    }

    function toggleSuspension(uint256 actorSeed) external {
        address actor = _actor(actorSeed);
        vm.prank(admin);
        if (suspended[actor]) {
            try registry.reinstateParticipant(actor) {
                suspended[actor] = false;
            } catch {}
        } else {
            try registry.suspendParticipant(actor, bytes32(0)) {
                suspended[actor] = true;
            } catch {}
        }
    }

    // ------------------------------------------------------------------ helpers

    function _actor(uint256 seed) private view returns (address) {
        return actors[seed % actors.length];
    }

    function _batch(uint256 seed) private view returns (bytes32) {
        return batches[seed % batches.length];
    }

    function _violation(string memory what) private {
        ++violations;
        lastViolation = what;
    }

    function _decimal(uint256 n) private pure returns (string memory) {
        if (n == 0) return "0";
        bytes memory digits;
        while (n != 0) {
            digits = bytes.concat(bytes1(uint8(48 + (n % 10))), digits);
            n /= 10;
        }
        return string(digits);
    }
}

/// @notice Invariants over random sequences of registry actions: only the custodian moves custody,
/// split quantities always sum to the parent, and recalled batches never move again.
contract ProvenanceRegistryInvariantTest is ProvenanceRegistrySetup {
    ProvenanceRegistryHandler internal handler;

    function setUp() public {
        _deployRegistry();
        address[] memory actors = new address[](participants.length + 2);
        for (uint256 i; i < participants.length; ++i) {
            actors[i] = participants[i];
        }
        actors[participants.length] = address(0xBAD1); // never onboarded
        actors[participants.length + 1] = address(0xBAD2);
        handler = new ProvenanceRegistryHandler(registry, address(this), actors, manufacturer, regulator);
        // The handler suspends and reinstates participants, so it must be the admin: hand it the role
        // through the two-step transfer (the delay is 0 in tests).
        registry.beginDefaultAdminTransfer(address(handler));
        vm.warp(block.timestamp + 1);
        vm.prank(address(handler));
        registry.acceptDefaultAdminTransfer();
        // Start with one batch so the first actions have something to work on.
        handler.register(1_000);
    }

    /// @notice Only the handler's actions are fuzzed (not the registry or forwarder directly).
    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function invariant_onlyTheCustodianMovesCustody() public view {
        assertEq(handler.violations(), 0, handler.lastViolation());
        uint256 count = handler.batchCount();
        for (uint256 i; i < count; ++i) {
            bytes32 id = handler.batches(i);
            assertEq(_custodian(id), handler.expectedCustodian(id), "custodian matches accepted handoffs");
            assertEq(_pending(id), handler.expectedPending(id), "pending matches proposals");
        }
    }

    function invariant_splitQuantitiesSumToTheParent() public view {
        uint256 count = handler.splitParentCount();
        for (uint256 i; i < count; ++i) {
            bytes32 parentId = handler.splitParents(i);
            bytes32[] memory children = handler.childrenOf(parentId);
            assertTrue(children.length >= 2, "at least two children");
            uint256 total;
            for (uint256 j; j < children.length; ++j) {
                total += _quantity(children[j]);
            }
            assertEq(total, _quantity(parentId), "children add up to the parent");
            IProvenanceRegistry.BatchStatus expected = handler.lineageRecalled(parentId)
                ? IProvenanceRegistry.BatchStatus.Recalled
                : IProvenanceRegistry.BatchStatus.Split;
            assertTrue(_status(parentId) == expected, "parent is split (or recalled)");
        }
    }

    /// @notice A recall reaches every descendant: all read Recalled and none changes hands again.
    function invariant_recalledBatchesAndTheirDescendantsNeverMove() public view {
        uint256 count = handler.batchCount();
        for (uint256 i; i < count; ++i) {
            bytes32 id = handler.batches(i);
            if (!handler.lineageRecalled(id)) {
                assertTrue(_status(id) != IProvenanceRegistry.BatchStatus.Recalled, "not recalled");
                continue;
            }
            assertTrue(_status(id) == IProvenanceRegistry.BatchStatus.Recalled, "still recalled");
            assertEq(_custodian(id), handler.custodianAtRecall(id), "custodian as at the recall");
            if (handler.recalled(id)) assertEq(_pending(id), address(0), "no pending handoff");
        }
    }

    /// @notice The registry's lineage is the one the splits made.
    function invariant_parentOfMatchesTheSplits() public view {
        uint256 count = handler.batchCount();
        for (uint256 i; i < count; ++i) {
            bytes32 id = handler.batches(i);
            assertTrue(registry.parentOf(id) == handler.parentOf(id), "parent as split");
        }
    }
}
