"""Client of the pay-per-use content catalogue (contracts/content/ContentCatalogue.sol).

Providers list content with a price per unit (a download, a minute, a call) and a revenue split over
up to five payees in basis points; `buy` pays a purchase on chain: the total goes to the catalogue
and each payee's share to that payee's owed balance, which it withdraws (`withdraw`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal
from typing import Sequence

from ..chain import AccountLike, Receipt
from ..core import errors
from ..core.contract import ContractClient
from ..core.money import Amount
from ..currency.token import Currency

MAX_PAYEES = 5  # ContentCatalogue.MAX_PAYEES
TOTAL_BPS = 10_000


class UnitKind(enum.IntEnum):
    """ContentCatalogue.UnitKind, in the contract's order."""

    DOWNLOAD = 0
    MINUTE = 1
    CALL = 2

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Listing:
    """One listing; `unit_price` in whole currency units, `split` as (payee, basis points)."""

    id: int
    provider: str
    unit_price: Decimal
    kind: UnitKind
    available: bool
    split: tuple[tuple[str, int], ...]


def split_units(amount: int, shares: Sequence[int]) -> list[int]:
    """`amount` base units divided as the contract divides it: floor(amount * bps / 10,000) for every
    payee but the first, which gets the rest, so the parts always add up to `amount`."""
    parts = [amount * bps // TOTAL_BPS for bps in shares]
    parts[0] = amount - sum(parts[1:])
    return parts


class Catalogue(ContractClient):
    """List content, change prices, buy; amounts are Decimal whole units of `currency`."""

    artifact_name = "ContentCatalogue"

    def __init__(self, chain, address, currency: Currency, role_holders=None):
        super().__init__(chain, address, role_holders)
        self.currency = currency

    # ------------------------------------------------------------- providers
    def list(self, unit_price: Amount, kind: UnitKind | str, split: Sequence[tuple[AccountLike, int]], *,
             sender: AccountLike) -> Listing:
        """List content sold by `sender` (a registered identity); `split` is [(payee, basis points)],
        1 to 5 distinct registered payees summing to 10,000; the first gets the rounding remainder."""
        kind = _kind(kind)
        units = self.currency.to_units(unit_price, allow_zero=False)
        pairs = list(split)
        if not 1 <= len(pairs) <= MAX_PAYEES:
            raise errors.InvalidInput(f"a split has 1 to {MAX_PAYEES} payees, got {len(pairs)}")
        payees = [self.chain.account(p).address for p, _ in pairs]
        shares = []
        for _, bps in pairs:
            if isinstance(bps, bool) or not isinstance(bps, int) or not 0 < bps <= TOTAL_BPS:
                raise errors.InvalidInput(f"a share is a whole number of basis points in 1..{TOTAL_BPS}, got {bps!r}")
            shares.append(bps)
        if sum(shares) != TOTAL_BPS:
            raise errors.InvalidInput(f"shares must add up to {TOTAL_BPS} basis points, got {sum(shares)}")
        receipt = self._write("list", units, int(kind), payees, shares, sender=self._sender(sender))
        return self.get(receipt.event("ContentListed")["contentId"])

    def set_price(self, content_id: int, unit_price: Amount, *, sender: AccountLike) -> Receipt:
        """New price per unit; applies to purchases and channels opened afterwards."""
        return self._write("setPrice", _check_id(content_id), self.currency.to_units(unit_price, allow_zero=False),
                           sender=self._sender(sender))

    def set_available(self, content_id: int, available: bool, *, sender: AccountLike) -> Receipt:
        if not isinstance(available, bool):
            raise errors.InvalidInput("available is True or False")
        return self._write("setAvailable", _check_id(content_id), available, sender=self._sender(sender))

    # ------------------------------------------------------------- buying
    def buy(self, content_id: int, units: int = 1, *, sender: AccountLike, max_unit_price: Amount | None = None,
            use_permit: bool | None = None) -> Receipt:
        """Pay `units` uses at the current price, credited to the payees. `max_unit_price` bounds the
        price the purchase may pay (default: the price read now), so a price raised before the
        transaction is mined makes it fail with PriceAboveLimit instead of costing more. With a held
        key the buyer signs an EIP-2612 permit (one transaction); otherwise an approve() comes first."""
        content_id, units = _check_id(content_id), _check_units(units)
        account = self._sender(sender)
        price = self.get(content_id).unit_price
        bound = price if max_unit_price is None else max_unit_price
        bound_units = self.currency.to_units(bound)
        if self.currency.to_units(price) > bound_units:
            raise errors.PriceAboveLimit(content_id, self.currency.to_units(price), bound_units)
        total = price * units
        if use_permit is None:
            use_permit = account.key is not None
        if use_permit:
            deadline = self.chain.now + 3600
            sig = self.currency.sign_permit(account, self.address, total, deadline).signature
            return self._write("buyWithPermit", content_id, units, bound_units, deadline, sig.v, sig.r, sig.s,
                               sender=account)
        if self.currency.allowance(account, self.address) < total:
            self.currency.approve(self.address, total, sender=account)
        return self._write("buy", content_id, units, bound_units, sender=account)

    # ------------------------------------------------------------- payees
    def withdraw(self, *, sender: AccountLike) -> Receipt:
        """Pay the sender's owed balance (its shares of every purchase) in one transfer."""
        return self._write("withdraw", sender=self._sender(sender))

    def withdraw_for(self, payee: AccountLike, *, sender: AccountLike) -> Receipt:
        """Pay `payee`'s owed balance to `payee` (anyone may send it)."""
        return self._write("withdrawFor", self.chain.account(payee).address, sender=self._sender(sender))

    def owed(self, payee: AccountLike) -> Decimal:
        return self.currency.from_units(self._read("owed", self.chain.account(payee).address))

    def total_owed(self) -> Decimal:
        return self.currency.from_units(self._read("totalOwed"))

    def recover_unheld(self, to: AccountLike, *, sender: AccountLike | None = None) -> Receipt:
        """Compliance returns currency paid to the catalogue outside any purchase (never a payee's)."""
        return self._write("recoverUnheld", self.chain.account(to).address, sender=self._sender(sender, "COMPLIANCE"))

    # ------------------------------------------------------------- views
    def get(self, content_id: int) -> Listing:
        provider, price, kind, available, payees, shares = self._read("getContent", _check_id(content_id))
        return Listing(content_id, provider, self.currency.from_units(price), UnitKind(kind), available,
                       tuple(zip(payees, shares)))

    def content_count(self) -> int:
        return self._read("contentCount")

    def split_amount(self, content_id: int, amount: Amount) -> list[tuple[str, Decimal]]:
        """How `amount` is divided among the payees (the contract's own arithmetic)."""
        payees, parts = self._read("splitAmount", _check_id(content_id), self.currency.to_units(amount))
        return [(p, self.currency.from_units(a)) for p, a in zip(payees, parts)]


def _kind(kind) -> UnitKind:
    if isinstance(kind, UnitKind):
        return kind
    if isinstance(kind, str) and kind.upper() in UnitKind.__members__:
        return UnitKind[kind.upper()]
    raise errors.InvalidInput(f"a unit kind is one of download, minute, call; got {kind!r}")


def _check_id(content_id) -> int:
    if isinstance(content_id, bool) or not isinstance(content_id, int) or content_id < 1:
        raise errors.InvalidInput(f"a content id is a positive integer, got {content_id!r}")
    return content_id


def _check_units(units) -> int:
    if isinstance(units, bool) or not isinstance(units, int) or units < 1:
        raise errors.InvalidInput(f"units is a positive whole number, got {units!r}")
    return units
