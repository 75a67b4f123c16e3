// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IProvenanceRegistry} from "./IProvenanceRegistry.sol";

/// @title Logistic units: batches packed into containers identified by an SSCC, handed off as one
/// @notice A container is a GS1 logistic unit (carton, pallet, shipping container) identified by its SSCC
/// (AI 00: 18 digits with the mod-10 check digit, passed as an integer). Its custodian packs batches and other
/// containers into it, hands it off with a two-party propose/accept handoff like the registry's, and unpacks it.
///
/// Custody model: packing a batch moves its registry custody to this contract (the custodian proposes the batch
/// to this contract in the registry, then `packBatches` accepts it), so while packed nobody can hand the batch
/// off, split it or sell it on its own. The custodian of the goods is then the custodian of the outermost
/// container, kept here; a container handoff changes that one record, so its gas does not depend on how many
/// batches (or nested containers) are inside. Unpacking proposes each batch back in the registry to the
/// container's custodian, who accepts it there like any handoff.
///
/// Recalls: a container whose contents include a recalled batch does not move. A handoff cannot look inside
/// the container (that would loop over its contents), so recalled contents are counted: anyone may call
/// `flagRecalledBatch` for a packed batch the registry reports Recalled (itself or through an ancestor lot),
/// which blocks its container and every container enclosing it. The backend must call it for every packed
/// batch a recall reaches, as soon as it sees the registry's BatchRecalled event; until then the container
/// can still move.
///
/// Business steps: the registry records a pack as `Loading` into this contract and an unpack as `Unloading`
/// out of it; the events below carry what the mirror needs for EPCIS AggregationEvents (ADD / DELETE).
interface ILogisticUnits {
    /// @notice Reverts when an SSCC is zero, longer than 18 digits or has a wrong check digit.
    error ContainerInvalidSscc(uint64 sscc);
    /// @notice Reverts when a container with this SSCC was already created (SSCCs are never reused).
    error ContainerAlreadyExists(uint64 sscc);
    /// @notice Reverts when no container has this SSCC.
    error ContainerUnknown(uint64 sscc);
    /// @notice Reverts when the SSCC's GS1 company prefix is granted in the registry to `holder`, not to the caller.
    error ContainerSsccNotLicensed(uint64 sscc, address account, address holder);
    /// @notice Reverts when `account` is not onboarded in the registry or is suspended there.
    error ContainerParticipantInactive(address account);
    /// @notice Reverts when the caller is not the container's custodian.
    error ContainerNotCustodian(uint64 sscc, address account);
    /// @notice Reverts when the container is itself packed in `outerSscc`: only an outermost container is handed
    /// off, packed into or unpacked.
    error ContainerIsPacked(uint64 sscc, uint64 outerSscc);
    /// @notice Reverts when a handoff of the container is pending (contents are frozen until it is answered).
    error ContainerHandoffPending(uint64 sscc);
    /// @notice Reverts when no handoff of the container is pending.
    error ContainerNoHandoffPending(uint64 sscc);
    /// @notice Reverts when the caller is not the receiver of the container's pending handoff.
    error ContainerNotReceiver(uint64 sscc, address account);
    /// @notice Reverts when a handoff targets the container's current custodian.
    error ContainerHandoffToSelf(uint64 sscc);
    /// @notice Reverts when the container (or a container inside it) holds `recalledContents` recalled batches.
    error ContainerHoldsRecalled(uint64 sscc, uint256 recalledContents);
    /// @notice Reverts when packing `innerSscc` into `outerSscc` would nest more than `maxLevels` containers.
    error ContainerNestingTooDeep(uint64 outerSscc, uint64 innerSscc, uint256 maxLevels);
    /// @notice Reverts when a container would be packed into itself.
    error ContainerPackedIntoItself(uint64 sscc);
    /// @notice Reverts when `innerSscc` is not directly inside `outerSscc`.
    error ContainerNotInside(uint64 outerSscc, uint64 innerSscc);
    /// @notice Reverts when a pack or unpack names no content.
    error ContainerNothingToMove(uint64 sscc);
    /// @notice Reverts when the batch is not pending from the caller to this contract in the registry
    /// (`custodian` and `pendingCustodian` are what the registry records).
    error BatchNotOfferedForPacking(bytes32 batchId, address custodian, address pendingCustodian);
    /// @notice Reverts when the registry's custody observer (the escrow) watches the batch: its buyer must
    /// receive the batch itself, so it is not packed while the order is open.
    error BatchWatchedByObserver(bytes32 batchId);
    /// @notice Reverts when the batch is not directly inside container `sscc` (zero: not packed at all).
    error BatchNotInContainer(uint64 sscc, bytes32 batchId);
    /// @notice Reverts when the registry does not report the batch Recalled.
    error BatchNotRecalled(bytes32 batchId);
    /// @notice Reverts when the batch's recall was already counted in its containers.
    error BatchRecallAlreadyFlagged(bytes32 batchId);
    /// @notice Reverts when the batch was not unpacked to `account`, or is not waiting in this contract's custody.
    error BatchNotReleasedTo(bytes32 batchId, address account);
    /// @notice Reverts when the registry address given to the constructor is zero.
    error LogisticUnitsRegistryZero();

