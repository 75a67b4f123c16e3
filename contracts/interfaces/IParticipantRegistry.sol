// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title Consortium membership for Provena
/// @notice The consortium admin onboards, updates, suspends and reinstates participants. Roles are
/// OpenZeppelin AccessControl roles (RoleGranted / RoleRevoked are mirrored by the indexer too).
/// A suspended participant keeps its roles but can do nothing until reinstated.
/// GS1 mapping: `gln` is the participant's 13-digit Global Location Number (party GLN).
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

    /// @notice Emitted when the admin onboards `account` as participant number `participantId`.
    /// `name` lives only in this event (no strings in storage); `role` is granted in the same call.
    event ParticipantOnboarded(address indexed account, uint32 indexed participantId, bytes32 indexed role, uint64 gln, string name);
    /// @notice Emitted when the admin changes a participant's GLN or display name.
    event ParticipantUpdated(address indexed account, uint64 gln, string name);
    /// @notice Emitted when the admin suspends a participant; `reasonHash` points to the off-chain reason.
    event ParticipantSuspended(address indexed account, bytes32 reasonHash);
    /// @notice Emitted when the admin lifts a suspension.
    event ParticipantReinstated(address indexed account);

    /// @notice Onboards `account` with one initial `role`; more roles via AccessControl.grantRole.
    function onboardParticipant(address account, bytes32 role, uint64 gln, string calldata name) external returns (uint32 participantId);

    /// @notice Changes the GLN and display name of an onboarded participant.
    function updateParticipant(address account, uint64 gln, string calldata name) external;

    /// @notice Suspends an onboarded participant: every action of theirs reverts until reinstated.
    function suspendParticipant(address account, bytes32 reasonHash) external;

    /// @notice Lifts the suspension of `account`.
    function reinstateParticipant(address account) external;

    /// @notice The participant record of `account` (participantId 0 means not onboarded).
    function participant(address account) external view returns (uint32 participantId, uint64 gln, bool suspended);

    /// @notice True when `account` is onboarded, not suspended and holds `role`.
    function isActiveParticipant(address account, bytes32 role) external view returns (bool);
}
