// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ICustodyObserver} from "../../contracts/interfaces/ICustodyObserver.sol";
import {IProvenanceRegistry} from "../../contracts/interfaces/IProvenanceRegistry.sol";
import {ProvenanceRegistry} from "../../contracts/ProvenanceRegistry.sol";
import {ProvenanceRegistrySetup} from "./ProvenanceRegistry.setup.sol";

/// @dev Records each callback and what the registry showed at that moment.
contract RecordingCustodyObserver is ICustodyObserver {
    ProvenanceRegistry private immutable registry;
    uint256 public calls;
    bytes32 public lastBatchId;
    address public lastFrom;
    address public lastTo;
    address public custodianSeenDuringCall;
    uint256 public attestations;
    address public lastInspector;
    bool public lastPassed;
    IProvenanceRegistry.InspectionResult public inspectionSeenDuringCall;

    constructor(ProvenanceRegistry registry_) {
        registry = registry_;
    }

    function watch(bytes32 batchId, bool watched) external {
        registry.setBatchWatched(batchId, watched);
    }

    function onCustodyAccepted(bytes32 batchId, address from, address to) external {
        if (msg.sender != address(registry)) revert("not the registry");
        ++calls;
        (lastBatchId, lastFrom, lastTo) = (batchId, from, to);
        (, custodianSeenDuringCall,,,,,,) = registry.batch(batchId);
    }

    function onQualityAttested(bytes32 batchId, address inspector, bool passed) external {
        if (msg.sender != address(registry)) revert("not the registry");
        ++attestations;
        (lastBatchId, lastInspector, lastPassed) = (batchId, inspector, passed);
        (, inspectionSeenDuringCall) = registry.batchStatus(batchId);
    }
}

/// @dev Refuses every callback.
contract RefusingCustodyObserver is ICustodyObserver {
    error DeliveryRefused(bytes32 batchId);

    function watch(ProvenanceRegistry registry, bytes32 batchId) external {
        registry.setBatchWatched(batchId, true);
    }

    function onCustodyAccepted(bytes32 batchId, address, address) external pure {
        revert DeliveryRefused(batchId);
    }

    function onQualityAttested(bytes32 batchId, address, bool) external pure {
        revert DeliveryRefused(batchId);
    }
}

