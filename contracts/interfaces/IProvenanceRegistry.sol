// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IParticipantRegistry} from "./IParticipantRegistry.sol";

/// @title Provenance of batches: registration, custody handoffs, quality, splits, recalls
/// @notice GS1 mapping: `gtin` is the GTIN-14 as an integer, `lot` the AI(10) batch/lot (1-20 chars of
/// the GS1 AI encodable character set 82), unit serials are AI(21); `locationGln` is a 13-digit GLN and
/// `BusinessStep` follows the EPCIS Core Business Vocabulary.
/// The batch id is derivable off-chain: `keccak256(abi.encode(uint64 gtin, string lot))`.
/// Only the holder of the GTIN's company prefix registers its lots, and registered lots never contain "/";
/// a split child's lot is `<parent lot>/<suffix>`, so children never take a lot a manufacturer may register.
/// Units are the manufacturer's: a child carries its parent's serial root, so every unit that verifies for a
/// child is one the manufacturer registered.
/// Storage holds only what the contract checks; events carry everything an indexer needs.
interface IProvenanceRegistry is IParticipantRegistry {
    enum BatchStatus {
        None,       // never registered
        Registered, // with its manufacturer, never handed off
        InTransit,  // a handoff is proposed and awaits the receiver
        Delivered,  // custody accepted by the current custodian
        Split,      // consumed into child batches (terminal)
        Recalled    // recalled, itself or through an ancestor lot (terminal: never moves again)
    }

    enum InspectionResult {
        None,
        Passed,
        Failed
    }

    /// @dev EPCIS CBV business steps (urn:epcglobal:cbv:bizstep:*), in this order.
    enum BusinessStep {
        Shipping,
        Receiving,
        Departing,
        Arriving,
        Storing,
        Loading,
        Unloading,
        Transporting,
        Inspecting,
        Accepting,
        EnteringExiting, // customs entry/exit
        Retail
    }

    /// @dev `lot` is `<parent lot>/<suffix>`; `serialRoot` must equal the parent's serial root (the units stay
    /// the manufacturer's registered ones).
    struct ChildBatch {
        string lot;
        uint64 quantity;
        bytes32 serialRoot;
    }

    /// @notice Reverts when a batch with this GTIN and lot already exists.
    error BatchAlreadyRegistered(bytes32 batchId);
    /// @notice Reverts when no batch has this id.
    error BatchUnknown(bytes32 batchId);
    /// @notice Reverts when the GTIN is zero, longer than 14 digits or has a wrong check digit.
    error BatchInvalidGtin(uint64 gtin);
    /// @notice Reverts when the lot is empty, longer than 20 bytes or outside GS1 character set 82.
    error BatchInvalidLot(string lot);
    /// @notice Reverts when the caller does not hold the GS1 company prefix of the GTIN (`holder` holds the
    /// longest matching granted prefix, address(0) when none is granted).
    error BatchGtinNotLicensed(uint64 gtin, address manufacturer, address holder);
    /// @notice Reverts when a registered lot contains "/", which only split children's lots may contain.
    error BatchLotReservedForSplits(string lot);
    /// @notice Reverts when a child's lot is not `<parent lot>/<suffix>` (suffix of 1 or more bytes, no "/").
    error SplitLotNotDerived(bytes32 parentId, string lot);
    /// @notice Reverts when a child's serial root is not its parent's: a split cannot add units.
    error SplitSerialRootMismatch(bytes32 parentId, bytes32 parentRoot, bytes32 childRoot);
    /// @notice Reverts when a quantity is zero.
    error BatchInvalidQuantity(uint64 quantity);
    /// @notice Reverts when the production date is zero or later than the current block's timestamp.
    error BatchInvalidProductionDate(uint40 productionDate);
    /// @notice Reverts when the unit serial Merkle root is zero.
    error BatchInvalidSerialRoot();
    /// @notice Reverts when the caller is not the batch's current custodian.
    error BatchNotCustodian(bytes32 batchId, address account);
    /// @notice Reverts when the batch's status does not allow the action.
    error BatchInvalidStatus(bytes32 batchId, BatchStatus status);
    /// @notice Reverts when the caller is not the receiver of the pending handoff.
    error HandoffNotReceiver(bytes32 batchId, address account);
    /// @notice Reverts when a handoff targets the current custodian.
    error HandoffToSelf(bytes32 batchId);
    /// @notice Reverts when the caller may not recall (neither the batch's manufacturer nor a regulator).
    error RecallUnauthorized(bytes32 batchId, address account);
    /// @notice Reverts when someone other than the custody observer tries to watch a batch.
    error CustodyObserverUnauthorized(address account);
    /// @notice Reverts when split quantities do not add up to the parent's quantity, or fewer than 2 children.
    error SplitInvalid(bytes32 batchId, uint64 parentQuantity, uint64 childrenQuantity, uint256 childCount);
    /// @notice Reverts when the custody observer watches the batch (an escrow order is open on it): its buyer
    /// must receive the batch itself, so it cannot be split until the order ends.
    error SplitBatchWatched(bytes32 batchId);
    /// @notice Reverts when splitting would make a lineage deeper than `maxDepth` generations below the
    /// registered batch (status checks walk the lineage, so its depth bounds their gas).
    error SplitLineageTooDeep(bytes32 batchId, uint256 maxDepth);
    /// @notice Reverts when the admin changes the custody observer while it still watches batches (its open
    /// orders would lose their delivery records).
    error CustodyObserverBusy(address observer, uint256 watchedBatches);

