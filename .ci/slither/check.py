"""Slither over every contract in contracts/, with a committed triage: CI fails on a new finding.

Runs Slither (pinned in .ci/slither/requirements.txt, its own virtualenv: it needs web3 < 8) on the
same self-contained standard-JSON input `chainpay compile` builds, compiled by the pinned solcjs
through the `solc` shim beside this file. Every finding must be fixed or listed in triage.toml with
the reason it is kept; OpenZeppelin's own code is not analysed.

    python .ci/slither/check.py            # exit 1 on an untriaged finding or a triage entry without a reason
    python .ci/slither/check.py --update   # rewrite triage.toml: drop entries nothing matches any more,
                                           # append new findings with an empty reason to fill in

A finding is keyed by its detector and the first line of Slither's description with the source
locations removed ("HashedTimelockBridge.refund(uint256) ignores return value by token.transfer(...)"),
so moving code does not un-triage it while changing what a function does may.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TRIAGE = HERE / "triage.toml"
SLITHER = Path(os.environ.get("SLITHER", ROOT / ".venv-slither" / "bin" / "slither"))
# What crytic-compile needs from the compiler on top of chainpay's own output selection.
OUTPUTS = {"*": {"*": ["abi", "metadata", "devdoc", "userdoc", "evm.bytecode", "evm.deployedBytecode"], "": ["ast"]}}
_LOCATION = re.compile(r"\s*\([^()\n]*#\d+(?:-\d+)?\)")


@dataclass(frozen=True)
class Finding:
    check: str
    impact: str
    key: str  # the description's first line without source locations
    text: str  # the whole description, for the reader

    @classmethod
    def from_slither(cls, result: dict) -> "Finding":
        first = result["description"].strip().splitlines()[0]
        return cls(result["check"], result["impact"], _LOCATION.sub("", first).strip().rstrip(":"),
                   result["description"].strip())


def standard_input() -> dict:
    sys.path.insert(0, str(ROOT))
    from chainpay.core.compiler import Project, standard_input as build
    compiler_input = build(Project(ROOT))
    compiler_input["settings"] = dict(compiler_input["settings"], outputSelection=OUTPUTS)
    return compiler_input


def run_slither() -> list[Finding]:
    if not SLITHER.is_file():
        sys.exit(f"no Slither at {SLITHER}: run `make slither` (it installs .venv-slither)")
    with tempfile.TemporaryDirectory(prefix="slither-") as tmp:
        source = Path(tmp) / "input.json"
        report = Path(tmp) / "report.json"
        source.write_text(json.dumps(standard_input()))
        cmd = [str(SLITHER), str(source), "--compile-force-framework", "solc-json", "--solc", str(HERE / "solc"),
               "--filter-paths", "@openzeppelin", "--json", str(report)]
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
        if not report.is_file():
            sys.exit(f"Slither did not run (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
        data = json.loads(report.read_text())
    if not data.get("success"):
        sys.exit(f"Slither failed: {data.get('error')}")
    return [Finding.from_slither(r) for r in data.get("results", {}).get("detectors", [])]


def load_triage(path: Path = TRIAGE) -> list[dict]:
    if not path.is_file():
        return []
    return tomllib.loads(path.read_text()).get("finding", [])


def covers(entry: dict, finding: Finding) -> bool:
    """An entry covers a finding of its detector whose key equals its `finding`, or matches it as an
    fnmatch pattern (`*`, `?`)."""
    pattern = str(entry.get("finding", ""))
    return entry.get("check") == finding.check and (pattern == finding.key or fnmatch.fnmatchcase(finding.key, pattern))


def compare(findings: list[Finding], triage: list[dict]) -> tuple[list[Finding], list[dict], list[dict]]:
    """(untriaged findings, triage entries without a reason, entries no finding matches)."""
    untriaged = [f for f in findings if not any(covers(t, f) for t in triage)]
    no_reason = [t for t in triage if not str(t.get("reason", "")).strip()]
    stale = [t for t in triage if not any(covers(t, f) for f in findings)]
    return untriaged, no_reason, stale


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def rewrite(text: str, stale: list[dict], new: list[Finding]) -> str:
    """triage.toml's text without the stale entries' blocks and with an empty-reason entry per new
    finding at the end; comments and the order of the rest are kept."""
    head, *blocks = re.split(r"(?m)^(?=\[\[finding\]\]\s*$)", text)
    kept = [b for b in blocks if tomllib.loads(b)["finding"][0] not in stale]
    added = [f"[[finding]]\ncheck = {_quote(f.check)}\nfinding = {_quote(f.key)}\nreason = \"\"\n\n" for f in new]
    out = head + "".join(kept)
    return out.rstrip("\n") + "\n\n" + "".join(added) if added else out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="rewrite triage.toml (see the module docstring)")
    args = parser.parse_args(argv)
    findings = run_slither()
    triage = load_triage()
    untriaged, no_reason, stale = compare(findings, triage)
    if args.update:
        new = list({(f.check, f.key): f for f in untriaged}.values())
        TRIAGE.write_text(rewrite(TRIAGE.read_text() if TRIAGE.is_file() else "", stale, new))
        print(f"triage.toml: {len(stale)} stale entries dropped, {len(new)} new findings appended: write their reasons")
        untriaged, no_reason, stale = compare(findings, load_triage())
    for f in untriaged:
        print(f"UNTRIAGED [{f.check}, {f.impact}] {f.text}\n")
    for t in no_reason:
        print(f"NO REASON [{t['check']}] {t['finding']}")
    for t in stale:
        print(f"stale triage entry (nothing matches it; `make slither-triage` drops it): [{t['check']}] {t['finding']}")
    print(f"slither: {len(findings)} findings, {len(findings) - len(untriaged)} triaged, {len(untriaged)} untriaged, "
          f"{len(no_reason)} triage entries without a reason")
    return 1 if untriaged or no_reason else 0


if __name__ == "__main__":
    sys.exit(main())
