"""Deployment parameters, with defaults a user overrides from a TOML or JSON file.

Daily limits by tier (whole yuan, None = unlimited). Tier 2's 5,000 yuan is the daily wallet
withdrawal limit reported in shared/domain-facts.md; the others are illustrative steps around it.
Tier 5 (institutions, and chainpay's own escrow contracts) stays unlimited.

Revocable transfers (shared/domain-facts.md): a transfer above 5,000 yuan needs a second
authentication, disputes are handled within 72 hours; the 2-hour cooling-off follows the reported
"within 2 hours" delay of indirect transfers.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field, fields
from decimal import Decimal
from pathlib import Path

from .core.errors import ChainpayError

DEFAULT_DAILY_LIMITS: dict[int, Decimal | None] = {
    1: Decimal(1_000),  # basic, remotely verified
    2: Decimal(5_000),  # standard wallet (domain-facts: 5,000 yuan/day withdrawal limit)
    3: Decimal(50_000),  # fully verified individual
    4: Decimal(1_000_000),  # merchant
    5: None,  # payment institution / issuer: no limit
}


ESCROW_TIER = 5  # the tier chainpay's escrow contracts are registered at (must stay unlimited)
MAX_CHALLENGE_PERIOD = 30 * 86_400  # PaymentChannels.MAX_CHALLENGE_PERIOD


@dataclass
class TransferPolicy:
    """Policy of the revocable-transfer contract (compliance can change it after deployment)."""

    # (lower bound in whole yuan, cooling-off seconds), ascending, the first at 0.
    cooling_off: list[tuple[Decimal, int]] = field(default_factory=lambda: [(Decimal(0), 2 * 3600)])
    approval_threshold: Decimal = Decimal(5_000)  # at or above: a second approval is needed
    dispute_window: int = 72 * 3600  # seconds compliance has to resolve a dispute

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

    def validate(self) -> None:
        period = self.channel_challenge_period
        if isinstance(period, bool) or not isinstance(period, int) or not 0 < period <= MAX_CHALLENGE_PERIOD:
            raise ChainpayError(f"channel_challenge_period is a whole number of seconds in 1..{MAX_CHALLENGE_PERIOD} "
                                f"(30 days), got {period!r}")
        delay = self.admin_delay
        if isinstance(delay, bool) or not isinstance(delay, int) or not 0 <= delay < 2**48:
            raise ChainpayError(f"admin_delay is a whole number of seconds (0 or more), got {delay!r}")
        if self.daily_limits.get(ESCROW_TIER) is not None:
            raise ChainpayError(f"tier {ESCROW_TIER} must stay unlimited: chainpay's escrow contracts are registered at "
                                "it and pay out on behalf of every sender")

    @classmethod
    def load(cls, path: str | Path) -> "DeployConfig":
        """Read overrides from a .toml or .json file: name, symbol, decimals, daily_limits
        (a table from tier to whole units; "unlimited" or a negative number for no limit)."""
        path = Path(path)
        try:
            text = path.read_text()
            raw = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
        except (OSError, ValueError) as exc:
            raise ChainpayError(f"cannot read deploy config {path}: {exc}") from None
        known = {f.name for f in fields(cls)}
        unknown = set(raw) - known
        if unknown:
            raise ChainpayError(f"unknown keys in {path}: {', '.join(sorted(unknown))} (known: {', '.join(sorted(known))})")
        config = cls(**{k: v for k, v in raw.items() if k not in ("daily_limits", "transfers")})
        if "transfers" in raw:
            config.transfers = TransferPolicy.from_mapping(raw["transfers"], str(path))
        for tier, limit in raw.get("daily_limits", {}).items():
            unlimited = limit == "unlimited" or (isinstance(limit, (int, float)) and limit < 0)
            config.daily_limits[int(tier)] = None if unlimited else Decimal(str(limit))
        config.validate()
        return config
