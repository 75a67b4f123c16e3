// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title Whether the registry's custody observer watches a batch
/// @notice Implemented by ProvenanceRegistry (outside IProvenanceRegistry, whose ERC-165 id stays unchanged);
/// read by contracts that must not take custody of a batch an escrow order waits on.
interface IBatchWatchStatus {
    /// @notice True when the custody observer watches `batchId`.
    function isBatchWatched(bytes32 batchId) external view returns (bool);
}
