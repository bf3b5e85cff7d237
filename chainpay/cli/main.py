"""`chainpay ...`: the entry point. Each command group lives in its own module beside this one;
any error prints one plain line and exits non-zero."""

from __future__ import annotations

import logging
import os
import sys

import click

from ..core import errors
from .bench import bench
from .common import describe_revert
from .connector import connector_group
from .content import serve_content
from .deploy import compile_cmd, demo, deploy
from .platform import platform_group
from .study import study
from .transfer import transfer


@click.group(help="Permissioned digital-currency payments on a blockchain.")
def app() -> None:
    pass


for command in (compile_cmd, deploy, demo, bench, transfer, platform_group, serve_content, study, connector_group):
    app.add_command(command)


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, errors.ContractRevert):
        return f"refused by the contract: {describe_revert(exc)}"
    text = " ".join(line.strip() for line in str(exc).strip().splitlines() if line.strip())
    return text or type(exc).__name__


def _usage_line(exc: click.ClickException) -> str:
    """click's usage errors as one line (click prints usage, a hint and the error on three)."""
    message = exc.format_message().replace("\n", " ")
    ctx = getattr(exc, "ctx", None)
    where = f" (see `{ctx.command_path} --help`)" if ctx is not None and isinstance(exc, click.UsageError) else ""
    return f"{message}{where}"


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the command; any error is one plain line on stderr and a non-zero exit."""
    logging.basicConfig(level=os.environ.get("CHAINPAY_LOG", "WARNING").upper(), format="%(levelname)s %(name)s: %(message)s")
    try:
        result = app.main(args=argv, prog_name="chainpay", standalone_mode=False)
        return result if isinstance(result, int) else 0
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        print(f"chainpay: {_usage_line(exc)}", file=sys.stderr)
        return exc.exit_code
    except click.exceptions.Abort:
        print("chainpay: aborted", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("chainpay: interrupted", file=sys.stderr)
        return 130
    except errors.ChainpayError as exc:
        print(f"chainpay: {_one_line(exc)}", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug or an unexpected environment: still one line, traceback on request
        if os.environ.get("CHAINPAY_DEBUG"):
            raise
        print(f"chainpay: unexpected {type(exc).__name__}: {_one_line(exc)} (set CHAINPAY_DEBUG=1 for a traceback)", file=sys.stderr)
        return 1


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
