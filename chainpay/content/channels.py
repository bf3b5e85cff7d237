"""Client of the micropayment channels (contracts/channels/PaymentChannels.sol).

A channel is identified by the hash of its immutable terms (:class:`ChannelKey`), which every call
passes along; the contract keeps one storage slot per channel. Redemptions pool a listing's earnings
in the contract (`distribute` credits them along the split to each payee's owed balance); a closed
channel's remainder goes to the consumer's owed balance; each account collects its own with
`withdraw`. See the contract's header for why.
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Iterable

from eth_utils import to_checksum_address

from ..chain import AccountLike, Receipt
from ..core.abi import load_artifact
from ..core import errors
from ..core.contract import ContractClient
from ..core.money import Amount
from ..currency.token import Currency
from .vouchers import CLOSE_TYPEHASH, Domain, SignedVoucher, Signer, keccak


class ChannelState(enum.IntEnum):
    """PaymentChannels.State, in the contract's order."""

    NONE = 0
    OPEN = 1
    CLOSING = 2  # a unilateral close waits out the challenge period
    CLOSED = 3

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class ChannelKey:
    """A channel's immutable terms; `unit_price` is the listing's price (base units) at opening."""

    consumer: str
    provider: str
    content_id: int
    unit_price: int
    salt: bytes

    @cached_property
    def id(self) -> bytes:
        """keccak256(abi.encode(key)), as PaymentChannels computes it."""
        return keccak(bytes(12) + bytes.fromhex(self.consumer[2:]) + bytes(12) + bytes.fromhex(self.provider[2:])
                      + self.content_id.to_bytes(32, "big") + self.unit_price.to_bytes(32, "big") + self.salt)

    def as_abi(self) -> tuple:
        return (self.consumer, self.provider, self.content_id, self.unit_price, self.salt)

    def to_json(self) -> dict:
        return {"consumer": self.consumer, "provider": self.provider, "content_id": self.content_id,
                "unit_price": str(self.unit_price), "salt": "0x" + self.salt.hex()}

    @classmethod
    def from_json(cls, raw: dict) -> "ChannelKey":
        try:
            return cls(to_checksum_address(raw["consumer"]), to_checksum_address(raw["provider"]),
                       int(raw["content_id"]), int(raw["unit_price"]), bytes.fromhex(raw["salt"].removeprefix("0x")))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise errors.InvalidInput(f"not a channel key: {exc}") from None


@dataclass(frozen=True)
class ChannelInfo:
    """A channel as the chain sees it, in base units (see Channels.get)."""

    id: bytes
    deposit: int
    redeemed: int
    state: ChannelState
    closes_at: int | None  # end of the challenge period of a unilateral close
    receipt: Receipt | None = field(default=None, compare=False, repr=False)
    held: bool = False  # compliance holds the channel: nothing moves on it

    @property
    def remaining(self) -> int:
        return self.deposit - self.redeemed

    def live(self, now: int) -> bool:
        """A voucher can still be redeemed: open, or closing inside the challenge period, and not held."""
        return not self.held and self.state is ChannelState.OPEN or (self.state is ChannelState.CLOSING and now < (self.closes_at or 0))


