"""chainpay: permissioned digital-currency payments on a blockchain.

    import chainpay
    chain = chainpay.connect()                 # in-process eth-tester chain
    system = chainpay.deploy(chain)            # registry + currency, roles assigned
    system.currency.mint(alice, Decimal("100"))
"""

from . import _moved
from .chain import Account, Chain, Receipt, connect
from .config import DeployConfig
from .core import errors
from .core.errors import ChainpayError, ContractRevert, InvalidAmount
from .currency.registry import identity_id
from .system import System, deploy, load

__all__ = [
    "Account",
    "Chain",
    "ChainpayError",
    "ContractRevert",
    "DeployConfig",
    "InvalidAmount",
    "Receipt",
    "System",
    "connect",
    "deploy",
    "errors",
    "identity_id",
    "load",
]
__version__ = "0.1.0"

_moved.install()
