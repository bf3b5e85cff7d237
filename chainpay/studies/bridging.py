"""`chainpay study bridging`: the bank route against the on-chain paths, transfer by transfer.

Paths (one row per transfer and path in results.csv):
- bank: today's route through a bank card, simulated from the config (bank_route.py).
- official-direct, online-bank, union-app, third-party, intermediary, merchant-gateway: the alternatives
  the sources measured, simulated from their figures (routes.py). Every simulated route has the users'
  give-up-after-failure behaviour and counts the fees of every attempt.
- shared-direct: both platforms' wallets on one chain, one currency transfer ("payment is settlement").
- shared-revocable: the same chain, through the revocable-transfer escrow (delayed arrival with
  revocation; a second factor from the approval threshold), released by a keeper after the cooling-off.
- platform-interconvert: both platforms' balances backed by reserve on one chain; the person's balance
  at A becomes their balance at B in one transaction (burn on A, reserve A -> B, mint on B), through
  the revocable escrow from the approval threshold up. The same-name rule means it can only reach the
  sender's own wallet: a mis-sent interconversion cannot happen.
- bridge: each platform on its own chain, a hashed-timelock crossing through a connector.

The on-chain paths really execute on in-process chains; their gas is measured per transfer and
priced with the configured gas price (or an operator cost per transaction); every step waits a block
interval (and watchers a poll interval) on a simulated clock that starts at a fixed date. On top of
the chain's own timestamps come modelled latencies (costs.py: the user's confirmation; a watcher sees an
event after a uniform share of its poll interval, not always the whole) and modelled failures (a frozen
recipient refused up front, a mis-sent transfer; the bridge's faults at configured rates). One seed
gives one result.

Why this module is long: each on-chain path is a loop over the same transfers with the same Row, clock,
random streams and segment bookkeeping (fresh chains every few thousand transfers, see segments.py), and the
paths share one chain; splitting them would pass that state between modules for no reader's gain. The
parts that stand alone (warm-ups, the connector's treasury) live in segments.py.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Callable, Sequence

from ..bridge.client import Secret, hashlock_of
from ..bridge.connector import Connector, ConnectorPolicy
from ..bridge.crossing import FAULTS, Timing, cross
from ..core.errors import InvalidInput
from ..bridge.network import build_network
from ..chain import in_process
from ..config import DeployConfig, TransferPolicy
from ..currency.registry import identity_id
from ..system import deploy
from . import bank_route, costs, routes
from .amounts import draw_amounts
from .config import StudyConfig
from .parallel import run_groups
from .segments import DAY, Crossings, holdings, warm_up_bridge, warm_up_shared

log = logging.getLogger(__name__)

ROUTES = ("official_direct", "online_bank", "union_app", "third_party", "intermediary", "merchant_gateway")
SIMULATED = ("bank", *(r.replace("_", "-") for r in ROUTES))
ON_CHAIN = ("shared-direct", "shared-revocable", "platform-interconvert", "bridge")
SHARED_CHAIN = ("shared-direct", "shared-revocable", "platform-interconvert")
PATHS = (*SIMULATED, *ON_CHAIN)
ON_A_FROZEN = "on A (refused: recipient frozen)"
WRONG_PERSON = "with the wrong person (mis-sent)"
EPOCH = 2_051_222_400  # 2035-01-01 00:00 UTC: the simulated clock's start, ahead of any wall clock
PEOPLE = 8
OPENING_BALANCE = Decimal(10_000_000)
WARM_UP_OPENING = Decimal(100)  # a fresh network's people start with this much, then get the earlier balances
MEAN_GAP = 600  # seconds between one customer's transfer and the next one's (exponential)
# Transfers per chain before moving to a fresh chain at the next UTC midnight of the simulated clock. EDR
# keeps every block's state (~25-45 KiB per transaction, no pruning): one chain for a 10,000-transfer run
# peaked at 2.3 GiB. The shared chain carries ~9 transactions per transfer, each bridge chain ~3: with
# both groups running at once (workers=2) and 2,500 for both, a 10,000-transfer run peaked at 2,032 MiB,
# the shared chain's engine alone at ~885 MiB. See segments.py for why the rows stay the same.
SEGMENT = 2_500  # the bridge's two chains
SHARED_SEGMENT = 1_250  # the shared-currency chain


@dataclass(frozen=True)
class Row:
    transfer: int
    path: str
    amount: Decimal
    outcome: str  # delivered | failed | refused | refunded | revoked | lost
    seconds: float
    fee: Decimal  # every fee paid, delivered or not
    gas: int
    gas_cost: Decimal  # gas priced at the gas price, plus the operator's cost per transaction
    money_at: str
    detail: str = ""
    seed: int = 1
    attempts: int = 1
    txs: int = 0  # transactions the transfer needed (all senders)
    started: float = 0.0  # simulated clock at the request (on-chain paths)

    @property
    def delivered(self) -> bool:
        return self.outcome == "delivered"

    @property
    def fee_pct(self) -> float:
        return float(self.fee / self.amount * 100)

    @property
    def gas_pct(self) -> float:
        return float(self.gas_cost / self.amount * 100)


def gas_cost(config: StudyConfig, gas: int, txs: int = 0) -> Decimal:
    """What the gas costs at the gas price, plus the operator's cost per transaction."""
    priced = Decimal(gas) * config.chain.gas_price_yuan_per_million / 1_000_000 + txs * config.chain.operator_cost_per_tx
    return priced.quantize(Decimal("0.000001"), ROUND_HALF_UP)


