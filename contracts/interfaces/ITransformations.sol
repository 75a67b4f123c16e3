// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title Transformations: a processor consumes input lots and produces new lots (EPCIS TransformationEvent)
/// @notice Custody model. Each input's custodian first proposes a registry handoff of the input to this contract;
/// `transform` accepts it, so the input's registry custody ends here for ever: a consumed input never moves again
/// (no function of this contract proposes a handoff). Inputs are consumed whole: to consume part of a lot, split
/// it in the registry first (`splitBatch`) and consume one child; the registry's splits keep quantities and units
/// exact, so this contract never has to track remainders. Each output is a lot its processor registered in the
/// registry as usual (MANUFACTURER role, GTIN company prefix, its own serial root: a unit of an output verifies only
/// against the processor's own registration) and still holds, never handed off, split or recalled.
/// Lineage both ways: `TransformationRecorded` lists inputs and outputs; on chain `consumedIn(input)` and
/// `producedBy(output)` name the transformation (the lists themselves live only in the event: storing them would
/// cost a slot per batch for nothing the contract checks).
/// Recall: the registry only follows split lineage, so an output does not read Recalled when an input is. Anyone
/// may call `flagRecalledInput(output, input)`: it checks the input (or one of its split ancestors) is Recalled in
/// the registry and then recalls the output there (this contract holds the registry's REGULATOR role for exactly
/// that), which reaches the output's split descendants; outputs consumed by a later transformation are flagged in
/// turn, one call per generation.
interface ITransformations {
    /// @notice Reverts when the registry address is zero at deployment.
    error TransformationsRegistryZero();
    /// @notice Reverts when the caller is not an onboarded, unsuspended participant of the registry.
    error TransformationParticipantInactive(address account);
    /// @notice Reverts when a transformation lists no inputs or no outputs, or more than the limits.
    error TransformationInvalidSize(uint256 inputCount, uint256 outputCount);
    /// @notice Reverts when the registry does not show `custodian` as the input's custodian with a handoff pending
    /// to this contract (`custodian`/`pendingCustodian` are the registry's).
    error InputNotOffered(bytes32 inputId, address custodian, address pendingCustodian);
    /// @notice Reverts when the custody observer watches the input (an escrow order is open on it): its buyer must
    /// receive the lot itself, so it cannot be consumed until the order ends.
    error InputWatchedByObserver(bytes32 inputId);
    /// @notice Reverts when the output is not a lot the caller registered and still holds untouched (status
    /// Registered, no split parent), with the registry's view of it.
    error OutputNotFresh(bytes32 outputId, address manufacturer, address custodian, uint8 status);
    /// @notice Reverts when the output was already produced by a transformation.
    error OutputAlreadyProduced(bytes32 outputId, uint64 transformationId);
    /// @notice Reverts when `inputId` was not consumed by the transformation that produced `outputId`.
    error InputNotOfOutput(bytes32 outputId, bytes32 inputId);
    /// @notice Reverts when the registry does not report the input (through its split lineage) as Recalled.
    error InputNotRecalled(bytes32 inputId);
    /// @notice Reverts when the output already reads Recalled in the registry (itself or through an ancestor).
    error OutputAlreadyRecalled(bytes32 outputId);

    /// @notice Emitted once per transformation: `processor` consumed `inputIds` (whole, with the registry
    /// quantities `inputQuantities`) and produced `outputIds` at `locationGln`. `transformationId` counts from 1
    /// (the EPCIS transformationID). `documentHash` commits to the processor's record (recipe, batch sheet).
    event TransformationRecorded(
        uint64 indexed transformationId,
        address indexed processor,
        uint64 indexed locationGln,
        bytes32[] inputIds,
        uint64[] inputQuantities,
        bytes32[] outputIds,
        bytes32 documentHash
    );
    /// @notice Emitted when `outputId` was recalled in the registry because its input `inputId` reads Recalled
    /// there; `flaggedBy` made the (permissionless) call. The registry's BatchRecalled carries `inputId` as reason.
    event RecalledInputFlagged(bytes32 indexed outputId, bytes32 indexed inputId, uint64 indexed transformationId, address flaggedBy);

    /// @notice The caller (active participant, manufacturer and custodian of every output, custodian of every input)
    /// consumes `inputIds` and records that they produced `outputIds`. Each input must have a registry handoff to
    /// this contract pending, proposed by the caller, and must not be watched by the custody observer; each output
    /// must be a lot the caller registered and still holds with status Registered, not split from another lot, and
    /// not produced before. At most MAX_INPUTS inputs and MAX_OUTPUTS outputs.
    /// @return transformationId The new transformation's id.
    function transform(bytes32[] calldata inputIds, bytes32[] calldata outputIds, uint64 locationGln, bytes32 documentHash)
        external
        returns (uint64 transformationId);

    /// @notice Anyone recalls `outputId` in the registry once its input `inputId` reads Recalled there (itself or
    /// through a split ancestor). Reverts when the output already reads Recalled.
    function flagRecalledInput(bytes32 outputId, bytes32 inputId) external;

    /// @notice The transformation that consumed `batchId` (0 when none).
    function consumedIn(bytes32 batchId) external view returns (uint64 transformationId);

    /// @notice The transformation that produced `batchId` (0 when none).
    function producedBy(bytes32 batchId) external view returns (uint64 transformationId);

    /// @notice How many transformations were recorded (the latest id).
    function transformationCount() external view returns (uint64);
}
