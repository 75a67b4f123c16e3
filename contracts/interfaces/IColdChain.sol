// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title Cold chain: sensor devices, their legs on goods, anchored readings and established breaches
/// @notice A device is a sensor with its own key, bound to one carrier. While the carrier holds a batch it
/// attaches the device to the batch for a leg; the device signs every reading (EIP-712 `Reading`, domain
/// name "Provena ColdChain", version "1"). Readings stay off chain; their Merkle roots are anchored per leg, and
/// out-of-range readings submitted as evidence establish a breach that the escrow consults before paying freight.
///
/// Units: temperatures in hundredths of a degree Celsius, relative humidity in hundredths of a percent
/// (`type(uint16).max` when the device has no humidity sensor), positions in millionths of a degree
/// (`type(int32).min` for both when the device has no GPS fix).
///
/// Anchored leaves follow OpenZeppelin's StandardMerkleTree over `[bytes32 readingHash]`, where `readingHash`
/// is the reading's EIP-712 struct hash (`hashReading`), so a reading is proved with the usual multiproof tools.
interface IColdChain {
    /// @notice The conditions the goods must be kept in. An excursion is any time spent outside either range;
    /// a breach is established once a leg's cumulative excursion exceeds `allowedExcursionSeconds`.
    struct Conditions {
        int16 minTemperature; // centi-degrees Celsius
        int16 maxTemperature; // centi-degrees Celsius
        uint16 minHumidity; // centi-percent; 0 and 10000 leave humidity unconstrained
        uint16 maxHumidity; // centi-percent
        uint32 allowedExcursionSeconds;
    }

    /// @notice One signed sensor reading (the EIP-712 struct). `sequence` increases by exactly one per reading
    /// of a device over its whole life, so consecutive sequences prove nothing was left out in between.
    struct Reading {
        address device;
        bytes32 batchId;
        uint64 sequence;
        uint40 timestamp;
        int16 temperature;
        uint16 humidity;
        int32 latitude;
        int32 longitude;
    }

    error DeviceZeroAddress();
    error DeviceAlreadyRegistered(address device, address carrier);
    error DeviceUnknown(address device);
    error DeviceRetiredAlready(address device);
    error DeviceUnauthorized(address device, address account);
    error DeviceCarrierInactive(address device, address carrier);
    error DeviceAlreadyAttached(address device, bytes32 legId);
    error DeviceNotAttached(address device);
    error DeviceNotCustodian(bytes32 batchId, address carrier);
    error ConditionsInvalid();
    error ConditionsUnauthorized(bytes32 batchId, address account);
    error ConditionsFrozen(bytes32 batchId);
    error LegUnknown(bytes32 legId);
    error AnchorUnauthorized(bytes32 legId, address account);
    error AnchorInvalid(bytes32 legId);
    error EvidenceEmpty();
    error EvidenceNotOneLeg(bytes32 legId, uint256 index);
    error EvidenceNotConsecutive(uint256 index);
    error EvidenceOutsideLeg(bytes32 legId, uint256 index);
    error EvidenceInRange(uint256 index);
    error EvidenceBadSignature(uint256 index);
    error EvidenceAlreadyCounted(bytes32 legId, uint64 sequence);
    error NoConditions(bytes32 batchId);
    /// @notice Reverts when evidence does not carry exactly one signature per reading.
    error EvidenceLengthMismatch(uint256 readings, uint256 signatures);
    /// @notice Reverts when a run of evidence has a single reading: it spans no time (dust).
    error EvidenceTooShort();
    /// @notice Reverts when `account` may not set the conditions of `gtin` (not the active holder of its company prefix).
    error ProductConditionsUnauthorized(uint64 gtin, address account);

