// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ICustodyObserver} from "../../contracts/interfaces/ICustodyObserver.sol";
import {ProvenanceRegistry} from "../../contracts/ProvenanceRegistry.sol";
import {IProvenanceRegistry} from "../../contracts/interfaces/IProvenanceRegistry.sol";
import {CheatsBase} from "../helpers/Vm.sol";
import {ProvenanceRegistrySetup} from "./ProvenanceRegistry.setup.sol";

/// @dev A custody observer the handler drives: it watches batches on the handler's behalf and counts the
/// deliveries the registry reports.
contract InvariantCustodyObserver is ICustodyObserver {
    ProvenanceRegistry private immutable registry;
    uint256 public deliveries;
    uint256 public attestations;

    constructor(ProvenanceRegistry registry_) {
        registry = registry_;
    }

    function setWatched(bytes32 batchId, bool watched) external {
        registry.setBatchWatched(batchId, watched);
    }

    function watch(bytes32 batchId, address receiver) external {
        registry.watchBatch(batchId, receiver);
    }

    function onCustodyAccepted(bytes32, address, address) external {
        if (msg.sender != address(registry)) revert("not the registry");
        ++deliveries;
    }

    function onQualityAttested(bytes32, address, bool) external {
        if (msg.sender != address(registry)) revert("not the registry");
        ++attestations;
    }
}

/// @dev Ghost state the handler keeps about each batch: what the rules say the registry must show.
struct Ghost {
    uint64 gtin;
    address manufacturer;
    /// @dev Who held the GTIN's longest granted prefix when the registered ancestor was registered.
    address prefixHolderAtRegistration;
    bytes32 parent;
    bytes32 registeredAncestor;
    uint256 depth;
    address custodian;
    address pending;
    address custodianAtRecall;
    bool recalled;
    bool split;
    bool watched;
}

