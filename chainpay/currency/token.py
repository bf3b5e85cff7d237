"""Client of the permissioned digital currency (contracts/token/DigitalCurrency.sol).

Money in and out is Decimal whole units (yuan); amounts are validated by chainpay.core.money before
anything is sent. Signed paths (EIP-2612 permit, EIP-3009 authorizations) are signed here with
eth-account's EIP-712 signer and submitted by anyone (a relayer) through the same checks on chain.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

from eth_account import Account as EthAccount

from ..chain import Account, AccountLike, Receipt
from ..core import errors
from ..core.contract import ContractClient
from ..core.money import Amount, from_base_units, to_base_units

UNLIMITED = 2**256 - 1
MAX_TIER = 5  # DigitalCurrency.MAX_TIER: chainpay's escrow contracts; its limit stays UNLIMITED

_PERMIT_TYPES = {
    "Permit": [
        {"name": "owner", "type": "address"},
        {"name": "spender", "type": "address"},
        {"name": "value", "type": "uint256"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ]
}
_AUTH_FIELDS = [
    {"name": "from", "type": "address"},
    {"name": "to", "type": "address"},
    {"name": "value", "type": "uint256"},
    {"name": "validAfter", "type": "uint256"},
    {"name": "validBefore", "type": "uint256"},
    {"name": "nonce", "type": "bytes32"},
]
_AUTH_TYPES = {"transfer": {"TransferWithAuthorization": _AUTH_FIELDS}, "receive": {"ReceiveWithAuthorization": _AUTH_FIELDS}}
_CANCEL_TYPES = {"CancelAuthorization": [{"name": "authorizer", "type": "address"}, {"name": "nonce", "type": "bytes32"}]}


@dataclass(frozen=True)
class Signature:
    v: int
    r: bytes
    s: bytes


@dataclass(frozen=True)
class Permit:
    """A signed EIP-2612 approval: anyone may submit it with Currency.permit()."""

    owner: str
    spender: str
    value: int  # base units
    nonce: int
    deadline: int
    signature: Signature


@dataclass(frozen=True)
class Authorization:
    """A signed EIP-3009 transfer (kind 'transfer': anyone submits; 'receive': only the payee)."""

    kind: str
    sender: str
    to: str
    value: int  # base units
    valid_after: int
    valid_before: int
    nonce: bytes
    signature: Signature


@dataclass(frozen=True)
class Cancellation:
    authorizer: str
    nonce: bytes
    signature: Signature


@dataclass(frozen=True)
class WalletClass:
    """A tier's wallet class in whole units; None where the class sets no limit."""

    daily: Decimal | None
    single: Decimal | None
    balance_cap: Decimal | None
    annual: Decimal | None


@dataclass(frozen=True)
class Outflow:
    spent_today: Decimal
    remaining_today: Decimal | None  # None: the tier has no limit


