"""`chainpay bench`: measure, in one process, what chainpay costs against plain baselines.

Gas: a steady-state transfer (sender already paid today, recipient already holds a balance) of the
digital currency against a plain OpenZeppelin ERC-20 compiled with the same settings, plus the two
costlier first-time cases for context. Throughput: SDK transfers per second against web3.py's
default ``contract.functions.transfer(...).transact()`` on the same in-process chain. Revocable
transfers: the gas of each step (send, second approval, revoke, release, per item of a batch
release) next to a plain currency transfer measured on the same chain.
"""

from __future__ import annotations

import logging
import time
from decimal import Decimal
from typing import Callable

from .abi import load_artifact
from .chain import TesterChain
from .registry import identity_id
from .system import deploy

log = logging.getLogger(__name__)


def _rate(n: int, fn: Callable[[int], None]) -> float:
    started = time.perf_counter()
    for i in range(n):
        fn(i)
    return n / (time.perf_counter() - started)


def bench_currency(transfers: int = 200, progress: Callable[[str], None] = lambda _: None) -> dict:
    chain = TesterChain(num_accounts=12)
    system = deploy(chain)
    reg, cur = system.registry, system.currency
    admin, officer, alice, bob, carol, dave = (chain.accounts[i] for i in (0, 4, 5, 6, 7, 8))
    reg.add_institution(1, "Bench Pay", 3)
    reg.add_kyc_officer(officer, 1)
    for n, who in enumerate((alice, bob, carol, dave)):
        reg.register_identity(identity_id(f"bench-person-{n}"), 3, who, sender=officer)
    cur.mint(alice, Decimal(10_000_000))
    cur.mint(bob, Decimal(1))

    base = chain.deploy("BaselineERC20", [10**15], admin).contract_address
    transfer = load_artifact("BaselineERC20").fn("transfer")

    def base_transfer(sender, to, units):
        return chain.send(sender, base, transfer.encode([to.address, units]))

    base_transfer(admin, alice, 10**12)
    base_transfer(admin, bob, 1)

    progress("gas")
    # First-time cases: first outflow ever of alice's identity (a new storage slot), new recipient.
    first_outflow = cur.transfer(bob, Decimal("1.00"), sender=alice).gas_used
    base_first = base_transfer(alice, bob, 100).gas_used
    fresh_recipient = cur.transfer(carol, Decimal("1.00"), sender=alice).gas_used
    base_fresh = base_transfer(alice, carol, 100).gas_used
    steady = cur.transfer(bob, Decimal("1.00"), sender=alice).gas_used
    base_steady = base_transfer(alice, bob, 100).gas_used

    progress("throughput: chainpay SDK")
    sdk_rate = _rate(transfers, lambda i: cur.transfer(bob, Decimal("0.01"), sender=alice))

    progress("throughput: naive web3.py")
    w3 = chain.w3
    contract = w3.eth.contract(address=cur.address, abi=cur.artifact.abi)

    def naive(i: int) -> None:
        tx_hash = contract.functions.transfer(bob.address, 1).transact({"from": alice.address})
        w3.eth.wait_for_transaction_receipt(tx_hash)

    naive_rate = _rate(max(20, transfers // 3), naive)
    return {
        "transfer_gas": steady,
        "oz_erc20_transfer_gas": base_steady,
        "gas_ratio": round(steady / base_steady, 4),
        "first_outflow_transfer_gas": first_outflow,
        "oz_erc20_first_transfer_gas": base_first,
        "new_recipient_transfer_gas": fresh_recipient,
        "oz_erc20_new_recipient_transfer_gas": base_fresh,
        "sdk_tx_per_s": round(sdk_rate, 1),
        "naive_web3_tx_per_s": round(naive_rate, 1),
        "tx_per_s_ratio": round(sdk_rate / naive_rate, 2),
        "transfers_measured": transfers,
    }


def bench_transfers(progress: Callable[[str], None] = lambda _: None, batch_sizes=(10, 50)) -> dict:
    """Gas of each revocable-transfer step in steady state (the escrow already holds transfers, the
    sender already paid today), next to a plain currency transfer between the same people. Batch
    releases pay 10 distinct recipients in turn (cold storage for each new one in a batch)."""
    chain = TesterChain(num_accounts=20)
    system = deploy(chain)
    reg, cur, t = system.registry, system.currency, system.transfers
    officer, alice, bob, device, keeper = (chain.accounts[i] for i in (4, 5, 6, 7, 8))
    payees = chain.accounts[10:20]  # a batch pays 10 distinct recipients in turn, each already holding money
    reg.add_institution(1, "Bench Pay", 3)
    reg.add_kyc_officer(officer, 1)
    reg.register_identity(identity_id("bench-alice"), 3, alice, sender=officer)
    reg.register_identity(identity_id("bench-bob"), 3, bob, sender=officer)
    reg.set_approver(identity_id("bench-alice"), device, sender=officer)
    cur.mint(alice, Decimal(1_000_000))
    cur.mint(bob, Decimal(1))
    for n, payee in enumerate(payees):
        reg.register_identity(identity_id(f"bench-payee-{n}"), 1, payee, sender=officer)
        cur.mint(payee, Decimal(1))
    progress("revocable transfers: gas")
    t.send(bob, Decimal(1), sender=alice)  # warm-up: counters, escrow balance and outflow slots exist
    cur.transfer(bob, Decimal(1), sender=alice)
    currency_transfer = cur.transfer(bob, Decimal(1), sender=alice).gas_used

    def with_approve(amount):
        approve = cur.approve(t.address, amount, sender=alice).gas_used
        record = t.send(bob, amount, sender=alice, use_permit=False)
        return approve, record

    approve_gas, plain = with_approve(Decimal(2))
    permitted = t.send(bob, Decimal(3), sender=alice)
    revoke = t.revoke(permitted.id, sender=alice).receipt.gas_used
    _, large = with_approve(Decimal(6000))
    second_approval = t.approve(large.id, sender=device).receipt.gas_used
    chain.advance_time(t.cooling_off_for(Decimal(6000)))
    release = t.release(large.id, sender=keeper).receipt.gas_used
    per_item = {}
    for n in batch_sizes:
        ids = [t.send(payees[i % len(payees)], Decimal(1), sender=alice).id for i in range(n)]
        chain.advance_time(t.cooling_off_for(Decimal(1)))
        delivery = t.release_many(ids, sender=keeper)
        assert delivery.settled == n
        per_item[n] = delivery.gas_used / n
    return {
        "currency_transfer_gas": currency_transfer,
        "send_gas": plain.receipt.gas_used,
        "approve_allowance_gas": approve_gas,
        "send_with_permit_gas": permitted.receipt.gas_used,
        "second_approval_gas": second_approval,
        "revoke_gas": revoke,
        "release_gas": release,
        **{f"release_many_{n}_per_item_gas": round(g) for n, g in per_item.items()},
    }


def run(transfers: int = 200, progress: Callable[[str], None] = lambda _: None) -> dict:
    """Every benchmark section; later features add theirs here."""
    return {"currency": bench_currency(transfers, progress), "transfers": bench_transfers(progress)}
