"""Deployment parameters, with defaults a user overrides from a TOML or JSON file.

Daily limits by tier (whole yuan, None = unlimited). Tier 2's 5,000 yuan is the daily wallet
withdrawal limit reported in docs/sources.md (section 1); the others are illustrative steps around it.
Tier 5 (institutions, and chainpay's own escrow contracts) stays unlimited.

Revocable transfers (docs/sources.md, section 2): a transfer above 5,000 yuan needs a second
authentication, disputes are handled within 72 hours; the 2-hour cooling-off follows the reported
"within 2 hours" delay of indirect transfers.

Wallet classes and platforms (docs/sources.md, section 4): no class limits by default (a plain wallet
is limited only by its tier's daily limit); ECNY_LIKE_CLASSES gives tiers 1 and 2 the single-payment,
balance-cap and annual limits of the e-CNY's class 4 and class 2 wallets. Platforms listed in the config
are white-listed and opened at deployment, at a 100 % reserve ratio unless the config says otherwise.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field, fields
from decimal import Decimal
from pathlib import Path

from .core.errors import ChainpayError, InvalidInput


def _decimal(what: str, value, decimals: int) -> Decimal:
    """A non-negative amount of yuan with at most `decimals` places (not a float, not a bool)."""
    from .core.money import parse_amount

    try:
        return parse_amount(str(value) if isinstance(value, (float, Decimal)) else value, decimals)
    except InvalidInput as exc:
        raise InvalidInput(f"{what}: {exc}") from None


def _whole_yuan(what: str, value, maximum: int) -> Decimal:
    amount = _decimal(what, value, 0)
    if amount > maximum:
        raise InvalidInput(f"{what}: {amount} is above the largest limit the currency can hold ({maximum:,})")
    return amount

DEFAULT_DAILY_LIMITS: dict[int, Decimal | None] = {
    1: Decimal(1_000),  # basic, remotely verified
    2: Decimal(5_000),  # standard wallet (docs/sources.md: 5,000 yuan/day withdrawal limit)
    3: Decimal(50_000),  # fully verified individual
    4: Decimal(1_000_000),  # merchant
    5: None,  # payment institution / issuer: no limit
}


MAX_TIER = 5  # DigitalCurrency.MAX_TIER
MAX_DECIMALS = 18  # DigitalCurrency refuses more (InvalidDecimals)
MAX_LIMIT_UNITS = 2**48 - 2  # DigitalCurrency keeps limits in whole units in a uint48 (2**48 - 1 = unlimited)
MAX_BANDS = 8  # RevocableTransfers.MAX_BANDS
MAX_PERIOD = 30 * 86_400  # RevocableTransfers.MAX_PERIOD
ESCROW_TIER = 5  # the tier chainpay's escrow contracts are registered at (must stay unlimited)
MAX_CHALLENGE_PERIOD = 30 * 86_400  # PaymentChannels.MAX_CHALLENGE_PERIOD


@dataclass(frozen=True)
class WalletClassLimits:
    """A tier's limits beyond the daily one, in whole yuan (None = no such limit)."""

    single: Decimal | None = None
    balance_cap: Decimal | None = None
    annual: Decimal | None = None

    def validate(self, tier: int) -> None:
        for name in ("single", "balance_cap", "annual"):
            value = getattr(self, name)
            if value is not None:
                _whole_yuan(f"wallet_classes: tier {tier}'s {name}", value, MAX_LIMIT_UNITS)
        if tier == ESCROW_TIER and self != WalletClassLimits():
            raise InvalidInput(f"wallet_classes: tier {ESCROW_TIER} must stay unlimited (chainpay's contracts)")


# e-CNY wallet classes (docs/sources.md, section 4): class 4 -> tier 1, class 2 -> tier 2. Their daily
# limits stay those of DEFAULT_DAILY_LIMITS (1,000 and 5,000).
ECNY_LIKE_CLASSES: dict[int, WalletClassLimits] = {
    1: WalletClassLimits(single=Decimal(500), balance_cap=Decimal(1_000), annual=Decimal(10_000)),
    2: WalletClassLimits(single=Decimal(5_000), balance_cap=Decimal(10_000), annual=Decimal(300_000)),
}


