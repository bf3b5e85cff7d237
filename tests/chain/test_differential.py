"""Differential test: the same scripted scenarios on eth-tester (the reference) and on EDR (the fast
engine) must agree on the gas of every transaction, the typed error (with its arguments) of every
refusal, every emitted event, and the final balances.

Both chains use the same keys, chain id and deployment order, so addresses and EIP-712 domains are
equal, and the script pins the clock: before each step both chains mine a block at the same time and
stamp the step's transaction one second later, so signatures and deadlines (and hence calldata) are
byte-identical. The long randomized walk runs under ``-m slow``.
"""

from __future__ import annotations

import random
import time
from decimal import Decimal

import pytest

from chainpay import errors
from chainpay.bridge.client import Secret, deploy_bridge, hashlock_of
from chainpay.chain import TesterChain
from chainpay.chain.edr import EdrChain, unavailable_reason
from chainpay.testing import build_system

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=f"fast engine unavailable: {unavailable_reason()}")

STEP = 15  # seconds between scripted steps
START = int(time.time()) + 30 * 86400  # a shared clock well ahead of both chains' wall clocks


class Script:
    """Runs steps at pinned times and records what each did."""

    def __init__(self, chain, start: int = START):
        self.chain = chain
        self.log: list = []
        chain.advance_time(start - chain.now)

    def at(self, seconds: int = STEP) -> None:
        self.chain.advance_time(seconds)
        self.chain.set_next_block_time(self.chain.now + 1)

    def do(self, label: str, fn, *args, wait: int = STEP, **kwargs):
        self.at(wait)
        try:
            out = fn(*args, **kwargs)
        except errors.ContractRevert as exc:
            self.log.append((label, "revert", type(exc).__name__, exc.values))
            return None
        except errors.ChainpayError as exc:
            self.log.append((label, "refused", type(exc).__name__))
            return None
        self.log.append((label, "ok", [_view(r) for r in _receipts(out)]))
        return out


def _receipts(out) -> list:
    if out is None:
        return []
    if isinstance(out, tuple):
        return [r for item in out for r in _receipts(item)]
    if hasattr(out, "gas_used") and hasattr(out, "events"):
        return [out]
    if hasattr(out, "receipts"):
        return list(out.receipts)
    receipt = getattr(out, "receipt", None)
    return [receipt] if receipt is not None else []


def _view(receipt) -> tuple:
    return (receipt.gas_used, receipt.contract_address,
            [(e.name, e.address, e.log_index, tuple(sorted(e.args.items()))) for e in receipt.events])


