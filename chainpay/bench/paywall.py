"""`chainpay bench` paywall section, and the load test behind it: a real uvicorn server on 127.0.0.1
serving x402 payments, driven by many concurrent paying clients in another process.

Two runs through the same server: channel clients (one channel each, a cumulative voucher per request,
each stored with group commit before the content is served) and exact clients (one EIP-3009
authorization per request, settled on chain by chainpay's facilitator before serving). Both stop by
themselves (a time and a request bound). Then the server stops (its shutdown redeems every stored
voucher) and the books are checked against what the clients were served and against the chain:
each served response paid exactly once (one voucher increment or one settlement transaction each,
no re-sent payment served), no voucher lost, none redeemed or settled twice, and the provider's
earnings and balance on chain equal to the server's records.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Callable

from ..chain import in_process
from ..currency.registry import identity_id
from ..system import deploy
from . import paywall_load

log = logging.getLogger(__name__)

PRICE = Decimal("0.01")  # one base unit per request (2 decimals)


class _Driver:
    """The paying clients' process (python -m chainpay.bench.paywall_load): one job per line."""

    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, "-m", "chainpay.bench.paywall_load"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)

    def run(self, **job) -> tuple[list, float]:
        """(outcomes, seconds from sending the job to reading the answer); the CPU seconds the clients
        and this (the server's) process spent on it are in self.cpu."""
        started, cpu = time.perf_counter(), time.process_time()
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        elapsed = time.perf_counter() - started
        if not line:
            raise RuntimeError(f"the load driver exited ({self.proc.wait()})")
        answer = json.loads(line)
        self.cpu = {"server": time.process_time() - cpu, "clients": answer["cpu_seconds"]}
        return [paywall_load.Outcome(**o) for o in answer["outcomes"]], elapsed

    def close(self) -> None:
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class _Server:
    """uvicorn in a thread of this process (the chain is in-process), on a free port of 127.0.0.1."""

    def __init__(self, app):
        import socket

        import uvicorn

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    access_log=False, lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the paywall server did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=120)


def _median_ms(latencies: list[float]) -> float | None:
    return round(1000 * statistics.median(latencies), 2) if latencies else None


def _summary(outcomes, elapsed: float, cpu: dict) -> dict:
    served = sum(o.served for o in outcomes)
    sent = served + sum(o.refused + o.replays_refused + o.replays_served for o in outcomes)
    latencies = sorted(x for o in outcomes for x in o.latencies)
    return {"served": served, "per_s": round(served / elapsed, 1) if elapsed else 0.0, "seconds": round(elapsed, 2),
            "refused": sum(o.refused for o in outcomes), "replays_refused": sum(o.replays_refused for o in outcomes),
            "replays_served": sum(o.replays_served for o in outcomes),
            "server_cpu_ms_per_request": round(1000 * cpu["server"] / sent, 3) if sent else None,
            "client_cpu_ms_per_request": round(1000 * cpu["clients"] / sent, 3) if sent else None,
            "latency_ms_median": round(1000 * statistics.median(latencies), 2) if latencies else None,
            "latency_ms_p95": round(1000 * latencies[int(0.95 * (len(latencies) - 1))], 2) if latencies else None}


