"""The connector and whole crossings on two chains: atomicity in every fault scenario, with what
everyone holds summed across BOTH chains before and after; timeouts ordered; refusals up front."""

from decimal import Decimal

import pytest
from bridge_support import ledger, moved, person, step

from chainpay import errors
from chainpay.bridge.client import LockState, Secret
from chainpay.bridge.connector import ConnectorPolicy, ConnectorRefused, DealState
from chainpay.bridge.crossing import Timing, cross

HOUR = 3600
POLICY = ConnectorPolicy()


def _no_open_locks(net):
    for bridge in (net.a.bridge, net.b.bridge):
        assert bridge.total_locked() == 0
        assert all(bridge.get(i).state is not LockState.OPEN for i in range(1, bridge.lock_count() + 1))


def test_delivered_crossing_moves_amount_and_fee_only(net, connector):
    alice = person(net, 0)
    before = ledger(net)
    result = cross(net, connector, alice, Decimal("12.34"))
    assert result.outcome == "delivered" and result.money_at == "on B (delivered)"
    assert result.fee == Decimal("0.02")  # 0.1 % rounded up to the fen, at least the 0.01 minimum
    assert moved(before, ledger(net)) == {alice.name: Decimal("-0.02"), "connector": Decimal("0.02")}
    assert net.b.currency.balance_of(alice.b) == Decimal("12.34")
    assert connector.deals[next(iter(connector.deals))].state is DealState.SETTLED
    # lock on A, then two polls of 15 s (connector's lock on B, the wallet's claim)
    assert result.seconds == 5 + 2 * 15
    assert result.sender_gas > 0 and result.connector_gas > 0
    _no_open_locks(net)


def test_connector_disappears_after_the_sender_locks_sender_refunded_after_T_A(net, connector):
    alice = person(net, 0)
    before = ledger(net)
    result = cross(net, connector, alice, Decimal("50"), fault="connector-offline")
    assert result.outcome == "refunded" and result.fee == 0
    assert result.seconds >= POLICY.sender_lock_duration  # the money waits for T_A
    assert ledger(net) == before  # nothing created or lost on either chain
    assert net.b.bridge.lock_count() == 0  # the connector never locked on B
    _no_open_locks(net)


def test_recipient_never_claims_both_legs_refund(net, connector):
    alice = person(net, 0)
    before = ledger(net)
    result = cross(net, connector, alice, Decimal("80"), fault="recipient-absent")
    assert result.outcome == "refunded"
    [deal] = connector.deals.values()
    assert deal.state is DealState.INBOUND_REFUNDED
    assert deal.inbound.timelock < deal.outbound.timelock - POLICY.claim_margin + 60  # T_B well before T_A
    assert ledger(net) == before
    _no_open_locks(net)


def test_chain_B_stops_for_a_while_the_crossing_completes_late(net, connector):
    alice = person(net, 0)
    before = ledger(net)
    result = cross(net, connector, alice, Decimal("25"), Timing(halt_seconds=1800), fault="chain-halt")
    assert result.outcome == "delivered"
    assert 1800 <= result.seconds < 1800 + 120  # held up by the outage, then the usual steps
    assert moved(before, ledger(net)) == {alice.name: Decimal("-0.03"), "connector": Decimal("0.03")}
    _no_open_locks(net)


def test_chain_B_stops_past_the_safe_window_the_connector_refuses_and_both_sides_are_whole(net, connector):
    alice = person(net, 0)
    before = ledger(net)
    result = cross(net, connector, alice, Decimal("25"), Timing(halt_seconds=3 * HOUR + 600), fault="chain-halt")
    assert result.outcome == "refunded"
    assert "needs" in result.detail and net.b.bridge.lock_count() == 0
    assert ledger(net) == before
    _no_open_locks(net)


def test_connector_out_of_liquidity_refuses_up_front_nothing_is_stranded(net, connector):
    alice = person(net, 0)
    before, a_locks = ledger(net), net.a.bridge.lock_count()
    result = cross(net, connector, alice, Decimal("300"), fault="no-liquidity")
    assert result.outcome == "refused" and result.seconds == 0
    assert "not enough liquidity on B" in result.detail
    assert ledger(net) == before and net.a.bridge.lock_count() == a_locks