def scenario(chain) -> tuple[list, dict]:
    """deploy and roles; registry; currency transfers and refusals; permit and EIP-3009; revocable
    transfers through every state; a channel opened, redeemed and closed both ways; a bridge lock
    claimed and one refunded."""
    system, a = build_system(chain)
    s = Script(chain)
    s.log.append(("deploy", "ok", sorted((k, getattr(r, "gas_used", None)) for k, r in system.receipts.items())))
    reg, cur, tr = system.registry, system.currency, system.transfers
    D = Decimal
    # registry
    dave = a.spare[0]
    s.do("register dave", reg.register_identity, b"\x0d" * 32, 1, dave, sender=a.officer_a)
    s.do("register again", reg.register_identity, b"\x0d" * 32, 1, dave, sender=a.officer_a)
    s.do("register by stranger", reg.register_identity, b"\x0e" * 32, 1, a.spare[1], sender=a.stranger)
    s.do("tier too high", reg.register_identity, b"\x0f" * 32, 3, a.spare[2], sender=a.officer_b)
    # currency
    s.do("transfer", cur.transfer, a.bob, D("12.34"), sender=a.alice)
    s.do("transfer to same identity", cur.transfer, a.alice2, D("1"), sender=a.alice)
    s.do("over balance", cur.transfer, a.bob, D("150"), sender=a.carol)
    s.do("to unregistered", cur.transfer, a.stranger, D("1"), sender=a.alice)
    s.do("from unregistered", cur.transfer, a.alice, D("0"), sender=a.stranger)
    s.do("mint by stranger", cur.mint, a.alice, D("5"), sender=a.stranger)
    s.do("mint", cur.mint, a.carol, D("2000"))
    s.do("over daily limit", cur.transfer, a.bob, D("1500"), sender=a.carol)
    s.do("freeze bob", reg.freeze_address, a.bob)
    s.do("to frozen", cur.transfer, a.bob, D("1"), sender=a.alice)
    s.do("unfreeze bob", reg.unfreeze_address, a.bob)
    s.do("pause", cur.pause)
    s.do("while paused", cur.transfer, a.bob, D("1"), sender=a.alice)
    s.do("unpause", cur.unpause)
    s.do("approve", cur.approve, a.carol, D("50"), sender=a.alice)
    s.do("transfer_from", cur.transfer_from, a.alice, a.bob, D("20"), sender=a.carol)
    s.do("transfer_from over allowance", cur.transfer_from, a.alice, a.bob, D("40"), sender=a.carol)
    # permit and EIP-3009 (deadlines from the script's clock: identical calldata on both engines)
    now = chain.now
    permit = cur.sign_permit(a.alice, a.carol, D("7"), now + 3600)
    s.do("permit", cur.permit, permit, sender=a.bob)
    s.do("permit replayed", cur.permit, permit, sender=a.bob)
    late = cur.sign_permit(a.alice, a.carol, D("7"), now + 1)
    s.do("permit expired", cur.permit, late, sender=a.bob, wait=STEP)
    auth = cur.sign_authorization(a.alice, a.bob, D("3"), valid_before=now + 7200, nonce=b"\x01" * 32)
    s.do("3009 transfer", cur.transfer_with_authorization, auth, sender=a.carol)
    s.do("3009 replayed", cur.transfer_with_authorization, auth, sender=a.carol)
    recv = cur.sign_authorization(a.alice, a.bob, D("2"), valid_before=now + 7200, nonce=b"\x02" * 32, kind="receive")
    s.do("3009 receive by other", cur.receive_with_authorization, recv, sender=a.carol)
    s.do("3009 receive", cur.receive_with_authorization, recv)
    cancel_nonce = b"\x03" * 32
    s.do("3009 cancel", cur.cancel_authorization, cur.sign_cancellation(a.alice, cancel_nonce), sender=a.bob)
    cancelled = cur.sign_authorization(a.alice, a.bob, D("2"), valid_before=now + 7200, nonce=cancel_nonce)
    s.do("3009 after cancel", cur.transfer_with_authorization, cancelled, sender=a.carol)
    # revocable transfers: every state
    s.do("threshold", tr.set_approval_threshold, D("300"))
    revoked = s.do("send to revoke", tr.send, a.bob, D("10"), sender=a.alice, memo="revoke me")
    s.do("revoke", tr.revoke, revoked.id, sender=a.alice)
    s.do("revoke twice", tr.revoke, revoked.id, sender=a.alice)
    rejected = s.do("send to reject", tr.send, a.bob, D("11"), sender=a.alice, memo="reject me")
    s.do("reject by sender", tr.reject, rejected.id, sender=a.alice)
    s.do("reject", tr.reject, rejected.id, sender=a.bob)
    disputed = s.do("send to dispute", tr.send, a.bob, D("12"), sender=a.alice, memo="dispute")
    s.do("dispute", tr.dispute, disputed.id, sender=a.bob)
    s.do("resolve", tr.resolve, disputed.id, to_recipient=False)
    expiring = s.do("send to expire", tr.send, a.bob, D("13"), sender=a.alice)
    s.do("dispute 2", tr.dispute, expiring.id, sender=a.alice)
    s.do("return too early", tr.return_expired_dispute, expiring.id, sender=a.carol)
    s.do("return expired", tr.return_expired_dispute, expiring.id, sender=a.carol, wait=72 * 3600)
    big = s.do("send above threshold", tr.send, a.bob, D("400"), sender=a.alice, memo="big")
    s.do("release awaiting", tr.release, big.id, sender=a.carol)
    s.do("approve by stranger", tr.approve, big.id, sender=a.stranger)
    s.do("approve", tr.approve, big.id)
    s.do("release early", tr.release, big.id, sender=a.carol)
    s.do("release", tr.release, big.id, sender=a.carol, wait=2 * 3600)
    s.do("deliver nothing", tr.deliver_due, sender=a.carol)
    s.log.append(("history", "view", [(r.id, r.state.name, r.memo) for r in tr.history_for(a.bob)]))
    # channels: list, open, redeem, close (provider) and start_close/settle (consumer)
    cat, ch = system.catalogue, system.channels
    listing = s.do("list", cat.list, D("0.10"), "call", [(a.bob, 7000), (a.carol, 3000)], sender=a.bob)
    listing = cat.get(1)
    opened = s.do("open", ch.open, listing.id, D("5"), sender=a.alice, salt=b"\x05" * 32)
    key = opened[0]
    s.do("redeem", ch.redeem, key, ch.sign_voucher(key, 30, signer=a.alice), sender=a.bob)
    s.do("redeem lower", ch.redeem, key, ch.sign_voucher(key, 20, signer=a.alice), sender=a.bob)
    s.do("close", ch.close, key, ch.sign_voucher(key, 50, signer=a.alice), sender=a.bob)
    other = s.do("open 2", ch.open, listing.id, D("2"), sender=a.alice, salt=b"\x06" * 32)[0]
    s.do("start close", ch.start_close, other, sender=a.alice)
    s.do("settle early", ch.settle, other, sender=a.carol)
    s.do("settle", ch.settle, other, sender=a.carol, wait=ch.challenge_period + 1)
    s.do("distribute", ch.distribute, listing.id, sender=a.carol)
    s.do("withdraw", ch.withdraw, sender=a.alice)
    # a bridge on the same chain: a lock claimed with its secret, one refunded after its timelock
    bridge = deploy_bridge(system)
    s.do("add connector", bridge.add_connector, a.carol)
    secret = Secret(b"\x07" * 32, hashlock_of(b"\x07" * 32))
    lock = s.do("lock", bridge.lock, a.carol, D("25"), secret.hashlock, chain.now + 4 * 3600, a.alice_id, sender=a.alice)
    s.do("claim wrong", bridge.claim, lock.id, b"\x08" * 32, sender=a.carol)
    s.do("claim", bridge.claim, lock.id, secret.preimage, sender=a.carol)
    other_lock = s.do("lock 2", bridge.lock, a.carol, D("5"), hashlock_of(b"\x09" * 32), chain.now + 3600, a.alice_id,
                      sender=a.alice)
    s.do("refund early", bridge.refund, other_lock.id, sender=a.alice)
    s.do("refund", bridge.refund, other_lock.id, sender=a.alice, wait=2 * 3600)
    holders = [a.alice, a.alice2, a.bob, a.carol, dave, tr.address, ch.address, bridge.address]
    balances = {str(h): cur.balance_of(h) for h in holders}
    balances["supply"] = cur.total_supply()
    return s.log, balances


