"""The CLI: commands work, and every error is one plain line with a non-zero exit."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chainpay.core import compiler

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args, env=None, cwd=ROOT):
    full_env = {k: v for k, v in os.environ.items() if k != "CHAINPAY_DEBUG"}
    full_env.update(env or {})
    full_env["COLUMNS"] = "200"
    return subprocess.run([sys.executable, "-m", "chainpay", *args], capture_output=True, text=True, cwd=cwd,
                          env=full_env, timeout=300)


def assert_one_plain_error_line(result, fragment):
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert fragment in lines[0]


def test_demo_tells_the_story_and_ends_with_a_balance_table():
    result = run_cli("demo")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "refused DailyLimitExceeded" in out
    assert "refused AddressFrozen" in out
    assert "Balances (eCNY)" in out
    assert "Alice" in out and "443.50" in out and "frozen" in out
    assert "54,600.00" in out  # total supply: 6,000 + 800 + 300 + 6,500 + 2 x 20,000 (treasuries) + 1,000 (Dora), none burnt
    # revocable transfers: a mis-sent one revoked, a large one approved and delivered, a dispute resolved
    assert "revoked within the window: Bob has 5,802.50 again" in out
    assert "transfer 2: awaiting approval" in out and "approved on the phone" in out
    assert "keeper delivers 1 due transfer(s)" in out and "Bob now has 11,802.50" in out
    assert "transfer 3: disputed" in out and "resolved to sender" in out and "escrow now holds 0.00" in out
    # platform balances: issued against reserve, interconverted, a large one revoked, a capped wallet's excess
    assert "settled in block" in out and "A balance 250.00, B balance 150.00" in out
    assert "transfer 4: awaiting approval" in out and "revoked before her phone approves it" in out
    assert "446.00 lands in its wallet" in out and "54.00 in its Platform B balance" in out
    assert "Platform balances and reserves" in out and "reserve (8,454.00)" in out and "Dora" in out


def test_compile_check_passes_on_the_committed_artifacts():
    result = run_cli("compile", "--check")
    assert result.returncode == 0, result.stderr
    committed = len(list(compiler.ARTIFACTS_DIR.glob("*.json")))
    assert f"artifacts up to date ({committed} contracts)" in result.stdout


def test_deploy_writes_a_manifest(tmp_path):
    out = tmp_path / "manifest.json"
    result = run_cli("deploy", "--out", str(out))
    assert result.returncode == 0, result.stderr
    manifest = json.loads(out.read_text())
    assert set(manifest["contracts"]) == {"IdentityRegistry", "DigitalCurrency", "RevocableTransfers",
                                          "ContentCatalogue", "PaymentChannels", "PlatformBalances"}
    assert manifest["rpc"] is None and manifest["roles"]["ISSUER"]
    assert "in-process chain ends with this command" in result.stdout


def test_unreachable_node_is_one_line():
    result = run_cli("deploy", "--rpc", "http://127.0.0.1:9", "--out", "/tmp/never.json")
    assert_one_plain_error_line(result, "no Ethereum JSON-RPC node answers at http://127.0.0.1:9")


def test_bad_config_is_one_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("decimals = [")
    result = run_cli("deploy", "--config", str(bad), "--out", str(tmp_path / "m.json"))
    assert_one_plain_error_line(result, "cannot read deploy config")
    assert not (tmp_path / "m.json").exists()


def test_a_config_the_contract_would_refuse_is_refused_before_deploying(tmp_path):
    cfg = tmp_path / "deploy.json"
    cfg.write_text(json.dumps({"decimals": 19}))  # DigitalCurrency would revert InvalidDecimals(19)
    result = run_cli("deploy", "--config", str(cfg), "--out", str(tmp_path / "m.json"))
    assert_one_plain_error_line(result, "decimals is a whole number in 0..18, got 19")


def test_usage_errors_exit_2_without_traceback():
    result = run_cli("deploy", "--no-such-flag")
    assert result.returncode == 2
    assert "No such option" in result.stderr and "Traceback" not in result.stderr


def test_bench_json_has_the_documented_shape(tmp_path):
    out = tmp_path / "bench.json"
    result = run_cli("bench", "--json", str(out), "--transfers", "10", "--engine-transfers", "50",
                     "--paywall-seconds", "0.5", "--paywall-clients", "4")
    assert result.returncode == 0, result.stderr
    cur = json.loads(out.read_text())["currency"]
    # the engine section (issue 10): both engines measured in this run, same gas and typed errors
    engine = json.loads(out.read_text())["engine"]
    assert isinstance(engine["eth_tester_tx_per_s"], float) and isinstance(engine["edr_tx_per_s"], float)
    assert engine["ratio"] == pytest.approx(engine["edr_tx_per_s"] / engine["eth_tester_tx_per_s"], rel=0.01)
    assert engine["gas_equal"] is True and engine["steps_compared"] >= 6
    assert "engines" in result.stdout
    for key, kind in (("transfer_gas", int), ("oz_erc20_transfer_gas", int), ("gas_ratio", float),
                      ("sdk_tx_per_s", float), ("naive_web3_tx_per_s", float)):
        assert isinstance(cur[key], kind), key
    # Gas is deterministic, so the target is checked here; throughput is reported, not asserted.
    assert cur["oz_erc20_transfer_gas"] == 34_311
    assert cur["gas_ratio"] == pytest.approx(cur["transfer_gas"] / cur["oz_erc20_transfer_gas"], abs=1e-4)
    assert cur["gas_ratio"] <= 1.55  # issue 13 moved the ceiling from 1.5x to make room for wallet classes
    assert "transfers per second" in result.stdout
    # revocable transfers: every step measured against a plain transfer on the same chain
    tr = json.loads(out.read_text())["transfers"]
    assert tr["currency_transfer_gas"] == cur["transfer_gas"]
    for key in ("send_gas", "send_with_permit_gas", "second_approval_gas", "revoke_gas", "release_gas",
                "release_many_10_per_item_gas", "release_many_50_per_item_gas"):
        assert isinstance(tr[key], int), key
        assert key.startswith("release_many") or tr[key] > 21_000, key  # a whole transaction each
    # escrowing costs more than paying directly; batching amortises the per-transaction cost
    assert tr["send_gas"] > tr["currency_transfer_gas"]
    assert tr["release_many_50_per_item_gas"] < tr["release_many_10_per_item_gas"] < tr["release_gas"]
    assert "revocable transfers" in result.stdout and "releaseMany, per item of 50" in result.stdout
    # pay-per-use sections (issue 4): shape and the deterministic gas targets
    results = json.loads(out.read_text())
    assert set(results["vouchers"]) >= {"sign_per_s", "verify_per_s", "eth_account_sign_per_s", "eth_account_verify_per_s"}
    content = results["content_gas_per_use"]
    assert set(content) >= {"buy", "channel_10", "channel_100", "channel_1000"}
    # bridge section (issue 11): the four steps add up to the crossing, each a whole transaction
    br = results["bridge"]
    steps = ("sender_lock_with_permit_gas", "connector_lock_gas", "recipient_claim_gas", "connector_claim_gas")
    assert sum(br[k] for k in steps) == br["crossing_gas"] and all(br[k] > 21_000 for k in steps)
    assert br["crossing_over_transfer"] == round(br["crossing_gas"] / br["currency_transfer_gas"], 2)
    assert "bridge crossing" in result.stdout
    assert content["channel_1000"] <= 200 and content["buy"] / content["channel_1000"] >= 100
    assert "content gas per use" in result.stdout and "vouchers" in result.stdout
    # platforms section (issue 13): each operation a whole transaction; the class checks' costs add up
    pl = results["platforms"]
    for key in ("top_up_with_permit_gas", "top_up_gas", "redeem_gas", "interconvert_gas", "waterfall_transfer_gas"):
        assert pl[key] > 21_000, key
    esc = pl["interconvert_through_escrow_gas"]
    assert esc["total"] == esc["send"] + esc["second_approval"] + esc["release"] > pl["interconvert_gas"]
    classes = pl["currency_transfer"]
    assert classes["gas"]["no_class_limits"] == cur["transfer_gas"]
    assert classes["cost_of_each_check"]["all_three"] == classes["gas"]["all_three"] - cur["transfer_gas"] > 0
    assert "platform balances" in result.stdout and "wallet classes" in result.stdout
    # x402 paywall section (issue 15): measured through uvicorn; books checked; gas deterministic
    pw = results["paywall"]
    assert pw["books_checked"] is True and all(pw["checks"].values())
    assert pw["exact_paid_requests_per_s"] > 0 and pw["channel_paid_requests_per_s"] > 0
    assert pw["gas_per_request_exact"] > 21_000 and pw["gas_per_request_channel_1000"] < 300
    assert pw["gas_per_request_channel_1000"] == round((pw["open_gas"] + pw["close_gas"]) / 1000, 1)
    assert "x402 paywall" in result.stdout


def test_without_node_the_fast_engine_falls_back_with_one_line(tmp_path):
    env = {"CHAINPAY_NODE": str(tmp_path / "no-node"), "CHAINPAY_NODE_MODULES": str(tmp_path)}
    result = run_cli("study", "bridging", "--transfers", "2", "--out", str(tmp_path / "out"), env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    notes = [line for line in result.stdout.splitlines() if "fast engine unavailable" in line]
    assert len(notes) == 1 and "eth-tester" in notes[0]
    refused = run_cli("study", "bridging", "--transfers", "2", "--engine", "edr", "--out", str(tmp_path / "o2"),
                      env=env, cwd=tmp_path)
    assert_one_plain_error_line(refused, "no-node")
