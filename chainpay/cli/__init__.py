"""The `chainpay` command line: ``main`` (the group and error handling) and one module per command group."""

from .main import app, entry, main

__all__ = ["app", "entry", "main"]
