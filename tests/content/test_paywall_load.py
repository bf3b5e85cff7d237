"""The paywall under load through a real uvicorn server on 127.0.0.1: many concurrent x402 clients
(channel vouchers, then exact EIP-3009 payments) in another process, each re-sending an old payment now
and then; bounded in time and count, it stops by itself. Afterwards every served response was paid
exactly once, no voucher was lost or redeemed twice, no settlement booked twice, no re-sent payment
served, and the provider's books equal the chain after the final redemption."""

from __future__ import annotations

import pytest

from chainpay.bench.paywall import load_test
from chainpay.testing import test_engine


def _check(run: dict, clients: int) -> None:
    assert run["checks"] == {name: True for name in run["checks"]} and len(run["checks"]) == 8
    assert run["channel"]["served"] >= clients  # every client was served at least once
    assert run["channel"]["replays_refused"] + run["exact"]["replays_refused"] > 0  # replays were tried
    assert run["channel"]["replays_served"] == run["exact"]["replays_served"] == 0
    assert run["exact"]["served"] >= 1


def test_load_short(tmp_path):
    run = load_test(clients=8, exact_clients=2, duration=1.5, exact_duration=1.0, limit=400, replay_every=5,
                    engine=test_engine(), channel_1000=False)
    _check(run, 8)


@pytest.mark.slow
def test_load_long(tmp_path):
    run = load_test(clients=32, exact_clients=4, duration=20.0, exact_duration=10.0, limit=100_000, replay_every=50,
                    engine=test_engine(), channel_1000=True)
    _check(run, 32)
    assert run["gas_channel_1000"]["requests"] == 1000
