"""The paying side of the paywall load test, run in a process of its own (so that signing and HTTP
do not share the server's interpreter): many concurrent x402 clients, each paying every request of
its own, for a bounded time and a bounded number of requests.

Channel clients sign the next cumulative voucher of their channel; exact clients sign a fresh EIP-3009
authorization per request (keccak + coincurve, byte-identical to eth-account's EIP-712 signature).
Every `replay_every`-th request a client first re-sends its previous payment and counts whether the
server refused it. Each client reports what the server acknowledged, so the caller can check the
server's books and the chain against it.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field

import aiohttp
from coincurve import PrivateKey

from ..content.channels import ChannelKey
from ..content.vouchers import Domain, Signer, keccak
from ..content.x402_channel import voucher_payload
from ..x402 import protocol as p

_EIP712_DOMAIN = keccak(b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
_TRANSFER_AUTH = keccak(b"TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,"
                        b"uint256 validBefore,bytes32 nonce)")


@dataclass
class Outcome:
    """What one client saw."""

    served: int = 0  # 200 with the content and a successful PAYMENT-RESPONSE
    refused: int = 0  # a fresh payment refused (should not happen)
    replays_refused: int = 0
    replays_served: int = 0  # a re-sent payment served again (must not happen)
    last_amount: int = 0  # channel: the last cumulative amount the server acknowledged
    transactions: list[str] = field(default_factory=list)  # exact: settlement transactions
    latencies: list[float] = field(default_factory=list)  # seconds per paid request


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _address(text: str) -> bytes:
    return bytes(12) + bytes.fromhex(text[2:])


class AuthorizationSigner:
    """EIP-3009 TransferWithAuthorization signatures under a token's EIP-712 domain."""

    def __init__(self, key: bytes, address: str, name: str, version: str, chain_id: int, token: str):
        self._key, self.address = PrivateKey(key), address
        self._separator = keccak(_EIP712_DOMAIN + keccak(name.encode()) + keccak(version.encode()) + _word(chain_id)
                                 + _address(token))

    def sign(self, to: str, value: int, valid_before: int) -> dict:
        nonce = os.urandom(32)
        struct = keccak(_TRANSFER_AUTH + _address(self.address) + _address(to) + _word(value) + _word(0)
                        + _word(valid_before) + nonce)
        raw = self._key.sign_recoverable(keccak(b"\x19\x01" + self._separator + struct), hasher=None)
        return {"authorization": {"from": self.address, "to": to, "value": str(value), "validAfter": "0",
                                  "validBefore": str(valid_before), "nonce": "0x" + nonce.hex()},
                "signature": "0x" + (raw[:64] + bytes([raw[64] + 27])).hex()}


async def _get(http: aiohttp.ClientSession, url: str, header: str) -> tuple[int, str | None]:
    async with http.get(url, headers={p.PAYMENT_SIGNATURE: header}) as response:
        await response.read()
        return response.status, response.headers.get(p.PAYMENT_RESPONSE)


async def _client(http: aiohttp.ClientSession, url: str, accepted: dict, next_payload, deadline: float, limit: int,
                  replay_every: int, out: Outcome) -> None:
    previous = None
    n = 0
    while time.monotonic() < deadline and n < limit:
        n += 1
        if replay_every and previous is not None and n % replay_every == 0:
            status, _ = await _get(http, url, previous)
            if status == 200:
                out.replays_served += 1
            else:
                out.replays_refused += 1
        header = p.encode({"x402Version": p.X402_VERSION, "accepted": accepted, "payload": next_payload()})
        started = time.perf_counter()
        status, paid = await _get(http, url, header)
        if status != 200:
            out.refused += 1
            continue
        out.latencies.append(time.perf_counter() - started)
        settled = p.decode(paid)
        out.served += 1
        if settled.get("transaction"):
            out.transactions.append(settled["transaction"])
        else:
            out.last_amount = int(settled["extra"]["cumulativeAmount"])
        previous = header


async def _drive(url: str, clients: list[tuple[dict, callable]], duration: float, limit: int,
                 replay_every: int) -> list[Outcome]:
    outcomes = [Outcome() for _ in clients]
    # aiohttp, not httpx: httpx's async client was several times slower against the same trivial app
    # here (measured ad hoc), so it would measure the client, not the paywall.
    connector = aiohttp.TCPConnector(limit=max(len(clients), 1))
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as http:
        deadline = time.monotonic() + duration
        await asyncio.gather(*(_client(http, url, accepted, nxt, deadline, limit, replay_every, out)
                               for (accepted, nxt), out in zip(clients, outcomes)))
    return outcomes


def run_channel_clients(url: str, accepted: dict, chain_id: int, contract: str, channels: list[tuple[dict, bytes]],
                        duration: float, limit: int, replay_every: int = 0) -> list[Outcome]:
    """One client per (channel key JSON, consumer key): each pays `limit` requests at most, for
    `duration` seconds at most, with the channel's next cumulative voucher."""
    domain = Domain(chain_id, contract)
    clients = []
    for key_json, private_key in channels:
        key, signer = ChannelKey.from_json(key_json), Signer(private_key, domain)
        state = {"amount": 0}

        def next_payload(key=key, signer=signer, state=state):
            state["amount"] += key.unit_price
            return voucher_payload(signer.sign(key.id, state["amount"]))

        clients.append((accepted, next_payload))
    return asyncio.run(_drive(url, clients, duration, limit, replay_every))


def run_exact_clients(url: str, accepted: dict, chain_id: int, payers: list[tuple[bytes, str]], valid_before: int,
                      duration: float, limit: int, replay_every: int = 0) -> list[Outcome]:
    """One client per (key, address): each request pays with a fresh EIP-3009 authorization."""
    extra = accepted["extra"]
    clients = []
    for private_key, address in payers:
        signer = AuthorizationSigner(private_key, address, extra["name"], extra["version"], chain_id, accepted["asset"])

        def next_payload(signer=signer):
            return signer.sign(accepted["payTo"], int(accepted["amount"]), valid_before)

        clients.append((accepted, next_payload))
    return asyncio.run(_drive(url, clients, duration, limit, replay_every))


def main() -> None:
    """``python -m chainpay.bench.paywall_load``: one job as JSON on stdin, the outcomes as JSON on
    stdout, each line of input a job (so one process serves several runs without re-importing)."""
    for line in sys.stdin:
        job = json.loads(line)
        cpu = time.process_time()
        kind = job.pop("kind")
        if kind == "channel":
            job["channels"] = [(k, bytes.fromhex(key)) for k, key in job["channels"]]
            outcomes = run_channel_clients(**job)
        else:
            job["payers"] = [(bytes.fromhex(key), address) for key, address in job["payers"]]
            outcomes = run_exact_clients(**job)
        sys.stdout.write(json.dumps({"outcomes": [asdict(o) for o in outcomes],
                                     "cpu_seconds": time.process_time() - cpu}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