def with_faults(config: StudyConfig, faults: Sequence[str]) -> StudyConfig:
    """The config with each named bridge fault set to hit `faults.share` of transfers (the --fault flag)."""
    unknown = set(faults) - set(FAULTS)
    if unknown:
        raise InvalidInput(f"unknown fault(s) {', '.join(sorted(unknown))} (known: {', '.join(FAULTS)})")
    return config.with_overrides({f"faults.{f.replace('-', '_')}": config.faults.share for f in faults}) if faults else config


def run(config: StudyConfig, transfers: int = 1000, seed: int = 1, faults: Sequence[str] = (),
        progress: Callable[[str, int], None] = lambda path, n: None, paths: Sequence[str] = PATHS,
        engine: str | None = "eth-tester", segment: int | None = None, workers: int = 1) -> list[Row]:
    """Every path in `paths` for the same `transfers` amounts; `progress(group, done)` after each
    transfer, group being "simulated", "shared" or "bridge". The on-chain paths run on the in-process
    `engine` (the same rows on every engine: gas is exact); each moves to fresh chains every `segment`
    transfers (default SHARED_SEGMENT for the shared chain, SEGMENT for the bridge; see _shared: same
    rows, bounded memory). With `workers` > 1 the shared chain and the bridge run in two processes at
    once (the same rows; see parallel.py)."""
    config = with_faults(config, faults)
    unknown = set(paths) - set(PATHS)
    if unknown:
        raise InvalidInput(f"unknown path(s) {', '.join(sorted(unknown))} (known: {', '.join(PATHS)})")
    amounts = draw_amounts(config.amounts, transfers, random.Random(f"{seed}-amounts"))
    rows = _simulated(config, amounts, seed, [p for p in SIMULATED if p in paths], progress)
    common = {"engine": engine, "config": config, "amounts": amounts, "seed": seed}
    groups = [(name, fn, dict(common, segment=segment or default)) for name, fn, default, wanted in (
        ("shared", _shared, SHARED_SEGMENT, set(SHARED_CHAIN) & set(paths)),
        ("bridge", _bridge, SEGMENT, "bridge" in paths)) if wanted]
    for group_rows in run_groups(groups, progress, workers):
        rows += [r for r in group_rows if r.path in paths]
    return rows


def run_replicates(config: StudyConfig, transfers: int, seed: int, replicates: int, faults: Sequence[str] = (),
                   progress: Callable[[str, int], None] = lambda path, n: None, paths: Sequence[str] = PATHS,
                   engine: str | None = "eth-tester", workers: int = 1) -> list[Row]:
    """`replicates` independent runs with seeds seed, seed + 1, ...: rows of all of them (Row.seed tells apart);
    `progress(group, done)` counts over all replicates."""
    rows = []
    for k in range(replicates):
        rows += run(config, transfers, seed + k, faults, lambda group, n, k=k: progress(group, k * transfers + n), paths,
                    engine, workers=workers)
    return rows


# ---------------------------------------------------------------------------- simulated routes
def _simulated(config, amounts, seed, paths, progress) -> list[Row]:
    rows = []
    for path in paths:
        rng = random.Random(f"{seed}-{path}")  # one stream per route: adding a route changes no other
        for i, amount in enumerate(amounts):
            if path == "bank":
                t = routes.simulate_bank(config, amount, rng)
            else:
                t = routes.simulate_route(config, path.replace("-", "_"), amount, rng)
            rows.append(Row(i, path, amount, "delivered" if t.delivered else "failed", t.seconds, t.fee, 0, Decimal(0),
                            t.money_at, t.detail, seed, t.attempts))
    progress("simulated", len(amounts))
    return rows


