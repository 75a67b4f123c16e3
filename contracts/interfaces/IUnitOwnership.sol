// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title Ownership certificates bound to physical units: one ERC-721 token per unit, claimed with a secret
/// printed inside its packaging
/// @notice The manufacturer of a registered batch commits, once, a claim root: the root of an OpenZeppelin
/// StandardMerkleTree over `[string serial, address claimKey]` leaves, where `claimKey` is the address of a key
/// generated for that unit. The key's private half (the claim secret) is printed inside the packaging, never on
/// the public QR code. Registration gas is unchanged for any unit count; the commitment is one more constant-gas
/// transaction, made before the goods leave the manufacturer.
///
/// A claim is signed with the claim secret as EIP-712 `Claim(uint256 tokenId,address recipient)` (domain name
/// "Provena Unit Ownership", version "1"), so anyone may submit it (the shopper needs no ETH: the relayer pays)
/// and nobody watching the mempool can redirect it: the signature binds the recipient, and a copied transaction
/// only mints to the same recipient.
///
/// `tokenId = uint256(keccak256(abi.encode(batchId, serial)))` with `batchId` the batch the manufacturer
/// registered (a split child carries its registered ancestor's serial root; the backend maps a child's unit to it).
/// A token exists only for a unit that verifies against the manufacturer's serial root in the registry and is in
/// the batch's claim root. Transfers (resale, gifting) are plain ERC-721 transfers. `tokenURI` is the base URI
/// the admin sets followed by the token id in decimal (OpenZeppelin's ERC721); the backend serves each token's
/// metadata there, pointing at the unit's passport.
interface IUnitOwnership {
    error ClaimRootZero();
    error ClaimRootAlreadyCommitted(bytes32 batchId);
    error ClaimRootMissing(bytes32 batchId);
    /// @notice The batch is unknown to the registry, or is a split child (commit on the registered batch).
    error BatchNotRegisteredLot(bytes32 batchId);
    error NotBatchManufacturer(bytes32 batchId, address account);
    error UnitNotRegistered(bytes32 batchId, string serial);
    error ClaimKeyNotCommitted(bytes32 batchId, string serial, address claimKey);
    error ClaimSignatureInvalid(address claimKey);
    error UnitAlreadyClaimed(uint256 tokenId);
    error RecipientZero();

    /// @notice Emitted when a batch's manufacturer commits the claim keys of its `units` units.
    event ClaimRootCommitted(bytes32 indexed batchId, address indexed manufacturer, bytes32 claimRoot, uint32 units);
    /// @notice Emitted when a unit's token is minted to `owner` by a valid claim (ERC-721 Transfer from zero follows).
    event UnitClaimed(uint256 indexed tokenId, bytes32 indexed batchId, address indexed owner, string serial);
    /// @notice Emitted when the admin changes the base of every token's URI.
    event BaseURIChanged(string baseURI);

    /// @notice The batch's manufacturer commits, once, the claim root of its units. Reverts for a split child,
    /// a zero root, a second commitment, or any other caller.
    function commitClaimRoot(bytes32 batchId, bytes32 claimRoot, uint32 units) external;

    /// @notice Mints the unit's token to `recipient`, given the unit's serial proof (registry), its claim-key proof
    /// (claim root) and the claim key's EIP-712 signature of `(tokenId, recipient)`. Anyone may submit it.
    function claim(
        bytes32 batchId,
        string calldata serial,
        address claimKey,
        bytes32[] calldata serialProof,
        bytes32[] calldata claimProof,
        address recipient,
        bytes calldata signature
    ) external returns (uint256 tokenId);

    /// @notice The claim root committed for a registered batch (zero when none).
    function claimRootOf(bytes32 batchId) external view returns (bytes32);

    /// @notice The token id of a unit: uint256(keccak256(abi.encode(batchId, serial))).
    function tokenIdOf(bytes32 batchId, string calldata serial) external pure returns (uint256);

    /// @notice The registered batch and serial of a minted token (reverts for a token that does not exist).
    function unitOf(uint256 tokenId) external view returns (bytes32 batchId, string memory serial);

    /// @notice The EIP-712 digest a claim key signs to claim `tokenId` for `recipient`.
    function claimDigest(uint256 tokenId, address recipient) external view returns (bytes32);

    /// @notice The admin sets the base of every token's URI, e.g. "https://id.example.com/api/v1/ownership/tokens/".
    function setBaseURI(string calldata baseURI) external;
}
