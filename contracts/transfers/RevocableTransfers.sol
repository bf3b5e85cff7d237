// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {DigitalCurrency} from "../token/DigitalCurrency.sol";
import {PermitOrAllowance} from "../token/PermitOrAllowance.sol";
import {IIdentityRegistry} from "../access/IIdentityRegistry.sol";
import {IEscrowForwarder} from "./IEscrowForwarder.sol";

/// @title Time-locked revocable transfers
/// @notice Delayed arrival with revocation, as regulators ask of balance-to-balance transfers: the
///         amount waits in escrow for a cooling-off period during which the sender can take it
///         back, the recipient can refuse it and either can open a dispute. Large transfers first
///         wait for the sender's second factor (or compliance). After the cooling-off anyone may
///         release a transfer, so a keeper can deliver on time.
/// @dev States: AwaitingApproval -> Pending -> Released | Returned, and from either open state
///      Revoked | Rejected | Disputed; Disputed -> ResolvedToSender | ResolvedToRecipient | DisputeExpired.
///      Invariant: token.balanceOf(this) == totalHeld == sum of the amounts of open transfers
///      (AwaitingApproval, Pending, Disputed), unless someone pays this contract directly; that
///      excess is never anyone's transfer and compliance can return it (recoverUnheld).
///      Every loop is bounded by a constant (cooling-off bands) or by the caller's own input.
///      Compliance may hold (put in dispute) any open transfer of a frozen or removed party, even one
///      already due, so a stolen account's pending payments can be stopped. A FORWARDER (the
///      platform-balances contract) may send for a person (sendFor): the person is the transfer's
///      sender for every right (revoke, approve through their second factor, dispute) but the money
///      comes from and goes back to the forwarder, which is told the outcome (IEscrowForwarder). Dispute deadlines do not
///      run while the currency is paused (nothing, resolve included, can move then).
contract RevocableTransfers is AccessControlDefaultAdminRules, ReentrancyGuardTransient {
    bytes32 public constant COMPLIANCE_ROLE = keccak256("COMPLIANCE");
    /// @notice chainpay contracts that send through this escrow on a person's behalf (sendFor).
    bytes32 public constant FORWARDER_ROLE = keccak256("FORWARDER");

    /// @notice At most this many cooling-off bands.
    uint256 public constant MAX_BANDS = 8;
    /// @notice Upper bound of a cooling-off period and of the dispute window.
    uint64 public constant MAX_PERIOD = 30 days;
    /// @notice Longest memo in bytes (UTF-8).
    uint256 public constant MAX_MEMO_BYTES = 140;

    enum State {
        None,
        AwaitingApproval,
        Pending,
        Disputed,
        Released,
        Revoked,
        Rejected,
        Returned, // undeliverable at release: the recipient was frozen or removed meanwhile
        ResolvedToSender,
        ResolvedToRecipient,
        DisputeExpired
    }

    /// @dev Two slots. `releaseAt` is 0 until the cooling-off starts (at send or at approval).
    struct Transfer {
        address from;
        uint56 releaseAt;
        bool forwarded; // sent with sendFor: its money comes from and goes back to _forwarderOf[id]
        uint24 sentDay; // UTC day number of the send, for the same-day daily-limit give-back
        State state;
        address to;
        uint96 amount;
    }

    /// @dev Transfers of at least `minAmount` (up to the next band) cool off for `period` seconds.
    struct Band {
        uint192 minAmount;
        uint64 period;
    }

    DigitalCurrency public immutable token;
    IIdentityRegistry public immutable registry;

    /// @notice Transfers of at least this many base units wait for a second approval.
    uint256 public approvalThreshold;
    /// @notice Seconds compliance has to resolve a dispute before anyone may return it to the sender.
    uint64 public disputeWindow;
    /// @notice Number of transfers ever sent; ids run from 1 to transferCount.
    uint256 public transferCount;
    /// @notice Sum of the amounts of all open transfers (what the escrow owes).
    uint256 public totalHeld;

    Band[] private _bands;
    mapping(uint256 id => Transfer) private _transfers;
    /// @dev A dispute's deadline as set when it opened, and the currency's pause clock then.
    struct DisputeClock {
        uint64 deadline;
        uint64 pausedAtOpen;
    }

    mapping(uint256 id => DisputeClock) private _disputes;
    /// @dev The forwarder that paid a transfer sent with sendFor (zero for a person's own send).
    mapping(uint256 id => address) private _forwarderOf;

    event TransferSent(
        uint256 indexed id,
        address indexed from,
        address indexed to,
        uint256 amount,
        uint64 releaseAt,
        bool needsApproval,
        string memo
    );
    event TransferApproved(uint256 indexed id, address indexed approver, uint64 releaseAt);
    event TransferRevoked(uint256 indexed id);
    event TransferRejected(uint256 indexed id);
    event TransferDisputed(uint256 indexed id, address indexed by, uint64 deadline);
    event DisputeResolved(uint256 indexed id, address indexed by, bool toRecipient);
    event DisputeExpired(uint256 indexed id);
    event TransferReleased(uint256 indexed id, address indexed to, uint256 amount);
    /// @param reason the registry's revert data explaining why the recipient could not be paid
    event TransferReturned(uint256 indexed id, bytes reason);
    event CoolingOffChanged(uint256[] minAmounts, uint64[] periods);
    event ApprovalThresholdChanged(uint256 previousThreshold, uint256 newThreshold);
    event DisputeWindowChanged(uint64 previousWindow, uint64 newWindow);
    event UnheldRecovered(address indexed to, uint256 amount);

    error UnknownTransfer(uint256 id);
    /// @notice The transfer is not in a state that allows this action.
    error WrongState(uint256 id, State state);
    error NotSender(uint256 id, address caller);
    error NotRecipient(uint256 id, address caller);
    error NotParty(uint256 id, address caller);
    /// @notice Only the sender's bound second factor (never the sender itself) or compliance may approve.
    error NotApprover(uint256 id, address caller);
    error NotYetDue(uint256 id, uint64 releaseAt);
    error CoolingOffOver(uint256 id, uint64 releaseAt);
    error DisputeStillOpen(uint256 id, uint64 deadline);
    error DisputeDeadlinePassed(uint256 id, uint64 deadline);
    error ZeroAmount();
    error AmountTooLarge(uint256 amount, uint256 max);
    error InvalidRecipient(address to);
    /// @notice sendFor names a person (an address without code) as the sender.
    error InvalidSender(address from);
    error MemoTooLong(uint256 length, uint256 max);
    /// @notice Bands need 1..MAX_BANDS entries, the first at 0, strictly ascending, each period <= MAX_PERIOD.
    error InvalidCoolingOff();
    error InvalidDisputeWindow(uint64 window);
    error ZeroAddress();
    /// @notice A hold is for money of a frozen or removed party: both parties are active.
    error PartiesActive(uint256 id);

    /// @param token_ the digital currency held in escrow (this contract needs its ESCROW_ROLE)
    /// @param admin holds DEFAULT_ADMIN_ROLE
    /// @param compliance sets the policy, approves large transfers and resolves disputes
    /// @param approvalThreshold_ base units from which a transfer needs a second approval
    /// @param disputeWindow_ seconds compliance has to resolve a dispute
    /// @param bandMins lower bounds (base units) of the cooling-off bands, first 0, ascending
    /// @param bandPeriods cooling-off seconds of each band
    /// @param adminDelay seconds between the start of an admin handover and its acceptance
    constructor(
        DigitalCurrency token_,
        address admin,
        address compliance,
        uint256 approvalThreshold_,
        uint64 disputeWindow_,
        uint256[] memory bandMins,
        uint64[] memory bandPeriods,
        uint48 adminDelay
    ) AccessControlDefaultAdminRules(adminDelay, admin) {
        if (address(token_) == address(0) || compliance == address(0)) revert ZeroAddress();
        token = token_;
        registry = token_.registry();
        _grantRole(COMPLIANCE_ROLE, compliance);
        _setApprovalThreshold(approvalThreshold_);
        _setDisputeWindow(disputeWindow_);
        _setCoolingOff(bandMins, bandPeriods);
    }

    // ------------------------------------------------------------------ sending

    /// @notice Send `amount` to `to` through escrow. The amount leaves the sender now (and counts
    ///         against the sender identity's daily outflow) and arrives after the cooling-off;
    ///         at or above approvalThreshold the cooling-off starts only at the second approval.
    ///         Needs an allowance of `amount` for this contract (or use sendWithPermit).
    /// @param memo a short purpose note the recipient sees (at most MAX_MEMO_BYTES bytes)
    /// @return id the transfer's id
    function send(address to, uint256 amount, string calldata memo) external nonReentrant returns (uint256 id) {
        return _send(msg.sender, to, amount, memo, false);
    }

    /// @notice A forwarder sends `amount` of its own currency for `from` (who holds the sender's rights)
    ///         to `to`, under the same policy as send(); the outcome is paid back to the forwarder
    ///         with a callback. Needs the forwarder's allowance of `amount` for this contract.
    function sendFor(address from, address to, uint256 amount, string calldata memo)
        external
        nonReentrant
        onlyRole(FORWARDER_ROLE)
        returns (uint256 id)
    {
        if (from == address(0) || from.code.length != 0) revert InvalidSender(from);
        id = _send(from, to, amount, memo, true);
        _forwarderOf[id] = msg.sender;
    }

    /// @notice send() with an EIP-2612 permit for this contract, in one transaction. A permit that
    ///         fails (for example because someone submitted it first) is ignored when the allowance
    ///         is already in place; otherwise its error (expired, frozen, paused, ...) is the answer
    ///         (see PermitOrAllowance).
    function sendWithPermit(
        address to,
        uint256 amount,
        string calldata memo,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external nonReentrant returns (uint256 id) {
        PermitOrAllowance.permitOrAllowance(token, msg.sender, address(this), amount, deadline, v, r, s);
        return _send(msg.sender, to, amount, memo, false);
    }

    // ------------------------------------------------------------------ before release

    /// @notice Second approval of a large transfer, by the sender's bound approver or compliance.
    ///         Starts the cooling-off.
    function approve(uint256 id) external nonReentrant {
        Transfer storage t = _open(id, State.AwaitingApproval);
        if (!hasRole(COMPLIANCE_ROLE, msg.sender)) {
            address approver = registry.approverOf(t.from);
            if (approver == address(0) || msg.sender != approver || msg.sender == t.from) {
                revert NotApprover(id, msg.sender);
            }
        }
        uint64 releaseAt = uint64(block.timestamp) + coolingOffFor(t.amount);
        t.releaseAt = uint56(releaseAt);
        t.state = State.Pending;
        emit TransferApproved(id, msg.sender, releaseAt);
    }

    /// @notice The sender takes the transfer back before it is released.
    function revoke(uint256 id) external nonReentrant {
        Transfer storage t = _beforeRelease(id);
        if (msg.sender != t.from) revert NotSender(id, msg.sender);
        t.state = State.Revoked;
        emit TransferRevoked(id);
        _refund(id, t);
    }

    /// @notice The recipient refuses the transfer before it is released; the sender gets it back.
    function reject(uint256 id) external nonReentrant {
        Transfer storage t = _beforeRelease(id);
        if (msg.sender != t.to) revert NotRecipient(id, msg.sender);
        t.state = State.Rejected;
        emit TransferRejected(id);
        _refund(id, t);
    }

    /// @notice Either party freezes the transfer for compliance to decide, within disputeWindow.
    function dispute(uint256 id) external nonReentrant {
        Transfer storage t = _beforeRelease(id);
        if (msg.sender != t.from && msg.sender != t.to) revert NotParty(id, msg.sender);
        _openDispute(id, t);
    }

    /// @notice Compliance holds an open transfer (awaiting approval, or pending even after its
    ///         cooling-off) whose sender or recipient is frozen or no longer registered: it becomes a
    ///         dispute that only compliance resolves (or that returns to the sender at its deadline).
    function hold(uint256 id) external nonReentrant onlyRole(COMPLIANCE_ROLE) {
        Transfer storage t = _transfers[id];
        State s = t.state;
        if (s != State.AwaitingApproval && s != State.Pending) {
            if (s == State.None) revert UnknownTransfer(id);
            revert WrongState(id, s);
        }
        if (registry.isActive(t.from) && registry.isActive(t.to)) revert PartiesActive(id);
        _openDispute(id, t);
    }

    // ------------------------------------------------------------------ disputes

    /// @notice Compliance settles a dispute before its deadline: to the recipient or back to the sender.
    function resolve(uint256 id, bool toRecipient) external nonReentrant onlyRole(COMPLIANCE_ROLE) {
        Transfer storage t = _open(id, State.Disputed);
        uint64 deadline = deadlineOf(id);
        if (block.timestamp >= deadline) revert DisputeDeadlinePassed(id, deadline);
        emit DisputeResolved(id, msg.sender, toRecipient);
        if (toRecipient) {
            t.state = State.ResolvedToRecipient;
            _pay(id, t);
        } else {
            t.state = State.ResolvedToSender;
            _refund(id, t);
        }
    }

    /// @notice Anyone returns a dispute that compliance left unresolved past its deadline to the sender.
    function returnExpiredDispute(uint256 id) external nonReentrant {
        Transfer storage t = _open(id, State.Disputed);
        uint64 deadline = deadlineOf(id);
        if (block.timestamp < deadline) revert DisputeStillOpen(id, deadline);
        t.state = State.DisputeExpired;
        emit DisputeExpired(id);
        _refund(id, t);
    }

    // ------------------------------------------------------------------ release

    /// @notice Deliver a transfer whose cooling-off has ended (callable by anyone). A recipient that
    ///         can no longer receive (frozen or removed from the registry) gets nothing and the
    ///         sender is refunded (state Returned), so a transfer never waits forever.
    function release(uint256 id) external nonReentrant {
        Transfer storage t = _open(id, State.Pending);
        if (block.timestamp < t.releaseAt) revert NotYetDue(id, t.releaseAt);
        _deliver(id, t, true);
    }

    /// @notice Deliver many due transfers in one transaction. Ids that are not Pending or not yet
    ///         due are skipped (another keeper may have delivered them), and so is a transfer that
    ///         can go neither to its recipient nor back to its sender (both frozen): one such
    ///         transfer never blocks the batch. The loop is bounded by the caller's own list.
    /// @return settled how many transfers were released or returned
    function releaseMany(uint256[] calldata ids) external nonReentrant returns (uint256 settled) {
        for (uint256 i; i < ids.length; ++i) {
            Transfer storage t = _transfers[ids[i]];
            if (t.state == State.Pending && block.timestamp >= t.releaseAt && _deliver(ids[i], t, false)) ++settled;
        }
    }

    // ------------------------------------------------------------------ policy (compliance)

    /// @notice Set the cooling-off bands: a transfer of amount a cools off for the period of the last
    ///         band whose minAmount <= a. Applies to transfers whose cooling-off starts afterwards.
    function setCoolingOff(uint256[] calldata minAmounts, uint64[] calldata periods)
        external
        onlyRole(COMPLIANCE_ROLE)
    {
        _setCoolingOff(minAmounts, periods);
    }

    /// @notice Transfers of at least `threshold` base units need a second approval (applies to new sends).
    function setApprovalThreshold(uint256 threshold) external onlyRole(COMPLIANCE_ROLE) {
        _setApprovalThreshold(threshold);
    }

    /// @notice Time compliance has to resolve a dispute (applies to disputes opened afterwards).
    function setDisputeWindow(uint64 window) external onlyRole(COMPLIANCE_ROLE) {
        _setDisputeWindow(window);
    }

    /// @notice Return currency paid to this contract directly (not through send) to `to`. Only the
    ///         excess over totalHeld can move: escrowed transfers are untouchable.
    function recoverUnheld(address to) external nonReentrant onlyRole(COMPLIANCE_ROLE) returns (uint256 amount) {
        amount = token.balanceOf(address(this)) - totalHeld;
        if (amount != 0) {
            emit UnheldRecovered(to, amount);
            token.transfer(to, amount);
        }
    }

    // ------------------------------------------------------------------ views

    /// @notice One transfer; reverts with UnknownTransfer for an id never sent.
    /// @return from sender
    /// @return to recipient
    /// @return amount base units
    /// @return state current state
    /// @return releaseAt when it may be released (0 while awaiting approval)
    /// @return disputeDeadline deadline of the dispute (0 if never disputed)
    /// @return sentDay UTC day number of the send
    function getTransfer(uint256 id)
        external
        view
        returns (
            address from,
            address to,
            uint256 amount,
            State state,
            uint64 releaseAt,
            uint64 disputeDeadline,
            uint24 sentDay
        )
    {
        Transfer storage t = _transfers[id];
        if (t.state == State.None) revert UnknownTransfer(id);
        return (t.from, t.to, t.amount, t.state, t.releaseAt, deadlineOf(id), t.sentDay);
    }

    /// @notice The forwarder that sent transfer `id` for its sender (zero for a person's own send).
    function forwarderOf(uint256 id) external view returns (address) {
        return _forwarderOf[id];
    }

    /// @notice A dispute's deadline: set when it opened, moved later by every second the currency
    ///         has been paused since (0 if the transfer was never disputed).
    function deadlineOf(uint256 id) public view returns (uint64) {
        DisputeClock memory d = _disputes[id];
        if (d.deadline == 0) return 0;
        return d.deadline + uint64(token.pausedSeconds() - d.pausedAtOpen);
    }

    /// @notice The cooling-off period, in seconds, of a transfer of `amount` base units.
    function coolingOffFor(uint256 amount) public view returns (uint64 period) {
        uint256 n = _bands.length;
        for (uint256 i = n; i > 0; --i) {
            Band memory b = _bands[i - 1];
            if (amount >= b.minAmount) return b.period;
        }
    }

    /// @notice The cooling-off bands (lower bounds in base units, periods in seconds).
    function coolingOffBands() external view returns (uint256[] memory minAmounts, uint64[] memory periods) {
        uint256 n = _bands.length;
        minAmounts = new uint256[](n);
        periods = new uint64[](n);
        for (uint256 i; i < n; ++i) {
            (minAmounts[i], periods[i]) = (_bands[i].minAmount, _bands[i].period);
        }
    }

    // ------------------------------------------------------------------ internals

    /// @dev The money comes from msg.sender (the person itself, or a forwarder sending for `from`).
    function _send(address from, address to, uint256 amount, string calldata memo, bool forwarded)
        private
        returns (uint256 id)
    {
        if (amount == 0) revert ZeroAmount();
        if (amount > type(uint96).max) revert AmountTooLarge(amount, type(uint96).max);
        if (to == address(0) || to == from || to == address(this)) revert InvalidRecipient(to);
        // A contract recipient must be one of chainpay's own (anything else may never pay it out).
        if (to.code.length != 0 && !registry.isContractAccount(to)) revert InvalidRecipient(to);
        if (bytes(memo).length > MAX_MEMO_BYTES) revert MemoTooLong(bytes(memo).length, MAX_MEMO_BYTES);
        registry.requireActivePair(from, to); // refuse an unknown or frozen party up front
        id = ++transferCount;
        bool needsApproval = amount >= approvalThreshold;
        uint64 releaseAt = needsApproval ? 0 : uint64(block.timestamp) + coolingOffFor(amount);
        _transfers[id] = Transfer({
            from: from,
            releaseAt: uint56(releaseAt),
            forwarded: forwarded,
            sentDay: uint24(block.timestamp / 1 days),
            state: needsApproval ? State.AwaitingApproval : State.Pending,
            to: to,
            amount: uint96(amount)
        });
        totalHeld += amount;
        emit TransferSent(id, from, to, amount, releaseAt, needsApproval, memo);
        // Last: the currency checks the sender (registered, not frozen, daily limit, not paused) and
        // records what this escrow took, the most it may give back to the sender's daily limit.
        token.escrowPull(msg.sender, amount);
    }

    function _openDispute(uint256 id, Transfer storage t) private {
        uint64 deadline = uint64(block.timestamp) + disputeWindow;
        t.state = State.Disputed;
        _disputes[id] = DisputeClock(deadline, uint64(token.pausedSeconds()));
        emit TransferDisputed(id, msg.sender, deadline);
    }

    /// @dev A transfer in `expected` state (UnknownTransfer / WrongState otherwise).
    function _open(uint256 id, State expected) private view returns (Transfer storage t) {
        t = _transfers[id];
        if (t.state != expected) {
            if (t.state == State.None) revert UnknownTransfer(id);
            revert WrongState(id, t.state);
        }
    }

    /// @dev A transfer still inside its window: awaiting approval, or pending before releaseAt.
    function _beforeRelease(uint256 id) private view returns (Transfer storage t) {
        t = _transfers[id];
        State s = t.state;
        if (s == State.Pending) {
            if (block.timestamp >= t.releaseAt) revert CoolingOffOver(id, t.releaseAt);
        } else if (s != State.AwaitingApproval) {
            if (s == State.None) revert UnknownTransfer(id);
            revert WrongState(id, s);
        }
    }

    /// @dev Pays the recipient, or returns the money when the recipient cannot receive. When the
    ///      sender cannot receive either, `strict` reverts with the sender's registry error and a
    ///      batch (strict = false) leaves the transfer Pending; returns whether it settled.
    function _deliver(uint256 id, Transfer storage t, bool strict) private returns (bool) {
        try registry.requireActive(t.to) {
            t.state = State.Released;
            _pay(id, t);
        } catch (bytes memory reason) {
            if (!strict && !registry.isActive(t.from)) return false;
            t.state = State.Returned;
            emit TransferReturned(id, reason);
            _refund(id, t);
        }
        return true;
    }

    function _pay(uint256 id, Transfer storage t) private {
        (address to, uint256 amount) = (t.to, t.amount);
        totalHeld -= amount;
        emit TransferReleased(id, to, amount);
        if (!t.forwarded) {
            token.transfer(to, amount);
        } else {
            address forwarder = _forwarderOf[id];
            token.transfer(forwarder, amount);
            IEscrowForwarder(forwarder).onEscrowPaid(id, to, amount);
        }
    }

    /// @dev Back to the sender; on the day of the send the sender's daily outflow is given back too.
    ///      A forwarded transfer goes back to its forwarder, which gives the sender back what it had.
    function _refund(uint256 id, Transfer storage t) private {
        (address from, uint256 amount, uint24 sentDay) = (t.from, t.amount, t.sentDay);
        totalHeld -= amount;
        if (t.forwarded) {
            address forwarder = _forwarderOf[id];
            token.transfer(forwarder, amount);
            IEscrowForwarder(forwarder).onEscrowRefunded(id, from, amount);
            return;
        }
        token.transfer(from, amount);
        if (sentDay == block.timestamp / 1 days) token.restoreOutflow(from, amount, sentDay);
    }

    function _setCoolingOff(uint256[] memory minAmounts, uint64[] memory periods) private {
        uint256 n = minAmounts.length;
        if (n == 0 || n > MAX_BANDS || n != periods.length || minAmounts[0] != 0) revert InvalidCoolingOff();
        delete _bands;
        for (uint256 i; i < n; ++i) {
            if (periods[i] > MAX_PERIOD || minAmounts[i] > type(uint192).max) revert InvalidCoolingOff();
            if (i > 0 && minAmounts[i] <= minAmounts[i - 1]) revert InvalidCoolingOff();
            _bands.push(Band(uint192(minAmounts[i]), periods[i]));
        }
        emit CoolingOffChanged(minAmounts, periods);
    }

    function _setApprovalThreshold(uint256 threshold) private {
        emit ApprovalThresholdChanged(approvalThreshold, threshold);
        approvalThreshold = threshold;
    }

    function _setDisputeWindow(uint64 window) private {
        if (window == 0 || window > MAX_PERIOD) revert InvalidDisputeWindow(window);
        emit DisputeWindowChanged(disputeWindow, window);
        disputeWindow = window;
    }
}
