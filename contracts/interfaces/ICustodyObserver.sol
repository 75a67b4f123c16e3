// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title Hooks the provenance registry calls when custody of a watched batch is accepted or it is attested
/// @notice The escrow watches the batches it holds money for, so delivery to the buyer is recorded in the
/// same transaction as the acceptance (a buyer cannot take custody and pass the goods on unseen), and an
/// order's named inspector's result is recorded as it is attested.
interface ICustodyObserver {
    /// @notice Called by the registry from `acceptHandoff` for a watched batch, after custody moved to `to`.
    function onCustodyAccepted(bytes32 batchId, address from, address to) external;

    /// @notice Called by the registry from `attestQuality` for a watched batch, after `inspector` attested it.
    function onQualityAttested(bytes32 batchId, address inspector, bool passed) external;
}
