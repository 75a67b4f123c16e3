// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title Consortium membership for Provena
/// @notice The consortium admin onboards, updates, suspends and reinstates participants. Roles are
/// OpenZeppelin AccessControl roles (RoleGranted / RoleRevoked are mirrored by the indexer too).
/// A suspended participant keeps its roles but can do nothing until reinstated.
/// GS1 mapping: `gln` is the participant's 13-digit Global Location Number (party GLN).
/// GS1 Company Prefixes: as GS1 licenses a company prefix to a company, the admin grants it to that
/// manufacturer; a GTIN belongs to the holder of the longest granted prefix that begins its GTIN-13 (the
/// GTIN-14 without its indicator digit), and only that holder may register batches of it. A grant stores the
/// prefix with its length (4 to 12 digits), so prefixes with leading zeros are exact.
interface IParticipantRegistry {
    /// @notice Reverts when `account` is already onboarded.
    error ParticipantAlreadyOnboarded(address account);
    /// @notice Reverts when `account` was never onboarded.
    error ParticipantUnknown(address account);
    /// @notice Reverts when `account` is suspended.
    error ParticipantIsSuspended(address account);
    /// @notice Reverts when `account` is not suspended (on reinstate).
    error ParticipantNotSuspended(address account);
    /// @notice Reverts when `account` lacks `role` (or is not onboarded) for the attempted action; a suspended
    /// participant that holds the role gets ParticipantIsSuspended instead.
    error ParticipantUnauthorized(address account, bytes32 role);
    /// @notice Reverts when a GLN is zero or longer than 13 digits.
    error ParticipantInvalidGln(uint64 gln);
    /// @notice Reverts when a role is not one of the five participant roles.
    error ParticipantInvalidRole(bytes32 role);
    /// @notice Reverts when the address is the zero address.
    error ParticipantZeroAddress();
    /// @notice Reverts when a company prefix length is outside 4..12 digits or the prefix has more digits than it.
    error CompanyPrefixInvalid(uint64 prefix, uint8 length);
    /// @notice Reverts when the company prefix is already granted (revoke it first to hand it to another holder).
    error CompanyPrefixAlreadyGranted(uint64 prefix, uint8 length, address holder);
    /// @notice Reverts when the prefix lies within a shorter prefix granted to another manufacturer (`holder`):
    /// GS1 prefixes never nest, so such a grant would take GTINs from that holder.
    error CompanyPrefixWithinAnother(uint64 prefix, uint8 length, address holder);
    /// @notice Reverts when revoking a company prefix that is not granted.
    error CompanyPrefixNotGranted(uint64 prefix, uint8 length);

    /// @notice Emitted when the admin onboards `account` as participant number `participantId`.
    /// `name` lives only in this event (no strings in storage); `role` is granted in the same call.
    event ParticipantOnboarded(address indexed account, uint32 indexed participantId, bytes32 indexed role, uint64 gln, string name);
    /// @notice Emitted when the admin changes a participant's GLN or display name.
    event ParticipantUpdated(address indexed account, uint64 gln, string name);
    /// @notice Emitted when the admin suspends a participant; `reasonHash` points to the off-chain reason.
    event ParticipantSuspended(address indexed account, bytes32 reasonHash);
    /// @notice Emitted when the admin lifts a suspension.
    event ParticipantReinstated(address indexed account);
    /// @notice Emitted when the admin grants the GS1 company prefix `prefix` (`length` digits) to `manufacturer`.
    event CompanyPrefixGranted(address indexed manufacturer, uint64 indexed prefix, uint8 length);
    /// @notice Emitted when the admin revokes the company prefix from `manufacturer`; batches registered
    /// under it stay theirs, new registrations under it are refused.
    event CompanyPrefixRevoked(address indexed manufacturer, uint64 indexed prefix, uint8 length);

    /// @notice Onboards `account` with one initial `role`; more roles via AccessControl.grantRole.
    function onboardParticipant(address account, bytes32 role, uint64 gln, string calldata name) external returns (uint32 participantId);

    /// @notice Changes the GLN and display name of an onboarded participant.
    function updateParticipant(address account, uint64 gln, string calldata name) external;

    /// @notice Suspends an onboarded participant: every action of theirs reverts until reinstated.
    function suspendParticipant(address account, bytes32 reasonHash) external;

    /// @notice Lifts the suspension of `account`.
    function reinstateParticipant(address account) external;

    /// @notice The admin grants the GS1 company prefix `prefix` of `length` digits (4..12, leading zeros
    /// counted) to `manufacturer`, an onboarded participant holding MANUFACTURER_ROLE; refused when a shorter
    /// granted prefix of another manufacturer encloses it.
    function grantCompanyPrefix(address manufacturer, uint64 prefix, uint8 length) external;

    /// @notice The admin revokes a granted company prefix (as when its GS1 licence lapses).
    function revokeCompanyPrefix(uint64 prefix, uint8 length) external;

    /// @notice The holder of exactly this company prefix (address(0) when not granted).
    function companyPrefixHolder(uint64 prefix, uint8 length) external view returns (address holder);

    /// @notice Who may register batches of `gtin`: the holder of the longest granted company prefix that begins
    /// its GTIN-13, with that prefix (all zero when no granted prefix matches).
    function companyPrefixOf(uint64 gtin) external view returns (address holder, uint64 prefix, uint8 prefixLength);

    /// @notice The participant record of `account` (participantId 0 means not onboarded).
    function participant(address account) external view returns (uint32 participantId, uint64 gln, bool suspended);

    /// @notice True when `account` is onboarded, not suspended and holds `role`.
    function isActiveParticipant(address account, bytes32 role) external view returns (bool);
}
