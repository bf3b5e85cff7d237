"""`chainpay bench` section "platforms": the gas of each platform-balance operation in steady state
(top-up, redemption, interconversion settled at once and through the escrow, a waterfall payment) and
what wallet classes cost a plain currency transfer, check by check, against the OpenZeppelin ERC-20
baseline compiled with the same settings and measured on the same chain."""

from __future__ import annotations

from decimal import Decimal
from typing import Callable

from ..chain import in_process
from ..config import DeployConfig, PlatformSpec
from ..core.abi import load_artifact
from ..currency.registry import identity_id
from ..system import deploy

A, B = 101, 102
ONE = Decimal(1)


def bench_platforms(progress: Callable[[str], None] = lambda _: None, engine: str = "eth-tester") -> dict:
    chain = in_process(engine, 14)
    try:
        return _measure(chain, progress)
    finally:
        chain.close()


def _measure(chain, progress) -> dict:
    system = deploy(chain, DeployConfig(platforms=[PlatformSpec(A, "Bench Pay A"), PlatformSpec(B, "Bench Pay B")]))
    reg, cur, p, t = system.registry, system.currency, system.platforms, system.transfers
    officer_a, treasury_a, officer_b = chain.accounts[4], chain.accounts[5], chain.accounts[6]
    alice, alice_b, bob, carol = chain.accounts[8], chain.accounts[9], chain.accounts[10], chain.accounts[11]
    reg.register_identity(identity_id("bench alice"), 3, alice, sender=officer_a)
    reg.link_address(identity_id("bench alice"), alice_b, sender=officer_b, consenting=alice)
    reg.register_identity(identity_id("bench bob"), 3, bob, sender=officer_a)
    reg.register_identity(identity_id("bench carol"), 2, carol, sender=officer_a)
    reg.set_approver(identity_id("bench alice"), chain.accounts[12], sender=officer_a)
    for who in (alice, bob, carol, treasury_a):
        cur.mint(who, Decimal(1_000_000) if who != carol else ONE)
    admin = chain.accounts[0]
    base = chain.deploy("BaselineERC20", [10**15], admin).contract_address
    base_fn = load_artifact("BaselineERC20").fn("transfer")

    def base_transfer(sender, to, units):
        return chain.send(sender, base, base_fn.encode([to.address, units])).gas_used

    base_transfer(admin, alice, 10**12)
    base_transfer(admin, bob, 1)
    base_transfer(alice, bob, 100)
    oz = base_transfer(alice, bob, 100)

    progress("platforms: balances")
    steady = {}

    def twice(name, fn):
        fn()
        steady[name] = fn().gas_used

    twice("top_up_with_permit_gas", lambda: p.top_up(A, ONE, sender=alice))
    cur.approve(p.address, Decimal(1_000), sender=alice)
    twice("top_up_gas", lambda: p._checked("topUp", A, 100, sender=alice))
    twice("redeem_gas", lambda: p.redeem(A, ONE, sender=alice))
    twice("interconvert_gas", lambda: p.interconvert(A, B, ONE, sender=alice, to=alice_b).receipt)
    p.top_up(A, Decimal(20_000), sender=alice)
    escrowed = {}
    for _ in range(2):  # steady state: the second one
        conversion = p.interconvert(A, B, Decimal(6_000), sender=alice, to=alice_b)
        approval = t.approve(conversion.escrow_id, sender=chain.accounts[12])
        chain.advance_time(t.get(conversion.escrow_id).release_at - chain.now)
        release = t.release(conversion.escrow_id, sender=bob)
        escrowed = {"send": conversion.receipt.gas_used, "second_approval": approval.receipt.gas_used,
                    "release": release.receipt.gas_used}
    escrowed["total"] = sum(escrowed.values())

    progress("platforms: wallet classes")
    classes = _class_costs(cur, alice, bob, carol, oz)
    cur.set_wallet_class(2, balance_cap=Decimal(2))
    cur.transfer(carol, ONE, sender=bob)  # carol at her cap (2)
    waterfall = cur.transfer(carol, ONE, sender=bob).gas_used  # all of it falls to her balance at A
    cur.set_wallet_class(2)
    return {**steady, "interconvert_through_escrow_gas": escrowed, "waterfall_transfer_gas": waterfall,
            "oz_erc20_transfer_gas": oz, "currency_transfer": classes}


def _class_costs(cur, alice, bob, carol, oz: int) -> dict:
    """Steady-state transfer gas with no wallet classes, then with each class check alone and with all
    of them: between two tier-3 wallets (one class slot) and from tier 3 to tier 2 (two slots)."""
    big = Decimal(10**9)  # limits far above anything sent here: the checks run, never refuse

    def gas(to) -> int:
        cur.transfer(to, ONE, sender=alice)
        return cur.transfer(to, ONE, sender=alice).gas_used

    plain = gas(bob)
    rows = {"no_class_limits": plain}
    for name, limits in (("single_limit", {"single": big}), ("annual_limit", {"annual": big}),
                         ("balance_cap", {"balance_cap": big}),
                         ("all_three", {"single": big, "annual": big, "balance_cap": big})):
        cur.set_wallet_class(3, **limits)
        rows[name] = gas(bob)
    cur.set_wallet_class(2, balance_cap=big)  # carol (tier 2) capped too: the recipient's class is another slot
    rows["all_three_recipient_in_another_class"] = gas(carol)
    cur.set_wallet_class(3)
    cur.set_wallet_class(2)
    return {"gas": rows, "over_oz_erc20": {k: round(v / oz, 4) for k, v in rows.items()},
            "cost_of_each_check": {k: v - plain for k, v in rows.items() if k != "no_class_limits"}}
