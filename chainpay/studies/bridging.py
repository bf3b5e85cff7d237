"""`chainpay study bridging`: the bank route against the on-chain paths, transfer by transfer.

Paths (one row per transfer and path in results.csv):
- bank: today's route through a bank card, simulated from the config (bank_route.py).
- shared-direct: both platforms' wallets on one chain, one currency transfer ("payment is settlement").
- shared-revocable: the same chain, through the revocable-transfer escrow (delayed arrival with
  revocation; a second factor from the approval threshold), released by a keeper after the cooling-off.
- bridge: each platform on its own chain, a hashed-timelock crossing through a connector.

The on-chain paths really execute on in-process chains; their gas is measured per transfer and
priced with the configured gas price; every step waits a block interval (and watchers a poll
interval) on a simulated clock that starts at a fixed date, so one seed gives one result.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Callable, Sequence

from ..bridge.client import Secret, hashlock_of
from ..bridge.connector import Connector, ConnectorPolicy
from ..bridge.crossing import FAULTS, Timing, cross
from ..bridge.network import build_network
from ..chain import TesterChain
from ..config import DeployConfig, TransferPolicy
from ..currency.registry import identity_id
from ..system import deploy
from . import bank_route
from .amounts import draw_amounts
from .config import StudyConfig

log = logging.getLogger(__name__)

PATHS = ("bank", "shared-direct", "shared-revocable", "bridge")
EPOCH = 2_051_222_400  # 2035-01-01 00:00 UTC: the simulated clock's start, ahead of any wall clock
PEOPLE = 8
OPENING_BALANCE = Decimal(10_000_000)
MEAN_GAP = 600  # seconds between one customer's transfer and the next one's (exponential)


@dataclass(frozen=True)
class Row:
    transfer: int
    path: str
    amount: Decimal
    outcome: str  # delivered | refused | refunded | failed
    seconds: float
    fee: Decimal
    gas: int
    gas_cost: Decimal
    money_at: str
    detail: str = ""

    @property
    def delivered(self) -> bool:
        return self.outcome == "delivered"

    @property
    def fee_pct(self) -> float:
        return float(self.fee / self.amount * 100)

    @property
    def gas_pct(self) -> float:
        return float(self.gas_cost / self.amount * 100)


def gas_cost(config: StudyConfig, gas: int) -> Decimal:
    return (Decimal(gas) * config.chain.gas_price_yuan_per_million / 1_000_000).quantize(Decimal("0.000001"), ROUND_HALF_UP)


def run(config: StudyConfig, transfers: int = 1000, seed: int = 1, faults: Sequence[str] = (),
        progress: Callable[[str, int], None] = lambda path, n: None) -> list[Row]:
    """Every path for the same `transfers` amounts; `progress(path, done)` after each transfer."""
    unknown = set(faults) - set(FAULTS)
    if unknown:
        from ..core.errors import InvalidInput

        raise InvalidInput(f"unknown fault(s) {', '.join(sorted(unknown))} (known: {', '.join(FAULTS)})")
    amounts = draw_amounts(config.amounts, transfers, random.Random(f"{seed}-amounts"))
    rows = _bank(config, amounts, random.Random(f"{seed}-bank"), progress)
    rows += _shared(config, amounts, random.Random(f"{seed}-shared"), progress)
    rows += _bridge(config, amounts, random.Random(f"{seed}-bridge"), list(faults), progress)
    return rows


# ---------------------------------------------------------------------------- bank route
def _bank(config, amounts, rng, progress) -> list[Row]:
    rows = []
    for i, amount in enumerate(amounts):
        t = bank_route.simulate(config.bank_route, amount, rng)
        rows.append(Row(i, "bank", amount, "delivered" if t.delivered else "failed", t.seconds, t.fee, 0, Decimal(0),
                        t.money_at, bank_route.withdrawals_detail(t.chunks)))
        progress("bank", i + 1)
    return rows


# ---------------------------------------------------------------------------- shared currency
def _shared(config, amounts, rng, progress) -> list[Row]:
    shared = config.shared
    policy = TransferPolicy(cooling_off=[(Decimal(0), shared.cooling_off_seconds)],
                            approval_threshold=shared.approval_threshold)
    chain = TesterChain(num_accounts=7 + 3 * PEOPLE)
    system = deploy(chain, DeployConfig(transfers=policy))
    reg, cur = system.registry, system.currency
    officer_a, officer_b, keeper = chain.accounts[4], chain.accounts[5], chain.accounts[6]
    reg.add_institution(1, "Platform A", 3)
    reg.add_institution(2, "Platform B", 3)
    reg.add_kyc_officer(officer_a, 1)
    reg.add_kyc_officer(officer_b, 2)
    wallets = []
    for p in range(PEOPLE):
        at_a, at_b, approver = chain.accounts[7 + 3 * p: 10 + 3 * p]
        identity = identity_id({"name": f"person-{p}"})
        reg.register_identity(identity, shared.user_tier, at_a, sender=officer_a)
        reg.link_address(identity, at_b, sender=officer_b, consenting=at_a)  # the same person's wallet at B, with consent
        reg.set_approver(identity, approver)
        cur.mint(at_a, OPENING_BALANCE)
        wallets.append((at_a, at_b, approver))
    block = config.chain.block_interval
    chain.advance_time(EPOCH - chain.now)
    rows = []
    for i, amount in enumerate(amounts):
        at_a, at_b, approver = wallets[i % PEOPLE]
        chain.advance_time(_gap(rng))
        start = chain.now
        chain.set_next_block_time(start + block)
        receipt = cur.transfer(at_b, amount, sender=at_a)
        rows.append(Row(i, "shared-direct", amount, "delivered", block, Decimal(0), receipt.gas_used,
                        gas_cost(config, receipt.gas_used), bank_route.ON_B, "one currency transfer"))
        if amount < shared.delayed_arrival_from:
            rows.append(Row(i, "shared-revocable", amount, "delivered", block, Decimal(0), receipt.gas_used,
                            gas_cost(config, receipt.gas_used), bank_route.ON_B, "below the delayed-arrival threshold"))
        else:
            rows.append(_revocable(config, system, i, amount, at_a, at_b, approver, keeper))
        cur.transfer(at_a, amount, sender=at_b)  # the wallets' owner moves it back: balances stay level
        progress("shared", i + 1)
    return rows


def _revocable(config, system, i, amount, at_a, at_b, approver, keeper) -> Row:
    chain, transfers, block = system.chain, system.transfers, config.chain.block_interval
    start = chain.now
    chain.set_next_block_time(start + block)
    record = transfers.send(at_b, amount, sender=at_a, memo=f"study #{i}")
    receipts = [record.receipt]
    detail = "cooling-off"
    if record.release_at is None:  # at or above the approval threshold: the second factor first
        chain.set_next_block_time(chain.now + config.shared.second_factor_seconds + block)
        record = transfers.approve(record.id, sender=approver)
        receipts.append(record.receipt)
        detail = "second factor, then cooling-off"
    chain.set_next_block_time(max(record.release_at, chain.now + 1) + block - 1)  # the keeper's next block
    done = transfers.release(record.id, sender=keeper)
    receipts.append(done.receipt)
    gas = sum(r.gas_used for r in receipts)
    delivered = done.state.paid_to_recipient
    return Row(i, "shared-revocable", amount, "delivered" if delivered else "refunded", chain.now - start, Decimal(0), gas,
               gas_cost(config, gas), bank_route.ON_B if delivered else "on A (returned)", detail)


# ---------------------------------------------------------------------------- bridge
def _bridge(config, amounts, rng, faults, progress) -> list[Row]:
    c = config.connector
    net = build_network(PEOPLE, tier=config.shared.user_tier, opening_balance=OPENING_BALANCE,
                        connector_liquidity=c.liquidity)
    policy = ConnectorPolicy(fee_rate=c.fee_rate, fee_min=c.fee_min, sender_lock_duration=c.sender_lock_duration,
                             inbound_lock_duration=c.inbound_lock_duration, claim_margin=c.claim_margin, quote_ttl=c.quote_ttl)
    connector = Connector(net.a.bridge, net.b.bridge, net.connector.a, net.connector.b, policy, clock=lambda: net.now)
    timing = Timing(config.chain.block_interval, config.chain.poll_interval, config.faults.halt_seconds)
    net.advance(EPOCH - net.now)
    rows = []
    for i, amount in enumerate(amounts):
        net.advance(_gap(rng))
        fault = _pick_fault(rng, faults, config.faults.share)
        secret_bytes = rng.randbytes(32)
        result = cross(net, connector, net.people[i % PEOPLE], amount, timing, fault,
                       Secret(secret_bytes, hashlock_of(secret_bytes)))
        detail = result.detail + (f" [fault: {fault}]" if fault else "")
        rows.append(Row(i, "bridge", amount, result.outcome, result.seconds, result.fee, result.gas,
                        gas_cost(config, result.gas), result.money_at, detail))
        progress("bridge", i + 1)
    return rows


def _gap(rng: random.Random) -> int:
    return 1 + int(rng.expovariate(1 / MEAN_GAP))


def _pick_fault(rng: random.Random, faults: list[str], share: float) -> str | None:
    draw = rng.random()  # drawn even without faults, so enabling one changes no other transfer's draws
    for n, fault in enumerate(faults):
        if draw < (n + 1) * share:
            return fault
    return None
