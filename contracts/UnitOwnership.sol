// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {Context} from "@openzeppelin/contracts/utils/Context.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

import {IProvenanceRegistry} from "./interfaces/IProvenanceRegistry.sol";
import {IUnitOwnership} from "./interfaces/IUnitOwnership.sol";

/// @title UnitOwnership: one ERC-721 ownership certificate per physical unit, claimed with its printed secret
/// @notice See IUnitOwnership for the scheme. Rules beyond the interface:
/// - A registered batch is one the registry knows with no parent (`parentOf == 0`); a split child is rejected,
///   since it carries its registered ancestor's serial root and its units are claimed on that ancestor.
/// - The caller of `commitClaimRoot` must be the batch's manufacturer as the registry records it, not suspended.
///   `units` is informative (for indexers): the contract cannot count a Merkle tree's leaves.
/// - A claim is valid for a recalled batch too: the owner of a recalled unit is exactly who must learn of it.
/// - Claims mint with `_mint`, not `_safeMint`: the recipient is the one the claim key signed for, and no
///   `onERC721Received` call-out runs in the middle of a mint paid for by the relayer (no reentrancy, and no
///   recipient contract can make the relayer's transaction fail after it passed every check).
/// - The admin (DEFAULT_ADMIN_ROLE, two-step delayed transfer) only sets the base URI: no function moves,
///   burns or re-mints a token, and a claim root, once committed, never changes.
/// - ERC-2771: the registry's trusted forwarder may relay a manufacturer's commitment or a holder's transfer, so
///   neither needs ETH; `claim` names its recipient explicitly, so it never depends on the caller.
/// Trust: the manufacturer generates the claim keys, so it could claim its own units before sale; that is the
/// same trust as the serial root itself (the manufacturer says which units exist). The claim secret proves
/// possession of the opened packaging, nothing more.
contract UnitOwnership is IUnitOwnership, ERC721, EIP712, AccessControlDefaultAdminRules, ERC2771Context {
    /// @dev The registered batch and serial a token was minted for.
    struct Unit {
        bytes32 batchId;
        string serial;
    }

    bytes32 private constant _CLAIM_TYPEHASH = keccak256("Claim(uint256 tokenId,address recipient)");

    IProvenanceRegistry private immutable _registry;
    mapping(bytes32 batchId => bytes32 claimRoot) private _claimRoots;
    mapping(uint256 tokenId => Unit) private _units;
    string private _tokenBaseURI;

    /// @notice The caller is the batch's manufacturer, but the registry has suspended it.
    error ClaimRootCommitterSuspended(address account);
    /// @notice The registry address given to the constructor is zero.
    error RegistryZero();

    constructor(IProvenanceRegistry registry_, address trustedForwarder_, address admin, uint48 adminDelay)
        ERC721("Provena Unit Ownership", "PROVENA-UNIT")
        EIP712("Provena Unit Ownership", "1")
        AccessControlDefaultAdminRules(adminDelay, admin)
        ERC2771Context(trustedForwarder_)
    {
        if (address(registry_) == address(0)) revert RegistryZero();
        _registry = registry_;
    }

    /// @inheritdoc IUnitOwnership
    function commitClaimRoot(bytes32 batchId, bytes32 claimRoot, uint32 units) external {
        if (claimRoot == bytes32(0)) revert ClaimRootZero();
        if (_claimRoots[batchId] != bytes32(0)) revert ClaimRootAlreadyCommitted(batchId);
        (IProvenanceRegistry.BatchStatus status,) = _registry.batchStatus(batchId);
        if (status == IProvenanceRegistry.BatchStatus.None || _registry.parentOf(batchId) != bytes32(0)) {
            revert BatchNotRegisteredLot(batchId);
        }
        (address manufacturer,,,,,,,) = _registry.batch(batchId);
        address caller = _msgSender();
        if (caller != manufacturer) revert NotBatchManufacturer(batchId, caller);
        (,, bool suspended) = _registry.participant(caller);
        if (suspended) revert ClaimRootCommitterSuspended(caller);

        _claimRoots[batchId] = claimRoot;
        emit ClaimRootCommitted(batchId, caller, claimRoot, units);
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
        tokenId = _tokenIdOf(batchId, serial);
        // Checked first, so a copied or repeated claim fails with the reason that explains it.
        if (_ownerOf(tokenId) != address(0)) revert UnitAlreadyClaimed(tokenId);
        _requireCommittedUnit(batchId, serial, claimKey, serialProof, claimProof);
        _requireClaimSignature(tokenId, recipient, claimKey, signature);
        _recordUnit(tokenId, batchId, serial, recipient);
        _mint(recipient, tokenId);
    }

    /// @inheritdoc IUnitOwnership
    function setBaseURI(string calldata newBaseURI) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _tokenBaseURI = newBaseURI;
        emit BaseURIChanged(newBaseURI);
    }

    /// @inheritdoc IUnitOwnership
    function claimRootOf(bytes32 batchId) external view returns (bytes32) {
        return _claimRoots[batchId];
    }

    /// @inheritdoc IUnitOwnership
    function tokenIdOf(bytes32 batchId, string calldata serial) external pure returns (uint256) {
        return _tokenIdOf(batchId, serial);
    }

    /// @inheritdoc IUnitOwnership
    function unitOf(uint256 tokenId) external view returns (bytes32 batchId, string memory serial) {
        _requireOwned(tokenId);
        Unit storage unit = _units[tokenId];
        return (unit.batchId, unit.serial);
    }

    /// @inheritdoc IUnitOwnership
    function claimDigest(uint256 tokenId, address recipient) external view returns (bytes32) {
        return _claimDigest(tokenId, recipient);
    }

    /// @notice The provenance registry whose batches and serial roots this contract reads.
    function registry() external view returns (IProvenanceRegistry) {
        return _registry;
    }

    /// @notice The base of every token's URI (empty until the admin sets it).
    function baseURI() external view returns (string memory) {
        return _tokenBaseURI;
    }

    /// @inheritdoc ERC721
    function supportsInterface(bytes4 interfaceId)
        public
        view
        override(ERC721, AccessControlDefaultAdminRules)
        returns (bool)
    {
        return interfaceId == type(IUnitOwnership).interfaceId || ERC721.supportsInterface(interfaceId)
            || AccessControlDefaultAdminRules.supportsInterface(interfaceId);
    }

    // ------------------------------------------------------------------ internal

    /// @dev Reverts unless `serial` is one of the batch's registered units and `claimKey` is its committed key.
    function _requireCommittedUnit(
        bytes32 batchId,
        string calldata serial,
        address claimKey,
        bytes32[] calldata serialProof,
        bytes32[] calldata claimProof
    ) private view {
        bytes32 claimRoot = _claimRoots[batchId];
        if (claimRoot == bytes32(0)) revert ClaimRootMissing(batchId);
        // A claim root exists only for a registered batch, so its serial root is set and verifyUnit cannot revert.
        if (!_registry.verifyUnit(batchId, serial, serialProof)) revert UnitNotRegistered(batchId, serial);
        // The leaf of OpenZeppelin's StandardMerkleTree for [serial, claimKey] with encoding ["string", "address"].
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(serial, claimKey))));
        if (!MerkleProof.verifyCalldata(claimProof, claimRoot, leaf)) {
            revert ClaimKeyNotCommitted(batchId, serial, claimKey);
        }
    }

    /// @dev Reverts unless `signature` is `claimKey`'s EIP-712 signature of Claim(tokenId, recipient).
    function _requireClaimSignature(uint256 tokenId, address recipient, address claimKey, bytes calldata signature)
        private
        view
    {
        // tryRecover rejects malformed and high-s (malleable) signatures and never yields claimKey for them.
        (address signer, ECDSA.RecoverError error,) = ECDSA.tryRecover(_claimDigest(tokenId, recipient), signature);
        if (error != ECDSA.RecoverError.NoError || signer != claimKey) revert ClaimSignatureInvalid(claimKey);
    }

    /// @dev Stores the token's unit and emits UnitClaimed (the mint's Transfer follows).
    function _recordUnit(uint256 tokenId, bytes32 batchId, string calldata serial, address recipient) private {
        _units[tokenId] = Unit({batchId: batchId, serial: serial});
        emit UnitClaimed(tokenId, batchId, recipient, serial);
    }

    function _tokenIdOf(bytes32 batchId, string calldata serial) private pure returns (uint256) {
        return uint256(keccak256(abi.encode(batchId, serial)));
    }

    function _claimDigest(uint256 tokenId, address recipient) private view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(_CLAIM_TYPEHASH, tokenId, recipient)));
    }

    function _baseURI() internal view override returns (string memory) {
        return _tokenBaseURI;
    }

    // ERC-2771: the forwarder's appended sender is the caller for the manufacturer check and for transfers.

    function _msgSender() internal view override(Context, ERC2771Context) returns (address) {
        return ERC2771Context._msgSender();
    }

    function _msgData() internal view override(Context, ERC2771Context) returns (bytes calldata) {
        return ERC2771Context._msgData();
    }

    function _contextSuffixLength() internal view override(Context, ERC2771Context) returns (uint256) {
        return ERC2771Context._contextSuffixLength();
    }
}