# ---------------------------------------------------------------------------- shared currency
@dataclass
class _SharedChain:
    chain: object
    system: object
    wallets: list  # (at A, at B, approver) per person
    stranger: object
    keeper: object
    treasury_a: object  # platform A's treasury (issues balances at A)


def _shared_chain(chain, config) -> _SharedChain:
    """Deploy the shared-currency platform on `chain`: two institutions, PEOPLE people with a wallet at
    each and an approver, and a stranger who receives the mis-sent transfers."""
    shared = config.shared
    policy = TransferPolicy(cooling_off=[(Decimal(0), shared.cooling_off_seconds)],
                            approval_threshold=shared.approval_threshold)
    system = deploy(chain, DeployConfig(transfers=policy))
    reg, cur = system.registry, system.currency
    officer_a, officer_b, keeper = chain.accounts[4], chain.accounts[5], chain.accounts[6]
    reg.add_institution(1, "Platform A", 4)  # tier 4: the platforms' own treasuries
    reg.add_institution(2, "Platform B", 4)
    reg.add_kyc_officer(officer_a, 1)
    reg.add_kyc_officer(officer_b, 2)
    platforms = _open_platforms(system, chain.accounts[8 + 3 * PEOPLE:10 + 3 * PEOPLE], (officer_a, officer_b))
    wallets = []
    for p in range(PEOPLE):
        at_a, at_b, approver = chain.accounts[7 + 3 * p: 10 + 3 * p]
        identity = identity_id({"name": f"person-{p}"})
        reg.register_identity(identity, shared.user_tier, at_a, sender=officer_a)
        reg.link_address(identity, at_b, sender=officer_b, consenting=at_a)  # the same person's wallet at B, with consent
        reg.set_approver(identity, approver)
        cur.mint(at_a, OPENING_BALANCE)
        wallets.append((at_a, at_b, approver))
        platforms.issue(1, at_a, PLATFORM_BALANCE, sender=chain.accounts[8 + 3 * PEOPLE])
    stranger = chain.accounts[7 + 3 * PEOPLE]  # who receives the mis-sent transfers
    reg.register_identity(identity_id({"name": "a stranger"}), shared.user_tier, stranger, sender=officer_b)
    return _SharedChain(chain, system, wallets, stranger, keeper, chain.accounts[8 + 3 * PEOPLE])


