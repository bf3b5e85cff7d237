"""Every Python block of the README runs as written, in order, in one session (as a reader pastes them)."""

from __future__ import annotations

import re

import pytest
from support import ROOT

BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.DOTALL)


def test_the_readme_has_python_blocks():
    assert len(BLOCKS) >= 3


def test_every_readme_python_block_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # blocks may write files (the voucher store)
    namespace: dict = {"__name__": "readme"}
    for n, block in enumerate(BLOCKS, 1):
        try:
            exec(compile(block, f"README.md python block {n}", "exec"), namespace)
        except Exception as exc:  # name the block in the failure
            pytest.fail(f"README python block {n} fails: {type(exc).__name__}: {exc}\n{block}")
    printed = capsys.readouterr().out
    assert "500000 12050 490000" in printed  # the first block's DailyLimitExceeded comment is what it prints
