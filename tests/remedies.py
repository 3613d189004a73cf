"""Shared checks of what the CLI prints: remedies without the store options the command line
adds to them, and commands that ended without an uncaught exception."""
from __future__ import annotations

import re


def bare(text: str) -> str:
    """`text` without the --db / --landing a remedy gets from the command line (context.locate)."""
    return re.sub(r" --(?:db|landing) \S+", "", text)


def no_traceback(result) -> bool:
    """The CliRunner `result` ended by exiting, not by an uncaught exception. (CliRunner catches
    the exception, so a traceback never shows in its output: look at `result.exception`.)"""
    return result.exception is None or isinstance(result.exception, SystemExit)
