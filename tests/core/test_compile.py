"""The committed artifacts match a fresh build, and the gas-critical storage packing holds."""

import json
import shutil

import pytest

from chainpay.core import compiler


@pytest.fixture(scope="module")
def fresh_output():
    return compiler.compile_output(extra_outputs=("storageLayout",))


@pytest.fixture(scope="module")
def fresh_artifacts():
    return compiler.build()


def test_committed_artifacts_equal_a_fresh_build(fresh_artifacts):
    assert set(fresh_artifacts) == {"BaselineERC20", "DigitalCurrency", "IdentityRegistry", "RevocableTransfers",
                                    "ContentCatalogue", "PaymentChannels", "HashedTimelockBridge", "PlatformBalances"}
    assert compiler.diff_artifacts(fresh_artifacts) == []


def test_check_detects_a_stale_missing_or_extra_artifact(fresh_artifacts, tmp_path):
    shutil.copytree(compiler.ARTIFACTS_DIR, tmp_path / "a")
    stale = tmp_path / "a" / "DigitalCurrency.json"
    doc = json.loads(stale.read_text())
    doc["bytecode"] = doc["bytecode"][:-2] + "00"
    stale.write_text(json.dumps(doc))
    (tmp_path / "a" / "IdentityRegistry.json").unlink()
    (tmp_path / "a" / "Old.json").write_text("{}")
    assert compiler.diff_artifacts(fresh_artifacts, tmp_path / "a") == ["DigitalCurrency", "IdentityRegistry", "Old"]


def test_artifacts_record_compiler_and_settings(fresh_artifacts):
    art = fresh_artifacts["DigitalCurrency"]
    assert art["compiler"]["version"] == compiler.SOLC_VERSION
    assert art["compiler"]["settings"]["evmVersion"] == "prague"
    assert art["compiler"]["settings"]["optimizer"] == {"enabled": True, "runs": 10_000}
    assert art["sourceName"] == "contracts/token/DigitalCurrency.sol"
    assert art["bytecode"].startswith("0x6") and len(art["deployedBytecode"]) > 1000


def test_contracts_stay_under_the_code_size_limit(fresh_artifacts):
    for name, art in fresh_artifacts.items():
        assert (len(art["deployedBytecode"]) - 2) // 2 <= 24_576, name


def test_pause_flag_and_tier_limits_share_one_storage_slot(fresh_output):
    # DigitalCurrency reads the pause flag and the sender tier's limit with one cold SLOAD; an
    # inheritance change that moved them apart would silently cost 2,100 gas per transfer.
    layout = fresh_output["contracts"]["contracts/token/DigitalCurrency.sol"]["DigitalCurrency"]["storageLayout"]["storage"]
    slots = {v["label"]: v["slot"] for v in layout}
    packed = {slots[label] for label in ("_paused", "_limitTier1", "_limitTier2", "_limitTier3", "_limitTier4", "_limitTier5")}
    assert len(packed) == 1


def test_imports_are_resolved_and_inlined():
    sources = compiler.collect_sources(compiler.Project.find())
    assert "contracts/access/IIdentityRegistry.sol" in sources
    assert "@openzeppelin/contracts/token/ERC20/ERC20.sol" in sources
    assert all("content" in v for v in sources.values())


def test_a_solidity_error_names_its_file_line_and_column():
    source = "// SPDX-License-Identifier: MIT\npragma solidity ^0.8.0;\ncontract A {\n    uint x\n}\n"
    error = {"type": "ParserError", "message": "Expected ';' but got '}'", "severity": "error",
             "sourceLocation": {"file": "contracts/A.sol", "start": source.index("}\n") , "end": 0}}
    located = compiler._located(error, {"contracts/A.sol": {"content": source}})
    assert located == "contracts/A.sol:5:1: ParserError: Expected ';' but got '}'"
    assert compiler._located({"type": "JSONError", "message": "bad"}, {}) == "JSONError: bad"
