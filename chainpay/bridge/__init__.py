"""The hashed-timelock bridge between platforms on two chains (contracts/bridge): its client
(``client``), the connector that makes the inbound leg (``connector``), its durable state (``store``) and
long-running service (``service``, imported on demand: it needs starlette), a two-chain network for tests
and studies (``network``) and the driver of one crossing (``crossing``)."""

from .client import (
                     BRIDGE_NAME,
                     MAX_LOCK_DURATION,
                     MIN_LOCK_DURATION,
                     Bridge,
                     LockRecord,
                     LockState,
                     Secret,
                     deploy_bridge,
                     hashlock_of,
)
from .connector import Connector, ConnectorPolicy, ConnectorRefused, Deal, DealState, Quote
from .crossing import CrossingResult, Timing, cross
from .network import Network, Person, Platform, build_network

__all__ = ["BRIDGE_NAME", "MAX_LOCK_DURATION", "MIN_LOCK_DURATION", "Bridge", "Connector", "ConnectorPolicy",
           "ConnectorRefused", "CrossingResult", "Deal", "DealState", "LockRecord", "LockState", "Network", "Person",
           "Platform", "Quote", "Secret", "Timing", "build_network", "cross", "deploy_bridge", "hashlock_of"]
