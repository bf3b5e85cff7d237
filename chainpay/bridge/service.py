"""The connector as a long-running service (`chainpay connector run`): both directions between two
nodes, deals in sqlite, quotes over HTTP, a poll of both chains every few seconds.

    POST /quote   {"direction": "A->B", "amount": "12.34", "destination": "0x..", "identity": "0x..",
                   "hashlock": "0x..", "sender": "0x.."}
                  -> 200 the quote (written to sqlite before the answer) | 409 {"error": reason} | 400
    GET  /deals   every stored deal with its state
    GET  /health  {"ok": true, "directions": [...]}

At start-up every stored unfinished deal is rebuilt from both chains (store.recover), so a
connector killed at any point carries on where the chains say it is. One lock serialises quoting and
polling (the chain clients are not shared between threads otherwise).
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from decimal import Decimal, InvalidOperation

import httpx
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ..chain import Account
from ..core import errors
from .client import Bridge
from .connector import FINAL, Connector, ConnectorPolicy, ConnectorRefused, Quote
from .store import ConnectorStore, quote_from_json, quote_to_json, recover

log = logging.getLogger(__name__)

DIRECTIONS = ("A->B", "B->A")


class ConnectorService:
    """Two connectors (A to B and B to A) over one store, polled together."""

    def __init__(self, bridge_a: Bridge, bridge_b: Bridge, account_a: Account, account_b: Account,
                 store: ConnectorStore, policy: ConnectorPolicy | None = None):
        def clock() -> int:  # a node's latest block may be old when nothing happens: never behind real time
            return max(bridge_a.chain.now, bridge_b.chain.now, int(time.time()))

        self.store = store
        self.connectors = {
            "A->B": Connector(bridge_a, bridge_b, account_a, account_b, policy, clock=clock, store=store, direction="A->B"),
            "B->A": Connector(bridge_b, bridge_a, account_b, account_a, policy, clock=clock, store=store, direction="B->A"),
        }
        self.lock = threading.Lock()

    def start(self) -> int:
        """Rebuild every stored deal from the chains; returns how many unfinished deals were found."""
        with self.lock:
            deals = [d for c in self.connectors.values() for d in recover(c, self.store)]
        unfinished = sum(1 for d in deals if d.state not in FINAL)
        log.info("connector started: %d stored deals, %d unfinished", len(deals), unfinished)
        return unfinished

    def poll(self) -> None:
        """One round on both chains; a failing round is logged and retried on the next."""
        with self.lock:
            for direction, connector in self.connectors.items():
                try:
                    connector.poll()
                except errors.ChainpayError as exc:
                    log.warning("%s poll failed, retrying next round: %s", direction, exc)

    def quote(self, direction: str, amount, destination, identity, hashlock: bytes, sender=None) -> Quote:
        if direction not in self.connectors:
            raise errors.InvalidInput(f"direction is one of {', '.join(DIRECTIONS)}, got {direction!r}")
        with self.lock:
            return self.connectors[direction].quote(amount, destination, identity, hashlock, sender)


def create_app(service: ConnectorService, *, poll_every: float = 2.0) -> Starlette:
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            service.poll()
            stop.wait(poll_every)

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        await run_in_threadpool(service.start)
        thread = threading.Thread(target=loop, name="connector-poll", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(timeout=30)

    async def quote(request: Request) -> JSONResponse:
        try:
            body = await request.json()
            amount = Decimal(str(body["amount"]))
            args = (body["direction"], amount, body["destination"], bytes.fromhex(body["identity"].removeprefix("0x")),
                    bytes.fromhex(body["hashlock"].removeprefix("0x")), body.get("sender"))
        except (ValueError, KeyError, TypeError, AttributeError, InvalidOperation) as exc:
            return JSONResponse({"error": f"malformed quote request: {exc}"}, status_code=400)
        try:
            q = await run_in_threadpool(service.quote, *args)
        except ConnectorRefused as exc:
            return JSONResponse({"error": str(exc)}, status_code=409)
        except errors.InvalidInput as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(quote_to_dict(q))

    async def deals(_request: Request) -> JSONResponse:
        rows = await run_in_threadpool(service.store.rows)
        return JSONResponse([{"direction": r["direction"], "hashlock": r["hashlock"].hex(), "state": r["state"].lower(),
                              "outbound_id": r["outbound_id"], "inbound_id": r["inbound_id"], "reason": r["reason"]}
                             for r in rows])

    async def health(_request: Request) -> JSONResponse:
        return JSONResponse({"ok": True, "directions": list(service.connectors)})

    return Starlette(routes=[Route("/quote", quote, methods=["POST"]), Route("/deals", deals), Route("/health", health)],
                     lifespan=lifespan)


def quote_to_dict(q: Quote) -> dict:
    return json.loads(quote_to_json(q))


class ConnectorClient:
    """A wallet's side of the quote: asks a running connector service over HTTP."""

    def __init__(self, url: str, timeout: float = 30.0):
        self._http = httpx.Client(base_url=url.rstrip("/"), timeout=timeout)

    def quote(self, direction: str, amount, destination: str, identity: bytes, hashlock: bytes,
              sender: str | None = None) -> Quote:
        body = {"direction": direction, "amount": str(amount), "destination": destination, "identity": "0x" + identity.hex(),
                "hashlock": "0x" + hashlock.hex(), "sender": sender}
        try:
            response = self._http.post("/quote", json=body)
        except httpx.HTTPError as exc:
            raise errors.ChainConnectionError(f"connector unreachable: {exc}") from None
        if response.status_code == 409:
            raise ConnectorRefused(response.json()["error"])
        if response.status_code != 200:
            raise errors.InvalidInput(response.json().get("error", response.text))
        return quote_from_json(response.json())

    def deals(self) -> list[dict]:
        return self._http.get("/deals").json()

    def healthy(self) -> bool:
        """Whether the service answers (it does once its start-up rebuild is done)."""
        try:
            return self._http.get("/health").status_code == 200
        except httpx.HTTPError:
            return False

    def close(self) -> None:
        self._http.close()
