"""The bridging study's parameters: the packaged bridging.toml holds every default (with its source);
a user's file overrides any subset of keys."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from decimal import Decimal
from pathlib import Path

from ..core.errors import ChainpayError

DEFAULTS = Path(__file__).with_name("bridging.toml")


@dataclass(frozen=True)
class Amounts:
    micro_share: float
    micro_median: float
    micro_sigma: float
    micro_min: float
    micro_max: float
    tail_max: float


@dataclass(frozen=True)
class BankRoute:
    withdrawal_minutes: tuple[float, float]
    withdrawal_fee_rate: Decimal
    withdrawal_fee_min: Decimal
    topup_fee_rate: Decimal
    topup_hours: tuple[float, float]
    topup_slow_share: float
    topup_fast_extra_minutes: float
    app_switches: int
    app_switch_seconds: float
    daily_withdrawal_limit: Decimal
    failure_rate: float
    failure_at_withdrawal_share: float


@dataclass(frozen=True)
class ChainParams:
    block_interval: int
    poll_interval: int
    gas_price_yuan_per_million: Decimal


@dataclass(frozen=True)
class ConnectorParams:
    fee_rate: Decimal
    fee_min: Decimal
    sender_lock_duration: int
    inbound_lock_duration: int
    claim_margin: int
    quote_ttl: int
    liquidity: Decimal


@dataclass(frozen=True)
class SharedParams:
    delayed_arrival_from: Decimal
    cooling_off_seconds: int
    approval_threshold: Decimal
    second_factor_seconds: int
    user_tier: int


@dataclass(frozen=True)
class FaultParams:
    share: float
    halt_seconds: int


@dataclass(frozen=True)
class StudyConfig:
    amounts: Amounts
    bank_route: BankRoute
    chain: ChainParams
    connector: ConnectorParams
    shared: SharedParams
    faults: FaultParams

    @classmethod
    def load(cls, path: str | Path | None = None) -> "StudyConfig":
        """The defaults, overridden by the TOML file at `path` when given."""
        raw = _read(DEFAULTS)
        if path is not None:
            for section, values in _read(Path(path)).items():
                if section not in raw:
                    raise ChainpayError(f"unknown section [{section}] in {path} (known: {', '.join(raw)})")
                if not isinstance(values, dict):
                    raise ChainpayError(f"[{section}] in {path} must be a table")
                unknown = set(values) - set(raw[section])
                if unknown:
                    raise ChainpayError(f"unknown keys in [{section}] of {path}: {', '.join(sorted(unknown))}")
                raw[section].update(values)
        kinds = {f.name: f.type for f in fields(cls)}
        try:
            config = cls(**{name: _build(_SECTIONS[name], raw[name]) for name in kinds})
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise ChainpayError(f"malformed study config{f' {path}' if path else ''}: {exc}") from None
        config.validate()
        return config

    def validate(self) -> None:
        problems = []
        a, b = self.amounts, self.bank_route
        if not (0 <= a.micro_share <= 1 and 0 < a.micro_min < a.micro_max <= a.tail_max):
            problems.append("amounts need 0 <= micro_share <= 1 and 0 < micro_min < micro_max <= tail_max")
        if not (0 <= b.failure_rate <= 1 and 0 <= b.failure_at_withdrawal_share <= 1 and 0 <= b.topup_slow_share <= 1):
            problems.append("bank_route shares and rates must lie in [0, 1]")
        if b.daily_withdrawal_limit <= 0 or b.withdrawal_minutes[0] > b.withdrawal_minutes[1] or b.topup_hours[0] > b.topup_hours[1]:
            problems.append("bank_route needs a positive daily limit and ranges written [low, high]")
        if self.chain.block_interval < 1 or self.chain.poll_interval < 0 or self.chain.gas_price_yuan_per_million < 0:
            problems.append("chain needs block_interval >= 1 s, poll_interval >= 0, a non-negative gas price")
        if not 0 <= self.faults.share <= 1:
            problems.append("faults.share must lie in [0, 1]")
        if problems:
            raise ChainpayError("invalid study config: " + "; ".join(problems))


_SECTIONS = {"amounts": Amounts, "bank_route": BankRoute, "chain": ChainParams, "connector": ConnectorParams,
             "shared": SharedParams, "faults": FaultParams}


def _read(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ChainpayError(f"cannot read study config {path}: {exc}") from None


def _build(kind, values: dict):
    """A section dataclass from TOML values, converted to each field's declared type."""
    out = {}
    for f in fields(kind):
        if f.name not in values:
            raise ValueError(f"[{_name_of(kind)}] lacks {f.name}")
        value = values[f.name]
        if isinstance(value, bool):
            raise ValueError(f"{f.name} must be a number, not {value!r}")
        if f.type == "Decimal":
            value = Decimal(str(value))
        elif f.type == "int":
            if int(value) != value:
                raise ValueError(f"{f.name} must be a whole number, got {value!r}")
            value = int(value)
        elif f.type == "float":
            value = float(value)
        elif f.type.startswith("tuple"):
            if not isinstance(value, list) or len(value) != 2:
                raise ValueError(f"{f.name} must be a [low, high] pair")
            value = (float(value[0]), float(value[1]))
        out[f.name] = value
    return kind(**out)


def _name_of(kind) -> str:
    return next(name for name, k in _SECTIONS.items() if k is kind)