    /// @notice Emitted when a manufacturer registers a batch; the manufacturer is its first custodian.
    event BatchRegistered(
        bytes32 indexed batchId,
        address indexed manufacturer,
        uint64 indexed gtin,
        string lot,
        uint64 quantity,
        uint40 productionDate,
        uint64 originGln,
        bytes32 documentHash,
        bytes32 serialRoot
    );
    /// @notice Emitted when the custodian proposes to hand the batch to `to` at `locationGln`.
    event HandoffProposed(bytes32 indexed batchId, address indexed from, address indexed to, uint64 locationGln, BusinessStep businessStep);
    /// @notice Emitted when `to` accepts custody at `locationGln`; `to` is now the custodian.
    event HandoffAccepted(bytes32 indexed batchId, address indexed from, address indexed to, uint64 locationGln, BusinessStep businessStep);
    /// @notice Emitted when `to` refuses the pending handoff; custody stays with `from`.
    event HandoffRejected(bytes32 indexed batchId, address indexed from, address indexed to, bytes32 reasonHash);
    /// @notice Emitted when `from` withdraws a pending handoff before `to` answered.
    event HandoffCancelled(bytes32 indexed batchId, address indexed from, address indexed to);
    /// @notice Emitted when an inspector attests the batch's quality.
    event QualityAttested(bytes32 indexed batchId, address indexed inspector, bool passed, bytes32 reportHash);
    /// @notice Emitted once per child when a custodian splits `parentId`; the child starts with the splitter
    /// as custodian and the parent's manufacturer, GTIN, production date and origin.
    event BatchSplit(bytes32 indexed parentId, bytes32 indexed childId, address indexed custodian, string lot, uint64 quantity, bytes32 serialRoot);
    /// @notice Emitted when the admin changes the custody observer.
    event CustodyObserverChanged(address indexed previousObserver, address indexed newObserver);
    /// @notice Emitted when the manufacturer or a regulator recalls a batch (a pending handoff is dropped).
    /// The recall reaches every descendant of the batch: their status reads Recalled from then on, although
    /// no event is emitted per descendant.
    event BatchRecalled(bytes32 indexed batchId, address indexed recalledBy, bytes32 reasonHash);
    /// @notice Emitted when the custody observer starts or stops watching a batch (only on a change; the
    /// observer is the one named by the latest `CustodyObserverChanged`).
    event BatchWatchChanged(bytes32 indexed batchId, bool watched);