    /// @notice Emitted when `carrier` (or the admin for it) registers a sensor device.
    event DeviceRegistered(address indexed device, address indexed carrier);
    /// @notice Emitted when a device is retired; it can never be attached again.
    event DeviceRetired(address indexed device, address indexed carrier);
    /// @notice Emitted when a device is attached to a batch; `legId` names the leg from `attachedAt` on.
    event DeviceAttached(bytes32 indexed legId, address indexed device, bytes32 indexed batchId, address carrier, uint40 attachedAt);
    /// @notice Emitted when the leg ends; readings after `detachedAt` do not belong to it.
    event DeviceDetached(bytes32 indexed legId, address indexed device, bytes32 indexed batchId, uint40 detachedAt);
    /// @notice Emitted when conditions are set for every batch of a GTIN that has no conditions of its own.
    event ProductConditionsSet(uint64 indexed gtin, address indexed setBy, Conditions conditions);
    /// @notice Emitted when a batch's own conditions are set.
    event BatchConditionsSet(bytes32 indexed batchId, address indexed setBy, Conditions conditions);
    /// @notice Emitted when the conditions in force for a batch are frozen (its first leg starts).
    event ConditionsFrozenFor(bytes32 indexed batchId, Conditions conditions);
    /// @notice Emitted when the readings of a leg between two sequences are committed by one Merkle root.
    event ReadingsAnchored(
        bytes32 indexed legId,
        bytes32 indexed root,
        address indexed anchoredBy,
        uint32 count,
        uint64 firstSequence,
        uint64 lastSequence,
        uint40 fromTime,
        uint40 toTime
    );
    /// @notice Emitted when device-signed evidence of an excursion on a leg is accepted.
    event ExcursionRecorded(bytes32 indexed legId, uint64 firstSequence, uint64 lastSequence, uint40 fromTime, uint40 toTime, uint32 cumulativeSeconds);
    /// @notice Emitted once per leg when its cumulative excursion first exceeds the allowed excursion.
    event BreachEstablished(bytes32 indexed batchId, bytes32 indexed legId, address indexed carrier, uint40 breachedAt, uint32 cumulativeSeconds);

    /// @notice Registers `device` for `carrier`. Callable by an active carrier for itself, or by the admin.
    function registerDevice(address device, address carrier) external;

    /// @notice Retires a device for good (the device's carrier or the admin); an attached device is detached first.
    function retireDevice(address device) external;

    /// @notice The device's carrier, while it is the batch's custodian, starts a leg of `device` on `batchId`.
    /// The batch's conditions are frozen by its first leg.
    function attachDevice(address device, bytes32 batchId) external returns (bytes32 legId);

    /// @notice Ends the device's current leg. Callable by the device's carrier, or by anyone once that carrier no
    /// longer holds the batch (so a leg cannot outlive the carrier's custody).
    function detachDevice(address device) external;

    /// @notice Sets the conditions of every batch of `gtin` (the holder of the GTIN's company prefix).
    function setProductConditions(uint64 gtin, Conditions calldata conditions) external;

    /// @notice Sets a batch's own conditions (its manufacturer), until its first leg freezes them.
    function setBatchConditions(bytes32 batchId, Conditions calldata conditions) external;

    /// @notice Commits readings of a leg as one Merkle root (the leg's carrier or an ANCHORER_ROLE account).
    function anchorReadings(
        bytes32 legId,
        bytes32 root,
        uint32 count,
        uint64 firstSequence,
        uint64 lastSequence,
        uint40 fromTime,
        uint40 toTime
    ) external;

    /// @notice Anyone submits a run of consecutive device-signed out-of-range readings of leg `legId`; the run's
    /// duration is added to the leg's cumulative excursion, and a breach is established once it exceeds the
    /// allowed excursion.
    function submitExcursion(bytes32 legId, Reading[] calldata readings, bytes[] calldata signatures) external;

    /// @notice The device's carrier, whether it is retired, and its current leg (zero when detached).
    function device(address device) external view returns (address carrier, bool retired, bytes32 currentLeg);

    /// @notice A leg's device, batch, carrier, time span (`detachedAt` zero while open), excursion so far and
    /// whether it is breached.
    function leg(bytes32 legId)
        external
        view
        returns (
            address legDevice,
            bytes32 batchId,
            address carrier,
            uint40 attachedAt,
            uint40 detachedAt,
            uint32 excursionSeconds,
            bool breached
        );

    /// @notice The conditions in force for a batch (its own, else its GTIN's) and whether they are frozen.
    function conditionsOf(bytes32 batchId) external view returns (Conditions memory conditions, bool isSet, bool frozen);

    /// @notice Whether a breach was established on a leg of `carrier` on `batchId` by an excursion that ended at or
    /// after `since` (the escrow passes the order's opening time).
    function breachedSince(bytes32 batchId, address carrier, uint40 since) external view returns (bool);

    /// @notice Whether the interval between readings `sequence` and `sequence + 1` of leg `legId` was already counted
    /// as excursion time (each such interval counts at most once, whoever submits it and in whatever order).
    function excursionCounted(bytes32 legId, uint64 sequence) external view returns (bool);

    /// @notice Where `anchoredBy`'s next anchor of leg `legId` may start: its first sequence at least `nextSequence`
    /// and its first time at least `anchoredUntil` (both zero before its first anchor of the leg).
    function anchorCursor(bytes32 legId, address anchoredBy) external view returns (uint64 nextSequence, uint40 anchoredUntil);

    /// @notice The EIP-712 struct hash of a reading: the anchored leaf value.
    function hashReading(Reading calldata reading) external pure returns (bytes32);

    /// @notice The EIP-712 digest a device signs for `reading`.
    function readingDigest(Reading calldata reading) external view returns (bytes32);
}