def load_test(*, clients: int = 16, exact_clients: int = 4, duration: float = 3.0, exact_duration: float = 2.0,
              limit: int = 100_000, replay_every: int = 25, engine: str = "edr", channel_1000: bool = True,
              progress: Callable[[str], None] = lambda _: None) -> dict:
    """Run both loads through one server and check the books; returns figures and checks (see the
    module's docstring). `limit` bounds each client's requests, `duration` each run's seconds;
    `channel_1000` adds the one-client runs (a channel of 1,000 requests for its gas per request, and
    50 exact requests in a row, each run's median latency without queueing)."""
    from ..content import ContentProvider, VoucherStore
    from ..content.parties import ContentClient
    from ..content.paywall import Offer, create_app
    from ..content.x402_channel import channel_requirement
    from ..x402 import Facilitator

    chain = in_process(engine, 8 + clients + exact_clients + 1)
    work = Path(tempfile.mkdtemp(prefix="chainpay-paywall-"))
    try:
        progress("paywall: setting up")
        system = deploy(chain)
        reg, cur = system.registry, system.currency
        officer, provider, relayer = chain.accounts[4], chain.accounts[5], chain.accounts[6]
        consumers = chain.accounts[8:8 + clients + 1]  # the last one pays the 1,000-request channel
        payers = chain.accounts[8 + clients + 1:8 + clients + 1 + exact_clients]
        reg.add_institution(1, "Bench Pay", 3)
        reg.add_kyc_officer(officer, 1)
        for who in (provider, relayer, *consumers, *payers):
            reg.register_identity(identity_id(f"paywall {who.address}"), 3, who, sender=officer)
        listing = system.catalogue.list(PRICE, "call", [(provider, 10_000)], sender=provider)
        price = cur.to_units(PRICE)
        keys = []
        for who in consumers[:-1]:
            deposit = PRICE * limit
            cur.mint(who, deposit)
            keys.append(ContentClient(system.channels, who).open(listing.id, deposit))
        cur.mint(consumers[-1], PRICE * 1000)
        for who in payers:
            cur.mint(who, PRICE * limit)
        cur.mint(provider, Decimal(1))  # steady state: the payee already holds a balance
        page = work / "page.txt"
        page.write_text("one paid page\n")
        lock = threading.RLock()
        store = VoucherStore(work / "vouchers.sqlite")
        shop = ContentProvider(system.channels, provider, store)
        facilitator = Facilitator(cur, relayer, lock=lock)
        app = create_app(shop, system.catalogue, {listing.id: Offer(listing.id, page, "text/plain")},
                         facilitator=facilitator, lock=lock, redeem_every=3600, max_timeout_seconds=3600,
                         channel_state_ttl=1.0)
        provider_before = cur.balance_of(provider)
        server = _Server(app)
        url = f"http://127.0.0.1:{server.port}/content/{listing.id}"
        with lock:
            channel_req = channel_requirement(system.channels, provider.address, listing.id, price).to_json()
            exact_req = facilitator.requirement(provider.address, price).to_json()
            valid_before = chain.now + 3600
        load_before = os.getloadavg()
        driver = _Driver()
        commits_before = store.commits
        try:
            driver.run(kind="channel", url=url, accepted=channel_req, chain_id=chain.chain_id,
                       contract=system.channels.address, channels=[], duration=0, limit=0)  # warm: imports done
            progress(f"paywall: {clients} channel clients for {duration:g} s")
            channel_out, elapsed = driver.run(
                kind="channel", url=url, accepted=channel_req, chain_id=chain.chain_id,
                contract=system.channels.address, channels=[(k.to_json(), c.key.hex()) for k, c in zip(keys, consumers)],
                duration=duration, limit=limit, replay_every=replay_every)
            channel_run = _summary(channel_out, elapsed, driver.cpu)
            channel_run["commits"] = store.commits - commits_before
            progress(f"paywall: {exact_clients} exact clients for {exact_duration:g} s")
            exact_out, elapsed = driver.run(kind="exact", url=url, accepted=exact_req, chain_id=chain.chain_id,
                                            payers=[(p.key.hex(), p.address) for p in payers], valid_before=valid_before,
                                            duration=exact_duration, limit=limit, replay_every=replay_every)
            exact_run = _summary(exact_out, elapsed, driver.cpu)
            long_channel = gas_channel_1000 = single_exact = None
            if channel_1000:
                progress("paywall: one exact client, 50 requests in a row (latency without queueing)")
                (single_exact,), _ = driver.run(kind="exact", url=url, accepted=exact_req, chain_id=chain.chain_id,
                                                payers=[(payers[0].key.hex(), payers[0].address)],
                                                valid_before=valid_before, duration=60.0, limit=50)
                exact_out.append(single_exact)
            if channel_1000:
                progress("paywall: one channel of 1,000 paid requests")
                with lock:
                    long_key, opened = system.channels.open(listing.id, PRICE * 1000, sender=consumers[-1])
                (long_channel,), _ = driver.run(kind="channel", url=url, accepted=channel_req, chain_id=chain.chain_id,
                                                contract=system.channels.address,
                                                channels=[(long_key.to_json(), consumers[-1].key.hex())],
                                                duration=600.0, limit=1000)
                with lock:  # the provider closes it with the last stored voucher (redeemed by the close)
                    closed = shop.close(long_key.id)
                gas_channel_1000 = {"open": opened.receipt.gas_used, "close": closed.receipt.gas_used,
                                    "requests": long_channel.served}
        finally:
            driver.close()
            load_after = os.getloadavg()
            progress("paywall: stopping (redeems every stored voucher) and checking the books")
            server.stop()
        checks = _books(system, store, facilitator, listing.id, keys, channel_out, exact_out, price, provider,
                        provider_before, long_key if channel_1000 else None, long_channel)
        store.close()
    finally:
        chain.close()
    exact_gas = [r.gas_used for r in facilitator.settled]
    one_by_one = {"exact": _median_ms(single_exact.latencies) if single_exact is not None else None,
                  "channel": _median_ms(long_channel.latencies) if long_channel is not None else None}
    return {"channel": channel_run, "exact": exact_run, "checks": checks, "clients": clients,
            "exact_clients": exact_clients,
            "gas_per_request_exact": int(statistics.median(exact_gas)) if exact_gas else None,
            "gas_channel_1000": gas_channel_1000, "single_client_latency_ms_median": one_by_one,
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in load_after]}


