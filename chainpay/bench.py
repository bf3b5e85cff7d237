"""`chainpay bench`: measure, in one process, what the currency costs against plain baselines.

Gas: a steady-state transfer (sender already paid today, recipient already holds a balance) of the
digital currency against a plain OpenZeppelin ERC-20 compiled with the same settings, plus the two
costlier first-time cases for context. Throughput: SDK transfers per second against web3.py's
default ``contract.functions.transfer(...).transact()`` on the same in-process chain.
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


def run(transfers: int = 200, progress: Callable[[str], None] = lambda _: None) -> dict:
    """Every benchmark section; later features add theirs here."""
    return {"currency": bench_currency(transfers, progress)}
