"""The pay-per-use bench sections: gas figures are deterministic, so their targets and their
arithmetic are checked here; voucher rates are reported by `chainpay bench`, not asserted."""

from __future__ import annotations

import pytest

from chainpay import bench


@pytest.fixture(scope="module")
def gas():
    return bench.bench_content_gas()


def test_channel_gas_per_use_meets_the_issue_targets(gas):
    assert gas["channel_1000"] <= 200  # issue 4: <= 200 gas per use at 1,000 uses
    assert gas["buy"] / gas["channel_1000"] >= 100  # and >= 100x cheaper than buy
    assert gas["channel_10"] > gas["channel_100"] > gas["channel_1000"]


def test_channel_gas_is_open_plus_close_over_uses(gas):
    assert gas["channel_1000"] == round((gas["open_gas"] + gas["close_with_voucher_gas"]) / 1000, 1)
    assert gas["channel_1000_separate_redeem"] > gas["channel_1000"]
    assert gas["channel_1000_all_in"] == round(
        (gas["open_gas"] + gas["close_with_voucher_gas"] + gas["withdraw_gas"] + gas["distribute_gas"]
         + sum(gas["payee_withdraw_gas"])) / 1000, 1)
    assert len(gas["payee_withdraw_gas"]) == 3 and min(gas["payee_withdraw_gas"]) > 34_000  # one transfer each
    # buy moves the buyer's currency once and credits three payees; each withdraws later in one transfer
    assert 34_000 < gas["buy"] < 3 * 51_385 and gas["buy_payee_withdraw_gas"] > 34_000


def test_voucher_bench_checks_its_own_results():
    result = bench.bench_vouchers(count=200)
    assert set(result) == {"sign_per_s", "verify_per_s", "eth_account_sign_per_s", "eth_account_verify_per_s",
                           "sign_ratio", "verify_ratio"}
    assert all(value > 0 for value in result.values())
