"""Base of the typed contract clients: encode, send, call, and role-holder defaults for senders."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from eth_utils import keccak

from . import errors
from .abi import Artifact, load_artifact

if TYPE_CHECKING:  # core stands below the chain engines: it names their types, never imports them
    from ..chain import Account, AccountLike, Chain, Receipt


def role_id(role: str | bytes) -> bytes:
    """An AccessControl role id from its name ("ISSUER", "DEFAULT_ADMIN", ...) or the 32-byte id."""
    if isinstance(role, bytes):
        return role
    return b"\x00" * 32 if role == "DEFAULT_ADMIN" else keccak(text=role)


class ContractClient:
    """A deployed contract bound to a chain. Subclasses name their artifact."""

    artifact_name: ClassVar[str]

    def __init__(self, chain: Chain, address: str, role_holders: dict[str, Account] | None = None):
        self.chain = chain
        self.address = chain.account(address).address
        self.artifact: Artifact = load_artifact(self.artifact_name)
        # Who signs role-guarded calls when the caller names no sender (from the deployment).
        self.role_holders = dict(role_holders or {})

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.address})"

    def _sender(self, sender: AccountLike | None, role: str | None = None) -> Account:
        if sender is not None:
            return self.chain.account(sender)
        if role and role in self.role_holders:
            return self.role_holders[role]
        needed = f" (no {role} holder is known for this deployment)" if role else ""
        raise errors.WrongType(f"pass sender= for this call{needed}")

    def _read(self, fn: str, *args: Any, block: int | str = "latest") -> Any:
        function = self.artifact.fn(fn)
        data = self.chain.call(self.address, function.encode(args), block=block)
        if not data and function.outputs:
            raise errors.NoContractCode(
                f"no {self.artifact_name} contract at {self.address} on {self.chain.describe()} (chain id "
                f"{self.chain.chain_id}): a manifest from another chain, or a node restarted since the deployment?")
        return function.decode(data)

    def check_code(self) -> None:
        """NoContractCode unless this address holds a contract answering this artifact's views
        (a manifest from another chain, or a node restarted since the deployment)."""
        probe = next((f for f in self.artifact.functions.values()
                      if f.mutability in ("view", "pure") and not f.inputs and f.outputs), None)
        if probe is not None:
            self._read(probe.name)

    def _write(self, fn: str, *args: Any, sender: Account, gas: int | None = None) -> Receipt:
        return self.chain.send(sender, self.address, self.artifact.fn(fn).encode(args), gas=gas)

    # ------------------------------------------------------------- AccessControl (every chainpay contract)
    def has_role(self, role: str | bytes, account: AccountLike) -> bool:
        return self._read("hasRole", role_id(role), self.chain.account(account).address)

    def grant_role(self, role: str | bytes, account: AccountLike, *, sender: AccountLike | None = None) -> Receipt:
        """Grant a role (the sender must hold the role's admin role, DEFAULT_ADMIN by default)."""
        return self._write("grantRole", role_id(role), self.chain.account(account).address,
                           sender=self._sender(sender, "DEFAULT_ADMIN"))

    def revoke_role(self, role: str | bytes, account: AccountLike, *, sender: AccountLike | None = None) -> Receipt:
        return self._write("revokeRole", role_id(role), self.chain.account(account).address,
                           sender=self._sender(sender, "DEFAULT_ADMIN"))
