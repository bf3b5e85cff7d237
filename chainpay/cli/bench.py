"""`chainpay bench`: gas and throughput against plain baselines, printed as tables (and JSON)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import click
from rich.table import Table

from .common import check_writable_file, console, engine_option, pick_engine, status

MAX_TRANSFERS = 10_000  # bounds a run's time: the eth-tester throughput runs take ~0.1 s per transfer


@click.command()
@click.option("--json", "json_out", type=click.Path(path_type=Path), default=None, help="Also write the results as JSON here.")
@click.option("--transfers", type=click.IntRange(min=10, max=MAX_TRANSFERS), default=200, show_default=True,
              help=f"Transfers per eth-tester throughput measurement (at most {MAX_TRANSFERS:,}).")
@click.option("--engine-transfers", type=click.IntRange(min=10, max=10 * MAX_TRANSFERS), default=2000, show_default=True,
              help="Transfers measured on the fast engine (eth-tester runs --transfers).")
@click.option("--paywall-seconds", type=click.FloatRange(min=0.5, max=600), default=3.0, show_default=True,
              help="Seconds of the paywall load test's channel run (the exact run takes at most 2).")
@click.option("--paywall-clients", type=click.IntRange(min=1, max=200), default=16, show_default=True,
              help="Concurrent paying clients of the paywall load test's channel run.")
@engine_option
def bench(json_out: Optional[Path], transfers: int, engine_transfers: int, engine: str, paywall_seconds: float,
          paywall_clients: int):
    """Measure gas and throughput against plain baselines in one run."""
    from .. import bench as benchmarks

    if json_out:
        check_writable_file(json_out, "results file")
    engine = pick_engine(engine)
    with status("benchmarking…") as shown:
        results = benchmarks.run(transfers, progress=lambda step: shown.update(f"benchmarking: {step}…"), engine=engine,
                                 engine_transfers=engine_transfers, paywall_seconds=paywall_seconds,
                                 paywall_clients=paywall_clients)
    cur = results["currency"]
    table = Table(title="chainpay bench: currency")
    for col in ("measure", "chainpay", "baseline", "ratio"):
        table.add_column(col, justify="right" if col != "measure" else "left")
    table.add_row("transfer gas (steady state)", f"{cur['transfer_gas']:,}", f"{cur['oz_erc20_transfer_gas']:,} (OZ ERC-20)", f"{cur['gas_ratio']:.3f}x")
    table.add_row("transfer gas (new recipient)", f"{cur['new_recipient_transfer_gas']:,}", f"{cur['oz_erc20_new_recipient_transfer_gas']:,} (OZ ERC-20)",
                  f"{cur['new_recipient_transfer_gas'] / cur['oz_erc20_new_recipient_transfer_gas']:.3f}x")
    table.add_row("transfer gas (identity's first outflow ever)", f"{cur['first_outflow_transfer_gas']:,}", f"{cur['oz_erc20_first_transfer_gas']:,} (OZ ERC-20)",
                  f"{cur['first_outflow_transfer_gas'] / cur['oz_erc20_first_transfer_gas']:.3f}x")
    table.add_row("transfers per second (eth-tester)", f"{cur['sdk_tx_per_s']:,}", f"{cur['naive_web3_tx_per_s']:,} (web3 transact())", f"{cur['tx_per_s_ratio']:.2f}x")
    console.print(table)
    _engine_table(results["engine"])
    _transfers_table(results["transfers"])
    _print_content_bench(results)
    _bridge_table(results["bridge"])
    _platforms_tables(results["platforms"])
    _paywall_table(results["paywall"])
    if json_out:
        json_out.write_text(json.dumps(results, indent=2) + "\n")
        console.print(f"results written to {json_out}")


def _engine_table(e: dict) -> None:
    table = Table(title="chainpay bench: engines (currency transfers through the SDK, one run)")
    for col in ("engine", "transfers per second", "gas and errors as eth-tester"):
        table.add_column(col, justify="left" if col == "engine" else "right")
    table.add_row("eth-tester (py-evm, reference)", f"{e['eth_tester_tx_per_s']:,}", "-")
    if e.get("edr_tx_per_s") is None:
        table.add_row("EDR", "unavailable", e.get("unavailable", ""))
    else:
        table.add_row(f"EDR ({e['ratio']}x)", f"{e['edr_tx_per_s']:,}", "identical" if e["gas_equal"] else "DIFFERENT")
    console.print(table)


def _steps_table(title: str, rows: list[tuple[str, int]], base: int, base_label: str = "x currency transfer") -> None:
    """Gas per step against a baseline (`base`, a plain currency transfer by default), one row each."""
    table = Table(title=title)
    for col in ("step", "gas", base_label):
        table.add_column(col, justify="left" if col == "step" else "right")
    for label, gas in rows:
        table.add_row(label, f"{gas:,}", f"{gas / base:.2f}x")
    console.print(table)


def _transfers_table(tr: dict) -> None:
    base = tr["currency_transfer_gas"]
    rows = [("send (after a separate approve)", tr["send_gas"]), ("  the approve itself", tr["approve_allowance_gas"]),
            ("send with permit (one transaction)", tr["send_with_permit_gas"]),
            ("second approval", tr["second_approval_gas"]), ("revoke (refund + limit give-back)", tr["revoke_gas"]),
            ("release", tr["release_gas"])]
    rows += [(f"releaseMany, per item of {key.split('_')[2]} (10 recipients)", tr[key])
             for key in tr if key.startswith("release_many_")]
    rows.append(("plain currency transfer", base))
    _steps_table("chainpay bench: revocable transfers (gas; baseline: a plain currency transfer)", rows, base)


def _print_content_bench(results: dict) -> None:
    """Tables of the pay-per-use sections: voucher signatures and gas per use."""
    v = results["vouchers"]
    table = Table(title="chainpay bench: vouchers (EIP-712, per second)")
    for col in ("measure", "chainpay (keccak + coincurve)", "eth-account sign_typed_data", "ratio"):
        table.add_column(col, justify="right" if col != "measure" else "left")
    table.add_row("sign", f"{v['sign_per_s']:,}", f"{v['eth_account_sign_per_s']:,}", f"{v['sign_ratio']}x")
    table.add_row("verify (recover + compare)", f"{v['verify_per_s']:,}", f"{v['eth_account_verify_per_s']:,}",
                  f"{v['verify_ratio']}x")
    console.print(table)
    g = results["content_gas_per_use"]
    table = Table(title="chainpay bench: content gas per use")
    table.add_column("way of paying")
    table.add_column("gas per use", justify="right")
    table.add_column("vs buy", justify="right")
    table.add_row("buy (on chain, 3 payees credited)", f"{g['buy']:,}", "1x")
    for n in (10, 100, 1000):
        table.add_row(f"channel, {n:,} uses (open + close with last voucher) / {n:,}", f"{g[f'channel_{n}']:,}",
                      f"{g['buy'] / g[f'channel_{n}']:,.1f}x cheaper")
    table.add_row("channel, 1,000 uses, separate redeem tx", f"{g['channel_1000_separate_redeem']:,}", "")
    table.add_row("channel, 1,000 uses, + its own withdraw, distribute and payee withdrawals",
                  f"{g['channel_1000_all_in']:,}", "")
    console.print(table)
    console.print(f"per transaction: open {g['open_gas']:,}, close with voucher {g['close_with_voucher_gas']:,}, "
                  f"redeem {g['redeem_gas']:,}, withdraw {g['withdraw_gas']:,} (one per consumer, any number of "
                  f"channels), distribute {g['distribute_gas']:,} (one per listing, any number of channels), "
                  f"payee withdrawals {', '.join(f'{x:,}' for x in g['payee_withdraw_gas'])} (one per payee, any "
                  f"number of listings), a payee's withdrawal from the catalogue {g['buy_payee_withdraw_gas']:,}")



def _bridge_table(br: dict) -> None:
    steps = (("sender's lock on A (with permit)", "sender_lock_with_permit_gas"),
             ("connector's lock on B", "connector_lock_gas"), ("recipient's claim on B", "recipient_claim_gas"),
             ("connector's claim on A", "connector_claim_gas"), ("whole crossing", "crossing_gas"),
             ("plain currency transfer", "currency_transfer_gas"))
    _steps_table("chainpay bench: bridge crossing (gas, steady state; baseline: a plain currency transfer)",
                 [(label, br[key]) for label, key in steps], br["currency_transfer_gas"])


def _platforms_tables(pl: dict) -> None:
    esc = pl["interconvert_through_escrow_gas"]
    steps = (("top-up with permit (one transaction)", pl["top_up_with_permit_gas"]),
             ("top-up (allowance already given)", pl["top_up_gas"]), ("redemption", pl["redeem_gas"]),
             ("interconversion A -> B, settled at once", pl["interconvert_gas"]),
             ("interconversion through the escrow: send", esc["send"]),
             ("  second approval", esc["second_approval"]), ("  release", esc["release"]),
             ("  whole", esc["total"]),
             ("payment over the recipient's cap (waterfall)", pl["waterfall_transfer_gas"]),
             ("plain OpenZeppelin ERC-20 transfer", pl["oz_erc20_transfer_gas"]))
    _steps_table("chainpay bench: platform balances (gas, steady state; baseline: an OpenZeppelin ERC-20 transfer)",
                 list(steps), pl["oz_erc20_transfer_gas"], "x OZ ERC-20 transfer")
    cls = pl["currency_transfer"]
    labels = {"no_class_limits": "no class limits (daily limit only)", "single_limit": "+ single-payment limit",
              "annual_limit": "+ annual limit", "balance_cap": "+ recipient's balance cap",
              "all_three": "all three, both parties in one class",
              "all_three_recipient_in_another_class": "all three, recipient in another class"}
    _steps_table("chainpay bench: currency transfer with wallet classes (gas; baseline: an OpenZeppelin ERC-20 transfer)",
                 [(labels[k], v) for k, v in cls["gas"].items()], pl["oz_erc20_transfer_gas"], "x OZ ERC-20 transfer")


def _paywall_table(pw: dict) -> None:
    table = Table(title=f"chainpay bench: x402 paywall (uvicorn on 127.0.0.1, {pw['clients']} channel / "
                        f"{pw['exact_clients']} exact clients, one run)")
    for col in ("scheme", "paid requests per second", "median / p95 latency (ms)", "gas per request"):
        table.add_column(col, justify="left" if col == "scheme" else "right")
    table.add_row("chainpay-channel (vouchers, group commit)", f"{pw['channel_paid_requests_per_s']:,}",
                  f"{pw['channel_latency_ms_median']} / {pw['channel_latency_ms_p95']}",
                  f"{pw['gas_per_request_channel_1000']:,} (channel of 1,000)")
    table.add_row("exact (one EIP-3009 transfer each)", f"{pw['exact_paid_requests_per_s']:,}",
                  f"{pw['exact_latency_ms_median']} / {pw['exact_latency_ms_p95']}", f"{pw['gas_per_request_exact']:,}")
    table.add_row("one client, requests in a row: channel / exact", "",
                  f"{pw['channel_latency_ms_one_client']} / {pw['exact_latency_ms_one_client']} (median)", "")
    console.print(table)
    console.print(f"channel / exact: {pw['channel_over_exact']}x requests per second; vouchers per commit "
                  f"{pw['vouchers_per_commit']}; books checked against the chain: "
                  f"{'all hold' if pw['books_checked'] else 'FAILED ' + str(pw['checks'])}; load average "
                  f"{pw['load_average_before'][0]} before, {pw['load_average_after'][0]} after")
