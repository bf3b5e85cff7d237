"""Keccak-256 through the C backend chainpay depends on (safe-pysha3).

eth-hash picks pycryptodome when both are installed: ~7x slower per hash, and py-evm, eth-abi and
eth-utils hash ~118 times per transaction. :func:`use_fast_keccak` points eth-hash's shared hasher
(``eth_hash.auto.keccak``, which every one of them calls) at safe-pysha3, unless the user chose a
backend with ETH_HASH_BACKEND. Called once when chainpay is imported.
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)


def use_fast_keccak() -> str:
    """Make eth-hash use safe-pysha3's C Keccak; returns the backend in use ("pysha3" or why not)."""
    if os.environ.get("ETH_HASH_BACKEND"):
        return os.environ["ETH_HASH_BACKEND"]
    try:
        import eth_hash.auto
        from eth_hash.backends import pysha3
    except ImportError as exc:  # safe-pysha3 missing: eth-hash's own choice stays
        log.info("safe-pysha3 unavailable (%s): eth-hash chooses its keccak backend", exc)
        return "eth-hash default"
    shared = eth_hash.auto.keccak
    shared._backend = pysha3.backend
    shared.hasher = pysha3.keccak256
    shared.preimage = pysha3.preimage
    return "pysha3"
