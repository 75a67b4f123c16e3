// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {UnitOwnership} from "../../contracts/UnitOwnership.sol";
import {IProvenanceRegistry} from "../../contracts/interfaces/IProvenanceRegistry.sol";
import {CheatsBase} from "../helpers/Vm.sol";
import {ProvenanceRegistrySetup} from "./ProvenanceRegistry.setup.sol";

/// @dev Four-leaf Merkle trees hashed in sorted pairs, as OpenZeppelin's MerkleProof verifies them.
library FourLeafTree {
    function pair(bytes32 a, bytes32 b) internal pure returns (bytes32) {
        return a < b ? keccak256(abi.encode(a, b)) : keccak256(abi.encode(b, a));
    }

    function root(bytes32[4] memory leaves) internal pure returns (bytes32) {
        return pair(pair(leaves[0], leaves[1]), pair(leaves[2], leaves[3]));
    }

    function proof(bytes32[4] memory leaves, uint256 index) internal pure returns (bytes32[] memory siblings) {
        siblings = new bytes32[](2);
        siblings[0] = leaves[index ^ 1];
        siblings[1] = index < 2 ? pair(leaves[2], leaves[3]) : pair(leaves[0], leaves[1]);
    }
}

/// @dev The fuzzer's actions on two batches of four units each. Batch 0's claim tree commits its four units;
/// batch 1's claim tree (a careless or forged one) commits three units and a counterfeit serial whose key the
/// thief holds. Claims are tried with the unit's key, another unit's key or the thief's, with or without
/// redirecting the recipient; transfers by the owner, the admin, the manufacturer or a stranger; re-commitments.
/// Every outcome is checked against the rules; a broken rule is counted as a violation.
contract UnitOwnershipHandler is CheatsBase {
    uint256 internal constant UNITS = 4;
    uint256 internal constant THIEF_KEY = 0xBAD;
    string internal constant COUNTERFEIT = "FAKE-1";

    UnitOwnership internal immutable tokens;
    address internal immutable admin;
    address internal immutable manufacturer;

    bytes32[2] public batchIds;
    bytes32[2] public claimRoots;
    mapping(uint256 batch => bytes32[4]) internal _serialLeaves;
    mapping(uint256 batch => bytes32[4]) internal _claimLeaves;
    address[] internal actors;

    uint256[] public minted;
    mapping(uint256 tokenId => address) public expectedOwner;
    mapping(uint256 tokenId => bytes32[]) internal _serialProofOf;
    uint256 public violations;
    string public lastViolation;

    constructor(UnitOwnership tokens_, address admin_, address manufacturer_) {
        tokens = tokens_;
        admin = admin_;
        manufacturer = manufacturer_;
        actors.push(address(0xA1));
        actors.push(address(0xA2));
        actors.push(address(0xA3));
        actors.push(vm.addr(THIEF_KEY));
        for (uint256 b; b < 2; ++b) {
            for (uint256 i; i < UNITS; ++i) {
                _serialLeaves[b][i] = keccak256(bytes.concat(keccak256(abi.encode(serialOf(b, i)))));
                string memory claimed = b == 1 && i == 3 ? COUNTERFEIT : serialOf(b, i);
                _claimLeaves[b][i] = keccak256(bytes.concat(keccak256(abi.encode(claimed, vm.addr(claimKeyOf(b, i))))));
            }
        }
    }

    // ------------------------------------------------------------------ tree data for the setup and invariants

    function serialOf(uint256 batch, uint256 index) public pure returns (string memory) {
        return string.concat("SN-", batch == 0 ? "A" : "B", string(abi.encodePacked(bytes1(uint8(48 + index)))));
    }

    function counterfeit() external pure returns (string memory) {
        return COUNTERFEIT;
    }

    /// @dev The private claim key of leaf `index` of batch `batch` (for the counterfeit leaf: the thief's).
    function claimKeyOf(uint256 batch, uint256 index) public pure returns (uint256) {
        return batch == 1 && index == 3 ? THIEF_KEY : 0xC1A1 + batch * UNITS + index;
    }

    function serialRoot(uint256 batch) external view returns (bytes32) {
        return FourLeafTree.root(_serialLeaves[batch]);
    }

    function claimRoot(uint256 batch) external view returns (bytes32) {
        return FourLeafTree.root(_claimLeaves[batch]);
    }

    /// @dev Once, after the setup registered the batches and committed their claim roots.
    function initialize(bytes32[2] calldata batchIds_) external {
        if (batchIds[0] != bytes32(0)) revert("initialized");
        batchIds = batchIds_;
        (claimRoots[0], claimRoots[1]) = (tokens.claimRootOf(batchIds_[0]), tokens.claimRootOf(batchIds_[1]));
    }

    function mintedCount() external view returns (uint256) {
        return minted.length;
    }

    function serialProofOf(uint256 tokenId) external view returns (bytes32[] memory) {
        return _serialProofOf[tokenId];
    }

    function actorCount() external view returns (uint256) {
        return actors.length;
    }

    function actor(uint256 index) external view returns (address) {
        return actors[index];
    }

    // ------------------------------------------------------------------ actions

    /// @dev One claim as submitted: which leaf, under which key it was signed, for whom and to whom it goes.
    struct Attempt {
        uint256 batch;
        uint256 leaf;
        string serial;
        uint256 tokenId;
        address recipient;
        bytes signature;
        bool mayMint;
    }

    /// @dev A claim of leaf `unitSeed` signed with `keySeed`'s choice of key, for one recipient and possibly
    /// submitted for another (a mempool watcher's redirection).
    function claim(uint256 batchSeed, uint256 unitSeed, uint256 keySeed, uint256 recipientSeed, uint256 submittedSeed) external {
        Attempt memory attempt = _attempt(batchSeed % 2, unitSeed % UNITS, keySeed % 3, recipientSeed, submittedSeed);
        bytes32[] memory serialProof = FourLeafTree.proof(_serialLeaves[attempt.batch], attempt.leaf);
        try tokens.claim(
            batchIds[attempt.batch],
            attempt.serial,
            vm.addr(claimKeyOf(attempt.batch, attempt.leaf)),
            serialProof,
            FourLeafTree.proof(_claimLeaves[attempt.batch], attempt.leaf),
            attempt.recipient,
            attempt.signature
        ) returns (uint256 mintedId) {
            if (!attempt.mayMint) return _violation("a claim minted without the unit's key, for a counterfeit, redirected or twice");
            if (mintedId != attempt.tokenId) return _violation("claim returned another token id");
            minted.push(mintedId);
            expectedOwner[mintedId] = attempt.recipient;
            _serialProofOf[mintedId] = serialProof;
        } catch {
            if (attempt.mayMint) _violation("a valid claim by the unit's key failed");
        }
    }

    /// @dev keyChoice 0: the leaf's own key, 1: another leaf's, 2: the thief's. Half the time the submitter keeps
    /// the signed recipient; otherwise it redirects the claim to an actor of its choice.
    function _attempt(uint256 b, uint256 i, uint256 keyChoice, uint256 recipientSeed, uint256 submittedSeed)
        private
        view
        returns (Attempt memory attempt)
    {
        bool isCounterfeit = b == 1 && i == 3;
        attempt.batch = b;
        attempt.leaf = i;
        attempt.serial = isCounterfeit ? COUNTERFEIT : serialOf(b, i);
        attempt.tokenId = tokens.tokenIdOf(batchIds[b], attempt.serial);
        uint256 signingKey = keyChoice == 0 ? claimKeyOf(b, i) : keyChoice == 1 ? claimKeyOf(b, (i + 1) % UNITS) : THIEF_KEY;
        address signedFor = actors[recipientSeed % actors.length];
        attempt.recipient = submittedSeed % 2 == 0 ? signedFor : actors[submittedSeed % actors.length];
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(signingKey, tokens.claimDigest(attempt.tokenId, signedFor));
        attempt.signature = abi.encodePacked(r, s, v);
        attempt.mayMint = !isCounterfeit && signingKey == claimKeyOf(b, i) && attempt.recipient == signedFor
            && expectedOwner[attempt.tokenId] == address(0);
    }

    /// @dev A transfer of a minted token by its owner, the admin, the manufacturer or another actor.
    function transfer(uint256 tokenSeed, uint256 callerSeed, uint256 toSeed) external {
        if (minted.length == 0) return;
        uint256 tokenId = minted[tokenSeed % minted.length];
        address owner = expectedOwner[tokenId];
        uint256 pick = callerSeed % (actors.length + 3);
        address caller = pick < actors.length ? actors[pick] : pick == actors.length ? admin : pick == actors.length + 1 ? manufacturer : owner;
        address to = actors[toSeed % actors.length];
        vm.prank(caller);
        try tokens.transferFrom(owner, to, tokenId) {
            if (caller != owner) return _violation("someone other than the owner moved a token");
            expectedOwner[tokenId] = to;
        } catch {
            if (caller == owner) _violation("the owner's transfer failed");
        }
    }

    /// @dev Anyone, the manufacturer and the admin included, tries to replace a committed claim root.
    function recommit(uint256 batchSeed, uint256 callerSeed, bytes32 root) external {
        uint256 pick = callerSeed % (actors.length + 2);
        address caller = pick < actors.length ? actors[pick] : pick == actors.length ? admin : manufacturer;
        vm.prank(caller);
        try tokens.commitClaimRoot(batchIds[batchSeed % 2], root, 1) {
            _violation("a committed claim root was replaced");
        } catch {}
    }

    function _violation(string memory what) private {
        ++violations;
        lastViolation = what;
    }
}

