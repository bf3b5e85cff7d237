// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {DigitalCurrency} from "../token/DigitalCurrency.sol";
import {PermitOrAllowance} from "../token/PermitOrAllowance.sol";
import {IIdentityRegistry} from "../access/IIdentityRegistry.sol";
import {IContentCatalogue} from "./IContentCatalogue.sol";

/// @title Pay-per-use content catalogue
/// @notice Registered providers list content with a price per unit (a download, a minute, a call)
///         and a revenue split over up to MAX_PAYEES registered payees (e.g. provider / platform /
///         service provider). `buy` pays one purchase on chain: the buyer's total comes here once
///         and each payee's share is credited to that payee's balance, which it withdraws (pull
///         payments: one frozen payee never holds the others' money). Micropayment channels
///         (contracts/channels) read the same terms for many small uses.
/// @dev A price change applies to purchases and channels made afterwards (buyers bound the price
///      they accept with maxUnitPrice); the split of a listing never changes.
///      Invariant: token.balanceOf(this) == totalOwed == sum of owed, unless someone pays this
///      contract directly; compliance returns that excess with recoverUnheld. This contract is a
///      registered identity (a chainpay contract) so the currency lets it hold money.
contract ContentCatalogue is IContentCatalogue, AccessControlDefaultAdminRules, ReentrancyGuardTransient {
    bytes32 public constant COMPLIANCE_ROLE = keccak256("COMPLIANCE");

    /// @notice What one unit of a listing is.
    enum UnitKind {
        Download,
        Minute,
        Call
    }

    /// @notice At most this many payees share a listing's revenue.
    uint256 public constant MAX_PAYEES = 5;
    /// @notice Basis points of a whole.
    uint256 public constant TOTAL_BPS = 10_000;
    /// @notice Most units one purchase may buy.
    uint256 public constant MAX_UNITS = type(uint96).max;

    /// @dev One slot: what buy() and a channel opening read.
    struct Listing {
        address provider;
        uint80 unitPrice;
        UnitKind kind;
        bool available;
    }

    /// @dev One slot per payee.
    struct Payee {
        address account;
        uint16 bps;
    }

    DigitalCurrency public immutable token;
    IIdentityRegistry public immutable registry;

    /// @notice Number of listings ever made; ids run from 1 to contentCount.
    uint256 public contentCount;

    mapping(uint256 contentId => Listing) private _listings;
    mapping(uint256 contentId => Payee[]) private _payees;
    /// @notice Each payee's credited, not yet withdrawn shares (base units).
    mapping(address payee => uint256) public owed;
    /// @notice Sum of owed: what this contract holds for payees.
    uint256 public totalOwed;

    event ContentListed(
        uint256 indexed contentId,
        address indexed provider,
        uint256 unitPrice,
        UnitKind kind,
        address[] payees,
        uint16[] shares
    );
    event PriceChanged(uint256 indexed contentId, uint256 previousPrice, uint256 newPrice);
    event AvailabilityChanged(uint256 indexed contentId, bool available);
    /// @notice A purchase; each payee's share of `total` (splitAmount) is credited to its owed balance.
    event Purchased(uint256 indexed contentId, address indexed buyer, uint256 units, uint256 unitPrice, uint256 total);
    event Withdrawn(address indexed account, uint256 amount);
    event UnheldRecovered(address indexed to, uint256 amount);

    error UnknownContent(uint256 contentId);
    error NotProvider(uint256 contentId, address caller);
    error ContentUnavailable(uint256 contentId);
    /// @notice A price is at least 1 base unit and fits in 80 bits.
    error InvalidPrice(uint256 unitPrice);
    error InvalidPayeeCount(uint256 count, uint256 max);
    error SharesMismatch(uint256 payees, uint256 shares);
    /// @notice Every payee gets a non-zero share.
    error ZeroShare(address payee);
    error DuplicatePayee(address payee);
    error SharesDoNotSum(uint256 total);
    error ZeroUnits();
    /// @notice At most MAX_UNITS units per purchase (so units * price never overflows).
    error TooManyUnits(uint256 units, uint256 max);
    error ZeroAddress();
    /// @notice The current price is above what the buyer accepts (slippage bound).
    error PriceAboveLimit(uint256 contentId, uint256 unitPrice, uint256 maxUnitPrice);
    /// @notice A payee with code must be one of chainpay's own contracts (others could never withdraw).
    error ContractPayee(address payee);
    error NothingToWithdraw(address account);

    /// @param token_ the digital currency purchases are paid in
    /// @param admin holds DEFAULT_ADMIN_ROLE (handed over in two steps)
    /// @param compliance may return currency paid here outside any purchase (recoverUnheld)
    /// @param adminDelay seconds between the start of an admin handover and its acceptance
    constructor(DigitalCurrency token_, address admin, address compliance, uint48 adminDelay)
        AccessControlDefaultAdminRules(adminDelay, admin)
    {
        if (address(token_) == address(0) || compliance == address(0)) revert ZeroAddress();
        token = token_;
        registry = token_.registry();
        _grantRole(COMPLIANCE_ROLE, compliance);
    }

    // ------------------------------------------------------------------ providers

    /// @notice List content sold by the caller (a registered, active identity).
    /// @param unitPrice base units per unit (>= 1)
    /// @param kind what a unit is
    /// @param payees 1..MAX_PAYEES distinct registered payees (a contract only if it is one of
    ///        chainpay's own); the first receives the rounding remainder
    /// @param shares basis points of each payee, each > 0, summing to TOTAL_BPS
    /// @return contentId the new listing's id
    function list(uint256 unitPrice, UnitKind kind, address[] calldata payees, uint16[] calldata shares)
        external
        returns (uint256 contentId)
    {
        registry.requireActive(msg.sender);
        _checkPrice(unitPrice);
        uint256 n = payees.length;
        if (n == 0 || n > MAX_PAYEES) revert InvalidPayeeCount(n, MAX_PAYEES);
        if (shares.length != n) revert SharesMismatch(n, shares.length);
        contentId = ++contentCount;
        uint256 total;
        Payee[] storage stored = _payees[contentId];
        for (uint256 i; i < n; ++i) {
            address payee = payees[i];
            if (shares[i] == 0) revert ZeroShare(payee);
            for (uint256 j; j < i; ++j) {
                if (payees[j] == payee) revert DuplicatePayee(payee);
            }
            registry.requireActive(payee);
            if (payee.code.length != 0 && !registry.isContractAccount(payee)) revert ContractPayee(payee);
            total += shares[i];
            stored.push(Payee(payee, shares[i]));
        }
        if (total != TOTAL_BPS) revert SharesDoNotSum(total);
        _listings[contentId] = Listing(msg.sender, uint80(unitPrice), kind, true);
        emit ContentListed(contentId, msg.sender, unitPrice, kind, payees, shares);
    }

    /// @notice Change the price per unit; applies to purchases and channels opened afterwards only.
    function setPrice(uint256 contentId, uint256 unitPrice) external {
        Listing storage l = _own(contentId);
        _checkPrice(unitPrice);
        emit PriceChanged(contentId, l.unitPrice, unitPrice);
        l.unitPrice = uint80(unitPrice);
    }

    /// @notice Stop (or resume) new purchases and channels; open channels are not affected.
    function setAvailable(uint256 contentId, bool available) external {
        Listing storage l = _own(contentId);
        l.available = available;
        emit AvailabilityChanged(contentId, available);
    }

    // ------------------------------------------------------------------ buying

    /// @notice Pay for `units` uses at the current price, credited to the payees along the split.
    ///         Needs an allowance of units * unitPrice for this contract (or use buyWithPermit).
    /// @param maxUnitPrice the highest price per unit the buyer accepts (PriceAboveLimit above it)
    /// @return total base units paid
    function buy(uint256 contentId, uint256 units, uint256 maxUnitPrice) external nonReentrant returns (uint256 total) {
        return _buy(contentId, units, maxUnitPrice);
    }

    /// @notice buy() with an EIP-2612 permit for this contract in the same transaction. A permit
    ///         that fails (e.g. already submitted) is ignored when the allowance is in place;
    ///         otherwise its own error is the answer (see PermitOrAllowance).
    function buyWithPermit(
        uint256 contentId,
        uint256 units,
        uint256 maxUnitPrice,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external nonReentrant returns (uint256 total) {
        _checkUnits(units);
        (, uint256 unitPrice,) = terms(contentId);
        PermitOrAllowance.permitOrAllowance(token, msg.sender, address(this), unitPrice * units, deadline, v, r, s);
        return _buy(contentId, units, maxUnitPrice);
    }

    // ------------------------------------------------------------------ payees

    /// @notice Pay the caller's owed balance (its shares of every purchase) in one transfer.
    function withdraw() external nonReentrant returns (uint256 amount) {
        return _withdraw(msg.sender);
    }

    /// @notice Pay `payee`'s owed balance to `payee` (anyone may call; the money only goes to its owner).
    function withdrawFor(address payee) external nonReentrant returns (uint256 amount) {
        return _withdraw(payee);
    }

    /// @notice Return currency paid to this contract outside any purchase to `to`. Only the excess
    ///         over totalOwed can move: payees' balances are untouchable.
    function recoverUnheld(address to) external nonReentrant onlyRole(COMPLIANCE_ROLE) returns (uint256 amount) {
        amount = token.balanceOf(address(this)) - totalOwed;
        if (amount != 0) {
            emit UnheldRecovered(to, amount);
            token.transfer(to, amount);
        }
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IContentCatalogue
    function terms(uint256 contentId) public view returns (address provider, uint256 unitPrice, bool available) {
        Listing storage l = _listing(contentId);
        return (l.provider, l.unitPrice, l.available);
    }

    /// @notice A whole listing.
    /// @return provider who listed it
    /// @return unitPrice base units per unit
    /// @return kind what a unit is
    /// @return available whether new purchases and channels are accepted
    /// @return payees who shares the revenue
    /// @return shares_ basis points of each payee
    function getContent(uint256 contentId)
        external
        view
        returns (
            address provider,
            uint256 unitPrice,
            UnitKind kind,
            bool available,
            address[] memory payees,
            uint16[] memory shares_
        )
    {
        Listing storage l = _listing(contentId);
        (payees, shares_) = splitOf(contentId);
        return (l.provider, l.unitPrice, l.kind, l.available, payees, shares_);
    }

    /// @inheritdoc IContentCatalogue
    function splitOf(uint256 contentId) public view returns (address[] memory payees, uint16[] memory shares_) {
        _listing(contentId);
        Payee[] storage stored = _payees[contentId];
        uint256 n = stored.length;
        payees = new address[](n);
        shares_ = new uint16[](n);
        for (uint256 i; i < n; ++i) {
            (payees[i], shares_[i]) = (stored[i].account, stored[i].bps);
        }
    }

    /// @inheritdoc IContentCatalogue
    function splitAmount(uint256 contentId, uint256 amount)
        public
        view
        returns (address[] memory payees, uint256[] memory amounts)
    {
        _listing(contentId);
        Payee[] storage stored = _payees[contentId];
        uint256 n = stored.length;
        payees = new address[](n);
        amounts = new uint256[](n);
        uint256 rest = amount;
        for (uint256 i = 1; i < n; ++i) {
            Payee storage p = stored[i];
            payees[i] = p.account;
            amounts[i] = amount * p.bps / TOTAL_BPS;
            rest -= amounts[i];
        }
        payees[0] = stored[0].account;
        amounts[0] = rest;
    }

    // ------------------------------------------------------------------ internals

    function _buy(uint256 contentId, uint256 units, uint256 maxUnitPrice) private returns (uint256 total) {
        _checkUnits(units);
        (, uint256 unitPrice, bool available) = terms(contentId);
        if (!available) revert ContentUnavailable(contentId);
        if (unitPrice > maxUnitPrice) revert PriceAboveLimit(contentId, unitPrice, maxUnitPrice);
        total = unitPrice * units;
        emit Purchased(contentId, msg.sender, units, unitPrice, total);
        (address[] memory payees, uint256[] memory amounts) = splitAmount(contentId, total);
        for (uint256 i; i < payees.length; ++i) {
            if (amounts[i] != 0) owed[payees[i]] += amounts[i];
        }
        totalOwed += total;
        // Last: the currency checks the buyer (registered, not frozen, daily limit, not paused).
        token.transferFrom(msg.sender, address(this), total);
    }

    function _withdraw(address payee) private returns (uint256 amount) {
        amount = owed[payee];
        if (amount == 0) revert NothingToWithdraw(payee);
        owed[payee] = 0;
        totalOwed -= amount;
        emit Withdrawn(payee, amount);
        token.transfer(payee, amount);
    }

    function _listing(uint256 contentId) private view returns (Listing storage l) {
        l = _listings[contentId];
        if (l.provider == address(0)) revert UnknownContent(contentId);
    }

    /// @dev The caller's own listing; a frozen or deregistered provider cannot change it.
    function _own(uint256 contentId) private view returns (Listing storage l) {
        l = _listing(contentId);
        if (l.provider != msg.sender) revert NotProvider(contentId, msg.sender);
        registry.requireActive(msg.sender);
    }

    function _checkUnits(uint256 units) private pure {
        if (units == 0) revert ZeroUnits();
        if (units > MAX_UNITS) revert TooManyUnits(units, MAX_UNITS);
    }

    function _checkPrice(uint256 unitPrice) private pure {
        if (unitPrice == 0 || unitPrice > type(uint80).max) revert InvalidPrice(unitPrice);
    }
}
