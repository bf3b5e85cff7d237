"""Client of the hashed-timelock bridge (contracts/bridge/HashedTimelockBridge.sol), and its deployment.

One bridge per chain holds that chain's digital currency while a cross-chain transfer is in flight.
A sender locks on its own chain for a white-listed connector (outbound); the connector locks on the
other chain for the sender's account there (inbound); the recipient claims by revealing the secret
and the connector claims the outbound leg with it. See chainpay/bridge/connector.py for the connector.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from dataclasses import dataclass, field, replace
from decimal import Decimal

from eth_utils import to_checksum_address

from ..chain import AccountLike, Receipt
from ..core import errors
from ..core.contract import ContractClient
from ..core.money import Amount
from ..currency.registry import CONTRACTS_INSTITUTION, IdentityLike, Registry, as_identity
from ..currency.token import Currency

BRIDGE_NAME = "HashedTimelockBridge"
MIN_LOCK_DURATION = 5 * 60  # HashedTimelockBridge.MIN_LOCK_DURATION
MAX_LOCK_DURATION = 30 * 86400  # HashedTimelockBridge.MAX_LOCK_DURATION
# A claim is sent only if the lock's timelock lies more than this beyond the chain's clock, so that it
# cannot be mined at or after the timelock (a reverted claim still publishes the preimage).
CLAIM_MARGIN = 60


class LockState(enum.IntEnum):
    """HashedTimelockBridge.State, in the contract's order."""

    NONE = 0
    OPEN = 1
    CLAIMED = 2
    REFUNDED = 3

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Secret:
    """A 32-byte preimage and its sha256 hashlock."""

    preimage: bytes
    hashlock: bytes

    @classmethod
    def new(cls) -> "Secret":
        preimage = secrets.token_bytes(32)
        return cls(preimage, hashlock_of(preimage))


def hashlock_of(preimage: bytes) -> bytes:
    if not isinstance(preimage, (bytes, bytearray)) or len(preimage) != 32:
        raise errors.InvalidInput("a preimage is exactly 32 bytes")
    return hashlib.sha256(bytes(preimage)).digest()


@dataclass(frozen=True)
class LockRecord:
    """One lock as the chain sees it, with the receipt of the call that returned it."""

    id: int
    locker: str
    recipient: str
    amount: Decimal
    hashlock: bytes
    timelock: int
    identity: bytes
    inbound: bool
    state: LockState
    receipt: Receipt | None = field(default=None, compare=False, repr=False)


