// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title Design and IP proofs: timestamped Merkle roots of design files, and products that reference them
/// @notice A registrant (any onboarded, non-suspended participant of the ParticipantRegistry) registers one
/// Merkle root per transaction for any number of files, so the gas of a registration does not depend on the file
/// count. Leaves follow OpenZeppelin's StandardMerkleTree over `[bytes32 fileHash, address owner, bytes32 salt]`
/// (`fileHash` the SHA-256 of the file, `salt` 32 random bytes per file, so a root reveals no file hash and no
/// file hash can be guessed from it). Later anyone proves "this exact file existed, owned by `owner`, no later
/// than the registration" with the leaf and its proof, without the file leaving the owner's machine.
///
/// Squatting: registrations are kept per (registrant, root), and a proof always names its registrant. Whoever
/// copies a root from the mempool and registers it first only proves, earlier, the leaves it cannot change: they
/// still name the real owner. The earliest registration of a root by the same registrant counts (a registrant
/// cannot register a root twice). An ownership claim is a leaf whose `owner` is the registrant; a registration
/// by anyone else only witnesses that the file existed.
///
/// The holder of a GTIN's GS1 company prefix links designs to the GTIN, so a product's passport can show them.
interface IDesignRegistry {
    /// @notice Reverts when the root is zero (no tree has it).
    error DesignInvalidRoot();
    /// @notice Reverts when `registrant` already registered `root` (its first registration stands).
    error DesignAlreadyRegistered(address registrant, bytes32 root, uint64 registeredAt);
    /// @notice Reverts when `registrant` never registered `root`.
    error DesignNotRegistered(address registrant, bytes32 root);
    /// @notice Reverts when `account` (registering or linking) is not an onboarded participant or is suspended.
    error DesignParticipantInactive(address account);
    /// @notice Reverts when the title or licence is longer than MAX_METADATA_LENGTH bytes.
    error DesignMetadataTooLong(uint256 length, uint256 maxLength);
    /// @notice Reverts when `gtin` is not a valid GTIN (check digit, at most 14 digits).
    error DesignInvalidGtin(uint64 gtin);
    /// @notice Reverts when `account` does not hold the company prefix of `gtin` (`holder` does; address(0) when
    /// no prefix matches).
    error DesignGtinNotLicensed(uint64 gtin, address account, address holder);
    /// @notice Reverts when the design is already linked to the GTIN.
    error DesignAlreadyLinked(uint64 gtin, address registrant, bytes32 root);
    /// @notice Reverts when unlinking a design that is not linked to the GTIN.
    error DesignNotLinked(uint64 gtin, address registrant, bytes32 root);

    /// @notice Emitted when `registrant` registers the Merkle root `root` of a set of design files (the block's
    /// timestamp is the registration time). `title` and `licence` (a short text or a URI) are as the registrant
    /// gave them; `licenceHash` is the hash of the licence document, zero when none.
    event DesignRegistered(address indexed registrant, bytes32 indexed root, string title, string licence, bytes32 licenceHash);
    /// @notice Emitted when the holder of the GTIN's company prefix links `registrant`'s design root to `gtin`.
    event DesignLinked(uint64 indexed gtin, address indexed registrant, bytes32 indexed root, address linkedBy);
    /// @notice Emitted when the holder of the GTIN's company prefix removes a link.
    event DesignUnlinked(uint64 indexed gtin, address indexed registrant, bytes32 indexed root, address unlinkedBy);

    /// @notice Registers `root`, a StandardMerkleTree root over `[fileHash, owner, salt]` leaves, as the caller's,
    /// timestamped with the block. Gas does not depend on how many files the tree holds.
    /// @param root The tree's root (non-zero).
    /// @param title A short title for the set of files (may be empty; at most MAX_METADATA_LENGTH bytes).
    /// @param licence The licence as a short text or a URI (may be empty; at most MAX_METADATA_LENGTH bytes).
    /// @param licenceHash Hash of the licence document, or zero.
    function registerDesign(bytes32 root, string calldata title, string calldata licence, bytes32 licenceHash) external;

    /// @notice Links `registrant`'s registered design `root` to `gtin`; only the active holder of the GTIN's
    /// company prefix may.
    function linkDesign(uint64 gtin, address registrant, bytes32 root) external;

    /// @notice Removes the link of `registrant`'s design `root` from `gtin`; only the active holder of the GTIN's
    /// company prefix may.
    function unlinkDesign(uint64 gtin, address registrant, bytes32 root) external;

    /// @notice When `registrant` registered `root` (Unix seconds), zero when it did not.
    function registeredAt(address registrant, bytes32 root) external view returns (uint64);

    /// @notice True when `registrant`'s design `root` is linked to `gtin`.
    function isLinked(uint64 gtin, address registrant, bytes32 root) external view returns (bool);

    /// @notice When `registrant` registered a root proving the file `fileHash` owned by `owner` with `salt`
    /// (the leaf's single-leaf `proof`); zero when the proof does not verify or the root is not registered.
    function provenAt(
        address registrant,
        bytes32 root,
        bytes32[] calldata proof,
        bytes32 fileHash,
        address owner,
        bytes32 salt
    ) external view returns (uint64);

    /// @notice The StandardMerkleTree leaf hash of `[fileHash, owner, salt]`.
    function leafHash(bytes32 fileHash, address owner, bytes32 salt) external pure returns (bytes32);
}
