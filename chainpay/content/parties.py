"""Pay-per-use content over micropayment channels: deployment, the consumer's side (ContentClient)
and the provider's side (ContentProvider).

The consumer opens a channel to a listing and pays each use by signing a voucher for the new
cumulative total. The provider checks every voucher (its channel, the consumer's signature under this
contract and chain, an amount that only grows, stays within the deposit and pays the price of the
units used), keeps the latest per channel in sqlite before it serves anything, redeems them in
batches, and redeems at once when a consumer starts a unilateral close, well before the challenge
period ends.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import dataclass
from decimal import Decimal

from ..chain import Account, AccountLike, Chain, Receipt
from ..core import errors
from ..core.money import Amount
from ..currency.registry import Registry
from ..currency.token import Currency
from .catalogue import Catalogue
from .channels import ChannelInfo, ChannelKey, Channels, ChannelState
from .store import StoredChannel, VoucherStore
from .vouchers import SignedVoucher, signed_by

log = logging.getLogger(__name__)


def deploy_content(chain: Chain, registry: Registry, currency: Currency, admin: Account, *,
                   challenge_period: int, institution: int, role_holders, admin_delay: int,
                   deployed_at_block: int = 0):
    """Deploy ContentCatalogue and PaymentChannels and register both as identities under the
    deployment's contracts institution (the catalogue is a currency spender, the channels hold deposits).
    Returns (catalogue, channels, receipts by contract name)."""
    compliance = role_holders["COMPLIANCE"].address
    cat = chain.deploy("ContentCatalogue", [currency.address, admin.address, compliance, admin_delay], admin)
    chan = chain.deploy("PaymentChannels", [currency.address, cat.contract_address, challenge_period, admin.address,
                                            compliance, admin_delay], admin)
    registry.register_contract(cat.contract_address, "ContentCatalogue", institution=institution, sender=admin)
    registry.register_contract(chan.contract_address, "PaymentChannels", institution=institution, sender=admin)
    catalogue = Catalogue(chain, cat.contract_address, currency, role_holders)
    channels = Channels(chain, chan.contract_address, currency, role_holders, deployed_at_block=deployed_at_block)
    return catalogue, channels, {"ContentCatalogue": cat, "PaymentChannels": chan}


class VoucherRefused(errors.ChainpayError):
    """A voucher the provider will not accept; `code` names the rule it broke."""

    def __init__(self, code: str, reason: str):
        super().__init__(reason)
        self.code = code
        self.reason = reason


# ==================================================================== consumer
class ContentClient:
    """A consumer's channels: open, top up, meter uses and sign vouchers (amounts in base units on
    the voucher, Decimal whole units for deposits)."""

    def __init__(self, channels: Channels, account: AccountLike):
        self.channels = channels
        self.account = channels.chain.account(account)
        self._spent: dict[bytes, int] = {}
        self._deposit: dict[bytes, int] = {}
        self._keys: dict[bytes, ChannelKey] = {}
        self._closing: set[bytes] = set()  # channels this client started closing or closed: pay no more

    def open(self, content_id: int, deposit: Amount, *, salt: bytes | None = None,
             max_unit_price: Amount | None = None) -> ChannelKey:
        """Open a channel with `deposit`; `max_unit_price` bounds the price it may lock in (default: the
        price now). Refused before anything is spent if this client cannot sign the vouchers that would pay from it."""
        self.require_key()
        key, info = self.channels.open(content_id, deposit, sender=self.account, salt=salt,
                                       max_unit_price=max_unit_price)
        self._keys[key.id], self._spent[key.id], self._deposit[key.id] = key, 0, info.deposit
        return key

    def require_key(self) -> None:
        """SigningError unless chainpay holds this consumer's key (vouchers are signed off chain)."""
        if self.account.key is None:
            raise errors.SigningError(f"chainpay holds no key for {self.account.address}, so it could not sign vouchers: "
                                      "pass the consumer's private key (connect(url, private_keys=[...]))")

    def channel_for(self, content_id: int, provider: str | None = None) -> ChannelKey | None:
        """An open channel of this client to `content_id` (and `provider`) with money left, if any."""
        for key in self._keys.values():
            if key.content_id == content_id and (provider is None or key.provider == provider) \
                    and key.id not in self._closing and self.remaining(key) >= key.unit_price:
                return key
        return None

    def top_up(self, key: ChannelKey, amount: Amount) -> ChannelInfo:
        info = self.channels.top_up(key, amount, sender=self.account)
        self._deposit[key.id] = info.deposit
        return info

    def spent(self, key: ChannelKey) -> int:
        """Base units signed away on this channel so far."""
        return self._spent.get(key.id, 0)

    def remaining(self, key: ChannelKey) -> int:
        return self._deposit.get(key.id, 0) - self.spent(key)

    def pay(self, key: ChannelKey, units: int = 1) -> SignedVoucher:
        """Meter `units` uses at the channel's price and sign the new cumulative total."""
        if isinstance(units, bool) or not isinstance(units, int) or units < 1:
            raise errors.InvalidInput(f"units is a positive whole number, got {units!r}")
        if not isinstance(key, ChannelKey):
            raise errors.WrongType(f"pay() takes the ChannelKey that open() returned, got {key!r}")
        if key.id not in self._keys:
            raise errors.InvalidInput("this client did not open that channel")
        if key.id in self._closing:
            raise errors.InvalidInput("this client is closing that channel: open a new one")
        total = self.spent(key) + units * key.unit_price
        if total > self._deposit[key.id]:
            raise errors.InvalidAmount(
                f"the channel's deposit ({self.channels.currency.from_units(self._deposit[key.id])}) does not cover "
                f"{units} more unit(s): top it up or open a new channel")
        voucher = self.channels.sign_voucher(key, total, signer=self.account)
        self._spent[key.id] = total
        return voucher

    def start_close(self, key: ChannelKey) -> ChannelInfo:
        """Unilateral close: the remainder is refundable after the challenge period (then settle)."""
        info = self.channels.start_close(key, sender=self.account)
        self._closing.add(key.id)
        return info

    def settle(self, key: ChannelKey) -> ChannelInfo:
        return self.channels.settle(key, sender=self.account)

    def cooperative_close(self, key: ChannelKey, consent: SignedVoucher) -> ChannelInfo:
        """Close at once with the provider's signed consent (ContentProvider.consent_to_close)."""
        info = self.channels.cooperative_close(key, consent, sender=self.account)
        self._closing.add(key.id)
        return info

    def withdraw(self) -> Receipt:
        """Collect the remainders of this consumer's closed channels."""
        return self.channels.withdraw(sender=self.account)


