// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {LogisticUnits} from "../../contracts/LogisticUnits.sol";
import {ProvenanceRegistry} from "../../contracts/ProvenanceRegistry.sol";
import {IProvenanceRegistry} from "../../contracts/interfaces/IProvenanceRegistry.sol";
import {CheatsBase} from "../helpers/Vm.sol";
import {ProvenanceRegistrySetup} from "./ProvenanceRegistry.setup.sol";

/// @dev The fuzzer's actions on four containers (two of the manufacturer's, one each of two carriers') and six
/// batches: offering and packing batches, unpacking them, nesting and un-nesting containers, container handoffs,
/// recalls and their flags, and plain registry handoffs, each by a random actor (an outsider included). Every
/// success is checked against the rule it must obey; a broken rule is counted as a violation.
contract LogisticUnitsHandler is CheatsBase {
    uint256 internal constant BATCHES = 6;
    uint256 internal constant CONTAINERS = 4;
    uint64 internal constant GLN = 8412345000012;

    LogisticUnits internal immutable units;
    ProvenanceRegistry internal immutable registry;
    address internal immutable regulator;

    bytes32[] public batchIds;
    uint64[] public ssccs;
    address[] public actors;
    /// @dev Who holds each container, as the rules say it may change (creation, accepted handoff, unpacking).
    mapping(uint64 sscc => address) public expectedCustodian;
    uint256 public violations;
    string public lastViolation;

    constructor(LogisticUnits units_, ProvenanceRegistry registry_, address regulator_, address[] memory actors_) {
        units = units_;
        registry = registry_;
        regulator = regulator_;
        actors = actors_;
    }

    /// @dev Once, after the setup registered the batches and created the containers.
    function initialize(bytes32[] calldata batchIds_, uint64[] calldata ssccs_) external {
        if (batchIds.length != 0) revert("initialized");
        batchIds = batchIds_;
        ssccs = ssccs_;
        for (uint256 i; i < ssccs_.length; ++i) {
            (address custodian,,,,,) = units.container(ssccs_[i]);
            expectedCustodian[ssccs_[i]] = custodian;
        }
    }

    function batchCount() external view returns (uint256) {
        return batchIds.length;
    }

    function containerCount() external view returns (uint256) {
        return ssccs.length;
    }

    // ------------------------------------------------------------------ actions

    /// @dev The batch's registry custodian offers it to the contract (the step before packing).
    function offer(uint256 batchSeed) external {
        bytes32 batchId = batchIds[batchSeed % BATCHES];
        (, address custodian,,,,,,) = registry.batch(batchId);
        if (custodian == address(units)) return;
        vm.prank(custodian);
        try registry.proposeHandoff(batchId, address(units), GLN, IProvenanceRegistry.BusinessStep.Shipping) {} catch {}
    }

    function pack(uint256 batchSeed, uint256 containerSeed, uint256 callerSeed) external {
        bytes32 batchId = batchIds[batchSeed % BATCHES];
        (, address custodian, address registryPending,,,,,) = registry.batch(batchId);
        if (custodian == address(units)) return;
        // Offer it first (as its custodian would); half the time the rightful custodian then packs it into a
        // container it holds, so the sequences reach nested, recalled and handed-off containers.
        if (registryPending != address(units)) {
            vm.prank(custodian);
            try registry.proposeHandoff(batchId, address(units), GLN, IProvenanceRegistry.BusinessStep.Shipping) {} catch {}
        }
        address caller = _pick(callerSeed, custodian);
        uint64 sscc = containerSeed % 2 == 0 ? _heldBy(caller, containerSeed) : ssccs[containerSeed % CONTAINERS];
        if (sscc == 0) return;
        (address holder, address pending, uint64 outer,,,) = units.container(sscc);
        bytes32[] memory list = new bytes32[](1);
        list[0] = batchId;
        vm.prank(caller);
        try units.packBatches(sscc, list, GLN) {
            if (caller != custodian) return _violation("a batch was packed by someone other than its custodian");
            if (caller != holder || outer != 0 || pending != address(0)) {
                return _violation("a batch was packed into a container the caller does not hold outermost");
            }
        } catch {}
    }

    function unpack(uint256 batchSeed, uint256 callerSeed) external {
        bytes32 batchId = batchIds[batchSeed % BATCHES];
        (uint64 sscc,,) = units.packedBatch(batchId);
        if (sscc == 0) return;
        address caller = _pick(callerSeed, expectedCustodian[sscc]);
        (address holder,, uint64 outer,,,) = units.container(sscc);
        bytes32[] memory list = new bytes32[](1);
        list[0] = batchId;
        vm.prank(caller);
        try units.unpackBatches(sscc, list, GLN) {
            if (caller != holder || outer != 0) return _violation("a batch was unpacked by someone not holding its container");
            (,, address registryPending,,,,,) = registry.batch(batchId);
            (IProvenanceRegistry.BatchStatus status,) = registry.batchStatus(batchId);
            if (status != IProvenanceRegistry.BatchStatus.Recalled && registryPending != caller) {
                return _violation("an unpacked batch was not proposed to the container's custodian");
            }
            if (registryPending == caller) {
                vm.prank(caller);
                try registry.acceptHandoff(batchId, GLN, IProvenanceRegistry.BusinessStep.Receiving) {} catch {
                    _violation("the container's custodian could not accept its unpacked batch");
                }
            }
        } catch {}
    }

    function nest(uint256 outerSeed, uint256 innerSeed, uint256 callerSeed) external {
        uint64 outerSscc = ssccs[outerSeed % CONTAINERS];
        uint64 innerSscc = ssccs[innerSeed % CONTAINERS];
        address caller = _pick(callerSeed, expectedCustodian[outerSscc]);
        (address innerHolder,,,, uint32 innerRecalled,) = units.container(innerSscc);
        (address outerHolder,,,,,) = units.container(outerSscc);
        vm.prank(caller);
        try units.packContainer(outerSscc, innerSscc, GLN) {
            if (caller != innerHolder || caller != outerHolder) return _violation("a container was nested by someone not holding both");
            if (innerRecalled != 0) return _violation("a container holding a recalled lot was packed into another");
        } catch {}
    }

    function unnest(uint256 innerSeed, uint256 callerSeed) external {
        uint64 innerSscc = ssccs[innerSeed % CONTAINERS];
        (,, uint64 outerSscc,,,) = units.container(innerSscc);
        if (outerSscc == 0) return;
        address caller = _pick(callerSeed, expectedCustodian[outerSscc]);
        vm.prank(caller);
        try units.unpackContainer(outerSscc, innerSscc, GLN) {
            if (caller != expectedCustodian[outerSscc]) return _violation("a container was unpacked by someone not holding it");
            expectedCustodian[innerSscc] = caller;
        } catch {}
    }

    function propose(uint256 containerSeed, uint256 callerSeed, uint256 toSeed) external {
        uint64 sscc = ssccs[containerSeed % CONTAINERS];
        address caller = _pick(callerSeed, expectedCustodian[sscc]);
        address to = actors[toSeed % actors.length];
        (,,,, uint32 recalled,) = units.container(sscc);
        vm.prank(caller);
        try units.proposeContainerHandoff(sscc, to, GLN, IProvenanceRegistry.BusinessStep.Shipping) {
            if (caller != expectedCustodian[sscc]) return _violation("a handoff was proposed by someone not holding the container");
            if (recalled != 0) return _violation("a handoff was proposed for a container holding a recalled lot");
        } catch {}
    }

    function accept(uint256 containerSeed, uint256 callerSeed) external {
        uint64 sscc = ssccs[containerSeed % CONTAINERS];
        (, address pending,,, uint32 recalled,) = units.container(sscc);
        address caller = _pick(callerSeed, pending);
        vm.prank(caller);
        try units.acceptContainerHandoff(sscc, GLN, IProvenanceRegistry.BusinessStep.Receiving) {
            if (caller != pending) return _violation("a container was accepted by someone it was not offered to");
            if (recalled != 0) return _violation("a container holding a recalled lot changed hands");
            expectedCustodian[sscc] = caller;
        } catch {}
    }

    function cancelOrReject(uint256 containerSeed, uint256 callerSeed, bool reject) external {
        uint64 sscc = ssccs[containerSeed % CONTAINERS];
        address caller = actors[callerSeed % actors.length];
        (, address pending,,,,) = units.container(sscc);
        vm.prank(caller);
        if (reject) {
            try units.rejectContainerHandoff(sscc, bytes32(0)) {
                if (caller != pending) _violation("a handoff was rejected by someone other than its receiver");
            } catch {}
        } else {
            try units.cancelContainerHandoff(sscc) {
                if (caller != expectedCustodian[sscc]) _violation("a handoff was cancelled by someone other than the custodian");
            } catch {}
        }
    }

    /// @dev The regulator recalls a batch; then someone flags it (or not: the backend may be late).
    function recall(uint256 batchSeed, bool flag) external {
        bytes32 batchId = batchIds[batchSeed % BATCHES];
        vm.prank(regulator);
        try registry.recallBatch(batchId, bytes32(0)) {} catch {}
        if (flag) {
            try units.flagRecalledBatch(batchId) {} catch {}
        }
    }

    /// @dev A plain registry handoff of an unpacked batch, so batches change custodians outside containers too.
    function handOff(uint256 batchSeed, uint256 toSeed) external {
        bytes32 batchId = batchIds[batchSeed % BATCHES];
        (, address custodian,,,,,,) = registry.batch(batchId);
        address to = actors[toSeed % actors.length];
        if (custodian == address(units) || custodian == to) return;
        vm.prank(custodian);
        try registry.proposeHandoff(batchId, to, GLN, IProvenanceRegistry.BusinessStep.Shipping) {
            vm.prank(to);
            try registry.acceptHandoff(batchId, GLN, IProvenanceRegistry.BusinessStep.Receiving) {} catch {}
        } catch {}
    }

    /// @dev Half the time `rightful` (when there is one), otherwise any actor: the outsider and the others too.
    function _pick(uint256 seed, address rightful) private view returns (address) {
        if (seed % 2 == 0 && rightful != address(0)) return rightful;
        return actors[(seed / 2) % actors.length];
    }

    /// @dev An outermost container `account` holds (0 when none), starting the search at `seed`.
    function _heldBy(address account, uint256 seed) private view returns (uint64) {
        for (uint256 k; k < CONTAINERS; ++k) {
            uint64 sscc = ssccs[(seed + k) % CONTAINERS];
            (,, uint64 outer,,,) = units.container(sscc);
            if (outer == 0 && expectedCustodian[sscc] == account) return sscc;
        }
        return 0;
    }

    function _violation(string memory what) private {
        ++violations;
        lastViolation = what;
    }
}