/// @dev The invariant fuzzer calls these actions in random order with random actors: two manufacturers
/// holding company prefixes the admin grants, revokes and nests, custodians, the regulator and outsiders,
/// sometimes suspended. Actions try what an attacker would (foreign GTINs, "/" in registered lots, child lots
/// not derived from their parent or named after a maker's future lot, forged or foreign serial roots,
/// unauthorised recalls, observer swaps while batches are watched). Each action predicts from ghost state
/// whether the registry must accept the call and counts any disagreement as a violation.
// A ghost model of the whole registry keeps one variable per thing it tracks.
// solhint-disable-next-line max-states-count
contract ProvenanceRegistryHandler is CheatsBase {
    uint64 internal constant GLN = 8412345000012;
    uint40 internal constant PRODUCTION_DATE = 1_700_000_000;
    uint256 internal constant MIN_PREFIX_LENGTH = 4;

    ProvenanceRegistry internal immutable registry;
    address internal immutable regulator;
    address[] internal actors;
    address[] public makers;

    // ---------------------------------------------------------------- company prefixes (ghost)
    /// @dev Prefixes the admin may grant: maker A's 8412345, a nested 84123450 inside it, an enclosing 84123
    /// around it, and maker B's 5012345.
    uint64[] internal prefixes;
    uint8[] internal prefixLengths;
    mapping(uint256 prefixIndex => address) public prefixHolder;
    /// @dev GTINs under the prefixes above: one under all three nested ones, one under 8412345 only, one under
    /// 84123 only, one under 5012345, and one under none.
    uint64[] public gtins;

    // ---------------------------------------------------------------- batches and serials (ghost)
    bytes32[] public batches;
    mapping(bytes32 batchId => Ghost) internal _ghost;
    mapping(bytes32 batchId => string) public lotOf;
    mapping(bytes32 parentId => bytes32[]) internal _childrenOf;
    bytes32[] public splitParents;
    /// @dev Batches the observer watched and batches proposed for handoff, picked more often (see `_pick`).
    bytes32[] internal watchedPicks;
    bytes32[] internal proposedPicks;
    /// @dev Lots registered so far (reused under other GTINs).
    string[] internal registeredLots;

    /// @dev Every serial tree anyone built: the manufacturers' registrations and the forgeries custodians tried.
    bytes32[] public treeRoots;
    mapping(uint256 treeIndex => string[]) internal _treeSerials;
    mapping(uint256 treeIndex => mapping(uint256 leaf => bytes32[])) internal _treeProofs;
    mapping(bytes32 registeredBatchId => uint256 treeIndexPlusOne) internal _registeredTree;
    /// @dev keccak256(serial) => true for the serials a registration committed to.
    mapping(bytes32 registeredBatchId => mapping(bytes32 serialHash => bool)) public registeredSerial;

    // ---------------------------------------------------------------- custody observers (ghost)
    InvariantCustodyObserver[2] public observers;
    address public currentObserver;
    uint256 public watchedCount;
    mapping(address observer => uint256) public expectedDeliveries;

    mapping(address account => bool) public suspended;

    /// @notice Calls whose outcome the rules contradict; must stay 0.
    uint256 public violations;
    string public lastViolation;
    /// @notice Successful calls per action, to see that the run reached interesting states.
    mapping(bytes4 selector => uint256) public successes;
    uint256 internal lotNonce;
    uint256 internal serialNonce;

    constructor(ProvenanceRegistry registry_, address[] memory actors_, address[] memory makers_, address regulator_) {
        registry = registry_;
        actors = actors_;
        makers = makers_;
        regulator = regulator_;
        observers[0] = new InvariantCustodyObserver(registry_);
        observers[1] = new InvariantCustodyObserver(registry_);
        prefixes = [uint64(8412345), 84123450, 84123, 5012345];
        prefixLengths = [uint8(7), 8, 5, 7];
        gtins = [
            _withCheckDigit(841234500010),
            _withCheckDigit(841234590001),
            _withCheckDigit(841239000001),
            _withCheckDigit(501234500020),
            _withCheckDigit(400000000001)
        ];
    }

    /// @notice Called once by the test after it handed this handler the admin role: maker A holds 8412345,
    /// maker B holds 5012345.
    function grantInitialPrefixes() external {
        _grant(0, makers[0]);
        _grant(3, makers[1]);
    }

    // ---------------------------------------------------------------- views for the invariants

    function batchCount() external view returns (uint256) {
        return batches.length;
    }

    function splitParentCount() external view returns (uint256) {
        return splitParents.length;
    }

    function treeCount() external view returns (uint256) {
        return treeRoots.length;
    }

    function ghost(bytes32 id) external view returns (Ghost memory) {
        return _ghost[id];
    }

    function childrenOf(bytes32 parentId) external view returns (bytes32[] memory) {
        return _childrenOf[parentId];
    }

    function treeSerials(uint256 treeIndex) external view returns (string[] memory) {
        return _treeSerials[treeIndex];
    }

    function treeProof(uint256 treeIndex, uint256 leaf) external view returns (bytes32[] memory) {
        return _treeProofs[treeIndex][leaf];
    }

    /// @notice The tree the registration of `id`'s registered ancestor committed to.
    function registeredTreeOf(bytes32 id) external view returns (uint256) {
        return _registeredTree[_ghost[id].registeredAncestor] - 1;
    }

    function observerCount() external pure returns (uint256) {
        return 2;
    }

    /// @notice True when the batch or one of its ancestors was recalled.
    function lineageRecalled(bytes32 id) public view returns (bool) {
        for (bytes32 ancestor = id; ancestor != bytes32(0); ancestor = _ghost[ancestor].parent) {
            if (_ghost[ancestor].recalled) return true;
        }
        return false;
    }

    /// @notice The maker holding the longest granted prefix of `gtin` (address(0) if none).
    function holderOf(uint64 gtin) public view returns (address holder) {
        uint256 bestLength;
        for (uint256 p; p < prefixes.length; ++p) {
            if (prefixHolder[p] == address(0) || prefixLengths[p] <= bestLength) continue;
            if ((gtin % 1e13) / 10 ** (13 - uint256(prefixLengths[p])) == prefixes[p]) {
                (holder, bestLength) = (prefixHolder[p], prefixLengths[p]);
            }
        }
    }

    // ---------------------------------------------------------------- actions: prefixes

    /// @notice The admin grants or revokes a company prefix; a grant inside another maker's shorter prefix
    /// must be refused.
    function togglePrefix(uint256 prefixSeed, uint256 makerSeed) external {
        uint256 p = prefixSeed % prefixes.length;
        if (prefixHolder[p] != address(0)) {
            registry.revokeCompanyPrefix(prefixes[p], prefixLengths[p]);
            prefixHolder[p] = address(0);
            return;
        }
        address maker = makers[makerSeed % makers.length];
        bool allowed = true;
        for (uint256 q; q < prefixes.length; ++q) {
            address other = prefixHolder[q];
            if (other == address(0) || other == maker || prefixLengths[q] >= prefixLengths[p]) continue;
            if (prefixes[p] / 10 ** uint256(prefixLengths[p] - prefixLengths[q]) == prefixes[q]) allowed = false;
        }
        try registry.grantCompanyPrefix(maker, prefixes[p], prefixLengths[p]) {
            if (!allowed) _violation("a prefix was granted inside another maker's prefix");
            prefixHolder[p] = maker;
            ++successes[msg.sig];
        } catch {
            if (allowed) _violation("a free prefix could not be granted");
        }
    }

    // ---------------------------------------------------------------- actions: batches

    /// @notice Someone registers a lot of some GTIN: usually a maker its own next lot, sometimes a lot of a GTIN
    /// whose prefix another maker holds, a lot with "/" (a split child's name), or an existing lot again.
    function register(uint256 actorSeed, uint256 gtinSeed, uint256 lotSeed, uint64 quantitySeed, uint256 serialSeed) external {
        address actor = actorSeed % 5 == 0 ? actors[actorSeed % actors.length] : makers[actorSeed % makers.length];
        uint64 gtin = gtins[gtinSeed % gtins.length];
        uint256 lotKind = lotSeed % 6;
        string memory lot;
        if (lotKind == 1 && registeredLots.length != 0) {
            // Reuse a lot name: fine under another GTIN, a duplicate under the same one.
            lot = registeredLots[lotSeed % registeredLots.length];
        } else if (lotKind == 2 && batches.length != 0) {
            // Squat a split child's name (an existing batch's future child, or a grandchild's).
            lot = string.concat(lotOf[_batch(lotSeed)], "/", _decimal(lotSeed % 3));
        } else {
            lot = string.concat("I", _decimal(++lotNonce));
        }
        uint64 quantity = uint64(bound(quantitySeed, 2, 1_000_000));
        (bytes32 root, uint256 treeIndex) = _newRegisteredTree(serialSeed);
        string memory refusal = _registrationRefusal(actor, gtin, lot);
        bool allowed = bytes(refusal).length == 0;

        vm.prank(actor);
        try registry.registerBatch(gtin, lot, quantity, PRODUCTION_DATE, GLN, bytes32(0), root) returns (bytes32 id) {
            if (!allowed) _violation(string.concat("registered although ", refusal));
            ++successes[msg.sig];
            batches.push(id);
            lotOf[id] = lot;
            registeredLots.push(lot);
            _ghost[id] = Ghost({
                gtin: gtin,
                manufacturer: actor,
                prefixHolderAtRegistration: holderOf(gtin),
                parent: bytes32(0),
                registeredAncestor: id,
                depth: 0,
                custodian: actor,
                pending: address(0),
                custodianAtRecall: address(0),
                recalled: false,
                split: false,
                watched: false
            });
            _registeredTree[id] = treeIndex + 1;
            string[] storage serials = _treeSerials[treeIndex];
            for (uint256 i; i < serials.length; ++i) {
                registeredSerial[id][keccak256(bytes(serials[i]))] = true;
            }
        } catch {
            // Nobody may take a maker's fresh lot of its own GTIN away from it, whatever ran before.
            if (allowed) _violation("a maker could not register a fresh lot of its own GTIN");
        }
    }

    function propose(uint256 actorSeed, uint256 batchSeed, uint256 receiverSeed) external {
        if (batches.length == 0) return;
        bytes32 id = _pick(batchSeed);
        Ghost storage g = _ghost[id];
        // Mostly the custodian, sometimes anyone.
        address actor = actorSeed % 4 != 0 ? g.custodian : _actor(actorSeed);
        _propose(id, actor, _actor(receiverSeed));
    }

    function accept(uint256 actorSeed, uint256 batchSeed) external {
        if (batches.length == 0) return;
        bytes32 id = _pick(batchSeed);
        address pending = _ghost[id].pending;
        // Mostly the pending receiver, sometimes anyone.
        _accept(id, actorSeed % 4 != 0 && pending != address(0) ? pending : _actor(actorSeed));
    }

    /// @notice A watched batch changes hands (its custodian proposes, the receiver accepts): the observer must
    /// hear of it, unless a recall in its lineage froze it.
    function deliverWatched(uint256 batchSeed, uint256 receiverSeed) external {
        if (watchedPicks.length == 0) return;
        bytes32 id = watchedPicks[batchSeed % watchedPicks.length];
        Ghost storage g = _ghost[id];
        if (g.pending == address(0)) _propose(id, g.custodian, _actor(receiverSeed));
        if (g.pending != address(0)) _accept(id, g.pending);
    }

    function _propose(bytes32 id, address actor, address receiver) private {
        Ghost storage g = _ghost[id];
        vm.prank(actor);
        try registry.proposeHandoff(id, receiver, GLN, IProvenanceRegistry.BusinessStep.Shipping) {
            if (actor != g.custodian) _violation("a non-custodian proposed a handoff");
            if (lineageRecalled(id)) _violation("a recalled batch (or a descendant of one) was proposed");
            if (g.split) _violation("a split batch was proposed");
            if (suspended[actor]) _violation("a suspended custodian proposed");
            ++successes[msg.sig];
            g.pending = receiver;
            proposedPicks.push(id);
        } catch {}
    }

    function _accept(bytes32 id, address actor) private {
        Ghost storage g = _ghost[id];
        vm.prank(actor);
        try registry.acceptHandoff(id, GLN, IProvenanceRegistry.BusinessStep.Receiving) {
            if (g.pending == address(0) || actor != g.pending) {
                _violation("custody accepted by someone the custodian did not propose");
            }
            if (lineageRecalled(id)) _violation("a recalled batch (or a descendant of one) changed hands");
            if (suspended[actor]) _violation("a suspended receiver accepted");
            ++successes[msg.sig];
            g.custodian = actor;
            g.pending = address(0);
            if (g.watched && currentObserver != address(0)) ++expectedDeliveries[currentObserver];
        } catch {}
    }

    function reject(uint256 actorSeed, uint256 batchSeed) external {
        if (batches.length == 0) return;
        bytes32 id = _pick(batchSeed);
        Ghost storage g = _ghost[id];
        address actor = actorSeed % 2 == 0 && g.pending != address(0) ? g.pending : _actor(actorSeed);
        vm.prank(actor);
        try registry.rejectHandoff(id, bytes32(0)) {
            if (actor != g.pending) _violation("a handoff was rejected by someone other than its receiver");
            if (suspended[actor]) _violation("a suspended receiver rejected");
            ++successes[msg.sig];
            g.pending = address(0);
        } catch {}
    }

    function cancel(uint256 actorSeed, uint256 batchSeed) external {
        if (batches.length == 0) return;
        bytes32 id = _pick(batchSeed);
        Ghost storage g = _ghost[id];
        address actor = actorSeed % 2 == 0 ? g.custodian : _actor(actorSeed);
        vm.prank(actor);
        try registry.cancelHandoff(id) {
            if (actor != g.custodian) _violation("a non-custodian cancelled a handoff");
            if (suspended[actor]) _violation("a suspended custodian cancelled");
            ++successes[msg.sig];
            g.pending = address(0);
        } catch {}
    }

    /// @notice Mostly an honest split by the custodian; sometimes one child is forged: named after a maker's
    /// future lot, after another batch, with an empty or nested suffix, twice, or carrying a forged or a
    /// foreign serial root.
    function split(uint256 actorSeed, uint256 batchSeed, uint256 countSeed, uint256 quantitySeed, uint256 attackSeed)
        external
    {
        if (batches.length == 0) return;
        bytes32 id = _pick(batchSeed);
        Ghost storage g = _ghost[id];
        address actor = actorSeed % 3 != 0 ? g.custodian : _actor(actorSeed);
        (,,,,, uint64 parentQuantity,, bytes32 root) = registry.batch(id);
        uint256 count = bound(countSeed, 1, 4);
        IProvenanceRegistry.ChildBatch[] memory children = _children(lotOf[id], parentQuantity, root, count, quantitySeed);
        string memory refusal = _forgeChild(id, children, attackSeed);
        if (bytes(refusal).length == 0) refusal = _splitRefusal(id, actor, children, parentQuantity);
        bool allowed = bytes(refusal).length == 0;

        vm.prank(actor);
        try registry.splitBatch(id, children) returns (bytes32[] memory childIds) {
            if (!allowed) _violation(string.concat("split although ", refusal));
            ++successes[msg.sig];
            g.split = true;
            splitParents.push(id);
            for (uint256 i; i < childIds.length; ++i) {
                bytes32 childId = childIds[i];
                batches.push(childId);
                _childrenOf[id].push(childId);
                lotOf[childId] = children[i].lot;
                _ghost[childId] = Ghost({
                    gtin: g.gtin,
                    manufacturer: g.manufacturer,
                    prefixHolderAtRegistration: g.prefixHolderAtRegistration,
                    parent: id,
                    registeredAncestor: g.registeredAncestor,
                    depth: g.depth + 1,
                    custodian: actor,
                    pending: address(0),
                    custodianAtRecall: address(0),
                    recalled: false,
                    split: false,
                    watched: false
                });
            }
        } catch {
            if (allowed) _violation("an honest split by the custodian failed");
        }
    }

    /// @notice The batch's maker, the other maker, the regulator or anyone recalls a batch (split or not).
    function recall(uint256 actorSeed, uint256 batchSeed) external {
        if (batches.length == 0) return;
        bytes32 id = _pick(batchSeed);
        // Sometimes the parent of a batch in transit, so the recall reaches a child mid-handoff.
        if (batchSeed % 6 == 1 && _ghost[id].parent != bytes32(0)) id = _ghost[id].parent;
        Ghost storage g = _ghost[id];
        uint256 who = actorSeed % 4;
        address actor = who == 0 ? regulator : who == 1 ? g.manufacturer : who == 2 ? _otherMaker(g.manufacturer) : _actor(actorSeed);
        string memory refusal = actor != g.manufacturer && actor != regulator
            ? "the caller is neither its manufacturer nor the regulator"
            : suspended[actor] ? "the caller is suspended" : lineageRecalled(id) ? "it or an ancestor was recalled" : "";
        bool allowed = bytes(refusal).length == 0;
        vm.prank(actor);
        try registry.recallBatch(id, bytes32(0)) {
            if (!allowed) _violation(string.concat("recalled although ", refusal));
            ++successes[msg.sig];
            g.recalled = true;
            if (!g.split) g.pending = address(0);
            _freezeCustody(id);
        } catch {
            if (allowed) _violation("the maker or regulator could not recall");
        }
    }

    function toggleSuspension(uint256 actorSeed) external {
        address actor = _actor(actorSeed);
        if (suspended[actor]) {
            try registry.reinstateParticipant(actor) {
                suspended[actor] = false;
            } catch {}
        } else {
            try registry.suspendParticipant(actor, bytes32(0)) {
                suspended[actor] = true;
            } catch {}
        }
    }

    /// @notice Anyone attests a batch: only an active inspector may, never on a split batch, and the observer
    /// hears of every attestation of a batch it watches (an escrow order may name its inspector) and no other.
    function attest(uint256 actorSeed, uint256 batchSeed, bool passed) external {
        if (batches.length == 0) return;
        bytes32 id = _pick(batchSeed);
        address actor = _actor(actorSeed);
        Ghost storage g = _ghost[id];
        bool allowed = registry.hasRole(registry.INSPECTOR_ROLE(), actor) && !suspended[actor] && !g.split;
        InvariantCustodyObserver observer = InvariantCustodyObserver(currentObserver);
        uint256 heardBefore = address(observer) == address(0) ? 0 : observer.attestations();
        vm.prank(actor);
        try registry.attestQuality(id, passed, bytes32(0)) {
            if (!allowed) _violation("attested by a non-inspector, a suspended one, or on a split batch");
            ++successes[msg.sig];
            if (address(observer) == address(0)) return;
            uint256 heard = observer.attestations() - heardBefore;
            if (heard != (g.watched ? 1 : 0)) _violation("the observer was not told of exactly the watched batch's attestation");
        } catch {
            if (allowed) _violation("an active inspector could not attest");
        }
    }

    // ---------------------------------------------------------------- actions: custody observer

    /// @notice An observer (the current one, a former one) or an outsider watches or unwatches a batch.
    function watch(uint256 callerSeed, uint256 batchSeed, bool watched, bool throughWatchBatch) external {
        if (batches.length == 0) return;
        bytes32 id = _pick(batchSeed);
        // Mostly the current observer, sometimes the other (former) one or an outsider.
        uint256 current = currentObserver == address(observers[1]) ? 1 : 0;
        uint256 pick = callerSeed % 4;
        uint256 who = pick < 2 ? current : pick == 2 ? 1 - current : 2;
        bool allowed = who < 2 && address(observers[who]) == currentObserver;
        bool ok;
        if (who == 2) {
            vm.prank(_actor(callerSeed));
            try registry.setBatchWatched(id, watched) {
                ok = true;
            } catch {}
        } else if (throughWatchBatch) {
            watched = true;
            try observers[who].watch(id, _actor(callerSeed)) {
                ok = true;
            } catch {}
        } else {
            try observers[who].setWatched(id, watched) {
                ok = true;
            } catch {}
        }
        if (ok != allowed) _violation(ok ? "someone but the observer changed a watch" : "the observer could not watch");
        if (!ok) return;
        ++successes[msg.sig];
        if (watched) watchedPicks.push(id);
        if (_ghost[id].watched != watched) {
            _ghost[id].watched = watched;
            if (watched) ++watchedCount;
            else --watchedCount;
        }
    }

    /// @notice The admin (or an outsider) replaces the custody observer: refused while a batch is watched.
    function changeObserver(uint256 observerSeed, bool asOutsider) external {
        uint256 pick = observerSeed % 3;
        address next = pick == 2 ? address(0) : address(observers[pick]);
        if (asOutsider) vm.prank(_actor(observerSeed));
        try registry.setCustodyObserver(next) {
            if (asOutsider) _violation("an outsider replaced the custody observer");
            if (watchedCount != 0) _violation("the observer was replaced while it watched batches");
            ++successes[msg.sig];
            currentObserver = next;
        } catch {
            if (!asOutsider && watchedCount == 0) _violation("the admin could not replace an idle observer");
        }
    }

    // ---------------------------------------------------------------- helpers

    /// @dev Applies the attack `attackSeed` picks to one child; returns what makes the split forged ("" if nothing).
    function _forgeChild(bytes32 parentId, IProvenanceRegistry.ChildBatch[] memory children, uint256 attackSeed)
        private
        returns (string memory)
    {
        uint256 attack = attackSeed % 12;
        uint256 last = children.length - 1;
        string memory parentLot = lotOf[parentId];
        bytes32 parentRoot = children[0].serialRoot;
        if (attack == 1) {
            // A maker's future lot (no "/"), under the parent's GTIN.
            children[last].lot = string.concat("I", _decimal(lotNonce + 1 + attackSeed % 3));
            return "a child took a maker's future lot";
        }
        if (attack == 2) {
            // Named after another batch: forged unless that batch has the same lot under another GTIN.
            string memory otherLot = lotOf[_batch(attackSeed / 12)];
            children[last].lot = string.concat(otherLot, "/9");
            return keccak256(bytes(otherLot)) != keccak256(bytes(parentLot)) ? "a child is named after another batch" : "";
        }
        if (attack == 3) {
            children[last].lot = string.concat(parentLot, "/");
            return "a child's lot has an empty suffix";
        }
        if (attack == 4) {
            children[last].lot = string.concat(parentLot, "/0/1");
            return "a child is named after a grandchild";
        }
        if (attack == 5 && last != 0) {
            children[last].lot = children[0].lot;
            return "two children share a lot";
        }
        if (attack == 6) {
            // A forged tree: the fake serial alone, or with the units the maker really registered.
            children[attackSeed % children.length].serialRoot = _newForgedTree(parentId, attackSeed);
            return "a child carries a forged serial root";
        }
        if (attack == 7) {
            // Another registration's root (the other maker's, or another lot's).
            bytes32 foreign = treeRoots[(attackSeed / 12) % treeRoots.length];
            children[last].serialRoot = foreign;
            return foreign != parentRoot ? "a child carries another registration's serial root" : "";
        }
        return "";
    }

    /// @dev Why the registry must refuse this registration ("" if it must accept it).
    function _registrationRefusal(address actor, uint64 gtin, string memory lot) private view returns (string memory) {
        if (!_isMaker(actor)) return "the caller is not a manufacturer";
        if (suspended[actor]) return "the manufacturer is suspended";
        if (holderOf(gtin) != actor) return "the GTIN's company prefix is not the caller's";
        if (_hasSlash(lot)) return "the lot contains '/'";
        if (_ghost[registry.batchIdOf(gtin, lot)].manufacturer != address(0)) return "the GTIN and lot are taken";
        return "";
    }

    /// @dev Why the registry must refuse this (unforged) split ("" if it must accept it).
    function _splitRefusal(
        bytes32 id,
        address actor,
        IProvenanceRegistry.ChildBatch[] memory children,
        uint64 parentQuantity
    ) private view returns (string memory) {
        Ghost storage g = _ghost[id];
        if (actor != g.custodian) return "the caller is not the custodian";
        if (suspended[actor]) return "the custodian is suspended";
        if (lineageRecalled(id)) return "it or an ancestor was recalled";
        if (g.split) return "it was split before";
        if (g.pending != address(0)) return "it is in transit";
        if (g.watched) return "the custody observer watches it";
        if (g.depth >= registry.MAX_LINEAGE_DEPTH()) return "its lineage is at its maximum depth";
        if (children.length < 2) return "it has fewer than two children";
        uint256 total;
        for (uint256 i; i < children.length; ++i) {
            if (children[i].quantity == 0) return "a child has no units";
            total += children[i].quantity;
        }
        if (total != parentQuantity) return "the children do not add up to the parent";
        return "";
    }

    /// @dev A tree of 1-4 fresh serials, committed to by a registration (if it succeeds).
    function _newRegisteredTree(uint256 serialSeed) private returns (bytes32 root, uint256 treeIndex) {
        uint256 count = bound(serialSeed, 1, 4);
        string[] memory serials = new string[](count);
        for (uint256 i; i < count; ++i) {
            serials[i] = string.concat("SN-", _decimal(++serialNonce));
        }
        return _addTree(serials);
    }

    /// @dev A tree a custodian of `parentId` builds to pass a fake serial off as the maker's: the fake alone
    /// (one leaf), or the registered serials plus the fake.
    function _newForgedTree(bytes32 parentId, uint256 seed) private returns (bytes32 root) {
        string memory fake = string.concat("FAKE-", _decimal(++serialNonce));
        string[] memory genuine = _treeSerials[_registeredTree[_ghost[parentId].registeredAncestor] - 1];
        uint256 count = seed % 2 == 0 ? 1 : genuine.length + 1;
        string[] memory serials = new string[](count);
        for (uint256 i; i + 1 < count; ++i) {
            serials[i] = genuine[i];
        }
        serials[count - 1] = fake;
        (root,) = _addTree(serials);
    }

    /// @dev Builds OpenZeppelin's (commutative) Merkle tree of `serials`' StandardMerkleTree leaves, with a
    /// proof per leaf, and remembers it.
    function _addTree(string[] memory serials) private returns (bytes32 root, uint256 treeIndex) {
        uint256 count = serials.length;
        bytes32[] memory level = new bytes32[](count);
        for (uint256 i; i < count; ++i) {
            level[i] = leafOf(serials[i]);
        }
        treeIndex = treeRoots.length;
        uint256[] memory position = new uint256[](count);
        for (uint256 i; i < count; ++i) {
            position[i] = i;
        }
        for (uint256 width = count; width > 1; width = (width + 1) / 2) {
            for (uint256 i; i < count; ++i) {
                uint256 sibling = position[i] ^ 1;
                if (sibling < width) _treeProofs[treeIndex][i].push(level[sibling]);
                position[i] /= 2;
            }
            for (uint256 j; j < (width + 1) / 2; ++j) {
                level[j] = 2 * j + 1 < width ? _hashPair(level[2 * j], level[2 * j + 1]) : level[2 * j];
            }
        }
        root = level[0];
        treeRoots.push(root);
        for (uint256 i; i < count; ++i) {
            _treeSerials[treeIndex].push(serials[i]);
        }
    }

    /// @notice The StandardMerkleTree leaf of `serial` (encoding ["string"]).
    function leafOf(string memory serial) public pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(serial))));
    }

    function _hashPair(bytes32 a, bytes32 b) private pure returns (bytes32) {
        return a < b ? keccak256(abi.encode(a, b)) : keccak256(abi.encode(b, a));
    }

    /// @dev Records the custodian of the batch and every descendant: a recall freezes them all.
    function _freezeCustody(bytes32 id) private {
        _ghost[id].custodianAtRecall = _ghost[id].custodian;
        bytes32[] storage children = _childrenOf[id];
        for (uint256 i; i < children.length; ++i) {
            _freezeCustody(children[i]);
        }
    }

    function _grant(uint256 p, address maker) private {
        registry.grantCompanyPrefix(maker, prefixes[p], prefixLengths[p]);
        prefixHolder[p] = maker;
    }

    function _isMaker(address account) private view returns (bool) {
        return account == makers[0] || account == makers[1];
    }

    function _otherMaker(address maker) private view returns (address) {
        return maker == makers[0] ? makers[1] : makers[0];
    }

    function _actor(uint256 seed) private view returns (address) {
        return actors[seed % actors.length];
    }

    function _batch(uint256 seed) private view returns (bytes32) {
        return batches[seed % batches.length];
    }

    /// @dev A batch to act on: now and then one the observer watched or one proposed for handoff, where the
    /// interleavings that matter happen (split or delivery while watched, recall while in transit).
    function _pick(uint256 seed) private view returns (bytes32) {
        uint256 mode = seed % 6;
        if (mode == 0 && watchedPicks.length != 0) return watchedPicks[(seed / 6) % watchedPicks.length];
        if (mode == 1 && proposedPicks.length != 0) return proposedPicks[(seed / 6) % proposedPicks.length];
        return _batch(seed / 6);
    }

    /// @dev `count` children named `<parent lot>/<i>` with the parent's root, usually adding up to the parent.
    function _children(string memory parentLot, uint64 parentQuantity, bytes32 root, uint256 count, uint256 quantitySeed)
        private
        pure
        returns (IProvenanceRegistry.ChildBatch[] memory children)
    {
        children = new IProvenanceRegistry.ChildBatch[](count);
        uint64 remaining = parentQuantity;
        for (uint256 i; i < count; ++i) {
            uint64 quantity;
            if (i + 1 == count) {
                // Usually the exact remainder, sometimes off by one, to exercise the sum check.
                quantity = quantitySeed % 5 == 0 ? remaining + 1 : remaining;
            } else {
                uint256 maxQuantity = remaining > count - i ? remaining - (count - i - 1) : 1;
                quantity = uint64(bound(uint256(keccak256(abi.encode(quantitySeed, i))), 1, maxQuantity));
            }
            remaining = quantity <= remaining ? remaining - quantity : 0;
            children[i] = IProvenanceRegistry.ChildBatch({
                lot: string.concat(parentLot, "/", _decimal(i)),
                quantity: quantity,
                serialRoot: root
            });
        }
    }

    function _hasSlash(string memory lot) private pure returns (bool) {
        bytes memory raw = bytes(lot);
        for (uint256 i; i < raw.length; ++i) {
            if (raw[i] == "/") return true;
        }
        return false;
    }

    /// @dev The GTIN-13 of 12 data digits with its GS1 check digit.
    function _withCheckDigit(uint64 data) private pure returns (uint64) {
        uint256 sum;
        uint256 rest = data;
        for (uint256 weight = 3; rest != 0; weight = 4 - weight) {
            sum += (rest % 10) * weight;
            rest /= 10;
        }
        return data * 10 + uint64((10 - (sum % 10)) % 10);
    }

    function _violation(string memory what) private {
        ++violations;
        lastViolation = what;
    }

    function _decimal(uint256 n) private pure returns (string memory) {
        if (n == 0) return "0";
        bytes memory digits;
        while (n != 0) {
            digits = bytes.concat(bytes1(uint8(48 + (n % 10))), digits);
            n /= 10;
        }
        return string(digits);
    }
}

