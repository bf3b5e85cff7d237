"""The package's shape: no import cycle inside chainpay/, no oversized module without a reason, and
the module paths from before the subpackage layout still import (with a DeprecationWarning)."""

from __future__ import annotations

import ast
import importlib
import sys
import warnings
from pathlib import Path

import pytest

import chainpay
from chainpay._moved import MOVED

PACKAGE = Path(chainpay.__file__).resolve().parent
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(("chainpay", *path.relative_to(PACKAGE).with_suffix("").parts))
        found[name.removesuffix(".__init__")] = path
    return found


def _executed_nodes(tree: ast.AST):
    """Every node, except inside `if TYPE_CHECKING:` (imports for type hints only never run)."""
    for child in ast.iter_child_nodes(tree):
        if isinstance(child, ast.If) and getattr(child.test, "id", None) == "TYPE_CHECKING":
            yield from (n for stmt in child.orelse for n in _executed_nodes(stmt))
            continue
        yield child
        yield from _executed_nodes(child)


def import_graph() -> dict[str, set[str]]:
    """Module -> the chainpay modules it imports (at any depth of the file, lazy imports included)."""
    modules = _modules()
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
        for node in _executed_nodes(ast.parse(path.read_text())):
            targets = []
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    base = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
                subs = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in modules]
                targets = subs or [base]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            graph[module].update(t for t in targets if t in modules and t != module)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_no_import_cycle_inside_chainpay():
    graph = import_graph()
    assert "chainpay.core.errors" in graph["chainpay.chain.base"]  # the scan sees relative imports
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


def test_the_cycle_check_catches_a_cycle():
    graph = import_graph()
    graph["chainpay.core.errors"].add("chainpay.system")  # what a careless import would add
    assert find_cycle(graph) is not None


def test_core_knows_no_contract_family_or_engine():
    graph = import_graph()
    for module, imports in graph.items():
        if module.startswith("chainpay.core"):
            assert all(i.startswith("chainpay.core") for i in imports), (module, imports)


def test_long_modules_say_why():
    for module, path in _modules().items():
        text = path.read_text()
        if len(text.splitlines()) > MAX_LINES:
            assert "Why this module is long" in ast.get_docstring(ast.parse(text)) or "", module


@pytest.mark.parametrize("old", sorted(MOVED))
def test_old_module_paths_still_import(old, monkeypatch):
    monkeypatch.delitem(sys.modules, f"chainpay.{old}", raising=False)  # another test may have imported it
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = importlib.import_module(f"chainpay.{old}")
    assert module is importlib.import_module(f"chainpay.{MOVED[old]}")
    if old != "errors":
        assert any(issubclass(w.category, DeprecationWarning) and MOVED[old] in str(w.message) for w in caught)


def test_public_api_unchanged():
    from chainpay.voucher_store import VoucherStore  # noqa: F401

    from chainpay import errors
    from chainpay.content import ContentClient, ContentProvider  # noqa: F401  (the README's paths)

    for name in ("connect", "deploy", "load", "identity_id", "DeployConfig", "System", "Chain", "Receipt"):
        assert hasattr(chainpay, name)
    assert errors.revert_class("DailyLimitExceeded").__name__ == "DailyLimitExceeded"
    assert chainpay.testing.__name__ == "chainpay.testing" if hasattr(chainpay, "testing") else True


def test_subpackages_form_layers():
    """Collapsed to subpackages (chainpay.core, chainpay.chain, ...), imports still have no cycle:
    the tree reads bottom-up, core -> chain -> currency -> families -> system -> studies / cli."""
    layered: dict[str, set[str]] = {}
    for module, imports in import_graph().items():
        group = ".".join(module.split(".")[:2])
        layered.setdefault(group, set()).update(".".join(i.split(".")[:2]) for i in imports)
    for group, imports in layered.items():
        imports.discard(group)
    assert find_cycle(layered) is None, " -> ".join(find_cycle(layered))
