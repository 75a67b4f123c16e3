// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {IBatchWatchStatus} from "./interfaces/IBatchWatchStatus.sol";
import {ILogisticUnits} from "./interfaces/ILogisticUnits.sol";
import {IParticipantRegistry} from "./interfaces/IParticipantRegistry.sol";
import {IProvenanceRegistry} from "./interfaces/IProvenanceRegistry.sol";
import {GS1} from "./libraries/GS1.sol";

/// @title Provena logistic units: pack, hand off and unpack containers identified by an SSCC
/// @notice See ILogisticUnits for the custody model. This contract must be onboarded as a participant of the
/// registry (any role; the deployment uses CARRIER): the registry only hands batches to participants.
/// @dev No admin: every rule reads the registry. Who could abuse what, and why they cannot (each has a test in
/// test/contracts/LogisticUnits.test.ts):
/// - `createContainer`: a third party front-running a published SSCC to squat it. When the SSCC's GS1 company
///   prefix is granted in the registry, only its holder may create it. An SSCC under a prefix the registry has not
///   granted is first-come among onboarded (accountable, suspendable) participants: the residual risk, closed by
///   granting logistics providers their prefixes. Dust: empty containers cost their creator gas and touch no one
///   else's state; nobody can pack into, hand off or nest a container they do not hold.
/// - `packBatches`: packing someone else's batch. The registry must show the caller as custodian with a handoff
///   to this contract pending, which only the custodian can propose; a batch under an open escrow order is
///   refused (the buyer must receive the batch itself), and the registry refuses recalled batches.
/// - `packContainer` / `unpackContainer`: nesting a container one does not hold, a cycle (only outermost
///   containers take contents, and a packed container is no longer outermost), unbounded depth (at most
///   MAX_NESTING_LEVELS), or hiding a recalled lot inside a clean container (a container with flagged recalled
///   contents cannot be packed; unpacking moves the count out with it).
/// - `unpackBatches`: sending goods to someone else: batches go only to the caller, the custodian of the
///   outermost container, as a registry handoff it must accept; never while a container handoff is pending.
/// - `proposeContainerHandoff` / `acceptContainerHandoff` / `rejectContainerHandoff` / `cancelContainerHandoff`:
///   only the custodian proposes or cancels, only the named receiver accepts or rejects, suspended participants
///   do neither, and no handoff proposes or completes while a flagged recalled batch is inside. Spam proposals
///   to a victim change nothing until the victim accepts.
/// - `flagRecalledBatch`: permissionless, but it only counts a batch that is packed, that the registry reports
///   Recalled, and only once; it can block containers only when they really hold recalled goods.
/// - `renewBatchRelease`: only the participant the batch was unpacked to, and only while this contract still
///   holds the batch with no handoff pending.
/// - Registry admin key: suspending this contract as a participant freezes unpacking (the registry refuses
///   handoffs from a suspended custodian) until reinstated; it cannot move anyone's goods. The forwarder cannot
///   speak for this contract (a contract has no ECDSA key), so only this contract's own code moves batches it holds.
/// Known limit: a recall is seen by container handoffs only once `flagRecalledBatch` ran for the packed batch.
contract LogisticUnits is ILogisticUnits, ERC2771Context {
    /// @dev Slot 1: who holds the container and where it is packed. `custodian` is never zero once created.
    /// Slot 2: the pending receiver and the counters. A handoff rewrites both slots and nothing else.
    struct Container {
        address custodian;
        uint64 outerSscc;
        uint8 nestedLevels;
        address pendingCustodian;
        uint32 contentCount;
        uint32 recalledContents;
    }

    /// @dev One slot per batch that was ever packed.
    struct PackedBatch {
        uint64 sscc;
        bool recallFlagged;
        address releasedTo;
    }

    /// @notice The most containers nested in one another (e.g. carton, case, pallet, shipping container).
    uint256 public constant MAX_NESTING_LEVELS = 4;

    IProvenanceRegistry private immutable _registry;
    mapping(uint64 sscc => Container) private _containers;
    mapping(bytes32 batchId => PackedBatch) private _packedBatches;

    /// @notice Deploys the logistic units over `registry`; partners' signed calls arrive through `trustedForwarder`.
    /// @param provenanceRegistry The ProvenanceRegistry whose batches are packed (it must onboard this contract).
    /// @param trustedForwarder The ProvenaForwarder that may relay signed calls.
    constructor(IProvenanceRegistry provenanceRegistry, address trustedForwarder) ERC2771Context(trustedForwarder) {
        if (address(provenanceRegistry) == address(0)) revert LogisticUnitsRegistryZero();
        _registry = provenanceRegistry;
    }

    // ------------------------------------------------------------------ containers

    /// @inheritdoc ILogisticUnits
    function createContainer(uint64 sscc, uint64 locationGln) external {
        address creator = _msgSender();
        _requireActive(creator);
        if (!GS1.isValidSscc(sscc)) revert ContainerInvalidSscc(sscc);
        if (!GS1.isValidGln(locationGln)) revert IParticipantRegistry.ParticipantInvalidGln(locationGln);
        if (_containers[sscc].custodian != address(0)) revert ContainerAlreadyExists(sscc);
        (address holder,,) = _registry.companyPrefixOf(GS1.ssccPrefixProbe(sscc));
        if (holder != address(0) && holder != creator) revert ContainerSsccNotLicensed(sscc, creator, holder);

        _containers[sscc].custodian = creator;
        emit ContainerCreated(sscc, creator, locationGln);
    }

    /// @inheritdoc ILogisticUnits
    function packBatches(uint64 sscc, bytes32[] calldata batchIds, uint64 locationGln) external {
        address custodian = _msgSender();
        Container storage target = _heldOutermost(sscc, custodian, locationGln);
        uint256 count = batchIds.length;
        if (count == 0) revert ContainerNothingToMove(sscc);
        for (uint256 i; i < count; ++i) {
            bytes32 batchId = batchIds[i];
            (, address batchCustodian, address pendingCustodian,,,,,) = _registry.batch(batchId);
            if (batchCustodian != custodian || pendingCustodian != address(this)) {
                revert BatchNotOfferedForPacking(batchId, batchCustodian, pendingCustodian);
            }
            if (IBatchWatchStatus(address(_registry)).isBatchWatched(batchId)) revert BatchWatchedByObserver(batchId);
            _registry.acceptHandoff(batchId, locationGln, IProvenanceRegistry.BusinessStep.Loading);
            _packedBatches[batchId] = PackedBatch({sscc: sscc, recallFlagged: false, releasedTo: address(0)});
            emit BatchPacked(sscc, batchId, custodian, locationGln);
        }
        target.contentCount += uint32(count);
    }

    /// @inheritdoc ILogisticUnits
    function packContainer(uint64 outerSscc, uint64 innerSscc, uint64 locationGln) external {
        address custodian = _msgSender();
        if (outerSscc == innerSscc) revert ContainerPackedIntoItself(outerSscc);
        Container storage outer = _heldOutermost(outerSscc, custodian, locationGln);
        Container storage inner = _heldOutermost(innerSscc, custodian, locationGln);
        if (inner.recalledContents != 0) revert ContainerHoldsRecalled(innerSscc, inner.recalledContents);
        // The inner container's levels, plus itself, plus the outer one.
        uint256 levels = uint256(inner.nestedLevels) + 2;
        if (levels > MAX_NESTING_LEVELS) revert ContainerNestingTooDeep(outerSscc, innerSscc, MAX_NESTING_LEVELS);

        inner.outerSscc = outerSscc;
        // An upper bound: unpacking never lowers it, so the depth check stays cheap and safe.
        if (levels - 1 > outer.nestedLevels) outer.nestedLevels = uint8(levels - 1);
        ++outer.contentCount;
        emit ContainerPacked(outerSscc, innerSscc, custodian, locationGln);
    }

    /// @inheritdoc ILogisticUnits
    function unpackBatches(uint64 sscc, bytes32[] calldata batchIds, uint64 locationGln) external {
        address custodian = _msgSender();
        Container storage source = _heldOutermost(sscc, custodian, locationGln);
        uint256 count = batchIds.length;
        if (count == 0) revert ContainerNothingToMove(sscc);
        uint32 flaggedOut;
        for (uint256 i; i < count; ++i) {
            bytes32 batchId = batchIds[i];
            PackedBatch memory packed = _packedBatches[batchId];
            if (packed.sscc != sscc) revert BatchNotInContainer(sscc, batchId);
            if (packed.recallFlagged) ++flaggedOut;
            _packedBatches[batchId] = PackedBatch({sscc: 0, recallFlagged: false, releasedTo: custodian});

            (IProvenanceRegistry.BatchStatus status,) = _registry.batchStatus(batchId);
            // A recalled batch never moves again in the registry: it leaves the container, not this custody.
            bool released = status != IProvenanceRegistry.BatchStatus.Recalled;
            if (released) {
                _registry.proposeHandoff(batchId, custodian, locationGln, IProvenanceRegistry.BusinessStep.Unloading);
            }
            emit BatchUnpacked(sscc, batchId, custodian, locationGln, released);
        }
        source.contentCount -= uint32(count);
        source.recalledContents -= flaggedOut;
    }

    /// @inheritdoc ILogisticUnits
    function unpackContainer(uint64 outerSscc, uint64 innerSscc, uint64 locationGln) external {
        address custodian = _msgSender();
        Container storage outer = _heldOutermost(outerSscc, custodian, locationGln);
        Container storage inner = _containers[innerSscc];
        if (inner.custodian == address(0) || inner.outerSscc != outerSscc) revert ContainerNotInside(outerSscc, innerSscc);

        inner.outerSscc = 0;
        inner.custodian = custodian;
        --outer.contentCount;
        outer.recalledContents -= inner.recalledContents;
        emit ContainerUnpacked(outerSscc, innerSscc, custodian, locationGln);
    }

    // ------------------------------------------------------------------ container handoff

    /// @inheritdoc ILogisticUnits
    function proposeContainerHandoff(uint64 sscc, address to, uint64 locationGln, IProvenanceRegistry.BusinessStep businessStep)
        external
    {
        address from = _msgSender();
        Container storage held = _heldOutermost(sscc, from, locationGln);
        if (held.recalledContents != 0) revert ContainerHoldsRecalled(sscc, held.recalledContents);
        if (to == from) revert ContainerHandoffToSelf(sscc);
        _requireActive(to);

        held.pendingCustodian = to;
        emit ContainerHandoffProposed(sscc, from, to, locationGln, businessStep);
    }

    /// @inheritdoc ILogisticUnits
    function acceptContainerHandoff(uint64 sscc, uint64 locationGln, IProvenanceRegistry.BusinessStep businessStep) external {
        address to = _msgSender();
        Container storage held = _pendingTo(sscc, to);
        if (!GS1.isValidGln(locationGln)) revert IParticipantRegistry.ParticipantInvalidGln(locationGln);
        // A recall flagged after the proposal stops the goods here, with the sender.
        if (held.recalledContents != 0) revert ContainerHoldsRecalled(sscc, held.recalledContents);

        address from = held.custodian;
        held.custodian = to;
        held.pendingCustodian = address(0);
        emit ContainerHandoffAccepted(sscc, from, to, locationGln, businessStep);
    }

    /// @inheritdoc ILogisticUnits
    function rejectContainerHandoff(uint64 sscc, bytes32 reasonHash) external {
        address to = _msgSender();
        Container storage held = _pendingTo(sscc, to);
        held.pendingCustodian = address(0);
        emit ContainerHandoffRejected(sscc, held.custodian, to, reasonHash);
    }

    /// @inheritdoc ILogisticUnits
    function cancelContainerHandoff(uint64 sscc) external {
        address from = _msgSender();
        Container storage held = _existingContainer(sscc);
        if (held.custodian != from) revert ContainerNotCustodian(sscc, from);
        _requireActive(from);
        address to = held.pendingCustodian;
        if (to == address(0)) revert ContainerNoHandoffPending(sscc);
        held.pendingCustodian = address(0);
        emit ContainerHandoffCancelled(sscc, from, to);
    }

    // ------------------------------------------------------------------ recalls and releases

    /// @inheritdoc ILogisticUnits
    function flagRecalledBatch(bytes32 batchId) external {
        PackedBatch storage packed = _packedBatches[batchId];
        uint64 sscc = packed.sscc;
        if (sscc == 0) revert BatchNotInContainer(0, batchId);
        if (packed.recallFlagged) revert BatchRecallAlreadyFlagged(batchId);
        (IProvenanceRegistry.BatchStatus status,) = _registry.batchStatus(batchId);
        if (status != IProvenanceRegistry.BatchStatus.Recalled) revert BatchNotRecalled(batchId);

        packed.recallFlagged = true;
        uint64 current = sscc;
        uint64 outermost;
        // At most MAX_NESTING_LEVELS containers enclose the batch.
        while (current != 0) {
            Container storage enclosing = _containers[current];
            ++enclosing.recalledContents;
            outermost = current;
            current = enclosing.outerSscc;
        }
        emit PackedBatchRecallFlagged(batchId, sscc, outermost);
    }

    /// @inheritdoc ILogisticUnits
    function renewBatchRelease(bytes32 batchId, uint64 locationGln) external {
        address receiver = _msgSender();
        PackedBatch memory packed = _packedBatches[batchId];
        if (packed.sscc != 0 || packed.releasedTo != receiver) revert BatchNotReleasedTo(batchId, receiver);
        (, address custodian, address pendingCustodian,,,,,) = _registry.batch(batchId);
        if (custodian != address(this) || pendingCustodian != address(0)) revert BatchNotReleasedTo(batchId, receiver);
        _registry.proposeHandoff(batchId, receiver, locationGln, IProvenanceRegistry.BusinessStep.Unloading);
        emit BatchReleaseRenewed(batchId, receiver, locationGln);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc ILogisticUnits
    function container(uint64 sscc)
        external
        view
        returns (
            address custodian,
            address pendingCustodian,
            uint64 outerSscc,
            uint32 contentCount,
            uint32 recalledContents,
            uint8 nestedLevels
        )
    {
        Container storage stored = _existingContainer(sscc);
        return (
            stored.custodian,
            stored.pendingCustodian,
            stored.outerSscc,
            stored.contentCount,
            stored.recalledContents,
            stored.nestedLevels
        );
    }

    /// @inheritdoc ILogisticUnits
    function outermostContainer(uint64 sscc) external view returns (uint64 outermostSscc, address custodian) {
        outermostSscc = sscc;
        Container storage current = _existingContainer(sscc);
        while (current.outerSscc != 0) {
            outermostSscc = current.outerSscc;
            current = _containers[outermostSscc];
        }
        custodian = current.custodian;
    }

    /// @inheritdoc ILogisticUnits
    function packedBatch(bytes32 batchId) external view returns (uint64 sscc, bool recallFlagged, address releasedTo) {
        PackedBatch memory packed = _packedBatches[batchId];
        return (packed.sscc, packed.recallFlagged, packed.releasedTo);
    }

    /// @notice The provenance registry this contract packs batches of.
    function registry() external view returns (IProvenanceRegistry) {
        return _registry;
    }

    // ------------------------------------------------------------------ internal

    function _existingContainer(uint64 sscc) private view returns (Container storage stored) {
        stored = _containers[sscc];
        if (stored.custodian == address(0)) revert ContainerUnknown(sscc);
    }

    /// @dev The container, after checking it is outermost, held by active `account`, with no handoff pending,
    /// and that `locationGln` is a GLN: the preconditions of every change to a container's contents or custody.
    function _heldOutermost(uint64 sscc, address account, uint64 locationGln) private view returns (Container storage held) {
        held = _existingContainer(sscc);
        if (held.outerSscc != 0) revert ContainerIsPacked(sscc, held.outerSscc);
        if (held.custodian != account) revert ContainerNotCustodian(sscc, account);
        if (held.pendingCustodian != address(0)) revert ContainerHandoffPending(sscc);
        if (!GS1.isValidGln(locationGln)) revert IParticipantRegistry.ParticipantInvalidGln(locationGln);
        _requireActive(account);
    }

    /// @dev The container whose pending handoff goes to active `account`.
    function _pendingTo(uint64 sscc, address account) private view returns (Container storage held) {
        held = _existingContainer(sscc);
        address pending = held.pendingCustodian;
        if (pending == address(0)) revert ContainerNoHandoffPending(sscc);
        if (pending != account) revert ContainerNotReceiver(sscc, account);
        _requireActive(account);
    }

    /// @dev Reverts unless `account` is onboarded in the registry and not suspended.
    function _requireActive(address account) private view {
        (uint32 participantId,, bool suspended) = _registry.participant(account);
        if (participantId == 0 || suspended) revert ContainerParticipantInactive(account);
    }
}
