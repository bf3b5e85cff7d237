// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {DigitalCurrency} from "../token/DigitalCurrency.sol";
import {PermitOrAllowance} from "../token/PermitOrAllowance.sol";
import {IIdentityRegistry} from "../access/IIdentityRegistry.sol";

/// @title Hashed-timelock bridge between two permissioned chains (one instance per chain)
/// @notice Moves value between two platforms' chains without trusting a custodian. A sender locks
///         on chain A for a white-listed connector under hash H until T_A (the outbound leg); the
///         connector locks the same value on chain B for the sender's own account there under the
///         same H until T_B, well before T_A (the inbound leg); the recipient claims on B by
///         revealing the preimage and the connector uses it to claim on A. Each leg refunds its
///         locker after its timelock, so either both legs complete or both return.
/// @dev Same-name rule: every lock names the one verified identity whose money crosses. An outbound
///      lock must name the locker's own identity; an inbound lock (by a connector) must name the
///      recipient's identity, checked again at claim time. Both platforms register the same person
///      under the same identity hash, so a connector copies the hash from the outbound lock's event.
///      Invariant: token.balanceOf(this) == totalLocked == sum of the amounts of Open locks, unless
///      someone pays this contract directly; that excess is nobody's lock and the admin can return it
///      (recoverUnheld). A hashlock is not unique: anyone may lock under a hashlock they saw, so a
///      connector matches a lock by its locker and identity, never by the hashlock alone.
contract HashedTimelockBridge is AccessControl, ReentrancyGuardTransient {
    using SafeERC20 for DigitalCurrency;

    /// @notice Allowed to provide liquidity: to receive outbound locks and to make inbound ones.
    bytes32 public constant CONNECTOR_ROLE = keccak256("CONNECTOR");

    /// @notice A timelock must leave at least this long to claim.
    uint64 public constant MIN_LOCK_DURATION = 5 minutes;
    /// @notice A timelock may lie at most this far ahead.
    uint64 public constant MAX_LOCK_DURATION = 30 days;

    enum State {
        None,
        Open,
        Claimed,
        Refunded
    }

    /// @dev Four slots.
    struct Lock {
        address locker;
        uint64 timelock;
        State state;
        bool inbound; // made by a connector, paid to `identity`'s own account
        address recipient;
        uint96 amount;
        bytes32 hashlock; // sha256 of the preimage (sha256, as other HTLC systems use)
        bytes32 identity;
    }

    DigitalCurrency public immutable token;
    IIdentityRegistry public immutable registry;

    /// @notice Number of locks ever made; ids run from 1 to lockCount.
    uint256 public lockCount;
    /// @notice Sum of the amounts of Open locks (what the bridge owes).
    uint256 public totalLocked;

    mapping(uint256 id => Lock) private _locks;

    event Locked(
        uint256 indexed id,
        bytes32 indexed hashlock,
        address indexed locker,
        address recipient,
        uint256 amount,
        uint64 timelock,
        bytes32 identity,
        bool inbound
    );
    /// @param preimage revealed here, for the connector to claim the other leg with
    event Claimed(uint256 indexed id, bytes32 indexed hashlock, address indexed recipient, bytes32 preimage);
    event Refunded(uint256 indexed id, bytes32 indexed hashlock, address indexed locker);
    /// @notice Currency paid to the bridge outside any lock was returned.
    event UnheldRecovered(address indexed to, uint256 amount);

    error UnknownLock(uint256 id);
    error WrongState(uint256 id, State state);
    error ZeroAmount();
    error AmountTooLarge(uint256 amount, uint256 max);
    /// @notice The timelock leaves less than MIN_LOCK_DURATION or more than MAX_LOCK_DURATION.
    error InvalidTimelock(uint64 timelock, uint64 earliest, uint64 latest);
    /// @notice An outbound lock must be paid to a connector; an inbound lock's recipient must not be one.
    error NotConnector(address account);
    error InvalidRecipient(address to);
    /// @notice The same-name rule: the lock names `named`, the account's identity is `actual`.
    error IdentityMismatch(bytes32 named, bytes32 actual);
    error WrongPreimage(uint256 id);
    error LockExpired(uint256 id, uint64 timelock);
    error LockNotExpired(uint256 id, uint64 timelock);
    error ZeroAddress();

    /// @param token_ the digital currency of this chain (the bridge must be registered in its registry)
    /// @param admin holds DEFAULT_ADMIN_ROLE and grants CONNECTOR_ROLE to white-listed connectors
    constructor(DigitalCurrency token_, address admin) {
        if (address(token_) == address(0) || admin == address(0)) revert ZeroAddress();
        token = token_;
        registry = token_.registry();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ------------------------------------------------------------------ locking

    /// @notice Lock `amount` for `recipient` under `hashlock` until `timelock`. A connector's lock is
    ///         inbound: `identity` must be the recipient's. Anyone else's lock is outbound: the
    ///         recipient must be a connector and `identity` the locker's own. Needs an allowance of
    ///         `amount` for this contract (or use lockWithPermit); counts against the locker
    ///         identity's daily outflow.
    /// @param hashlock sha256 of a 32-byte secret the recipient's side will reveal
    /// @param timelock unix time from which the locker may refund and nobody may claim
    /// @param identity the identity hash of the person whose money crosses (the same-name rule)
    /// @return id the lock's id
    function lock(address recipient, uint256 amount, bytes32 hashlock, uint64 timelock, bytes32 identity)
        external
        nonReentrant
        returns (uint256 id)
    {
        return _lock(recipient, amount, hashlock, timelock, identity);
    }

    /// @notice lock() with an EIP-2612 permit for this contract, in one transaction. A failing permit
    ///         (for example one submitted first by someone else) is ignored when the allowance is
    ///         already in place; otherwise its own error is the answer (see PermitOrAllowance).
    function lockWithPermit(
        address recipient,
        uint256 amount,
        bytes32 hashlock,
        uint64 timelock,
        bytes32 identity,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external nonReentrant returns (uint256 id) {
        PermitOrAllowance.permitOrAllowance(token, msg.sender, address(this), amount, deadline, v, r, s);
        return _lock(recipient, amount, hashlock, timelock, identity);
    }

    // ------------------------------------------------------------------ settling

    /// @notice Pay an Open lock to its recipient by revealing the preimage of its hashlock, before the
    ///         timelock. Anyone may submit it (the money only ever goes to the recipient). An inbound
    ///         lock pays only while the recipient still belongs to the named identity.
    /// @param preimage the 32-byte secret whose sha256 is the hashlock
    function claim(uint256 id, bytes32 preimage) external nonReentrant {
        Lock storage l = _open(id);
        if (block.timestamp >= l.timelock) revert LockExpired(id, l.timelock);
        if (sha256(abi.encodePacked(preimage)) != l.hashlock) revert WrongPreimage(id);
        (address recipient, uint256 amount) = (l.recipient, l.amount);
        if (l.inbound) _requireIdentity(recipient, l.identity);
        l.state = State.Claimed;
        totalLocked -= amount;
        emit Claimed(id, l.hashlock, recipient, preimage);
        token.safeTransfer(recipient, amount);
    }

    /// @notice Return an Open lock to its locker once its timelock has passed (anyone may call).
    function refund(uint256 id) external nonReentrant {
        Lock storage l = _open(id);
        if (block.timestamp < l.timelock) revert LockNotExpired(id, l.timelock);
        (address locker, uint256 amount) = (l.locker, l.amount);
        l.state = State.Refunded;
        totalLocked -= amount;
        emit Refunded(id, l.hashlock, locker);
        token.safeTransfer(locker, amount);
    }

    /// @notice Pay currency sent to this contract directly (not through a lock) to `to`. Only the
    ///         excess over totalLocked can move: open locks are untouchable (DEFAULT_ADMIN).
    /// @param to where the excess goes (a registered, active account)
    /// @return amount what was paid (0 when nothing is unheld)
    function recoverUnheld(address to) external nonReentrant onlyRole(DEFAULT_ADMIN_ROLE) returns (uint256 amount) {
        if (to == address(0)) revert ZeroAddress();
        amount = token.balanceOf(address(this)) - totalLocked;
        if (amount != 0) {
            emit UnheldRecovered(to, amount);
            token.safeTransfer(to, amount);
        }
    }

    // ------------------------------------------------------------------ views

    /// @notice One lock; reverts with UnknownLock for an id never made.
    function getLock(uint256 id) external view returns (Lock memory) {
        Lock memory l = _locks[id];
        if (l.state == State.None) revert UnknownLock(id);
        return l;
    }

    // ------------------------------------------------------------------ internals

    function _lock(address recipient, uint256 amount, bytes32 hashlock, uint64 timelock, bytes32 identity)
        private
        returns (uint256 id)
    {
        if (amount == 0) revert ZeroAmount();
        if (amount > type(uint96).max) revert AmountTooLarge(amount, type(uint96).max);
        if (recipient == address(0) || recipient == msg.sender || recipient == address(this)) {
            revert InvalidRecipient(recipient);
        }
        uint64 earliest = uint64(block.timestamp) + MIN_LOCK_DURATION;
        uint64 latest = uint64(block.timestamp) + MAX_LOCK_DURATION;
        if (timelock < earliest || timelock > latest) revert InvalidTimelock(timelock, earliest, latest);
        bool inbound = hasRole(CONNECTOR_ROLE, msg.sender);
        if (inbound) {
            if (hasRole(CONNECTOR_ROLE, recipient)) revert InvalidRecipient(recipient);
            _requireIdentity(recipient, identity);
        } else {
            if (!hasRole(CONNECTOR_ROLE, recipient)) revert NotConnector(recipient);
            _requireIdentity(msg.sender, identity);
        }
        id = ++lockCount;
        _locks[id] = Lock({
            locker: msg.sender,
            timelock: timelock,
            state: State.Open,
            inbound: inbound,
            recipient: recipient,
            amount: uint96(amount),
            hashlock: hashlock,
            identity: identity
        });
        totalLocked += amount;
        emit Locked(id, hashlock, msg.sender, recipient, amount, timelock, identity, inbound);
        // Last: the currency checks the locker (registered, not frozen, daily limit, not paused).
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @dev `account` must be active in this chain's registry and belong to identity `named`.
    function _requireIdentity(address account, bytes32 named) private view {
        (uint64 key,) = registry.requireActive(account);
        bytes32 actual = registry.identityHashOf(key);
        if (actual != named) revert IdentityMismatch(named, actual);
    }

    function _open(uint256 id) private view returns (Lock storage l) {
        l = _locks[id];
        if (l.state != State.Open) {
            if (l.state == State.None) revert UnknownLock(id);
            revert WrongState(id, l.state);
        }
    }
}
