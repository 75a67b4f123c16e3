// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title Hook the provenance registry calls when custody of a watched batch is accepted
/// @notice The escrow watches the batches it holds money for, so delivery to the buyer is recorded in the
/// same transaction as the acceptance: a buyer cannot take custody and pass the goods on unseen.
interface ICustodyObserver {
    /// @notice Called by the registry from `acceptHandoff` for a watched batch, after custody moved to `to`.
    function onCustodyAccepted(bytes32 batchId, address from, address to) external;
}