class Bridge(ContractClient):
    """Lock, claim and refund on one chain's bridge; amounts are Decimal whole units of `currency`."""

    artifact_name = BRIDGE_NAME

    def __init__(self, chain, address, currency: Currency, role_holders=None, *, deployed_at_block: int = 0):
        super().__init__(chain, address, role_holders)
        self.currency = currency
        self.deployed_at_block = deployed_at_block
        self._registry: Registry | None = None

    # ------------------------------------------------------------- administration
    def add_connector(self, connector: AccountLike, *, sender: AccountLike | None = None) -> Receipt:
        """White-list a liquidity provider (DEFAULT_ADMIN)."""
        return self.grant_role("CONNECTOR", connector, sender=sender)

    def is_connector(self, who: AccountLike) -> bool:
        return self.has_role("CONNECTOR", who)

    # ------------------------------------------------------------- actions
    def lock(self, recipient: AccountLike, amount: Amount, hashlock: bytes, timelock: int, identity: IdentityLike, *,
             sender: AccountLike, use_permit: bool | None = None) -> LockRecord:
        """Lock `amount` for `recipient` under `hashlock` until unix time `timelock`, naming the
        identity whose money crosses. With a held key the sender signs a permit and the lock is one
        transaction; otherwise an approve() precedes it."""
        account = self._sender(sender)
        units = self.currency.to_units(amount, allow_zero=False)
        hashlock = _bytes32(hashlock, "hashlock")
        identity = as_identity(identity)
        if isinstance(timelock, bool) or not isinstance(timelock, int) or timelock <= 0:
            raise errors.InvalidInput(f"timelock must be a unix time in seconds, got {timelock!r}")
        to = self.chain.account(recipient).address
        if use_permit is None:
            use_permit = account.key is not None
        if use_permit:
            # The permit lives as long as the lock would (a lock made later could only be refunded), which
            # also holds when this chain's latest block lags the caller's clock.
            sig = self.currency.sign_permit(account, self.address, self.currency.from_units(units), timelock).signature
            receipt = self._write("lockWithPermit", to, units, hashlock, timelock, identity, timelock, sig.v, sig.r, sig.s,
                                  sender=account)
        else:
            if self.currency.allowance(account, self.address) < self.currency.from_units(units):
                self.currency.approve(self.address, self.currency.from_units(units), sender=account)
            receipt = self._write("lock", to, units, hashlock, timelock, identity, sender=account)
        return self._locked(receipt)

    def claim(self, lock_id: int, preimage: bytes, *, sender: AccountLike, now: int | None = None,
              margin: int = CLAIM_MARGIN) -> LockRecord:
        """Pay the lock to its recipient by revealing the preimage (anyone may submit it).

        A claim that is mined but reverts still publishes the preimage, and with it anyone can claim
        the other leg of the crossing. So nothing is sent unless a dry run of the claim passes and
        the lock's timelock lies more than `margin` seconds beyond `now` (the caller's clock; default
        the chain's latest block): otherwise the dry run's typed error (LockExpired, AccountFrozen,
        EnforcedPause, IdentityMismatch, ...) is raised and the preimage stays secret."""
        lock_id, preimage, account = _check_id(lock_id), _bytes32(preimage, "preimage"), self._sender(sender)
        if isinstance(margin, bool) or not isinstance(margin, int) or margin < 0:
            raise errors.InvalidInput(f"margin is a whole number of seconds, got {margin!r}")
        record = self.get(lock_id)
        clock = self.chain.now if now is None else now
        if record.state is LockState.OPEN and clock + margin >= record.timelock:
            raise errors.revert_class("LockExpired")(lock_id, record.timelock)
        data = self.artifact.fn("claim").encode((lock_id, preimage))
        self.chain.call(self.address, data, sender=account)  # raises the typed error: nothing is sent
        receipt = self._write("claim", lock_id, preimage, sender=account)
        return replace(record, state=LockState.CLAIMED, receipt=receipt)  # claim() changes nothing else

    def recover_unheld(self, to: AccountLike, *, sender: AccountLike | None = None) -> Receipt:
        """Pay currency sent to the bridge outside any lock to `to` (DEFAULT_ADMIN); open locks stay."""
        return self._write("recoverUnheld", self.chain.account(to).address, sender=self._sender(sender, "DEFAULT_ADMIN"))

    def refund(self, lock_id: int, *, sender: AccountLike) -> LockRecord:
        """Return an expired lock to its locker (anyone may)."""
        receipt = self._write("refund", _check_id(lock_id), sender=self._sender(sender))
        return self.get(lock_id, receipt=receipt)

    def _locked(self, receipt: Receipt) -> LockRecord:
        """The lock a lock transaction made, from its Locked event (which carries every field)."""
        e = receipt.event("Locked")
        return LockRecord(e["id"], e["locker"], e["recipient"], self.currency.from_units(e["amount"]), e["hashlock"],
                          e["timelock"], e["identity"], e["inbound"], LockState.OPEN, receipt)

    # ------------------------------------------------------------- views
    def get(self, lock_id: int, *, receipt: Receipt | None = None) -> LockRecord:
        """The lock's current record (UnknownLock if it was never made)."""
        raw = self._read("getLock", _check_id(lock_id))
        locker, timelock, state, inbound, recipient, units, hashlock, identity = raw
        return LockRecord(lock_id, to_checksum_address(locker), to_checksum_address(recipient),
                          self.currency.from_units(units), hashlock, timelock, identity, inbound, LockState(state), receipt)

    def identity_of(self, who: AccountLike) -> bytes | None:
        """The identity hash `who` is registered to in this chain's registry (None if unregistered)."""
        if self._registry is None:
            self._registry = Registry(self.chain, self._read("registry"))
        return self._registry.identity_of(who)

    def locks_for(self, hashlock: bytes, *, from_block: int | None = None) -> list[LockRecord]:
        """Every lock made under `hashlock` on this chain (since `from_block`), oldest first."""
        topic = self.artifact.event_topic("Locked")
        start = self.deployed_at_block if from_block is None else from_block
        found = self.chain.logs(self.address, [topic, None, _bytes32(hashlock, "hashlock")], from_block=start)
        return [self.get(e["id"]) for e in found]

    def total_locked(self) -> Decimal:
        """What the bridge owes: the sum of all open locks."""
        return self.currency.from_units(self._read("totalLocked"))

    def lock_count(self) -> int:
        return self._read("lockCount")

    def events(self, name: str, *, from_block: int | None = None, to_block: int | str = "latest"):
        """Decoded `name` events of this bridge (Locked, Claimed, Refunded), oldest first."""
        start = self.deployed_at_block if from_block is None else from_block
        return self.chain.logs(self.address, [self.artifact.event_topic(name)], from_block=start, to_block=to_block)


def deploy_bridge(system, *, admin: AccountLike | None = None) -> Bridge:
    """Deploy a bridge for `system`'s currency and register it as an identity of the deployment's
    contracts institution, so the currency lets it hold and pay out (admin: the system's DEFAULT_ADMIN)."""
    admin_account = system.role("DEFAULT_ADMIN") if admin is None else system.chain.account(admin)
    start_block = system.chain.block_number + 1
    receipt = system.chain.deploy(BRIDGE_NAME, [system.currency.address, admin_account.address], admin_account)
    system.registry.register_contract(receipt.contract_address, BRIDGE_NAME, institution=CONTRACTS_INSTITUTION,
                                      sender=admin_account)
    return Bridge(system.chain, receipt.contract_address, system.currency, {"DEFAULT_ADMIN": admin_account},
                  deployed_at_block=start_block)


def _bytes32(value, what: str) -> bytes:
    if isinstance(value, str):
        try:
            value = bytes.fromhex(value.removeprefix("0x"))
        except ValueError:
            raise errors.InvalidInput(f"{what} is not hex: {value!r}") from None
    if not isinstance(value, (bytes, bytearray)) or len(value) != 32:
        raise errors.InvalidInput(f"{what} must be 32 bytes, got {value!r}")
    return bytes(value)


def _check_id(lock_id) -> int:
    if isinstance(lock_id, bool) or not isinstance(lock_id, int) or lock_id < 1:
        raise errors.InvalidInput(f"a lock id is a positive integer, got {lock_id!r}")
    return lock_id
