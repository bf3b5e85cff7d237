"""`chainpay bench`: measure, in one process, what chainpay costs against plain baselines.

Gas: a steady-state transfer (sender already paid today, recipient already holds a balance) of the
digital currency against a plain OpenZeppelin ERC-20 compiled with the same settings, plus the two
costlier first-time cases for context. Throughput: SDK transfers per second against web3.py's
default ``contract.functions.transfer(...).transact()`` on the same in-process chain. Revocable
transfers: the gas of each step (send, second approval, revoke, release, per item of a batch
release) next to a plain currency transfer measured on the same chain. Pay-per-use content: voucher signatures per second against eth-account's EIP-712 signer,
and gas per use of on-chain purchases against micropayment channels. Bridge: the gas of each step of a
steady-state crossing between two chains next to a plain currency transfer on the same chain.
"""

from __future__ import annotations

import logging
import time
from decimal import Decimal
from typing import Callable

from ..chain import in_process
from ..core import errors
from ..core.abi import load_artifact
from ..currency.registry import identity_id
from ..system import deploy
from .paywall import bench_paywall
from .platforms import bench_platforms

log = logging.getLogger(__name__)


def _rate(n: int, fn: Callable[[int], None]) -> float:
    started = time.perf_counter()
    for i in range(n):
        fn(i)
    return n / (time.perf_counter() - started)


OFFICER = 4  # account index of the bench platform's KYC officer


def _bench_system(num_accounts: int, people: dict[int, int], engine: str = "eth-tester"):
    """A fresh in-process chain and deployment with one white-listed platform whose officer has
    registered each account index in `people` (index -> tier) as a person of its own."""
    chain = in_process(engine, num_accounts)
    system = deploy(chain)
    officer = chain.accounts[OFFICER]
    system.registry.add_institution(1, "Bench Pay", 3)
    system.registry.add_kyc_officer(officer, 1)
    for index, tier in people.items():
        system.registry.register_identity(identity_id(f"bench-person-{index}"), tier, chain.accounts[index],
                                          sender=officer)
    return chain, system, officer


def bench_currency(transfers: int = 200, progress: Callable[[str], None] = lambda _: None) -> dict:
    chain, system, _ = _bench_system(12, {5: 3, 6: 3, 7: 3, 8: 3})
    cur = system.currency
    admin, alice, bob, carol = (chain.accounts[i] for i in (0, 5, 6, 7))
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


def _engine_run(engine: str, transfers: int) -> tuple[float, list]:
    """Transfers/s of the permissioned currency through the SDK on `engine`, and what each step of a
    fixed sequence reported (gas of each receipt, or the typed error and its arguments)."""
    chain, system, _ = _bench_system(12, {5: 3, 6: 3, 7: 3, 8: 1}, engine=engine)
    try:
        cur = system.currency
        alice, bob, carol, dave = (chain.accounts[i] for i in (5, 6, 7, 8))
        cur.mint(alice, Decimal(10_000_000))
        cur.mint(bob, Decimal(1))
        outcomes = []
        for to, amount, sender in ((bob, "1.00", alice), (carol, "1.00", alice), (bob, "1.00", alice),
                                   (dave, "0.50", alice), (alice, "2000", dave), (bob, "5", chain.accounts[9])):
            try:
                outcomes.append(cur.transfer(to, Decimal(amount), sender=sender).gas_used)
            except errors.ChainpayError as exc:
                outcomes.append((type(exc).__name__, getattr(exc, "values", ())))
        rate = _rate(transfers, lambda i: cur.transfer(bob, Decimal("0.01"), sender=alice))
        return rate, outcomes
    finally:
        close = getattr(chain, "close", None)
        if close:
            close()


def bench_engine(transfers: int = 2000, reference_transfers: int = 200,
                 progress: Callable[[str], None] = lambda _: None) -> dict:
    """The fast engine against eth-tester in this run: SDK transfers per second (receipt decoded,
    typed errors raised) and whether every step reported the same gas and errors on both."""
    from ..chain.edr import unavailable_reason

    progress("engine: eth-tester")
    tester_rate, tester_outcomes = _engine_run("eth-tester", reference_transfers)
    reason = unavailable_reason()
    if reason is not None:
        return {"edr_tx_per_s": None, "eth_tester_tx_per_s": round(tester_rate, 1), "ratio": None,
                "gas_equal": None, "unavailable": reason}
    progress("engine: EDR")
    edr_rate, edr_outcomes = _engine_run("edr", transfers)
    return {"edr_tx_per_s": round(edr_rate, 1), "eth_tester_tx_per_s": round(tester_rate, 1),
            "ratio": round(edr_rate / tester_rate, 1), "gas_equal": edr_outcomes == tester_outcomes,
            "steps_compared": len(tester_outcomes), "transfers_measured": {"edr": transfers, "eth_tester": reference_transfers}}


