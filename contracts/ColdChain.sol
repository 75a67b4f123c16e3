// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {Context} from "@openzeppelin/contracts/utils/Context.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IColdChain} from "./interfaces/IColdChain.sol";
import {IProvenanceRegistry} from "./interfaces/IProvenanceRegistry.sol";

/// @title ColdChain: sensor devices, legs on batches, anchored readings and breaches established from evidence
/// @notice The provenance registry is the source of truth for who is an active carrier, who holds a batch, who
/// made it and who holds its GTIN's company prefix. A suspended carrier's devices count for nothing: they cannot
/// be attached, the carrier cannot anchor, and their readings are not evidence while the suspension lasts (the
/// admin's remedy for a carrier whose device keys are compromised). A retired device's past legs keep their
/// evidence, so retiring a device never erases a breach it recorded.
///
/// Evidence is counted per interval, not per reading: a run of consecutive readings `a..b` counts the intervals
/// `a→a+1, …, b-1→b` (each reading's time to the next one's), and each interval of a leg counts at most once.
/// So evidence can be submitted in pieces, by anyone, in any order (adjacent runs may share their boundary
/// reading), and the leg's cumulative excursion is never more than the time actually out of range nor, once
/// every interval is submitted, less: no one can steal excursion time by submitting dust or a later run first.
/// A humidity above 100 % (10000) is treated like `type(uint16).max`: no humidity reading.
///
/// Every call honours ERC-2771: the ProvenaForwarder may relay it for a signer, so partners need no ETH.
contract ColdChain is IColdChain, AccessControlDefaultAdminRules, ERC2771Context, EIP712 {
    /// @dev One slot per device: its carrier (fixed for life), whether it is retired, how many legs it had.
    struct DeviceRecord {
        address carrier;
        bool retired;
        uint32 legCount;
    }

    /// @dev A leg: slot 0 is what every evidence and anchor call reads with the device; the carrier is the
    /// device's. `lastExcursionEnd` is the latest `toTime` of the leg's counted evidence.
    struct Leg {
        address device;
        uint40 attachedAt;
        uint40 detachedAt;
        bool breached;
        bytes32 batchId;
        uint32 excursionSeconds;
        uint40 lastExcursionEnd;
    }

    /// @dev `Conditions` flattened into one slot with its flags (a nested struct would take a slot of its own).
    struct StoredConditions {
        int16 minTemperature;
        int16 maxTemperature;
        uint16 minHumidity;
        uint16 maxHumidity;
        uint32 allowedExcursionSeconds;
        bool isSet;
        bool frozen;
    }

    /// @dev Where an anchoring account's next anchor of a leg may start (one cursor per account, so a carrier
    /// anchoring nonsense cannot block the backend's anchorer).
    struct AnchorCursor {
        uint64 nextSequence;
        uint40 anchoredUntil;
    }

    /// @notice Accounts (the backend) allowed to anchor readings of any leg.
    bytes32 public constant ANCHORER_ROLE = keccak256("ANCHORER_ROLE");
    /// @notice EIP-712 type of a device's reading.
    bytes32 public constant READING_TYPEHASH = keccak256(
        "Reading(address device,bytes32 batchId,uint64 sequence,uint40 timestamp,int16 temperature,uint16 humidity,"
        "int32 latitude,int32 longitude)"
    );
    /// @notice Humidity in centi-percent of a saturated atmosphere; higher values are no reading.
    uint16 public constant MAX_HUMIDITY = 10_000;

    bytes32 private constant _CARRIER_ROLE = keccak256("CARRIER_ROLE");
    bytes32 private constant _MANUFACTURER_ROLE = keccak256("MANUFACTURER_ROLE");

    IProvenanceRegistry private immutable _registry;

    mapping(address device => DeviceRecord) private _devices;
    mapping(address device => bytes32 legId) private _currentLegs;
    mapping(bytes32 legId => Leg) private _legs;
    mapping(bytes32 batchId => StoredConditions) private _batchConditions;
    mapping(uint64 gtin => StoredConditions) private _productConditions;
    /// @dev Bit `sequence % 256` of word `sequence / 256`: the interval from `sequence` to `sequence + 1` counted.
    mapping(bytes32 legId => mapping(uint256 word => uint256 bits)) private _countedIntervals;
    mapping(bytes32 legId => mapping(address anchoredBy => AnchorCursor)) private _anchorCursors;
    /// @dev The latest end of counted evidence on a breached leg of the carrier on the batch (0: never breached).
    mapping(bytes32 batchId => mapping(address carrier => uint40 breachEnd)) private _breachEnds;

    /// @notice Deploys the cold chain over `registry_`.
    /// @param registry_ The provenance registry (participants, custody, manufacturers, company prefixes).
    /// @param trustedForwarder The ProvenaForwarder that may relay signed calls.
    /// @param initialAdmin The admin (may register devices for carriers, retire devices, grant ANCHORER_ROLE).
    /// @param adminTransferDelay Seconds a scheduled admin transfer must wait before it can be accepted.
    constructor(IProvenanceRegistry registry_, address trustedForwarder, address initialAdmin, uint48 adminTransferDelay)
        AccessControlDefaultAdminRules(adminTransferDelay, initialAdmin)
        ERC2771Context(trustedForwarder)
        EIP712("Provena ColdChain", "1")
    {
        _registry = registry_;
    }

    // ------------------------------------------------------------------ devices

    /// @inheritdoc IColdChain
    function registerDevice(address device_, address carrier) external {
        if (device_ == address(0)) revert DeviceZeroAddress();
        address caller = _msgSender();
        if (caller != carrier && !hasRole(DEFAULT_ADMIN_ROLE, caller)) revert DeviceUnauthorized(device_, caller);
        if (!_registry.isActiveParticipant(carrier, _CARRIER_ROLE)) revert DeviceCarrierInactive(device_, carrier);
        address registeredCarrier = _devices[device_].carrier;
        if (registeredCarrier != address(0)) revert DeviceAlreadyRegistered(device_, registeredCarrier);
        _devices[device_] = DeviceRecord({carrier: carrier, retired: false, legCount: 0});
        emit DeviceRegistered(device_, carrier);
    }

    /// @inheritdoc IColdChain
    /// @dev A suspended carrier may still retire its devices: retiring only takes power away.
    function retireDevice(address device_) external {
        DeviceRecord memory record = _registeredDevice(device_);
        if (record.retired) revert DeviceRetiredAlready(device_);
        address caller = _msgSender();
        if (caller != record.carrier && !hasRole(DEFAULT_ADMIN_ROLE, caller)) revert DeviceUnauthorized(device_, caller);
        bytes32 legId = _currentLegs[device_];
        if (legId != bytes32(0)) _endLeg(device_, record.carrier, legId);
        _devices[device_].retired = true;
        emit DeviceRetired(device_, record.carrier);
    }

    /// @inheritdoc IColdChain
    function attachDevice(address device_, bytes32 batchId) external returns (bytes32 legId) {
        DeviceRecord memory record = _registeredDevice(device_);
        address carrier = _msgSender();
        if (carrier != record.carrier) revert DeviceUnauthorized(device_, carrier);
        if (record.retired) revert DeviceRetiredAlready(device_);
        if (!_registry.isActiveParticipant(carrier, _CARRIER_ROLE)) revert DeviceCarrierInactive(device_, carrier);
        bytes32 currentLeg = _currentLegs[device_];
        if (currentLeg != bytes32(0)) revert DeviceAlreadyAttached(device_, currentLeg);
        (, address custodian,,,,,,) = _registry.batch(batchId);
        if (custodian != carrier) revert DeviceNotCustodian(batchId, carrier);

        _freezeConditions(batchId);
        uint32 legCount = record.legCount + 1;
        _devices[device_].legCount = legCount;
        legId = keccak256(abi.encode(block.chainid, address(this), device_, legCount));
        uint40 attachedAt = uint40(block.timestamp);
        _legs[legId] = Leg({
            device: device_,
            attachedAt: attachedAt,
            detachedAt: 0,
            breached: false,
            batchId: batchId,
            excursionSeconds: 0,
            lastExcursionEnd: 0
        });
        _currentLegs[device_] = legId;
        emit DeviceAttached(legId, device_, batchId, carrier, attachedAt);
    }

    /// @inheritdoc IColdChain
    /// @dev When the carrier no longer holds the batch, the leg ends when the current custodian took it (not
    /// later than now), so readings after the handoff never count against the carrier, however late the detach.
    function detachDevice(address device_) external {
        DeviceRecord memory record = _registeredDevice(device_);
        bytes32 legId = _currentLegs[device_];
        if (legId == bytes32(0)) revert DeviceNotAttached(device_);
        _endLeg(device_, record.carrier, legId);
    }

    // ------------------------------------------------------------------ conditions

    /// @inheritdoc IColdChain
    /// @dev Applies to batches whose first leg has not started yet; frozen batches keep what they had.
    function setProductConditions(uint64 gtin, Conditions calldata conditions) external {
        address caller = _msgSender();
        (address holder,,) = _registry.companyPrefixOf(gtin);
        if (holder == address(0) || caller != holder || !_registry.isActiveParticipant(caller, _MANUFACTURER_ROLE)) {
            revert ProductConditionsUnauthorized(gtin, caller);
        }
        _productConditions[gtin] = _stored(conditions);
        emit ProductConditionsSet(gtin, caller, conditions);
    }

    /// @inheritdoc IColdChain
    function setBatchConditions(bytes32 batchId, Conditions calldata conditions) external {
        address caller = _msgSender();
        (address manufacturer,,,,,,,) = _registry.batch(batchId);
        if (caller != manufacturer || !_registry.isActiveParticipant(caller, _MANUFACTURER_ROLE)) {
            revert ConditionsUnauthorized(batchId, caller);
        }
        if (_batchConditions[batchId].frozen) revert ConditionsFrozen(batchId);
        _batchConditions[batchId] = _stored(conditions);
        emit BatchConditionsSet(batchId, caller, conditions);
    }

    // ------------------------------------------------------------------ readings and evidence

    /// @inheritdoc IColdChain
    /// @dev Sane means: a non-zero root of 1 to `lastSequence - firstSequence + 1` readings, in the leg's time
    /// (`fromTime <= toTime`), starting after the caller's previous anchor of the leg in both sequence and time.
    function anchorReadings(
        bytes32 legId,
        bytes32 root,
        uint32 count,
        uint64 firstSequence,
        uint64 lastSequence,
        uint40 fromTime,
        uint40 toTime
    ) external {
        Leg storage legRecord = _existingLeg(legId);
        address device_ = legRecord.device;
        address caller = _msgSender();
        address carrier = _devices[device_].carrier;
        if (caller == carrier) {
            if (!_registry.isActiveParticipant(carrier, _CARRIER_ROLE)) revert DeviceCarrierInactive(device_, carrier);
        } else if (!hasRole(ANCHORER_ROLE, caller)) {
            revert AnchorUnauthorized(legId, caller);
        }
        AnchorCursor storage cursor = _anchorCursors[legId][caller];
        if (
            root == bytes32(0) || count == 0 || firstSequence > lastSequence || lastSequence == type(uint64).max
                || count - 1 > lastSequence - firstSequence || fromTime > toTime || fromTime < legRecord.attachedAt
                || toTime > _legEnd(legRecord) || firstSequence < cursor.nextSequence || fromTime < cursor.anchoredUntil
        ) revert AnchorInvalid(legId);
        cursor.nextSequence = lastSequence + 1;
        cursor.anchoredUntil = toTime;
        emit ReadingsAnchored(legId, root, caller, count, firstSequence, lastSequence, fromTime, toTime);
    }

    /// @inheritdoc IColdChain
    /// @dev Each reading must be the leg's device's, on the leg's batch, the next sequence after the previous
    /// reading and no earlier than it, within the leg's time, outside the batch's frozen conditions, and signed
    /// by the device (65-byte ECDSA, low-s only). The run's intervals must not have been counted before.
    function submitExcursion(bytes32 legId, Reading[] calldata readings, bytes[] calldata signatures) external {
        uint256 length = readings.length;
        if (length == 0) revert EvidenceEmpty();
        if (length != signatures.length) revert EvidenceLengthMismatch(length, signatures.length);
        if (length == 1) revert EvidenceTooShort();
        Leg storage legRecord = _existingLeg(legId);
        bytes32 batchId = legRecord.batchId;
        address carrier = _devices[legRecord.device].carrier;
        if (!_registry.isActiveParticipant(carrier, _CARRIER_ROLE)) {
            revert DeviceCarrierInactive(legRecord.device, carrier);
        }
        StoredConditions memory conditions = _batchConditions[batchId];
        if (!conditions.isSet) revert NoConditions(batchId);

        _verifyRun(legId, legRecord, conditions, readings, signatures);
        _countIntervals(legId, readings[0].sequence, readings[length - 1].sequence);
        _recordExcursion(legId, legRecord, carrier, conditions.allowedExcursionSeconds, readings[0], readings[length - 1]);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IColdChain
    function device(address device_) external view returns (address carrier, bool retired, bytes32 currentLeg) {
        DeviceRecord memory record = _devices[device_];
        return (record.carrier, record.retired, _currentLegs[device_]);
    }

    /// @inheritdoc IColdChain
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
        )
    {
        Leg memory record = _legs[legId];
        if (record.device == address(0)) revert LegUnknown(legId);
        return (
            record.device,
            record.batchId,
            _devices[record.device].carrier,
            record.attachedAt,
            record.detachedAt,
            record.excursionSeconds,
            record.breached
        );
    }

    /// @inheritdoc IColdChain
    function conditionsOf(bytes32 batchId) external view returns (Conditions memory conditions, bool isSet, bool frozen) {
        StoredConditions memory stored = _batchConditions[batchId];
        if (!stored.isSet && !stored.frozen) stored = _productConditions[_registry.gtinOf(batchId)];
        return (_conditions(stored), stored.isSet, stored.frozen);
    }

    /// @inheritdoc IColdChain
    function breachedSince(bytes32 batchId, address carrier, uint40 since) external view returns (bool) {
        uint40 breachEnd = _breachEnds[batchId][carrier];
        return breachEnd != 0 && breachEnd >= since;
    }

    /// @inheritdoc IColdChain
    function excursionCounted(bytes32 legId, uint64 sequence) external view returns (bool) {
        return (_countedIntervals[legId][sequence >> 8] >> (sequence & 255)) & 1 == 1;
    }

    /// @inheritdoc IColdChain
    function anchorCursor(bytes32 legId, address anchoredBy) external view returns (uint64 nextSequence, uint40 anchoredUntil) {
        AnchorCursor memory cursor = _anchorCursors[legId][anchoredBy];
        return (cursor.nextSequence, cursor.anchoredUntil);
    }

    /// @inheritdoc IColdChain
    function hashReading(Reading calldata reading) external pure returns (bytes32) {
        return _hashReading(reading);
    }

    /// @inheritdoc IColdChain
    function readingDigest(Reading calldata reading) external view returns (bytes32) {
        return _hashTypedDataV4(_hashReading(reading));
    }

    /// @notice The provenance registry this cold chain reads.
    function registry() external view returns (IProvenanceRegistry) {
        return _registry;
    }

    /// @notice ERC-165: IColdChain and AccessControl's interfaces.
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(IColdChain).interfaceId || super.supportsInterface(interfaceId);
    }

    // ------------------------------------------------------------------ internal

    function _registeredDevice(address device_) private view returns (DeviceRecord memory record) {
        record = _devices[device_];
        if (record.carrier == address(0)) revert DeviceUnknown(device_);
    }

    function _existingLeg(bytes32 legId) private view returns (Leg storage legRecord) {
        legRecord = _legs[legId];
        if (legRecord.device == address(0)) revert LegUnknown(legId);
    }

    /// @dev The leg's last second that readings may carry: its detach time, or now while it is open.
    function _legEnd(Leg storage legRecord) private view returns (uint256) {
        uint256 detachedAt = legRecord.detachedAt;
        return detachedAt == 0 ? block.timestamp : detachedAt;
    }

    /// @dev Ends `device_`'s leg `legId`: by `carrier` while it holds the batch, by anyone once it does not (then
    /// the leg ends when the current custodian took the batch, never before the leg began nor after now).
    function _endLeg(address device_, address carrier, bytes32 legId) private {
        Leg storage legRecord = _legs[legId];
        bytes32 batchId = legRecord.batchId;
        (, address custodian,,,,, uint40 custodySince,) = _registry.batch(batchId);
        uint40 detachedAt = uint40(block.timestamp);
        if (custodian != carrier) {
            detachedAt = uint40(Math.min(detachedAt, Math.max(custodySince, legRecord.attachedAt)));
        } else {
            address caller = _msgSender();
            if (caller != carrier && !hasRole(DEFAULT_ADMIN_ROLE, caller)) revert DeviceUnauthorized(device_, caller);
        }
        legRecord.detachedAt = detachedAt;
        delete _currentLegs[device_];
        emit DeviceDetached(legId, device_, batchId, detachedAt);
    }

    /// @dev Freezes the conditions in force for a batch when its first leg starts (possibly none: a batch
    /// without conditions at its first leg stays without, so no one can set them after the goods moved).
    function _freezeConditions(bytes32 batchId) private {
        StoredConditions memory stored = _batchConditions[batchId];
        if (stored.frozen) return;
        if (!stored.isSet) stored = _productConditions[_registry.gtinOf(batchId)];
        stored.frozen = true;
        _batchConditions[batchId] = stored;
        if (stored.isSet) emit ConditionsFrozenFor(batchId, _conditions(stored));
    }

    /// @dev Checks a run of evidence reading by reading (see `submitExcursion`).
    function _verifyRun(
        bytes32 legId,
        Leg storage legRecord,
        StoredConditions memory conditions,
        Reading[] calldata readings,
        bytes[] calldata signatures
    ) private view {
        Leg memory run = legRecord;
        run.detachedAt = uint40(_legEnd(legRecord));
        uint256 firstSequence = readings[0].sequence;
        uint256 previousTimestamp = readings[0].timestamp;
        for (uint256 i; i < readings.length; ++i) {
            Reading calldata reading = readings[i];
            if (reading.device != run.device || reading.batchId != run.batchId) revert EvidenceNotOneLeg(legId, i);
            uint256 timestamp = reading.timestamp;
            if (reading.sequence != firstSequence + i || timestamp < previousTimestamp) revert EvidenceNotConsecutive(i);
            if (timestamp < run.attachedAt || timestamp > run.detachedAt) revert EvidenceOutsideLeg(legId, i);
            if (!_outOfRange(reading, conditions)) revert EvidenceInRange(i);
            if (!_signedBy(reading, signatures[i], run.device)) revert EvidenceBadSignature(i);
            previousTimestamp = timestamp;
        }
    }

    /// @dev Adds a verified run to its leg's excursion; establishes the breach once it exceeds `allowedSeconds`,
    /// and on a breached leg keeps the latest end of its evidence for `breachedSince`.
    function _recordExcursion(
        bytes32 legId,
        Leg storage legRecord,
        address carrier,
        uint32 allowedSeconds,
        Reading calldata first,
        Reading calldata last
    ) private {
        uint40 toTime = last.timestamp;
        uint32 cumulativeSeconds = SafeCast.toUint32(uint256(legRecord.excursionSeconds) + (toTime - first.timestamp));
        uint40 lastExcursionEnd = toTime > legRecord.lastExcursionEnd ? toTime : legRecord.lastExcursionEnd;
        legRecord.excursionSeconds = cumulativeSeconds;
        legRecord.lastExcursionEnd = lastExcursionEnd;
        emit ExcursionRecorded(legId, first.sequence, last.sequence, first.timestamp, toTime, cumulativeSeconds);
        bytes32 batchId = legRecord.batchId;
        bool breached = legRecord.breached;
        if (!breached && cumulativeSeconds > allowedSeconds) {
            breached = true;
            legRecord.breached = true;
            emit BreachEstablished(batchId, legId, carrier, toTime, cumulativeSeconds);
        }
        if (breached && lastExcursionEnd > _breachEnds[batchId][carrier]) _breachEnds[batchId][carrier] = lastExcursionEnd;
    }

    /// @dev Whether `signature` is `device_`'s 65-byte, low-s ECDSA signature of the reading's EIP-712 digest.
    function _signedBy(Reading calldata reading, bytes calldata signature, address device_) private view returns (bool) {
        (address signer, ECDSA.RecoverError error,) =
            ECDSA.tryRecoverCalldata(_hashTypedDataV4(_hashReading(reading)), signature);
        return error == ECDSA.RecoverError.NoError && signer == device_;
    }

    /// @dev Marks the intervals `firstSequence → … → lastSequence` of a leg counted; reverts when any already was.
    function _countIntervals(bytes32 legId, uint256 firstSequence, uint256 lastSequence) private {
        mapping(uint256 word => uint256 bits) storage counted = _countedIntervals[legId];
        uint256 next = firstSequence;
        while (next < lastSequence) {
            uint256 word = next >> 8;
            uint256 stop = Math.min(lastSequence, (word + 1) << 8);
            uint256 width = stop - next;
            uint256 mask = (width == 256 ? type(uint256).max : (uint256(1) << width) - 1) << (next & 255);
            uint256 bits = counted[word];
            uint256 overlap = bits & mask;
            if (overlap != 0) {
                unchecked {
                    revert EvidenceAlreadyCounted(legId, uint64((word << 8) + Math.log2(overlap & (0 - overlap))));
                }
            }
            counted[word] = bits | mask;
            next = stop;
        }
    }

    /// @dev Whether a reading lies outside the conditions (humidity only when the reading has one).
    function _outOfRange(Reading calldata reading, StoredConditions memory conditions) private pure returns (bool) {
        int16 temperature = reading.temperature;
        uint16 humidity = reading.humidity;
        return temperature < conditions.minTemperature || temperature > conditions.maxTemperature
            || (humidity <= MAX_HUMIDITY && (humidity < conditions.minHumidity || humidity > conditions.maxHumidity));
    }

    /// @dev `keccak256(abi.encode(READING_TYPEHASH, reading))` without allocating memory per reading: the struct is
    /// all static, so its calldata is its EIP-712 encoding. Dirty high bits in a field would hash to a value no
    /// device signed (and fields the contract checks are validated on access), so no check is lost.
    function _hashReading(Reading calldata reading) private pure returns (bytes32 structHash) {
        bytes32 typehash = READING_TYPEHASH;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let scratch := mload(0x40)
            mstore(scratch, typehash)
            calldatacopy(add(scratch, 0x20), reading, 0x100)
            structHash := keccak256(scratch, 0x120)
        }
    }

    /// @dev Validates `conditions` and packs them with their flags.
    function _stored(Conditions calldata conditions) private pure returns (StoredConditions memory) {
        if (
            conditions.minTemperature >= conditions.maxTemperature || conditions.minHumidity > conditions.maxHumidity
                || conditions.maxHumidity > MAX_HUMIDITY
        ) revert ConditionsInvalid();
        return StoredConditions({
            minTemperature: conditions.minTemperature,
            maxTemperature: conditions.maxTemperature,
            minHumidity: conditions.minHumidity,
            maxHumidity: conditions.maxHumidity,
            allowedExcursionSeconds: conditions.allowedExcursionSeconds,
            isSet: true,
            frozen: false
        });
    }

    function _conditions(StoredConditions memory stored) private pure returns (Conditions memory) {
        return Conditions({
            minTemperature: stored.minTemperature,
            maxTemperature: stored.maxTemperature,
            minHumidity: stored.minHumidity,
            maxHumidity: stored.maxHumidity,
            allowedExcursionSeconds: stored.allowedExcursionSeconds
        });
    }

    // ERC-2771: the signer of a relayed call, not the forwarder, is the caller everywhere.

    function _msgSender() internal view override(Context, ERC2771Context) returns (address) {
        return ERC2771Context._msgSender();
    }

    function _msgData() internal view override(Context, ERC2771Context) returns (bytes calldata) {
        return ERC2771Context._msgData();
    }

    function _contextSuffixLength() internal view override(Context, ERC2771Context) returns (uint256) {
        return ERC2771Context._contextSuffixLength();
    }
}
