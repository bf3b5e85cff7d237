"""`chainpay platform ...`: platform balances backed by reserve, against a deployment manifest.

Same conventions as `chainpay transfer`: --manifest, --as (an address or an account index), amounts in
yuan like 12.50, one line per action and errors as one plain line through cli.main.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import click
from rich.table import Table

from ..core import errors
from .common import console, load_system
from .transfer import _account, _recipient, as_option, manifest_option


def _platforms(manifest: Path):
    system = load_system(manifest)
    if system.platforms is None:
        raise errors.ManifestError(f"{manifest} has no PlatformBalances contract: deploy again with this version")
    return system, system.platforms


def _done(what: str, receipt) -> None:
    console.print(f"{what}: tx {receipt.tx_hash} ({receipt.gas_used:,} gas)", highlight=False, soft_wrap=True)


@click.group("platform", help="Platform balances backed by reserve: create, ratio, top-up, redeem, interconvert, "
                              "balances.")
def platform_group() -> None:
    pass


@platform_group.command()
@manifest_option
@as_option(required=False)
@click.argument("platform_id", type=click.IntRange(1, 2**32 - 1))
@click.argument("operator")
@click.option("--ratio", default="100%", show_default=True, help="Reserve ratio, as 20% or 0.2.")
def create(manifest: Path, acting: Optional[str], platform_id: int, operator: str, ratio: str):
    """Open the balance of white-listed institution PLATFORM_ID with treasury OPERATOR (admin)."""
    _, p = _platforms(manifest)
    _done(f"platform {platform_id} opened at a {ratio} reserve ratio",
          p.create(platform_id, _recipient(operator), ratio, sender=_account(acting)))


@platform_group.command()
@manifest_option
@as_option(required=False)
@click.argument("platform_id", type=click.IntRange(1, 2**32 - 1))
@click.argument("ratio")
def ratio(manifest: Path, acting: Optional[str], platform_id: int, ratio: str):
    """Compliance sets PLATFORM_ID's reserve RATIO (20% or 0.2)."""
    _, p = _platforms(manifest)
    _done(f"platform {platform_id}'s reserve ratio set to {ratio}", p.set_ratio(platform_id, ratio, sender=_account(acting)))


def _money_command(name: str, method: str, help_text: str):
    @manifest_option
    @as_option(required=True)
    @click.argument("platform_id", type=click.IntRange(1, 2**32 - 1))
    @click.argument("amount")
    def command(manifest: Path, acting: str, platform_id: int, amount: str):
        _, p = _platforms(manifest)
        _done(f"{name} {amount} yuan at platform {platform_id}", getattr(p, method)(platform_id, amount, sender=_account(acting)))

    command.__doc__ = help_text
    platform_group.command(name, context_settings={"ignore_unknown_options": True})(command)


_money_command("top-up", "top_up", "Move AMOUNT yuan of your currency into PLATFORM_ID's reserve, as platform balance.")
_money_command("redeem", "redeem", "Turn AMOUNT yuan of your balance at PLATFORM_ID back into currency.")
_money_command("deposit", "deposit_reserve", "The operator adds AMOUNT yuan of its currency to the reserve.")
_money_command("withdraw-excess", "withdraw_excess", "The operator takes out AMOUNT yuan above ratio x supply.")


@platform_group.command(context_settings={"ignore_unknown_options": True})
@manifest_option
@as_option(required=True)
@click.argument("from_platform", type=click.IntRange(1, 2**32 - 1))
@click.argument("to_platform", type=click.IntRange(1, 2**32 - 1))
@click.argument("to")
@click.argument("amount")
@click.option("--memo", default="", help="Purpose note (at most 140 bytes of UTF-8; kept by the escrow).")
def interconvert(manifest: Path, acting: str, from_platform: int, to_platform: int, to: str, amount: str, memo: str):
    """Move AMOUNT yuan of your balance at FROM_PLATFORM to TO's balance at TO_PLATFORM (one transaction)."""
    _, p = _platforms(manifest)
    result = p.interconvert(from_platform, to_platform, amount, sender=_account(acting), to=_recipient(to), memo=memo)
    if result.escrow_id is None:
        _done(f"{amount} yuan moved from platform {from_platform} to {to_platform}", result.receipt)
    else:
        _done(f"{amount} yuan left platform {from_platform}; it waits in escrow as transfer {result.escrow_id}",
              result.receipt)
        console.print(f"needs a second approval: `chainpay transfer approve {result.escrow_id} --as <approver>`; "
                      f"revocable until released", highlight=False)


@platform_group.command()
@manifest_option
@click.argument("platform_ids", nargs=-1, type=click.IntRange(1, 2**32 - 1), required=True)
def show(manifest: Path, platform_ids: tuple[int, ...]):
    """Reserve, supply, ratio and white-list status of each platform."""
    _, p = _platforms(manifest)
    table = Table(title="platforms")
    for col in ("platform", "listed", "ratio", "reserve", "supply", "required", "excess", "operator"):
        table.add_column(col, justify="left" if col in ("listed", "operator") else "right")
    for pid in platform_ids:
        i = p.info(pid)
        table.add_row(str(pid), "yes" if i.listed else "no", f"{i.ratio:.2%}", f"{i.reserve:,}", f"{i.supply:,}",
                      f"{i.required:,}", f"{i.excess:,}", i.operator)
    console.print(table)


@platform_group.command()
@manifest_option
@click.argument("address")
@click.argument("platform_ids", nargs=-1, type=click.IntRange(1, 2**32 - 1), required=True)
def balance(manifest: Path, address: str, platform_ids: tuple[int, ...]):
    """ADDRESS's currency and its balance at each platform."""
    system, p = _platforms(manifest)
    who = _account(address)
    parts = [f"currency {system.currency.balance_of(who):,}"]
    parts += [f"platform {pid} {p.balance_of(who, pid):,}" for pid in platform_ids]
    console.print(f"{system.chain.account(who).address}: " + ", ".join(parts), highlight=False)
