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
    minimum_fee: bool
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
class Behaviour:
    give_up_share: float
    max_attempts: int


@dataclass(frozen=True)
class RouteParams:
    """A measured alternative route: lognormal time with mean `minutes`, a fee rate drawn from
    [fee_low, fee_high], and the share of attempts that arrive."""

    label: str
    minutes: float
    spread: float
    fee_low: Decimal
    fee_high: Decimal
    success_rate: float


@dataclass(frozen=True)
class ChainParams:
    block_interval: int
    poll_interval: int
    gas_price_yuan_per_million: Decimal
    operator_cost_per_tx: Decimal
    confirm_seconds: float
    confirm_spread: float


@dataclass(frozen=True)
class ConnectorParams:
    fee_rate: Decimal
    fee_min: Decimal
    sender_lock_duration: int
    inbound_lock_duration: int
    claim_margin: int
    quote_ttl: int
    liquidity: Decimal
    liquidity_rate: float
    rebalance_below: float


@dataclass(frozen=True)
class SharedParams:
    delayed_arrival_from: Decimal
    cooling_off_seconds: int
    approval_threshold: Decimal
    second_factor_seconds: int
    user_tier: int
    missent_rate: float
    frozen_rate: float


@dataclass(frozen=True)
class FaultParams:
    share: float
    connector_offline: float
    recipient_absent: float
    chain_halt: float
    no_liquidity: float
    halt_seconds: int

    def rate(self, fault: str) -> float:
        return getattr(self, fault.replace("-", "_"))


@dataclass(frozen=True)
class PlatformFailure:
    """The insider-drain fault of platform balances (platform_failure.py)."""

    customers: int
    balance: Decimal
    full_ratio: Decimal
    old_ratio: Decimal
    bank_ratio: Decimal


@dataclass(frozen=True)
class StudyConfig:
    amounts: Amounts
    bank_route: BankRoute
    behaviour: Behaviour
    routes: dict[str, RouteParams]
    chain: ChainParams
    connector: ConnectorParams
    shared: SharedParams
    faults: FaultParams
    platform_failure: PlatformFailure

    @classmethod
    def load(cls, path: str | Path | None = None) -> "StudyConfig":
        """The defaults, overridden by the TOML file at `path` when given."""
        raw = _read(DEFAULTS)
        if path is not None:
            where = str(path)
            for section, values in _read(Path(path)).items():
                if section == "routes" and isinstance(values, dict):
                    for route, table in values.items():
                        _merge(raw["routes"], route, table, where, "routes.")
                    continue
                _merge(raw, section, values, where)
        try:
            config = cls(**{name: _build(_SECTIONS[name], raw[name]) for name in _SECTIONS if name != "routes"},
                         routes={name: _build(RouteParams, table) for name, table in raw["routes"].items()})
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise ChainpayError(f"malformed study config{f' {path}' if path else ''}: {exc}") from None
        config.validate()
        return config

    def with_overrides(self, overrides: dict[str, object]) -> "StudyConfig":
        """A copy with dotted keys replaced (``{"chain.gas_price_yuan_per_million": 0}``), validated: what a
        sweep varies."""
        from dataclasses import replace

        config = self
        for key, value in overrides.items():
            parts = key.split(".")
            try:
                if parts[0] == "routes" and len(parts) == 3:
                    route = config.routes[parts[1]]
                    routes = dict(config.routes)
                    routes[parts[1]] = replace(route, **{parts[2]: _convert(route, parts[2], value)})
                    config = replace(config, routes=routes)
                elif len(parts) == 2 and parts[0] in _SECTIONS:
                    section = getattr(config, parts[0])
                    config = replace(config, **{parts[0]: replace(section, **{parts[1]: _convert(section, parts[1], value)})})
                else:
                    raise KeyError(key)
            except (KeyError, TypeError):
                raise ChainpayError(f"no study parameter {key!r} (write section.key, or routes.NAME.key)") from None
            except (ValueError, ArithmeticError) as exc:
                raise ChainpayError(f"bad value for {key}: {exc}") from None
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
        f = self.faults
        if not all(0 <= x <= 1 for x in (f.share, f.connector_offline, f.recipient_absent, f.chain_halt, f.no_liquidity)):
            problems.append("faults shares must lie in [0, 1]")
        if sum((f.connector_offline, f.recipient_absent, f.chain_halt, f.no_liquidity)) > 1:
            problems.append("the fault rates add up to more than 1")
        if not (0 <= self.behaviour.give_up_share <= 1 and self.behaviour.max_attempts >= 1):
            problems.append("behaviour needs 0 <= give_up_share <= 1 and max_attempts >= 1")
        for name, r in self.routes.items():
            if not (r.minutes > 0 and r.spread >= 0 and 0 <= r.fee_low <= r.fee_high < 1 and 0 <= r.success_rate <= 1):
                problems.append(f"routes.{name} needs minutes > 0, spread >= 0, 0 <= fee_low <= fee_high < 1, "
                                "0 <= success_rate <= 1")
        s = self.shared
        if not (0 <= s.missent_rate <= 1 and 0 <= s.frozen_rate <= 1 and s.missent_rate + s.frozen_rate <= 1):
            problems.append("shared.missent_rate and frozen_rate must lie in [0, 1] and add up to at most 1")
        if not 0 <= self.connector.rebalance_below <= 1:
            problems.append("connector.rebalance_below must lie in [0, 1] (0: never rebalance)")
        if self.chain.operator_cost_per_tx < 0 or self.chain.confirm_seconds < 0 or self.connector.liquidity_rate < 0:
            problems.append("costs, rates and latencies must not be negative")
        pf = self.platform_failure
        if not (1 <= pf.customers <= 200 and pf.balance > 0
                and all(0 <= r <= 1 for r in (pf.full_ratio, pf.old_ratio, pf.bank_ratio))):
            problems.append("platform_failure needs 1..200 customers, a positive balance and ratios in [0, 1]")
        if problems:
            raise ChainpayError("invalid study config: " + "; ".join(problems))


