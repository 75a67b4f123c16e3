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
    /// @dev A serial nobody registered: a custodian tries to pass it off as the manufacturer's.
    string internal constant FAKE_SERIAL = "FAKE-1";

    ProvenanceRegistry internal immutable registry;
    address internal immutable admin;
    address internal immutable manufacturer;
    address internal immutable regulator;
    /// @dev A second manufacturer (onboarded by the test's setUp) holding its own company prefix, never the GTIN's.
    address internal constant RIVAL = address(0x1007);
    address[] internal actors;

    bytes32[] public batches;
    mapping(bytes32 batchId => address) public expectedCustodian;
    mapping(bytes32 batchId => address) public expectedPending;
    mapping(bytes32 batchId => bool) public recalled;
    mapping(bytes32 batchId => address) public custodianAtRecall;
    bytes32[] public splitParents;
    mapping(bytes32 parentId => bytes32[]) internal _childrenOf;
    mapping(bytes32 childId => bytes32) public parentOf;
    mapping(address account => bool) public suspended;
    mapping(bytes32 batchId => string) public lotOf;

    /// @notice Successful calls the rules forbid; must stay 0.
    uint256 public violations;
    string public lastViolation;
    /// @notice Successful calls per action, to see that the run reached interesting states.
    mapping(bytes4 selector => uint256) public successes;
    uint256 internal lotNonce;

    constructor(
        ProvenanceRegistry registry_,
        address admin_,
        address[] memory actors_,
        address manufacturer_,
        address regulator_
    ) {
        registry = registry_;
        admin = admin_;
        actors = actors_;
        manufacturer = manufacturer_;
        regulator = regulator_;
    }

    /// @notice How many splits lie between `id` and its registered ancestor.
    function depthOf(bytes32 id) public view returns (uint256 depth) {
        for (; parentOf[id] != bytes32(0); ++depth) id = parentOf[id];
    }

    /// @notice The one serial the registration of `id`'s lineage committed to (a one-leaf tree: root = leaf).
    function registeredSerialOf(bytes32 id) public view returns (string memory) {
        while (parentOf[id] != bytes32(0)) id = parentOf[id];
        return string.concat("SN-", lotOf[id]);
    }

    /// @notice The StandardMerkleTree leaf (and one-leaf root) of `serial`.
    function leafOf(string memory serial) public pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(serial))));
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
        string memory lot = _nextLot();
        string memory serial = string.concat("SN-", lot);
        vm.prank(manufacturer);
        try registry.registerBatch(GTIN, lot, quantity, 1_700_000_000, GLN, bytes32(0), leafOf(serial)) returns (bytes32 id) {
            if (suspended[manufacturer]) _violation("suspended manufacturer registered");
            ++successes[msg.sig];
            batches.push(id);
            lotOf[id] = lot;
            expectedCustodian[id] = manufacturer;
        } catch (bytes memory reason) {
            // Only a suspension may stop the GTIN's licensee from registering its next lot: never a squatter.
            if (bytes4(reason) == IProvenanceRegistry.BatchAlreadyRegistered.selector) {
                _violation("someone else took the manufacturer's next lot");
            }
        }
    }

    /// @notice A rival manufacturer registers the GTIN's next lot (or a later one) before its licensee does.
    function rivalRegister(uint256 aheadSeed) external {
        string memory lot = string.concat("I", _decimal(lotNonce + 1 + bound(aheadSeed, 0, 3)));
        vm.prank(RIVAL);
        try registry.registerBatch(GTIN, lot, 10, 1_700_000_000, GLN, bytes32(0), leafOf(FAKE_SERIAL)) {
            _violation("a rival registered a lot of a GTIN whose company prefix it does not hold");
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
        (,,,,, uint64 parentQuantity,, bytes32 root) = registry.batch(id);
        uint256 count = bound(countSeed, 1, 4);
        // Mostly an honest split; sometimes the custodian names a child after the manufacturer's next lot, or
        // gives one child a root holding a fake serial.
        uint256 attack = quantitySeed % 7;

        IProvenanceRegistry.ChildBatch[] memory children = _children(lotOf[id], parentQuantity, root, count, quantitySeed);
        if (attack == 1) children[count - 1].lot = string.concat("I", _decimal(lotNonce + 1));
        if (attack == 2) children[0].serialRoot = leafOf(FAKE_SERIAL);

        vm.prank(actor);
        try registry.splitBatch(id, children) returns (bytes32[] memory childIds) {
            if (actor != expectedCustodian[id]) _violation("a non-custodian split a batch");
            if (lineageRecalled(id)) _violation("a recalled batch (or a descendant of one) was split");
            if (depthOf(id) + 1 > registry.MAX_LINEAGE_DEPTH()) _violation("a lineage grew beyond its maximum depth");
            if (suspended[actor]) _violation("a suspended custodian split");
            if (attack == 1) _violation("a child took a lot name from the manufacturer's namespace");
            if (attack == 2) _violation("a child carries a serial root the manufacturer never registered");
            ++successes[msg.sig];
            splitParents.push(id);
            for (uint256 i; i < childIds.length; ++i) {
                batches.push(childIds[i]);
                _childrenOf[id].push(childIds[i]);
                expectedCustodian[childIds[i]] = actor;
                parentOf[childIds[i]] = id;
                lotOf[childIds[i]] = children[i].lot;
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

    /// @dev `count` children named `<parent lot>/<i>` with the parent's root, usually adding up to the parent.
    function _children(string memory parentLot, uint64 parentQuantity, bytes32 root, uint256 count, uint256 quantitySeed)
        private
        pure
        returns (IProvenanceRegistry.ChildBatch[] memory children)
    {
        children = new IProvenanceRegistry.ChildBatch[](count);
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
                lot: string.concat(parentLot, "/", _decimal(i)),
                quantity: quantity,
                serialRoot: root
            });
        }
    }

    /// @dev The manufacturer's next lot: short, so seven generations of "/<digit>" still fit in 20 bytes.
    function _nextLot() private returns (string memory) {
        return string.concat("I", _decimal(++lotNonce));
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
        address rival = address(0x1007);
        registry.onboardParticipant(rival, registry.MANUFACTURER_ROLE(), GLN, "rival");
        registry.grantCompanyPrefix(rival, 5012345, 7);
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

    /// @notice A unit verifies only if the manufacturer registered it: every batch, split or not, proves the
    /// serial its registration committed to and never the fake one a custodian tried to add.
    function invariant_aUnitVerifiesOnlyIfTheManufacturerRegisteredIt() public view {
        bytes32[] memory noProof = new bytes32[](0);
        uint256 count = handler.batchCount();
        for (uint256 i; i < count; ++i) {
            bytes32 id = handler.batches(i);
            assertTrue(!registry.verifyUnit(id, "FAKE-1", noProof), "a fake serial verifies");
            assertTrue(registry.verifyUnit(id, handler.registeredSerialOf(id), noProof), "the registered serial verifies");
        }
    }

    /// @notice Every batch of the GTIN, registered or split off, is the company prefix holder's.
    function invariant_everyBatchBelongsToTheCompanyPrefixHolder() public view {
        uint256 count = handler.batchCount();
        for (uint256 i; i < count; ++i) {
            (address batchManufacturer,,,,,,,) = registry.batch(handler.batches(i));
            assertEq(batchManufacturer, manufacturer, "manufacturer is the prefix holder");
        }
    }
}
