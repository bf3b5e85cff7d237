// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ERC3009} from "@openzeppelin/contracts/token/ERC20/extensions/draft-ERC3009.sol";
import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IIdentityRegistry} from "../access/IIdentityRegistry.sol";
import {IWalletLinks} from "./IWalletLinks.sol";

/// @title Permissioned digital currency
/// @notice An ERC-20 that only KYC'd, unfrozen addresses may hold, send, receive or approve, with
///         per-identity daily outflow limits by tier (UTC calendar days, summed over all of an
///         identity's addresses), an issuer that mints and burns, a pauser, EIP-2612 permit and
///         EIP-3009 signed transfers. Wallet classes: each tier may also carry a single-payment
///         limit, an annual limit (UTC calendar year) and a per-address balance cap. A payment that
///         would take a recipient over its cap sends the excess to the recipient's linked platform
///         balance (waterfall); a payment above the payer's balance may pull the shortfall from the
///         payer's linked platform balance when the payer opted in (reverse waterfall).
/// @dev Every way value or allowance moves (transfer, transferFrom, mint, burn, permit, approve,
///      transferWithAuthorization, receiveWithAuthorization) passes through `_update` or `_approve`,
///      and both run the same registry, freeze and pause checks; so no signed path can skip them.
///      Two moves only lower risk and are allowed whatever the parties' standing or the pause: lowering
///      an allowance (approve or permit to a value not above the current one) and cancelling an
///      EIP-3009 authorization. The admin role follows OpenZeppelin's AccessControlDefaultAdminRules.
contract DigitalCurrency is ERC20Permit, ERC3009, AccessControlDefaultAdminRules, Pausable {
    bytes32 public constant ISSUER_ROLE = keccak256("ISSUER");
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER");
    bytes32 public constant COMPLIANCE_ROLE = keccak256("COMPLIANCE");
    /// @notice Escrow contracts (revocable transfers) that take payments with escrowPull and may give
    ///         back a sender's daily outflow when such a payment is returned on the day it was sent.
    bytes32 public constant ESCROW_ROLE = keccak256("ESCROW");

    /// @notice Tiers run from 1 to MAX_TIER.
    uint8 public constant MAX_TIER = 5;
    /// @notice A tier whose limit is this value has no daily limit.
    uint256 public constant UNLIMITED = type(uint256).max;
    uint48 private constant _UNLIMITED_UNITS = type(uint48).max;

    IIdentityRegistry public immutable registry;
    uint8 private immutable _decimals;
    uint256 private immutable _unit; // 10 ** decimals

    // Daily outflow limits of tiers 1..5 in whole currency units. Declared first in this contract so
    // that they share one storage slot with Pausable's `_paused` flag: a transfer reads the pause flag
    // and its tier's limit with a single cold SLOAD (tests/test_compile.py guards this).
    uint48 private _limitTier1;
    uint48 private _limitTier2;
    uint48 private _limitTier3;
    uint48 private _limitTier4;
    uint48 private _limitTier5;
    /// @dev Bit (tier - 1) is set when that tier's wallet class has a finite single, annual or cap
    ///      limit: a transfer between tiers without one never reads a class slot. Same slot as above.
    uint8 private _classFlags;

    /// @dev A wallet class's limits beyond the daily one, in whole units (_UNLIMITED_UNITS = none).
    struct WalletClass {
        uint48 singleLimit;
        uint48 balanceCap;
        uint48 annualLimit;
    }

    mapping(uint8 tier => WalletClass) private _classes;
    /// @notice The platform-balances contract that takes a capped wallet's excess and covers an
    ///         opted-in payer's shortfall (zero until the admin sets it).
    IWalletLinks public platforms;

    /// @dev One slot per identity: the UTC day of the last outflow, the total sent that day and the
    ///      total sent in that day's UTC calendar year.
    struct Outflow {
        uint32 day;
        uint112 spent;
        uint112 spentThisYear;
    }

    mapping(uint64 identityKey => Outflow) private _outflow;
    /// @dev What each escrow took from each identity with escrowPull, on the day recorded: the most
    ///      restoreOutflow may give back for that escrow.
    mapping(address escrow => mapping(uint64 identityKey => Outflow)) private _escrowTaken;

    /// @dev The pause clock: when the current pause began and the seconds of all earlier pauses.
    uint64 private _pausedSince;
    uint64 private _pausedTotal;

    event DailyLimitChanged(uint8 indexed tier, uint256 previousLimit, uint256 newLimit);
    event OutflowRestored(address indexed account, bytes32 indexed identity, uint256 amount);
    event EscrowPulled(address indexed escrow, address indexed from, uint256 amount);
    event WalletClassChanged(uint8 indexed tier, uint256 singleLimit, uint256 balanceCap, uint256 annualLimit);
    event PlatformsSet(address indexed platforms);
    /// @notice `excess` of a payment to `account` went to its linked platform balance (its class cap).
    event Waterfall(address indexed account, uint256 excess);
    /// @notice `shortfall` of a payment by `account` came from its linked platform balance.
    event ReverseWaterfall(address indexed account, uint256 shortfall);

    /// @notice The payment would take the identity's outflow today past its tier's limit.
    error DailyLimitExceeded(bytes32 identity, uint256 limit, uint256 spentToday, uint256 amount);
    /// @notice The payment is above the single-payment limit of the payer's wallet class.
    error SinglePaymentLimitExceeded(bytes32 identity, uint256 limit, uint256 amount);
    /// @notice The payment would take the identity's outflow this UTC calendar year past its class's limit.
    error AnnualLimitExceeded(bytes32 identity, uint256 limit, uint256 spentThisYear, uint256 amount);
    /// @notice The payment would take the recipient over its class's balance cap and the recipient
    ///         has no linked platform balance to take the excess.
    error BalanceCapExceeded(address account, uint256 cap, uint256 balance, uint256 amount);
    /// @notice A finite class limit must be a whole number of units below 2**48 units (or UNLIMITED).
    error InvalidClassLimit(uint256 limit);
    /// @notice The platform-balances contract is set once.
    error PlatformsAlreadySet(address platforms);
    /// @notice A finite daily limit must be a whole number of units below 2**48 units (or UNLIMITED).
    error InvalidDailyLimit(uint256 limit);
    /// @notice Tiers run from 1 to MAX_TIER.
    error InvalidTierForLimit(uint8 tier);
    error ZeroAddress();
    /// @notice decimals above 18 are not supported (limits are kept in whole units below 2**48).
    error InvalidDecimals(uint8 decimals);
    /// @notice MAX_TIER holds chainpay's escrow contracts, which pay out for every sender: no limit.
    error TierMustStayUnlimited(uint8 tier);

    /// @param name_ token name, also the EIP-712 domain name
    /// @param symbol_ token symbol
    /// @param decimals_ base units per unit as a power of ten (2 = the fen), at most 18
    /// @param registry_ the identity registry consulted on every transfer
    /// @param admin holds DEFAULT_ADMIN_ROLE (grants and revokes the other roles; handed over in two steps)
    /// @param issuer mints and burns (the central bank)
    /// @param pauser pauses and unpauses all movements
    /// @param compliance sets per-tier daily limits
    /// @param adminDelay seconds between the start of an admin handover and its acceptance
    constructor(
        string memory name_,
        string memory symbol_,
        uint8 decimals_,
        IIdentityRegistry registry_,
        address admin,
        address issuer,
        address pauser,
        address compliance,
        uint48 adminDelay
    ) ERC20(name_, symbol_) ERC20Permit(name_) AccessControlDefaultAdminRules(adminDelay, admin) {
        if (
            address(registry_) == address(0) || admin == address(0) || issuer == address(0) || pauser == address(0)
                || compliance == address(0)
        ) revert ZeroAddress();
        if (decimals_ > 18) revert InvalidDecimals(decimals_);
        registry = registry_;
        _decimals = decimals_;
        _unit = 10 ** decimals_;
        _grantRole(ISSUER_ROLE, issuer);
        _grantRole(PAUSER_ROLE, pauser);
        _grantRole(COMPLIANCE_ROLE, compliance);
    }

    // ------------------------------------------------------------------ issuer, pauser, compliance

    /// @notice Issue new currency to a registered, active address. Not counted against any limit.
    function mint(address to, uint256 amount) external onlyRole(ISSUER_ROLE) {
        _mint(to, amount);
    }

    /// @notice Retire currency from the issuer's own balance. Not counted against any limit.
    function burn(uint256 amount) external onlyRole(ISSUER_ROLE) {
        _burn(msg.sender, amount);
    }

    /// @notice Stop every movement of value and allowance.
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
        _pausedSince = uint64(block.timestamp);
    }

    /// @notice Resume movements.
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
        _pausedTotal += uint64(block.timestamp) - _pausedSince;
    }

    /// @notice Set a tier's daily cumulative outflow limit in base units, effective at once
    ///         (amounts already sent today stay counted). The limit must be a whole number of
    ///         currency units; UNLIMITED removes the limit, 0 forbids outflows. MAX_TIER stays
    ///         UNLIMITED (chainpay's escrows are registered at it and pay out for every sender).
    function setDailyLimit(uint8 tier, uint256 limit) external onlyRole(COMPLIANCE_ROLE) {
        if (tier == 0 || tier > MAX_TIER) revert InvalidTierForLimit(tier);
        if (tier == MAX_TIER && limit != UNLIMITED) revert TierMustStayUnlimited(tier);
        (uint48 units, bool ok) = _toUnits(limit);
        if (!ok) revert InvalidDailyLimit(limit);
        emit DailyLimitChanged(tier, dailyLimit(tier), limit);
        if (tier == 1) _limitTier1 = units;
        else if (tier == 2) _limitTier2 = units;
        else if (tier == 3) _limitTier3 = units;
        else if (tier == 4) _limitTier4 = units;
        else _limitTier5 = units;
    }

    /// @notice Set a tier's wallet class beyond its daily limit, in base units: the most one payment
    ///         may move, the most an address may hold, and the most the identity may send in a UTC
    ///         calendar year. Each a whole number of units below 2**48 units, or UNLIMITED. Effective
    ///         at once; MAX_TIER (chainpay's contracts) stays unlimited.
    function setWalletClass(uint8 tier, uint256 singleLimit, uint256 balanceCap, uint256 annualLimit)
        external
        onlyRole(COMPLIANCE_ROLE)
    {
        if (tier == 0 || tier > MAX_TIER) revert InvalidTierForLimit(tier);
        WalletClass memory c = WalletClass(_classUnits(singleLimit), _classUnits(balanceCap), _classUnits(annualLimit));
        bool limited = c.singleLimit != _UNLIMITED_UNITS || c.balanceCap != _UNLIMITED_UNITS
            || c.annualLimit != _UNLIMITED_UNITS;
        if (tier == MAX_TIER && limited) revert TierMustStayUnlimited(tier);
        _classes[tier] = c;
        uint8 bit = uint8(1 << (tier - 1));
        _classFlags = limited ? _classFlags | bit : _classFlags & ~bit;
        emit WalletClassChanged(tier, singleLimit, balanceCap, annualLimit);
    }

    /// @notice Name the platform-balances contract (once): it takes capped wallets' excess and covers
    ///         opted-in payers' shortfalls. Without it a payment over a recipient's cap is refused.
    function setPlatforms(IWalletLinks platforms_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (address(platforms_) == address(0)) revert ZeroAddress();
        if (address(platforms) != address(0)) revert PlatformsAlreadySet(address(platforms));
        platforms = platforms_;
        emit PlatformsSet(address(platforms_));
    }

    /// @notice An escrow takes `value` from `from` (with `from`'s allowance, like transferFrom) and
    ///         the currency records how much this escrow took from that identity today: the most the
    ///         escrow may later give back with restoreOutflow.
    function escrowPull(address from, uint256 value) external onlyRole(ESCROW_ROLE) {
        _spendAllowance(from, msg.sender, value);
        _transfer(from, msg.sender, value); // every check of _update: parties, pause, daily limit
        (uint64 key,) = registry.requireActive(from);
        Outflow memory t = _escrowTaken[msg.sender][key];
        uint32 today = _today();
        _escrowTaken[msg.sender][key] =
            Outflow({day: today, spent: SafeCast.toUint112((t.day == today ? t.spent : 0) + value), spentThisYear: 0});
        emit EscrowPulled(msg.sender, from, value);
    }

    /// @notice Give back daily outflow to `account`'s identity for a payment that this escrow took
    ///         with escrowPull and returned: only on `sentDay` itself (the UTC day it was sent), and
    ///         never more than the identity has spent today nor more than this escrow took from it
    ///         today (and has not given back yet). A later day's limit is untouched.
    /// @param sentDay UTC day number (timestamp / 1 days) on which the returned payment was sent
    /// @return restored the outflow actually given back (0 when the day has passed)
    function restoreOutflow(address account, uint256 amount, uint64 sentDay)
        external
        onlyRole(ESCROW_ROLE)
        returns (uint256 restored)
    {
        (uint64 key,) = registry.requireActive(account);
        Outflow memory o = _outflow[key];
        Outflow memory t = _escrowTaken[msg.sender][key];
        uint32 today = _today();
        if (sentDay != today || o.day != today || t.day != today) return 0;
        restored = amount < o.spent ? amount : o.spent;
        if (restored > t.spent) restored = t.spent;
        if (restored == 0) return 0;
        // The year's total gives back as much as the day's (both counted the payment).
        _outflow[key].spent = o.spent - uint112(restored);
        _outflow[key].spentThisYear = o.spentThisYear - uint112(restored);
        _escrowTaken[msg.sender][key].spent = t.spent - uint112(restored);
        emit OutflowRestored(account, registry.identityHashOf(key), restored);
    }

    // ------------------------------------------------------------------ views

    /// @notice A tier's daily outflow limit in base units (0 = no outflow allowed; UNLIMITED = none).
    function dailyLimit(uint8 tier) public view returns (uint256) {
        uint48 units = _limitUnits(tier);
        return units == _UNLIMITED_UNITS ? UNLIMITED : units * _unit;
    }

    /// @notice A tier's wallet class in base units (UNLIMITED where the class sets no limit).
    function walletClass(uint8 tier)
        external
        view
        returns (uint256 daily, uint256 singleLimit, uint256 balanceCap, uint256 annualLimit)
    {
        WalletClass memory c = _classes[tier];
        if (tier == 0 || _classFlags & (1 << (tier - 1)) == 0) {
            c = WalletClass(_UNLIMITED_UNITS, _UNLIMITED_UNITS, _UNLIMITED_UNITS); // never set, or all unlimited
        }
        return (dailyLimit(tier), _amount(c.singleLimit), _amount(c.balanceCap), _amount(c.annualLimit));
    }

    /// @notice What `account`'s identity has sent this UTC calendar year.
    function outflowThisYear(address account) external view returns (uint256) {
        (uint64 key,) = registry.requireActive(account);
        Outflow memory o = _outflow[key];
        return _sameYear(o.day, _today()) ? o.spentThisYear : 0;
    }

    /// @notice What `account`'s identity has sent today (UTC) and may still send today.
    /// @dev Reverts with the registry's error when the account is not active.
    function outflowToday(address account) external view returns (uint256 spent, uint256 remaining) {
        (uint64 key, uint8 tier) = registry.requireActive(account);
        Outflow memory o = _outflow[key];
        spent = o.day == _today() ? o.spent : 0;
        uint256 limit = dailyLimit(tier);
        if (limit == UNLIMITED) return (spent, UNLIMITED);
        remaining = limit > spent ? limit - spent : 0;
    }

    /// @notice Seconds the currency has been paused in all, the current pause included: escrows stop
    ///         their deadlines while nothing can move (a deadline opened at clock c runs late by
    ///         pausedSeconds() - c).
    function pausedSeconds() external view returns (uint256) {
        uint256 total = _pausedTotal;
        if (paused()) total += block.timestamp - _pausedSince;
        return total;
    }

    /// @inheritdoc ERC20
    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    // ------------------------------------------------------------------ checks on every path

    /// @notice ERC-20 transferFrom; the spender must be active too.
    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        registry.requireActive(msg.sender);
        return super.transferFrom(from, to, value);
    }

    /// @dev Mint, burn, transfer, transferFrom and both EIP-3009 transfers land here.
    function _update(address from, address to, uint256 value) internal override whenNotPaused {
        uint8 toTier;
        if (from == address(0)) {
            (, toTier) = registry.requireActive(to); // mint
        } else if (to == address(0)) {
            registry.requireActive(from); // burn
            super._update(from, to, value);
            return;
        } else {
            uint256 pair = registry.requireActivePair(from, to);
            uint64 fromKey = uint64(pair);
            toTier = uint8(pair >> 192);
            uint256 held = balanceOf(from);
            if (held < value && address(platforms) != address(0)) _pullShortfall(from, value - held);
            // Moving money between addresses of one identity is not an outflow of that identity.
            if (fromKey != uint64(pair >> 128)) _recordOutflow(fromKey, uint8(pair >> 64), value);
        }
        if (_classFlags & (1 << (toTier - 1)) != 0) {
            uint48 capUnits = _classes[toTier].balanceCap;
            if (capUnits != _UNLIMITED_UNITS) {
                uint256 cap = capUnits * _unit;
                uint256 balance = balanceOf(to);
                if (balance + value > cap) {
                    uint256 excess = balance + value - (balance > cap ? balance : cap);
                    IWalletLinks sink = platforms;
                    if (address(sink) == address(0)) revert BalanceCapExceeded(to, cap, balance, value);
                    super._update(from, to, value - excess);
                    super._update(from, address(sink), excess);
                    emit Waterfall(to, excess);
                    sink.onWaterfall(to, excess); // mints the excess as `to`'s platform balance, or reverts
                    return;
                }
            }
        }
        super._update(from, to, value);
    }

    /// @dev Reverse waterfall: when the payer opted in, the platform-balances contract burns
    ///      `shortfall` of its linked platform balance (or reverts: not enough) and its reserve pays it
    ///      in here; otherwise nothing happens and the payment fails on the balance as usual.
    function _pullShortfall(address from, uint256 shortfall) private {
        IWalletLinks sink = platforms;
        if (!sink.onShortfall(from, shortfall)) return;
        super._update(address(sink), from, shortfall);
        emit ReverseWaterfall(from, shortfall);
    }

    /// @dev approve and permit (emitEvent = true) that raise an allowance are checked; lowering one only
    ///      lowers risk and is always allowed (a frozen spender's allowance can be revoked). Allowance
    ///      spending inside transferFrom (emitEvent = false) was already checked by transferFrom and _update.
    function _approve(address owner, address spender, uint256 value, bool emitEvent) internal override {
        if (emitEvent && value > allowance(owner, spender)) {
            _requireNotPaused();
            registry.requireActivePair(owner, spender);
        }
        super._approve(owner, spender, value, emitEvent);
    }

    /// @dev Outflow is recorded even under an unlimited tier, so a limit set (or a tier lowered)
    ///      later the same day counts what was already sent.
    function _recordOutflow(uint64 key, uint8 tier, uint256 amount) private {
        uint48 units = _limitUnits(tier);
        Outflow memory o = _outflow[key];
        uint32 today = _today();
        uint256 spent;
        uint256 spentThisYear;
        if (o.day == today) {
            (spent, spentThisYear) = (o.spent, o.spentThisYear);
        } else if (_sameYear(o.day, today)) {
            spentThisYear = o.spentThisYear; // first outflow of the day: the year's total carries over
        }
        if (_classFlags & (1 << (tier - 1)) != 0) _checkClass(key, tier, amount, spentThisYear);
        uint256 newSpent;
        if (units != _UNLIMITED_UNITS) {
            unchecked {
                // units < 2**48 and _unit <= 10**18, so limit < 2**108: nothing below overflows.
                uint256 limit = units * _unit;
                // Written so that a limit lowered below today's spending cannot underflow.
                if (spent > limit || amount > limit - spent) {
                    revert DailyLimitExceeded(registry.identityHashOf(key), limit, spent, amount);
                }
                newSpent = spent + amount;
            }
        } else {
            newSpent = spent + amount; // bounded only by the total supply
        }
        _outflow[key] = Outflow({
            day: today,
            spent: SafeCast.toUint112(newSpent),
            spentThisYear: SafeCast.toUint112(spentThisYear + amount)
        });
    }

    /// @dev The payer's class: single-payment and annual limits.
    function _checkClass(uint64 key, uint8 tier, uint256 amount, uint256 spentThisYear) private view {
        WalletClass memory c = _classes[tier];
        if (c.singleLimit != _UNLIMITED_UNITS && amount > c.singleLimit * _unit) {
            revert SinglePaymentLimitExceeded(registry.identityHashOf(key), c.singleLimit * _unit, amount);
        }
        if (c.annualLimit != _UNLIMITED_UNITS) {
            uint256 limit = c.annualLimit * _unit;
            if (spentThisYear > limit || amount > limit - spentThisYear) {
                revert AnnualLimitExceeded(registry.identityHashOf(key), limit, spentThisYear, amount);
            }
        }
    }

    /// @dev A limit in base units as whole units (UNLIMITED -> _UNLIMITED_UNITS); ok = representable.
    function _toUnits(uint256 limit) private view returns (uint48 units, bool ok) {
        if (limit == UNLIMITED) return (_UNLIMITED_UNITS, true);
        if (limit % _unit != 0 || limit / _unit >= _UNLIMITED_UNITS) return (0, false);
        return (uint48(limit / _unit), true);
    }

    function _classUnits(uint256 limit) private view returns (uint48 units) {
        bool ok;
        (units, ok) = _toUnits(limit);
        if (!ok) revert InvalidClassLimit(limit);
    }

    function _amount(uint48 units) private view returns (uint256) {
        return units == _UNLIMITED_UNITS ? UNLIMITED : units * _unit;
    }

    /// @dev Whether two UTC day numbers fall in the same calendar year (day 0 = 1970-01-01).
    function _sameYear(uint256 a, uint256 b) private pure returns (bool) {
        return a != 0 && _yearOf(a) == _yearOf(b);
    }

    /// @dev Proleptic Gregorian year of a day number (days since 1970-01-01), by the civil-from-days
    ///      method: shift to eras of 400 years starting on 1 March 0000.
    function _yearOf(uint256 day) private pure returns (uint256) {
        uint256 z = day + 719_468;
        uint256 era = z / 146_097;
        uint256 doe = z - era * 146_097; // day of era, 0..146096
        uint256 yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // year of era, 0..399
        uint256 doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of the March-based year
        uint256 mp = (5 * doy + 2) / 153; // month, March = 0
        return yoe + era * 400 + (mp >= 10 ? 1 : 0); // January and February belong to the next year
    }

    function _limitUnits(uint8 tier) private view returns (uint48) {
        if (tier == 1) return _limitTier1;
        if (tier == 2) return _limitTier2;
        if (tier == 3) return _limitTier3;
        if (tier == 4) return _limitTier4;
        if (tier == 5) return _limitTier5;
        return 0;
    }

    function _today() private view returns (uint32) {
        return uint32(block.timestamp / 1 days);
    }
}