def _shared(engine, config, amounts, seed, progress, segment: int = SHARED_SEGMENT) -> list[Row]:
    """Both shared-currency paths, transfer by transfer, on fresh chains of `segment` transfers each.

    A new chain starts only at a UTC midnight of the simulated clock (the first transfer of a new day
    once the segment is full) and is warmed up the day before (_warm_up), so its rows are those one
    chain would give: the same draws (one random stream across segments), the same clock, the same gas
    (tested against a single chain in tests/studies)."""
    rng, latency = random.Random(f"{seed}-shared"), random.Random(f"{seed}-shared-latency")
    rows: list[Row] = []
    i, resume, held = 0, None, []
    while i < len(amounts):
        with in_process(engine, accounts=10 + 3 * PEOPLE) as chain:
            env = _shared_chain(chain, config)
            if i == 0:
                chain.advance_time(EPOCH - chain.now)
            else:
                warm_up_shared(env, config, resume // DAY * DAY, held)
            i, resume = _shared_segment(env, config, amounts, i, segment, resume, rng, latency, seed, rows, progress)
            held = [env.system.currency.balance_of(at_b) for _, at_b, _ in env.wallets]
    return rows


def _shared_segment(env, config, amounts, first, segment, resume, rng, latency, seed, rows, progress):
    """Transfers `first`.. on env's chain until the segment is full and a new UTC day begins; returns
    (the next transfer, the time its block lands at: the clock plus the gap already drawn for it)."""
    shared, chain, system = config.shared, env.chain, env.system
    cur = system.currency
    block = config.chain.block_interval
    for i in range(first, len(amounts)):
        amount = amounts[i]
        at_a, at_b, approver = env.wallets[i % PEOPLE]
        stop = _step_clock(chain.now, chain.advance_time, rng, i - first, segment, resume)
        resume = None
        if stop is not None:
            return i, stop
        confirm = costs.confirmation_seconds(config.chain, latency)
        draw = rng.random()  # one draw per transfer: frozen recipient, mis-sent, or as intended
        if draw < shared.frozen_rate:  # the SDK's dry run refuses before anything is sent
            for path in SHARED_CHAIN:
                rows.append(Row(i, path, amount, "refused", confirm, Decimal(0), 0, Decimal(0), ON_A_FROZEN,
                                "recipient frozen: refused before sending", seed, 1, 0))
            progress("shared", i + 1)
            continue
        missent = draw < shared.frozen_rate + shared.missent_rate
        to = env.stranger if missent else at_b
        start = chain.now
        chain.set_next_block_time(start + block)
        receipt = cur.transfer(to, amount, sender=at_a)
        cost = gas_cost(config, receipt.gas_used, 1)
        if missent:  # on the direct path the money is gone to the wrong person
            rows.append(Row(i, "shared-direct", amount, "lost", block + confirm, Decimal(0), receipt.gas_used, cost,
                            WRONG_PERSON, "mis-sent: final on the direct path", seed, 1, 1))
            cur.transfer(at_a, amount, sender=env.stranger)  # the study's stranger hands it back: balances stay level
        else:
            rows.append(Row(i, "shared-direct", amount, "delivered", block + confirm, Decimal(0), receipt.gas_used, cost,
                            bank_route.ON_B, "one currency transfer", seed, 1, 1))
        if amount < shared.delayed_arrival_from:
            rows.append(replace(rows[-1], path="shared-revocable", detail="below the delayed-arrival threshold"))
        else:
            rows.append(_revocable(config, system, i, amount, at_a, to, approver, env.keeper, missent, confirm, seed))
        if not missent:
            cur.transfer(at_a, amount, sender=at_b)  # the wallets' owner moves it back: balances stay level
        rows.append(_interconvert(config, system, i, amount, at_a, at_b, approver, env.keeper, missent, confirm, seed))
        progress("shared", i + 1)
    return len(amounts), None


def _revocable(config, system, i, amount, at_a, to, approver, keeper, missent, confirm, seed) -> Row:
    chain, transfers, block = system.chain, system.transfers, config.chain.block_interval
    start = chain.now
    chain.set_next_block_time(start + block)
    record = transfers.send(to, amount, sender=at_a, memo=f"study #{i}")
    receipts = [record.receipt]
    if missent:  # the sender notices within the cooling-off and takes it back
        chain.set_next_block_time(chain.now + config.chain.poll_interval + block)
        record = transfers.revoke(record.id, sender=at_a)
        receipts.append(record.receipt)
        gas = sum(r.gas_used for r in receipts)
        return Row(i, "shared-revocable", amount, "revoked", chain.now - start + confirm, Decimal(0), gas,
                   gas_cost(config, gas, len(receipts)), "on A (revoked in the cooling-off)", "mis-sent, then revoked",
                   seed, 1, len(receipts))
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
    return Row(i, "shared-revocable", amount, "delivered" if delivered else "refunded", chain.now - start + confirm,
               Decimal(0), gas, gas_cost(config, gas, len(receipts)),
               bank_route.ON_B if delivered else "on A (returned)", detail, seed, 1, len(receipts))


PLATFORM_BALANCE = Decimal(20_000)  # each person's balance at platform A (above the largest study amount)


def _open_platforms(system, treasuries, officers):
    """Platforms 1 and 2 at a 100 % reserve ratio, each treasury registered (tier 4), funded, and with
    a standing allowance to the platform contract (so that each issue is one transaction)."""
    p = system.platforms
    for platform, (treasury, officer) in enumerate(zip(treasuries, officers), start=1):
        system.registry.register_identity(identity_id({"name": f"platform {platform} treasury"}), 4, treasury,
                                          sender=officer)
        system.currency.mint(treasury, OPENING_BALANCE)
        p.create(platform, treasury)
        system.currency.approve(p.address, OPENING_BALANCE, sender=treasury)
    return p


def _interconvert(config, system, i, amount, at_a, at_b, approver, keeper, missent, confirm, seed) -> Row:
    """The person's balance at A to their own wallet at B, in one transaction or through the escrow;
    then it is put back (B redeemed, A issued again by its treasury) so balances stay level."""
    chain, p, transfers, block = system.chain, system.platforms, system.transfers, config.chain.block_interval
    start = chain.now
    chain.set_next_block_time(start + block)
    conversion = p.interconvert(1, 2, amount, sender=at_a, to=at_b, memo=f"study #{i}")
    receipts, detail = [conversion.receipt], "one transaction: burn on A, reserve A -> B, mint on B"
    if conversion.escrow_id is not None:
        chain.set_next_block_time(chain.now + config.shared.second_factor_seconds + block)
        record = transfers.approve(conversion.escrow_id, sender=approver)
        chain.set_next_block_time(max(record.release_at, chain.now + 1) + block - 1)
        receipts += [record.receipt, transfers.release(conversion.escrow_id, sender=keeper).receipt]
        detail = "through the escrow: second factor, then cooling-off"
    if missent:
        detail += " (meant for someone else: the same-name rule sends it only to the sender's own wallet)"
    seconds = chain.now - start + confirm
    gas = sum(r.gas_used for r in receipts)
    p.redeem(2, amount, sender=at_b)
    p.issue(1, at_a, amount, sender=chain.accounts[8 + 3 * PEOPLE])
    return Row(i, "platform-interconvert", amount, "delivered", seconds, Decimal(0), gas,
               gas_cost(config, gas, len(receipts)), bank_route.ON_B, detail, seed, 1, len(receipts))


# ---------------------------------------------------------------------------- bridge
def _bridge(engine, config, amounts, seed, progress, segment: int = SEGMENT) -> list[Row]:
    """The bridge path, transfer by transfer, on fresh two-chain networks of `segment` transfers each,
    started at a UTC midnight of the simulated clock and warmed up the day before, as _shared does."""
    rng, latency = random.Random(f"{seed}-bridge"), random.Random(f"{seed}-bridge-latency")
    rows: list[Row] = []
    i, resume, held = 0, None, None
    while i < len(amounts):
        net = bridge_network(config, engine, OPENING_BALANCE if i == 0 else WARM_UP_OPENING)
        try:
            run = Crossings(net, config)
            if i == 0:
                net.advance(EPOCH - net.now)
            else:
                warm_up_bridge(run, resume // DAY * DAY, held)
            i, resume = _bridge_segment(run, config, amounts, i, segment, resume, rng, latency, seed, rows, progress)
            held = holdings(net)
        finally:
            net.close()
    return rows


def bridge_network(config, engine, opening: Decimal = OPENING_BALANCE):
    return build_network(PEOPLE, tier=config.shared.user_tier, opening_balance=opening,
                         connector_liquidity=config.connector.liquidity, engine=engine)


def _bridge_segment(run, config, amounts, first, segment, resume, rng, latency, seed, rows, progress):
    """Crossings `first`.. on run's network until the segment is full and a new UTC day begins; returns
    (the next transfer, the time it starts at)."""
    net, connector, treasury, timing = run.net, run.connector, run.treasury, run.timing
    for i in range(first, len(amounts)):
        amount = amounts[i]
        stop = _step_clock(net.now, net.advance, rng, i - first, segment, resume)
        resume = None
        if stop is not None:
            return i, stop
        started = net.now
        treasury.top_up(amount)
        fault = _pick_fault(rng, config.faults)
        secret_bytes = rng.randbytes(32)
        confirm = costs.confirmation_seconds(config.chain, latency)
        if latency.random() < config.shared.frozen_rate:  # the wallet's dry run refuses before the lock
            rows.append(Row(i, "bridge", amount, "refused", confirm, Decimal(0), 0, Decimal(0), ON_A_FROZEN,
                            "recipient frozen: refused before sending", seed, 1, 0, started))
            progress("bridge", i + 1)
            continue
        result = cross(net, connector, net.people[i % PEOPLE], amount, timing, fault,
                       Secret(secret_bytes, hashlock_of(secret_bytes)))
        seconds = result.seconds + confirm - costs.poll_saving(config.chain, latency, watchers=2)
        detail = result.detail + (f" [fault: {fault}]" if fault else "")
        txs = len(result.receipts)
        rows.append(Row(i, "bridge", amount, result.outcome, max(seconds, 1.0), result.fee, result.gas,
                        gas_cost(config, result.gas, txs), result.money_at, detail, seed, 1, txs, started))
        progress("bridge", i + 1)
    return len(amounts), None


def _step_clock(now: int, advance, rng: random.Random, done: int, segment: int, resume: int | None) -> int | None:
    """Move a segment's clock to its next transfer: to `resume` for the first transfer on a fresh chain
    (where the last chain left it), else by a random gap. After `segment` transfers, a gap that would
    cross a UTC midnight ends the segment instead: returns the time the next segment starts at."""
    if resume is not None:
        advance(resume - now)
        return None
    gap = _gap(rng)
    if done >= segment and (now + gap) // DAY != now // DAY:
        return now + gap
    advance(gap)
    return None


def _gap(rng: random.Random) -> int:
    return 1 + int(rng.expovariate(1 / MEAN_GAP))


def _pick_fault(rng: random.Random, faults) -> str | None:
    """At most one fault per transfer, each with its configured rate (one draw, cumulative in FAULTS order)."""
    draw = rng.random()  # drawn even without faults, so enabling one changes no other transfer's draws
    edge = 0.0
    for fault in FAULTS:
        edge += faults.rate(fault)
        if draw < edge:
            return fault
    return None
