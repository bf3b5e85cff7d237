"""Deployment parameters, with defaults a user overrides from a TOML or JSON file.

Daily limits by tier (whole yuan, None = unlimited). Tier 2's 5,000 yuan is the daily wallet
withdrawal limit reported in shared/domain-facts.md; the others are illustrative steps around it.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field, fields
from decimal import Decimal
from pathlib import Path

from .errors import ChainpayError

DEFAULT_DAILY_LIMITS: dict[int, Decimal | None] = {
    1: Decimal(1_000),  # basic, remotely verified
    2: Decimal(5_000),  # standard wallet (domain-facts: 5,000 yuan/day withdrawal limit)
    3: Decimal(50_000),  # fully verified individual
    4: Decimal(1_000_000),  # merchant
    5: None,  # payment institution / issuer: no limit
}


@dataclass
class DeployConfig:
    name: str = "Digital Yuan"
    symbol: str = "eCNY"
    decimals: int = 2
    daily_limits: dict[int, Decimal | None] = field(default_factory=lambda: dict(DEFAULT_DAILY_LIMITS))

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
        config = cls(**{k: v for k, v in raw.items() if k != "daily_limits"})
        for tier, limit in raw.get("daily_limits", {}).items():
            unlimited = limit == "unlimited" or (isinstance(limit, (int, float)) and limit < 0)
            config.daily_limits[int(tier)] = None if unlimited else Decimal(str(limit))
        return config