    /// @notice Emitted when `custodian` creates an empty container at `locationGln`.
    event ContainerCreated(uint64 indexed sscc, address indexed custodian, uint64 locationGln);
    /// @notice Emitted when `custodian` packs a batch into the container (the registry's HandoffAccepted of the
    /// same transaction shows this contract taking the batch's custody).
    event BatchPacked(uint64 indexed sscc, bytes32 indexed batchId, address indexed custodian, uint64 locationGln);
    /// @notice Emitted when `custodian` packs container `innerSscc` into `outerSscc`.
    event ContainerPacked(uint64 indexed outerSscc, uint64 indexed innerSscc, address indexed custodian, uint64 locationGln);
    /// @notice Emitted when a batch leaves the container towards `custodian`. `released` is true when the registry
    /// now has a handoff to `custodian` pending; false for a recalled batch, which never moves again in the
    /// registry and stays in this contract's custody there while `custodian` physically holds it.
    event BatchUnpacked(uint64 indexed sscc, bytes32 indexed batchId, address indexed custodian, uint64 locationGln, bool released);
    /// @notice Emitted when `custodian` takes container `innerSscc` out of `outerSscc`; `custodian` now holds it.
    event ContainerUnpacked(uint64 indexed outerSscc, uint64 indexed innerSscc, address indexed custodian, uint64 locationGln);
    /// @notice Emitted when the custodian proposes handing the container (and everything inside) to `to`.
    event ContainerHandoffProposed(
        uint64 indexed sscc, address indexed from, address indexed to, uint64 locationGln, IProvenanceRegistry.BusinessStep businessStep
    );
    /// @notice Emitted when `to` accepts the container; `to` is now the custodian of everything inside.
    event ContainerHandoffAccepted(
        uint64 indexed sscc, address indexed from, address indexed to, uint64 locationGln, IProvenanceRegistry.BusinessStep businessStep
    );
    /// @notice Emitted when `to` refuses the pending handoff; the container stays with `from`.
    event ContainerHandoffRejected(uint64 indexed sscc, address indexed from, address indexed to, bytes32 reasonHash);
    /// @notice Emitted when `from` withdraws the pending handoff.
    event ContainerHandoffCancelled(uint64 indexed sscc, address indexed from, address indexed to);
    /// @notice Emitted when a packed batch's recall is counted: container `sscc` (the batch's own) and every
    /// container up to `outermostSscc` no longer move until the batch is unpacked.
    event PackedBatchRecallFlagged(bytes32 indexed batchId, uint64 indexed sscc, uint64 indexed outermostSscc);
    /// @notice Emitted when an unpacked batch whose registry handoff was rejected is proposed to `custodian` again.
    event BatchReleaseRenewed(bytes32 indexed batchId, address indexed custodian, uint64 locationGln);

