// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IUnitOwnership} from "../interfaces/IUnitOwnership.sol";

/// @title Test-only stand-in for UnitOwnership: the claim checks of IUnitOwnership without the registry
/// @notice Serial roots are set by a test helper instead of read from the registry, and anyone may commit a claim
/// root. Used by the backend's claim-relay tests; never deployed.
contract UnitOwnershipDouble is IUnitOwnership, ERC721, EIP712 {
    bytes32 private constant _CLAIM_TYPEHASH = keccak256("Claim(uint256 tokenId,address recipient)");

    mapping(bytes32 batchId => bytes32) private _serialRoots;
    mapping(bytes32 batchId => bytes32) private _claimRoots;
    mapping(uint256 tokenId => bytes32) private _batchOf;
    mapping(uint256 tokenId => string) private _serialOf;
    string private _base;

    constructor() ERC721("Provena Unit (test double)", "PUNITX") EIP712("Provena Unit Ownership", "1") {}

    /// @notice Test helper: the serial root the registry would hold for `batchId`.
    function setSerialRoot(bytes32 batchId, bytes32 serialRoot) external {
        _serialRoots[batchId] = serialRoot;
    }

    /// @inheritdoc IUnitOwnership
    function commitClaimRoot(bytes32 batchId, bytes32 claimRoot, uint32 units) external {
        if (claimRoot == bytes32(0)) revert ClaimRootZero();
        if (_claimRoots[batchId] != bytes32(0)) revert ClaimRootAlreadyCommitted(batchId);
        _claimRoots[batchId] = claimRoot;
        emit ClaimRootCommitted(batchId, msg.sender, claimRoot, units);
    }

    /// @inheritdoc IUnitOwnership
    function claim(
        bytes32 batchId,
        string calldata serial,
        address claimKey,
        bytes32[] calldata serialProof,
        bytes32[] calldata claimProof,
        address recipient,
        bytes calldata signature
    ) external returns (uint256 tokenId) {
        if (recipient == address(0)) revert RecipientZero();
        _checkProofs(batchId, serial, claimKey, serialProof, claimProof);
        tokenId = tokenIdOf(batchId, serial);
        if (ECDSA.recover(claimDigest(tokenId, recipient), signature) != claimKey) revert ClaimSignatureInvalid(claimKey);
        if (_ownerOf(tokenId) != address(0)) revert UnitAlreadyClaimed(tokenId);
        _batchOf[tokenId] = batchId;
        _serialOf[tokenId] = serial;
        emit UnitClaimed(tokenId, batchId, recipient, serial);
        _mint(recipient, tokenId);
    }

    /// @inheritdoc IUnitOwnership
    function claimRootOf(bytes32 batchId) external view returns (bytes32) {
        return _claimRoots[batchId];
    }

    /// @inheritdoc IUnitOwnership
    function unitOf(uint256 tokenId) external view returns (bytes32 batchId, string memory serial) {
        _requireOwned(tokenId);
        return (_batchOf[tokenId], _serialOf[tokenId]);
    }

    /// @inheritdoc IUnitOwnership
    function setBaseURI(string calldata baseURI) external {
        _base = baseURI;
        emit BaseURIChanged(baseURI);
    }

    /// @inheritdoc IUnitOwnership
    function tokenIdOf(bytes32 batchId, string calldata serial) public pure returns (uint256) {
        return uint256(keccak256(abi.encode(batchId, serial)));
    }

    /// @inheritdoc IUnitOwnership
    function claimDigest(uint256 tokenId, address recipient) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(_CLAIM_TYPEHASH, tokenId, recipient)));
    }

    function _checkProofs(
        bytes32 batchId,
        string calldata serial,
        address claimKey,
        bytes32[] calldata serialProof,
        bytes32[] calldata claimProof
    ) private view {
        bytes32 claimRoot = _claimRoots[batchId];
        if (claimRoot == bytes32(0)) revert ClaimRootMissing(batchId);
        bytes32 serialLeaf = keccak256(bytes.concat(keccak256(abi.encode(serial))));
        if (!MerkleProof.verifyCalldata(serialProof, _serialRoots[batchId], serialLeaf)) revert UnitNotRegistered(batchId, serial);
        bytes32 claimLeaf = keccak256(bytes.concat(keccak256(abi.encode(serial, claimKey))));
        if (!MerkleProof.verifyCalldata(claimProof, claimRoot, claimLeaf)) revert ClaimKeyNotCommitted(batchId, serial, claimKey);
    }

    function _baseURI() internal view override returns (string memory) {
        return _base;
    }
}