@dataclass(frozen=True)
class PlatformSpec:
    """A platform opened at deployment: white-listed as institution `id`, with a KYC officer and a
    registered treasury (operator) account, at a reserve ratio (a fraction, 1 = 100 %)."""

    id: int
    name: str
    ratio: Decimal = Decimal(1)
    max_tier: int = 4

    def validate(self) -> None:
        if isinstance(self.id, bool) or not isinstance(self.id, int) or not 0 < self.id < 2**32:
            raise InvalidInput(f"platforms: id {self.id!r} is a whole number in 1..{2**32 - 1}")
        if not isinstance(self.name, str) or not self.name.strip():
            raise InvalidInput(f"platforms: platform {self.id} needs a name")
        if isinstance(self.max_tier, bool) or not isinstance(self.max_tier, int) or not 1 <= self.max_tier <= MAX_TIER:
            raise InvalidInput(f"platforms: platform {self.id}'s max_tier is 1..{MAX_TIER}, got {self.max_tier!r}")
        from .platform.client import ratio_to_bps

        ratio_to_bps(self.ratio)


@dataclass
class TransferPolicy:
    """Policy of the revocable-transfer contract (compliance can change it after deployment)."""

    # (lower bound in whole yuan, cooling-off seconds), ascending, the first at 0.
    cooling_off: list[tuple[Decimal, int]] = field(default_factory=lambda: [(Decimal(0), 2 * 3600)])
    approval_threshold: Decimal = Decimal(5_000)  # at or above: a second approval is needed
    dispute_window: int = 72 * 3600  # seconds compliance has to resolve a dispute

    def validate(self, decimals: int) -> None:
        """The contract's rules (RevocableTransfers), checked locally."""
        bands = self.cooling_off
        if not isinstance(bands, (list, tuple)) or not 1 <= len(bands) <= MAX_BANDS:
            raise InvalidInput(f"transfers.cooling_off needs 1..{MAX_BANDS} [min_yuan, seconds] bands, got {bands!r}")
        previous = None
        for n, band in enumerate(bands):
            if not isinstance(band, (list, tuple)) or len(band) != 2:
                raise InvalidInput(f"transfers.cooling_off band {n + 1} is not a [min_yuan, seconds] pair: {band!r}")
            low, seconds = band
            low = _decimal(f"transfers.cooling_off band {n + 1}'s lower bound", low, decimals)
            if n == 0 and low != 0:
                raise InvalidInput(f"transfers.cooling_off's first band starts at 0 yuan, not {low}")
            if previous is not None and low <= previous:
                raise InvalidInput(f"transfers.cooling_off bounds must grow: {low} after {previous}")
            previous = low
            if isinstance(seconds, bool) or not isinstance(seconds, int) or not 0 <= seconds <= MAX_PERIOD:
                raise InvalidInput(f"transfers.cooling_off band {n + 1}: seconds must be in 0..{MAX_PERIOD} "
                                   f"(30 days), got {seconds!r}")
        _decimal("transfers.approval_threshold", self.approval_threshold, decimals)
        window = self.dispute_window
        if isinstance(window, bool) or not isinstance(window, int) or not 0 < window <= MAX_PERIOD:
            raise InvalidInput(f"transfers.dispute_window is a whole number of seconds in 1..{MAX_PERIOD}, got {window!r}")

    @classmethod
    def from_mapping(cls, raw: dict, source: str) -> "TransferPolicy":
        known = {f.name for f in fields(cls)}
        unknown = set(raw) - known
        if unknown:
            raise ChainpayError(f"unknown keys in [transfers] of {source}: {', '.join(sorted(unknown))} "
                                f"(known: {', '.join(sorted(known))})")
        policy = cls()
        try:
            if "cooling_off" in raw:
                policy.cooling_off = [(Decimal(str(lo)), int(sec)) for lo, sec in raw["cooling_off"]]
            if "approval_threshold" in raw:
                policy.approval_threshold = Decimal(str(raw["approval_threshold"]))
            if "dispute_window" in raw:
                policy.dispute_window = int(raw["dispute_window"])
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise ChainpayError(f"malformed [transfers] in {source}: {exc} "
                                "(cooling_off is a list of [min_yuan, seconds] pairs)") from None
        return policy


