"""Every example in scripts/ runs to completion as a user would run it: `python scripts/NAME.py`,
in an empty working directory, on the in-process chain (and against anvil where it takes --rpc)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from support import ROOT

import chainpay

SCRIPTS = ROOT / "scripts"

# script -> (extra arguments, lines its output must contain)
EXPECTED = {
    "deploy.py": ([], ["DigitalCurrency", "manifest: chainpay-manifest.json"]),
    "onboard_platform.py": ([], ["registered Alice at tier 2", "Alice holds 1000.00 eCNY, Bob 250.50"]),
    "pay_and_revoke.py": ([], ["Alice paid Bob 120.50", "refused: DailyLimitExceeded (limit 500000, sent today 12050",
                               "transfer 1 REVOKED; Alice holds 5879.50 again"]),
    "pay_per_use.py": (["--uses", "25"], ["25 uses paid off chain; redeemed in 1 transaction(s)",
                                          "provider 2.25, platform 0.25, consumer 47.50 eCNY"]),
    "bridge_crossing.py": ([], ["delivered: 250 in", "fee 0.25", "money is on B (delivered)",
                                "person held 20000.00 on A and B together, now 19999.75"]),
    "platform_balances.py": ([], ["reserve 600.00, issued 600.00", "moved 500.00 from Pay A to Pay B", "refused: NotSameName",
                                  "may take out 400.00", "its reserve is now 0.00, and 400.00 of her balance is backed by nothing"]),
    "study_small.py": (["--transfers", "6", "--out", "out"], ["cross-chain bridge (HTLC)", "report: out/report.md"]),
    "x402_pay.py": (["--requests", "3"], ["exact: 'one paid article', settled in 0x", "10 base units",
                                          "3 exact payments and 3 vouchers paid; alice holds 9.70, provider 0.30, "
                                          "vouchers redeemed 0.30"]),
}
RPC_SCRIPTS = ("deploy.py", "onboard_platform.py", "pay_and_revoke.py", "pay_per_use.py")


def run(script: str, args: list[str], cwd) -> str:
    result = subprocess.run([sys.executable, str(SCRIPTS / script), *args], cwd=cwd, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, f"{script} failed:\n{result.stderr[-2000:]}"
    return result.stdout


def test_every_script_is_covered_and_short():
    assert sorted(p.name for p in SCRIPTS.glob("*.py")) == sorted(EXPECTED)
    for path in SCRIPTS.glob("*.py"):
        assert len(path.read_text().splitlines()) <= 80, f"{path.name} is over 80 lines"


def test_scripts_use_only_the_public_sdk():
    for path in SCRIPTS.glob("*.py"):
        for line in path.read_text().splitlines():
            if line.startswith(("import chainpay", "from chainpay")):
                assert "._" not in line and "testing" not in line, f"{path.name}: {line}"


@pytest.mark.parametrize("script", sorted(EXPECTED))
def test_script_runs_in_process(script, tmp_path):
    args, expected = EXPECTED[script]
    out = run(script, args, tmp_path)
    for line in expected:
        assert line in out, f"{script}: {line!r} not in\n{out}"


@pytest.mark.anvil
@pytest.mark.parametrize("script", RPC_SCRIPTS)
def test_script_runs_against_a_node(script, anvil_url, tmp_path):
    args, expected = EXPECTED[script]
    out = run(script, [*args, "--rpc", anvil_url], tmp_path)
    for line in expected[1:] if script == "deploy.py" else expected:
        assert line in out, f"{script}: {line!r} not in\n{out}"
    if script == "deploy.py":
        manifest = json.loads((tmp_path / "chainpay-manifest.json").read_text())
        assert manifest["chain_id"] == 31337 and manifest["rpc"] == anvil_url
        system = chainpay.load(tmp_path / "chainpay-manifest.json")
        assert system.currency.symbol == "eCNY"
