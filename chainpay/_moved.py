"""Module paths from before the subpackage layout, kept importable (``import chainpay.registry`` still
works and gives ``chainpay.currency.registry``), with a DeprecationWarning naming the new path.

One table instead of a shim file per old module, so the tree shows only the real layout.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import warnings

MOVED = {
    "abi": "core.abi", "abitypes": "core.abitypes", "errors": "core.errors", "money": "core.money",
    "compiler": "core.compiler", "contract": "core.contract",
    "registry": "currency.registry",
    "catalogue": "content.catalogue", "channels": "content.channels", "vouchers": "content.vouchers",
    "voucher_store": "content.store", "paywall": "content.paywall",
    "connector": "bridge.connector", "crossing": "bridge.crossing", "twochain": "bridge.network",
    "transfer_cli": "cli.transfer",
}
# Kept silent: `from chainpay import errors` / `import chainpay.errors` is the documented way in.
_DOCUMENTED = {"errors"}


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path=None, target=None):
        prefix, _, name = fullname.partition(".")
        if prefix != "chainpay" or name not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec):
        return None  # a placeholder; exec_module swaps in the real module

    def exec_module(self, module):
        old = module.__name__
        new = "chainpay." + MOVED[old.split(".", 1)[1]]
        if old.split(".", 1)[1] not in _DOCUMENTED:
            warnings.warn(f"{old} moved to {new}", DeprecationWarning, stacklevel=2)
        sys.modules[old] = importlib.import_module(new)  # the import system returns what sys.modules holds


def install() -> None:
    if not any(isinstance(f, _Alias) for f in sys.meta_path):
        sys.meta_path.append(_Alias())