# ==================================================================== provider
@dataclass(frozen=True)
class Accepted:
    """A voucher the provider has stored: `paid` base units more than the previous one."""

    key: ChannelKey
    amount: int
    paid: int
    remaining: int  # deposit not yet signed over


@dataclass(frozen=True)
class _Checked:
    accepted: Accepted
    now: int  # the chain's clock the checks used
    due: int  # the least the voucher must add


class _NeedsChain(Exception):
    """check(chain=False) would have to read the chain (or write the store)."""


def _raced() -> VoucherRefused:
    return VoucherRefused("stale", "a voucher with a higher amount (or a close consent) was recorded meanwhile")


class ContentProvider:
    """Verifies, stores and redeems the vouchers of channels to this provider's listings."""

    def __init__(self, channels: Channels, account: AccountLike, store: VoucherStore):
        self.channels = channels
        self.account = channels.chain.account(account)
        self.store = store
        self._lock = threading.Lock()  # one redemption run at a time
        # Held around accept()'s chain reads: a server sharing an in-process chain (not thread-safe)
        # sets its chain lock here, so signature checks and the durable store run outside it.
        self.chain_lock: threading.RLock | contextlib.nullcontext = contextlib.nullcontext()
        # Seconds a channel's on-chain state (deposit, state, hold) read by accept() is reused for
        # (0: read on every voucher). A paywall under load sets ~1 s: a top-up, hold or close is then
        # seen within that time; a voucher above a cached deposit is re-checked against the chain.
        self.info_ttl = 0.0
        self._info: dict[bytes, tuple[ChannelInfo, int, float]] = {}  # id -> (info, chain time, monotonic)

    # ------------------------------------------------------------- verifying
    def accept(self, voucher: SignedVoucher, *, content_id: int | None = None, units: int = 1) -> Accepted:
        """Check `voucher` as payment for `units` uses of `content_id` and store it durably; raises
        VoucherRefused (nothing stored) when any rule fails."""
        checked = self.check(voucher, content_id=content_id, units=units)
        if not self.store.record(voucher, checked.now, min_increase=checked.due):
            raise _raced()
        return checked.accepted

    async def accept_async(self, voucher: SignedVoucher, *, content_id: int | None = None, units: int = 1) -> Accepted:
        """accept() on an asyncio loop: checks in the loop when the channel's state is cached (else in a
        worker thread) and awaits the durable store without holding a thread (VoucherStore.record_async)."""
        try:
            checked = self.check(voucher, content_id=content_id, units=units, chain=False)
        except _NeedsChain:
            from starlette.concurrency import run_in_threadpool

            checked = await run_in_threadpool(self.check, voucher, content_id=content_id, units=units)
        stored = self.store.record_async(voucher, checked.now, min_increase=checked.due)
        if stored is None:
            raise _raced()
        await stored
        return checked.accepted

    def check(self, voucher: SignedVoucher, *, content_id: int | None = None, units: int = 1,
              chain: bool = True) -> "_Checked":
        """Every rule of accept() except storing; chain=False raises _NeedsChain instead of reading the chain."""
        if not isinstance(voucher, SignedVoucher):
            raise VoucherRefused("malformed", f"not a signed voucher: {voucher!r:.80} (SignedVoucher.from_header "
                                              "parses the X-Chainpay-Voucher header)")
        stored = self.store.get(voucher.channel_id)
        if stored is None:
            if not chain:
                raise _NeedsChain
            stored = self._channel(voucher.channel_id)
        key = stored.key
        if content_id is not None and key.content_id != content_id:
            raise VoucherRefused("wrong_content", f"the channel pays for content {key.content_id}, not {content_id}")
        if not signed_by(self.channels.domain, voucher, key.consumer):
            raise VoucherRefused("wrong_signer", "the voucher is not signed by the channel's consumer for this "
                                                 "channel, contract and chain")
        if stored.closed:
            raise VoucherRefused("closed", "the channel is closed")
        if voucher.amount <= stored.amount:
            raise VoucherRefused("stale", f"the voucher's amount {voucher.amount} does not exceed the last accepted "
                                          f"{stored.amount}")
        info, now = self._chain_state(key.id, fresh=False, chain=chain)
        if voucher.amount > info.deposit and self.info_ttl > 0:  # a top-up since the cached read?
            info, now = self._chain_state(key.id, fresh=True, chain=chain)
        if not info.live(now):
            if info.state is ChannelState.CLOSED:
                if not chain:
                    raise _NeedsChain  # the store is written from a worker thread, not the loop
                self.store.mark_closed(key.id, info.redeemed)
            raise VoucherRefused("closed", f"the channel is {info.state}" + (
                " and its challenge period is over" if info.state is ChannelState.CLOSING else ""))
        if stored.consent_live(now):
            raise VoucherRefused("closing", f"the provider consented to close this channel at {stored.amount} "
                                            f"(until {stored.consent_until}): open a new channel")
        if voucher.amount > info.deposit:
            raise VoucherRefused("over_deposit", f"the voucher's amount {voucher.amount} exceeds the deposit {info.deposit}")
        due = units * key.unit_price
        if voucher.amount - stored.amount < due:
            raise VoucherRefused("underpaid", f"{units} unit(s) at {key.unit_price} cost {due}; the voucher adds "
                                              f"{voucher.amount - stored.amount}")
        return _Checked(Accepted(key, voucher.amount, voucher.amount - stored.amount, info.deposit - voucher.amount),
                        now, due)

    def _chain_state(self, channel_id: bytes, *, fresh: bool, chain: bool = True) -> tuple[ChannelInfo, int]:
        """(the channel as the chain sees it, the chain's clock), from the cache if younger than info_ttl."""
        cached = self._info.get(channel_id)
        moment = time.monotonic()
        if cached is not None and not fresh and moment - cached[2] < self.info_ttl:
            return cached[0], cached[1] + int(moment - cached[2])
        if not chain:
            raise _NeedsChain
        with self.chain_lock:
            info = self.channels.get(channel_id)
            now = self.channels.chain.now
        if self.info_ttl > 0:
            if len(self._info) > 100_000:
                self._info.clear()
            self._info[channel_id] = (info, now, moment)
        return info, now

    def _channel(self, channel_id: bytes) -> StoredChannel:
        stored = self.store.get(channel_id)
        if stored is None:
            with self.chain_lock:
                key = self.channels.key_of(channel_id)
            if key is None:
                raise VoucherRefused("unknown_channel", "no channel with this id was opened on this contract")
            if key.provider != self.account.address:
                raise VoucherRefused("not_our_channel", "the channel pays another provider")
            self.store.add_channel(key)
            stored = self.store.get(channel_id)
        return stored

    # ------------------------------------------------------------- redeeming
    def redeem(self, *, batch_size: int = 50, only: set[bytes] | None = None) -> list[Receipt]:
        """Redeem every stored voucher the chain has not paid yet, `batch_size` channels per transaction."""
        if batch_size < 1:
            raise errors.InvalidInput("batch_size must be at least 1")
        with self._lock:
            due = [c for c in self.store.open_channels() if c.unredeemed > 0 and (only is None or c.key.id in only)]
            receipts = []
            for start in range(0, len(due), batch_size):
                batch = due[start:start + batch_size]
                receipt = self.channels.redeem_many([(c.key, c.voucher) for c in batch], sender=self.account)
                receipts.append(receipt)
                paid = {e["channelId"]: e["cumulativeAmount"] for e in receipt.events_named("VoucherRedeemed")}
                for c in batch:
                    if c.key.id in paid:
                        self.store.mark_redeemed(c.key.id, paid[c.key.id])
                    else:  # skipped by the contract: closed or past its challenge period
                        info = self.channels.get(c.key.id)
                        self.store.mark_redeemed(c.key.id, info.redeemed)
                        if not info.live(self.channels.chain.now):
                            self.store.mark_closed(c.key.id, info.redeemed)
            if due:
                log.info("redeemed %d channel(s) in %d transaction(s)", len(due), len(receipts))
            return receipts

    def watch(self) -> list[bytes]:
        """Look at the chain since the last look: record channels closed by their consumers, and
        redeem at once the channels whose consumers started a unilateral close (the challenge
        period is the provider's last chance). Returns the ids of those closing channels."""
        start = int(self.store.get_meta("scanned_block", str(self.channels.deployed_at_block)))
        head = self.channels.chain.block_number
        if start > head:  # no block since the last look (an idle chain): nothing to scan yet
            return []
        for channel_id, redeemed in self.channels.closed_since(start, head):
            if self.store.get(channel_id) is not None:
                self.store.mark_closed(channel_id, redeemed)
        closing = []
        for channel_id, closes_at in self.channels.closing_since(start, head):
            found = self.store.get(channel_id)
            if found is not None and not found.closed:
                self.store.mark_closing(channel_id, closes_at)
                closing.append(channel_id)
        if closing:
            log.info("consumer(s) started closing %d channel(s): redeeming now", len(closing))
            self.redeem(only=set(closing))
        self.store.set_meta("scanned_block", str(head + 1))
        return closing

    def close(self, channel_id: bytes) -> ChannelInfo:
        """Cooperative close by the provider with the latest stored voucher."""
        stored = self._channel(channel_id)
        with self._lock:
            info = self.channels.close(stored.key, stored.voucher if stored.unredeemed > 0 else None, sender=self.account)
            self.store.mark_closed(channel_id, info.redeemed)
        return info

    def consent_to_close(self, channel_id: bytes, *, valid_for: int = 600) -> SignedVoucher:
        """The provider's signed consent for the consumer to close at the latest stored amount, good for
        `valid_for` seconds. Until that deadline this provider accepts no voucher on the channel, so the
        consent never binds less than what was served."""
        if isinstance(valid_for, bool) or not isinstance(valid_for, int) or valid_for < 1:
            raise errors.InvalidInput(f"valid_for is a positive whole number of seconds, got {valid_for!r}")
        stored = self._channel(channel_id)
        deadline = self.channels.chain.now + valid_for
        amount = self.store.consent(channel_id, deadline)
        return self.channels.sign_close(stored.key, amount, signer=self.account, deadline=deadline)

    def unredeemed(self) -> Decimal:
        """Money in stored vouchers the chain has not paid yet."""
        return self.channels.currency.from_units(sum(c.unredeemed for c in self.store.open_channels()))
