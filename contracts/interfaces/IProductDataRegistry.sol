// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title Anchors of Digital Product Passport data: versioned content hashes per product (GTIN) and per batch
/// @notice A manufacturer keeps its product data (names, materials, compliance documents, carbon footprint…) off
/// chain and anchors each version here by the keccak256 hash of its canonical JSON (RFC 8785), so anyone holding
/// a version can prove it is the one the manufacturer published, and when. Product data of a GTIN is published by
/// the holder of the GTIN's GS1 company prefix in the provenance registry; batch data by the batch's manufacturer.
/// Both must be active (onboarded, not suspended) manufacturers. Each publication gets the next version number
/// (1, 2, …) of its GTIN or batch; only the version counters are stored, the hashes live in the events.
/// Calls may be relayed through the ProvenaForwarder (ERC-2771), so manufacturers need a key but no ETH.
///
/// Documents of a batch (inspection reports, certificates, invoices…) are kept off chain too, and any active
/// participant anchors a document's keccak256 here for a batch: the event says who vouched for which bytes, and
/// when. Whether the anchoring account belongs to the batch's chain of custody is judged by readers from the
/// batch's history (past custodians live only in events), so nothing but the event is stored.
///
/// Documents of a product model (GTIN) alone (declarations of conformity, test reports, repair manuals…) are
/// anchored by the holder of the GTIN's company prefix, the same account that publishes its product data: a
/// product model has no chain of custody, so the brand owner is the one who vouches for its documents.
interface IProductDataRegistry {
    /// @notice Reverts when the content hash is zero.
    error ProductDataZeroHash();
    /// @notice Reverts when `gtin` is not a valid GTIN (at most 14 digits with a correct check digit).
    error ProductDataInvalidGtin(uint64 gtin);
    /// @notice Reverts when `account` does not hold the company prefix of `gtin`; `holder` does (zero when nobody).
    error ProductDataNotPrefixHolder(uint64 gtin, address account, address holder);
    /// @notice Reverts when no batch `batchId` is registered.
    error ProductDataBatchUnknown(bytes32 batchId);
    /// @notice Reverts when `account` is not the manufacturer of batch `batchId`.
    error ProductDataNotBatchManufacturer(bytes32 batchId, address account);
    /// @notice Reverts when `account` is not an active manufacturer (not onboarded, suspended, or without the role).
    error ProductDataPublisherInactive(address account);

    /// @notice Reverts when `account` is not an active participant (not onboarded, or suspended).
    error ProductDataAnchorerInactive(address account);

    /// @notice Emitted when `publisher` anchors version `version` of the product data of `gtin`.
    event ProductDataPublished(uint64 indexed gtin, uint32 indexed version, address indexed publisher, bytes32 contentHash);
    /// @notice Emitted when `publisher` anchors version `version` of the data of batch `batchId`.
    event BatchDataPublished(bytes32 indexed batchId, uint32 indexed version, address indexed publisher, bytes32 contentHash);

    /// @notice The holder of `gtin`'s company prefix anchors a new version of the product's data.
    /// @param gtin The product (GTIN-14 as an integer).
    /// @param contentHash keccak256 of the version's canonical JSON (RFC 8785); must not be zero.
    /// @return version The new version number (the first is 1).
    function publishProductData(uint64 gtin, bytes32 contentHash) external returns (uint32 version);

    /// @notice The manufacturer of batch `batchId` anchors a new version of the batch's data.
    /// @param batchId The batch (registered or split child) in the provenance registry.
    /// @param contentHash keccak256 of the version's canonical JSON (RFC 8785); must not be zero.
    /// @return version The new version number (the first is 1).
    function publishBatchData(bytes32 batchId, bytes32 contentHash) external returns (uint32 version);

    /// @notice Emitted when `anchoredBy` anchors the document whose keccak256 is `contentHash` for batch `batchId`.
    event BatchDocumentAnchored(bytes32 indexed batchId, address indexed anchoredBy, bytes32 contentHash);

    /// @notice An active participant anchors the hash of a document about batch `batchId` (inspection report,
    /// certificate, invoice…). Anchoring the same hash again emits again: each anchor names its own account, so
    /// nobody can front-run an honest anchor out of the record.
    /// @param batchId The batch (registered or split child) in the provenance registry.
    /// @param contentHash keccak256 of the document's bytes; must not be zero.
    function anchorBatchDocument(bytes32 batchId, bytes32 contentHash) external;

    /// @notice Emitted when `anchoredBy`, the holder of `gtin`'s company prefix, anchors the document whose
    /// keccak256 is `contentHash` for the product model `gtin`.
    event ProductDocumentAnchored(uint64 indexed gtin, address indexed anchoredBy, bytes32 contentHash);

    /// @notice The holder of `gtin`'s company prefix, an active manufacturer, anchors the hash of a document about
    /// the product model (declaration of conformity, test report, repair manual…). Anchoring the same hash again
    /// emits again, as for batch documents.
    /// @param gtin The product (GTIN-14 as an integer).
    /// @param contentHash keccak256 of the document's bytes; must not be zero.
    function anchorProductDocument(uint64 gtin, bytes32 contentHash) external;

    /// @notice The latest version number anchored for `gtin` (0 when none).
    function productDataVersion(uint64 gtin) external view returns (uint32);

    /// @notice The latest version number anchored for batch `batchId` (0 when none).
    function batchDataVersion(bytes32 batchId) external view returns (uint32);

    /// @notice The provenance registry whose prefixes, batches and participants this contract checks.
    function registry() external view returns (address);
}