def test_quote_refuses_short_liquidity_and_a_destination_of_another_person(net, connector):
    alice, bob = person(net, 0), person(net, 1)
    with pytest.raises(ConnectorRefused, match="liquidity"):
        connector.quote(Decimal(100_001), alice.b, alice.identity, Secret.new().hashlock)
    with pytest.raises(ConnectorRefused, match="same-name"):
        connector.quote(Decimal(10), bob.b, alice.identity, Secret.new().hashlock)
    with pytest.raises(errors.InvalidAmount):
        connector.quote(-1, alice.b, alice.identity, Secret.new().hashlock)
    assert connector.deals == {}


def test_quotes_reserve_liquidity_until_they_expire(net, connector):
    alice, bob = person(net, 0), person(net, 1)
    connector.quote(Decimal(60_000), alice.b, alice.identity, Secret.new().hashlock)
    with pytest.raises(ConnectorRefused, match="liquidity"):
        connector.quote(Decimal(50_000), bob.b, bob.identity, Secret.new().hashlock)
    step(net, POLICY.quote_ttl)
    connector.poll()
    assert connector.quote(Decimal(50_000), bob.b, bob.identity, Secret.new().hashlock).amount == Decimal(50_000)


def test_connector_refuses_a_lock_whose_T_A_leaves_too_little_time(net, connector):
    alice = person(net, 0)
    before = ledger(net)
    secret = Secret.new()
    quote = connector.quote(Decimal(10), alice.b, alice.identity, secret.hashlock)
    short = net.now + POLICY.inbound_lock_duration + POLICY.claim_margin - 60
    out = net.a.bridge.lock(quote.pay_to, quote.total, secret.hashlock, short, alice.identity, sender=alice.a)
    step(net)
    connector.poll()
    deal = connector.deals[secret.hashlock]
    assert deal.state is DealState.REFUSED and "needs 10800s" in deal.reason
    assert net.b.bridge.lock_count() == 0
    step(net, short - net.now)
    net.a.bridge.refund(out.id, sender=alice.a)
    assert ledger(net) == before


def test_chain_A_down_past_the_claim_margin_is_the_connectors_loss_not_the_users(net, connector):
    # The HTLC's residual risk: after the reveal on B the connector must claim on A before T_A. The
    # claim margin covers outages shorter than it; a longer one costs the connector, never the user.
    alice = person(net, 0)
    before = ledger(net)
    secret = Secret.new()
    quote = connector.quote(Decimal(40), alice.b, alice.identity, secret.hashlock)
    out = net.a.bridge.lock(quote.pay_to, quote.total, secret.hashlock, quote.min_timelock, alice.identity, sender=alice.a)
    step(net)
    connector.poll()
    inbound = connector.deals[secret.hashlock].inbound
    step(net, POLICY.inbound_lock_duration - 120)  # the recipient claims at the last minute of T_B ...
    net.b.bridge.claim(inbound.id, secret.preimage, sender=alice.b)
    net.halt(net.a, POLICY.claim_margin + 3600)  # ... and chain A is down for longer than the margin
    for _ in range(3):
        step(net, 1800)
        connector.poll()
    step(net, 3600)
    connector.poll()
    assert connector.deals[secret.hashlock].state is DealState.LOST
    net.a.bridge.refund(out.id, sender=alice.a)
    after = ledger(net)
    assert moved(before, after) == {alice.name: Decimal(40), "connector": Decimal(-40)}
    assert after["supply"] == before["supply"]


def test_policy_keeps_T_B_well_before_T_A():
    with pytest.raises(errors.InvalidInput, match="T_B well before T_A"):
        ConnectorPolicy(sender_lock_duration=3 * HOUR, inbound_lock_duration=2 * HOUR, claim_margin=2 * HOUR).validate()
    with pytest.raises(errors.InvalidInput):
        ConnectorPolicy(fee_rate=Decimal("-0.1")).validate()


def test_unknown_fault_is_refused(net, connector):
    with pytest.raises(errors.InvalidInput, match="unknown fault"):
        cross(net, connector, person(net, 0), Decimal(1), fault="meteor")


def test_fee_is_the_rate_rounded_up_with_a_minimum(connector):
    assert connector.fee_for(Decimal("1.00")) == Decimal("0.01")
    assert connector.fee_for(Decimal("1000")) == Decimal("1.00")
    assert connector.fee_for(Decimal("1234.56")) == Decimal("1.24")


def test_an_offline_connector_quotes_nothing(net, connector):
    connector.online = False
    with pytest.raises(ConnectorRefused, match="offline"):
        connector.quote(Decimal(1), person(net, 0).b, person(net, 0).identity, Secret.new().hashlock)