class Currency(ContractClient):
    """Mint/burn (issuer), transfers, allowances, permit, EIP-3009, pause, per-tier daily limits."""

    artifact_name = "DigitalCurrency"

    # ------------------------------------------------------------- metadata and money
    @cached_property
    def decimals(self) -> int:
        return self._read("decimals")

    @cached_property
    def name(self) -> str:
        return self._read("name")

    @cached_property
    def symbol(self) -> str:
        return self._read("symbol")

    def to_units(self, amount: Amount, *, allow_zero: bool = True) -> int:
        """Decimal whole units -> base units, refusing floats, negatives and excess precision."""
        return to_base_units(amount, self.decimals, allow_zero=allow_zero)

    def from_units(self, units: int) -> Decimal:
        return from_base_units(units, self.decimals)

    def _addr(self, who: AccountLike) -> str:
        return self.chain.account(who).address

    # ------------------------------------------------------------- views
    def balance_of(self, who: AccountLike) -> Decimal:
        return self.from_units(self._read("balanceOf", self._addr(who)))

    def total_supply(self) -> Decimal:
        return self.from_units(self._read("totalSupply"))

    def allowance(self, owner: AccountLike, spender: AccountLike) -> Decimal:
        return self.from_units(self._read("allowance", self._addr(owner), self._addr(spender)))

    def paused_seconds(self) -> int:
        """Seconds the currency has been paused in all (the current pause included)."""
        return self._read("pausedSeconds")

    def paused(self) -> bool:
        return self._read("paused")

    def daily_limit(self, tier: int) -> Decimal | None:
        """A tier's daily outflow limit; None when the tier is unlimited."""
        units = self._read("dailyLimit", tier)
        return None if units == UNLIMITED else self.from_units(units)

    def outflow_today(self, who: AccountLike) -> Outflow:
        """What the account's identity has sent today (UTC) and may still send."""
        spent, remaining = self._read("outflowToday", self._addr(who))
        return Outflow(self.from_units(spent), None if remaining == UNLIMITED else self.from_units(remaining))

    def daily_allowance_left(self, who: AccountLike) -> Decimal | None:
        """How much the account's identity may still send today; None if its tier is unlimited."""
        return self.outflow_today(who).remaining_today

    def nonces(self, owner: AccountLike) -> int:
        return self._read("nonces", self._addr(owner))

    def authorization_state(self, authorizer: AccountLike, nonce: bytes) -> bool:
        """True when an EIP-3009 nonce was used or cancelled."""
        return self._read("authorizationState", self._addr(authorizer), nonce)

    # ------------------------------------------------------------- issuer, pauser, compliance
    def mint(self, to: AccountLike, amount: Amount, *, sender: AccountLike | None = None) -> Receipt:
        units = self.to_units(amount, allow_zero=False)
        return self._write("mint", self._addr(to), units, sender=self._sender(sender, "ISSUER"))

    def burn(self, amount: Amount, *, sender: AccountLike | None = None) -> Receipt:
        units = self.to_units(amount, allow_zero=False)
        return self._write("burn", units, sender=self._sender(sender, "ISSUER"))

    def pause(self, *, sender: AccountLike | None = None) -> Receipt:
        return self._write("pause", sender=self._sender(sender, "PAUSER"))

    def unpause(self, *, sender: AccountLike | None = None) -> Receipt:
        return self._write("unpause", sender=self._sender(sender, "PAUSER"))

    def set_daily_limit(self, tier: int, limit: Amount | None, *, sender: AccountLike | None = None) -> Receipt:
        """Set a tier's daily outflow limit in whole units; None removes the limit. The top tier
        (chainpay's escrow contracts) stays unlimited: TierMustStayUnlimited before anything is sent."""
        units = UNLIMITED if limit is None else self.to_units(limit)
        if tier == MAX_TIER and units != UNLIMITED:
            raise errors.TierMustStayUnlimited(tier)
        return self._write("setDailyLimit", tier, units, sender=self._sender(sender, "COMPLIANCE"))

    def set_wallet_class(self, tier: int, *, single: Amount | None = None, balance_cap: Amount | None = None,
                         annual: Amount | None = None, sender: AccountLike | None = None) -> Receipt:
        """Set a tier's wallet class beyond its daily limit (whole units; None = no such limit): the
        most one payment may move, the most an address may hold, the most the identity may send in a
        UTC calendar year. The top tier (chainpay's contracts) stays unlimited."""
        units = [UNLIMITED if v is None else self.to_units(v) for v in (single, balance_cap, annual)]
        if tier == MAX_TIER and any(u != UNLIMITED for u in units):
            raise errors.TierMustStayUnlimited(tier)
        return self._write("setWalletClass", tier, *units, sender=self._sender(sender, "COMPLIANCE"))

    def set_platforms(self, address: AccountLike, *, sender: AccountLike | None = None) -> Receipt:
        """Name the platform-balances contract (once, admin): it takes capped wallets' excess."""
        return self._write("setPlatforms", self._addr(address), sender=self._sender(sender, "DEFAULT_ADMIN"))

    def wallet_class(self, tier: int) -> WalletClass:
        values = self._read("walletClass", tier)
        return WalletClass(*(None if v == UNLIMITED else self.from_units(v) for v in values))

    def outflow_this_year(self, who: AccountLike) -> Decimal:
        """What the identity of `who` has sent this UTC calendar year."""
        return self.from_units(self._read("outflowThisYear", self._addr(who)))

    # ------------------------------------------------------------- payments
    def transfer(self, to: AccountLike, amount: Amount, *, sender: AccountLike) -> Receipt:
        units = self.to_units(amount)
        return self._write("transfer", self._addr(to), units, sender=self._sender(sender))

    def approve(self, spender: AccountLike, amount: Amount, *, sender: AccountLike) -> Receipt:
        units = self.to_units(amount)
        return self._write("approve", self._addr(spender), units, sender=self._sender(sender))

    def transfer_from(self, owner: AccountLike, to: AccountLike, amount: Amount, *, sender: AccountLike) -> Receipt:
        units = self.to_units(amount)
        return self._write("transferFrom", self._addr(owner), self._addr(to), units, sender=self._sender(sender))

    # ------------------------------------------------------------- EIP-712 signing
    def _domain(self, chain_id: int | None) -> dict:
        return {"name": self.name, "version": "1", "chainId": self.chain.chain_id if chain_id is None else chain_id,
                "verifyingContract": self.address}

    def _sign(self, signer: AccountLike, types: dict, message: dict, chain_id: int | None) -> Signature:
        account = self.chain.account(signer)
        if account.key is None:
            raise errors.SigningError(f"chainpay holds no key for {account.address}; it cannot sign for it")
        signed = EthAccount.sign_typed_data(account.key, self._domain(chain_id), types, message)
        return Signature(signed.v, signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big"))

    def sign_permit(self, owner: AccountLike, spender: AccountLike, amount: Amount, deadline: int, *,
                    nonce: int | None = None, chain_id: int | None = None) -> Permit:
        """Sign an EIP-2612 permit as `owner` (chain_id overrides the domain, e.g. to test replay)."""
        owner_addr, spender_addr = self._addr(owner), self._addr(spender)
        units = self.to_units(amount)
        nonce = self.nonces(owner_addr) if nonce is None else nonce
        message = {"owner": owner_addr, "spender": spender_addr, "value": units, "nonce": nonce, "deadline": deadline}
        return Permit(owner_addr, spender_addr, units, nonce, deadline, self._sign(owner, _PERMIT_TYPES, message, chain_id))

    def permit(self, permit: Permit, *, sender: AccountLike) -> Receipt:
        """Submit a signed permit (any account may relay it)."""
        sig = permit.signature
        return self._write("permit", permit.owner, permit.spender, permit.value, permit.deadline, sig.v, sig.r, sig.s,
                           sender=self._sender(sender))

    def sign_authorization(self, sender: AccountLike, to: AccountLike, amount: Amount, *, valid_after: int = 0,
                           valid_before: int | None = None, nonce: bytes | None = None, kind: str = "transfer",
                           chain_id: int | None = None) -> Authorization:
        """Sign an EIP-3009 transfer from `sender`; valid_before defaults to one hour from chain time."""
        if kind not in _AUTH_TYPES:
            raise ValueError("kind is 'transfer' or 'receive'")
        units = self.to_units(amount)
        nonce = os.urandom(32) if nonce is None else nonce
        valid_before = self.chain.now + 3600 if valid_before is None else valid_before
        frm, dst = self._addr(sender), self._addr(to)
        message = {"from": frm, "to": dst, "value": units, "validAfter": valid_after, "validBefore": valid_before, "nonce": nonce}
        sig = self._sign(sender, _AUTH_TYPES[kind], message, chain_id)
        return Authorization(kind, frm, dst, units, valid_after, valid_before, nonce, sig)

    def _submit_authorization(self, fn: str, auth: Authorization, submitter: Account) -> Receipt:
        sig = auth.signature
        return self._write(fn, auth.sender, auth.to, auth.value, auth.valid_after, auth.valid_before, auth.nonce,
                           sig.v, sig.r, sig.s, sender=submitter)

    def transfer_with_authorization(self, auth: Authorization, *, sender: AccountLike) -> Receipt:
        """Submit a 'transfer' authorization (any account may relay it)."""
        return self._submit_authorization("transferWithAuthorization", auth, self._sender(sender))

    def receive_with_authorization(self, auth: Authorization, *, sender: AccountLike | None = None) -> Receipt:
        """Submit a 'receive' authorization; the chain accepts it only from the payee (the default)."""
        return self._submit_authorization("receiveWithAuthorization", auth, self._sender(sender or auth.to))

    def sign_cancellation(self, authorizer: AccountLike, nonce: bytes, *, chain_id: int | None = None) -> Cancellation:
        addr = self._addr(authorizer)
        sig = self._sign(authorizer, _CANCEL_TYPES, {"authorizer": addr, "nonce": nonce}, chain_id)
        return Cancellation(addr, nonce, sig)

    def cancel_authorization(self, cancellation: Cancellation, *, sender: AccountLike) -> Receipt:
        sig = cancellation.signature
        return self._write("cancelAuthorization", cancellation.authorizer, cancellation.nonce, sig.v, sig.r, sig.s,
                           sender=self._sender(sender))
