"""The connector's durable state: every change of a deal in sqlite, and the rebuild from both chains at
start-up, including a crash between a transaction and its record (the record is then behind the
chain: the rebuild reads the chain and never does the step twice)."""

import sqlite3
from decimal import Decimal

import pytest

from bridge_support import ledger, moved, person, step
from chainpay.bridge import LockState, Secret
from chainpay.bridge.connector import Connector, ConnectorPolicy, Deal, DealState
from chainpay.bridge.store import ConnectorStore, quote_from_json, quote_to_json, recover


@pytest.fixture
def store(tmp_path):
    s = ConnectorStore(tmp_path / "connector.sqlite")
    yield s
    s.close()


def _connector(net, store):
    return Connector(net.a.bridge, net.b.bridge, net.connector.a, net.connector.b, ConnectorPolicy(),
                     clock=lambda: net.now, store=store)


def _restart(net, store):
    """A new connector process on the same file: it only knows what sqlite and the chains say."""
    fresh = _connector(net, store)
    recover(fresh, store)
    return fresh


def test_the_store_is_synchronous_and_round_trips_a_quote(net, store, tmp_path):
    assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    alice = person(net, 0)
    connector = _connector(net, store)
    quote = connector.quote(Decimal("12.34"), alice.b, alice.identity, Secret.new().hashlock, sender=alice.a)
    assert quote_from_json(quote_to_json(quote)) == quote
    [row] = sqlite3.connect(tmp_path / "connector.sqlite").execute("SELECT direction, state FROM deals").fetchall()
    assert row == ("A->B", "QUOTED")  # written before the sender heard of the quote


def test_a_crash_after_the_inbound_lock_and_before_its_record_does_not_lock_twice(net, store):
    alice = person(net, 0)
    before = ledger(net)
    connector = _connector(net, store)
    secret = Secret.new()
    quote = connector.quote(Decimal(20), alice.b, alice.identity, secret.hashlock, sender=alice.a)
    net.a.bridge.lock(quote.pay_to, quote.total, secret.hashlock, quote.min_timelock, alice.identity, sender=alice.a)
    step(net)
    connector.poll()
    assert net.b.bridge.lock_count() == 1
    store.save("A->B", Deal(quote))  # the record as it was before the lock: the crash lost the last write
    fresh = _restart(net, store)
    deal = fresh.deals[secret.hashlock]
    assert deal.state is DealState.INBOUND_LOCKED and deal.inbound.id == 1  # read back from chain B
    step(net)
    fresh.poll()
    assert net.b.bridge.lock_count() == 1  # not locked a second time
    net.b.bridge.claim(deal.inbound.id, secret.preimage, sender=alice.b)
    step(net)
    fresh.poll()
    assert deal.state is DealState.SETTLED
    assert moved(before, ledger(net)) == {alice.name: Decimal("-0.02"), "connector": Decimal("0.02")}


def test_a_restart_after_the_reveal_claims_on_A_with_the_preimage_read_from_B(net, store):
    alice = person(net, 0)
    connector = _connector(net, store)
    secret = Secret.new()
    quote = connector.quote(Decimal(20), alice.b, alice.identity, secret.hashlock, sender=alice.a)
    out = net.a.bridge.lock(quote.pay_to, quote.total, secret.hashlock, quote.min_timelock, alice.identity, sender=alice.a)
    step(net)
    connector.poll()
    net.b.bridge.claim(connector.deals[secret.hashlock].inbound.id, secret.preimage, sender=alice.b)
    step(net)  # the connector is down: it never saw the Claimed event
    fresh = _restart(net, store)
    assert fresh.deals[secret.hashlock].state is DealState.REVEALED
    assert fresh.deals[secret.hashlock].preimage == secret.preimage
    fresh.poll()
    assert fresh.deals[secret.hashlock].state is DealState.SETTLED
    assert net.a.bridge.get(out.id).state is LockState.CLAIMED


def test_a_crash_after_a_direct_payment_and_before_its_record_does_not_pay_twice(net, store):
    alice, mallory = person(net, 0), person(net, 1)
    before = ledger(net)
    connector = _connector(net, store)
    secret = Secret.new()
    quote = connector.quote(Decimal(20), alice.b, alice.identity, secret.hashlock, sender=alice.a)
    out = net.a.bridge.lock(quote.pay_to, quote.total, secret.hashlock, quote.min_timelock, alice.identity, sender=alice.a)
    step(net)
    connector.poll()
    deal = connector.deals[secret.hashlock]
    step(net, deal.inbound.timelock - net.now)
    net.a.bridge.claim(out.id, secret.preimage, sender=mallory.a)  # the preimage leaked: the connector owes
    step(net)
    connector.poll()
    assert deal.state is DealState.DELIVERED
    owed = Deal(quote, DealState.OWED, out, deal.inbound, secret.preimage, payout_from=deal.payout_from)
    store.save("A->B", owed)  # as if the process died right after the payment, before recording it
    fresh = _restart(net, store)
    assert fresh.deals[secret.hashlock].state is DealState.DELIVERED  # the Transfer event says it was paid
    fresh.poll()
    assert moved(before, ledger(net)) == {alice.name: Decimal("-0.02"), "connector": Decimal("0.02")}


def test_finished_deals_are_loaded_without_chain_reads_and_their_hashlocks_stay_taken(net, store):
    alice = person(net, 0)
    connector = _connector(net, store)
    secret = Secret.new()
    connector.quote(Decimal(5), alice.b, alice.identity, secret.hashlock, sender=alice.a)
    step(net, ConnectorPolicy().quote_ttl)
    connector.poll()
    fresh = _restart(net, store)
    assert fresh.deals[secret.hashlock].state is DealState.EXPIRED
    with pytest.raises(Exception, match="already quoted"):
        fresh.quote(Decimal(5), alice.b, alice.identity, secret.hashlock, sender=alice.a)
