// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {IParticipantRegistry} from "./interfaces/IParticipantRegistry.sol";
import {IProductDataRegistry} from "./interfaces/IProductDataRegistry.sol";
import {IProvenanceRegistry} from "./interfaces/IProvenanceRegistry.sol";
import {GS1} from "./libraries/GS1.sol";

/// @title Provena product-data anchors
/// @notice See IProductDataRegistry. Who may publish is read from the provenance registry at each call, so a
/// revoked prefix or a suspension takes effect at once.
contract ProductDataRegistry is IProductDataRegistry, ERC2771Context {
    /// @dev The registry's MANUFACTURER_ROLE (keccak256("MANUFACTURER_ROLE")).
    bytes32 private constant _MANUFACTURER_ROLE = keccak256("MANUFACTURER_ROLE");

    address private immutable _registry;

    mapping(uint64 gtin => uint32 version) private _productVersions;
    mapping(bytes32 batchId => uint32 version) private _batchVersions;

    /// @notice Deploys the anchors over `provenanceRegistry`; signed calls arrive through `trustedForwarder`.
    /// @param trustedForwarder The ProvenaForwarder that may relay signed calls.
    /// @param provenanceRegistry The ProvenanceRegistry holding prefixes, batches and participants.
    constructor(address trustedForwarder, address provenanceRegistry) ERC2771Context(trustedForwarder) {
        _registry = provenanceRegistry;
    }

    /// @inheritdoc IProductDataRegistry
    function publishProductData(uint64 gtin, bytes32 contentHash) external returns (uint32 version) {
        address publisher = _msgSender();
        _requirePrefixHolder(gtin, contentHash, publisher);
        version = ++_productVersions[gtin];
        emit ProductDataPublished(gtin, version, publisher, contentHash);
    }

    /// @inheritdoc IProductDataRegistry
    function publishBatchData(bytes32 batchId, bytes32 contentHash) external returns (uint32 version) {
        address publisher = _msgSender();
        if (contentHash == bytes32(0)) revert ProductDataZeroHash();
        (IProvenanceRegistry.BatchStatus status,) = IProvenanceRegistry(_registry).batchStatus(batchId);
        if (status == IProvenanceRegistry.BatchStatus.None) revert ProductDataBatchUnknown(batchId);
        (address manufacturer,,,,,,,) = IProvenanceRegistry(_registry).batch(batchId);
        if (manufacturer != publisher) revert ProductDataNotBatchManufacturer(batchId, publisher);
        _requireActiveManufacturer(publisher);
        version = ++_batchVersions[batchId];
        emit BatchDataPublished(batchId, version, publisher, contentHash);
    }

    /// @inheritdoc IProductDataRegistry
    function anchorBatchDocument(bytes32 batchId, bytes32 contentHash) external {
        address anchorer = _msgSender();
        if (contentHash == bytes32(0)) revert ProductDataZeroHash();
        (IProvenanceRegistry.BatchStatus status,) = IProvenanceRegistry(_registry).batchStatus(batchId);
        if (status == IProvenanceRegistry.BatchStatus.None) revert ProductDataBatchUnknown(batchId);
        (uint32 participantId,, bool suspended) = IParticipantRegistry(_registry).participant(anchorer);
        if (participantId == 0 || suspended) revert ProductDataAnchorerInactive(anchorer);
        emit BatchDocumentAnchored(batchId, anchorer, contentHash);
    }

    /// @inheritdoc IProductDataRegistry
    function anchorProductDocument(uint64 gtin, bytes32 contentHash) external {
        address anchorer = _msgSender();
        _requirePrefixHolder(gtin, contentHash, anchorer);
        emit ProductDocumentAnchored(gtin, anchorer, contentHash);
    }

    /// @inheritdoc IProductDataRegistry
    function productDataVersion(uint64 gtin) external view returns (uint32) {
        return _productVersions[gtin];
    }

    /// @inheritdoc IProductDataRegistry
    function batchDataVersion(bytes32 batchId) external view returns (uint32) {
        return _batchVersions[batchId];
    }

    /// @inheritdoc IProductDataRegistry
    function registry() external view returns (address) {
        return _registry;
    }

    /// @dev A non-zero hash, a valid GTIN, and `account` its company prefix holder and an active manufacturer.
    function _requirePrefixHolder(uint64 gtin, bytes32 contentHash, address account) private view {
        if (contentHash == bytes32(0)) revert ProductDataZeroHash();
        if (!GS1.isValidGtin(gtin)) revert ProductDataInvalidGtin(gtin);
        (address holder,,) = IParticipantRegistry(_registry).companyPrefixOf(gtin);
        if (holder != account) revert ProductDataNotPrefixHolder(gtin, account, holder);
        _requireActiveManufacturer(account);
    }

    function _requireActiveManufacturer(address account) private view {
        if (!IParticipantRegistry(_registry).isActiveParticipant(account, _MANUFACTURER_ROLE)) {
            revert ProductDataPublisherInactive(account);
        }
    }
}