    /// @notice An active participant creates an empty container with SSCC `sscc` at `locationGln` and becomes its
    /// custodian. When the registry has granted the SSCC's GS1 company prefix, only that prefix's holder may.
    function createContainer(uint64 sscc, uint64 locationGln) external;

    /// @notice The custodian of outermost container `sscc` packs batches it has proposed to this contract in the
    /// registry (`proposeHandoff(batchId, <this contract>, …)`); this contract accepts each handoff. A recalled
    /// batch cannot be packed (the registry refuses to hand it over), nor one the escrow watches. O(batches).
    function packBatches(uint64 sscc, bytes32[] calldata batchIds, uint64 locationGln) external;

    /// @notice The custodian of two outermost containers packs `innerSscc` into `outerSscc` (at most
    /// `MAX_NESTING_LEVELS` containers deep); a container holding recalled contents cannot be packed.
    function packContainer(uint64 outerSscc, uint64 innerSscc, uint64 locationGln) external;

    /// @notice The custodian of outermost container `sscc` takes batches out: each is proposed in the registry to
    /// the custodian, who accepts it there (a recalled batch leaves the container but stays in this contract's
    /// registry custody). O(batches).
    function unpackBatches(uint64 sscc, bytes32[] calldata batchIds, uint64 locationGln) external;

    /// @notice The custodian of outermost container `outerSscc` takes container `innerSscc` out; the caller
    /// becomes its custodian and it can be handed off or unpacked on its own.
    function unpackContainer(uint64 outerSscc, uint64 innerSscc, uint64 locationGln) external;

    /// @notice The custodian proposes handing the outermost container, with everything inside, to active
    /// participant `to`; refused while the container holds flagged recalled contents. Constant gas.
    function proposeContainerHandoff(uint64 sscc, address to, uint64 locationGln, IProvenanceRegistry.BusinessStep businessStep)
        external;

    /// @notice The receiver of the pending handoff becomes custodian of the container and everything inside;
    /// refused when a recall was flagged inside since the proposal. Constant gas.
    function acceptContainerHandoff(uint64 sscc, uint64 locationGln, IProvenanceRegistry.BusinessStep businessStep) external;

    /// @notice The receiver of the pending handoff refuses it; the container stays with its custodian.
    function rejectContainerHandoff(uint64 sscc, bytes32 reasonHash) external;

    /// @notice The custodian withdraws its pending handoff.
    function cancelContainerHandoff(uint64 sscc) external;

    /// @notice Anyone counts the recall of a packed batch (the registry reports it Recalled, itself or through
    /// an ancestor lot): its container and every enclosing container stop moving until it is unpacked. The
    /// backend must call this for every packed batch a recall reaches. O(nesting levels).
    function flagRecalledBatch(bytes32 batchId) external;

    /// @notice The participant a batch was unpacked to proposes it to itself again in the registry, after it
    /// rejected the unpack's handoff while this contract still holds the batch (at `locationGln`).
    function renewBatchRelease(bytes32 batchId, uint64 locationGln) external;

    /// @notice What the contract stores about a container: its custodian (stale while packed: the outermost
    /// container's custodian holds it), the pending receiver, the container it is packed in (0: none), how many
    /// batches and containers are directly inside, how many flagged recalled batches are inside at any depth,
    /// and an upper bound of the container levels inside it (0: none).
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
        );

    /// @notice The outermost container enclosing `sscc` (itself when not packed) and its custodian, who holds
    /// everything inside. O(nesting levels).
    function outermostContainer(uint64 sscc) external view returns (uint64 outermostSscc, address custodian);

    /// @notice The container a batch is directly packed in (0: not packed), whether its recall was flagged, and
    /// the participant it was last unpacked to (zero if never).
    function packedBatch(bytes32 batchId) external view returns (uint64 sscc, bool recallFlagged, address releasedTo);
}
