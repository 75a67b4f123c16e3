// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {Context} from "@openzeppelin/contracts/utils/Context.sol";
import {IParticipantRegistry} from "./interfaces/IParticipantRegistry.sol";
import {GS1} from "./libraries/GS1.sol";

/// @title Consortium membership: participants, their roles and suspensions
/// @notice The consortium admin (AccessControl's DEFAULT_ADMIN_ROLE, handed over only through
/// AccessControlDefaultAdminRules' two-step, delayed transfer) onboards participants with one of five
/// roles, updates their GLN and name, and suspends or reinstates them. Further roles are granted with
/// AccessControl's grantRole. Every call honours ERC-2771: a trusted forwarder may relay it for a signer.
/// @dev Each participant gets a uint32 id at onboarding so batches can pack custodians into one storage slot.
abstract contract ParticipantRegistry is IParticipantRegistry, AccessControlDefaultAdminRules, ERC2771Context {
    /// @notice Makes and registers batches.
    bytes32 public constant MANUFACTURER_ROLE = keccak256("MANUFACTURER_ROLE");
    /// @notice Moves goods between parties.
    bytes32 public constant CARRIER_ROLE = keccak256("CARRIER_ROLE");
    /// @notice Attests the quality of batches.
    bytes32 public constant INSPECTOR_ROLE = keccak256("INSPECTOR_ROLE");
    /// @notice Sells to consumers; usually the buyer in escrowed trade.
    bytes32 public constant RETAILER_ROLE = keccak256("RETAILER_ROLE");
    /// @notice Authorities such as customs or food safety agencies; may recall any batch.
    bytes32 public constant REGULATOR_ROLE = keccak256("REGULATOR_ROLE");

    /// @dev One storage slot per participant: everything a batch action checks about its caller.
    struct Participant {
        uint32 id;
        uint64 gln;
        bool suspended;
    }

    /// @dev Shortest and longest GS1 company prefix (digits of the GTIN-13).
    uint8 private constant _MIN_PREFIX_LENGTH = 4;
    uint8 private constant _MAX_PREFIX_LENGTH = 12;

    mapping(address account => Participant) private _participants;
    mapping(uint32 participantId => address account) private _accounts;
    /// @dev Keyed by `length << 64 | prefix`: the holder's participant id (0 when not granted).
    mapping(uint256 prefixKey => uint32 participantId) private _companyPrefixHolders;
    uint32 private _participantCount;
    /// @dev Bit `length` is set once a prefix of that length was granted (never cleared: a stale bit costs a
    /// registration one extra read, no more), so a registration reads only lengths that can match.
    uint16 private _grantedPrefixLengths;

    /// @notice Sets the consortium admin (transfers wait `adminTransferDelay`) and the trusted forwarder.
    /// @param trustedForwarder The ERC-2771 forwarder allowed to relay signed calls (the ProvenaForwarder).
    /// @param initialAdmin The consortium admin.
    /// @param adminTransferDelay Seconds a scheduled admin transfer must wait before it can be accepted.
    constructor(address trustedForwarder, address initialAdmin, uint48 adminTransferDelay)
        AccessControlDefaultAdminRules(adminTransferDelay, initialAdmin)
        ERC2771Context(trustedForwarder)
    {}

    /// @inheritdoc IParticipantRegistry
    function onboardParticipant(address account, bytes32 role, uint64 gln, string calldata name)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
        returns (uint32 participantId)
    {
        if (account == address(0)) revert ParticipantZeroAddress();
        if (!_isParticipantRole(role)) revert ParticipantInvalidRole(role);
        if (!GS1.isValidGln(gln)) revert ParticipantInvalidGln(gln);
        if (_participants[account].id != 0) revert ParticipantAlreadyOnboarded(account);

        participantId = ++_participantCount;
        _participants[account] = Participant({id: participantId, gln: gln, suspended: false});
        _accounts[participantId] = account;
        emit ParticipantOnboarded(account, participantId, role, gln, name);
        _grantRole(role, account);
    }

    /// @inheritdoc IParticipantRegistry
    function updateParticipant(address account, uint64 gln, string calldata name)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        Participant storage record = _onboarded(account);
        if (!GS1.isValidGln(gln)) revert ParticipantInvalidGln(gln);
        record.gln = gln;
        emit ParticipantUpdated(account, gln, name);
    }

    /// @inheritdoc IParticipantRegistry
    function suspendParticipant(address account, bytes32 reasonHash) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Participant storage record = _onboarded(account);
        if (record.suspended) revert ParticipantIsSuspended(account);
        record.suspended = true;
        emit ParticipantSuspended(account, reasonHash);
    }

    /// @inheritdoc IParticipantRegistry
    function reinstateParticipant(address account) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Participant storage record = _onboarded(account);
        if (!record.suspended) revert ParticipantNotSuspended(account);
        record.suspended = false;
        emit ParticipantReinstated(account);
    }

    /// @inheritdoc IParticipantRegistry
    function grantCompanyPrefix(address manufacturer, uint64 prefix, uint8 length)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        uint256 key = _prefixKey(prefix, length);
        uint32 holderId = _companyPrefixHolders[key];
        if (holderId != 0) revert CompanyPrefixAlreadyGranted(prefix, length, _accounts[holderId]);
        uint32 manufacturerId = _participants[manufacturer].id;
        if (manufacturerId == 0) revert ParticipantUnknown(manufacturer);
        if (!hasRole(MANUFACTURER_ROLE, manufacturer)) revert ParticipantUnauthorized(manufacturer, MANUFACTURER_ROLE);
        uint256 enclosing = prefix;
        for (uint256 digits = length - 1; digits >= _MIN_PREFIX_LENGTH; --digits) {
            enclosing /= 10;
            uint32 enclosingId = _companyPrefixHolders[(digits << 64) | enclosing];
            if (enclosingId != 0 && enclosingId != manufacturerId) {
                revert CompanyPrefixWithinAnother(prefix, length, _accounts[enclosingId]);
            }
        }
        _companyPrefixHolders[key] = manufacturerId;
        _grantedPrefixLengths |= uint16(1) << length;
        emit CompanyPrefixGranted(manufacturer, prefix, length);
    }

    /// @inheritdoc IParticipantRegistry
    function revokeCompanyPrefix(uint64 prefix, uint8 length) external onlyRole(DEFAULT_ADMIN_ROLE) {
        uint256 key = _prefixKey(prefix, length);
        uint32 holderId = _companyPrefixHolders[key];
        if (holderId == 0) revert CompanyPrefixNotGranted(prefix, length);
        delete _companyPrefixHolders[key];
        emit CompanyPrefixRevoked(_accounts[holderId], prefix, length);
    }

    /// @inheritdoc IParticipantRegistry
    function companyPrefixHolder(uint64 prefix, uint8 length) external view returns (address holder) {
        return _accounts[_companyPrefixHolders[_prefixKey(prefix, length)]];
    }

    /// @inheritdoc IParticipantRegistry
    function companyPrefixOf(uint64 gtin) external view returns (address holder, uint64 prefix, uint8 prefixLength) {
        uint32 holderId;
        (holderId, prefix, prefixLength) = _companyPrefixMatch(gtin);
        if (holderId != 0) holder = _accounts[holderId];
    }

    /// @inheritdoc IParticipantRegistry
    function participant(address account) external view returns (uint32 participantId, uint64 gln, bool suspended) {
        Participant memory record = _participants[account];
        return (record.id, record.gln, record.suspended);
    }

    /// @inheritdoc IParticipantRegistry
    function isActiveParticipant(address account, bytes32 role) external view returns (bool) {
        Participant memory record = _participants[account];
        return record.id != 0 && !record.suspended && hasRole(role, account);
    }

    /// @notice The account onboarded as participant number `participantId` (address(0) if none).
    function participantAccount(uint32 participantId) external view returns (address) {
        return _accounts[participantId];
    }

    /// @notice How many participants were onboarded; ids run from 1 to this number.
    function participantCount() external view returns (uint32) {
        return _participantCount;
    }

    /// @dev The participant record of `account`, zeroed when it was never onboarded.
    function _participant(address account) internal view returns (Participant memory) {
        return _participants[account];
    }

    /// @dev The account of participant `participantId`.
    function _account(uint32 participantId) internal view returns (address) {
        return _accounts[participantId];
    }

    /// @dev The id of `account` when it is onboarded, not suspended and holds `role`; reverts otherwise.
    function _requireActiveRole(address account, bytes32 role) internal view returns (uint32) {
        Participant memory record = _participants[account];
        if (record.id == 0 || !hasRole(role, account)) revert ParticipantUnauthorized(account, role);
        if (record.suspended) revert ParticipantIsSuspended(account);
        return record.id;
    }

    /// @dev The participant id holding the longest granted company prefix of `gtin`'s GTIN-13, with that
    /// prefix; all zero when none matches. Reads one slot, then one per granted length from the longest down.
    function _companyPrefixMatch(uint64 gtin) internal view returns (uint32 holderId, uint64 prefix, uint8 length) {
        uint256 lengths = _grantedPrefixLengths;
        if (lengths == 0) return (0, 0, 0);
        uint256 gtin13 = gtin % 1e13;
        uint256 divisor = 10; // 10 ** (13 - length), starting at length 12
        for (uint256 digits = _MAX_PREFIX_LENGTH; digits >= _MIN_PREFIX_LENGTH; --digits) {
            if ((lengths >> digits) & 1 != 0) {
                uint256 candidate = gtin13 / divisor;
                holderId = _companyPrefixHolders[(digits << 64) | candidate];
                if (holderId != 0) return (holderId, uint64(candidate), uint8(digits));
            }
            divisor *= 10;
        }
        return (0, 0, 0);
    }

    /// @dev The storage key of a company prefix; reverts unless it is 4..12 digits long and fits its length.
    function _prefixKey(uint64 prefix, uint8 length) private pure returns (uint256) {
        if (length < _MIN_PREFIX_LENGTH || length > _MAX_PREFIX_LENGTH || prefix >= 10 ** uint256(length)) {
            revert CompanyPrefixInvalid(prefix, length);
        }
        return (uint256(length) << 64) | prefix;
    }

    /// @dev True for the five participant roles.
    function _isParticipantRole(bytes32 role) internal pure returns (bool) {
        return role == MANUFACTURER_ROLE || role == CARRIER_ROLE || role == INSPECTOR_ROLE || role == RETAILER_ROLE
            || role == REGULATOR_ROLE;
    }

    function _onboarded(address account) private view returns (Participant storage record) {
        record = _participants[account];
        if (record.id == 0) revert ParticipantUnknown(account);
    }

    // ERC-2771: the signer of a relayed call, not the forwarder, is the caller everywhere.

    function _msgSender() internal view virtual override(Context, ERC2771Context) returns (address) {
        return ERC2771Context._msgSender();
    }

    function _msgData() internal view virtual override(Context, ERC2771Context) returns (bytes calldata) {
        return ERC2771Context._msgData();
    }

    function _contextSuffixLength() internal view virtual override(Context, ERC2771Context) returns (uint256) {
        return ERC2771Context._contextSuffixLength();
    }
}
