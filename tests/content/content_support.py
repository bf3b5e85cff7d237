"""Helpers of the pay-per-use content suites (the `shop` fixture is in conftest.py): a provider, a platform and a service provider
registered at platform A, and two listings split 70 / 20 / 10 among them."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import uvicorn
from support import free_port

from chainpay.content.catalogue import Listing

SPLIT_BPS = (7000, 2000, 1000)


@dataclass
class Shop:
    system: object
    actors: object
    provider: object
    platform: object
    service: object
    song: Listing  # 3 yuan per download
    page: Listing  # 0.10 yuan per call

    @property
    def payees(self):
        return (self.provider, self.platform, self.service)

    def balances(self, *who) -> tuple:
        return tuple(self.system.currency.balance_of(w) for w in who)

    def owed(self, *who) -> tuple:
        """What the catalogue has credited to each of `who` (shares of purchases, not yet withdrawn)."""
        return tuple(self.system.catalogue.owed(w) for w in who)

    def held(self):
        """What the channel contract holds, and what it owes (live channels, earnings, refunds)."""
        return self.system.currency.balance_of(self.system.channels.address)


class Server:
    """A uvicorn server in a thread, on a free port of 127.0.0.1."""

    def __init__(self, app):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> "Server":
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the paywall server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        assert not self.thread.is_alive()