contract LogisticUnitsInvariantTest is ProvenanceRegistrySetup {
    address internal constant OUTSIDER = address(0xBEEF);

    LogisticUnits internal units;
    LogisticUnitsHandler internal handler;

    function setUp() public {
        _deployRegistry();
        units = new LogisticUnits(IProvenanceRegistry(address(registry)), address(forwarder));
        registry.onboardParticipant(address(units), registry.CARRIER_ROLE(), GLN, "logistic units");

        address[] memory actors = new address[](5);
        (actors[0], actors[1], actors[2], actors[3], actors[4]) = (manufacturer, carrier, warehouse, retailer, OUTSIDER);
        handler = new LogisticUnitsHandler(units, registry, regulator, actors);

        bytes32[] memory batchIds = new bytes32[](6);
        for (uint256 i; i < batchIds.length; ++i) {
            batchIds[i] = _register(_lot("LU", i), 10);
        }
        uint64[] memory ssccs = new uint64[](4);
        (ssccs[0], ssccs[1], ssccs[2], ssccs[3]) =
            (84123450000000010, 84123450000000027, 187123450000000018, 287123460000000014);
        vm.startPrank(manufacturer);
        units.createContainer(ssccs[0], GLN);
        units.createContainer(ssccs[1], GLN);
        vm.stopPrank();
        vm.prank(carrier);
        units.createContainer(ssccs[2], GLN);
        vm.prank(warehouse);
        units.createContainer(ssccs[3], GLN);
        handler.initialize(batchIds, ssccs);
    }

    /// @notice Only the handler's actions are fuzzed.
    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    /// @dev The handler's actions do what their names say, so the invariants below are not vacuous.
    function test_handler_packNestHandOffAndUnpack() public {
        handler.pack(0, 0, 0); // the manufacturer (rightful caller) packs batch 0 into its container 0
        (uint64 sscc,,) = units.packedBatch(handler.batchIds(0));
        assertEq(sscc, handler.ssccs(0), "packed");
        handler.nest(1, 0, 0); // container 0 onto container 1
        handler.propose(1, 0, 1); // to the carrier
        handler.accept(1, 0); // by its receiver
        (, address custodian) = units.outermostContainer(handler.ssccs(0));
        assertEq(custodian, handler.actors(1), "the carrier holds the nested container");
        handler.unnest(0, 0); // by the carrier, who holds container 1
        handler.unpack(0, 0);
        assertEq(_custodian(handler.batchIds(0)), handler.actors(1), "the carrier received the batch");
        assertEq(handler.violations(), 0, handler.lastViolation());
    }

    function invariant_everyCallEndsAsTheRulesSay() public view {
        assertEq(handler.violations(), 0, handler.lastViolation());
    }

    /// @dev A packed batch is in the contract's registry custody with no handoff pending: nobody moves it alone.
    function invariant_packedBatchesAreHeldByTheContract() public view {
        for (uint256 i; i < handler.batchCount(); ++i) {
            bytes32 batchId = handler.batchIds(i);
            (uint64 sscc,,) = units.packedBatch(batchId);
            if (sscc == 0) continue;
            assertEq(_custodian(batchId), address(units), "packed batch custodian");
            assertEq(_pending(batchId), address(0), "packed batch has no pending handoff");
        }
    }

    /// @dev Each container's counters are exactly what is inside it: contents directly inside, and flagged
    /// recalled batches at any depth.
    function invariant_countersMatchTheContents() public view {
        for (uint256 c; c < handler.containerCount(); ++c) {
            uint64 sscc = handler.ssccs(c);
            (,,, uint32 contentCount, uint32 recalledContents,) = units.container(sscc);
            uint256 contents;
            uint256 recalled;
            for (uint256 i; i < handler.batchCount(); ++i) {
                (uint64 inside, bool flagged,) = units.packedBatch(handler.batchIds(i));
                if (inside != sscc) continue;
                ++contents;
                if (flagged) ++recalled;
            }
            for (uint256 k; k < handler.containerCount(); ++k) {
                (,, uint64 outer,, uint32 innerRecalled,) = units.container(handler.ssccs(k));
                if (outer != sscc) continue;
                ++contents;
                recalled += innerRecalled;
            }
            assertEq(contentCount, contents, "content count");
            assertEq(recalledContents, recalled, "recalled contents");
        }
    }

    /// @dev Custody of a container changes only as the rules allow, and nesting has no cycle and bounded depth.
    function invariant_custodiansAndNestingAreSound() public view {
        for (uint256 c; c < handler.containerCount(); ++c) {
            uint64 sscc = handler.ssccs(c);
            (address custodian,, uint64 outer,,,) = units.container(sscc);
            if (outer == 0) assertEq(custodian, handler.expectedCustodian(sscc), "outermost container custodian");
            uint256 levels = 1;
            while (outer != 0) {
                ++levels;
                assertTrue(levels <= units.MAX_NESTING_LEVELS(), "nesting depth bounded, no cycle");
                (,, outer,,,) = units.container(outer);
            }
        }
    }
}
