// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {IBatchWatchStatus} from "./interfaces/IBatchWatchStatus.sol";
import {IParticipantRegistry} from "./interfaces/IParticipantRegistry.sol";
import {IProvenanceRegistry} from "./interfaces/IProvenanceRegistry.sol";
import {ITransformations} from "./interfaces/ITransformations.sol";
import {GS1} from "./libraries/GS1.sol";

/// @title Provena transformations: inputs consumed into new lots, with lineage both ways and recall propagation
/// @notice See ITransformations for the custody model. This contract must be onboarded as a participant of the
/// registry with the REGULATOR role: the registry hands batches only to participants, and lets only a batch's
/// manufacturer or a regulator recall it (this contract's code recalls nothing but outputs of recalled inputs).
/// @dev No admin: every rule reads the registry. Who could abuse what, and why they cannot (each has a test in
/// test/contracts/Transformations.test.ts):
/// - `transform`, consuming someone else's lot: the registry must show the caller as the input's custodian with
///   a handoff to this contract pending, which only the custodian can propose. Consuming a lot an escrow buyer
///   waits for: refused while the custody observer watches it (escrow orders cannot be orphaned). Consuming a
///   recalled lot: the registry refuses to hand it over (its acceptHandoff checks the lineage).
/// - `transform`, claiming an output one did not make, or front-running someone's output id: the caller must be
///   the output's registry manufacturer (so it held the GTIN's company prefix) and custodian, the output must be
///   Registered (never handed off) and not a split child, and each output is produced once: a third party cannot
///   attach inputs to another's lot, and a processor cannot launder a lot already in circulation or a recalled
///   one (Recalled is not Registered). Units of an output verify only against its own registered serial root.
/// - `transform`, dust inputs: a processor may consume a tiny lot to borrow its lineage ("made with organic X");
///   the event records each input's registry quantity so readers see the proportions. No one else's state is
///   touched and a consumed input never moves again, so dust costs only its consumer. Gas is bounded by
///   MAX_INPUTS and MAX_OUTPUTS.
/// - `flagRecalledInput`: permissionless, but it recalls only an output produced from that very input, only when
///   the registry reports the input (or a split ancestor) Recalled, and only once (a second call finds the output
///   Recalled). It cannot recall anything else: this contract's REGULATOR role is used by no other code path.
/// - Registry admin key: suspending this contract as a participant, or revoking its REGULATOR role, stops new
///   transformations and recall propagation until restored; it cannot move anyone's goods or undo a recall. The
///   forwarder cannot speak for this contract (a contract has no ECDSA key), and no code path here proposes a
///   registry handoff, so consumed inputs stay consumed.
/// Known limit: until `flagRecalledInput` runs for an output, its registry status does not show its recalled input
/// and it can still move and sell (the registry only follows split lineage); a keeper (or the recalling regulator)
/// calls it for every output the mirror lists, and a recall desk shows outputs not yet flagged.
contract Transformations is ITransformations, ERC2771Context {
    /// @notice The most inputs one transformation consumes.
    uint256 public constant MAX_INPUTS = 100;
    /// @notice The most outputs one transformation produces.
    uint256 public constant MAX_OUTPUTS = 20;

    IProvenanceRegistry private immutable _registry;
    uint64 private _transformationCount;
    mapping(bytes32 batchId => uint64 transformationId) private _consumedIn;
    mapping(bytes32 batchId => uint64 transformationId) private _producedBy;

    /// @notice Deploys the transformations over `provenanceRegistry`; partners' signed calls arrive through `trustedForwarder`.
    /// @param provenanceRegistry The ProvenanceRegistry whose batches are consumed (it must onboard this contract).
    /// @param trustedForwarder The ProvenaForwarder that may relay signed calls.
    constructor(IProvenanceRegistry provenanceRegistry, address trustedForwarder) ERC2771Context(trustedForwarder) {
        if (address(provenanceRegistry) == address(0)) revert TransformationsRegistryZero();
        _registry = provenanceRegistry;
    }

    /// @inheritdoc ITransformations
    /// @dev Inputs are accepted with BusinessStep.Receiving (the plant receives them into processing); the EPCIS
    /// TransformationEvent is `TransformationRecorded`.
    function transform(bytes32[] calldata inputIds, bytes32[] calldata outputIds, uint64 locationGln, bytes32 documentHash)
        external
        returns (uint64 transformationId)
    {
        address processor = _msgSender();
        uint256 inputCount = inputIds.length;
        uint256 outputCount = outputIds.length;
        if (inputCount == 0 || outputCount == 0 || inputCount > MAX_INPUTS || outputCount > MAX_OUTPUTS) {
            revert TransformationInvalidSize(inputCount, outputCount);
        }
        if (!GS1.isValidGln(locationGln)) revert IParticipantRegistry.ParticipantInvalidGln(locationGln);
        _requireActive(processor);
        transformationId = ++_transformationCount;

        for (uint256 i; i < outputCount; ++i) {
            bytes32 outputId = outputIds[i];
            (address manufacturer, address custodian,, IProvenanceRegistry.BatchStatus status,,,,) = _registry.batch(outputId);
            if (
                manufacturer != processor || custodian != processor || status != IProvenanceRegistry.BatchStatus.Registered
                    || _registry.parentOf(outputId) != bytes32(0)
            ) revert OutputNotFresh(outputId, manufacturer, custodian, uint8(status));
            uint64 earlier = _producedBy[outputId];
            if (earlier != 0) revert OutputAlreadyProduced(outputId, earlier);
            _producedBy[outputId] = transformationId;
        }

        uint64[] memory inputQuantities = new uint64[](inputCount);
        for (uint256 i; i < inputCount; ++i) {
            bytes32 inputId = inputIds[i];
            (, address custodian, address pendingCustodian,,, uint64 quantity,,) = _registry.batch(inputId);
            if (custodian != processor || pendingCustodian != address(this)) {
                revert InputNotOffered(inputId, custodian, pendingCustodian);
            }
            if (IBatchWatchStatus(address(_registry)).isBatchWatched(inputId)) revert InputWatchedByObserver(inputId);
            _registry.acceptHandoff(inputId, locationGln, IProvenanceRegistry.BusinessStep.Receiving);
            _consumedIn[inputId] = transformationId;
            inputQuantities[i] = quantity;
        }

        emit TransformationRecorded(transformationId, processor, locationGln, inputIds, inputQuantities, outputIds, documentHash);
    }

    /// @inheritdoc ITransformations
    /// @dev The registry's BatchRecalled for the output names this contract as `recalledBy` and `inputId` as its
    /// reason hash, so the mirror can tell a propagated recall from a regulator's own.
    function flagRecalledInput(bytes32 outputId, bytes32 inputId) external {
        uint64 transformationId = _producedBy[outputId];
        if (transformationId == 0 || _consumedIn[inputId] != transformationId) revert InputNotOfOutput(outputId, inputId);
        (IProvenanceRegistry.BatchStatus inputStatus,) = _registry.batchStatus(inputId);
        if (inputStatus != IProvenanceRegistry.BatchStatus.Recalled) revert InputNotRecalled(inputId);
        (IProvenanceRegistry.BatchStatus outputStatus,) = _registry.batchStatus(outputId);
        if (outputStatus == IProvenanceRegistry.BatchStatus.Recalled) revert OutputAlreadyRecalled(outputId);

        _registry.recallBatch(outputId, inputId);
        emit RecalledInputFlagged(outputId, inputId, transformationId, _msgSender());
    }

    /// @inheritdoc ITransformations
    function consumedIn(bytes32 batchId) external view returns (uint64 transformationId) {
        return _consumedIn[batchId];
    }

    /// @inheritdoc ITransformations
    function producedBy(bytes32 batchId) external view returns (uint64 transformationId) {
        return _producedBy[batchId];
    }

    /// @inheritdoc ITransformations
    function transformationCount() external view returns (uint64) {
        return _transformationCount;
    }

    /// @notice The provenance registry this contract consumes batches of.
    function registry() external view returns (IProvenanceRegistry) {
        return _registry;
    }

    /// @dev Reverts unless `account` is onboarded in the registry and not suspended.
    function _requireActive(address account) private view {
        (uint32 participantId,, bool suspended) = _registry.participant(account);
        if (participantId == 0 || suspended) revert TransformationParticipantInactive(account);
    }
}