@dataclass
class DeployConfig:
    name: str = "Digital Yuan"
    symbol: str = "eCNY"
    decimals: int = 2
    daily_limits: dict[int, Decimal | None] = field(default_factory=lambda: dict(DEFAULT_DAILY_LIMITS))
    transfers: TransferPolicy = field(default_factory=TransferPolicy)
    # Seconds a unilateral channel close waits for the provider's last redemption (1 day; at most 30).
    channel_challenge_period: int = 86_400
    # Seconds between the start of a DEFAULT_ADMIN handover and its acceptance, on every contract
    # (OpenZeppelin's AccessControlDefaultAdminRules; also what renouncing the admin role waits).
    admin_delay: int = 2 * 86_400
    # Wallet classes by tier beyond the daily limits (none by default; see ECNY_LIKE_CLASSES).
    wallet_classes: dict[int, WalletClassLimits] = field(default_factory=dict)
    # Platforms opened at deployment (each needs two accounts of the chain: its officer and treasury).
    platforms: list[PlatformSpec] = field(default_factory=list)
    # The same-name rule for interconversions between platforms.
    same_name_only: bool = True
    # Daily interconversion threshold per identity, by tier (whole yuan; absent or None = none).
    interconversion_thresholds: dict[int, Decimal | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.validate()  # a bad parameter is refused where it is written, not half way through a deployment

    def validate(self) -> None:
        """Check every parameter locally, so that a bad config is refused before the first transaction
        (the contracts would refuse most of these, but only after part of the system is deployed)."""
        for key in ("name", "symbol"):
            value = getattr(self, key)
            if not isinstance(value, str) or not value.strip():
                raise InvalidInput(f"{key} is a non-empty string, got {value!r}")
        if isinstance(self.decimals, bool) or not isinstance(self.decimals, int) or not 0 <= self.decimals <= MAX_DECIMALS:
            raise InvalidInput(f"decimals is a whole number in 0..{MAX_DECIMALS}, got {self.decimals!r}")
        period = self.channel_challenge_period
        if isinstance(period, bool) or not isinstance(period, int) or not 0 < period <= MAX_CHALLENGE_PERIOD:
            raise InvalidInput(f"channel_challenge_period is a whole number of seconds in 1..{MAX_CHALLENGE_PERIOD} "
                               f"(30 days), got {period!r}")
        if not isinstance(self.daily_limits, dict):
            raise InvalidInput(f"daily_limits maps a tier (1..{MAX_TIER}) to whole yuan, got {self.daily_limits!r}")
        for tier, limit in self.daily_limits.items():
            if isinstance(tier, bool) or not isinstance(tier, int) or not 1 <= tier <= MAX_TIER:
                raise InvalidInput(f"daily_limits: tier {tier!r} does not exist (tiers are 1..{MAX_TIER})")
            if limit is not None:
                _whole_yuan(f"daily_limits: tier {tier}'s limit", limit, MAX_LIMIT_UNITS)
        delay = self.admin_delay
        if isinstance(delay, bool) or not isinstance(delay, int) or not 0 <= delay < 2**48:
            raise InvalidInput(f"admin_delay is a whole number of seconds (0 or more), got {delay!r}")
        if self.daily_limits.get(ESCROW_TIER) is not None:
            raise InvalidInput(f"tier {ESCROW_TIER} must stay unlimited: chainpay's escrow contracts are registered at "
                               "it and pay out on behalf of every sender")
        self.transfers.validate(self.decimals)
        if not isinstance(self.same_name_only, bool):
            raise InvalidInput(f"same_name_only is true or false, got {self.same_name_only!r}")
        for tier, limits in self.wallet_classes.items():
            if isinstance(tier, bool) or not isinstance(tier, int) or not 1 <= tier <= MAX_TIER:
                raise InvalidInput(f"wallet_classes: tier {tier!r} does not exist (tiers are 1..{MAX_TIER})")
            if not isinstance(limits, WalletClassLimits):
                raise InvalidInput(f"wallet_classes: tier {tier} needs a WalletClassLimits, got {limits!r}")
            limits.validate(tier)
        for tier, limit in self.interconversion_thresholds.items():
            if isinstance(tier, bool) or not isinstance(tier, int) or not 1 <= tier <= MAX_TIER:
                raise InvalidInput(f"interconversion_thresholds: tier {tier!r} does not exist (tiers are 1..{MAX_TIER})")
            if limit is not None:
                _decimal(f"interconversion_thresholds: tier {tier}", limit, self.decimals)
        ids = [spec.id for spec in self.platforms if isinstance(spec, PlatformSpec)]
        for spec in self.platforms:
            if not isinstance(spec, PlatformSpec):
                raise InvalidInput(f"platforms: each entry is a PlatformSpec, got {spec!r}")
            spec.validate()
        if len(set(ids)) != len(ids):
            raise InvalidInput(f"platforms: ids must differ, got {ids}")

    @classmethod
    def load(cls, path: str | Path) -> "DeployConfig":
        """Read overrides from a .toml or .json file: name, symbol, decimals, daily_limits
        (a table from tier to whole units; "unlimited" for no limit). Everything is validated here,
        before anything is deployed."""
        path = Path(path)
        try:
            text = path.read_text()
            raw = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
        except (OSError, ValueError) as exc:
            raise ChainpayError(f"cannot read deploy config {path}: {exc}") from None
        if not isinstance(raw, dict):
            raise InvalidInput(f"deploy config {path} is not a table of settings")
        known = {f.name for f in fields(cls)}
        unknown = set(raw) - known
        if unknown:
            raise ChainpayError(f"unknown keys in {path}: {', '.join(sorted(unknown))} (known: {', '.join(sorted(known))})")
        try:
            config = cls(**{k: v for k, v in raw.items()
                            if k not in ("daily_limits", "transfers", "wallet_classes", "platforms",
                                         "interconversion_thresholds")})
        except InvalidInput as exc:
            raise InvalidInput(f"{path}: {exc}") from None
        if "transfers" in raw:
            if not isinstance(raw["transfers"], dict):
                raise InvalidInput(f"[transfers] in {path} is not a table")
            config.transfers = TransferPolicy.from_mapping(raw["transfers"], str(path))
        limits = raw.get("daily_limits", {})
        if not isinstance(limits, dict):
            raise InvalidInput(f"[daily_limits] in {path} is not a table of tier = whole yuan")
        for tier, limit in limits.items():
            if not str(tier).strip().isdigit():
                raise InvalidInput(f"[daily_limits] in {path}: {tier!r} is not a tier (1..{MAX_TIER})")
            if limit == "unlimited":
                limit = None
            elif isinstance(limit, (int, float)) and not isinstance(limit, bool):
                limit = Decimal(str(limit))  # a negative one is refused by validate(): only "unlimited" lifts a limit
            config.daily_limits[int(tier)] = limit
        try:
            config.wallet_classes = {
                int(tier): WalletClassLimits(**{k: None if v == "unlimited" else Decimal(str(v)) for k, v in limits.items()})
                for tier, limits in raw.get("wallet_classes", {}).items()}
            config.platforms = [PlatformSpec(**{k: (Decimal(str(v)) if k == "ratio" and not str(v).endswith("%")
                                                     else Decimal(str(v)[:-1]) / 100 if k == "ratio" else v)
                                                 for k, v in spec.items()})
                                for spec in raw.get("platforms", [])]
            config.interconversion_thresholds = {
                int(tier): None if v == "unlimited" else Decimal(str(v))
                for tier, v in raw.get("interconversion_thresholds", {}).items()}
        except (TypeError, ValueError, AttributeError, ArithmeticError) as exc:
            raise InvalidInput(f"{path}: malformed wallet_classes, platforms or interconversion_thresholds ({exc}); "
                               "see the README's deploy config example") from None
        try:
            config.validate()
        except InvalidInput as exc:
            raise InvalidInput(f"{path}: {exc}") from None
        return config
