"""Base of the typed contract clients: encode, send, call, and role-holder defaults for senders."""

from __future__ import annotations

from typing import Any, ClassVar

from .abi import Artifact, load_artifact
from .chain import Account, AccountLike, Chain, Receipt


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
        raise TypeError(f"pass sender= for this call{needed}")

    def _read(self, fn: str, *args: Any, block: int | str = "latest") -> Any:
        function = self.artifact.fn(fn)
        return function.decode(self.chain.call(self.address, function.encode(args), block=block))

    def _write(self, fn: str, *args: Any, sender: Account, gas: int | None = None) -> Receipt:
        return self.chain.send(sender, self.address, self.artifact.fn(fn).encode(args), gas=gas)