/// @notice acceptHandoff notifies the custody observer for watched batches only, after custody moved,
/// and a failing observer reverts the acceptance.
contract ProvenanceRegistryObserverTest is ProvenanceRegistrySetup {
    RecordingCustodyObserver internal observer;
    bytes32 internal watchedBatch;
    bytes32 internal unwatchedBatch;

    function setUp() public {
        _deployRegistry();
        observer = new RecordingCustodyObserver(registry);
        registry.setCustodyObserver(address(observer));
        watchedBatch = _register("WATCHED", 10);
        unwatchedBatch = _register("UNWATCHED", 10);
        observer.watch(watchedBatch, true);
    }

    function _handOff(bytes32 batchId, address from, address to) internal {
        vm.prank(from);
        registry.proposeHandoff(batchId, to, GLN, IProvenanceRegistry.BusinessStep.Shipping);
        vm.prank(to);
        registry.acceptHandoff(batchId, GLN, IProvenanceRegistry.BusinessStep.Receiving);
    }

    function test_acceptHandoff_notifiesTheObserverOfAWatchedBatchAfterCustodyMoved() public {
        _handOff(watchedBatch, manufacturer, carrier);
        assertEq(observer.calls(), 1, "one callback");
        assertTrue(observer.lastBatchId() == watchedBatch, "batch id");
        assertEq(observer.lastFrom(), manufacturer, "from");
        assertEq(observer.lastTo(), carrier, "to");
        assertEq(observer.custodianSeenDuringCall(), carrier, "custody already moved during the callback");

        _handOff(watchedBatch, carrier, retailer);
        assertEq(observer.calls(), 2, "every acceptance is reported");
        assertEq(observer.lastFrom(), carrier, "from");
        assertEq(observer.lastTo(), retailer, "to");
    }

    function test_acceptHandoff_leavesTheObserverAloneForUnwatchedBatches() public {
        _handOff(unwatchedBatch, manufacturer, carrier);
        observer.watch(watchedBatch, false);
        _handOff(watchedBatch, manufacturer, carrier);
        assertEq(observer.calls(), 0, "no callbacks");
    }

    function test_proposeRejectCancel_doNotNotifyTheObserver() public {
        vm.prank(manufacturer);
        registry.proposeHandoff(watchedBatch, carrier, GLN, IProvenanceRegistry.BusinessStep.Shipping);
        vm.prank(carrier);
        registry.rejectHandoff(watchedBatch, bytes32(0));
        vm.prank(manufacturer);
        registry.proposeHandoff(watchedBatch, carrier, GLN, IProvenanceRegistry.BusinessStep.Shipping);
        vm.prank(manufacturer);
        registry.cancelHandoff(watchedBatch);
        assertEq(observer.calls(), 0, "no callbacks");
    }

    function test_acceptHandoff_revertsWithTheObserversError() public {
        RefusingCustodyObserver refusing = new RefusingCustodyObserver();
        observer.watch(watchedBatch, false);
        registry.setCustodyObserver(address(refusing));
        refusing.watch(registry, unwatchedBatch);
        vm.prank(manufacturer);
        registry.proposeHandoff(unwatchedBatch, carrier, GLN, IProvenanceRegistry.BusinessStep.Shipping);

        vm.prank(carrier);
        vm.expectRevert(abi.encodeWithSelector(RefusingCustodyObserver.DeliveryRefused.selector, unwatchedBatch));
        registry.acceptHandoff(unwatchedBatch, GLN, IProvenanceRegistry.BusinessStep.Receiving);
        assertEq(_custodian(unwatchedBatch), manufacturer, "custody did not move");
    }

    function test_setBatchWatched_revertsForTheFormerObserver() public {
        observer.watch(watchedBatch, false);
        registry.setCustodyObserver(address(0xCAFE));
        vm.expectRevert(
            abi.encodeWithSelector(IProvenanceRegistry.CustodyObserverUnauthorized.selector, address(observer))
        );
        observer.watch(watchedBatch, true);
    }

    /// @dev Issue 11 item 8: the escrow hears attestations of the batches it watches, to go by its order's
    /// named inspector only.
    function test_attestQuality_notifiesTheObserverOfAWatchedBatchOnly() public {
        vm.prank(inspector);
        registry.attestQuality(unwatchedBatch, true, bytes32(0));
        assertEq(observer.attestations(), 0, "no callback for an unwatched batch");

        vm.prank(inspector);
        registry.attestQuality(watchedBatch, false, keccak256("report"));
        assertEq(observer.attestations(), 1, "one callback");
        assertTrue(observer.lastBatchId() == watchedBatch, "batch id");
        assertEq(observer.lastInspector(), inspector, "inspector");
        assertTrue(!observer.lastPassed(), "result");
        assertEq(
            uint256(observer.inspectionSeenDuringCall()),
            uint256(IProvenanceRegistry.InspectionResult.Failed),
            "result already recorded during the callback"
        );
    }

    function test_attestQuality_revertsWithTheObserversError() public {
        RefusingCustodyObserver refusing = new RefusingCustodyObserver();
        observer.watch(watchedBatch, false);
        registry.setCustodyObserver(address(refusing));
        refusing.watch(registry, unwatchedBatch);
        vm.prank(inspector);
        vm.expectRevert(abi.encodeWithSelector(RefusingCustodyObserver.DeliveryRefused.selector, unwatchedBatch));
        registry.attestQuality(unwatchedBatch, true, bytes32(0));
    }

    /// @dev Issue 11 item 6: swapping the observer would let deliveries of watched batches go unrecorded.
    function test_setCustodyObserver_revertsWhileTheObserverWatchesABatch() public {
        vm.expectRevert(
            abi.encodeWithSelector(IProvenanceRegistry.CustodyObserverBusy.selector, address(observer), uint256(1))
        );
        registry.setCustodyObserver(address(0xCAFE));
        assertEq(registry.custodyObserver(), address(observer), "observer unchanged");
    }
}
