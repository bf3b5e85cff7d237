"""Client of the platform balances (contracts/platform/PlatformBalances.sol): the second tier of money.

Each white-listed platform (an institution of the registry, same number) issues a balance backed by
reserve in the digital currency: top-up and issue put currency into the platform's reserve and mint the
same amount of balance; redemption burns balance and pays currency back 1:1; interconversion moves a
balance from platform A to platform B in one transaction (burn on A, reserve A -> B, mint on B), or,
from the escrow's approval threshold up, through the revocable-transfer escrow.

Money is Decimal whole units; ratios are Decimal fractions (Decimal("0.2") = 20 %). Every operation
that is one transaction is first run as a call (nothing is sent on a refusal); two-step operations
(approve, then act) take a signed permit instead when the key is held, so they are one transaction too.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ..chain import Account, AccountLike, Receipt
from ..core import errors
from ..core.abi import load_artifact
from ..core.contract import ContractClient
from ..core.money import Amount
from ..currency.token import UNLIMITED, Currency

FULL_RESERVE_BPS = 10_000  # PlatformBalances.FULL_RESERVE_BPS


def ratio_to_bps(ratio: Decimal | int | str) -> int:
    """A reserve ratio as a fraction (Decimal("0.2"), or "20%") -> basis points, refusing anything
    outside 0..1 or finer than a basis point."""
    if isinstance(ratio, float) or isinstance(ratio, bool):
        raise errors.InvalidInput(f"reserve ratio {ratio!r}: pass a Decimal fraction (Decimal('0.2')) or a string ('20%')")
    try:
        text = str(ratio).strip()
        value = Decimal(text[:-1]) / 100 if text.endswith("%") else Decimal(text)
    except ArithmeticError:
        raise errors.InvalidInput(f"reserve ratio {ratio!r} is not a number") from None
    bps = value * FULL_RESERVE_BPS
    if not value.is_finite() or not 0 <= value <= 1 or bps != bps.to_integral_value():
        raise errors.InvalidInput(f"reserve ratio {ratio!r} must be between 0 and 1 (0 % and 100 %) in whole basis points")
    return int(bps)


@dataclass(frozen=True)
class PlatformInfo:
    platform: int
    operator: str
    ratio: Decimal  # fraction of the supply the reserve must keep (1 = 100 %)
    listed: bool  # on the registry's white list now
    reserve: Decimal
    supply: Decimal
    required: Decimal  # ratio x supply, rounded up to the base unit

    @property
    def excess(self) -> Decimal:
        """What the platform may take out now."""
        return max(self.reserve - self.required, Decimal(0))


@dataclass(frozen=True)
class Interconversion:
    receipt: Receipt
    escrow_id: int | None  # the revocable transfer carrying it; None when it settled at once


def _require_customer(chain, registry: str, account: str) -> tuple[int, int, int]:
    """The registry's requireCustomer(account) as a call: (identity key, tier, linking institution)."""
    fn = load_artifact("IdentityRegistry").fn("requireCustomer")
    return fn.decode(chain.call(registry, fn.encode([account])))