class Channels(ContractClient):
    """Open, top up, redeem, close and settle channels. Deposits take Decimal whole units; channel
    amounts and vouchers are integers in base units (what is signed)."""

    artifact_name = "PaymentChannels"

    def __init__(self, chain, address, currency: Currency, role_holders=None, *, deployed_at_block: int = 0):
        super().__init__(chain, address, role_holders)
        self.currency = currency
        self.deployed_at_block = deployed_at_block
        self._keys: dict[bytes, ChannelKey] = {}

    @cached_property
    def domain(self) -> Domain:
        return Domain(self.chain.chain_id, self.address)

    @cached_property
    def challenge_period(self) -> int:
        return self._read("challengePeriod")

    # ------------------------------------------------------------- consumer
    def open(self, content_id: int, deposit: Amount, *, sender: AccountLike, salt: bytes | None = None,
             max_unit_price: Amount | None = None, use_permit: bool | None = None) -> tuple[ChannelKey, ChannelInfo]:
        """Open a channel to listing `content_id` at its current price with `deposit`. `max_unit_price`
        bounds the price the channel may lock in (default: the price read now), so a price raised
        before the transaction is mined makes it fail with PriceAboveLimit. With a held key the consumer
        signs an EIP-2612 permit (one transaction); otherwise an approve() comes first."""
        account = self._sender(sender)
        units = self.currency.to_units(deposit, allow_zero=False)
        salt = os.urandom(32) if salt is None else salt
        if not isinstance(salt, bytes) or len(salt) != 32:
            raise errors.InvalidInput("a channel salt is 32 bytes")
        if isinstance(content_id, bool) or not isinstance(content_id, int) or content_id < 1:
            raise errors.InvalidInput(f"a content id is a positive integer, got {content_id!r}")
        _, price, _ = self._catalogue_terms(content_id)
        bound = price if max_unit_price is None else self.currency.to_units(max_unit_price)
        if price > bound:
            raise errors.PriceAboveLimit(content_id, price, bound)
        receipt = self._with_allowance("open", "openWithPermit", account, units, use_permit, content_id, units, salt,
                                       bound)
        event = receipt.event("ChannelOpened")
        key = ChannelKey(event["consumer"], event["provider"], event["contentId"], event["unitPrice"], salt)
        self._keys[key.id] = key
        return key, self.get(key.id, receipt=receipt)

    def top_up(self, key: ChannelKey, amount: Amount, *, sender: AccountLike, use_permit: bool | None = None) -> ChannelInfo:
        units = self.currency.to_units(amount, allow_zero=False)
        receipt = self._with_allowance("topUp", "topUpWithPermit", self._sender(sender), units, use_permit,
                                       key.as_abi(), units)
        return self.get(key.id, receipt=receipt)

    def start_close(self, key: ChannelKey, *, sender: AccountLike) -> ChannelInfo:
        """Unilateral close by the consumer: closes after the challenge period."""
        return self.get(key.id, receipt=self._write("startClose", key.as_abi(), sender=self._sender(sender)))

    def settle(self, key: ChannelKey, *, sender: AccountLike) -> ChannelInfo:
        """Close a unilaterally closing channel after its challenge period (anyone may)."""
        return self.get(key.id, receipt=self._write("settle", key.as_abi(), sender=self._sender(sender)))

    def cooperative_close(self, key: ChannelKey, consent: SignedVoucher, *, sender: AccountLike) -> ChannelInfo:
        """The consumer closes at once with the provider's signed consent (see sign_close), before its
        deadline (ConsentExpired after it, checked before anything is sent)."""
        if consent.deadline is None:
            raise errors.InvalidInput("a close consent carries a deadline: sign it with sign_close")
        if self.chain.now > consent.deadline:
            raise errors.ConsentExpired(key.id, consent.deadline)
        receipt = self._write("cooperativeClose", key.as_abi(), consent.amount, consent.deadline, consent.v,
                              consent.r, consent.s, sender=self._sender(sender))
        return self.get(key.id, receipt=receipt)

    def withdraw(self, *, sender: AccountLike) -> Receipt:
        """Pay the sender's owed balance (remainders of its closed channels, its distributed shares)."""
        return self._write("withdraw", sender=self._sender(sender))

    def withdraw_for(self, account: AccountLike, *, sender: AccountLike) -> Receipt:
        """Pay `account`'s owed balance to `account` (anyone may send it)."""
        return self._write("withdrawFor", self.chain.account(account).address, sender=self._sender(sender))

    # ------------------------------------------------------------- compliance
    def hold(self, key: ChannelKey, *, sender: AccountLike | None = None) -> ChannelInfo:
        """Compliance holds a channel whose consumer or provider is frozen or removed."""
        return self.get(key.id, receipt=self._write("hold", key.as_abi(), sender=self._sender(sender, "COMPLIANCE")))

    def release_hold(self, key: ChannelKey, *, sender: AccountLike | None = None) -> ChannelInfo:
        """End a hold (a closing channel gets a fresh challenge period)."""
        return self.get(key.id, receipt=self._write("releaseHold", key.as_abi(),
                                                    sender=self._sender(sender, "COMPLIANCE")))

    def close_held(self, key: ChannelKey, amount: int, *, sender: AccountLike | None = None) -> ChannelInfo:
        """Compliance closes a held channel at `amount` base units in total; the rest is the consumer's."""
        return self.get(key.id, receipt=self._write("closeHeld", key.as_abi(), amount,
                                                    sender=self._sender(sender, "COMPLIANCE")))

    def recover_unheld(self, to: AccountLike, *, sender: AccountLike | None = None) -> Receipt:
        """Compliance returns currency paid to the contract outside any channel (never a deposit,
        earnings or an owed balance) to `to`."""
        return self._write("recoverUnheld", self.chain.account(to).address, sender=self._sender(sender, "COMPLIANCE"))

    # ------------------------------------------------------------- signing (off chain)
    def sign_voucher(self, key: ChannelKey, amount: int, *, signer: AccountLike) -> SignedVoucher:
        """The consumer's voucher: the channel owes `amount` base units in total."""
        return self._signer(signer).sign(key.id, amount)

    def sign_close(self, key: ChannelKey, amount: int, *, signer: AccountLike, deadline: int | None = None) -> SignedVoucher:
        """The provider's consent to close the channel at `amount` base units in total, good until
        `deadline` (default: ten minutes from now)."""
        deadline = self.chain.now + 600 if deadline is None else deadline
        return self._signer(signer).sign(key.id, amount, CLOSE_TYPEHASH, deadline)

    # ------------------------------------------------------------- provider
    def redeem(self, key: ChannelKey, voucher: SignedVoucher, *, sender: AccountLike) -> Receipt:
        return self._write("redeem", _voucher_abi(key, voucher), sender=self._sender(sender))

    def redeem_many(self, items: Iterable[tuple[ChannelKey, SignedVoucher]], *, sender: AccountLike) -> Receipt | None:
        """Redeem many channels in one transaction (None if there is nothing to send)."""
        batch = [_voucher_abi(k, v) for k, v in items]
        return self._write("redeemMany", batch, sender=self._sender(sender)) if batch else None

    def close(self, key: ChannelKey, voucher: SignedVoucher | None, *, sender: AccountLike) -> ChannelInfo:
        """The provider closes at once, redeeming the consumer's last voucher (None: close on what
        is already redeemed)."""
        voucher = voucher or SignedVoucher(key.id, 0, bytes(65))
        return self.get(key.id, receipt=self._write("close", _voucher_abi(key, voucher), sender=self._sender(sender)))

    def distribute(self, content_id: int, *, sender: AccountLike) -> Receipt:
        """Credit a listing's pooled earnings along its split to each payee's owed balance (anyone may)."""
        return self._write("distribute", content_id, sender=self._sender(sender))

    # ------------------------------------------------------------- views
    def get(self, channel_id: bytes, *, receipt: Receipt | None = None) -> ChannelInfo:
        deposit, redeemed, state, closes_at, held = self._read("getChannel", channel_id)
        return ChannelInfo(channel_id, deposit, redeemed, ChannelState(state), closes_at or None, receipt, held)

    def key_of(self, channel_id: bytes) -> ChannelKey | None:
        """A channel's terms from its ChannelOpened event (None if no such channel was opened)."""
        key = self._keys.get(channel_id)
        if key is None:
            topic = self.artifact.event_topic("ChannelOpened")
            found = self.chain.logs(self.address, [topic, channel_id], from_block=self.deployed_at_block)
            if not found:
                return None
            e = found[0]
            key = self._keys[channel_id] = ChannelKey(e["consumer"], e["provider"], e["contentId"], e["unitPrice"], e["salt"])
        return key

    def closing_since(self, from_block: int, to_block: int | str = "latest") -> list[tuple[bytes, int]]:
        """(channel id, challenge end) of every unilateral close started in the block range."""
        return [(e["channelId"], e["closesAt"]) for e in self._events("ChannelClosing", from_block, to_block)]

    def closed_since(self, from_block: int, to_block: int | str = "latest") -> list[tuple[bytes, int]]:
        """(channel id, final redeemed amount) of every channel closed in the block range."""
        return [(e["channelId"], e["redeemed"]) for e in self._events("ChannelClosed", from_block, to_block)]

    def earnings(self, content_id: int) -> Decimal:
        return self.currency.from_units(self._read("earnings", content_id))

    def owed(self, who: AccountLike) -> Decimal:
        """What `who` may withdraw: remainders of its closed channels and its distributed shares."""
        return self.currency.from_units(self._read("owed", self.chain.account(who).address))

    def total_held(self) -> Decimal:
        return self.currency.from_units(self._read("totalHeld"))

    def digest(self, key: ChannelKey, amount: int, typehash: bytes, deadline: int | None = None) -> bytes:
        """The contract's own EIP-712 digest (tests compare it with the SDK's)."""
        if typehash == CLOSE_TYPEHASH:
            return self._read("closeDigest", key.id, amount, deadline)
        return self._read("digest", typehash, key.id, amount)

    def _catalogue_terms(self, content_id: int) -> tuple[str, int, bool]:
        """(provider, price in base units, available) as the catalogue answers PaymentChannels."""
        fn = load_artifact("ContentCatalogue").fn("terms")
        return fn.decode(self.chain.call(self.catalogue_address, fn.encode([content_id])))

    @cached_property
    def catalogue_address(self) -> str:
        return self._read("catalogue")

    # ------------------------------------------------------------- internals
    def _events(self, name: str, from_block: int, to_block: int | str):
        return self.chain.logs(self.address, [self.artifact.event_topic(name)], from_block=from_block, to_block=to_block)

    def _signer(self, who: AccountLike) -> Signer:
        account = self.chain.account(who)
        if account.key is None:
            raise errors.SigningError(f"chainpay holds no key for {account.address}; it cannot sign for it")
        return Signer(account.key, self.domain)

    def _with_allowance(self, plain: str, with_permit: str, account, units: int, use_permit: bool | None,
                        *args) -> Receipt:
        if use_permit is None:
            use_permit = account.key is not None
        amount = self.currency.from_units(units)
        if use_permit:
            deadline = self.chain.now + 3600
            sig = self.currency.sign_permit(account, self.address, amount, deadline).signature
            return self._write(with_permit, *args, deadline, sig.v, sig.r, sig.s, sender=account)
        if self.currency.allowance(account, self.address) < amount:
            self.currency.approve(self.address, amount, sender=account)
        return self._write(plain, *args, sender=account)


def _voucher_abi(key: ChannelKey, voucher: SignedVoucher) -> tuple:
    if voucher.channel_id != key.id:
        raise errors.InvalidInput("the voucher is for another channel than the key given")
    return (key.as_abi(), voucher.amount, voucher.v, voucher.r, voucher.s)
