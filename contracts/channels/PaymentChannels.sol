// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {DigitalCurrency} from "../token/DigitalCurrency.sol";
import {PermitOrAllowance} from "../token/PermitOrAllowance.sol";
import {IContentCatalogue} from "../content/IContentCatalogue.sol";
import {IIdentityRegistry} from "../access/IIdentityRegistry.sol";

/// @title Micropayment channels for pay-per-use content
/// @notice A consumer opens a channel to a listing's provider with a deposit, then pays each use
///         off chain by signing an EIP-712 voucher for the cumulative amount owed. The provider
///         redeems the latest voucher whenever it likes (many channels per call) without closing.
///         Closing: at once by the provider (with the consumer's last voucher) or by the consumer
///         (with the provider's signed close); or unilaterally by the consumer, which starts a
///         challenge period during which the provider can still redeem; after it, the remainder
///         is the consumer's.
/// @dev Gas design (see README, "content_gas_per_use"):
///      - A channel is ONE storage slot, keyed by the hash of its immutable terms (ChannelKey:
///        consumer, provider, content, price snapshot, salt); callers pass the terms in calldata.
///        A closed channel keeps its slot (state Closed), so no voucher ever replays on it.
///      - Pull payments: a redemption adds to the content's pooled `earnings` (one SSTORE) and
///        `distribute(contentId)` later credits the pool along the catalogue's split to each
///        payee's `owed` balance; a closed channel's remainder is credited to the consumer's `owed`
///        balance. `withdraw()` pays an account's balance in one transfer, so one frozen payee never
///        holds the others' money. Each currency transfer costs ~50k gas here (registry checks and
///        outflow records), so paying them per channel would cost more than the channel.
///      Invariant: token.balanceOf(this) == totalHeld == sum over Open/Closing channels of
///      (deposit - redeemed) + sum of earnings + sum of owed, unless someone pays this contract
///      directly; compliance returns that excess with recoverUnheld.
///      Compliance may hold a channel of a frozen or removed party: nothing moves on it until it
///      releases the hold or closes the channel at the amount it finds owed.
///      Loops are bounded by the caller's own voucher list or the catalogue's MAX_PAYEES.
contract PaymentChannels is AccessControlDefaultAdminRules, EIP712, ReentrancyGuardTransient {
    bytes32 public constant COMPLIANCE_ROLE = keccak256("COMPLIANCE");

    enum State {
        None,
        Open,
        Closing,
        Closed
    }

    /// @notice The immutable terms of a channel; its id is keccak256(abi.encode(key)).
    struct ChannelKey {
        address consumer;
        address provider;
        uint64 contentId;
        uint96 unitPrice; // the listing's price when the channel opened (off-chain metering honours it)
        bytes32 salt; // the consumer's choice, so one consumer may hold many channels per listing
    }

    /// @dev One slot.
    struct Channel {
        uint96 deposit;
        uint96 redeemed;
        uint40 closesAt; // end of the challenge period once Closing
        State state;
        bool held; // compliance holds it: nothing moves until released
    }

    /// @notice A consumer-signed voucher: the channel owes `amount` in total (cumulative).
    struct Voucher {
        ChannelKey key;
        uint256 amount;
        uint8 v;
        bytes32 r;
        bytes32 s;
    }

    bytes32 public constant VOUCHER_TYPEHASH = keccak256("Voucher(bytes32 channelId,uint256 cumulativeAmount)");
    /// @notice The provider's consent to close a channel at `cumulativeAmount` (cooperative close by the
    ///         consumer) until `deadline` (a timestamp).
    bytes32 public constant CLOSE_TYPEHASH =
        keccak256("CloseChannel(bytes32 channelId,uint256 cumulativeAmount,uint256 deadline)");
    /// @notice Upper bound of the challenge period.
    uint64 public constant MAX_CHALLENGE_PERIOD = 30 days;

    DigitalCurrency public immutable token;
    IContentCatalogue public immutable catalogue;
    IIdentityRegistry public immutable registry;
    /// @notice Seconds a unilateral close waits, during which the provider can still redeem.
    uint64 public immutable challengePeriod;

    mapping(bytes32 channelId => Channel) private _channels;
    /// @notice Redeemed money per listing, not yet paid out along its split (see distribute).
    mapping(uint256 contentId => uint256) public earnings;
    /// @notice What each account may withdraw: remainders of its closed channels (consumers) and its
    ///         distributed shares (payees).
    mapping(address account => uint256) public owed;
    /// @notice What this contract holds for channels, earnings and owed balances.
    uint256 public totalHeld;

    event ChannelOpened(
        bytes32 indexed channelId,
        address indexed consumer,
        address indexed provider,
        uint256 contentId,
        uint256 unitPrice,
        bytes32 salt,
        uint256 deposit
    );
    event ChannelToppedUp(bytes32 indexed channelId, uint256 deposit);
    event VoucherRedeemed(bytes32 indexed channelId, uint256 cumulativeAmount, uint256 paid);
    event ChannelClosing(bytes32 indexed channelId, uint64 closesAt);
    event ChannelClosed(bytes32 indexed channelId, uint256 redeemed, uint256 refunded);
    event EarningsDistributed(uint256 indexed contentId, uint256 amount);
    event PayeeCredited(uint256 indexed contentId, address indexed payee, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);
    event ChannelHeld(bytes32 indexed channelId, address indexed by);
    event ChannelHoldReleased(bytes32 indexed channelId, uint64 closesAt);
    event HeldChannelClosed(bytes32 indexed channelId, uint256 amount);
    event UnheldRecovered(address indexed to, uint256 amount);

    error UnknownChannel(bytes32 channelId);
    error ChannelExists(bytes32 channelId);
    error WrongChannelState(bytes32 channelId, State state);
    error NotConsumer(bytes32 channelId, address caller);
    error NotChannelProvider(bytes32 channelId, address caller);
    /// @notice The signature is not the expected party's (recovered is zero for a malformed signature).
    error WrongSigner(bytes32 channelId, address recovered, address expected);
    error VoucherOverDeposit(bytes32 channelId, uint256 amount, uint256 deposit);
    /// @notice The voucher does not raise what the channel already paid (amounts only grow).
    error StaleVoucher(bytes32 channelId, uint256 amount, uint256 redeemed);
    error ChallengeOver(bytes32 channelId, uint64 closesAt);
    error ChallengeNotOver(bytes32 channelId, uint64 closesAt);
    error ContentUnavailable(uint256 contentId);
    error ZeroAmount();
    error AmountTooLarge(uint256 amount, uint256 max);
    error InvalidChallengePeriod(uint64 period);
    error NothingToWithdraw(address account);
    error NothingToDistribute(uint256 contentId);
    error ZeroAddress();
    /// @notice The listing's current price is above what the consumer accepts (slippage bound).
    error PriceAboveLimit(uint256 contentId, uint256 unitPrice, uint256 maxUnitPrice);
    /// @notice The provider's close consent is past its deadline.
    error ConsentExpired(bytes32 channelId, uint256 deadline);
    /// @notice Compliance holds the channel.
    error ChannelIsHeld(bytes32 channelId);
    error ChannelNotHeld(bytes32 channelId);
    /// @notice A hold is for money of a frozen or removed party: consumer and provider are both active.
    error ChannelPartiesActive(bytes32 channelId);
    /// @notice A held channel closes at an amount between what it redeemed and its deposit.
    error InvalidCloseAmount(bytes32 channelId, uint256 amount, uint256 redeemed, uint256 deposit);

    /// @param token_ the digital currency deposits are made in
    /// @param catalogue_ the content catalogue whose listings channels pay for
    /// @param challengePeriod_ seconds a unilateral close waits (1 .. MAX_CHALLENGE_PERIOD)
    /// @param admin holds DEFAULT_ADMIN_ROLE (handed over in two steps)
    /// @param compliance holds channels of frozen parties and recovers unheld currency
    /// @param adminDelay seconds between the start of an admin handover and its acceptance
    constructor(
        DigitalCurrency token_,
        IContentCatalogue catalogue_,
        uint64 challengePeriod_,
        address admin,
        address compliance,
        uint48 adminDelay
    ) EIP712("chainpay channels", "1") AccessControlDefaultAdminRules(adminDelay, admin) {
        if (address(token_) == address(0) || address(catalogue_) == address(0) || compliance == address(0)) {
            revert ZeroAddress();
        }
        if (challengePeriod_ == 0 || challengePeriod_ > MAX_CHALLENGE_PERIOD) {
            revert InvalidChallengePeriod(challengePeriod_);
        }
        token = token_;
        catalogue = catalogue_;
        registry = token_.registry();
        challengePeriod = challengePeriod_;
        _grantRole(COMPLIANCE_ROLE, compliance);
    }

    // ------------------------------------------------------------------ consumer

    /// @notice Open a channel to listing `contentId` at its current price with `deposit` base units
    ///         from the caller (needs an allowance for this contract; or use openWithPermit).
    /// @param salt any value making the channel's id unique among the caller's channels for this listing
    /// @param maxUnitPrice the highest price per unit the consumer accepts (PriceAboveLimit above it)
    /// @return id the channel id, keccak256(abi.encode(ChannelKey))
    function open(uint256 contentId, uint256 deposit, bytes32 salt, uint256 maxUnitPrice)
        external
        nonReentrant
        returns (bytes32 id)
    {
        return _open(contentId, deposit, salt, maxUnitPrice);
    }

    /// @notice open() with an EIP-2612 permit for the deposit in the same transaction. A permit that
    ///         fails (e.g. already submitted) is ignored when the allowance is in place; otherwise
    ///         its own error is the answer (see PermitOrAllowance).
    function openWithPermit(
        uint256 contentId,
        uint256 deposit,
        bytes32 salt,
        uint256 maxUnitPrice,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external nonReentrant returns (bytes32 id) {
        PermitOrAllowance.permitOrAllowance(token, msg.sender, address(this), deposit, deadline, v, r, s);
        return _open(contentId, deposit, salt, maxUnitPrice);
    }

    /// @notice Add `amount` to an open channel's deposit (the consumer only; needs an allowance).
    function topUp(ChannelKey calldata key, uint256 amount) external nonReentrant {
        _topUp(key, amount);
    }

    /// @notice topUp() with an EIP-2612 permit in the same transaction.
    function topUpWithPermit(ChannelKey calldata key, uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
        nonReentrant
    {
        PermitOrAllowance.permitOrAllowance(token, msg.sender, address(this), amount, deadline, v, r, s);
        _topUp(key, amount);
    }

    /// @notice Unilateral close by the consumer: the channel closes after challengePeriod, during
    ///         which the provider can still redeem its latest voucher.
    function startClose(ChannelKey calldata key) external {
        (bytes32 id, Channel storage c) = _channel(key);
        if (msg.sender != key.consumer) revert NotConsumer(id, msg.sender);
        if (c.state != State.Open) revert WrongChannelState(id, c.state);
        if (c.held) revert ChannelIsHeld(id);
        uint64 closesAt = uint64(block.timestamp) + challengePeriod;
        c.state = State.Closing;
        c.closesAt = uint40(closesAt);
        emit ChannelClosing(id, closesAt);
    }

    /// @notice After the challenge period of a unilateral close (anyone may call): the channel
    ///         closes and its remainder is credited to the consumer's refundable balance.
    function settle(ChannelKey calldata key) external {
        (bytes32 id, Channel storage c) = _channel(key);
        if (c.state != State.Closing) revert WrongChannelState(id, c.state);
        if (c.held) revert ChannelIsHeld(id);
        if (block.timestamp < c.closesAt) revert ChallengeNotOver(id, c.closesAt);
        _finish(id, c, key.consumer);
    }

    /// @notice Cooperative close by the consumer with the provider's CloseChannel signature for
    ///         `amount` until `deadline`: the channel pays `amount` in total and closes at once.
    function cooperativeClose(ChannelKey calldata key, uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
    {
        (bytes32 id, Channel storage c) = _channel(key);
        if (msg.sender != key.consumer) revert NotConsumer(id, msg.sender);
        _requireLive(id, c);
        if (block.timestamp > deadline) revert ConsentExpired(id, deadline);
        _requireSignature(closeDigest(id, amount, deadline), id, v, r, s, key.provider);
        if (amount > c.redeemed) _credit(id, c, key.contentId, amount);
        _finish(id, c, key.consumer);
    }

    /// @notice Pay the caller's owed balance (remainders of its closed channels, its distributed
    ///         shares) in one transfer.
    function withdraw() external nonReentrant returns (uint256 amount) {
        return _withdraw(msg.sender);
    }

    /// @notice Pay `account`'s owed balance to `account` (anyone may call; the money only goes to its owner).
    function withdrawFor(address account) external nonReentrant returns (uint256 amount) {
        return _withdraw(account);
    }

    // ------------------------------------------------------------------ provider

    /// @notice Redeem a voucher without closing (anyone may submit it; the money goes to the
    ///         listing's earnings). Reverts unless the voucher raises the channel's redeemed amount.
    /// @return paid the increment credited
    function redeem(Voucher calldata voucher) external returns (uint256 paid) {
        (bytes32 id, Channel storage c) = _channel(voucher.key);
        _requireLive(id, c);
        if (voucher.amount <= c.redeemed) revert StaleVoucher(id, voucher.amount, c.redeemed);
        _requireSigner(id, VOUCHER_TYPEHASH, voucher.amount, voucher.v, voucher.r, voucher.s, voucher.key.consumer);
        return _credit(id, c, voucher.key.contentId, voucher.amount);
    }

    /// @notice Redeem many channels' latest vouchers in one call. Vouchers that no longer raise their
    ///         channel's amount, or whose channel is closed or past its challenge period, are skipped
    ///         (a race, not an error); a bad signature or an amount over the deposit reverts the batch.
    /// @return paid the total credited
    function redeemMany(Voucher[] calldata vouchers) external returns (uint256 paid) {
        for (uint256 i; i < vouchers.length; ++i) {
            Voucher calldata voucher = vouchers[i];
            (bytes32 id, Channel storage c) = _channel(voucher.key);
            State state = c.state;
            if (state == State.Closed || (state == State.Closing && block.timestamp >= c.closesAt) || c.held) continue;
            if (voucher.amount <= c.redeemed) continue;
            _requireSigner(id, VOUCHER_TYPEHASH, voucher.amount, voucher.v, voucher.r, voucher.s, voucher.key.consumer);
            paid += _credit(id, c, voucher.key.contentId, voucher.amount);
        }
    }

    /// @notice Cooperative close by the provider with the consumer's last voucher: redeems it (if it
    ///         raises the amount; pass amount 0 to close on what is already redeemed) and closes at once.
    function close(Voucher calldata voucher) external {
        (bytes32 id, Channel storage c) = _channel(voucher.key);
        if (msg.sender != voucher.key.provider) revert NotChannelProvider(id, msg.sender);
        _requireLive(id, c);
        if (voucher.amount > c.redeemed) {
            _requireSigner(id, VOUCHER_TYPEHASH, voucher.amount, voucher.v, voucher.r, voucher.s, voucher.key.consumer);
            _credit(id, c, voucher.key.contentId, voucher.amount);
        }
        _finish(id, c, voucher.key.consumer);
    }

    /// @notice Credit a listing's pooled earnings along its split to each payee's owed balance
    ///         (anyone may call); each payee withdraws its own.
    function distribute(uint256 contentId) external nonReentrant returns (uint256 amount) {
        amount = earnings[contentId];
        if (amount == 0) revert NothingToDistribute(contentId);
        earnings[contentId] = 0;
        emit EarningsDistributed(contentId, amount);
        (address[] memory payees, uint256[] memory amounts) = catalogue.splitAmount(contentId, amount);
        for (uint256 i; i < payees.length; ++i) {
            if (amounts[i] != 0) {
                owed[payees[i]] += amounts[i];
                emit PayeeCredited(contentId, payees[i], amounts[i]);
            }
        }
    }

    // ------------------------------------------------------------------ compliance

    /// @notice Hold a live channel whose consumer or provider is frozen or no longer registered (a
    ///         stolen key's vouchers): no redemption, close, settlement or top-up until released.
    function hold(ChannelKey calldata key) external onlyRole(COMPLIANCE_ROLE) {
        (bytes32 id, Channel storage c) = _channel(key);
        if (c.state == State.Closed) revert WrongChannelState(id, c.state);
        if (c.held) revert ChannelIsHeld(id);
        if (registry.isActive(key.consumer) && registry.isActive(key.provider)) revert ChannelPartiesActive(id);
        c.held = true;
        emit ChannelHeld(id, msg.sender);
    }

    /// @notice End a hold: the channel goes on as before; a closing channel gets a fresh challenge
    ///         period (the provider could not redeem while it was held).
    function releaseHold(ChannelKey calldata key) external onlyRole(COMPLIANCE_ROLE) {
        (bytes32 id, Channel storage c) = _channel(key);
        if (!c.held) revert ChannelNotHeld(id);
        c.held = false;
        uint64 closesAt = c.closesAt;
        if (c.state == State.Closing) {
            uint64 fresh = uint64(block.timestamp) + challengePeriod;
            if (fresh > closesAt) closesAt = fresh;
            c.closesAt = uint40(closesAt);
        }
        emit ChannelHoldReleased(id, closesAt);
    }

    /// @notice Close a held channel at `amount` in total (what compliance finds the provider is owed,
    ///         between what the channel already redeemed and its deposit); the rest is the consumer's.
    function closeHeld(ChannelKey calldata key, uint256 amount) external onlyRole(COMPLIANCE_ROLE) {
        (bytes32 id, Channel storage c) = _channel(key);
        if (!c.held) revert ChannelNotHeld(id);
        if (amount < c.redeemed || amount > c.deposit) revert InvalidCloseAmount(id, amount, c.redeemed, c.deposit);
        c.held = false;
        emit HeldChannelClosed(id, amount);
        if (amount > c.redeemed) _credit(id, c, key.contentId, amount);
        _finish(id, c, key.consumer);
    }

    /// @notice Return currency paid to this contract outside any channel to `to`. Only the excess over
    ///         totalHeld can move: deposits, earnings and owed balances are untouchable.
    function recoverUnheld(address to) external nonReentrant onlyRole(COMPLIANCE_ROLE) returns (uint256 amount) {
        amount = token.balanceOf(address(this)) - totalHeld;
        if (amount != 0) {
            emit UnheldRecovered(to, amount);
            token.transfer(to, amount);
        }
    }

    // ------------------------------------------------------------------ views

    /// @notice A channel's id: keccak256(abi.encode(key)).
    function channelIdOf(ChannelKey calldata key) public pure returns (bytes32) {
        return keccak256(abi.encode(key));
    }

    /// @notice A channel's state (all zero for an id never opened).
    /// @return deposit base units deposited
    /// @return redeemed base units paid to the listing so far
    /// @return state None, Open, Closing or Closed
    /// @return closesAt end of the challenge period (0 unless a unilateral close started)
    /// @return held whether compliance holds the channel
    function getChannel(bytes32 id)
        external
        view
        returns (uint256 deposit, uint256 redeemed, State state, uint64 closesAt, bool held)
    {
        Channel storage c = _channels[id];
        return (c.deposit, c.redeemed, c.state, c.closesAt, c.held);
    }

    /// @notice The EIP-712 digest a consumer signs for a voucher of `channelId` and `amount`
    ///         (typehash: VOUCHER_TYPEHASH).
    function digest(bytes32 typehash, bytes32 id, uint256 amount) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(typehash, id, amount)));
    }

    /// @notice The EIP-712 digest a provider signs to consent to a close at `amount` until `deadline`.
    function closeDigest(bytes32 id, uint256 amount, uint256 deadline) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(CLOSE_TYPEHASH, id, amount, deadline)));
    }

    /// @notice The EIP-712 domain separator (name "chainpay channels", version "1", chain id, this contract).
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    // ------------------------------------------------------------------ internals

    function _open(uint256 contentId, uint256 deposit, bytes32 salt, uint256 maxUnitPrice) private returns (bytes32 id) {
        if (deposit == 0) revert ZeroAmount();
        if (deposit > type(uint96).max) revert AmountTooLarge(deposit, type(uint96).max);
        (address provider, uint256 unitPrice, bool available) = catalogue.terms(contentId);
        if (!available) revert ContentUnavailable(contentId);
        if (unitPrice > maxUnitPrice) revert PriceAboveLimit(contentId, unitPrice, maxUnitPrice);
        // The catalogue bounds ids by its count and prices to 80 bits, so both casts are exact.
        id = keccak256(abi.encode(ChannelKey(msg.sender, provider, uint64(contentId), uint96(unitPrice), salt)));
        Channel storage c = _channels[id];
        if (c.state != State.None) revert ChannelExists(id);
        c.deposit = uint96(deposit);
        c.state = State.Open;
        totalHeld += deposit;
        emit ChannelOpened(id, msg.sender, provider, contentId, unitPrice, salt, deposit);
        token.transferFrom(msg.sender, address(this), deposit);
    }

    function _topUp(ChannelKey calldata key, uint256 amount) private {
        (bytes32 id, Channel storage c) = _channel(key);
        if (msg.sender != key.consumer) revert NotConsumer(id, msg.sender);
        if (c.state != State.Open) revert WrongChannelState(id, c.state);
        if (c.held) revert ChannelIsHeld(id);
        if (amount == 0) revert ZeroAmount();
        uint256 deposit = c.deposit + amount;
        if (deposit > type(uint96).max) revert AmountTooLarge(deposit, type(uint96).max);
        c.deposit = uint96(deposit);
        totalHeld += amount;
        emit ChannelToppedUp(id, deposit);
        token.transferFrom(msg.sender, address(this), amount);
    }

    /// @dev The channel of `key`; reverts UnknownChannel if it was never opened.
    function _channel(ChannelKey calldata key) private view returns (bytes32 id, Channel storage c) {
        id = keccak256(abi.encode(key));
        c = _channels[id];
        if (c.state == State.None) revert UnknownChannel(id);
    }

    /// @dev Open, or Closing inside its challenge period; not held.
    function _requireLive(bytes32 id, Channel storage c) private view {
        if (c.held) revert ChannelIsHeld(id);
        State state = c.state;
        if (state == State.Closing) {
            if (block.timestamp >= c.closesAt) revert ChallengeOver(id, c.closesAt);
        } else if (state != State.Open) {
            revert WrongChannelState(id, state);
        }
    }

    function _requireSigner(
        bytes32 id,
        bytes32 typehash,
        uint256 amount,
        uint8 v,
        bytes32 r,
        bytes32 s,
        address expected
    ) private view {
        _requireSignature(digest(typehash, id, amount), id, v, r, s, expected);
    }

    function _requireSignature(bytes32 hash, bytes32 id, uint8 v, bytes32 r, bytes32 s, address expected)
        private
        pure
    {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(hash, v, r, s);
        if (err != ECDSA.RecoverError.NoError || recovered != expected) revert WrongSigner(id, recovered, expected);
    }

    function _withdraw(address account) private returns (uint256 amount) {
        amount = owed[account];
        if (amount == 0) revert NothingToWithdraw(account);
        owed[account] = 0;
        totalHeld -= amount;
        emit Withdrawn(account, amount);
        token.transfer(account, amount);
    }

    /// @dev Raise the channel's redeemed amount to `amount` (> redeemed, <= deposit) and pool the increment.
    function _credit(bytes32 id, Channel storage c, uint256 contentId, uint256 amount) private returns (uint256 paid) {
        uint256 deposit = c.deposit;
        if (amount > deposit) revert VoucherOverDeposit(id, amount, deposit);
        paid = amount - c.redeemed;
        c.redeemed = uint96(amount);
        earnings[contentId] += paid;
        emit VoucherRedeemed(id, amount, paid);
    }

    /// @dev Close: the unredeemed remainder becomes the consumer's refundable balance.
    function _finish(bytes32 id, Channel storage c, address consumer) private {
        uint256 refund = c.deposit - c.redeemed;
        c.state = State.Closed;
        if (refund != 0) owed[consumer] += refund;
        emit ChannelClosed(id, c.redeemed, refund);
    }
}