def _diff(reference: list, fast: list) -> list:
    return [(r, f) for r, f in zip(reference, fast) if r != f] + ([("length", len(reference), len(fast))]
                                                                    if len(reference) != len(fast) else [])


def test_engines_agree_on_every_transaction():
    reference = scenario(TesterChain(num_accounts=16))
    with EdrChain(num_accounts=16) as chain:
        fast = scenario(chain)
    assert _diff(reference[0], fast[0]) == []
    assert reference[1] == fast[1]
    assert {entry[1] for entry in reference[0]} >= {"ok", "revert", "view"}
    assert sum(1 for entry in reference[0] if entry[1] == "revert") >= 20  # the refusals really ran


def random_walk(chain, seed: int, steps: int) -> tuple[list, dict]:
    """Random currency traffic (transfers, approvals, transfer_from, EIP-3009, freezes, limits, time
    jumps across UTC days), many of them refused: the same seed gives the same script on both engines."""
    system, a = build_system(chain)
    s = Script(chain)
    rng = random.Random(seed)
    cur, reg = system.currency, system.registry
    people = [a.alice, a.alice2, a.bob, a.carol, a.stranger]
    for step in range(steps):
        kind = rng.choice(["transfer", "transfer", "transfer", "approve", "transfer_from", "3009", "freeze",
                           "limit", "mint"])
        x, y = rng.choice(people), rng.choice(people)
        amount = Decimal(rng.choice([0, 1, 5, 50, 300, 999, 1200, 5000])) + Decimal(rng.randrange(100)) / 100
        wait = rng.choice([STEP, STEP, 3600, 20 * 3600])
        if kind == "transfer":
            s.do(f"{step} transfer", cur.transfer, y, amount, sender=x, wait=wait)
        elif kind == "approve":
            s.do(f"{step} approve", cur.approve, y, amount, sender=x, wait=wait)
        elif kind == "transfer_from":
            s.do(f"{step} transfer_from", cur.transfer_from, x, rng.choice(people), amount, sender=y, wait=wait)
        elif kind == "3009":
            auth = cur.sign_authorization(x, y, amount, valid_before=chain.now + rng.choice([1, 3600]),
                                          nonce=rng.randbytes(32))
            s.do(f"{step} 3009", cur.transfer_with_authorization, auth, sender=rng.choice(people), wait=wait)
        elif kind == "freeze":
            fn = rng.choice([reg.freeze_address, reg.unfreeze_address])
            s.do(f"{step} {fn.__name__}", fn, x, wait=wait)
        elif kind == "limit":
            s.do(f"{step} limit", cur.set_daily_limit, rng.choice([1, 2]), rng.choice([None, Decimal(100), Decimal(5000)]),
                 wait=wait)
        else:
            s.do(f"{step} mint", cur.mint, x, amount, wait=wait)
    balances = {str(p): cur.balance_of(p) for p in people}
    balances["supply"] = cur.total_supply()
    return s.log, balances


def test_engines_agree_on_a_random_walk_short():
    reference = random_walk(TesterChain(num_accounts=16), seed=7, steps=40)
    with EdrChain(num_accounts=16) as chain:
        fast = random_walk(chain, seed=7, steps=40)
    assert _diff(reference[0], fast[0]) == []
    assert reference[1] == fast[1]


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(6))
def test_engines_agree_on_long_random_walks(seed):
    reference = random_walk(TesterChain(num_accounts=16), seed=seed, steps=300)
    with EdrChain(num_accounts=16) as chain:
        fast = random_walk(chain, seed=seed, steps=300)
    assert _diff(reference[0], fast[0]) == []
    assert reference[1] == fast[1]
