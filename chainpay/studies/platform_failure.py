"""The insider-drain fault of platform balances, run on chain: a platform's insider takes out everything
its reserve ratio allows (withdrawExcess to an outside wallet), the platform fails (compliance takes it
off the white list) and its customers redeem one after another while the reserve lasts.

One platform per ratio in the config (100 %, the pre-2017 20 %, a bank-class partial ratio), each with
the same customers' balances, on one in-process chain. For each: what the customers got back, what
they lost, and where every yuan of their balances is afterwards (back in their wallets, with the insider,
or still a platform balance that nothing backs).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ..chain import in_process
from ..config import DeployConfig, PlatformSpec
from ..currency.registry import identity_id
from ..system import deploy
from .config import StudyConfig

FIRST_PLATFORM = 201


@dataclass(frozen=True)
class FailureResult:
    label: str
    ratio: Decimal
    customers: int
    supply: Decimal  # the customers' balances before the failure
    reserve_before: Decimal
    drained: Decimal  # taken out by the insider
    recovered: Decimal  # redeemed by customers after the failure
    paid_in_full: int  # customers who got all of their balance back
    got_nothing: int
    gas_drain: int

    @property
    def lost(self) -> Decimal:
        return self.supply - self.recovered

    @property
    def lost_pct(self) -> float:
        return float(self.lost / self.supply * 100) if self.supply else 0.0

    @property
    def money_at(self) -> dict[str, Decimal]:
        """Where the currency that backed the customers' balances is after the failure (sums to supply)."""
        return {"back in customers' wallets": self.recovered, "with the insider": self.drained,
                "left in the reserve": self.supply - self.recovered - self.drained}


def ratios(config: StudyConfig) -> list[tuple[str, Decimal]]:
    f = config.platform_failure
    return [("100 % reserve (payment institutions since 2017)", f.full_ratio),
            ("20 % reserve (before 2017)", f.old_ratio),
            (f"bank-class partial reserve ({f.bank_ratio:.0%}, assumption)", f.bank_ratio)]


def run(config: StudyConfig, engine: str | None = "eth-tester") -> list[FailureResult]:
    f = config.platform_failure
    cases = ratios(config)
    specs = [PlatformSpec(FIRST_PLATFORM + i, f"Platform {i + 1}", ratio, max_tier=4) for i, (_, ratio) in enumerate(cases)]
    accounts = 4 + 2 * len(specs) + 1 + f.customers * len(specs)
    with in_process(engine, accounts=accounts) as chain:
        system = deploy(chain, DeployConfig(platforms=specs))
        reg, cur, p = system.registry, system.currency, system.platforms
        insider = chain.accounts[4 + 2 * len(specs)]
        reg.register_identity(identity_id({"name": "the insider's outside wallet"}), 4, insider, sender=chain.accounts[4])
        results = []
        for i, ((label, ratio), spec) in enumerate(zip(cases, specs)):
            officer, treasury = chain.accounts[4 + 2 * i], chain.accounts[5 + 2 * i]
            first = 4 + 2 * len(specs) + 1 + i * f.customers
            customers = chain.accounts[first:first + f.customers]
            cur.mint(treasury, f.balance * f.customers)
            for n, who in enumerate(customers):
                reg.register_identity(identity_id({"name": f"customer {n} of {spec.name}"}), 2, who, sender=officer)
                p.issue(spec.id, who, f.balance, sender=treasury)  # paid in at the platform: full reserve first
            info = p.info(spec.id)
            drain = p.withdraw_excess(spec.id, info.excess, sender=treasury, to=insider) if info.excess else None
            reg.set_institution_active(spec.id, False)  # the platform fails and leaves the white list
            recovered, full, nothing = Decimal(0), 0, 0
            for who in customers:  # first come, first served while the reserve lasts
                share = min(f.balance, p.reserve_of(spec.id))
                if share:
                    p.redeem(spec.id, share, sender=who)
                recovered += share
                full += share == f.balance
                nothing += share == 0
            results.append(FailureResult(label, ratio, f.customers, info.supply, info.reserve, info.excess, recovered,
                                         full, nothing, drain.gas_used if drain else 0))
        return results


def report_lines(results: list[FailureResult]) -> list[str]:
    """The report.md section: one row per ratio."""
    lines = ["## Platform balances: an insider drains the reserve and the platform fails", "",
             "Each platform issued the same balances against reserve; its insider then took out everything the ratio "
             "allows, the platform left the white list, and its customers redeemed one after another while the reserve "
             "lasted (redemption always works, so what is lost is exactly what the insider took). Run on chain:", "",
             "| reserve ratio | customers' balances | reserve | drained by the insider | customers got back | "
             "customers lost | paid in full | got nothing |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r.label} | {r.supply:,.2f} | {r.reserve_before:,.2f} | {r.drained:,.2f} | {r.recovered:,.2f} | "
                     f"{r.lost:,.2f} ({r.lost_pct:.0f} %) | {r.paid_in_full} of {r.customers} | {r.got_nothing} |")
    lines += ["", "Where the currency behind the customers' balances is after the failure: "
              + "; ".join(f"{r.label.split(' (')[0]}: " + ", ".join(f"{k} {v:,.2f}" for k, v in r.money_at.items())
                          + f" (the customers still hold {r.lost:,.2f} of platform balance that nothing backs)"
                          for r in results) + ".", ""]
    return lines