class Platforms(ContractClient):
    """Create platforms, move money between the currency and platform balances, and between platforms."""

    artifact_name = "PlatformBalances"

    def __init__(self, chain, address: str, currency: Currency, role_holders: dict[str, Account] | None = None):
        super().__init__(chain, address, role_holders)
        self.currency = currency

    def _addr(self, who: AccountLike) -> str:
        return self.chain.account(who).address

    def _units(self, amount: Amount) -> int:
        return self.currency.to_units(amount, allow_zero=False)

    def _checked(self, fn: str, *args, sender: Account) -> Receipt:
        """One transaction, run first as a call: a refusal raises its typed error and sends nothing."""
        data = self.artifact.fn(fn).encode(args)
        self.chain.call(self.address, data, sender=sender)
        return self.chain.send(sender, self.address, data)

    # ------------------------------------------------------------- administration
    def create(self, platform: int, operator: AccountLike, ratio: Decimal | str = Decimal(1), *,
               sender: AccountLike | None = None) -> Receipt:
        """Open the balance of white-listed institution `platform` (admin)."""
        return self._checked("createPlatform", platform, self._addr(operator), ratio_to_bps(ratio),
                             sender=self._sender(sender, "DEFAULT_ADMIN"))

    def set_operator(self, platform: int, operator: AccountLike, *, sender: AccountLike | None = None) -> Receipt:
        return self._checked("setPlatformOperator", platform, self._addr(operator), sender=self._sender(sender, "DEFAULT_ADMIN"))

    def set_ratio(self, platform: int, ratio: Decimal | str, *, sender: AccountLike | None = None) -> Receipt:
        """Compliance sets a platform's reserve ratio (Decimal("0.2") = the pre-2017 20 %)."""
        return self._checked("setReserveRatio", platform, ratio_to_bps(ratio), sender=self._sender(sender, "COMPLIANCE"))

    def set_daily_threshold(self, tier: int, threshold: Amount | None, *, sender: AccountLike | None = None) -> Receipt:
        """A tier's daily interconversion threshold per identity (whole units; None = none)."""
        units = UNLIMITED if threshold is None else self.currency.to_units(threshold)
        return self._checked("setDailyThreshold", tier, units, sender=self._sender(sender, "COMPLIANCE"))

    # ------------------------------------------------------------- money in and out
    def _pay_in(self, fn: str, permit_fn: str | None, args: tuple, units: int, payer: Account) -> Receipt:
        """An operation that pulls `units` of the payer's currency: with a held key a permit makes it
        one transaction (checked as a call first), as does an allowance that already covers it;
        otherwise the operation is dry-run as calls, then approve, then act, and the allowance is put
        back if the act still fails."""
        if permit_fn is not None and payer.key is not None:
            permit = self.currency.sign_permit(payer, self.address, self.currency.from_units(units), self.chain.now + 3600)
            sig = permit.signature
            return self._checked(permit_fn, *args, permit.deadline, sig.v, sig.r, sig.s, sender=payer)
        before = self.currency.allowance(payer, self.address)
        needed = self.currency.from_units(units)
        if before >= needed:  # one transaction: _checked's own dry run is the whole preflight
            return self._checked(fn, *args, sender=payer)
        self._preflight_pay_in(fn, args, units, payer)
        self.currency.approve(self.address, needed, sender=payer)
        try:
            return self._checked(fn, *args, sender=payer)
        except errors.ChainpayError:
            self.currency.approve(self.address, before, sender=payer)
            raise

    def _preflight_pay_in(self, fn: str, args: tuple, units: int, payer: Account) -> None:
        """What the approve and the act would check, in the contract's order, as calls: the approve (payer
        active, not paused), the operator, the white list, the customer, then the pull of the payer's
        currency (balance, limits, pause). Raises the typed error the first failing step would raise."""
        cur = self.currency
        self.chain.call(cur.address, cur.artifact.fn("approve").encode([self.address, units]), sender=payer)
        platform = args[0]
        operator, _, listed, _, _ = self._read("platformInfo", platform)  # UnknownPlatform when absent
        if fn in ("issue", "depositReserve") and operator != payer.address:
            raise errors.revert_class("NotOperator")(platform, payer.address)
        if fn in ("topUp", "issue"):
            if not listed:
                raise errors.revert_class("PlatformNotListed")(platform)
            customer = self.chain.account(args[1] if fn == "issue" else payer).address
            registry = cur._read("registry")
            _, _, linked_by = _require_customer(self.chain, registry, customer)
            if linked_by != platform:
                raise errors.revert_class("NotCustomer")(customer, platform)
        self.chain.call(cur.address, cur.artifact.fn("transfer").encode([self.address, units]), sender=payer)

    def top_up(self, platform: int, amount: Amount, *, sender: AccountLike) -> Receipt:
        """The sender moves `amount` of its currency into `platform`'s reserve and gets that much balance."""
        units = self._units(amount)
        return self._pay_in("topUp", "topUpWithPermit", (platform, units), units, self._sender(sender))

    def issue(self, platform: int, to: AccountLike, amount: Amount, *, sender: AccountLike) -> Receipt:
        """The platform's operator issues balance to a customer against its own currency."""
        units = self._units(amount)
        return self._pay_in("issue", None, (platform, self._addr(to), units), units, self._sender(sender))

    def deposit_reserve(self, platform: int, amount: Amount, *, sender: AccountLike) -> Receipt:
        """The operator adds its own currency to the reserve without issuing."""
        units = self._units(amount)
        return self._pay_in("depositReserve", None, (platform, units), units, self._sender(sender))

    def withdraw_excess(self, platform: int, amount: Amount, *, sender: AccountLike,
                        to: AccountLike | None = None) -> Receipt:
        """The operator takes out reserve above ratio x supply (to itself unless `to` is given)."""
        account = self._sender(sender)
        return self._checked("withdrawExcess", platform, self._addr(to or account), self._units(amount), sender=account)

    def redeem(self, platform: int, amount: Amount, *, sender: AccountLike) -> Receipt:
        """Burn `amount` of the sender's balance at `platform` for the same amount of currency."""
        return self._checked("redeem", platform, self._units(amount), sender=self._sender(sender))

    def transfer(self, to: AccountLike, platform: int, amount: Amount, *, sender: AccountLike) -> Receipt:
        """Pay another customer of the same platform in its balance."""
        return self._checked("transfer", self._addr(to), platform, self._units(amount), sender=self._sender(sender))

    def interconvert(self, from_platform: int, to_platform: int, amount: Amount, *, sender: AccountLike,
                     to: AccountLike, memo: str = "") -> Interconversion:
        """Move the sender's balance at `from_platform` to `to`'s balance at `to_platform` in one
        transaction; from the escrow's approval threshold up it waits in the revocable-transfer escrow
        (the sender's second factor approves; the sender may revoke during the cooling-off)."""
        receipt = self._checked("interconvert", from_platform, to_platform, self._addr(to), self._units(amount), memo,
                                sender=self._sender(sender))
        escrow_id = receipt.event("Interconverted")["escrowId"]
        return Interconversion(receipt, escrow_id or None)

    def set_reverse_waterfall(self, enabled: bool, *, sender: AccountLike) -> Receipt:
        """Let the sender's payments above its currency balance pull the rest from its linked platform balance."""
        return self._checked("setReverseWaterfall", bool(enabled), sender=self._sender(sender))

    # ------------------------------------------------------------- views
    def balance_of(self, who: AccountLike, platform: int) -> Decimal:
        return self.currency.from_units(self._read("balanceOf", self._addr(who), platform))

    def supply_of(self, platform: int) -> Decimal:
        return self.currency.from_units(self._read("totalSupply", platform))

    def reserve_of(self, platform: int) -> Decimal:
        return self.currency.from_units(self._read("reserveOf", platform))

    def total_reserve(self) -> Decimal:
        return self.currency.from_units(self._read("totalReserve"))

    def info(self, platform: int) -> PlatformInfo:
        operator, bps, listed, reserve, supply = self._read("platformInfo", platform)
        required = self._read("requiredReserve", platform)
        return PlatformInfo(platform, operator, Decimal(bps) / FULL_RESERVE_BPS, listed, self.currency.from_units(reserve),
                            self.currency.from_units(supply), self.currency.from_units(required))

    def daily_threshold(self, tier: int) -> Decimal | None:
        units = self._read("dailyThreshold", tier)
        return None if units == UNLIMITED else self.currency.from_units(units)

    def converted_today(self, who: AccountLike) -> Decimal:
        return self.currency.from_units(self._read("convertedToday", self._addr(who)))

    def reverse_waterfall(self, who: AccountLike) -> bool:
        return self._read("reverseWaterfall", self._addr(who))

    def same_name_only(self) -> bool:
        return self._read("sameNameOnly")
