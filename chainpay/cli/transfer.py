"""`chainpay transfer ...`: revocable transfers against a deployment manifest.

Every command loads the manifest (so it needs a lasting chain: `chainpay deploy --rpc URL`), acts as
the account given by --as (an address, or an index into the node's accounts / CHAINPAY_PRIVATE_KEYS)
and prints one line per transfer; errors become one plain line through cli.main.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import click
from rich.table import Table

from ..core import errors
from .common import console, load_system, status

MANIFEST_HELP = "Deployment manifest written by `chainpay deploy --rpc URL` (env CHAINPAY_MANIFEST)."
AS_HELP = "Acting account: an address, or an index into the node's accounts / CHAINPAY_PRIVATE_KEYS."


def _account(text: Optional[str]):
    if text is None:
        return None
    text = text.strip()
    return int(text) if text.isdigit() else text


def _recipient(text: str) -> str:
    """A recipient is an address: a bare number is an index for --as, never someone to pay."""
    text = text.strip()
    if text.isdigit():
        raise errors.InvalidInput(f"recipient {text!r} is a number, not an address: give the recipient's 0x address "
                                  "(numbers index the node's accounts only for --as)")
    return text


def _when(timestamp: Optional[int]) -> str:
    if timestamp is None:
        return "-"
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _line(record, action: str = "") -> None:
    """One line: the transfer's state after the command, then its facts."""
    parts = [f"transfer {record.id}{' ' + action if action else ''}: {record.state}",
             f"{record.amount} yuan from {record.sender} to {record.recipient}"]
    if record.state.name == "PENDING":
        parts.append(f"releases at {_when(record.release_at)}")
    if record.state.name == "DISPUTED":
        parts.append(f"dispute deadline {_when(record.dispute_deadline)}")
    if record.receipt is not None:
        parts.append(f"tx {record.receipt.tx_hash} ({record.receipt.gas_used:,} gas)")
    console.print(", ".join(parts), highlight=False, soft_wrap=True)


def manifest_option(fn):
    return click.option("--manifest", type=click.Path(path_type=Path, dir_okay=False),
                        default=lambda: os.environ.get("CHAINPAY_MANIFEST", "chainpay-manifest.json"),
                        show_default="chainpay-manifest.json", help=MANIFEST_HELP)(fn)


def as_option(required: bool):
    return click.option("--as", "acting", required=required, default=None,
                        help=AS_HELP + ("" if required else " Default: the deployment's COMPLIANCE holder."))


@click.group(help="Time-locked revocable transfers: send, revoke, reject, approve, dispute, hold, resolve, release.")
def transfer() -> None:
    pass


@transfer.command(context_settings={"ignore_unknown_options": True})  # "-5" is an amount (refused), not an option
@manifest_option
@as_option(required=True)
@click.argument("to")
@click.argument("amount")
@click.option("--memo", default="", help="Purpose note the recipient sees (at most 140 bytes of UTF-8).")
def send(manifest: Path, acting: str, to: str, amount: str, memo: str):
    """Send AMOUNT yuan to TO through escrow; AMOUNT like 12.50."""
    recipient = _recipient(to)
    system = load_system(manifest)
    record = system.transfers.send(recipient, amount, sender=_account(acting), memo=memo)
    _line(record, "sent")
    if record.state.name == "AWAITING_APPROVAL":
        console.print(f"needs a second approval: `chainpay transfer approve {record.id} --as <approver>`", highlight=False)


@transfer.command("list")
@manifest_option
@click.argument("address")
@click.option("--all", "show_all", is_flag=True, help="Every transfer ADDRESS sent or received, not only open ones.")
def list_cmd(manifest: Path, address: str, show_all: bool):
    """Open transfers (or with --all, every transfer) that ADDRESS sends or receives."""
    system = load_system(manifest)
    who = _account(address)
    records = system.transfers.history_for(who) if show_all else system.transfers.pending_for(who)
    table = Table(title=f"{'All' if show_all else 'Open'} transfers of {system.chain.account(who).address}")
    for column in ("id", "state", "amount", "from", "to", "release at", "memo"):
        table.add_column(column, justify="right" if column in ("id", "amount") else "left")
    for r in records:
        table.add_row(str(r.id), str(r.state), f"{r.amount:,}", r.sender, r.recipient, _when(r.release_at), r.memo)
    console.print(table)
    if not records:
        console.print("no transfers")


@transfer.command()
@manifest_option
@click.argument("transfer_id", type=int)
def show(manifest: Path, transfer_id: int):
    """One transfer's record."""
    _line(load_system(manifest).transfers.get(transfer_id))


def _action(name: str, method: str, help_text: str, acting_required: bool = True):
    @manifest_option
    @as_option(required=acting_required)
    @click.argument("transfer_id", type=int)
    def command(manifest: Path, acting: Optional[str], transfer_id: int):
        transfers = load_system(manifest).transfers
        _line(getattr(transfers, method)(transfer_id, sender=_account(acting)))

    command.__doc__ = help_text
    transfer.command(name)(command)


_action("revoke", "revoke", "The sender takes TRANSFER_ID back before its release time.")
_action("reject", "reject", "The recipient refuses TRANSFER_ID before its release time.")
_action("dispute", "dispute", "Either party hands TRANSFER_ID to compliance.")
_action("release", "release", "Deliver TRANSFER_ID once its cooling-off is over (anyone may).")
_action("approve", "approve", "Second approval of a large TRANSFER_ID (the sender's approver, or compliance).",
        acting_required=False)
_action("hold", "hold", "Compliance holds TRANSFER_ID of a frozen or removed party (it becomes a dispute).",
        acting_required=False)
_action("return-expired", "return_expired_dispute",
        "Return a dispute compliance left unresolved past its deadline to the sender (anyone may).")


@transfer.command()
@manifest_option
@as_option(required=False)
@click.argument("transfer_id", type=int)
@click.option("--to", "side", type=click.Choice(["recipient", "sender"]), required=True,
              help="Who gets the money.")
def resolve(manifest: Path, acting: Optional[str], transfer_id: int, side: str):
    """Compliance settles the dispute on TRANSFER_ID."""
    transfers = load_system(manifest).transfers
    _line(transfers.resolve(transfer_id, to_recipient=side == "recipient", sender=_account(acting)))


@transfer.command()
@manifest_option
@as_option(required=True)
@click.option("--batch", type=click.IntRange(min=1), default=50, show_default=True, help="Transfers per transaction.")
def deliver(manifest: Path, acting: str, batch: int):
    """Keeper: release every transfer that is due now, in batches."""
    transfers = load_system(manifest).transfers
    with status("delivering due transfers…"):
        delivery = transfers.deliver_due(sender=_account(acting), batch_size=batch)
    console.print(f"released {len(delivery.released)}, returned to sender {len(delivery.returned)}, "
                  f"{len(delivery.receipts)} transaction(s), {delivery.gas_used:,} gas", highlight=False)
    for transfer_id in delivery.returned:
        console.print(f"transfer {transfer_id} returned: its recipient can no longer receive", highlight=False)

