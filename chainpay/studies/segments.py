"""What keeps a long bridging study's chains small and its connector liquid, with the rows unchanged.

EDR keeps every block's state (~25-45 KiB per transaction, no pruning): one chain per path made a
10,000-transfer run peak at 2.3 GiB. So the on-chain paths move to fresh chains every `segment`
transfers (chainpay/studies/bridging.py), and the fresh chains are warmed up here first: at a UTC
midnight of the simulated clock, after a day on which every participant has done what the study's
transfers do once, and with each balance set to what it was on the previous chain. Storage slots the
transfers touch are then zero or non-zero as on one long chain (counters, nonces, outflow records,
balances), so a transfer costs the same gas on either, up to calldata: a permit's signature and a lock
or transfer id differ, a few gas each (16 per non-zero byte, 4 per zero byte). The daily outflow starts
afresh on the new day on both. tests/studies/test_study_segments.py compares segmented runs with one chain.

The connector's treasury (:class:`Treasury`) keeps its liquidity on B: transfers flow A to B only.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from ..bridge.connector import Connector, ConnectorPolicy
from ..bridge.crossing import Timing, cross
from ..bridge.network import CONNECTOR_INSTITUTION, CONNECTOR_TIER
from ..currency.registry import identity_id

log = logging.getLogger(__name__)

DAY = 86_400


# ---------------------------------------------------------------------------- shared currency
def warm_up_shared(env, config, before: int, held_at_b: list[Decimal]) -> None:
    """On a fresh shared-currency chain (`env`: bridging._SharedChain), the day before `before`: every
    person sends once directly (to the B wallet, moved back), once through the escrow (above the
    approval threshold, so the second factor runs too; released by the keeper), and the stranger hands
    back a transfer; then each B wallet gets what it held on the previous chain (from the same
    person's A wallet, which started with the same opening balance). Each person also interconverts
    once from platform A to B (through the escrow), put back as the study puts it back."""
    chain, cur, transfers = env.chain, env.system.currency, env.system.transfers
    chain.advance_time(before - DAY - chain.now)
    amount = max(config.shared.approval_threshold, Decimal(1))
    platforms = env.system.platforms
    records, conversions = [], []
    for at_a, at_b, approver in env.wallets:
        cur.transfer(at_b, amount, sender=at_a)
        cur.transfer(at_a, amount, sender=at_b)
        record = transfers.send(at_b, amount, sender=at_a, memo="warm-up")
        if record.release_at is None:
            record = transfers.approve(record.id, sender=approver)
        records.append(record)
        conversion = platforms.interconvert(1, 2, amount, sender=at_a, to=at_b, memo="warm-up")
        if conversion.escrow_id is not None:
            conversions.append(transfers.approve(conversion.escrow_id, sender=approver))
    at_a = env.wallets[0][0]
    cur.transfer(env.stranger, Decimal(1), sender=at_a)
    cur.transfer(at_a, Decimal(1), sender=env.stranger)
    chain.advance_time(max(r.release_at for r in records + conversions) + 1 - chain.now)
    for record in conversions:
        transfers.release(record.id, sender=env.keeper)
    for record, (at_a, at_b, _), held in zip(records, env.wallets, held_at_b):
        platforms.redeem(2, amount, sender=at_b)  # the interconversion put back, as the study does
        platforms.issue(1, at_a, amount, sender=env.treasury_a)
        transfers.release(record.id, sender=env.keeper)
        cur.transfer(at_a, 2 * amount, sender=at_b)  # the escrow's release and the redeem: at_b back to 0
        if held:
            cur.transfer(at_b, held, sender=at_a)  # one identity's two wallets: no outflow
    _check_before(chain.now, before)


def _check_before(now: int, before: int) -> None:
    if now >= before:
        raise AssertionError(f"the warm-up ran into the day it prepares ({now} >= {before})")


# ---------------------------------------------------------------------------- bridge
class Treasury:
    """The connector's treasury. Transfers flow A to B only, so the connector gains on A what it pays
    out on B; when its free liquidity on B falls under `below` x `liquidity` (or under the amount asked),
    what it holds on A beyond `liquidity` goes back to B through the two issuers: A's issuer redeems it
    (the connector pays it in, the issuer burns it) and B's issuer issues as much to the connector. The
    three transactions are the connector's operations, in no transfer's cost (counted in `moves`, gas
    in `gas`); money in circulation stays the same. A run that never needs it is unchanged."""

    def __init__(self, net, connector: Connector, liquidity: Decimal, below: float):
        self.net, self.connector, self.liquidity, self.below = net, connector, liquidity, below
        self.moves, self.moved, self.gas = 0, Decimal(0), 0
        self._issuers_registered = False

    def top_up(self, amount: Decimal) -> None:
        net = self.net
        if self.below <= 0 or net.a.chain.halted or net.b.chain.halted:
            return
        if self.connector.free_liquidity() >= max(self.liquidity * Decimal(repr(self.below)), amount):
            return
        excess = net.a.currency.balance_of(net.connector.a) - self.liquidity
        if excess <= 0:
            return
        self.register_issuers()
        issuer_a, issuer_b = net.a.system.role("ISSUER"), net.b.system.role("ISSUER")
        receipts = [net.a.currency.transfer(issuer_a, excess, sender=net.connector.a),
                    net.a.currency.burn(excess, sender=issuer_a),
                    net.b.currency.mint(net.connector.b, excess, sender=issuer_b)]
        self.moves, self.moved = self.moves + 1, self.moved + excess
        self.gas += sum(r.gas_used for r in receipts)
        log.info("connector rebalanced %s yuan from A to B (move %d)", excess, self.moves)

    def register_issuers(self) -> None:
        """Register each platform's issuer (once) so that it can take currency back and burn it."""
        if self._issuers_registered:
            return
        identity = identity_id({"institution": "issuer"}, self.net.salt)
        for platform in (self.net.a, self.net.b):
            admin = platform.system.role("DEFAULT_ADMIN")
            self.gas += platform.registry.add_kyc_officer(admin, CONNECTOR_INSTITUTION).gas_used
            self.gas += platform.registry.register_identity(identity, CONNECTOR_TIER, platform.system.role("ISSUER"),
                                                            sender=admin).gas_used
            self.gas += platform.registry.remove_kyc_officer(admin).gas_used
        self._issuers_registered = True

    def set_balance(self, platform, account, target: Decimal) -> None:
        """Make `account` hold `target` on `platform` by issuing or redeeming the difference."""
        self.register_issuers()
        issuer, cur = platform.system.role("ISSUER"), platform.currency
        now = cur.balance_of(account)
        if target > now:
            cur.mint(account, target - now, sender=issuer)
        elif target < now:
            cur.transfer(issuer, now - target, sender=account)
            cur.burn(now - target, sender=issuer)


class Crossings:
    """One network's connector (with its policy and treasury) and the study's timing."""

    def __init__(self, net, config):
        c = config.connector
        policy = ConnectorPolicy(fee_rate=c.fee_rate, fee_min=c.fee_min, sender_lock_duration=c.sender_lock_duration,
                                 inbound_lock_duration=c.inbound_lock_duration, claim_margin=c.claim_margin,
                                 quote_ttl=c.quote_ttl)
        self.net = net
        self.connector = Connector(net.a.bridge, net.b.bridge, net.connector.a, net.connector.b, policy,
                                   clock=lambda: net.now)
        self.timing = Timing(config.chain.block_interval, config.chain.poll_interval, config.faults.halt_seconds)
        self.treasury = Treasury(net, self.connector, c.liquidity, c.rebalance_below)


def holdings(net) -> dict:
    """What each person and the connector hold on each chain."""
    out = {}
    for who in (net.connector, *net.people):
        out[("a", who.a.address)] = net.a.currency.balance_of(who.a)
        out[("b", who.b.address)] = net.b.currency.balance_of(who.b)
    out[("allowance", net.connector.b.address)] = net.b.currency.allowance(net.connector.b, net.b.bridge.address)
    return out


def warm_up_bridge(run: Crossings, before: int, held: dict) -> None:
    """On a fresh network (people opening with little, see bridging.bridge_network), the day before
    `before`: every person crosses once (1 yuan), then every balance and the connector's standing
    allowance on B are set to what they were on the previous network (`held`, see holdings)."""
    net = run.net
    net.advance(before - DAY - net.now)
    for person in net.people:
        result = cross(net, run.connector, person, Decimal(1), run.timing)
        if result.outcome != "delivered":
            raise AssertionError(f"warm-up crossing {result.outcome}: {result.detail}")
    for (side, address), amount in held.items():
        if side == "allowance":  # the connector's standing allowance to the bridge on B
            net.b.currency.approve(net.b.bridge.address, amount, sender=net.connector.b)
            continue
        platform = net.a if side == "a" else net.b
        run.treasury.set_balance(platform, platform.chain.account(address), amount)
    _check_before(net.now, before)