def _books(system, store, facilitator, content_id, keys, channel_out, exact_out, price, provider, provider_before,
           long_key, long_channel) -> dict:
    """Every check of the load test, each a bool (True: holds)."""
    cur, channels = system.currency, system.channels
    stored = {c.key.id: c for c in store.open_channels()}
    closed = {}
    for key in keys + ([long_key] if long_key else []):
        closed[key.id] = stored.get(key.id) or store.get(key.id)
    outcomes = list(zip(keys, channel_out)) + ([(long_key, long_channel)] if long_key else [])
    vouchers_ok = all(closed[k.id].amount == o.last_amount == o.served * price for k, o in outcomes)
    redeemed_ok = all(channels.get(k.id).redeemed == closed[k.id].amount for k, o in outcomes)
    channel_total = sum(o.served for _, o in outcomes) * price
    txs = [tx for o in exact_out for tx in o.transactions]
    booked = store.settlements()
    exact_served = sum(o.served for o in exact_out)
    return {
        "every_channel_request_paid_once": vouchers_ok,
        "no_voucher_lost_or_redeemed_twice": redeemed_ok,
        "channel_earnings_equal_books": cur.to_units(channels.earnings(content_id)) == channel_total,
        "every_exact_request_settled_once": len(set(txs)) == len(txs) == exact_served == len(booked)
                                             == len(facilitator.settled),
        "exact_books_equal_chain": sorted(t for t, *_ in booked) == sorted(r.tx_hash for r in facilitator.settled)
                                    == sorted(txs),
        "provider_balance_equals_exact_books": cur.to_units(cur.balance_of(provider) - provider_before)
                                               == exact_served * price == sum(a for *_, a in booked),
        "no_replay_served": all(o.replays_served == 0 for o in channel_out + exact_out),
        "no_fresh_payment_refused": all(o.refused == 0 for o in channel_out + exact_out),
    }


def bench_paywall(progress: Callable[[str], None] = lambda _: None, engine: str = "edr", clients: int = 16,
                  duration: float = 3.0) -> dict:
    """The `paywall` section of `chainpay bench`."""
    run = load_test(clients=clients, exact_clients=4, duration=duration, exact_duration=min(duration, 2.0),
                    engine=engine, progress=progress)
    long = run["gas_channel_1000"]
    per_request = None if long is None else round((long["open"] + long["close"]) / long["requests"], 1)
    channel, exact = run["channel"]["per_s"], run["exact"]["per_s"]
    return {"exact_paid_requests_per_s": exact, "channel_paid_requests_per_s": channel,
            "channel_over_exact": round(channel / exact, 1) if exact else None,
            "gas_per_request_exact": run["gas_per_request_exact"], "gas_per_request_channel_1000": per_request,
            "open_gas": None if long is None else long["open"], "close_gas": None if long is None else long["close"],
            "channel_latency_ms_median": run["channel"]["latency_ms_median"],
            "exact_latency_ms_median": run["exact"]["latency_ms_median"],
            "channel_latency_ms_p95": run["channel"]["latency_ms_p95"],
            "channel_latency_ms_one_client": run["single_client_latency_ms_median"]["channel"],
            "exact_latency_ms_one_client": run["single_client_latency_ms_median"]["exact"],
            "exact_latency_ms_p95": run["exact"]["latency_ms_p95"],
            "channel_server_cpu_ms_per_request": run["channel"]["server_cpu_ms_per_request"],
            "channel_client_cpu_ms_per_request": run["channel"]["client_cpu_ms_per_request"],
            "exact_server_cpu_ms_per_request": run["exact"]["server_cpu_ms_per_request"],
            "clients": run["clients"], "exact_clients": run["exact_clients"], "seconds": duration,
            "vouchers_per_commit": round(run["channel"]["served"] / run["channel"]["commits"], 1)
            if run["channel"]["commits"] else None,
            "books_checked": all(run["checks"].values()), "checks": run["checks"],
            "load_average_before": run["load_average_before"], "load_average_after": run["load_average_after"]}