/// @notice Invariants over random sequences of registry actions by two manufacturers, custodians, the
/// regulator, the admin and outsiders: custody moves only by accepted handoffs, a unit verifies only if its
/// batch's manufacturer registered it, every batch is its GTIN's prefix holder's at registration, splits add
/// up, recalls reach every descendant and freeze it, and the watched-batch count is exact.
contract ProvenanceRegistryInvariantTest is ProvenanceRegistrySetup {
    ProvenanceRegistryHandler internal handler;
    address internal rival = address(0x1007);

    function setUp() public {
        _deployRegistry();
        // Clear the setup's grant: the handler grants and revokes every prefix itself.
        registry.revokeCompanyPrefix(COMPANY_PREFIX, COMPANY_PREFIX_LENGTH);
        registry.onboardParticipant(rival, registry.MANUFACTURER_ROLE(), GLN, "rival");
        address[] memory actors = new address[](participants.length + 3);
        for (uint256 i; i < participants.length; ++i) {
            actors[i] = participants[i];
        }
        actors[participants.length] = rival;
        actors[participants.length + 1] = address(0xBAD1); // never onboarded
        actors[participants.length + 2] = address(0xBAD2);
        address[] memory makers = new address[](2);
        (makers[0], makers[1]) = (manufacturer, rival);
        handler = new ProvenanceRegistryHandler(registry, actors, makers, regulator);
        // The handler grants prefixes, suspends participants and swaps the observer, so it must be the admin:
        // hand it the role through the two-step transfer (the delay is 0 in tests).
        registry.beginDefaultAdminTransfer(address(handler));
        vm.warp(block.timestamp + 1);
        vm.prank(address(handler));
        registry.acceptDefaultAdminTransfer();
        handler.grantInitialPrefixes();
        handler.changeObserver(0, false);
        // Start with one batch per maker so the first actions have something to work on.
        handler.register(2, 0, 0, 1_000, 3); // maker A, GTIN under 8412345
        handler.register(1, 3, 0, 1_000, 2); // maker B, GTIN under 5012345
        assertEq(handler.batchCount(), 2, "initial batches");
    }

    /// @notice Only the handler's actions are fuzzed (not the registry, the observers or the forwarder directly).
    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function invariant_everyCallEndsAsTheRulesSay() public view {
        assertEq(handler.violations(), 0, handler.lastViolation());
    }

    function invariant_onlyTheCustodianMovesCustody() public view {
        uint256 count = handler.batchCount();
        for (uint256 i; i < count; ++i) {
            bytes32 id = handler.batches(i);
            Ghost memory g = handler.ghost(id);
            assertEq(_custodian(id), g.custodian, "custodian matches accepted handoffs");
            assertEq(_pending(id), g.pending, "pending matches proposals");
        }
    }

    function invariant_splitQuantitiesSumToTheParent() public view {
        uint256 count = handler.splitParentCount();
        for (uint256 i; i < count; ++i) {
            bytes32 parentId = handler.splitParents(i);
            bytes32[] memory children = handler.childrenOf(parentId);
            assertTrue(children.length >= 2, "at least two children");
            uint256 total;
            for (uint256 j; j < children.length; ++j) {
                total += _quantity(children[j]);
            }
            assertEq(total, _quantity(parentId), "children add up to the parent");
            IProvenanceRegistry.BatchStatus expected = handler.lineageRecalled(parentId)
                ? IProvenanceRegistry.BatchStatus.Recalled
                : IProvenanceRegistry.BatchStatus.Split;
            assertTrue(_status(parentId) == expected, "parent is split (or recalled)");
        }
    }

    /// @notice A recall reaches every descendant: all read Recalled and none changes hands again.
    function invariant_recalledBatchesAndTheirDescendantsNeverMove() public view {
        uint256 count = handler.batchCount();
        for (uint256 i; i < count; ++i) {
            bytes32 id = handler.batches(i);
            if (!handler.lineageRecalled(id)) {
                assertTrue(_status(id) != IProvenanceRegistry.BatchStatus.Recalled, "not recalled");
                continue;
            }
            Ghost memory g = handler.ghost(id);
            assertTrue(_status(id) == IProvenanceRegistry.BatchStatus.Recalled, "still recalled");
            assertEq(_custodian(id), g.custodianAtRecall, "custodian as at the recall");
            if (g.recalled && !g.split) assertEq(_pending(id), address(0), "no pending handoff");
        }
    }

    /// @notice The registry's lineage is the one the splits made.
    function invariant_parentOfMatchesTheSplits() public view {
        uint256 count = handler.batchCount();
        for (uint256 i; i < count; ++i) {
            bytes32 id = handler.batches(i);
            assertTrue(registry.parentOf(id) == handler.ghost(id).parent, "parent as split");
        }
    }

    /// @notice A unit verifies only if the manufacturer registered it: for every batch (registered or split off)
    /// and every serial of every tree anyone built (both makers' registrations, custodians' forgeries), the proof
    /// from that tree verifies only for serials the batch's registered ancestor committed to, and every one of
    /// those verifies with its registration's proof.
    function invariant_aUnitVerifiesOnlyIfTheManufacturerRegisteredIt() public view {
        uint256 count = handler.batchCount();
        uint256 trees = handler.treeCount();
        for (uint256 i; i < count; ++i) {
            bytes32 id = handler.batches(i);
            bytes32 registeredAncestor = handler.ghost(id).registeredAncestor;
            uint256 registeredTree = handler.registeredTreeOf(id);
            for (uint256 t; t < trees; ++t) {
                string[] memory serials = handler.treeSerials(t);
                for (uint256 s; s < serials.length; ++s) {
                    bool verifies = registry.verifyUnit(id, serials[s], handler.treeProof(t, s));
                    if (t == registeredTree) assertTrue(verifies, "a registered unit does not verify");
                    else if (verifies) {
                        assertTrue(
                            handler.registeredSerial(registeredAncestor, keccak256(bytes(serials[s]))),
                            "a unit the manufacturer never registered verifies"
                        );
                    }
                }
            }
        }
    }

    /// @notice Every batch, registered or split off, is its GTIN's prefix holder's at registration: the id is
    /// its GTIN and lot's, and its manufacturer is the maker that registered its registered ancestor.
    function invariant_everyBatchBelongsToItsGtinsPrefixHolderAtRegistration() public view {
        uint256 count = handler.batchCount();
        for (uint256 i; i < count; ++i) {
            bytes32 id = handler.batches(i);
            Ghost memory g = handler.ghost(id);
            assertTrue(registry.batchIdOf(g.gtin, handler.lotOf(id)) == id, "id is its GTIN and lot's");
            (address batchManufacturer,,,,,,,) = registry.batch(id);
            assertEq(batchManufacturer, g.manufacturer, "manufacturer is the maker that registered it");
            assertEq(batchManufacturer, g.prefixHolderAtRegistration, "manufacturer held the GTIN's prefix at registration");
        }
    }

    /// @notice The watched-batch count equals the number of batches with the watched flag, each flag is the one
    /// the observer set, and the observer heard of every delivery of a watched batch.
    function invariant_watchedBatchCountMatchesTheFlags() public view {
        uint256 count = handler.batchCount();
        uint256 flagged;
        for (uint256 i; i < count; ++i) {
            bytes32 id = handler.batches(i);
            bool watched = registry.isBatchWatched(id);
            assertTrue(watched == handler.ghost(id).watched, "watched flag as the observer set it");
            if (watched) ++flagged;
        }
        assertEq(registry.watchedBatchCount(), flagged, "watched-batch count equals the flags");
        assertEq(flagged, handler.watchedCount(), "ghost count");
        assertEq(registry.custodyObserver(), handler.currentObserver(), "observer as last set");
        for (uint256 o; o < handler.observerCount(); ++o) {
            address observer = address(handler.observers(o));
            assertEq(
                InvariantCustodyObserver(observer).deliveries(),
                handler.expectedDeliveries(observer),
                "observer heard of every delivery of a watched batch"
            );
        }
    }
}