def bench_transfers(progress: Callable[[str], None] = lambda _: None, batch_sizes=(10, 50), engine: str = "eth-tester") -> dict:
    """Gas of each revocable-transfer step in steady state (the escrow already holds transfers, the
    sender already paid today), next to a plain currency transfer between the same people. Batch
    releases pay 10 distinct recipients in turn (cold storage for each new one in a batch)."""
    # a batch pays 10 distinct recipients (accounts 10-19) in turn, each already holding money
    chain, system, officer = _bench_system(20, {5: 3, 6: 3, **{i: 1 for i in range(10, 20)}}, engine)
    reg, cur, t = system.registry, system.currency, system.transfers
    alice, bob, device, keeper = (chain.accounts[i] for i in (5, 6, 7, 8))
    payees = chain.accounts[10:20]
    reg.set_approver(reg.identity_of(alice), device, sender=officer)
    cur.mint(alice, Decimal(1_000_000))
    cur.mint(bob, Decimal(1))
    for payee in payees:
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


def bench_vouchers(count: int = 3000, progress: Callable[[str], None] = lambda _: None) -> dict:
    """Voucher signatures per second: chainpay's direct keccak + coincurve path against eth-account's
    EIP-712 signer, on the same keys and messages. Verify = recover the signer and compare it with
    the expected address (what the provider does for every request)."""
    from eth_account import Account as EthAccount
    from eth_account.messages import encode_typed_data

    from ..content.vouchers import Domain, Signer, signed_by

    key = bytes(31) + b"\x2a"
    domain = Domain(131277322940537, "0x" + "c0" * 20)
    signer = Signer(key, domain)
    channel_id = bytes(range(32))
    progress("vouchers: chainpay")
    sign_rate = _rate(count, lambda i: signer.sign(channel_id, i + 1))
    vouchers = [signer.sign(channel_id, i + 1) for i in range(count)]
    verify_rate = _rate(count, lambda i: signed_by(domain, vouchers[i], signer.address) or _fail("verify"))
    progress("vouchers: eth-account")
    slow = min(count, max(100, count // 10))  # eth-account is ~10x slower: fewer rounds, same messages
    eth_sign_rate = _rate(slow, lambda i: EthAccount.sign_typed_data(key, *domain.typed_data(channel_id, i + 1)))

    def eth_verify(i: int) -> None:
        message = encode_typed_data(*domain.typed_data(channel_id, i + 1))
        if EthAccount.recover_message(message, signature=vouchers[i].signature) != signer.address:
            _fail("eth-account verify")

    eth_verify_rate = _rate(slow, eth_verify)
    return {
        "sign_per_s": round(sign_rate),
        "verify_per_s": round(verify_rate),
        "eth_account_sign_per_s": round(eth_sign_rate),
        "eth_account_verify_per_s": round(eth_verify_rate),
        "sign_ratio": round(sign_rate / eth_sign_rate, 1),
        "verify_ratio": round(verify_rate / eth_verify_rate, 1),
    }


def _fail(what: str) -> None:
    raise AssertionError(f"benchmark self-check failed: {what}")


def bench_content_gas(progress: Callable[[str], None] = lambda _: None, engine: str = "eth-tester") -> dict:
    """Gas per use of pay-per-use content: `buy` pays each use on chain (one transfer to the catalogue,
    three payee balances credited; each payee withdraws its balance later, in one transfer for many);
    channel_N = (open with permit + provider's cooperative close redeeming the last of N vouchers) / N,
    the N uses themselves being off-chain vouchers (0 gas). Steady state: payees and the channel
    contract already hold balances; the consumer deposits 10 % more than it uses, so the close credits
    a refund to an owed balance that was empty (the costlier case)."""
    from ..content.vouchers import Signer

    chain, system, _ = _bench_system(12, {i: 3 for i in range(5, 10)}, engine)
    cur, cat, ch = system.currency, system.catalogue, system.channels
    provider, platform, service, consumer, other = (chain.accounts[i] for i in (5, 6, 7, 8, 9))
    cur.mint(consumer, Decimal(40_000))
    cur.mint(other, Decimal(100))
    listing = cat.list(Decimal("0.10"), "call", [(provider, 7000), (platform, 2000), (service, 1000)], sender=provider)
    signer = Signer(consumer.key, ch.domain)

    progress("content gas: buy")
    cat.buy(listing.id, 1, sender=consumer)  # first purchase: the payees' balance slots are created
    buy = cat.buy(listing.id, 1, sender=consumer).gas_used
    cat.withdraw(sender=platform)  # payees already hold currency; a withdrawal empties the owed slot
    cat.buy(listing.id, 1, sender=consumer)
    buy_payee_withdraw = cat.withdraw(sender=platform).gas_used
    ch.open(listing.id, Decimal(1), sender=other)  # the channel contract holds deposits already
    price = cur.to_units(listing.unit_price)

    def cycle(uses: int, separate_redeem: bool = False) -> dict:
        deposit = cur.from_units(uses * price * 11 // 10)
        key, opened = ch.open(listing.id, deposit, sender=consumer)
        last = None
        for used in range(1, uses + 1):  # each use: one signed voucher, off chain
            last = signer.sign(key.id, used * price)
        gas = {"open": opened.receipt.gas_used}
        if separate_redeem:
            gas["redeem"] = ch.redeem(key, last, sender=provider).gas_used
            gas["close"] = ch.close(key, None, sender=provider).receipt.gas_used
        else:
            gas["close"] = ch.close(key, last, sender=provider).receipt.gas_used
        gas["withdraw"] = ch.withdraw(sender=consumer).gas_used
        return gas

    results: dict = {"buy": buy, "buy_payee_withdraw_gas": buy_payee_withdraw}
    for uses in (10, 100, 1000):
        progress(f"content gas: channel of {uses} uses")
        gas = cycle(uses)
        results[f"channel_{uses}"] = round((gas["open"] + gas["close"]) / uses, 1)
        if uses == 1000:
            results.update(open_gas=gas["open"], close_with_voucher_gas=gas["close"], withdraw_gas=gas["withdraw"])
    split = cycle(1000, separate_redeem=True)
    results["redeem_gas"] = split["redeem"]
    results["channel_1000_separate_redeem"] = round((split["open"] + split["redeem"] + split["close"]) / 1000, 1)
    results["distribute_gas"] = ch.distribute(listing.id, sender=other).gas_used
    results["payee_withdraw_gas"] = [ch.withdraw_for(p, sender=other).gas_used for p in (provider, platform, service)]
    # Nothing amortised: this channel alone pays the consumer's withdraw, a whole distribution and every
    # payee's withdrawal.
    results["channel_1000_all_in"] = round(
        (results["open_gas"] + results["close_with_voucher_gas"] + results["withdraw_gas"] + results["distribute_gas"]
         + sum(results["payee_withdraw_gas"])) / 1000, 1)
    results["buy_over_channel_1000"] = round(buy / results["channel_1000"], 1)
    return results


def bench_bridge_gas(progress: Callable[[str], None] = lambda _: None, engine: str = "eth-tester") -> dict:
    """Gas of each step of a bridge crossing in steady state: the person's second crossing (balances,
    the bridge's holdings and the connector's standing allowance already in place), and a plain
    currency transfer between two people who already hold balances, on chain A."""
    from ..bridge.connector import Connector, ConnectorPolicy
    from ..bridge.crossing import cross
    from ..bridge.network import build_network

    progress("bridge crossing gas")
    net = build_network(people=2, engine=engine)
    try:
        connector = Connector(net.a.bridge, net.b.bridge, net.connector.a, net.connector.b, ConnectorPolicy(),
                              clock=lambda: net.now)
        alice, bob = net.people
        cross(net, connector, alice, Decimal(10))
        result = cross(net, connector, alice, Decimal(10))
        if result.outcome != "delivered" or len(result.receipts) != 4:
            _fail(f"bridge crossing: {result.outcome} ({result.detail})")
        lock, claim, inbound, outbound_claim = (r.gas_used for r in result.receipts)
        net.a.currency.transfer(bob.a, Decimal(1), sender=alice.a)
        plain = net.a.currency.transfer(bob.a, Decimal(1), sender=alice.a).gas_used
    finally:
        net.close()
    return {"sender_lock_with_permit_gas": lock, "connector_lock_gas": inbound, "recipient_claim_gas": claim,
            "connector_claim_gas": outbound_claim, "crossing_gas": result.gas, "currency_transfer_gas": plain,
            "crossing_over_transfer": round(result.gas / plain, 2)}


def run(transfers: int = 200, progress: Callable[[str], None] = lambda _: None, engine: str = "eth-tester",
        engine_transfers: int = 2000, paywall_seconds: float = 3.0, paywall_clients: int = 16) -> dict:
    """Every benchmark section; a new feature adds its section as a module of this package
    (chainpay/bench/<feature>.py) and one entry here. The currency section compares the SDK
    with web3.py on eth-tester; the gas sections run on `engine` (their figures are the same on every
    engine); the engine section measures the fast engine against eth-tester."""
    return {"currency": bench_currency(transfers, progress),
            "engine": bench_engine(engine_transfers, transfers, progress),
            "transfers": bench_transfers(progress, engine=engine),
            "vouchers": bench_vouchers(progress=progress),
            "content_gas_per_use": bench_content_gas(progress, engine=engine),
            "bridge": bench_bridge_gas(progress, engine=engine),
            "platforms": bench_platforms(progress, engine=engine),
            "paywall": bench_paywall(progress, engine=engine, clients=paywall_clients, duration=paywall_seconds)}
