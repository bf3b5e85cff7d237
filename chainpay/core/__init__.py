"""What every client stands on: the ABI codec (``abi``, ``abitypes``), typed errors (``errors``),
Decimal money (``money``), the Solidity compiler (``compiler``) and the contract-client base
(``contract``). Nothing here knows a contract family or a chain engine."""

from .keccak import use_fast_keccak

KECCAK_BACKEND = use_fast_keccak()  # before anything hashes: eth-hash picks its backend on first use