    /// @notice Registers a batch of `quantity` units; the caller (an active MANUFACTURER holding the GTIN's
    /// company prefix) becomes manufacturer and custodian. `lot` must not contain "/" (reserved for splits).
    /// Gas does not depend on the unit count: units are committed to by `serialRoot`, the root of an
    /// OpenZeppelin StandardMerkleTree over `[string serial]` leaves.
    function registerBatch(
        uint64 gtin,
        string calldata lot,
        uint64 quantity,
        uint40 productionDate,
        uint64 originGln,
        bytes32 documentHash,
        bytes32 serialRoot
    ) external returns (bytes32 batchId);

    /// @notice The current custodian proposes handing the batch to an active participant `to`.
    function proposeHandoff(bytes32 batchId, address to, uint64 locationGln, BusinessStep businessStep) external;

    /// @notice The receiver of the pending handoff takes custody at `locationGln`.
    function acceptHandoff(bytes32 batchId, uint64 locationGln, BusinessStep businessStep) external;

    /// @notice The receiver of the pending handoff refuses it; the batch returns to its previous status.
    function rejectHandoff(bytes32 batchId, bytes32 reasonHash) external;

    /// @notice The custodian withdraws its pending handoff; the batch returns to its previous status.
    function cancelHandoff(bytes32 batchId) external;

    /// @notice An active INSPECTOR attests pass/fail for a batch, with the hash of the report; the custody
    /// observer hears of it when it watches the batch (an escrow order may name its inspector).
    function attestQuality(bytes32 batchId, bool passed, bytes32 reportHash) external;

    /// @notice The custodian splits a batch (not in transit, not recalled, not watched by the custody observer)
    /// into at least two children whose quantities sum to the parent's; at most `MAX_LINEAGE_DEPTH` generations.
    /// Each child's lot is `<parent lot>/<suffix>` and its serial root is the parent's.
    function splitBatch(bytes32 parentId, ChildBatch[] calldata children) external returns (bytes32[] memory childIds);

    /// @notice The batch's manufacturer or an active REGULATOR recalls it, and with it every descendant
    /// (a split batch can be recalled too); reverts when the batch or an ancestor is already recalled.
    function recallBatch(bytes32 batchId, bytes32 reasonHash) external;

    /// @notice The admin sets the contract notified when custody of a watched batch is accepted (the escrow);
    /// refused while the current observer watches any batch.
    function setCustodyObserver(address observer) external;

    /// @notice The custody observer starts or stops watching a batch; only the observer may call.
    function setBatchWatched(bytes32 batchId, bool watched) external;

    /// @notice How many batches the custody observer watches.
    function watchedBatchCount() external view returns (uint256);

    /// @notice The batch `batchId` was split from (zero for a registered batch).
    function parentOf(bytes32 batchId) external view returns (bytes32 parentId);

    /// @notice The custody observer starts watching a batch and, in the same call, learns who holds it, who
    /// is about to (zero when no handoff is pending), its status (following the lineage) and the participant
    /// record of `receiver` (the party it waits for: id 0 when not onboarded); only the observer may call.
    function watchBatch(bytes32 batchId, address receiver)
        external
        returns (
            address custodian,
            address pendingCustodian,
            BatchStatus status,
            uint32 receiverId,
            bool receiverSuspended
        );

    /// @notice What the contract stores about a batch; `status` reads Recalled when an ancestor was recalled.
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
        );

    /// @notice The status and latest inspection result of a batch (BatchStatus.None for an unknown batch):
    /// the cheap check the escrow makes on every settlement. One storage read for a registered batch, two more
    /// per generation for a split-off batch (Recalled when the batch or any ancestor was recalled).
    function batchStatus(bytes32 batchId) external view returns (BatchStatus status, InspectionResult inspection);

    /// @notice True when `serial` is one of the batch's units, given a StandardMerkleTree proof. A split child
    /// carries its registered ancestor's root, so only units the manufacturer registered can verify.
    function verifyUnit(bytes32 batchId, string calldata serial, bytes32[] calldata proof) external view returns (bool);

    /// @notice The GTIN of a registered batch (a split child's is its parent's); reverts BatchUnknown otherwise.
    function gtinOf(bytes32 batchId) external view returns (uint64 gtin);

    /// @notice The id a batch with this GTIN and lot has (or would have).
    function batchIdOf(uint64 gtin, string calldata lot) external pure returns (bytes32);
}
