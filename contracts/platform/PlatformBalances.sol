// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ERC6909} from "@openzeppelin/contracts/token/ERC6909/ERC6909.sol";
import {IERC6909} from "@openzeppelin/contracts/interfaces/IERC6909.sol";
import {ERC6909TokenSupply} from "@openzeppelin/contracts/token/ERC6909/extensions/ERC6909TokenSupply.sol";
import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {DigitalCurrency} from "../token/DigitalCurrency.sol";
import {IWalletLinks} from "../token/IWalletLinks.sol";
import {PermitOrAllowance} from "../token/PermitOrAllowance.sol";
import {IIdentityRegistry} from "../access/IIdentityRegistry.sol";
import {RevocableTransfers} from "../transfers/RevocableTransfers.sol";
import {IEscrowForwarder} from "../transfers/IEscrowForwarder.sol";

/// @title Platform balances backed by reserve in the digital currency (the second tier of money)
/// @notice Each white-listed platform (an institution of the identity registry) issues a balance: a
///         liability of that platform, token id = the institution's number (ERC-6909). A balance is
///         minted only when the same amount of digital currency enters the platform's reserve held by
///         this contract (a customer's top-up, or the platform's own issue) and is redeemed 1:1 back
///         to currency. Balances move between customers of one platform under the registry's checks
///         and the currency's pause, and between platforms in one transaction (interconversion): burn
///         on A, reserve A -> B, mint on B; same-name only by default; counted against the identity's
///         daily interconversion threshold; from the escrow's second-approval threshold up, through the
///         revocable-transfer escrow (delayed arrival, revocable, second approval).
/// @dev Invariants: currency.balanceOf(this) == totalReserve + currency given to the escrow but not yet
///      settled (the escrow holds that); every reserve[p] >= ratio[p] x supply[p] after any step the
///      platform controls (withdrawExcess checks it; issue, deposits and incoming interconversions only
///      raise it). Customers' redemptions and outgoing interconversions are paid while the reserve lasts,
///      even below the ratio (at a 100 % ratio reserve == supply, so they always are): a platform's
///      shortfall is the platform's loss first, never a trapped customer while reserve remains.
///      Taking a platform off the registry's white list stops top-ups, issues and interconversions to
///      or from it; redemption always works. Roles follow AccessControlDefaultAdminRules.
contract PlatformBalances is
    ERC6909TokenSupply,
    AccessControlDefaultAdminRules,
    ReentrancyGuardTransient,
    IWalletLinks,
    IEscrowForwarder
{
    bytes32 public constant COMPLIANCE_ROLE = keccak256("COMPLIANCE");
    /// @notice 100 % in basis points.
    uint16 public constant FULL_RESERVE_BPS = 10_000;
    uint256 public constant UNLIMITED = type(uint256).max;

    struct Platform {
        address operator; // the platform's treasury: issues against its own currency, takes out excess reserve
        uint16 ratioBps; // reserve ratio set by compliance
        bool exists;
    }

    /// @dev An identity's interconversions on one UTC day.
    struct Converted {
        uint64 day;
        uint192 amount;
    }

    /// @dev An interconversion waiting in the escrow.
    struct InFlight {
        uint32 fromPlatform;
        uint32 toPlatform;
    }

    DigitalCurrency public immutable currency;
    IIdentityRegistry public immutable registry;
    RevocableTransfers public immutable escrow;
    /// @notice When true (the default deployment) a balance may move between platforms only to an
    ///         address of the sender's own identity (the same-name rule).
    bool public immutable sameNameOnly;

    mapping(uint32 id => Platform) private _platforms;
    /// @notice Digital currency held for each platform's balances.
    mapping(uint256 id => uint256) public reserveOf;
    /// @notice Sum of all reserves.
    uint256 public totalReserve;
    /// @notice Daily interconversion threshold per identity tier, in base units.
    mapping(uint8 tier => uint256) public dailyThreshold;
    mapping(uint64 identityKey => Converted) private _converted;
    mapping(uint256 escrowId => InFlight) private _inFlight;
    /// @notice Accounts that let a payment above their currency balance pull the rest from their
    ///         linked platform balance (reverse waterfall).
    mapping(address account => bool) public reverseWaterfall;

    event PlatformCreated(uint32 indexed platform, address operator, uint16 ratioBps);
    event OperatorChanged(uint32 indexed platform, address operator);
    event ReserveRatioChanged(uint32 indexed platform, uint16 previousBps, uint16 newBps);
    event DailyThresholdChanged(uint8 indexed tier, uint256 threshold);
    event ToppedUp(uint32 indexed platform, address indexed account, uint256 amount);
    event Issued(uint32 indexed platform, address indexed to, uint256 amount);
    event Redeemed(uint32 indexed platform, address indexed account, uint256 amount);
    event ReserveDeposited(uint32 indexed platform, uint256 amount);
    event ExcessWithdrawn(uint32 indexed platform, address indexed to, uint256 amount);
    /// @param escrowId the revocable transfer carrying it (0 = settled at once)
    event Interconverted(
        uint32 indexed fromPlatform, uint32 indexed toPlatform, address indexed from, address to, uint256 amount,
        uint256 escrowId
    );
    event InterconversionSettled(uint256 indexed escrowId, bool arrived);
    event ReverseWaterfallChanged(address indexed account, bool enabled);
    /// @notice A customer's redemption or outgoing interconversion left the reserve under the ratio.
    event ReserveBelowRatio(uint32 indexed platform, uint256 reserve, uint256 required);

    error ZeroAddress();
    error ZeroAmount();
    error UnknownPlatform(uint32 platform);
    error PlatformExists(uint32 platform);
    /// @notice The platform is off the registry's white list (or was never on it).
    error PlatformNotListed(uint32 platform);
    error InvalidRatio(uint16 bps);
    error NotOperator(uint32 platform, address caller);
    /// @notice `account` is not a customer of `platform` (its address was linked by another institution).
    error NotCustomer(address account, uint32 platform);
    /// @notice The platform's reserve cannot pay `amount`.
    error InsufficientReserve(uint32 platform, uint256 reserve, uint256 amount);
    /// @notice Taking out `amount` would leave the reserve under ratio x supply.
    error ReserveBelowRequired(uint32 platform, uint256 reserve, uint256 required, uint256 amount);
    /// @notice The same-name rule: the receiving address belongs to another identity.
    error NotSameName(address from, address to);
    error SamePlatform(uint32 platform);
    error DailyThresholdExceeded(bytes32 identity, uint256 threshold, uint256 convertedToday, uint256 amount);
    error InvalidTierForLimit(uint8 tier);
    error OnlyCurrency(address caller);
    error OnlyEscrow(address caller);
    error UnknownInFlight(uint256 escrowId);

    /// @param currency_ the digital currency (this contract needs to be registered as a contract identity)
    /// @param escrow_ the revocable-transfer escrow (this contract needs its FORWARDER_ROLE)
    /// @param admin creates platforms and names their operators (DEFAULT_ADMIN_ROLE, two-step handover)
    /// @param compliance sets reserve ratios and daily interconversion thresholds
    /// @param sameNameOnly_ the same-name rule for interconversions
    /// @param adminDelay seconds between the start of an admin handover and its acceptance
    constructor(
        DigitalCurrency currency_,
        RevocableTransfers escrow_,
        address admin,
        address compliance,
        bool sameNameOnly_,
        uint48 adminDelay
    ) AccessControlDefaultAdminRules(adminDelay, admin) {
        if (address(currency_) == address(0) || address(escrow_) == address(0) || compliance == address(0)) {
            revert ZeroAddress();
        }
        currency = currency_;
        registry = currency_.registry();
        escrow = escrow_;
        sameNameOnly = sameNameOnly_;
        _grantRole(COMPLIANCE_ROLE, compliance);
        for (uint8 tier = 1; tier <= 5; ++tier) dailyThreshold[tier] = UNLIMITED;
    }

    // ------------------------------------------------------------------ administration

    /// @notice Open the balance of white-listed institution `platform`, at a reserve ratio.
    /// @param operator the platform's treasury address (issues against its currency, takes out excess)
    /// @param ratioBps reserve ratio in basis points (10,000 = 100 %)
    function createPlatform(uint32 platform, address operator, uint16 ratioBps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (operator == address(0)) revert ZeroAddress();
        if (_platforms[platform].exists) revert PlatformExists(platform);
        if (!registry.isInstitutionActive(platform)) revert PlatformNotListed(platform);
        if (ratioBps > FULL_RESERVE_BPS) revert InvalidRatio(ratioBps);
        _platforms[platform] = Platform({operator: operator, ratioBps: ratioBps, exists: true});
        emit PlatformCreated(platform, operator, ratioBps);
    }

    /// @notice Name a platform's new treasury address.
    function setPlatformOperator(uint32 platform, address operator) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (operator == address(0)) revert ZeroAddress();
        _platform(platform).operator = operator;
        emit OperatorChanged(platform, operator);
    }

    /// @notice Compliance sets a platform's reserve ratio (10,000 = 100 %; 2,000 = the pre-2017 20 %).
    ///         Raising it does not move money: the platform cannot take out reserve until it is met.
    function setReserveRatio(uint32 platform, uint16 ratioBps) external onlyRole(COMPLIANCE_ROLE) {
        if (ratioBps > FULL_RESERVE_BPS) revert InvalidRatio(ratioBps);
        Platform storage p = _platform(platform);
        emit ReserveRatioChanged(platform, p.ratioBps, ratioBps);
        p.ratioBps = ratioBps;
    }

    /// @notice Compliance sets a tier's daily interconversion threshold per identity (base units;
    ///         UNLIMITED for none). Platform-balance payments and interconversions count against it.
    function setDailyThreshold(uint8 tier, uint256 threshold) external onlyRole(COMPLIANCE_ROLE) {
        if (tier == 0 || tier > 5) revert InvalidTierForLimit(tier);
        dailyThreshold[tier] = threshold;
        emit DailyThresholdChanged(tier, threshold);
    }

    // ------------------------------------------------------------------ money in and out

    /// @notice A customer moves `amount` of its digital currency into `platform`'s reserve and gets the
    ///         same amount of platform balance. Needs a currency allowance for this contract.
    function topUp(uint32 platform, uint256 amount) external nonReentrant {
        _topUp(platform, amount);
    }

    function _topUp(uint32 platform, uint256 amount) private {
        _requireListed(platform);
        _requireCustomer(msg.sender, platform);
        _receiveReserve(platform, msg.sender, amount);
        emit ToppedUp(platform, msg.sender, amount);
        _mint(msg.sender, platform, amount);
    }

    /// @notice topUp() with an EIP-2612 permit for this contract, in one transaction (see PermitOrAllowance).
    function topUpWithPermit(uint32 platform, uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
        nonReentrant
    {
        PermitOrAllowance.permitOrAllowance(currency, msg.sender, address(this), amount, deadline, v, r, s);
        _topUp(platform, amount);
    }

    /// @notice The platform issues balance to a customer against its own currency (e.g. the customer
    ///         paid by bank card off chain): `amount` of the operator's currency enters the reserve.
    function issue(uint32 platform, address to, uint256 amount) external nonReentrant {
        _requireOperator(platform);
        _requireListed(platform);
        _requireCustomer(to, platform);
        _receiveReserve(platform, msg.sender, amount);
        emit Issued(platform, to, amount);
        _mint(to, platform, amount);
    }

    /// @notice The platform adds its own currency to its reserve without issuing (to meet a ratio).
    function depositReserve(uint32 platform, uint256 amount) external nonReentrant {
        _requireOperator(platform);
        _receiveReserve(platform, msg.sender, amount);
        emit ReserveDeposited(platform, amount);
    }

    /// @notice The platform takes out reserve above ratio x supply (what a partial ratio lets it use).
    function withdrawExcess(uint32 platform, address to, uint256 amount) external nonReentrant {
        _requireOperator(platform);
        if (amount == 0) revert ZeroAmount();
        uint256 reserve = reserveOf[platform];
        uint256 required = requiredReserve(platform);
        if (reserve < required || amount > reserve - required) {
            revert ReserveBelowRequired(platform, reserve, required, amount);
        }
        _takeReserve(platform, amount);
        emit ExcessWithdrawn(platform, to, amount);
        currency.transfer(to, amount);
    }

    /// @notice Redeem `amount` of the caller's balance at `platform` 1:1 for digital currency. Works
    ///         whether or not the platform is on the white list, while its reserve lasts.
    function redeem(uint32 platform, uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        _burn(msg.sender, platform, amount);
        _takeReserve(platform, amount);
        emit Redeemed(platform, msg.sender, amount);
        _reportRatio(platform);
        currency.transfer(msg.sender, amount); // a capped wallet's excess flows back (waterfall)
    }

    // ------------------------------------------------------------------ interconversion

    /// @notice Move `amount` of the caller's balance at `fromPlatform` to `to`'s balance at
    ///         `toPlatform` in one transaction. Below the escrow's approval threshold it settles at
    ///         once; from it up it goes through the revocable-transfer escrow (the caller is the
    ///         sender there: its second factor approves, it may revoke during the cooling-off).
    /// @return escrowId the escrow transfer carrying it (0 when it settled at once)
    function interconvert(uint32 fromPlatform, uint32 toPlatform, address to, uint256 amount, string calldata memo)
        external
        nonReentrant
        returns (uint256 escrowId)
    {
        if (amount == 0) revert ZeroAmount();
        if (fromPlatform == toPlatform) revert SamePlatform(fromPlatform);
        _requireListed(fromPlatform);
        _requireListed(toPlatform);
        _requireCustomer(to, toPlatform);
        uint256 pair = registry.requireActivePair(msg.sender, to);
        if (sameNameOnly && uint64(pair) != uint64(pair >> 128)) revert NotSameName(msg.sender, to);
        _countDaily(uint64(pair), uint8(pair >> 64), amount);
        _burn(msg.sender, fromPlatform, amount);
        _takeReserve(fromPlatform, amount);
        _reportRatio(fromPlatform);
        if (amount < escrow.approvalThreshold()) {
            _addReserve(toPlatform, amount);
            emit Interconverted(fromPlatform, toPlatform, msg.sender, to, amount, 0);
            _mint(to, toPlatform, amount);
            return 0;
        }
        currency.approve(address(escrow), amount);
        escrowId = escrow.sendFor(msg.sender, to, amount, memo);
        _inFlight[escrowId] = InFlight(fromPlatform, toPlatform);
        emit Interconverted(fromPlatform, toPlatform, msg.sender, to, amount, escrowId);
    }

    /// @inheritdoc IEscrowForwarder
    /// @dev The reserve arrives at the receiving platform even if it left the white list meanwhile:
    ///      the recipient is owed it, and redemption always works.
    function onEscrowPaid(uint256 escrowId, address to, uint256 amount) external {
        uint32 toPlatform = _settle(escrowId, true).toPlatform;
        _addReserve(toPlatform, amount);
        _mint(to, toPlatform, amount);
    }

    /// @inheritdoc IEscrowForwarder
    function onEscrowRefunded(uint256 escrowId, address from, uint256 amount) external {
        uint32 fromPlatform = _settle(escrowId, false).fromPlatform;
        _addReserve(fromPlatform, amount);
        _mint(from, fromPlatform, amount);
    }

    // ------------------------------------------------------------------ wallet links (the currency's hooks)

    /// @notice Let payments above the caller's currency balance pull the rest from its linked platform
    ///         balance (reverse waterfall), or stop it.
    function setReverseWaterfall(bool enabled) external {
        registry.requireActive(msg.sender);
        reverseWaterfall[msg.sender] = enabled;
        emit ReverseWaterfallChanged(msg.sender, enabled);
    }

    /// @inheritdoc IWalletLinks
    function onWaterfall(address account, uint256 amount) external {
        if (msg.sender != address(currency)) revert OnlyCurrency(msg.sender);
        (,, uint32 platform) = registry.requireCustomer(account);
        _requireListed(platform);
        _addReserve(platform, amount);
        _mint(account, platform, amount);
    }

    /// @inheritdoc IWalletLinks
    function onShortfall(address account, uint256 amount) external returns (bool) {
        if (msg.sender != address(currency)) revert OnlyCurrency(msg.sender);
        if (!reverseWaterfall[account]) return false;
        (,, uint32 platform) = registry.requireCustomer(account);
        _burn(account, platform, amount);
        _takeReserve(platform, amount);
        _reportRatio(platform);
        return true;
    }

    // ------------------------------------------------------------------ views

    /// @notice ratio x supply, rounded up: what the reserve must keep before the platform takes any out.
    function requiredReserve(uint32 platform) public view returns (uint256) {
        return Math.mulDiv(totalSupply(platform), _platforms[platform].ratioBps, FULL_RESERVE_BPS, Math.Rounding.Ceil);
    }

    /// @notice A platform's record; reverts with UnknownPlatform when absent.
    function platformInfo(uint32 platform)
        external
        view
        returns (address operator, uint16 ratioBps, bool listed, uint256 reserve, uint256 supply)
    {
        Platform storage p = _platforms[platform];
        if (!p.exists) revert UnknownPlatform(platform);
        return (p.operator, p.ratioBps, registry.isInstitutionActive(platform), reserveOf[platform], totalSupply(platform));
    }

    /// @notice What `account`'s identity has interconverted (or paid in platform balances) today, UTC.
    function convertedToday(address account) external view returns (uint256) {
        (uint64 key,) = registry.requireActive(account);
        Converted memory c = _converted[key];
        return c.day == block.timestamp / 1 days ? c.amount : 0;
    }

    /// @notice The platforms of an interconversion waiting in the escrow.
    function inFlight(uint256 escrowId) external view returns (uint32 fromPlatform, uint32 toPlatform) {
        InFlight memory f = _inFlight[escrowId];
        return (f.fromPlatform, f.toPlatform);
    }

    /// @notice ERC-6909 transferFrom; the spender (or operator) must be active too, as on the currency.
    function transferFrom(address sender, address receiver, uint256 id, uint256 amount)
        public
        override(ERC6909, IERC6909)
        returns (bool)
    {
        registry.requireActive(msg.sender);
        return super.transferFrom(sender, receiver, id, amount);
    }

    /// @inheritdoc ERC6909
    function supportsInterface(bytes4 interfaceId)
        public
        view
        override(ERC6909TokenSupply, AccessControlDefaultAdminRules)
        returns (bool)
    {
        return ERC6909TokenSupply.supportsInterface(interfaceId) || AccessControlDefaultAdminRules.supportsInterface(interfaceId);
    }

    // ------------------------------------------------------------------ internals

    /// @dev Every mint, burn and transfer of a balance: the currency's pause stops them all; a payment
    ///      between customers needs both active, the recipient a customer of that platform, and counts
    ///      against the payer identity's daily threshold. Mints and burns are checked by their callers.
    function _update(address from, address to, uint256 id, uint256 amount) internal override {
        if (currency.paused()) revert Pausable.EnforcedPause();
        if (from != address(0) && to != address(0)) {
            uint256 pair = registry.requireActivePair(from, to);
            _requireCustomer(to, SafeCast.toUint32(id));
            if (uint64(pair) != uint64(pair >> 128)) _countDaily(uint64(pair), uint8(pair >> 64), amount);
        }
        super._update(from, to, id, amount);
    }

    function _countDaily(uint64 key, uint8 tier, uint256 amount) private {
        uint256 threshold = dailyThreshold[tier];
        Converted memory c = _converted[key];
        uint64 today = uint64(block.timestamp / 1 days);
        uint256 done = c.day == today ? c.amount : 0;
        if (threshold != UNLIMITED && (done > threshold || amount > threshold - done)) {
            revert DailyThresholdExceeded(registry.identityHashOf(key), threshold, done, amount);
        }
        _converted[key] = Converted(today, SafeCast.toUint192(done + amount));
    }

    function _settle(uint256 escrowId, bool arrived) private returns (InFlight memory f) {
        if (msg.sender != address(escrow)) revert OnlyEscrow(msg.sender);
        f = _inFlight[escrowId];
        if (f.fromPlatform == 0) revert UnknownInFlight(escrowId);
        delete _inFlight[escrowId];
        emit InterconversionSettled(escrowId, arrived);
    }

    function _receiveReserve(uint32 platform, address payer, uint256 amount) private {
        if (amount == 0) revert ZeroAmount();
        _addReserve(platform, amount);
        currency.transferFrom(payer, address(this), amount);
    }

    function _addReserve(uint32 platform, uint256 amount) private {
        reserveOf[platform] += amount;
        totalReserve += amount;
    }

    function _takeReserve(uint32 platform, uint256 amount) private {
        uint256 reserve = reserveOf[platform];
        if (amount > reserve) revert InsufficientReserve(platform, reserve, amount);
        reserveOf[platform] = reserve - amount;
        totalReserve -= amount;
    }

    function _reportRatio(uint32 platform) private {
        uint256 required = requiredReserve(platform);
        if (reserveOf[platform] < required) emit ReserveBelowRatio(platform, reserveOf[platform], required);
    }

    function _platform(uint32 platform) private view returns (Platform storage p) {
        p = _platforms[platform];
        if (!p.exists) revert UnknownPlatform(platform);
    }

    function _requireListed(uint32 platform) private view {
        if (!_platform(platform).exists || !registry.isInstitutionActive(platform)) revert PlatformNotListed(platform);
    }

    function _requireOperator(uint32 platform) private view {
        if (_platform(platform).operator != msg.sender) revert NotOperator(platform, msg.sender);
    }

    function _requireCustomer(address account, uint32 platform) private view {
        (,, uint32 linkedBy) = registry.requireCustomer(account);
        if (linkedBy != platform) revert NotCustomer(account, platform);
    }
}
