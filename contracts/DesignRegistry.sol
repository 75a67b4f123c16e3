// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IDesignRegistry} from "./interfaces/IDesignRegistry.sol";
import {IParticipantRegistry} from "./interfaces/IParticipantRegistry.sol";
import {GS1} from "./libraries/GS1.sol";

/// @title Provena design registry: timestamped design-file roots and the products that reference them
/// @notice See IDesignRegistry. Registrants are the consortium's active participants (any role), so every
/// registration names an accountable party, relayed registrations are sponsored only for members, and strangers
/// cannot fill the mirror with dust. The contract has no admin: nobody can alter or delete a registration.
/// Every call honours ERC-2771: the ProvenaForwarder may relay it for a signer.
/// @dev Storage: one slot per registration (its time) and one per link; titles and licences live in events.
contract DesignRegistry is IDesignRegistry, ERC2771Context {
    /// @notice Longest title or licence string, in bytes (keeps relayed registrations and the mirror bounded).
    uint256 public constant MAX_METADATA_LENGTH = 256;

    IParticipantRegistry private immutable _participants;

    mapping(address registrant => mapping(bytes32 root => uint64 registeredAt)) private _registrations;
    mapping(bytes32 linkKey => bool) private _links;

    /// @notice Deploys the design registry over the consortium's participant registry.
    /// @param trustedForwarder The ProvenaForwarder that may relay signed calls.
    /// @param participants The ParticipantRegistry (the ProvenanceRegistry) that says who is an active participant
    /// and who holds a GTIN's company prefix.
    constructor(address trustedForwarder, IParticipantRegistry participants) ERC2771Context(trustedForwarder) {
        _participants = participants;
    }

    /// @inheritdoc IDesignRegistry
    function registerDesign(bytes32 root, string calldata title, string calldata licence, bytes32 licenceHash) external {
        address registrant = _msgSender();
        _requireActiveParticipant(registrant);
        if (root == bytes32(0)) revert DesignInvalidRoot();
        if (bytes(title).length > MAX_METADATA_LENGTH) revert DesignMetadataTooLong(bytes(title).length, MAX_METADATA_LENGTH);
        if (bytes(licence).length > MAX_METADATA_LENGTH) {
            revert DesignMetadataTooLong(bytes(licence).length, MAX_METADATA_LENGTH);
        }
        uint64 existing = _registrations[registrant][root];
        if (existing != 0) revert DesignAlreadyRegistered(registrant, root, existing);
        _registrations[registrant][root] = uint64(block.timestamp);
        emit DesignRegistered(registrant, root, title, licence, licenceHash);
    }

    /// @inheritdoc IDesignRegistry
    function linkDesign(uint64 gtin, address registrant, bytes32 root) external {
        address holder = _requirePrefixHolder(gtin);
        if (_registrations[registrant][root] == 0) revert DesignNotRegistered(registrant, root);
        bytes32 key = _linkKey(gtin, registrant, root);
        if (_links[key]) revert DesignAlreadyLinked(gtin, registrant, root);
        _links[key] = true;
        emit DesignLinked(gtin, registrant, root, holder);
    }

    /// @inheritdoc IDesignRegistry
    function unlinkDesign(uint64 gtin, address registrant, bytes32 root) external {
        address holder = _requirePrefixHolder(gtin);
        bytes32 key = _linkKey(gtin, registrant, root);
        if (!_links[key]) revert DesignNotLinked(gtin, registrant, root);
        delete _links[key];
        emit DesignUnlinked(gtin, registrant, root, holder);
    }

    /// @inheritdoc IDesignRegistry
    function registeredAt(address registrant, bytes32 root) external view returns (uint64) {
        return _registrations[registrant][root];
    }

    /// @inheritdoc IDesignRegistry
    function isLinked(uint64 gtin, address registrant, bytes32 root) external view returns (bool) {
        return _links[_linkKey(gtin, registrant, root)];
    }

    /// @inheritdoc IDesignRegistry
    function provenAt(
        address registrant,
        bytes32 root,
        bytes32[] calldata proof,
        bytes32 fileHash,
        address owner,
        bytes32 salt
    ) external view returns (uint64) {
        if (!MerkleProof.verifyCalldata(proof, root, leafHash(fileHash, owner, salt))) return 0;
        return _registrations[registrant][root];
    }

    /// @notice The ParticipantRegistry whose participants and company prefixes this registry reads.
    function participantRegistry() external view returns (IParticipantRegistry) {
        return _participants;
    }

    /// @inheritdoc IDesignRegistry
    function leafHash(bytes32 fileHash, address owner, bytes32 salt) public pure returns (bytes32) {
        // StandardMerkleTree's leaf: the double hash keeps a 64-byte inner node from passing as a leaf.
        return keccak256(bytes.concat(keccak256(abi.encode(fileHash, owner, salt))));
    }

    /// @dev The caller when it is the active holder of `gtin`'s company prefix; reverts otherwise.
    function _requirePrefixHolder(uint64 gtin) private view returns (address caller) {
        caller = _msgSender();
        if (!GS1.isValidGtin(gtin)) revert DesignInvalidGtin(gtin);
        (address holder,,) = _participants.companyPrefixOf(gtin);
        if (holder != caller) revert DesignGtinNotLicensed(gtin, caller, holder);
        _requireActiveParticipant(caller);
    }

    function _requireActiveParticipant(address account) private view {
        (uint32 participantId,, bool suspended) = _participants.participant(account);
        if (participantId == 0 || suspended) revert DesignParticipantInactive(account);
    }

    function _linkKey(uint64 gtin, address registrant, bytes32 root) private pure returns (bytes32) {
        return keccak256(abi.encode(gtin, registrant, root));
    }
}
