// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ICustodyObserver} from "./interfaces/ICustodyObserver.sol";
import {IParticipantRegistry} from "./interfaces/IParticipantRegistry.sol";
import {IProvenanceRegistry} from "./interfaces/IProvenanceRegistry.sol";
import {GS1} from "./libraries/GS1.sol";
import {ParticipantRegistry} from "./ParticipantRegistry.sol";

/// @title Provena provenance registry
/// @notice Records batches (GTIN + lot, with a Merkle root of their unit serials), two-party custody
/// handoffs, quality attestations, splits into child batches and recalls, for a consortium of
/// participants onboarded by the admin. Every action can be relayed through the ProvenaForwarder with
/// the participant's EIP-712 signature, so partners need a key but no ETH.
/// @dev Storage holds only what the contract checks. A batch's mutable state lives in one slot, so
/// registering writes two new slots (state + serial root) and each handoff step rewrites one.
/// Everything else (lot, dates, GLNs, document and report hashes) is in events for the indexer.
contract ProvenanceRegistry is IProvenanceRegistry, ParticipantRegistry {
    /// @dev The checked state of a batch, packed into exactly one slot (256 bits).
    /// `custodySince` is a uint32 timestamp (good until 2106); `gtin` fits 48 bits (at most 14 digits).
    struct BatchState {
        uint32 custodianId;
        uint32 pendingCustodianId;
        uint32 manufacturerId;
        uint64 quantity;
        uint32 custodySince;
        uint48 gtin;
        BatchStatus status;
        uint8 flags;
    }

    /// @dev `flags` bit: the custody observer watches this batch.
    uint8 private constant _FLAG_WATCHED = 1 << 0;
    /// @dev `flags` bit: the batch was Delivered (not Registered) before its pending handoff, so a
    /// rejected or cancelled handoff returns it there.
    uint8 private constant _FLAG_RESUME_DELIVERED = 1 << 1;
    /// @dev `flags` bits 2-3: the latest InspectionResult.
    uint8 private constant _INSPECTION_SHIFT = 2;
    uint8 private constant _INSPECTION_MASK = uint8(3) << _INSPECTION_SHIFT;
    /// @dev `flags` bit: the batch itself was recalled (a split batch keeps its Split status and gets this bit).
    uint8 private constant _FLAG_RECALLED = 1 << 4;
    /// @dev `flags` bits 5-7: the batch's generation below its registered ancestor (0 for a registered batch).
    uint8 private constant _DEPTH_SHIFT = 5;

    /// @notice The most generations of splits below a registered batch; status checks walk at most this many.
    uint256 public constant MAX_LINEAGE_DEPTH = 7;

    mapping(bytes32 batchId => BatchState) private _batches;
    mapping(bytes32 batchId => bytes32 serialRoot) private _serialRoots;
    mapping(bytes32 childId => bytes32 parentId) private _parents;
    // One slot: the observer and how many batches it watches (read together on every watch change).
    address private _custodyObserver;
    uint96 private _watchedBatchCount;

    /// @notice Deploys the registry with its consortium admin; partners' signed calls arrive through `trustedForwarder`.
    /// @param trustedForwarder The ProvenaForwarder that may relay signed calls.
    /// @param initialAdmin The consortium admin.
    /// @param adminTransferDelay Seconds a scheduled admin transfer must wait before it can be accepted.
    constructor(address trustedForwarder, address initialAdmin, uint48 adminTransferDelay)
        ParticipantRegistry(trustedForwarder, initialAdmin, adminTransferDelay)
    {}

    // ------------------------------------------------------------------ batches

    /// @inheritdoc IProvenanceRegistry
    function registerBatch(
        uint64 gtin,
        string calldata lot,
        uint64 quantity,
        uint40 productionDate,
        uint64 originGln,
        bytes32 documentHash,
        bytes32 serialRoot
    ) external returns (bytes32 batchId) {
        address manufacturer = _msgSender();
        uint32 manufacturerId = _requireActiveRole(manufacturer, MANUFACTURER_ROLE);
        if (!GS1.isValidGtin(gtin)) revert BatchInvalidGtin(gtin);
        if (!GS1.isValidRegisteredLot(lot)) {
            if (GS1.isValidLot(lot)) revert BatchLotReservedForSplits(lot);
            revert BatchInvalidLot(lot);
        }
        (uint32 holderId,,) = _companyPrefixMatch(gtin);
        if (holderId != manufacturerId) revert BatchGtinNotLicensed(gtin, manufacturer, _account(holderId));
        if (quantity == 0) revert BatchInvalidQuantity(quantity);
        if (productionDate == 0 || productionDate > block.timestamp) {
            revert BatchInvalidProductionDate(productionDate);
        }
        if (!GS1.isValidGln(originGln)) revert ParticipantInvalidGln(originGln);
        if (serialRoot == bytes32(0)) revert BatchInvalidSerialRoot();

        batchId = GS1.batchId(gtin, lot);
        if (_batches[batchId].status != BatchStatus.None) revert BatchAlreadyRegistered(batchId);
        _batches[batchId] = BatchState({
            custodianId: manufacturerId,
            pendingCustodianId: 0,
            manufacturerId: manufacturerId,
            quantity: quantity,
            custodySince: uint32(block.timestamp),
            gtin: uint48(gtin),
            status: BatchStatus.Registered,
            flags: 0
        });
        _serialRoots[batchId] = serialRoot;
        emit BatchRegistered(
            batchId, manufacturer, gtin, lot, quantity, productionDate, originGln, documentHash, serialRoot
        );
    }

    /// @inheritdoc IProvenanceRegistry
    function proposeHandoff(bytes32 batchId, address to, uint64 locationGln, BusinessStep businessStep) external {
        address from = _msgSender();
        BatchState memory state = _existingBatch(batchId);
        _requireActiveCustodian(batchId, state, from);
        BatchStatus status = _lineageStatus(batchId, state);
        if (status != BatchStatus.Registered && status != BatchStatus.Delivered) {
            revert BatchInvalidStatus(batchId, status);
        }
        Participant memory receiver = _participant(to);
        if (receiver.id == 0) revert ParticipantUnknown(to);
        if (receiver.id == state.custodianId) revert HandoffToSelf(batchId);
        if (receiver.suspended) revert ParticipantIsSuspended(to);
        if (!GS1.isValidGln(locationGln)) revert ParticipantInvalidGln(locationGln);

        state.flags = state.status == BatchStatus.Delivered
            ? state.flags | _FLAG_RESUME_DELIVERED
            : state.flags & ~_FLAG_RESUME_DELIVERED;
        state.pendingCustodianId = receiver.id;
        state.status = BatchStatus.InTransit;
        _batches[batchId] = state;
        emit HandoffProposed(batchId, from, to, locationGln, businessStep);
    }

    /// @inheritdoc IProvenanceRegistry
    function acceptHandoff(bytes32 batchId, uint64 locationGln, BusinessStep businessStep) external {
        address to = _msgSender();
        BatchState memory state = _existingBatch(batchId);
        _requirePendingReceiver(batchId, state, to);
        if (!GS1.isValidGln(locationGln)) revert ParticipantInvalidGln(locationGln);
        // An ancestor's recall reaches this batch too: its goods must not change hands any more.
        if (_ancestorRecalled(batchId, state)) revert BatchInvalidStatus(batchId, BatchStatus.Recalled);

        address from = _account(state.custodianId);
        state.custodianId = state.pendingCustodianId;
        state.pendingCustodianId = 0;
        state.custodySince = uint32(block.timestamp);
        state.status = BatchStatus.Delivered;
        _batches[batchId] = state;
        emit HandoffAccepted(batchId, from, to, locationGln, businessStep);

        if (state.flags & _FLAG_WATCHED != 0) {
            address observer = _custodyObserver;
            // The observer (the escrow) records delivery in this same transaction; its failure reverts
            // the acceptance so a delivery can never go unrecorded.
            if (observer != address(0)) ICustodyObserver(observer).onCustodyAccepted(batchId, from, to);
        }
    }

    /// @inheritdoc IProvenanceRegistry
    function rejectHandoff(bytes32 batchId, bytes32 reasonHash) external {
        address to = _msgSender();
        BatchState memory state = _existingBatch(batchId);
        _requirePendingReceiver(batchId, state, to);

        _resumeAfterHandoff(batchId, state);
        emit HandoffRejected(batchId, _account(state.custodianId), to, reasonHash);
    }

    /// @inheritdoc IProvenanceRegistry
    function cancelHandoff(bytes32 batchId) external {
        address from = _msgSender();
        BatchState memory state = _existingBatch(batchId);
        _requireActiveCustodian(batchId, state, from);
        if (state.status != BatchStatus.InTransit) revert BatchInvalidStatus(batchId, state.status);

        address to = _account(state.pendingCustodianId);
        _resumeAfterHandoff(batchId, state);
        emit HandoffCancelled(batchId, from, to);
    }

    /// @inheritdoc IProvenanceRegistry
    function attestQuality(bytes32 batchId, bool passed, bytes32 reportHash) external {
        address inspector = _msgSender();
        _requireActiveRole(inspector, INSPECTOR_ROLE);
        BatchState memory state = _existingBatch(batchId);
        // A split parent no longer exists as goods: its children are attested instead.
        if (state.status == BatchStatus.Split) revert BatchInvalidStatus(batchId, state.status);

        InspectionResult result = passed ? InspectionResult.Passed : InspectionResult.Failed;
        state.flags = (state.flags & ~_INSPECTION_MASK) | (uint8(result) << _INSPECTION_SHIFT);
        _batches[batchId] = state;
        emit QualityAttested(batchId, inspector, passed, reportHash);

        if (state.flags & _FLAG_WATCHED != 0) {
            // The observer (the escrow) records the result for an order that named this inspector.
            address observer = _custodyObserver;
            if (observer != address(0)) ICustodyObserver(observer).onQualityAttested(batchId, inspector, passed);
        }
    }

    /// @inheritdoc IProvenanceRegistry
    function splitBatch(bytes32 parentId, ChildBatch[] calldata children) external returns (bytes32[] memory childIds) {
        address custodian = _msgSender();
        BatchState memory parent = _existingBatch(parentId);
        _requireActiveCustodian(parentId, parent, custodian);
        uint8 childFlags = _splittableChildFlags(parentId, parent);
        bytes32 parentRoot = _serialRoots[parentId];

        parent.status = BatchStatus.Split;
        _batches[parentId] = parent;

        uint256 childCount = children.length;
        childIds = new bytes32[](childCount);
        uint256 childrenQuantity;
        for (uint256 i; i < childCount; ++i) {
            ChildBatch calldata child = children[i];
            bytes32 childId = _newChildId(parentId, parent.gtin, parentRoot, child);
            _batches[childId] = BatchState({
                custodianId: parent.custodianId,
                pendingCustodianId: 0,
                manufacturerId: parent.manufacturerId,
                quantity: child.quantity,
                custodySince: uint32(block.timestamp),
                gtin: parent.gtin,
                status: BatchStatus.Registered,
                flags: childFlags
            });
            _serialRoots[childId] = parentRoot;
            _parents[childId] = parentId;
            emit BatchSplit(parentId, childId, custodian, child.lot, child.quantity, parentRoot);
            childIds[i] = childId;
            childrenQuantity += child.quantity;
        }
        if (childCount < 2 || childrenQuantity != parent.quantity) {
            // Saturate so an overflowing sum still reports as "too much" instead of wrapping.
            uint64 reported = childrenQuantity > type(uint64).max ? type(uint64).max : uint64(childrenQuantity);
            revert SplitInvalid(parentId, parent.quantity, reported, childCount);
        }
    }

    /// @inheritdoc IProvenanceRegistry
    function recallBatch(bytes32 batchId, bytes32 reasonHash) external {
        address caller = _msgSender();
        BatchState memory state = _existingBatch(batchId);
        Participant memory record = _participant(caller);
        if (record.id == 0 || (record.id != state.manufacturerId && !hasRole(REGULATOR_ROLE, caller))) {
            revert RecallUnauthorized(batchId, caller);
        }
        if (record.suspended) revert ParticipantIsSuspended(caller);
        if (state.flags & _FLAG_RECALLED != 0 || _ancestorRecalled(batchId, state)) {
            revert BatchInvalidStatus(batchId, BatchStatus.Recalled);
        }

        // A split batch keeps its status (its goods live on in the children, whose status checks find the
        // flag); any other becomes Recalled.
        state.flags |= _FLAG_RECALLED;
        if (state.status != BatchStatus.Split) {
            state.status = BatchStatus.Recalled;
            state.pendingCustodianId = 0;
        }
        _batches[batchId] = state;
        emit BatchRecalled(batchId, caller, reasonHash);
    }

    // ------------------------------------------------------------------ custody observer

    /// @inheritdoc IProvenanceRegistry
    /// @dev Refused while the observer watches a batch: the escrow's funded orders rely on it to record their
    /// delivery, so swapping it would let a buyer take the goods unrecorded and be refunded at the deadline.
    function setCustodyObserver(address observer) external onlyRole(DEFAULT_ADMIN_ROLE) {
        address previous = _custodyObserver;
        uint256 watched = _watchedBatchCount;
        if (watched != 0) revert CustodyObserverBusy(previous, watched);
        _custodyObserver = observer;
        emit CustodyObserverChanged(previous, observer);
    }

    /// @inheritdoc IProvenanceRegistry
    function setBatchWatched(bytes32 batchId, bool watched) external {
        address caller = _msgSender();
        if (caller != _custodyObserver) revert CustodyObserverUnauthorized(caller);
        BatchState memory state = _existingBatch(batchId);
        if ((state.flags & _FLAG_WATCHED != 0) == watched) return;
        state.flags ^= _FLAG_WATCHED;
        _batches[batchId] = state;
        if (watched) ++_watchedBatchCount;
        else --_watchedBatchCount;
        emit BatchWatchChanged(batchId, watched);
    }

    /// @inheritdoc IProvenanceRegistry
    function watchBatch(bytes32 batchId, address receiver)
        external
        returns (
            address custodian,
            address pendingCustodian,
            BatchStatus status,
            uint32 receiverId,
            bool receiverSuspended
        )
    {
        address caller = _msgSender();
        if (caller != _custodyObserver) revert CustodyObserverUnauthorized(caller);
        BatchState memory state = _existingBatch(batchId);
        if (state.flags & _FLAG_WATCHED == 0) {
            state.flags |= _FLAG_WATCHED;
            _batches[batchId] = state;
            ++_watchedBatchCount;
            emit BatchWatchChanged(batchId, true);
        }
        custodian = _account(state.custodianId);
        if (state.pendingCustodianId != 0) pendingCustodian = _account(state.pendingCustodianId);
        status = _lineageStatus(batchId, state);
        Participant memory record = _participant(receiver);
        (receiverId, receiverSuspended) = (record.id, record.suspended);
    }

    /// @inheritdoc IProvenanceRegistry
    function watchedBatchCount() external view returns (uint256) {
        return _watchedBatchCount;
    }

    /// @inheritdoc IProvenanceRegistry
    function parentOf(bytes32 batchId) external view returns (bytes32) {
        return _parents[batchId];
    }

    /// @notice The contract notified when custody of a watched batch is accepted (address(0) if none).
    function custodyObserver() external view returns (address) {
        return _custodyObserver;
    }

    /// @notice True when the custody observer watches `batchId`.
    function isBatchWatched(bytes32 batchId) external view returns (bool) {
        return _batches[batchId].flags & _FLAG_WATCHED != 0;
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IProvenanceRegistry
    function batch(bytes32 batchId)
        external
        view
        returns (
            address manufacturer,
            address custodian,
            address pendingCustodian,
            BatchStatus status,
            InspectionResult inspection,
            uint64 quantity,
            uint40 custodySince,
            bytes32 serialRoot
        )
    {
        BatchState memory state = _existingBatch(batchId);
        manufacturer = _account(state.manufacturerId);
        custodian = _account(state.custodianId);
        if (state.pendingCustodianId != 0) pendingCustodian = _account(state.pendingCustodianId);
        status = _lineageStatus(batchId, state);
        inspection = _inspection(state);
        quantity = state.quantity;
        custodySince = state.custodySince;
        serialRoot = _serialRoots[batchId];
    }

    /// @inheritdoc IProvenanceRegistry
    function batchStatus(bytes32 batchId) external view returns (BatchStatus status, InspectionResult inspection) {
        BatchState memory state = _batches[batchId];
        return (_lineageStatus(batchId, state), _inspection(state));
    }

    /// @inheritdoc IProvenanceRegistry
    function verifyUnit(bytes32 batchId, string calldata serial, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        bytes32 root = _serialRoots[batchId];
        if (root == bytes32(0)) revert BatchUnknown(batchId);
        // The leaf of OpenZeppelin's StandardMerkleTree for the value [serial] with encoding ["string"].
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(serial))));
        return MerkleProof.verifyCalldata(proof, root, leaf);
    }

    /// @inheritdoc IProvenanceRegistry
    function gtinOf(bytes32 batchId) external view returns (uint64 gtin) {
        return _existingBatch(batchId).gtin;
    }

    /// @inheritdoc IProvenanceRegistry
    function batchIdOf(uint64 gtin, string calldata lot) external pure returns (bytes32) {
        return GS1.batchId(gtin, lot);
    }

    /// @inheritdoc IERC165
    function supportsInterface(bytes4 interfaceId) public view virtual override returns (bool) {
        return interfaceId == type(IProvenanceRegistry).interfaceId
            || interfaceId == type(IParticipantRegistry).interfaceId || super.supportsInterface(interfaceId);
    }

    // ------------------------------------------------------------------ internal

    function _existingBatch(bytes32 batchId) private view returns (BatchState memory state) {
        state = _batches[batchId];
        if (state.status == BatchStatus.None) revert BatchUnknown(batchId);
    }

    /// @dev Reverts unless `account` is the batch's custodian and not suspended.
    function _requireActiveCustodian(bytes32 batchId, BatchState memory state, address account) private view {
        Participant memory record = _participant(account);
        if (record.id != state.custodianId) revert BatchNotCustodian(batchId, account);
        if (record.suspended) revert ParticipantIsSuspended(account);
    }

    /// @dev Reverts unless a handoff is pending and `account` is its receiver, not suspended.
    function _requirePendingReceiver(bytes32 batchId, BatchState memory state, address account) private view {
        if (state.status != BatchStatus.InTransit) revert BatchInvalidStatus(batchId, state.status);
        Participant memory record = _participant(account);
        if (record.id != state.pendingCustodianId) revert HandoffNotReceiver(batchId, account);
        if (record.suspended) revert ParticipantIsSuspended(account);
    }

    /// @dev The flags a child of `parentId` starts with (its depth); reverts unless the parent may be split.
    function _splittableChildFlags(bytes32 parentId, BatchState memory parent) private view returns (uint8) {
        BatchStatus parentStatus = _lineageStatus(parentId, parent);
        if (parentStatus != BatchStatus.Registered && parentStatus != BatchStatus.Delivered) {
            revert BatchInvalidStatus(parentId, parentStatus);
        }
        if (parent.flags & _FLAG_WATCHED != 0) revert SplitBatchWatched(parentId);
        uint256 childDepth = uint256(parent.flags >> _DEPTH_SHIFT) + 1;
        if (childDepth > MAX_LINEAGE_DEPTH) revert SplitLineageTooDeep(parentId, MAX_LINEAGE_DEPTH);
        return uint8(childDepth << _DEPTH_SHIFT);
    }

    /// @dev The id of a new child of `parentId`; reverts unless its lot is valid and is the parent's lot, "/"
    /// and a suffix without "/", its quantity is non-zero, its root is the parent's and the id is free.
    function _newChildId(bytes32 parentId, uint48 gtin, bytes32 parentRoot, ChildBatch calldata child)
        private
        view
        returns (bytes32 childId)
    {
        string calldata lot = child.lot;
        if (!GS1.isValidLot(lot)) revert BatchInvalidLot(lot);
        uint256 parentLength = GS1.splitParentLength(lot);
        if (
            parentLength == 0 || parentLength + 1 == bytes(lot).length
                || keccak256(abi.encode(uint64(gtin), bytes(lot)[:parentLength])) != parentId
        ) revert SplitLotNotDerived(parentId, lot);
        if (child.quantity == 0) revert BatchInvalidQuantity(child.quantity);
        if (child.serialRoot != parentRoot) revert SplitSerialRootMismatch(parentId, parentRoot, child.serialRoot);
        childId = GS1.batchId(gtin, lot);
        if (_batches[childId].status != BatchStatus.None) revert BatchAlreadyRegistered(childId);
    }

    /// @dev Drops the pending handoff and restores the status the batch had before it.
    function _resumeAfterHandoff(bytes32 batchId, BatchState memory state) private {
        state.status = state.flags & _FLAG_RESUME_DELIVERED != 0 ? BatchStatus.Delivered : BatchStatus.Registered;
        state.pendingCustodianId = 0;
        _batches[batchId] = state;
    }

    /// @dev The batch's status as the lineage makes it: Recalled when the batch or an ancestor was recalled.
    function _lineageStatus(bytes32 batchId, BatchState memory state) private view returns (BatchStatus) {
        if (state.flags & _FLAG_RECALLED != 0 || _ancestorRecalled(batchId, state)) return BatchStatus.Recalled;
        return state.status;
    }

    /// @dev True when an ancestor of the batch was recalled; reads two slots per generation, at most
    /// MAX_LINEAGE_DEPTH generations, and none for a registered batch.
    function _ancestorRecalled(bytes32 batchId, BatchState memory state) private view returns (bool) {
        bytes32 ancestorId = batchId;
        for (uint256 depth = state.flags >> _DEPTH_SHIFT; depth != 0; --depth) {
            ancestorId = _parents[ancestorId];
            if (_batches[ancestorId].flags & _FLAG_RECALLED != 0) return true;
        }
        return false;
    }

    function _inspection(BatchState memory state) private pure returns (InspectionResult) {
        return InspectionResult((state.flags & _INSPECTION_MASK) >> _INSPECTION_SHIFT);
    }
}
