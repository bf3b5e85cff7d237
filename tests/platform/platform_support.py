"""Helpers of the platform suites: the books every test watches and the conservation check."""

from __future__ import annotations

A, B = 1, 2  # institutions "Platform A" and "Platform B" of the shared test deployment


def books(system, actors, treasuries) -> dict:
    """Every balance the platform tests watch: currency and platform balances of every party, reserves,
    supplies, and the platform contract's own currency."""
    cur, p = system.currency, system.platforms
    people = {"alice": actors.alice, "alice2": actors.alice2, "bob": actors.bob, "carol": actors.carol,
              "treasury_a": treasuries.a, "treasury_b": treasuries.b}
    out = {f"cur:{n}": cur.balance_of(a) for n, a in people.items()}
    for platform in (A, B):
        out.update({f"p{platform}:{n}": p.balance_of(a, platform) for n, a in people.items()})
        out[f"reserve:{platform}"] = p.reserve_of(platform)
        out[f"supply:{platform}"] = p.supply_of(platform)
    out["cur:platforms"] = cur.balance_of(p.address)
    out["cur:escrow"] = cur.balance_of(system.transfers.address)
    return out


def assert_conserved(system, actors, treasuries) -> None:
    """Every unit of currency is in a wallet, a reserve or the escrow; reserves are what the contract holds."""
    b = books(system, actors, treasuries)
    cur, p = system.currency, system.platforms
    wallets = sum(v for k, v in b.items() if k.startswith("cur:") and k not in ("cur:platforms", "cur:escrow"))
    assert cur.total_supply() == wallets + b["cur:platforms"] + b["cur:escrow"]
    assert p.total_reserve() == b["reserve:1"] + b["reserve:2"]
    escrowed = b["cur:escrow"]  # the only escrow traffic in these tests is large interconversions
    assert b["cur:platforms"] == p.total_reserve()
    for platform in (A, B):
        held = sum(v for k, v in b.items() if k.startswith(f"p{platform}:"))
        assert held == b[f"supply:{platform}"]
    return escrowed