contract UnitOwnershipInvariantTest is ProvenanceRegistrySetup {
    UnitOwnership internal tokens;
    UnitOwnershipHandler internal handler;

    function setUp() public {
        _deployRegistry();
        tokens = new UnitOwnership(IProvenanceRegistry(address(registry)), address(forwarder), address(this), 0);
        // The handler computes the trees; the batches are registered with its serial roots, then committed.
        handler = new UnitOwnershipHandler(tokens, address(this), manufacturer);
        bytes32[2] memory batchIds;
        for (uint256 b; b < 2; ++b) {
            vm.startPrank(manufacturer);
            batchIds[b] = registry.registerBatch(GTIN, _lot("OWN", b), 4, PRODUCTION_DATE, GLN, bytes32(0), handler.serialRoot(b));
            tokens.commitClaimRoot(batchIds[b], handler.claimRoot(b), 4);
            vm.stopPrank();
        }
        handler.initialize(batchIds);
    }

    /// @notice Only the handler's actions are fuzzed.
    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    /// @dev The handler's actions do what their names say, so the invariants below are not vacuous.
    function test_handler_validClaimMintsAndForgeriesFail() public {
        handler.claim(0, 0, 0, 0, 0); // the unit's own key, for the signed recipient
        assertEq(handler.mintedCount(), 1, "a valid claim mints");
        handler.claim(0, 1, 1, 0, 0); // another unit's key
        handler.claim(0, 1, 0, 0, 1); // redirected to another recipient
        handler.claim(1, 3, 0, 0, 0); // the counterfeit leaf, with the key committed for it
        handler.claim(0, 0, 0, 1, 0); // the same unit again
        assertEq(handler.mintedCount(), 1, "no forgery mints");
        uint256 tokenId = handler.minted(0);
        handler.transfer(0, handler.actorCount(), 1); // the admin
        handler.transfer(0, handler.actorCount() + 2, 1); // the owner
        assertEq(tokens.ownerOf(tokenId), handler.actor(1), "the owner's transfer moved the token");
        assertEq(handler.violations(), 0, handler.lastViolation());
    }

    function invariant_everyCallEndsAsTheRulesSay() public view {
        assertEq(handler.violations(), 0, handler.lastViolation());
    }

    function invariant_everyTokensUnitVerifiesAgainstItsBatchsSerialRoot() public view {
        uint256 count = handler.mintedCount();
        for (uint256 k; k < count; ++k) {
            uint256 tokenId = handler.minted(k);
            (bytes32 batchId, string memory serial) = tokens.unitOf(tokenId);
            assertTrue(registry.verifyUnit(batchId, serial, handler.serialProofOf(tokenId)), "token's unit verifies");
            assertEq(tokens.tokenIdOf(batchId, serial), tokenId, "token id is the unit's");
        }
    }

    function invariant_ownersAreWhomClaimsAndTheirTransfersSay() public view {
        uint256 count = handler.mintedCount();
        for (uint256 k; k < count; ++k) {
            uint256 tokenId = handler.minted(k);
            assertEq(tokens.ownerOf(tokenId), handler.expectedOwner(tokenId), "owner");
        }
        uint256 held;
        for (uint256 a; a < handler.actorCount(); ++a) {
            held += tokens.balanceOf(handler.actor(a));
        }
        assertEq(held, count, "every token is held by an actor");
    }

    function invariant_counterfeitHasNoToken() public view {
        uint256 tokenId = tokens.tokenIdOf(handler.batchIds(1), handler.counterfeit());
        try tokens.ownerOf(tokenId) returns (address) {
            assertTrue(false, "a counterfeit unit has a token");
        } catch {}
    }

    function invariant_claimRootsNeverChange() public view {
        for (uint256 b; b < 2; ++b) {
            assertTrue(tokens.claimRootOf(handler.batchIds(b)) == handler.claimRoots(b), "claim root unchanged");
            assertTrue(handler.claimRoots(b) != bytes32(0), "claim root committed");
        }
    }
}
