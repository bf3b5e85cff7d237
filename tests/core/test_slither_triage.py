"""The static-analysis gate (.ci/slither): the solc shim over the pinned solcjs, and the triage logic
that fails CI on a new finding (Slither itself runs in `make slither`, not here: it needs its own venv)."""

import importlib.util
import json
import subprocess
import sys
import tomllib
from pathlib import Path


ROOT = Path(__file__).resolve().parents[2]
SHIM = ROOT / ".ci" / "slither" / "solc"
_spec = importlib.util.spec_from_file_location("slither_check", ROOT / ".ci" / "slither" / "check.py")
check = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = check  # dataclasses look their module up
_spec.loader.exec_module(check)


def _finding(check_name, first_line, impact="Low"):
    return check.Finding.from_slither({"check": check_name, "impact": impact,
                                       "description": first_line + "\n\tmore detail (contracts/x.sol#1)\n"})


def test_shim_answers_version_and_standard_json_with_the_pinned_solcjs():
    from chainpay.core.compiler import SOLC_VERSION

    out = subprocess.run([str(SHIM), "--version"], capture_output=True, text=True, timeout=120, check=True).stdout
    assert f"Version: {SOLC_VERSION}+commit" in out
    source = "// SPDX-License-Identifier: MIT\npragma solidity 0.8.37;\ncontract C { function f() external pure returns (uint) { return 1; } }"
    request = {"language": "Solidity", "sources": {"c.sol": {"content": source}},
               "settings": {"outputSelection": {"*": {"*": ["abi"], "": ["ast"]}}}}
    proc = subprocess.run([str(SHIM), "--standard-json", "--allow-paths", "."], input=json.dumps(request),
                          capture_output=True, text=True, timeout=120, check=True)
    output = json.loads(proc.stdout)  # nothing but the JSON on stdout (solcjs's CLI prints a banner first)
    assert output["contracts"]["c.sol"]["C"]["abi"][0]["name"] == "f" and "ast" in output["sources"]["c.sol"]
    refused = subprocess.run([str(SHIM), "--combined-json", "abi"], capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "only --version and --standard-json" in refused.stderr


def test_a_finding_is_keyed_without_source_locations():
    f = _finding("timestamp", "HashedTimelockBridge.refund(uint256) (contracts/bridge/HashedTimelockBridge.sol#163-171) "
                              "uses timestamp for comparisons")
    assert f.key == "HashedTimelockBridge.refund(uint256) uses timestamp for comparisons"


def test_untriaged_new_finding_fails_and_exact_or_pattern_entries_cover():
    findings = [_finding("timestamp", "A.f() (contracts/a.sol#1) uses timestamp for comparisons"),
                _finding("unchecked-transfer", "B.g() (contracts/b.sol#2-3) ignores return value by token.transfer(p[i],x)"),
                _finding("reentrancy-eth", "Reentrancy in C.h() (contracts/c.sol#9):", impact="High")]
    triage = [{"check": "timestamp", "finding": "* uses timestamp for comparisons", "reason": "deadlines"},
              {"check": "unchecked-transfer", "finding": "B.g() ignores return value by token.transfer(p[i],x)",
               "reason": "own token"},  # brackets are literal in an exact entry
              {"check": "timestamp", "finding": "Gone.f() uses timestamp for comparisons", "reason": "old"},
              {"check": "assembly", "finding": "X uses assembly", "reason": " "}]
    untriaged, no_reason, stale = check.compare(findings, triage)
    assert [f.key for f in untriaged] == ["Reentrancy in C.h()"]
    assert [t["finding"] for t in no_reason] == ["X uses assembly"]
    assert [t["finding"] for t in stale] == ["Gone.f() uses timestamp for comparisons", "X uses assembly"]
    # the same detector's pattern never covers another detector's finding
    assert not check.covers({"check": "timestamp", "finding": "*", "reason": "r"}, findings[2])


def test_update_drops_stale_entries_appends_new_ones_without_a_reason_and_keeps_comments():
    text = ('# header comment\n\n[[finding]]\ncheck = "timestamp"\nfinding = "Gone.f() uses timestamp for comparisons"\n'
            'reason = "old"\n\n# kept comment\n[[finding]]\ncheck = "assembly"\nfinding = "X uses assembly"\nreason = "why"\n')
    entries = tomllib.loads(text)["finding"]
    new = _finding("reentrancy-eth", "Reentrancy in C.h() (contracts/c.sol#9):")
    out = check.rewrite(text, [entries[0]], [new])
    assert out.startswith("# header comment") and "Gone.f()" not in out
    assert tomllib.loads(out)["finding"] == [entries[1], {"check": "reentrancy-eth", "finding": "Reentrancy in C.h()", "reason": ""}]
    assert check.compare([new], tomllib.loads(out)["finding"])[1][0]["check"] == "reentrancy-eth"  # no reason yet: CI fails


def test_the_committed_triage_gives_every_entry_a_reason():
    entries = check.load_triage()
    assert entries and all(str(t.get("reason", "")).strip() for t in entries)
    assert all(t.get("check") and t.get("finding") for t in entries)