_SECTIONS = {"amounts": Amounts, "bank_route": BankRoute, "behaviour": Behaviour, "routes": RouteParams,
             "chain": ChainParams, "connector": ConnectorParams, "shared": SharedParams, "faults": FaultParams,
             "platform_failure": PlatformFailure}


def _merge(raw: dict, section: str, values, where: str, prefix: str = "") -> None:
    """Lay a user's table over the defaults' table of the same name (unknown names refused)."""
    if section not in raw:
        raise ChainpayError(f"unknown section [{prefix}{section}] in {where} (known: {', '.join(prefix + k for k in raw)})")
    if not isinstance(values, dict):
        raise ChainpayError(f"[{prefix}{section}] in {where} must be a table")
    unknown = set(values) - set(raw[section])
    if unknown:
        raise ChainpayError(f"unknown keys in [{prefix}{section}] of {where}: {', '.join(sorted(unknown))}")
    raw[section].update(values)


def _convert(section, name: str, value):
    """`value` as the type `section`'s field `name` declares (a sweep's values arrive as numbers or text)."""
    kind = next((f.type for f in fields(section) if f.name == name), None)
    if kind is None:
        raise KeyError(name)
    return _typed(kind, name, value)


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
        out[f.name] = _typed(f.type, f.name, values[f.name])
    return kind(**out)


def _typed(kind: str, name: str, value):
    if kind == "bool":
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false, not {value!r}")
        return value
    if kind == "str":
        if not isinstance(value, str):
            raise ValueError(f"{name} must be text, not {value!r}")
        return value
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number, not {value!r}")
    if kind == "Decimal":
        return Decimal(str(value))
    if kind == "int":
        if float(value) != int(float(value)):
            raise ValueError(f"{name} must be a whole number, got {value!r}")
        return int(float(value))
    if kind == "float":
        return float(value)
    if kind.startswith("tuple"):
        if not isinstance(value, list) or len(value) != 2:
            raise ValueError(f"{name} must be a [low, high] pair")
        return (float(value[0]), float(value[1]))
    raise ValueError(f"{name}: unsupported type {kind}")


def _name_of(kind) -> str:
    return next(name for name, k in _SECTIONS.items() if k is kind)
